/**
 * Cancelling a stored local run (LocalBackend's `cancel`): a cancel request through the store
 * when its supervisor lives (it runs the stop sequence and records `Cancelled`); when the
 * supervisor is gone, the stop sequence over the orphaned agent (and the sweep of the run's
 * processes) from here, and the `Cancelled` record with the stop report. A run from another
 * machine is refused (its pids mean nothing here).
 *
 * @module
 */
import * as Effect from "effect/Effect"
import { Cancelled } from "../domain/Failures.ts"
import { localPlacement, type RunRecord } from "../domain/Run.ts"
import type { RunStoreError, RunStoreShape } from "../store/RunStore.ts"
import { type CancelOptions, type CancelResult, RunNotRunning, RunOnAnotherHost } from "./Backend.ts"
import { nowMs } from "./LocalRun.ts"
import type { LocalRunOpsShape } from "./LocalRunOps.ts"

/**
 * The cancel of `BackendShape.cancel` for local records over a store and the local run
 * operations. Fails with RunNotRunning for a finished run (an interrupted one whose agent is
 * gone included), RunOnAnotherHost for a run supervised on another machine, RunStoreError when
 * the request or the record cannot be written.
 */
export const cancelLocal = (store: RunStoreShape, local: LocalRunOpsShape) =>
(record: RunRecord, options: CancelOptions = {}): Effect.Effect<CancelResult, RunNotRunning | RunOnAnotherHost | RunStoreError> =>
  Effect.gen(function*() {
    const p = localPlacement(record)
    const notRunning = new RunNotRunning({
      message: `Run ${record.runId} is not running (${record.status}).`,
      runId: record.runId,
      status: record.status,
      retryable: false
    })
    const ask = Effect.gen(function*() {
      yield* store.requestCancel(record.runId, {
        requestedAt: new Date(yield* nowMs).toISOString(),
        by: options.by ?? `agentrun cancel (pid ${process.pid} on ${local.hostname})`,
        signal: null
      })
      return { _tag: "AskedSupervisor", runId: record.runId, supervisorPid: p?.supervisorPid ?? null } as CancelResult
    })
    // Not a local run: whoever supervises it reads the request from the store.
    if (p === null) return record.status === "running" ? yield* ask : yield* notRunning
    if (p.hostname !== local.hostname && (record.status === "running" || record.status === "interrupted")) {
      return yield* new RunOnAnotherHost({
        message: `Run ${record.runId} was started on ${p.hostname}, not on this machine (${local.hostname}): cancel it there.`,
        runId: record.runId,
        hostname: p.hostname,
        retryable: false
      })
    }
    if (record.status === "running" && (yield* local.liveness(p))._tag === "Supervised") return yield* ask
    if (record.status !== "running" && !(record.status === "interrupted" && (yield* local.agentAlive(p)))) return yield* notRunning
    // The supervisor is gone: stop the agent ourselves.
    const stop = yield* local.stopOrphan(record, p, options.stopGrace)
    const outcome = new Cancelled({
      message: "The run was cancelled by request; its supervisor was gone, so agentrun stopped the agent itself.",
      retryable: false,
      evidence: { signal: null, by: "cancel-command", stop, process: null }
    })
    // The supervisor may have finished the run while we stopped nothing: keep its final record.
    const current = yield* store.readRecord(record.runId).pipe(
      Effect.catchTags({ RunNotFound: () => Effect.succeed(null), RunRecordDamaged: () => Effect.succeed(null) })
    )
    if (current !== null && current.status !== record.status) return { _tag: "StoppedOrphan", record: current } as CancelResult
    const cancelled: RunRecord = { ...(current ?? record), status: "failed", endedAt: new Date(yield* nowMs).toISOString(), outcome }
    // Removed meanwhile (a concurrent prune): the agent is stopped, there is no record to finish.
    if (current !== null) yield* store.writeRecord(cancelled)
    return { _tag: "StoppedOrphan", record: cancelled } as CancelResult
  })
