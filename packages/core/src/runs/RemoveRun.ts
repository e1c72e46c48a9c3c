/**
 * Removing one run from the store (`agentrun rm`), by the rule `prune` follows: a run is
 * removable once nothing may still need its record. A running run is not (its supervisor writes
 * it; `cancel` needs it), nor an interrupted one whose agent still runs (`cancel` stops it by
 * the record's pids), nor one whose liveness this process cannot judge (another machine,
 * another backend). A damaged record is removable: nothing can read it.
 *
 * Kept beside RunCatalog (as a function over it and the store) so the catalog's owner can fold
 * it in as a `remove` operation.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { RunId, RunRecord } from "../domain/Run.ts"
import type { RunLiveness } from "../domain/RunLiveness.ts"
import { RunRecordDamaged, type RunStoreError, type RunStoreShape } from "../store/RunStore.ts"
import type { ResolveError, RunCatalogShape } from "./RunCatalog.ts"

/** The run may still be needed: running, or interrupted with its agent alive, or of unknown liveness. */
export class RunStillLive extends Schema.TaggedError<RunStillLive>()("RunStillLive", {
  message: Schema.String,
  runId: Schema.String,
  status: Schema.String,
  /** Why: `running`, `agent-alive` (interrupted, its agent still runs), or the liveness' reason when it cannot be judged. */
  reason: Schema.String,
  retryable: Schema.Boolean
}) {}

/**
 * Why a (recovered) record must stay, or null when it may go. Pure: `liveness` is the record's
 * supervision as the catalog judges it (only consulted for `running` and `interrupted` records).
 */
export const keepReason = (record: RunRecord, liveness: RunLiveness): string | null => {
  if (record.status === "running") return liveness._tag === "Unknown" ? liveness.reason : "running"
  if (record.status !== "interrupted") return null
  if (liveness._tag === "Unknown") return liveness.reason
  return liveness._tag === "Orphaned" && !liveness.agentAlive ? null : "agent-alive"
}

/** The {@link RunStillLive} message for a record that must stay. */
const stillLiveMessage = (record: RunRecord, reason: string): string =>
  reason === "running"
    ? `Run ${record.runId} is running: \`agentrun cancel ${record.runId}\` stops it, then \`agentrun rm\` removes it.`
    : reason === "agent-alive"
    ? `Run ${record.runId} was interrupted but its agent still runs: \`agentrun cancel ${record.runId}\` stops it first.`
    : `Run ${record.runId} is ${record.status} and agentrun cannot tell from here whether it still runs (${reason}): it is kept.`

/**
 * Removes the run `query` names (see RunCatalog.resolve: an id, a prefix, a random tail, `last`)
 * and returns its id. Crash recovery first (a dead supervisor's run becomes Interrupted, then
 * removable if its agent is gone too). Fails with {@link RunStillLive} for a run that must stay,
 * RunNotFound / RunIdAmbiguous for a query naming no run or several, RunStoreError when the
 * store cannot be read or the folder removed.
 */
export const makeRemoveRun = (catalog: RunCatalogShape, store: RunStoreShape) =>
(query: string): Effect.Effect<RunId, ResolveError | RunStillLive | RunStoreError> =>
  Effect.gen(function*() {
    const runId = yield* catalog.resolve(query)
    const stored = yield* store.readRecord(runId).pipe(
      Effect.catchTag("RunRecordDamaged", (damaged) => Effect.succeed(damaged))
    )
    if (!(stored instanceof RunRecordDamaged)) {
      const record = yield* catalog.recover(stored)
      const reason = record.status === "running" || record.status === "interrupted"
        ? keepReason(record, yield* catalog.liveness(record))
        : null
      if (reason !== null) {
        return yield* new RunStillLive({ message: stillLiveMessage(record, reason), runId, status: record.status, reason, retryable: false })
      }
    }
    yield* store.remove(runId)
    return runId
  })
