/**
 * Real-only tests of `inspect`, `list` and `oomKillCount` against processes we spawn.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as NodeNet from "node:net"
import type { OpenFd, ProcessInspection } from "../../src/procfs/ProcessInspection.ts"
import { ProcessTable } from "../../src/procfs/ProcessTable.ts"
import { eventually, spawnSession } from "./realProcesses.ts"

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
      const { pid } = yield* spawnSession(
        `exec python3 -c 'import signal,sys,time; signal.pthread_sigmask(signal.SIG_BLOCK,{signal.SIGINT}); print("ready", flush=True); time.sleep(1000)'`,
        1
      )
      assert.include(statusOf(yield* table.inspect(pid)).blocked.signals, "SIGINT")
      // A blocked SIGINT stays pending instead of killing it.
      assert.strictEqual(yield* table.kill(pid, "SIGINT"), "delivered")
      const pending = yield* eventually(
        Effect.map(table.inspect(pid), (o) => statusOf(o).sharedPending.signals),
        (signals) => signals.includes("SIGINT")
      )
      assert.include(pending, "SIGINT")
      assert.isTrue(yield* table.isAlive(pid))
    }).pipe(Effect.provide(ProcessTable.layer)))

  it.live("a SIGSTOPped process shows state T in status and in every thread", () =>
    Effect.gen(function*() {
      const table = yield* ProcessTable
      const { pid } = yield* spawnSession("echo ready; exec sleep 1000", 1)
      yield* table.kill(pid, "SIGSTOP")
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
      // Readable for our own children (same user); record why if a hardened kernel refuses.
      if (io._tag === "Available") assert.isAbove(io.rchar, 0)
      else assert.isString(io.reason)
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
      const oom = yield* table.oomKillCount
      assert.isTrue(Option.isOption(oom))
      if (Option.isSome(oom)) assert.isAtLeast(oom.value, 0)
    }).pipe(Effect.provide(ProcessTable.layer)))
})
