import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { RunId } from "../../src/domain/Run.ts"
import { AgentrunPaths } from "../../src/paths/AgentrunPaths.ts"
import { eventsReadWindowBytes, eventsStart, RunStore } from "../../src/store/RunStore.ts"

describe("RunStore.readEventsSince", () => {
  it.effect("reads a long transcript window by window, whole lines only, a line longer than the window whole", () => {
    const root = mkdtempSync(join(tmpdir(), "agentrun-store-"))
    const runId = "20261121-000000-000-abcdef" as RunId
    const small = Array.from({ length: 3000 }, (_, i) => `{"n":${i},"pad":"${"x".repeat(5000)}"}`)
    const huge = `{"huge":"${"y".repeat(eventsReadWindowBytes + 1000)}"}`
    const lines = [...small, huge, "{\"last\":true}"]
    return Effect.gen(function*() {
      const store = yield* RunStore
      yield* Effect.scoped(Effect.flatMap(store.openEvents(runId), (log) => log.append(lines)))
      const read: Array<string> = []
      let cursor = eventsStart
      let calls = 0
      for (;;) {
        const chunk = yield* store.readEventsSince(runId, cursor)
        if (chunk.cursor === cursor) break
        calls++
        const bytes = chunk.lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0)
        assert.strictEqual(chunk.cursor - cursor, bytes, "the cursor moves by the lines returned")
        assert.isTrue(
          bytes <= eventsReadWindowBytes || Buffer.byteLength(chunk.lines[0]!) >= eventsReadWindowBytes,
          "a call returns at most the window, unless its first line alone is longer"
        )
        read.push(...chunk.lines)
        cursor = chunk.cursor
      }
      assert.isAbove(calls, 2)
      assert.deepStrictEqual(read, lines)
    }).pipe(
      Effect.provide(RunStore.layer.pipe(Layer.provide(AgentrunPaths.layerTest(root)))),
      Effect.ensuring(Effect.sync(() => rmSync(root, { recursive: true, force: true })))
    )
  })
})
