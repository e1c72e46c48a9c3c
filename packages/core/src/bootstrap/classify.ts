/**
 * Turns how an installer ended (exit status, output, spawn errno) into one installer error kind.
 *
 * Rules, in order: agentrun's own time limit → `subprocess_timeout`; a signal death agentrun did
 * not cause → `signal_killed`; the npm error code (`npm error code E404`, npm >= 10; `npm ERR! code`
 * before; codes from https://docs.npmjs.com/ and Node's errno names) → its kind; lowercased
 * substrings of stderr+stdout (pip's and CPython's wording) → a kind; otherwise `venv_setup_failed`
 * in the venv phase, `uncategorized` elsewhere.
 *
 * @module
 */
import type { Phase } from "./codes.ts"
import { describe as describeStatus } from "../domain/ExitStatus.ts"
import {
  ConnRefused,
  DiskFull,
  DnsFail,
  type InstallerError,
  NetworkTimeout,
  NoPip,
  NpmEngine,
  NpmIntegrity,
  NpmNotFound,
  PermDenied,
  PipNoMatch,
  ProxyAuth,
  SignalKilled,
  SslVerify,
  SubprocessTimeout,
  Uncategorized,
  VenvAlreadyExists,
  VenvEnsurepipFail,
  VenvNoModule,
  VenvPathTooLong,
  VenvSetupFailed
} from "./errors.ts"
import type { InstallerRun, InstallerSpawnError } from "./InstallerProcess.ts"
import type { Redactor } from "../domain/Redaction.ts"
import { lastLine, stderrHash, tail } from "./installerOutput.ts"

/** What {@link classifyRun} needs to know about one installer run. */
export interface ClassifyInput {
  readonly phase: Phase
  /** The command line, already redacted. */
  readonly command: string
  readonly run: InstallerRun
  /** Redacts the installer's output (the run's shared redactor, `domain/Redaction.ts`). */
  readonly redactor: Redactor
  /** The time limit that applied, in milliseconds. */
  readonly timeoutMs: number
  /** The package spec (npm) or requirement (pip) being installed. */
  readonly spec: string
}

/** A text rule: any of `needles` (lowercase) in the lowercased output selects `kind`. */
type TextKind =
  | "pip_no_match"
  | "dns_fail"
  | "conn_refused"
  | "ssl_verify"
  | "perm_denied"
  | "no_pip"
  | "disk_full"
  | "proxy_auth"
  | "network_timeout"
  | "venv_ensurepip_fail"
  | "venv_path_too_long"
  | "venv_no_module"
  | "venv_already_exists"

/**
 * Venv rules, tried first in the venv phase. "ensurepip is not available" is Debian's message when
 * python3-venv is missing (Debian patch `ensurepip-disabled`); the generic CPython form is
 * "Command '[..., '-m', 'ensurepip', ...]' returned non-zero exit status".
 */
const venvRules: ReadonlyArray<readonly [TextKind, ReadonlyArray<string>]> = [
  ["venv_ensurepip_fail", ["ensurepip is not available", "no module named ensurepip", "'ensurepip'", "-m ensurepip"]],
  ["venv_no_module", ["no module named venv"]],
  ["venv_path_too_long", ["file name too long", "enametoolong", "[errno 36]"]],
  ["venv_already_exists", ["[errno 17]", "file exists"]]
]

/** Rules for pip / npm / any phase, in priority order (sources: pip, urllib3, OpenSSL, errno(3)). */
const textRules: ReadonlyArray<readonly [TextKind, ReadonlyArray<string>]> = [
  ["no_pip", ["no module named pip"]],
  // Network causes first: when the index is unreachable pip still ends with "No matching
  // distribution found", and the cause is the line before it.
  ["proxy_auth", ["407 proxy authentication required", "proxy authentication required"]],
  ["ssl_verify", [
    "certificate verify failed",
    "certificate_verify_failed",
    "self-signed certificate",
    "self signed certificate",
    "unable to get local issuer certificate"
  ]],
  ["dns_fail", [
    "name or service not known",
    "temporary failure in name resolution",
    "nodename nor servname provided",
    "failed to resolve",
    "getaddrinfo enotfound",
    "no address associated with hostname"
  ]],
  ["conn_refused", ["connection refused", "econnrefused"]],
  ["network_timeout", ["read timed out", "connect timeout", "connection timed out", "etimedout"]],
  ["pip_no_match", ["no matching distribution found", "could not find a version that satisfies"]],
  ["disk_full", ["no space left on device", "enospc", "[errno 28]"]],
  ["perm_denied", ["permission denied", "eacces", "operation not permitted", "[errno 13]"]]
]

/** npm error codes (npm's `npm error code X` line, or Node errno names it passes on) → kind. */
const npmCodes: Readonly<Record<string, TextKind | "npm_not_found" | "npm_integrity" | "npm_engine">> = {
  E404: "npm_not_found",
  ETARGET: "npm_not_found",
  EINTEGRITY: "npm_integrity",
  EBADENGINE: "npm_engine",
  ENOTSUP: "npm_engine",
  ENOTFOUND: "dns_fail",
  EAI_AGAIN: "dns_fail",
  ECONNREFUSED: "conn_refused",
  ETIMEDOUT: "network_timeout",
  ESOCKETTIMEDOUT: "network_timeout",
  ECONNRESET: "network_timeout",
  EACCES: "perm_denied",
  EPERM: "perm_denied",
  ENOSPC: "disk_full",
  E407: "proxy_auth",
  SELF_SIGNED_CERT_IN_CHAIN: "ssl_verify",
  DEPTH_ZERO_SELF_SIGNED_CERT: "ssl_verify",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "ssl_verify",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "ssl_verify",
  CERT_HAS_EXPIRED: "ssl_verify"
}

/** The npm error code in npm's output (`npm error code ETARGET`, or `npm ERR! code ETARGET`), if any. */
export const npmErrorCode = (output: string): string | undefined =>
  /npm (?:error|ERR!) code (\S+)/.exec(output)?.[1]

const advice: Readonly<Record<TextKind, string>> = {
  pip_no_match: "check the package name and version, and that the index has a build for this Python",
  dns_fail: "check DNS and network access to the package index",
  conn_refused: "check the index URL, proxy settings and that the network allows the connection",
  ssl_verify: "check the system CA certificates or the proxy's certificate (pip: --cert, npm: cafile)",
  perm_denied: "check ownership and permissions of the agentrun data directory",
  no_pip: "install pip for this interpreter (Debian/Ubuntu: apt install python3-pip)",
  disk_full: "free disk space",
  proxy_auth: "set proxy credentials (HTTPS_PROXY=http://user:password@host:port)",
  network_timeout: "check the network; retry later",
  venv_ensurepip_fail: "install python3-venv (Debian/Ubuntu: apt install python3-venv)",
  venv_path_too_long: "use a shorter XDG_DATA_HOME",
  venv_no_module: "install the venv module for this interpreter (Debian/Ubuntu: apt install python3-venv)",
  venv_already_exists: "remove the managed venv directory and retry"
}

const retryableKinds: ReadonlySet<string> = new Set(["dns_fail", "conn_refused", "network_timeout"])

/**
 * The message for a signal death: names the signal, its likely cause, and what to do.
 * SIGKILL: the kernel's OOM killer. SIGSEGV with no output at all: an address-space limit
 * (`ulimit -v`, RLIMIT_AS) too small for the installer to start.
 */
export const signalAdvice = (name: string, emptyOutput: boolean): string => {
  if (name === "SIGKILL") {
    return "SIGKILL usually comes from the kernel's OOM killer: the machine ran out of memory. Free memory (stop other programs, add swap, raise the container's memory limit)"
  }
  if (name === "SIGSEGV" && emptyOutput) {
    return "SIGSEGV with no output at all usually means an address-space limit (ulimit -v / RLIMIT_AS) too small for the installer. Raise or remove the limit (ulimit -v unlimited)"
  }
  if (name === "SIGSEGV") return "the installer crashed (SIGSEGV); a memory limit is the usual cause. Free memory or raise limits"
  if (name === "SIGABRT") return "the installer aborted (SIGABRT), often when an allocation failed. Free memory"
  // Faults the CPU raises in the program itself (signal(7)): nobody sent them.
  if (name === "SIGILL") return "the program ran an instruction this CPU does not have (SIGILL): it is likely built for a newer CPU"
  if (name === "SIGBUS") return "a bus error (SIGBUS): usually a file it had mapped in memory was truncated, or /dev/shm or the disk is full"
  if (name === "SIGFPE") return "an arithmetic fault in the program (SIGFPE): a bug or a broken build"
  return `something outside agentrun sent ${name}. Find out what stopped it`
}

/** Classifies a finished installer run that did not succeed. */
export const classifyRun = (input: ClassifyInput): InstallerError => {
  const { phase, command, run, redactor, spec } = input
  const stderr = redactor.redact(run.stderr)
  const stdout = redactor.redact(run.stdout)
  const stderrTail = tail(stderr.trim() !== "" ? stderr : stdout)
  const base = {
    phase,
    command,
    exitCode: run.status.exitCode,
    signal: run.status.signal?.name ?? null,
    stderrTail
  }
  const how = describeStatus(run.status)
  const name = command.split(" ")[0] ?? command

  if (run.timedOut) {
    return new SubprocessTimeout({
      ...base,
      message: `${name} did not finish within agentrun's limit of ${Math.round(input.timeoutMs / 1000)} s and was killed; retry when the network or the machine is less busy`,
      retryable: true,
      timeoutMs: input.timeoutMs
    })
  }
  const signal = run.status.signal
  if (signal !== null && run.sentSignal === null) {
    const emptyOutput = run.stdout.trim() === "" && run.stderr.trim() === ""
    const returnCode = signal.via === "wait" ? -signal.number : (run.status.exitCode ?? 128 + signal.number)
    return new SignalKilled({
      ...base,
      message: `${name} was killed by ${signal.name} (${how})${emptyOutput ? " before writing any output" : ""}; agentrun did not send it. ${signalAdvice(signal.name, emptyOutput)}`,
      retryable: false,
      signalName: signal.name,
      signalNumber: signal.number,
      returnCode,
      via: signal.via
    })
  }

  const output = `${stderr}\n${stdout}`
  const code = npmErrorCode(output)
  const lower = output.toLowerCase().replace(/\s+/g, " ")
  const npmKind = code === undefined ? undefined : npmCodes[code]
  if (npmKind === "npm_not_found" && code !== undefined) {
    return new NpmNotFound({
      ...base,
      message: `npm has no ${spec} (${code}); check the pinned version and the registry`,
      retryable: false,
      npmCode: code,
      spec
    })
  }
  if (npmKind === "npm_integrity" && code !== undefined) {
    return new NpmIntegrity({
      ...base,
      message: `npm's download of ${spec} failed its integrity check (${code}); clear agentrun's npm cache and retry`,
      retryable: true,
      npmCode: code,
      spec
    })
  }
  if (npmKind === "npm_engine") {
    const required = /required:\s*\{[^}]*node:\s*'([^']+)'/.exec(output)?.[1] ?? /wanted: \{"node":"([^"]+)"/.exec(output)?.[1] ?? "?"
    const actual = /current:\s*\{[^}]*node:\s*'([^']+)'/.exec(output)?.[1] ?? /current: \{"node":"([^"]+)"/.exec(output)?.[1] ?? "?"
    return new NpmEngine({
      ...base,
      message: `${spec} does not support Node ${actual} (needs ${required}); run agentrun with a supported Node`,
      retryable: false,
      required,
      actual
    })
  }
  const npmText = npmKind === "npm_not_found" || npmKind === "npm_integrity" ? undefined : npmKind
  const textKind: TextKind | undefined = npmText ??
    (phase === "venv" ? venvRules.find(([, needles]) => needles.some((n) => lower.includes(n)))?.[0] : undefined) ??
    textRules.find(([, needles]) => needles.some((n) => lower.includes(n)))?.[0]
  if (textKind !== undefined) {
    const message = `${name} failed (${how}): ${lastLine(stderrTail) || textKind}; ${advice[textKind]}`
    return textError(textKind, { ...base, message, retryable: retryableKinds.has(textKind) })
  }
  if (phase === "venv") {
    return new VenvSetupFailed({
      ...base,
      message: `creating the venv failed (${how}): ${lastLine(stderrTail) || "no output"}`,
      retryable: false
    })
  }
  const last = lastLine(stderrTail)
  return new Uncategorized({
    ...base,
    message: `${name} failed (${how}): ${last || "no output"}`,
    retryable: false,
    lastStderrLine: last,
    stderrHash: stderrHash(stderrTail)
  })
}

type Base = {
  readonly phase: Phase
  readonly command: string
  readonly exitCode: number | null
  readonly signal: string | null
  readonly stderrTail: string
  readonly message: string
  readonly retryable: boolean
}

const textError = (kind: TextKind, base: Base): InstallerError => {
  switch (kind) {
    case "pip_no_match":
      return new PipNoMatch(base)
    case "dns_fail":
      return new DnsFail(base)
    case "conn_refused":
      return new ConnRefused(base)
    case "ssl_verify":
      return new SslVerify(base)
    case "perm_denied":
      return new PermDenied(base)
    case "no_pip":
      return new NoPip(base)
    case "disk_full":
      return new DiskFull(base)
    case "proxy_auth":
      return new ProxyAuth(base)
    case "network_timeout":
      return new NetworkTimeout(base)
    case "venv_ensurepip_fail":
      return new VenvEnsurepipFail(base)
    case "venv_path_too_long":
      return new VenvPathTooLong(base)
    case "venv_no_module":
      return new VenvNoModule(base)
    case "venv_already_exists":
      return new VenvAlreadyExists(base)
  }
}

/**
 * Classifies an installer that could not start, by errno: EACCES/EPERM → `perm_denied`, ENOSPC →
 * `disk_full`, ENAMETOOLONG → `venv_path_too_long`; any other failure to start in the venv
 * phase → `venv_setup_failed`; otherwise `uncategorized` naming the missing command. The command
 * line and message pass through `redactor` (an index URL can carry credentials).
 */
export const classifySpawnError = (phase: Phase, spawnError: InstallerSpawnError, redactor: Redactor): InstallerError => {
  const error = { ...spawnError, command: redactor.redact(spawnError.command), message: redactor.redact(spawnError.message) }
  const base = {
    phase,
    command: error.command,
    exitCode: null,
    signal: null,
    stderrTail: "",
    retryable: false
  }
  if (error.errno === "EACCES" || error.errno === "EPERM") {
    return new PermDenied({ ...base, message: `${error.message}; ${advice.perm_denied}` })
  }
  if (error.errno === "ENOSPC") return new DiskFull({ ...base, message: `${error.message}; ${advice.disk_full}` })
  if (error.errno === "ENAMETOOLONG") {
    return new VenvPathTooLong({ ...base, message: `${error.message}; ${advice.venv_path_too_long}` })
  }
  if (phase === "venv") return new VenvSetupFailed({ ...base, message: error.message })
  const missing = error.errno === "ENOENT" ? ` (${error.command.split(" ")[0]} not found on PATH)` : ""
  return new Uncategorized({
    ...base,
    message: `${error.message}${missing}`,
    lastStderrLine: "",
    stderrHash: ""
  })
}
