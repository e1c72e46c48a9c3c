/**
 * A Kubernetes run's record at each stage: at launch (the Job's name known, nothing created yet),
 * once the Job exists (its UID), once its Pod is known (name, UID, node), as the log cursor
 * advances, and when its supervisor lets go (`supervisor: null`, so `attach` can take over).
 * Pure; the backend writes them.
 *
 * @module
 */
import { detachedPrefix } from "../domain/Prefix.ts"
import type { Redactor } from "../domain/Redaction.ts"
import { type KubernetesPlacement, type RunId, type RunRecord, runRecordSchemaVersion, type RunSpec } from "../domain/Run.ts"
import type { SupervisorIdentity } from "../backend/LocalRecord.ts"
import { jobNameFor, podClaudeArgs, workspacePath } from "./JobManifest.ts"
import type { KubernetesRunOptions } from "./KubernetesRunOptions.ts"

/** The log cursor as the record keeps it: containerID, the last line's whole second (ISO), lines seen in that second. */
export type RecordLogCursor = NonNullable<KubernetesPlacement["logCursor"]>

/** The record's `supervisor` for this process. */
export const supervisorOf = (s: SupervisorIdentity): NonNullable<KubernetesPlacement["supervisor"]> => ({
  hostname: s.hostname,
  pid: s.pid,
  startTimeTicks: s.startTicks
})

/**
 * The record written at launch: `running`, the Job's name (`agentrun-<runId>`), no UID yet; the
 * command is claude's argv in the Pod (redacted), the working directory the Pod's `/workspace`.
 */
export const kubernetesLaunchRecord = (
  runId: RunId,
  spec: RunSpec,
  options: KubernetesRunOptions,
  context: string | null,
  redactor: Redactor,
  startedAt: number,
  supervisor: SupervisorIdentity
): RunRecord => ({
  schemaVersion: runRecordSchemaVersion,
  runId,
  status: "running",
  createdAt: new Date(startedAt).toISOString(),
  endedAt: null,
  placement: {
    _tag: "Kubernetes",
    context,
    namespace: options.namespace,
    jobName: jobNameFor(runId),
    jobUid: null,
    podName: null,
    podUid: null,
    nodeName: null,
    logCursor: null,
    supervisor: supervisorOf(supervisor),
    agentId: options.agentId,
    taskId: options.taskId
  },
  agent: {
    command: ["claude", ...podClaudeArgs(spec, options)].map(redactor.redact),
    cwd: workspacePath,
    timeoutMs: spec.timeoutMs
  },
  promptPreview: detachedPrefix(redactor.redact(spec.prompt), 200),
  outcome: null,
  summary: null
})

/** The record's Kubernetes placement (the backend only handles records that have one). */
export const kubernetesPlacement = (record: RunRecord): KubernetesPlacement | null =>
  record.placement._tag === "Kubernetes" ? record.placement : null

/** The record with some placement fields changed. */
export const withPlacement = (record: RunRecord, change: Partial<Omit<KubernetesPlacement, "_tag">>): RunRecord => {
  const p = kubernetesPlacement(record)
  return p === null ? record : { ...record, placement: { ...p, ...change } }
}
