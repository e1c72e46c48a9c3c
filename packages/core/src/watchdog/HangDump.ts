/**
 * The hang dump: the evidence captured about a stuck run before anything touches it, written to
 * the run's folder as `hang-dump.json` and `hang-dump.txt`. Built here, purely, from the process
 * inspections (ProcessTable.inspect: proc(5) stat, status, task/TID/{stat,wchan}, fd, net/tcp),
 * the run's environment (where the Messages API is) and its last output lines. Command lines,
 * output lines and endpoints pass through the run's redactor: command lines and environments
 * carry tokens.
 *
 * @module
 */
import type { HangDetection, WaitingOn } from "../domain/Failures.ts"
import { clipLine } from "../domain/Prefix.ts"
import type { Redactor } from "../domain/Redaction.ts"
import type { ProcessInspection, SocketDetail } from "../procfs/ProcessInspection.ts"
import { isZombie } from "../procfs/ProcessInfo.ts"

/** One process of the run in the dump. CPU in clock ticks (`clockTicksPerSecond` in the dump). */
export interface DumpProcess {
  readonly pid: number
  readonly ppid: number
  /** proc(5) stat state letter and its meaning. */
  readonly state: string
  readonly stateMeaning: string
  /** Where the main thread sleeps in the kernel (`/proc/PID/wchan`), or `"unavailable"`. */
  readonly wchan: string
  readonly comm: string
  /** argv, redacted. */
  readonly cmdline: ReadonlyArray<string>
  readonly utimeTicks: number
  readonly stimeTicks: number
  /** Every thread with its state and wchan; a string when the threads could not be read (why). */
  readonly threads: ReadonlyArray<{ readonly tid: number; readonly comm: string; readonly state: string; readonly wchan: string }> | string
}

/** The agent's signal masks by signal name (`/proc/PID/status` SigPnd, ShdPnd, SigBlk, SigIgn, SigCgt; proc(5)). */
export interface DumpSignals {
  readonly pending: ReadonlyArray<string>
  readonly sharedPending: ReadonlyArray<string>
  readonly blocked: ReadonlyArray<string>
  readonly ignored: ReadonlyArray<string>
  readonly caught: ReadonlyArray<string>
}

/** An open socket of a process of the run, with what the socket tables say about it. */
export interface DumpSocket {
  readonly pid: number
  readonly fd: number
  readonly inode: number | null
  readonly detail: SocketDetail | null
}

/** An open pipe end of a process of the run (both ends of a pipe share the inode). */
export interface DumpPipe {
  readonly pid: number
  readonly fd: number
  readonly inode: number | null
  readonly access: "read" | "write" | "read-write" | null
}

/** The whole dump (`hang-dump.json`). */
export interface HangDump {
  /** ISO 8601 instant of the capture. */
  readonly capturedAt: string
  readonly detection: HangDetection
  readonly agentPid: number
  readonly clockTicksPerSecond: number
  /** The agent first, then its descendants (parents first). */
  readonly processes: ReadonlyArray<DumpProcess>
  /** null when the agent's status could not be read. */
  readonly signals: DumpSignals | null
  readonly sockets: ReadonlyArray<DumpSocket>
  readonly pipes: ReadonlyArray<DumpPipe>
  /** The last output lines of the run (stdout and stderr), redacted. */
  readonly lastOutput: ReadonlyArray<string>
  /** Where the Messages API is taken to be (`host:port`, from ANTHROPIC_BASE_URL and the proxy variables), redacted. */
  readonly apiEndpoints: ReadonlyArray<string>
  readonly waitingOn: WaitingOn
  /** What the watchdog measured over the detection window (percent of one core, bytes per second). */
  readonly measured: Readonly<Record<string, number | null>>
  /** What could not be read, each with the reason. */
  readonly unavailable: ReadonlyArray<string>
}

/** A place the Messages API may be reached at: a host (name or address) and a port. */
export interface ApiEndpoint {
  readonly host: string
  readonly port: number
  /** `"base-url"`: ANTHROPIC_BASE_URL (or the default), `"proxy"`: HTTPS_PROXY / HTTP_PROXY. */
  readonly via: "base-url" | "proxy"
}

/** claude's default API host when ANTHROPIC_BASE_URL is unset. */
export const defaultApiBaseUrl = "https://api.anthropic.com"

const endpointOf = (url: string, via: ApiEndpoint["via"]): ApiEndpoint | null => {
  try {
    const u = new URL(url.includes("://") ? url : `http://${url}`)
    const port = u.port !== "" ? Number(u.port) : u.protocol === "https:" ? 443 : 80
    return { host: u.hostname.replace(/^\[|\]$/g, "").toLowerCase(), port, via }
  } catch {
    return null
  }
}

/**
 * Where the agent reaches the Messages API: ANTHROPIC_BASE_URL (default api.anthropic.com:443)
 * and, when set, the proxy of HTTPS_PROXY / https_proxy / HTTP_PROXY / http_proxy (the variables
 * claude's HTTP client honours).
 */
export const apiEndpoints = (env: Readonly<Record<string, string | undefined>>): ReadonlyArray<ApiEndpoint> => {
  const out: Array<ApiEndpoint> = []
  const base = endpointOf(env["ANTHROPIC_BASE_URL"] || defaultApiBaseUrl, "base-url")
  if (base !== null) out.push(base)
  for (const name of ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]) {
    const value = env[name]
    if (value === undefined || value === "") continue
    const proxy = endpointOf(value, "proxy")
    if (proxy !== null && !out.some((e) => e.host === proxy.host && e.port === proxy.port)) out.push(proxy)
  }
  return out
}

const loopbackNames = new Set(["localhost", "127.0.0.1", "::1", "ip6-localhost"])
const isLoopbackAddress = (address: string): boolean =>
  address.startsWith("127.") || address === "::1" || address.startsWith("::ffff:127.")
const isIpLiteral = (host: string): boolean => /^[\d.]+$/.test(host) || host.includes(":")
const stripMapped = (address: string): string => address.replace(/^::ffff:(?=\d+\.)/, "")

/** Splits `"127.0.0.1:443"` / `"[::1]:443"` (NetSockets.formatEndpoint) into address and port. */
export const splitEndpoint = (text: string): { readonly address: string; readonly port: number } => {
  const colon = text.lastIndexOf(":")
  return { address: text.slice(0, colon).replace(/^\[|\]$/g, ""), port: Number(text.slice(colon + 1)) }
}

/**
 * Whether a remote address and port is one of the API endpoints, without the network: a loopback
 * name matches any loopback address, an address literal matches itself (IPv4-mapped IPv6 too), a
 * host name (which would need DNS) matches by port alone.
 */
export const matchesEndpoint = (remote: string, endpoints: ReadonlyArray<ApiEndpoint>): ApiEndpoint | null => {
  const { address, port } = splitEndpoint(remote)
  for (const e of endpoints) {
    if (e.port !== port) continue
    if (loopbackNames.has(e.host)) {
      if (isLoopbackAddress(address)) return e
    } else if (isIpLiteral(e.host)) {
      if (stripMapped(address) === stripMapped(e.host)) return e
    } else {
      return e
    }
  }
  return null
}

/** TCP states in which a connection is open (or opening) to its peer. */
const openStates = new Set(["ESTABLISHED", "SYN_SENT", "SYN_RECV", "CLOSE_WAIT"])

const isAlive = (p: ProcessInspection): boolean => !isZombie(p.info)

/**
 * What the stuck agent waits on (issue 4): a tool subprocess alive → `tool-process`, naming the
 * deepest live descendant (the command actually running, e.g. `sleep 1000` under claude's
 * `bash -c`), its state; otherwise an open connection of the agent to the API or its proxy →
 * `model-api` with the peer; otherwise `unknown`. `descendants` excludes the agent.
 */
export const classifyWaitingOn = (
  agent: ProcessInspection | null,
  descendants: ReadonlyArray<ProcessInspection>,
  endpoints: ReadonlyArray<ApiEndpoint>,
  redact: (text: string) => string
): WaitingOn => {
  const live = descendants.filter(isAlive)
  if (live.length > 0) {
    const parents = new Set(live.map((p) => p.info.ppid))
    const leaves = live.filter((p) => !parents.has(p.info.pid))
    const tool = leaves[leaves.length - 1] ?? live[live.length - 1]!
    const argv = tool.info.cmdline.length > 0 ? tool.info.cmdline.join(" ") : tool.info.comm
    return { kind: "tool-process", pid: tool.info.pid, name: redact(argv).slice(0, 200), state: tool.info.state }
  }
  if (agent !== null && agent.fds._tag === "Available") {
    for (const fd of agent.fds.fds) {
      const s = fd.socket
      if (s === null || s._tag !== "Tcp" || !openStates.has(s.state)) continue
      const hit = matchesEndpoint(s.remote, endpoints)
      if (hit !== null) return { kind: "model-api", endpoint: redact(hit.via === "proxy" ? `${s.remote} (proxy)` : s.remote) }
    }
  }
  return { kind: "unknown" }
}

/** Everything the dump is built from. */
export interface DumpInput {
  readonly capturedAtMs: number
  readonly detection: HangDetection
  readonly agentPid: number
  readonly clockTicksPerSecond: number
  /** The agent's inspection; null when it could not be inspected (gone, or no /proc). */
  readonly agent: ProcessInspection | null
  /** Its descendants' inspections, parents first. */
  readonly descendants: ReadonlyArray<ProcessInspection>
  readonly env: Readonly<Record<string, string | undefined>>
  readonly lastOutput: ReadonlyArray<string>
  readonly measured: Readonly<Record<string, number | null>>
  /** What the caller could not read (no /proc, ...). */
  readonly unavailable: ReadonlyArray<string>
  readonly redactor: Redactor
}

/** Builds the dump. Pure. */
export const buildHangDump = (input: DumpInput): HangDump => {
  const redact = input.redactor.redact
  const unavailable = [...input.unavailable]
  const all = input.agent === null ? input.descendants : [input.agent, ...input.descendants]
  const processes: Array<DumpProcess> = []
  const sockets: Array<DumpSocket> = []
  const pipes: Array<DumpPipe> = []
  for (const p of all) {
    const pid = p.info.pid
    const threads = p.threads._tag === "Available"
      ? p.threads.threads.map((t) => ({ tid: t.tid, comm: t.comm, state: t.state, wchan: t.wchan }))
      : `unavailable: ${p.threads.reason}`
    if (p.threads._tag === "Unavailable") unavailable.push(`threads of ${pid}: ${p.threads.reason}`)
    const main = p.threads._tag === "Available" ? p.threads.threads.find((t) => t.tid === pid) : undefined
    processes.push({
      pid,
      ppid: p.info.ppid,
      state: p.info.state,
      stateMeaning: p.info.stateMeaning,
      wchan: main?.wchan ?? "unavailable",
      comm: p.info.comm,
      cmdline: p.info.cmdline.map(redact),
      utimeTicks: p.info.utimeTicks,
      stimeTicks: p.info.stimeTicks,
      threads
    })
    if (p.fds._tag === "Unavailable") {
      unavailable.push(`open files of ${pid}: ${p.fds.reason}`)
      continue
    }
    for (const fd of p.fds.fds) {
      if (fd.kind === "socket") sockets.push({ pid, fd: fd.fd, inode: fd.inode, detail: fd.socket })
      if (fd.kind === "pipe") pipes.push({ pid, fd: fd.fd, inode: fd.inode, access: fd.access })
    }
  }
  let signals: DumpSignals | null = null
  if (input.agent === null) {
    unavailable.push(`the agent process ${input.agentPid} could not be inspected`)
  } else if (input.agent.status._tag === "Available") {
    const s = input.agent.status.status
    signals = {
      pending: s.pending.signals,
      sharedPending: s.sharedPending.signals,
      blocked: s.blocked.signals,
      ignored: s.ignored.signals,
      caught: s.caught.signals
    }
  } else {
    unavailable.push(`signal masks of ${input.agentPid}: ${input.agent.status.reason}`)
  }
  if (input.agent !== null && input.agent.io._tag === "Unavailable") unavailable.push(`I/O counters of ${input.agentPid}: ${input.agent.io.reason}`)
  const endpoints = apiEndpoints(input.env)
  return {
    capturedAt: new Date(input.capturedAtMs).toISOString(),
    detection: input.detection,
    agentPid: input.agentPid,
    clockTicksPerSecond: input.clockTicksPerSecond,
    processes,
    signals,
    sockets,
    pipes,
    lastOutput: input.lastOutput.map(redact),
    apiEndpoints: endpoints.map((e) => redact(`${e.host}:${e.port}${e.via === "proxy" ? " (proxy)" : ""}`)),
    waitingOn: classifyWaitingOn(input.agent, input.descendants, endpoints, redact),
    measured: input.measured,
    unavailable
  }
}

const socketText = (d: SocketDetail | null): string =>
  d === null
    ? "?"
    : d._tag === "Tcp"
    ? `${d.protocol} ${d.local} -> ${d.remote} ${d.state}`
    : d._tag === "Unix"
    ? `unix ${d.type} ${d.state}${d.path === null ? "" : ` ${d.path}`}`
    : `unresolved (${d.reason})`

const waitingText = (w: WaitingOn): string =>
  w.kind === "model-api"
    ? `the Messages API (${w.endpoint})`
    : w.kind === "tool-process"
    ? `a tool process: pid ${w.pid} ${w.name} (state ${w.state})`
    : "unknown"

/** The human-readable dump (`hang-dump.txt`). */
export const renderHangDump = (dump: HangDump): string => {
  const d = dump.detection
  const lines: Array<string> = [
    `agentrun hang dump, captured ${dump.capturedAt}`,
    `detection: ${d.reason}, no progress for ${d.idleMs} ms (limit ${d.timeoutMs} ms)`,
    `waiting on: ${waitingText(dump.waitingOn)}`,
    `measured over the window: ${Object.entries(dump.measured).map(([k, v]) => `${k}=${v === null ? "n/a" : v.toFixed(2)}`).join(", ")}`,
    `API endpoints: ${dump.apiEndpoints.join(", ")}`,
    "",
    `processes (CPU in ticks, ${dump.clockTicksPerSecond}/s):`
  ]
  for (const p of dump.processes) {
    lines.push(`  ${p.pid} (ppid ${p.ppid}) ${p.state} ${p.stateMeaning}, wchan ${p.wchan}, cpu ${p.utimeTicks}u+${p.stimeTicks}s: ${p.cmdline.join(" ") || p.comm}`)
    if (typeof p.threads === "string") lines.push(`    threads ${p.threads}`)
    else for (const t of p.threads) lines.push(`    thread ${t.tid} ${t.comm} ${t.state} ${t.wchan}`)
  }
  lines.push("", `signals of the agent (${dump.agentPid}):`)
  if (dump.signals === null) lines.push("  unavailable")
  else {
    const s = dump.signals
    const names = (l: ReadonlyArray<string>) => (l.length === 0 ? "-" : l.join(" "))
    lines.push(
      `  pending (SigPnd):        ${names(s.pending)}`,
      `  shared pending (ShdPnd): ${names(s.sharedPending)}`,
      `  blocked (SigBlk):        ${names(s.blocked)}`,
      `  ignored (SigIgn):        ${names(s.ignored)}`,
      `  caught (SigCgt):         ${names(s.caught)}`
    )
  }
  lines.push("", "sockets:")
  for (const s of dump.sockets) lines.push(`  pid ${s.pid} fd ${s.fd}: ${socketText(s.detail)}`)
  if (dump.sockets.length === 0) lines.push("  none")
  lines.push("", "pipes:")
  for (const p of dump.pipes) lines.push(`  pid ${p.pid} fd ${p.fd}: pipe:[${p.inode ?? "?"}] ${p.access ?? "?"}`)
  if (dump.pipes.length === 0) lines.push("  none")
  lines.push("", "last output:")
  for (const l of dump.lastOutput) lines.push(`  ${clipLine(l, 500)}`)
  if (dump.lastOutput.length === 0) lines.push("  none")
  lines.push("", "unavailable:")
  for (const u of dump.unavailable) lines.push(`  ${u}`)
  if (dump.unavailable.length === 0) lines.push("  nothing")
  return lines.join("\n") + "\n"
}
