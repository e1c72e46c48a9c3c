/**
 * agentrun's settings: command-line flags override environment variables, which override the
 * config file, which overrides the defaults.
 *
 * The config file is JSON at `$AGENTRUN_CONFIG`, else `$XDG_CONFIG_HOME/agentrun/config.json`
 * (default `~/.config/agentrun/config.json`); a missing file is an empty config. Shape:
 *
 * ```json
 * { "watchdog": { "enabled": true, "stallTimeout": "15m", "startupTimeout": "2m",
 *                 "busyTimeout": "30m", "probeGrace": "10s" },
 *   "stop": { "interruptGrace": "10s", "terminateGrace": "20s" } }
 * ```
 *
 * Durations are texts such as `90s`, `15m`, `2h` or numbers of seconds (see DurationText.ts).
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { parseDurationText } from "../domain/DurationText.ts"
import { defaultStopGraceSettings, defaultWatchdogSettings, type StopGraceSettings, type WatchdogSettings } from "../domain/Run.ts"

/** A setting that cannot be used: where it came from and why. Fix the setting; retrying will not help. */
export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  message: Schema.String,
  /** `flag --stall-timeout`, `env AGENTRUN_STALL_TIMEOUT`, or the config file path. */
  source: Schema.String,
  retryable: Schema.Boolean
}) {}

const DurationValue = Schema.Union([Schema.String, Schema.Number])

/** The config file's shape. Unknown keys are ignored. */
export const ConfigFile = Schema.Struct({
  watchdog: Schema.optional(Schema.Struct({
    enabled: Schema.optional(Schema.Boolean),
    stallTimeout: Schema.optional(DurationValue),
    startupTimeout: Schema.optional(DurationValue),
    busyTimeout: Schema.optional(DurationValue),
    probeGrace: Schema.optional(DurationValue)
  })),
  stop: Schema.optional(Schema.Struct({
    interruptGrace: Schema.optional(DurationValue),
    terminateGrace: Schema.optional(DurationValue)
  }))
})
export type ConfigFile = typeof ConfigFile.Type

/** The config file's location for an environment. */
export const configPath = (env: Readonly<Record<string, string | undefined>>): string => {
  const explicit = env["AGENTRUN_CONFIG"]
  if (explicit !== undefined && explicit !== "") return explicit
  const xdg = env["XDG_CONFIG_HOME"]
  const base = xdg !== undefined && NodePath.isAbsolute(xdg) ? xdg : NodePath.join(NodeOs.homedir(), ".config")
  return NodePath.join(base, "agentrun", "config.json")
}

/** Watchdog settings given on the command line (texts as typed). */
export interface WatchdogFlags {
  /** `--watchdog` (Some(true)) or `--no-watchdog` (Some(false)); none when neither was given. */
  readonly enabled: Option.Option<boolean>
  readonly stallTimeout: Option.Option<string>
  readonly startupTimeout: Option.Option<string>
  readonly busyTimeout: Option.Option<string>
}

/** Environment variables read for the watchdog, and the setting each one sets. */
export const watchdogEnv = {
  enabled: "AGENTRUN_WATCHDOG",
  stallTimeout: "AGENTRUN_STALL_TIMEOUT",
  startupTimeout: "AGENTRUN_STARTUP_TIMEOUT",
  busyTimeout: "AGENTRUN_BUSY_TIMEOUT",
  probeGrace: "AGENTRUN_PROBE_GRACE"
} as const

type DurationKey = "stallTimeout" | "startupTimeout" | "busyTimeout" | "probeGrace"
const msKey: Record<DurationKey, keyof WatchdogSettings> = {
  stallTimeout: "stallTimeoutMs",
  startupTimeout: "startupTimeoutMs",
  busyTimeout: "busyTimeoutMs",
  probeGrace: "probeGraceMs"
}

/** An environment value, unset when empty. */
const nonEmpty = (value: string | undefined): string | undefined => (value === "" ? undefined : value)

/**
 * The first set one of `candidates` (value and where it came from, in precedence order) as
 * milliseconds, or none when none is set. Fails with {@link ConfigError} naming that source when
 * it is not a duration, or is 0 where 0 is not allowed (`examples` go into the message).
 */
const firstDuration = (
  candidates: ReadonlyArray<readonly [value: string | number | undefined, source: string]>,
  zeroAllowed: boolean,
  examples: string
): Effect.Effect<Option.Option<number>, ConfigError> =>
  Effect.gen(function*() {
    const found = candidates.find(([value]) => value !== undefined)
    if (found === undefined) return Option.none()
    const [value, source] = found
    const ms = parseDurationText(value!)
    if (ms === null || (ms === 0 && !zeroAllowed)) {
      return yield* new ConfigError({ message: `${source}: "${value}" is not a duration (examples: ${examples}).`, source, retryable: false })
    }
    return Option.some(ms)
  })

/**
 * Resolves the watchdog settings: flags > env > file > defaults. Returns null when the watchdog is
 * off (`--no-watchdog`, `AGENTRUN_WATCHDOG=0`, or `"enabled": false`). Fails with
 * {@link ConfigError} naming the offending source.
 */
export const resolveWatchdog = (
  flags: WatchdogFlags,
  env: Readonly<Record<string, string | undefined>>,
  file: ConfigFile,
  filePath: string
): Effect.Effect<WatchdogSettings | null, ConfigError> =>
  Effect.gen(function*() {
    if (Option.isSome(flags.enabled) && !flags.enabled.value) return null
    const envEnabled = env[watchdogEnv.enabled]
    if (Option.isSome(flags.enabled)) {
      // `--watchdog` overrides an off switch in the environment or the file.
    } else if (envEnabled !== undefined && envEnabled !== "") {
      if (!["0", "1", "true", "false", "off", "on"].includes(envEnabled.toLowerCase())) {
        return yield* new ConfigError({ message: `${watchdogEnv.enabled} must be 0 or 1, not "${envEnabled}".`, source: `env ${watchdogEnv.enabled}`, retryable: false })
      }
      if (["0", "false", "off"].includes(envEnabled.toLowerCase())) return null
    } else if (file.watchdog?.enabled === false) return null

    const settings: Record<keyof WatchdogSettings, number> = { ...defaultWatchdogSettings }
    const flagText: Record<DurationKey, Option.Option<string>> = {
      stallTimeout: flags.stallTimeout,
      startupTimeout: flags.startupTimeout,
      busyTimeout: flags.busyTimeout,
      probeGrace: Option.none()
    }
    for (const key of ["stallTimeout", "startupTimeout", "busyTimeout", "probeGrace"] as const) {
      const zeroAllowed = key === "busyTimeout"
      const ms = yield* firstDuration([
        [Option.getOrUndefined(flagText[key]), `flag --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`],
        [nonEmpty(env[watchdogEnv[key]]), `env ${watchdogEnv[key]}`],
        [file.watchdog?.[key], `${filePath} watchdog.${key}`]
      ], zeroAllowed, `90s, 15m, 2h${zeroAllowed ? "; 0 disables" : ""}`)
      if (Option.isSome(ms)) settings[msKey[key]] = ms.value
    }
    return settings
  })

/** Environment variables read for the stop sequence. */
export const stopEnv = {
  interruptGrace: "AGENTRUN_INTERRUPT_GRACE",
  terminateGrace: "AGENTRUN_TERMINATE_GRACE"
} as const

/**
 * Resolves the stop sequence's grace periods: env > file > defaults (no flags: they are rarely
 * changed per run). Fails with {@link ConfigError} naming the offending source.
 */
export const resolveStopGrace = (
  env: Readonly<Record<string, string | undefined>>,
  file: ConfigFile,
  filePath: string
): Effect.Effect<StopGraceSettings, ConfigError> =>
  Effect.gen(function*() {
    const settings: Record<keyof StopGraceSettings, number> = { ...defaultStopGraceSettings }
    for (const key of ["interruptGrace", "terminateGrace"] as const) {
      const ms = yield* firstDuration([
        [nonEmpty(env[stopEnv[key]]), `env ${stopEnv[key]}`],
        [file.stop?.[key], `${filePath} stop.${key}`]
      ], false, "5s, 30s")
      if (Option.isSome(ms)) settings[key === "interruptGrace" ? "interruptGraceMs" : "terminateGraceMs"] = ms.value
    }
    return settings
  })

const decodeFile = Schema.decodeUnknownEffect(Schema.fromJsonString(ConfigFile))

/** Reads the config file. */
export class AgentrunConfig extends Context.Service<AgentrunConfig, {
  /** The config file's path and contents (empty when the file does not exist). Fails on unreadable or invalid JSON. */
  readonly load: (env: Readonly<Record<string, string | undefined>>) => Effect.Effect<{ readonly path: string; readonly file: ConfigFile }, ConfigError>
}>()("agentrun/AgentrunConfig") {
  static readonly layer = Layer.succeed(AgentrunConfig, AgentrunConfig.of({
    load: (env) =>
      Effect.gen(function*() {
        const path = configPath(env)
        const text = yield* Effect.try({
          try: () => (NodeFs.existsSync(path) ? NodeFs.readFileSync(path, "utf8") : null),
          catch: (cause) => new ConfigError({ message: `Cannot read ${path}: ${String(cause)}`, source: path, retryable: false })
        })
        if (text === null) return { path, file: {} }
        const file = yield* decodeFile(text).pipe(
          Effect.mapError((e) => new ConfigError({ message: `${path} is not a valid agentrun config: ${e.message}`, source: path, retryable: false }))
        )
        return { path, file }
      })
  }))

  /** A config that always answers the given file contents. */
  static readonly layerTest = (file: ConfigFile) =>
    Layer.succeed(AgentrunConfig, AgentrunConfig.of({ load: () => Effect.succeed({ path: "/test/config.json", file }) }))
}
