/**
 * The Bootstrap service: makes an agent runtime present (`claude-cli`, `python-agent-sdk`), or
 * says precisely why it cannot, without ever turning an installer killed by a signal into a retry
 * storm. See issue 5 and the codes in `codes.ts`.
 *
 * Per attempt: the no-op probes (system, managed, target) → the cooldown (unless forced) → the
 * build lock (sentinel) → the build (with a heartbeat every 30 s) → a telemetry record.
 *
 * @module
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { AgentrunPaths } from "../paths/AgentrunPaths.ts"
import { classifyRun, classifySpawnError } from "./classify.ts"
import { type Outcome, OutcomeCodes, type Phase, PhaseCodes, presentOutcomes, type Runtime, Runtimes } from "./codes.ts"
import { DiskFull, type InstallerError, NpmEngine, PermDenied, Uncategorized } from "./errors.ts"
import { type InstallerRun, type InstallerSpec, InstallerProcess } from "./InstallerProcess.ts"
import { chooseInterpreter, findOnPath, type InterpreterChoice, minimumPython } from "./interpreters.ts"
import { BootstrapSettings, type BootstrapSettingsShape } from "./BootstrapSettings.ts"
import {
  BootstrapStore,
  type BootstrapStoreError,
  type CooldownRecord,
  type SentinelRecord,
  type TelemetryRecord
} from "./BootstrapStore.ts"
import { makeRedactor, type Redactor } from "../domain/Redaction.ts"
import { lastLine } from "./installerOutput.ts"
import { compareVersions, nodeMajor, parseVersion } from "./versions.ts"

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

/** A report before its duration and telemetry are known. */
type Draft = Omit<BootstrapReport, "runtime" | "outcomeCode" | "present" | "phaseCode" | "durationMs" | "telemetry">

const emptyDraft = {
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

const pipCommon = ["--no-cache-dir", "--prefer-binary", "--disable-pip-version-check"] as const

const succeeded = (run: InstallerRun): boolean => run.status.exitCode === 0 && run.status.signal === null && !run.timedOut

const isoOf = (ms: number): string => new Date(ms).toISOString()

/** The Bootstrap service; see the module docs. */
export class Bootstrap extends Context.Service<Bootstrap, {
  /** One attempt: never fails; the report says what happened. Appends a telemetry record. */
  attempt(runtime: Runtime, options?: AttemptOptions): Effect.Effect<BootstrapReport>
  /**
   * Makes the runtime present or fails with {@link BootstrapUnavailable}. While another process
   * builds (SkipSentinel) it watches that process's lock for up to `lockWait`, and attempts
   * again once the lock is gone (usually NoopManaged).
   */
  ensure(runtime: Runtime, options?: EnsureOptions): Effect.Effect<BootstrapReport, BootstrapUnavailable>
  /**
   * The `claude` to run: `claudePath` if given (returned as is, never probed or bootstrapped: a
   * missing file is the caller's SpawnFailed); else `ensure("claude-cli")` (settings' configured
   * path → `claude` on PATH with a supported `--version` → managed install → build).
   */
  resolveClaude(options?: EnsureOptions & { readonly claudePath?: string }): Effect.Effect<ClaudeResolution, BootstrapUnavailable>
  /** Only the no-op probes (no cooldown, lock, build or telemetry): the present runtime, or null. */
  probe(runtime: Runtime): Effect.Effect<BootstrapReport | null>
  /** Everything `agentrun doctor` shows. */
  readonly doctor: Effect.Effect<DoctorReport>
  /** The managed install locations. */
  readonly managed: ManagedDirs
}>()("agentrun/bootstrap/Bootstrap") {
  /** The real service; needs InstallerProcess, BootstrapStore and AgentrunPaths (settings: optional). */
  static readonly layer = Layer.effect(
    Bootstrap,
    Effect.gen(function*() {
      const installer = yield* InstallerProcess
      const store = yield* BootstrapStore
      const paths = yield* AgentrunPaths
      const settings = yield* BootstrapSettings
      return makeBootstrap(installer, store, managedDirs(paths.dataDir), settings)
    })
  )

  /** Bootstrap over the real installer and files, rooted at `root` (state and data under it). */
  static readonly layerAt = (root: string) =>
    Bootstrap.layer.pipe(
      Layer.provide(BootstrapStore.layer),
      Layer.provide(Layer.mergeAll(InstallerProcess.layer, AgentrunPaths.layerTest(root)))
    )

  /** The production wiring: real installer, files under the XDG dirs from the environment. */
  static readonly layerLive = Bootstrap.layer.pipe(
    Layer.provide(BootstrapStore.layer),
    Layer.provide(Layer.mergeAll(InstallerProcess.layer, AgentrunPaths.layer))
  )

  /** A fixed answer for every runtime, for tests of callers (`run`, the CLI). */
  static readonly layerTest = (answer: (runtime: Runtime) => BootstrapReport) =>
    Layer.succeed(
      Bootstrap,
      Bootstrap.of({
        attempt: (runtime) => Effect.succeed(answer(runtime)),
        ensure: (runtime) => {
          const report = answer(runtime)
          return report.present ? Effect.succeed(report) : Effect.fail(unavailable(report))
        },
        resolveClaude: (options) => {
          if (options?.claudePath !== undefined) {
            return Effect.succeed({ path: options.claudePath, source: "configured" as const, version: null, report: null })
          }
          const report = answer("claude-cli")
          return report.present && report.executable !== null
            ? Effect.succeed({ path: report.executable, source: "system" as const, version: report.version, report })
            : Effect.fail(unavailable(report))
        },
        probe: (runtime) => Effect.succeed(answer(runtime)).pipe(Effect.map((r) => (r.present ? r : null))),
        doctor: Effect.die("Bootstrap.layerTest: doctor is not scripted"),
        managed: managedDirs("/nonexistent/agentrun")
      })
    )
}

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

const storeFailure = (error: BootstrapStoreError): InstallerError => {
  const base = { phase: "pre" as const, command: "", exitCode: null, signal: null, stderrTail: "", retryable: false }
  if (error.errno === "EACCES" || error.errno === "EPERM") {
    return new PermDenied({ ...base, message: `${error.message}; check permissions of the agentrun state directory` })
  }
  if (error.errno === "ENOSPC") return new DiskFull({ ...base, message: `${error.message}; free disk space` })
  return new Uncategorized({ ...base, message: error.message, lastStderrLine: "", stderrHash: "" })
}

/** Builds the service from its dependencies (used by the layers; exported for tests). */
export const makeBootstrap = (
  installer: InstallerProcess["Service"],
  store: BootstrapStore["Service"],
  managed: ManagedDirs,
  settings: BootstrapSettingsShape
): Bootstrap["Service"] => {
  // Built on first use: every command builds this service, and most never report an installer
  // failure (list, logs, a run given --claude-path).
  let builtRedactor: Redactor | undefined
  const redactor = (): Redactor => (builtRedactor ??= makeRedactor(settings.env))
  const env = settings.env
  const probeTimeout = settings.probeTimeout
  const cooldownMs = Duration.toMillis(settings.cooldown)
  const staleAfterMs = Duration.toMillis(settings.staleAfter)
  const claudeSpec = settings.claudeSpec ?? `${settings.claudePackage}@${settings.claudeVersion}`
  const npmEnv = {
    ...env,
    PATH: [NodePath.dirname(settings.nodeExecutable), env["PATH"] ?? ""].filter((p) => p !== "").join(NodePath.delimiter),
    npm_config_update_notifier: "false"
  }

  const commandLine = (spec: InstallerSpec) => redactor().redact([spec.command, ...spec.args].join(" "))

  /** Runs an installer step; a failure is classified into its error kind. */
  const step = (phase: Phase, spec: InstallerSpec, what: string): Effect.Effect<InstallerRun, InstallerError> =>
    installer.run(spec).pipe(
      Effect.mapError((error) => classifySpawnError(phase, error, redactor())),
      Effect.flatMap((run) =>
        succeeded(run)
          ? Effect.succeed(run)
          : Effect.fail(classifyRun({
            phase,
            command: commandLine(spec),
            run,
            redactor: redactor(),
            timeoutMs: Duration.toMillis(spec.timeout),
            spec: what
          }))
      )
    )

  /** Exit 0 of a probe; false on any failure. */
  /**
   * Why a check after an install failed (`claude --version`, the SDK import): dying by a signal
   * agentrun did not send, or agentrun's time limit, is classified like any installer step
   * ({@link classifyRun}: SignalKilled starts the cooldown, as an OOM kill during the install
   * would); anything else is Uncategorized, with `message` given the last line of `output`
   * (redacted) and `command` as the command line shown.
   */
  const checkFailure = (
    phase: Phase,
    spec: InstallerSpec,
    what: string,
    run: InstallerRun,
    failed: { readonly command: string; readonly output: string; readonly message: (lastLine: string) => string }
  ): InstallerError => {
    if (run.timedOut || (run.status.signal !== null && run.sentSignal === null)) {
      return classifyRun({ phase, command: commandLine(spec), run, redactor: redactor(), timeoutMs: Duration.toMillis(spec.timeout), spec: what })
    }
    const last = redactor().redact(lastLine(failed.output))
    return new Uncategorized({
      message: failed.message(last || "no output"),
      phase,
      command: failed.command,
      exitCode: run.status.exitCode,
      signal: run.status.signal?.name ?? null,
      stderrTail: last,
      retryable: false,
      lastStderrLine: last,
      stderrHash: ""
    })
  }

  const probeOk = (spec: Omit<InstallerSpec, "timeout">) =>
    installer.run({ ...spec, timeout: probeTimeout }).pipe(
      Effect.map(succeeded),
      Effect.catch(() => Effect.succeed(false))
    )

  /** `claude --version` → version, or null when it fails or prints no version. */
  const claudeVersionOf = (path: string) =>
    installer.run({ command: path, args: ["--version"], env, timeout: probeTimeout }).pipe(
      Effect.map((run) => (succeeded(run) ? parseVersion(run.stdout) : null)),
      Effect.catch(() => Effect.succeed(null))
    )

  const supportedClaude = (version: string | null) =>
    version !== null && compareVersions(version, settings.minimumClaudeVersion) >= 0

  const findSystemClaude = (): string | null =>
    settings.claudePath ?? findOnPath("claude", env["PATH"], [managed.claudeBin])

  // ---- claude-cli -------------------------------------------------------------------------------

  const probeClaude: Effect.Effect<Draft | null> = Effect.gen(function*() {
    const system = findSystemClaude()
    if (system !== null) {
      const version = yield* claudeVersionOf(system)
      if (supportedClaude(version)) {
        return { ...emptyDraft, outcome: "NoopSystem", executable: system, version, message: `using ${system} (claude ${version})` }
      }
    }
    if (NodeFs.existsSync(managed.claudeBin)) {
      const version = yield* claudeVersionOf(managed.claudeBin)
      if (supportedClaude(version)) {
        return {
          ...emptyDraft,
          outcome: "NoopManaged",
          executable: managed.claudeBin,
          version,
          message: `using agentrun's managed claude ${version} (${managed.claudeBin})`
        }
      }
    }
    return null
  })

  const buildClaude: Effect.Effect<Draft, InstallerError> = Effect.gen(function*() {
    const nodeVersion = yield* installer.run({ command: settings.nodeExecutable, args: ["--version"], env, timeout: probeTimeout }).pipe(
      Effect.map((run) => (succeeded(run) ? run.stdout.trim() : "?")),
      Effect.catch(() => Effect.succeed("?"))
    )
    if (!(nodeMajor(nodeVersion) >= settings.minimumNodeMajor)) {
      return yield* new NpmEngine({
        message: `${settings.claudePackage}@${settings.claudeVersion} needs Node >= ${settings.minimumNodeMajor} (its engines.node is ">=22.0.0"); ${settings.nodeExecutable} is ${nodeVersion}. Run agentrun with Node ${settings.minimumNodeMajor} or newer`,
        phase: "pre",
        command: `${settings.nodeExecutable} --version`,
        exitCode: null,
        signal: null,
        stderrTail: "",
        retryable: false,
        required: `>=${settings.minimumNodeMajor}.0.0`,
        actual: nodeVersion
      })
    }
    yield* Effect.sync(() => NodeFs.mkdirSync(managed.claudePrefix, { recursive: true }))
    yield* step("npm", {
      command: settings.npmCommand,
      args: [
        "install",
        "--prefix",
        managed.claudePrefix,
        "--cache",
        managed.npmCache,
        "--no-audit",
        "--no-fund",
        "--no-update-notifier",
        "--engine-strict",
        ...settings.npmArgs,
        claudeSpec
      ],
      env: npmEnv,
      cwd: managed.claudePrefix,
      timeout: settings.installerTimeout
    }, claudeSpec)
    const checkSpec: InstallerSpec = { command: managed.claudeBin, args: ["--version"], env, timeout: probeTimeout }
    const check = yield* installer.run(checkSpec).pipe(
      Effect.mapError((error) => classifySpawnError("npm", error, redactor()))
    )
    const version = succeeded(check) ? parseVersion(check.stdout) : null
    if (!supportedClaude(version)) {
      return yield* Effect.fail(checkFailure("npm", checkSpec, claudeSpec, check, {
        command: `${managed.claudeBin} --version`,
        output: check.stderr || check.stdout,
        message: (last) =>
          `npm installed ${claudeSpec} but ${managed.claudeBin} --version does not answer a supported version (${last}); its postinstall may not have run`
      }))
    }
    return { ...emptyDraft, outcome: "Built", executable: managed.claudeBin, version, message: `installed claude ${version} into ${managed.claudePrefix}` }
  })

  // ---- python-agent-sdk -------------------------------------------------------------------------

  const importCode = `import ${settings.pythonModule}`
  const findCode = `import importlib.util, sys; sys.exit(0 if importlib.util.find_spec(${JSON.stringify(settings.pythonModule)}) else 1)`

  const probePython = (choice: InterpreterChoice): Effect.Effect<Draft | null> =>
    Effect.gen(function*() {
      const py = choice.chosen
      if (py === null) return null
      const base = { ...emptyDraft, interpreterVersion: py.version }
      if (yield* probeOk({ command: py.path, args: ["-c", findCode], env })) {
        return { ...base, outcome: "NoopSystem", executable: py.path, message: `${py.path} (Python ${py.version}) finds ${settings.pythonModule}` }
      }
      if (NodeFs.existsSync(managed.venvPython) && (yield* probeOk({ command: managed.venvPython, args: ["-c", importCode], env }))) {
        return { ...base, outcome: "NoopManaged", executable: managed.venvPython, message: `agentrun's venv imports ${settings.pythonModule} (${managed.venv})` }
      }
      if (
        NodeFs.existsSync(managed.target) &&
        (yield* probeOk({ command: py.path, args: ["-c", importCode], env: { ...env, PYTHONPATH: managed.target } }))
      ) {
        return {
          ...base,
          outcome: "NoopTarget",
          executable: py.path,
          pythonPath: managed.target,
          message: `${settings.pythonModule} is importable from ${managed.target} (set PYTHONPATH)`
        }
      }
      return null
    })

  const verifyImport = (phase: Phase, python: string, extraEnv: Record<string, string>) => {
    const spec: InstallerSpec = { command: python, args: ["-c", importCode], env: { ...env, ...extraEnv }, timeout: probeTimeout }
    return installer.run(spec).pipe(
      Effect.mapError((error) => classifySpawnError(phase, error, redactor())),
      Effect.flatMap((run) => {
        if (succeeded(run)) return Effect.void
        return Effect.fail(checkFailure(phase, spec, settings.pythonRequirement, run, {
          command: `${python} -c '${importCode}'`,
          output: run.stderr,
          message: (last) => `pip installed ${settings.pythonRequirement} but \`${importCode}\` fails: ${last}`
        }))
      })
    )
  }

  const buildPythonTarget = (py: string, version: string | null, venvError: InstallerError) =>
    Effect.gen(function*() {
      yield* Effect.sync(() => NodeFs.rmSync(managed.venv, { recursive: true, force: true }))
      yield* step("pip_target", {
        command: py,
        args: ["-m", "pip", "install", "--target", managed.target, "--upgrade", ...pipCommon, ...settings.pipArgs, settings.pythonRequirement],
        env,
        timeout: settings.installerTimeout
      }, settings.pythonRequirement)
      yield* verifyImport("pip_target", py, { PYTHONPATH: managed.target })
      return {
        ...emptyDraft,
        outcome: "BuiltTarget",
        executable: py,
        pythonPath: managed.target,
        interpreterVersion: version,
        message: `venv creation failed (${venvError.kind}: ensurepip unavailable), so ${settings.pythonRequirement} was installed into ${managed.target}; set PYTHONPATH=${managed.target}. Install python3-venv for a proper venv`
      } satisfies Draft
    })

  const buildPython = (py: string, version: string | null): Effect.Effect<Draft, InstallerError> =>
    Effect.gen(function*() {
      yield* Effect.sync(() => NodeFs.mkdirSync(NodePath.dirname(managed.venv), { recursive: true }))
      const venv = yield* Effect.result(step("venv", { command: py, args: ["-m", "venv", "--clear", managed.venv], env, timeout: settings.installerTimeout }, "venv"))
      if (venv._tag === "Failure") {
        if (venv.failure._tag === "VenvEnsurepipFail") return yield* buildPythonTarget(py, version, venv.failure)
        return yield* Effect.fail(venv.failure)
      }
      yield* step("pip", {
        command: managed.venvPython,
        args: ["-m", "pip", "install", ...pipCommon, ...settings.pipArgs, settings.pythonRequirement],
        env,
        timeout: settings.installerTimeout
      }, settings.pythonRequirement)
      yield* verifyImport("pip", managed.venvPython, {})
      return {
        ...emptyDraft,
        outcome: "Built",
        executable: managed.venvPython,
        interpreterVersion: version,
        message: `installed ${settings.pythonRequirement} into the venv ${managed.venv}`
      } satisfies Draft
    })

  // ---- cooldown, lock, attempt ------------------------------------------------------------------

  const activeCooldown = (runtime: Runtime, force: boolean) =>
    Effect.gen(function*() {
      if (force || settings.force) return null
      const record = yield* store.readCooldown(runtime)
      if (record === null) return null
      const now = yield* Clock.currentTimeMillis
      const remaining = record.atMs + cooldownMs - now
      return remaining > 0 ? { record, remaining, until: record.atMs + cooldownMs } : null
    })

  const heartbeatLoop = (runtime: Runtime, token: string) =>
    Clock.currentTimeMillis.pipe(
      Effect.flatMap((now) => store.heartbeat(runtime, token, now)),
      Effect.catch(() => Effect.void),
      Effect.repeat(Schedule.spaced(settings.heartbeatInterval))
    )

  const failedDraft = (error: InstallerError, extra: Partial<Draft> = {}): Draft => ({
    ...emptyDraft,
    ...extra,
    outcome: "BuildFailed",
    phase: error.phase,
    error,
    message: extra.message ?? error.message
  })

  /** Cooldown check → lock → build → cooldown bookkeeping. */
  const guardedBuild = (
    runtime: Runtime,
    force: boolean,
    build: Effect.Effect<Draft, InstallerError>,
    extra: Partial<Draft>
  ): Effect.Effect<Draft> =>
    Effect.gen(function*() {
      const cooling = yield* activeCooldown(runtime, force)
      if (cooling !== null) {
        return {
          ...emptyDraft,
          ...extra,
          outcome: "SkipCooldown",
          retryAfterMs: cooling.remaining,
          retryAt: isoOf(cooling.until),
          message: `not building ${runtime}: the installer was killed by ${cooling.record.signal} at ${isoOf(cooling.record.atMs)} (${cooling.record.phase} phase). Free memory; retry after ${isoOf(cooling.until)} or use --force (AGENTRUN_BOOTSTRAP_FORCE=1)`
        } satisfies Draft
      }
      const now = yield* Clock.currentTimeMillis
      const lock = yield* Effect.result(store.acquire(runtime, { nowMs: now, staleAfterMs }))
      if (lock._tag === "Failure") return failedDraft(storeFailure(lock.failure), extra)
      if (lock.success._tag === "Held") {
        const holder = lock.success.holder
        return {
          ...emptyDraft,
          ...extra,
          outcome: "SkipSentinel",
          holder,
          message: `another agentrun (pid ${holder.pid}) is installing ${runtime} (heartbeat ${Math.round(lock.success.heartbeatAgeMs / 1000)} s ago); retry when it finishes`
        } satisfies Draft
      }
      const token = lock.success.token
      const result = yield* Effect.scoped(Effect.gen(function*() {
        yield* Effect.addFinalizer(() => store.release(runtime, token))
        yield* Effect.forkScoped(heartbeatLoop(runtime, token))
        return yield* Effect.result(build)
      }))
      if (result._tag === "Success") {
        yield* store.clearCooldown(runtime)
        return result.success
      }
      const error = result.failure
      if (error._tag === "SignalKilled") {
        const at = yield* Clock.currentTimeMillis
        const until = at + cooldownMs
        yield* store.writeCooldown({ runtime, atMs: at, signal: error.signalName, returnCode: error.returnCode, phase: error.phase }).pipe(
          Effect.catch(() => Effect.void)
        )
        return failedDraft(error, {
          ...extra,
          retryAt: isoOf(until),
          message: `${error.message}; retry after ${isoOf(until)} or use --force`
        })
      }
      return failedDraft(error, extra)
    })

  const attemptDraft = (runtime: Runtime, force: boolean): Effect.Effect<Draft> =>
    Effect.gen(function*() {
      if (runtime === "claude-cli") {
        const noop = yield* probeClaude
        if (noop !== null) return noop
        return yield* guardedBuild(runtime, force, buildClaude, {})
      }
      const choice = yield* chooseInterpreter(installer, env, probeTimeout)
      const py = choice.chosen
      if (py === null) {
        const seen = choice.candidates.map((c) => `${c.path} (${c.version ?? "--version failed"})`).join(", ")
        return {
          ...emptyDraft,
          outcome: "IncompatibleInterpreter",
          phase: "pre",
          message: `no Python >= ${minimumPython} on PATH${seen === "" ? "" : `; found ${seen}`}. Install Python ${minimumPython} or newer`
        } satisfies Draft
      }
      const noop = yield* probePython(choice)
      if (noop !== null) return noop
      return yield* guardedBuild(runtime, force, buildPython(py.path, py.version), { interpreterVersion: py.version })
    })

  const attempt = (runtime: Runtime, options?: AttemptOptions): Effect.Effect<BootstrapReport> =>
    Effect.gen(function*() {
      const started = yield* Clock.currentTimeMillis
      const draft = yield* attemptDraft(runtime, options?.force ?? false).pipe(
        Effect.catchDefect((defect) =>
          Effect.succeed(failedDraft(new Uncategorized({
            message: `agentrun failed unexpectedly while bootstrapping ${runtime}: ${redactor().redact(String(defect))}`,
            phase: "main",
            command: "",
            exitCode: null,
            signal: null,
            stderrTail: "",
            retryable: false,
            lastStderrLine: redactor().redact(String(defect)),
            stderrHash: ""
          })))
        )
      )
      const ended = yield* Clock.currentTimeMillis
      const durationMs = Math.max(0, ended - started)
      const error = draft.error
      const telemetry: TelemetryRecord = {
        atMs: ended,
        runtime,
        outcome: draft.outcome,
        outcomeCode: OutcomeCodes[draft.outcome],
        durationMs,
        phase: draft.phase === null ? null : PhaseCodes[draft.phase],
        errorCode: error?.code ?? null,
        returnCode: error === null ? null : error._tag === "SignalKilled" ? error.returnCode : error.exitCode,
        interpreterVersion: draft.interpreterVersion,
        stderrHash: error?._tag === "Uncategorized" && error.stderrHash !== "" ? error.stderrHash : null
      }
      yield* store.appendTelemetry(telemetry).pipe(
        Effect.catch((e) => Effect.logWarning(`bootstrap telemetry not written: ${e.message}`))
      )
      return {
        ...draft,
        runtime,
        outcomeCode: OutcomeCodes[draft.outcome],
        present: presentOutcomes.includes(draft.outcome),
        phaseCode: draft.phase === null ? null : PhaseCodes[draft.phase],
        durationMs,
        telemetry
      }
    })

  const ensure = (runtime: Runtime, options?: EnsureOptions): Effect.Effect<BootstrapReport, BootstrapUnavailable> =>
    Effect.gen(function*() {
      const waitMs = options?.lockWait === undefined ? 0 : Duration.toMillis(options.lockWait)
      const started = yield* Clock.currentTimeMillis
      while (true) {
        const report = yield* attempt(runtime, options)
        if (report.present || report.outcome !== "SkipSentinel") {
          return report.present ? report : yield* unavailable(report)
        }
        // Another process builds: watch its lock (a file read a second) rather than attempt again
        // (each attempt probes and appends a telemetry record), until the next attempt would get
        // it (gone, holder dead, heartbeat stale: what `acquire` takes over) or time is up.
        for (;;) {
          const now = yield* Clock.currentTimeMillis
          if (now - started >= waitMs) return yield* unavailable(report)
          yield* Effect.sleep(Math.min(1000, waitMs - (now - started)))
          const sentinel = yield* store.readSentinel(runtime)
          if (sentinel === null || !(yield* store.isAlive(sentinel))) break
          if ((yield* Clock.currentTimeMillis) - sentinel.heartbeatMs > staleAfterMs) break
        }
      }
    })

  const resolveClaude = (options?: EnsureOptions & { readonly claudePath?: string }) =>
    Effect.gen(function*() {
      if (options?.claudePath !== undefined) {
        return { path: options.claudePath, source: "configured" as const, version: null, report: null }
      }
      const report = yield* ensure("claude-cli", options)
      const source = report.outcome === "Built" ? "built" as const : report.outcome === "NoopManaged" ? "managed" as const : "system" as const
      return { path: report.executable ?? managed.claudeBin, source, version: report.version, report }
    })

  const probe = (runtime: Runtime): Effect.Effect<BootstrapReport | null> =>
    Effect.gen(function*() {
      const started = yield* Clock.currentTimeMillis
      const draft = runtime === "claude-cli"
        ? yield* probeClaude
        : yield* chooseInterpreter(installer, env, probeTimeout).pipe(Effect.flatMap(probePython))
      return draft === null ? null : yield* probeReport(runtime, draft, started)
    })

  /** A present runtime found by a probe, as a report (`telemetry`: the record it would make; none is written). */
  const probeReport = (runtime: Runtime, draft: Draft, started: number): Effect.Effect<BootstrapReport> =>
    Effect.map(Clock.currentTimeMillis, (ended) => {
      const durationMs = Math.max(0, ended - started)
      return {
        ...draft,
        runtime,
        outcomeCode: OutcomeCodes[draft.outcome],
        present: true,
        phaseCode: null,
        durationMs,
        telemetry: {
          atMs: ended,
          runtime,
          outcome: draft.outcome,
          outcomeCode: OutcomeCodes[draft.outcome],
          durationMs,
          phase: null,
          errorCode: null,
          returnCode: null,
          interpreterVersion: draft.interpreterVersion,
          stderrHash: null
        }
      }
    })

  const doctor: Effect.Effect<DoctorReport> = Effect.gen(function*() {
    const system = findSystemClaude()
    const systemVersion = system === null ? null : yield* claudeVersionOf(system)
    const managedVersion = NodeFs.existsSync(managed.claudeBin) ? yield* claudeVersionOf(managed.claudeBin) : null
    const claude = supportedClaude(systemVersion) && system !== null
      ? { path: system, source: settings.claudePath !== undefined ? "configured" as const : "system" as const, version: systemVersion }
      : supportedClaude(managedVersion)
      ? { path: managed.claudeBin, source: "managed" as const, version: managedVersion }
      : { path: system, source: null, version: systemVersion }
    const nodeVersion = yield* installer.run({ command: settings.nodeExecutable, args: ["--version"], env, timeout: probeTimeout }).pipe(
      Effect.map((run) => (succeeded(run) ? run.stdout.trim() : null)),
      Effect.catch(() => Effect.succeed(null))
    )
    const choice = yield* chooseInterpreter(installer, env, probeTimeout)
    // The interpreter just chosen, probed for the SDK (not chosen again: each candidate runs --version).
    const sdkStarted = yield* Clock.currentTimeMillis
    const sdkDraft = yield* probePython(choice)
    const sdk = sdkDraft === null ? null : yield* probeReport("python-agent-sdk", sdkDraft, sdkStarted)
    const now = yield* Clock.currentTimeMillis
    const locks = []
    for (const runtime of Runtimes) {
      const sentinel = yield* store.readSentinel(runtime)
      const cooldown = yield* store.readCooldown(runtime)
      const remaining = cooldown === null ? null : cooldown.atMs + cooldownMs - now
      locks.push({
        runtime,
        sentinel,
        alive: sentinel === null ? null : yield* store.isAlive(sentinel),
        heartbeatAgeMs: sentinel === null ? null : now - sentinel.heartbeatMs,
        cooldown,
        cooldownRemainingMs: remaining !== null && remaining > 0 ? remaining : null
      })
    }
    return {
      claude: { ...claude, minimumVersion: settings.minimumClaudeVersion, pinnedVersion: settings.claudeVersion },
      node: { executable: settings.nodeExecutable, version: nodeVersion, minimumMajor: settings.minimumNodeMajor },
      python: { ...choice, sdk },
      managed: {
        ...managed,
        claudePresent: managedVersion !== null,
        venvPresent: NodeFs.existsSync(managed.venvPython),
        targetPresent: NodeFs.existsSync(managed.target)
      },
      locks,
      lastTelemetry: yield* store.lastTelemetry()
    }
  })

  return Bootstrap.of({ attempt, ensure, resolveClaude, probe, doctor, managed })
}
