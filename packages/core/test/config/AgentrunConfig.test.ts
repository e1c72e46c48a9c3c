/**
 * agentrun's settings: `parseDurationText` (the duration syntax of flags, env and the file),
 * `configPath` (where the file is), `resolveWatchdog` (flags > env > file > defaults, per setting,
 * and which source an error names) and `AgentrunConfig.layer` (reading the real file).
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { AgentrunConfig, type ConfigFile, configPath, resolveWatchdog, type WatchdogFlags, watchdogEnv } from "../../src/config/AgentrunConfig.ts"
import { parseDurationText } from "../../src/domain/DurationText.ts"
import { defaultWatchdogSettings } from "../../src/domain/Run.ts"

const roots: Array<string> = []
afterAll(() => {
  for (const root of roots.splice(0)) NodeFs.rmSync(root, { recursive: true, force: true })
})
const tempDir = (): string => {
  const root = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "agentrun-config-"))
  roots.push(root)
  return root
}

const noFlags: WatchdogFlags = { enabled: Option.none(), stallTimeout: Option.none(), startupTimeout: Option.none(), busyTimeout: Option.none() }
const flags = (f: Partial<{ noWatchdog: boolean; watchdog: boolean; stallTimeout: string; startupTimeout: string; busyTimeout: string }>): WatchdogFlags => ({
  enabled: f.noWatchdog === true ? Option.some(false) : f.watchdog === true ? Option.some(true) : Option.none(),
  stallTimeout: Option.fromNullishOr(f.stallTimeout),
  startupTimeout: Option.fromNullishOr(f.startupTimeout),
  busyTimeout: Option.fromNullishOr(f.busyTimeout)
})
const filePath = "/etc/agentrun-test/config.json"

describe("parseDurationText", () => {
  it("a number and a unit", () => {
    assert.strictEqual(parseDurationText("500ms"), 500)
    assert.strictEqual(parseDurationText("90s"), 90_000)
    assert.strictEqual(parseDurationText("15m"), 15 * 60_000)
    assert.strictEqual(parseDurationText("2h"), 2 * 3_600_000)
    assert.strictEqual(parseDurationText("7d"), 7 * 86_400_000)
    assert.strictEqual(parseDurationText("2w"), 14 * 86_400_000)
  })

  it("fractions, a bare number of seconds, spaces around and before the unit", () => {
    assert.strictEqual(parseDurationText("2.5s"), 2500)
    assert.strictEqual(parseDurationText("0.5m"), 30_000)
    assert.strictEqual(parseDurationText("90"), 90_000)
    assert.strictEqual(parseDurationText(" 90s "), 90_000)
    assert.strictEqual(parseDurationText("90 s"), 90_000)
    assert.strictEqual(parseDurationText("0"), 0)
    assert.strictEqual(parseDurationText("0s"), 0)
  })

  it("numbers (from the JSON file) are seconds", () => {
    assert.strictEqual(parseDurationText(2), 2000)
    assert.strictEqual(parseDurationText(2.5), 2500)
    assert.strictEqual(parseDurationText(0), 0)
  })

  it("anything else is null: negative, empty, words, other units, exponents, upper case, non-finite", () => {
    for (const text of ["-5s", "-1", "", " ", "s", "ms", "soon", "5 minutes", "5min", "1e3", "1.s", ".5s", "5S", "5M", "1h30m", "Infinity", "NaN"]) {
      assert.strictEqual(parseDurationText(text), null, JSON.stringify(text))
    }
    for (const n of [-1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      assert.strictEqual(parseDurationText(n), null, String(n))
    }
  })
})

describe("configPath", () => {
  it("$AGENTRUN_CONFIG wins over $XDG_CONFIG_HOME", () => {
    assert.strictEqual(configPath({ AGENTRUN_CONFIG: "/x/my.json", XDG_CONFIG_HOME: "/xdg" }), "/x/my.json")
  })

  it("an empty $AGENTRUN_CONFIG is ignored", () => {
    assert.strictEqual(configPath({ AGENTRUN_CONFIG: "", XDG_CONFIG_HOME: "/xdg" }), "/xdg/agentrun/config.json")
  })

  it("$XDG_CONFIG_HOME/agentrun/config.json when absolute", () => {
    assert.strictEqual(configPath({ XDG_CONFIG_HOME: "/xdg" }), "/xdg/agentrun/config.json")
  })

  it("~/.config/agentrun/config.json when $XDG_CONFIG_HOME is unset, empty or relative (the XDG spec ignores relative values)", () => {
    const fallback = NodePath.join(NodeOs.homedir(), ".config", "agentrun", "config.json")
    assert.strictEqual(configPath({}), fallback)
    assert.strictEqual(configPath({ XDG_CONFIG_HOME: "" }), fallback)
    assert.strictEqual(configPath({ XDG_CONFIG_HOME: "relative/dir" }), fallback)
  })
})

describe("resolveWatchdog: precedence per setting", () => {
  it.effect("nothing set → the defaults (15m stall, 2m startup, 30m busy, 10s probe grace)", () =>
    Effect.gen(function*() {
      const settings = yield* resolveWatchdog(noFlags, {}, {}, filePath)
      assert.deepStrictEqual(settings, defaultWatchdogSettings)
      assert.deepStrictEqual(settings, { stallTimeoutMs: 900_000, startupTimeoutMs: 120_000, busyTimeoutMs: 1_800_000, probeGraceMs: 10_000, sampleIntervalMs: 1_000 })
    }))

  const durationKeys = [
    { key: "stallTimeout", ms: "stallTimeoutMs", flag: true },
    { key: "startupTimeout", ms: "startupTimeoutMs", flag: true },
    { key: "busyTimeout", ms: "busyTimeoutMs", flag: true },
    { key: "probeGrace", ms: "probeGraceMs", flag: false }
  ] as const

  for (const { flag, key, ms } of durationKeys) {
    it.effect(`${key}: file > default, env > file${flag ? ", flag > env" : " (no flag)"}; the other settings keep their defaults`, () =>
      Effect.gen(function*() {
        const file: ConfigFile = { watchdog: { [key]: "3s" } }
        const env = { [watchdogEnv[key]]: "4s" }
        const others = (s: Record<string, number>) => Object.fromEntries(Object.entries(s).filter(([k]) => k !== ms))
        const defaults = others({ ...defaultWatchdogSettings })

        const fromFile = yield* resolveWatchdog(noFlags, {}, file, filePath)
        assert.strictEqual(fromFile?.[ms], 3000)
        assert.deepStrictEqual(others({ ...fromFile! }), defaults)

        const fromEnv = yield* resolveWatchdog(noFlags, env, file, filePath)
        assert.strictEqual(fromEnv?.[ms], 4000)
        assert.deepStrictEqual(others({ ...fromEnv! }), defaults)

        if (flag) {
          const fromFlag = yield* resolveWatchdog(flags({ [key]: "5s" }), env, file, filePath)
          assert.strictEqual(fromFlag?.[ms], 5000)
          assert.deepStrictEqual(others({ ...fromFlag! }), defaults)
        }
      }))
  }

  it.effect("settings resolve independently: each from its own highest source", () =>
    Effect.gen(function*() {
      const settings = yield* resolveWatchdog(
        flags({ stallTimeout: "2.5s" }),
        { AGENTRUN_STARTUP_TIMEOUT: "3m", AGENTRUN_STALL_TIMEOUT: "3s" },
        { watchdog: { stallTimeout: "2s", startupTimeout: "1m", busyTimeout: 60, probeGrace: "500ms" } },
        filePath
      )
      assert.deepStrictEqual(settings, { stallTimeoutMs: 2500, startupTimeoutMs: 180_000, busyTimeoutMs: 60_000, probeGraceMs: 500, sampleIntervalMs: 1000 })
    }))

  it.effect("an empty environment variable is unset: the file's value applies", () =>
    Effect.gen(function*() {
      const settings = yield* resolveWatchdog(noFlags, { AGENTRUN_STALL_TIMEOUT: "" }, { watchdog: { stallTimeout: "2s" } }, filePath)
      assert.strictEqual(settings?.stallTimeoutMs, 2000)
    }))

  it.effect("a bad value shadowed by a higher source is never read", () =>
    Effect.gen(function*() {
      const settings = yield* resolveWatchdog(
        flags({ stallTimeout: "90s" }),
        { AGENTRUN_STALL_TIMEOUT: "soon" },
        { watchdog: { stallTimeout: "15 minutes" } },
        filePath
      )
      assert.strictEqual(settings?.stallTimeoutMs, 90_000)
    }))
})

describe("resolveWatchdog: zero", () => {
  it.effect("busyTimeout 0 is allowed (it disables the busy check), from a flag, env or the file", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* resolveWatchdog(flags({ busyTimeout: "0" }), {}, {}, filePath))?.busyTimeoutMs, 0)
      assert.strictEqual((yield* resolveWatchdog(noFlags, { AGENTRUN_BUSY_TIMEOUT: "0s" }, {}, filePath))?.busyTimeoutMs, 0)
      assert.strictEqual((yield* resolveWatchdog(noFlags, {}, { watchdog: { busyTimeout: 0 } }, filePath))?.busyTimeoutMs, 0)
      assert.strictEqual((yield* resolveWatchdog(noFlags, {}, { watchdog: { busyTimeout: "0" } }, filePath))?.busyTimeoutMs, 0)
    }))

  it.effect("stallTimeout, startupTimeout and probeGrace 0 are rejected, naming the source", () =>
    Effect.gen(function*() {
      const stall = yield* Effect.flip(resolveWatchdog(flags({ stallTimeout: "0" }), {}, {}, filePath))
      assert.strictEqual(stall.source, "flag --stall-timeout")
      const startup = yield* Effect.flip(resolveWatchdog(noFlags, { AGENTRUN_STARTUP_TIMEOUT: "0s" }, {}, filePath))
      assert.strictEqual(startup.source, "env AGENTRUN_STARTUP_TIMEOUT")
      const grace = yield* Effect.flip(resolveWatchdog(noFlags, {}, { watchdog: { probeGrace: 0 } }, filePath))
      assert.strictEqual(grace.source, `${filePath} watchdog.probeGrace`)
      const fileStall = yield* Effect.flip(resolveWatchdog(noFlags, {}, { watchdog: { stallTimeout: "0ms" } }, filePath))
      assert.strictEqual(fileStall.source, `${filePath} watchdog.stallTimeout`)
    }))
})

describe("resolveWatchdog: on and off", () => {
  const fileOff: ConfigFile = { watchdog: { enabled: false } }

  it.effect("--no-watchdog → null, whatever env and file say (and without validating them)", () =>
    Effect.gen(function*() {
      const off = flags({ noWatchdog: true, stallTimeout: "soon" })
      assert.strictEqual(yield* resolveWatchdog(off, { AGENTRUN_WATCHDOG: "1", AGENTRUN_STALL_TIMEOUT: "0" }, { watchdog: { enabled: true } }, filePath), null)
      assert.strictEqual(yield* resolveWatchdog(off, { AGENTRUN_WATCHDOG: "maybe" }, {}, filePath), null)
    }))

  it.effect("--watchdog turns it on over AGENTRUN_WATCHDOG=0 and enabled: false in the file", () =>
    Effect.gen(function*() {
      const on = flags({ watchdog: true })
      const settings = yield* resolveWatchdog(on, { AGENTRUN_WATCHDOG: "0" }, fileOff, filePath)
      assert.isNotNull(settings)
      assert.isNotNull(yield* resolveWatchdog(on, {}, fileOff, filePath))
    }))

  it.effect("AGENTRUN_WATCHDOG 0 / false / off (any case) → null, even with enabled: true in the file", () =>
    Effect.gen(function*() {
      for (const value of ["0", "false", "off", "OFF", "False"]) {
        assert.strictEqual(yield* resolveWatchdog(noFlags, { AGENTRUN_WATCHDOG: value }, { watchdog: { enabled: true } }, filePath), null, value)
      }
    }))

  it.effect("AGENTRUN_WATCHDOG 1 / true / on → on, even with enabled: false in the file", () =>
    Effect.gen(function*() {
      for (const value of ["1", "true", "on", "ON"]) {
        const settings = yield* resolveWatchdog(noFlags, { AGENTRUN_WATCHDOG: value }, fileOff, filePath)
        assert.deepStrictEqual(settings, defaultWatchdogSettings, value)
      }
    }))

  it.effect("the file's enabled: false → null; enabled: true or absent → on; an empty AGENTRUN_WATCHDOG is unset", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* resolveWatchdog(noFlags, {}, fileOff, filePath), null)
      assert.strictEqual(yield* resolveWatchdog(noFlags, { AGENTRUN_WATCHDOG: "" }, fileOff, filePath), null)
      assert.deepStrictEqual(yield* resolveWatchdog(noFlags, {}, { watchdog: { enabled: true } }, filePath), defaultWatchdogSettings)
      assert.deepStrictEqual(yield* resolveWatchdog(noFlags, {}, { watchdog: {} }, filePath), defaultWatchdogSettings)
    }))

  it.effect("AGENTRUN_WATCHDOG=maybe → ConfigError from env AGENTRUN_WATCHDOG", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolveWatchdog(noFlags, { AGENTRUN_WATCHDOG: "maybe" }, {}, filePath))
      assert.strictEqual(error._tag, "ConfigError")
      assert.strictEqual(error.source, "env AGENTRUN_WATCHDOG")
      assert.strictEqual(error.retryable, false)
      assert.match(error.message, /AGENTRUN_WATCHDOG must be 0 or 1, not "maybe"/)
    }))
})

describe("resolveWatchdog: errors name their source", () => {
  const cases = [
    { name: "flag --stall-timeout", run: () => resolveWatchdog(flags({ stallTimeout: "soon" }), {}, {}, filePath), value: "soon" },
    { name: "flag --startup-timeout", run: () => resolveWatchdog(flags({ startupTimeout: "1 minute" }), {}, {}, filePath), value: "1 minute" },
    { name: "flag --busy-timeout", run: () => resolveWatchdog(flags({ busyTimeout: "-1m" }), {}, {}, filePath), value: "-1m" },
    { name: "env AGENTRUN_STALL_TIMEOUT", run: () => resolveWatchdog(noFlags, { AGENTRUN_STALL_TIMEOUT: "x" }, {}, filePath), value: "x" },
    { name: "env AGENTRUN_STARTUP_TIMEOUT", run: () => resolveWatchdog(noFlags, { AGENTRUN_STARTUP_TIMEOUT: "2 min" }, {}, filePath), value: "2 min" },
    { name: "env AGENTRUN_BUSY_TIMEOUT", run: () => resolveWatchdog(noFlags, { AGENTRUN_BUSY_TIMEOUT: "lots" }, {}, filePath), value: "lots" },
    { name: "env AGENTRUN_PROBE_GRACE", run: () => resolveWatchdog(noFlags, { AGENTRUN_PROBE_GRACE: "later" }, {}, filePath), value: "later" },
    { name: `${filePath} watchdog.stallTimeout`, run: () => resolveWatchdog(noFlags, {}, { watchdog: { stallTimeout: "15 minutes" } }, filePath), value: "15 minutes" },
    { name: `${filePath} watchdog.startupTimeout`, run: () => resolveWatchdog(noFlags, {}, { watchdog: { startupTimeout: -3 } }, filePath), value: "-3" },
    { name: `${filePath} watchdog.busyTimeout`, run: () => resolveWatchdog(noFlags, {}, { watchdog: { busyTimeout: "1d2h" } }, filePath), value: "1d2h" },
    { name: `${filePath} watchdog.probeGrace`, run: () => resolveWatchdog(noFlags, {}, { watchdog: { probeGrace: "" } }, filePath), value: "" }
  ] as const

  for (const c of cases) {
    it.effect(`${c.name}: "${c.value}"`, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(c.run())
        assert.strictEqual(error._tag, "ConfigError")
        assert.strictEqual(error.source, c.name)
        assert.strictEqual(error.retryable, false)
        assert.strictEqual(error.message.startsWith(`${c.name}: "${c.value}" is not a duration`), true, error.message)
        assert.strictEqual(error.message.includes("0 disables"), c.name.endsWith("busy-timeout") || c.name.endsWith("BUSY_TIMEOUT") || c.name.endsWith("busyTimeout"))
      }))
  }
})

describe("AgentrunConfig.layer: reading the file", () => {
  const load = (env: Record<string, string>) =>
    Effect.gen(function*() {
      const config = yield* AgentrunConfig
      return yield* config.load(env)
    })

  it.effect("a missing file is an empty config (at the path configPath names)", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const loaded = yield* load({ XDG_CONFIG_HOME: dir })
      assert.deepStrictEqual(loaded, { path: NodePath.join(dir, "agentrun", "config.json"), file: {} })
      const explicit = NodePath.join(dir, "nope.json")
      assert.deepStrictEqual(yield* load({ AGENTRUN_CONFIG: explicit }), { path: explicit, file: {} })
    }).pipe(Effect.provide(AgentrunConfig.layer)))

  it.effect("a valid file is decoded; durations as texts or numbers; unknown keys are ignored", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const path = NodePath.join(dir, "agentrun", "config.json")
      NodeFs.mkdirSync(NodePath.dirname(path), { recursive: true })
      NodeFs.writeFileSync(path, JSON.stringify({ theme: "dark", watchdog: { enabled: true, stallTimeout: "2s", busyTimeout: 0, future: 1 } }))
      const loaded = yield* load({ XDG_CONFIG_HOME: dir })
      assert.strictEqual(loaded.path, path)
      assert.strictEqual(loaded.file.watchdog?.enabled, true)
      assert.strictEqual(loaded.file.watchdog?.stallTimeout, "2s")
      assert.strictEqual(loaded.file.watchdog?.busyTimeout, 0)
      const settings = yield* resolveWatchdog(noFlags, {}, loaded.file, loaded.path)
      assert.strictEqual(settings?.stallTimeoutMs, 2000)
      assert.strictEqual(settings?.busyTimeoutMs, 0)
    }).pipe(Effect.provide(AgentrunConfig.layer)))

  it.effect("$AGENTRUN_CONFIG is read instead of the XDG file", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const xdg = NodePath.join(dir, "agentrun", "config.json")
      NodeFs.mkdirSync(NodePath.dirname(xdg), { recursive: true })
      NodeFs.writeFileSync(xdg, JSON.stringify({ watchdog: { stallTimeout: "1m" } }))
      const explicit = NodePath.join(dir, "explicit.json")
      NodeFs.writeFileSync(explicit, JSON.stringify({ watchdog: { stallTimeout: "2m" } }))
      const loaded = yield* load({ XDG_CONFIG_HOME: dir, AGENTRUN_CONFIG: explicit })
      assert.deepStrictEqual(loaded, { path: explicit, file: { watchdog: { stallTimeout: "2m" } } })
    }).pipe(Effect.provide(AgentrunConfig.layer)))

  const invalid = [
    { name: "not JSON", text: "{ watchdog: stallTimeout = 2s" },
    { name: "truncated JSON", text: `{"watchdog": {"stallTimeout": "2s"` },
    { name: "enabled is not a boolean", text: JSON.stringify({ watchdog: { enabled: "yes" } }) },
    { name: "a duration that is neither text nor number", text: JSON.stringify({ watchdog: { stallTimeout: { seconds: 2 } } }) },
    { name: "watchdog is not an object", text: JSON.stringify({ watchdog: "off" }) },
    { name: "the top level is null", text: "null" },
    { name: "the top level is an array", text: "[]" }
  ] as const

  for (const c of invalid) {
    it.effect(`${c.name} → ConfigError whose source is the file path`, () =>
      Effect.gen(function*() {
        const path = NodePath.join(tempDir(), "config.json")
        NodeFs.writeFileSync(path, c.text)
        const error = yield* Effect.flip(load({ AGENTRUN_CONFIG: path }))
        assert.strictEqual(error._tag, "ConfigError")
        assert.strictEqual(error.source, path)
        assert.strictEqual(error.retryable, false)
        assert.match(error.message, new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} is not a valid agentrun config: `))
      }).pipe(Effect.provide(AgentrunConfig.layer)))
  }

  it.effect("the Kubernetes keys are decoded: backend, the kubernetes section's texts, maps, tolerations and TTL", () =>
    Effect.gen(function*() {
      const path = NodePath.join(tempDir(), "config.json")
      const kubernetes: NonNullable<ConfigFile["kubernetes"]> = {
        context: "prod",
        namespace: "agents",
        image: "agent:1",
        cpu: "500m",
        memory: "1Gi",
        podEnv: { ANTHROPIC_BASE_URL: "http://proxy" },
        nodeSelector: { pool: "agents" },
        tolerations: [{ key: "agents", operator: "Exists", effect: "NoSchedule" }],
        imagePullSecrets: ["regcred"],
        labels: { team: "a" },
        annotations: { note: "x" },
        ttlSecondsAfterFinished: 60
      }
      NodeFs.writeFileSync(path, JSON.stringify({ backend: "k8s", kubernetes }))
      const loaded = yield* load({ AGENTRUN_CONFIG: path })
      assert.deepStrictEqual(loaded.file, { backend: "k8s", kubernetes })
    }).pipe(Effect.provide(AgentrunConfig.layer)))

  const invalidKubernetes = [
    { name: "a backend that does not exist", json: { backend: "docker" } },
    { name: "a negative TTL", json: { kubernetes: { ttlSecondsAfterFinished: -1 } } },
    { name: "a toleration operator Kubernetes does not have", json: { kubernetes: { tolerations: [{ operator: "Matches" }] } } },
    { name: "a label value that is not text", json: { kubernetes: { labels: { team: 1 } } } }
  ] as const
  for (const c of invalidKubernetes) {
    it.effect(`${c.name} → ConfigError naming the file`, () =>
      Effect.gen(function*() {
        const path = NodePath.join(tempDir(), "config.json")
        NodeFs.writeFileSync(path, JSON.stringify(c.json))
        const error = yield* Effect.flip(load({ AGENTRUN_CONFIG: path }))
        assert.strictEqual(error.source, path)
        assert.include(error.message, "is not a valid agentrun config")
      }).pipe(Effect.provide(AgentrunConfig.layer)))
  }

  it.effect("an unreadable path (a directory) → ConfigError 'Cannot read'", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const error = yield* Effect.flip(load({ AGENTRUN_CONFIG: dir }))
      assert.strictEqual(error.source, dir)
      assert.match(error.message, /^Cannot read /)
    }).pipe(Effect.provide(AgentrunConfig.layer)))

  it.effect("layerTest answers the given contents", () =>
    Effect.gen(function*() {
      const loaded = yield* load({})
      assert.deepStrictEqual(loaded, { path: "/test/config.json", file: { watchdog: { enabled: false } } })
    }).pipe(Effect.provide(AgentrunConfig.layerTest({ watchdog: { enabled: false } }))))
})
