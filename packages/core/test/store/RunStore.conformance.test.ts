import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { afterAll } from "vitest"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { AgentrunPaths } from "../../src/paths/AgentrunPaths.ts"
import { makeFileRunStore } from "../../src/store/FileRunStore.ts"
import { RunStore } from "../../src/store/RunStore.ts"
import { MemoryRunStore } from "../../src/testing.ts"
import { runStoreConformance, sampleRecord } from "./conformance.ts"

const roots: Array<string> = []
afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })))

const fileStore = (io: "async" | "sync" = "async") => {
  const root = mkdtempSync(join(tmpdir(), "agentrun-store-conf-"))
  roots.push(root)
  const paths = AgentrunPaths.layerTest(root)
  return {
    root,
    layer: RunStore.layerWith({ rescanInterval: "50 millis", appends: io, reads: io }).pipe(Layer.provide(paths)),
    runsDir: Effect.gen(function*() {
      return (yield* AgentrunPaths).runsDir
    }).pipe(Effect.provide(paths))
  }
}

// The file store with each I/O mode (a host's async appends and reads, the CLI's synchronous ones).
for (const io of ["async", "sync"] as const) {
  runStoreConformance({
    name: io === "async" ? "file" : "file, sync appends and reads",
    make: () => {
      const { layer, runsDir } = fileStore(io)
      return {
        layer,
        putRawRecord: (runId, text) =>
          Effect.flatMap(runsDir, (dir) =>
            Effect.sync(() => {
              mkdirSync(join(dir, runId), { recursive: true })
              writeFileSync(join(dir, runId, "record.json"), text)
            }))
      }
    }
  })
}

runStoreConformance({
  name: "memory",
  make: () => ({
    layer: MemoryRunStore.layer,
    putRawRecord: (runId, text) => Effect.gen(function*() {
        yield* (yield* MemoryRunStore).putRawRecord(runId, text)
      })
  })
})

describe("file store: another process's writes", () => {
  it.live("are seen by changes (the watch of the runs folder and the rescan of run folders)", () => {
    const { layer, runsDir } = fileStore()
    return Effect.scoped(Effect.gen(function*() {
      const store = yield* RunStore
      const other = yield* makeFileRunStore(yield* runsDir, { rescanInterval: "50 millis" })
      const id = "20261202-110000-000-dddddd"
      const changes = yield* store.watchChanges()
      const seen = yield* Effect.forkChild(changes.pipe(Stream.filter((c) => c._tag === "CancelRequested" && c.runId === id), Stream.runHead))
      const oneRun = yield* store.watchChanges(id)
      const seenOne = yield* Effect.forkChild(oneRun.pipe(Stream.filter((c) => c._tag === "CancelRequested"), Stream.runHead))
      yield* other.writeRecord(sampleRecord(id))
      yield* Effect.sleep("100 millis")
      yield* other.requestCancel(sampleRecord(id).runId, { requestedAt: "x", by: "other", signal: "SIGTERM" })
      assert.strictEqual((yield* Fiber.join(seen).pipe(Effect.timeout("5 seconds")))._tag, "Some")
      assert.strictEqual((yield* Fiber.join(seenOne).pipe(Effect.timeout("5 seconds")))._tag, "Some")
      const request = yield* store.awaitCancelRequest(sampleRecord(id).runId).pipe(Effect.timeout("5 seconds"))
      assert.strictEqual(request.signal, "SIGTERM")
    })).pipe(Effect.provide(layer))
  })
})
