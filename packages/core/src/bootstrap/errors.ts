/**
 * One tagged error class per installer error kind (see `ErrorKindCodes` in `codes.ts`).
 *
 * Every class carries the same structured evidence: the phase, the (redacted) command line, how the
 * installer ended (`exitCode`, `signal`), the redacted tail of its output, and whether retrying
 * later may help (`retryable`). Some kinds add their own facts (the signal's return code, the npm
 * error code, the time limit). Each instance also has `kind` (the snake_case name) and `code` (the
 * number), and each class a static `code`: all three come from the one {@link installerError}
 * definition, so a class is its tag, its kind and its own fields, nothing copied.
 *
 * @module
 */
import * as Schema from "effect/Schema"
import { type ErrorKind, ErrorKindCodes, Phases } from "./codes.ts"

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
 * The base of the error class for `kind`: the {@link Evidence} fields, then `fields` (the kind's
 * own facts), then `kind` and `code` filled in by the constructor; the class gets a static `code`.
 * Usage: `class DnsFail extends installerError<DnsFail>()("DnsFail", "dns_fail") {}`.
 */
const installerError = <Self>() =>
<const Tag extends string, const Kind extends ErrorKind, const Fields extends Schema.Struct.Fields = {}>(
  tag: Tag,
  kind: Kind,
  fields: Fields = {} as Fields
) =>
  Object.assign(
    Schema.TaggedError<Self>()(tag, { ...Evidence, ...fields, kind: Schema.tag(kind), code: Schema.tag(ErrorKindCodes[kind]) }),
    { code: ErrorKindCodes[kind] }
  )

/** The npm error code and the package spec npm was asked for. */
const NpmRequest = {
  /** The npm error code, e.g. `"ETARGET"`, `"EINTEGRITY"`. */
  npmCode: Schema.String,
  /** The package spec npm was asked for. */
  spec: Schema.String
}

/**
 * `pip_no_match` (1): pip found no distribution matching the requirement ("No matching distribution
 * found", "Could not find a version that satisfies").
 */
export class PipNoMatch extends installerError<PipNoMatch>()("PipNoMatch", "pip_no_match") {}

/**
 * `dns_fail` (2): The package index host name did not resolve ("Name or service not known",
 * "Temporary failure in name resolution", npm ENOTFOUND / EAI_AGAIN).
 */
export class DnsFail extends installerError<DnsFail>()("DnsFail", "dns_fail") {}

/** `conn_refused` (3): The package index refused the connection ("Connection refused", npm ECONNREFUSED). */
export class ConnRefused extends installerError<ConnRefused>()("ConnRefused", "conn_refused") {}

/**
 * `ssl_verify` (4): TLS certificate verification failed ("CERTIFICATE_VERIFY_FAILED", npm
 * SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_GET_ISSUER_CERT_LOCALLY, CERT_HAS_EXPIRED).
 */
export class SslVerify extends installerError<SslVerify>()("SslVerify", "ssl_verify") {}

/** `perm_denied` (5): The installer could not write where it must ("Permission denied", errno EACCES / EPERM). */
export class PermDenied extends installerError<PermDenied>()("PermDenied", "perm_denied") {}

/** `no_pip` (6): The interpreter has no pip ("No module named pip"). */
export class NoPip extends installerError<NoPip>()("NoPip", "no_pip") {}

/** `disk_full` (7): No space left on the device (errno ENOSPC, "[Errno 28]"). */
export class DiskFull extends installerError<DiskFull>()("DiskFull", "disk_full") {}

/** `proxy_auth` (8): The HTTP proxy demanded authentication (HTTP 407 "Proxy Authentication Required", npm E407). */
export class ProxyAuth extends installerError<ProxyAuth>()("ProxyAuth", "proxy_auth") {}

/**
 * `network_timeout` (9): The installer itself reported a network timeout ("Read timed out", npm
 * ETIMEDOUT / ESOCKETTIMEDOUT).
 */
export class NetworkTimeout extends installerError<NetworkTimeout>()("NetworkTimeout", "network_timeout") {}

/**
 * `subprocess_timeout` (10): agentrun's own time limit on the installer ran out; agentrun killed it
 * (its SIGKILL is not a signal_killed).
 */
export class SubprocessTimeout extends installerError<SubprocessTimeout>()("SubprocessTimeout", "subprocess_timeout", {
  /** The time limit that ran out, in milliseconds. */
  timeoutMs: Schema.Number
}) {}

/**
 * `venv_ensurepip_fail` (11): `python -m venv` failed because ensurepip is unavailable
 * (Debian/Ubuntu without python3-venv; Debian's message: "The virtual environment was not created
 * successfully because ensurepip is not available."), or ensurepip itself failed.
 */
export class VenvEnsurepipFail extends installerError<VenvEnsurepipFail>()("VenvEnsurepipFail", "venv_ensurepip_fail") {}

/**
 * `venv_path_too_long` (12): The venv path is too long for the OS or for shebang lines (errno
 * ENAMETOOLONG, "File name too long").
 */
export class VenvPathTooLong extends installerError<VenvPathTooLong>()("VenvPathTooLong", "venv_path_too_long") {}

/** `venv_no_module` (13): The interpreter has no `venv` module ("No module named venv"). */
export class VenvNoModule extends installerError<VenvNoModule>()("VenvNoModule", "venv_no_module") {}

/** `venv_already_exists` (14): The venv directory exists and could not be replaced ("[Errno 17] File exists"). */
export class VenvAlreadyExists extends installerError<VenvAlreadyExists>()("VenvAlreadyExists", "venv_already_exists") {}

/** `venv_setup_failed` (15): `python -m venv` failed for another reason. */
export class VenvSetupFailed extends installerError<VenvSetupFailed>()("VenvSetupFailed", "venv_setup_failed") {}

/**
 * `signal_killed` (16): The installer died by a signal agentrun did not send (or exited 128+n):
 * SIGKILL usually means the OOM killer, SIGSEGV with empty output an address-space limit
 * (RLIMIT_AS, `ulimit -v`). Triggers the cooldown.
 */
export class SignalKilled extends installerError<SignalKilled>()("SignalKilled", "signal_killed", {
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
}) {}

/**
 * `npm_not_found` (17): npm found no such package or version (npm error codes E404 / ETARGET;
 * https://docs.npmjs.com/cli/using-npm/config and npm's error output `npm error code ETARGET`).
 */
export class NpmNotFound extends installerError<NpmNotFound>()("NpmNotFound", "npm_not_found", NpmRequest) {}

/** `npm_integrity` (18): A downloaded tarball did not match its recorded integrity hash (npm error code EINTEGRITY). */
export class NpmIntegrity extends installerError<NpmIntegrity>()("NpmIntegrity", "npm_integrity", NpmRequest) {}

/**
 * `npm_engine` (19): The Node.js running npm is not one the package supports (npm EBADENGINE under
 * --engine-strict, or agentrun's own pre-check of claude-code's `engines.node`).
 */
export class NpmEngine extends installerError<NpmEngine>()("NpmEngine", "npm_engine", {
  /** The supported Node range, e.g. `">=22.0.0"`. */
  required: Schema.String,
  /** The Node version that was used, e.g. `"v20.20.2"`. */
  actual: Schema.String
}) {}

/**
 * `uncategorized` (99): A failure no rule recognised; carries the last stderr line and a short
 * stable hash of the stderr tail.
 */
export class Uncategorized extends installerError<Uncategorized>()("Uncategorized", "uncategorized", {
  /** The last non-empty stderr line (redacted), or empty. */
  lastStderrLine: Schema.String,
  /** Short stable hash of the normalised stderr tail (`stderrHash` in `installerOutput.ts`), or empty. */
  stderrHash: Schema.String
}) {}

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

/** Any installer error kind: an instance of one of {@link InstallerErrorClasses}. */
export type InstallerError = InstanceType<(typeof InstallerErrorClasses)[number]>
