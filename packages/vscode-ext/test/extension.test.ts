import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Result from "effect/Result"
import { afterEach, describe, expect, it } from "vitest"
import { activate } from "../src/Activation.ts"
import { readSettings } from "../src/Settings.ts"
import type { VsCodeApi } from "../src/vscode/VsCodeApi.ts"
import { runDescription } from "../src/features/RunItems.ts"
import { shouldNotify } from "../src/features/Notifications.ts"
import { statusText } from "../src/features/StatusBar.ts"
import { makeFakeVsCode } from "./FakeVsCode.ts"

const contributed = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  contributes: {
    commands: ReadonlyArray<{ command: string }>
    configuration: { properties: Record<string, { default: unknown; markdownDescription?: string; description?: string }> }
  }
}

const dirs: Array<string> = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe("activation against the fake VS Code API", () => {
  it("registers exactly the contributed commands, the Runs view and the status bar item; deactivation disposes them", async () => {
    const root = mkdtempSync(join(tmpdir(), "agentrun-vscode-"))
    dirs.push(root)
    const fake = makeFakeVsCode({ settings: { "agentrun.stateDir": join(root, "state") }, workspaceFolder: root })
    const activation = activate(fake.api, fake.context)
    await activation.ready
    expect([...fake.commands.keys()].sort()).toEqual(contributed.contributes.commands.map((c) => c.command).sort())
    expect(fake.hasTree("agentrun.runs")).toBe(true)
    expect(await fake.rows()).toEqual([])
    expect(fake.statusItems[0]?.text).toBe("$(rocket) agentrun")
    await activation.close()
    expect(fake.commands.size).toBe(0)
    expect(fake.hasTree("agentrun.runs")).toBe(false)
    expect(fake.statusItems[0]?.disposed).toBe(true)
    expect(fake.disposedChannels).toEqual(["agentrun"])
  })
})

describe("settings", () => {
  it("every setting the extension reads is contributed (a default and a description), and every contributed one is read", () => {
    const read: Array<string> = []
    const api = { workspace: { getConfiguration: (section: string) => ({ get: (key: string) => void read.push(`${section}.${key}`) }) } }
    readSettings(api as unknown as VsCodeApi)
    const properties = contributed.contributes.configuration.properties
    expect([...read].sort()).toEqual(Object.keys(properties).sort())
    for (const [key, p] of Object.entries(properties)) {
      expect(p.default, key).toBeDefined()
      expect((p.markdownDescription ?? p.description ?? "").length, key).toBeGreaterThan(20)
    }
  })

  it("agentrun.k8s.podEnv reads an object's entries or an array's items as NAME=VALUE; another shape is kept as the reason to refuse", () => {
    const podEnvOf = (value: unknown) => {
      const api = { workspace: { getConfiguration: () => ({ get: (key: string) => (key === "k8s.podEnv" ? value : undefined) }) } }
      return readSettings(api as unknown as VsCodeApi).k8s.podEnv
    }
    expect(podEnvOf(undefined)).toEqual(Result.succeed([]))
    expect(podEnvOf({ ANTHROPIC_BASE_URL: "http://proxy:8080", EMPTY: "" })).toEqual(Result.succeed(["ANTHROPIC_BASE_URL=http://proxy:8080", "EMPTY="]))
    expect(podEnvOf(["A=1", "A=2"])).toEqual(Result.succeed(["A=1", "A=2"]))
    expect(podEnvOf(["A=1", 2])).toEqual(Result.fail(`item 1 is not a "NAME=VALUE" string`))
    expect(podEnvOf({ PORT: 8080 })).toEqual(Result.fail("the value of PORT is not a string"))
    expect(Result.isFailure(podEnvOf("A=B"))).toBe(true)
  })
})

describe("run presentation", () => {
  const running = { runId: "20261203-000000-000-aaaaaa", status: "running", outcome: null, summary: null } as never
  it("a live run shows running and its usage; the status bar counts it", () => {
    expect(runDescription(running, undefined)).toBe("running")
    expect(runDescription(running, { turns: 2, inputTokens: 1500, outputTokens: 20, costUsd: 0.0123 })).toBe("running · 2 turns · 1.5k tokens · $0.0123")
    expect(statusText({ records: [running], usage: new Map() })).toBe("$(loading~spin) agentrun: 1 live")
  })
  it("notifyOn: failures notifies failures only, all everything, none nothing", () => {
    const ok = { outcome: { _tag: "Succeeded" } } as never
    const failed = { outcome: { _tag: "AuthenticationFailed" } } as never
    expect([shouldNotify("failures", ok), shouldNotify("failures", failed)]).toEqual([false, true])
    expect([shouldNotify("all", ok), shouldNotify("none", failed)]).toEqual([true, false])
  })
})
