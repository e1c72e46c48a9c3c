import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Terminal from "effect/Terminal"
import * as LazyTerminal from "../src/LazyTerminal.ts"

// NodeTerminal, once built, listens for the end of process.stdin: the listener count says whether
// it has been built.
const stdinEndListeners = () => process.stdin.listenerCount("end")

describe("LazyTerminal", () => {
  it.effect("builds NodeTerminal on first use, not with the layer, and removes it with the layer's scope", () =>
    Effect.gen(function*() {
      const before = stdinEndListeners()
      yield* Effect.scoped(Effect.gen(function*() {
        const terminal = Context.get(yield* Layer.build(LazyTerminal.layer), Terminal.Terminal)
        assert.strictEqual(stdinEndListeners(), before, "built with the layer")
        // The member answers as NodeTerminal does (0 when stdout is not a terminal).
        assert.strictEqual(yield* terminal.columns, process.stdout.columns ?? 0)
        assert.strictEqual(stdinEndListeners(), before + 1, "not built on first use")
        yield* terminal.columns
        assert.strictEqual(stdinEndListeners(), before + 1, "built twice")
      }))
      assert.strictEqual(stdinEndListeners(), before, "left behind when the scope closed")
    }))
})
