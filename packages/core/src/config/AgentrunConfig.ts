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
 *   "stop": { "interruptGrace": "10s", "terminateGrace": "20s" },
 *   "backend": "k8s",
 *   "kubernetes": { "context": "prod", "namespace": "agents", "image": "registry.example/agent:2.1.330",
 *                   "cpu": "2", "memory": "4Gi", "serviceAccount": "agent", "apiKeySecret": "anthropic:api-key",
 *                   "podEnv": { "ANTHROPIC_BASE_URL": "http://proxy:8080" }, "workspacePvc": "work",
 *                   "nodeSelector": { "pool": "agents" },
 *                   "tolerations": [{ "key": "agents", "operator": "Exists", "effect": "NoSchedule" }],
 *                   "imagePullSecrets": ["regcred"], "labels": { "team": "a" }, "annotations": {},
 *                   "ttlSecondsAfterFinished": 600 } }
 * ```
 *
 * `backend` is what `run` uses without `--backend`; the `kubernetes` keys are the defaults of the
 * `run --backend k8s` flags of the same names, and of the VS Code extension's `agentrun.k8s.*`
 * settings for its Kubernetes launches (node selector, tolerations, imagePullSecrets, labels,
 * annotations and the TTL are set here only). Both hosts merge them with
 * `resolveKubernetesSettings` (KubernetesSettings.ts), which checks their values, with errors
 * naming `<path> kubernetes.<key>`.
 *
 * Durations are texts such as `90s`, `15m`, `2h` or numbers of seconds (see DurationText.ts).
 * Unknown keys are ignored with a warning naming each one.
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

const StringMap = Schema.Record(Schema.String, Schema.String)

/** A toleration as the config file gives it: core/v1 Toleration's fields (`tolerationSeconds` in seconds). */
export const TolerationConfig = Schema.Struct({
  key: Schema.optional(Schema.String),
  operator: Schema.optional(Schema.Literals(["Exists", "Equal"])),
  value: Schema.optional(Schema.String),
  effect: Schema.optional(Schema.Literals(["NoSchedule", "PreferNoSchedule", "NoExecute"])),
  tolerationSeconds: Schema.optional(Schema.Int)
})

/**
 * The config file's `kubernetes` section: defaults for `run --backend k8s` and the VS Code
 * extension's k8s launches (the flags, or the `agentrun.k8s.*` settings, of the same names win)
 * and the Pod settings that have neither. Quantities, names and `apiKeySecret` (`NAME[:KEY]`) are
 * texts as the flags take them. Merged by `resolveKubernetesSettings` (KubernetesSettings.ts).
 */
export const KubernetesConfig = Schema.Struct({
  context: Schema.optional(Schema.String),
  namespace: Schema.optional(Schema.String),
  image: Schema.optional(Schema.String),
  cpu: Schema.optional(Schema.String),
  memory: Schema.optional(Schema.String),
  serviceAccount: Schema.optional(Schema.String),
  apiKeySecret: Schema.optional(Schema.String),
  /** Environment of the Pod, name to value; `--pod-env` adds to it (and wins for the same name). */
  podEnv: Schema.optional(StringMap),
  workspacePvc: Schema.optional(Schema.String),
  nodeSelector: Schema.optional(StringMap),
  tolerations: Schema.optional(Schema.Array(TolerationConfig)),
  imagePullSecrets: Schema.optional(Schema.Array(Schema.String)),
  labels: Schema.optional(StringMap),
  annotations: Schema.optional(StringMap),
  /** Seconds a finished Job is kept (default 300). */
  ttlSecondsAfterFinished: Schema.optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)))
})
export type KubernetesConfig = typeof KubernetesConfig.Type

/** The config file's shape. Unknown keys are ignored (`load` warns of each: {@link unknownConfigKeys}). */
export const ConfigFile = Schema.Struct({
  /** The backend `run` uses without `--backend`: `local` (the default) or `k8s`. */
  backend: Schema.optional(Schema.Literals(["local", "k8s"])),
  kubernetes: Schema.optional(KubernetesConfig),
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
 * The shortest stall and startup timeouts, in milliseconds: the watchdog looks at /proc once a
 * second (`sampleIntervalMs`), so a shorter limit could only be met a second late.
 */
export const minimumWatchdogTimeoutMs = 1000

/**
 * The first set one of `candidates` (value and where it came from, in precedence order) as
 * milliseconds, or none when none is set. Fails with {@link ConfigError} naming that source when
 * it is not a duration, is 0 where 0 is not allowed, or is below `minimumMs` (other than a
 * permitted 0); `examples` go into the message.
 */
const firstDuration = (
  candidates: ReadonlyArray<readonly [value: string | number | undefined, source: string]>,
  zeroAllowed: boolean,
  examples: string,
  minimumMs = 0
): Effect.Effect<Option.Option<number>, ConfigError> =>
  Effect.gen(function*() {
    const found = candidates.find(([value]) => value !== undefined)
    if (found === undefined) return Option.none()
    const [value, source] = found
    const ms = parseDurationText(value!)
    const refuse = (why: string) =>
      new ConfigError({ message: `${source}: "${value}" is not a duration${why} (examples: ${examples}).`, source, retryable: false })
    if (ms === null) return yield* refuse("")
    if (ms === 0 && !zeroAllowed) return yield* refuse(" agentrun can use: it must be above 0")
    if (ms !== 0 && ms < minimumMs) {
      return yield* refuse(` agentrun can use: it must be at least ${minimumMs / 1000}s (the watchdog looks once a second)`)
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
      ], zeroAllowed, `90s, 15m, 2h${zeroAllowed ? "; 0 disables" : ""}`, key === "probeGrace" ? 0 : minimumWatchdogTimeoutMs)
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

/** The keys {@link ConfigFile} knows, by section; `null`: a key with a value of its own, not a section. */
const knownKeys: Readonly<Record<string, ReadonlyArray<string> | null>> = {
  watchdog: ["enabled", "stallTimeout", "startupTimeout", "busyTimeout", "probeGrace"],
  stop: ["interruptGrace", "terminateGrace"],
  backend: null,
  kubernetes: [
    "context",
    "namespace",
    "image",
    "cpu",
    "memory",
    "serviceAccount",
    "apiKeySecret",
    "podEnv",
    "workspacePvc",
    "nodeSelector",
    "tolerations",
    "imagePullSecrets",
    "labels",
    "annotations",
    "ttlSecondsAfterFinished"
  ]
}

/** The keys a toleration in `kubernetes.tolerations` may have. */
const tolerationKeys: ReadonlyArray<string> = ["key", "operator", "value", "effect", "tolerationSeconds"]

/**
 * The keys of a config file's JSON that agentrun does not know (`watchdog.stalTimeout`,
 * `watchdogs`, `kubernetes.tolerations[0].efect`), in file order: a misspelt key would otherwise
 * be ignored without a word. The contents of the maps (`nodeSelector`, `labels`, `podEnv`...) are
 * the user's own keys, never unknown.
 */
export const unknownConfigKeys = (json: unknown): ReadonlyArray<string> => {
  if (!isObject(json)) return []
  const unknown: Array<string> = []
  for (const [section, value] of Object.entries(json)) {
    const keys = knownKeys[section]
    if (keys === undefined) {
      unknown.push(section)
    } else if (keys !== null && isObject(value)) {
      for (const key of Object.keys(value)) if (!keys.includes(key)) unknown.push(`${section}.${key}`)
    }
  }
  const tolerations = isObject(json) && isObject(json["kubernetes"]) ? json["kubernetes"]["tolerations"] : undefined
  if (Array.isArray(tolerations)) {
    tolerations.forEach((t, i) => {
      if (isObject(t)) for (const key of Object.keys(t)) if (!tolerationKeys.includes(key)) unknown.push(`kubernetes.tolerations[${i}].${key}`)
    })
  }
  return unknown
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

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
        for (const key of unknownConfigKeys(JSON.parse(text))) {
          yield* Effect.logWarning(`${path}: unknown key "${key}" (ignored)`)
        }
        return { path, file }
      })
  }))

  /** A config that always answers the given file contents. */
  static readonly layerTest = (file: ConfigFile) =>
    Layer.succeed(AgentrunConfig, AgentrunConfig.of({ load: () => Effect.succeed({ path: "/test/config.json", file }) }))
}
