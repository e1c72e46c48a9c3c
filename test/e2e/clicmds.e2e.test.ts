/**
 * End to end, the commands issue 15 expected by analogy with docker / kubectl / gh: `rm`,
 * `rerun`, `run --retries N`, `run -d`, and `list`'s columns, filters and `cancelled` status.
 * The real `agentrun` CLI (subprocesses), the real `claude`, the fake Messages API.
 */
import { spawn } from "node:child_process"
import { mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { Scenario } from "../support/fake-anthropic/FakeMessagesApi.ts"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import {
  agentrunBin,
  type Fixture,
  filesLeakingSecrets,
  killIfRunning,
  nodeBinary,
  parseJsonOutput,
  readRecord,
  runAgentrun,
  runCli,
  runIds,
  secretApiKey,
  startAgentrun,
  stillRunning,
  waitFor,
  waitForAgent,
  withFixture
} from "./support/harness.ts"

const TEST_TIMEOUT = 60_000

/** `agentrun ARGV...` in the fixture's sandbox. */
const cli = (f: Fixture, argv: ReadonlyArray<string>, extraEnv: Record<string, string> = {}, stdin: string | null = null) =>
  runCli({ argv, env: f.env(extraEnv), cwd: f.sandbox.work, killAfterMs: 40_000, stdin })

/** A stored record's instants (ISO 8601). */
const timesOf = (f: Fixture, runId: string): { readonly createdAt: string; readonly endedAt: string } =>
  JSON.parse(readFileSync(join(f.sandbox.runsDir, runId, "record.json"), "utf8"))

/** The messages of every /v1/messages request the fake received, as JSON text. */
const promptsSeen = (f: Fixture): ReadonlyArray<string> =>
  f.api.messageRequests().map((r) => JSON.stringify((r.body as { messages?: unknown })?.messages ?? null))

/** What `agentrun list` shows on a pseudo-terminal (util-linux `script`) `columns` wide. */
const listOnTerminal = (f: Fixture, columns: number) =>
  new Promise<string>((resolve, reject) => {
    const command = `stty cols ${columns}; '${nodeBinary}' '${agentrunBin}' list`
    const child = spawn("script", ["-qec", command, "/dev/null"], { cwd: f.sandbox.work, env: { ...f.env(), TERM: "xterm" }, stdio: ["ignore", "pipe", "pipe"] })
    let screen = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (screen += d))
    child.on("error", reject)
    child.on("close", () => resolve(screen))
  })

describe.concurrent("agentrun rm", () => {
  it("removes finished runs by tail and `last`; refuses a live run (naming cancel) and an unknown id, exit 2, the others still go; a damaged record goes", async () => {
    await withFixture(scenarios.toolSleep, async (f) => {
      const done = await cli(f, ["run", "--json", "--claude-path", "/bin/true", "quick"])
      const done2 = await cli(f, ["run", "--json", "--claude-path", "/bin/true", "quick again"])
      const [first, second] = [done, done2].map((r) => parseJsonOutput(r.stdout).runId)
      const live = startAgentrun({ args: ["--json", "sleep"], claudeArgs: ["--allowedTools", "Bash"], env: f.env(), cwd: f.sandbox.work })
      try {
        const agent = await waitForAgent(f.sandbox, [first!, second!])
        // A damaged record: a folder whose record.json does not decode.
        const damagedId = "20200101-000000-000-dddddd"
        mkdirSync(join(f.sandbox.runsDir, damagedId), { recursive: true })
        writeFileSync(join(f.sandbox.runsDir, damagedId, "record.json"), "{\"schemaVersion\":2,\"runId\":")

        const r = await cli(f, ["rm", first!.slice(-6), agent.runId, "no-such-run", damagedId])
        expect(r.code, r.stderr).toBe(2)
        expect(r.stdout.trim().split("\n")).toEqual([first, damagedId])
        expect(r.stderr).toContain(`agentrun: Run ${agent.runId} is running: \`agentrun cancel ${agent.runId}\` stops it`)
        expect(r.stderr).toContain(`No run "no-such-run"`)
        expect(runIds(f.sandbox)).toEqual([second, agent.runId].sort())
        expect(stillRunning(agent.pid, agent.startTicks)).toBe(true)

        // `last` is the newest run: the live one, refused; by its full id the finished one goes, exit 0.
        expect((await cli(f, ["rm", "last"])).code).toBe(2)
        const ok = await cli(f, ["rm", second!])
        expect(ok.code, ok.stderr).toBe(0)
        expect(ok.stdout.trim()).toBe(second)
        expect(runIds(f.sandbox)).toEqual([agent.runId])
        expect((await cli(f, ["rm"])).code).toBe(2)
        const c = await cli(f, ["cancel", agent.runId], { AGENTRUN_INTERRUPT_GRACE: "1s" })
        expect(c.code, c.stderr).toBe(0)
        await live.done
        // Cancelled, it is finished: removable.
        expect((await cli(f, ["rm", "last"])).stdout.trim()).toBe(agent.runId)
        expect(runIds(f.sandbox)).toEqual([])
      } finally {
        killIfRunning(live)
      }
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("agentrun rerun", () => {
  it("runs the stored prompt again with the same cwd and flags (plus flags after --), a new run through run's code path", async () => {
    // The tool call and its answer, once per run.
    const twice: Scenario = { name: "toolUseTwice", replies: [...scenarios.toolUse.replies, ...scenarios.toolUse.replies] }
    await withFixture(twice, async (f) => {
      const project = f.sandbox.dir("project")
      const first = await runAgentrun({
        args: ["--json", "--cwd", "project", "--max-turns", "4", "--timeout", "50s", "create the file"],
        claudeArgs: ["--allowedTools", "Bash"],
        env: f.env(),
        cwd: f.sandbox.root
      })
      expect(first.code, first.stderr).toBe(0)
      const j1 = parseJsonOutput(first.stdout)
      const request = join(f.sandbox.runsDir, j1.runId, "request.json")
      expect(statSync(request).mode & 0o777).toBe(0o600)
      unlinkSync(join(project, "fake-tool-output.txt"))

      // From another directory: the stored cwd counts, not this one.
      const again = await runCli({ argv: ["rerun", "--json", j1.runId.slice(-6), "--", "--append-system-prompt", "be brief"], env: f.env(), cwd: f.sandbox.work })
      expect(again.code, again.stderr).toBe(0)
      const j2 = parseJsonOutput(again.stdout)
      expect(j2.runId).not.toBe(j1.runId)
      expect(j2.outcome._tag).toBe("Succeeded")
      expect(readFileSync(join(project, "fake-tool-output.txt"), "utf8")).toBe("created-by-fake\n")
      const [r1, r2] = [readRecord(f.sandbox, j1.runId), readRecord(f.sandbox, j2.runId)]
      expect(r2.agent.cwd).toBe(project)
      expect(r2.agent.timeoutMs).toBe(50_000)
      expect(r2.agent.command.slice(1)).toEqual([...r1.agent.command.slice(1), "--append-system-prompt", "be brief"])
      expect(r2.agent.command).toContain("--max-turns")
      expect(r2.promptPreview).toBe("create the file")
      const prompts = promptsSeen(f)
      expect(prompts.filter((p) => p.includes("create the file")).length).toBeGreaterThanOrEqual(2)

      // Without a stored request (a run from before): said so, exit 2, nothing run.
      unlinkSync(request)
      const before = runIds(f.sandbox).length
      const none = await cli(f, ["rerun", j1.runId])
      expect(none.code).toBe(2)
      expect(none.stderr).toContain(`Run ${j1.runId} has no stored request`)
      expect(runIds(f.sandbox)).toHaveLength(before)
    })
  }, TEST_TIMEOUT)

  it("a prompt that held a secret is stored redacted and not rerun", async () => {
    await withFixture(scenarios.success, async (f) => {
      const r = await cli(f, ["run", "--json", `my key is ${secretApiKey}`])
      expect(r.code, r.stderr).toBe(0)
      const { runId } = parseJsonOutput(r.stdout)
      const stored = JSON.parse(readFileSync(join(f.sandbox.runsDir, runId, "request.json"), "utf8"))
      expect(stored).toMatchObject({ redacted: true, request: { prompt: "my key is [REDACTED]" } })
      expect(filesLeakingSecrets(f.sandbox)).toEqual([])
      const again = await cli(f, ["rerun", "last"])
      expect(again.code).toBe(2)
      expect(again.stderr).toContain("held a secret")
      expect(runIds(f.sandbox)).toEqual([runId])
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("agentrun run --retries N", () => {
  it("a retryable verdict is retried as a new run after its wait; --json prints the last run's object with attempts", async () => {
    await withFixture(scenarios.overloadedThenSuccess, async (f) => {
      const r = await cli(f, ["run", "--json", "--retries", "2", "answer"], { CLAUDE_CODE_MAX_RETRIES: "0" })
      expect(r.code, r.stderr).toBe(0)
      const json = parseJsonOutput(r.stdout) as ReturnType<typeof parseJsonOutput> & { attempts: Array<string> }
      expect(json.outcome._tag).toBe("Succeeded")
      expect(json.result).toBe("Recovered after overload.")
      const ids = runIds(f.sandbox)
      expect(ids).toHaveLength(2)
      expect(json.attempts).toEqual(ids)
      expect(json.runId).toBe(ids[1])
      expect(readRecord(f.sandbox, ids[0]!).outcome).toMatchObject({ _tag: "UpstreamUnavailable", retryable: true })
      expect(r.stderr).toMatch(/^agentrun: retry 1\/2 after 5\.0s: UpstreamUnavailable$/m)
      // The second attempt started after the 5 s wait.
      const ended = Date.parse(timesOf(f, ids[0]!).endedAt)
      expect(Date.parse(timesOf(f, ids[1]!).createdAt) - ended).toBeGreaterThanOrEqual(4_900)
    })
  }, TEST_TIMEOUT)

  it("honours UpstreamUnavailable's retryNotBefore; the exit code is the last attempt's", async () => {
    await withFixture(scenarios.rateLimitedTwiceThenSuccess, async (f) => {
      const r = await runCli({ argv: ["run", "--retries", "1", "answer"], env: f.env({ CLAUDE_CODE_MAX_RETRIES: "1" }), cwd: f.sandbox.work, killAfterMs: 80_000 })
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout.trim()).toBe("Answered after the rate limit.")
      const [id1, id2] = runIds(f.sandbox)
      const failed = readRecord(f.sandbox, id1!)
      const notBefore = (failed.outcome as unknown as { retryNotBefore: string | null }).retryNotBefore
      expect(failed.outcome?._tag).toBe("UpstreamUnavailable")
      expect(notBefore).not.toBeNull()
      expect(Date.parse(timesOf(f, id2!).createdAt)).toBeGreaterThanOrEqual(Date.parse(notBefore!))
      expect(r.stderr).toMatch(/^agentrun: ✗ UpstreamUnavailable .*\n(?:.*\n)*agentrun: retry 1\/1 after \S+: UpstreamUnavailable$/m)
    })
  }, 90_000)

  it("SIGINT while waiting to retry: no further attempt, exit 130", async () => {
    await withFixture(scenarios.overloaded529, async (f) => {
      const run = startAgentrun({ args: ["--retries", "2", "answer"], env: f.env({ CLAUDE_CODE_MAX_RETRIES: "0" }), cwd: f.sandbox.work })
      try {
        await waitFor("the retry notice", () => run.output().stderr.includes("agentrun: retry 1/2 after 5.0s: UpstreamUnavailable") || undefined, 40_000)
        run.child.kill("SIGINT")
        const r = await run.done
        expect(r.code, r.stderr).toBe(130)
        expect(r.stderr).toContain("agentrun: SIGINT while waiting to retry: no further attempt")
        expect(r.durationMs).toBeLessThan(40_000)
        expect(runIds(f.sandbox)).toHaveLength(1)
      } finally {
        killIfRunning(run)
      }
    })
  }, TEST_TIMEOUT)

  it("a verdict that is not retryable is not retried; --retries below 0 is a usage error", async () => {
    await withFixture(scenarios.auth401, async (f) => {
      const r = await cli(f, ["run", "--retries", "3", "answer"], { CLAUDE_CODE_MAX_RETRIES: "0" })
      expect(r.code, r.stderr).toBe(1)
      expect(runIds(f.sandbox)).toHaveLength(1)
      expect(r.stderr).not.toContain("retry 1/")
      expect((await cli(f, ["run", "--retries", "-1", "answer"])).code).toBe(2)
      expect(runIds(f.sandbox)).toHaveLength(1)
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("agentrun run -d", () => {
  it("prints the run id and returns 0 at once; the detached supervisor (its own session) follows the run to its verdict; logs -f and the supervisor log show it", async () => {
    await withFixture(scenarios.slowText, async (f) => {
      // The prompt on stdin: the supervisor gets it from this command, not from a stdin of its own.
      const r = await cli(f, ["run", "-d"], {}, "tell a slow story")
      expect(r.code, r.stderr).toBe(0)
      const runId = r.stdout.trim()
      expect(runIds(f.sandbox)).toEqual([runId])
      expect(r.stderr).toContain(`agentrun logs -f ${runId}`)
      const record = readRecord(f.sandbox, runId)
      expect(record.status).toBe("running") // the reply takes 5 s: the command did not wait for it
      const supervisor = record.placement.supervisorPid
      expect(supervisor).not.toBe(r.pid)
      const stat = readFileSync(`/proc/${supervisor}/stat`, "utf8")
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      expect(Number(fields[3])).toBe(supervisor) // field 6, the session id: its own session
      expect(record.promptPreview).toBe("tell a slow story")

      const logs = await cli(f, ["logs", "-f", runId])
      expect(logs.code, logs.stderr).toBe(0)
      expect(logs.stdout).toMatch(new RegExp(`agentrun: ✓ Succeeded .*\\[run ${runId}\\]`))
      const log = join(f.sandbox.runsDir, runId, "supervisor.log")
      await waitFor("the supervisor's verdict line in its log", () => readFileSync(log, "utf8").includes(`✓ Succeeded`) || undefined)
      expect(statSync(log).mode & 0o777).toBe(0o600)
      expect(readFileSync(log, "utf8")).toContain(`agentrun: run ${runId} started`)
    })
  }, TEST_TIMEOUT)

  it("--json prints the running run's object; cancel stops a detached run (Cancelled); a spawn failure of the detached run is a record", async () => {
    await withFixture(scenarios.hang, async (f) => {
      const r = await cli(f, ["run", "-d", "--json", "wait forever"])
      expect(r.code, r.stderr).toBe(0)
      const json = parseJsonOutput(r.stdout)
      expect(json.status).toBe("running")
      await waitFor("claude's request", () => f.api.messageRequests().length >= 1 || undefined, 30_000)
      const c = await cli(f, ["cancel", json.runId], { AGENTRUN_INTERRUPT_GRACE: "1s" })
      expect(c.code, c.stderr).toBe(0)
      expect(readRecord(f.sandbox, json.runId).outcome?._tag).toBe("Cancelled")

      const missing = await cli(f, ["run", "-d", "--claude-path", join(f.sandbox.root, "no-claude"), `hi, my key is ${secretApiKey}`])
      expect(missing.code, missing.stderr).toBe(0)
      const id = missing.stdout.trim()
      const failed = await waitFor("the detached run's verdict", () => {
        const rec = readRecord(f.sandbox, id)
        return rec.status === "running" ? undefined : rec
      })
      expect(failed.outcome?._tag).toBe("SpawnFailed")
      // The request went to the supervisor over its IPC channel; nothing stored holds the secret.
      expect(failed.promptPreview).toBe("hi, my key is [REDACTED]")
      expect(filesLeakingSecrets(f.sandbox)).toEqual([])
      // A usage error is found before anything detaches: exit 2, nothing stored.
      const before = runIds(f.sandbox).length
      expect((await cli(f, ["run", "-d", "--cwd", "/nonexistent", "hi"])).code).toBe(2)
      expect(runIds(f.sandbox)).toHaveLength(before)
    })
  }, TEST_TIMEOUT)

  it("a detached supervisor killed mid-run leaves an Interrupted record (crash recovery) and cancel stops its agent", async () => {
    await withFixture(scenarios.hang, async (f) => {
      const r = await cli(f, ["run", "-d", "wait forever"])
      expect(r.code, r.stderr).toBe(0)
      const runId = r.stdout.trim()
      const agent = await waitForAgent(f.sandbox)
      await waitFor("claude's request", () => f.api.messageRequests().length >= 1 || undefined, 30_000)
      process.kill(readRecord(f.sandbox, runId).placement.supervisorPid, "SIGKILL")
      let json: any = null
      for (let i = 0; i < 50 && json?.outcome?._tag !== "Interrupted"; i++) {
        json = JSON.parse((await cli(f, ["inspect", "--json", runId])).stdout)
        if (json.outcome?._tag !== "Interrupted") await new Promise((done) => setTimeout(done, 100))
      }
      expect(json).toMatchObject({ status: "interrupted", outcome: { _tag: "Interrupted", evidence: { agentAlive: true } } })
      const c = await cli(f, ["cancel", runId], { AGENTRUN_INTERRUPT_GRACE: "1s" })
      expect(c.code, c.stderr).toBe(0)
      expect(stillRunning(agent.pid, agent.startTicks)).toBe(false)
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("agentrun list", () => {
  it("PROMPT and CWD columns, live turns of a running run, the cancelled status, --verdict and --family filters", async () => {
    await withFixture(scenarios.toolSleep, async (f) => {
      const quick = await cli(f, ["run", "--json", "--claude-path", "/bin/false", "first line\nsecond line"])
      expect(quick.code).toBe(3)
      const quickId = parseJsonOutput(quick.stdout).runId
      const live = startAgentrun({ args: ["--json", "sleep for a while"], claudeArgs: ["--allowedTools", "Bash"], env: f.env(), cwd: f.sandbox.work })
      try {
        const agent = await waitForAgent(f.sandbox, [quickId])
        // The tool call is claude's first turn; its `sleep` keeps the run going.
        await waitFor("the tool call in the transcript", () => readFileSync(join(f.sandbox.runsDir, agent.runId, "events.jsonl"), "utf8").includes("tool_use") || undefined, 30_000)
        const running = JSON.parse((await cli(f, ["list", "--json", "--status", "running"])).stdout)
        expect(running).toHaveLength(1)
        expect(running[0]).toMatchObject({ runId: agent.runId, status: "running", state: "running", numTurns: null, progress: { turns: 1, costUsd: null } })
        const human = (await cli(f, ["list"])).stdout.trimEnd().split("\n")
        expect(human[0]).toMatch(/^RUN\s+STATUS\s+VERDICT\s+AGE\s+DURATION\s+TURNS\s+COST\s+CWD\s+PROMPT$/)
        expect(human[1]).toMatch(new RegExp(`^${agent.runId}\\s+running\\s+-\\s+.* ago\\s+\\S+\\s+1\\s+-\\s+\\S+\\s+sleep for a while$`))
        expect(human[2]).toMatch(new RegExp(`^${quickId}\\s+failed\\s+ExitedNonZero\\s.*\\s+first line$`))

        const c = await cli(f, ["cancel", agent.runId], { AGENTRUN_INTERRUPT_GRACE: "1s" })
        expect(c.code, c.stderr).toBe(0)
        await live.done
      } finally {
        killIfRunning(live)
      }
      const [all, cancelled, failed, byVerdict, byFamily, badFamily, badVerdict] = await Promise.all([
        cli(f, ["list"]),
        cli(f, ["list", "--json", "--status", "cancelled"]),
        cli(f, ["list", "--json", "--status", "failed"]),
        cli(f, ["list", "--json", "--verdict", "ExitedNonZero"]),
        cli(f, ["list", "--json", "--family", "cancelled"]),
        cli(f, ["list", "--family", "oops"]),
        cli(f, ["list", "--verdict", "Oops"])
      ])
      expect(all.stdout.split("\n")[1]).toMatch(/^\S+\s+cancelled\s+Cancelled\s/)
      const [cancelledRun] = JSON.parse(cancelled.stdout)
      expect(cancelledRun).toMatchObject({ status: "failed", state: "cancelled", outcome: { _tag: "Cancelled" } })
      expect(JSON.parse(failed.stdout).map((r: { runId: string }) => r.runId)).toEqual([quickId])
      expect(JSON.parse(byVerdict.stdout).map((r: { runId: string }) => r.runId)).toEqual([quickId])
      expect(JSON.parse(byFamily.stdout).map((r: { runId: string }) => r.runId)).toEqual([cancelledRun.runId])
      expect(badFamily.code).toBe(2)
      expect(badFamily.stderr).toContain("--family must be one of success, agent, process, deadline, hang, cancelled, cluster")
      expect(badVerdict.code).toBe(2)
      expect(badVerdict.stdout).toBe("")
    })
  }, TEST_TIMEOUT)

  it("a long prompt is cut: to 50 characters off a terminal, to what the other columns leave on one", async () => {
    await withFixture(scenarios.success, async (f) => {
      const long = `summarise ${"the repository and everything in it ".repeat(6)}`
      expect((await cli(f, ["run", "--claude-path", "/bin/true", long])).code).toBe(3)
      const plain = (await cli(f, ["list"])).stdout.trimEnd().split("\n")
      expect(plain[1]!.endsWith(`  ${long.slice(0, 49)}…`)).toBe(true)
      // On a 140-column terminal every line fits: the prompt is cut to what the other columns leave.
      const screen = await listOnTerminal(f, 140)
      const lines = screen.split(/\r?\n/).filter((l) => l.trim() !== "")
      expect(lines[0]).toMatch(/^RUN\s+STATUS\s+VERDICT\s.*\sCWD\s+PROMPT$/)
      expect(lines[1]).toMatch(/\ssummarise.*…$/)
      for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(140)
    })
  }, TEST_TIMEOUT)
})
