/**
 * Reading /proc/PID/stat in tests and their support code: a process's state, parent and start time.
 *
 * @module
 */
import { readFileSync } from "node:fs"

/** State letter and start time (ticks since boot) of a pid, or null when it does not exist. */
export const procStat = (pid: number): { readonly ppid: number; readonly state: string; readonly startTicks: number; readonly comm: string } | null => {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, "utf8")
    const close = raw.lastIndexOf(")")
    const comm = raw.slice(raw.indexOf("(") + 1, close)
    const rest = raw.slice(close + 2).split(" ")
    return { state: rest[0]!, ppid: Number(rest[1]), startTicks: Number(rest[19]), comm }
  } catch {
    return null
  }
}

/** True when the process that had this pid and start time is still running (zombies count as gone). */
export const stillRunning = (pid: number, startTicks: number | null): boolean => {
  const s = procStat(pid)
  if (s === null || s.state === "Z" || s.state === "X") return false
  return startTicks === null || s.startTicks === startTicks
}
