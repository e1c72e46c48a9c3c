/**
 * The one way agentrun stops an agent, shared by the deadline, cancellation and the hang
 * watchdog:
 *
 * 1. SIGINT to the agent pid only. claude treats it like Ctrl-C: it aborts the turn, writes a
 *    `result` (with cost and session id) and exits. Wait `interruptGrace` (default 10 s).
 * 2. SIGTERM to the agent's process group. Wait `terminateGrace` (default 20 s).
 * 3. SIGKILL to every process of the run still alive — found in /proc by session, group and
 *    parentage, so a grandchild holding stdout open cannot keep the run alive.
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
import { familyOf } from "../procfs/ProcessFamily.ts"
import { defaultStopGraceSettings, type StopGraceSettings } from "../domain/Run.ts"
import { isZombie, type ProcessInfo } from "../procfs/ProcessInfo.ts"
import { ProcessTable } from "../procfs/ProcessTable.ts"
import type { AgentHandle } from "./AgentProcess.ts"

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
  /** Runs the sequence until the agent has exited (or SIGKILL's grace ran out); reports each step. */
  readonly stop: (agent: AgentHandle, options?: StopOptions) => Effect.Effect<StopReport>
  /**
   * SIGKILLs every process of the run rooted at `rootPid` that is still alive (the root
   * included), and every process carrying the run's `cookie` in its environment (with its
   * session and descendants). Used after the agent has exited, so leftovers cannot hold the
   * run's pipes open or outlive it. Returns the pids signalled.
   */
  readonly sweep: (rootPid: number, cookie?: RunCookie) => Effect.Effect<ReadonlyArray<number>>
}

/** The stop sequence service; depends on {@link ProcessTable}. */
export class StopSequence extends Context.Service<StopSequence, StopSequenceShape>()("agentrun/StopSequence") {
  static readonly layer = Layer.effect(
    StopSequence,
    Effect.gen(function*() {
      const table = yield* ProcessTable

      const sweep = (rootPid: number, cookie?: RunCookie) =>
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
            const delivered = yield* table.kill(p.pid, "SIGKILL").pipe(Effect.catch(() => Effect.succeed("no-such-process" as const)))
            if (delivered === "delivered") signalled.push(p.pid)
          }
          // The group too, for members /proc did not show us in time.
          yield* table.killGroup(rootPid, "SIGKILL").pipe(Effect.ignore)
          return signalled
        })

      const stop = (agent: AgentHandle, options?: StopOptions) =>
        Effect.gen(function*() {
          const grace = { ...defaultStopGrace, ...options?.grace }
          const start = yield* Effect.clockWith((c) => c.currentTimeMillis)
          const steps: Array<StopStep> = []
          const since = Effect.map(Effect.clockWith((c) => c.currentTimeMillis), (now) => now - start)
          const waitExit = (within: Duration.Input) =>
            Effect.map(Effect.timeoutOption(agent.exit, within), (o) => o._tag === "Some")

          const alreadyGone = (yield* agent.exited) !== null
          if (!alreadyGone && options?.skipInterrupt !== true) {
            const atMs = yield* since
            yield* agent.signal("SIGINT")
            const answered = yield* waitExit(grace.interruptGrace)
            steps.push({ signal: "SIGINT", target: "pid", pids: [agent.pid], atMs, answered })
            if (answered) return { steps, tookMs: yield* since }
          }
          if ((yield* agent.exited) === null) {
            const atMs = yield* since
            yield* agent.signalGroup("SIGTERM")
            const answered = yield* waitExit(grace.terminateGrace)
            steps.push({ signal: "SIGTERM", target: "group", pids: [agent.pid], atMs, answered })
            if (answered) return { steps, tookMs: yield* since }
          }
          if ((yield* agent.exited) === null) {
            const atMs = yield* since
            const pids = yield* sweep(agent.pid)
            const answered = yield* waitExit(grace.killGrace)
            steps.push({ signal: "SIGKILL", target: "tree", pids: [...pids], atMs, answered })
          }
          return { steps, tookMs: yield* since }
        })

      return StopSequence.of({ stop, sweep })
    })
  )
}
