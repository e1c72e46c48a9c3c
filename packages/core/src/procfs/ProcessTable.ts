/**
 * The process table boundary: list and inspect processes through Linux `/proc`. agentrun's stop
 * sequence finds a run's processes through it, and the hang watchdog dumps evidence with
 * {@link ProcessTableShape.inspect}. Signals and liveness are {@link ProcessControl}'s, which
 * `ProcessTable.layer` provides with the table.
 *
 * `ProcessTable.layer` is the real table (Linux `/proc`; elsewhere lookups fail with
 * {@link ProcfsUnavailable}). The in-memory table for tests, whose processes react to signals as
 * a test scripts them, is `ProcessTableTest.layer` in `@agentrun/core/testing`.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import { makeLinuxProcessTable } from "./LinuxProcessTable.ts"
import type { ProcessInfo } from "./ProcessInfo.ts"
import type { IoEvidence, ProcessInspection } from "./ProcessInspection.ts"
import { ProcessControl } from "./ProcessControl.ts"
import type { ProcfsUnavailable } from "./ProcfsErrors.ts"

/** Options of {@link ProcessTableShape.family}. */
export interface FamilyOptions {
  /** Include the root process itself (first, being everyone's ancestor). Default false. */
  readonly includeRoot?: boolean
}

/** The operations of the process table. No method requires a service (R = never). */
export interface ProcessTableShape {
  /** Clock ticks per second (`CLK_TCK`) used for every `...Ticks` field; 100 on most Linux systems. */
  readonly clockTicksPerSecond: number

  /**
   * One process (`/proc/PID/stat` and `/proc/PID/cmdline`), `Option.none()` when there is no such
   * process (or it is hidden from us, e.g. `/proc` mounted with `hidepid=2`). A zombie is found,
   * with state `"Z"`. Note that `/proc/TID` also answers for a thread id that is not a process id
   * (proc(5)), so pass process ids. Fails with {@link ProcfsUnavailable} when `/proc` cannot be
   * read at all.
   */
  info(pid: number): Effect.Effect<Option.Option<ProcessInfo>, ProcfsUnavailable>

  /**
   * Like {@link info}, from `/proc/PID/stat` alone (`cmdline` empty): synchronous and never
   * blocking, for callers that need ids, state or the start time (a run's supervisor and agent).
   */
  stat(pid: number): Effect.Effect<Option.Option<ProcessInfo>, ProcfsUnavailable>

  /** Every process visible in `/proc`, by ascending pid. Fails with {@link ProcfsUnavailable}. */
  readonly list: Effect.Effect<ReadonlyArray<ProcessInfo>, ProcfsUnavailable>

  /**
   * Like {@link list}, from `/proc/PID/stat` alone: every `cmdline` is empty. One read per process
   * instead of two, for callers that need only ids, parents, groups, states and start times (the
   * sweep at the end of every run). Fails with {@link ProcfsUnavailable}.
   */
  readonly listStatOnly: Effect.Effect<ReadonlyArray<ProcessInfo>, ProcfsUnavailable>

  /**
   * Every process that belongs to the run rooted at `pid`, parents first: descendants by ppid
   * (transitively), plus every process whose session id or process group id equals `pid` (so a
   * double-forked grandchild reparented to init is still found; this works after the root itself
   * has exited). The root is excluded unless `options.includeRoot`. Zombies are included (check
   * their `state`). Computed from one snapshot of the table ({@link listStatOnly}: command lines
   * are empty; {@link inspect} a member for its own): processes may come and go meanwhile.
   * Fails with {@link ProcfsUnavailable}.
   */
  family(pid: number, options?: FamilyOptions): Effect.Effect<ReadonlyArray<ProcessInfo>, ProcfsUnavailable>

  /**
   * Evidence about one process for a hang report: info, decoded status and signal masks, threads
   * with wchan, I/O counters, and open fds with sockets and pipes resolved (see
   * {@link ProcessInspection}). Parts the kernel will not show are marked `Unavailable` with the
   * reason. `Option.none()` when there is no such process. Fails with {@link ProcfsUnavailable}.
   */
  inspect(pid: number): Effect.Effect<Option.Option<ProcessInspection>, ProcfsUnavailable>

  /**
   * The direct children of `pid`, by ascending pid: the union of every thread's
   * `/proc/PID/task/TID/children` (proc(5); a child belongs to the thread that forked it). Where
   * the kernel lacks that file (CONFIG_PROC_CHILDREN off) it falls back to scanning the table for
   * `ppid == pid` (a stat-only listing). Empty when `pid` is gone. Cheap enough for the hang
   * watchdog's sampling (one small read per thread). Fails with {@link ProcfsUnavailable}.
   */
  children(pid: number): Effect.Effect<ReadonlyArray<number>, ProcfsUnavailable>

  /**
   * The inodes of the sockets `pid` holds open (its `/proc/PID/fd` links that read `socket:[N]`),
   * for matching against `ss`; empty when `pid` is gone or its fds cannot be read. Reads only fd
   * links, which no lock of the process guards: safe on a hung process, unlike {@link inspect}
   * (its command line). Fails with {@link ProcfsUnavailable}.
   */
  socketInodes(pid: number): Effect.Effect<ReadonlyArray<number>, ProcfsUnavailable>

  /**
   * Every live process whose environment (`/proc/PID/environ`, proc(5): the environment it was
   * started with) holds `name=value`, by ascending pid. agentrun starts each agent with a run
   * cookie variable, which its tools inherit: this finds them even after they left the agent's
   * session and were reparented (the same trick as Jenkins' ProcessTreeKiller `BUILD_ID`).
   * Processes whose environ is unreadable (other users) are not matched. `among` limits the
   * search to those processes (default: every process in `/proc`).
   */
  withEnvironment(
    name: string,
    value: string,
    among?: ReadonlyArray<ProcessInfo>
  ): Effect.Effect<ReadonlyArray<ProcessInfo>, ProcfsUnavailable>

  /**
   * `/proc/PID/io` alone (see {@link IoEvidence}: `rchar` counts bytes passed to read(2)-like
   * calls, not recv(2) on sockets), `Option.none()` when there is no such process. Cheaper than
   * {@link inspect}: the watchdog samples it every second. Fails with {@link ProcfsUnavailable}.
   */
  io(pid: number): Effect.Effect<Option.Option<IoEvidence>, ProcfsUnavailable>

  /**
   * The `oom_kill` counter of `memory.events` in agentrun's own cgroup v2 (processes in the
   * cgroup and its descendants killed by the OOM killer; kernel Documentation/admin-guide/
   * cgroup-v2.rst, "memory.events"). The cgroup comes from `/proc/self/cgroup`, its directory
   * from the cgroup2 mount in `/proc/self/mountinfo` (or `/sys/fs/cgroup`), found at the first
   * call. `Option.none()` without cgroup v2, a memory controller, or a readable file. Never fails.
   */
  readonly oomKillCount: Effect.Effect<Option.Option<number>>
}

/** The process table service. See the module documentation. */
export class ProcessTable extends Context.Service<ProcessTable, ProcessTableShape>()("agentrun/ProcessTable") {
  /**
   * The real table. Built once: reads `CLK_TCK` from `/proc/self/auxv` (100 if that fails) and
   * `btime` from `/proc/stat`. Never fails to build: if `/proc` is unreadable the methods fail
   * with {@link ProcfsUnavailable} instead. Provides the real {@link ProcessControl} with it, so
   * the code that reads this table signals the same processes.
   */
  static readonly layer: Layer.Layer<ProcessTable | ProcessControl> = Layer.effect(
    ProcessTable,
    Effect.map(makeLinuxProcessTable, (shape) => ProcessTable.of(shape))
  ).pipe(Layer.provideMerge(ProcessControl.layer))
}
