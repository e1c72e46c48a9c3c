/**
 * The verdict's rules, in precedence order: the most specific cause first. The order is data
 * ({@link verdictRules}); the README's "Verdicts" section lists the same names in the same order
 * (a test keeps them equal).
 *
 * @module
 */
import { apiFailure, findApiFailure, resultApiFailure } from "./ApiFailure.ts"
import { describe } from "./ExitStatus.ts"
import {
  AgentError,
  BudgetExhausted,
  Cancelled,
  DeadlineExceeded,
  type DeadlineFacts,
  EmptyModelResponse,
  ExitedNonZero,
  InitOnlyExit,
  MaxTurnsReached,
  OutOfMemory,
  RuntimeUnavailable,
  SpawnFailed,
  SupervisionFailed,
  TruncatedMidStream,
  UnparseableOutput
} from "./Failures.ts"
import { hangVerdict } from "./HangVerdict.ts"
import { deniedSentence, permissionDenialsOf } from "./PermissionDenials.ts"
import type { ResultEvent } from "./Protocol.ts"
import type { RunFacts, SpawnFailure } from "./RunFacts.ts"
import { type RunOutcome, Succeeded } from "./RunOutcome.ts"
import { killedBySignal } from "./SignalCause.ts"
import { edeDiagnostic, firstLine, placeholderStubMarker, processEnd, resultFacts } from "./VerdictEvidence.ts"

/**
 * One rule: the outcome it decides for these facts, or null when it does not apply (the next rule
 * is asked). `endedAtMs` (epoch ms, null when unknown) anchors `retryNotBefore`.
 */
export interface VerdictRule {
  /** The cause it names, as the README's precedence list says it. */
  readonly name: string
  readonly decide: (facts: RunFacts, endedAtMs: number | null) => RunOutcome | null
}

/** The last rule: it always decides (any run no earlier rule explained). */
export interface FinalVerdictRule {
  readonly name: string
  readonly decide: (facts: RunFacts, endedAtMs: number | null) => RunOutcome
}

/** `1 turn`, `3 turns`, `? turns` (unknown). */
const turnsText = (n: number | null | undefined): string => (n == null ? "? turns" : n === 1 ? "1 turn" : `${n} turns`)

const succeeded = (facts: RunFacts, r: ResultEvent): Succeeded => {
  const stoppedBy = facts.action._tag === "Deadline" ? "deadline" : facts.action._tag === "Hang" ? "hang" : null
  return new Succeeded({
    message: `The agent finished successfully in ${turnsText(r.num_turns)}${
      typeof r.total_cost_usd === "number" ? ` for $${r.total_cost_usd.toFixed(4)}` : ""
    }${
      stoppedBy === null ? "" : `; it had not exited after its result, and agentrun's ${stoppedBy === "deadline" ? "deadline" : "hang detection"} stopped it`
    }${deniedSentence(r)}.`,
    evidence: {
      ...(stoppedBy === null ? {} : { stoppedAfterResult: stoppedBy }),
      ...((r.permission_denials?.length ?? 0) === 0 ? {} : { permissionDenials: permissionDenialsOf(r) }),
      result: r.result ?? "",
      sessionId: r.session_id ?? null,
      numTurns: r.num_turns ?? null,
      costUsd: r.total_cost_usd ?? null,
      usage: r.usage ?? null,
      durationMs: r.duration_ms ?? null,
      process: processEnd(facts)
    }
  })
}

/** The outcome a failed `result` line names: a limit, an empty reply, an API failure, or the agent's own error. */
const resultFailure = (facts: RunFacts, r: ResultEvent, endedAtMs: number | null): RunOutcome => {
  const rf = resultFacts(r)
  if (r.subtype === "error_max_turns") {
    return new MaxTurnsReached({
      // The limit, not num_turns: claude counts the turn it refused to start (recorded: --max-turns 1, num_turns 2).
      message: `The agent stopped after reaching its turn limit (${facts.maxTurns === null ? "claude's --max-turns" : `--max-turns ${facts.maxTurns}`}): raise --max-turns or narrow the task.`,
      retryable: false,
      evidence: { result: rf, maxTurns: facts.maxTurns }
    })
  }
  if (r.subtype === "error_max_budget_usd") {
    return new BudgetExhausted({
      message: `The agent stopped after spending its budget ($${(r.total_cost_usd ?? 0).toFixed(4)}).`,
      retryable: false,
      evidence: { result: rf }
    })
  }
  const diagnostic = (r.errors ?? []).find((e) => edeDiagnostic.test(e)) ?? null
  if (diagnostic !== null) {
    return new EmptyModelResponse({
      message: "The model returned an empty reply (no content blocks); a rerun usually gets a real answer.",
      retryable: true,
      evidence: { result: rf, diagnostic }
    })
  }
  // Only the result's own word: an earlier retry or assistant error the run got past does not
  // explain a failure the result names otherwise (a hook, an abort).
  const api = resultApiFailure(facts, r, null)
  if (api !== null) return apiFailure(api.kind, api.evidence, facts.observation, endedAtMs)
  const reason = [r.subtype, r.terminal_reason, r.startup_failure_reason == null ? null : `startup failure ${r.startup_failure_reason}`]
    .filter((part) => part != null && part !== "")
    .join(", ")
  return new AgentError({
    message: `The agent reported a failure (${reason}): ${firstLine(r.result) ?? firstLine(r.errors?.[0]) ?? "no detail given"}`,
    retryable: false,
    evidence: { result: rf, assistantErrors: [...facts.observation.assistantErrors], process: processEnd(facts) }
  })
}

// agentrun itself could not go on (the store, a defect): whatever the agent did, it was stopped.
const supervisionFailure: VerdictRule = {
  name: "supervision failure",
  decide: (facts) => {
    const f = facts.supervisionFailure
    if (f == null) return null
    return new SupervisionFailed({
      message: f.reason === "store-write-failed"
        ? `agentrun could not record the run (${f.storeError?.message ?? "run store failure"}), so it stopped the agent.`
        : `agentrun could not go on supervising the run (internal error: ${f.defect ?? "unknown"}), so it stopped the agent.`,
      retryable: f.reason === "store-write-failed",
      evidence: { reason: f.reason, storeError: f.storeError, defect: f.defect, stop: f.stop, process: facts.exit === null ? null : processEnd(facts) }
    })
  }
}

const runtimeUnavailable: VerdictRule = {
  name: "no runtime (bootstrap)",
  decide: (facts) => {
    const r = facts.runtimeUnavailable
    if (r == null) return null
    return new RuntimeUnavailable({
      message: `No usable claude, and the bootstrap could not provide one: ${r.message}`,
      retryable: r.retryable,
      evidence: { runtime: r.runtime, bootstrap: r.bootstrap }
    })
  }
}

const spawnFailure: VerdictRule = {
  name: "spawn failure",
  decide: (facts) => {
    const f = facts.spawnFailure
    if (f === null) return null
    const what: Record<SpawnFailure["reason"], string> = {
      "not-found": f.path.includes("/")
        ? `the executable ${f.path} does not exist`
        : `\`${f.path}\` is not on PATH (pass --claude-path, or run \`agentrun bootstrap\`)`,
      "not-executable": f.errno === "EISDIR" ? `${f.path} is a directory, not the claude executable` : `${f.path} is not executable`,
      "placeholder-stub": `${f.path} is claude-code's npm placeholder, not the native binary (its install script did not run)`,
      "bad-working-directory": `the working directory is unusable (${f.detail})`,
      other: f.detail
    }
    return new SpawnFailed({
      message: `The agent could not be started: ${what[f.reason]}.`,
      retryable: false,
      evidence: { path: f.path, reason: f.reason, errno: f.errno, detail: f.detail, process: facts.exit === null ? null : processEnd(facts) }
    })
  }
}

const cancellation: VerdictRule = {
  name: "cancellation",
  decide: (facts) => {
    const a = facts.action
    if (a._tag !== "Cancel") return null
    return new Cancelled({
      message: a.by === "shutdown"
        ? "The run was cancelled: the agentrun host supervising it shut down, and stopped the agent on its way out."
        : a.signal === null
        ? "The run was cancelled by request and the agent was stopped."
        : `The run was cancelled (${a.signal} to agentrun) and the agent was stopped.`,
      retryable: false,
      evidence: {
        signal: a.signal,
        by: a.by ?? (a.signal === null ? "cancel-command" : "signal"),
        ...(a.requestedBy === undefined ? {} : { requestedBy: a.requestedBy }),
        stop: a.stop,
        process: processEnd(facts)
      }
    })
  }
}

// claude had finished: a hang or deadline that stopped it afterwards, while it lingered on exit,
// is noted in the evidence.
const successfulResult: VerdictRule = {
  name: "a successful result",
  decide: (facts) => {
    const o = facts.observation
    const r = o.result
    if (r === null || r.is_error === true || r.subtype !== "success") return null
    // Observed: when every model reply is empty (no content, stop_reason end_turn), claude nudges
    // once, then reports success with `result: ""` although the model never said anything.
    if ((r.result ?? "") === "" && o.assistantMessages === 0) {
      return new EmptyModelResponse({
        message: "The model returned only empty replies (claude reported success with an empty result); a rerun usually gets a real answer.",
        retryable: true,
        evidence: { result: resultFacts(r), diagnostic: null }
      })
    }
    return succeeded(facts, r)
  }
}

const hang: VerdictRule = {
  name: "hang",
  decide: (facts) => facts.action._tag === "Hang" ? hangVerdict(facts, facts.action) : null
}

// Names the API failure the deadline cut short, if claude was retrying one.
const deadline: VerdictRule = {
  name: "deadline",
  decide: (facts, endedAtMs) => {
    const o = facts.observation
    if (facts.action._tag !== "Deadline") return null
    const deadline: DeadlineFacts = { timeoutMs: facts.action.timeoutMs, stop: facts.action.stop }
    if (o.apiRetryCount > 0 && o.assistantMessagesSinceRetry === 0) {
      const api = findApiFailure(facts, deadline)
      if (api !== null) return apiFailure(api.kind, api.evidence, o, endedAtMs)
    }
    return new DeadlineExceeded({
      message: `The run exceeded its ${facts.action.timeoutMs / 1000}s deadline and was stopped.`,
      retryable: false,
      evidence: { deadline, assistantMessages: o.assistantMessages, process: processEnd(facts) }
    })
  }
}

const failedResult: VerdictRule = {
  name: "the result line",
  decide: (facts, endedAtMs) => facts.observation.result === null ? null : resultFailure(facts, facts.observation.result, endedAtMs)
}

// The OOM killer sends SIGKILL; the count is the whole cgroup's, so a rise alone may be another
// process's (a concurrent run, a tool the agent survived).
const oomKill: VerdictRule = {
  name: "an OOM kill",
  decide: (facts) => {
    const oom = facts.oomKills
    if (oom === null || oom.after <= oom.before || facts.exit?.signal?.name !== "SIGKILL") return null
    return new OutOfMemory({
      message: `The kernel's OOM killer ended the run (cgroup oom_kill ${oom.before} → ${oom.after}): give it more memory.`,
      retryable: false,
      evidence: { oomKillsBefore: oom.before, oomKillsAfter: oom.after, process: processEnd(facts) }
    })
  }
}

const truncatedOutput: VerdictRule = {
  name: "truncated output",
  decide: (facts) => {
    const o = facts.observation
    if (o.assistantMessages === 0) return null
    const exit = facts.exit
    const signal = exit?.signal ?? null
    const cause = signal !== null ? "signal" : exit?.exitCode === 0 ? "output-cut" : "exit-code"
    return new TruncatedMidStream({
      message: `The agent's output stops mid-run with no result (${exit === null ? "no exit status" : describe(exit)}) after ${o.assistantMessages} assistant message(s) and ${o.toolUses} tool use(s).`,
      retryable: cause !== "signal" || signal?.name === "SIGKILL",
      evidence: { cause, assistantMessages: o.assistantMessages, lastEventType: o.lastEventType, process: processEnd(facts) }
    })
  }
}

const signalDeath: VerdictRule = {
  name: "signal death",
  decide: (facts) => {
    const signal = facts.exit?.signal ?? null
    return signal === null ? null : killedBySignal(facts, signal)
  }
}

const apiFailureWithoutResult: VerdictRule = {
  name: "API failure without a result",
  decide: (facts, endedAtMs) => {
    if (facts.exit?.exitCode === 0) return null
    const api = findApiFailure(facts, null)
    return api === null ? null : apiFailure(api.kind, api.evidence, facts.observation, endedAtMs)
  }
}

const exitZeroWithoutResult: VerdictRule = {
  name: "exit 0 without a result",
  decide: (facts) => {
    const o = facts.observation
    if (facts.exit?.exitCode !== 0) return null
    return new UnparseableOutput({
      message: `The agent exited 0 without a result line (${o.stdoutLines} stdout lines, ${o.malformedLines} not stream-json).`,
      retryable: false,
      evidence: { malformedLines: o.malformedLines, samples: [...o.malformedSamples], process: processEnd(facts) }
    })
  }
}

const placeholderStub: VerdictRule = {
  name: "placeholder stub",
  decide: (facts) => {
    if (!facts.stderrTail.some((l) => l.includes(placeholderStubMarker))) return null
    return new SpawnFailed({
      message: "The agent could not be started: `claude` is claude-code's npm placeholder, not the native binary (its install script did not run).",
      retryable: false,
      evidence: { path: "claude", reason: "placeholder-stub", errno: null, detail: firstLine(facts.stderrTail.join("\n")) ?? "", process: processEnd(facts) }
    })
  }
}

const initOnlyExit: VerdictRule = {
  name: "init-only exit",
  decide: (facts) => {
    const o = facts.observation
    if (o.init === null || o.stdoutLines - o.malformedLines > 1) return null
    const exit = facts.exit
    return new InitOnlyExit({
      message: `The agent exited (${exit === null ? "?" : describe(exit)}) right after starting its session, with nothing else written.`,
      retryable: false,
      evidence: { sessionId: o.init.sessionId, process: processEnd(facts) }
    })
  }
}

const otherNonZeroExit: FinalVerdictRule = {
  name: "any other non-zero exit",
  decide: (facts) => {
    const exit = facts.exit
    const first = firstLine(facts.stderrTail.join("\n")) ?? facts.observation.firstStdoutLine
    return new ExitedNonZero({
      message: `The agent exited with ${exit === null ? "an unknown status" : describe(exit)}${first === null ? "" : `: ${first}`}`,
      retryable: false,
      evidence: { firstMeaningfulLine: first, process: processEnd(facts) }
    })
  }
}

/**
 * The rules in precedence order, most specific first; {@link finalVerdictRule} decides what none
 * of them did. Structured fields (the `result` line, `assistant.error`, `system/api_retry`) come
 * before the exit status, stderr text last.
 */
export const verdictRules: ReadonlyArray<VerdictRule> = [
  supervisionFailure,
  runtimeUnavailable,
  spawnFailure,
  cancellation,
  successfulResult,
  hang,
  deadline,
  failedResult,
  oomKill,
  truncatedOutput,
  signalDeath,
  apiFailureWithoutResult,
  exitZeroWithoutResult,
  placeholderStub,
  initOnlyExit
]

/** What a run no rule of {@link verdictRules} explained is: any other non-zero exit. */
export const finalVerdictRule: FinalVerdictRule = otherNonZeroExit

/** The names of the rules, in precedence order, the final rule last (the README lists these). */
export const verdictPrecedence: ReadonlyArray<string> = [...verdictRules, finalVerdictRule].map((rule) => rule.name)
