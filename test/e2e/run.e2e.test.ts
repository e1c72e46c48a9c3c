/**
 * End to end: the real `agentrun run` CLI (a subprocess) drives the real `claude` binary
 * against the fake Messages API, and we check what a user sees (exit code, stdout/stderr,
 * `--json`), what agentrun stored (record.json, events.jsonl, with secrets redacted), and
 * what is left running afterwards (/proc).
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { Scenario } from "../support/fake-anthropic/FakeMessagesApi.ts"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import {
  descendants,
  type Fixture,
  filesLeakingSecrets,
  parseJsonOutput,
  placeholderStub,
  procStat,
  readRecord,
  runAgentrun,
  runCli,
  runIds,
  secretApiKey,
  secretTokenName,
  secretTokenValue,
  startAgentrun,
  stillRunning,
  toolResults,
  ulimitWrapper,
  killIfRunning,
  onlyRun,
  waitFor,
  waitForAgent,
  withFixture
} from "./support/harness.ts"

const TEST_TIMEOUT = 40_000


/** A tool turn that prints the working directory and a secret, and writes a file. */
const toolTurn: Scenario = {
  name: "toolTurn",
  replies: [
    {
      kind: "toolUse",
      text: "I will create the file.",
      command: `pwd && echo "token=$${secretTokenName}" && echo created-by-fake > fake-tool-output.txt`,
      description: "Create a file"
    },
    { kind: "text", text: "I created the file." }
  ]
}

describe.concurrent("agentrun run: success", () => {
  it("plain run: result text on stdout, progress and a verdict line on stderr, the run stored", async () => {
    await withFixture(scenarios.success, async (f) => {
      const r = await runAgentrun({ args: ["say hi"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toBe("Hello from the fake API.\n")
      const { runId, record, events } = onlyRun(f)
      expect(r.stderr).toContain(`agentrun: run ${runId} started (pid ${record.placement.agentPid})`)
      const verdictLines = r.stderr.split("\n").filter((l) => l.includes("agentrun: ✓"))
      expect(verdictLines).toEqual([expect.stringMatching(new RegExp(`^agentrun: ✓ Succeeded \\(success\\): .+ \\[run ${runId}\\]$`))])

      expect(record.status).toBe("succeeded")
      expect(record.outcome?._tag).toBe("Succeeded")
      expect(record.placement.supervisorPid).toBe(r.pid)
      expect(record.agent.command.slice(1, 5)).toEqual(["-p", "--output-format", "stream-json", "--verbose"])
      expect(events[0]).toMatchObject({ type: "system", subtype: "init" })
      expect(events.at(-1)).toMatchObject({ type: "result", subtype: "success", is_error: false, result: "Hello from the fake API." })
      // Every stdout line claude wrote is stored, in order.
      expect((record.outcome?.evidence as { process: { stdoutLines: number } }).process.stdoutLines).toBe(events.length)
      expect(filesLeakingSecrets(f.sandbox)).toEqual([])
    })
  }, TEST_TIMEOUT)

  it("--json: exactly one JSON object on stdout, the same outcome as the record; --model reaches the API", async () => {
    await withFixture(scenarios.success, async (f) => {
      const r = await runAgentrun({ args: ["--json", "--model", "claude-e2e-model", "say hi"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(0)
      const json = parseJsonOutput(r.stdout)
      expect(json).toMatchObject({
        status: "succeeded",
        outcome: { _tag: "Succeeded", family: "success", retryable: false, evidence: { result: "Hello from the fake API.", numTurns: 1 } },
        result: "Hello from the fake API.",
        agentExitCode: 0,
        agentSignal: null
      })
      expect(json.costUsd).toBeGreaterThan(0)
      expect(json.usage?.["output_tokens"]).toBeGreaterThan(0)
      expect(json.durationMs).toBeGreaterThan(0)
      const { runId, record, events } = onlyRun(f)
      expect(json.runId).toBe(runId)
      expect(record.outcome).toEqual(json.outcome)
      expect(json.sessionId).toBe(events[0]?.["session_id"])
      // No progress lines with --json; stderr carries nothing of agentrun's.
      expect(r.stderr).not.toContain("agentrun:")
      const models = f.api.messageRequests().map((q) => (q.body as { model?: string }).model)
      expect(models).toContain("claude-e2e-model")
      expect(filesLeakingSecrets(f.sandbox)).toEqual([])
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("agentrun run: a tool turn, the working directory, and redaction", () => {
  it("the Bash tool really runs in --cwd DIR; tool output and prompt are stored redacted", async () => {
    await withFixture(toolTurn, async (f) => {
      const project = f.sandbox.dir("project")
      const r = await runAgentrun({
        // --cwd relative to where agentrun was started (the sandbox root)
        args: ["--json", "--cwd", "project", `create the file, my key is ${secretApiKey}`],
        claudeArgs: ["--allowedTools", "Bash"],
        env: f.env(),
        cwd: f.sandbox.root
      })
      expect(r.code, r.stderr).toBe(0)
      const json = parseJsonOutput(r.stdout)
      expect(json.outcome).toMatchObject({ _tag: "Succeeded", evidence: { numTurns: 2, result: "I created the file." } })
      expect(readFileSync(join(project, "fake-tool-output.txt"), "utf8")).toBe("created-by-fake\n")
      expect(existsSync(join(f.sandbox.root, "fake-tool-output.txt"))).toBe(false)

      const { record, events } = onlyRun(f)
      expect(record.agent.cwd).toBe(project)
      expect(record.agent.command.slice(-2)).toEqual(["--allowedTools", "Bash"])
      expect(events.find((e) => e["type"] === "system")?.["cwd"]).toBe(project)
      const results = toolResults(events)
      expect(results).toHaveLength(1)
      expect(results[0]!.isError).toBe(false)
      expect(results[0]!.text).toContain(project) // pwd
      expect(results[0]!.text).toContain("token=[REDACTED]")
      expect(record.promptPreview).toBe("create the file, my key is [REDACTED]")

      // The tool really printed the secret (claude sent it back to the API) ...
      expect(JSON.stringify(f.api.messageRequests().at(-1)?.body)).toContain(`token=${secretTokenValue}`)
      // ... but no stored file contains it, nor the API key.
      expect(filesLeakingSecrets(f.sandbox)).toEqual([])
    })
  }, TEST_TIMEOUT)

  it("without --cwd, under `pnpm agentrun`, the agent runs in INIT_CWD (pnpm's invocation dir)", async () => {
    await withFixture(scenarios.toolUse, async (f) => {
      const started = f.sandbox.dir("started-here")
      const invoked = f.sandbox.dir("invoked-from")
      const r = await runAgentrun({
        args: ["--json", "make the file"],
        claudeArgs: ["--allowedTools", "Bash"],
        // What pnpm sets when it runs the root `agentrun` script.
        env: f.env({ INIT_CWD: invoked, npm_lifecycle_event: "agentrun" }),
        cwd: started
      })
      expect(r.code, r.stderr).toBe(0)
      const { record, events } = onlyRun(f)
      expect(record.agent.cwd).toBe(invoked)
      expect(events[0]?.["cwd"]).toBe(invoked)
      expect(existsSync(join(invoked, "fake-tool-output.txt"))).toBe(true)
      expect(existsSync(join(started, "fake-tool-output.txt"))).toBe(false)
    })
  }, TEST_TIMEOUT)

  it("an INIT_CWD inherited from another script does not move the agent", async () => {
    await withFixture(scenarios.toolUse, async (f) => {
      const started = f.sandbox.dir("started-here")
      const elsewhere = f.sandbox.dir("some-project-root")
      const r = await runAgentrun({
        args: ["--json", "make the file"],
        claudeArgs: ["--allowedTools", "Bash"],
        env: f.env({ INIT_CWD: elsewhere, npm_lifecycle_event: "test" }),
        cwd: started
      })
      expect(r.code, r.stderr).toBe(0)
      expect(onlyRun(f).record.agent.cwd).toBe(started)
      expect(existsSync(join(elsewhere, "fake-tool-output.txt"))).toBe(false)
    })
  }, TEST_TIMEOUT)

  it("without --cwd and INIT_CWD the agent runs in agentrun's own cwd", async () => {
    await withFixture(scenarios.toolUse, async (f) => {
      const started = f.sandbox.dir("started-here")
      const r = await runAgentrun({
        args: ["--json", "make the file"],
        claudeArgs: ["--allowedTools", "Bash"],
        env: f.env(),
        cwd: started
      })
      expect(r.code, r.stderr).toBe(0)
      const { record, events } = onlyRun(f)
      expect(record.agent.cwd).toBe(started)
      expect(events[0]?.["cwd"]).toBe(started)
      expect(existsSync(join(started, "fake-tool-output.txt"))).toBe(true)
    })
  }, TEST_TIMEOUT)

  it("flags after -- reach claude: without --allowedTools Bash claude denies the tool", async () => {
    await withFixture(scenarios.toolUse, async (f) => {
      const r = await runAgentrun({ args: ["--json", "make the file"], env: f.env(), cwd: f.sandbox.work })
      // The fake's second reply is a text answer, so the run itself succeeds.
      expect(r.code, r.stderr).toBe(0)
      expect(existsSync(join(f.sandbox.work, "fake-tool-output.txt"))).toBe(false)
      const { record, events } = onlyRun(f)
      expect(record.agent.command).not.toContain("--allowedTools")
      const results = toolResults(events)
      expect(results).toHaveLength(1)
      expect(results[0]!.isError).toBe(true)
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("agentrun run: the agent reports a failure (exit 1)", () => {
  it("--max-turns 1 with a tool loop → MaxTurnsReached", async () => {
    await withFixture(scenarios.toolLoop, async (f) => {
      const r = await runAgentrun({
        args: ["--json", "--max-turns", "1", "loop"],
        claudeArgs: ["--allowedTools", "Bash"],
        env: f.env(),
        cwd: f.sandbox.work
      })
      expect(r.code, r.stderr).toBe(1)
      const json = parseJsonOutput(r.stdout)
      expect(json).toMatchObject({
        status: "failed",
        agentExitCode: 1,
        outcome: {
          _tag: "MaxTurnsReached",
          family: "agent",
          evidence: { maxTurns: 1, result: { subtype: "error_max_turns", isError: true } }
        }
      })
      const { record } = onlyRun(f)
      expect(record.status).toBe("failed")
      expect(record.outcome).toEqual(json.outcome)
      expect(record.agent.command).toEqual(expect.arrayContaining(["--max-turns", "1"]))
    })
  }, TEST_TIMEOUT)

  it("HTTP 401 from the API → AuthenticationFailed, not retryable", async () => {
    await withFixture(scenarios.auth401, async (f) => {
      const r = await runAgentrun({ args: ["--json", "hi"], env: f.env({ CLAUDE_CODE_MAX_RETRIES: "1" }), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(1)
      const json = parseJsonOutput(r.stdout)
      expect(json.outcome).toMatchObject({ _tag: "AuthenticationFailed", family: "agent", retryable: false })
      expect(json.outcome.evidence.apiErrorStatus).toBe(401)
      const { record } = onlyRun(f)
      expect(record.status).toBe("failed")
      expect(record.outcome?._tag).toBe("AuthenticationFailed")
      expect(filesLeakingSecrets(f.sandbox)).toEqual([])
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("agentrun run: the agent process dies (exit 3)", () => {
  it("ulimit -v 200000 on the agent → KilledBySignal SIGSEGV, address-space limit", async () => {
    await withFixture(scenarios.success, async (f) => {
      const wrapper = ulimitWrapper(f.sandbox, 200_000)
      const r = await runAgentrun({ args: ["--json", "--claude-path", wrapper, "hi"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(3)
      const json = parseJsonOutput(r.stdout)
      expect(json).toMatchObject({
        status: "failed",
        agentExitCode: null,
        agentSignal: { name: "SIGSEGV", number: 11, via: "wait" },
        outcome: {
          _tag: "KilledBySignal",
          family: "process",
          evidence: { signal: { name: "SIGSEGV", number: 11 }, likelyCause: "address-space-limit", process: { stdoutLines: 0, stderrTail: [] } }
        }
      })
      const { record } = onlyRun(f)
      expect(record.status).toBe("failed")
      expect(record.outcome).toEqual(json.outcome)
      // The limit was on the agent only: agentrun itself ran to the verdict.
      expect(record.agent.command[0]).toBe(wrapper)
    })
  }, TEST_TIMEOUT)

  it("ulimit -v 500000 on the agent → KilledBySignal SIGABRT, runtime abort with the crash text", async () => {
    await withFixture(scenarios.success, async (f) => {
      const wrapper = ulimitWrapper(f.sandbox, 500_000)
      const r = await runAgentrun({ args: ["--json", "--claude-path", wrapper, "hi"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(3)
      const json = parseJsonOutput(r.stdout)
      expect(json.outcome).toMatchObject({
        _tag: "KilledBySignal",
        family: "process",
        evidence: { signal: { name: "SIGABRT", number: 6 }, likelyCause: "runtime-abort" }
      })
      // Bun writes its crash report to stderr before aborting (always, when run directly). agentrun
      // loses it when claude dies before agentrun starts reading the pipes (see the "exits within
      // milliseconds" test below); then crashText is null and this fails, more often under load.
      expect(json.outcome.evidence.crashText).toEqual(expect.any(String))
      expect(json.outcome.evidence.crashText.length).toBeGreaterThan(0)
      expect(onlyRun(f).record.outcome?._tag).toBe("KilledBySignal")
    })
  }, TEST_TIMEOUT)

  it("--claude-path that does not exist → SpawnFailed not-found", async () => {
    await withFixture(scenarios.success, async (f) => {
      const r = await runAgentrun({ args: ["--json", "--claude-path", "/nonexistent/claude", "hi"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(3)
      const json = parseJsonOutput(r.stdout)
      expect(json.outcome).toMatchObject({
        _tag: "SpawnFailed",
        family: "process",
        evidence: { path: "/nonexistent/claude", reason: "not-found", errno: "ENOENT" }
      })
      const { record } = onlyRun(f)
      expect(record).toMatchObject({ status: "failed", placement: { agentPid: null }, outcome: { _tag: "SpawnFailed" } })
      expect(f.api.requests).toHaveLength(0)
    })
  }, TEST_TIMEOUT)

  it("an agent that writes and exits within milliseconds: its stdout and stderr are not lost", async () => {
    // Stand-in agents that exit at once without reading their stdin: one writes a valid `result`
    // line and a stderr line (→ Succeeded), one writes a fatal line on stderr and exits 1
    // (→ ExitedNonZero naming that line). Each is run twice: whether output survives is a race.
    await withFixture(scenarios.success, async (f) => {
      const answering = f.sandbox.file(
        "fast-answer",
        `#!/bin/sh\necho '{"type":"result","subtype":"success","is_error":false,"result":"fast answer","num_turns":1,"session_id":"s-fast","total_cost_usd":0.001,"duration_ms":5}'\necho 'fast agent: a line on stderr' >&2\nexit 0\n`
      )
      const crashing = f.sandbox.file("fast-crash", `#!/bin/sh\necho 'fatal: cannot read the settings file' >&2\nexit 1\n`)
      const seen: Array<string> = []
      for (const agent of [answering, answering, crashing, crashing]) {
        const r = await runAgentrun({ args: ["--json", "--claude-path", agent, "hi"], env: f.env(), cwd: f.sandbox.work })
        const o = parseJsonOutput(r.stdout).outcome
        seen.push(`${o._tag} stdoutLines=${o.evidence.process?.stdoutLines} stderrTail=${JSON.stringify(o.evidence.process?.stderrTail)}`)
      }
      expect(seen).toEqual([
        'Succeeded stdoutLines=1 stderrTail=["fast agent: a line on stderr"]',
        'Succeeded stdoutLines=1 stderrTail=["fast agent: a line on stderr"]',
        'ExitedNonZero stdoutLines=0 stderrTail=["fatal: cannot read the settings file"]',
        'ExitedNonZero stdoutLines=0 stderrTail=["fatal: cannot read the settings file"]'
      ])
    })
  }, TEST_TIMEOUT)

  it("a name not on PATH → SpawnFailed not-found", async () => {
    await withFixture(scenarios.success, async (f) => {
      const r = await runAgentrun({ args: ["--json", "--claude-path", "no-such-claude-e2e", "hi"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(3)
      expect(parseJsonOutput(r.stdout).outcome).toMatchObject({ _tag: "SpawnFailed", evidence: { reason: "not-found" } })
    })
  }, TEST_TIMEOUT)

  it("a file without execute permission → SpawnFailed not-executable", async () => {
    await withFixture(scenarios.success, async (f) => {
      const path = f.sandbox.file("noexec/claude", "#!/bin/sh\necho hi\n", 0o644)
      const r = await runAgentrun({ args: ["--json", "--claude-path", path, "hi"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(3)
      expect(parseJsonOutput(r.stdout).outcome).toMatchObject({ _tag: "SpawnFailed", evidence: { path, reason: "not-executable" } })
    })
  }, TEST_TIMEOUT)

  it("claude-code's npm placeholder stub → SpawnFailed placeholder-stub", async () => {
    await withFixture(scenarios.success, async (f) => {
      const stub = placeholderStub(f.sandbox)
      const r = await runAgentrun({ args: ["--json", "--claude-path", stub, "hi"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(3)
      expect(parseJsonOutput(r.stdout).outcome).toMatchObject({
        _tag: "SpawnFailed",
        retryable: false,
        evidence: { reason: "placeholder-stub" }
      })
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("agentrun run: deadline and cancellation", () => {
  it("--timeout 5 on a request that never ends → DeadlineExceeded (exit 4), claude answers SIGINT and is gone", async () => {
    await withFixture(scenarios.hang, async (f) => {
      const r = await runAgentrun({ args: ["--json", "--timeout", "5", "wait"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(4)
      const json = parseJsonOutput(r.stdout)
      expect(json.outcome).toMatchObject({ _tag: "DeadlineExceeded", family: "deadline", evidence: { deadline: { timeoutMs: 5000 } } })
      const steps = json.outcome.evidence.deadline.stop.steps as Array<Record<string, unknown>>
      expect(steps[0]).toMatchObject({ signal: "SIGINT", target: "pid", answered: true })
      expect(steps).toHaveLength(1)
      expect(f.api.messageRequests().length).toBeGreaterThanOrEqual(1)
      const { record } = onlyRun(f)
      expect(record).toMatchObject({ status: "failed", agent: { timeoutMs: 5000 }, outcome: { _tag: "DeadlineExceeded" } })
      expect(record.placement.agentPid).toEqual(expect.any(Number))
      expect(stillRunning(record.placement.agentPid!, record.placement.agentStartTicks)).toBe(false)
      expect(r.durationMs).toBeLessThan(15_000)
    })
  }, TEST_TIMEOUT)

  /** Starts a run, waits until claude is busy (`ready`), sends `signal` to agentrun, and checks the cancellation. */
  const cancelCase = (scenario: Scenario, signal: "SIGINT" | "SIGTERM" | "SIGHUP", claudeArgs: ReadonlyArray<string>, toolRunning: boolean) =>
    withFixture(scenario, async (f) => {
      const run = startAgentrun({ args: ["--json", "do it"], claudeArgs, env: f.env(), cwd: f.sandbox.work })
      try {
        await waitFor("the fake to receive the request", () => f.api.messageRequests().length >= 1)
        const { runId, ...agent } = await waitForAgent(f.sandbox)
        const tools = toolRunning
          ? await waitFor("the tool's sleep to start", () => {
            const ds = descendants(agent.pid)
            return ds.some((d) => d.comm === "sleep") ? ds : undefined
          })
          : []
        run.child.kill(signal)
        const r = await run.done
        expect(r.signal).toBeNull()
        expect(r.code, r.stderr).toBe({ SIGINT: 130, SIGTERM: 143, SIGHUP: 129 }[signal])
        const json = parseJsonOutput(r.stdout)
        expect(json.outcome).toMatchObject({ _tag: "Cancelled", family: "cancelled", evidence: { signal, by: "signal" } })
        expect(json.outcome.evidence.stop.steps[0]).toMatchObject({ signal: "SIGINT", target: "pid" })
        const record = readRecord(f.sandbox, runId)
        expect(record.status).toBe("failed")
        expect(record.outcome).toEqual(json.outcome)
        // No orphan keeps spending: claude and everything it started are gone.
        expect(stillRunning(agent.pid, agent.startTicks)).toBe(false)
        const left = tools.filter((t) => stillRunning(t.pid, t.startTicks)).map((t) => `${t.pid} ${t.comm} ${procStat(t.pid)?.state}`)
        expect(left).toEqual([])
        return { json, tools }
      } finally {
        killIfRunning(run)
      }
    })

  it("Ctrl-C (SIGINT) while claude waits for the API → Cancelled, exit 130, no orphan", async () => {
    await cancelCase(scenarios.hang, "SIGINT", [], false)
  }, TEST_TIMEOUT)

  it("SIGTERM while claude waits for the API → Cancelled, exit 143, no orphan", async () => {
    await cancelCase(scenarios.hang, "SIGTERM", [], false)
  }, TEST_TIMEOUT)

  it("Ctrl-C while a Bash tool runs `sleep` → Cancelled, exit 130, claude and the sleep grandchild gone", async () => {
    const { tools } = await cancelCase(scenarios.toolSleep, "SIGINT", ["--allowedTools", "Bash"], true)
    expect(tools.map((t) => t.comm)).toContain("sleep")
  }, TEST_TIMEOUT)

  it("SIGTERM while a Bash tool runs `sleep` → Cancelled, exit 143, claude and the sleep grandchild gone", async () => {
    const { tools } = await cancelCase(scenarios.toolSleep, "SIGTERM", ["--allowedTools", "Bash"], true)
    expect(tools.map((t) => t.comm)).toContain("sleep")
  }, TEST_TIMEOUT)

  it("SIGHUP (the terminal closed) while a Bash tool runs `sleep` → Cancelled, exit 129, claude and the sleep grandchild gone", async () => {
    const { tools } = await cancelCase(scenarios.toolSleep, "SIGHUP", ["--allowedTools", "Bash"], true)
    expect(tools.map((t) => t.comm)).toContain("sleep")
  }, TEST_TIMEOUT)

  it("stderr's reader gone (EPIPE on the progress lines): the run is still supervised to its deadline (exit 4), no orphan", async () => {
    await withFixture(scenarios.toolSleep, async (f) => {
      const run = startAgentrun({ args: ["--timeout", "4", "do it"], claudeArgs: ["--allowedTools", "Bash"], env: f.env(), cwd: f.sandbox.work })
      try {
        run.child.stderr.destroy()
        const { runId, ...agent } = await waitForAgent(f.sandbox)
        const tools = await waitFor("the tool's sleep to start", () => {
          const ds = descendants(agent.pid)
          return ds.some((d) => d.comm === "sleep") ? ds : undefined
        })
        const r = await run.done
        expect(r.signal).toBeNull()
        expect(r.code).toBe(4)
        expect(readRecord(f.sandbox, runId)).toMatchObject({ status: "failed", outcome: { _tag: "DeadlineExceeded" } })
        expect(stillRunning(agent.pid, agent.startTicks)).toBe(false)
        expect(tools.filter((t) => stillRunning(t.pid, t.startTicks)).map((t) => t.comm)).toEqual([])
      } finally {
        killIfRunning(run)
      }
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("agentrun run: the prompt and usage errors", () => {
  const promptOf = (f: Fixture) => JSON.stringify(f.api.messageRequests()[0]?.body ?? null)

  it("--json keeps stdout to the one JSON object: logs go to stderr; a store that cannot be written is one line on stderr, exit 3", async () => {
    await withFixture(scenarios.success, async (f) => {
      const debug = await runCli({ argv: ["--log-level", "debug", "run", "--json", "hi"], env: f.env(), cwd: f.sandbox.work, killAfterMs: 30_000 })
      expect(debug.code, debug.stderr).toBe(0)
      expect(parseJsonOutput(debug.stdout).outcome._tag).toBe("Succeeded")
      expect(debug.stderr).toMatch(/DEBUG/)

      const blocked = f.sandbox.file("blocked-state/agentrun/runs", "a file where the runs directory goes\n")
      const broken = await runCli({ argv: ["run", "--json", "hi"], env: f.env({ XDG_STATE_HOME: blocked.replace(/\/agentrun\/runs$/, "") }), cwd: f.sandbox.work, killAfterMs: 30_000 })
      expect(broken.code).toBe(3)
      expect(broken.stdout).toBe("")
      expect(broken.stderr).toMatch(/^agentrun: RunStoreError: .+\n$/)
      expect(broken.stderr).not.toMatch(/internal error|at .+agentrun\.cjs/)
    })
  }, TEST_TIMEOUT)

  it("no prompt argument: the prompt is read from stdin", async () => {
    await withFixture(scenarios.success, async (f) => {
      const r = await runAgentrun({ args: ["--json"], stdin: "prompt-from-stdin-no-arg\n", env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(0)
      expect(promptOf(f)).toContain("prompt-from-stdin-no-arg")
      expect(onlyRun(f).record.promptPreview).toContain("prompt-from-stdin-no-arg")
    })
  }, TEST_TIMEOUT)

  it("prompt `-`: read from stdin", async () => {
    await withFixture(scenarios.success, async (f) => {
      const r = await runAgentrun({ args: ["--json", "-"], stdin: "prompt-from-stdin-dash", env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(0)
      expect(promptOf(f)).toContain("prompt-from-stdin-dash")
    })
  }, TEST_TIMEOUT)

  it("empty or blank prompt → exit 2, nothing run or stored", async () => {
    await withFixture(scenarios.success, async (f) => {
      const cases = [
        { args: ["--json"], stdin: "" },
        { args: ["--json", "-"], stdin: "  \n" },
        { args: ["--json", "   "], stdin: null }
      ]
      for (const c of cases) {
        const r = await runAgentrun({ args: c.args, stdin: c.stdin, env: f.env(), cwd: f.sandbox.work })
        expect(r.code, JSON.stringify(c)).toBe(2)
        expect(r.stdout).toBe("")
        expect(r.stderr).toContain("no prompt")
      }
      expect(runIds(f.sandbox)).toEqual([])
      expect(f.api.requests).toHaveLength(0)
    })
  }, TEST_TIMEOUT)

  it("usage errors → exit 2: --timeout 0, an unknown flag", async () => {
    await withFixture(scenarios.success, async (f) => {
      for (const args of [["--timeout", "0", "hi"], ["--no-such-flag", "hi"]]) {
        const r = await runAgentrun({ args, env: f.env(), cwd: f.sandbox.work })
        expect(r.code, `${args.join(" ")}\n${r.stderr}`).toBe(2)
      }
      expect(runIds(f.sandbox)).toEqual([])
    })
  }, TEST_TIMEOUT)
})
