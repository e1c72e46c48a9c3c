/**
 * `agentrun inspect RUN_ID [--json]`: one run's record and verdict.
 *
 * @module
 */
import { outcomeTag, type RunRecord, RunCatalog } from "@agentrun/core"
import type { V1Job, V1Pod } from "@kubernetes/client-node"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as NodePath from "node:path"
import { Argument, Command, Flag } from "effect/cli"
import { usageError } from "../ExitCode.ts"
import { kubernetesFlags, loadCluster } from "../KubernetesFlags.ts"
import { deniedCount, recordDamaged, runJson } from "../Output.ts"

/** The `inspect` command. */
export const inspect = Command.make("inspect", {
  json: Flag.Boolean("json").pipe(Flag.withDescription("The run as one JSON object (same shape as `run --json`)"), Flag.withDefault(false)),
  kubeconfig: kubernetesFlags.kubeconfig,
  runId: Argument.String("run-id").pipe(Argument.withDescription("A run id, a unique prefix or random tail of one, or `last`"))
}, (input) =>
  Effect.gen(function*() {
    const catalog = yield* RunCatalog
    const record = yield* Effect.flatMap(catalog.get(input.runId), catalog.recover)
    if (input.json) return yield* Console.log(JSON.stringify(runJson(record, record.outcome, record.summary)))
    const o = record.outcome
    const lines = [
      `run       ${record.runId}`,
      `status    ${record.status}`,
      `verdict   ${o === null ? "- (still running)" : `${outcomeTag(o)} (${o.family}${o._tag === "Succeeded" ? "" : o.retryable ? ", retryable" : ", not retryable"})`}`,
      ...(o === null ? [] : [`          ${o.message}`]),
      `started   ${record.createdAt}${record.endedAt === null ? "" : `, ended ${record.endedAt}`}`,
      `command   ${record.agent.command.join(" ")}`,
      `cwd       ${record.agent.cwd}`,
      `prompt    ${record.promptPreview}`,
      ...(record.placement._tag === "Kubernetes" ? yield* kubernetesLines(record, Option.getOrNull(input.kubeconfig)) : [placementLine(record)]),
      ...(record.summary === null ? [] : [
        `agent     exit ${record.summary.agentExitCode ?? "-"}${record.summary.agentSignal === null ? "" : `, ${record.summary.agentSignal.name}`}`,
        `session   ${record.summary.sessionId ?? "-"}`,
        `cost      ${record.summary.costUsd == null ? "-" : `$${record.summary.costUsd.toFixed(4)}`}, turns ${record.summary.numTurns ?? "-"}, ${record.summary.usage?.input_tokens ?? 0} in / ${record.summary.usage?.output_tokens ?? 0} out tokens`
      ]),
      ...(deniedCount(o) === 0 ? [] : [`denied    ${deniedCount(o)} tool call(s) refused by claude's permissions (see evidence)`]),
      ...(o === null ? [] : [`evidence  ${JSON.stringify(o.evidence, null, 2).split("\n").join("\n          ")}`])
    ]
    yield* Console.log(lines.join("\n"))
  }).pipe(
    Effect.catchTags({ RunNotFound: usageError, RunIdAmbiguous: usageError, RunRecordDamaged: recordDamaged })
  )).pipe(Command.withDescription("Show a run's record and verdict"))

/** Where the run executes: its pids (local), or its Job and Pod (Kubernetes). */
const placementLine = (record: RunRecord): string => {
  const p = record.placement
  return p._tag === "Local"
    ? `pids      supervisor ${p.supervisorPid} on ${p.hostname}, agent ${p.agentPid ?? "-"}`
    : `job       ${p.namespace}/${p.jobName}${p.podName === null ? "" : `, pod ${p.podName}`}${p.nodeName === null ? "" : ` on ${p.nodeName}`}`
}

/** The Job's conditions as `Type=Status (reason: message)`, in the API's order. */
const conditionsText = (job: V1Job): ReadonlyArray<string> =>
  (job.status?.conditions ?? []).map((c) => `${c.type}=${c.status}${c.reason === undefined ? "" : ` (${c.reason}${c.message === undefined || c.message === "" ? "" : `: ${c.message}`})`}`)

/** The agent container's state: `running since T`, `terminated (OOMKilled, exit 137)`, `waiting (ImagePullBackOff: ...)`. */
const containerText = (pod: V1Pod): string => {
  const s = pod.status?.containerStatuses?.[0]?.state
  if (s?.terminated !== undefined) return `terminated (${s.terminated.reason ?? "-"}, exit ${s.terminated.exitCode})`
  if (s?.running !== undefined) return `running since ${s.running.startedAt === undefined ? "-" : new Date(s.running.startedAt).toISOString()}`
  if (s?.waiting !== undefined) return `waiting (${s.waiting.reason ?? "-"}${s.waiting.message === undefined ? "" : `: ${s.waiting.message}`})`
  return "not started"
}

/** How long inspect waits for the API before it shows the record's view instead (ms). */
const clusterReadTimeoutMs = 10_000

/**
 * A Kubernetes run's namespace, Job, Pod, node and the Job's conditions: read from the API when it
 * answers (the default kubeconfig, or `--kubeconfig`, in the record's context), else from the
 * record; the first line says which.
 */
const kubernetesLines = (record: RunRecord, kubeconfig: string | null) =>
  Effect.gen(function*() {
    const p = record.placement
    if (p._tag !== "Kubernetes") return []
    const cluster = yield* loadCluster
    const target = cluster.targetOfRecord(record, kubeconfig === null ? null : NodePath.resolve(kubeconfig))!
    const view = yield* Effect.scoped(cluster.clusterView(record, target)).pipe(
      Effect.timeoutOption(clusterReadTimeoutMs),
      Effect.map(Option.match({ onNone: () => ({ _tag: "Failed", why: `no answer in ${clusterReadTimeoutMs / 1000} s` }) as const, onSome: (v) => ({ _tag: "Read", ...v }) as const })),
      Effect.catch((e) => Effect.succeed({ _tag: "Failed", why: e.message } as const))
    )
    const head = `cluster   namespace ${p.namespace}, context ${p.context ?? "(current)"}`
    if (view._tag === "Failed") {
      return [
        `${head} (from the record: the API could not be asked: ${view.why})`,
        `job       ${p.jobName}${p.jobUid === null ? "" : ` (uid ${p.jobUid})`}`,
        `pod       ${p.podName ?? "-"}${p.nodeName === null ? "" : ` on ${p.nodeName}`}`
      ]
    }
    const conditions = view.job === null ? [] : conditionsText(view.job)
    const pod = view.pod
    return [
      `${head} (live from the API)`,
      `job       ${p.jobName}${view.job === null ? " (gone: deleted, or collected after its TTL)" : ""}`,
      ...(view.job === null ? [] : [`          conditions ${conditions.length === 0 ? "none yet" : conditions.join(", ")}`]),
      pod === null
        ? `pod       ${p.podName ?? "-"} (gone)`
        : `pod       ${pod.metadata?.name ?? "-"} on ${pod.spec?.nodeName ?? "(not scheduled)"}, phase ${pod.status?.phase ?? "-"}${pod.status?.reason === undefined ? "" : ` (${pod.status.reason})`}, container ${containerText(pod)}`
    ]
  })
