/**
 * The run store on the filesystem (see RunStoreModel.ts for the folder layout). Every operation
 * is asynchronous (node:fs/promises), so a long-lived host (an editor's extension host) never
 * blocks its event loop on the store.
 *
 * `changes`: this process's writes (a PubSub), the runs folder watched with fs.watch (a run
 * folder created or removed; inside one run's folder when following that run), and a rescan of
 * the stat of each run's files on a Schedule, which catches what a watch misses (another
 * process's writes inside a run folder not watched, a watch that could not start, NFS).
 *
 * @module
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as NodeFs from "node:fs"
import * as NodeFsP from "node:fs/promises"
import * as NodePath from "node:path"
import { type RunId, RunRecord, StoredRunRecord } from "../domain/Run.ts"
import { writeFileAtomic } from "./AtomicWrite.ts"
import { awaitCancelRequestVia } from "./AwaitCancelRequest.ts"
import {
  type AppendLog,
  CancelRequest,
  cancelRequestFile,
  EventCursor,
  eventsReadWindowBytes,
  eventTimesFile,
  EventTimesCursor,
  formatEventTime,
  parseEventTimes,
  RunNotFound,
  RunRecordDamaged,
  type RunStoreChange,
  RunStoreError,
  type RunStoreShape,
  type StderrTail,
  type StderrTailRequest,
  type StoredRun
} from "./RunStoreModel.ts"
import { utf8Head } from "./Utf8Head.ts"
import { lazily } from "../domain/LazyCodec.ts"

/** Options of the file store. */
export interface FileRunStoreOptions {
  /** How often `changes` rescans the run folders for writes a watch did not report. Default 1 s. */
  readonly rescanInterval?: Duration.Input
  /**
   * How `events.jsonl`, its time index and `stderr.log` are appended: `"async"` (default) with
   * FileHandle.write, which waits on libuv's thread pool and leaves the event loop free: what a
   * long-lived host sharing its event loop needs (an extension host); `"sync"` with writeSync on
   * the same descriptor, for a process whose event loop serves only its run (the CLI): a write
   * into the page cache blocks for microseconds, and a burst of agent output is ingested about a
   * fifth faster (pnpm bench, ingest of 100 MB: ratio 0.89-1.04 against 0.71-0.75, same hour).
   * Failures are the same `RunStoreError`s either way.
   */
  readonly appends?: "async" | "sync"
  /**
   * How records, cancel requests, artifacts and the runs folder are read: `"async"` (default,
   * node:fs/promises) or `"sync"` (readFileSync, statSync, readdirSync), for a short-lived process
   * whose event loop serves only its command (the CLI): `agentrun list` then never loads
   * node:fs/promises (with the readline and watcher internals it brings) nor starts libuv's
   * thread pool. Reads of a log while it is followed (`readEventsSince`, `readEventTimesSince`)
   * stay asynchronous either way; the rescan behind `changes` uses the reads chosen here.
   */
  readonly reads?: "async" | "sync"
}

const decodeStored = Schema.decodeUnknownResult(Schema.fromJsonString(StoredRunRecord))
const encodeRecord = lazily(() => Schema.encodeSync(Schema.fromJsonString(RunRecord)))
const decodeCancel = Schema.decodeUnknownOption(Schema.fromJsonString(CancelRequest))
const encodeCancel = lazily(() => Schema.encodeSync(Schema.fromJsonString(CancelRequest)))

const errnoOf = (cause: unknown): string | null =>
  typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string" ? cause.code : null

const fsError = (operation: string, path: string) => (cause: unknown) => {
  const code = errnoOf(cause)
  return new RunStoreError({
    message: `Run store: ${operation} ${path} failed${code === null ? "" : ` (${code})`}.`,
    operation,
    path,
    code,
    retryable: code === "EAGAIN" || code === "EBUSY" || code === "EMFILE"
  })
}

const isMissing = (cause: unknown) => errnoOf(cause) === "ENOENT"

/**
 * The whole-file reads of the store (records, cancel requests, artifacts, folder listings),
 * asynchronous or synchronous (see {@link FileRunStoreOptions.reads}). Each returns a Promise
 * either way, so a synchronous failure is a rejection like an asynchronous one.
 */
interface StoreReads {
  /** A file's text (UTF-8), or null when it does not exist. */
  readonly readIfExists: (path: string) => Promise<string | null>
  /** A file's stat, or null when it does not exist. */
  readonly statIfExists: (path: string) => Promise<NodeFs.Stats | null>
  /** The names of a folder's subfolders, or none when the folder does not exist. */
  readonly subfolders: (dir: string) => Promise<ReadonlyArray<string>>
}

const orNullWhenMissing = async <A>(read: () => Promise<A> | A): Promise<A | null> => {
  try {
    return await read()
  } catch (cause) {
    if (isMissing(cause)) return null
    throw cause
  }
}

const foldersOf = (entries: ReadonlyArray<NodeFs.Dirent> | null) => (entries ?? []).filter((e) => e.isDirectory()).map((e) => e.name)

const asyncReads: StoreReads = {
  readIfExists: (path) => orNullWhenMissing(() => NodeFsP.readFile(path, "utf8")),
  statIfExists: (path) => orNullWhenMissing(() => NodeFsP.stat(path)),
  subfolders: async (dir) => foldersOf(await orNullWhenMissing(() => NodeFsP.readdir(dir, { withFileTypes: true })))
}

const syncReads: StoreReads = {
  readIfExists: (path) => orNullWhenMissing(() => NodeFs.readFileSync(path, "utf8")),
  statIfExists: (path) => orNullWhenMissing(() => NodeFs.statSync(path)),
  subfolders: async (dir) => foldersOf(await orNullWhenMissing(() => NodeFs.readdirSync(dir, { withFileTypes: true })))
}

/** Artifact names are plain file names in the run's folder. */
const validArtifactName = (name: string) =>
  name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0") &&
  !["record.json", "events.jsonl", eventTimesFile, "stderr.log", cancelRequestFile].includes(name)

/** The change a file name inside a run folder stands for (temp files of atomic writes: none). */
const changeOfFile = (runId: string, file: string): RunStoreChange | null => {
  if (file.endsWith(".tmp")) return null
  if (file === "record.json") return { _tag: "RecordWritten", runId }
  if (file === "events.jsonl") return { _tag: "EventsAppended", runId }
  if (file === cancelRequestFile) return { _tag: "CancelRequested", runId }
  return null
}

/** What the rescan compares, per run: the identity of each file it reports changes of. */
type RunFiles = { readonly record: string; readonly events: string; readonly cancel: string }

/** Builds the file store rooted at `runsDir` (created on first write). */
export const makeFileRunStore = (runsDir: string, options: FileRunStoreOptions = {}): Effect.Effect<RunStoreShape> =>
  Effect.gen(function*() {
    const own = yield* PubSub.unbounded<RunStoreChange>()
    const rescanEvery = Duration.fromInputUnsafe(options.rescanInterval ?? "1 second")
    const syncAppends = options.appends === "sync"
    const { readIfExists, statIfExists, subfolders } = options.reads === "sync" ? syncReads : asyncReads
    const runDir = (runId: string) => NodePath.join(runsDir, runId)
    const fileOf = (runId: string, name: string) => NodePath.join(runDir(runId), name)
    const notify = (change: RunStoreChange) => Effect.asVoid(PubSub.publish(own, change))
    const attempt = <A>(operation: string, path: string, f: () => Promise<A>) =>
      Effect.tryPromise({ try: f, catch: fsError(operation, path) })

    const writeRecord = (record: RunRecord) => {
      const file = fileOf(record.runId, "record.json")
      // A running record only matters while this machine is up (crash recovery reads it after a
      // supervisor dies, not after a power loss, which ends the agent too): only the final
      // record is forced to disk, with its directory entry.
      return attempt("write", file, () => writeFileAtomic(file, encodeRecord(record) + "\n", { durable: record.status !== "running" })).pipe(
        Effect.andThen(notify({ _tag: "RecordWritten", runId: record.runId }))
      )
    }

    /** The record in a run folder: null when the folder has none (being created, or not a run). */
    const readRecordFile = (runId: string): Effect.Effect<RunRecord | RunRecordDamaged | null, RunStoreError> => {
      const file = fileOf(runId, "record.json")
      return attempt("read", file, () => readIfExists(file)).pipe(Effect.map((text) => {
        if (text === null) return null
        const decoded = decodeStored(text)
        return Result.isSuccess(decoded) ? decoded.success : new RunRecordDamaged({
          message: `The record of run ${runId} (${file}) is damaged: it does not decode as a run record.`,
          runId,
          path: file,
          reason: decoded.failure.message,
          retryable: false
        })
      }))
    }

    const listFolders = attempt("list", runsDir, async () => [...await subfolders(runsDir)].sort().reverse())

    const listRecords: Effect.Effect<ReadonlyArray<StoredRun>, RunStoreError> = Effect.flatMap(listFolders, (ids) =>
      Effect.map(
        Effect.forEach(ids, readRecordFile, { concurrency: 16 }),
        (records) => records.filter((r): r is StoredRun => r !== null)
      ))

    const listRunIds = Effect.flatMap(listFolders, (ids) =>
      Effect.filter(ids, (id) => attempt("stat", fileOf(id, "record.json"), async () => (await statIfExists(fileOf(id, "record.json"))) !== null), {
        concurrency: 16
      })) as unknown as Effect.Effect<ReadonlyArray<RunId>, RunStoreError>

    const readRecord = (runId: string) =>
      Effect.gen(function*() {
        const found = runId === "" || runId.includes("/") || runId.startsWith(".") ? null : yield* readRecordFile(runId)
        if (found === null) return yield* new RunNotFound({ message: `No run "${runId}" in ${runsDir}.`, runId, retryable: false })
        if (found instanceof RunRecordDamaged) return yield* found
        return found
      })

    const openLog = (runId: RunId, name: string, change: RunStoreChange | null, timesName: string | null) => {
      const file = fileOf(runId, name)
      const timesFile = timesName === null ? null : fileOf(runId, timesName)
      return Effect.acquireRelease(
        attempt("open", file, async () => {
          await NodeFsP.mkdir(runDir(runId), { recursive: true })
          const handle = await NodeFsP.open(file, "a", 0o600)
          if (timesFile === null) return { handle, times: null, size: 0 }
          const times = await NodeFsP.open(timesFile, "a", 0o600).catch(() => null)
          return { handle, times, size: (await handle.stat()).size }
        }),
        ({ handle, times }) => Effect.promise(() => Promise.all([handle.close().catch(() => {}), times?.close().catch(() => {})]))
      ).pipe(Effect.map(({ handle, size, times }): AppendLog => {
        let end = size
        // A write may take less than asked (a full disk, a signal): finish the rest or fail.
        const writeAll = syncAppends
          ? async (target: NodeFsP.FileHandle, data: Uint8Array) => {
            for (let off = 0; off < data.length;) off += NodeFs.writeSync(target.fd, data, off, data.length - off)
          }
          : async (target: NodeFsP.FileHandle, data: Uint8Array) => {
            for (let off = 0; off < data.length;) off += (await target.write(data, off, data.length - off)).bytesWritten
          }
        const write = (data: Uint8Array) => {
          // The time first, then the lines (see EventTime). The times are an index: one that
          // cannot be written leaves those lines with a later entry's time, or none.
          const timed = times === null ? Effect.void : Effect.flatMap(Clock.currentTimeMillis, (at) =>
            Effect.promise(() =>
              writeAll(times, Buffer.from(formatEventTime({ end: EventCursor.make(end + data.length), at }) + "\n", "utf8")).catch(() => {})
            ))
          const written = Effect.andThen(timed, attempt("append", file, async () => {
            await writeAll(handle, data)
            end += data.length
          }))
          return change === null ? written : Effect.andThen(written, notify(change))
        }
        return {
          append: (lines) => lines.length === 0 ? Effect.void : write(Buffer.from(lines.join("\n") + "\n", "utf8")),
          appendBytes: (bytes) => bytes.length === 0 ? Effect.void : write(bytes)
        }
      }))
    }

    const readLines = (operation: string, file: string) =>
      attempt(operation, file, async () => {
        const text = await readIfExists(file)
        return text === null || text === "" ? [] : text.replace(/\n$/, "").split("\n")
      })

    /** The complete lines of a run's file after byte offset `cursor` (see readEventsSince). */
    const readLinesSince = (file: string, cursor: number) =>
      attempt("read", file, async (): Promise<{ readonly lines: ReadonlyArray<string>; readonly cursor: number }> => {
        let handle: NodeFsP.FileHandle
        try {
          handle = await NodeFsP.open(file, "r")
        } catch (cause) {
          if (isMissing(cause)) return { lines: [], cursor }
          throw cause
        }
        try {
          const size = (await handle.stat()).size
          // A window that holds no newline (one longer line) grows until it does.
          for (let want = Math.min(size - cursor, eventsReadWindowBytes); want > 0; want = Math.min(size - cursor, want * 2)) {
            const buffer = Buffer.allocUnsafe(want)
            const { bytesRead: got } = await handle.read(buffer, 0, want, cursor)
            const end = buffer.lastIndexOf(10, got - 1)
            if (end !== -1) return { lines: buffer.toString("utf8", 0, end).split("\n"), cursor: cursor + end + 1 }
            if (got < want || cursor + want >= size) break
          }
          return { lines: [], cursor }
        } finally {
          await handle.close()
        }
      })

    const readEventsSince = (runId: RunId, cursor: EventCursor) =>
      Effect.map(readLinesSince(fileOf(runId, "events.jsonl"), cursor), (read) => ({ lines: read.lines, cursor: EventCursor.make(read.cursor) }))

    /**
     * A file's line count and last lines (see readStderrTail): one pass in windows of
     * eventsReadWindowBytes that remembers only where the last `maxLines + 1` lines end (byte
     * offsets), then a read of each tail line's head.
     */
    const readTailOf = (file: string, request: StderrTailRequest) =>
      attempt("read", file, async (): Promise<StderrTail> => {
        let handle: NodeFsP.FileHandle
        try {
          handle = await NodeFsP.open(file, "r")
        } catch (cause) {
          if (isMissing(cause)) return { lines: 0, tail: [] }
          throw cause
        }
        try {
          const size = (await handle.stat()).size
          const keep = Math.max(0, Math.floor(request.maxLines))
          const maxLineBytes = request.maxLineBytes ?? Infinity
          // A ring of the offsets of the last keep + 1 newlines: the one before the tail's first
          // line is where that line starts.
          const ring: Array<number> = new Array(keep + 1)
          let newlines = 0
          let lastByte = 10
          const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(size, eventsReadWindowBytes)))
          for (let at = 0; at < size;) {
            const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - at), at)
            if (bytesRead === 0) break
            const window = buffer.subarray(0, bytesRead)
            for (let i = window.indexOf(10); i !== -1; i = window.indexOf(10, i + 1)) ring[newlines++ % ring.length] = at + i
            lastByte = window[bytesRead - 1]!
            at += bytesRead
          }
          // A last line without its newline ends at the end of the file (readStderr counts it too).
          const ends: Array<number> = []
          for (let k = Math.max(0, newlines - ring.length); k < newlines; k++) ends.push(ring[k % ring.length]!)
          if (lastByte !== 10) ends.push(size)
          const lines = newlines + (lastByte !== 10 ? 1 : 0)
          const tail: Array<string> = []
          // `ends` holds every line's end when it has no more than `keep` (then the first is the file's first line).
          for (let j = Math.max(0, ends.length - keep); j < ends.length; j++) {
            const start = j === 0 ? 0 : ends[j - 1]! + 1
            const length = ends[j]! - start
            if (length === 0) {
              tail.push("")
              continue
            }
            // One byte past the cut, so utf8Head sees whether it falls inside a character.
            const head = Buffer.allocUnsafe(Math.min(length, maxLineBytes + 1))
            const { bytesRead } = await handle.read(head, 0, head.length, start)
            tail.push(utf8Head(head, 0, bytesRead, maxLineBytes))
          }
          return { lines, tail }
        } finally {
          await handle.close()
        }
      })

    const readEventTimesSince = (runId: RunId, cursor: EventTimesCursor) =>
      Effect.map(
        readLinesSince(fileOf(runId, eventTimesFile), cursor),
        (read) => ({ times: parseEventTimes(read.lines), cursor: EventTimesCursor.make(read.cursor) })
      )

    const writeArtifact = (runId: RunId, name: string, content: string) => {
      const file = fileOf(runId, name)
      if (!validArtifactName(name)) {
        return Effect.fail(new RunStoreError({
          message: `Run store: "${name}" is not an artifact name (a plain file name, not one of the run's own files).`,
          operation: "write-artifact",
          path: file,
          code: null,
          retryable: false
        }))
      }
      return Effect.as(attempt("write", file, () => writeFileAtomic(file, content)), file)
    }

    const readCancelRequest = (runId: RunId) => {
      const file = fileOf(runId, cancelRequestFile)
      return attempt("read", file, () => readIfExists(file)).pipe(Effect.map((text) =>
        text === null
          ? Option.none<CancelRequest>()
          : Option.some(Option.getOrElse(decodeCancel(text), (): CancelRequest => ({ requestedAt: "", by: "unknown (unreadable request)", signal: null })))
      ))
    }

    const requestCancel = (runId: RunId, request: CancelRequest) => {
      const file = fileOf(runId, cancelRequestFile)
      return attempt("write", file, () => writeFileAtomic(file, encodeCancel(request) + "\n")).pipe(
        Effect.andThen(notify({ _tag: "CancelRequested", runId }))
      )
    }

    const identity = (s: NodeFs.Stats | null) => (s === null ? "-" : `${s.ino}:${s.size}:${s.mtimeMs}`)
    const filesOf = async (runId: string): Promise<RunFiles> => {
      const [record, events, cancel] = await Promise.all(
        ["record.json", "events.jsonl", cancelRequestFile].map((f) => statIfExists(fileOf(runId, f)).catch(() => null))
      )
      return { record: identity(record!), events: identity(events!), cancel: identity(cancel!) }
    }
    const snapshot = async (only: string | undefined): Promise<Map<string, RunFiles>> => {
      const ids = only !== undefined
        ? ((await statIfExists(runDir(only)).catch(() => null)) === null ? [] : [only])
        : await NodeFsP.readdir(runsDir).catch(() => [] as Array<string>)
      const files = await Promise.all(ids.map(filesOf))
      return new Map(ids.map((id, i) => [id, files[i]!]))
    }
    const diff = (before: Map<string, RunFiles>, after: Map<string, RunFiles>): Array<RunStoreChange> => {
      const out: Array<RunStoreChange> = []
      for (const [runId, now] of after) {
        const was = before.get(runId)
        if (was?.record !== now.record && now.record !== "-") out.push({ _tag: "RecordWritten", runId })
        if (was?.events !== now.events && now.events !== "-") out.push({ _tag: "EventsAppended", runId })
        if (was?.cancel !== now.cancel && now.cancel !== "-") out.push({ _tag: "CancelRequested", runId })
      }
      for (const runId of before.keys()) if (!after.has(runId)) out.push({ _tag: "Removed", runId })
      return out
    }

    const watchChanges = (only?: string) =>
      Effect.gen(function*() {
        const queue = yield* Queue.unbounded<RunStoreChange>()
        const subscription = yield* PubSub.subscribe(own)
        const offer = (change: RunStoreChange | null) => {
          if (change !== null && (only === undefined || change.runId === only)) Queue.offerUnsafe(queue, change)
        }
        // A watch that cannot start (no such folder yet, out of inotify watches) leaves the rescan.
        yield* Effect.acquireRelease(
          Effect.sync(() => {
            try {
              const watcher = only === undefined
                ? NodeFs.watch(runsDir, { persistent: false }, (_event, name) => {
                  if (name === null) return
                  const id = String(name)
                  offer(NodeFs.existsSync(runDir(id)) ? { _tag: "RecordWritten", runId: id } : { _tag: "Removed", runId: id })
                })
                : NodeFs.watch(runDir(only), { persistent: false }, (_event, name) => {
                  if (name !== null) offer(changeOfFile(only, String(name)))
                })
              watcher.on("error", () => watcher.close())
              return watcher
            } catch {
              return null
            }
          }),
          (watcher) => Effect.sync(() => watcher?.close())
        )
        let last = yield* Effect.promise(() => snapshot(only))
        yield* Effect.forkScoped(
          Effect.promise(() => snapshot(only)).pipe(
            Effect.tap((next) =>
              Effect.sync(() => {
                for (const change of diff(last, next)) offer(change)
                last = next
              })
            ),
            Effect.repeat(Schedule.spaced(rescanEvery)),
            Effect.delay(rescanEvery)
          )
        )
        const ownChanges = Stream.fromSubscription(subscription)
        return Stream.merge(
          only === undefined ? ownChanges : Stream.filter(ownChanges, (c) => c.runId === only),
          Stream.fromQueue(queue)
        )
      })

    const awaitCancelRequest = (runId: RunId) => awaitCancelRequestVia({ watchChanges, readCancelRequest }, runId)

    return {
      writeRecord,
      readRecord,
      listRunIds,
      listRecords,
      openEvents: (runId) => openLog(runId, "events.jsonl", { _tag: "EventsAppended", runId }, eventTimesFile),
      openStderr: (runId) => openLog(runId, "stderr.log", null, null),
      readEvents: (runId) => readLines("read", fileOf(runId, "events.jsonl")),
      readEventsSince,
      readEventTimesSince,
      readStderr: (runId) => readLines("read", fileOf(runId, "stderr.log")),
      readStderrTail: (runId, request) => readTailOf(fileOf(runId, "stderr.log"), request),
      writeArtifact,
      readArtifact: (runId, name) =>
        validArtifactName(name)
          ? Effect.map(attempt("read", fileOf(runId, name), () => readIfExists(fileOf(runId, name))), Option.fromNullishOr)
          : Effect.succeed(Option.none()),
      requestCancel,
      readCancelRequest,
      awaitCancelRequest,
      watchChanges,
      changes: Stream.unwrap(watchChanges()),
      runDir,
      remove: (runId) =>
        attempt("remove", runDir(runId), () => NodeFsP.rm(runDir(runId), { recursive: true, force: true })).pipe(
          Effect.andThen(notify({ _tag: "Removed", runId }))
        )
    }
  })
