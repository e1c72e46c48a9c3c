/**
 * Evidence shapes of runs on a cluster, in the Kubernetes API's own field names and values
 * (condition `type`/`status`/`reason`/`message`, container state reasons, Event messages).
 * Plain JSON like the rest of a verdict.
 *
 * @module
 */
import * as Schema from "effect/Schema"

/** A Job or Pod condition as the API reported it (`lastTransitionTime` ISO 8601). */
export const ClusterCondition = Schema.Struct({
  type: Schema.String,
  status: Schema.String,
  reason: Schema.NullOr(Schema.String),
  message: Schema.NullOr(Schema.String),
  lastTransitionTime: Schema.NullOr(Schema.String)
})
export type ClusterCondition = typeof ClusterCondition.Type

/** Which objects a run had: the Job always, the Pod and its node once known. */
export const PodRef = Schema.Struct({
  namespace: Schema.String,
  jobName: Schema.String,
  podName: Schema.NullOr(Schema.String),
  podUid: Schema.NullOr(Schema.String),
  nodeName: Schema.NullOr(Schema.String)
})
export type PodRef = typeof PodRef.Type

/** How far the agent had got when the cluster ended the run: its output so far. */
export const TranscriptSoFar = Schema.Struct({
  /** Lines of pod log read (stdout and stderr merged). */
  outputLines: Schema.Number,
  assistantMessages: Schema.Number,
  /** claude's `result` subtype and terminal_reason, when it wrote one (e.g. after the SIGINT the entry forwarded). */
  resultSubtype: Schema.NullOr(Schema.String),
  terminalReason: Schema.NullOr(Schema.String),
  costUsd: Schema.NullOr(Schema.Number),
  sessionId: Schema.NullOr(Schema.String)
})
export type TranscriptSoFar = typeof TranscriptSoFar.Type

/** The agent container's end as the kubelet reported it (`state.terminated`). */
export const ContainerTermination = Schema.Struct({
  reason: Schema.NullOr(Schema.String),
  exitCode: Schema.Number,
  /** Set by some runtimes; usually null (the exit code carries 128+n). */
  signal: Schema.NullOr(Schema.Number),
  message: Schema.NullOr(Schema.String),
  containerId: Schema.NullOr(Schema.String),
  startedAt: Schema.NullOr(Schema.String),
  finishedAt: Schema.NullOr(Schema.String)
})
export type ContainerTermination = typeof ContainerTermination.Type
