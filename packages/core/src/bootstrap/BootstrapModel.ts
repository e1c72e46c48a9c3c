/**
 * What Bootstrap answers: the report of one attempt, its typed failure, the options, the managed
 * install locations, and the `Draft` a recipe returns before the attempt adds its duration and
 * telemetry.
 *
 * @module
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as NodePath from "node:path"
import type { CooldownRecord, SentinelRecord, TelemetryRecord } from "./BootstrapStore.ts"
import { type Outcome, type Phase, type Runtime, Runtimes } from "./codes.ts"
import type { InstallerError } from "./errors.ts"
import type { InstallerRun } from "./InstallerProcess.ts"
import type { InterpreterChoice } from "./interpreters.ts"

/** How often `ensure` looks at another process's build lock while it waits, in milliseconds. */
export const lockWatchIntervalMs = 1000

/**
 * `ensure`'s watch on another process's build lock: a look every {@link lockWatchIntervalMs},
 * the last one exactly when `waitMs` (milliseconds since the first look) have passed, then no more.
 */
export const lockWatch = (waitMs: number): Schedule.Schedule<Duration.Duration> =>
  Schedule.max([Schedule.spaced(lockWatchIntervalMs), Schedule.during(waitMs)]).pipe(
    Schedule.modifyDelay(({ duration, elapsed }) => Effect.succeed(Math.min(Duration.toMillis(duration), waitMs - elapsed)))
  )

/** The managed install locations under `$XDG_DATA_HOME/agentrun`. */
export interface ManagedDirs {
  /** npm prefix of the managed claude-code: `<data>/claude-cli`. */
  readonly claudePrefix: string
  /** `<claudePrefix>/node_modules/.bin/claude`. */
  readonly claudeBin: string
  /** npm's private cache for it: `<data>/npm-cache`. */
  readonly npmCache: string
  /** The managed venv: `<data>/agent-sdk-venv`. */
  readonly venv: string
  /** `<venv>/bin/python`. */
  readonly venvPython: string
  /** The `pip --target` fallback dir: `<data>/agent-sdk-libs`. */
  readonly target: string
}

/** {@link ManagedDirs} for a data dir. */
export const managedDirs = (dataDir: string): ManagedDirs => {
  const claudePrefix = NodePath.join(dataDir, "claude-cli")
  const venv = NodePath.join(dataDir, "agent-sdk-venv")
  return {
    claudePrefix,
    claudeBin: NodePath.join(claudePrefix, "node_modules", ".bin", "claude"),
    npmCache: NodePath.join(dataDir, "npm-cache"),
    venv,
    venvPython: NodePath.join(venv, "bin", "python"),
    target: NodePath.join(dataDir, "agent-sdk-libs")
  }
}

/** The result of one bootstrap attempt. */
export interface BootstrapReport {
  readonly runtime: Runtime
  readonly outcome: Outcome
  /** `OutcomeCodes[outcome]`. */
  readonly outcomeCode: number
  /** True when the runtime is usable now (outcomes NoopSystem, NoopManaged, Built, BuiltTarget, NoopTarget). */
  readonly present: boolean
  /** The failing phase (BuildFailed), or null. */
  readonly phase: Phase | null
  /** `PhaseCodes[phase]`, or null. */
  readonly phaseCode: number | null
  /** The classified installer error (BuildFailed), or null. */
  readonly error: InstallerError | null
  /** What happened and, when not present, what to do. Redacted. */
  readonly message: string
  /**
   * `claude-cli`: the `claude` executable to run. `python-agent-sdk`: the Python interpreter to run
   * (the venv's python for NoopManaged/Built). Null when not present.
   */
  readonly executable: string | null
  /** `python-agent-sdk` NoopTarget/BuiltTarget: the `PYTHONPATH` to set (the target dir); else null. */
  readonly pythonPath: string | null
  /** `claude-cli`: `claude --version`'s version (`"2.1.330"`); else null. */
  readonly version: string | null
  /** The chosen Python's version (`"3.11.7"`), for `python-agent-sdk`; else null. */
  readonly interpreterVersion: string | null
  /** SkipCooldown: milliseconds until the cooldown window ends; else null. */
  readonly retryAfterMs: number | null
  /** SkipCooldown / after a signal kill: when building is allowed again, ISO 8601 (UTC); else null. */
  readonly retryAt: string | null
  /** SkipSentinel: the live holder of the build lock; else null. */
  readonly holder: SentinelRecord | null
  /** Attempt duration, in milliseconds (Effect Clock). */
  readonly durationMs: number
  /** The telemetry record appended for this attempt. */
  readonly telemetry: TelemetryRecord
}

/**
 * `ensure` could not make the runtime present: carries the attempt's outcome (BuildFailed,
 * SkipSentinel, SkipCooldown, IncompatibleInterpreter), the phase and error kind, and the report.
 * `run` turns this into its `RuntimeUnavailable` verdict (exit 3).
 */
export class BootstrapUnavailable extends Schema.TaggedError<BootstrapUnavailable>()("BootstrapUnavailable", {
  message: Schema.String,
  runtime: Schema.Literals(Runtimes),
  outcome: Schema.String,
  outcomeCode: Schema.Number,
  phase: Schema.NullOr(Schema.String),
  /** Error kind name (`"signal_killed"`), or null. */
  errorKind: Schema.NullOr(Schema.String),
  /** Error kind code (16), or null. */
  errorCode: Schema.NullOr(Schema.Number),
  retryAfterMs: Schema.NullOr(Schema.Number),
  /** True for SkipSentinel / SkipCooldown / retryable error kinds. */
  retryable: Schema.Boolean,
  /** The full {@link BootstrapReport}. */
  report: Schema.Any
}) {}

/** Options of one attempt. */
export interface AttemptOptions {
  /** Ignore the cooldown (`--force`); `AGENTRUN_BOOTSTRAP_FORCE=1` in the settings does the same. */
  readonly force?: boolean
  /**
   * Told, in a few words, when the attempt does more than probe: it holds the build lock and
   * starts installing (`installing @anthropic-ai/claude-code@2.1.330`), or `ensure` waits for
   * another process's build. Never called when the runtime is already present.
   */
  readonly onProgress?: (detail: string) => Effect.Effect<void>
}

/** Options of {@link Bootstrap} `ensure`. */
export interface EnsureOptions extends AttemptOptions {
  /**
   * How long to wait while another process holds the build lock (polling every second, Effect
   * Clock) before giving up with SkipSentinel; default 0 (no wait).
   */
  readonly lockWait?: Duration.Input
}

/** Which `claude` to use and why. */
export interface ClaudeResolution {
  readonly path: string
  /** `"configured"` (`--claude-path`, not probed), `"system"` (PATH), `"managed"`, `"built"` (installed now). */
  readonly source: "configured" | "system" | "managed" | "built"
  /** Its version, or null when not probed (configured). */
  readonly version: string | null
  /** The bootstrap report, when bootstrap ran (not for configured). */
  readonly report: BootstrapReport | null
}

/** What `agentrun doctor` shows. */
export interface DoctorReport {
  readonly claude: {
    readonly path: string | null
    readonly source: "configured" | "system" | "managed" | null
    readonly version: string | null
    readonly minimumVersion: string
    readonly pinnedVersion: string
  }
  readonly node: { readonly executable: string; readonly version: string | null; readonly minimumMajor: number }
  readonly python: InterpreterChoice & { readonly sdk: BootstrapReport | null }
  readonly managed: ManagedDirs & {
    readonly claudePresent: boolean
    readonly venvPresent: boolean
    readonly targetPresent: boolean
  }
  readonly locks: ReadonlyArray<{
    readonly runtime: Runtime
    readonly sentinel: SentinelRecord | null
    readonly alive: boolean | null
    readonly heartbeatAgeMs: number | null
    readonly cooldown: CooldownRecord | null
    readonly cooldownRemainingMs: number | null
  }>
  readonly lastTelemetry: TelemetryRecord | null
}

/** A report before its duration and telemetry are known: what a recipe or the build guard returns. */
export type Draft = Omit<BootstrapReport, "runtime" | "outcomeCode" | "present" | "phaseCode" | "durationMs" | "telemetry">

export const emptyDraft = {
  phase: null,
  error: null,
  executable: null,
  pythonPath: null,
  version: null,
  interpreterVersion: null,
  retryAfterMs: null,
  retryAt: null,
  holder: null
} as const

export /** pip flags every install uses: no cache, wheels first, no version nag. */
const pipCommon = ["--no-cache-dir", "--prefer-binary", "--disable-pip-version-check"] as const

/** Whether an installer run exited 0, not by a signal, within its time. */
export const succeeded = (run: InstallerRun): boolean => run.status.exitCode === 0 && run.status.signal === null && !run.timedOut

/** Milliseconds since the epoch as ISO 8601 (UTC). */
export const isoOf = (ms: number): string => new Date(ms).toISOString()

/** The {@link BootstrapUnavailable} for a report that is not present. */
export const unavailable = (report: BootstrapReport): BootstrapUnavailable =>
  new BootstrapUnavailable({
    message: report.message,
    runtime: report.runtime,
    outcome: report.outcome,
    outcomeCode: report.outcomeCode,
    phase: report.phase,
    errorKind: report.error?.kind ?? null,
    errorCode: report.error?.code ?? null,
    retryAfterMs: report.retryAfterMs,
    retryable: report.outcome === "SkipSentinel" || report.outcome === "SkipCooldown" || (report.error?.retryable ?? false),
    report
  })

