/**
 * The end of a local run: the verdict from what was observed, the final record, the `Ended`
 * progress event and the handle's result. Every path of the lifecycle ends here, once.
 *
 * @module
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import type { ExitStatus } from "../domain/ExitStatus.ts"
import { SupervisionFailed } from "../domain/Failures.ts"
import { emptyObservation } from "../domain/Observation.ts"
import { type RunRecord, statusOf } from "../domain/Run.ts"
import type { RunOutcome } from "../domain/RunOutcome.ts"
import {
  type RunFacts,
  type RuntimeUnavailableFacts,
  type SpawnFailure,
  type SupervisionFailure,
  type SupervisorAction,
  verdict
} from "../domain/Verdict.ts"
import type { ProcessTable } from "../procfs/ProcessTable.ts"
import type { RunStore } from "../store/RunStore.ts"
import type { LocalRun } from "./LocalRun.ts"
import { nowMs } from "./LocalRun.ts"
import { summaryOf } from "./RunSupervision.ts"

/** How the lifecycle concluded: the facts the verdict needs besides what the readers observed. */
export interface Conclusion {
  readonly exit: ExitStatus | null
  readonly action: SupervisorAction
  readonly spawnFailure?: SpawnFailure | null
  readonly runtimeUnavailable?: RuntimeUnavailableFacts | null
  readonly supervisionFailure?: SupervisionFailure | null
}

/** What finishing needs, resolved when the backend is built. */
export interface FinishDeps {
  readonly store: RunStore["Service"]
  readonly table: ProcessTable["Service"]
}

const complete = (deps: FinishDeps, run: LocalRun, outcome: RunOutcome, record: RunRecord, summary: RunRecord["summary"] & {}) =>
  Effect.gen(function*() {
    // A record that cannot be written is reported, but the verdict still reaches the caller.
    yield* deps.store.writeRecord(record).pipe(Effect.catch((e) => Effect.logWarning(`run ${run.runId}: ${e.message}`)))
    yield* PubSub.publish(run.progress, { _tag: "Ended", outcome })
    yield* Deferred.succeed(run.result, { record, outcome, summary })
  })

/** Judges the run from `conclusion` and what its readers saw, records it, and completes its handle. */
export const finish = (deps: FinishDeps, run: LocalRun, conclusion: Conclusion) =>
  Effect.gen(function*() {
    const endedAt = yield* nowMs
    const before = yield* run.oomBefore
    // No count before (no cgroup v2 memory.events here, or no agent): none after either.
    const oomAfter = Option.isSome(before) ? yield* deps.table.oomKillCount : Option.none<number>()
    const readers = run.agent?.readers ?? null
    const observation = readers?.ingest.observation ?? emptyObservation
    const facts: RunFacts = {
      runtimeUnavailable: conclusion.runtimeUnavailable ?? null,
      supervisionFailure: conclusion.supervisionFailure ?? null,
      transcriptIncomplete: readers?.transcriptIncomplete() ?? null,
      observation,
      stderrTail: readers === null ? [] : [...readers.stderrTail],
      exit: conclusion.exit,
      spawnFailure: conclusion.spawnFailure ?? null,
      action: conclusion.action,
      oomKills: Option.isSome(before) && Option.isSome(oomAfter) ? { before: before.value, after: oomAfter.value } : null,
      maxTurns: run.spec.maxTurns
    }
    const outcome = verdict(facts, endedAt)
    const summary = summaryOf(outcome, observation, conclusion.exit, endedAt - run.startedAt)
    const record: RunRecord = { ...run.record, status: statusOf(outcome), endedAt: new Date(endedAt).toISOString(), outcome, summary }
    yield* complete(deps, run, outcome, record, summary)
  })

/**
 * The last resort, should finishing itself have failed (a bug in the verdict): a
 * SupervisionFailed built without the verdict, so the handle's result still completes. No-op
 * once the result is set.
 */
export const finishedOrFailed = (deps: FinishDeps, run: LocalRun, defect: string) =>
  Effect.gen(function*() {
    if (yield* Deferred.isDone(run.result)) return
    const endedAt = yield* nowMs
    const outcome = new SupervisionFailed({
      message: `agentrun could not judge the run (internal error: ${defect}).`,
      retryable: false,
      evidence: { reason: "defect", storeError: null, defect, stop: null, process: null }
    })
    const summary = summaryOf(outcome, emptyObservation, null, endedAt - run.startedAt)
    const record: RunRecord = { ...run.record, status: "failed", endedAt: new Date(endedAt).toISOString(), outcome, summary }
    yield* complete(deps, run, outcome, record, summary)
  })
