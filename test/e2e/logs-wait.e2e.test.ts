/**
 * End to end: `agentrun wait` and `logs -f --exit-status` end with the run's exit code (issue 15,
 * like `gh run watch --exit-status`); `logs --tail/--since/--timestamps/--stderr`. The real
 * `agentrun` CLI (subprocesses), the real `claude` binary against the fake Messages API; a
 * stand-in agent only where claude itself writes nothing to stderr.
 */
import { readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import {
  type Fixture,
  killIfRunning,
  parseJsonOutput,
  runAgentrun,
  runCli,
  startAgentrun,
  startCli,
  waitFor,
  waitForAgent,
  withFixture
} from "./support/harness.ts"

const TEST_TIMEOUT = 45_000

/** `agentrun ARGV...` in the fixture's sandbox (another agentrun process than the run's). */
const cli = (f: Fixture, ...argv: Array<string>) => runCli({ argv, env: f.env(), cwd: f.sandbox.work, killAfterMs: 30_000 })

const verdictLineRe = (tag: string, runId: string) => new RegExp(`^agentrun: [✓✗] ${tag} \\(.+\\): .+ \\[run ${runId}\\]$`, "m")

/** An ISO 8601 time with milliseconds, in UTC, then one space. */
const stampRe = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) /

describe.concurrent("agentrun wait / logs --exit-status", () => {
  it("wait on a succeeded run: exit 0 and its verdict line; --json is run --json's object (inspect --json's without `kubernetes`)", async () => {
    await withFixture(scenarios.toolUse, async (f) => {
      const r = await runAgentrun({ args: ["--json", "make the file"], claudeArgs: ["--allowedTools", "Bash"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(0)
      const runId = parseJsonOutput(r.stdout).runId
      const w = await cli(f, "wait", runId)
      expect(w.code, w.stderr).toBe(0)
      expect(w.stdout.trimEnd()).toMatch(verdictLineRe("Succeeded", runId))
      expect(w.stdout.trimEnd().split("\n")).toHaveLength(1)
      const json = await cli(f, "wait", "--json", runId.slice(-6))
      const inspect = await cli(f, "inspect", "--json", runId)
      expect(json.code, json.stderr).toBe(0)
      // wait --json is run --json's object; inspect --json is the same plus `kubernetes` (null here: a local run).
      const { kubernetes, ...inspected } = parseJsonOutput(inspect.stdout) as ReturnType<typeof parseJsonOutput> & { readonly kubernetes: unknown }
      expect(kubernetes).toBeNull()
      expect(parseJsonOutput(json.stdout)).toEqual(inspected)
      const missing = await cli(f, "wait", "no-such-run")
      expect(missing.code).toBe(2)
      expect(missing.stdout).toBe("")
    })
  }, TEST_TIMEOUT)

  it("wait on a failed run (MaxTurnsReached): the run's own exit code, 1", async () => {
    await withFixture(scenarios.toolLoop, async (f) => {
      const r = await runAgentrun({ args: ["--json", "--max-turns", "1", "loop"], claudeArgs: ["--allowedTools", "Bash"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(1)
      const runId = parseJsonOutput(r.stdout).runId
      const w = await cli(f, "wait", runId)
      expect(w.code, w.stderr).toBe(1)
      expect(w.stdout).toMatch(verdictLineRe("MaxTurnsReached", runId))
      const l = await cli(f, "logs", "-f", "--exit-status", runId)
      expect(l.code, l.stderr).toBe(1)
      expect(l.stdout.trimEnd().split("\n").at(-1)).toMatch(verdictLineRe("MaxTurnsReached", runId))
    })
  }, TEST_TIMEOUT)

  it("a live run cancelled from another process: wait and logs -f --exit-status, started before, exit 130; logs -f alone exits 0", async () => {
    await withFixture(scenarios.hang, async (f) => {
      const run = startAgentrun({ args: ["--json", "wait for the answer"], env: f.env(), cwd: f.sandbox.work })
      const started: Array<ReturnType<typeof startCli>> = []
      try {
        // Generous: the first run of a batch may wait for the bundle to be rebuilt.
        const { runId } = await waitForAgent(f.sandbox, [], 30_000)
        await waitFor("the fake to receive claude's request", () => f.api.messageRequests().length >= 1, 20_000)
        const start = (...argv: Array<string>) => {
          const p = startCli({ argv, env: f.env(), cwd: f.sandbox.work, killAfterMs: 40_000 })
          started.push(p)
          return p
        }
        const waiting = start("wait", runId)
        const following = start("logs", "-f", "--exit-status", runId)
        const plain = start("logs", "-f", runId)
        // The followers print the stored session line while the run goes on: they are live.
        await waitFor("logs -f to print the session line", () => /^── session /m.test(following.output().stdout) || undefined, 20_000)
        expect(waiting.child.exitCode).toBeNull()
        const c = await cli(f, "cancel", runId)
        expect(c.code, c.stderr).toBe(0)
        const [w, l, p, a] = await Promise.all([waiting.done, following.done, plain.done, run.done])
        expect(a.code).toBe(130)
        expect(w.code, w.stderr).toBe(130)
        expect(w.stdout).toMatch(verdictLineRe("Cancelled", runId))
        expect(l.code, l.stderr).toBe(130)
        expect(l.stdout.trimEnd().split("\n").at(-1)).toMatch(verdictLineRe("Cancelled", runId))
        expect(p.code, p.stderr).toBe(0)
        for (const done of [w, l, p]) expect(done.killedByHarness).toBe(false)
      } finally {
        killIfRunning(run)
        for (const p of started) killIfRunning(p)
      }
    })
  }, 60_000)
})

describe.concurrent("agentrun logs --tail / --since / --timestamps / --stderr", () => {
  it("--tail N is the last N entries; --timestamps stamps each with its stored time; --since filters by it; bad values exit 2", async () => {
    await withFixture(scenarios.toolUse, async (f) => {
      const before = Date.now()
      const r = await runAgentrun({ args: ["--json", "make the file"], claudeArgs: ["--allowedTools", "Bash"], env: f.env(), cwd: f.sandbox.work })
      const after = Date.now()
      expect(r.code, r.stderr).toBe(0)
      const runId = parseJsonOutput(r.stdout).runId
      const full = (await cli(f, "logs", runId)).stdout.trimEnd().split("\n")
      const entries = full.slice(0, -1)
      expect(entries.length).toBeGreaterThan(4)

      const tail = await cli(f, "logs", "--tail", "2", runId)
      expect(tail.code, tail.stderr).toBe(0)
      expect(tail.stdout.trimEnd().split("\n")).toEqual([...entries.slice(-2), full.at(-1)])
      expect((await cli(f, "logs", "--tail", "0", runId)).stdout.trimEnd().split("\n")).toEqual([full.at(-1)])

      const stamped = await cli(f, "logs", "--timestamps", runId)
      expect(stamped.code, stamped.stderr).toBe(0)
      const lines = stamped.stdout.trimEnd().split("\n")
      expect(lines.slice(0, -1).map((l) => l.replace(stampRe, ""))).toEqual(entries)
      const times = lines.slice(0, -1).map((l) => Date.parse(stampRe.exec(l)?.[1] ?? "x"))
      for (const t of times) expect(t >= before && t <= after, `${new Date(t).toISOString()} within the run`).toBe(true)
      expect([...times].sort((x, y) => x - y)).toEqual(times)

      // The stamps are the store's index beside the transcript: its last entry ends where
      // events.jsonl ends, at the time of the last line (claude's result).
      const index = readFileSync(join(f.sandbox.runsDir, runId, "events.times"), "utf8").trimEnd().split("\n")
      const [end, at] = index.at(-1)!.split(" ").map(Number)
      expect(end).toBe(readFileSync(join(f.sandbox.runsDir, runId, "events.jsonl")).length)
      expect(at).toBe(times.at(-1))

      const recent = await cli(f, "logs", "--since", "1h", runId)
      expect(recent.stdout).toBe((await cli(f, "logs", runId)).stdout)
      const later = await cli(f, "logs", "--since", new Date(after + 1000).toISOString(), runId)
      expect(later.code, later.stderr).toBe(0)
      expect(later.stdout.trimEnd().split("\n")).toEqual([full.at(-1)])
      // From the time of the last entry on: the last entry (and any stored in the same append).
      const last = await cli(f, "logs", "--since", new Date(times.at(-1)!).toISOString(), runId)
      expect(last.stdout.trimEnd().split("\n").at(-2)).toBe(entries.at(-1))

      for (const bad of [["--tail", "-1"], ["--since", "soon"], ["--exit-status"]]) {
        const u = await cli(f, "logs", ...bad, runId)
        expect(u.code, bad.join(" ")).toBe(2)
        expect(u.stdout, bad.join(" ")).toBe("")
      }
    })
  }, TEST_TIMEOUT)

  it("--stderr prints the run's stderr.log after the transcript, before the verdict; --raw --stderr as stored", async () => {
    await withFixture(scenarios.success, async (f) => {
      const agent = f.sandbox.file(
        "agents/noisy",
        `#!/bin/sh\necho 'warning: first thing on stderr' >&2\necho '{"type":"result","subtype":"success","is_error":false,"result":"noisy answer","num_turns":1,"session_id":"s-noisy","total_cost_usd":0.001,"duration_ms":5}'\necho 'warning: second thing on stderr' >&2\nexit 0\n`
      )
      const r = await runAgentrun({ args: ["--json", "--claude-path", agent, "answer"], env: f.env(), cwd: f.sandbox.work })
      expect(r.code, r.stderr).toBe(0)
      const runId = parseJsonOutput(r.stdout).runId
      const l = await cli(f, "logs", "--stderr", runId)
      expect(l.code, l.stderr).toBe(0)
      const lines = l.stdout.trimEnd().split("\n")
      expect(lines.slice(-4)).toEqual([
        "── stderr.log (2 lines)",
        "stderr    warning: first thing on stderr",
        "stderr    warning: second thing on stderr",
        expect.stringMatching(verdictLineRe("Succeeded", runId))
      ])
      expect(lines[0]).toMatch(/^── result success · 1 turn · \$0\.0010: noisy answer$/)
      const tail = await cli(f, "logs", "--stderr", "--tail", "1", runId)
      expect(tail.stdout.trimEnd().split("\n").slice(-3)).toEqual([
        "── stderr.log (2 lines)",
        "stderr    warning: second thing on stderr",
        expect.stringMatching(verdictLineRe("Succeeded", runId))
      ])
      const raw = await cli(f, "logs", "--raw", "--stderr", runId)
      const stored = readFileSync(join(f.sandbox.runsDir, runId, "events.jsonl"), "utf8")
      expect(raw.stdout).toBe(`${stored}warning: first thing on stderr\nwarning: second thing on stderr\n`)
      // Without --stderr, none of it.
      expect((await cli(f, "logs", runId)).stdout).not.toContain("stderr")

      // A run stored without times (by an older agentrun): unstamped, kept by --since, and said so.
      rmSync(join(f.sandbox.runsDir, runId, "events.times"))
      const old = await cli(f, "logs", "--timestamps", "--since", "1m", runId)
      expect(old.code, old.stderr).toBe(0)
      expect(old.stdout.split("\n")[0]).toMatch(/^- {23} ── result success · 1 turn/)
      expect(old.stderr).toContain("no stored times")
    })
  }, TEST_TIMEOUT)
})
