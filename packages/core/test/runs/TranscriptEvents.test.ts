import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { fromNodeExit } from "../../src/domain/ExitStatus.ts"
import { emptyObservation } from "../../src/domain/Observation.ts"
import type { RunId } from "../../src/domain/Run.ts"
import { verdict } from "../../src/domain/Verdict.ts"
import { AgentrunPaths } from "../../src/paths/AgentrunPaths.ts"
import { followRun } from "../../src/runs/FollowRun.ts"
import { type TranscriptEvent, transcriptEvents } from "../../src/runs/TranscriptEvents.ts"
import { formatTranscriptEntry } from "../../src/runs/TranscriptFormat.ts"
import { RunStore } from "../../src/store/RunStore.ts"
import { MemoryRunStore } from "../../src/testing.ts"
import { sampleRecord } from "../store/conformance.ts"
import { loadTranscript } from "../support/Transcripts.ts"

const id = "20261203-120000-000-eeeeee" as RunId
const toolUse = loadTranscript("tool-use").stdoutLines
/** The run's final record (a verdict on an exit 2 with nothing observed: what it is does not matter here). */
const finalRecord = {
  ...sampleRecord(id, "failed"),
  endedAt: "2026-12-02T10:00:09.000Z",
  outcome: verdict({ observation: emptyObservation, stderrTail: [], exit: fromNodeExit(2, null), spawnFailure: null, action: { _tag: "None" }, oomKills: null, maxTurns: null })
}

const roots: Array<string> = []
afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })))
const fileStore = () => {
  const root = mkdtempSync(join(tmpdir(), "agentrun-events-"))
  roots.push(root)
  return RunStore.layerWith({ rescanInterval: "50 millis" }).pipe(Layer.provide(AgentrunPaths.layerTest(root)))
}

/**
 * The scenario on one store: two lines stored, a follower starts, a third line and an
 * unparseable one arrive live, then the final record. `pass` moves time on between appends.
 */
const storedThenLive = (pass: Effect.Effect<void>) =>
  Effect.scoped(Effect.gen(function*() {
    const store = yield* RunStore
    yield* store.writeRecord(sampleRecord(id))
    const log = yield* store.openEvents(id)
    const window = (body: Effect.Effect<void, unknown>) =>
      Effect.gen(function*() {
        const from = yield* Clock.currentTimeMillis
        yield* Effect.orDie(body)
        return { from, to: yield* Clock.currentTimeMillis }
      })
    const storedWindow = yield* window(log.append(toolUse.slice(0, 2)))
    yield* pass
    const seen = yield* Queue.unbounded<TranscriptEvent>()
    const follower = yield* Effect.forkChild(transcriptEvents(store, id).pipe(Stream.runForEach((e) => Queue.offer(seen, e))))
    const stored = [yield* Queue.take(seen), yield* Queue.take(seen)]
    const liveWindow = yield* window(log.append([toolUse[2]!, "not json at all"]))
    const live = [yield* Queue.take(seen), yield* Queue.take(seen)]
    yield* store.writeRecord(finalRecord)
    yield* Fiber.join(follower).pipe(Effect.timeout("5 seconds"))
    return { stored, live, storedWindow, liveWindow, store }
  }))

const checks = (r: Effect.Success<ReturnType<typeof storedThenLive>>) => {
  assert.deepStrictEqual(r.stored.map((e) => e.entry._tag), ["Init", "Assistant"])
  assert.deepStrictEqual(r.stored.map((e) => e.line), toolUse.slice(0, 2))
  // Cursors: the byte offset after each line.
  assert.strictEqual(r.stored[0]!.cursor, Buffer.byteLength(toolUse[0]! + "\n"))
  assert.strictEqual(r.live[1]!.cursor, Buffer.byteLength([...toolUse.slice(0, 3), "not json at all"].join("\n") + "\n"))
  // The tool call with its input, decoded once.
  const call = r.live[0]!.entry
  assert.strictEqual(call._tag, "Assistant")
  if (call._tag === "Assistant") {
    assert.deepStrictEqual(call.blocks, [{
      _tag: "ToolUse",
      id: "toolu_01mwqu621q5bnaqp01uk2v0",
      name: "Bash",
      input: { command: "echo created-by-fake > fake-tool-output.txt && echo done", description: "Create a file" }
    }])
  }
  assert.deepStrictEqual(r.live[1]!.entry, { _tag: "Unparseable", reason: "not a JSON object", line: "not json at all" })
  for (const e of r.stored) assert.isTrue(e.storedAt !== null && e.storedAt >= r.storedWindow.from && e.storedAt <= r.storedWindow.to)
  for (const e of r.live) assert.isTrue(e.storedAt !== null && e.storedAt >= r.liveWindow.from && e.storedAt <= r.liveWindow.to)
}

describe("transcriptEvents", () => {
  it.effect("memory store: stored events then live ones until the record is final, each with its cursor and stored time", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_000)
      const r = yield* storedThenLive(TestClock.adjust("5 seconds"))
      checks(r)
      // Times from the store's Clock: the follower started 5 s after the first append.
      assert.deepStrictEqual([...r.stored, ...r.live].map((e) => e.storedAt), [1_000, 1_000, 6_000, 6_000])
    }).pipe(Effect.provide(MemoryRunStore.layer)))

  it.live("file store: the same", () =>
    Effect.gen(function*() {
      checks(yield* storedThenLive(Effect.sleep("20 millis")))
    }).pipe(Effect.provide(fileStore())))

  it.effect("resumes after a cursor; storedOnly ends at what is stored while the run goes on", () =>
    Effect.scoped(Effect.gen(function*() {
      const store = yield* RunStore
      yield* store.writeRecord(sampleRecord(id))
      const log = yield* store.openEvents(id)
      yield* log.append(toolUse)
      const all = yield* Stream.runCollect(transcriptEvents(store, id, { storedOnly: true }))
      assert.deepStrictEqual(all.map((e) => e.line), toolUse)
      const rest = yield* Stream.runCollect(transcriptEvents(store, id, { storedOnly: true, from: all[2]!.cursor }))
      assert.deepStrictEqual(rest.map((e) => e.line), toolUse.slice(3))
      assert.deepStrictEqual(rest.map((e) => e.cursor), all.slice(3).map((e) => e.cursor))
      // The tool's result and claude's result line, rendered from the entries.
      assert.deepStrictEqual(formatTranscriptEntry(rest[0]!.entry), ["result    done"])
      assert.match(formatTranscriptEntry(rest.at(-1)!.entry)[0]!, /^── result success · completed · 2 turns · \$0\.0008: I created the file\.$/)
    })).pipe(Effect.provide(MemoryRunStore.layer)))

  it.effect("a run whose record is gone fails with RunNotFound; a run with no times has storedAt null", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      const missing = yield* Effect.flip(Stream.runCollect(transcriptEvents(store, id)))
      assert.strictEqual(missing._tag, "RunNotFound")
      yield* store.writeRecord(finalRecord)
      const noTimes = { ...store, readEventTimesSince: () => Effect.succeed({ times: [], cursor: 0 as never }) }
      yield* Effect.scoped(Effect.flatMap(store.openEvents(id), (log) => log.append(toolUse.slice(0, 1))))
      const events = yield* Stream.runCollect(transcriptEvents(noTimes, id))
      assert.deepStrictEqual(events.map((e) => e.storedAt), [null])
    }).pipe(Effect.provide(MemoryRunStore.layer)))

  it.effect("followRun gives a stored transcript a read window at a time (local attach, logs): its first lines before the rest is read, every line once", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      yield* store.writeRecord(finalRecord)
      yield* Effect.scoped(Effect.flatMap(store.openEvents(id), (log) => log.append(toolUse)))
      const reads: Array<number> = []
      const counting = { ...store, readEventsSince: (runId: RunId, cursor: Parameters<typeof store.readEventsSince>[1]) => {
        reads.push(cursor)
        return store.readEventsSince(runId, cursor)
      } }
      const first = yield* Stream.runCollect(followRun(counting, id).pipe(Stream.take(1)))
      assert.strictEqual(first[0]?._tag, "Lines")
      assert.deepStrictEqual(reads, [0], "one window read for the first lines")
      const items = yield* Stream.runCollect(followRun(store, id))
      assert.isAbove(items.length, 4)
      assert.deepStrictEqual(items.flatMap((i) => i._tag === "Lines" ? i.lines : []), toolUse)
      assert.deepStrictEqual(items.map((i) => i._tag).slice(-2), ["Lines", "Final"])
    }).pipe(Effect.provide(MemoryRunStore.layerWith({ readWindowBytes: 300 }))))

  it.effect("followRun finalOnly (wait, cancel --wait): no transcript, only the final record once it is written", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      yield* store.writeRecord(sampleRecord(id))
      yield* Effect.scoped(Effect.flatMap(store.openEvents(id), (log) => log.append(toolUse)))
      const reads: Array<string> = []
      const counting = { ...store, readEventsSince: (runId: RunId, cursor: Parameters<typeof store.readEventsSince>[1]) => {
        reads.push(runId)
        return store.readEventsSince(runId, cursor)
      } }
      const waiting = yield* Effect.forkChild(Stream.runCollect(followRun(counting, id, { finalOnly: true })))
      yield* Effect.yieldNow
      yield* store.writeRecord(finalRecord)
      const items = yield* Fiber.join(waiting)
      assert.deepStrictEqual(items.map((i) => i._tag), ["Final"])
      assert.deepStrictEqual(reads, [])
    }).pipe(Effect.provide(MemoryRunStore.layer)))
})
