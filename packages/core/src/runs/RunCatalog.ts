/**
 * The runs in the store, managed: listed and read with crash recovery applied, cancelled from
 * another agentrun process, pruned.
 *
 * Crash recovery: a record still `running` whose supervisor is dead (pid gone, or reused by
 * another process: its /proc start time differs) is rewritten as {@link Interrupted} the first
 * time any command reads it. Records from another host are left alone (their pids mean nothing
 * here).
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as NodeOs from "node:os"
import { Cancelled, Interrupted } from "../domain/Failures.ts"
import type { RunRecord, StopGraceSettings } from "../domain/Run.ts"
import { ProcessTable } from "../procfs/ProcessTable.ts"
import { runCookieName, StopSequence, stopGraceOf } from "../process/StopSequence.ts"
import { RunNotFound, RunStore, type RunStoreError } from "../store/RunStore.ts"
import { foreignAgent, processAlive } from "./ForeignAgent.ts"

/** The run is not running: nothing to cancel. */
export class RunNotRunning extends Schema.TaggedError<RunNotRunning>()("RunNotRunning", {
  message: Schema.String,
  runId: Schema.String,
  status: Schema.String,
  retryable: Schema.Boolean
}) {}

/**
 * The run was started on another machine (its record's `supervisor.hostname`): its pids mean
 * nothing here, so agentrun neither signals them nor judges the run dead.
 */
export class RunOnAnotherHost extends Schema.TaggedError<RunOnAnotherHost>()("RunOnAnotherHost", {
  message: Schema.String,
  runId: Schema.String,
  hostname: Schema.String,
  retryable: Schema.Boolean
}) {}

/** The signal `cancel` sends a live supervisor: it means "cancel this run" (see TerminationSignals). */
export const cancelRequestSignal = "SIGUSR1" as const

/** What `cancel` did. */
export type CancelResult =
  | { readonly _tag: "AskedSupervisor"; readonly runId: string; readonly supervisorPid: number }
  | { readonly _tag: "StoppedOrphan"; readonly record: RunRecord }

/** Options of {@link RunCatalogShape.cancel}. */
export interface CancelOptions {
  /** The stop sequence's grace periods when agentrun stops an orphaned agent itself (see resolveStopGrace); defaults otherwise. */
  readonly stopGrace?: StopGraceSettings
}

/** Filters of {@link RunCatalogShape.list}. */
export interface ListOptions {
  readonly status?: RunRecord["status"]
  readonly limit?: number
}

/** Options of {@link RunCatalogShape.prune}. At least one must be given. */
export interface PruneOptions {
  /** Remove finished runs that ended more than this many milliseconds ago. */
  readonly olderThanMs?: number
  /** Keep at most this many finished runs (the newest). */
  readonly keep?: number
}

/** The catalog's operations. */
export interface RunCatalogShape {
  /** Records, newest first, recovered. */
  readonly list: (options?: ListOptions) => Effect.Effect<ReadonlyArray<RunRecord>, RunStoreError>
  /** One record (id or unique prefix), recovered. */
  readonly get: (runId: string) => Effect.Effect<RunRecord, RunNotFound | RunStoreError>
  /**
   * Cancels a running run: asks its live supervisor (which runs the stop sequence and records
   * `Cancelled`); if the supervisor is gone, stops the agent's process group itself and records
   * `Cancelled` with the stop report. Fails with {@link RunNotRunning} for a finished run and
   * {@link RunOnAnotherHost} for a run supervised on another machine.
   */
  readonly cancel: (
    runId: string,
    options?: CancelOptions
  ) => Effect.Effect<CancelResult, RunNotFound | RunNotRunning | RunOnAnotherHost | RunStoreError>
  /**
   * Removes finished runs per the options; returns the removed ids. Running runs are never
   * removed, nor interrupted ones whose agent still runs (`cancel` needs their record).
   */
  readonly prune: (options: PruneOptions) => Effect.Effect<ReadonlyArray<string>, RunStoreError>
}

/** The run catalog service. */
export class RunCatalog extends Context.Service<RunCatalog, RunCatalogShape>()("agentrun/RunCatalog") {
  static readonly layer = Layer.effect(
    RunCatalog,
    Effect.gen(function*() {
      const store = yield* RunStore
      const table = yield* ProcessTable
      const stopper = yield* StopSequence
      const hostname = NodeOs.hostname()
      const now = Effect.clockWith((c) => c.currentTimeMillis)

      const recordedAgentAlive = (record: RunRecord) =>
        record.agent.pid === null ? Effect.succeed(false) : processAlive(table, record.agent.pid, record.agent.startTimeTicks)

      /** Why the supervisor counts as dead, or null while it lives. */
      const supervisorGone = (record: RunRecord) =>
        Effect.gen(function*() {
          const { pid, startTimeTicks } = record.supervisor
          const exists = yield* table.isAlive(pid).pipe(Effect.catch(() => Effect.succeed(true)))
          if (!exists) return "supervisor-gone" as const
          if (startTimeTicks === null) return null
          const same = yield* table.startTimeMatches(pid, startTimeTicks).pipe(Effect.catch(() => Effect.succeed(true)))
          return same ? null : "pid-reused" as const
        })

      const recover = (record: RunRecord) =>
        Effect.gen(function*() {
          if (record.status !== "running" || record.supervisor.hostname !== hostname) return record
          const reason = yield* supervisorGone(record)
          if (reason === null) return record
          // The supervisor may have written its final record between our read and its exit (a
          // long `list` widens that window): a dead supervisor writes nothing more, so what the
          // store holds now is final.
          const current = yield* store.readRecord(record.runId).pipe(Effect.catchTag("RunNotFound", () => Effect.succeed(null)))
          // Removed meanwhile (a concurrent prune): nothing to mark.
          if (current === null) return record
          if (current.status !== "running") return current
          const agentAlive = yield* recordedAgentAlive(current)
          const outcome = new Interrupted({
            message: `The agentrun process supervising this run (pid ${record.supervisor.pid}) died mid-run${
              agentAlive ? `; the agent (pid ${record.agent.pid}) is still running: \`agentrun cancel ${record.runId}\` stops it` : ""
            }.`,
            retryable: true,
            evidence: { supervisorPid: record.supervisor.pid, agentPid: record.agent.pid, agentAlive, reason }
          })
          const recovered: RunRecord = { ...current, status: "interrupted", endedAt: new Date(yield* now).toISOString(), outcome }
          yield* store.writeRecord(recovered)
          return recovered
        })

      const list = (options: ListOptions = {}) =>
        Effect.gen(function*() {
          const records = yield* store.listRecords
          const recovered: Array<RunRecord> = []
          for (const r of records) recovered.push(yield* recover(r))
          const filtered = options.status === undefined ? recovered : recovered.filter((r) => r.status === options.status)
          return options.limit === undefined ? filtered : filtered.slice(0, options.limit)
        })

      const get = (runId: string) => Effect.flatMap(store.readRecord(runId), recover)

      const cancel = (runId: string, options: CancelOptions = {}) =>
        Effect.gen(function*() {
          const record = yield* get(runId)
          if (record.supervisor.hostname !== hostname && (record.status === "running" || record.status === "interrupted")) {
            return yield* new RunOnAnotherHost({
              message: `Run ${record.runId} was started on ${record.supervisor.hostname}, not on this machine (${hostname}): cancel it there.`,
              runId: record.runId,
              hostname: record.supervisor.hostname,
              retryable: false
            })
          }
          const agentAlive = yield* recordedAgentAlive(record)
          if (record.status === "running") {
            const delivered = yield* table.kill(record.supervisor.pid, cancelRequestSignal).pipe(
              Effect.catch(() => Effect.succeed("no-such-process" as const))
            )
            if (delivered === "delivered") return { _tag: "AskedSupervisor", runId: record.runId, supervisorPid: record.supervisor.pid } as CancelResult
          } else if (!(record.status === "interrupted" && agentAlive)) {
            return yield* new RunNotRunning({
              message: `Run ${record.runId} is not running (${record.status}).`,
              runId: record.runId,
              status: record.status,
              retryable: false
            })
          }
          // The supervisor is gone: stop the agent ourselves.
          const agent = foreignAgent(table, record.agent.pid ?? -1, record.agent.startTimeTicks)
          const stop = agentAlive
            ? yield* stopper.stop(agent, options.stopGrace === undefined ? undefined : { grace: stopGraceOf(options.stopGrace) })
            : null
          if (record.agent.pid !== null) yield* stopper.sweep(record.agent.pid, {
            name: runCookieName,
            value: record.runId,
            ...(record.agent.startTimeTicks === null ? {} : { startedAtTicks: record.agent.startTimeTicks })
          })
          const outcome = new Cancelled({
            message: "The run was cancelled by request; its supervisor was gone, so agentrun stopped the agent itself.",
            retryable: false,
            evidence: { signal: null, by: "cancel-command", stop, process: null }
          })
          // The supervisor may have finished the run while we stopped nothing: keep its final record.
          const current = yield* store.readRecord(record.runId)
          if (current.status !== record.status) return { _tag: "StoppedOrphan", record: current } as CancelResult
          const cancelled: RunRecord = { ...current, status: "failed", endedAt: new Date(yield* now).toISOString(), outcome }
          yield* store.writeRecord(cancelled)
          return { _tag: "StoppedOrphan", record: cancelled } as CancelResult
        })

      const prune = (options: PruneOptions) =>
        Effect.gen(function*() {
          const finished: Array<RunRecord> = []
          for (const r of yield* list()) {
            if (r.status === "running" || (r.status === "interrupted" && (yield* recordedAgentAlive(r)))) continue
            finished.push(r)
          }
          const t = yield* now
          const doomed = new Set<string>()
          if (options.olderThanMs !== undefined) {
            for (const r of finished) {
              const at = Date.parse(r.endedAt ?? r.createdAt)
              if (t - at > options.olderThanMs) doomed.add(r.runId)
            }
          }
          if (options.keep !== undefined) for (const r of finished.slice(options.keep)) doomed.add(r.runId)
          for (const id of doomed) yield* store.remove(id as RunRecord["runId"])
          return [...doomed]
        })

      return RunCatalog.of({ list, get, cancel, prune })
    })
  )
}

export { RunNotFound }
