/**
 * An {@link AgentHandle} for an agent this process did not start (its supervisor is gone), so the
 * shared stop sequence can stop it (it is a {@link StopTarget} like any handle). We cannot
 * wait(2) for a process that is not our child: its end is observed by polling its liveness
 * (ProcessControl, with the start-time check), and its exit status is unknown.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { ExitStatus } from "../domain/ExitStatus.ts"
import { type AgentHandle, agentStopSteps, type StopSignal } from "../process/AgentProcess.ts"
import { killRunTree } from "../process/RunTree.ts"
import type { ProcessControlShape } from "../procfs/ProcessControl.ts"
import type { ProcessTableShape } from "../procfs/ProcessTable.ts"

/** The exit status of a process that was not our child: unknowable. */
export const unknownExit: ExitStatus = { exitCode: null, signal: null }

/** Polling period for the end of a foreign process, in milliseconds. */
export const foreignPollMs = 100

/**
 * Whether `pid` is live and, when `startTimeTicks` is known, still the same process (not a reused
 * pid): {@link ProcessControlShape.liveness} is `"alive"`. False when it cannot tell, so a process
 * we cannot identify is never signalled.
 */
export const processAlive = (control: ProcessControlShape, pid: number, startTimeTicks: number | null): Effect.Effect<boolean> =>
  control.liveness(pid, startTimeTicks).pipe(
    Effect.map((l) => l === "alive"),
    Effect.catch(() => Effect.succeed(false))
  )

/**
 * Wraps a pid we did not spawn. `startTimeTicks` guards against pid reuse: once the pid belongs
 * to another process, the agent counts as gone and is never signalled. `kill` SIGKILLs its tree
 * as found in `table`.
 */
export const foreignAgent = (
  table: ProcessTableShape,
  control: ProcessControlShape,
  pid: number,
  startTimeTicks: number | null
): AgentHandle => {
  const alive = processAlive(control, pid, startTimeTicks)
  const exited = Effect.map(alive, (a) => (a ? null : unknownExit))
  const exit: Effect.Effect<ExitStatus> = alive.pipe(
    Effect.repeat({ schedule: Schedule.spaced(foreignPollMs), until: (a) => !a }),
    Effect.as(unknownExit)
  )
  const guard = (send: Effect.Effect<boolean>) => Effect.flatMap(alive, (a) => (a ? send : Effect.succeed(false)))
  const signal = (signal: StopSignal) =>
    guard(control.kill(pid, signal).pipe(Effect.map((d) => d === "delivered"), Effect.catch(() => Effect.succeed(false))))
  const signalGroup = (signal: StopSignal) =>
    guard(control.killGroup(pid, signal).pipe(Effect.map((d) => d === "delivered"), Effect.catch(() => Effect.succeed(false))))
  const killTree = Effect.flatMap(alive, (a) => (a ? killRunTree(table, control, pid) : Effect.succeed([])))
  return {
    pid,
    executable: null,
    stdout: Stream.empty,
    stderr: Stream.empty,
    exit,
    exited,
    signal,
    signalGroup,
    ...agentStopSteps(pid, signal, signalGroup, killTree)
  }
}
