/**
 * End to end: the hang watchdog through the real `agentrun run` CLI and the real `claude` binary,
 * against a fake Messages API that accepts the request and never answers. The watchdog's logic is
 * tested in packages/core/test/watchdog; here we prove the CLI wiring: the hang verdict, the hang
 * dump in the run's folder, and where its settings come from — flags > environment > config file
 * > defaults, observed through behaviour (which stall timeout fired, or that none did), and
 * invalid settings refused with exit 2 naming their source.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import {
  type AgentrunResult,
  type Fixture,
  filesLeakingSecrets,
  parseJsonOutput,
  runAgentrun,
  runIds,
  secretApiKey,
  stillRunning,
  onlyRun,
  withFixture
} from "./support/harness.ts"

const TEST_TIMEOUT = 40_000


/** Writes `content` (an object, or raw text) as JSON config at `$HOME/.config/agentrun/config.json` or `path`; returns the path. */
const writeConfig = (f: Fixture, content: unknown, path?: string): string => {
  const text = typeof content === "string" ? content : JSON.stringify(content)
  if (path !== undefined) {
    writeFileSync(path, text)
    return path
  }
  return f.sandbox.file(".config-home/agentrun/config.json", text, 0o644)
}

/** The sandbox's XDG config home (where {@link writeConfig} puts the file by default). */
const xdgConfigHome = (f: Fixture) => join(f.sandbox.root, ".config-home")

/**
 * A run on the never-answering fake: checks it ended as HangInterruptible (exit 5) detected as a
 * stall after `timeoutMs`, with claude gone; returns the JSON.
 */
const expectStallHang = (f: Fixture, r: AgentrunResult, timeoutMs: number) => {
  expect(r.code, r.stderr).toBe(5)
  const json = parseJsonOutput(r.stdout)
  expect(json.outcome).toMatchObject({
    _tag: "HangInterruptible",
    family: "hang",
    evidence: { detection: { reason: "stall", timeoutMs }, waitingOn: { kind: "model-api" } }
  })
  const { record } = onlyRun(f)
  expect(record.placement.agentPid).toEqual(expect.any(Number))
  expect(stillRunning(record.placement.agentPid!, record.placement.agentStartTicks)).toBe(false)
  return json
}

/** A run on the never-answering fake that the watchdog did not stop: agentrun's --timeout did (exit 4). */
const expectDeadlineNotHang = (f: Fixture, r: AgentrunResult, timeoutMs: number) => {
  expect(r.code, r.stderr).toBe(4)
  const json = parseJsonOutput(r.stdout)
  expect(json.outcome).toMatchObject({ _tag: "DeadlineExceeded", family: "deadline", evidence: { deadline: { timeoutMs } } })
  const { runId, record } = onlyRun(f)
  // No hang dump: the watchdog never fired.
  expect(existsSync(join(f.sandbox.runsDir, runId, "hang-dump.json"))).toBe(false)
  expect(stillRunning(record.placement.agentPid!, record.placement.agentStartTicks)).toBe(false)
}

describe.concurrent("watchdog through the CLI: a request that never ends", () => {
  it("--stall-timeout 2s → HangInterruptible (exit 5) waiting on the Messages API, hang dump beside the record, no secrets, claude gone", async () => {
    await withFixture(scenarios.hang, async (f) => {
      const r = await runAgentrun({ args: ["--json", "--stall-timeout", "2s", "wait"], env: f.env(), cwd: f.sandbox.work })
      const json = expectStallHang(f, r, 2000)
      expect(json.status).toBe("failed")
      expect(json.outcome.retryable).toBe(true)
      expect(json.outcome.evidence.waitingOn).toEqual({ kind: "model-api", endpoint: new URL(f.api.url).host })
      expect(json.outcome.evidence.detection.idleMs).toBeGreaterThanOrEqual(2000)
      expect(f.api.messageRequests().length).toBeGreaterThanOrEqual(1)

      const { runId, record } = onlyRun(f)
      expect(record.outcome).toEqual(json.outcome)
      const runDir = join(f.sandbox.runsDir, runId)
      expect(json.outcome.evidence.dumpPath).toBe(join(runDir, "hang-dump.json"))
      const dumpJson = readFileSync(join(runDir, "hang-dump.json"), "utf8")
      const dumpText = readFileSync(join(runDir, "hang-dump.txt"), "utf8")
      expect(() => JSON.parse(dumpJson)).not.toThrow()
      expect(dumpText).toContain("waiting on: the Messages API")
      expect(dumpText).toContain(`pid ${record.placement.agentPid}`)
      for (const dump of [dumpJson, dumpText]) {
        expect(dump).not.toContain(secretApiKey)
        expect(dump).not.toContain("SECRET1234567")
      }
      expect(filesLeakingSecrets(f.sandbox)).toEqual([])
      // Detected after ~2 s, probed, stopped: well under the default 15 min.
      expect(r.durationMs).toBeLessThan(15_000)
    })
  }, TEST_TIMEOUT)

  it("without --json: the hang verdict line on stderr, nothing on stdout, exit 5", async () => {
    await withFixture(scenarios.hang, async (f) => {
      const r = await runAgentrun({ args: ["--stall-timeout", "2s", "wait"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(5)
      expect(r.stdout).toBe("")
      const { runId } = onlyRun(f)
      expect(r.stderr).toContain("agentrun: stopping the agent (hang)")
      expect(r.stderr).toMatch(new RegExp(`agentrun: ✗ HangInterruptible \\(hang, retryable\\): .+waiting on the Messages API.+ \\[run ${runId}\\]`))
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("watchdog settings: flags > environment > config file > defaults", () => {
  it("config file alone ($XDG_CONFIG_HOME/agentrun/config.json, stallTimeout 2s) → the hang is detected after 2 s", async () => {
    await withFixture(scenarios.hang, async (f) => {
      writeConfig(f, { watchdog: { stallTimeout: "2s" } })
      const r = await runAgentrun({ args: ["--json", "wait"], env: f.env({ XDG_CONFIG_HOME: xdgConfigHome(f) }), cwd: f.sandbox.work })
      expectStallHang(f, r, 2000)
    })
  }, TEST_TIMEOUT)

  it("config file at ~/.config/agentrun/config.json when XDG_CONFIG_HOME is unset (a bare number: seconds)", async () => {
    await withFixture(scenarios.hang, async (f) => {
      writeConfig(f, { watchdog: { stallTimeout: 2 } }, join(f.sandbox.dir("home/.config/agentrun"), "config.json"))
      const env = f.env()
      expect(env["XDG_CONFIG_HOME"]).toBeUndefined()
      const r = await runAgentrun({ args: ["--json", "wait"], env, cwd: f.sandbox.work })
      expectStallHang(f, r, 2000)
    })
  }, TEST_TIMEOUT)

  it("AGENTRUN_CONFIG=path wins over $XDG_CONFIG_HOME/agentrun/config.json", async () => {
    await withFixture(scenarios.hang, async (f) => {
      writeConfig(f, { watchdog: { stallTimeout: "10m" } })
      const explicit = writeConfig(f, { watchdog: { stallTimeout: "2s" } }, join(f.sandbox.root, "explicit-config.json"))
      const r = await runAgentrun({
        args: ["--json", "wait"],
        env: f.env({ XDG_CONFIG_HOME: xdgConfigHome(f), AGENTRUN_CONFIG: explicit }),
        cwd: f.sandbox.work
      })
      expectStallHang(f, r, 2000)
    })
  }, TEST_TIMEOUT)

  it("env AGENTRUN_STALL_TIMEOUT=3s beats the file's 2s", async () => {
    await withFixture(scenarios.hang, async (f) => {
      writeConfig(f, { watchdog: { stallTimeout: "2s" } })
      const r = await runAgentrun({
        args: ["--json", "wait"],
        env: f.env({ XDG_CONFIG_HOME: xdgConfigHome(f), AGENTRUN_STALL_TIMEOUT: "3s" }),
        cwd: f.sandbox.work
      })
      const json = expectStallHang(f, r, 3000)
      expect(json.outcome.evidence.detection.idleMs).toBeGreaterThanOrEqual(3000)
    })
  }, TEST_TIMEOUT)

  it("flag --stall-timeout 2.5s beats env 3s and the file's 2s", async () => {
    await withFixture(scenarios.hang, async (f) => {
      writeConfig(f, { watchdog: { stallTimeout: "2s" } })
      const r = await runAgentrun({
        args: ["--json", "--stall-timeout", "2.5s", "wait"],
        env: f.env({ XDG_CONFIG_HOME: xdgConfigHome(f), AGENTRUN_STALL_TIMEOUT: "3s" }),
        cwd: f.sandbox.work
      })
      expectStallHang(f, r, 2500)
    })
  }, TEST_TIMEOUT)

  it("env AGENTRUN_WATCHDOG=1 beats the file's enabled: false", async () => {
    await withFixture(scenarios.hang, async (f) => {
      writeConfig(f, { watchdog: { enabled: false, stallTimeout: "2s" } })
      const r = await runAgentrun({
        args: ["--json", "--timeout", "20", "wait"],
        env: f.env({ XDG_CONFIG_HOME: xdgConfigHome(f), AGENTRUN_WATCHDOG: "1" }),
        cwd: f.sandbox.work
      })
      expectStallHang(f, r, 2000)
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("watchdog off: the never-answering run runs into --timeout 4 (DeadlineExceeded, exit 4), not a hang", () => {
  it("config file enabled: false (with a 1s stall timeout that would otherwise fire)", async () => {
    await withFixture(scenarios.hang, async (f) => {
      writeConfig(f, { watchdog: { enabled: false, stallTimeout: "1s" } })
      const r = await runAgentrun({ args: ["--json", "--timeout", "4", "wait"], env: f.env({ XDG_CONFIG_HOME: xdgConfigHome(f) }), cwd: f.sandbox.work })
      expectDeadlineNotHang(f, r, 4000)
    })
  }, TEST_TIMEOUT)

  it("--no-watchdog (beats env AGENTRUN_STALL_TIMEOUT=1s and AGENTRUN_WATCHDOG=1)", async () => {
    await withFixture(scenarios.hang, async (f) => {
      const r = await runAgentrun({
        args: ["--json", "--no-watchdog", "--timeout", "4", "wait"],
        env: f.env({ AGENTRUN_STALL_TIMEOUT: "1s", AGENTRUN_WATCHDOG: "1" }),
        cwd: f.sandbox.work
      })
      expectDeadlineNotHang(f, r, 4000)
    })
  }, TEST_TIMEOUT)

  it("AGENTRUN_WATCHDOG=0 (beats the file's enabled: true and stallTimeout 1s)", async () => {
    await withFixture(scenarios.hang, async (f) => {
      writeConfig(f, { watchdog: { enabled: true, stallTimeout: "1s" } })
      const r = await runAgentrun({
        args: ["--json", "--timeout", "4", "wait"],
        env: f.env({ XDG_CONFIG_HOME: xdgConfigHome(f), AGENTRUN_WATCHDOG: "0" }),
        cwd: f.sandbox.work
      })
      expectDeadlineNotHang(f, r, 4000)
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("invalid watchdog settings: exit 2 naming the source, nothing launched", () => {
  /** Runs agentrun with `args` / `env` / a config file, expects exit 2 and no run, returns stderr. */
  const refused = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>>, config?: unknown) =>
    withFixture(scenarios.success, async (f) => {
      const path = config === undefined ? null : writeConfig(f, config)
      const r = await runAgentrun({ args: ["--json", ...args, "hello"], env: f.env({ XDG_CONFIG_HOME: xdgConfigHome(f), ...env }), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(2)
      expect(r.stdout).toBe("")
      expect(runIds(f.sandbox)).toEqual([])
      expect(f.api.messageRequests()).toEqual([])
      return { stderr: r.stderr, path }
    })

  it("flag --stall-timeout soon", async () => {
    const { stderr } = await refused(["--stall-timeout", "soon"], {})
    expect(stderr).toContain(`agentrun: flag --stall-timeout: "soon" is not a duration`)
  }, TEST_TIMEOUT)

  it("flag --startup-timeout 0 (zero is refused)", async () => {
    const { stderr } = await refused(["--startup-timeout", "0"], {})
    expect(stderr).toContain(`flag --startup-timeout: "0" is not a duration`)
  }, TEST_TIMEOUT)

  it("flag --busy-timeout \"5 minutes\" (the message mentions that 0 disables)", async () => {
    const { stderr } = await refused(["--busy-timeout", "5 minutes"], {})
    expect(stderr).toContain(`flag --busy-timeout: "5 minutes" is not a duration`)
    expect(stderr).toContain("0 disables")
  }, TEST_TIMEOUT)

  it("env AGENTRUN_STALL_TIMEOUT=0", async () => {
    const { stderr } = await refused([], { AGENTRUN_STALL_TIMEOUT: "0" })
    expect(stderr).toContain(`env AGENTRUN_STALL_TIMEOUT: "0" is not a duration`)
  }, TEST_TIMEOUT)

  it("env AGENTRUN_PROBE_GRACE=later", async () => {
    const { stderr } = await refused([], { AGENTRUN_PROBE_GRACE: "later" })
    expect(stderr).toContain(`env AGENTRUN_PROBE_GRACE: "later" is not a duration`)
  }, TEST_TIMEOUT)

  it("env AGENTRUN_WATCHDOG=maybe", async () => {
    const { stderr } = await refused([], { AGENTRUN_WATCHDOG: "maybe" })
    expect(stderr).toContain(`AGENTRUN_WATCHDOG must be 0 or 1, not "maybe"`)
  }, TEST_TIMEOUT)

  it("config file watchdog.stallTimeout \"15 minutes\": the message names the file and the key", async () => {
    const { stderr, path } = await refused([], {}, { watchdog: { stallTimeout: "15 minutes" } })
    expect(stderr).toContain(`agentrun: ${path} watchdog.stallTimeout: "15 minutes" is not a duration`)
  }, TEST_TIMEOUT)

  it("an invalid value in the file is not reached when a flag overrides it", async () => {
    await withFixture(scenarios.success, async (f) => {
      writeConfig(f, { watchdog: { stallTimeout: "15 minutes" } })
      const r = await runAgentrun({
        args: ["--json", "--stall-timeout", "90s", "hello"],
        env: f.env({ XDG_CONFIG_HOME: xdgConfigHome(f) }),
        cwd: f.sandbox.work
      })
      expect(r.code, r.stderr).toBe(0)
      expect(parseJsonOutput(r.stdout).outcome._tag).toBe("Succeeded")
    })
  }, TEST_TIMEOUT)

  it("config file that is not JSON", async () => {
    const { stderr, path } = await refused([], {}, "{ watchdog: stallTimeout = 2s")
    expect(stderr).toContain(`agentrun: ${path} is not a valid agentrun config`)
  }, TEST_TIMEOUT)

  it("config file of the wrong shape (enabled: \"yes\")", async () => {
    const { stderr, path } = await refused([], {}, { watchdog: { enabled: "yes" } })
    expect(stderr).toContain(`agentrun: ${path} is not a valid agentrun config`)
  }, TEST_TIMEOUT)

  it("AGENTRUN_CONFIG naming a directory (unreadable)", async () => {
    await withFixture(scenarios.success, async (f) => {
      const dir = f.sandbox.dir("a-directory")
      const r = await runAgentrun({ args: ["--json", "hello"], env: f.env({ AGENTRUN_CONFIG: dir }), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr).toContain(`agentrun: Cannot read ${dir}`)
      expect(runIds(f.sandbox)).toEqual([])
    })
  }, TEST_TIMEOUT)
})
