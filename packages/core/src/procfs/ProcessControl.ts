/**
 * The process-control boundary: every signal agentrun sends (kill(2) to a pid or to a process
 * group), every "is this pid still that process?" question (liveness, with the `/proc` start-time
 * check against pid reuse), and the system tools the hang watchdog runs (`ps`, `ss`). Nothing else
 * in the core calls `process.kill` or execs a tool.
 *
 * Why a service of its own, next to {@link ProcessTable} (which reads `/proc`): the boundaries that
 * act on real processes they started (AgentProcess, the bootstrap's installers and build lock)
 * need signals and liveness, not a process table; and a test swaps all of it at once. The real
 * `ProcessTable.layer` provides this service too, and the in-memory table of
 * `@agentrun/core/testing` provides an in-memory one over the same simulated processes, so code
 * that reads the table and signals through the control sees one world.
 *
 * The real layers of AgentProcess and Bootstrap provide {@link ProcessControl.layer} themselves:
 * they start real processes, and signalling those through a test double would reach nothing.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as NodeChildProcess from "node:child_process"
import type { SignalName } from "../domain/ExitStatus.ts"
import { ProcfsUnavailable, SignalNotPermitted } from "./ProcfsErrors.ts"
import { errnoCode, isPositiveInteger, readStatFile } from "./StatFile.ts"

/**
 * What kill(2) did: `"delivered"` when the kernel accepted the signal (also for a zombie, which
 * still has its pid), `"no-such-process"` when it answered ESRCH (gone, or reaped). EPERM is the
 * {@link SignalNotPermitted} error instead.
 */
export type SignalDelivery = "delivered" | "no-such-process"

/**
 * Whether a recorded pid is still the recorded process: `"alive"` (live, not a zombie, and, when
 * its start time was recorded, started then), `"gone"` (no such process, or a zombie / dead
 * `X`), `"pid-reused"` (a live process with another start time holds the pid).
 */
export type PidLiveness = "alive" | "gone" | "pid-reused"

/** A system tool run for evidence (`ps`, `ss`): bounded in time and output. */
export interface ToolCommand {
  readonly command: string
  readonly args: ReadonlyArray<string>
  /** Killed (SIGKILL) after this many milliseconds. */
  readonly timeoutMs: number
  /** How a failure names it (`"ps"`, `"ss -tie"`). */
  readonly label: string
}

/** The operations of process control. No method requires a service (R = never). */
export interface ProcessControlShape {
  /**
   * Sends `signal` to one process (kill(2) with `pid > 0`). ESRCH is `"no-such-process"`, EPERM
   * fails with {@link SignalNotPermitted}. A pid that is not an integer > 0 is a defect (kill(2)
   * would signal a whole group or every process).
   */
  kill(pid: number, signal: SignalName): Effect.Effect<SignalDelivery, SignalNotPermitted>

  /**
   * Sends `signal` to every process of group `pgid` (kill(2) with `-pgid`). `"no-such-process"`
   * when the group has no member left; EPERM (no member could be signalled) fails with
   * {@link SignalNotPermitted}. A pgid that is not an integer > 1 is a defect (kill(-1) signals
   * every process we may signal).
   */
  killGroup(pgid: number, signal: SignalName): Effect.Effect<SignalDelivery, SignalNotPermitted>

  /**
   * Whether `pid` is a live process: it exists and is not a zombie (`Z`) or dead (`X`). Without
   * `/proc` (not Linux) it falls back to kill(pid, 0), which cannot tell a zombie from a live
   * process (EPERM counts as alive: the pid exists).
   */
  isAlive(pid: number): Effect.Effect<boolean, ProcfsUnavailable>

  /**
   * Whether `pid` is still the process that had start time `startTimeTicks` (`/proc/PID/stat`
   * field 22, clock ticks since boot): false when it is gone or the pid was reused by another
   * process. A zombie of the same process matches. Fails with {@link ProcfsUnavailable}.
   */
  startTimeMatches(pid: number, startTimeTicks: number): Effect.Effect<boolean, ProcfsUnavailable>

  /**
   * The one liveness check of a recorded process (see {@link PidLiveness}), from one read of its
   * stat. `startTimeTicks` null (not recorded): {@link isAlive}, never `"pid-reused"`. With a start
   * time it needs `/proc`, and fails with {@link ProcfsUnavailable} without it: each caller decides
   * what "cannot tell" means (a supervisor counts as alive, an agent to be signalled as gone).
   */
  liveness(pid: number, startTimeTicks: number | null): Effect.Effect<PidLiveness, ProcfsUnavailable>

  /**
   * Runs a system tool and returns its stdout; fails with a one-line reason (`"<label> failed:
   * ENOENT"`) when it is missing, exits non-zero or outlives `timeoutMs`. Output is capped at
   * 16 MiB. Interrupting it SIGKILLs the tool.
   */
  execText(tool: ToolCommand): Effect.Effect<string, string>
}

/** The process-control service. See the module documentation. */
export class ProcessControl extends Context.Service<ProcessControl, ProcessControlShape>()("agentrun/ProcessControl") {
  /** The real control: kill(2) through Node's `process.kill`, `/proc/PID/stat`, node:child_process. */
  static readonly layer: Layer.Layer<ProcessControl> = Layer.sync(ProcessControl, () => ProcessControl.of(makeNodeProcessControl()))
}

/** Whether this machine has a readable `/proc` (Linux). Read once. */
const hasProcfs = (): boolean => process.platform === "linux" && Option.isSome(readStatFile("/proc/self/stat"))

const unavailableError = () =>
  new ProcfsUnavailable({
    message: `no /proc process table on platform ${process.platform}`,
    path: "/proc",
    code: null,
    platform: process.platform
  })

/**
 * kill(2), synchronously: the one place the core calls `process.kill`. Throws nothing: ESRCH is
 * `"no-such-process"`, EPERM `"not-permitted"`; any other errno (EINVAL: an unknown signal) is
 * thrown, a defect.
 */
const killNow = (target: number, signal: SignalName | 0): SignalDelivery | "not-permitted" => {
  try {
    process.kill(target, signal)
    return "delivered"
  } catch (cause) {
    const code = errnoCode(cause)
    if (code === "ESRCH") return "no-such-process"
    if (code === "EPERM") return "not-permitted"
    throw cause
  }
}

/**
 * The liveness rule (see {@link ProcessControlShape.liveness}), synchronous, for the real layers
 * that check inside a synchronous critical section (the bootstrap's build lock). Without `/proc`
 * and with a start time to check, it cannot tell reuse apart and answers from kill(pid, 0).
 */
export const pidLivenessNow = (pid: number, startTimeTicks: number | null): PidLiveness => {
  if (!isPositiveInteger(pid)) return "gone"
  if (!procfsHere()) return killNow(pid, 0) === "no-such-process" ? "gone" : "alive"
  const stat = readStatFile(`/proc/${pid}/stat`)
  if (Option.isNone(stat) || stat.value.state === "Z" || stat.value.state === "X") return "gone"
  return startTimeTicks === null || stat.value.startTimeTicks === startTimeTicks ? "alive" : "pid-reused"
}

let procfsKnown: boolean | undefined
const procfsHere = (): boolean => (procfsKnown ??= hasProcfs())

/** Builds the real control (see {@link ProcessControl.layer}). */
export const makeNodeProcessControl = (): ProcessControlShape => {
  const procfs = procfsHere()

  const send = (target: "process" | "group", id: number, signal: SignalName): Effect.Effect<SignalDelivery, SignalNotPermitted> =>
    Effect.suspend(() => {
      if (target === "process" ? !isPositiveInteger(id) : !(Number.isInteger(id) && id > 1)) {
        return Effect.die(new Error(`refusing to signal ${target} ${id}: kill(2) would reach a whole group or every process`))
      }
      const outcome = killNow(target === "process" ? id : -id, signal)
      return outcome === "not-permitted"
        ? Effect.fail(
          new SignalNotPermitted({ message: `not permitted to send ${signal} to ${target} ${id} (EPERM)`, target, id, signal })
        )
        : Effect.succeed(outcome)
    })

  const isAlive = (pid: number): Effect.Effect<boolean, ProcfsUnavailable> =>
    Effect.sync(() => pidLivenessNow(pid, null) === "alive")

  const startTimeMatches = (pid: number, startTimeTicks: number): Effect.Effect<boolean, ProcfsUnavailable> =>
    procfs
      ? Effect.sync(() =>
        isPositiveInteger(pid) &&
        Option.match(readStatFile(`/proc/${pid}/stat`), { onNone: () => false, onSome: (s) => s.startTimeTicks === startTimeTicks })
      )
      : Effect.fail(unavailableError())

  const liveness = (pid: number, startTimeTicks: number | null): Effect.Effect<PidLiveness, ProcfsUnavailable> =>
    startTimeTicks !== null && !procfs ? Effect.fail(unavailableError()) : Effect.sync(() => pidLivenessNow(pid, startTimeTicks))

  const execText = (tool: ToolCommand): Effect.Effect<string, string> =>
    Effect.callback<string, string>((resume) => {
      const child = NodeChildProcess.execFile(tool.command, [...tool.args], { timeout: tool.timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
        if (error === null) resume(Effect.succeed(stdout))
        else resume(Effect.fail(`${tool.label} failed: ${(error as NodeJS.ErrnoException).code ?? error.message}`))
      })
      return Effect.sync(() => child.kill("SIGKILL"))
    })

  return {
    kill: (pid, signal) => send("process", pid, signal),
    killGroup: (pgid, signal) => send("group", pgid, signal),
    isAlive,
    startTimeMatches,
    liveness,
    execText
  }
}
