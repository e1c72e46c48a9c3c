/**
 * The thin adapter between VS Code's callback API and Effect: disposables as scoped resources,
 * commands run on the runtime captured at registration (failures logged and shown, never
 * thrown into VS Code), VS Code events as Streams whose finalizer disposes the listener, and
 * cancellation tokens as fiber interruption.
 *
 * @module
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as vscode from "vscode"
import { VsCode } from "./VsCodeApi.ts"

/** Acquires a VS Code disposable for the life of the current Scope. */
export const disposable = <D extends { dispose(): unknown }>(acquire: () => D): Effect.Effect<D, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.sync(acquire), (d) => Effect.sync(() => d.dispose()))

/** A VS Code event as a Stream; the listener is disposed when the stream ends. */
export const eventStream = <A>(event: vscode.Event<A>): Stream.Stream<A> =>
  Stream.callback<A>((queue) => disposable(() => event((a) => Queue.offerUnsafe(queue, a))))

/** A human line for a command's failure: a tagged error's `_tag: message`, else the cause. */
export const failureText = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.findErrorOption(cause)
  if (error._tag === "Some" && typeof error.value === "object" && error.value !== null && "message" in error.value) {
    const tag = "_tag" in error.value ? `${String(error.value._tag)}: ` : ""
    return `${tag}${String(error.value.message)}`
  }
  return Cause.pretty(cause)
}

/**
 * Registers a command for the life of the current Scope. Each invocation runs the handler on the
 * services captured here; a failure or defect is logged and shown as an error message (VS Code
 * gets a settled promise either way). Interruption (the scope closing) is silent.
 */
export const registerCommand = <E, R>(
  id: string,
  handler: (...args: ReadonlyArray<unknown>) => Effect.Effect<unknown, E, R>
): Effect.Effect<void, never, VsCode | Scope.Scope | R> =>
  Effect.gen(function*() {
    const api = yield* VsCode
    const context = yield* Effect.context<R | VsCode>()
    const run = Effect.runPromiseWith(context)
    yield* disposable(() =>
      api.commands.registerCommand(id, (...args: Array<unknown>) =>
        run(
          handler(...args).pipe(
            Effect.onExit((exit) =>
              Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)
                ? Effect.andThen(
                  Effect.logError(`command ${id} failed`, exit.cause),
                  Effect.sync(() => void api.window.showErrorMessage(`agentrun: ${failureText(exit.cause)}`))
                )
                : Effect.void
            ),
            Effect.exit,
            Effect.asVoid
          )
        ))
    )
  })

/**
 * Runs an effect until it ends or the token asks for cancellation, which interrupts it (the
 * result is then None).
 */
export const interruptibleBy = <A, E, R>(token: vscode.CancellationToken, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(effect)
    const listener = token.onCancellationRequested(() => Effect.runFork(Fiber.interrupt(fiber)))
    if (token.isCancellationRequested) yield* Fiber.interrupt(fiber)
    return yield* Fiber.join(fiber).pipe(
      Effect.asSome,
      Effect.catchCause((cause) => Cause.hasInterruptsOnly(cause) ? Effect.succeedNone : Effect.failCause(cause)),
      Effect.ensuring(Effect.sync(() => listener.dispose()))
    )
  })
