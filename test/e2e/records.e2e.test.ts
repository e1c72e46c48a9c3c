/**
 * Stored records as `list`, `inspect` and `prune` meet them: a version-1 record (written by
 * agentrun before placements), an outcome class a newer agentrun recorded, a damaged
 * record.json; and run ids given by their random tail or as `last`. No agent runs: the records
 * are written into the sandbox's store as those agentruns would have left them.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { baseEnv, makeSandbox, readRecord, runCli, runIds } from "./support/harness.ts"

const sandbox = makeSandbox("agentrun-records-")
afterAll(() => sandbox.cleanup())
const env = { ...baseEnv(), HOME: sandbox.home, XDG_STATE_HOME: sandbox.stateHome, XDG_DATA_HOME: sandbox.dataHome }
const cli = (...argv: Array<string>) => runCli({ argv, env, cwd: sandbox.work, killAfterMs: 30_000 })

const put = (runId: string, text: string) => {
  mkdirSync(join(sandbox.runsDir, runId), { recursive: true })
  writeFileSync(join(sandbox.runsDir, runId, "record.json"), text)
}

const oldId = "20261201-080000-000-0aa111"
const newerId = "20261201-090000-000-0bb222"
const damagedId = "20261201-100000-000-0cc333"

const v1 = {
  runId: oldId,
  status: "succeeded",
  createdAt: "2026-12-01T08:00:00.000Z",
  endedAt: "2026-12-01T08:00:04.000Z",
  supervisor: { pid: 2_000_001, startTimeTicks: 10, hostname: hostname() },
  agent: { pid: 2_000_002, startTimeTicks: 11, command: ["claude", "-p"], cwd: "/w", timeoutMs: null },
  promptPreview: "say hi",
  outcome: {
    _tag: "Succeeded",
    family: "success",
    message: "The agent reported success.",
    retryable: false,
    evidence: {
      result: "hi",
      sessionId: "s-1",
      numTurns: 1,
      costUsd: 0.001,
      usage: null,
      durationMs: 3000,
      process: { exitCode: 0, signal: null, stderrTail: [], stdoutLines: 3 }
    }
  },
  summary: { result: "hi", agentExitCode: 0, agentSignal: null, usage: null, costUsd: 0.001, sessionId: "s-1", durationMs: 4000, numTurns: 1 }
}
const unknownOutcome = { _tag: "QuotaFrozen", family: "agent", message: "The org's quota is frozen.", retryable: true, evidence: { orgId: "o-1" } }
const newer = {
  schemaVersion: 2,
  runId: newerId,
  status: "failed",
  createdAt: "2026-12-01T09:00:00.000Z",
  endedAt: "2026-12-01T09:00:02.000Z",
  placement: { _tag: "Local", hostname: hostname(), supervisorPid: 2_000_003, supervisorStartTicks: null, agentPid: null, agentStartTicks: null },
  agent: { command: ["claude", "-p"], cwd: "/w", timeoutMs: null },
  promptPreview: "freeze",
  outcome: unknownOutcome,
  summary: null
}

describe("stored records across agentrun versions", () => {
  it("list shows every run (a damaged one as a damaged row); inspect reads v1 and unknown outcomes, names a damaged record; prune removes it", async () => {
    put(oldId, JSON.stringify(v1))
    put(newerId, JSON.stringify(newer))
    put(damagedId, JSON.stringify(newer).slice(0, 90))

    const [human, json] = await Promise.all([cli("list"), cli("list", "--json")])
    expect(human.code, human.stderr).toBe(0)
    const rows = human.stdout.trimEnd().split("\n")
    expect(rows.slice(1).map((r) => r.split(/\s+/).slice(0, 3))).toEqual([
      [damagedId, "damaged", "-"],
      [newerId, "failed", "QuotaFrozen"],
      [oldId, "succeeded", "Succeeded"]
    ])
    expect(json.code, json.stderr).toBe(0)
    const listed = JSON.parse(json.stdout) as Array<Record<string, any>>
    expect(listed[0]).toMatchObject({ runId: damagedId, status: "damaged", path: join(sandbox.runsDir, damagedId, "record.json") })
    expect(listed[1]).toMatchObject({ runId: newerId, status: "failed", outcome: unknownOutcome })
    expect(listed[2]).toMatchObject({ runId: oldId, status: "succeeded", outcome: { _tag: "Succeeded" }, sessionId: "s-1", costUsd: 0.001 })

    // By random tail, by `last`, by `@`.
    const [byTail, last, at, damaged, unknownJson] = await Promise.all([
      cli("inspect", "0aa111"),
      cli("inspect", "--json", "last"),
      cli("inspect", "--json", "@"),
      cli("inspect", damagedId),
      cli("inspect", "--json", "0bb")
    ])
    expect(byTail.code, byTail.stderr).toBe(0)
    expect(byTail.stdout).toContain(`run       ${oldId}\n`)
    expect(byTail.stdout).toContain(`pids      supervisor 2000001 on ${hostname()}, agent 2000002`)
    expect(last.code).toBe(3) // the newest run is the damaged one
    expect(at.stderr).toContain(`${damagedId}`)
    expect(damaged.code).toBe(3)
    expect(damaged.stdout).toBe("")
    expect(damaged.stderr).toContain(`The record of run ${damagedId} (${join(sandbox.runsDir, damagedId, "record.json")}) is damaged`)
    expect(unknownJson.code, unknownJson.stderr).toBe(0)
    expect(JSON.parse(unknownJson.stdout)).toMatchObject({ runId: newerId, outcome: unknownOutcome })

    // An ambiguous tail prefix lists the candidates.
    const ambiguous = await cli("inspect", "0")
    expect(ambiguous.code).toBe(2)
    expect(ambiguous.stderr).toContain("matches 3 runs")
    expect(ambiguous.stderr).toContain(oldId)

    // Reading changed nothing: the v1 record is still v1 on disk.
    expect(readRecord(sandbox, oldId)).not.toHaveProperty("schemaVersion")

    const pruned = await cli("prune", "--older-than", "1h")
    expect(pruned.code, pruned.stderr).toBe(0)
    expect(pruned.stdout).toContain(damagedId)
    expect(runIds(sandbox)).not.toContain(damagedId)
  }, 60_000)
})
