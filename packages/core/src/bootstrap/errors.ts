/**
 * One tagged error class per installer error kind (see `ErrorKindCodes` in `codes.ts`).
 *
 * Every class carries the same structured evidence: the phase, the (redacted) command line, how the
 * installer ended (`exitCode`, `signal`), the redacted tail of its output, and whether retrying
 * later may help (`retryable`). Some kinds add their own facts (the signal's return code, the npm
 * error code, the time limit). Each instance also has `kind` (the snake_case name) and `code` (the
 * number), and each class a static `code`.
 *
 * @module
 */
import * as Schema from "effect/Schema"
import { Phases } from "./codes.ts"

/** Evidence common to every installer error. */
const Evidence = {
  /** What happened and what to do, for people. Redacted. */
  message: Schema.String,
  /** The phase that failed (`codes.ts`, `PhaseCodes`). */
  phase: Schema.Literals(Phases),
  /** The installer command line, redacted; empty when no process ran. */
  command: Schema.String,
  /** The installer's exit status, or null when it died by a signal or did not run. */
  exitCode: Schema.NullOr(Schema.Number),
  /** The name of the signal that ended it (`"SIGKILL"`), or null. */
  signal: Schema.NullOr(Schema.String),
  /** The last lines (at most 20) of stderr, then stdout when stderr was empty; redacted. */
  stderrTail: Schema.String,
  /** True when trying again later, unchanged, may succeed (network trouble, time limit). */
  retryable: Schema.Boolean
}

/**
 * Error kind `pip_no_match` (1). pip found no distribution matching the requirement ("No matching distribution found", "Could not find a version that satisfies").
 */
export class PipNoMatch extends Schema.TaggedError<PipNoMatch>()("PipNoMatch", {
  ...Evidence
}) {
  /** The kind's number (`ErrorKindCodes.pip_no_match`). */
  static readonly code = 1
  /** The kind's number. */
  readonly code = 1
  /** The kind's name. */
  readonly kind = "pip_no_match" as const
}

/**
 * Error kind `dns_fail` (2). The package index host name did not resolve ("Name or service not known", "Temporary failure in name resolution", npm ENOTFOUND / EAI_AGAIN).
 */
export class DnsFail extends Schema.TaggedError<DnsFail>()("DnsFail", {
  ...Evidence
}) {
  /** The kind's number (`ErrorKindCodes.dns_fail`). */
  static readonly code = 2
  /** The kind's number. */
  readonly code = 2
  /** The kind's name. */
  readonly kind = "dns_fail" as const
}

/**
 * Error kind `conn_refused` (3). The package index refused the connection ("Connection refused", npm ECONNREFUSED).
 */
export class ConnRefused extends Schema.TaggedError<ConnRefused>()("ConnRefused", {
  ...Evidence
}) {
  /** The kind's number (`ErrorKindCodes.conn_refused`). */
  static readonly code = 3
  /** The kind's number. */
  readonly code = 3
  /** The kind's name. */
  readonly kind = "conn_refused" as const
}

/**
 * Error kind `ssl_verify` (4). TLS certificate verification failed ("CERTIFICATE_VERIFY_FAILED", npm SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_GET_ISSUER_CERT_LOCALLY, CERT_HAS_EXPIRED).
 */
export class SslVerify extends Schema.TaggedError<SslVerify>()("SslVerify", {
  ...Evidence
}) {
  /** The kind's number (`ErrorKindCodes.ssl_verify`). */
  static readonly code = 4
  /** The kind's number. */
  readonly code = 4
  /** The kind's name. */
  readonly kind = "ssl_verify" as const
}

/**
 * Error kind `perm_denied` (5). The installer could not write where it must ("Permission denied", errno EACCES / EPERM).
 */
export class PermDenied extends Schema.TaggedError<PermDenied>()("PermDenied", {
  ...Evidence
}) {
  /** The kind's number (`ErrorKindCodes.perm_denied`). */
  static readonly code = 5
  /** The kind's number. */
  readonly code = 5
  /** The kind's name. */
  readonly kind = "perm_denied" as const
}

/**
 * Error kind `no_pip` (6). The interpreter has no pip ("No module named pip").
 */
export class NoPip extends Schema.TaggedError<NoPip>()("NoPip", {
  ...Evidence
}) {
  /** The kind's number (`ErrorKindCodes.no_pip`). */
  static readonly code = 6
  /** The kind's number. */
  readonly code = 6
  /** The kind's name. */
  readonly kind = "no_pip" as const
}

/**
 * Error kind `disk_full` (7). No space left on the device (errno ENOSPC, "[Errno 28]").
 */
export class DiskFull extends Schema.TaggedError<DiskFull>()("DiskFull", {
  ...Evidence
}) {
  /** The kind's number (`ErrorKindCodes.disk_full`). */
  static readonly code = 7
  /** The kind's number. */
  readonly code = 7
  /** The kind's name. */
  readonly kind = "disk_full" as const
}

/**
 * Error kind `proxy_auth` (8). The HTTP proxy demanded authentication (HTTP 407 "Proxy Authentication Required", npm E407).
 */
export class ProxyAuth extends Schema.TaggedError<ProxyAuth>()("ProxyAuth", {
  ...Evidence
}) {
  /** The kind's number (`ErrorKindCodes.proxy_auth`). */
  static readonly code = 8
  /** The kind's number. */
  readonly code = 8
  /** The kind's name. */
  readonly kind = "proxy_auth" as const
}

/**
 * Error kind `network_timeout` (9). The installer itself reported a network timeout ("Read timed out", npm ETIMEDOUT / ESOCKETTIMEDOUT).
 */
export class NetworkTimeout extends Schema.TaggedError<NetworkTimeout>()("NetworkTimeout", {
  ...Evidence
}) {
  /** The kind's number (`ErrorKindCodes.network_timeout`). */
  static readonly code = 9
  /** The kind's number. */
  readonly code = 9
  /** The kind's name. */
  readonly kind = "network_timeout" as const
}

/**
 * Error kind `subprocess_timeout` (10). agentrun's own time limit on the installer ran out; agentrun killed it (its SIGKILL is not a signal_killed).
 */
export class SubprocessTimeout extends Schema.TaggedError<SubprocessTimeout>()("SubprocessTimeout", {
  ...Evidence,
  /** The time limit that ran out, in milliseconds. */
  timeoutMs: Schema.Number
}) {
  /** The kind's number (`ErrorKindCodes.subprocess_timeout`). */
  static readonly code = 10
  /** The kind's number. */
  readonly code = 10
  /** The kind's name. */
  readonly kind = "subprocess_timeout" as const
}

/**
 * Error kind `venv_ensurepip_fail` (11). `python -m venv` failed because ensurepip is unavailable (Debian/Ubuntu without python3-venv; Debian's message: "The virtual environment was not created successfully because ensurepip is not available."), or ensurepip itself failed.
 */
export class VenvEnsurepipFail extends Schema.TaggedError<VenvEnsurepipFail>()("VenvEnsurepipFail", {
  ...Evidence
}) {
  /** The kind's number (`ErrorKindCodes.venv_ensurepip_fail`). */
  static readonly code = 11
  /** The kind's number. */
  readonly code = 11
  /** The kind's name. */
  readonly kind = "venv_ensurepip_fail" as const
}

/**
 * Error kind `venv_path_too_long` (12). The venv path is too long for the OS or for shebang lines (errno ENAMETOOLONG, "File name too long").
 */
export class VenvPathTooLong extends Schema.TaggedError<VenvPathTooLong>()("VenvPathTooLong", {
  ...Evidence
}) {
  /** The kind's number (`ErrorKindCodes.venv_path_too_long`). */
  static readonly code = 12
  /** The kind's number. */
  readonly code = 12
  /** The kind's name. */
  readonly kind = "venv_path_too_long" as const
}

/**
 * Error kind `venv_no_module` (13). The interpreter has no `venv` module ("No module named venv").
 */
export class VenvNoModule extends Schema.TaggedError<VenvNoModule>()("VenvNoModule", {
  ...Evidence
}) {
  /** The kind's number (`ErrorKindCodes.venv_no_module`). */
  static readonly code = 13
  /** The kind's number. */
  readonly code = 13
  /** The kind's name. */
  readonly kind = "venv_no_module" as const
}

/**
 * Error kind `venv_already_exists` (14). The venv directory exists and could not be replaced ("[Errno 17] File exists").
 */
export class VenvAlreadyExists extends Schema.TaggedError<VenvAlreadyExists>()("VenvAlreadyExists", {
  ...Evidence
}) {
  /** The kind's number (`ErrorKindCodes.venv_already_exists`). */
  static readonly code = 14
  /** The kind's number. */
  readonly code = 14
  /** The kind's name. */
  readonly kind = "venv_already_exists" as const
}

/**
 * Error kind `venv_setup_failed` (15). `python -m venv` failed for another reason.
 */
export class VenvSetupFailed extends Schema.TaggedError<VenvSetupFailed>()("VenvSetupFailed", {
  ...Evidence
}) {
  /** The kind's number (`ErrorKindCodes.venv_setup_failed`). */
  static readonly code = 15
  /** The kind's number. */
  readonly code = 15
  /** The kind's name. */
  readonly kind = "venv_setup_failed" as const
}

/**
 * Error kind `signal_killed` (16). The installer died by a signal agentrun did not send (or exited 128+n): SIGKILL usually means the OOM killer, SIGSEGV with empty output an address-space limit (RLIMIT_AS, `ulimit -v`). Triggers the cooldown.
 */
export class SignalKilled extends Schema.TaggedError<SignalKilled>()("SignalKilled", {
  ...Evidence,
  /** The signal name, e.g. `"SIGKILL"`. */
  signalName: Schema.String,
  /** The Linux signal number, e.g. 9. */
  signalNumber: Schema.Number,
  /**
   * The return code as Python's subprocess reports it: `-n` when the kernel reported the signal
   * death, `128+n` when a shell wrapper exited with it.
   */
  returnCode: Schema.Number,
  /** `"wait"` (killed directly) or `"exit-128+n"` (a wrapper shell reported it). */
  via: Schema.Literals(["wait", "exit-128+n"])
}) {
  /** The kind's number (`ErrorKindCodes.signal_killed`). */
  static readonly code = 16
  /** The kind's number. */
  readonly code = 16
  /** The kind's name. */
  readonly kind = "signal_killed" as const
}

/**
 * Error kind `npm_not_found` (17). npm found no such package or version (npm error codes E404 / ETARGET; https://docs.npmjs.com/cli/using-npm/config and npm's error output `npm error code ETARGET`).
 */
export class NpmNotFound extends Schema.TaggedError<NpmNotFound>()("NpmNotFound", {
  ...Evidence,
  /** The npm error code, e.g. `"ETARGET"`. */
  npmCode: Schema.String,
  /** The package spec npm was asked for. */
  spec: Schema.String
}) {
  /** The kind's number (`ErrorKindCodes.npm_not_found`). */
  static readonly code = 17
  /** The kind's number. */
  readonly code = 17
  /** The kind's name. */
  readonly kind = "npm_not_found" as const
}

/**
 * Error kind `npm_integrity` (18). A downloaded tarball did not match its recorded integrity hash (npm error code EINTEGRITY).
 */
export class NpmIntegrity extends Schema.TaggedError<NpmIntegrity>()("NpmIntegrity", {
  ...Evidence,
  /** The npm error code, `"EINTEGRITY"`. */
  npmCode: Schema.String,
  /** The package spec npm was asked for. */
  spec: Schema.String
}) {
  /** The kind's number (`ErrorKindCodes.npm_integrity`). */
  static readonly code = 18
  /** The kind's number. */
  readonly code = 18
  /** The kind's name. */
  readonly kind = "npm_integrity" as const
}

/**
 * Error kind `npm_engine` (19). The Node.js running npm is not one the package supports (npm EBADENGINE under --engine-strict, or agentrun's own pre-check of claude-code's `engines.node`).
 */
export class NpmEngine extends Schema.TaggedError<NpmEngine>()("NpmEngine", {
  ...Evidence,
  /** The supported Node range, e.g. `">=22.0.0"`. */
  required: Schema.String,
  /** The Node version that was used, e.g. `"v20.20.2"`. */
  actual: Schema.String
}) {
  /** The kind's number (`ErrorKindCodes.npm_engine`). */
  static readonly code = 19
  /** The kind's number. */
  readonly code = 19
  /** The kind's name. */
  readonly kind = "npm_engine" as const
}

/**
 * Error kind `uncategorized` (99). A failure no rule recognised; carries the last stderr line and a short stable hash of the stderr tail.
 */
export class Uncategorized extends Schema.TaggedError<Uncategorized>()("Uncategorized", {
  ...Evidence,
  /** The last non-empty stderr line (redacted), or empty. */
  lastStderrLine: Schema.String,
  /** Short stable hash of the normalised stderr tail (`stderrHash` in `installerOutput.ts`), or empty. */
  stderrHash: Schema.String
}) {
  /** The kind's number (`ErrorKindCodes.uncategorized`). */
  static readonly code = 99
  /** The kind's number. */
  readonly code = 99
  /** The kind's name. */
  readonly kind = "uncategorized" as const
}

/** Any installer error kind. */
export type InstallerError =
  | PipNoMatch
  | DnsFail
  | ConnRefused
  | SslVerify
  | PermDenied
  | NoPip
  | DiskFull
  | ProxyAuth
  | NetworkTimeout
  | SubprocessTimeout
  | VenvEnsurepipFail
  | VenvPathTooLong
  | VenvNoModule
  | VenvAlreadyExists
  | VenvSetupFailed
  | SignalKilled
  | NpmNotFound
  | NpmIntegrity
  | NpmEngine
  | Uncategorized

/** Every installer error class, in code order. */
export const InstallerErrorClasses = [
  PipNoMatch,
  DnsFail,
  ConnRefused,
  SslVerify,
  PermDenied,
  NoPip,
  DiskFull,
  ProxyAuth,
  NetworkTimeout,
  SubprocessTimeout,
  VenvEnsurepipFail,
  VenvPathTooLong,
  VenvNoModule,
  VenvAlreadyExists,
  VenvSetupFailed,
  SignalKilled,
  NpmNotFound,
  NpmIntegrity,
  NpmEngine,
  Uncategorized
] as const
