/**
 * What every runtime's recipe builds with: installer steps whose failures are classified into
 * their error kinds, checks after an install, and probes that only ask "exit 0?". One per
 * Bootstrap service, over its installer and settings.
 *
 * @module
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { makeRedactor, type Redactor } from "../domain/Redaction.ts"
import type { BootstrapSettingsShape } from "./BootstrapSettings.ts"
import { classifyRun, classifySpawnError } from "./classify.ts"
import type { Phase } from "./codes.ts"
import { type InstallerError, Uncategorized } from "./errors.ts"
import type { InstallerProcess, InstallerRun, InstallerSpec } from "./InstallerProcess.ts"
import { lastLine } from "./installerOutput.ts"
import { succeeded } from "./BootstrapModel.ts"

/** The recipes' shared tools (see the module doc). */
export interface RecipeTools {
  readonly installer: InstallerProcess["Service"]
  readonly settings: BootstrapSettingsShape
  /** The settings' environment, for every probe and installer. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Redacts the environment's secrets from command lines and output (built on first use). */
  readonly redactor: () => Redactor
  /** Runs an installer step; a failure is classified into its error kind (`what`: the package spec, for messages). */
  readonly step: (phase: Phase, spec: InstallerSpec, what: string) => Effect.Effect<InstallerRun, InstallerError>
  /**
   * Why a check after an install failed (`claude --version`, the SDK import): dying by a signal
   * agentrun did not send, or agentrun's time limit, is classified like any installer step
   * (classifyRun: SignalKilled starts the cooldown, as an OOM kill during the install would);
   * anything else is Uncategorized, with `message` given the last line of `output` (redacted) and
   * `command` as the command line shown.
   */
  readonly checkFailure: (
    phase: Phase,
    spec: InstallerSpec,
    what: string,
    run: InstallerRun,
    failed: { readonly command: string; readonly output: string; readonly message: (lastLine: string) => string }
  ) => InstallerError
  /** Exit 0 of a probe (the settings' probe timeout); false on any failure. */
  readonly probeOk: (spec: Omit<InstallerSpec, "timeout">) => Effect.Effect<boolean>
}

/** Builds the tools over `installer` and `settings`. */
export const makeRecipeTools = (installer: InstallerProcess["Service"], settings: BootstrapSettingsShape): RecipeTools => {
  // Built on first use: every command builds this service, and most never report an installer
  // failure (list, logs, a run given --claude-path).
  let builtRedactor: Redactor | undefined
  const redactor = (): Redactor => (builtRedactor ??= makeRedactor(settings.env))
  const probeTimeout = settings.probeTimeout

  const commandLine = (spec: InstallerSpec) => redactor().redact([spec.command, ...spec.args].join(" "))

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

  return { installer, settings, env: settings.env, redactor, step, checkFailure, probeOk }
}
