/**
 * The run store's model: its errors, change events, cursors, cancel requests and operations
 * (see RunStore.ts).
 *
 * The run store: agentrun's one filesystem boundary for runs. One folder per run under
 * `$XDG_STATE_HOME/agentrun/runs/<runId>/` holding `record.json` (rewritten atomically; the final
 * record durably, see AtomicWrite), `events.jsonl` (the agent's stream-json, append-only,
 * redacted), `events.times` (when each append to events.jsonl was made: {@link EventTime}),
 * `stderr.log` (append-only, redacted), `cancel-request.json` (a cancel asked by
 * another process) and artifacts such as the hang dump.
 *
 * Callers redact before calling; the store writes what it is given. `layer` is the filesystem
 * (FileRunStore.ts); the in-memory layer for tests is `MemoryRunStore` in `@agentrun/core/testing`.
 *
 * @module
 */
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { RunId, RunRecord } from "../domain/Run.ts"

/** A store operation failed at the filesystem. Retrying helps only if the cause (disk full, permissions) is fixed. */
export class RunStoreError extends Schema.TaggedError<RunStoreError>()("RunStoreError", {
  message: Schema.String,
  operation: Schema.String,
  path: Schema.String,
  /** errno code such as ENOSPC or EACCES, when the OS gave one. */
  code: Schema.NullOr(Schema.String),
  retryable: Schema.Boolean
}) {}

/** No run with that id (or id query: see RunIdQuery) is in the store. */
export class RunNotFound extends Schema.TaggedError<RunNotFound>()("RunNotFound", {
  message: Schema.String,
  runId: Schema.String,
  retryable: Schema.Boolean
}) {}

/**
 * A run's `record.json` exists but does not decode (truncated by a crash, edited by hand, written
 * by an incompatible agentrun). `reason` is the decoder's (or parser's) message.
 */
export class RunRecordDamaged extends Schema.TaggedError<RunRecordDamaged>()("RunRecordDamaged", {
  message: Schema.String,
  runId: Schema.String,
  path: Schema.String,
  reason: Schema.String,
  retryable: Schema.Boolean
}) {}

/** What a listing holds per run folder: its record, or why it cannot be read. */
export type StoredRun = RunRecord | RunRecordDamaged

/** Whether a listed run is a damaged one. */
export const isDamaged = (run: StoredRun): run is RunRecordDamaged => run instanceof RunRecordDamaged

/** The run id of a listed run. */
export const storedRunId = (run: StoredRun): string => run.runId

/**
 * A position in a run's `events.jsonl`: the byte offset after the last whole line read (UTF-8
 * bytes, newlines included), 0 at the start. The same meaning in every store layer.
 */
export const EventCursor = Schema.Number.pipe(Schema.brand("EventCursor"))
export type EventCursor = typeof EventCursor.Type

/** The cursor at the start of a transcript. */
export const eventsStart: EventCursor = EventCursor.make(0)

/**
 * When part of a run's transcript was stored: the lines of `events.jsonl` that end at or before
 * `end` (and after the previous entry's `end`) were appended at `at` (milliseconds since the
 * epoch, the store's Clock). One entry per append, written just before the lines (so a reader
 * that reads the lines first, then the times, finds the time of every line it read). A
 * transcript stored by an agentrun that kept no times has none.
 */
export interface EventTime {
  readonly end: EventCursor
  readonly at: number
}

/**
 * A position in a run's `events.times` (the index of {@link EventTime}s): a byte offset, 0 at
 * the start, in every store layer. Only meaningful passed back to `readEventTimesSince`.
 */
export const EventTimesCursor = Schema.Number.pipe(Schema.brand("EventTimesCursor"))
export type EventTimesCursor = typeof EventTimesCursor.Type

/** The cursor at the start of a run's time index. */
export const eventTimesStart: EventTimesCursor = EventTimesCursor.make(0)

/** One line of `events.times`: `<end> <at>` in decimal. */
export const formatEventTime = (time: EventTime): string => `${time.end} ${time.at}`

/** The entries of complete `events.times` lines (a line that does not parse is skipped). */
export const parseEventTimes = (lines: ReadonlyArray<string>): Array<EventTime> => {
  const out: Array<EventTime> = []
  for (const line of lines) {
    const space = line.indexOf(" ")
    const end = Number(line.slice(0, space))
    const at = Number(line.slice(space + 1))
    if (space > 0 && Number.isSafeInteger(end) && Number.isFinite(at)) out.push({ end: EventCursor.make(end), at })
  }
  return out
}

/**
 * A cancel asked of a run's supervisor through the store (`cancel-request.json`). `requestedAt`
 * ISO 8601; `by` who asked (e.g. `agentrun cancel (pid 123 on build-1)`); `signal` the signal
 * to record as the cause (`SIGTERM`, ...), null for a plain cancel request (recorded as
 * `Cancelled` by `cancel-command`).
 */
export const CancelRequest = Schema.Struct({
  requestedAt: Schema.String,
  by: Schema.String,
  signal: Schema.NullOr(Schema.String)
})
export type CancelRequest = typeof CancelRequest.Type

/**
 * A change in the store, by run: its record written, events appended, the run removed, a cancel
 * requested. Changes are hints (a follower re-reads what it cares about): one change may stand
 * for several writes, and the same write may be seen twice (this process's own, and the
 * directory watch).
 */
export type RunStoreChange =
  | { readonly _tag: "RecordWritten"; readonly runId: string }
  | { readonly _tag: "EventsAppended"; readonly runId: string }
  | { readonly _tag: "Removed"; readonly runId: string }
  | { readonly _tag: "CancelRequested"; readonly runId: string }

/** An append-only log of a run, open for the run's lifetime. */
export interface AppendLog {
  /** Appends lines (each gets a trailing newline). */
  readonly append: (lines: ReadonlyArray<string>) => Effect.Effect<void, RunStoreError>
  /** Appends bytes that are already complete lines, newlines included (UTF-8). */
  readonly appendBytes: (bytes: Uint8Array) => Effect.Effect<void, RunStoreError>
}

/** How much of events.jsonl one {@link RunStoreShape.readEventsSince} call reads, in bytes. */
export const eventsReadWindowBytes = 8 * 1024 * 1024

/** What {@link RunStoreShape.readStderrTail} asks for: counts in lines, lengths in UTF-8 bytes. */
export interface StderrTailRequest {
  /** How many of the last lines to return (0: only count them). */
  readonly maxLines: number
  /**
   * The most bytes of one returned line: a longer line is cut to its first `maxLineBytes` bytes,
   * backed off to a whole UTF-8 character. Default: whole lines.
   */
  readonly maxLineBytes?: number
}

/** What {@link RunStoreShape.readStderrTail} returns. */
export interface StderrTail {
  /** How many lines `stderr.log` holds, as {@link RunStoreShape.readStderr} would return (a last line without its newline counts). */
  readonly lines: number
  /** The last `maxLines` of them (fewer when it holds fewer), in order, each cut to `maxLineBytes`. */
  readonly tail: ReadonlyArray<string>
}

/** The store's operations. All effects have no requirements; `open*` and `watchChanges` need a Scope. */
export interface RunStoreShape {
  /** Writes the record atomically (durably once final), creating the run folder if needed. */
  readonly writeRecord: (record: RunRecord) => Effect.Effect<void, RunStoreError>
  /** Reads one record by its exact id (resolve queries with RunCatalog.resolve). */
  readonly readRecord: (runId: string) => Effect.Effect<RunRecord, RunNotFound | RunRecordDamaged | RunStoreError>
  /** The ids of every run folder holding a record, newest first. */
  readonly listRunIds: Effect.Effect<ReadonlyArray<RunId>, RunStoreError>
  /** Every run, newest first: its record, or a {@link RunRecordDamaged} for one that does not decode. */
  readonly listRecords: Effect.Effect<ReadonlyArray<StoredRun>, RunStoreError>
  readonly openEvents: (runId: RunId) => Effect.Effect<AppendLog, RunStoreError, Scope.Scope>
  readonly openStderr: (runId: RunId) => Effect.Effect<AppendLog, RunStoreError, Scope.Scope>
  /** The stored stream-json lines of a run, in order (none for a run with no transcript). */
  readonly readEvents: (runId: RunId) => Effect.Effect<ReadonlyArray<string>, RunStoreError>
  /**
   * The complete stream-json lines appended after `cursor`, and the cursor to pass next time. A
   * partly written last line is left for the next call. At most about
   * {@link eventsReadWindowBytes} per call (more only for a single longer line), so a long
   * transcript is read in bounded memory: call again until the cursor stops moving.
   */
  readonly readEventsSince: (
    runId: RunId,
    cursor: EventCursor
  ) => Effect.Effect<{ readonly lines: ReadonlyArray<string>; readonly cursor: EventCursor }, RunStoreError>
  /**
   * The {@link EventTime}s recorded after `cursor` in the run's time index, and the cursor to pass
   * next time (none for a run whose store kept no times). Read them after the lines they time.
   */
  readonly readEventTimesSince: (
    runId: RunId,
    cursor: EventTimesCursor
  ) => Effect.Effect<{ readonly times: ReadonlyArray<EventTime>; readonly cursor: EventTimesCursor }, RunStoreError>
  /** The run's stored stderr lines (redacted), in order. Reads the whole log: see {@link readStderrTail} for bounded memory. */
  readonly readStderr: (runId: RunId) => Effect.Effect<ReadonlyArray<string>, RunStoreError>
  /**
   * How many lines the run's `stderr.log` holds, and its last `request.maxLines` lines (none for
   * a run with no stderr). The log is read in windows of about {@link eventsReadWindowBytes} and
   * only the tail's lines are kept, so a long log is counted in bounded memory (with
   * `maxLineBytes`, whatever its lines' lengths).
   */
  readonly readStderrTail: (runId: RunId, request: StderrTailRequest) => Effect.Effect<StderrTail, RunStoreError>
  /** Writes an evidence file (a hang dump) into the run's folder, atomically; returns where it went. */
  readonly writeArtifact: (runId: RunId, name: string, content: string) => Effect.Effect<string, RunStoreError>
  /** An artifact's content, if the run has it. */
  readonly readArtifact: (runId: RunId, name: string) => Effect.Effect<Option.Option<string>, RunStoreError>
  /** Asks the run's supervisor to cancel it: writes `cancel-request.json` (a later request replaces it). */
  readonly requestCancel: (runId: RunId, request: CancelRequest) => Effect.Effect<void, RunStoreError>
  /** The pending cancel request of a run, if any (an unreadable one counts as a plain request). */
  readonly readCancelRequest: (runId: RunId) => Effect.Effect<Option.Option<CancelRequest>, RunStoreError>
  /** Completes when a cancel request for the run is in the store (at once if one already is). */
  readonly awaitCancelRequest: (runId: RunId) => Effect.Effect<CancelRequest, RunStoreError>
  /**
   * Subscribes to {@link RunStoreChange}s (of one run when `runId` is given): every change after
   * this effect completes is in the returned stream (subscribe, then read, so nothing falls
   * between). This process's own writes, and other processes' (a watch of the runs folder,
   * backed by a periodic rescan). The stream ends with the Scope.
   */
  readonly watchChanges: (runId?: string) => Effect.Effect<Stream.Stream<RunStoreChange>, never, Scope.Scope>
  /** {@link watchChanges} as one stream (subscribed when it starts running). */
  readonly changes: Stream.Stream<RunStoreChange>
  /** The run's folder, for messages (evidence files go through {@link writeArtifact}). */
  readonly runDir: (runId: RunId) => string
  /** Removes a run's folder. */
  readonly remove: (runId: string) => Effect.Effect<void, RunStoreError>
}

/** The name of a run's time index (see {@link EventTime}). */
export const eventTimesFile = "events.times"

/** The name of a run's cancel request file. */
export const cancelRequestFile = "cancel-request.json"

/**
 * Where one run's evidence files go (the hang dump): `where` names the place in messages;
 * `write(name, content)` writes one file atomically and returns its path, failing with the
 * reason (an errno code, a message).
 */
export interface ArtifactSink {
  readonly where: string
  readonly write: (name: string, content: string) => Effect.Effect<string, { readonly message: string }>
}

/** A run's artifacts in the store (`writeArtifact`): what the memory store holds too. */
export const storeArtifacts = (store: RunStoreShape, runId: RunId): ArtifactSink => ({
  where: store.runDir(runId),
  write: (name, content) => store.writeArtifact(runId, name, content)
})
