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
  json: Flag.Boolean("json").pipe(Flag.withDescription("The run as one JSON object (`run --json`'s shape, and `kubernetes`: a Kubernetes run's namespace, Job, Pod, node and conditions, null for a local run)"), Flag.withDefault(false)),
  kubeconfig: kubernetesFlags.kubeconfig,
  runId: Argument.String("run-id").pipe(Argument.withDescription("A run id, a unique prefix or random tail of one, or `last`"))
}, (input) =>
  Effect.gen(function*() {
    const catalog = yield* RunCatalog
    const record = yield* Effect.flatMap(catalog.get(input.runId), catalog.recover)
    const kubernetes = yield* kubernetesView(record, Option.getOrNull(input.kubeconfig))
    if (input.json) return yield* Console.log(JSON.stringify({ ...runJson(record, record.outcome, record.summary), kubernetes }))
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
      ...(kubernetes === null ? [placementLine(record)] : kubernetesLines(kubernetes)),
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

/** One of the Job's conditions, as the API gives it (`lastTransitionTime` ISO 8601, null when unset). */
export interface JobConditionJson {
  readonly type: string
  readonly status: string
  readonly reason: string | null
  readonly message: string | null
  readonly lastTransitionTime: string | null
}

/**
 * What `inspect` knows of a Kubernetes run, printed as lines and, under `kubernetes`, by
 * `inspect --json`: the namespace and context (null: the kubeconfig's current one), the Job
 * (name, uid) and the Pod (name, node) with the Job's conditions in the API's order. `source`:
 * `api` when the API answered (then `jobFound`/`podFound` say whether each still exists, `podPhase`
 * and `container`, the agent container's state as text, are read from it), `record` when it did
 * not (`unavailable` says why; the names are the record's, conditions empty, the rest null).
 */
export interface KubernetesViewJson {
  readonly namespace: string
  readonly context: string | null
  readonly job: string
  readonly jobUid: string | null
  readonly jobFound: boolean | null
  readonly pod: string | null
  readonly podFound: boolean | null
  readonly node: string | null
  readonly podPhase: string | null
  readonly podReason: string | null
  readonly container: string | null
  readonly conditions: ReadonlyArray<JobConditionJson>
  readonly source: "api" | "record"
  readonly unavailable: string | null
}

/** The Job's conditions, in the API's order. */
const conditionsOf = (job: V1Job): ReadonlyArray<JobConditionJson> =>
  (job.status?.conditions ?? []).map((c) => ({
    type: c.type,
    status: c.status,
    reason: c.reason ?? null,
    message: c.message === undefined || c.message === "" ? null : c.message,
    lastTransitionTime: c.lastTransitionTime === undefined ? null : new Date(c.lastTransitionTime).toISOString()
  }))

/** A condition as `Type=Status (reason: message)`. */
const conditionText = (c: JobConditionJson): string =>
  `${c.type}=${c.status}${c.reason === null ? "" : ` (${c.reason}${c.message === null ? "" : `: ${c.message}`})`}`

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
 * A Kubernetes run's view ({@link KubernetesViewJson}): read from the API when it answers within
 * {@link clusterReadTimeoutMs} (the default kubeconfig, or `--kubeconfig`, in the record's
 * context), else from the record. Null for a local run. Never fails: an API that cannot be asked
 * is `source: "record"` with the reason.
 */
const kubernetesView = (record: RunRecord, kubeconfig: string | null) =>
  Effect.gen(function*() {
    const p = record.placement
    if (p._tag !== "Kubernetes") return null
    const cluster = yield* loadCluster
    const target = cluster.targetOfRecord(record, kubeconfig === null ? null : NodePath.resolve(kubeconfig))!
    const read = yield* Effect.scoped(cluster.clusterView(record, target)).pipe(
      Effect.timeoutOption(clusterReadTimeoutMs),
      Effect.map(Option.match({ onNone: () => ({ _tag: "Failed", why: `no answer in ${clusterReadTimeoutMs / 1000} s` }) as const, onSome: (v) => ({ _tag: "Read", ...v }) as const })),
      Effect.catch((e) => Effect.succeed({ _tag: "Failed", why: e.message } as const))
    )
    const fromRecord = {
      namespace: p.namespace,
      context: p.context,
      job: p.jobName,
      jobUid: p.jobUid,
      pod: p.podName,
      node: p.nodeName
    }
    if (read._tag === "Failed") {
      const view: KubernetesViewJson = {
        ...fromRecord,
        jobFound: null,
        podFound: null,
        podPhase: null,
        podReason: null,
        container: null,
        conditions: [],
        source: "record",
        unavailable: read.why
      }
      return view
    }
    const pod = read.pod
    const view: KubernetesViewJson = {
      ...fromRecord,
      jobUid: read.job?.metadata?.uid ?? p.jobUid,
      jobFound: read.job !== null,
      pod: pod?.metadata?.name ?? p.podName,
      podFound: pod !== null,
      node: pod === null ? p.nodeName : pod.spec?.nodeName ?? null,
      podPhase: pod?.status?.phase ?? null,
      podReason: pod?.status?.reason ?? null,
      container: pod === null ? null : containerText(pod),
      conditions: read.job === null ? [] : conditionsOf(read.job),
      source: "api",
      unavailable: null
    }
    return view
  })

/** The view's lines for the human `inspect`; the first says where it comes from. */
const kubernetesLines = (v: KubernetesViewJson): ReadonlyArray<string> => {
  const head = `cluster   namespace ${v.namespace}, context ${v.context ?? "(current)"}`
  if (v.source === "record") {
    return [
      `${head} (from the record: the API could not be asked: ${v.unavailable})`,
      `job       ${v.job}${v.jobUid === null ? "" : ` (uid ${v.jobUid})`}`,
      `pod       ${v.pod ?? "-"}${v.node === null ? "" : ` on ${v.node}`}`
    ]
  }
  return [
    `${head} (live from the API)`,
    `job       ${v.job}${v.jobFound ? "" : " (gone: deleted, or collected after its TTL)"}`,
    ...(v.jobFound ? [`          conditions ${v.conditions.length === 0 ? "none yet" : v.conditions.map(conditionText).join(", ")}`] : []),
    v.podFound
      ? `pod       ${v.pod ?? "-"} on ${v.node ?? "(not scheduled)"}, phase ${v.podPhase ?? "-"}${v.podReason === null ? "" : ` (${v.podReason})`}, container ${v.container}`
      : `pod       ${v.pod ?? "-"} (gone)`
  ]
}
