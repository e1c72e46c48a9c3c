import { makeRunId, type RunRecord } from "@agentrun/core"
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import { hostname } from "node:os"
import { afterEach, describe, expect, it } from "vitest"
import { damagedContext, finishedContext, liveContext } from "../src/features/RunItems.ts"
import { description, eventually, type Row, start, type Started } from "./Harness.ts"
import * as NodeOs from "node:os"

let started: Started | undefined
afterEach(async () => {
  await started?.stop()
  started = undefined
})

/** A record as another agentrun process (the CLI) writes it: running under supervisor `supervisorPid`, or finished as `finished` (a real verdict). */
const cliRecord = (runId: string, prompt: string, supervisorPid: number, agentPid: number, finished?: RunRecord): RunRecord => ({
  schemaVersion: 2,
  runId: runId as RunRecord["runId"],
  status: finished?.status ?? "running",
  createdAt: new Date().toISOString(),
  endedAt: finished ? new Date().toISOString() : null,
  placement: { _tag: "Local", hostname: hostname(), supervisorPid, supervisorStartTicks: null, agentPid, agentStartTicks: null },
  agent: { command: ["claude", "-p"], cwd: "/elsewhere", timeoutMs: null },
  promptPreview: prompt,
  outcome: finished?.outcome ?? null,
  summary: finished?.summary ?? null
})

const putRecord = (s: Started, record: RunRecord) => Effect.runPromise(s.core.at(s.stateDir).store.putRawRecord(record.runId, JSON.stringify(record)))
const later = (offsetMs: number, tail: number) => makeRunId(Date.now() + offsetMs, tail)

const launch = async (s: Started, prompt: string): Promise<Row> => {
  s.fake.inputAnswers.push(prompt)
  await s.fake.commands.get("agentrun.launchRun")!()
  return s.row((r) => r.item.label === prompt)
}

describe("the Runs view", () => {
  it("an empty view has no rows, so VS Code shows the contributed welcome text with a Launch Run link", async () => {
    const s = (started = await start())
    expect(await s.rows()).toEqual([])
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
    const welcome = manifest.contributes.viewsWelcome as ReadonlyArray<{ view: string; contents: string }>
    expect(welcome).toEqual([{ view: "agentrun.runs", contents: expect.stringContaining("[Launch Run](command:agentrun.launchRun)") }])
    expect(welcome[0]!.contents).toContain("agentrun run")
    expect(s.fake.commands.has("agentrun.launchRun")).toBe(true)
  })

  it("a run another process writes appears and updates without a refresh", async () => {
    const s = (started = await start())
    // A verdict as the core writes it, for the CLI's record once it ends.
    const own = await launch(s, "a verdict to copy")
    const verdict = await s.record((await s.row((r) => r.runId === own.runId && description(r).startsWith("Succeeded"))).runId)
    const runId = later(60_000, 0xc11)
    await Effect.runPromise(s.core.at(s.stateDir).processes.seed({ pid: 7100, cmdline: ["agentrun", "run"] }))
    await putRecord(s, cliRecord(runId, "from the CLI", 7100, 7101))
    const live = await s.row((r) => r.runId === runId)
    expect([live.item.label, description(live), live.item.contextValue]).toEqual(["from the CLI", "running", liveContext])
    await eventually(() => expect(s.fake.statusItems[0]?.text).toBe("$(loading~spin) agentrun: 1 live"))
    await putRecord(s, cliRecord(runId, "from the CLI", 7100, 7101, verdict))
    const done = await s.row((r) => r.runId === runId && description(r).startsWith("Succeeded"))
    expect(done.item.tooltip).toBe(`Succeeded: ${verdict.outcome!.message}`)
    expect(done.item.contextValue).toBe(finishedContext)
    await eventually(() => expect(s.fake.statusItems[0]?.text).toBe("$(rocket) agentrun"))
  })

  it("a damaged record is a row (warning icon, \"damaged\", its file in the tooltip), not hidden; its id can be copied", async () => {
    const s = (started = await start())
    const runId = later(60_000, 0xdad)
    await Effect.runPromise(s.core.at(s.stateDir).store.putRawRecord(runId, "{ not a record"))
    const row = await s.row((r) => r.runId === runId)
    expect(row.item.label).toBe(runId)
    expect(description(row)).toBe("damaged")
    expect(row.item.contextValue).toBe(damagedContext)
    expect(row.item.iconPath).toMatchObject({ id: "warning" })
    expect(String(row.item.tooltip)).toContain(`${runId}/record.json`)
    s.fake.select(runId)
    await s.fake.commands.get("agentrun.copyRunId")!()
    expect(s.fake.clipboard).toEqual([runId])
  })

  it("damaged records already stored show at activation", async () => {
    const first = await start()
    const runId = later(60_000, 0xbad)
    await Effect.runPromise(first.core.at(first.stateDir).store.putRawRecord(runId, "[]"))
    await first.row((r) => r.runId === runId && description(r) === "damaged")
    await first.stop()
  })
})

describe("cancelling runs", () => {
  it("Cancel Run on the view's selection stops the agent (SIGINT to its process group) and the row becomes Cancelled", async () => {
    const s = (started = await start())
    const row = await launch(s, "[hang] wait forever")
    expect(row.item.contextValue).toBe(liveContext)
    s.fake.select(row.runId)
    await s.fake.commands.get("agentrun.cancelRun")!()
    const cancelled = await s.row((r) => r.runId === row.runId && description(r) === "Cancelled")
    expect(cancelled.item.contextValue).toBe(finishedContext)
    const { processes } = s.core.at(s.stateDir)
    const placement = (await s.record(row.runId)).placement
    const pid = placement._tag === "Local" ? placement.agentPid! : -1
    expect((await Effect.runPromise(processes.signalLog)).filter((e) => e.id === pid).map((e) => e.signal)[0]).toBe("SIGINT")
    expect(await Effect.runPromise(processes.control.isAlive(pid))).toBe(false)
  })

  it("without a selection, Cancel Run asks with a quick pick of the live runs only", async () => {
    const s = (started = await start())
    const finished = await launch(s, "done already")
    await s.row((r) => r.runId === finished.runId && description(r).startsWith("Succeeded"))
    const hanging = await launch(s, "[hang] stuck")
    let offered: ReadonlyArray<unknown> = []
    s.fake.pickAnswers.push((items) => {
      offered = items
      return items[0]
    })
    await s.fake.commands.get("agentrun.cancelRun")!()
    expect(offered).toEqual([expect.objectContaining({ runId: hanging.runId, label: "[hang] stuck" })])
    await s.row((r) => r.runId === hanging.runId && description(r) === "Cancelled")
  })

  it("the launch notification's Cancel button cancels the run", async () => {
    const s = (started = await start())
    const row = await launch(s, "[hang] cancel me from the notification")
    const progress = await eventually(() => {
      const p = s.fake.progresses.find((p) => p.title === `agentrun: run ${row.runId}`)
      if (p === undefined) throw new Error("no progress notification")
      return p
    })
    progress.cancel()
    await s.row((r) => r.runId === row.runId && description(r) === "Cancelled")
    await eventually(() => expect(progress.done).toBe(true))
  })

  it("a run the CLI supervises is cancelled through the store: a cancel request for its supervisor", async () => {
    const s = (started = await start())
    const runId = later(60_000, 0xcc1)
    await Effect.runPromise(s.core.at(s.stateDir).processes.seed({ pid: 7200, cmdline: ["agentrun", "run"] }))
    await putRecord(s, cliRecord(runId, "the CLI's", 7200, 7201))
    await s.row((r) => r.runId === runId)
    await s.fake.commands.get("agentrun.cancelRun")!(runId)
    const request = await Effect.runPromise(s.core.at(s.stateDir).runStore.readCancelRequest(runId as RunRecord["runId"]))
    expect(request._tag).toBe("Some")
    // The request (and so the run's Cancelled verdict) names the extension, not `agentrun cancel`.
    if (request._tag === "Some") expect(request.value.by).toBe(`agentrun VS Code extension (pid ${process.pid} on ${NodeOs.hostname()})`)
    expect(s.fake.messages).toEqual([])
  })

  it("cancelling a finished run says it is not running", async () => {
    const s = (started = await start())
    const row = await launch(s, "quick")
    await s.row((r) => r.runId === row.runId && description(r).startsWith("Succeeded"))
    await s.fake.commands.get("agentrun.cancelRun")!(row.runId)
    expect(s.fake.messages).toEqual([expect.objectContaining({ level: "error", message: expect.stringContaining("RunNotRunning") })])
  })
})
