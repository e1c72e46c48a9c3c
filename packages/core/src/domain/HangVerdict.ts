/**
 * The hang verdicts: what the watchdog's detection, its SIGINT probe and the stop sequence make
 * of a stuck run (busy, interruptible, or unresponsive).
 *
 * @module
 */
import type { StopReport } from "./Evidence.ts"
import { HangBusy, type HangDetection, HangInterruptible, HangUnresponsive, type WaitingOn } from "./Failures.ts"
import type { HangAction, RunFacts } from "./RunFacts.ts"
import type { RunOutcome } from "./RunOutcome.ts"
import { processEnd } from "./VerdictEvidence.ts"

const waitingWords = (w: WaitingOn): string =>
  w.kind === "model-api"
    ? `waiting on the Messages API (${w.endpoint})`
    : w.kind === "tool-process"
    ? `waiting on a tool process (${w.name}, pid ${w.pid}, state ${w.state})`
    : "waiting on something /proc could not name"

const detectionWords = (d: HangDetection): string =>
  d.reason === "startup"
    ? `wrote no session start within ${d.timeoutMs / 1000}s`
    : d.reason === "busy"
    ? `burnt CPU with no output for ${Math.round(d.idleMs / 1000)}s`
    : `made no progress for ${Math.round(d.idleMs / 1000)}s`

/** The outcome of a run the watchdog judged hung and acted on (`hang`). */
export const hangVerdict = (facts: RunFacts, hang: HangAction): RunOutcome => {
  const pe = processEnd(facts)
  const common = { detection: hang.detection, waitingOn: hang.waitingOn, dumpPath: hang.dumpPath, unavailable: [...hang.unavailable] }
  const emptyStop: StopReport = { steps: [], tookMs: 0 }
  if (hang.detection.reason === "busy") {
    return new HangBusy({
      message: `The agent ${detectionWords(hang.detection)} (${(hang.cpuPercent ?? 0).toFixed(0)}% of a core) and was stopped: it is likely looping; see the hang dump.`,
      retryable: false,
      evidence: { ...common, cpuPercent: hang.cpuPercent ?? 0, stop: hang.stop ?? emptyStop, process: pe }
    })
  }
  if (hang.probe !== null && hang.probe.answered) {
    return new HangInterruptible({
      message: `The agent ${detectionWords(hang.detection)}, ${waitingWords(hang.waitingOn)}; it answered Ctrl-C (SIGINT) and stopped${
        hang.waitingOn.kind === "model-api" ? ": a rerun will likely get through" : hang.waitingOn.kind === "tool-process" ? ": the same tool will likely hang again, fix the command" : ""
      }.`,
      retryable: hang.waitingOn.kind === "model-api",
      evidence: { ...common, answeredAfterMs: hang.probe.afterMs, terminalReason: facts.observation.result?.terminal_reason ?? null, process: pe }
    })
  }
  const stop = hang.stop ?? emptyStop
  const unanswered = ["SIGINT", ...stop.steps.filter((s) => !s.answered).map((s) => s.signal)]
  const why = hang.sigint === null
    ? ""
    : hang.sigint.state === "T"
    ? " (the process was stopped, state T: signals stay pending until SIGCONT)"
    : hang.sigint.state === "D"
    ? " (uninterruptible sleep, state D: stuck in the kernel)"
    : hang.sigint.ignored
    ? " (SIGINT is ignored)"
    : hang.sigint.blocked
    ? " (SIGINT is blocked)"
    : hang.sigint.caught
    // /proc shows the handler is installed, not why it did not end the process: say no more.
    ? " (SIGINT is caught, yet the process did not end within the grace)"
    : ""
  return new HangUnresponsive({
    message: `The agent ${detectionWords(hang.detection)}, ${waitingWords(hang.waitingOn)}, and did not answer ${[...new Set(unanswered)].join(", ")}${why}; it was killed.`,
    retryable: false,
    evidence: { ...common, unanswered: [...new Set(unanswered)], sigint: hang.sigint, stop, process: pe }
  })
}
