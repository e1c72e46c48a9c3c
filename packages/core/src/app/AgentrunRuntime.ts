/**
 * The core for non-Effect callers (a VS Code extension's activate/deactivate, a script): the
 * {@link AgentrunApp} layer built once, effects run against it as Promises or fibers, and one
 * `dispose` that ends it all.
 *
 * ```ts
 * import { AgentrunRuntime, Backends } from "@agentrun/core"
 * import * as Effect from "effect/Effect"
 *
 * const runtime = AgentrunRuntime.make({ stateDir: "/home/me/.local/state/agentrun" })
 * const handle = await runtime.runPromise(Effect.flatMap(Backends, (b) => b.launch(spec)))
 * const { outcome } = await runtime.runPromise(handle.result)
 * // On deactivate: every run still live is stopped (the stop sequence) and recorded
 * // Cancelled, by "shutdown", before the promise settles.
 * await runtime.dispose()
 * ```
 *
 * @module
 */
import type * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { AgentrunApp, type AgentrunAppOptions, type AgentrunServices } from "./AgentrunApp.ts"

/** A built app: run effects needing {@link AgentrunServices}, then dispose. */
export interface AgentrunRuntimeShape<ER = never> {
  /**
   * Runs `effect` and resolves with its value. Rejects with its failure itself: the typed error
   * (a `Schema.TaggedError`, an `Error` with `_tag`, `message`, `retryable`), a defect as thrown,
   * or the layer's error `ER` when the app could not be built. The layer is built on the first
   * run, once, and shared by every later one.
   */
  readonly runPromise: <A, E>(effect: Effect.Effect<A, E, AgentrunServices>) => Promise<A>
  /** Runs `effect` in a new fiber, at once; the fiber is interrupted by {@link dispose} if still running. */
  readonly runFork: <A, E>(effect: Effect.Effect<A, E, AgentrunServices>) => Fiber.Fiber<A, E | ER>
  /**
   * Closes the app layer's scope: the backends end every run they own (the stop sequence, the
   * sweep of the run's processes, a final record `Cancelled` by "shutdown") and the fibers from
   * `runFork` are interrupted. Resolves once all of that is done; never rejects. Running effects
   * afterwards is an error.
   */
  readonly dispose: () => Promise<void>
}

/** The runtime facade (see the module docs). */
export const AgentrunRuntime = {
  /** A runtime over `AgentrunApp.layer(options)`; nothing is built until the first run. */
  make: <E = never>(options: AgentrunAppOptions<E> = {}): AgentrunRuntimeShape<E> => {
    const runtime = ManagedRuntime.make(AgentrunApp.layer(options))
    return {
      runPromise: (effect) => runtime.runPromise(effect),
      runFork: (effect) => runtime.runFork(effect),
      dispose: () => runtime.dispose()
    }
  }
}
