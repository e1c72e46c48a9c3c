/**
 * An {@link AgentHandle} for an agent this process did not start (its supervisor is gone), so the
 * shared stop sequence can stop it. We cannot wait(2) for a process that is not our child: its
 * end is observed by polling the process table, and its exit status is unknown.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { ExitStatus } from "../domain/ExitStatus.ts"
import type { AgentHandle } from "../process/AgentProcess.ts"
import { isZombie } from "../procfs/ProcessInfo.ts"
import type { ProcessTableShape } from "../procfs/ProcessTable.ts"

/** The exit status of a process that was not our child: unknowable. */
export const unknownExit: ExitStatus = { exitCode: null, signal: null }

/** Polling period for the end of a foreign process, in milliseconds. */
export const foreignPollMs = 100

/**
 * Whether `pid` is live and, when `startTimeTicks` is known, still the same process (not a reused
 * pid). False when the process table cannot tell.
 */
export const processAlive = (table: ProcessTableShape, pid: number, startTimeTicks: number | null): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    if (startTimeTicks === null) return yield* table.isAlive(pid)
    // One read of its stat answers both: live (not a zombie) and the same process.
    const found = yield* table.stat(pid)
    return Option.isSome(found) && !isZombie(found.value) && found.value.startTimeTicks === startTimeTicks
  }).pipe(Effect.catch(() => Effect.succeed(false)))

/**
 * Wraps a pid we did not spawn. `startTimeTicks` guards against pid reuse: once the pid belongs
 * to another process, the agent counts as gone and is never signalled.
 */
export const foreignAgent = (table: ProcessTableShape, pid: number, startTimeTicks: number | null): AgentHandle => {
  const alive = processAlive(table, pid, startTimeTicks)
  const exited = Effect.map(alive, (a) => (a ? null : unknownExit))
  const exit: Effect.Effect<ExitStatus> = Effect.gen(function*() {
    while (yield* alive) yield* Effect.sleep(foreignPollMs)
    return unknownExit
  })
  const guard = (send: Effect.Effect<boolean>) => Effect.flatMap(alive, (a) => (a ? send : Effect.succeed(false)))
  return {
    pid,
    executable: null,
    stdout: Stream.empty,
    stderr: Stream.empty,
    exit,
    exited,
    signal: (signal) =>
      guard(table.kill(pid, signal).pipe(Effect.map((d) => d === "delivered"), Effect.catch(() => Effect.succeed(false)))),
    signalGroup: (signal) =>
      guard(table.killGroup(pid, signal).pipe(Effect.map((d) => d === "delivered"), Effect.catch(() => Effect.succeed(false))))
  }
}
