/**
 * Reads one {@link WatchSample} of a running agent: the CPU of its process tree and of the agent
 * itself, and its rchar. On Linux from /proc through the {@link ProcessTable} (`stat` = proc(5)
 * stat fields 14-15 utime/stime, never the command line, whose read can block on a hung agent; `children` = task/TID/children, `io` = /proc/PID/io); elsewhere
 * (no /proc) from `ps -A -o pid=,ppid=,time=` (POSIX ps(1); one-second resolution, no rchar).
 * Never fails: what cannot be read is null, and the reason is listed once in `unavailable`.
 *
 * @module
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { isZombie } from "../procfs/ProcessInfo.ts"
import type { ProcessControlShape, ToolCommand } from "../procfs/ProcessControl.ts"
import type { ProcessTableShape } from "../procfs/ProcessTable.ts"
import type { WatchSample } from "./Detection.ts"
import { accumulateTreeCpu, type CpuReading, descendantsOf, parsePsRows, type TreeCpuState } from "./TreeCpu.ts"

/** The most processes of a tree the sampler follows (a fork bomb must not stall the watchdog). */
export const maxTreeSize = 256

/**
 * The tree is walked (`children` of every thread of every member: one read per thread, ~20 for
 * claude) on every this many samples; in between, the members found last are re-read. A tool
 * child is thus noticed within this many samples, and its CPU counted whole (it is new).
 */
export const treeWalkEvery = 5

/** A stateful sampler for one agent. */
export interface Sampler {
  /** Takes a sample now (Clock time). */
  readonly sample: Effect.Effect<WatchSample>
  /** The live descendants of the agent by pid (parents first), from the last sample. */
  readonly descendants: () => ReadonlyArray<number>
  /** What could not be read so far, each with its reason. */
  readonly unavailable: () => ReadonlyArray<string>
}

/** `ps -A -o pid=,ppid=,time=`: every process's pid, parent and CPU time (POSIX ps(1)). */
export const psCommand: ToolCommand = { command: "ps", args: ["-A", "-o", "pid=,ppid=,time="], timeoutMs: 5_000, label: "ps" }

/** Makes a sampler for the agent `pid`; `ps` runs through `control`. */
export const makeSampler = (table: ProcessTableShape, control: ProcessControlShape, pid: number): Sampler => {
  let tree: TreeCpuState | null = null
  let mode: "procfs" | "ps" = "procfs"
  let lastDescendants: ReadonlyArray<number> = []
  let samplesTaken = 0
  const unavailable: Array<string> = []
  const note = (reason: string) => {
    if (!unavailable.includes(reason)) unavailable.push(reason)
  }
  const msPerTick = 1000 / table.clockTicksPerSecond

  const procfsSample = Effect.gen(function*() {
    const agent = yield* table.stat(pid)
    if (Option.isNone(agent)) return { tree: null, agentCpuMs: null, rchar: null }
    const walk = samplesTaken++ % treeWalkEvery === 0
    const members: Array<number> = walk ? [] : [...lastDescendants]
    const queue = walk ? [pid] : []
    const seen = new Set(queue)
    while (queue.length > 0 && members.length < maxTreeSize) {
      const kids = yield* table.children(queue.shift()!)
      for (const k of kids) {
        if (seen.has(k)) continue
        seen.add(k)
        members.push(k)
        queue.push(k)
      }
    }
    const infos = yield* Effect.forEach(members, (p) => table.stat(p))
    const readings: Array<CpuReading> = [{
      pid,
      startId: agent.value.startTimeTicks,
      cpuMs: (agent.value.utimeTicks + agent.value.stimeTicks) * msPerTick
    }]
    const live: Array<number> = []
    for (const info of infos) {
      if (Option.isNone(info)) continue
      readings.push({ pid: info.value.pid, startId: info.value.startTimeTicks, cpuMs: (info.value.utimeTicks + info.value.stimeTicks) * msPerTick })
      if (!isZombie(info.value)) live.push(info.value.pid)
    }
    lastDescendants = live
    const io = yield* table.io(pid)
    let rchar: number | null = null
    if (Option.isSome(io)) {
      if (io.value._tag === "Available") rchar = io.value.rchar
      else note(`rchar of ${pid}: ${io.value.reason}`)
    }
    return { tree: readings, agentCpuMs: readings[0]!.cpuMs, rchar }
  })

  const psSample = control.execText(psCommand).pipe(
    Effect.map((text) => {
      const rows = descendantsOf(parsePsRows(text), pid).slice(0, maxTreeSize)
      if (rows[0]?.pid !== pid) return { tree: null, agentCpuMs: null, rchar: null }
      lastDescendants = rows.slice(1).map((r) => r.pid)
      return { tree: rows.map((r): CpuReading => ({ pid: r.pid, startId: 0, cpuMs: r.cpuMs })), agentCpuMs: rows[0].cpuMs, rchar: null }
    }),
    Effect.catch((reason: string) => {
      note(`CPU times: ${reason}`)
      return Effect.succeed({ tree: null, agentCpuMs: null, rchar: null })
    })
  )

  const sample = Effect.gen(function*() {
    const atMs = yield* Clock.currentTimeMillis
    const read = mode === "procfs"
      ? yield* procfsSample.pipe(
        Effect.catchTag("ProcfsUnavailable", (e) => {
          mode = "ps"
          note(`/proc: ${e.message}; CPU from ps (1 s resolution), no rchar, no socket check`)
          return psSample
        })
      )
      : yield* psSample
    if (read.tree !== null) tree = accumulateTreeCpu(tree, read.tree)
    const sample: WatchSample = {
      atMs,
      treeCpuMs: read.tree === null ? null : tree!.totalMs,
      agentCpuMs: read.agentCpuMs,
      rchar: read.rchar
    }
    return sample
  })

  return { sample, descendants: () => lastDescendants, unavailable: () => [...unavailable] }
}
