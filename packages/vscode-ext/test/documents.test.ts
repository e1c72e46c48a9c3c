import { formatTranscriptLine, makeRunId, type RunRecord } from "@agentrun/core"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { hostname } from "node:os"
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

/** Waits until the document's text passes `check`; returns the text. */
const documentText = (s: Started, uri: string, check: (text: string) => void) =>
  eventually(async () => {
    const text = await s.fake.open(uri)
    check(text)
    return text
  })

describe("the transcript document", () => {
  it("opens with a finished run's stored transcript rendered as `agentrun logs` does, then its verdict line", async () => {
    const s = (started = await start())
    const row = await launch(s, "show me the transcript")
    await s.row((r) => r.runId === row.runId && description(r).startsWith("Succeeded"))
    const stored = await Effect.runPromise(s.core.at(s.stateDir).runStore.readEvents(row.runId as RunRecord["runId"]))
    const rendered = stored.flatMap(formatTranscriptLine)
    expect(rendered.length).toBeGreaterThan(0)
    await s.fake.commands.get("agentrun.openTranscript")!(row.runId)
    const tail = `agentrun: ✓ Succeeded (success): ${(await s.record(row.runId)).outcome!.message} [run ${row.runId}]`
    // The text VS Code gets when it opens the document, at once: it asks again only on a change
    // fired once the document is open, so what is stored must be in this first text.
    expect(s.fake.documents).toEqual([{ uri: `agentrun-transcript:/${row.runId}.log`, text: [...rendered, tail].join("\n") + "\n" }])
  })

  it("grows while the run is live (another process appending), and ends with the verdict once its record is final", async () => {
    const s = (started = await start())
    // A finished run of our own gives a real transcript and verdict to replay as the CLI's.
    const own = await launch(s, "source of lines")
    await s.row((r) => r.runId === own.runId && description(r).startsWith("Succeeded"))
    const { processes, runStore, store } = s.core.at(s.stateDir)
    const lines = await Effect.runPromise(runStore.readEvents(own.runId as RunRecord["runId"]))
    const verdict = await s.record(own.runId)

    const runId = makeRunId(Date.now() + 60_000, 0x109)
    await Effect.runPromise(processes.seed({ pid: 7400, cmdline: ["agentrun", "run"] }))
    const running: RunRecord = {
      ...verdict,
      runId,
      status: "running",
      endedAt: null,
      outcome: null,
      summary: null,
      placement: { _tag: "Local", hostname: hostname(), supervisorPid: 7400, supervisorStartTicks: null, agentPid: 7401, agentStartTicks: null }
    }
    await Effect.runPromise(store.putRawRecord(runId, JSON.stringify(running)))
    const scope = Scope.makeUnsafe()
    const log = await Effect.runPromise(Scope.provide(runStore.openEvents(runId), scope))
    const uri = `agentrun-transcript:/${runId}.log`
    try {
      await Effect.runPromise(log.append([lines[0]!]))
      await s.fake.commands.get("agentrun.openTranscript")!(runId)
      const first = formatTranscriptLine(lines[0]!)
      await documentText(s, uri, (text) => expect(text).toBe([...first, `── still running (run ${runId})`].join("\n") + "\n"))

      const changesBefore = s.fake.contentChanges.filter((u) => u === uri).length
      await Effect.runPromise(log.append(lines.slice(1)))
      await eventually(() => expect(s.fake.contentChanges.filter((u) => u === uri).length).toBeGreaterThan(changesBefore))
      const all = lines.flatMap(formatTranscriptLine)
      await documentText(s, uri, (text) => expect(text).toBe([...all, `── still running (run ${runId})`].join("\n") + "\n"))

      await Effect.runPromise(store.putRawRecord(runId, JSON.stringify({ ...verdict, runId, placement: running.placement })))
      await documentText(s, uri, (text) => expect(text).toBe([...all, `agentrun: ✓ Succeeded (success): ${verdict.outcome!.message} [run ${runId}]`].join("\n") + "\n"))
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  })

  it("the verdict document holds the class, message, evidence and cost", async () => {
    const s = (started = await start())
    const row = await launch(s, "[auth] a verdict to read")
    await s.row((r) => r.runId === row.runId && description(r).startsWith("AuthenticationFailed"))
    await s.fake.commands.get("agentrun.showVerdict")!(row.runId)
    const record = await s.record(row.runId)
    const text = await documentText(s, `agentrun-verdict:/${row.runId}.md`, (t) => expect(t).toContain("# AuthenticationFailed"))
    expect(text).toContain(record.outcome!.message)
    expect(text).toContain("## Evidence")
    expect(text).toContain(JSON.stringify(record.outcome!.evidence, null, 2))
    expect(text).toContain("| retryable | false |")
  })
})
