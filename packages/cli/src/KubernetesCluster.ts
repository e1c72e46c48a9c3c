/**
 * What the CLI does on a cluster: the dry run's YAML, a run's launch on the Kubernetes backend,
 * the take-over of a stored run (`attach`), the doctor's checks and inspect's live view. This
 * module loads `@kubernetes/client-node` (through `@agentrun/core/kubernetes`): commands import
 * it dynamically ({@link loadCluster}), so a start that never talks to a cluster never loads it.
 *
 * Each operation builds the API layer for its {@link ClusterTarget} in the caller's scope (no
 * request is made to build it; it fails with KubernetesUnreachable when no kubeconfig or
 * in-cluster account can be loaded).
 *
 * @module
 */
import {
  type BackendShape,
  type ClusterDoctorReport,
  type ClusterTarget,
  KubernetesApi,
  type KubernetesApiError,
  type KubernetesRunOptions,
  type KubernetesUnreachable,
  makeRunId,
  type ProcessControl,
  type RunHandle,
  type RunRecord,
  runManifests,
  type RunSpec,
  RunStore,
  type RunStoreError
} from "@agentrun/core"
import { clusterDoctor, KubernetesApiLive, KubernetesBackend, manifestsYaml } from "@agentrun/core/kubernetes"
import type { V1Job, V1Pod } from "@kubernetes/client-node"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import type * as Scope from "effect/Scope"
import { type KubernetesRunDraft, withNamespace } from "./KubernetesFlags.ts"

/** The API of `target`, built in the current scope. */
const apiFor = (target: ClusterTarget) => Effect.map(Layer.build(KubernetesApiLive.layer(target)), (ctx) => Context.get(ctx, KubernetesApi))

/** The run's options with the namespace resolved: the target's, else the context's (the API layer knows it). */
const optionsFor = (target: ClusterTarget, draft: KubernetesRunDraft, contextNamespace: string): KubernetesRunOptions =>
  withNamespace(draft, target.namespace ?? contextNamespace)

/**
 * `run --dry-run`: the Secret and Job the run would create, as YAML (see `manifestsYaml`), under a
 * run id made for the occasion (a real run gets its own). Makes no request: without `-n` the
 * kubeconfig is loaded to learn the context's namespace, and with no kubeconfig at all the
 * namespace is `default`, as kubectl's client-side dry run has it (said on stderr).
 */
export const dryRunYaml = (
  spec: RunSpec,
  target: ClusterTarget,
  draft: KubernetesRunDraft
): Effect.Effect<string, never, Scope.Scope> =>
  Effect.gen(function*() {
    const contextNamespace = target.namespace !== null ? target.namespace : yield* apiFor(target).pipe(
      Effect.map((api) => api.namespace),
      Effect.catchTag("KubernetesUnreachable", (e) =>
        Effect.as(Console.error(`agentrun: ${e.message}; the dry run uses the namespace "default"`), "default"))
    )
    const options = optionsFor(target, draft, contextNamespace)
    const runId = makeRunId(yield* Clock.currentTimeMillis, yield* Random.nextIntBetween(0, 0xffffff))
    return manifestsYaml(runManifests(runId, { ...spec, backend: "k8s", kubernetes: options }, options))
  })

/**
 * The Kubernetes backend of `target` on its own (not registered anywhere), built in the current
 * scope, with its API. The commands given a cluster by flags (`run`, `attach`) use it directly:
 * the app's registry already holds a Kubernetes backend (KubernetesOnDemand.ts, for the default
 * kubeconfig), and in a registry the first backend of a placement wins.
 */
const backendWithApi = (target: ClusterTarget) =>
  Effect.gen(function*() {
    const api = yield* apiFor(target)
    const ctx = yield* Layer.build(KubernetesBackend.layer().pipe(Layer.provide(Layer.succeed(KubernetesApi, api))))
    return { api, backend: Context.get(ctx, KubernetesBackend) }
  })

/** {@link backendWithApi}'s backend: what KubernetesOnDemand holds per cluster. */
export const kubernetesBackendFor = (target: ClusterTarget): Effect.Effect<BackendShape, KubernetesUnreachable, RunStore | ProcessControl | Scope.Scope> =>
  Effect.map(backendWithApi(target), ({ backend }) => backend)

/**
 * `run --backend k8s`: launches `spec` as a Job on `target` through the Kubernetes backend. The
 * backend's live runs belong to the current scope: closing it lets go of a run still going (its
 * Job runs on; `attach` takes over).
 */
export const launchOnCluster = (
  spec: RunSpec,
  target: ClusterTarget,
  draft: KubernetesRunDraft
): Effect.Effect<RunHandle, KubernetesUnreachable | RunStoreError, RunStore | ProcessControl | Scope.Scope> =>
  Effect.gen(function*() {
    const { api, backend } = yield* backendWithApi(target)
    const options = optionsFor(target, draft, api.namespace)
    return yield* backend.launch({ ...spec, backend: "k8s", kubernetes: options })
  })

/**
 * The launcher `run --backend k8s` supervises its attempts with: each launch goes to the
 * Kubernetes backend of `target` (built once, in the current scope), with the run's options.
 */
export const clusterLauncher = (
  target: ClusterTarget,
  draft: KubernetesRunDraft
): Effect.Effect<{ readonly launch: (spec: RunSpec) => Effect.Effect<RunHandle, RunStoreError> }, KubernetesUnreachable, RunStore | ProcessControl | Scope.Scope> =>
  Effect.map(backendWithApi(target), ({ api, backend }) => {
    const options = optionsFor(target, draft, api.namespace)
    return { launch: (spec: RunSpec) => backend.launch({ ...spec, backend: "k8s", kubernetes: options }) }
  })

/** The target of a stored Kubernetes run: its context and namespace, the kubeconfig given (null: the default one). */
export const targetOfRecord = (record: RunRecord, kubeconfigPath: string | null): ClusterTarget | null =>
  record.placement._tag === "Kubernetes"
    ? { kubeconfigPath, context: record.placement.context, namespace: record.placement.namespace }
    : null

/** `attach`: the Kubernetes backend of the record's cluster takes over the run (follows from its log cursor, records the verdict). */
export const attachOnCluster = (
  record: RunRecord,
  target: ClusterTarget
): Effect.Effect<RunHandle, KubernetesUnreachable | RunStoreError, RunStore | ProcessControl | Scope.Scope> =>
  Effect.flatMap(backendWithApi(target), ({ backend }) => backend.reattach(record))

/** `doctor --backend k8s`: the cluster's version and every permission the backend needs (see clusterDoctor). */
export const doctorOnCluster = (target: ClusterTarget): Effect.Effect<ClusterDoctorReport, KubernetesUnreachable, Scope.Scope> =>
  Effect.flatMap(apiFor(target), (api) => Effect.provideService(clusterDoctor, KubernetesApi, api))

/** What the API says now about a run's Job and Pod (`inspect`). */
export interface ClusterView {
  readonly job: V1Job | null
  readonly pod: V1Pod | null
}

/**
 * The run's Job (by name) and Pod (by the record's pod name, else the Job's `job-name` label),
 * read from the API; a Job or Pod that is gone is null. Fails when the API cannot be asked.
 */
export const clusterView = (
  record: RunRecord,
  target: ClusterTarget
): Effect.Effect<ClusterView, KubernetesApiError, Scope.Scope> =>
  Effect.gen(function*() {
    const p = record.placement
    if (p._tag !== "Kubernetes") return { job: null, pod: null }
    const api = yield* apiFor(target)
    const gone = <A>(e: Effect.Effect<A, KubernetesApiError>) => Effect.catchTag(e, "KubernetesNotFound", () => Effect.succeed(null))
    const job = yield* gone(api.getJob(p.namespace, p.jobName))
    const pod = p.podName !== null
      ? yield* gone(api.getPod(p.namespace, p.podName))
      : (yield* api.listPods(p.namespace, `job-name=${p.jobName}`)).at(-1) ?? null
    return { job, pod }
  })
