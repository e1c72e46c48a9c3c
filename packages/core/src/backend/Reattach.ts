/**
 * Reattaching to a run owned by another agentrun process (its supervisor): progress from the
 * stored stream-json as it grows, cancellation through the run catalog (which asks the
 * supervisor, or stops an orphaned agent itself), and the verdict once the record is final.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { RunRecord } from "../domain/Run.ts"
import type { RunCatalogShape } from "../runs/RunCatalog.ts"
import type { RunNotFound, RunStoreError, RunStoreShape } from "../store/RunStore.ts"
import type { RunHandle, RunProgress, RunResult } from "./Backend.ts"
import { TranscriptIngest } from "./TranscriptIngest.ts"

/** How often a reattached run's store is read for new output and its end, in milliseconds. */
export const reattachPollMs = 200

// Stored lines are already redacted.
const storedAsIs = { redact: (text: string) => text, mayContainSecret: () => false, secretValues: 0 }

const resultOf = (record: RunRecord): RunResult | null =>
  record.status === "running" || record.outcome === null
    ? null
    : {
      record,
      outcome: record.outcome,
      summary: record.summary ?? {
        result: null,
        agentExitCode: null,
        agentSignal: null,
        usage: null,
        costUsd: null,
        sessionId: null,
        durationMs: null,
        numTurns: null
      }
    }

/**
 * A {@link RunHandle} for a run in the store. `progress` replays the run from its first stored
 * line and follows it to `Ended`; `result` waits for the final record (a dead supervisor's run is
 * recovered as `Interrupted` by the catalog). Fails with RunNotFound for an unknown id. The
 * handle's streams have no error channel: a record that disappears or cannot be read while
 * being followed (pruned, disk gone) is a defect there.
 */
export const reattach = (store: RunStoreShape, catalog: RunCatalogShape) =>
(runId: string): Effect.Effect<RunHandle, RunNotFound | RunStoreError> =>
  Effect.map(catalog.get(runId), (first): RunHandle => {
    const id = first.runId
    const finalRecord = catalog.get(id).pipe(
      Effect.repeat({ schedule: Schedule.spaced(reattachPollMs), until: (r) => resultOf(r) !== null }),
      Effect.orDie
    )
    type Cursor = { readonly cursor: number; readonly ingest: TranscriptIngest; readonly started: boolean }
    const progress = Stream.paginate<Cursor, RunProgress, RunNotFound | RunStoreError>(
      { cursor: 0, ingest: new TranscriptIngest(storedAsIs), started: false },
      (state) =>
        Effect.gen(function*() {
          const record = yield* catalog.get(id)
          const chunk = yield* store.readEventsSince(id, state.cursor)
          const out: Array<RunProgress> = state.started ? [] : [{ _tag: "Started", runId: id, pid: record.agent.pid }]
          out.push(...state.ingest.push(chunk.lines).progress)
          const done = resultOf(record)
          if (done !== null) {
            // Lines written between the read above and the record's end.
            for (let at = chunk.cursor;;) {
              const rest = yield* store.readEventsSince(id, at)
              if (rest.cursor === at) break
              out.push(...state.ingest.push(rest.lines).progress)
              at = rest.cursor
            }
            out.push({ _tag: "Ended", outcome: done.outcome })
            return [out, Option.none()] as const
          }
          if (out.length === 0) yield* Effect.sleep(reattachPollMs)
          return [out, Option.some({ ...state, cursor: chunk.cursor, started: true })] as const
        })
    ).pipe(Stream.orDie)
    return {
      runId: id,
      progress,
      cancel: () => Effect.ignore(catalog.cancel(id)),
      result: Effect.map(finalRecord, (r) => resultOf(r)!)
    }
  })
