/**
 * An in-memory process table for tests of code that lists and signals processes (the stop
 * sequence, the hang watchdog). Tests seed processes, script how each reacts to each signal, and
 * read back the ordered log of the signals sent. Delayed reactions follow the Effect `Clock`, so
 * `TestClock.adjust` drives them.
 *
 * Semantics follow Linux (signal(7), kill(2)): SIGKILL always terminates and SIGSTOP always stops
 * (their reactions cannot be changed); a stopped process keeps other signals pending until
 * SIGCONT; a process in uninterruptible sleep (state `D`, seeded or set with `update`) keeps
 * every signal pending, SIGKILL included, until its state changes; an exited process disappears, or stays as a zombie (state `Z`, still signallable with
 * no effect) when seeded with `zombieOnExit` until {@link ProcessTableTestControls.reap}; its
 * children are reparented to pid 1.
 *
 * @module
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { SignalName } from "../domain/ExitStatus.ts"
import { SignalNumbers } from "../domain/ExitStatus.ts"
import { familyOf } from "./ProcessFamily.ts"
import { isZombie, stateMeaning } from "./ProcessInfo.ts"
import type { ProcessInfo } from "./ProcessInfo.ts"
import type { IoEvidence, ProcessInspection } from "./ProcessInspection.ts"
import type { ProcStatus } from "./ProcStatus.ts"
import { SignalNotPermitted } from "./ProcfsErrors.ts"
import { ProcessControl, type PidLiveness, type ProcessControlShape, type SignalDelivery, type ToolCommand } from "./ProcessControl.ts"
import { type FamilyOptions, ProcessTable, type ProcessTableShape } from "./ProcessTable.ts"
import { decodeSignalMask } from "./SignalMask.ts"

/**
 * How a seeded process reacts to a signal:
 * - `"default"`: the signal's default action (signal(7), "Standard signals": terminate for
 *   SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1...; ignore for SIGCHLD, SIGURG, SIGWINCH; stop for
 *   SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU; continue for SIGCONT);
 * - `"exit"`: a handler that exits at once;
 * - `"ignore"`: the signal is ignored (SIG_IGN, or a handler that does nothing);
 * - `{ exitAfterMs }`: a handler that cleans up and exits `exitAfterMs` milliseconds (Clock time)
 *   later; a second such signal does not postpone an earlier exit.
 */
export type SignalReaction = "default" | "exit" | "ignore" | { readonly exitAfterMs: number }

/** A process to put in the in-memory table. Only `pid` is required. */
export interface SeedProcess {
  readonly pid: number
  /** Default 1 (an orphan of init). */
  readonly ppid?: number
  /** Default: the parent's pgid when the parent is in the table (as fork does), else `pid`. */
  readonly pgid?: number
  /** Default: the parent's sid when the parent is in the table, else `pid`. */
  readonly sid?: number
  /** State letter (see ProcessStates). Default `"S"`. Seed `"Z"` for a zombie. */
  readonly state?: string
  /** Default `["sleep", "1000"]`. */
  readonly cmdline?: ReadonlyArray<string>
  /** Default: the base name of `cmdline[0]`, truncated to 15 bytes like the kernel's comm. */
  readonly comm?: string
  /** Clock ticks since boot. Default: increasing with each seeded process. */
  readonly startTimeTicks?: number
  readonly utimeTicks?: number
  readonly stimeTicks?: number
  readonly numThreads?: number
  /** Its environment; default: the parent's, as fork/exec passes it on (empty without a parent). */
  readonly environ?: Readonly<Record<string, string>>
  /** Reactions by signal; unlisted signals take `"default"`. */
  readonly reactions?: Partial<Record<SignalName, SignalReaction>>
  /** When it exits, stay as a zombie (state `Z`) until reaped. Default false (disappears). */
  readonly zombieOnExit?: boolean
  /** Signalling it fails with EPERM ({@link SignalNotPermitted}). Default false. */
  readonly signalDenied?: boolean
}

/**
 * One signal sent through the table, in order: `target` `"process"` (kill(pid)) or `"group"`
 * (kill(-pgid)), the pid/pgid, the signal, what the sender was told, and when (Clock ms).
 */
export interface SignalLogEntry {
  readonly target: "process" | "group"
  readonly id: number
  readonly signal: SignalName
  readonly outcome: SignalDelivery | "not-permitted"
  readonly atMs: number
}

/** What {@link ProcessTableTestControls.update} can change. CPU times in clock ticks, rchar in bytes. */
export interface ProcessChange {
  readonly utimeTicks?: number
  readonly stimeTicks?: number
  readonly rchar?: number
  readonly state?: string
}

/** The controls of the in-memory table, and the table itself. */
export interface ProcessTableTestControls {
  /** The {@link ProcessTableShape} these controls drive (what `ProcessTable` is in tests). */
  readonly table: ProcessTableShape
  /**
   * The {@link ProcessControlShape} over the same processes (what `ProcessControl` is in tests):
   * signals apply the scripted reactions and are logged; liveness reads the table; `execText`
   * answers what {@link setToolOutput} scripted, and fails like a missing tool otherwise.
   */
  readonly control: ProcessControlShape
  /** What `execText` of `command` prints from now on; null: it fails as if not installed (ENOENT). */
  setToolOutput(command: string, stdout: string | null): Effect.Effect<void>
  /** Adds processes (replacing any with the same pid). Parents should be seeded before children. */
  seed(...processes: ReadonlyArray<SeedProcess>): Effect.Effect<void>
  /** Sets how `pid` reacts to `signal` from now on. No-op for an unknown pid. */
  setReaction(pid: number, signal: SignalName, reaction: SignalReaction): Effect.Effect<void>
  /** The process exits on its own now (e.g. it finished); a zombie if seeded `zombieOnExit`. */
  exit(pid: number): Effect.Effect<void>
  /** The parent waited for the zombie `pid`: it leaves the table. No-op unless it is a zombie. */
  reap(pid: number): Effect.Effect<void>
  /**
   * Changes a live process's counters or state as time passes (CPU ticks, `/proc/PID/io` rchar,
   * state letter), for tests of code that samples them (the hang watchdog). No-op for an unknown pid.
   */
  update(pid: number, change: ProcessChange): Effect.Effect<void>
  /** Every signal sent so far, oldest first. */
  readonly signalLog: Effect.Effect<ReadonlyArray<SignalLogEntry>>
  /** Empties the signal log. */
  readonly clearSignalLog: Effect.Effect<void>
  /** What `oomKillCount` answers. Initially `Option.none()`. */
  setOomKillCount(count: Option.Option<number>): Effect.Effect<void>
}

interface Entry {
  info: ProcessInfo
  reactions: Partial<Record<SignalName, SignalReaction>>
  zombieOnExit: boolean
  signalDenied: boolean
  /** State to return to on SIGCONT. */
  stateBeforeStop: string
  /** Signals generated while stopped, delivered on SIGCONT. */
  pending: Array<SignalName>
  /** Clock ms at which a delayed exit happens. */
  exitAtMs: number | null
  /** What `io` and `inspect` report; unset: unavailable. */
  io?: IoEvidence
  /** Its environment (what `withEnvironment` matches). */
  environ: Readonly<Record<string, string>>
}

type DefaultAction = "terminate" | "ignore" | "stop" | "continue"

/** Default actions from signal(7), "Standard signals" (Term and Core both terminate). */
const defaultAction = (signal: SignalName): DefaultAction => {
  switch (signal) {
    case "SIGCHLD":
    case "SIGURG":
    case "SIGWINCH":
      return "ignore"
    case "SIGSTOP":
    case "SIGTSTP":
    case "SIGTTIN":
    case "SIGTTOU":
      return "stop"
    case "SIGCONT":
      return "continue"
    default:
      return "terminate"
  }
}

const basename = (path: string): string => path.slice(path.lastIndexOf("/") + 1)

/**
 * Builds an in-memory table and its controls. The table's methods never fail with
 * ProcfsUnavailable; `kill`/`killGroup` fail with {@link SignalNotPermitted} for processes seeded
 * `signalDenied`, and die for pids kill(2) would broadcast to, like the real table.
 */
export const makeInMemoryProcessTable: Effect.Effect<ProcessTableTestControls> = Effect.sync(() => {
  const entries = new Map<number, Entry>()
  const log: Array<SignalLogEntry> = []
  let oomKills: Option.Option<number> = Option.none()
  let nextStartTime = 1_000
  const toolOutputs = new Map<string, string>()

  const terminate = (entry: Entry): void => {
    const pid = entry.info.pid
    for (const child of entries.values()) {
      if (child.info.ppid === pid && child !== entry) child.info = { ...child.info, ppid: 1 }
    }
    if (entry.zombieOnExit) {
      entry.info = { ...entry.info, state: "Z", stateMeaning: stateMeaning("Z"), cmdline: [], numThreads: 1 }
      entry.exitAtMs = null
      entry.pending = []
    } else {
      entries.delete(pid)
    }
  }

  /** Applies delayed exits that are due at `now`. */
  const settle = (now: number): void => {
    for (const entry of [...entries.values()]) {
      if (entry.exitAtMs !== null && entry.exitAtMs <= now && !isZombie(entry.info)) terminate(entry)
    }
  }

  const setState = (entry: Entry, state: string): void => {
    entry.info = { ...entry.info, state, stateMeaning: stateMeaning(state) }
  }

  const act = (entry: Entry, signal: SignalName, now: number): void => {
    if (isZombie(entry.info)) return
    // Uninterruptible sleep: nothing is delivered, SIGKILL included, until the wait ends.
    if (entry.info.state === "D") {
      entry.pending.push(signal)
      return
    }
    if (signal === "SIGKILL") return terminate(entry)
    if (signal === "SIGSTOP") {
      if (entry.info.state !== "T") entry.stateBeforeStop = entry.info.state
      return setState(entry, "T")
    }
    const reaction = entry.reactions[signal] ?? "default"
    if (signal === "SIGCONT" && entry.info.state === "T") {
      setState(entry, entry.stateBeforeStop)
      const pending = entry.pending
      entry.pending = []
      if (reaction !== "default") applyReaction(entry, reaction, now)
      for (const p of pending) act(entry, p, now)
      return
    }
    if (reaction === "ignore" || (reaction === "default" && defaultAction(signal) === "ignore")) return
    if (entry.info.state === "T") {
      entry.pending.push(signal)
      return
    }
    if (reaction === "default") {
      const action = defaultAction(signal)
      if (action === "terminate") return terminate(entry)
      if (action === "stop") {
        entry.stateBeforeStop = entry.info.state
        return setState(entry, "T")
      }
      return
    }
    applyReaction(entry, reaction, now)
  }

  const applyReaction = (entry: Entry, reaction: SignalReaction, now: number): void => {
    if (reaction === "exit") return terminate(entry)
    if (typeof reaction === "object") {
      const at = now + Math.max(0, reaction.exitAfterMs)
      entry.exitAtMs = entry.exitAtMs === null ? at : Math.min(entry.exitAtMs, at)
      if (at <= now) terminate(entry)
    }
  }

  const withNow = <A>(f: (now: number) => A): Effect.Effect<A> =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      settle(now)
      return f(now)
    })

  const snapshot = (): ReadonlyArray<ProcessInfo> =>
    [...entries.values()].map((e) => e.info).sort((a, b) => a.pid - b.pid)

  const send = (target: "process" | "group", id: number, signal: SignalName): Effect.Effect<SignalDelivery, SignalNotPermitted> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (target === "process" ? !(Number.isInteger(id) && id > 0) : !(Number.isInteger(id) && id > 1)) {
        return Effect.die(new Error(`refusing to signal ${target} ${id}: kill(2) would reach a whole group or every process`))
      }
      settle(now)
      const targets = [...entries.values()].filter((e) => (target === "process" ? e.info.pid === id : e.info.pgid === id))
      const permitted = targets.filter((e) => !e.signalDenied)
      const outcome: SignalLogEntry["outcome"] = targets.length === 0
        ? "no-such-process"
        : permitted.length === 0
        ? "not-permitted"
        : "delivered"
      log.push({ target, id, signal, outcome, atMs: now })
      if (outcome === "not-permitted") {
        return Effect.fail(
          new SignalNotPermitted({ message: `not permitted to send ${signal} to ${target} ${id} (EPERM)`, target, id, signal })
        )
      }
      for (const entry of permitted) act(entry, signal, now)
      return Effect.succeed(outcome)
    })

  const maskOf = (signals: ReadonlyArray<SignalName>) => {
    let bits = 0n
    for (const s of signals) bits |= 1n << BigInt(SignalNumbers[s] - 1)
    return decodeSignalMask(bits.toString(16).padStart(16, "0"))
  }

  const inspectEntry = (entry: Entry): ProcessInspection => {
    const reacting = (pred: (r: SignalReaction) => boolean) =>
      (Object.entries(entry.reactions) as Array<[SignalName, SignalReaction]>)
        .filter(([s, r]) => s !== "SIGKILL" && s !== "SIGSTOP" && pred(r))
        .map(([s]) => s)
    const status: ProcStatus = {
      state: entry.info.state,
      stateMeaning: entry.info.stateMeaning,
      pending: maskOf(entry.pending),
      sharedPending: maskOf([]),
      blocked: maskOf([]),
      ignored: maskOf(reacting((r) => r === "ignore")),
      caught: maskOf(reacting((r) => r === "exit" || typeof r === "object")),
      threads: entry.info.numThreads,
      voluntaryCtxtSwitches: null,
      nonvoluntaryCtxtSwitches: null,
      vmRssKb: null
    }
    return {
      info: entry.info,
      status: { _tag: "Available", status },
      threads: {
        _tag: "Available",
        threads: [{
          tid: entry.info.pid,
          comm: entry.info.comm,
          state: entry.info.state,
          stateMeaning: entry.info.stateMeaning,
          wchan: "unavailable",
          utimeTicks: entry.info.utimeTicks,
          stimeTicks: entry.info.stimeTicks
        }]
      },
      io: entry.io ?? { _tag: "Unavailable", reason: "in-memory process table" },
      fds: { _tag: "Available", fds: [] }
    }
  }

  const table: ProcessTableShape = {
    clockTicksPerSecond: 100,
    info: (pid) => withNow(() => Option.fromUndefinedOr(entries.get(pid)?.info)),
    stat: (pid) => withNow(() => Option.map(Option.fromUndefinedOr(entries.get(pid)?.info), (p) => ({ ...p, cmdline: [] }))),
    list: withNow(snapshot),
    listStatOnly: withNow(() => snapshot().map((p) => ({ ...p, cmdline: [] }))),
    family: (pid: number, options?: FamilyOptions) =>
      withNow(() => familyOf(snapshot().map((p) => ({ ...p, cmdline: [] })), pid, options?.includeRoot ?? false)),
    inspect: (pid) => withNow(() => Option.map(Option.fromUndefinedOr(entries.get(pid)), inspectEntry)),
    children: (pid) => withNow(() => snapshot().filter((p) => p.ppid === pid && p.pid !== pid).map((p) => p.pid)),
    // In-memory processes hold no fds (their inspection lists none).
    socketInodes: () => withNow((): ReadonlyArray<number> => []),
    withEnvironment: (name, value, among) =>
      withNow(() =>
        [...entries.values()]
          .filter((e) => among === undefined || among.some((p) => p.pid === e.info.pid))
          .filter((e) => !isZombie(e.info) && e.environ[name] === value)
          .map((e) => e.info)
          .sort((a, b) => a.pid - b.pid)
      ),
    io: (pid) =>
      withNow(() =>
        Option.map(Option.fromUndefinedOr(entries.get(pid)), (e) => e.io ?? { _tag: "Unavailable" as const, reason: "in-memory process table" })
      ),
    oomKillCount: Effect.sync(() => oomKills)
  }

  const isAlive = (pid: number) =>
    withNow(() => {
      const entry = entries.get(pid)
      return entry !== undefined && !isZombie(entry.info)
    })

  const control: ProcessControlShape = {
    kill: (pid, signal) => send("process", pid, signal),
    killGroup: (pgid, signal) => send("group", pgid, signal),
    isAlive,
    startTimeMatches: (pid, startTimeTicks) => withNow(() => entries.get(pid)?.info.startTimeTicks === startTimeTicks),
    liveness: (pid, startTimeTicks) =>
      withNow((): PidLiveness => {
        const entry = entries.get(pid)
        if (entry === undefined || isZombie(entry.info)) return "gone"
        return startTimeTicks === null || entry.info.startTimeTicks === startTimeTicks ? "alive" : "pid-reused"
      }),
    execText: (tool: ToolCommand) =>
      Effect.suspend(() => {
        const out = toolOutputs.get(tool.command)
        return out === undefined ? Effect.fail(`${tool.label} failed: ENOENT`) : Effect.succeed(out)
      })
  }

  const controls: ProcessTableTestControls = {
    table,
    control,
    setToolOutput: (command, stdout) =>
      Effect.sync(() => {
        if (stdout === null) toolOutputs.delete(command)
        else toolOutputs.set(command, stdout)
      }),
    seed: (...processes) =>
      withNow((now) => {
        for (const p of processes) {
          const parent = p.ppid === undefined ? undefined : entries.get(p.ppid)
          const cmdline = p.cmdline ?? ["sleep", "1000"]
          const state = p.state ?? "S"
          const startTimeTicks = p.startTimeTicks ?? nextStartTime++
          entries.set(p.pid, {
            info: {
              pid: p.pid,
              ppid: p.ppid ?? 1,
              pgid: p.pgid ?? parent?.info.pgid ?? p.pid,
              sid: p.sid ?? parent?.info.sid ?? p.pid,
              state,
              stateMeaning: stateMeaning(state),
              comm: p.comm ?? basename(cmdline[0] ?? "proc").slice(0, 15),
              cmdline,
              utimeTicks: p.utimeTicks ?? 0,
              stimeTicks: p.stimeTicks ?? 0,
              startTimeTicks,
              startTimeEpochMs: now,
              numThreads: p.numThreads ?? 1
            },
            reactions: { ...p.reactions },
            environ: p.environ ?? parent?.environ ?? {},
            zombieOnExit: p.zombieOnExit ?? false,
            signalDenied: p.signalDenied ?? false,
            stateBeforeStop: state === "T" ? "S" : state,
            pending: [],
            exitAtMs: null
          })
        }
      }),
    setReaction: (pid, signal, reaction) =>
      Effect.sync(() => {
        const entry = entries.get(pid)
        if (entry !== undefined) entry.reactions = { ...entry.reactions, [signal]: reaction }
      }),
    exit: (pid) =>
      withNow(() => {
        const entry = entries.get(pid)
        if (entry !== undefined && !isZombie(entry.info)) terminate(entry)
      }),
    reap: (pid) =>
      Effect.sync(() => {
        const entry = entries.get(pid)
        if (entry !== undefined && isZombie(entry.info)) entries.delete(pid)
      }),
    update: (pid, change) =>
      withNow((now) => {
        const entry = entries.get(pid)
        if (entry === undefined) return
        const wasUninterruptible = entry.info.state === "D"
        entry.info = {
          ...entry.info,
          utimeTicks: change.utimeTicks ?? entry.info.utimeTicks,
          stimeTicks: change.stimeTicks ?? entry.info.stimeTicks,
          ...(change.state === undefined ? {} : { state: change.state, stateMeaning: stateMeaning(change.state) })
        }
        if (change.rchar !== undefined) {
          entry.io = { _tag: "Available", rchar: change.rchar, wchar: 0, syscr: null, syscw: null, readBytes: null, writeBytes: null }
        }
        if (wasUninterruptible && entry.info.state !== "D") {
          const pending = entry.pending
          entry.pending = []
          for (const p of pending) act(entry, p, now)
        }
      }),
    signalLog: Effect.sync(() => [...log]),
    clearSignalLog: Effect.sync(() => {
      log.length = 0
    }),
    setOomKillCount: (count) =>
      Effect.sync(() => {
        oomKills = count
      })
  }
  return controls
})

/**
 * The in-memory process table for tests: `ProcessTableTest.layer` provides `ProcessTable`,
 * `ProcessControl` (both views of one simulated table) and these controls (see
 * {@link ProcessTableTestControls}). From `@agentrun/core/testing`, never from the core's entry.
 */
export class ProcessTableTest extends Context.Service<ProcessTableTest, ProcessTableTestControls>()(
  "agentrun/ProcessTableTest"
) {
  /** A fresh, empty in-memory table with its control and its test controls. */
  static readonly layer: Layer.Layer<ProcessTable | ProcessControl | ProcessTableTest> = Layer.effectContext(
    Effect.map(makeInMemoryProcessTable, (controls) =>
      Context.make(ProcessTableTest, controls).pipe(
        Context.add(ProcessTable, ProcessTable.of(controls.table)),
        Context.add(ProcessControl, ProcessControl.of(controls.control))
      ))
  )
}
