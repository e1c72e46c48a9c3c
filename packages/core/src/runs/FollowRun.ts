/**
 * Following a stored run: its stored stream-json lines from a cursor, then the lines appended
 * live, until its record is final. Woken by the store's `changes` (this process's writes, the
 * watch of the run's folder, the store's rescan), and on a Schedule to ask `recover` whether a
 * running record's supervisor died (so a follower of an orphaned run ends with Interrupted):
 * no poll loop of its own. Used by Reattach, `agentrun logs -f` and the transcript events.
 *
 * @module
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { RunId, RunRecord } from "../domain/Run.ts"
import { type EventCursor, eventsStart, type RunNotFound, type RunRecordDamaged, type RunStoreError, type RunStoreShape } from "../store/RunStore.ts"

/** What following a run yields: lines with the cursor after them, then its final record (last). */
export type FollowItem =
  | { readonly _tag: "Lines"; readonly lines: ReadonlyArray<string>; readonly cursor: EventCursor }
  | { readonly _tag: "Final"; readonly record: RunRecord }

/** Options of {@link followRun}. */
export interface FollowOptions {
  /** Where to start in the transcript (default: its start). */
  readonly from?: EventCursor
  /**
   * Crash recovery for a record still running (RunCatalog.recover): asked when woken and every
   * `recoverEvery`; default none (the record ends only when its supervisor finishes it).
   */
  readonly recover?: (record: RunRecord) => Effect.Effect<RunRecord, RunStoreError>
  /** How often a running record is re-checked with `recover` without a change. Default 1 s. */
  readonly recoverEvery?: Duration.Input
  /** Stop at the end of what is stored, final or not (`logs` without `-f`). Default false. */
  readonly storedOnly?: boolean
  /** Read no transcript: yield only the final record (`agentrun wait`, `cancel --wait`). Default false. */
  readonly finalOnly?: boolean
}

/** Whether a record is final (its outcome written). */
export const isFinal = (record: RunRecord): boolean => record.status !== "running" && record.outcome !== null

/**
 * The run's transcript lines from `options.from`, then live, ending with `Final` once its record
 * is final (the lines written before the final record included). Fails if the record cannot be
 * read (removed meanwhile: RunNotFound).
 */
export const followRun = (
  store: RunStoreShape,
  runId: RunId,
  options: FollowOptions = {}
): Stream.Stream<FollowItem, RunStoreError | RunNotFound | RunRecordDamaged> =>
  Stream.unwrap(Effect.gen(function*() {
    // Subscribed before the first read, so no change falls between.
    const changes = yield* store.watchChanges(runId)
    const wake = yield* Queue.sliding<void>(1)
    yield* Effect.forkScoped(Stream.runForEach(changes, () => Queue.offer(wake, undefined)))
    if (options.recover !== undefined) {
      yield* Effect.forkScoped(Effect.repeat(Queue.offer(wake, undefined), Schedule.spaced(options.recoverEvery ?? "1 second")))
    }
    // One read window per page, so a long stored transcript streams in bounded memory (the
    // consumer pulls the next window) instead of being gathered before its first line is given.
    // `Wait`: until woken (the first time at once), then the record is read; `Drain`: the lines
    // after `cursor`, a window at a time, then the record read before them decides: it is read
    // before the lines, so the lines written before a final record are all stored.
    type State =
      | { readonly _tag: "Wait"; readonly cursor: EventCursor; readonly first: boolean }
      | { readonly _tag: "Drain"; readonly cursor: EventCursor; readonly record: RunRecord }
    type Page = readonly [ReadonlyArray<FollowItem>, Option.Option<State>]
    const drained = (record: RunRecord, cursor: EventCursor): Page => {
      if (isFinal(record)) return [[{ _tag: "Final", record }], Option.none()]
      if (options.storedOnly === true) return [[], Option.none()]
      return [[], Option.some({ _tag: "Wait", cursor, first: false })]
    }
    return Stream.paginate<State, FollowItem, RunStoreError | RunNotFound | RunRecordDamaged>(
      { _tag: "Wait", cursor: options.from ?? eventsStart, first: true },
      (state) =>
        Effect.gen(function*(): Effect.fn.Return<Page, RunStoreError | RunNotFound | RunRecordDamaged> {
          if (state._tag === "Wait") {
            if (!state.first) yield* Queue.take(wake)
            const read = yield* store.readRecord(runId)
            const record = options.recover !== undefined && !isFinal(read) ? yield* options.recover(read) : read
            if (options.finalOnly === true) return drained(record, state.cursor)
            return [[], Option.some({ _tag: "Drain", cursor: state.cursor, record })]
          }
          const chunk = yield* store.readEventsSince(runId, state.cursor)
          if (chunk.cursor === state.cursor) return drained(state.record, state.cursor)
          return [[{ _tag: "Lines", lines: chunk.lines, cursor: chunk.cursor }], Option.some({ ...state, cursor: chunk.cursor })]
        })
    )
  }))
