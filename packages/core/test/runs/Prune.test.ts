/**
 * `prune`'s rules (issue 15): `--keep` is a floor under `--older-than`, not a second reason to
 * remove; `--dry-run` removes nothing; running runs are never candidates.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/testing/TestClock"
import * as NodeOs from "node:os"
import { fromNodeExit } from "../../src/domain/ExitStatus.ts"
import { emptyObservation } from "../../src/domain/Observation.ts"
import { type RunId, type RunRecord, runRecordSchemaVersion } from "../../src/domain/Run.ts"
import { verdict } from "../../src/domain/Verdict.ts"
import { StopSequence } from "../../src/process/StopSequence.ts"
import { RunCatalog } from "../../src/runs/RunCatalog.ts"
import { RunStore } from "../../src/store/RunStore.ts"
import { MemoryRunStore, ProcessTableTest } from "../../src/testing.ts"
import { localRegistry } from "../support/LocalRegistry.ts"

const hour = 3_600_000
const outcome = verdict({ observation: emptyObservation, stderrTail: [], exit: fromNodeExit(2, null), spawnFailure: null, action: { _tag: "None" }, oomKills: null, maxTurns: null })

/** A failed run that ended `hoursAgo` hours before `nowMs`; ids sort by age (newest last). */
const finished = (n: number, nowMs: number, hoursAgo: number): RunRecord => ({
  runId: `20261122-0000${String(n).padStart(2, "0")}-000-aaaaaa` as RunId,
  status: "failed",
  createdAt: new Date(nowMs - hoursAgo * hour - 1000).toISOString(),
  endedAt: new Date(nowMs - hoursAgo * hour).toISOString(),
  schemaVersion: runRecordSchemaVersion,
  placement: { _tag: "Local", hostname: NodeOs.hostname(), supervisorPid: 4_000_001, supervisorStartTicks: null, agentPid: null, agentStartTicks: null },
  agent: { command: ["claude", "-p"], cwd: "/tmp", timeoutMs: null },
  promptPreview: "hello",
  outcome,
  summary: null
})

const layer = RunCatalog.layer.pipe(
  Layer.provideMerge(localRegistry),
  Layer.provideMerge(Layer.mergeAll(MemoryRunStore.layer, StopSequence.layer.pipe(Layer.provideMerge(ProcessTableTest.layer))))
)

/** Five finished runs, ended 5, 4, 3, 2 and 1 hours ago (ids 1..5, newest last). */
const fiveRuns = Effect.gen(function*() {
  yield* TestClock.setTime(100 * hour)
  const store = yield* RunStore
  const records = [5, 4, 3, 2, 1].map((h, i) => finished(i + 1, 100 * hour, h))
  for (const r of records) yield* store.writeRecord(r)
  return records.map((r) => r.runId as string)
})

describe("RunCatalog.prune", () => {
  it.effect("--older-than with --keep: the N newest stay however old; only older runs beyond them go", () =>
    Effect.gen(function*() {
      const ids = yield* fiveRuns
      const catalog = yield* RunCatalog
      // Older than 90 min: runs 1..4. Keep 3: runs 5, 4, 3 stay. So 2 and 1 go (not 5 - 3 + 4).
      const removed = yield* catalog.prune({ olderThanMs: 1.5 * hour, keep: 3 })
      assert.deepStrictEqual([...removed].sort(), [ids[0], ids[1]].sort())
      assert.deepStrictEqual((yield* catalog.list()).map((r) => r.runId as string), [ids[4], ids[3], ids[2]])
    }).pipe(Effect.provide(layer)))

  it.effect("--keep alone keeps the N newest; --older-than alone removes the older ones", () =>
    Effect.gen(function*() {
      const ids = yield* fiveRuns
      const catalog = yield* RunCatalog
      assert.deepStrictEqual([...(yield* catalog.prune({ keep: 4 }))], [ids[0]])
      assert.deepStrictEqual([...(yield* catalog.prune({ olderThanMs: 2.5 * hour }))].sort(), [ids[1], ids[2]].sort())
      assert.deepStrictEqual((yield* catalog.list()).map((r) => r.runId as string), [ids[4], ids[3]])
    }).pipe(Effect.provide(layer)))

  it.effect("--dry-run names what would go and removes nothing", () =>
    Effect.gen(function*() {
      const ids = yield* fiveRuns
      const catalog = yield* RunCatalog
      const would = yield* catalog.prune({ olderThanMs: 1.5 * hour, keep: 3, dryRun: true })
      assert.deepStrictEqual([...would].sort(), [ids[0], ids[1]].sort())
      assert.strictEqual((yield* catalog.list()).length, 5)
    }).pipe(Effect.provide(layer)))
})
