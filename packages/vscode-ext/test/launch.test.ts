import { makeRunId } from "@agentrun/core"
import * as Effect from "effect/Effect"
import { afterEach, describe, expect, it } from "vitest"
import { lastOptionsKey } from "../src/features/Launch.ts"
import { description, eventually, start, type Started } from "./Harness.ts"

let started: Started | undefined
afterEach(async () => {
  await started?.stop()
  started = undefined
})

describe("launching runs", () => {
  it("Launch Run asks for the prompt, runs claude in the workspace folder with the settings, and shows the run until it succeeds", async () => {
    const s = (started = await start({ "agentrun.timeout": 120, "agentrun.claudeArgs": ["--allowedTools", "Bash"] }))
    s.fake.inputAnswers.push("say hello")
    await s.fake.commands.get("agentrun.launchRun")!()
    const [command] = s.core.at(s.stateDir).spawned
    expect(command?.stdin).toBe("say hello")
    expect(command?.cwd).toBe(s.root)
    expect(command?.executable).toBe("claude-test")
    expect(command?.args).toEqual(["-p", "--output-format", "stream-json", "--verbose", "--allowedTools", "Bash"])
    const row = await s.row((r) => description(r).startsWith("Succeeded"))
    expect(row.item.label).toBe("say hello")
    expect((await s.record(row.runId)).agent.timeoutMs).toBe(120_000)
    // The progress notification follows the run and closes when it ends.
    await eventually(() => expect(s.fake.progresses).toEqual([expect.objectContaining({ title: `agentrun: run ${row.runId}`, done: true })]))
  })

  it("an empty prompt, or Escape, launches nothing and says nothing", async () => {
    const s = (started = await start())
    s.fake.inputAnswers.push("   ")
    await s.fake.commands.get("agentrun.launchRun")!()
    s.fake.inputAnswers.push(undefined)
    await s.fake.commands.get("agentrun.launchRun")!()
    expect(await s.rows()).toEqual([])
    expect(s.fake.messages).toEqual([])
  })

  it("Launch Run… takes backend, model and timeout from quick picks and offers the last choice first next time", async () => {
    const s = (started = await start())
    const offered: Array<ReadonlyArray<string>> = []
    const pick = (label: string) => (items: ReadonlyArray<{ label: string }>) => {
      offered.push(items.map((i) => i.label))
      return items.find((i) => i.label === label)
    }
    s.fake.inputAnswers.push("first")
    s.fake.pickAnswers.push(pick("local"), pick("opus"), pick("15 min"))
    await s.fake.commands.get("agentrun.launchRunWithOptions")!()
    const first = await s.row((r) => r.item.label === "first" && description(r).startsWith("Succeeded"))
    expect(s.core.at(s.stateDir).spawned[0]?.args).toEqual(["-p", "--output-format", "stream-json", "--verbose", "--model", "opus"])
    expect((await s.record(first.runId)).agent.timeoutMs).toBe(900_000)
    expect(s.fake.memento.get(lastOptionsKey)).toEqual({ backend: "local", model: "opus", timeoutSeconds: 900 })
    expect(offered.slice(0, 3)).toEqual([["local", "k8s"], ["default", "sonnet", "opus", "haiku"], ["no deadline", "5 min", "15 min", "30 min", "60 min"]])

    s.fake.inputAnswers.push("second")
    s.fake.pickAnswers.push(pick("local"), pick("default"), pick("no deadline"))
    await s.fake.commands.get("agentrun.launchRunWithOptions")!()
    expect(offered.slice(3)).toEqual([["local", "k8s"], ["opus", "default", "sonnet", "haiku"], ["15 min", "no deadline", "5 min", "30 min", "60 min"]])
    const second = await s.row((r) => r.item.label === "second" && description(r).startsWith("Succeeded"))
    expect(s.core.at(s.stateDir).spawned[1]?.args).not.toContain("--model")
    expect((await s.record(second.runId)).agent.timeoutMs).toBe(null)
    expect(s.fake.memento.get(lastOptionsKey)).toEqual({ backend: "local", model: null, timeoutSeconds: null })
  })

  it("a quick pick dismissed in Launch Run… launches nothing and remembers nothing", async () => {
    const s = (started = await start())
    s.fake.inputAnswers.push("never")
    s.fake.pickAnswers.push((items) => items[0], () => undefined)
    await s.fake.commands.get("agentrun.launchRunWithOptions")!()
    expect(s.core.at(s.stateDir).spawned).toEqual([])
    expect(s.fake.memento.has(lastOptionsKey)).toBe(false)
    expect(s.fake.messages).toEqual([])
  })

  it("Launch Run on Selection gives claude the instruction, where the selection is, and the selected lines only", async () => {
    const s = (started = await start())
    const file = `${s.root}/src/app.ts`
    s.fake.setActiveEditor({ path: file, text: "line one\nline two\nline three\nline four", selection: [1, 2] })
    s.fake.inputAnswers.push("explain this")
    await s.fake.commands.get("agentrun.launchRunOnSelection")!()
    expect(s.core.at(s.stateDir).spawned[0]?.stdin).toBe(`explain this\n\nContext: ${file} lines 2-3\n\`\`\`\nline two\nline three\n\`\`\``)

    // Nothing selected: the whole file.
    s.fake.setActiveEditor({ path: file, text: "all of it" })
    s.fake.inputAnswers.push("review")
    await s.fake.commands.get("agentrun.launchRunOnSelection")!()
    expect(s.core.at(s.stateDir).spawned[1]?.stdin).toBe(`review\n\nContext: ${file}\n\`\`\`\nall of it\n\`\`\``)
  })

  it("Re-run of a run this window did not launch offers its stored prompt to confirm and runs in its working directory", async () => {
    const s = (started = await start())
    s.fake.inputAnswers.push("the original prompt")
    await s.fake.commands.get("agentrun.launchRun")!()
    const original = await s.row((r) => description(r).startsWith("Succeeded"))
    // The same record as another process (the CLI) would have stored it, in another folder.
    const runId = makeRunId(Date.now() + 60_000, 0xe1)
    const record = { ...(await s.record(original.runId)), runId, agent: { command: ["claude"], cwd: "/srv/project", timeoutMs: null } }
    await Effect.runPromise(s.core.at(s.stateDir).store.putRawRecord(runId, JSON.stringify(record)))
    await s.row((r) => r.runId === runId)
    s.fake.inputAnswers.push("the original prompt, edited")
    await s.fake.commands.get("agentrun.rerun")!(runId)
    expect(s.fake.inputBoxes.at(-1)).toEqual({ title: `agentrun: Re-run ${runId}`, value: "the original prompt" })
    const again = s.core.at(s.stateDir).spawned.at(-1)
    expect([again?.stdin, again?.cwd]).toEqual(["the original prompt, edited", "/srv/project"])
  })

  it("Re-run of a run this window launched repeats its whole spec without asking", async () => {
    const s = (started = await start())
    s.fake.inputAnswers.push("once more")
    await s.fake.commands.get("agentrun.launchRun")!()
    const first = await s.row((r) => description(r).startsWith("Succeeded"))
    const asked = s.fake.inputBoxes.length
    await s.fake.commands.get("agentrun.rerun")!(first.runId)
    await eventually(async () => expect((await s.rows()).length).toBe(2))
    expect(s.fake.inputBoxes.length).toBe(asked)
    const [a, b] = s.core.at(s.stateDir).spawned
    const what = (c: typeof a) => [c?.executable, c?.args, c?.cwd, c?.stdin]
    expect(what(b)).toEqual(what(a))
  })

  it("with no folder open, Launch Run says a folder is needed", async () => {
    const s = (started = await start())
    ;(s.fake.api.workspace as { workspaceFolders: unknown }).workspaceFolders = undefined
    s.fake.inputAnswers.push("anything")
    await s.fake.commands.get("agentrun.launchRun")!()
    expect(s.fake.messages).toEqual([{ level: "error", message: expect.stringContaining("NoWorkspaceFolder: Open a folder first"), items: [] }])
    expect(s.core.at(s.stateDir).spawned).toEqual([])
  })
})
