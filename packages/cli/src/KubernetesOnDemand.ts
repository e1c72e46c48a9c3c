/**
 * The Kubernetes backend as the app's registry holds it for the commands that manage stored runs
 * (`list`, `inspect`, `logs`, `cancel`, `prune` go through the RunCatalog, which dispatches a
 * `Kubernetes` record to the registered backend). Built on first use only, per cluster: the
 * first Kubernetes record it is given loads `@kubernetes/client-node` (KubernetesCluster.ts) and
 * the API of the record's context and namespace, from the default kubeconfig (`KUBECONFIG`, else
 * `~/.kube/config`, else in-cluster); a start that meets no Kubernetes record loads nothing.
 *
 * When that kubeconfig cannot be loaded: liveness is `Unknown` (never Interrupted, never pruned on
 * a guess), and a cancel leaves its request in the run store for the run's supervisor (a
 * supervisor elsewhere acts on it; `attach --kubeconfig` can take the run over).
 *
 * @module
 */
import { Backends, type BackendShape, kubernetesOnFirstUse, ProcessControl, type RunRecord, RunStore } from "@agentrun/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodeOs from "node:os"
import { loadCluster } from "./KubernetesFlags.ts"

/** The default kubeconfig's cluster of a stored run: its record's context and namespace. */
const targetOf = (record: RunRecord) =>
  record.placement._tag === "Kubernetes"
    ? { kubeconfigPath: null, context: record.placement.context, namespace: record.placement.namespace }
    : { kubeconfigPath: null, context: null, namespace: null }

/** The on-demand Kubernetes backend (see the module doc). */
export class KubernetesOnDemand extends Context.Service<KubernetesOnDemand, BackendShape>()("agentrun/cli/KubernetesOnDemand") {
  /** Needs the run store; the backends it builds live in the layer's scope. */
  static readonly layer: Layer.Layer<KubernetesOnDemand, never, RunStore | ProcessControl> = Layer.effect(
    KubernetesOnDemand,
    Effect.gen(function*() {
      const store = yield* RunStore
      const control = yield* ProcessControl
      return yield* kubernetesOnFirstUse({
        build: (target) => Effect.flatMap(loadCluster, (cluster) => cluster.kubernetesBackendFor(target)).pipe(Effect.provideService(RunStore, store), Effect.provideService(ProcessControl, control)),
        targetOf,
        launchTarget: (spec) => ({ kubeconfigPath: null, context: null, namespace: spec.kubernetes?.namespace ?? null }),
        cancelBy: `agentrun cancel (pid ${process.pid} on ${NodeOs.hostname()})`
      })
    })
  )

  /** The app's registry with this backend over the local one (AgentrunApp.layer's `backends` option). */
  static readonly registry = Backends.register(KubernetesOnDemand, KubernetesOnDemand.layer)
}
