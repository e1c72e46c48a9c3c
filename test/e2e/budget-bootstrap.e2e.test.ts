/**
 * End to end, through the real `agentrun run` CLI:
 *
 * - BudgetExhausted on real input: the real claude 2.1.330 with `--max-budget-usd` in a tool loop
 *   against the fake Messages API (claude ends with `subtype: error_max_budget_usd`).
 * - The bootstrap of the agent runtime: `run` without `--claude-path` and with no `claude` on PATH
 *   installs the pinned `@anthropic-ai/claude-code` from the npm registry into the sandbox's
 *   `$XDG_DATA_HOME/agentrun`, runs it, and reuses it next time (NoopManaged); a bootstrap that
 *   cannot succeed is `RuntimeUnavailable` (exit 3) carrying the bootstrap's outcome (a signal-killed
 *   installer, then the cooldown); a build lock held by a live process makes `run` wait, and it
 *   goes on when the holder is done.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { dirname, join } from "node:path"
import { describe, expect, it } from "vitest"
import { networkEnv } from "../../packages/core/test/bootstrap/helpers.ts"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import {
  claudeExe,
  allFiles,
  killIfRunning,
  onlyRun,
  type Fixture,
  nodeBinary,
  parseJsonOutput,
  procStat,
  readRecord,
  runAgentrun,
  runIds,
  secretApiKey,
  startAgentrun,
  stillRunning,
  toolResults,
  waitFor,
  withFixture
} from "./support/harness.ts"

const TEST_TIMEOUT = 40_000

// ---------------------------------------------------------------- budget

describe.concurrent("BudgetExhausted on real input (claude --max-budget-usd)", () => {
  it("--max-budget-usd 0.0001 in a tool loop → BudgetExhausted (exit 1) after the first turn, claude's error_max_budget_usd in the evidence", async () => {
    await withFixture(scenarios.toolLoop, async (f) => {
      const r = await runAgentrun({
        args: ["--json", "loop forever"],
        claudeArgs: ["--max-budget-usd", "0.0001", "--allowedTools", "Bash"],
        env: f.env(),
        cwd: f.sandbox.work
      })
      expect(r.code, r.stderr).toBe(1)
      const json = parseJsonOutput(r.stdout)
      expect(json).toMatchObject({
        status: "failed",
        agentExitCode: 1,
        agentSignal: null,
        result: null,
        outcome: {
          _tag: "BudgetExhausted",
          family: "agent",
          retryable: false,
          evidence: {
            result: {
              subtype: "error_max_budget_usd",
              isError: true,
              errors: ["Reached maximum budget ($0.0001)"],
              terminalReason: "budget_exhausted",
              numTurns: 1
            }
          }
        }
      })
      // claude checks the budget after a turn: one request was made, and it cost more than the budget.
      expect(f.api.messageRequests()).toHaveLength(1)
      expect(json.costUsd).toBeGreaterThan(0.0001)
      expect(json.outcome.evidence.result.costUsd).toBe(json.costUsd)
      expect(json.outcome.message).toMatch(/budget/)

      const { record, events } = onlyRun(f)
      expect(record.outcome).toEqual(json.outcome)
      expect(record.agent.command.slice(-4)).toEqual(["--max-budget-usd", "0.0001", "--allowedTools", "Bash"])
      expect(events.at(-1)).toMatchObject({ type: "result", subtype: "error_max_budget_usd", is_error: true })
      expect(stillRunning(record.placement.agentPid!, record.placement.agentStartTicks)).toBe(false)
    })
  }, TEST_TIMEOUT)

  it("--max-budget-usd 0.001 → the tools really run for several turns, then BudgetExhausted (exit 1)", async () => {
    await withFixture(scenarios.toolLoop, async (f) => {
      const r = await runAgentrun({
        args: ["--json", "loop forever"],
        claudeArgs: ["--max-budget-usd", "0.001", "--allowedTools", "Bash"],
        env: f.env(),
        cwd: f.sandbox.work
      })
      expect(r.code, r.stderr).toBe(1)
      const json = parseJsonOutput(r.stdout)
      expect(json.outcome).toMatchObject({
        _tag: "BudgetExhausted",
        evidence: { result: { subtype: "error_max_budget_usd", errors: ["Reached maximum budget ($0.001)"] } }
      })
      const turns = json.outcome.evidence.result.numTurns as number
      expect(turns).toBeGreaterThan(1)
      expect(f.api.messageRequests()).toHaveLength(turns)
      expect(json.costUsd).toBeGreaterThanOrEqual(0.001)
      const results = toolResults(onlyRun(f).events)
      expect(results.length).toBeGreaterThanOrEqual(turns - 1)
      expect(results.every((t) => !t.isError && t.text.includes("again"))).toBe(true)
    })
  }, TEST_TIMEOUT)
})

// ---------------------------------------------------------------- bootstrap

/** The sandbox's managed claude-code prefix and the `claude` bin agentrun's bootstrap uses. */
const managedClaude = (f: Fixture) => {
  const prefix = join(f.sandbox.dataHome, "agentrun", "claude-cli")
  return { prefix, bin: join(prefix, "node_modules", ".bin", "claude") }
}

/** The bootstrap's state dir (sentinels, cooldown markers, telemetry). */
const bootstrapState = (f: Fixture) => join(f.sandbox.stateHome, "agentrun", "bootstrap")

/** The bootstrap's telemetry records, oldest first. */
const telemetry = (f: Fixture): ReadonlyArray<Record<string, any>> => {
  const path = join(bootstrapState(f), "telemetry.jsonl")
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, any>) : []
}

/**
 * A PATH for the child with the real Node 22's dir, `extra` dirs, and (unless `system` is false)
 * the system dirs — but not the repo's `node_modules/.bin`: no `claude` anywhere on it (checked).
 */
const pathWithoutClaude = (extra: ReadonlyArray<string> = [], system = true): string => {
  const dirs = [dirname(nodeBinary), ...extra, ...(system ? ["/usr/local/bin", "/usr/bin", "/bin"] : [])]
  for (const d of dirs) expect(existsSync(join(d, "claude")), `${d}/claude must not exist for this test`).toBe(false)
  return dirs.join(":")
}

/** A counting stand-in for `npm` in `f`'s sandbox: logs its argv to a file, then runs `body`. Returns its dir and the log. */
const fakeNpm = (f: Fixture, body: string) => {
  const log = join(f.sandbox.root, "npm-calls.log")
  f.sandbox.file("fake-npm/npm", `#!/bin/sh\necho "$*" >> '${log}'\n${body}\n`)
  const calls = () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((l) => l.startsWith("install")) : [])
  return { dir: join(f.sandbox.root, "fake-npm"), calls }
}

describe.concurrent("bootstrap through run: no claude on PATH, no --claude-path", () => {
  it("installs the pinned claude-code 2.1.330 from the npm registry into $XDG_DATA_HOME/agentrun, runs it (Succeeded); a second run reuses it (NoopManaged, no npm)", async () => {
    await withFixture(scenarios.success, async (f) => {
      const { bin, prefix } = managedClaude(f)
      const started = Date.now()
      const first = await runAgentrun({
        args: ["--json", "say hi"],
        env: f.env({ ...networkEnv(), PATH: pathWithoutClaude() }),
        cwd: f.sandbox.work,
        killAfterMs: 55_000
      })
      const firstWallMs = Date.now() - started
      expect(first.killedByHarness).toBe(false)
      expect(first.code, first.stderr).toBe(0)
      expect(parseJsonOutput(first.stdout)).toMatchObject({ status: "succeeded", outcome: { _tag: "Succeeded" }, result: "Hello from the fake API." })

      // The managed install: the pinned version, its native binary in place (postinstall ran).
      const pkg = JSON.parse(readFileSync(join(prefix, "node_modules/@anthropic-ai/claude-code/package.json"), "utf8")) as { version: string }
      expect(pkg.version).toBe("2.1.330")
      expect(realpathSync(bin)).toBe(join(realpathSync(prefix), "node_modules/@anthropic-ai/claude-code/bin/claude.exe"))

      const [firstId] = runIds(f.sandbox)
      const firstRecord = readRecord(f.sandbox, firstId!)
      expect(firstRecord.agent.command.slice(0, 5)).toEqual([bin, "-p", "--output-format", "stream-json", "--verbose"])
      const built = telemetry(f)
      expect(built).toHaveLength(1)
      expect(built[0]).toMatchObject({ runtime: "claude-cli", outcome: "Built", outcomeCode: 2, errorCode: null })
      console.info(`bootstrap: npm install of claude-code 2.1.330 took ${built[0]!["durationMs"]} ms; the whole first run ${firstWallMs} ms`)

      // Second run: nothing to install. npm is not even on PATH now (only Node's dir): were the
      // bootstrap to run it, the run would fail.
      const noNpm = f.sandbox.dir("empty-bin")
      const second = await runAgentrun({ args: ["--json", "say hi"], env: f.env({ PATH: pathWithoutClaude([noNpm], false) }), cwd: f.sandbox.work })
      expect(second.code, second.stderr).toBe(0)
      expect(parseJsonOutput(second.stdout).outcome._tag).toBe("Succeeded")
      const secondId = runIds(f.sandbox).find((id) => id !== firstId)!
      expect(readRecord(f.sandbox, secondId).agent.command[0]).toBe(bin)
      expect(telemetry(f).map((t) => t["outcome"])).toEqual(["Built", "NoopManaged"])
      expect(telemetry(f)[1]!["durationMs"]).toBeLessThan(2_000)
      expect(second.durationMs).toBeLessThan(5_000)
      console.info(`bootstrap: the second run (NoopManaged) took ${second.durationMs} ms`)
      // The run store and the bootstrap's state hold no secret (not filesLeakingSecrets: it would
      // read the whole 500 MB install and npm cache under the data dir).
      expect(allFiles(f.sandbox.stateHome).filter((x) => x.text.includes(secretApiKey)).map((x) => x.path)).toEqual([])
    })
  }, 60_000)
})

describe.concurrent("bootstrap through run: no runtime to be had → RuntimeUnavailable (exit 3) with the bootstrap's outcome", () => {
  it("npm killed by SIGKILL (not by agentrun) → BuildFailed signal_killed; the next run → SkipCooldown without running npm (retryable); AGENTRUN_BOOTSTRAP_FORCE=1 → npm runs again", async () => {
    await withFixture(scenarios.success, async (f) => {
      // An installer that dies as under the OOM killer: SIGKILL from outside agentrun.
      const npm = fakeNpm(f, "kill -KILL $$")
      const env = f.env({ PATH: pathWithoutClaude([npm.dir]) })

      const killed = await runAgentrun({ args: ["--json", "say hi"], env, cwd: f.sandbox.work })
      expect(killed.code, killed.stderr).toBe(3)
      const killedJson = parseJsonOutput(killed.stdout)
      expect(killedJson).toMatchObject({
        status: "failed",
        agentExitCode: null,
        outcome: {
          _tag: "RuntimeUnavailable",
          family: "process",
          retryable: false,
          evidence: { runtime: "claude-cli", bootstrap: { outcome: "BuildFailed", outcomeCode: 3, phase: "npm", errorKind: "signal_killed", errorCode: 16 } }
        }
      })
      expect(killedJson.outcome.message).toMatch(/SIGKILL/)
      expect(npm.calls()).toHaveLength(1)
      const marker = JSON.parse(readFileSync(join(bootstrapState(f), "claude-cli.cooldown.json"), "utf8")) as Record<string, unknown>
      expect(marker).toMatchObject({ runtime: "claude-cli", signal: "SIGKILL", phase: "npm" })

      const cooling = await runAgentrun({ args: ["--json", "say hi"], env, cwd: f.sandbox.work })
      expect(cooling.code, cooling.stderr).toBe(3)
      const coolingJson = parseJsonOutput(cooling.stdout)
      expect(coolingJson.outcome).toMatchObject({
        _tag: "RuntimeUnavailable",
        family: "process",
        retryable: true,
        evidence: { runtime: "claude-cli", bootstrap: { outcome: "SkipCooldown", outcomeCode: 9 } }
      })
      const retryAfterMs = coolingJson.outcome.evidence.bootstrap.retryAfterMs as number
      expect(retryAfterMs).toBeGreaterThan(23 * 3600_000)
      expect(retryAfterMs).toBeLessThanOrEqual(24 * 3600_000)
      expect(coolingJson.outcome.message).toMatch(/--force/)
      expect(npm.calls()).toHaveLength(1) // the installer did not run

      const forced = await runAgentrun({ args: ["--json", "say hi"], env: { ...env, AGENTRUN_BOOTSTRAP_FORCE: "1" }, cwd: f.sandbox.work })
      expect(forced.code, forced.stderr).toBe(3)
      expect(parseJsonOutput(forced.stdout).outcome.evidence.bootstrap).toMatchObject({ outcome: "BuildFailed", errorKind: "signal_killed" })
      expect(npm.calls()).toHaveLength(2)

      // Every run is stored as failed, no claude ever ran, nothing reached the API.
      const ids = runIds(f.sandbox)
      expect(ids).toHaveLength(3)
      for (const id of ids) expect(readRecord(f.sandbox, id)).toMatchObject({ status: "failed", placement: { agentPid: null }, outcome: { _tag: "RuntimeUnavailable" } })
      expect(f.api.messageRequests()).toEqual([])
      expect(telemetry(f).map((t) => t["outcome"])).toEqual(["BuildFailed", "SkipCooldown", "BuildFailed"])
    })
  }, TEST_TIMEOUT)

  it("the package is not in the registry (npm E404) → BuildFailed npm_not_found, not retryable, no cooldown", async () => {
    await withFixture(scenarios.success, async (f) => {
      const npm = fakeNpm(f, "echo 'npm error code E404' >&2\necho 'npm error 404 Not Found - GET https://registry.npmjs.org/@anthropic-ai%2fclaude-code' >&2\nexit 1")
      const r = await runAgentrun({ args: ["--json", "say hi"], env: f.env({ PATH: pathWithoutClaude([npm.dir]) }), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(3)
      expect(parseJsonOutput(r.stdout).outcome).toMatchObject({
        _tag: "RuntimeUnavailable",
        retryable: false,
        evidence: { bootstrap: { outcome: "BuildFailed", phase: "npm", errorKind: "npm_not_found", errorCode: 17 } }
      })
      expect(npm.calls()).toHaveLength(1)
      expect(existsSync(join(bootstrapState(f), "claude-cli.cooldown.json"))).toBe(false)
    })
  }, TEST_TIMEOUT)
})

// ---------------------------------------------------------------- the build lock

/** Writes a live sentinel for claude-cli held by `holder` (a process we started), with a fresh heartbeat. */
const holdLock = (f: Fixture, holder: ChildProcess): string => {
  const dir = bootstrapState(f)
  mkdirSync(dir, { recursive: true })
  const path = join(dir, "claude-cli.sentinel")
  const now = Date.now()
  const stat = procStat(holder.pid!)
  expect(stat).not.toBeNull()
  writeFileSync(path, JSON.stringify({ runtime: "claude-cli", pid: holder.pid, startTime: String(stat!.startTicks), hostname: hostname(), token: "e2e-holder", createdMs: now, heartbeatMs: now }))
  return path
}

/** A `sleep 60` child standing for another agentrun that builds. */
const startHolder = (): ChildProcess => spawn("sleep", ["60"], { stdio: "ignore" })

/** What another agentrun's finished build leaves: the managed `claude` (here a link to the repo's native binary). */
const finishOtherBuild = (f: Fixture): void => {
  const { bin } = managedClaude(f)
  mkdirSync(dirname(bin), { recursive: true })
  symlinkSync(claudeExe, bin)
}

describe.concurrent("bootstrap through run: another agentrun holds the build lock", () => {
  it("run waits while a live holder builds; when it is done (managed claude present, lock released) run goes on with it → Succeeded (NoopManaged)", async () => {
    await withFixture(scenarios.success, async (f) => {
      const holder = startHolder()
      const sentinel = holdLock(f, holder)
      const npm = fakeNpm(f, "exit 1")
      const run = startAgentrun({ args: ["--json", "say hi"], env: f.env({ PATH: pathWithoutClaude([npm.dir]) }), cwd: f.sandbox.work })
      try {
        const runId = await waitFor("the run record", () => runIds(f.sandbox)[0])
        // Waiting: still running after 2.5 s, no agent, nothing sent to the API, npm never ran.
        await new Promise((r) => setTimeout(r, 2_500))
        expect(run.child.exitCode).toBeNull()
        expect(readRecord(f.sandbox, runId)).toMatchObject({ status: "running", placement: { agentPid: null } })
        expect(f.api.messageRequests()).toEqual([])
        expect(telemetry(f).map((t) => t["outcome"])).toContain("SkipSentinel")

        finishOtherBuild(f)
        rmSync(sentinel)
        const r = await run.done
        expect(r.code, r.stderr).toBe(0)
        expect(parseJsonOutput(r.stdout).outcome._tag).toBe("Succeeded")
        expect(readRecord(f.sandbox, runId).agent.command[0]).toBe(managedClaude(f).bin)
        expect(telemetry(f).at(-1)).toMatchObject({ outcome: "NoopManaged" })
        expect(npm.calls()).toEqual([])
      } finally {
        killIfRunning(run)
        holder.kill("SIGKILL")
      }
    })
  }, TEST_TIMEOUT)

  it("a sentinel left by a dead holder is taken over at once: the build runs (here npm fails: BuildFailed)", async () => {
    await withFixture(scenarios.success, async (f) => {
      const holder = startHolder()
      const sentinel = holdLock(f, holder)
      // Killed and reaped (a zombie would still answer kill(pid, 0)).
      const exited = new Promise((resolve) => holder.once("exit", resolve))
      holder.kill("SIGKILL")
      await exited
      const npm = fakeNpm(f, "echo 'npm error code E404' >&2\nexit 1")
      const r = await runAgentrun({ args: ["--json", "say hi"], env: f.env({ PATH: pathWithoutClaude([npm.dir]) }), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(3)
      expect(parseJsonOutput(r.stdout).outcome.evidence.bootstrap).toMatchObject({ outcome: "BuildFailed", errorKind: "npm_not_found" })
      expect(npm.calls()).toHaveLength(1)
      expect(r.durationMs).toBeLessThan(10_000)
      expect(existsSync(sentinel)).toBe(false) // released after the build
    })
  }, TEST_TIMEOUT)

  // While `run` waits for the build lock (up to 2 minutes), Ctrl-C and `--timeout` still apply.
  it("Ctrl-C (SIGINT to agentrun) while run waits for the lock → Cancelled, exit 130, promptly", async () => {
    await withFixture(scenarios.success, async (f) => {
      const holder = startHolder()
      holdLock(f, holder)
      const run = startAgentrun({ args: ["--json", "say hi"], env: f.env({ PATH: pathWithoutClaude() }), cwd: f.sandbox.work, killAfterMs: 15_000 })
      try {
        const runId = await waitFor("the run record", () => runIds(f.sandbox)[0])
        await waitFor("the bootstrap to find the lock held", () => telemetry(f).some((t) => t["outcome"] === "SkipSentinel"))
        run.child.kill("SIGINT")
        const r = await run.done
        expect(r.killedByHarness, "agentrun ignored SIGINT while waiting for the build lock").toBe(false)
        expect(r.code, r.stderr).toBe(130)
        expect(parseJsonOutput(r.stdout).outcome).toMatchObject({ _tag: "Cancelled", evidence: { signal: "SIGINT" } })
        expect(readRecord(f.sandbox, runId).status).toBe("failed")
        expect(f.api.messageRequests()).toEqual([])
      } finally {
        killIfRunning(run)
        holder.kill("SIGKILL")
      }
    })
  }, TEST_TIMEOUT)

  it("--timeout 3 bounds the wait for the lock → DeadlineExceeded, exit 4, within a few seconds", async () => {
    await withFixture(scenarios.success, async (f) => {
      const holder = startHolder()
      holdLock(f, holder)
      const run = startAgentrun({ args: ["--json", "--timeout", "3", "say hi"], env: f.env({ PATH: pathWithoutClaude() }), cwd: f.sandbox.work, killAfterMs: 15_000 })
      try {
        const r = await run.done
        expect(r.killedByHarness, "--timeout 3 did not stop a run waiting for the build lock").toBe(false)
        expect(r.code, r.stderr).toBe(4)
        expect(parseJsonOutput(r.stdout).outcome).toMatchObject({ _tag: "DeadlineExceeded", evidence: { deadline: { timeoutMs: 3000 } } })
        expect(r.durationMs).toBeLessThan(10_000)
      } finally {
        killIfRunning(run)
        holder.kill("SIGKILL")
      }
    })
  }, TEST_TIMEOUT)
})
