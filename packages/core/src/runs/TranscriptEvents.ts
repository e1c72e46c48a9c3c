/**
 * A run's transcript as typed events: the stored stream-json lines from a cursor, then the lines
 * appended live until the run's record is final (FollowRun: the store's `changes`, no poll loop),
 * each decoded once by `Protocol.decodeTranscriptLine`, with its cursor (to resume after it) and
 * the time the store appended it.
 *
 * What to use: a late follower (`agentrun logs -f`, the extension's output view, any host that
 * comes back to a run) reads {@link transcriptEvents}: the whole transcript, however long.
 * `RunHandle.progress` is for the process that launched (or reattached) the run: its progress
 * events as they happen, with a replay of at most the last 64 for a subscriber that comes late.
 *
 * @module
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { decodeTranscriptLine, type TranscriptEntry } from "../domain/Protocol.ts"
import type { RunId, RunRecord } from "../domain/Run.ts"
import {
  EventCursor,
  type EventTime,
  eventTimesStart,
  type EventTimesCursor,
  eventsStart,
  type RunNotFound,
  type RunRecordDamaged,
  type RunStoreError,
  type RunStoreShape
} from "../store/RunStore.ts"
import { followRun } from "./FollowRun.ts"

/** One stored stream-json line of a run, decoded. */
export interface TranscriptEvent {
  readonly entry: TranscriptEntry
  /** The line as stored (redacted when the agent wrote it): what `logs --raw` prints. */
  readonly line: string
  /** The cursor after this line: pass it as `from` to go on after it. */
  readonly cursor: EventCursor
  /**
   * When the store appended the line, in milliseconds since the epoch (the store's Clock); null
   * when the store does not know (a transcript stored before agentrun kept times).
   */
  readonly storedAt: number | null
}

/** Options of {@link transcriptEvents}. */
export interface TranscriptEventsOptions {
  /** Where to start: a {@link TranscriptEvent.cursor} already seen (default: the start). */
  readonly from?: EventCursor
  /**
   * Crash recovery for a record still running (RunCatalog.recover), so following a run whose
   * supervisor died ends (Interrupted) instead of waiting forever. Default none.
   */
  readonly recover?: (record: RunRecord) => Effect.Effect<RunRecord, RunStoreError>
  /** How often a running record is re-checked with `recover` without a change. Default 1 s. */
  readonly recoverEvery?: Duration.Input
  /** Stop at the end of what is stored, final or not (`logs` without `-f`). Default false. */
  readonly storedOnly?: boolean
}

type TimesState = {
  readonly lineStart: EventCursor
  readonly timesCursor: EventTimesCursor
  /** The entries read that may still time a line to come (`end` at or after the next line's end). */
  readonly pending: ReadonlyArray<EventTime>
}

/**
 * The run's transcript events from `options.from`: what is stored, then (unless `storedOnly`)
 * what is appended, ending once the record is final (every line written before the final record
 * included; read the record afterwards for the verdict). Fails with RunNotFound /
 * RunRecordDamaged when the record cannot be read (removed meanwhile), RunStoreError when the
 * store cannot be read.
 */
export const transcriptEvents = (
  store: RunStoreShape,
  runId: RunId,
  options: TranscriptEventsOptions = {}
): Stream.Stream<TranscriptEvent, RunNotFound | RunRecordDamaged | RunStoreError> => {
  const from = options.from ?? eventsStart
  return followRun(store, runId, {
    from,
    storedOnly: options.storedOnly ?? false,
    ...(options.recover === undefined ? {} : { recover: options.recover }),
    ...(options.recoverEvery === undefined ? {} : { recoverEvery: options.recoverEvery })
  }).pipe(
    Stream.mapAccumEffect(
      (): TimesState => ({ lineStart: from, timesCursor: eventTimesStart, pending: [] }),
      (state, item) => {
        if (item._tag === "Final") return Effect.succeed([state, []] as const)
        // The times after the lines: each line read has its time written by now (see EventTime).
        return Effect.map(store.readEventTimesSince(runId, state.timesCursor), (read) => {
          let pending = state.pending.concat(read.times)
          let at: number = state.lineStart
          const out: Array<TranscriptEvent> = []
          for (const line of item.lines) {
            at += Buffer.byteLength(line, "utf8") + 1
            let i = 0
            while (i < pending.length && pending[i]!.end < at) i++
            if (i > 0) pending = pending.slice(i)
            out.push({ entry: decodeTranscriptLine(line), line, cursor: EventCursor.make(at), storedAt: pending[0]?.at ?? null })
          }
          return [{ lineStart: item.cursor, timesCursor: read.cursor, pending }, out] as const
        })
      }
    )
  )
}
