/**
 * Crash recovery, backend-neutral: a record still `running` whose backend reports its
 * supervision `Orphaned` (the supervising agentrun process is dead) is rewritten as
 * {@link Interrupted}. `Supervised` and `Unknown` leave it as it is: a run no backend here can
 * judge is never marked on a guess. Used by RunCatalog's `recover` and by a reattached run's
 * follow (so a follower of an orphaned run ends with Interrupted).
 *
 * @module
 */
import * as Effect from "effect/Effect"
import { Interrupted } from "../domain/Failures.ts"
import type { Placement, RunRecord } from "../domain/Run.ts"
import type { RunLiveness } from "../domain/RunLiveness.ts"
import type { RunStoreError, RunStoreShape } from "../store/RunStore.ts"

type Orphaned = Extract<RunLiveness, { readonly _tag: "Orphaned" }>

/** The pids an Interrupted record names: the dead supervisor's, the agent's (null: none, or not a local process). */
const pidsOf = (placement: Placement): { readonly supervisorPid: number; readonly agentPid: number | null } | null =>
  placement._tag === "Local"
    ? { supervisorPid: placement.supervisorPid, agentPid: placement.agentPid }
    : placement.supervisor === null
    ? null
    : { supervisorPid: placement.supervisor.pid, agentPid: null }

const interrupted = (record: RunRecord, live: Orphaned, pids: NonNullable<ReturnType<typeof pidsOf>>): Interrupted => {
  const still = !live.agentAlive
    ? ""
    : record.placement._tag === "Local"
    ? `; the agent (pid ${pids.agentPid}) is still running: \`agentrun cancel ${record.runId}\` stops it`
    : `; its Job ${record.placement.namespace}/${record.placement.jobName} is still running: \`agentrun cancel ${record.runId}\` stops it`
  return new Interrupted({
    message: `The agentrun process supervising this run (pid ${pids.supervisorPid}) died mid-run${still}.`,
    retryable: true,
    evidence: { supervisorPid: pids.supervisorPid, agentPid: pids.agentPid, agentAlive: live.agentAlive, reason: live.reason }
  })
}

/**
 * Recovery over a store and a liveness check (the record's backend): returns the current record,
 * rewritten Interrupted when its supervision is `Orphaned`. The record is re-read first: a
 * supervisor that finished it meanwhile keeps its final record; one removed meanwhile (a
 * concurrent prune) or damaged is left alone. Fails only when the store cannot write.
 */
export const recoverWith = (
  store: RunStoreShape,
  liveness: (record: RunRecord) => Effect.Effect<RunLiveness>
) =>
(record: RunRecord): Effect.Effect<RunRecord, RunStoreError> =>
  Effect.gen(function*() {
    if (record.status !== "running") return record
    const live = yield* liveness(record)
    if (live._tag !== "Orphaned") return record
    // The supervisor may have written its final record between our read and its exit (a long
    // `list` widens that window): a dead supervisor writes nothing more, so what the store holds
    // now is final.
    const current = yield* store.readRecord(record.runId).pipe(
      Effect.catchTags({ RunNotFound: () => Effect.succeed(null), RunRecordDamaged: () => Effect.succeed(null) })
    )
    if (current === null) return record
    if (current.status !== "running") return current
    const pids = pidsOf(current.placement)
    if (pids === null) return current
    // The agent's liveness as of now (the first check may be a while ago on a long listing).
    const now = yield* liveness(current)
    const orphaned: Orphaned = now._tag === "Orphaned" ? now : live
    const endedAt = new Date(yield* Effect.clockWith((c) => c.currentTimeMillis)).toISOString()
    const recovered: RunRecord = { ...current, status: "interrupted", endedAt, outcome: interrupted(current, orphaned, pids) }
    yield* store.writeRecord(recovered)
    return recovered
  })
