/**
 * The verdict of a run on a cluster: a pure function from what was observed of the Job, its Pod,
 * their Events and the transcript (the pod log through the same Observation as local runs), and
 * from what agentrun itself did, to a {@link RunOutcome} — or "not yet", while the run's fate is
 * still open (an image still being pulled, a Pod not yet scheduled, the Job's condition and the
 * container's state not yet agreeing).
 *
 * The transcript part is the core verdict's (domain/Verdict.ts): one code path decides what
 * claude's output means. The cluster causes are named from the API's own fields.
 *
 * Order, most decisive first (each step only when the earlier ones did not apply):
 * 1. agentrun's cancel → `Cancelled` (with claude's result, cost and session, when it wrote one,
 *    and the requester): this supervisor's own (`action` Cancel: a store request, the handle, or
 *    the Job's cancel annotation it saw), or a cancel request on the Job as last seen (the
 *    `agentrun.dev/cancel-requested-by` annotation, CancelAnnotation.ts). `agentrun cancel` on
 *    another machine always annotates the Job before it deletes it, so a Job whose last seen state
 *    (the DELETED event's object included) carried the annotation was deleted by agentrun's
 *    cancel: this step comes before step 4 and such a Job is never `JobDeletedExternally`;
 * 2. claude's own successful `result` → `Succeeded`, whatever the Pod went through afterwards: the
 *    work was done (a Job deadline or the watchdog that cut it lingering is noted);
 * 3. agentrun's stall watchdog stopped the Pod → the hang class (the core verdict);
 * 4. the Job deleted by someone else (gone, and its last seen state had no cancel annotation) →
 *    `JobDeletedExternally`;
 * 5. a disruption (`DisruptionTarget` reason, or the Pod's `status.reason`) → `PodEvicted`,
 *    `PodPreempted` or `NodeLost`;
 * 6. the Job's `DeadlineExceeded` → `DeadlineExceeded` (or, as locally, the API failure claude was
 *    retrying when it was cut);
 * 7. the Pod deleted by someone else (a `deletionTimestamp` no step above explains) →
 *    `JobDeletedExternally` (`deleted: "Pod"`);
 *    — steps 4 to 7 come before claude's failed `result`: an "interrupted" result (the SIGINT the
 *    entry forwarded) does not hide why the Pod was stopped;
 * 8. the container terminated `OOMKilled` → `OutOfMemory` (it outranks the truncated output it causes);
 * 9. the container never ran: `StartError`, or a failed Pod with no container state (kubelet
 *    admission) → `ContainerStartFailed`; the entry's own refusals (no prompt file, no `claude`);
 * 10. everything else: the core verdict on the transcript and the container's exit code (decoded
 *     as for a local process: 128+n is a signal death).
 *
 * Before the container ends: `CreateContainerConfigError` → `ContainerConfigError` at once;
 * `CreateContainerError`/`RunContainerError` → `ContainerStartFailed` at once; `InvalidImageName`
 * and `ErrImageNeverPull` → `ImagePullFailed` at once; `ErrImagePull`/`ImagePullBackOff` →
 * `ImagePullFailed` once the pull timeout passed since the Pod was scheduled; `PodScheduled=False`
 * `Unschedulable` → `PodUnschedulable` once the schedule timeout passed since the Pod's creation.
 *
 * @module
 */
import type { ClusterCondition, ContainerTermination, PodRef, TranscriptSoFar } from "../domain/ClusterEvidence.ts"
import type { ProcessEnd } from "../domain/Evidence.ts"
import { fromNodeExit, signalName, type ExitStatus } from "../domain/ExitStatus.ts"
import {
  Cancelled,
  ContainerConfigError,
  ContainerStartFailed,
  DeadlineExceeded,
  ImagePullFailed,
  JobDeletedExternally,
  NodeLost,
  OutOfMemory,
  PodEvicted,
  PodPreempted,
  PodUnschedulable,
  SpawnFailed
} from "../domain/Failures.ts"
import type { Observation } from "../domain/Observation.ts"
import type { RunOutcome } from "../domain/RunOutcome.ts"
import { type SupervisorAction, verdict } from "../domain/Verdict.ts"
import { resultFacts } from "../domain/VerdictEvidence.ts"
import {
  type ConditionLike,
  type ContainerStatusLike,
  type EventLike,
  type JobLike,
  type PodLike,
  timeIso,
  timeMs,
  trueCondition
} from "./ApiObjects.ts"
import { cancelRequestOf } from "./CancelAnnotation.ts"
import { entryScriptName, promptUnreadableExitCode } from "./EntryScript.ts"
import { agentContainerName } from "./JobManifest.ts"

/** How long agentrun waits on a failing image pull and on an unscheduled Pod, in milliseconds. */
export interface ClusterWaitSettings {
  /** From the Pod's scheduling: `ErrImagePull`/`ImagePullBackOff` for this long is `ImagePullFailed`. Default 5 min. */
  readonly imagePullTimeoutMs: number
  /** From the Pod's creation: `Unschedulable` for this long is `PodUnschedulable`. Default 10 min. */
  readonly scheduleTimeoutMs: number
}

/** The defaults: 5 minutes to pull, 10 to schedule (a cluster autoscaler adds a node in a few minutes). */
export const defaultClusterWaitSettings: ClusterWaitSettings = { imagePullTimeoutMs: 5 * 60_000, scheduleTimeoutMs: 10 * 60_000 }

/** Everything the cluster verdict looks at. Times are epoch milliseconds. */
export interface ClusterFacts {
  readonly namespace: string
  readonly jobName: string
  /** The Job as last seen (null if never seen). */
  readonly job: JobLike | null
  /** Set when the Job was found gone and agentrun had not deleted it. */
  readonly jobGone: { readonly seenVia: "watch-deleted" | "not-found"; readonly atMs: number } | null
  /** The run's Pod as last seen (by UID: a Pod recreated under the same name is another Pod). */
  readonly pod: PodLike | null
  /** Events about the Pod and its node, oldest first. */
  readonly events: ReadonlyArray<EventLike>
  /** The pod log's stream-json lines folded as for a local run. */
  readonly observation: Observation
  /** The log's last non-JSON lines (stderr evidence; pod logs merge the two streams). */
  readonly stderrTail: ReadonlyArray<string>
  /**
   * What agentrun did: `Cancel` (it deleted the Job), `Hang` (its stall watchdog stopped the Pod),
   * or `None`. (`Deadline` is agentrun's own timer, unused on a cluster: the Job's
   * `activeDeadlineSeconds` is the deadline.)
   */
  readonly action: SupervisorAction
  /** True once the bounded wait for the Job's condition and the container's state to agree is over. */
  readonly lagWaitedOut: boolean
  readonly nowMs: number
  readonly settings: ClusterWaitSettings
  readonly maxTurns: number | null
}

/** The verdict, or why there is none yet and until when (epoch ms) at the latest that holds. */
export type ClusterVerdict =
  | { readonly _tag: "Decided"; readonly outcome: RunOutcome }
  | { readonly _tag: "Pending"; readonly waitingFor: string; readonly decideByMs: number | null }

const decided = (outcome: RunOutcome): ClusterVerdict => ({ _tag: "Decided", outcome })
const pending = (waitingFor: string, decideByMs: number | null = null): ClusterVerdict => ({ _tag: "Pending", waitingFor, decideByMs })

/** The agent container's status in the Pod, if reported. */
export const agentStatus = (pod: PodLike | null): ContainerStatusLike | null =>
  pod?.status?.containerStatuses?.find((c) => c.name === agentContainerName) ?? null

const conditionOf = (c: ConditionLike): ClusterCondition => ({
  type: c.type,
  status: c.status,
  reason: c.reason ?? null,
  message: c.message ?? null,
  lastTransitionTime: timeIso(c.lastTransitionTime)
})

/** Job conditions that mean the Job's fate is sealed (from Kubernetes 1.31 `FailureTarget`/`SuccessCriteriaMet` come before `Failed`/`Complete`). */
const terminalJobConditions = ["Failed", "Complete", "FailureTarget", "SuccessCriteriaMet"]

/** The Job's condition that seals its fate (Failed, Complete, FailureTarget, SuccessCriteriaMet), if any. */
export const jobTerminal = (job: JobLike | null): ConditionLike | null =>
  terminalJobConditions.map((t) => trueCondition(job?.status?.conditions, t)).find((c) => c !== null) ?? null

const jobFailureReason = (job: JobLike | null): ConditionLike | null =>
  trueCondition(job?.status?.conditions, "Failed") ?? trueCondition(job?.status?.conditions, "FailureTarget")

const lastEvent = (events: ReadonlyArray<EventLike>, test: (e: EventLike) => boolean): EventLike | null =>
  events.findLast(test) ?? null

const refOf = (facts: ClusterFacts): PodRef => ({
  namespace: facts.namespace,
  jobName: facts.jobName,
  podName: facts.pod?.metadata?.name ?? null,
  podUid: facts.pod?.metadata?.uid ?? null,
  nodeName: facts.pod?.spec?.nodeName ?? null
})

const transcriptSoFar = (o: Observation): TranscriptSoFar => ({
  outputLines: o.stdoutLines,
  assistantMessages: o.assistantMessages,
  resultSubtype: o.result?.subtype ?? null,
  terminalReason: o.result?.terminal_reason ?? null,
  costUsd: o.result?.total_cost_usd ?? null,
  sessionId: o.result?.session_id ?? o.init?.sessionId ?? null
})

/** A container's `state.terminated`. */
export type Terminated = NonNullable<NonNullable<ContainerStatusLike["state"]>["terminated"]>

const terminationOf = (t: Terminated): ContainerTermination => ({
  reason: t.reason ?? null,
  exitCode: t.exitCode,
  signal: t.signal ?? null,
  message: t.message ?? null,
  containerId: t.containerID ?? null,
  startedAt: timeIso(t.startedAt),
  finishedAt: timeIso(t.finishedAt)
})

/** The container's exit as a local process's would be: `signal` when the runtime gave one, else the code (128+n decoded). */
export const exitOf = (t: Terminated | null): ExitStatus | null => {
  if (t === null) return null
  if (t.signal != null && t.signal > 0) return fromNodeExit(null, signalName(t.signal) ?? `SIG${t.signal}`)
  return fromNodeExit(t.exitCode, null)
}

const processEnd = (facts: ClusterFacts, exit: ExitStatus | null): ProcessEnd => ({
  exitCode: exit?.exitCode ?? null,
  signal: exit?.signal ?? null,
  stderrTail: [...facts.stderrTail],
  stdoutLines: facts.observation.stdoutLines
})

type Disruption = "evicted" | "preempted" | "node-lost"

/**
 * The disruption a Pod went through, from its `DisruptionTarget` reason ("Pod disruption
 * conditions") or, without one, its `status.reason` (`Evicted` from the kubelet's node-pressure
 * eviction, `Preempting`, `NodeLost`/`NodeShutdown`/`Terminated` from the node lifecycle).
 * `TerminationByKubelet` is both node-pressure eviction and graceful node shutdown: the status says which.
 */
const disruptionOf = (pod: PodLike | null): { kind: Disruption; condition: ConditionLike | null } | null => {
  const condition = trueCondition(pod?.status?.conditions, "DisruptionTarget")
  const podReason = pod?.status?.reason ?? null
  const shutdown = /shutdown/i.test(`${podReason ?? ""} ${pod?.status?.message ?? ""} ${condition?.message ?? ""}`)
  switch (condition?.reason) {
    case "PreemptionByScheduler":
      return { kind: "preempted", condition }
    case "DeletionByTaintManager":
    case "DeletionByPodGC":
      return { kind: "node-lost", condition }
    case "EvictionByEvictionAPI":
      return { kind: "evicted", condition }
    case "TerminationByKubelet":
      return { kind: shutdown && podReason !== "Evicted" ? "node-lost" : "evicted", condition }
    case undefined:
    case null:
      break
    default:
      return { kind: "evicted", condition }
  }
  if (podReason === "Evicted") return { kind: "evicted", condition: null }
  if (podReason === "Preempting") return { kind: "preempted", condition: null }
  if (podReason === "NodeLost" || podReason === "NodeShutdown" || (podReason === "Terminated" && shutdown)) return { kind: "node-lost", condition: null }
  return null
}

const disruptionVerdict = (facts: ClusterFacts, d: { kind: Disruption; condition: ConditionLike | null }, t: Terminated | null): RunOutcome => {
  const evidence = {
    ref: refOf(facts),
    condition: d.condition === null ? null : conditionOf(d.condition),
    podReason: facts.pod?.status?.reason ?? null,
    podMessage: facts.pod?.status?.message ?? null,
    transcript: transcriptSoFar(facts.observation),
    termination: t === null ? null : terminationOf(t)
  }
  const said = evidence.podMessage ?? evidence.condition?.message ?? null
  const node = evidence.ref.nodeName === null ? "" : ` on node ${evidence.ref.nodeName}`
  const tail = `${said === null ? "" : `: ${said}`}; ${facts.observation.assistantMessages} assistant message(s) had been written. A rerun starts the task over.`
  switch (d.kind) {
    case "evicted":
      return new PodEvicted({ message: `The Pod was evicted${node}${tail}`, retryable: true, evidence })
    case "preempted":
      return new PodPreempted({ message: `The Pod was preempted${node} for a Pod of higher priority${tail}`, retryable: true, evidence })
    case "node-lost":
      return new NodeLost({ message: `The Pod's node${node === "" ? "" : ` (${evidence.ref.nodeName})`} went away${tail}`, retryable: true, evidence })
  }
}

const runningSinceMs = (status: ContainerStatusLike | null): number | null =>
  timeMs(status?.state?.running?.startedAt) ?? timeMs(status?.state?.terminated?.startedAt)

const deletedExternally = (facts: ClusterFacts, deleted: "Job" | "Pod", seenVia: "watch-deleted" | "not-found" | "deletion-timestamp", atMs: number): RunOutcome => {
  const started = runningSinceMs(agentStatus(facts.pod))
  const evidence = {
    ref: refOf(facts),
    deleted,
    seenVia,
    lastConditions: (facts.job?.status?.conditions ?? []).map(conditionOf),
    msSinceRunning: started === null ? null : Math.max(0, atMs - started),
    transcript: transcriptSoFar(facts.observation)
  }
  const how = seenVia === "watch-deleted" ? "its watch reported it deleted" : seenVia === "not-found" ? "the API answered 404 Not Found" : "it was marked for deletion"
  return new JobDeletedExternally({
    message: `The run's ${deleted} was deleted by someone other than agentrun (${how})${
      evidence.msSinceRunning === null ? " before the agent ran" : ` ${Math.round(evidence.msSinceRunning / 1000)}s after the agent started`
    }, with ${facts.observation.stdoutLines} output line(s) read.`,
    retryable: false,
    evidence
  })
}

/** The core verdict on the transcript, with the container's exit in place of a local process's. */
const transcriptVerdict = (facts: ClusterFacts, exit: ExitStatus | null, action: SupervisorAction = facts.action): RunOutcome =>
  verdict({
    observation: facts.observation,
    stderrTail: facts.stderrTail,
    exit,
    spawnFailure: null,
    action,
    oomKills: null,
    maxTurns: facts.maxTurns
  })

const isPullRetry = (reason: string) => reason === "ErrImagePull" || reason === "ImagePullBackOff"
const isPullPermanent = (reason: string) => reason === "InvalidImageName" || reason === "ErrImageNeverPull"

/** Registry answers that another try may get past (rate limits, timeouts, connection trouble). */
const transientPull = /429|toomanyrequests|too many requests|timeout|timed out|connection (?:refused|reset)|temporar/i

const imagePullVerdict = (facts: ClusterFacts, reason: string, message: string | null, waitedMs: number, timeoutMs: number | null): RunOutcome => {
  // The kubelet's "Failed to pull image ..." carries the registry's answer; its later "Error: ImagePullBackOff" says less.
  const event = lastEvent(facts.events, (e) => e.reason === "Failed" && /^Failed to pull image/i.test(e.message ?? ""))?.message ??
    lastEvent(facts.events, (e) => e.reason === "Failed" && /image/i.test(e.message ?? ""))?.message ?? null
  const image = facts.pod?.spec?.containers?.find((c) => c.name === agentContainerName)?.image ?? agentStatus(facts.pod)?.image ?? "?"
  const detail = event ?? message
  return new ImagePullFailed({
    message: `The image ${image} could not be pulled (${reason})${detail === null ? "" : `: ${detail}`}${timeoutMs === null ? "" : ` (waited ${Math.round(waitedMs / 1000)}s)`}.`,
    retryable: timeoutMs !== null && transientPull.test(detail ?? ""),
    evidence: { ref: refOf(facts), image, reason, message, eventMessage: event, waitedMs, pullTimeoutMs: timeoutMs }
  })
}

/** The verdict before the container ended: a failure that is already certain, or Pending. */
const beforeEnd = (facts: ClusterFacts): ClusterVerdict => {
  const status = agentStatus(facts.pod)
  const waiting = status?.state?.waiting ?? null
  const reason = waiting?.reason ?? null
  const message = waiting?.message ?? null
  const ref = refOf(facts)
  if (reason === "CreateContainerConfigError") {
    return decided(new ContainerConfigError({
      message: `The container's configuration could not be built${message === null ? "" : `: ${message}`} (check the Secrets, ConfigMaps and service account it names).`,
      retryable: false,
      evidence: { ref, reason, message }
    }))
  }
  if (reason === "CreateContainerError" || reason === "RunContainerError") {
    return decided(new ContainerStartFailed({
      message: `The container could not be started (${reason})${message === null ? "" : `: ${message}`}.`,
      retryable: false,
      evidence: { ref, reason, message, exitCode: null }
    }))
  }
  const scheduled = trueCondition(facts.pod?.status?.conditions, "PodScheduled")
  if (reason !== null && isPullPermanent(reason)) {
    return decided(imagePullVerdict(facts, reason, message, facts.nowMs - (timeMs(scheduled?.lastTransitionTime) ?? facts.nowMs), null))
  }
  if (reason !== null && isPullRetry(reason)) {
    const since = timeMs(scheduled?.lastTransitionTime) ?? timeMs(facts.pod?.metadata?.creationTimestamp) ?? facts.nowMs
    const waitedMs = facts.nowMs - since
    return waitedMs >= facts.settings.imagePullTimeoutMs
      ? decided(imagePullVerdict(facts, reason, message, waitedMs, facts.settings.imagePullTimeoutMs))
      : pending(`the image pull (${reason})`, since + facts.settings.imagePullTimeoutMs)
  }
  const unschedulable = (facts.pod?.status?.conditions ?? []).find((c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable")
  if (unschedulable !== undefined) {
    const since = timeMs(facts.pod?.metadata?.creationTimestamp) ?? timeMs(unschedulable.lastTransitionTime) ?? facts.nowMs
    const waitedMs = facts.nowMs - since
    if (waitedMs < facts.settings.scheduleTimeoutMs) return pending("a node for the Pod (Unschedulable)", since + facts.settings.scheduleTimeoutMs)
    const event = lastEvent(facts.events, (e) => e.reason === "FailedScheduling")?.message ?? null
    const said = unschedulable.message ?? event
    return decided(new PodUnschedulable({
      message: `No node could take the Pod within ${Math.round(facts.settings.scheduleTimeoutMs / 1000)}s${said === null ? "" : `: ${said}`}`,
      retryable: true,
      evidence: { ref, message: unschedulable.message ?? null, eventMessage: event, waitedMs, scheduleTimeoutMs: facts.settings.scheduleTimeoutMs }
    }))
  }
  return pending(reason === null ? "the run to end" : `the container (${reason})`)
}

/**
 * The facts with a cancel request on the Job as last seen counted as agentrun's cancel (step 1):
 * the annotation is only ever written by `agentrun cancel`, before it deletes the Job, so when
 * this supervisor did nothing itself, the Job's end is still a cancel, never an external deletion.
 */
const withJobCancelRequest = (facts: ClusterFacts): ClusterFacts => {
  if (facts.action._tag !== "None") return facts
  const request = cancelRequestOf(facts.job)
  if (request === null) return facts
  return { ...facts, action: { _tag: "Cancel", signal: null, stop: null, by: "cancel-command", requestedBy: request.by } }
}

/**
 * Decides how a run on a cluster ended, in the order documented on this module; or says what it
 * is still waiting for. Pure.
 */
export const podVerdict = (observed: ClusterFacts): ClusterVerdict => {
  const facts = withJobCancelRequest(observed)
  const status = agentStatus(facts.pod)
  const t = status?.state?.terminated ?? null
  const terminal = jobTerminal(facts.job)
  const podGoneOrFailed = facts.pod === null || facts.pod.status?.phase === "Failed" || facts.pod.status?.phase === "Succeeded"
  const ended = t !== null || facts.jobGone !== null || (podGoneOrFailed && (terminal !== null || facts.action._tag === "Cancel"))

  if (!ended) {
    const early = beforeEnd(facts)
    if (early._tag === "Decided" || terminal === null) return early
    // The Job's condition came first (from 1.31 FailureTarget precedes the Pod's end): wait, boundedly, for the container.
    if (!facts.lagWaitedOut) return pending(`the container's terminated state (the Job says ${terminal.type})`)
  }
  if (t !== null && terminal === null && facts.jobGone === null && facts.job !== null && facts.action._tag === "None" && !facts.lagWaitedOut) {
    return pending("the Job's condition (the container has terminated)")
  }

  const exit = exitOf(t)
  const pe = processEnd(facts, exit)
  const o = facts.observation
  const r = o.result

  // 1. agentrun's cancel (its own, or the Job's cancel annotation: see withJobCancelRequest).
  if (facts.action._tag === "Cancel") {
    const requestedBy = facts.action.requestedBy
    return decided(new Cancelled({
      message: `The run was cancelled${
        facts.action.signal !== null ? ` (${facts.action.signal} to agentrun)` : requestedBy === undefined ? " by request" : ` by request of ${requestedBy}`
      }: its Job was deleted${r?.total_cost_usd == null ? "" : `; claude had spent $${r.total_cost_usd.toFixed(4)}`}.`,
      retryable: false,
      evidence: {
        signal: facts.action.signal,
        by: facts.action.signal === null ? "cancel-command" : "signal",
        ...(requestedBy === undefined ? {} : { requestedBy }),
        stop: facts.action.stop,
        process: t === null ? null : pe,
        ...(r === null ? {} : { result: resultFacts(r) })
      }
    }))
  }

  // 2. claude's own success: the work was done. A Job deadline that cut it lingering is noted.
  if (r !== null && r.is_error !== true && r.subtype === "success") {
    const deadline = jobFailureReason(facts.job)?.reason === "DeadlineExceeded"
    const action: SupervisorAction = facts.action._tag === "None" && deadline
      ? { _tag: "Deadline", timeoutMs: (facts.job?.spec?.activeDeadlineSeconds ?? 0) * 1000, stop: { steps: [], tookMs: 0 } }
      : facts.action
    return decided(transcriptVerdict(facts, exit, action))
  }

  // 3. agentrun's stall watchdog stopped the Pod.
  if (facts.action._tag === "Hang") return decided(transcriptVerdict(facts, exit))

  // 4. The Job deleted by someone else.
  if (facts.jobGone !== null) return decided(deletedExternally(facts, "Job", facts.jobGone.seenVia, facts.jobGone.atMs))

  // 5. Disruptions.
  const disruption = disruptionOf(facts.pod)
  if (disruption !== null) return decided(disruptionVerdict(facts, disruption, t))

  // 6. The Job's deadline.
  const failed = jobFailureReason(facts.job)
  if (failed?.reason === "DeadlineExceeded") {
    const timeoutMs = (facts.job?.spec?.activeDeadlineSeconds ?? 0) * 1000
    const finished = timeMs(t?.finishedAt)
    const cut = timeMs(failed.lastTransitionTime)
    const stop = { steps: [], tookMs: finished !== null && cut !== null ? Math.max(0, finished - cut) : 0 }
    const outcome = transcriptVerdict(facts, exit, { _tag: "Deadline", timeoutMs, stop })
    if (outcome._tag !== "DeadlineExceeded") return decided(outcome)
    return decided(new DeadlineExceeded({
      message: `The run exceeded its ${timeoutMs / 1000}s deadline (the Job's activeDeadlineSeconds) and its Pod was stopped.`,
      retryable: false,
      evidence: { ...outcome.evidence, jobCondition: conditionOf(failed) }
    }))
  }

  // 7. The Pod deleted by someone else.
  const deletion = timeMs(facts.pod?.metadata?.deletionTimestamp)
  if (deletion !== null) return decided(deletedExternally(facts, "Pod", "deletion-timestamp", deletion))

  // 8. OOMKilled outranks the truncated output it causes.
  if (t?.reason === "OOMKilled") {
    const limit = facts.pod?.spec?.containers?.find((c) => c.name === agentContainerName)?.resources?.limits?.["memory"] ?? null
    const nodeEvent = lastEvent(facts.events, (e) => e.reason === "OOMKilling" || e.reason === "SystemOOM")?.message ?? null
    return decided(new OutOfMemory({
      message: `The container was OOM-killed${limit === null ? "" : ` at its ${limit} memory limit`}${nodeEvent === null ? "" : ` (${nodeEvent})`}: raise --memory.`,
      retryable: false,
      evidence: {
        oomKillsBefore: null,
        oomKillsAfter: null,
        pod: { ref: refOf(facts), termination: terminationOf(t), memoryLimit: limit, nodeEvent },
        process: pe
      }
    }))
  }

  // 9. The container never ran, or the entry refused to start claude.
  if (t?.reason === "StartError" || (t === null && facts.pod?.status?.phase === "Failed")) {
    const reason = t?.reason ?? facts.pod?.status?.reason ?? "PodFailed"
    const message = t?.message ?? facts.pod?.status?.message ?? null
    return decided(new ContainerStartFailed({
      message: `The container could not be started (${reason})${message === null ? "" : `: ${message}`}.`,
      retryable: false,
      evidence: { ref: refOf(facts), reason, message, exitCode: t?.exitCode ?? null }
    }))
  }
  const wroteNothing = o.stdoutLines === 0
  if (t?.exitCode === promptUnreadableExitCode && wroteNothing && facts.stderrTail.some((l) => l.includes(`${entryScriptName}: cannot read the prompt file`))) {
    return decided(new ContainerConfigError({
      message: "The prompt file was not mounted in the container (the run's Secret): claude was not started.",
      retryable: false,
      evidence: { ref: refOf(facts), reason: "PromptUnreadable", message: facts.stderrTail.find((l) => l.includes(entryScriptName)) ?? null }
    }))
  }
  if (t?.exitCode === 127 && wroteNothing && facts.stderrTail.some((l) => /claude: (?:command )?not found/.test(l))) {
    return decided(new SpawnFailed({
      message: "The agent could not be started: the image has no `claude` on its PATH.",
      retryable: false,
      evidence: { path: "claude", reason: "not-found", errno: null, detail: facts.stderrTail.find((l) => /not found/.test(l)) ?? "", process: pe }
    }))
  }

  // 10. The transcript and the exit code.
  return decided(transcriptVerdict(facts, exit))
}
