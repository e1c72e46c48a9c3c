/**
 * The registry of the backends this agentrun process has: one per placement. `launch` picks one
 * by `spec.backend`; the run catalog picks one by a stored record's placement (`forRecord`).
 *
 * The local backend is always there ({@link Backends.layer}). Another one is registered over it
 * with {@link Backends.register}, e.g. the Kubernetes backend:
 *
 * ```ts
 * const registry = Backends.register(KubernetesBackend, KubernetesBackend.layer(target)).pipe(
 *   Layer.provide(Backends.layer)
 * )
 * ```
 *
 * AgentrunApp.layer takes the `Backends.register(...)` layer itself as its `backends` option (it
 * provides the registry below and the core's services):
 * `AgentrunApp.layer({ backends: Backends.register(KubernetesBackend, KubernetesBackend.layer(target)) })`.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { RunRecord, RunSpec } from "../domain/Run.ts"
import type { RunStoreError } from "../store/RunStore.ts"
import type { BackendShape, PlacementTag, RunHandle } from "./Backend.ts"
import { LocalBackend } from "./LocalBackend.ts"

/** The `--backend` names (and `spec.backend`), with the placement each one's runs get. */
export const backendPlacements = { local: "Local", k8s: "Kubernetes" } as const satisfies Record<string, PlacementTag>

/** A `--backend` name: `local` (the default) or `k8s`. */
export type BackendName = keyof typeof backendPlacements

/**
 * The run asked for a backend this agentrun process does not have (`--backend k8s` in a build or
 * host with no Kubernetes backend registered). Nothing was launched or recorded.
 */
export class BackendUnavailable extends Schema.TaggedError<BackendUnavailable>()("BackendUnavailable", {
  message: Schema.String,
  /** The backend asked for (`spec.backend`). */
  backend: Schema.String,
  /** Why it is unavailable. */
  reason: Schema.String,
  /** The placements that are registered. */
  available: Schema.Array(Schema.String),
  retryable: Schema.Boolean
}) {}

/** The registry's operations. */
export interface BackendsShape {
  /** Every registered backend, the local one first. */
  readonly backends: ReadonlyArray<BackendShape>
  /** The backend owning records of this placement, if registered. */
  readonly forPlacement: (tag: PlacementTag) => Option.Option<BackendShape>
  /** The backend owning this record (by its placement), if registered. */
  readonly forRecord: (record: RunRecord) => Option.Option<BackendShape>
  /**
   * Launches through the backend `spec.backend` names (`"local"` when absent). Fails with
   * {@link BackendUnavailable} when that backend is not registered, else as the backend's launch
   * does (RunStoreError: the run could not be recorded).
   */
  readonly launch: (spec: RunSpec) => Effect.Effect<RunHandle, RunStoreError | BackendUnavailable>
}

/** A registry of `backends`: the first one registered for a placement wins. */
export const makeBackends = (backends: ReadonlyArray<BackendShape>): BackendsShape => {
  const byPlacement = new Map<PlacementTag, BackendShape>()
  for (const backend of backends) if (!byPlacement.has(backend.placement)) byPlacement.set(backend.placement, backend)
  const forPlacement = (tag: PlacementTag) => Option.fromUndefinedOr(byPlacement.get(tag))
  return {
    backends: [...byPlacement.values()],
    forPlacement,
    forRecord: (record) => forPlacement(record.placement._tag),
    launch: (spec) => {
      const name = spec.backend ?? "local"
      const backend = byPlacement.get(backendPlacements[name])
      if (backend !== undefined) return backend.launch(spec)
      const available = [...byPlacement.keys()]
      const reason = `no ${backendPlacements[name]} backend is registered in this agentrun (registered: ${available.join(", ")})`
      return Effect.fail(
        new BackendUnavailable({
          message: `The ${name} backend is not available: ${reason}.`,
          backend: name,
          reason,
          available,
          retryable: false
        })
      )
    }
  }
}

/**
 * The backend registry service. `layer` holds the local backend (needs {@link LocalBackend});
 * `register(tag, layer)` adds another over it.
 */
export class Backends extends Context.Service<Backends, BackendsShape>()("agentrun/Backends") {
  /** The local backend alone. */
  static readonly layer: Layer.Layer<Backends, never, LocalBackend> = Layer.effect(
    Backends,
    Effect.map(LocalBackend, (local) => Backends.of(makeBackends([local])))
  )

  /**
   * A registry layer adding the backend of service `tag` (built by `layer`) to the registry it is
   * provided with: `Backends.register(KubernetesBackend, KubernetesBackend.layer(target)).pipe(Layer.provide(Backends.layer))`.
   * A placement registered below keeps its backend (the first registered wins). Fails as `layer` does.
   */
  static readonly register = <I, E, R>(
    tag: Context.Key<I, BackendShape>,
    layer: Layer.Layer<I, E, R>
  ): Layer.Layer<Backends, E, Backends | R> =>
    Layer.effect(
      Backends,
      Effect.gen(function*() {
        const below = yield* Backends
        const added = yield* tag
        return Backends.of(makeBackends([...below.backends, added]))
      })
    ).pipe(Layer.provide(layer))
}
