/**
 * Cumulative CPU of a process tree whose members come and go (tool children start and exit), as a
 * counter that only grows: each sample adds, per process, the CPU it used since the previous
 * sample (a process new since then adds all of its CPU). A process that exited between two
 * samples loses only its last interval. Pure.
 *
 * Also the parser of `ps -A -o pid=,ppid=,time=` for systems without /proc.
 *
 * @module
 */

/** One process's cumulative CPU in one sample. `startId` tells a reused pid apart (proc(5) stat field 22; `0` when unknown). */
export interface CpuReading {
  readonly pid: number
  readonly startId: number
  /** Cumulative CPU (user + system), milliseconds. */
  readonly cpuMs: number
}

/** The running counter and the last readings. */
export interface TreeCpuState {
  readonly byPid: ReadonlyMap<number, { readonly startId: number; readonly cpuMs: number }>
  /** Cumulative tree CPU since the first sample, milliseconds (the first sample counts as 0). */
  readonly totalMs: number
}

/** Adds one sample's readings to the counter (null: the first sample). */
export const accumulateTreeCpu = (prev: TreeCpuState | null, readings: ReadonlyArray<CpuReading>): TreeCpuState => {
  const byPid = new Map<number, { startId: number; cpuMs: number }>()
  let added = 0
  for (const r of readings) {
    byPid.set(r.pid, { startId: r.startId, cpuMs: r.cpuMs })
    if (prev === null) continue
    const before = prev.byPid.get(r.pid)
    added += before !== undefined && before.startId === r.startId ? Math.max(0, r.cpuMs - before.cpuMs) : r.cpuMs
  }
  return { byPid, totalMs: (prev?.totalMs ?? 0) + added }
}

/**
 * Parses a `ps` `time` column (POSIX ps(1): `[[dd-]hh:]mm:ss`, cumulative CPU time) into
 * milliseconds; null when it does not have that shape. Resolution: one second.
 */
export const parsePsTime = (text: string): number | null => {
  const match = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)(?:\.(\d+))?$/.exec(text.trim())
  if (match === null) return null
  const [, days, hours, minutes, seconds, fraction] = match
  const ms = (((Number(days ?? 0) * 24 + Number(hours ?? 0)) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000
  return ms + (fraction === undefined ? 0 : Math.round(Number(`0.${fraction}`) * 1000))
}

/** One row of `ps -A -o pid=,ppid=,time=`. */
export interface PsRow {
  readonly pid: number
  readonly ppid: number
  readonly cpuMs: number
}

/** Parses the output of `ps -A -o pid=,ppid=,time=`; rows that do not parse are skipped. */
export const parsePsRows = (text: string): ReadonlyArray<PsRow> => {
  const rows: Array<PsRow> = []
  for (const line of text.split("\n")) {
    const [pid, ppid, time] = line.trim().split(/\s+/)
    if (pid === undefined || ppid === undefined || time === undefined) continue
    const cpuMs = parsePsTime(time)
    if (!/^\d+$/.test(pid) || !/^\d+$/.test(ppid) || cpuMs === null) continue
    rows.push({ pid: Number(pid), ppid: Number(ppid), cpuMs })
  }
  return rows
}

/** The root and its descendants by ppid (transitively), root first. */
export const descendantsOf = <A extends { readonly pid: number; readonly ppid: number }>(rows: ReadonlyArray<A>, rootPid: number): ReadonlyArray<A> => {
  const children = new Map<number, Array<A>>()
  let root: A | undefined
  for (const r of rows) {
    if (r.pid === rootPid) root = r
    const list = children.get(r.ppid)
    if (list === undefined) children.set(r.ppid, [r])
    else list.push(r)
  }
  const out: Array<A> = root === undefined ? [] : [root]
  const queue = [rootPid]
  const seen = new Set(queue)
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      if (seen.has(child.pid)) continue
      seen.add(child.pid)
      out.push(child)
      queue.push(child.pid)
    }
  }
  return out
}
