import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodeOs from "node:os"
import { fromNodeExit } from "../../src/domain/ExitStatus.ts"
import type { RunId, RunRecord } from "../../src/domain/Run.ts"
import { verdict } from "../../src/domain/Verdict.ts"
import { emptyObservation } from "../../src/domain/Observation.ts"
import { StopSequence } from "../../src/process/StopSequence.ts"
import { RunCatalog } from "../../src/runs/RunCatalog.ts"
import { RunStore, type StoredRun } from "../../src/store/RunStore.ts"
import { MemoryRunStore, ProcessTableTest } from "../../src/testing.ts"
import { localRegistry } from "../support/LocalRegistry.ts"

/** A pid the in-memory process table does not hold: a supervisor that is gone. */
const deadPid = 4_000_001

const running = (runId: string, hostname = NodeOs.hostname()): RunRecord => ({
  schemaVersion: 2,
  runId: runId as RunId,
  status: "running",
  createdAt: "2026-11-22T00:00:00.000Z",
  endedAt: null,
  placement: { _tag: "Local", hostname, supervisorPid: deadPid, supervisorStartTicks: null, agentPid: null, agentStartTicks: null },
  agent: { command: ["claude", "-p"], cwd: "/tmp", timeoutMs: null },
  promptPreview: "hello",
  outcome: null,
  summary: null
})

/** The in-memory store, the process table (where {@link deadPid} is absent) and the stop sequence. */
const base = Layer.mergeAll(MemoryRunStore.layer, StopSequence.layer.pipe(Layer.provideMerge(ProcessTableTest.layer)))

/**
 * RunCatalog over {@link base}; its store's `listRecords` answers `stale()` when given: what a
 * slow listing read before the store changed.
 */
const catalogOver = (stale?: () => ReadonlyArray<StoredRun>) => {
  const listing = Layer.effect(
    RunStore,
    Effect.map(RunStore, (store) => stale === undefined ? store : RunStore.of({ ...store, listRecords: Effect.sync(stale) }))
  )
  return RunCatalog.layer.pipe(Layer.provide(listing), Layer.provideMerge(localRegistry), Layer.provideMerge(base))
}

describe("RunCatalog", () => {
  it.effect("list does not relabel Interrupted a run whose supervisor finished it after the listing read it", () => {
    let snapshot: ReadonlyArray<StoredRun> = []
    return Effect.gen(function*() {
      const store = yield* RunStore
      const record = running("20261122-000000-000-aaaaaa")
      yield* store.writeRecord(record)
      snapshot = yield* store.listRecords
      // The supervisor writes its final record and exits while the listing goes on.
      const outcome = verdict({ observation: emptyObservation, stderrTail: [], exit: fromNodeExit(2, null), spawnFailure: null, action: { _tag: "None" }, oomKills: null, maxTurns: null })
      yield* store.writeRecord({ ...record, status: "failed", endedAt: "2026-11-22T00:00:01.000Z", outcome })
      const catalog = yield* RunCatalog
      const listed = (yield* catalog.recoverAll(yield* catalog.list())) as ReadonlyArray<RunRecord>
      assert.strictEqual(listed[0]?.status, "failed")
      assert.strictEqual(listed[0]?.outcome?._tag, "ExitedNonZero")
      const stored = yield* store.readRecord(record.runId)
      assert.strictEqual(stored.outcome?._tag, "ExitedNonZero", "the final record stays")
    }).pipe(
      Effect.provide(catalogOver(() => snapshot))
    )
  })

  it.effect("a running record whose supervisor is gone is marked Interrupted", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      yield* store.writeRecord(running("20261122-000000-000-bbbbbb"))
      const catalog = yield* RunCatalog
      const listed = (yield* catalog.recoverAll(yield* catalog.list())) as ReadonlyArray<RunRecord>
      assert.strictEqual(listed[0]?.status, "interrupted")
      assert.strictEqual((yield* store.readRecord("20261122-000000-000-bbbbbb")).outcome?._tag, "Interrupted")
    }).pipe(
      Effect.provide(catalogOver())
    ))

  it.effect("cancel refuses a run supervised on another machine and signals nothing", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      const processes = yield* ProcessTableTest
      // The other machine's pids exist here too (pids are per host): signalling them would hit strangers.
      const remote = running("20261122-000000-000-cccccc", "build-box-2")
      yield* processes.seed({ pid: 4_100, cmdline: ["node", "agentrun"] }, { pid: 4_101, cmdline: ["claude"] })
      yield* store.writeRecord({
        ...remote,
        placement: { ...(remote.placement as Extract<RunRecord["placement"], { _tag: "Local" }>), supervisorPid: 4_100, agentPid: 4_101 }
      })
      const error = yield* Effect.flip((yield* RunCatalog).cancel("20261122-000000-000-cccccc"))
      assert.strictEqual(error._tag, "RunOnAnotherHost")
      assert.include(error.message, "build-box-2")
      assert.strictEqual((yield* store.readRecord("20261122-000000-000-cccccc")).status, "running")
      assert.deepStrictEqual(yield* processes.signalLog, [])
      assert.isTrue(yield* processes.control.isAlive(4_100))
      assert.isTrue(yield* processes.control.isAlive(4_101))
    }).pipe(
      Effect.provide(catalogOver())
    ))
})
