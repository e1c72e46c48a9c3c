/**
 * `agentrun rm`'s rule (RemoveRun): finished runs go, live ones stay (running, an interrupted
 * run whose agent still runs, a run whose liveness cannot be judged here); a dead supervisor's
 * run is recovered first.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodeOs from "node:os"
import { fromNodeExit } from "../../src/domain/ExitStatus.ts"
import { emptyObservation } from "../../src/domain/Observation.ts"
import { type RunId, type RunRecord, runRecordSchemaVersion } from "../../src/domain/Run.ts"
import { verdict } from "../../src/domain/Verdict.ts"
import { StopSequence } from "../../src/process/StopSequence.ts"
import { RunCatalog } from "../../src/runs/RunCatalog.ts"
import { keepReason, makeRemoveRun } from "../../src/runs/RemoveRun.ts"
import { RunStore } from "../../src/store/RunStore.ts"
import { MemoryRunStore, ProcessTableTest } from "../../src/testing.ts"
import { localRegistry } from "../support/LocalRegistry.ts"

const outcome = verdict({ observation: emptyObservation, stderrTail: [], exit: fromNodeExit(2, null), spawnFailure: null, action: { _tag: "None" }, oomKills: null, maxTurns: null })

const record = (n: number, status: RunRecord["status"], hostname = NodeOs.hostname()): RunRecord => ({
  runId: `20261122-0000${String(n).padStart(2, "0")}-000-aaaaa${n}` as RunId,
  status,
  createdAt: "2026-11-22T00:00:00.000Z",
  endedAt: status === "running" ? null : "2026-11-22T00:01:00.000Z",
  schemaVersion: runRecordSchemaVersion,
  // Pid 4_000_001 is in no process table: a dead supervisor.
  placement: { _tag: "Local", hostname, supervisorPid: 4_000_001, supervisorStartTicks: null, agentPid: null, agentStartTicks: null },
  agent: { command: ["claude", "-p"], cwd: "/tmp", timeoutMs: null },
  promptPreview: "hello",
  outcome: status === "running" ? null : outcome,
  summary: null
})

const layer = RunCatalog.layer.pipe(
  Layer.provideMerge(localRegistry),
  Layer.provideMerge(Layer.mergeAll(MemoryRunStore.layer, StopSequence.layer.pipe(Layer.provideMerge(ProcessTableTest.layer))))
)

const remover = Effect.gen(function*() {
  return makeRemoveRun(yield* RunCatalog, yield* RunStore)
})

describe("RemoveRun", () => {
  it("keepReason: running and an interrupted run with a live agent stay; unknown liveness stays; the rest may go", () => {
    const running = record(1, "running")
    assert.strictEqual(keepReason(running, { _tag: "Supervised" }), "running")
    assert.strictEqual(keepReason(running, { _tag: "Unknown", reason: "no Kubernetes backend" }), "no Kubernetes backend")
    const interrupted = record(2, "interrupted")
    assert.strictEqual(keepReason(interrupted, { _tag: "Orphaned", reason: "supervisor-gone", agentAlive: true }), "agent-alive")
    assert.isNull(keepReason(interrupted, { _tag: "Orphaned", reason: "supervisor-gone", agentAlive: false }))
    assert.isNull(keepReason(record(3, "failed"), { _tag: "Supervised" }))
  })

  it.effect("removes a finished run by its random tail; an unknown id is RunNotFound", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      const r = record(1, "failed")
      yield* store.writeRecord(r)
      const remove = yield* remover
      assert.strictEqual(yield* remove("aaaaa1"), r.runId)
      assert.deepStrictEqual(yield* store.listRunIds, [])
      const missing = yield* Effect.flip(remove("aaaaa1"))
      assert.strictEqual(missing._tag, "RunNotFound")
    }).pipe(Effect.provide(layer)))

  it.effect("a running run whose supervisor died is recovered (Interrupted, agent never started) and removed", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      yield* store.writeRecord(record(2, "running"))
      assert.strictEqual(yield* (yield* remover)("last"), record(2, "running").runId)
      assert.deepStrictEqual(yield* store.listRunIds, [])
    }).pipe(Effect.provide(layer)))

  it.effect("a running run supervised on another machine is refused with RunStillLive and kept", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      const r = record(3, "running", "another-host")
      yield* store.writeRecord(r)
      const refused = yield* Effect.flip((yield* remover)(r.runId))
      assert.strictEqual(refused._tag, "RunStillLive")
      if (refused._tag === "RunStillLive") assert.include(refused.message, "another-host")
      assert.deepStrictEqual(yield* store.listRunIds, [r.runId])
    }).pipe(Effect.provide(layer)))
})
