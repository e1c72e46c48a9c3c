/**
 * The failure classes of a run: each a tagged error class carrying its `family`, a one-sentence
 * human `message`, structured `evidence`, and whether a `retryable` rerun could help.
 *
 * Families map to agentrun's exit codes (see {@link exitCodeFor} in RunOutcome.ts):
 * `agent` (the agent reported the failure), `process` (the process or the machine),
 * `deadline`, `cancelled`, `hang`.
 *
 * Which class applies is decided by the pure verdict (Verdict.ts); these classes only hold facts.
 *
 * @module
 */
import * as Schema from "effect/Schema"
import { SignalDeath } from "./ExitStatus.ts"
import { ApiRetry, ProcessEnd, ResultFacts, StopReport } from "./Evidence.ts"

/** The families of outcomes, in the order of the README's exit-code table. */
export const Families = ["success", "agent", "process", "deadline", "hang", "cancelled"] as const
export type Family = (typeof Families)[number]

const fields = <F extends Family, E extends Schema.Top>(family: F, evidence: E) => ({
  family: Schema.tag(family),
  message: Schema.String,
  retryable: Schema.Boolean,
  evidence
})

/** Set when agentrun's own deadline cut a run that was retrying: the limit and how the stop went. */
export const DeadlineFacts = Schema.Struct({
  /** The configured run timeout, in milliseconds. */
  timeoutMs: Schema.Number,
  stop: StopReport
})
export type DeadlineFacts = typeof DeadlineFacts.Type

/** Evidence of a failed Messages API exchange, from the structured fields first, stderr last. */
export const ApiFailureEvidence = Schema.Struct({
  /** Where the verdict read the cause: the `result` line, an `assistant.error`, `system/api_retry`, or stderr. */
  source: Schema.Literals(["result", "assistant-error", "api-retry", "stderr"]),
  /** HTTP status of the failing call, when known. */
  apiErrorStatus: Schema.NullOr(Schema.Number),
  /** claude's short category (`authentication_failed`, `overloaded`, `rate_limit`, ...). */
  error: Schema.NullOr(Schema.String),
  /** The agent's own words about it (result text, error line). */
  detail: Schema.NullOr(Schema.String),
  /** The last `system/api_retry` lines (at most 20) and how many there were. */
  retries: Schema.Array(ApiRetry),
  retryCount: Schema.Number,
  result: Schema.NullOr(ResultFacts),
  /** Filled when agentrun's deadline cut the retries short. */
  deadline: Schema.NullOr(DeadlineFacts),
  process: Schema.NullOr(ProcessEnd)
})
export type ApiFailureEvidence = typeof ApiFailureEvidence.Type

// ---------------------------------------------------------------- agent family (exit 1)

/** The agent ended with `is_error: true` (or an `error_*` subtype) and no more specific class fits. */
export class AgentError extends Schema.TaggedError<AgentError>()("AgentError", fields("agent", Schema.Struct({
  result: ResultFacts,
  assistantErrors: Schema.Array(Schema.String),
  process: ProcessEnd
}))) {}

/** The run hit `--max-turns` (`subtype: "error_max_turns"`). */
export class MaxTurnsReached extends Schema.TaggedError<MaxTurnsReached>()("MaxTurnsReached", fields("agent", Schema.Struct({
  result: ResultFacts,
  maxTurns: Schema.NullOr(Schema.Number)
}))) {}

/** The run hit its spending limit (`subtype: "error_max_budget_usd"`). */
export class BudgetExhausted extends Schema.TaggedError<BudgetExhausted>()("BudgetExhausted", fields("agent", Schema.Struct({
  result: ResultFacts
}))) {}

/** The conversation no longer fits the model's context ("Prompt is too long"). */
export class PromptTooLong extends Schema.TaggedError<PromptTooLong>()("PromptTooLong", fields("agent", ApiFailureEvidence)) {}

/**
 * The model replied with no content at all. The real CLI reports it either as `result`
 * `error_during_execution` with an `errors[]` entry `[ede_diagnostic] ... last_content_type=none`
 * (empty reply with `stop_reason: null`), or — when the empty reply ended with `end_turn` — as a
 * `success` whose `result` is `""` with no assistant content in the whole run (observed, 2.1.330).
 */
export class EmptyModelResponse extends Schema.TaggedError<EmptyModelResponse>()("EmptyModelResponse", fields("agent", Schema.Struct({
  result: ResultFacts,
  diagnostic: Schema.NullOr(Schema.String)
}))) {}

/** The API rejected the credentials (401, `authentication_failed`, "login required"). */
export class AuthenticationFailed extends Schema.TaggedError<AuthenticationFailed>()("AuthenticationFailed", fields("agent", ApiFailureEvidence)) {}

/**
 * The API was unavailable: overloaded (529), rate limited (429), a 5xx, or the connection was lost
 * mid-response. Retryable; `retryNotBefore` (ISO 8601): the run's end plus claude's last backoff delay (it follows the API's `retry-after`), when that retry was part of the final failure; null otherwise.
 */
export class UpstreamUnavailable extends Schema.TaggedError<UpstreamUnavailable>()("UpstreamUnavailable", {
  ...fields("agent", ApiFailureEvidence),
  retryNotBefore: Schema.NullOr(Schema.String)
}) {}

/** The requested model does not exist or is not available to this key (404, `model_not_found`). */
export class ModelNotFound extends Schema.TaggedError<ModelNotFound>()("ModelNotFound", fields("agent", ApiFailureEvidence)) {}

/** The account cannot pay for the request (`billing_error`, "credit balance is too low"). */
export class BillingError extends Schema.TaggedError<BillingError>()("BillingError", fields("agent", ApiFailureEvidence)) {}

// ---------------------------------------------------------------- process family (exit 3)

/** Why the agent could not be started. */
export const SpawnFailureReason = Schema.Literals([
  "not-found",
  "not-executable",
  "placeholder-stub",
  "bad-working-directory",
  "other"
])

/**
 * The agent never ran: the executable is missing, not executable, or is the npm placeholder
 * stub that claude-code leaves when its install script did not run.
 */
export class SpawnFailed extends Schema.TaggedError<SpawnFailed>()("SpawnFailed", fields("process", Schema.Struct({
  path: Schema.String,
  reason: SpawnFailureReason,
  /** The errno code from spawn (ENOENT, EACCES, ...), when spawn itself failed. */
  errno: Schema.NullOr(Schema.String),
  detail: Schema.String,
  process: Schema.NullOr(ProcessEnd)
}))) {}

/** A non-zero exit right after `system/init`, with nothing else written. */
export class InitOnlyExit extends Schema.TaggedError<InitOnlyExit>()("InitOnlyExit", fields("process", Schema.Struct({
  sessionId: Schema.NullOr(Schema.String),
  process: ProcessEnd
}))) {}

/** Assistant content was streamed but no `result` came: the output stops mid-run. */
export class TruncatedMidStream extends Schema.TaggedError<TruncatedMidStream>()("TruncatedMidStream", fields("process", Schema.Struct({
  /** What cut it: a signal, a non-zero exit, or output that stopped while the process exited 0. */
  cause: Schema.Literals(["signal", "exit-code", "output-cut"]),
  assistantMessages: Schema.Number,
  lastEventType: Schema.NullOr(Schema.String),
  process: ProcessEnd
}))) {}

/**
 * The likely reason behind a signal death, from the signal and what was written:
 * SIGSEGV with empty stdout and stderr → an address-space limit (RLIMIT_AS, `ulimit -v`) made
 * allocation fail; SIGABRT → the runtime aborted (crash text from stderr); SIGKILL → the kernel's
 * OOM killer or an external `kill -9`.
 */
export const LikelySignalCause = Schema.Literals([
  "address-space-limit",
  "runtime-abort",
  "oom-killer-or-external-kill",
  "external-termination",
  "crash",
  "unknown"
])
export type LikelySignalCause = typeof LikelySignalCause.Type

/** The agent died by a signal before writing any assistant content. */
export class KilledBySignal extends Schema.TaggedError<KilledBySignal>()("KilledBySignal", fields("process", Schema.Struct({
  signal: SignalDeath,
  likelyCause: LikelySignalCause,
  crashText: Schema.NullOr(Schema.String),
  process: ProcessEnd
}))) {}

/** The kernel OOM-killed claude: it died by SIGKILL while the cgroup's `memory.events` `oom_kill` count rose. */
export class OutOfMemory extends Schema.TaggedError<OutOfMemory>()("OutOfMemory", fields("process", Schema.Struct({
  oomKillsBefore: Schema.Number,
  oomKillsAfter: Schema.Number,
  process: ProcessEnd
}))) {}

/** The agent exited 0 but wrote no `result` line. */
export class UnparseableOutput extends Schema.TaggedError<UnparseableOutput>()("UnparseableOutput", fields("process", Schema.Struct({
  malformedLines: Schema.Number,
  samples: Schema.Array(Schema.String),
  process: ProcessEnd
}))) {}

/** The agent exited non-zero and nothing more specific explains it. */
export class ExitedNonZero extends Schema.TaggedError<ExitedNonZero>()("ExitedNonZero", fields("process", Schema.Struct({
  firstMeaningfulLine: Schema.NullOr(Schema.String),
  process: ProcessEnd
}))) {}

/** The supervising agentrun process died mid-run; found later by another agentrun command. */
export class Interrupted extends Schema.TaggedError<Interrupted>()("Interrupted", fields("process", Schema.Struct({
  supervisorPid: Schema.Number,
  agentPid: Schema.NullOr(Schema.Number),
  agentAlive: Schema.Boolean,
  /** Why the supervisor is taken for dead: its pid is gone, or now belongs to another process. */
  reason: Schema.Literals(["supervisor-gone", "pid-reused"])
}))) {}

/** No usable agent runtime, and the bootstrap could not provide one. */
export class RuntimeUnavailable extends Schema.TaggedError<RuntimeUnavailable>()("RuntimeUnavailable", fields("process", Schema.Struct({
  runtime: Schema.String,
  /** The bootstrap's outcome (name and code) and its error kind, as the Bootstrap service reported them. */
  bootstrap: Schema.Unknown
}))) {}

// ---------------------------------------------------------------- deadline (exit 4), cancelled (130/143)

/** agentrun's `--timeout` expired and the run was stopped. */
export class DeadlineExceeded extends Schema.TaggedError<DeadlineExceeded>()("DeadlineExceeded", fields("deadline", Schema.Struct({
  deadline: DeadlineFacts,
  assistantMessages: Schema.Number,
  process: ProcessEnd
}))) {}

/** The run was cancelled: Ctrl-C / SIGTERM to agentrun, or `agentrun cancel`. */
export class Cancelled extends Schema.TaggedError<Cancelled>()("Cancelled", fields("cancelled", Schema.Struct({
  /** The signal agentrun received (`SIGINT`, `SIGTERM`, `SIGHUP`), or null for a cancel request. */
  signal: Schema.NullOr(Schema.String),
  by: Schema.Literals(["signal", "cancel-command"]),
  stop: Schema.NullOr(StopReport),
  process: Schema.NullOr(ProcessEnd)
}))) {}

// ---------------------------------------------------------------- hang (exit 5)

/** What the watchdog noticed: no progress for `idleMs` (stall), no `system/init` in time (startup), or CPU burnt with no output (busy). Milliseconds. */
export const HangDetection = Schema.Struct({
  reason: Schema.Literals(["stall", "startup", "busy"]),
  /** How long there was no progress (busy: how long the agent burnt CPU without output). */
  idleMs: Schema.Number,
  /** The configured limit that was crossed. */
  timeoutMs: Schema.Number
})
export type HangDetection = typeof HangDetection.Type

/**
 * What the stuck agent was waiting on, from /proc: a connection to the Messages API (or its
 * proxy) open with no tool child alive; a tool subprocess alive (named, with its state); unknown.
 */
export const WaitingOn = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("model-api"), endpoint: Schema.String }),
  Schema.Struct({ kind: Schema.Literal("tool-process"), pid: Schema.Number, name: Schema.String, state: Schema.String }),
  Schema.Struct({ kind: Schema.Literal("unknown") })
])
export type WaitingOn = typeof WaitingOn.Type

/**
 * The agent process's signal disposition for SIGINT as /proc showed it before the probe
 * (`/proc/PID/status` SigPnd/ShdPnd/SigBlk/SigIgn/SigCgt, proc(5)), and its state letter.
 */
export const SigintFacts = Schema.Struct({
  state: Schema.String,
  pending: Schema.Boolean,
  blocked: Schema.Boolean,
  ignored: Schema.Boolean,
  caught: Schema.Boolean
})
export type SigintFacts = typeof SigintFacts.Type

/** Evidence common to the hang classes. `dumpPath` is the JSON hang dump in the run's folder. */
const hangEvidence = {
  detection: HangDetection,
  waitingOn: WaitingOn,
  dumpPath: Schema.NullOr(Schema.String),
  /** What /proc could not tell (not Linux, permissions): named, never silently missing. */
  unavailable: Schema.Array(Schema.String)
}

/** A hang that answered Ctrl-C: SIGINT to the agent pid ended it within the probe grace. */
export class HangInterruptible extends Schema.TaggedError<HangInterruptible>()("HangInterruptible", fields("hang", Schema.Struct({
  ...hangEvidence,
  /** Milliseconds from the SIGINT probe to the agent's exit. */
  answeredAfterMs: Schema.Number,
  /** The `terminal_reason` claude wrote after the probe (`aborted_streaming`, `aborted_tools`), if any. */
  terminalReason: Schema.NullOr(Schema.String),
  process: ProcessEnd
}))) {}

/** A hang that did not answer SIGINT: the stop sequence went on; names the signals left unanswered. */
export class HangUnresponsive extends Schema.TaggedError<HangUnresponsive>()("HangUnresponsive", fields("hang", Schema.Struct({
  ...hangEvidence,
  unanswered: Schema.Array(Schema.String),
  sigint: Schema.NullOr(SigintFacts),
  stop: StopReport,
  process: ProcessEnd
}))) {}

/** The agent process itself burnt CPU with no output for the busy timeout; it was stopped. */
export class HangBusy extends Schema.TaggedError<HangBusy>()("HangBusy", fields("hang", Schema.Struct({
  ...hangEvidence,
  /** The agent's own CPU use over the busy window, in percent of one core. */
  cpuPercent: Schema.Number,
  stop: StopReport,
  process: ProcessEnd
}))) {}

/** Every failure class. */
export const RunFailure = Schema.Union([
  AgentError,
  MaxTurnsReached,
  BudgetExhausted,
  PromptTooLong,
  EmptyModelResponse,
  AuthenticationFailed,
  UpstreamUnavailable,
  ModelNotFound,
  BillingError,
  SpawnFailed,
  InitOnlyExit,
  TruncatedMidStream,
  KilledBySignal,
  OutOfMemory,
  UnparseableOutput,
  ExitedNonZero,
  Interrupted,
  RuntimeUnavailable,
  DeadlineExceeded,
  Cancelled,
  HangInterruptible,
  HangUnresponsive,
  HangBusy
])
export type RunFailure = typeof RunFailure.Type
