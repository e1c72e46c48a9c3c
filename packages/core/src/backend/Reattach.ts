/**
 * Reattaching to a stored local run, owned by another agentrun process (its supervisor) or by
 * none: progress from the stored stream-json as it grows (followed through the store's changes),
 * cancellation through the backend's `cancel` (which asks the supervisor, or stops an orphaned
 * agent itself), and the verdict once the record is final. LocalBackend's `reattach`.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { emptySummary, localPlacement, type RunRecord } from "../domain/Run.ts"
import { followRun } from "../runs/FollowRun.ts"
import type { RunStoreError, RunStoreShape } from "../store/RunStore.ts"
import type { BackendShape, RunHandle, RunProgress, RunResult } from "./Backend.ts"
import { TranscriptIngest } from "./TranscriptIngest.ts"

// Stored lines are already redacted.
const storedAsIs = { redact: (text: string) => text, mayContainSecret: () => false, secretValues: 0 }

const resultOf = (record: RunRecord): RunResult | null =>
  record.status === "running" || record.outcome === null
    ? null
    : {
      record,
      outcome: record.outcome,
      summary: record.summary ?? emptySummary
    }

/**
 * A {@link RunHandle} for a stored run. `progress` replays the run from its first stored line and
 * follows it (FollowRun: the store's changes, no poll loop) to `Ended`; `result` waits for the
 * final record, `recover` (crash recovery: a dead supervisor's run becomes `Interrupted`) being
 * asked while it is running; `cancel` is the backend's. The handle's streams have no error
 * channel: a record that disappears or cannot be read while being followed (pruned, disk gone)
 * is a defect there.
 */
export const reattach = (
  store: RunStoreShape,
  recover: (record: RunRecord) => Effect.Effect<RunRecord, RunStoreError>,
  cancel: BackendShape["cancel"]
) =>
(first: RunRecord): Effect.Effect<RunHandle> =>
  Effect.sync((): RunHandle => {
    const id = first.runId
    const follow = followRun(store, id, { recover })
    const finalRecord = follow.pipe(
      Stream.filter((item) => item._tag === "Final"),
      Stream.runHead,
      Effect.map((item) => Option.getOrThrow(item).record),
      Effect.orDie
    )
    const progress = Stream.suspend(() => {
      const ingest = new TranscriptIngest(storedAsIs)
      const startedEvent: RunProgress = { _tag: "Started", runId: id, pid: localPlacement(first)?.agentPid ?? null }
      const started: Stream.Stream<ReadonlyArray<RunProgress>> = Stream.succeed([startedEvent])
      return Stream.concat(
        started,
        Stream.map(follow, (item): ReadonlyArray<RunProgress> =>
          item._tag === "Lines" ? ingest.push(item.lines).progress : [{ _tag: "Ended", outcome: item.record.outcome! }])
      ).pipe(Stream.flatMap((batch) => Stream.fromIterable(batch)), Stream.orDie)
    })
    return {
      runId: id,
      progress,
      // The current record: the one reattached to may be stale by now (its agent spawned since).
      cancel: () => Effect.ignore(Effect.flatMap(store.readRecord(id), (record) => cancel(record))),
      result: Effect.map(finalRecord, (r) => resultOf(r)!)
    }
  })
