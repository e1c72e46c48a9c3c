import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodeOs from "node:os"
import type { RunRecord } from "../../src/domain/Run.ts"
import { StopSequence } from "../../src/process/StopSequence.ts"
import { RunCatalog } from "../../src/runs/RunCatalog.ts"
import { isDamaged, RunStore } from "../../src/store/RunStore.ts"
import { MemoryRunStore, ProcessTableTest } from "../../src/testing.ts"
import { sampleRecord } from "../store/conformance.ts"
import { localRegistry } from "../support/LocalRegistry.ts"

const layer = RunCatalog.layer.pipe(
  Layer.provideMerge(localRegistry),
  Layer.provideMerge(Layer.mergeAll(MemoryRunStore.layer, StopSequence.layer.pipe(Layer.provideMerge(ProcessTableTest.layer))))
)

const kubernetes = (runId: string): RunRecord => ({
  ...sampleRecord(runId),
  placement: {
    _tag: "Kubernetes",
    context: null,
    namespace: "agents",
    jobName: `agentrun-${runId.slice(-6)}`,
    jobUid: null,
    podName: null,
    podUid: null,
    nodeName: null,
    logCursor: null,
    supervisor: null,
    agentId: null,
    taskId: null
  }
})

/** A local run on this machine whose supervisor pid the in-memory table does not hold: dead. */
const orphan = (runId: string): RunRecord => {
  const r = sampleRecord(runId)
  return { ...r, placement: { ...r.placement, hostname: NodeOs.hostname(), supervisorPid: 4_000_001, agentPid: null, agentStartTicks: null } as RunRecord["placement"] }
}

describe("RunCatalog by placement", () => {
  it.effect("a Kubernetes run's liveness is unknown: never recovered as Interrupted, never pruned; its cancel is a store request", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      const catalog = yield* RunCatalog
      const k = kubernetes("20261202-130000-000-aaaaaa")
      yield* store.writeRecord(k)
      assert.strictEqual((yield* catalog.liveness(k))._tag, "Unknown")
      assert.strictEqual((yield* catalog.recover(k)).status, "running")
      assert.deepStrictEqual(yield* catalog.prune({ keep: 0, olderThanMs: 0 }), [])
      const asked = yield* catalog.cancel("aaaaaa")
      assert.deepStrictEqual(asked, { _tag: "AskedSupervisor", runId: k.runId, supervisorPid: null })
      assert.strictEqual((yield* store.readRecord(k.runId)).status, "running")
    }).pipe(Effect.provide(layer)))

  it.effect("reads do not write: list and get leave a dead supervisor's record running until recover is asked", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      const catalog = yield* RunCatalog
      const r = orphan("20261202-130000-000-bbbbbb")
      yield* store.writeRecord(r)
      const listed = yield* catalog.list()
      assert.strictEqual(listed.length, 1)
      assert.strictEqual((yield* catalog.get("last")).status, "running")
      assert.strictEqual((yield* store.readRecord(r.runId)).status, "running")
      const recovered = yield* catalog.recover(yield* catalog.get("bbbbbb"))
      assert.strictEqual(recovered.outcome?._tag, "Interrupted")
      assert.strictEqual((yield* store.readRecord(r.runId)).status, "interrupted")
    }).pipe(Effect.provide(layer)))

  it.effect("a damaged record is listed as damaged, named by get, and removed by prune", () =>
    Effect.gen(function*() {
      const catalog = yield* RunCatalog
      const control = yield* MemoryRunStore
      yield* (yield* RunStore).writeRecord({ ...sampleRecord("20261202-130000-000-cccccc", "succeeded"), endedAt: new Date().toISOString() })
      yield* control.putRawRecord("20261202-130100-000-dddddd", "{ not json")
      const listed = yield* catalog.list()
      assert.deepStrictEqual(listed.map((r) => [r.runId, isDamaged(r)]), [["20261202-130100-000-dddddd", true], ["20261202-130000-000-cccccc", false]])
      const error = yield* Effect.flip(catalog.get("dddddd"))
      assert.strictEqual(error._tag, "RunRecordDamaged")
      assert.deepStrictEqual(yield* catalog.prune({ olderThanMs: 3_600_000 }), ["20261202-130100-000-dddddd"])
      assert.deepStrictEqual((yield* catalog.list()).map((r) => r.runId), ["20261202-130000-000-cccccc"])
    }).pipe(Effect.provide(layer)))

  it.effect("an ambiguous id query fails listing its candidates", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      yield* store.writeRecord(sampleRecord("20261202-130000-000-1fbe1a", "succeeded"))
      yield* store.writeRecord(sampleRecord("20261202-130001-000-1fc002", "succeeded"))
      const error = yield* Effect.flip((yield* RunCatalog).resolve("1f"))
      assert.strictEqual(error._tag, "RunIdAmbiguous")
      if (error._tag !== "RunIdAmbiguous") return
      assert.deepStrictEqual(error.candidates, ["20261202-130001-000-1fc002", "20261202-130000-000-1fbe1a"])
      assert.include(error.message, "matches 2 runs")
    }).pipe(Effect.provide(layer)))
})
