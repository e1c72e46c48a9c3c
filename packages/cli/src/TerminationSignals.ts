/**
 * SIGINT (Ctrl-C) and SIGTERM sent to agentrun itself, as an Effect: while someone awaits them
 * the listeners are installed, so Node's default (die at once) is replaced by agentrun's stop
 * sequence; outside that, a signal kills agentrun as usual.
 *
 * @module
 */
import { Context, Deferred, Effect, Layer } from "effect"

/** The signals agentrun turns into a cancellation. */
export type TerminationSignal = "SIGINT" | "SIGTERM"

/** Waits for the first SIGINT or SIGTERM (scoped: listeners are removed when the wait ends). */
export class TerminationSignals extends Context.Service<TerminationSignals, {
  readonly next: Effect.Effect<TerminationSignal>
}>()("agentrun/cli/TerminationSignals") {
  static readonly layer = Layer.succeed(
    TerminationSignals,
    TerminationSignals.of({
      next: Effect.callback<TerminationSignal>((resume) => {
        const onInt = () => resume(Effect.succeed("SIGINT"))
        const onTerm = () => resume(Effect.succeed("SIGTERM"))
        process.once("SIGINT", onInt)
        process.once("SIGTERM", onTerm)
        return Effect.sync(() => {
          process.removeListener("SIGINT", onInt)
          process.removeListener("SIGTERM", onTerm)
        })
      })
    })
  )

  /** A test layer whose signal is delivered by completing the given Deferred. */
  static readonly layerTest = (signal: Deferred.Deferred<TerminationSignal>) =>
    Layer.succeed(TerminationSignals, TerminationSignals.of({ next: Deferred.await(signal) }))
}
