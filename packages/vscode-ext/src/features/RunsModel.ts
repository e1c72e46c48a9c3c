/**
 * The runs as the extension shows them: the store's records (newest first) and, for live runs,
 * turns/tokens/cost read from their transcript as it grows. Follows the run store's changes
 * (this host's runs and the CLI's alike), never a timer; publishes each run it saw live that
 * has now ended.
 *
 * @module
 */
import { isDamaged, type RunRecord, type StoredRun } from "@agentrun/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { Runs, type RunStoreChange, type UsageFollower, type UsageSoFar } from "../core/Runs.ts"

/** What the views render. */
export interface RunsState {
  /** Newest first; a record that does not decode is there as its RunRecordDamaged (shown, not hidden). */
  readonly records: ReadonlyArray<StoredRun>
  /** Usage so far of live runs, by run id. */
  readonly usage: ReadonlyMap<string, UsageSoFar>
}

/** The model's state, its store changes (re-published for the documents) and the runs that ended. */
export interface RunsModelShape {
  readonly state: SubscriptionRef.SubscriptionRef<RunsState>
  /** Every store change the model applied. */
  readonly changes: PubSub.PubSub<RunStoreChange>
  /** A run seen `running` by this window, or launched by it, whose record is now final: once per run. */
  readonly ended: PubSub.PubSub<RunRecord>
  /**
   * Announces the end of a run this window launched even if the model never sees it running (a
   * run can end before the model reads its first record: a claude that cannot be spawned).
   */
  readonly expectEnd: (runId: string) => Effect.Effect<void>
  /** Reads every record again. */
  readonly refresh: Effect.Effect<void>
}

/** Whether a listed run is live (a damaged record never is: nothing can be said of it). */
export const isLive = (run: StoredRun): run is RunRecord => !isDamaged(run) && run.status === "running"

const byNewest = (a: StoredRun, b: StoredRun) => (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0)

/** The runs model service. */
export class RunsModel extends Context.Service<RunsModel, RunsModelShape>()("agentrun-vscode/RunsModel") {
  static readonly layer = Layer.effect(
    RunsModel,
    Effect.gen(function*() {
      const runs = yield* Runs
      const state = yield* SubscriptionRef.make<RunsState>({ records: [], usage: new Map() })
      const changes = yield* PubSub.unbounded<RunStoreChange>()
      const ended = yield* PubSub.unbounded<RunRecord>()
      const followers = new Map<string, UsageFollower>()
      /** Runs launched here whose end is to be announced, and runs already announced. */
      const expected = new Set<string>()
      const announced = new Set<string>()

      // Decided in one synchronous step, so `upsert` and `expectEnd` never both announce a run, nor both miss it.
      const announce = (record: StoredRun, wasLive: boolean) =>
        Effect.suspend(() => {
          if (isDamaged(record) || record.status === "running" || announced.has(record.runId)) return Effect.void
          if (!wasLive && !expected.has(record.runId)) return Effect.void
          announced.add(record.runId)
          expected.delete(record.runId)
          return Effect.asVoid(PubSub.publish(ended, record))
        })

      const readUsage = (runId: string) =>
        Effect.gen(function*() {
          let follower = followers.get(runId)
          if (follower === undefined) {
            follower = yield* runs.followUsage(runId)
            followers.set(runId, follower)
          }
          const usage = yield* follower.next
          if (usage !== null) yield* SubscriptionRef.update(state, (s) => ({ ...s, usage: new Map(s.usage).set(runId, usage) }))
        })

      /** Stores a record read anew (or its damage); announces the end of a run seen live. */
      const upsert = (record: StoredRun) =>
        Effect.gen(function*() {
          const before = (yield* SubscriptionRef.get(state)).records.find((r) => r.runId === record.runId)
          yield* SubscriptionRef.update(state, (s) => {
            const usage = new Map(s.usage)
            if (!isLive(record)) usage.delete(record.runId)
            return { records: [...s.records.filter((r) => r.runId !== record.runId), record].sort(byNewest), usage }
          })
          if (isLive(record)) yield* readUsage(record.runId)
          else followers.delete(record.runId)
          yield* announce(record, before !== undefined && isLive(before))
        })

      /** The run as stored now: its record, its damage, or gone. */
      const reread = (runId: string) =>
        runs.get(runId).pipe(
          Effect.flatMap(upsert),
          Effect.catchTag("RunRecordDamaged", (damaged) => upsert(damaged)),
          Effect.catchTag("RunNotFound", () => remove(runId))
        )

      const remove = (runId: string) =>
        Effect.andThen(
          Effect.sync(() => followers.delete(runId)),
          SubscriptionRef.update(state, (s) => ({ ...s, records: s.records.filter((r) => r.runId !== runId) }))
        )

      const refresh = Effect.gen(function*() {
        const records = yield* runs.list
        const known = new Set(records.map((r) => r.runId))
        for (const r of (yield* SubscriptionRef.get(state)).records) if (!known.has(r.runId)) yield* remove(r.runId)
        for (const r of records) yield* upsert(r)
      }).pipe(Effect.catch((e) => Effect.logWarning(`reading the runs failed: ${e.message}`)))

      const apply = (change: RunStoreChange) =>
        Effect.gen(function*() {
          switch (change._tag) {
            case "Rescan":
              yield* refresh
              break
            case "Removed":
              yield* remove(change.runId)
              break
            case "RecordWritten":
              yield* reread(change.runId)
              break
            case "EventsAppended": {
              const record = (yield* SubscriptionRef.get(state)).records.find((r) => r.runId === change.runId)
              if (record === undefined) yield* reread(change.runId)
              else if (isLive(record)) yield* readUsage(change.runId)
              break
            }
            case "CancelRequested":
              // The supervisor acts on it and writes the record: that change updates the row.
              break
          }
          yield* PubSub.publish(changes, change)
        }).pipe(Effect.catch((e) => Effect.logWarning(`applying ${change._tag} failed: ${e.message}`)))

      yield* runs.changes.pipe(Stream.runForEach(apply), Effect.forkScoped)
      const expectEnd = (runId: string) =>
        Effect.suspend(() => {
          expected.add(runId)
          const current = SubscriptionRef.getUnsafe(state).records.find((r) => r.runId === runId)
          return current === undefined ? Effect.void : announce(current, false)
        })

      return RunsModel.of({ state, changes, ended, refresh, expectEnd })
    })
  )
}
