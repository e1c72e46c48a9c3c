/**
 * effect/cli's Terminal, built on first use.
 *
 * effect/cli reads the terminal only for prompts (`--wizard`). NodeTerminal.layer, which
 * NodeServices.layer includes, creates `process.stdin` and `process.stdout` as soon as the layer is
 * built: about 1 ms of every start (measured with --cpu-prof), spent on the way to spawning claude.
 * This layer builds the same NodeTerminal, in the layer's scope, the first time a prompt asks.
 *
 * @module
 */
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Terminal from "effect/Terminal"

/** A Terminal layer that builds NodeTerminal on the first call of any of its members. */
export const layer: Layer.Layer<Terminal.Terminal> = Layer.effect(
  Terminal.Terminal,
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const node = yield* Effect.cached(Scope.provide(NodeTerminal.make(), scope))
    return Terminal.make({
      columns: Effect.flatMap(node, (t) => t.columns),
      rows: Effect.flatMap(node, (t) => t.rows),
      size: Effect.flatMap(node, (t) => t.size),
      readInput: Effect.flatMap(node, (t) => t.readInput),
      readLine: Effect.flatMap(node, (t) => t.readLine),
      display: (text) => Effect.flatMap(node, (t) => t.display(text))
    })
  })
)
