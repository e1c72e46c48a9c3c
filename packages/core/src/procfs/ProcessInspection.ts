/**
 * The evidence a hang watchdog dumps about one process: its status and signal masks, its
 * threads and where they sleep, its I/O counters, and its open file descriptors with sockets and
 * pipes resolved. Every part that the kernel may refuse to show (another user's process, a
 * hardened kernel, a process that vanished mid-read) is an `Available | Unavailable` union with
 * the reason, so a dump never fails for a missing part.
 *
 * Sources: proc(5) for `/proc/PID/{status,io,wchan,fd,fdinfo}` and `/proc/PID/task/TID/stat`.
 *
 * @module
 */
import * as Schema from "effect/Schema"
import { ProcessInfo } from "./ProcessInfo.ts"
import { ProcStatus } from "./ProcStatus.ts"

/** Why a part of the evidence is missing, e.g. `"EACCES reading /proc/123/io"`. */
export const Unavailable = Schema.TaggedStruct("Unavailable", { reason: Schema.String })
/** See the {@link Unavailable} schema. */
export type Unavailable = typeof Unavailable.Type

/** `/proc/PID/status`, decoded (see {@link ProcStatus}), or why it could not be read. */
export const StatusEvidence = Schema.Union([
  Schema.TaggedStruct("Available", { status: ProcStatus }),
  Unavailable
])
/** See the {@link StatusEvidence} schema. */
export type StatusEvidence = typeof StatusEvidence.Type

/**
 * One thread (`/proc/PID/task/TID/stat` and `/proc/PID/task/TID/wchan`).
 *
 * `wchan` is the kernel function the thread sleeps in (e.g. `"do_epoll_wait"`, `"pipe_read"`,
 * `"futex_wait_queue"`), or `"unavailable"` when the file is unreadable or reads `"0"` (running,
 * or the kernel hides it: proc(5) says `wchan` needs ptrace access). CPU times in clock ticks.
 */
export const ThreadState = Schema.Struct({
  tid: Schema.Number,
  comm: Schema.String,
  state: Schema.String,
  stateMeaning: Schema.String,
  wchan: Schema.String,
  utimeTicks: Schema.Number,
  stimeTicks: Schema.Number
})
/** See the {@link ThreadState} schema. */
export type ThreadState = typeof ThreadState.Type

/** The threads of the process, or why `/proc/PID/task` could not be listed. */
export const ThreadsEvidence = Schema.Union([
  Schema.TaggedStruct("Available", { threads: Schema.Array(ThreadState) }),
  Unavailable
])
/** See the {@link ThreadsEvidence} schema. */
export type ThreadsEvidence = typeof ThreadsEvidence.Type

/**
 * `/proc/PID/io` (proc(5)): `rchar`/`wchar` are bytes passed to read-like/write-like syscalls
 * (including pipes and sockets), `readBytes`/`writeBytes` bytes that reached storage. Reading it
 * needs ptrace access (PTRACE_MODE_READ), so it is often unavailable for others' processes.
 */
export const IoEvidence = Schema.Union([
  Schema.TaggedStruct("Available", {
    rchar: Schema.Number,
    wchar: Schema.Number,
    syscr: Schema.NullOr(Schema.Number),
    syscw: Schema.NullOr(Schema.Number),
    readBytes: Schema.NullOr(Schema.Number),
    writeBytes: Schema.NullOr(Schema.Number)
  }),
  Unavailable
])
/** See the {@link IoEvidence} schema. */
export type IoEvidence = typeof IoEvidence.Type

/**
 * What a socket fd is, from the socket tables of the process's network namespace:
 * - `Tcp`: a row of `/proc/PID/net/tcp` or `tcp6`: endpoints as `"127.0.0.1:8080"` /
 *   `"[::1]:8080"`, ports as numbers, TCP state name (`"ESTABLISHED"`, `"LISTEN"`, ...).
 * - `Unix`: a row of `/proc/PID/net/unix`: type, state, listening, bound path (`@` = abstract).
 * - `Unresolved`: in none of those tables (UDP, netlink, another namespace...).
 */
export const SocketDetail = Schema.Union([
  Schema.TaggedStruct("Tcp", {
    protocol: Schema.Literals(["tcp", "tcp6"]),
    local: Schema.String,
    localPort: Schema.Number,
    remote: Schema.String,
    remotePort: Schema.Number,
    state: Schema.String
  }),
  Schema.TaggedStruct("Unix", {
    type: Schema.String,
    state: Schema.String,
    listening: Schema.Boolean,
    path: Schema.NullOr(Schema.String)
  }),
  Schema.TaggedStruct("Unresolved", { reason: Schema.String })
])
/** See the {@link SocketDetail} schema. */
export type SocketDetail = typeof SocketDetail.Type

/** The kinds of an fd, from its `/proc/PID/fd/N` link: see {@link classifyFdTarget}. */
export const FdKind = Schema.Literals(["socket", "pipe", "file", "other"])
/** See the {@link FdKind} schema. */
export type FdKind = typeof FdKind.Type

/**
 * One open file descriptor.
 *
 * - `target`: the readlink(2) text of `/proc/PID/fd/N` (`"socket:[123]"`, `"pipe:[456]"`,
 *   `"/home/x/file"`, `"anon_inode:[eventfd]"`).
 * - `inode`: for sockets and pipes, the inode in the brackets. Both ends of one pipe show the same
 *   inode, so a reader and a writer (in different processes) are matched by it.
 * - `access`: from the `flags` line of `/proc/PID/fdinfo/N` (octal, O_ACCMODE bits): `"read"`,
 *   `"write"`, `"read-write"`; `null` when fdinfo was unreadable. For a pipe, `"read"` is the read
 *   end and `"write"` the write end.
 * - `socket`: for sockets, what the socket tables say about it; `null` otherwise.
 */
export const OpenFd = Schema.Struct({
  fd: Schema.Number,
  target: Schema.String,
  kind: FdKind,
  inode: Schema.NullOr(Schema.Number),
  access: Schema.NullOr(Schema.Literals(["read", "write", "read-write"])),
  socket: Schema.NullOr(SocketDetail)
})
/** See the {@link OpenFd} schema. */
export type OpenFd = typeof OpenFd.Type

/** The open fds by ascending number, or why `/proc/PID/fd` could not be listed. */
export const FdsEvidence = Schema.Union([
  Schema.TaggedStruct("Available", { fds: Schema.Array(OpenFd) }),
  Unavailable
])
/** See the {@link FdsEvidence} schema. */
export type FdsEvidence = typeof FdsEvidence.Type

/** Everything {@link ProcessTable.inspect} found about one process, each part with its source. */
export const ProcessInspection = Schema.Struct({
  info: ProcessInfo,
  status: StatusEvidence,
  threads: ThreadsEvidence,
  io: IoEvidence,
  fds: FdsEvidence
})
/** See the {@link ProcessInspection} schema. */
export type ProcessInspection = typeof ProcessInspection.Type

/**
 * Classifies the readlink(2) text of `/proc/PID/fd/N` (proc(5), "/proc/pid/fd/"):
 * `socket:[inode]` is a socket, `pipe:[inode]` a pipe (or FIFO opened through its anonymous
 * inode), an absolute path a file (regular file, directory, device, named FIFO), anything else
 * (`anon_inode:[eventfd]`, `anon_inode:inotify`, ...) other. `inode` is the bracketed number for
 * sockets and pipes.
 */
export const classifyFdTarget = (target: string): { readonly kind: FdKind; readonly inode: number | null } => {
  const bracketed = /^(socket|pipe):\[(\d+)\]$/.exec(target)
  if (bracketed !== null) {
    return { kind: bracketed[1] === "socket" ? "socket" : "pipe", inode: Number(bracketed[2]) }
  }
  if (target.startsWith("/")) return { kind: "file", inode: null }
  return { kind: "other", inode: null }
}

/**
 * The access mode of an fd from the text of `/proc/PID/fdinfo/N`: the `flags:` line is octal and
 * its low two bits are O_ACCMODE (0 O_RDONLY, 1 O_WRONLY, 2 O_RDWR; open(2)).
 */
export const parseFdAccess = (fdinfo: string): "read" | "write" | "read-write" | null => {
  const match = /^flags:\s*([0-7]+)\s*$/m.exec(fdinfo)
  if (match?.[1] === undefined) return null
  const mode = Number.parseInt(match[1], 8) & 3
  return mode === 0 ? "read" : mode === 1 ? "write" : mode === 2 ? "read-write" : null
}

/** Parses `/proc/PID/io` (`name: value` lines) into {@link IoEvidence}; unavailable without rchar/wchar. */
export const parseIo = (text: string): IoEvidence => {
  const values = new Map<string, number>()
  for (const line of text.split("\n")) {
    const match = /^(\w+):\s*(\d+)\s*$/.exec(line)
    if (match?.[1] !== undefined && match[2] !== undefined) values.set(match[1], Number(match[2]))
  }
  const rchar = values.get("rchar")
  const wchar = values.get("wchar")
  if (rchar === undefined || wchar === undefined) return { _tag: "Unavailable", reason: "no rchar/wchar in /proc/PID/io" }
  return {
    _tag: "Available",
    rchar,
    wchar,
    syscr: values.get("syscr") ?? null,
    syscw: values.get("syscw") ?? null,
    readBytes: values.get("read_bytes") ?? null,
    writeBytes: values.get("write_bytes") ?? null
  }
}
