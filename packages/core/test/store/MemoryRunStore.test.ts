import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { StopSequence } from "../../src/process/StopSequence.ts"
import * as NodeOs from "node:os"
import { RunCatalog } from "../../src/runs/RunCatalog.ts"
import { RunStore } from "../../src/store/RunStore.ts"
import { MemoryRunStore, ProcessTableTest } from "../../src/testing.ts"
import { sampleRecord } from "./conformance.ts"
import { localRegistry } from "../support/LocalRegistry.ts"

const layer = RunCatalog.layer.pipe(
  Layer.provideMerge(localRegistry),
  Layer.provideMerge(Layer.mergeAll(MemoryRunStore.layer, StopSequence.layer.pipe(Layer.provideMerge(ProcessTableTest.layer))))
)

describe("MemoryRunStore faults", () => {
  it.effect("an injected fault fails that operation with its errno code, and only while it is set", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      const control = yield* MemoryRunStore
      control.faults.writeRecord = (_runId, { record }) => record?.status === "running" ? null : "ENOSPC"
      yield* store.writeRecord(sampleRecord("20261202-120000-000-aaaaaa"))
      const error = yield* Effect.flip(store.writeRecord(sampleRecord("20261202-120000-000-aaaaaa", "failed")))
      assert.strictEqual(error.code, "ENOSPC")
      assert.strictEqual((yield* store.readRecord("20261202-120000-000-aaaaaa")).status, "running", "the failed write changed nothing")
      delete control.faults.writeRecord
      yield* store.writeRecord(sampleRecord("20261202-120000-000-aaaaaa", "failed"))
      assert.strictEqual((yield* store.readRecord("20261202-120000-000-aaaaaa")).status, "failed")
    }).pipe(Effect.provide(layer)))

  it.effect("cancel of a live run whose request cannot be written fails with the store's error (nothing is signalled)", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      const control = yield* MemoryRunStore
      // A live supervisor on this machine.
      yield* (yield* ProcessTableTest).seed({ pid: 5150 })
      const record = sampleRecord("20261202-120000-000-bbbbbb")
      yield* store.writeRecord({ ...record, placement: { ...record.placement, hostname: NodeOs.hostname(), supervisorPid: 5150, supervisorStartTicks: null } as typeof record.placement })
      control.faults.requestCancel = () => "EACCES"
      const error = yield* Effect.flip((yield* RunCatalog).cancel("bbbbbb"))
      assert.strictEqual(error._tag, "RunStoreError")
      assert.strictEqual(error._tag === "RunStoreError" ? error.code : null, "EACCES")
      delete control.faults.requestCancel
      const asked = yield* (yield* RunCatalog).cancel("bbbbbb")
      assert.strictEqual(asked._tag, "AskedSupervisor")
      assert.isTrue((yield* store.readCancelRequest(record.runId))._tag === "Some")
      assert.deepStrictEqual(yield* (yield* ProcessTableTest).signalLog, [], "asked through the store, not by a signal")
    }).pipe(Effect.provide(layer)))
})
