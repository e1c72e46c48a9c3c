/**
 * A local run's whole lifecycle, from the launch record to the final one: executable resolution,
 * spawn, the record naming the agent, the readers, supervision, finish.
 *
 * Total: whatever ends it — the agent's exit, a stop, a store that fails to write the record, a
 * defect, the fiber's interruption (the backend shutting down) — the agent is stopped with the
 * stop sequence if it still runs, the run's leftovers are swept, a final record is written (as
 * far as the store allows) and the handle's result completes.
 *
 * @module
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type { StopReport } from "../domain/Evidence.ts"
import type { ExitStatus } from "../domain/ExitStatus.ts"
import type { SupervisionFailure } from "../domain/Verdict.ts"
import type { Bootstrap } from "../bootstrap/Bootstrap.ts"
import type { AgentProcess } from "../process/AgentProcess.ts"
import { runCookieName } from "../process/StopSequence.ts"
import type { RunStoreError } from "../store/RunStore.ts"
import { type Conclusion, finish, type FinishDeps, finishedOrFailed } from "./LocalFinish.ts"
import { resolveExecutable } from "./LocalExecutable.ts"
import { startReaders } from "./LocalReaders.ts"
import { withAgent, withExecutable } from "./LocalRecord.ts"
import { type LocalRun, publish } from "./LocalRun.ts"
import { supervise, type SupervisionDeps, sweepAndDrain } from "./LocalSupervision.ts"

/** Everything a lifecycle needs, resolved when the backend is built. */
export interface LifecycleDeps extends SupervisionDeps, FinishDeps {
  readonly agents: AgentProcess["Service"]
  readonly bootstrap: Bootstrap["Service"]
}

const noStop: StopReport = { steps: [], tookMs: 0 }

const messageOf = (defect: unknown): string =>
  defect instanceof Error ? defect.message : typeof defect === "string" ? defect : String(defect)

/** What went wrong, from the cause that ended the lifecycle (not an interruption). */
const failureOf = (cause: Cause.Cause<RunStoreError>, stop: StopReport | null): SupervisionFailure => {
  const error = Cause.findErrorOption(cause)
  return Option.isSome(error)
    ? {
      reason: "store-write-failed",
      storeError: { message: error.value.message, operation: error.value.operation, path: error.value.path, code: error.value.code },
      defect: null,
      stop
    }
    : { reason: "defect", storeError: null, defect: messageOf(Cause.squash(cause)), stop }
}

/** From launch to the agent's end (the normal paths): the conclusion to finish with. */
const body = (deps: LifecycleDeps, run: LocalRun): Effect.Effect<Conclusion, RunStoreError, Scope.Scope> =>
  Effect.gen(function*() {
    // `agentrun cancel` from another process writes a cancel request into the store: one more
    // stop reason, raced with the others through stopRequest. Ends with the run.
    yield* Effect.forkChild(
      deps.store.awaitCancelRequest(run.runId).pipe(
        Effect.flatMap((request) => Deferred.succeed(run.stopRequest, { _tag: "Cancel", signal: request.signal })),
        Effect.catch((e) => Effect.logWarning(`run ${run.runId}: cancel requests cannot be watched: ${e.message}`))
      ),
      { startImmediately: true }
    )
    const resolution = yield* resolveExecutable(deps.bootstrap, run)
    if (resolution._tag !== "Executable") {
      yield* publish(run, { _tag: "Started", runId: run.runId, pid: null })
      if (resolution._tag === "Unavailable") return { exit: null, action: { _tag: "None" }, runtimeUnavailable: resolution.facts }
      // Cancelled, or out of time, before there was an agent to stop.
      return {
        exit: null,
        action: resolution.request._tag === "Deadline"
          ? { _tag: "Deadline", timeoutMs: run.spec.timeoutMs ?? 0, stop: noStop }
          : { _tag: "Cancel", signal: resolution.request.signal, stop: null }
      }
    }
    if (run.spec.claudePath === null) run.record = withExecutable(run.record, resolution.path, run.argv, run.redactor)
    const events = yield* deps.store.openEvents(run.runId)
    const stderrLog = yield* deps.store.openStderr(run.runId)

    const spawned = yield* Effect.result(deps.agents.spawn({
      executable: resolution.path,
      args: run.argv,
      cwd: run.spec.cwd,
      // The run cookie: every process of the run inherits it, so the final sweep finds them all.
      env: { ...run.spec.env, [runCookieName]: run.runId },
      stdin: run.spec.prompt
    }))
    if (spawned._tag === "Failure") {
      const e = spawned.failure
      yield* publish(run, { _tag: "Started", runId: run.runId, pid: null })
      return { exit: null, action: { _tag: "None" }, spawnFailure: { path: e.path, reason: e.reason, errno: e.errno, detail: e.detail } }
    }
    const handle = spawned.success
    run.oomBefore = Fiber.join(yield* Effect.forkScoped(deps.table.oomKillCount))
    const startTicks = yield* deps.table.stat(handle.pid).pipe(
      Effect.map(Option.match({ onNone: () => null, onSome: (p) => p.startTimeTicks })),
      Effect.catch(() => Effect.succeed(null))
    )
    // From here on the agent exists: whatever ends the lifecycle stops it.
    run.agent = { handle, startTicks, readers: null }
    run.record = withAgent(run.record, { pid: handle.pid, startTicks, executed: handle.executable }, run.redactor)
    yield* deps.store.writeRecord(run.record)
    yield* publish(run, { _tag: "Started", runId: run.runId, pid: handle.pid })
    const readers = yield* startReaders({
      runId: run.runId,
      agent: handle,
      redactor: run.redactor,
      progress: run.progress,
      events,
      stderrLog,
      // Once: the running record names its session (list/inspect --json), as `logs -f` would.
      onSession: (session) =>
        Effect.suspend(() => {
          run.record = { ...run.record, session }
          return deps.store.writeRecord(run.record)
        }).pipe(Effect.catch((e) => Effect.logWarning(`run ${run.runId}: ${e.message}`)))
    })
    const agent = { handle, startTicks, readers }
    run.agent = agent
    return yield* supervise(deps, run, agent)
  })

/**
 * The lifecycle did not reach its normal end (interrupted, a store failure, a defect): stop the
 * agent if it still runs, sweep, drain, and conclude.
 */
const abandon = (deps: LifecycleDeps, run: LocalRun, cause: Cause.Cause<RunStoreError>) =>
  Effect.gen(function*() {
    const shutdown = Cause.hasInterruptsOnly(cause)
    yield* shutdown
      ? Effect.logDebug(`run ${run.runId}: the backend is shutting down; stopping the run`)
      : Effect.logWarning(`run ${run.runId}: supervision failed; stopping the agent`, cause)
    let stop: StopReport | null = null
    let exit: ExitStatus | null = null
    const agent = run.agent
    if (agent !== null) {
      if ((yield* agent.handle.exited) === null) stop = yield* deps.stopper.stop(agent.handle, { grace: deps.graceFor(run) })
      exit = yield* agent.handle.exited
      yield* sweepAndDrain(deps, run, agent)
    }
    const conclusion: Conclusion = shutdown
      ? { exit, action: { _tag: "Cancel", signal: null, stop, by: "shutdown" } }
      : { exit, action: { _tag: "None" }, supervisionFailure: failureOf(cause, stop) }
    yield* finish(deps, run, conclusion)
  })

/**
 * Runs `run` to its end (see the module doc). Never fails; the result is in the run's handle.
 * Interrupting it (the backend's registry closing) ends the run `Cancelled` by "shutdown".
 */
export const lifecycle = (deps: LifecycleDeps, run: LocalRun): Effect.Effect<void> =>
  body(deps, run).pipe(
    Effect.onExit((exit) => Exit.isSuccess(exit) ? finish(deps, run, exit.value) : abandon(deps, run, exit.cause)),
    // The agent's scope (its last-resort SIGKILL) closes after the stop above had its chance.
    Effect.scoped,
    Effect.catchCause((cause) => finishedOrFailed(deps, run, messageOf(Cause.squash(cause)))),
    Effect.ensuring(Effect.suspend(() => finishedOrFailed(deps, run, "the run ended without a verdict")))
  )
