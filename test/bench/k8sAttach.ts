/**
 * Issue 13's "supervisor SIGKILLed mid-run, then `attach`: the same verdict and transcript as an
 * uninterrupted run", as a count: one uninterrupted run of the deterministic steps scenario (the
 * real claude in a pod of the fake cluster), then `trials` runs whose supervising `agentrun run
 * --backend k8s` is SIGKILLed at different points (before any stored line: once claude's first
 * request reached the Messages API; then after 1, 2, ... stored lines, spread over the
 * transcript), each followed by `agentrun attach RUN_ID`. A trial counts when its outcome class,
 * cost and normalized events.jsonl equal the uninterrupted run's (test/e2e/support/k8sAttach.ts).
 *
 * From run.ts: `await benchK8sAttach({ trials: 8 })` (returns the figures; prints nothing).
 *
 * @module
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { attachCluster, killedThenAttached, sameRun, type TrialPlace, uninterrupted } from "../e2e/support/k8sAttach.ts"

/** One killed-then-attached trial against the reference. */
export interface AttachTrial {
  /** The kill point: stored lines (0: claude's first request). */
  readonly killAfterLines: number
  /** Lines events.jsonl held after the kill. */
  readonly linesAtKill: number | null
  /** The record's cursor at the kill (null: none written yet). */
  readonly cursorAtKill: unknown
  /** The stored-line count the record's cursor named at the kill. */
  readonly cursorEventLines: number | null
  readonly same: boolean
  readonly differences: ReadonlyArray<string>
}

export interface AttachResult {
  readonly reference: { readonly outcome: string; readonly costUsd: number | null; readonly lines: number }
  readonly trials: ReadonlyArray<AttachTrial>
}

export const benchK8sAttach = async (options: { readonly trials?: number } = {}): Promise<AttachResult> => {
  const trials = options.trials ?? 8
  const root = realpathSync(mkdtempSync(join(tmpdir(), "agentrun-bench-k8s-attach-")))
  const place = (name: string): TrialPlace => {
    const d = (x: string) => {
      const p = join(root, name, x)
      mkdirSync(p, { recursive: true })
      return p
    }
    return { home: d("home"), stateHome: d("state"), dataHome: d("data"), configHome: d("config"), work: d("work") }
  }
  const k8s = await attachCluster()
  try {
    const reference = await uninterrupted(k8s, place("reference"))
    // Kill points spread over the transcript, its last line excluded (the run would be over).
    const last = Math.max(1, reference.events.length - 1)
    const points = Array.from({ length: trials }, (_, i) => (i === 0 ? 0 : Math.max(1, Math.round((i * last) / Math.max(1, trials - 1)))))
    const out: Array<AttachTrial> = []
    for (const [i, killAfterLines] of points.entries()) {
      const t = await killedThenAttached(k8s, place(`trial-${i}`), Math.min(killAfterLines, last))
      const verdict = sameRun(reference, t)
      const differences = [...t.notes, ...verdict.differences]
      const c = t.cursorAtKill as { eventLines?: number } | null
      out.push({ killAfterLines, linesAtKill: t.linesAtKill, cursorAtKill: t.cursorAtKill, cursorEventLines: c?.eventLines ?? null, same: differences.length === 0, differences })
    }
    return { reference: { outcome: reference.outcome, costUsd: reference.costUsd, lines: reference.events.length }, trials: out }
  } finally {
    await k8s.close()
    rmSync(root, { recursive: true, force: true })
  }
}
