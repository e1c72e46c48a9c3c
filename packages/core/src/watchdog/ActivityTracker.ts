/**
 * The run's output activity as the watchdog sees it ({@link Activity}): when the agent last wrote
 * anything (stdout or stderr), whether `system/init` was seen, and the last lines. Fed by the
 * backend's readers once per batch of lines, so the stdout hot path pays one clock read and a
 * bounded copy per batch, not per line.
 *
 * @module
 */
import type { Activity } from "./Detection.ts"
import { clipLine } from "../domain/Prefix.ts"

/** How many output lines the tracker keeps for the hang dump. */
export const activityTailLines = 20
/** Longest kept line, in characters. */
export const activityTailLineChars = 2000

/** A mutable tracker, one per run. */
export class ActivityTracker {
  private lastOutputAtMs: number
  private initSeen = false
  private readonly tail: Array<string> = []

  /** `startedAtMs`: Clock ms of the launch (the "last output" before any). */
  constructor(startedAtMs: number) {
    this.lastOutputAtMs = startedAtMs
  }

  /** Records a batch of output lines (already redacted) written at `atMs` (Clock ms); `stream` prefixes stderr lines in the tail. */
  output(atMs: number, lines: ReadonlyArray<string>, stream: "stdout" | "stderr"): void {
    if (lines.length === 0) return
    this.lastOutputAtMs = Math.max(this.lastOutputAtMs, atMs)
    for (let i = Math.max(0, lines.length - activityTailLines); i < lines.length; i++) {
      const line = lines[i]!
      const cut = clipLine(line, activityTailLineChars)
      this.tail.push(stream === "stderr" ? `[stderr] ${cut}` : cut)
    }
    if (this.tail.length > activityTailLines) this.tail.splice(0, this.tail.length - activityTailLines)
  }

  /** Records that `system/init` was seen. */
  sawInit(): void {
    this.initSeen = true
  }

  /** The current view. */
  snapshot(): Activity {
    return { lastOutputAtMs: this.lastOutputAtMs, initSeen: this.initSeen, lastLines: [...this.tail] }
  }
}
