/**
 * Bootstrap's settings: what to install, with which tools, and its time limits. A
 * `Context.Reference` whose default reads the process environment, so nothing has to provide it;
 * tests and the CLI override it with {@link bootstrapSettings}.
 *
 * @module
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
/** All settings. Durations are `Duration.Input` (`"24 hours"`, a number of milliseconds, ...). */
export interface BootstrapSettingsShape {
  /** The npm package of the Claude Code CLI. */
  readonly claudePackage: string
  /** The pinned version agentrun installs. */
  readonly claudeVersion: string
  /**
   * What `npm install` is given; default `<claudePackage>@<claudeVersion>`. Tests use a local
   * tarball path.
   */
  readonly claudeSpec: string | undefined
  /** Oldest `claude --version` agentrun accepts from a system or configured `claude` (semver). */
  readonly minimumClaudeVersion: string
  /**
   * Oldest Node major that claude-code supports: `@anthropic-ai/claude-code@2.1.330` declares
   * `"engines": { "node": ">=22.0.0" }` in its package.json.
   */
  readonly minimumNodeMajor: number
  /** The Node executable npm and claude-code's postinstall run with (its dir goes first on PATH). */
  readonly nodeExecutable: string
  /** The npm command (looked up on PATH). */
  readonly npmCommand: string
  /** Extra `npm install` arguments (e.g. `--registry=...`). */
  readonly npmArgs: ReadonlyArray<string>
  /** A configured `claude` path (the CLI's `--claude-path`), tried first. */
  readonly claudePath: string | undefined
  /** The pip requirement to install. */
  readonly pythonRequirement: string
  /** The import name probed for. */
  readonly pythonModule: string
  /** Extra `pip install` arguments (e.g. `--no-index --find-links DIR`, `--index-url URL`). */
  readonly pipArgs: ReadonlyArray<string>
  /** The environment children get (and where PATH, secrets come from). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** How long after a signal kill bootstrap refuses to build again (default 24 hours). */
  readonly cooldown: Duration.Input
  /** agentrun's limit on one installer run (default 15 minutes). */
  readonly installerTimeout: Duration.Input
  /** Limit on a probe (`--version`, an import); the issue fixes 10 seconds. */
  readonly probeTimeout: Duration.Input
  /** Heartbeat period of the sentinel while building (30 seconds). */
  readonly heartbeatInterval: Duration.Input
  /** A sentinel whose heartbeat is older than this is stale (2 minutes). */
  readonly staleAfter: Duration.Input
  /** Ignore the cooldown (`AGENTRUN_BOOTSTRAP_FORCE=1`). */
  readonly force: boolean
}

/** The defaults, reading `env` for `AGENTRUN_BOOTSTRAP_FORCE`. */
export const defaultSettings = (env: Readonly<Record<string, string | undefined>> = process.env): BootstrapSettingsShape => ({
  claudePackage: "@anthropic-ai/claude-code",
  claudeVersion: "2.1.330",
  claudeSpec: undefined,
  minimumClaudeVersion: "2.0.0",
  minimumNodeMajor: 22,
  nodeExecutable: process.execPath,
  npmCommand: "npm",
  npmArgs: [],
  claudePath: undefined,
  pythonRequirement: "claude-agent-sdk",
  pythonModule: "claude_agent_sdk",
  pipArgs: [],
  env,
  cooldown: "24 hours",
  installerTimeout: "15 minutes",
  probeTimeout: "10 seconds",
  heartbeatInterval: "30 seconds",
  staleAfter: "2 minutes",
  force: env["AGENTRUN_BOOTSTRAP_FORCE"] === "1"
})

/** Bootstrap's settings (defaults: {@link defaultSettings} of `process.env`). */
export const BootstrapSettings = Context.Reference<BootstrapSettingsShape>("agentrun/bootstrap/BootstrapSettings", {
  defaultValue: () => defaultSettings()
})

/** The defaults with `overrides` applied; `env` overrides also decide `force` unless given. */
export const bootstrapSettings = (overrides: Partial<BootstrapSettingsShape>): BootstrapSettingsShape => ({
  ...defaultSettings(overrides.env ?? process.env),
  ...overrides
})
