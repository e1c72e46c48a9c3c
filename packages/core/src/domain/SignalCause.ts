/**
 * The signal-cause evidence: what a signal death likely means (an address-space limit, the OOM
 * killer, a crash...), the advice for each cause, and the crash text stderr holds.
 *
 * @module
 */
import type { SignalDeath } from "./ExitStatus.ts"
import { KilledBySignal, type LikelySignalCause } from "./Failures.ts"
import type { RunFacts } from "./RunFacts.ts"
import { processEnd } from "./VerdictEvidence.ts"

/**
 * The likely cause of a signal death (see {@link LikelySignalCause}). SIGSEGV with nothing written
 * is what an address-space limit does to claude (observed with `ulimit -v`); SIGKILL is never sent
 * by the program itself, so it comes from the OOM killer or another process.
 */
export const likelySignalCause = (signal: SignalDeath, wroteNothing: boolean): LikelySignalCause => {
  switch (signal.name) {
    case "SIGSEGV":
    case "SIGBUS":
      return wroteNothing ? "address-space-limit" : "crash"
    case "SIGABRT":
      return "runtime-abort"
    case "SIGKILL":
      return "oom-killer-or-external-kill"
    case "SIGTERM":
    case "SIGINT":
    case "SIGHUP":
    case "SIGQUIT":
      return "external-termination"
    case "SIGILL":
    case "SIGFPE":
    case "SIGTRAP":
    case "SIGSYS":
      return "crash"
    default:
      return "unknown"
  }
}

const signalAdvice: Record<LikelySignalCause, string> = {
  "address-space-limit": "an address-space limit (ulimit -v / RLIMIT_AS) is likely too small for claude: raise or remove it",
  "runtime-abort": "the runtime aborted: see the crash text in stderr",
  "oom-killer-or-external-kill": "the kernel's OOM killer or another process killed it: check memory limits and dmesg",
  "external-termination": "another process asked it to stop",
  crash: "the binary crashed",
  unknown: "see the evidence"
}

const crashText = (stderrTail: ReadonlyArray<string>): string | null => {
  const meaningful = stderrTail.filter((l) => l.trim() !== "")
  return meaningful.length === 0 ? null : meaningful.slice(-5).join("\n")
}

/** The outcome of a run that died by `signal` before any assistant content. */
export const killedBySignal = (facts: RunFacts, signal: SignalDeath): KilledBySignal => {
  const wroteNothing = facts.observation.stdoutLines === 0 && facts.stderrTail.every((l) => l.trim() === "")
  const likely = likelySignalCause(signal, wroteNothing)
  return new KilledBySignal({
    message: `The agent was killed by ${signal.name} (${signal.number})${wroteNothing ? " before writing anything" : ""}: ${signalAdvice[likely]}.`,
    retryable: likely === "oom-killer-or-external-kill" || likely === "external-termination",
    evidence: {
      signal,
      likelyCause: likely,
      crashText: likely === "runtime-abort" || likely === "crash" ? crashText(facts.stderrTail) : null,
      process: processEnd(facts)
    }
  })
}
