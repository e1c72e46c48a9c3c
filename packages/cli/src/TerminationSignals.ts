/**
 * Signals sent to agentrun itself while it supervises a run: SIGINT (Ctrl-C), SIGTERM and SIGHUP
 * (the terminal closed, an ssh session dropped) cancel the run (recorded with that signal; exit
 * 130 / 143 / 129). `agentrun cancel` from another agentrun process goes through the run store
 * (a cancel request the supervisor watches), not a signal: agentrun installs no SIGUSR1 handler,
 * so that signal keeps Node's meaning (start the inspector) and a host's other code keeps it.
 *
 * While a watch is open (scoped), the listeners stay installed, so Node's default — die at once,
 * leaving the agent running in its own process group — is replaced by agentrun's stop sequence,
 * and repeated Ctrl-C cannot cut that sequence short.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
/** The signals a supervising agentrun turns into a cancellation. */
export type TerminationSignal = "SIGINT" | "SIGTERM" | "SIGHUP"

const watched: ReadonlyArray<TerminationSignal> = ["SIGINT", "SIGTERM", "SIGHUP"]

/** Opens a watch: returns an effect that waits for the first signal received while the scope is open. */
export class TerminationSignals extends Context.Service<TerminationSignals, {
  readonly watch: Effect.Effect<Effect.Effect<TerminationSignal>, never, Scope.Scope>
}>()("agentrun/cli/TerminationSignals") {
  static readonly layer = Layer.succeed(
    TerminationSignals,
    TerminationSignals.of({
      watch: Effect.gen(function*() {
        const first = yield* Deferred.make<TerminationSignal>()
        const listeners = watched.map((signal) => [signal, () => Deferred.doneUnsafe(first, Effect.succeed(signal))] as const)
        yield* Effect.acquireRelease(
          Effect.sync(() => listeners.forEach(([signal, listener]) => process.on(signal, listener))),
          () => Effect.sync(() => listeners.forEach(([signal, listener]) => process.removeListener(signal, listener)))
        )
        return Deferred.await(first)
      })
    })
  )

  /** A test layer: the watch yields whatever the given Deferred is completed with. */
  static readonly layerTest = (signal: Deferred.Deferred<TerminationSignal>) =>
    Layer.succeed(TerminationSignals, TerminationSignals.of({ watch: Effect.succeed(Deferred.await(signal)) }))
}
