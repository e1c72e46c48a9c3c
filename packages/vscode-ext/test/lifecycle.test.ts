import { makeRunId, type RunRecord } from "@agentrun/core"
import * as Effect from "effect/Effect"
import { hostname } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { description, eventually, type Row, start, type Started } from "./Harness.ts"

let started: Started | undefined
afterEach(async () => {
  await started?.stop()
  started = undefined
})

const launch = async (s: Started, prompt: string): Promise<Row> => {
  s.fake.inputAnswers.push(prompt)
  await s.fake.commands.get("agentrun.launchRun")!()
  return s.row((r) => r.item.label === prompt)
}
const ended = (s: Started, row: Row, verdict: string) => s.row((r) => r.runId === row.runId && description(r).startsWith(verdict))

describe("settings apply without a reload", () => {
  it("timeout, claudeArgs and claudePath changed after activation apply to the next launch", async () => {
    const s = (started = await start())
    await ended(s, await launch(s, "before"), "Succeeded")
    s.fake.setSetting("agentrun.timeout", 30)
    s.fake.setSetting("agentrun.claudeArgs", ["--permission-mode", "plan"])
    s.fake.setSetting("agentrun.claudePath", "/opt/claude/bin/claude")
    const after = await ended(s, await launch(s, "after"), "Succeeded")
    const [first, second] = s.core.at(s.stateDir).spawned
    expect([first?.executable, first?.args.slice(4)]).toEqual(["claude-test", []])
    expect([second?.executable, second?.args.slice(4)]).toEqual(["/opt/claude/bin/claude", ["--permission-mode", "plan"]])
    expect((await s.record(after.runId)).agent.timeoutMs).toBe(30_000)
  })

  it("a new agentrun.stateDir switches the view to that directory's runs, and back", async () => {
    const s = (started = await start())
    const here = await ended(s, await launch(s, "in the first directory"), "Succeeded")
    const other = join(s.root, "other-state")
    s.fake.setSetting("agentrun.stateDir", other)
    await eventually(async () => expect(await s.rows()).toEqual([]))
    const there = await ended(s, await launch(s, "in the other directory"), "Succeeded")
    expect(s.core.at(other).spawned.map((c) => c.stdin)).toEqual(["in the other directory"])
    s.fake.setSetting("agentrun.stateDir", s.stateDir)
    await eventually(async () => expect((await s.rows()).map((r) => r.runId)).toEqual([here.runId]))
    expect(there.runId).not.toBe(here.runId)
  })
})

describe("end-of-run notifications (agentrun.notifyOn)", () => {
  it("failures (the default): a failed run is announced with its verdict line and actions; a success is not", async () => {
    const s = (started = await start())
    await ended(s, await launch(s, "fine"), "Succeeded")
    const failed = await ended(s, await launch(s, "[auth] bad key"), "AuthenticationFailed")
    // Announcements come in the order runs end: once the failure's is shown, the success's would have been.
    await eventually(() => expect(s.fake.messages.length).toBeGreaterThan(0))
    expect(s.fake.messages).toEqual([{
      level: "error",
      message: expect.stringMatching(new RegExp(`^agentrun: ✗ AuthenticationFailed \\(agent, not retryable\\): .+ \\[run ${failed.runId}\\]$`)),
      items: ["Open Transcript", "Re-run"]
    }])
  })

  it("all: a success is announced too; its Open Transcript opens the run's transcript", async () => {
    const s = (started = await start({ "agentrun.notifyOn": "all" }))
    s.fake.messageAnswers.push("Open Transcript")
    const ok = await ended(s, await launch(s, "announce me"), "Succeeded")
    await eventually(() => expect(s.fake.messages).toEqual([{ level: "info", message: expect.stringContaining(`✓ Succeeded`), items: ["Open Transcript", "Re-run"] }]))
    const doc = await eventually(() => {
      const d = s.fake.documents.find((d) => d.uri === `agentrun-transcript:/${ok.runId}.log`)
      if (d === undefined) throw new Error("transcript not opened")
      return d
    })
    expect(doc.text).toContain(`agentrun: ✓ Succeeded`)
  })

  it("none: nothing is announced; changing the setting applies to the next run that ends", async () => {
    const s = (started = await start({ "agentrun.notifyOn": "none" }))
    await ended(s, await launch(s, "[auth] silent failure"), "AuthenticationFailed")
    s.fake.setSetting("agentrun.notifyOn", "all")
    const next = await ended(s, await launch(s, "announced"), "Succeeded")
    await eventually(() => expect(s.fake.messages.length).toBeGreaterThan(0))
    expect(s.fake.messages).toEqual([expect.objectContaining({ level: "info", message: expect.stringContaining(`[run ${next.runId}]`) })])
  })

  it("Re-run on a failure's notification launches the same prompt again", async () => {
    const s = (started = await start())
    s.fake.messageAnswers.push("Re-run")
    await ended(s, await launch(s, "[auth] try again"), "AuthenticationFailed")
    await eventually(() => expect(s.core.at(s.stateDir).spawned.map((c) => c.stdin)).toEqual(["[auth] try again", "[auth] try again"]))
    await eventually(async () => expect((await s.rows()).length).toBe(2))
  })
})

describe("deactivation", () => {
  it("cancels the runs this window launched (recorded Cancelled, agent gone) and leaves other processes' runs alone", async () => {
    const s = await start()
    const mine = await launch(s, "[hang] mine")
    const { processes, runStore, store } = s.core.at(s.stateDir)
    // A run the CLI supervises (its supervisor pid 7300 alive).
    const theirs = makeRunId(Date.now() + 60_000, 0x7e1)
    await Effect.runPromise(processes.seed({ pid: 7300, cmdline: ["agentrun", "run"] }))
    await Effect.runPromise(processes.seed({ pid: 7301, ppid: 7300, cmdline: ["claude", "-p"] }))
    const record: RunRecord = {
      ...(await s.record(mine.runId)),
      runId: theirs,
      placement: { _tag: "Local", hostname: hostname(), supervisorPid: 7300, supervisorStartTicks: null, agentPid: 7301, agentStartTicks: null }
    }
    await Effect.runPromise(store.putRawRecord(theirs, JSON.stringify(record)))
    await s.row((r) => r.runId === theirs)

    await s.activation.close()
    const final = await Effect.runPromise(runStore.readRecord(mine.runId))
    expect([final.status, final.outcome?._tag]).toEqual(["failed", "Cancelled"])
    // The extension's cancel (bounded by shutdownWaitMs), before the core's own shutdown would stop it.
    expect(final.outcome?.evidence).toMatchObject({ by: "cancel-command" })
    const placement = final.placement._tag === "Local" ? final.placement : null
    expect(await Effect.runPromise(processes.control.isAlive(placement!.agentPid!))).toBe(false)
    expect((await Effect.runPromise(runStore.readRecord(theirs))).status).toBe("running")
    expect((await Effect.runPromise(processes.signalLog)).filter((e) => e.id === 7301 || e.id === 7300)).toEqual([])
    expect(s.fake.commands.size).toBe(0)
    await s.stop()
  })
})
