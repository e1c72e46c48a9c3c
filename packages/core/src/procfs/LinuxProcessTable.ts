/**
 * The real {@link ProcessTableShape}: Linux `/proc` (proc(5)), read only (signals and liveness are
 * the ProcessControl's).
 *
 * Reads that can block are asynchronous on purpose: reading `/proc/PID/cmdline` (or `environ`,
 * `io`...) of a process whose memory map lock is held (often the very process that hangs) can
 * block the reader, and a synchronous read would freeze agentrun's event loop with it.
 * `/proc/PID/stat` takes no such lock (fs/proc/array.c, do_task_stat) and is read synchronously,
 * as are our own `/proc/self/auxv`, `/proc/stat`, `/proc/self/cgroup` and `mountinfo`, and our
 * cgroup's `memory.events`: thread-pool round trips cost more.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as NodeFsSync from "node:fs"
import * as NodeFs from "node:fs/promises"
import { findMemoryEvents, parseOomKill } from "./CgroupMemory.ts"
import { parseTcpTable, parseUnixTable, formatEndpoint } from "./NetSockets.ts"
import type { TcpRow, UnixRow } from "./NetSockets.ts"
import { familyOf } from "./ProcessFamily.ts"
import { isZombie, parseBootTime, parseCmdline, stateMeaning, toProcessInfo } from "./ProcessInfo.ts"
import type { BootClock, ProcessInfo } from "./ProcessInfo.ts"
import { classifyFdTarget, parseFdAccess, parseIo } from "./ProcessInspection.ts"
import type { FdsEvidence, OpenFd, ProcessInspection, SocketDetail, ThreadState, ThreadsEvidence } from "./ProcessInspection.ts"
import { parseProcStatus } from "./ProcStatus.ts"
import { ProcfsUnavailable } from "./ProcfsErrors.ts"
import type { FamilyOptions, ProcessTableShape } from "./ProcessTable.ts"
import { errnoCode, isPositiveInteger, readStatFile } from "./StatFile.ts"

/** Why a file could not be read: the path and the errno code (`"ENOENT"`, `"EACCES"`, ...). */
interface ReadFailure {
  readonly path: string
  readonly code: string
}

const readText = (path: string): Effect.Effect<string, ReadFailure> =>
  Effect.tryPromise({ try: () => NodeFs.readFile(path, "utf8"), catch: (cause) => ({ path, code: errnoCode(cause) }) })

const readStat = readStatFile

/** A small file of our own (procfs, cgroupfs) read synchronously; null when it cannot be read. */
const readTextSync = (path: string): string | null => {
  try {
    return NodeFsSync.readFileSync(path, "utf8")
  } catch {
    return null
  }
}

const readDir = (path: string): Effect.Effect<ReadonlyArray<string>, ReadFailure> =>
  Effect.tryPromise({ try: () => NodeFs.readdir(path), catch: (cause) => ({ path, code: errnoCode(cause) }) })

const readLink = (path: string): Effect.Effect<string, ReadFailure> =>
  Effect.tryPromise({ try: () => NodeFs.readlink(path), catch: (cause) => ({ path, code: errnoCode(cause) }) })

const describeFailure = (failure: ReadFailure): string => `${failure.code} reading ${failure.path}`

/**
 * The kernel's clock tick rate: `AT_CLKTCK` (type 17) in `/proc/self/auxv`, the value glibc's
 * sysconf(`_SC_CLK_TCK`) returns (getauxval(3)); pairs of native-endian machine words. Read
 * from our own process instead of spawning `getconf CLK_TCK` at every start. Null when absent
 * (the caller then assumes 100).
 */
export const parseAuxvClockTicks = (auxv: Uint8Array, wordBytes: 4 | 8 = 8): number | null => {
  const view = new DataView(auxv.buffer, auxv.byteOffset, auxv.byteLength)
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
  const word = (at: number) => (wordBytes === 8 ? Number(view.getBigUint64(at, little)) : view.getUint32(at, little))
  for (let at = 0; at + 2 * wordBytes <= auxv.byteLength; at += 2 * wordBytes) {
    const key = word(at)
    if (key === 0) return null // AT_NULL ends the vector
    if (key === 17) return word(at + wordBytes)
  }
  return null
}

// Our own auxv and /proc/stat are read synchronously (once, at start-up): neither takes a lock
// another process could hold, and two thread-pool round trips cost more than the reads. So are
// our own /proc/self/cgroup and mountinfo and our cgroup's memory.events (cgroupfs).
const clockTicksPerSecond: Effect.Effect<number> = Effect.try({
  try: () => NodeFsSync.readFileSync("/proc/self/auxv"),
  catch: (cause) => cause
}).pipe(
  Effect.map((auxv) => parseAuxvClockTicks(auxv, process.arch === "x64" || process.arch === "arm64" ? 8 : 4) ?? 100),
  Effect.map((n) => (Number.isInteger(n) && n > 0 ? n : 100)),
  Effect.orElseSucceed(() => 100)
)

/**
 * Builds the real process table. Reads `CLK_TCK` and `/proc/stat` `btime` once. Never fails: when
 * `/proc` is unusable (not Linux, not mounted), the `/proc` methods fail with
 * {@link ProcfsUnavailable}.
 */
export const makeLinuxProcessTable: Effect.Effect<ProcessTableShape> = Effect.gen(function*() {
  const ticksPerSecond = yield* clockTicksPerSecond
  const procStat = process.platform === "linux"
    ? yield* Effect.result(Effect.try({
      try: () => NodeFsSync.readFileSync("/proc/stat", "utf8"),
      catch: (cause): ReadFailure => ({ path: "/proc/stat", code: errnoCode(cause) })
    }))
    : undefined

  const unavailable: ProcfsUnavailable | undefined = procStat === undefined
    ? new ProcfsUnavailable({
      message: `no /proc process table on platform ${process.platform}`,
      path: "/proc",
      code: null,
      platform: process.platform
    })
    : procStat._tag === "Failure"
    ? new ProcfsUnavailable({
      message: `cannot read /proc/stat: ${procStat.failure.code}`,
      path: "/proc/stat",
      code: procStat.failure.code,
      platform: process.platform
    })
    : undefined

  const clock: BootClock = {
    ticksPerSecond,
    bootTimeEpochSeconds: procStat !== undefined && procStat._tag === "Success" ? parseBootTime(procStat.success) : null
  }

  const requireProcfs: Effect.Effect<void, ProcfsUnavailable> = unavailable === undefined
    ? Effect.void
    : Effect.fail(unavailable)

  /** info without the availability check. */
  const readInfo = (pid: number): Effect.Effect<Option.Option<ProcessInfo>> =>
    Effect.gen(function*() {
      if (!isPositiveInteger(pid)) return Option.none()
      // stat synchronously (it cannot block), cmdline not (it can).
      const stat = readStat(`/proc/${pid}/stat`)
      if (Option.isNone(stat)) return Option.none()
      const cmdline = yield* readText(`/proc/${pid}/cmdline`).pipe(
        Effect.map(parseCmdline),
        Effect.orElseSucceed((): ReadonlyArray<string> => [])
      )
      return Option.some(toProcessInfo(stat.value, cmdline, clock))
    })

  const info = (pid: number) => Effect.andThen(requireProcfs, readInfo(pid))

  /** stat without the availability check. */
  const readStatInfo = (pid: number): Option.Option<ProcessInfo> =>
    isPositiveInteger(pid) ? Option.map(readStat(`/proc/${pid}/stat`), (fields) => toProcessInfo(fields, [], clock)) : Option.none()

  const stat = (pid: number) => Effect.andThen(requireProcfs, Effect.sync(() => readStatInfo(pid)))

  /** The pids in /proc, ascending. Its directory listing is read synchronously: it takes no lock a process could hold. */
  const procPids: Effect.Effect<ReadonlyArray<number>, ProcfsUnavailable> = Effect.andThen(
    requireProcfs,
    Effect.try({
      try: () =>
        NodeFsSync.readdirSync("/proc").filter((name) => /^\d+$/.test(name)).map(Number).sort((a, b) => a - b),
      catch: (cause) =>
        new ProcfsUnavailable({
          message: `cannot list /proc: ${errnoCode(cause)}`,
          path: "/proc",
          code: errnoCode(cause),
          platform: process.platform
        })
    })
  )

  const list: Effect.Effect<ReadonlyArray<ProcessInfo>, ProcfsUnavailable> = Effect.gen(function*() {
    const infos = yield* Effect.forEach(yield* procPids, readInfo, { concurrency: 16 })
    return infos.flatMap((o) => (Option.isSome(o) ? [o.value] : []))
  })

  const listStatOnly: Effect.Effect<ReadonlyArray<ProcessInfo>, ProcfsUnavailable> = Effect.map(
    procPids,
    (pids) => pids.flatMap((pid) => Option.toArray(readStatInfo(pid)))
  )

  const family = (pid: number, options?: FamilyOptions) =>
    Effect.map(listStatOnly, (all) => familyOf(all, pid, options?.includeRoot ?? false))

  const readThreads = (pid: number): Effect.Effect<ThreadsEvidence> =>
    readDir(`/proc/${pid}/task`).pipe(
      Effect.flatMap((tids) =>
        Effect.forEach(
          tids.filter((t) => /^\d+$/.test(t)).map(Number).sort((a, b) => a - b),
          (tid) =>
            Effect.gen(function*() {
              const stat = readStat(`/proc/${pid}/task/${tid}/stat`)
              if (Option.isNone(stat)) return Option.none<ThreadState>()
              const wchanText = yield* readText(`/proc/${pid}/task/${tid}/wchan`).pipe(
                Effect.map((w) => w.trim()),
                Effect.orElseSucceed(() => "")
              )
              return Option.some<ThreadState>({
                tid,
                comm: stat.value.comm,
                state: stat.value.state,
                stateMeaning: stateMeaning(stat.value.state),
                wchan: wchanText === "" || wchanText === "0" ? "unavailable" : wchanText,
                utimeTicks: stat.value.utimeTicks,
                stimeTicks: stat.value.stimeTicks
              })
            }),
          { concurrency: 8 }
        )
      ),
      Effect.map((threads): ThreadsEvidence => ({
        _tag: "Available",
        threads: threads.flatMap((o) => (Option.isSome(o) ? [o.value] : []))
      })),
      Effect.catch((failure) => Effect.succeed<ThreadsEvidence>({ _tag: "Unavailable", reason: describeFailure(failure) }))
    )

  const readSocketTables = (pid: number) =>
    Effect.all({
      tcp: readText(`/proc/${pid}/net/tcp`).pipe(Effect.map((t) => parseTcpTable(t, "tcp")), Effect.orElseSucceed((): ReadonlyArray<TcpRow> => [])),
      tcp6: readText(`/proc/${pid}/net/tcp6`).pipe(Effect.map((t) => parseTcpTable(t, "tcp6")), Effect.orElseSucceed((): ReadonlyArray<TcpRow> => [])),
      unix: readText(`/proc/${pid}/net/unix`).pipe(Effect.map(parseUnixTable), Effect.orElseSucceed((): ReadonlyArray<UnixRow> => []))
    }, { concurrency: "unbounded" }).pipe(
      Effect.map(({ tcp, tcp6, unix }) => {
        const byInode = new Map<number, SocketDetail>()
        for (const row of unix) {
          byInode.set(row.inode, { _tag: "Unix", type: row.type, state: row.state, listening: row.listening, path: row.path })
        }
        for (const row of [...tcp, ...tcp6]) {
          byInode.set(row.inode, {
            _tag: "Tcp",
            protocol: row.protocol,
            local: formatEndpoint(row.localAddress, row.localPort),
            localPort: row.localPort,
            remote: formatEndpoint(row.remoteAddress, row.remotePort),
            remotePort: row.remotePort,
            state: row.state
          })
        }
        return byInode
      })
    )

  /** The fd numbers of `pid` and where each link points (fds closed meanwhile are left out). */
  const fdTargets = (pid: number): Effect.Effect<ReadonlyArray<{ readonly fd: number; readonly target: string }>, ReadFailure> =>
    Effect.gen(function*() {
      const names = yield* readDir(`/proc/${pid}/fd`)
      const fdNumbers = names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b)
      const links = yield* Effect.forEach(
        fdNumbers,
        (fd) => Effect.map(Effect.option(readLink(`/proc/${pid}/fd/${fd}`)), Option.map((target) => ({ fd, target }))),
        { concurrency: 16 }
      )
      return links.flatMap(Option.toArray)
    })

  const readFds = (pid: number): Effect.Effect<FdsEvidence> =>
    Effect.gen(function*() {
      const targets = yield* fdTargets(pid)
      const present = yield* Effect.forEach(
        targets,
        ({ fd, target }) =>
          readText(`/proc/${pid}/fdinfo/${fd}`).pipe(
            Effect.map(parseFdAccess),
            Effect.orElseSucceed(() => null),
            Effect.map((access) => ({ fd, target, access }))
          ),
        { concurrency: 16 }
      )
      const hasSockets = present.some((l) => l.target.startsWith("socket:"))
      const sockets = hasSockets ? yield* readSocketTables(pid) : new Map<number, SocketDetail>()
      const fds = present.map(({ fd, target, access }): OpenFd => {
        const { kind, inode } = classifyFdTarget(target)
        const socket: SocketDetail | null = kind !== "socket" || inode === null
          ? null
          : sockets.get(inode) ?? { _tag: "Unresolved", reason: "not in /proc/PID/net/{tcp,tcp6,unix}" }
        return { fd, target, kind, inode, access, socket }
      })
      return { _tag: "Available", fds } satisfies FdsEvidence as FdsEvidence
    }).pipe(
      Effect.catch((failure) => Effect.succeed<FdsEvidence>({ _tag: "Unavailable", reason: describeFailure(failure) }))
    )

  const socketInodes = (pid: number): Effect.Effect<ReadonlyArray<number>, ProcfsUnavailable> =>
    Effect.gen(function*() {
      yield* requireProcfs
      if (!isPositiveInteger(pid)) return []
      const targets = yield* fdTargets(pid).pipe(Effect.orElseSucceed(() => []))
      return targets.flatMap(({ target }) => {
        const { kind, inode } = classifyFdTarget(target)
        return kind === "socket" && inode !== null ? [inode] : []
      })
    })

  const inspect = (pid: number): Effect.Effect<Option.Option<ProcessInspection>, ProcfsUnavailable> =>
    Effect.gen(function*() {
      const found = yield* info(pid)
      if (Option.isNone(found)) return Option.none()
      const parts = yield* Effect.all({
        status: readText(`/proc/${pid}/status`).pipe(
          Effect.map((text): ProcessInspection["status"] => ({ _tag: "Available", status: parseProcStatus(text) })),
          Effect.catch((failure) => Effect.succeed<ProcessInspection["status"]>({ _tag: "Unavailable", reason: describeFailure(failure) }))
        ),
        threads: readThreads(pid),
        io: readText(`/proc/${pid}/io`).pipe(
          Effect.map(parseIo),
          Effect.catch((failure) => Effect.succeed<ProcessInspection["io"]>({ _tag: "Unavailable", reason: describeFailure(failure) }))
        ),
        fds: readFds(pid)
      }, { concurrency: "unbounded" })
      return Option.some<ProcessInspection>({ info: found.value, ...parts })
    })

  const children = (pid: number): Effect.Effect<ReadonlyArray<number>, ProcfsUnavailable> =>
    Effect.gen(function*() {
      yield* requireProcfs
      if (!isPositiveInteger(pid)) return []
      const tids = yield* Effect.option(readDir(`/proc/${pid}/task`))
      if (Option.isNone(tids)) return []
      const texts = yield* Effect.forEach(
        tids.value.filter((t) => /^\d+$/.test(t)),
        (tid) => Effect.result(readText(`/proc/${pid}/task/${tid}/children`)),
        { concurrency: 8 }
      )
      // ENOENT for every thread while the task dir exists: the kernel has no `children` file.
      if (texts.length > 0 && texts.every((r) => r._tag === "Failure" && r.failure.code === "ENOENT")) {
        const all = yield* listStatOnly
        return all.filter((p) => p.ppid === pid).map((p) => p.pid)
      }
      const pids = new Set<number>()
      for (const r of texts) {
        if (r._tag === "Success") for (const word of r.success.split(/\s+/)) if (/^\d+$/.test(word)) pids.add(Number(word))
      }
      return [...pids].sort((a, b) => a - b)
    })

  const withEnvironment = (name: string, value: string, among?: ReadonlyArray<ProcessInfo>) =>
    Effect.gen(function*() {
      const all = among ?? (yield* listStatOnly)
      const needle = `${name}=${value}`
      const matches = yield* Effect.forEach(
        all.filter((p) => !isZombie(p)),
        (p) =>
          readText(`/proc/${p.pid}/environ`).pipe(
            Effect.map((environ) => environ.split("\0").includes(needle) ? [p] : []),
            Effect.orElseSucceed((): ReadonlyArray<ProcessInfo> => [])
          ),
        { concurrency: 16 }
      )
      return matches.flat()
    })

  const io = (pid: number): Effect.Effect<Option.Option<ProcessInspection["io"]>, ProcfsUnavailable> =>
    Effect.gen(function*() {
      yield* requireProcfs
      if (!isPositiveInteger(pid)) return Option.none()
      const text = yield* Effect.result(readText(`/proc/${pid}/io`))
      if (text._tag === "Success") return Option.some(parseIo(text.success))
      if (text.failure.code === "ENOENT" || text.failure.code === "ESRCH") return Option.none()
      return Option.some<ProcessInspection["io"]>({ _tag: "Unavailable", reason: describeFailure(text.failure) })
    })

  // Our cgroup's memory.events, found at the first call (null: there is none). A run reads the
  // counter twice: as claude starts, and after it has exited, on the way to the verdict.
  let memoryEvents: string | null | undefined
  const oomKillCount: Effect.Effect<Option.Option<number>> = Effect.sync(() => {
    if (unavailable !== undefined) return Option.none()
    if (memoryEvents === undefined) memoryEvents = findMemoryEvents(readTextSync)
    const events = memoryEvents === null ? null : readTextSync(memoryEvents)
    return Option.fromUndefinedOr(events === null ? undefined : parseOomKill(events))
  })

  return {
    clockTicksPerSecond: ticksPerSecond,
    info,
    stat,
    list,
    listStatOnly,
    family,
    inspect,
    children,
    socketInodes,
    withEnvironment,
    io,
    oomKillCount
  }
})
