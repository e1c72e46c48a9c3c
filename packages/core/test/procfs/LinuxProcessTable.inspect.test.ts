/**
 * Real-only tests of `inspect`, `list` and `oomKillCount` against processes we spawn.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as NodeFs from "node:fs"
import * as NodeNet from "node:net"
import * as NodePath from "node:path"
import type { OpenFd, ProcessInspection } from "../../src/procfs/ProcessInspection.ts"
import { ProcessControl } from "../../src/procfs/ProcessControl.ts"
import { ProcessTable } from "../../src/procfs/ProcessTable.ts"
import { eventually, spawnSession } from "./realProcesses.ts"

/** A file's text read straight from the kernel, or the errno code that refused it. */
const readDirectly = (path: string): { _tag: "Read"; text: string } | { _tag: "Refused"; code: string } => {
  try {
    return { _tag: "Read", text: NodeFs.readFileSync(path, "utf8") }
  } catch (error) {
    return { _tag: "Refused", code: String((error as NodeJS.ErrnoException).code) }
  }
}

/**
 * The oom_kill counter of our cgroup v2 as `/proc/self/mounts` (not mountinfo, which the table
 * reads) and `/proc/self/cgroup` place it, or none when no cgroup2 mount has one for us.
 */
const oomKillsOfThisCgroup = (): Option.Option<number> => {
  const cgroup = readDirectly("/proc/self/cgroup")
  const path = cgroup._tag === "Read" ? /^0::(.*)$/m.exec(cgroup.text)?.[1]?.trim() : undefined
  const mounts = readDirectly("/proc/self/mounts")
  if (path === undefined || mounts._tag === "Refused") return Option.none()
  const mountPoints = mounts.text.split("\n").map((l) => l.split(" ")).filter((f) => f[2] === "cgroup2").map((f) => f[1] ?? "")
  for (const mountPoint of [...mountPoints, "/sys/fs/cgroup"]) {
    const events = readDirectly(NodePath.join(mountPoint, path, "memory.events"))
    const count = events._tag === "Read" ? /^oom_kill\s+(\d+)$/m.exec(events.text)?.[1] : undefined
    if (count !== undefined) return Option.some(Number(count))
  }
  return Option.none()
}

const statusOf = (inspection: Option.Option<ProcessInspection>) => {
  const found = Option.getOrThrow(inspection)
  if (found.status._tag !== "Available") throw new Error(`status unavailable: ${found.status.reason}`)
  return found.status.status
}

const fdsOf = (inspection: Option.Option<ProcessInspection>): ReadonlyArray<OpenFd> => {
  const found = Option.getOrThrow(inspection)
  if (found.fds._tag !== "Available") throw new Error(`fds unavailable: ${found.fds.reason}`)
  return found.fds.fds
}

/** A loopback TCP server on an ephemeral port, closed (with its connections) by a finalizer. */
const loopbackServer = Effect.acquireRelease(
  Effect.promise(() =>
    new Promise<{ server: NodeNet.Server; port: number; sockets: Array<NodeNet.Socket> }>((resolve) => {
      const sockets: Array<NodeNet.Socket> = []
      const server = NodeNet.createServer((socket) => sockets.push(socket))
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        resolve({ server, port: typeof address === "object" && address !== null ? address.port : -1, sockets })
      })
    })
  ),
  ({ server, sockets }) =>
    Effect.sync(() => {
      for (const socket of sockets) socket.destroy()
      server.close()
    })
)

describe("ProcessTable (real /proc): inspect", () => {
  it.live("SigIgn contains SIGINT for a process that traps it to nothing", () =>
    Effect.gen(function*() {
      const table = yield* ProcessTable
      const { pid } = yield* spawnSession(`trap "" INT; echo ready; sleep 1000`, 1)
      const status = statusOf(yield* table.inspect(pid))
      assert.include(status.ignored.signals, "SIGINT")
      assert.notInclude(status.blocked.signals, "SIGINT")
      assert.match(status.ignored.hex, /^[0-9a-f]{16}$/)
    }).pipe(Effect.provide(ProcessTable.layer)))

  it.live("SigBlk contains SIGINT for a process that blocks it", () =>
    Effect.gen(function*() {
      const table = yield* ProcessTable
      const control = yield* ProcessControl
      const { pid } = yield* spawnSession(
        `exec python3 -c 'import signal,sys,time; signal.pthread_sigmask(signal.SIG_BLOCK,{signal.SIGINT}); print("ready", flush=True); time.sleep(1000)'`,
        1
      )
      assert.include(statusOf(yield* table.inspect(pid)).blocked.signals, "SIGINT")
      // A blocked SIGINT stays pending instead of killing it.
      assert.strictEqual(yield* control.kill(pid, "SIGINT"), "delivered")
      const pending = yield* eventually(
        Effect.map(table.inspect(pid), (o) => statusOf(o).sharedPending.signals),
        (signals) => signals.includes("SIGINT")
      )
      assert.include(pending, "SIGINT")
      assert.isTrue(yield* control.isAlive(pid))
    }).pipe(Effect.provide(ProcessTable.layer)))

  it.live("a SIGSTOPped process shows state T in status and in every thread", () =>
    Effect.gen(function*() {
      const table = yield* ProcessTable
      const control = yield* ProcessControl
      const { pid } = yield* spawnSession("echo ready; exec sleep 1000", 1)
      yield* control.kill(pid, "SIGSTOP")
      const inspection = yield* eventually(table.inspect(pid), (o) => statusOf(o).state === "T")
      const status = statusOf(inspection)
      assert.strictEqual(status.state, "T")
      assert.strictEqual(status.stateMeaning, "stopped")
      const threads = Option.getOrThrow(inspection).threads
      assert.strictEqual(threads._tag, "Available")
      if (threads._tag === "Available") {
        assert.isAbove(threads.threads.length, 0)
        assert.strictEqual(threads.threads[0]?.tid, pid)
        for (const thread of threads.threads) {
          assert.strictEqual(thread.state, "T")
          assert.isString(thread.wchan)
          assert.notStrictEqual(thread.wchan, "0")
        }
      }
    }).pipe(Effect.provide(ProcessTable.layer)))

  it.live("a TCP socket to a loopback server shows the server's port as its peer", () =>
    Effect.gen(function*() {
      const table = yield* ProcessTable
      const { port } = yield* loopbackServer
      const { pid } = yield* spawnSession(`exec 3<>/dev/tcp/127.0.0.1/${port}; echo ready; exec sleep 1000`, 1)
      const fds = fdsOf(yield* table.inspect(pid))
      const fd3 = fds.find((f) => f.fd === 3)
      assert.isDefined(fd3)
      assert.strictEqual(fd3?.kind, "socket")
      assert.isNotNull(fd3?.inode ?? null)
      const socket = fd3?.socket
      assert.strictEqual(socket?._tag, "Tcp")
      if (socket?._tag === "Tcp") {
        assert.strictEqual(socket.protocol, "tcp")
        assert.strictEqual(socket.remote, `127.0.0.1:${port}`)
        assert.strictEqual(socket.remotePort, port)
        assert.strictEqual(socket.state, "ESTABLISHED")
        // Our own end of the connection: the accepted socket, local port = server port,
        // remote port = the child's local port.
        const own = fdsOf(yield* table.inspect(process.pid))
        const accepted = own.find((f) =>
          f.socket?._tag === "Tcp" && f.socket.localPort === port && f.socket.remotePort === socket.localPort
        )
        assert.isDefined(accepted)
        const listening = own.find((f) => f.socket?._tag === "Tcp" && f.socket.localPort === port && f.socket.state === "LISTEN")
        assert.isDefined(listening)
      }
    }).pipe(Effect.provide(ProcessTable.layer)))

  it.live("socketInodes: the inodes of a process's sockets, the same inspect reports; none for a gone pid", () =>
    Effect.gen(function*() {
      const table = yield* ProcessTable
      const { port } = yield* loopbackServer
      const { pid } = yield* spawnSession(`exec 3<>/dev/tcp/127.0.0.1/${port}; echo ready; exec sleep 1000`, 1)
      const inspected = fdsOf(yield* table.inspect(pid)).filter((f) => f.kind === "socket").map((f) => f.inode)
      const inodes = yield* table.socketInodes(pid)
      assert.isAbove(inodes.length, 0)
      assert.sameMembers([...inodes], inspected)
      assert.deepStrictEqual(yield* table.socketInodes(99_999_999), [])
    }).pipe(Effect.provide(ProcessTable.layer)))

  it.live("pipes are classified as pipes, and the two ends share one inode", () =>
    Effect.gen(function*() {
      const table = yield* ProcessTable
      const { pid } = yield* spawnSession("echo ready; sleep 1000 | sleep 1000", 1)
      const sleeps = yield* eventually(
        Effect.map(table.family(pid), (ps) => ps.filter((p) => p.comm === "sleep")),
        (ps) => ps.length === 2
      )
      assert.strictEqual(sleeps.length, 2)
      const fdLists = yield* Effect.forEach(sleeps, (p) => Effect.map(table.inspect(p.pid), fdsOf))
      // The left-hand sleep writes the pipe on its stdout, the right-hand one reads it on stdin.
      const writeEnd = fdLists.map((fds) => fds.find((f) => f.fd === 1 && f.kind === "pipe")).find((f) => f !== undefined)
      const readEnd = fdLists.map((fds) => fds.find((f) => f.fd === 0 && f.kind === "pipe")).find((f) => f !== undefined)
      assert.strictEqual(writeEnd?.kind, "pipe")
      assert.strictEqual(readEnd?.kind, "pipe")
      assert.strictEqual(writeEnd?.access, "write")
      assert.strictEqual(readEnd?.access, "read")
      assert.isNotNull(writeEnd?.inode ?? null)
      assert.strictEqual(writeEnd?.inode, readEnd?.inode)
      assert.match(writeEnd?.target ?? "", /^pipe:\[\d+\]$/)
    }).pipe(Effect.provide(ProcessTable.layer)))

  it.live("Node's stdio pipes are unix socket pairs; regular files are files", () =>
    Effect.gen(function*() {
      const table = yield* ProcessTable
      const { pid } = yield* spawnSession("exec 4</etc/hostname; echo ready; exec sleep 1000", 1, { stdio: "pipe-stdin" })
      const fds = fdsOf(yield* table.inspect(pid))
      const stdout = fds.find((f) => f.fd === 1)
      assert.strictEqual(stdout?.kind, "socket")
      assert.strictEqual(stdout?.socket?._tag, "Unix")
      const file = fds.find((f) => f.fd === 4)
      assert.strictEqual(file?.kind, "file")
      assert.strictEqual(file?.target, "/etc/hostname")
      assert.strictEqual(file?.access, "read")
      const io = Option.getOrThrow(yield* table.inspect(pid)).io
      // What the kernel lets us read decides what inspect must say: the counters for our own
      // child (same user), or the errno a hardened kernel refuses with.
      const direct = readDirectly(`/proc/${pid}/io`)
      if (direct._tag === "Read") {
        assert.strictEqual(io._tag, "Available")
        if (io._tag === "Available") {
          assert.isAbove(io.rchar, 0)
          // The counter only grows, and the direct read came after.
          assert.isAtMost(io.rchar, Number(/^rchar:\s*(\d+)/m.exec(direct.text)?.[1]))
        }
      } else {
        assert.strictEqual(io._tag, "Unavailable")
        if (io._tag === "Unavailable") assert.include(io.reason, direct.code)
      }
    }).pipe(Effect.provide(ProcessTable.layer)))

  it.live("list, CLK_TCK and oomKillCount answer on this machine", () =>
    Effect.gen(function*() {
      const table = yield* ProcessTable
      assert.isAbove(table.clockTicksPerSecond, 0)
      const all = yield* table.list
      const self = all.find((p) => p.pid === process.pid)
      assert.isDefined(self)
      assert.strictEqual(self?.ppid, process.ppid)
      assert.isAbove(self?.numThreads ?? 0, 1)
      for (let i = 1; i < all.length; i++) assert.isAbove(all[i]?.pid ?? 0, all[i - 1]?.pid ?? 0)
      // This machine's own answer, found without CgroupMemory: the oom_kill line of the
      // memory.events under any cgroup2 mount at our cgroup's path (none: no counter).
      assert.deepStrictEqual(yield* table.oomKillCount, oomKillsOfThisCgroup())
    }).pipe(Effect.provide(ProcessTable.layer)))
})
