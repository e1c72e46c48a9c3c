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
import { eventsStart, eventTimesStart, isDamaged, RunStore } from "../../src/store/RunStore.ts"

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
