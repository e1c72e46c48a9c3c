/**
 * The Kubernetes backend as the extension's core registers it: built on first use, so an
 * activation that never meets a Kubernetes run never evaluates `@kubernetes/client-node` (about
 * 200 ms and 17 MB of code, see `@agentrun/core/kubernetes`). The first launch, reattach,
 * liveness or cancel of a Kubernetes run imports `@agentrun/core/kubernetes` and builds the core's
 * KubernetesBackend over the API of the cluster target (for a launch, the `agentrun.k8s.*`
 * settings; for a stored run, its record's context and namespace), one per cluster, in the
 * layer's scope; a failure to build it is not kept (the next call tries again).
 *
 * When no kubeconfig or in-cluster account can be loaded (KubernetesUnreachable), following the
 * Backend contract: liveness is `Unknown`, a cancel leaves its request in the run store for the
 * run's supervisor, and a launch fails as a defect carrying the message (the command shows it).
 *
 * @module
 */
import { Backends, type BackendShape, type ClusterTarget, kubernetesOnFirstUse, ProcessControl, type RunRecord, RunStore } from "@agentrun/core"
import type { KubernetesBackendOptions } from "@agentrun/core/kubernetes"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { cancelRequester } from "./Identity.ts"

/**
 * The cluster of a stored run: its record's context and namespace, the host's kubeconfig (the
 * `agentrun.k8s.kubeconfig` setting). A launch in another context than the settings' (the config
 * file's `kubernetes.context`) is found there again after a reload, as the CLI finds it
 * (KubernetesOnDemand). A record with no Kubernetes placement gets the settings' cluster.
 */
export const targetOfRecord = (cluster: ClusterTarget, record: RunRecord): ClusterTarget =>
  record.placement._tag === "Kubernetes"
    ? { kubeconfigPath: cluster.kubeconfigPath, context: record.placement.context, namespace: record.placement.namespace }
    : cluster

/** The on-first-use Kubernetes backend (see the module doc). */
export class KubernetesOnFirstUse extends Context.Service<KubernetesOnFirstUse, BackendShape>()("agentrun-vscode/KubernetesOnFirstUse") {
  /** The backend of `cluster` (`options`: the core backend's timings, the tests' shorter ones); needs the run store. */
  static readonly layer = (cluster: ClusterTarget, options: KubernetesBackendOptions = {}): Layer.Layer<KubernetesOnFirstUse, never, RunStore | ProcessControl> =>
    Layer.effect(
      KubernetesOnFirstUse,
      Effect.gen(function*() {
        const store = yield* RunStore
        const control = yield* ProcessControl
        return yield* kubernetesOnFirstUse({
          build: (target) =>
            Effect.gen(function*() {
              const k = yield* Effect.promise(() => import("@agentrun/core/kubernetes"))
              const layer = k.KubernetesBackend.layer(options).pipe(Layer.provide(k.KubernetesApiLive.layer(target)))
              const context = yield* Layer.build(layer).pipe(Effect.provideService(RunStore, store), Effect.provideService(ProcessControl, control))
              return Context.get(context, k.KubernetesBackend)
            }),
          // A stored run lives where it was launched: its record's context and namespace (a launch
          // may have taken them from the config file), through the settings' kubeconfig.
          targetOf: (record) => targetOfRecord(cluster, record),
          launchTarget: () => cluster,
          // The Job's cancel annotation may be read on another machine: the host is named too.
          cancelBy: cancelRequester()
        })
      })
    )

  /** A registry with this backend over the one it is given (AgentrunApp.layer's `backends` option). */
  static readonly register = (cluster: ClusterTarget, options: KubernetesBackendOptions = {}): Layer.Layer<Backends, never, Backends | RunStore | ProcessControl> =>
    Backends.register(KubernetesOnFirstUse, KubernetesOnFirstUse.layer(cluster, options))
}
