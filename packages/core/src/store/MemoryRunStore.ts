/**
 * The run store in memory, for tests: the same contract as the file store (checked by one
 * conformance suite against both), records kept as their JSON text (so they decode like a
 * file's: version-1 and damaged records included), event cursors as byte offsets, and faults
 * that a test injects per operation (a full disk on the final record, an append that fails).
 *
 * Exported from `@agentrun/core/testing` only: not part of the CLI bundle.
 *
 * @module
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { type RunId, RunRecord, StoredRunRecord } from "../domain/Run.ts"
import {
  type AppendLog,
  CancelRequest,
  EventCursor,
  eventsReadWindowBytes,
  EventTimesCursor,
  formatEventTime,
  parseEventTimes,
  RunNotFound,
  RunRecordDamaged,
  RunStore,
  type RunStoreChange,
  RunStoreError,
  type RunStoreShape,
  type StoredRun
} from "./RunStore.ts"
import { utf8Head } from "./Utf8Head.ts"
import { awaitCancelRequestVia } from "./AwaitCancelRequest.ts"
import { lazily } from "../domain/LazyCodec.ts"

const decodeStored = Schema.decodeUnknownResult(Schema.fromJsonString(StoredRunRecord))
const encodeRecord = lazily(() => Schema.encodeSync(Schema.fromJsonString(RunRecord)))

/** Where a fault can be injected. */
export type MemoryStoreOperation = "writeRecord" | "appendEvents" | "appendStderr" | "writeArtifact" | "requestCancel" | "readRecord"

/**
 * Faults to inject: for each operation, a function deciding per call whether it fails (return
 * the errno code to fail with, e.g. "ENOSPC", or null to go on). Mutable: a test may set it
 * after the layer is built.
 */
export type MemoryStoreFaults = { -readonly [K in MemoryStoreOperation]?: (runId: string, detail: { readonly record?: RunRecord }) => string | null }

/** What a test can do to a memory store beyond the store's own operations. */
export interface MemoryRunStoreControl {
  readonly faults: MemoryStoreFaults
  /** Puts `text` as a run's record.json as is (a version-1 record, a damaged one). */
  readonly putRawRecord: (runId: string, text: string) => Effect.Effect<void>
  /** The artifacts a run holds, by name. */
  readonly artifacts: (runId: string) => ReadonlyMap<string, string>
}

type Entry = {
  recordText: string | null
  events: Buffer
  /** events.times, as the file store writes it. */
  times: Buffer
  stderr: Array<string>
  artifacts: Map<string, string>
  cancel: CancelRequest | null
}

const injected = (operation: string, path: string, code: string) =>
  new RunStoreError({ message: `Run store: ${operation} ${path} failed (${code}).`, operation, path, code, retryable: false })

/** Options of the memory store. */
export interface MemoryRunStoreOptions {
  /**
   * How many bytes of events.jsonl one `readEventsSince` call reads at most (more only for a
   * single longer line), as the file store's `eventsReadWindowBytes` (the default). A test makes
   * it small to have a short transcript read in many windows.
   */
  readonly readWindowBytes?: number
}

/** The complete lines of `bytes` after byte offset `cursor`, at most about `window` bytes of them (see readEventsSince). */
const linesSince = (bytes: Buffer, cursor: number, window: number): { readonly lines: ReadonlyArray<string>; readonly cursor: number } => {
  const last = bytes.lastIndexOf(10)
  if (last < cursor) return { lines: [], cursor }
  // The last newline within the window; a window holding none ends with the one longer line.
  const limit = cursor + window
  let end = limit >= bytes.length ? last : bytes.lastIndexOf(10, limit - 1)
  if (end < cursor) end = bytes.indexOf(10, limit)
  return { lines: bytes.toString("utf8", cursor, end).split("\n"), cursor: end + 1 }
}

/** Builds a memory store and its control. */
export const makeMemoryRunStoreWith = Effect.fnUntraced(function*(options: MemoryRunStoreOptions = {}) {
  const window = Math.max(1, options.readWindowBytes ?? eventsReadWindowBytes)
  const runs = new Map<string, Entry>()
  const own = yield* PubSub.unbounded<RunStoreChange>()
  const faults: MemoryStoreFaults = {}
  const runDir = (runId: string) => `/memory/runs/${runId}`
  const entry = (runId: string): Entry => {
    let e = runs.get(runId)
    if (e === undefined) {
      e = { recordText: null, events: Buffer.alloc(0), times: Buffer.alloc(0), stderr: [], artifacts: new Map(), cancel: null }
      runs.set(runId, e)
    }
    return e
  }
  const notify = (change: RunStoreChange) => Effect.asVoid(PubSub.publish(own, change))
  const fault = (operation: MemoryStoreOperation, runId: string, path: string, detail: { readonly record?: RunRecord } = {}) =>
    Effect.suspend(() => {
      const code = faults[operation]?.(runId, detail) ?? null
      return code === null ? Effect.void : Effect.fail(injected(operation, path, code))
    })

  const decodeEntry = (runId: string, text: string): RunRecord | RunRecordDamaged => {
    const decoded = decodeStored(text)
    return Result.isSuccess(decoded) ? decoded.success : new RunRecordDamaged({
      message: `The record of run ${runId} (${runDir(runId)}/record.json) is damaged: it does not decode as a run record.`,
      runId,
      path: `${runDir(runId)}/record.json`,
      reason: decoded.failure.message,
      retryable: false
    })
  }
  const ids = () => [...runs.entries()].filter(([, e]) => e.recordText !== null).map(([id]) => id).sort().reverse()

  const log = (runId: RunId, name: "events" | "stderr"): AppendLog => {
    const operation = name === "events" ? "appendEvents" : "appendStderr"
    const path = `${runDir(runId)}/${name === "events" ? "events.jsonl" : "stderr.log"}`
    const put = (bytes: Buffer) =>
      Effect.andThen(
        fault(operation, runId, path),
        Effect.flatMap(Clock.currentTimeMillis, (at) => {
          const e = entry(runId)
          if (name === "events") {
            const time = formatEventTime({ end: EventCursor.make(e.events.length + bytes.length), at })
            e.times = Buffer.concat([e.times, Buffer.from(time + "\n", "utf8")])
            e.events = Buffer.concat([e.events, bytes])
            return notify({ _tag: "EventsAppended", runId })
          }
          e.stderr.push(...bytes.toString("utf8").replace(/\n$/, "").split("\n"))
          return Effect.void
        })
      )
    return {
      append: (lines) => lines.length === 0 ? Effect.void : put(Buffer.from(lines.join("\n") + "\n", "utf8")),
      appendBytes: (bytes) => bytes.length === 0 ? Effect.void : put(Buffer.from(bytes))
    }
  }

  const watchChanges = (only?: string) =>
    Effect.map(PubSub.subscribe(own), (subscription) => {
      const changes = Stream.fromSubscription(subscription)
      return only === undefined ? changes : Stream.filter(changes, (c) => c.runId === only)
    })

  const readCancelRequest = (runId: RunId) => Effect.sync(() => Option.fromNullishOr(runs.get(runId)?.cancel ?? null))

  const store: RunStoreShape = {
    writeRecord: (record) =>
      Effect.andThen(
        fault("writeRecord", record.runId, `${runDir(record.runId)}/record.json`, { record }),
        Effect.suspend(() => {
          entry(record.runId).recordText = encodeRecord(record) + "\n"
          return notify({ _tag: "RecordWritten", runId: record.runId })
        })
      ),
    readRecord: (runId) =>
      Effect.andThen(
        fault("readRecord", runId, `${runDir(runId)}/record.json`),
        Effect.suspend((): Effect.Effect<RunRecord, RunNotFound | RunRecordDamaged> => {
          const text = runs.get(runId)?.recordText ?? null
          if (text === null) return Effect.fail(new RunNotFound({ message: `No run "${runId}" in the test store.`, runId, retryable: false }))
          const decoded = decodeEntry(runId, text)
          return decoded instanceof RunRecordDamaged ? Effect.fail(decoded) : Effect.succeed(decoded)
        })
      ),
    listRunIds: Effect.sync(() => ids() as unknown as ReadonlyArray<RunId>),
    listRecords: Effect.sync((): ReadonlyArray<StoredRun> => ids().map((id) => decodeEntry(id, runs.get(id)!.recordText!))),
    openEvents: (runId) => Effect.sync(() => log(runId, "events")),
    openStderr: (runId) => Effect.sync(() => log(runId, "stderr")),
    readEvents: (runId) =>
      Effect.sync(() => {
        const text = runs.get(runId)?.events.toString("utf8") ?? ""
        return text === "" ? [] : text.replace(/\n$/, "").split("\n")
      }),
    readEventsSince: (runId, cursor) =>
      Effect.sync(() => {
        const read = linesSince(runs.get(runId)?.events ?? Buffer.alloc(0), cursor, window)
        return { lines: read.lines, cursor: EventCursor.make(read.cursor) }
      }),
    readEventTimesSince: (runId, cursor) =>
      Effect.sync(() => {
        const bytes = runs.get(runId)?.times ?? Buffer.alloc(0)
        const end = bytes.lastIndexOf(10)
        if (end < cursor) return { times: [], cursor }
        return { times: parseEventTimes(bytes.toString("utf8", cursor, end).split("\n")), cursor: EventTimesCursor.make(end + 1) }
      }),
    readStderr: (runId) => Effect.sync(() => [...(runs.get(runId)?.stderr ?? [])]),
    readStderrTail: (runId, request) =>
      Effect.sync(() => {
        const lines = runs.get(runId)?.stderr ?? []
        const keep = Math.max(0, Math.floor(request.maxLines))
        const max = request.maxLineBytes ?? Infinity
        const tail = keep === 0 ? [] : lines.slice(-keep).map((line) => {
          const bytes = Buffer.from(line, "utf8")
          return bytes.length > max ? utf8Head(bytes, 0, bytes.length, max) : line
        })
        return { lines: lines.length, tail }
      }),
    writeArtifact: (runId, name, content) =>
      Effect.andThen(
        fault("writeArtifact", runId, `${runDir(runId)}/${name}`),
        Effect.sync(() => {
          entry(runId).artifacts.set(name, content)
          return `${runDir(runId)}/${name}`
        })
      ),
    readArtifact: (runId, name) => Effect.sync(() => Option.fromNullishOr(runs.get(runId)?.artifacts.get(name))),
    requestCancel: (runId, request) =>
      Effect.andThen(
        fault("requestCancel", runId, `${runDir(runId)}/cancel-request.json`),
        Effect.suspend(() => {
          entry(runId).cancel = request
          return notify({ _tag: "CancelRequested", runId })
        })
      ),
    readCancelRequest,
    awaitCancelRequest: (runId) => awaitCancelRequestVia({ watchChanges, readCancelRequest }, runId),
    watchChanges,
    changes: Stream.unwrap(watchChanges()),
    runDir,
    remove: (runId) =>
      Effect.suspend(() => {
        runs.delete(runId)
        return notify({ _tag: "Removed", runId })
      })
  }

  const control: MemoryRunStoreControl = {
    faults,
    putRawRecord: (runId, text) =>
      Effect.suspend(() => {
        entry(runId).recordText = text
        return notify({ _tag: "RecordWritten", runId })
      }),
    artifacts: (runId) => runs.get(runId)?.artifacts ?? new Map()
  }
  return { store, control }
})

/** A memory store with the defaults (see {@link makeMemoryRunStoreWith}). */
export const makeMemoryRunStore = makeMemoryRunStoreWith()

/**
 * The memory store's test-side handle (faults, raw records, artifacts). `MemoryRunStore.layer`
 * provides it with the {@link RunStore} it controls.
 */
export class MemoryRunStore extends Context.Service<MemoryRunStore, MemoryRunStoreControl>()("agentrun/testing/MemoryRunStore") {
  /** A fresh memory store with `options`: the RunStore, and its control. */
  static readonly layerWith = (options: MemoryRunStoreOptions): Layer.Layer<RunStore | MemoryRunStore> =>
    Layer.effectContext(
      Effect.map(makeMemoryRunStoreWith(options), ({ control, store }) =>
        Context.make(RunStore, RunStore.of(store)).pipe(Context.add(MemoryRunStore, MemoryRunStore.of(control))))
    )

  /** A fresh memory store: the RunStore, and its control. */
  static readonly layer: Layer.Layer<RunStore | MemoryRunStore> = MemoryRunStore.layerWith({})
}
