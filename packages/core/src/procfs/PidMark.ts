/**
 * Which PIDs the processes created since some moment can have: Linux allocates PIDs upward, so a
 * mark of where allocation stood bounds them from below, unless allocation wrapped at `pid_max`.
 *
 * @module
 */

/**
 * Where the kernel's PID allocation stood at one moment (`ProcessTable.pidMark`), from
 * `/proc/loadavg` and `/proc/stat` (proc(5)): the last PID allocated in our PID namespace
 * (loadavg's fifth field), how many tasks (processes and threads) exist (the number after the `/`
 * in its fourth), and how many the system has created since boot (`processes` in /proc/stat).
 */
export interface PidMark {
  readonly lastPid: number
  readonly tasks: number
  readonly forks: number
}

/** Linux allocates PIDs upward from 300 after wrapping at `pid_max` (kernel/pid.c, RESERVED_PIDS). */
const firstPidAfterWrap = 300

/**
 * The lowest PID a process created after `mark` can have, given where allocation stands `now` and
 * the kernel's `pid_max`; null when any PID is possible.
 *
 * Linux hands out the next free PID above the last one, wrapping from `pid_max` to 300: without a
 * wrap since the mark, every newer process has a PID above `mark.lastPid`. A wrap shows as a lower
 * last PID, unless allocation has gone all the way round and past the mark again. Going round
 * passes each of the `pid_max - 300` PIDs once, either taking it (a fork) or skipping it (in use,
 * by one of at most `mark.tasks + forks` tasks): fewer than `2 * forks + mark.tasks` passes rule it out.
 */
export const newPidsFloor = (mark: PidMark, now: PidMark, pidMax: number): number | null => {
  const forks = now.forks - mark.forks
  return now.lastPid >= mark.lastPid && 2 * forks + mark.tasks < pidMax - firstPidAfterWrap ? mark.lastPid + 1 : null
}

/** The {@link PidMark} in the texts of `/proc/loadavg` and `/proc/stat`, if they hold one. */
export const parsePidMark = (loadavg: string, stat: string): PidMark | undefined => {
  const load = /^\S+ \S+ \S+ \d+\/(\d+) (\d+)\s*$/.exec(loadavg)
  const forks = /^processes\s+(\d+)$/m.exec(stat)
  return load === null || forks === null ? undefined : { lastPid: Number(load[2]), tasks: Number(load[1]), forks: Number(forks[1]) }
}
