/**
 * Killing what is left of a run: every process of its tree (found in /proc by session, group and
 * parentage, so a grandchild holding stdout open cannot keep the run alive), and every process
 * carrying the run's cookie in its environment (tools that setsid() out of the agent's session).
 * The last step of the stop sequence ({@link StopTarget.kill} of a local agent) and the sweep at
 * the end of every run.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import type { ProcessControlShape } from "../procfs/ProcessControl.ts"
import { familyOf } from "../procfs/ProcessFamily.ts"
import { isZombie, type ProcessInfo } from "../procfs/ProcessInfo.ts"
import type { ProcessTableShape } from "../procfs/ProcessTable.ts"

/**
 * An environment variable agentrun sets on the agent, which every process it starts inherits:
 * it marks the run's processes (see `ProcessTable.withEnvironment`).
 */
export interface RunCookie {
  readonly name: string
  readonly value: string
  /** The agent's start time (clock ticks since boot): older processes cannot carry the cookie and are not read. */
  readonly startedAtTicks?: number
}

/**
 * SIGKILLs every live process of the run rooted at `rootPid` (the root included) and, with a
 * `cookie`, every process carrying it (with its session and descendants); then the root's process
 * group, for members /proc did not show in time. Returns the pids signalled. Never fails: a table
 * that cannot be read leaves only the group kill.
 */
export const killRunTree = (
  table: ProcessTableShape,
  control: ProcessControlShape,
  rootPid: number,
  cookie?: RunCookie
): Effect.Effect<ReadonlyArray<number>> =>
  Effect.gen(function*() {
    // One snapshot of the table serves the family and the cookie search.
    const all = yield* table.listStatOnly.pipe(Effect.catch(() => Effect.succeed([] as ReadonlyArray<ProcessInfo>)))
    const members = new Map<number, ProcessInfo>()
    for (const p of familyOf(all, rootPid, true)) members.set(p.pid, p)
    // Processes carrying the run's cookie, with their own sessions and descendants: a tool
    // that setsid()s is not in the agent's session, and once the agent is gone nothing else
    // links it to the run. Only processes started since the run began can carry it.
    if (cookie !== undefined) {
      const candidates = all.filter((p) =>
        !members.has(p.pid) && (cookie.startedAtTicks === undefined || p.startTimeTicks >= cookie.startedAtTicks)
      )
      const marked = candidates.length === 0
        ? []
        : yield* table.withEnvironment(cookie.name, cookie.value, candidates).pipe(
          Effect.catch(() => Effect.succeed([] as ReadonlyArray<ProcessInfo>))
        )
      for (const m of marked) for (const p of familyOf(all, m.pid, true)) members.set(p.pid, p)
    }
    const signalled: Array<number> = []
    for (const p of members.values()) {
      if (isZombie(p)) continue
      const delivered = yield* control.kill(p.pid, "SIGKILL").pipe(Effect.catch(() => Effect.succeed("no-such-process" as const)))
      if (delivered === "delivered") signalled.push(p.pid)
    }
    // The group too, for members /proc did not show us in time.
    yield* control.killGroup(rootPid, "SIGKILL").pipe(Effect.ignore)
    return signalled
  })
