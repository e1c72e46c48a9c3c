/**
 * The run store's contract, as one suite run against every layer (the file store and the memory
 * store): records (version 2 written, version 1 read, damaged ones reported), byte-offset event
 * cursors, artifacts, cancel requests and the changes stream.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { RunId, RunRecord } from "../../src/domain/Run.ts"
import { type EventCursor, eventsReadWindowBytes, eventsStart, eventTimesStart, isDamaged, RunStore, type RunStoreShape } from "../../src/store/RunStore.ts"

/** One store layer under test, and how to put raw bytes where the store keeps a record. */
export interface StoreUnderTest<R = never> {
  readonly name: string
  /** A fresh, empty store per call. */
  readonly make: () => { readonly layer: Layer.Layer<RunStore | R>; readonly putRawRecord: (runId: string, text: string) => Effect.Effect<void, never, RunStore | R> }
}

export const sampleRecord = (runId: string, status: RunRecord["status"] = "running"): RunRecord => ({
  schemaVersion: 2,
  runId: runId as RunId,
  status,
  createdAt: "2026-12-02T10:00:00.000Z",
  endedAt: null,
  placement: { _tag: "Local", hostname: "devbox", supervisorPid: 10, supervisorStartTicks: 5, agentPid: 11, agentStartTicks: 6 },
  agent: { command: ["claude", "-p"], cwd: "/w", timeoutMs: null },
  promptPreview: "hi",
  outcome: null,
  summary: null
})

const v1 = (runId: string) =>
  JSON.stringify({
    runId,
    status: "running",
    createdAt: "2026-12-02T10:00:00.000Z",
    endedAt: null,
    supervisor: { pid: 10, startTimeTicks: 5, hostname: "devbox" },
    agent: { pid: 11, startTimeTicks: 6, command: ["claude"], cwd: "/w", timeoutMs: null },
    promptPreview: "hi",
    outcome: null,
    summary: null
  })

const a = "20261202-100000-000-aaaaaa" as RunId
const b = "20261202-100100-000-bbbbbb" as RunId
const c = "20261202-100200-000-cccccc" as RunId

/** Every readEventsSince window of a run's transcript from its start, until the cursor stops. */
export const readAllSince = (store: RunStoreShape, runId: RunId) =>
  Effect.gen(function*() {
    const chunks: Array<{ readonly lines: ReadonlyArray<string>; readonly cursor: EventCursor }> = []
    for (let at = eventsStart;;) {
      const chunk = yield* store.readEventsSince(runId, at)
      if (chunk.cursor === at) return chunks
      chunks.push(chunk)
      at = chunk.cursor
    }
  })

export const runStoreConformance = <R>(under: StoreUnderTest<R>) =>
  describe(`RunStore conformance: ${under.name}`, () => {
    const withStore = <A, E>(body: (put: (runId: string, text: string) => Effect.Effect<void, never, RunStore | R>) => Effect.Effect<A, E, RunStore | R>) => {
      const { layer, putRawRecord } = under.make()
      return Effect.provide(body(putRawRecord), layer)
    }

    it.live("records: written then read back; listed newest first; an unknown id is RunNotFound", () =>
      withStore(() =>
        Effect.gen(function*() {
          const store = yield* RunStore
          yield* store.writeRecord(sampleRecord(a))
          yield* store.writeRecord(sampleRecord(b))
          yield* store.writeRecord({ ...sampleRecord(a), status: "failed", endedAt: "2026-12-02T10:00:05.000Z" })
          assert.deepStrictEqual((yield* store.readRecord(a)).status, "failed")
          assert.deepStrictEqual(yield* store.listRunIds, [b, a])
          assert.deepStrictEqual((yield* store.listRecords).map((r) => r.runId), [b, a])
          const missing = yield* Effect.flip(store.readRecord(c))
          assert.strictEqual(missing._tag, "RunNotFound")
        })
      ))

    it.live("a version-1 record reads as version 2; a damaged one is RunRecordDamaged with its path, listed too", () =>
      withStore((put) =>
        Effect.gen(function*() {
          const store = yield* RunStore
          yield* put(a, v1(a))
          yield* put(b, "{\"runId\":\"" + b + "\",\"status\":\"runn")
          const old = yield* store.readRecord(a)
          assert.strictEqual(old.placement._tag, "Local")
          assert.strictEqual(old.placement._tag === "Local" ? old.placement.agentPid : null, 11)
          const damaged = yield* Effect.flip(store.readRecord(b))
          assert.strictEqual(damaged._tag, "RunRecordDamaged")
          if (damaged._tag !== "RunRecordDamaged") return
          assert.strictEqual(damaged.runId, b)
          assert.isTrue(damaged.path.endsWith(`${b}/record.json`))
          const listed = yield* store.listRecords
          assert.deepStrictEqual(listed.map((r) => [r.runId, isDamaged(r)]), [[b, true], [a, false]])
          yield* store.remove(b)
          assert.deepStrictEqual((yield* store.listRecords).map((r) => r.runId), [a])
        })
      ))

    it.live("event cursors are byte offsets after the last whole line; a partial last line waits", () =>
      withStore(() =>
        Effect.gen(function*() {
          const store = yield* RunStore
          yield* store.writeRecord(sampleRecord(a))
          yield* Effect.scoped(Effect.gen(function*() {
            const log = yield* store.openEvents(a)
            yield* log.append(["{\"t\":\"é\"}", "{\"n\":2}"])
            yield* log.appendBytes(Buffer.from("{\"n\":3}\n{\"part", "utf8"))
          }))
          const first = yield* store.readEventsSince(a, eventsStart)
          assert.deepStrictEqual(first.lines, ["{\"t\":\"é\"}", "{\"n\":2}", "{\"n\":3}"])
          assert.strictEqual(first.cursor, Buffer.byteLength("{\"t\":\"é\"}\n{\"n\":2}\n{\"n\":3}\n"))
          const again = yield* store.readEventsSince(a, first.cursor)
          assert.deepStrictEqual(again, { lines: [], cursor: first.cursor })
          const fromSecond = yield* store.readEventsSince(a, (Buffer.byteLength("{\"t\":\"é\"}\n")) as typeof first.cursor)
          assert.deepStrictEqual(fromSecond.lines, ["{\"n\":2}", "{\"n\":3}"])
          assert.deepStrictEqual(yield* store.readEventsSince(b, eventsStart), { lines: [], cursor: eventsStart })
        })
      ))

    it.live("a transcript of several read windows is read a window at a time: each call at most a window (a longer line starts a grown one), every line once, in order", () =>
      withStore(() =>
        Effect.gen(function*() {
          const store = yield* RunStore
          yield* store.writeRecord(sampleRecord(a))
          // About 2.5 windows of 1 KiB lines, then one line longer than a window, then a short one.
          const line = (i: number) => JSON.stringify({ n: i, pad: "x".repeat(1000) })
          const count = Math.ceil((2.5 * eventsReadWindowBytes) / line(0).length)
          const long = JSON.stringify({ long: "y".repeat(eventsReadWindowBytes + 10) })
          yield* Effect.scoped(Effect.gen(function*() {
            const log = yield* store.openEvents(a)
            for (let i = 0; i < count; i += 1000) yield* log.append(Array.from({ length: Math.min(1000, count - i) }, (_, k) => line(i + k)))
            yield* log.append([long, "{\"end\":1}"])
          }))
          const chunks = yield* readAllSince(store, a)
          const lines = chunks.flatMap((c) => c.lines)
          // (Compared without the long line's text in a failure's message.)
          assert.strictEqual(lines.length, count + 2)
          for (let i = 0; i < count; i += 997) assert.strictEqual(lines[i], line(i))
          assert.isTrue(lines[count] === long, "the long line whole, after the others")
          assert.strictEqual(lines[count + 1], "{\"end\":1}")
          assert.isAtLeast(chunks.length, 4)
          for (const [i, c] of chunks.entries()) {
            const bytes = c.lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0)
            // A window with no newline grows (the file store doubles it): the long line starts its read.
            if (c.lines.includes(long)) assert.isTrue(c.lines[0] === long && bytes <= 2 * eventsReadWindowBytes, `read ${i}: ${bytes} bytes from the long line`)
            else assert.isAtMost(bytes, eventsReadWindowBytes, `read ${i}`)
          }
        })
      ))

    it.live("event times: each append records where its lines end and when it was stored, read on from a cursor", () =>
      withStore(() =>
        Effect.gen(function*() {
          const store = yield* RunStore
          yield* store.writeRecord(sampleRecord(a))
          const before = Date.now()
          const log = yield* store.openEvents(a)
          yield* log.append(["{\"n\":1}", "{\"n\":2}"])
          const first = yield* store.readEventTimesSince(a, eventTimesStart)
          yield* log.appendBytes(Buffer.from("{\"t\":\"é\"}\n", "utf8"))
          const after = Date.now()
          const next = yield* store.readEventTimesSince(a, first.cursor)
          assert.deepStrictEqual(first.times.map((t) => t.end), [Buffer.byteLength("{\"n\":1}\n{\"n\":2}\n")])
          assert.deepStrictEqual(next.times.map((t) => t.end), [Buffer.byteLength("{\"n\":1}\n{\"n\":2}\n{\"t\":\"é\"}\n")])
          for (const t of [...first.times, ...next.times]) assert.isTrue(t.at >= before && t.at <= after, `${t.at} in [${before}, ${after}]`)
          assert.deepStrictEqual((yield* store.readEventTimesSince(a, next.cursor)).times, [])
          assert.deepStrictEqual(yield* store.readEventTimesSince(b, eventTimesStart), { times: [], cursor: eventTimesStart })
        }).pipe(Effect.scoped)
      ))

    it.live("artifacts and stderr are kept per run", () =>
      withStore(() =>
        Effect.gen(function*() {
          const store = yield* RunStore
          yield* store.writeRecord(sampleRecord(a))
          const where = yield* store.writeArtifact(a, "hang-dump.txt", "tree\n")
          assert.isTrue(where.endsWith(`${a}/hang-dump.txt`))
          assert.deepStrictEqual(yield* store.readArtifact(a, "hang-dump.txt"), Option.some("tree\n"))
          assert.deepStrictEqual(yield* store.readArtifact(a, "nope.txt"), Option.none())
          yield* Effect.scoped(Effect.flatMap(store.openStderr(a), (log) => log.append(["warn 1", "warn 2"])))
          assert.deepStrictEqual(yield* store.readStderr(a), ["warn 1", "warn 2"])
        })
      ))

    it.live("stderr's tail: the line count readStderr has and its last lines, cut to whole characters within maxLineBytes", () =>
      withStore(() =>
        Effect.gen(function*() {
          const store = yield* RunStore
          yield* store.writeRecord(sampleRecord(a))
          assert.deepStrictEqual(yield* store.readStderrTail(a, { maxLines: 40 }), { lines: 0, tail: [] })
          const warnings = Array.from({ length: 50 }, (_, i) => `warn ${i}`)
          yield* Effect.scoped(Effect.gen(function*() {
            const log = yield* store.openStderr(a)
            yield* log.append(warnings)
            yield* log.append(["", "é".repeat(10)])
            // A last line without its newline (a write cut short) counts, as readStderr has it.
            yield* log.appendBytes(Buffer.from("cut\nshort", "utf8"))
          }))
          const all = yield* store.readStderr(a)
          assert.strictEqual(all.length, 54)
          const tail = yield* store.readStderrTail(a, { maxLines: 40 })
          assert.deepStrictEqual(tail, { lines: all.length, tail: all.slice(-40) })
          assert.deepStrictEqual(yield* store.readStderrTail(a, { maxLines: 0 }), { lines: 54, tail: [] })
          assert.deepStrictEqual(yield* store.readStderrTail(a, { maxLines: 100 }), { lines: 54, tail: all })
          // 5 bytes end inside the third "é" (2 bytes each): the cut keeps two whole ones.
          assert.deepStrictEqual(yield* store.readStderrTail(a, { maxLines: 4, maxLineBytes: 5 }), { lines: 54, tail: ["", "éé", "cut", "short"] })
          assert.deepStrictEqual((yield* store.readStderrTail(a, { maxLines: 3, maxLineBytes: 4 })).tail, ["éé", "cut", "shor"])
        })
      ))

    it.live("stderr's tail of a log of several read windows: every line counted, only the tail's kept", () =>
      withStore(() =>
        Effect.gen(function*() {
          const store = yield* RunStore
          yield* store.writeRecord(sampleRecord(a))
          const line = (i: number) => `${i} ${"e".repeat(2000)}`
          const count = Math.ceil((2.5 * eventsReadWindowBytes) / line(0).length)
          yield* Effect.scoped(Effect.gen(function*() {
            const log = yield* store.openStderr(a)
            for (let i = 0; i < count; i += 1000) yield* log.append(Array.from({ length: Math.min(1000, count - i) }, (_, k) => line(i + k)))
          }))
          const tail = yield* store.readStderrTail(a, { maxLines: 3, maxLineBytes: 10 })
          assert.deepStrictEqual(tail, { lines: count, tail: [count - 3, count - 2, count - 1].map((i) => line(i).slice(0, 10)) })
          assert.strictEqual((yield* store.readStderr(a)).length, count)
        })
      ))

    it.live("a cancel request completes awaitCancelRequest, and stays readable", () =>
      withStore(() =>
        Effect.gen(function*() {
          const store = yield* RunStore
          yield* store.writeRecord(sampleRecord(a))
          assert.deepStrictEqual(yield* store.readCancelRequest(a), Option.none())
          const waiting = yield* Effect.forkChild(store.awaitCancelRequest(a))
          yield* Effect.sleep("20 millis")
          const request = { requestedAt: "2026-12-02T10:00:09.000Z", by: "test", signal: null }
          yield* store.requestCancel(a, request)
          assert.deepStrictEqual(yield* Fiber.join(waiting).pipe(Effect.timeout("5 seconds")), request)
          assert.deepStrictEqual(yield* store.readCancelRequest(a), Option.some(request))
          // Asked again after it is there: at once.
          assert.deepStrictEqual(yield* store.awaitCancelRequest(a).pipe(Effect.timeout("5 seconds")), request)
        })
      ))

    it.live("changes: this store's writes, appends, cancel requests and removals, for the run watched", () =>
      withStore(() =>
        Effect.scoped(Effect.gen(function*() {
          const store = yield* RunStore
          yield* store.writeRecord(sampleRecord(b))
          const all = yield* store.watchChanges()
          const onlyA = yield* store.watchChanges(a)
          const seen = yield* Effect.forkChild(all.pipe(Stream.takeUntil((ch) => ch._tag === "Removed" && ch.runId === a), Stream.runCollect))
          const seenA = yield* Effect.forkChild(onlyA.pipe(Stream.takeUntil((ch) => ch._tag === "Removed"), Stream.runCollect))
          yield* store.writeRecord(sampleRecord(a))
          yield* Effect.scoped(Effect.flatMap(store.openEvents(a), (log) => log.append(["{}"])))
          yield* store.requestCancel(a, { requestedAt: "x", by: "test", signal: null })
          yield* store.writeRecord({ ...sampleRecord(b), status: "failed" })
          yield* store.remove(a)
          const tags = (yield* Fiber.join(seen).pipe(Effect.timeout("5 seconds"))).map((ch) => `${ch._tag} ${ch.runId}`)
          for (const want of ["RecordWritten", "EventsAppended", "CancelRequested", "Removed"]) assert.include(tags, `${want} ${a}`)
          assert.include(tags, `RecordWritten ${b}`)
          const tagsA = (yield* Fiber.join(seenA).pipe(Effect.timeout("5 seconds"))).map((ch) => ch.runId)
          assert.isTrue(tagsA.every((id) => id === a))
        }))
      ))
  })
