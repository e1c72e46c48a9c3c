/**
 * The one way agentrun stops an agent, shared by the deadline, cancellation and the hang
 * watchdog, over a {@link StopTarget} (a local process; a Pod the same way, see StopTarget.ts):
 *
 * 1. SIGINT to the agent pid only. claude treats it like Ctrl-C: it aborts the turn, writes a
 *    `result` (with cost and session id) and exits. Wait `interruptGrace` (default 10 s).
 * 2. SIGTERM to the agent's process group. Wait `terminateGrace` (default 20 s).
 * 3. SIGKILL to every process of the run still alive — found in /proc by session, group and
 *    parentage, so a grandchild holding stdout open cannot keep the run alive.
 *
 * After SIGKILL it waits `killGrace` (5 s) and no longer: a process in uninterruptible sleep can
 * outlive SIGKILL, and a stop must end (the report then says `ended: false`).
 *
 * Waits use Effect's Clock, so tests drive them with TestClock.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { StopReport, StopStep } from "../domain/Evidence.ts"
import { defaultStopGraceSettings, type StopGraceSettings } from "../domain/Run.ts"
import { ProcessControl } from "../procfs/ProcessControl.ts"
import { ProcessTable } from "../procfs/ProcessTable.ts"
import { killRunTree, type RunCookie } from "./RunTree.ts"
import type { StopDelivery, StopTarget } from "./StopTarget.ts"

export type { RunCookie } from "./RunTree.ts"
export type { StopDelivery, StopTarget } from "./StopTarget.ts"

/** The name of the run cookie variable; its value is the run id. */
export const runCookieName = "AGENTRUN_RUN_ID"

/** Grace periods of the stop sequence. Users configure them as `Duration.Input`. */
export interface StopGrace {
  /** How long to wait after SIGINT before escalating (default 10 s). */
  readonly interruptGrace: Duration.Input
  /** How long to wait after SIGTERM before SIGKILL (default 20 s). */
  readonly terminateGrace: Duration.Input
  /** How long to wait for the exit after SIGKILL before giving up (default 5 s; a `D`-state process can outlive it). */
  readonly killGrace: Duration.Input
}

/** A run's configured grace periods (milliseconds) as the stop sequence's. */
export const stopGraceOf = (settings: StopGraceSettings): Pick<StopGrace, "interruptGrace" | "terminateGrace"> => ({
  interruptGrace: settings.interruptGraceMs,
  terminateGrace: settings.terminateGraceMs
})

/** The defaults: the run defaults after SIGINT and SIGTERM (10 s, 20 s: `defaultStopGraceSettings`), 5 s after SIGKILL. */
export const defaultStopGrace: StopGrace = {
  interruptGrace: defaultStopGraceSettings.interruptGraceMs,
  terminateGrace: defaultStopGraceSettings.terminateGraceMs,
  killGrace: "5 seconds"
}

/** Options of {@link StopSequenceShape.stop}. */
export interface StopOptions {
  readonly grace?: Partial<StopGrace>
  /** Start at step 2 (the watchdog sends its own SIGINT probe first). */
  readonly skipInterrupt?: boolean
}

/** The stop sequence's operations. */
export interface StopSequenceShape {
  /**
   * Runs the sequence over `target` until it has ended, or SIGKILL's grace ran out: then it gives
   * up waiting (a process in uninterruptible sleep, `D`, outlives SIGKILL until its I/O returns)
   * and says so in the report (`ended: false`). Reports each step. Never waits unbounded.
   */
  readonly stop: (target: StopTarget, options?: StopOptions) => Effect.Effect<StopReport>
  /**
   * SIGKILLs every process of the run rooted at `rootPid` that is still alive (the root
   * included), and every process carrying the run's `cookie` in its environment (with its
   * session and descendants). Used after the agent has exited, so leftovers cannot hold the
   * run's pipes open or outlive it. Returns the pids signalled.
   */
  readonly sweep: (rootPid: number, cookie?: RunCookie) => Effect.Effect<ReadonlyArray<number>>
}

/**
 * How `target` ended after `report`: its exit when the stop saw it end (or there was no stop), and
 * otherwise what is known now (`exited`), else `unknown`, without waiting: after the stop gave up
 * (`ended: false`) the exit may never come.
 */
export const exitAfterStop = <Exit>(target: StopTarget<Exit>, report: StopReport | null, unknown: Exit): Effect.Effect<Exit> =>
  report?.ended === false ? Effect.map(target.exited, (e) => e ?? unknown) : target.exit

/**
 * The sequence itself (see {@link StopSequenceShape.stop}), for any {@link StopTarget}: the
 * service's `stop`, and the Kubernetes backend's stop of a Pod (k8s/PodStopTarget.ts), which needs
 * no process table. Only the Clock is used: tests drive the graces with TestClock.
 */
export const runStopSequence = (target: StopTarget, options?: StopOptions): Effect.Effect<StopReport> =>
  Effect.gen(function*() {
    const grace = { ...defaultStopGrace, ...options?.grace }
    const start = yield* Effect.clockWith((c) => c.currentTimeMillis)
    const steps: Array<StopStep> = []
    const since = Effect.map(Effect.clockWith((c) => c.currentTimeMillis), (now) => now - start)
    const waitExit = (within: Duration.Input) =>
      Effect.map(Effect.timeoutOption(target.exit, within), (o) => o._tag === "Some")
    const step = (send: Effect.Effect<StopDelivery>, within: Duration.Input) =>
      Effect.gen(function*() {
        const atMs = yield* since
        const sent = yield* send
        const answered = yield* waitExit(within)
        steps.push({
          signal: sent.signal,
          target: sent.target,
          pids: [...sent.pids],
          atMs,
          answered,
          ...(sent.object === undefined ? {} : { object: sent.object })
        })
        return answered
      })
    const done = () => Effect.map(since, (tookMs): StopReport => ({ steps, tookMs, ended: true }))

    if ((yield* target.exited) !== null) return yield* done()
    if (options?.skipInterrupt !== true && (yield* step(target.interrupt, grace.interruptGrace))) return yield* done()
    if ((yield* target.exited) === null && (yield* step(target.terminate, grace.terminateGrace))) return yield* done()
    if ((yield* target.exited) === null && !(yield* step(target.kill, grace.killGrace))) {
      return { steps, tookMs: yield* since, ended: (yield* target.exited) !== null }
    }
    return yield* done()
  })

/** The stop sequence service; depends on {@link ProcessTable} and {@link ProcessControl} (the sweep). */
export class StopSequence extends Context.Service<StopSequence, StopSequenceShape>()("agentrun/StopSequence") {
  static readonly layer = Layer.effect(
    StopSequence,
    Effect.gen(function*() {
      const table = yield* ProcessTable
      const control = yield* ProcessControl

      const sweep = (rootPid: number, cookie?: RunCookie) => killRunTree(table, control, rootPid, cookie)

      const stop = runStopSequence

      return StopSequence.of({ stop, sweep })
    })
  )
}
