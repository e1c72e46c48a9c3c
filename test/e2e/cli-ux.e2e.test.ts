/**
 * End to end: the CLI as a new user meets it (issue 15): usage errors, progress on a terminal,
 * what `--json` and the human output say, prune's safety, one duration syntax. The real
 * `agentrun` CLI (a subprocess), the real `claude` binary, the fake Messages API.
 */
import { spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { describe, expect, it } from "vitest"
import { agentrunBin, killIfRunning, nodeBinary, runAgentrun, runIds, runCli, startAgentrun, waitFor, withFixture } from "./support/harness.ts"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"

/** Runs `agentrun ARGV` on a pseudo-terminal (util-linux `script`), as a user at a terminal does; resolves with what the terminal showed. */
const onTerminal = (argv: ReadonlyArray<string>, env: Record<string, string>, cwd: string) =>
  new Promise<{ readonly code: number | null; readonly screen: string }>((resolve, reject) => {
    const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`
    const command = [nodeBinary, agentrunBin, ...argv].map(quote).join(" ")
    const child = spawn("script", ["-qec", command, "/dev/null"], { cwd, env: { ...env, TERM: "xterm" }, stdio: ["ignore", "pipe", "pipe"] })
    let screen = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (screen += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    child.on("error", reject)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, screen })
    })
  })

const TEST_TIMEOUT = 40_000

describe.concurrent("usage errors", () => {
  it("an unknown flag: nothing on stdout (--json or not), the error and a one-line --help hint on stderr, exit 2", async () => {
    await withFixture(scenarios.success, async (f) => {
      for (const argv of [["run", "--json", "--bogus", "hi"], ["run", "--bogus", "hi"], ["list", "--jsn"]]) {
        const r = await runCli({ argv, env: f.env(), cwd: f.sandbox.work })
        expect(r.code, r.stderr).toBe(2)
        expect(r.stdout).toBe("")
        const lines = r.stderr.trimEnd().split("\n")
        expect(lines.length, r.stderr).toBeLessThanOrEqual(2)
        expect(lines.at(-1)).toBe(`Run 'agentrun ${argv[0]} --help' for usage.`)
      }
      const suggested = await runCli({ argv: ["run", "--jsn", "hi"], env: f.env(), cwd: f.sandbox.work })
      expect(suggested.stderr).toContain("Unrecognized flag: --jsn")
      expect(suggested.stderr).toContain("did you mean --json?")
      const subcommand = await runCli({ argv: ["lst"], env: f.env(), cwd: f.sandbox.work })
      expect(subcommand.code).toBe(2)
      expect(subcommand.stdout).toBe("")
      expect(subcommand.stderr).toContain("did you mean list?")
      expect(runIds(f.sandbox)).toEqual([])
      expect(f.api.requests).toHaveLength(0)
    })
  }, TEST_TIMEOUT)

  it("--help: on stdout, exit 0; run's usage line shows -- CLAUDE_FLAGS; global flags only on agentrun --help", async () => {
    await withFixture(scenarios.success, async (f) => {
      const run = await runCli({ argv: ["run", "--help"], env: f.env(), cwd: f.sandbox.work })
      expect(run.code).toBe(0)
      expect(run.stdout).toContain("agentrun run [flags] [<prompt>] [-- CLAUDE_FLAGS...]")
      expect(run.stdout).not.toContain("GLOBAL FLAGS")
      expect(run.stdout).toContain("Run 'agentrun --help' for global flags")
      const root = await runCli({ argv: ["--help"], env: f.env(), cwd: f.sandbox.work })
      expect(root.code).toBe(0)
      expect(root.stdout).toContain("GLOBAL FLAGS")
      expect(root.stdout).toContain("--log-level")
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("progress on a terminal", () => {
  it("the run id, pid and session are printed as lines while the run goes; no bootstrap line when claude is on PATH", async () => {
    await withFixture(scenarios.slowText, async (f) => {
      const r = await onTerminal(["run", "tell a story"], f.env(), f.sandbox.work)
      expect(r.code, r.screen).toBe(0)
      const [runId] = runIds(f.sandbox)
      const lines = r.screen.split(/\r?\n/).map((l) => l.slice(l.lastIndexOf("\x1b[2K") + 1).replace(/^\[2K/, ""))
      const started = lines.findIndex((l) => new RegExp(`^agentrun: run ${runId} started \\(pid \\d+\\)$`).test(l))
      const session = lines.findIndex((l) => /^agentrun: session [0-9a-f-]{36} · claude-/.test(l))
      const verdict = lines.findIndex((l) => l.includes("agentrun: ✓ Succeeded"))
      expect(started, r.screen).toBeGreaterThanOrEqual(0)
      expect(session, r.screen).toBeGreaterThan(started)
      expect(verdict, r.screen).toBeGreaterThan(session)
      expect(r.screen).not.toContain("bootstrap")
    })
  }, TEST_TIMEOUT)

  it("a run that installs claude says so: the bootstrap line names the package it installs", async () => {
    await withFixture(scenarios.success, async (f) => {
      // No claude on PATH; an npm that fails at once (the install itself is tested in budget-bootstrap).
      f.sandbox.file("fake-npm/npm", "#!/bin/sh\necho 'npm error code E404' >&2\nexit 1\n")
      const path = [dirname(nodeBinary), join(f.sandbox.root, "fake-npm"), "/usr/bin", "/bin"]
      for (const d of path) expect(existsSync(join(d, "claude"))).toBe(false)
      const r = await runAgentrun({ args: ["say hi"], env: f.env({ PATH: path.join(":") }), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(3)
      expect(r.stderr).toContain("agentrun: installing @anthropic-ai/claude-code@2.1.330 (bootstrap)")
      expect(r.stderr).not.toContain("looking for")
      const telemetry = join(f.sandbox.stateHome, "agentrun", "bootstrap", "telemetry.jsonl")
      expect(readFileSync(telemetry, "utf8")).toContain("BuildFailed")
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("permission denials", () => {
  it("a tool call claude refused: a warning line, the verdict says so, --json and list count it; the run is still Succeeded (exit 0)", async () => {
    await withFixture(scenarios.toolUse, async (f) => {
      const r = await runAgentrun({ args: ["make the file"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(0)
      expect(existsSync(join(f.sandbox.work, "fake-tool-output.txt"))).toBe(false)
      expect(r.stderr).toMatch(/^agentrun: warning: claude denied Bash: Output redirection to .* needs approval\./m)
      expect(r.stderr).toMatch(/agentrun: ✓ Succeeded \(success\): .*; claude denied 1 tool call \(Bash\): allow them with --allowedTools or --permission-mode\./)
      const [runId] = runIds(f.sandbox)
      const inspect = await runCli({ argv: ["inspect", "--json", runId!], env: f.env(), cwd: f.sandbox.work })
      const json = JSON.parse(inspect.stdout)
      expect(json.permissionDenials).toBe(1)
      expect(json.outcome.evidence.permissionDenials).toEqual([
        expect.objectContaining({ toolName: "Bash", inputPreview: expect.stringContaining("fake-tool-output.txt") })
      ])
      const list = await runCli({ argv: ["list"], env: f.env(), cwd: f.sandbox.work })
      const [header, row] = list.stdout.trimEnd().split("\n")
      expect(header).toMatch(/\sCOST\s+DENIED\s+CWD\s+PROMPT$/)
      expect(row).toMatch(new RegExp(`^${runId}\\s+succeeded\\s+Succeeded\\s.*\\s1\\s+\\S+\\s+make the file$`))
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("prune", () => {
  it("a bare number is refused (exit 2, nothing removed); --dry-run lists what would go and removes nothing", async () => {
    await withFixture(scenarios.success, async (f) => {
      for (let i = 0; i < 2; i++) {
        const r = await runAgentrun({ args: ["--json", `answer ${i}`], env: f.env(), cwd: f.sandbox.work })
        expect(r.code, r.stderr).toBe(0)
      }
      const ids = runIds(f.sandbox)
      expect(ids).toHaveLength(2)
      const bare = await runCli({ argv: ["prune", "--older-than", "7"], env: f.env(), cwd: f.sandbox.work })
      expect(bare.code).toBe(2)
      expect(bare.stdout).toBe("")
      expect(bare.stderr).toContain("--older-than needs a duration with a unit")
      expect(runIds(f.sandbox)).toEqual(ids)
      const dry = await runCli({ argv: ["prune", "--keep", "1", "--dry-run"], env: f.env(), cwd: f.sandbox.work })
      expect(dry.code, dry.stderr).toBe(0)
      expect(dry.stdout).toBe(`Would remove 1 run(s):\n${ids[0]}\n`)
      expect(runIds(f.sandbox)).toEqual(ids)
      // --keep is a floor under --older-than: both runs are older than 1ms, the newest stays.
      const floor = await runCli({ argv: ["prune", "--older-than", "1ms", "--keep", "1"], env: f.env(), cwd: f.sandbox.work })
      expect(floor.stdout).toBe(`Removed 1 run(s):\n${ids[0]}\n`)
      expect(runIds(f.sandbox)).toEqual([ids[1]])
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("JSON completeness", () => {
  it("inspect/list --json: times, cwd, prompt, model, turns; a running run's sessionId; usage counted after the deadline cut a reply", async () => {
    await withFixture(scenarios.slowText, async (f) => {
      const run = startAgentrun({ args: ["--json", "--timeout", "3", "tell a story\nin two lines"], env: f.env(), cwd: f.sandbox.work })
      try {
        const live = await waitFor("a running run naming its session", () => {
          const [id] = runIds(f.sandbox)
          return id
        })
        // What another process sees while the run goes (its reply takes 5 s).
        let json: any = null
        for (let i = 0; i < 100 && (json === null || json.sessionId === null); i++) {
          const r = await runCli({ argv: ["inspect", "--json", live], env: f.env(), cwd: f.sandbox.work })
          json = JSON.parse(r.stdout)
          if (json.sessionId === null) await new Promise((r) => setTimeout(r, 100))
        }
        expect(json).toMatchObject({ status: "running", endedAt: null, cwd: f.sandbox.work, prompt: "tell a story", model: expect.stringMatching(/^claude-/), numTurns: null })
        expect(json.sessionId).toMatch(/^[0-9a-f-]{36}$/)
        expect(Date.parse(json.createdAt)).toBeGreaterThan(Date.now() - 60_000)
        const r = await run.done
        expect(r.code, r.stderr).toBe(4)
        const [listed] = JSON.parse((await runCli({ argv: ["list", "--json"], env: f.env(), cwd: f.sandbox.work })).stdout)
        expect(listed).toMatchObject({ runId: live, status: "failed", sessionId: json.sessionId, model: json.model, cwd: f.sandbox.work, prompt: "tell a story" })
        expect(Date.parse(listed.endedAt)).toBeGreaterThanOrEqual(Date.parse(listed.createdAt))
        // After SIGINT claude writes its result only some of the time (a race in claude itself:
        // fixture sigint-while-hang-no-result), and that result's cost is 0 when claude aborted before
        // counting the reply's usage (seen on a clean CI run). The bug this guards: a cost above 0 next
        // to all-zero usage. Whenever a cost is stored, usage agrees with it.
        if (listed.costUsd !== null) {
          expect(listed.usage.input_tokens + listed.usage.output_tokens > 0).toBe(listed.costUsd > 0)
          if (listed.costUsd > 0) expect(listed.numTurns).toBeGreaterThanOrEqual(1)
        }
      } finally {
        killIfRunning(run)
      }
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("flags: one duration syntax, values refused rather than ignored", () => {
  it("--timeout 5m is 5 minutes, --timeout 90 is 90 s; bad durations, 0, a tiny watchdog limit, --max-turns 0 and a missing --cwd are usage errors (exit 2, nothing stored)", async () => {
    await withFixture(scenarios.success, async (f) => {
      const minutes = await runAgentrun({ args: ["--json", "--timeout", "5m", "hi"], env: f.env(), cwd: f.sandbox.work })
      expect(minutes.code, minutes.stderr).toBe(0)
      const seconds = await runAgentrun({ args: ["--json", "--timeout", "90", "hi"], env: f.env(), cwd: f.sandbox.work })
      expect(seconds.code, seconds.stderr).toBe(0)
      const ids = runIds(f.sandbox)
      const timeouts = ids.map((id) => JSON.parse(readFileSync(join(f.sandbox.runsDir, id, "record.json"), "utf8")).agent.timeoutMs)
      expect(timeouts).toEqual([300_000, 90_000])
      const refused: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["--timeout", "soon"], `--timeout must be a duration above 0 (30s, 5m, 2h; a bare number is seconds), not "soon"`],
        [["--timeout", "0s"], "--timeout must be a duration above 0"],
        [["--stall-timeout", "0"], `flag --stall-timeout: "0" is not a duration agentrun can use: it must be above 0`],
        [["--startup-timeout", "1ms"], `flag --startup-timeout: "1ms" is not a duration agentrun can use: it must be at least 1s`],
        [["--max-turns", "0"], "--max-turns must be 1 or more, not 0"],
        [["--cwd", "/nonexistent-agentrun-dir"], "--cwd /nonexistent-agentrun-dir: no such directory"]
      ]
      for (const [args, message] of refused) {
        const r = await runAgentrun({ args: ["--json", ...args, "hi"], env: f.env(), cwd: f.sandbox.work })
        expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2)
        expect(r.stdout).toBe("")
        expect(r.stderr).toContain(message)
      }
      const wait = await runCli({ argv: ["cancel", "--wait", "soon", ids[0]!], env: f.env(), cwd: f.sandbox.work })
      expect(wait.code).toBe(2)
      expect(wait.stderr).toContain(`--wait must be a duration above 0`)
      const finished = await runCli({ argv: ["cancel", "--wait", "2m", ids[0]!], env: f.env(), cwd: f.sandbox.work })
      expect(finished.code).toBe(2)
      expect(finished.stderr).toContain("not running")
      expect(runIds(f.sandbox)).toEqual(ids)
      expect(f.api.messageRequests()).toHaveLength(2)
    })
  }, TEST_TIMEOUT)

  it("--claude-path DIR: SpawnFailed says it is a directory", async () => {
    await withFixture(scenarios.success, async (f) => {
      const r = await runAgentrun({ args: ["--json", "--claude-path", f.sandbox.work, "hi"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(3)
      const json = JSON.parse(r.stdout)
      expect(json.outcome).toMatchObject({ _tag: "SpawnFailed", evidence: { errno: "EISDIR" } })
      expect(json.outcome.message).toBe(`The agent could not be started: ${f.sandbox.work} is a directory, not the claude executable.`)
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("config file", () => {
  it("an unknown key is a warning naming it; the run goes on", async () => {
    await withFixture(scenarios.success, async (f) => {
      const config = f.sandbox.file("config.json", JSON.stringify({ watchdog: { stalTimeout: "5m" } }), 0o644)
      const r = await runAgentrun({ args: ["--json", "hi"], env: f.env({ AGENTRUN_CONFIG: config }), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toContain(`${config}: unknown key "watchdog.stalTimeout" (ignored)`)
    })
  }, TEST_TIMEOUT)
})
