/**
 * The run store: one folder per run under `$XDG_STATE_HOME/agentrun/runs/<runId>/` holding
 * `record.json` (rewritten atomically: write a temp file, rename; the final record is fsynced
 * before the rename), `events.jsonl` (the agent's stream-json, append-only, redacted) and
 * `stderr.log` (append-only, redacted).
 *
 * Callers redact before calling; the store writes what it is given.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { RunRecord, type RunId } from "../domain/Run.ts"
import { AgentrunPaths } from "../paths/AgentrunPaths.ts"

/** A store operation failed at the filesystem. Retrying helps only if the cause (disk full, permissions) is fixed. */
export class RunStoreError extends Schema.TaggedError<RunStoreError>()("RunStoreError", {
  message: Schema.String,
  operation: Schema.String,
  path: Schema.String,
  /** errno code such as ENOSPC or EACCES, when the OS gave one. */
  code: Schema.NullOr(Schema.String),
  retryable: Schema.Boolean
}) {}

/** No run with that id (or unique id prefix) is in the store. */
export class RunNotFound extends Schema.TaggedError<RunNotFound>()("RunNotFound", {
  message: Schema.String,
  runId: Schema.String,
  retryable: Schema.Boolean
}) {}

/** An append-only log of a run, open for the run's lifetime. */
export interface AppendLog {
  /** Appends lines (each gets a trailing newline). */
  readonly append: (lines: ReadonlyArray<string>) => Effect.Effect<void, RunStoreError>
  /** Appends bytes that are already complete lines, newlines included (UTF-8). */
  readonly appendBytes: (bytes: Uint8Array) => Effect.Effect<void, RunStoreError>
}

/** The store's operations. All effects have no requirements; `open*` need a Scope that closes the file. */
export interface RunStoreShape {
  /** Writes the record atomically, creating the run folder if needed. */
  readonly writeRecord: (record: RunRecord) => Effect.Effect<void, RunStoreError>
  /** Reads one record; an id prefix that matches exactly one run is accepted. */
  readonly readRecord: (runId: string) => Effect.Effect<RunRecord, RunNotFound | RunStoreError>
  /** Every record, newest first; unreadable folders are skipped. */
  readonly listRecords: Effect.Effect<ReadonlyArray<RunRecord>, RunStoreError>
  readonly openEvents: (runId: RunId) => Effect.Effect<AppendLog, RunStoreError, Scope.Scope>
  readonly openStderr: (runId: RunId) => Effect.Effect<AppendLog, RunStoreError, Scope.Scope>
  /** The stored stream-json lines of a run, in order. */
  readonly readEvents: (runId: RunId) => Effect.Effect<ReadonlyArray<string>, RunStoreError>
  /**
   * The complete stream-json lines appended since `cursor` (0 at first), and the cursor to pass
   * next time: for following a run another process is writing. A partly written last line is
   * left for the next call. At most about {@link eventsReadWindowBytes} per call (more only for a
   * single longer line), so a long transcript is read in bounded memory: call again until the
   * cursor stops moving.
   */
  readonly readEventsSince: (runId: RunId, cursor: number) => Effect.Effect<{ readonly lines: ReadonlyArray<string>; readonly cursor: number }, RunStoreError>
  /** The run's folder (for evidence files such as hang dumps). */
  readonly runDir: (runId: RunId) => string
  /** Removes a run's folder. */
  readonly remove: (runId: RunId) => Effect.Effect<void, RunStoreError>
}

const decodeRecord = Schema.decodeUnknownOption(Schema.fromJsonString(RunRecord))
const encodeRecord = Schema.encodeSync(Schema.fromJsonString(RunRecord))

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

/** How much of events.jsonl one {@link RunStoreShape.readEventsSince} call reads, in bytes. */
export const eventsReadWindowBytes = 8 * 1024 * 1024

const makeFsStore = (runsDir: string): RunStoreShape => {
  const runDir = (runId: string) => NodePath.join(runsDir, runId)

  const writeRecord = (record: RunRecord) => {
    const dir = runDir(record.runId)
    const file = NodePath.join(dir, "record.json")
    return Effect.try({
      try: () => {
        NodeFs.mkdirSync(dir, { recursive: true })
        const tmp = `${file}.${process.pid}.tmp`
        const fd = NodeFs.openSync(tmp, "w", 0o600)
        try {
          NodeFs.writeSync(fd, encodeRecord(record) + "\n")
          // A running record only matters while this machine is up (crash recovery reads it after
          // a supervisor dies, not after a power loss, which ends the agent too): only the final
          // record is forced to disk.
          if (record.status !== "running") NodeFs.fsyncSync(fd)
        } finally {
          NodeFs.closeSync(fd)
        }
        NodeFs.renameSync(tmp, file)
      },
      catch: fsError("write", file)
    })
  }

  const readRecordFile = (dir: string): Option.Option<RunRecord> => {
    let text: string
    try {
      text = NodeFs.readFileSync(NodePath.join(dir, "record.json"), "utf8")
    } catch {
      return Option.none()
    }
    return decodeRecord(text)
  }

  const listIds = Effect.try({
    try: () => NodeFs.existsSync(runsDir) ? NodeFs.readdirSync(runsDir).sort().reverse() : [],
    catch: fsError("list", runsDir)
  })

  const readRecord = (runId: string) =>
    Effect.gen(function*() {
      // An exact id (what every poll passes) needs no listing of the runs folder.
      const exact = runId === "" || runId.includes("/") ? Option.none() : readRecordFile(runDir(runId))
      if (Option.isSome(exact)) return exact.value
      const ids = yield* listIds
      const matches = ids.includes(runId) ? [runId] : ids.filter((id) => id.startsWith(runId))
      const only = matches.length === 1 ? matches[0] : undefined
      const record = only === undefined || runId === "" ? Option.none() : readRecordFile(runDir(only))
      if (Option.isNone(record)) {
        return yield* new RunNotFound({
          message: matches.length > 1
            ? `Run id prefix "${runId}" matches ${matches.length} runs; give more of it.`
            : `No run "${runId}" in ${runsDir}.`,
          runId,
          retryable: false
        })
      }
      return record.value
    })

  const listRecords = Effect.map(listIds, (ids) =>
    ids.flatMap((id) => {
      const record = readRecordFile(runDir(id))
      return Option.isSome(record) ? [record.value] : []
    }))

  const openLog = (runId: RunId, name: string) => {
    const file = NodePath.join(runDir(runId), name)
    return Effect.acquireRelease(
      Effect.try({
        try: () => {
          NodeFs.mkdirSync(runDir(runId), { recursive: true })
          return NodeFs.openSync(file, "a", 0o600)
        },
        catch: fsError("open", file)
      }),
      (fd) => Effect.sync(() => NodeFs.closeSync(fd))
    ).pipe(Effect.map((fd): AppendLog => {
      const writeAll = (data: Uint8Array) => {
        // writeSync may write less than asked (a full disk, a signal): finish the rest or fail.
        for (let off = 0; off < data.length;) off += NodeFs.writeSync(fd, data, off, data.length - off)
      }
      return {
        append: (lines) =>
          lines.length === 0 ? Effect.void : Effect.try({
            try: () => writeAll(Buffer.from(lines.join("\n") + "\n", "utf8")),
            catch: fsError("append", file)
          }),
        appendBytes: (bytes) =>
          bytes.length === 0 ? Effect.void : Effect.try({ try: () => writeAll(bytes), catch: fsError("append", file) })
      }
    }))
  }

  return {
    writeRecord,
    readRecord,
    listRecords,
    openEvents: (runId) => openLog(runId, "events.jsonl"),
    openStderr: (runId) => openLog(runId, "stderr.log"),
    readEvents: (runId) => {
      const file = NodePath.join(runDir(runId), "events.jsonl")
      return Effect.try({
        try: () => {
          if (!NodeFs.existsSync(file)) return []
          const text = NodeFs.readFileSync(file, "utf8")
          return text === "" ? [] : text.replace(/\n$/, "").split("\n")
        },
        catch: fsError("read", file)
      })
    },
    readEventsSince: (runId, cursor) => {
      const file = NodePath.join(runDir(runId), "events.jsonl")
      return Effect.try({
        try: () => {
          if (!NodeFs.existsSync(file)) return { lines: [], cursor }
          const fd = NodeFs.openSync(file, "r")
          try {
            const size = NodeFs.fstatSync(fd).size
            // A window that holds no newline (one longer line) grows until it does.
            for (let want = Math.min(size - cursor, eventsReadWindowBytes); want > 0; want = Math.min(size - cursor, want * 2)) {
              const buffer = Buffer.allocUnsafe(want)
              const got = NodeFs.readSync(fd, buffer, 0, want, cursor)
              const end = buffer.lastIndexOf(10, got - 1)
              if (end !== -1) return { lines: buffer.toString("utf8", 0, end).split("\n"), cursor: cursor + end + 1 }
              if (got < want || cursor + want >= size) break
            }
            return { lines: [], cursor }
          } finally {
            NodeFs.closeSync(fd)
          }
        },
        catch: fsError("read", file)
      })
    },
    runDir,
    remove: (runId) =>
      Effect.try({
        try: () => NodeFs.rmSync(runDir(runId), { recursive: true, force: true }),
        catch: fsError("remove", runDir(runId))
      })
  }
}

const memoryLog = (into: Array<string>): AppendLog => ({
  append: (lines) => Effect.sync(() => void into.push(...lines)),
  appendBytes: (bytes) =>
    Effect.sync(() => void into.push(...Buffer.from(bytes).toString("utf8").replace(/\n$/, "").split("\n")))
})

/** In-memory store for tests: the same contract, no filesystem. */
const makeMemoryStore = (state: Ref.Ref<Map<string, { record: RunRecord; events: Array<string>; stderr: Array<string> }>>): RunStoreShape => {
  const entry = (runId: string) =>
    Ref.modify(state, (m) => {
      const existing = m.get(runId)
      if (existing !== undefined) return [existing, m]
      const fresh = { record: undefined as unknown as RunRecord, events: [] as Array<string>, stderr: [] as Array<string> }
      const next = new Map(m)
      next.set(runId, fresh)
      return [fresh, next]
    })
  return {
    writeRecord: (record) =>
      Effect.flatMap(entry(record.runId), (e) =>
        Effect.sync(() => {
          e.record = record
        })),
    readRecord: (runId) =>
      Effect.gen(function*() {
        const m = yield* Ref.get(state)
        const ids = [...m.keys()].filter((id) => m.get(id)!.record !== undefined)
        const matches = ids.includes(runId) ? [runId] : ids.filter((id) => id.startsWith(runId))
        if (matches.length !== 1 || runId === "") {
          return yield* new RunNotFound({ message: `No run "${runId}" in the test store.`, runId, retryable: false })
        }
        return m.get(matches[0]!)!.record
      }),
    listRecords: Effect.map(Ref.get(state), (m) =>
      [...m.entries()].filter(([, e]) => e.record !== undefined).sort(([a], [b]) => (a < b ? 1 : -1)).map(([, e]) => e.record)),
    openEvents: (runId) => Effect.map(entry(runId), (e) => memoryLog(e.events)),
    openStderr: (runId) => Effect.map(entry(runId), (e) => memoryLog(e.stderr)),
    readEvents: (runId) => Effect.map(entry(runId), (e) => [...e.events]),
    readEventsSince: (runId, cursor) => Effect.map(entry(runId), (e) => ({ lines: e.events.slice(cursor), cursor: e.events.length })),
    runDir: (runId) => `/memory/runs/${runId}`,
    remove: (runId) =>
      Ref.update(state, (m) => {
        const next = new Map(m)
        next.delete(runId)
        return next
      })
  }
}

/** The run store service. `layer`: the filesystem under {@link AgentrunPaths}; `layerTest`: in memory. */
export class RunStore extends Context.Service<RunStore, RunStoreShape>()("agentrun/RunStore") {
  static readonly layer = Layer.effect(
    RunStore,
    Effect.gen(function*() {
      const paths = yield* AgentrunPaths
      return RunStore.of(makeFsStore(paths.runsDir))
    })
  )

  static readonly layerTest = Layer.effect(
    RunStore,
    Effect.map(Ref.make(new Map()), (state) => RunStore.of(makeMemoryStore(state)))
  )
}
