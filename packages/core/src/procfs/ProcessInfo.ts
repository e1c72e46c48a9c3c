/**
 * One process as `/proc/PID/stat` and `/proc/PID/cmdline` describe it, and the parser for
 * `/proc/PID/stat` (source: proc(5), "/proc/pid/stat"; field numbers below are proc(5)'s, 1-based).
 *
 * @module
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
/**
 * Process state letters and their meaning (source: proc(5), /proc/pid/stat field 3 "state";
 * `W`, `K`, `P` only appear on older kernels). A letter the table does not know is reported as
 * is, with the meaning `"unknown"`.
 */
export const ProcessStates = {
  R: "running",
  S: "sleeping (interruptible wait)",
  D: "waiting (uninterruptible disk sleep)",
  Z: "zombie (exited, not yet reaped by its parent)",
  T: "stopped (on a signal)",
  t: "tracing stop",
  X: "dead",
  I: "idle (kernel thread)",
  W: "paging or waking",
  K: "wakekill",
  P: "parked"
} as const

/** A known state letter, see {@link ProcessStates}. */
export type ProcessStateLetter = keyof typeof ProcessStates

/** The meaning of a state letter (see {@link ProcessStates}); `"unknown"` for other letters. */
export const stateMeaning = (letter: string): string =>
  (ProcessStates as Record<string, string | undefined>)[letter] ?? "unknown"

/**
 * A process, as read from `/proc/PID/stat` (fields named below) and `/proc/PID/cmdline`.
 *
 * Units: `utimeTicks`, `stimeTicks` and `startTimeTicks` are in clock ticks (`CLK_TCK`, sysconf
 * `_SC_CLK_TCK`, usually 100 per second); `startTimeEpochMs` is milliseconds since the Unix epoch.
 */
export const ProcessInfo = Schema.Struct({
  /** Field 1 `pid`. */
  pid: Schema.Number,
  /** Field 4 `ppid`: the parent; 0 for init and kthreadd; 1 (or a subreaper) for orphans. */
  ppid: Schema.Number,
  /** Field 5 `pgrp`: the process group id. */
  pgid: Schema.Number,
  /** Field 6 `session`: the session id (`sid == pid` for a session leader). */
  sid: Schema.Number,
  /** Field 3 `state`: one letter, see {@link ProcessStates}. */
  state: Schema.String,
  /** The meaning of `state` from {@link ProcessStates}. */
  stateMeaning: Schema.String,
  /** Field 2 `comm`: the executable name, at most 15 bytes, without the parentheses. */
  comm: Schema.String,
  /**
   * `/proc/PID/cmdline` split on NUL: argv. Empty for zombies and kernel threads, and when the
   * file could not be read (the process vanished or it is not ours to read).
   */
  cmdline: Schema.Array(Schema.String),
  /** Field 14 `utime`: user-mode CPU time, clock ticks. */
  utimeTicks: Schema.Number,
  /** Field 15 `stime`: kernel-mode CPU time, clock ticks. */
  stimeTicks: Schema.Number,
  /**
   * Field 22 `starttime`: when the process started, clock ticks since boot. With the pid it
   * identifies a process across pid reuse.
   */
  startTimeTicks: Schema.Number,
  /**
   * `starttime` as milliseconds since the Unix epoch: `btime * 1000 + starttime * 1000 / CLK_TCK`
   * (`btime` from `/proc/stat`, whole seconds, so accurate to about a second); `null` when the
   * boot time is unknown.
   */
  startTimeEpochMs: Schema.NullOr(Schema.Number),
  /** Field 20 `num_threads`. */
  numThreads: Schema.Number
})
/** See the {@link ProcessInfo} schema. */
export type ProcessInfo = typeof ProcessInfo.Type

/** A process that has exited and awaits its parent's wait(2): state `Z` (or `X`, dead). */
export const isZombie = (info: ProcessInfo): boolean => info.state === "Z" || info.state === "X"

/** The raw fields of `/proc/PID/stat` that {@link ProcessInfo} uses. Times in clock ticks. */
export interface StatFields {
  readonly pid: number
  readonly comm: string
  readonly state: string
  readonly ppid: number
  readonly pgid: number
  readonly sid: number
  readonly utimeTicks: number
  readonly stimeTicks: number
  readonly numThreads: number
  readonly startTimeTicks: number
}

/**
 * Parses the one line of `/proc/PID/stat` (also `/proc/PID/task/TID/stat`).
 *
 * `comm` (field 2) is in parentheses and may itself contain spaces and `)`, so the fields after it
 * are found after the LAST `)` (proc(5) warns about this). Fields used: 1 pid, 2 comm, 3 state,
 * 4 ppid, 5 pgrp, 6 session, 14 utime, 15 stime, 20 num_threads, 22 starttime.
 * `Option.none()` for text that does not have that shape.
 */
export const parseStat = (text: string): Option.Option<StatFields> => {
  const open = text.indexOf("(")
  const close = text.lastIndexOf(")")
  if (open < 0 || close < open) return Option.none()
  const pid = Number(text.slice(0, open).trim())
  const comm = text.slice(open + 1, close)
  // rest[0] is field 3, so field n is rest[n - 3].
  const rest = text.slice(close + 1).trim().split(/\s+/)
  const field = (n: number): number => Number(rest[n - 3])
  const state = rest[0]
  if (state === undefined || rest.length < 20 || !Number.isInteger(pid)) return Option.none()
  const fields: StatFields = {
    pid,
    comm,
    state,
    ppid: field(4),
    pgid: field(5),
    sid: field(6),
    utimeTicks: field(14),
    stimeTicks: field(15),
    numThreads: field(20),
    startTimeTicks: field(22)
  }
  return [fields.ppid, fields.pgid, fields.sid, fields.utimeTicks, fields.stimeTicks, fields.numThreads, fields.startTimeTicks]
      .every(Number.isFinite)
    ? Option.some(fields)
    : Option.none()
}

/**
 * Splits `/proc/PID/cmdline` (arguments separated and terminated by NUL, proc(5)) into argv.
 * A process that rewrote its argv may leave no trailing NUL or use spaces; we keep what is there.
 */
export const parseCmdline = (raw: string): ReadonlyArray<string> => {
  if (raw.length === 0) return []
  const parts = raw.split("\0")
  if (parts[parts.length - 1] === "") parts.pop()
  return parts
}

/** The clock facts needed to turn `starttime` ticks into epoch milliseconds. */
export interface BootClock {
  /** `CLK_TCK`: clock ticks per second (sysconf `_SC_CLK_TCK`, `getconf CLK_TCK`). */
  readonly ticksPerSecond: number
  /** `/proc/stat` `btime`: boot time, seconds since the Unix epoch; `null` when unknown. */
  readonly bootTimeEpochSeconds: number | null
}

/** Builds a {@link ProcessInfo} from stat fields, argv and the boot clock. */
export const toProcessInfo = (stat: StatFields, cmdline: ReadonlyArray<string>, clock: BootClock): ProcessInfo => ({
  pid: stat.pid,
  ppid: stat.ppid,
  pgid: stat.pgid,
  sid: stat.sid,
  state: stat.state,
  stateMeaning: stateMeaning(stat.state),
  comm: stat.comm,
  cmdline,
  utimeTicks: stat.utimeTicks,
  stimeTicks: stat.stimeTicks,
  startTimeTicks: stat.startTimeTicks,
  startTimeEpochMs: clock.bootTimeEpochSeconds === null
    ? null
    : clock.bootTimeEpochSeconds * 1000 + Math.round((stat.startTimeTicks * 1000) / clock.ticksPerSecond),
  numThreads: stat.numThreads
})

/** Reads `btime` (boot time, seconds since the epoch) from the text of `/proc/stat` (proc(5)). */
export const parseBootTime = (procStat: string): number | null => {
  const match = /^btime\s+(\d+)\s*$/m.exec(procStat)
  return match?.[1] === undefined ? null : Number(match[1])
}
