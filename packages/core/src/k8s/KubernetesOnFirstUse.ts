/**
 * A Kubernetes backend built on first use, for hosts that register one in the app's registry but
 * must not pay for `@kubernetes/client-node` (about 200 ms and 17 MB of code) until a Kubernetes
 * run shows up: the CLI (KubernetesOnDemand) and the VS Code extension. The caller supplies how a
 * cluster's backend is built (its dynamic import of `@agentrun/core/kubernetes`); this module holds
 * what both hosts share: one backend per cluster target, built once under a lock (a failure is not
 * kept: the next call tries again), and what the Backend contract says when the cluster's
 * kubeconfig cannot be loaded (KubernetesUnreachable):
 * - liveness is `Unknown` (never Interrupted, never pruned on a guess);
 * - a cancel leaves its request in the run store for the run's supervisor;
 * - launch and reattach die with the message (the contract lets them fail only on the store).
 *
 * This module does not import client-node: it is in the main entry.
 *
 * @module
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import type { BackendShape } from "../backend/Backend.ts"
import type { RunId, RunRecord, RunSpec } from "../domain/Run.ts"
import { RunStore } from "../store/RunStore.ts"
import type { ClusterTarget, KubernetesUnreachable } from "./KubernetesApi.ts"

/** How {@link kubernetesOnFirstUse} finds and builds a cluster's backend. */
export interface KubernetesOnFirstUseOptions {
  /** Builds the backend of `target` in the given scope (the layer's: the backend lives as long as the host's app). */
  readonly build: (target: ClusterTarget) => Effect.Effect<BackendShape, KubernetesUnreachable, Scope.Scope>
  /** The cluster a stored run lives on (its record's context and namespace, the host's kubeconfig). */
  readonly targetOf: (record: RunRecord) => ClusterTarget
  /** The cluster a launch goes to. */
  readonly launchTarget: (spec: RunSpec) => ClusterTarget
  /**
   * Who asks, in every cancel through this backend unless the caller names one (e.g. `agentrun
   * cancel (pid N on HOST)`): the `by` of the request in the run store and of the Job's cancel
   * annotation, which the run's `Cancelled` verdict names (`requestedBy`).
   */
  readonly cancelBy: string
}

const keyOf = (t: ClusterTarget) => JSON.stringify([t.kubeconfigPath, t.context, t.namespace])

/** The on-first-use Kubernetes backend (see the module doc). Its backends live in the calling scope. */
export const kubernetesOnFirstUse = (options: KubernetesOnFirstUseOptions): Effect.Effect<BackendShape, never, RunStore | Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const store = yield* RunStore
    const lock = yield* Semaphore.make(1)
    const built = new Map<string, BackendShape>()

    const backendFor = (target: ClusterTarget): Effect.Effect<BackendShape, KubernetesUnreachable> =>
      lock.withPermit(Effect.suspend(() => {
        const known = built.get(keyOf(target))
        if (known !== undefined) return Effect.succeed(known)
        return options.build(target).pipe(
          Scope.provide(scope),
          Effect.tap((b) => Effect.sync(() => built.set(keyOf(target), b)))
        )
      }))

    return {
      placement: "Kubernetes",
      launch: (spec) => Effect.flatMap(Effect.orDie(backendFor(options.launchTarget(spec))), (b) => b.launch(spec)),
      reattach: (record) => Effect.flatMap(Effect.orDie(backendFor(options.targetOf(record))), (b) => b.reattach(record)),
      liveness: (record) =>
        backendFor(options.targetOf(record)).pipe(
          Effect.flatMap((b) => b.liveness(record)),
          Effect.catchTag("KubernetesUnreachable", (e) => Effect.succeed({ _tag: "Unknown", reason: e.message } as const))
        ),
      cancel: (record, cancelOptions) => {
        // The host's name for itself, not the built backend's default (`agentrun cancel ...`):
        // the VS Code extension's cancel is recorded as the extension's.
        const by = cancelOptions?.by ?? options.cancelBy
        return backendFor(options.targetOf(record)).pipe(
          Effect.flatMap((b) => b.cancel(record, { ...cancelOptions, by })),
          Effect.catchTag("KubernetesUnreachable", (e) =>
            Effect.gen(function*() {
              yield* Effect.logWarning(`run ${record.runId}: ${e.message}; the cancel request is left in the run store for its supervisor`)
              yield* store.requestCancel(record.runId as RunId, { requestedAt: new Date(yield* Clock.currentTimeMillis).toISOString(), by, signal: null })
              const p = record.placement
              return { _tag: "AskedSupervisor", runId: record.runId as RunId, supervisorPid: p._tag === "Kubernetes" ? p.supervisor?.pid ?? null : null } as const
            }))
        )
      }
    } satisfies BackendShape
  })
