/**
 * End to end, one verdict class per test, each on real input: the real `agentrun run --json` CLI
 * (a subprocess) drives the real `claude` binary against the fake Messages API, or a real stand-in
 * process where the class is about the process (what it printed, how it exited). Each test checks
 * the exit code, the outcome's `_tag`, and the evidence that makes the verdict believable.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import {
  claudeExe,
  type Fixture,
  killIfRunning,
  parseJsonOutput,
  procCmdline,
  procStat,
  readEvents,
  readRecord,
  repoRoot,
  runAgentrun,
  sleepDescendants,
  startAgentrun,
  stillRunning,
  waitFor,
  waitForAgent,
  onlyRun,
  withFixture
} from "./support/harness.ts"

const TEST_TIMEOUT = 40_000


/**
 * A realistic `system/init` line: the first line of a real claude 2.1.330 transcript, with its
 * paths (cwd, memory dir, messaging socket) moved into the sandbox.
 */
const realInitLine = (f: Fixture): { readonly line: string; readonly sessionId: string } => {
  const first = readFileSync(join(repoRoot, "test/fixtures/transcripts/success.stdout.jsonl"), "utf8").split("\n")[0]!
  const init = JSON.parse(first) as Record<string, any>
  expect(init).toMatchObject({ type: "system", subtype: "init" })
  const work = f.sandbox.work
  const moved = {
    ...init,
    cwd: work,
    original_cwd: work,
    memory_paths: { auto: join(f.sandbox.home, ".claude/projects", work.replaceAll("/", "-"), "memory") + "/" },
    messaging_socket_path: join(f.sandbox.root, "cc-socks", "1234.sock")
  }
  const line = JSON.stringify(moved)
  expect(line).not.toContain("/tmp/agentrun-claude-")
  return { line, sessionId: String(init["session_id"]) }
}

/** A stand-in agent (sh script) that prints `stdoutFile` verbatim, then exits with `code`. */
const standIn = (f: Fixture, name: string, stdoutText: string, code: number): string => {
  const out = join(f.sandbox.root, `${name}.stdout`)
  writeFileSync(out, stdoutText)
  return f.sandbox.file(`agents/${name}`, `#!/bin/sh\ncat '${out}'\nexit ${code}\n`)
}

describe.concurrent("verdict classes on real input: the Messages API misbehaves (real claude, exit 1)", () => {
  it("empty model reply (no content, stop_reason null) → EmptyModelResponse, with claude's ede diagnostic", async () => {
    await withFixture(scenarios.emptyNullStop, async (f) => {
      const r = await runAgentrun({ args: ["--json", "answer"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(1)
      const json = parseJsonOutput(r.stdout)
      expect(json).toMatchObject({
        status: "failed",
        agentExitCode: 1,
        outcome: {
          _tag: "EmptyModelResponse",
          family: "agent",
          retryable: true,
          evidence: { result: { subtype: "error_during_execution", isError: true } }
        }
      })
      expect(json.outcome.evidence.diagnostic).toEqual(expect.stringContaining("[ede_diagnostic]"))
      expect(json.outcome.evidence.diagnostic).toContain("last_content_type=none")
      expect(onlyRun(f).record.outcome).toEqual(json.outcome)
    })
  }, TEST_TIMEOUT)

  it("connection cut mid-response → UpstreamUnavailable, retryable, naming the lost connection", async () => {
    await withFixture(scenarios.cutMidStream, async (f) => {
      const r = await runAgentrun({ args: ["--json", "answer"], env: f.env({ CLAUDE_CODE_MAX_RETRIES: "1" }), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(1)
      const json = parseJsonOutput(r.stdout)
      expect(json).toMatchObject({
        status: "failed",
        outcome: { _tag: "UpstreamUnavailable", family: "agent", retryable: true, evidence: { result: { isError: true } } }
      })
      // What claude said about it: the connection was lost (ECONNRESET).
      expect(json.outcome.evidence.detail).toMatch(/connection|ECONNRESET/i)
      // claude retried once (CLAUDE_CODE_MAX_RETRIES=1), and the fake saw the streams it cut.
      expect(json.outcome.evidence.retryCount).toBeGreaterThanOrEqual(1)
      expect(f.api.messageRequests().filter((q) => q.replyKind === "cutMidStream").length).toBeGreaterThanOrEqual(2)
      expect(onlyRun(f).record.outcome).toEqual(json.outcome)
    })
  }, TEST_TIMEOUT)

  it("HTTP 401 with claude's default retries, cut by --timeout 5 → AuthenticationFailed (not DeadlineExceeded), deadline in evidence", async () => {
    await withFixture(scenarios.auth401, async (f) => {
      // No CLAUDE_CODE_MAX_RETRIES: claude would retry the 401 for minutes; our 5 s deadline ends it.
      const r = await runAgentrun({ args: ["--json", "--timeout", "5", "answer"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(1)
      const json = parseJsonOutput(r.stdout)
      expect(json).toMatchObject({
        status: "failed",
        outcome: {
          _tag: "AuthenticationFailed",
          family: "agent",
          retryable: false,
          evidence: { source: "api-retry", apiErrorStatus: 401, deadline: { timeoutMs: 5000 } }
        }
      })
      expect(json.outcome.evidence.retryCount).toBeGreaterThanOrEqual(1)
      expect(json.outcome.evidence.retries[0]).toMatchObject({ errorStatus: 401 })
      expect(json.outcome.message).toContain("5s deadline")
      // The deadline's stop sequence ran (SIGINT first).
      expect(json.outcome.evidence.deadline.stop.steps[0]).toMatchObject({ signal: "SIGINT" })
      // It was our deadline that ended it, not claude giving up.
      expect(r.durationMs).toBeLessThan(20_000)
      // claude was retrying (its api_retry event is the evidence above); whether its retry's request
      // went out before the deadline depends on its start-up time (a loaded machine: only the first did).
      expect(f.api.messageRequests().length).toBeGreaterThanOrEqual(1)
      const { record } = onlyRun(f)
      expect(record.outcome).toEqual(json.outcome)
      expect(stillRunning(record.placement.agentPid!, record.placement.agentStartTicks)).toBe(false)
    })
  }, TEST_TIMEOUT)

  it("HTTP 529 overloaded → UpstreamUnavailable, retryable, apiErrorStatus 529", async () => {
    await withFixture(scenarios.overloaded529, async (f) => {
      const r = await runAgentrun({ args: ["--json", "answer"], env: f.env({ CLAUDE_CODE_MAX_RETRIES: "1" }), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(1)
      const json = parseJsonOutput(r.stdout)
      expect(json).toMatchObject({
        status: "failed",
        outcome: { _tag: "UpstreamUnavailable", family: "agent", retryable: true, evidence: { apiErrorStatus: 529 } }
      })
      expect(json.outcome.evidence.retries).toEqual(expect.arrayContaining([expect.objectContaining({ errorStatus: 529 })]))
      expect(json.outcome.message).toContain("529")
      expect(onlyRun(f).record.outcome).toEqual(json.outcome)
    })
  }, TEST_TIMEOUT)
})

describe.concurrent("verdict classes on real input: the agent process (exit 3)", () => {
  it("claude SIGKILLed while a Bash tool runs `sleep` → TruncatedMidStream by signal; no `sleep` left behind", async () => {
    await withFixture(scenarios.toolSleep, async (f) => {
      const run = startAgentrun({ args: ["--json", "wait a long time"], claudeArgs: ["--allowedTools", "Bash"], env: f.env(), cwd: f.sandbox.work })
      const leftovers: Array<{ pid: number; startTicks: number }> = []
      try {
        const agent = await waitForAgent(f.sandbox)
        // The record names claude's native binary itself (not the sh shim), so SIGKILL reaches claude.
        expect(procStat(agent.pid)?.comm).toMatch(/^claude/)
        expect(procCmdline(agent.pid)).toContain("claude.exe")
        // ...and so does the record (`claude` on PATH is pnpm's shim).
        expect(readRecord(f.sandbox, agent.runId).agent.command[0]).toBe(claudeExe)
        const sleeps = await waitFor("the tool's `sleep 1000` below claude", () => {
          const s = sleepDescendants(agent.pid).filter((d) => procCmdline(d.pid) === "sleep 1000")
          return s.length > 0 ? s : undefined
        }, 20_000)
        leftovers.push(...sleeps)
        process.kill(agent.pid, "SIGKILL")
        const r = await run.done
        expect(r.code, r.stderr).toBe(3)
        const json = parseJsonOutput(r.stdout)
        expect(json).toMatchObject({
          status: "failed",
          agentExitCode: null,
          agentSignal: { name: "SIGKILL", number: 9 },
          outcome: {
            _tag: "TruncatedMidStream",
            family: "process",
            evidence: { cause: "signal", process: { signal: { name: "SIGKILL", number: 9 }, exitCode: null } }
          }
        })
        // The tool_use turn was seen before the kill, and the message says so.
        expect(json.outcome.evidence.assistantMessages).toBeGreaterThanOrEqual(1)
        expect(json.outcome.message).toMatch(/assistant message\(s\) and 1 tool use\(s\)\.$/)
        const { record } = onlyRun(f)
        expect(record.outcome).toEqual(json.outcome)
        const events = readEvents(f.sandbox, record.runId)
        expect(events.some((e) => e["type"] === "assistant" && JSON.stringify(e).includes("sleep 1000"))).toBe(true)
        expect(events.some((e) => e["type"] === "result")).toBe(false)
        // agentrun's sweep stopped the orphaned tool: no `sleep` survives claude.
        const alive = leftovers.filter((s) => stillRunning(s.pid, s.startTicks)).map((s) => `${s.pid} ${procStat(s.pid)?.state}`)
        expect(alive).toEqual([])
      } finally {
        killIfRunning(run)
        for (const s of leftovers) if (stillRunning(s.pid, s.startTicks)) process.kill(s.pid, "SIGKILL")
      }
    })
  }, TEST_TIMEOUT)

  it("exit 0 after an init line and garbage, no result → UnparseableOutput, with samples", async () => {
    await withFixture(scenarios.success, async (f) => {
      const { line } = realInitLine(f)
      const agent = standIn(f, "exit0-garbage", `${line}\nthis is not json\n{"half": \nPANIC: lost my way\n`, 0)
      const r = await runAgentrun({ args: ["--json", "--claude-path", agent, "hi"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(3)
      const json = parseJsonOutput(r.stdout)
      expect(json).toMatchObject({
        status: "failed",
        agentExitCode: 0,
        outcome: { _tag: "UnparseableOutput", family: "process", retryable: false, evidence: { malformedLines: 3, process: { exitCode: 0, stdoutLines: 4 } } }
      })
      const samples = json.outcome.evidence.samples as Array<unknown>
      expect(samples.length).toBeGreaterThan(0)
      expect(JSON.stringify(samples)).toContain("this is not json")
      expect(onlyRun(f).record.outcome).toEqual(json.outcome)
      expect(f.api.requests).toHaveLength(0)
    })
  }, TEST_TIMEOUT)

  it("a real system/init line, then exit 1 → InitOnlyExit naming the session", async () => {
    await withFixture(scenarios.success, async (f) => {
      const { line, sessionId } = realInitLine(f)
      const agent = standIn(f, "init-then-exit1", `${line}\n`, 1)
      const r = await runAgentrun({ args: ["--json", "--claude-path", agent, "hi"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(3)
      const json = parseJsonOutput(r.stdout)
      expect(json).toMatchObject({
        status: "failed",
        agentExitCode: 1,
        outcome: { _tag: "InitOnlyExit", family: "process", retryable: false, evidence: { sessionId, process: { exitCode: 1, stdoutLines: 1 } } }
      })
      const { record } = onlyRun(f)
      expect(record.outcome).toEqual(json.outcome)
      expect(readEvents(f.sandbox, record.runId)).toEqual([expect.objectContaining({ type: "system", subtype: "init", session_id: sessionId })])
    })
  }, TEST_TIMEOUT)
})
