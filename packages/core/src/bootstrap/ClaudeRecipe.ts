/**
 * The `claude-cli` recipe: the no-op probes (the configured path or `claude` on PATH with a
 * supported `--version`, then agentrun's managed install) and the build (`npm install` of the
 * pinned @anthropic-ai/claude-code into the managed prefix, then `claude --version`).
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { type Draft, emptyDraft, type ManagedDirs, succeeded } from "./BootstrapModel.ts"
import { classifySpawnError } from "./classify.ts"
import { type InstallerError, NpmEngine } from "./errors.ts"
import type { InstallerSpec } from "./InstallerProcess.ts"
import { findOnPath } from "./interpreters.ts"
import type { Recipe } from "./Recipe.ts"
import type { RecipeTools } from "./RecipeTools.ts"
import { compareVersions, nodeMajor, parseVersion } from "./versions.ts"

/** The claude recipe, with the probes `doctor` shows too. */
export interface ClaudeRecipe extends Recipe {
  /** `claude --version` → version, or null when it fails or prints no version. */
  readonly versionOf: (path: string) => Effect.Effect<string | null>
  /** Whether a version is at least the settings' minimum. */
  readonly supported: (version: string | null) => boolean
  /** The configured claude, else `claude` on PATH (the managed one excluded), else null. */
  readonly findSystem: () => string | null
}

/** Builds the claude recipe. */
export const claudeRecipe = (tools: RecipeTools, managed: ManagedDirs): ClaudeRecipe => {
  const { installer, settings, env, redactor, step, checkFailure } = tools
  const probeTimeout = settings.probeTimeout
  const claudeSpec = settings.claudeSpec ?? `${settings.claudePackage}@${settings.claudeVersion}`
  const npmEnv = {
    ...env,
    PATH: [NodePath.dirname(settings.nodeExecutable), env["PATH"] ?? ""].filter((p) => p !== "").join(NodePath.delimiter),
    npm_config_update_notifier: "false"
  }

  const versionOf = (path: string) =>
    installer.run({ command: path, args: ["--version"], env, timeout: probeTimeout }).pipe(
      Effect.map((run) => (succeeded(run) ? parseVersion(run.stdout) : null)),
      Effect.catch(() => Effect.succeed(null))
    )

  const supported = (version: string | null) =>
    version !== null && compareVersions(version, settings.minimumClaudeVersion) >= 0

  const findSystem = (): string | null =>
    settings.claudePath ?? findOnPath("claude", env["PATH"], [managed.claudeBin])

  const probeClaude: Effect.Effect<Draft | null> = Effect.gen(function*() {
    const system = findSystem()
    if (system !== null) {
      const version = yield* versionOf(system)
      if (supported(version)) {
        return { ...emptyDraft, outcome: "NoopSystem", executable: system, version, message: `using ${system} (claude ${version})` }
      }
    }
    if (NodeFs.existsSync(managed.claudeBin)) {
      const version = yield* versionOf(managed.claudeBin)
      if (supported(version)) {
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
    if (!supported(version)) {
      return yield* Effect.fail(checkFailure("npm", checkSpec, claudeSpec, check, {
        command: `${managed.claudeBin} --version`,
        output: check.stderr || check.stdout,
        message: (last) =>
          `npm installed ${claudeSpec} but ${managed.claudeBin} --version does not answer a supported version (${last}); its postinstall may not have run`
      }))
    }
    return { ...emptyDraft, outcome: "Built", executable: managed.claudeBin, version, message: `installed claude ${version} into ${managed.claudePrefix}` }
  })

  const plan = Effect.map(probeClaude, (present) =>
    present === null ? { _tag: "Build" as const, build: buildClaude, extra: {}, installing: claudeSpec } : { _tag: "Done" as const, draft: present })

  return { runtime: "claude-cli", probe: probeClaude, plan, versionOf, supported, findSystem }
}
