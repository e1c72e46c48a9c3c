/**
 * The failure classes of a run: each a tagged error class carrying its `family`, a one-sentence
 * human `message`, structured `evidence`, and whether a `retryable` rerun could help.
 *
 * Families map to agentrun's exit codes (see {@link exitCodeFor} in RunOutcome.ts):
 * `agent` (the agent reported the failure), `process` (the process or the machine),
 * `deadline`, `cancelled`, `hang`, `cluster` (Kubernetes itself: the image, scheduling, the node, the
 * API; exit 3 like `process`, `ConcurrentRunBlocked` 75).
 *
 * Which class applies is decided by the pure verdict (Verdict.ts); these classes only hold facts.
 *
 * @module
 */
import * as Schema from "effect/Schema"
import { SignalDeath } from "./ExitStatus.ts"
import { ClusterCondition, ContainerTermination, PodRef, TranscriptSoFar } from "./ClusterEvidence.ts"
import { ApiRetry, ProcessEnd, ResultFacts, StopReport } from "./Evidence.ts"

/** The families of outcomes, in the order of the README's exit-code table. */
export const Families = ["success", "agent", "process", "deadline", "hang", "cancelled", "cluster"] as const
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

/**
 * The kernel OOM-killed claude: locally, it died by SIGKILL while the cgroup's `memory.events`
 * `oom_kill` count rose; in a Pod, the kubelet reported the container terminated with reason
 * `OOMKilled` (`pod`; the counts are then null).
 */
export class OutOfMemory extends Schema.TaggedError<OutOfMemory>()("OutOfMemory", fields("process", Schema.Struct({
  oomKillsBefore: Schema.NullOr(Schema.Number),
  oomKillsAfter: Schema.NullOr(Schema.Number),
  /** On a cluster: the container's termination, its memory limit, and the node's `OOMKilling` event message when there was one. */
  pod: Schema.optional(Schema.Struct({
    ref: PodRef,
    termination: ContainerTermination,
    memoryLimit: Schema.NullOr(Schema.String),
    nodeEvent: Schema.NullOr(Schema.String)
  })),
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

/** The store's error, as evidence (RunStoreError's fields). */
export const StoreErrorFacts = Schema.Struct({
  message: Schema.String,
  operation: Schema.String,
  path: Schema.String,
  code: Schema.NullOr(Schema.String)
})
export type StoreErrorFacts = typeof StoreErrorFacts.Type

/**
 * agentrun could not go on supervising the run, so it stopped the agent (the stop sequence) and
 * ended the run: the run store failed to write the record (`store-write-failed`), or a bug in
 * agentrun (`defect`, its message). Says nothing about the agent's own work.
 */
export class SupervisionFailed extends Schema.TaggedError<SupervisionFailed>()("SupervisionFailed", fields("process", Schema.Struct({
  reason: Schema.Literals(["store-write-failed", "defect"]),
  storeError: Schema.NullOr(StoreErrorFacts),
  defect: Schema.NullOr(Schema.String),
  /** How the agent was stopped; null when it had already exited or never started. */
  stop: Schema.NullOr(StopReport),
  process: Schema.NullOr(ProcessEnd)
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
  /** On a cluster: the Job's condition that ended it (reason `DeadlineExceeded`, from `activeDeadlineSeconds`). */
  jobCondition: Schema.optional(ClusterCondition),
  assistantMessages: Schema.Number,
  process: ProcessEnd
}))) {}

/** The run was cancelled: Ctrl-C / SIGTERM to agentrun, or `agentrun cancel`. */
export class Cancelled extends Schema.TaggedError<Cancelled>()("Cancelled", fields("cancelled", Schema.Struct({
  /** The signal agentrun received (`SIGINT`, `SIGTERM`, `SIGHUP`), or null for a cancel request. */
  signal: Schema.NullOr(Schema.String),
  /**
   * `signal`: agentrun received it; `cancel-command`: `agentrun cancel` (or a host) asked;
   * `shutdown`: the host supervising the run shut down (its backend's scope closed: CLI exit,
   * an extension host's deactivate) and stopped the agent on its way out.
   */
  by: Schema.Literals(["signal", "cancel-command", "shutdown"]),
  /**
   * Who sent the cancel request, as it named itself (e.g. `agentrun cancel (pid 4242 on ci-7)`):
   * the run store's request, or on a cluster the Job's `agentrun.dev/cancel-requested-by`
   * annotation (a cancel from another machine). Absent when not known.
   */
  requestedBy: Schema.optional(Schema.String),
  stop: Schema.NullOr(StopReport),
  process: Schema.NullOr(ProcessEnd),
  /** claude's `result` when it wrote one while stopping (on a cluster: its cost and session after the Job's deletion). */
  result: Schema.optional(ResultFacts)
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

// ---------------------------------------------------------------- cluster (exit 3; ConcurrentRunBlocked 75)

/** The container's image could not be pulled (`ErrImagePull`, `ImagePullBackOff` past the pull timeout; `InvalidImageName`, `ErrImageNeverPull` at once). */
export class ImagePullFailed extends Schema.TaggedError<ImagePullFailed>()("ImagePullFailed", fields("cluster", Schema.Struct({
  ref: PodRef,
  image: Schema.String,
  /** The container's `state.waiting.reason`. */
  reason: Schema.String,
  /** The kubelet's `state.waiting.message`. */
  message: Schema.NullOr(Schema.String),
  /** The last `Failed` Event's message for the Pod (the registry's answer), if any. */
  eventMessage: Schema.NullOr(Schema.String),
  /** Milliseconds agentrun waited since the Pod was scheduled; the limit (null when the reason is permanent). */
  waitedMs: Schema.Number,
  pullTimeoutMs: Schema.NullOr(Schema.Number)
}))) {}

/** The scheduler found no node for the Pod (`PodScheduled=False`, reason `Unschedulable`) within the schedule timeout. */
export class PodUnschedulable extends Schema.TaggedError<PodUnschedulable>()("PodUnschedulable", fields("cluster", Schema.Struct({
  ref: PodRef,
  /** The scheduler's condition message (`0/3 nodes are available: 3 Insufficient memory. ...`). */
  message: Schema.NullOr(Schema.String),
  /** The last `FailedScheduling` Event's message, if any. */
  eventMessage: Schema.NullOr(Schema.String),
  waitedMs: Schema.Number,
  scheduleTimeoutMs: Schema.Number
}))) {}

/** The kubelet could not build the container's configuration (`CreateContainerConfigError`, e.g. `secret "x" not found`). Immediate. */
export class ContainerConfigError extends Schema.TaggedError<ContainerConfigError>()("ContainerConfigError", fields("cluster", Schema.Struct({
  ref: PodRef,
  reason: Schema.String,
  message: Schema.NullOr(Schema.String)
}))) {}

/** The runtime could not create or start the container (`CreateContainerError`, `RunContainerError`, terminated `StartError`). */
export class ContainerStartFailed extends Schema.TaggedError<ContainerStartFailed>()("ContainerStartFailed", fields("cluster", Schema.Struct({
  ref: PodRef,
  reason: Schema.String,
  message: Schema.NullOr(Schema.String),
  /** The exit code of a terminated `StartError` (128 with containerd), else null. */
  exitCode: Schema.NullOr(Schema.Number)
}))) {}

const disruptionEvidence = Schema.Struct({
  ref: PodRef,
  /** The `DisruptionTarget` condition (`EvictionByEvictionAPI`, `PreemptionByScheduler`, `DeletionByTaintManager`, `DeletionByPodGC`, `TerminationByKubelet`), when set. */
  condition: Schema.NullOr(ClusterCondition),
  /** The Pod's `status.reason` and `status.message` (`Evicted`: `The node was low on resource: memory. ...`). */
  podReason: Schema.NullOr(Schema.String),
  podMessage: Schema.NullOr(Schema.String),
  transcript: TranscriptSoFar,
  termination: Schema.NullOr(ContainerTermination)
})

/** The Pod was evicted: the Eviction API (a drain), or the kubelet under node pressure. */
export class PodEvicted extends Schema.TaggedError<PodEvicted>()("PodEvicted", fields("cluster", disruptionEvidence)) {}

/** The scheduler preempted the Pod for one of higher priority. */
export class PodPreempted extends Schema.TaggedError<PodPreempted>()("PodPreempted", fields("cluster", disruptionEvidence)) {}

/** The Pod's node went away: the taint manager (node not ready/unreachable), the Pod GC of a deleted node, or a node shutdown. */
export class NodeLost extends Schema.TaggedError<NodeLost>()("NodeLost", fields("cluster", disruptionEvidence)) {}

/** The run's Job (or its Pod) was deleted by someone other than agentrun. */
export class JobDeletedExternally extends Schema.TaggedError<JobDeletedExternally>()("JobDeletedExternally", fields("cluster", Schema.Struct({
  ref: PodRef,
  /** What was deleted: the Job, or only its Pod (then the Job failed for want of it). */
  deleted: Schema.Literals(["Job", "Pod"]),
  /** How agentrun saw it: a watch `DELETED` event, a 404 on a read or relist, a `deletionTimestamp` it had not set. */
  seenVia: Schema.Literals(["watch-deleted", "not-found", "deletion-timestamp"]),
  /** The Job's conditions as last seen before it went. */
  lastConditions: Schema.Array(ClusterCondition),
  /** Milliseconds from the container's start (Running) to the deletion being seen; null if it never ran. */
  msSinceRunning: Schema.NullOr(Schema.Number),
  transcript: TranscriptSoFar
}))) {}

/** The Kubernetes API could not be reached (connection refused or reset, DNS, TLS, timeouts, 5xx past the retries). Retryable. */
export class ClusterUnreachable extends Schema.TaggedError<ClusterUnreachable>()("ClusterUnreachable", fields("cluster", Schema.Struct({
  /** The API server URL from the kubeconfig, and the context used. */
  server: Schema.NullOr(Schema.String),
  context: Schema.NullOr(Schema.String),
  /** What agentrun was doing (`create Job`, `watch Pods`, ...). */
  operation: Schema.String,
  /** The error code (`ECONNREFUSED`, `ETIMEDOUT`) or the HTTP status, and the error's own words. */
  code: Schema.NullOr(Schema.String),
  detail: Schema.String
}))) {}

/** The API refused an operation (403): names the verb, resource and namespace the RBAC is missing. */
export class ClusterForbidden extends Schema.TaggedError<ClusterForbidden>()("ClusterForbidden", fields("cluster", Schema.Struct({
  verb: Schema.String,
  /** `jobs`, `pods/log`, `leases.coordination.k8s.io`, ... */
  resource: Schema.String,
  namespace: Schema.NullOr(Schema.String),
  /** The API's Status message (`jobs.batch is forbidden: User "x" cannot create resource ...`). */
  detail: Schema.NullOr(Schema.String)
}))) {}

/** Another run of the same agent holds its Lease (a different task, or a live Job): this one was not started. Exit 75. */
export class ConcurrentRunBlocked extends Schema.TaggedError<ConcurrentRunBlocked>()("ConcurrentRunBlocked", fields("cluster", Schema.Struct({
  agentId: Schema.String,
  namespace: Schema.String,
  lease: Schema.String,
  /** The holder's run id and Job, as the Lease names them (null when the Lease did not say). */
  holderRunId: Schema.NullOr(Schema.String),
  holderJob: Schema.NullOr(Schema.String),
  holderTaskId: Schema.NullOr(Schema.String)
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
  SupervisionFailed,
  RuntimeUnavailable,
  DeadlineExceeded,
  Cancelled,
  HangInterruptible,
  HangUnresponsive,
  HangBusy,
  ImagePullFailed,
  PodUnschedulable,
  ContainerConfigError,
  ContainerStartFailed,
  PodEvicted,
  PodPreempted,
  NodeLost,
  JobDeletedExternally,
  ClusterUnreachable,
  ClusterForbidden,
  ConcurrentRunBlocked
])
export type RunFailure = typeof RunFailure.Type
