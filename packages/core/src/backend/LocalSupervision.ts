/**
 * Supervision of a spawned local agent: the race of its exit, the deadline, a cancel, a hang
 * (the watchdog) and a reader's defect; then the stop that race called for, the sweep of the
 * run's leftover processes, and the drain of its pipes.
 *
 * @module
 */
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { ExitStatus } from "../domain/ExitStatus.ts"
import { defaultWatchdogSettings } from "../domain/Run.ts"
import type { SupervisorAction } from "../domain/Verdict.ts"
import { exitAfterStop, runCookieName, type StopGrace, type StopSequence } from "../process/StopSequence.ts"
import { unknownExit } from "../runs/ForeignAgent.ts"
import { type RunStore, storeArtifacts } from "../store/RunStore.ts"
import type { HangFound, Watchdog } from "../watchdog/Watchdog.ts"
import type { LocalReaders } from "./LocalReaders.ts"
import { type LiveAgent, type LocalRun, publish, untilDeadline } from "./LocalRun.ts"

/** What supervision needs, resolved when the backend is built. */
export interface SupervisionDeps {
  readonly stopper: StopSequence["Service"]
  readonly watchdog: Watchdog["Service"]
  readonly store: RunStore["Service"]
  /** The run's grace periods for the stop sequence. */
  readonly graceFor: (run: LocalRun) => Partial<StopGrace>
  /** How long to keep reading the pipes after the agent ended and its leftovers were killed. */
  readonly drainGrace: Duration.Input
}

/** How supervision ended: what agentrun did, and how the agent exited. */
export interface Supervised {
  readonly action: SupervisorAction
  readonly exit: ExitStatus
}

/**
 * SIGKILLs what is left of the run (its process family, and the processes carrying its cookie:
 * tools that setsid()), then drains the pipes. Run after the agent has ended, on every path.
 */
export const sweepAndDrain = (deps: SupervisionDeps, run: LocalRun, agent: LiveAgent) =>
  Effect.gen(function*() {
    const { handle, startTicks } = agent
    const swept = yield* deps.stopper.sweep(handle.pid, {
      name: runCookieName,
      value: run.runId,
      ...(startTicks === null ? {} : { startedAtTicks: startTicks })
    })
    yield* Effect.logDebug(`run ${run.runId}: swept ${swept.length} leftover process(es)`)
    if (agent.readers !== null) yield* agent.readers.drain(deps.drainGrace)
    yield* Effect.logDebug(`run ${run.runId}: output drained`)
  })

/**
 * Supervises the agent to its end (see the module doc). Fails with a reader's defect (the
 * caller then stops the agent and records SupervisionFailed).
 */
export const supervise = (deps: SupervisionDeps, run: LocalRun, agent: LiveAgent & { readonly readers: LocalReaders }) =>
  Effect.gen(function*() {
    const { handle, readers } = agent
    const spec = run.spec
    // The watchdog completes only on a hang; the race interrupts it when the run ends first.
    const hang = spec.watchdog === null
      ? Effect.never
      : Effect.map(
        deps.watchdog.watch(handle, Effect.sync(() => readers.activity.snapshot()), spec.watchdog),
        (found): { readonly _tag: "Hang"; readonly found: HangFound } => ({ _tag: "Hang", found })
      )
    const first = yield* Effect.raceFirst(
      Effect.map(handle.exit, (exit) => ({ _tag: "Exited" as const, exit })),
      Effect.raceFirst(
        untilDeadline(run),
        Effect.raceFirst(Deferred.await(run.stopRequest), Effect.raceFirst(hang, readers.failure))
      )
    )
    let action: SupervisorAction = { _tag: "None" }
    let exit: ExitStatus
    if (first._tag === "Exited") {
      exit = first.exit
    } else if (first._tag === "Hang") {
      yield* publish(run, { _tag: "Stopping", reason: "hang" })
      const hang = yield* deps.watchdog.triage(handle, first.found, {
        artifacts: storeArtifacts(deps.store, run.runId),
        env: spec.env,
        redactor: run.redactor,
        lastOutput: readers.activity.snapshot().lastLines,
        settings: spec.watchdog ?? defaultWatchdogSettings,
        grace: deps.graceFor(run)
      })
      action = hang
      exit = yield* exitAfterStop(handle, hang.stop, unknownExit)
    } else {
      yield* publish(run, { _tag: "Stopping", reason: first._tag === "Deadline" ? "deadline" : "cancel" })
      const stop = yield* deps.stopper.stop(handle, { grace: deps.graceFor(run) })
      action = first._tag === "Deadline"
        ? { _tag: "Deadline", timeoutMs: spec.timeoutMs ?? 0, stop }
        : { _tag: "Cancel", signal: first.signal, stop }
      // Bounded: after SIGKILL's grace the stop gives up on a process that will not die (`D`
      // state; its report says `ended: false`), and so does supervision, with an unknown exit.
      exit = yield* exitAfterStop(handle, stop, unknownExit)
    }
    // Leftover tool processes must not keep the pipes (and the run) open, nor outlive it.
    yield* Effect.logDebug(`run ${run.runId}: agent ${handle.pid} ended (${first._tag})`)
    yield* sweepAndDrain(deps, run, agent)
    return { action, exit } satisfies Supervised
  })
