/**
 * End to end, the run-management commands across processes: a run started by one agentrun process
 * (the real `run` CLI driving the real `claude` against the fake Messages API) is listed,
 * inspected, followed (`logs -f`), cancelled, recovered after its supervisor was SIGKILLed, and
 * pruned by other agentrun processes, as a user would from a second terminal.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { Scenario } from "../support/fake-anthropic/FakeMessagesApi.ts"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import {
  type AgentrunProcess,
  type Fixture,
  killIfRunning,
  parseJsonOutput,
  readRecord,
  type RunJson,
  runAgentrun,
  runCli,
  runIds,
  startAgentrun,
  startCli,
  stillRunning,
  waitFor,
  waitForAgent,
  withFixture
} from "./support/harness.ts"

const TEST_TIMEOUT = 45_000

/** `agentrun ARGV...` in the fixture's sandbox (another agentrun process than the run's). */
const cli = (f: Fixture, ...argv: Array<string>) => runCli({ argv, env: f.env(), cwd: f.sandbox.work, killAfterMs: 30_000 })

/** The verdict line agentrun prints for a run (see packages/cli/src/Output.ts). */
const verdictLineRe = (tag: string, runId: string) => new RegExp(`^agentrun: [✓✗] ${tag} \\(.+\\): .+ \\[run ${runId}\\]$`, "m")

/** Starts `run --json` (a new run besides `existing`) on a scenario that never answers and waits until claude's request reached the fake. */
const startHangingRun = async (
  f: Fixture,
  existing: ReadonlyArray<string> = []
): Promise<{ run: AgentrunProcess; runId: string; pid: number; startTicks: number | null }> => {
  const run = startAgentrun({ args: ["--json", "wait for the answer"], env: f.env(), cwd: f.sandbox.work })
  const agent = await waitForAgent(f.sandbox, existing)
  await waitFor("the fake to receive claude's request", () => f.api.messageRequests().length >= 1, 20_000)
  return { run, ...agent }
}

/** A stand-in agent that answers at once with a valid `result` line (→ Succeeded); quick finished runs. */
const fastAgent = (f: Fixture): string =>
  f.sandbox.file(
    "agents/fast-answer",
    `#!/bin/sh\necho '{"type":"result","subtype":"success","is_error":false,"result":"fast answer","num_turns":1,"session_id":"s-fast","total_cost_usd":0.0012,"duration_ms":5}'\nexit 0\n`
  )

/** A stand-in agent that fails at once (→ ExitedNonZero). */
const failingAgent = (f: Fixture): string =>
  f.sandbox.file("agents/fast-fail", `#!/bin/sh\necho 'fatal: cannot read the settings file' >&2\nexit 1\n`)

/**
 * A tool turn that prints a marker, then a tool turn that waits (bounded, ≤ 20 s) for a gate file
 * the test creates in the agent's cwd, then a text answer streamed over ~1 s: the run stays live,
 * with output already stored, until the test lets it finish.
 */
const gateFile = "release-gate"
const markerThenGate: Scenario = {
  name: "markerThenGate",
  replies: [
    { kind: "toolUse", text: "I will print the marker first.", command: "echo logs-follow-marker", description: "Print a marker" },
    {
      kind: "toolUse",
      command: `for i in $(seq 200); do [ -f ${gateFile} ] && break; sleep 0.1; done; echo gate-opened`,
      description: "Wait for the gate"
    },
    { kind: "slowText", text: "Finished after a slow answer.", durationMs: 1_000, chunks: 4 }
  ]
}

describe.concurrent("run management across agentrun processes", () => {
  it("cancel from a second process: the live supervisor stops claude and records Cancelled (by cancel-command)", async () => {
    await withFixture(scenarios.hang, async (f) => {
      const { run, runId, pid, startTicks } = await startHangingRun(f)
      try {
        const b = await cli(f, "cancel", runId)
        expect(b.code, b.stderr).toBe(0)
        expect(b.stdout).toMatch(verdictLineRe("Cancelled", runId))
        expect(b.stderr).toContain(`asked the supervisor (pid ${run.pid})`)

        const a = await run.done
        expect(a.signal).toBeNull()
        expect(a.code, a.stderr).toBe(130)
        const json = parseJsonOutput(a.stdout)
        expect(json).toMatchObject({
          runId,
          status: "failed",
          outcome: { _tag: "Cancelled", family: "cancelled", retryable: false, evidence: { by: "cancel-command", signal: null } }
        })
        expect(json.outcome.evidence.stop.steps[0]).toMatchObject({ signal: "SIGINT", target: "pid" })
        expect(readRecord(f.sandbox, runId).outcome).toEqual(json.outcome)
        expect(stillRunning(pid, startTicks)).toBe(false)
        // A second cancel: the run is finished → usage error.
        const again = await cli(f, "cancel", runId)
        expect(again.code).toBe(2)
        expect(again.stderr).toContain("is not running")
      } finally {
        killIfRunning(run)
      }
    })
  }, TEST_TIMEOUT)

  it("logs -f from a second process follows a live run as it writes, and ends by itself with the verdict", async () => {
    await withFixture(markerThenGate, async (f) => {
      const run = startAgentrun({ args: ["--json", "print the marker"], claudeArgs: ["--allowedTools", "Bash"], env: f.env(), cwd: f.sandbox.work })
      let follow: AgentrunProcess | undefined
      try {
        const runId = await waitFor("the run record", () => runIds(f.sandbox)[0])
        follow = startCli({ argv: ["logs", "-f", runId], env: f.env(), cwd: f.sandbox.work, killAfterMs: 30_000 })
        const following = follow
        // The first tool call and its result are printed while the run is still going (held by the gate).
        await waitFor("logs -f to print the tool result", () => /^result +logs-follow-marker$/m.test(following.output().stdout) || undefined, 20_000)
        expect(run.child.exitCode, "the run already ended: nothing was followed live").toBeNull()
        expect(readRecord(f.sandbox, runId).status).toBe("running")
        expect(following.output().stdout).not.toMatch(/agentrun: [✓✗]/)
        expect(following.output().stdout).not.toContain("Finished after a slow answer.")
        // Let the run finish.
        writeFileSync(join(f.sandbox.work, gateFile), "")

        const a = await run.done
        expect(a.code, a.stderr).toBe(0)
        const l = await following.done
        expect(l.killedByHarness).toBe(false)
        expect(l.code, l.stderr).toBe(0)
        const lines = l.stdout.trimEnd().split("\n")
        expect(lines.at(-1)).toMatch(verdictLineRe("Succeeded", runId))
        expect(l.stdout).toContain("assistant Finished after a slow answer.")
        expect(l.stdout).toMatch(/^── result success · .*3 turns/m)
        // Each stored line printed once, in order: the tool call before its result before the answer.
        const order = [
          "tool      Bash: echo logs-follow-marker",
          "result    logs-follow-marker",
          "result    gate-opened",
          "assistant Finished after a slow answer.",
          "agentrun: ✓"
        ]
        const at = order.map((s) => l.stdout.indexOf(s))
        expect(at.every((i) => i >= 0), JSON.stringify(at)).toBe(true)
        expect([...at].sort((x, y) => x - y)).toEqual(at)
        expect(l.stdout.split("tool      Bash: echo logs-follow-marker").length - 1).toBe(1)
      } finally {
        killIfRunning(run)
        if (follow !== undefined) killIfRunning(follow)
      }
    })
  }, TEST_TIMEOUT)

  it("logs --raw prints the stored stream-json exactly; plain logs shows text, the tool call, its result and the verdict", async () => {
    await withFixture(scenarios.toolUse, async (f) => {
      const r = await runAgentrun({ args: ["--json", "make the file"], claudeArgs: ["--allowedTools", "Bash"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(0)
      const runId = parseJsonOutput(r.stdout).runId

      const raw = await cli(f, "logs", "--raw", runId)
      expect(raw.code, raw.stderr).toBe(0)
      const stored = readFileSync(join(f.sandbox.runsDir, runId, "events.jsonl"), "utf8")
      expect(raw.stdout).toBe(stored.endsWith("\n") ? stored : `${stored}\n`)
      expect(raw.stdout).not.toContain("agentrun:")

      const plain = await cli(f, "logs", runId)
      expect(plain.code, plain.stderr).toBe(0)
      const lines = plain.stdout.trimEnd().split("\n")
      expect(lines[0]).toMatch(/^── session [0-9a-f-]+ · /)
      expect(lines).toContain("assistant I will create the file.")
      expect(lines).toContain("tool      Bash: echo created-by-fake > fake-tool-output.txt && echo done")
      expect(lines).toContain("result    done")
      expect(lines).toContain("assistant I created the file.")
      expect(lines.at(-1)).toMatch(verdictLineRe("Succeeded", runId))

      // -f on a finished run prints the same and returns at once.
      const finished = await cli(f, "logs", "-f", runId)
      expect(finished.code).toBe(0)
      expect(finished.stdout).toBe(plain.stdout)
    })
  }, TEST_TIMEOUT)

  it("supervisor SIGKILLed mid-run: list marks the run Interrupted (agent still alive); cancel stops the orphaned claude → Cancelled", async () => {
    await withFixture(scenarios.hang, async (f) => {
      const { run, runId, pid, startTicks } = await startHangingRun(f)
      try {
        run.child.kill("SIGKILL")
        const a = await run.done
        expect(a.signal).toBe("SIGKILL")
        expect(readRecord(f.sandbox, runId).status).toBe("running") // nobody has looked yet
        expect(stillRunning(pid, startTicks)).toBe(true)

        const listed = await cli(f, "list", "--json")
        expect(listed.code, listed.stderr).toBe(0)
        const runs = JSON.parse(listed.stdout) as Array<RunJson>
        expect(runs).toHaveLength(1)
        expect(runs[0]).toMatchObject({
          runId,
          status: "interrupted",
          outcome: { _tag: "Interrupted", retryable: true, evidence: { supervisorPid: a.pid, agentPid: pid, agentAlive: true, reason: "supervisor-gone" } }
        })
        expect(runs[0]!.outcome.message).toContain(`agentrun cancel ${runId}`)
        // The recovery was written to the store.
        expect(readRecord(f.sandbox, runId)).toMatchObject({ status: "interrupted", outcome: { _tag: "Interrupted" } })
        expect(stillRunning(pid, startTicks)).toBe(true)

        const c = await cli(f, "cancel", runId)
        expect(c.code, c.stderr).toBe(0)
        expect(c.stdout).toMatch(verdictLineRe("Cancelled", runId))
        await waitFor("the orphaned claude to be gone", () => !stillRunning(pid, startTicks), 5_000)
        const record = readRecord(f.sandbox, runId)
        expect(record).toMatchObject({ status: "failed", outcome: { _tag: "Cancelled", evidence: { by: "cancel-command", signal: null } } })
        expect((record.outcome!.evidence as { stop: { steps: Array<unknown> } }).stop.steps[0]).toMatchObject({ signal: "SIGINT" })
        const inspected = await cli(f, "inspect", "--json", runId)
        expect(parseJsonOutput(inspected.stdout)).toMatchObject({ status: "failed", outcome: { _tag: "Cancelled" } })
      } finally {
        killIfRunning(run)
        if (stillRunning(pid, startTicks)) process.kill(pid, "SIGKILL")
      }
    })
  }, TEST_TIMEOUT)

  it("an orphaned agent deaf to SIGINT: prune keeps its interrupted run, cancel stops it with the configured grace, not the default", async () => {
    await withFixture(scenarios.hang, async (f) => {
      const deaf = f.sandbox.file("agents/deaf-to-sigint", `#!/bin/sh\ntrap '' INT\necho '{"type":"system","subtype":"init","session_id":"s-deaf"}'\nsleep 60\n`)
      const run = startAgentrun({ args: ["--json", "--claude-path", deaf, "--no-watchdog", "never answers"], env: f.env(), cwd: f.sandbox.work })
      const { runId, pid, startTicks } = await waitForAgent(f.sandbox)
      try {
        run.child.kill("SIGKILL")
        await run.done
        const listed = await cli(f, "list", "--json")
        expect((JSON.parse(listed.stdout) as Array<RunJson>)[0]).toMatchObject({ runId, status: "interrupted", outcome: { evidence: { agentAlive: true } } })

        // Its record is what cancel needs to find and stop the agent.
        const pruned = await cli(f, "prune", "--keep", "0")
        expect(pruned.code, pruned.stderr).toBe(0)
        expect(pruned.stdout).toBe("Nothing to prune.\n")
        expect(runIds(f.sandbox)).toEqual([runId])

        const c = await runCli({ argv: ["cancel", runId], env: f.env({ AGENTRUN_INTERRUPT_GRACE: "1s" }), cwd: f.sandbox.work, killAfterMs: 30_000 })
        expect(c.code, c.stderr).toBe(0)
        expect(c.stdout).toMatch(verdictLineRe("Cancelled", runId))
        expect(stillRunning(pid, startTicks)).toBe(false)
        const steps = (readRecord(f.sandbox, runId).outcome!.evidence as { stop: { steps: Array<{ signal: string; atMs: number; answered: boolean }> } }).stop.steps
        expect(steps.map((s) => [s.signal, s.answered])).toEqual([["SIGINT", false], ["SIGTERM", true]])
        // SIGTERM follows SIGINT after AGENTRUN_INTERRUPT_GRACE (1 s), where the default grace is 10 s.
        expect(steps[1]!.atMs).toBeGreaterThanOrEqual(1_000)
        expect(steps[1]!.atMs).toBeLessThan(10_000)
      } finally {
        killIfRunning(run)
        if (stillRunning(pid, startTicks)) process.kill(pid, "SIGKILL")
      }
    })
  }, TEST_TIMEOUT)

  it("list (human, --json, --status, --limit) newest first; inspect by unique prefix (human, --json = run --json + kubernetes); unknown id → exit 2", async () => {
    await withFixture(scenarios.success, async (f) => {
      const first = await runAgentrun({ args: ["--json", "say hi"], env: f.env(), cwd: f.sandbox.work })
      const failed = await runAgentrun({ args: ["--json", "--claude-path", failingAgent(f), "fail"], env: f.env(), cwd: f.sandbox.work })
      const last = await runAgentrun({ args: ["--json", "--claude-path", fastAgent(f), "answer"], env: f.env(), cwd: f.sandbox.work })
      expect([first.code, failed.code, last.code]).toEqual([0, 3, 0])
      const [j1, j2, j3] = [first, failed, last].map((r) => parseJsonOutput(r.stdout))
      const newestFirst = [j3!.runId, j2!.runId, j1!.runId]

      // Read-only commands: run them side by side.
      const [all, failedJson, succeededJson, limitedJson, runningJson, human, limitedHuman] = await Promise.all([
        cli(f, "list", "--json"),
        cli(f, "list", "--json", "--status", "failed"),
        cli(f, "list", "--json", "--status", "succeeded"),
        cli(f, "list", "--json", "--limit", "2"),
        cli(f, "list", "--json", "--status", "running"),
        cli(f, "list"),
        cli(f, "list", "--limit", "1", "--status", "failed")
      ])
      expect(all.code, all.stderr).toBe(0)
      const listed = JSON.parse(all.stdout) as Array<RunJson>
      expect(listed.map((r) => r.runId)).toEqual(newestFirst)
      // Each entry has the `run --json` shape and content.
      expect(listed[0]).toEqual(j3)
      expect(listed[1]).toEqual(j2)
      expect(listed[2]).toEqual(j1)

      const failedOnly = JSON.parse(failedJson.stdout) as Array<RunJson>
      expect(failedOnly.map((r) => [r.runId, r.outcome._tag])).toEqual([[j2!.runId, "ExitedNonZero"]])
      const succeededOnly = JSON.parse(succeededJson.stdout) as Array<RunJson>
      expect(succeededOnly.map((r) => r.runId)).toEqual([j3!.runId, j1!.runId])
      const limited = JSON.parse(limitedJson.stdout) as Array<RunJson>
      expect(limited.map((r) => r.runId)).toEqual(newestFirst.slice(0, 2))
      const none = JSON.parse(runningJson.stdout) as Array<RunJson>
      expect(none).toEqual([])

      expect(human.code, human.stderr).toBe(0)
      const rows = human.stdout.trimEnd().split("\n")
      expect(rows[0]).toMatch(/^RUN\s+STATUS\s+VERDICT\s+AGE\s+DURATION\s+TURNS\s+COST\s+CWD\s+PROMPT$/)
      expect(rows).toHaveLength(4)
      // The CWD column (the sandbox's work dir, its end kept) and the PROMPT column close every row.
      const cwdCell = f.sandbox.work.length <= 32 ? f.sandbox.work : `…${f.sandbox.work.slice(-31)}`
      const tailRe = (prompt: string) => `\\s+${cwdCell.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s+${prompt}$`
      expect(rows[1]).toMatch(new RegExp(`^${j3!.runId}\\s+succeeded\\s+Succeeded\\s+\\S+ ago\\s+\\S+\\s+1\\s+\\$0\\.0012${tailRe("answer")}`))
      expect(rows[2]).toMatch(new RegExp(`^${j2!.runId}\\s+failed\\s+ExitedNonZero\\s+\\S+ ago\\s+\\S+\\s+-\\s+-${tailRe("fail")}`))
      expect(rows[3]).toMatch(new RegExp(`^${j1!.runId}\\s+succeeded\\s+Succeeded\\s+\\S+ ago\\s+\\S+\\s+1\\s+\\$\\d+\\.\\d{4}${tailRe("say hi")}`))
      expect(limitedHuman.stdout.trimEnd().split("\n").slice(1).map((r) => r.split(/\s+/)[0])).toEqual([j2!.runId])

      // The shortest prefix of the first run's id that no other run shares.
      const others = [j2!.runId, j3!.runId]
      const id1 = j1!.runId
      let n = 1
      while (others.some((o) => o.startsWith(id1.slice(0, n)))) n++
      const prefix = id1.slice(0, n)
      expect(prefix.length).toBeLessThan(id1.length)
      const unknown = [["inspect", "no-such-run"], ["inspect", "--json", "no-such-run"], ["logs", "no-such-run"], ["cancel", "no-such-run"]]
      const [inspectedJson, inspected, ambiguous, ...unknownResults] = await Promise.all([
        cli(f, "inspect", "--json", prefix),
        cli(f, "inspect", prefix),
        cli(f, "inspect", id1.slice(0, 4)),
        ...unknown.map((argv) => cli(f, ...argv))
      ])
      expect(inspectedJson.code, inspectedJson.stderr).toBe(0)
      // run --json's object, plus `kubernetes` (null: a local run).
      expect(parseJsonOutput(inspectedJson.stdout)).toEqual({ ...j1, kubernetes: null })
      expect(inspected.code, inspected.stderr).toBe(0)
      expect(inspected.stdout).toContain(`run       ${id1}\n`)
      expect(inspected.stdout).toContain("status    succeeded\n")
      expect(inspected.stdout).toContain("verdict   Succeeded (success)\n")
      expect(inspected.stdout).toContain("prompt    say hi\n")
      expect(inspected.stdout).toMatch(new RegExp(`session   ${j1!.sessionId}\\n`))

      // A prefix shared by all three runs is ambiguous; an unknown id is not found: both exit 2.
      expect(ambiguous.code).toBe(2)
      expect(ambiguous.stderr).toContain("matches 3 runs")
      for (const [i, argv] of unknown.entries()) {
        const r = unknownResults[i]!
        expect(r.code, `${argv.join(" ")}: ${r.stderr}`).toBe(2)
        expect(r.stdout).toBe("")
        expect(r.stderr).toContain("no-such-run")
      }
    })
  }, TEST_TIMEOUT)

  it("prune --keep 1 and --older-than 1s remove finished runs, never the running one; prune without flags → exit 2", async () => {
    await withFixture(scenarios.hang, async (f) => {
      const agent = fastAgent(f)
      const finished: Array<string> = []
      for (let i = 0; i < 3; i++) {
        const r = await runAgentrun({ args: ["--json", "--claude-path", agent, `answer ${i}`], env: f.env(), cwd: f.sandbox.work })
        expect(r.code, r.stderr).toBe(0)
        finished.push(parseJsonOutput(r.stdout).runId)
      }
      const { run, runId: live, pid, startTicks } = await startHangingRun(f, finished)
      try {
        const usage = await cli(f, "prune")
        expect(usage.code).toBe(2)
        expect(usage.stderr).toContain("--older-than")
        expect(runIds(f.sandbox)).toHaveLength(4)

        const keep = await cli(f, "prune", "--keep", "1")
        expect(keep.code, keep.stderr).toBe(0)
        expect(keep.stdout).toContain("Removed 2 run(s)")
        expect(keep.stdout.split("\n").slice(1).filter((l) => l !== "").sort()).toEqual([finished[0], finished[1]].sort())
        expect(runIds(f.sandbox)).toEqual([finished[2], live].sort())

        // Wall-clock ages: the remaining finished run ended before this wait.
        await new Promise((r) => setTimeout(r, 1_500))
        const old = await cli(f, "prune", "--older-than", "1s")
        expect(old.code, old.stderr).toBe(0)
        expect(old.stdout).toBe(`Removed 1 run(s):\n${finished[2]}\n`)
        expect(runIds(f.sandbox)).toEqual([live])

        const nothing = await cli(f, "prune", "--keep", "0")
        expect(nothing.code).toBe(0)
        expect(nothing.stdout).toBe("Nothing to prune.\n")
        // The running run was never touched: still running, still supervised.
        expect(readRecord(f.sandbox, live).status).toBe("running")
        expect(stillRunning(pid, startTicks)).toBe(true)
        expect(run.child.exitCode).toBeNull()
      } finally {
        // End the live run the ordinary way (Ctrl-C to its supervisor) and wait for it.
        if (run.child.exitCode === null) run.child.kill("SIGINT")
        const end = await Promise.race([run.done, new Promise<null>((r) => setTimeout(() => r(null), 15_000))])
        if (end === null) killIfRunning(run)
        if (stillRunning(pid, startTicks)) process.kill(pid, "SIGKILL")
      }
    })
  }, TEST_TIMEOUT)
})
