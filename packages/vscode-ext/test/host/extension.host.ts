/**
 * The in-host tier: mocha tests run by `@vscode/test-cli` inside a desktop VS Code's extension
 * host (downloaded by `@vscode/test-electron`: needs internet, so not run in CI, whose real host
 * is code-server, test/vscode-e2e). `pnpm --filter agentrun test:host` bundles this file to
 * out/host/extension.host.test.cjs (build.mjs) and runs `vscode-test` (.vscode-test.mjs).
 *
 * Runs are started by the repository's CLI against the fake Messages API (served from this
 * process); the extension, loaded from this folder, shows them through its documents and
 * commands, which these tests drive through the public `vscode` API.
 *
 * @module
 */
import * as assert from "node:assert/strict"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import * as vscode from "vscode"
import { offlineClaudeEnv, start } from "../../../../test/support/fake-anthropic/FakeMessagesApi.ts"
import { scenarios } from "../../../../test/support/fake-anthropic/scenarios.ts"

// mocha's BDD interface, as test-cli's runner provides it (no @types/mocha in the workspace).
declare const describe: (name: string, body: () => void) => void
declare const it: (name: string, body: () => Promise<void>) => void
declare const before: (body: () => Promise<void>) => void
declare const after: (body: () => Promise<void>) => void

// The bundle lives in packages/vscode-ext/out/host.
const repoRoot = resolve(__dirname, "../../../..")
const node = join(repoRoot, "node_modules/node/bin/node")
const cli = join(repoRoot, "packages/cli/agentrun.cjs")
const claude = join(repoRoot, "node_modules/@anthropic-ai/claude-code/bin/claude.exe")

const sandbox = mkdtempSync(join(tmpdir(), "agentrun-host-"))
const stateHome = join(sandbox, "state")
const runsDir = join(stateHome, "agentrun/runs")

/** Waits until `check` returns a value (not undefined), polling every 100 ms, at most `ms`. */
const until = async <A>(what: string, check: () => A | undefined, ms = 60_000): Promise<A> => {
  const deadline = Date.now() + ms
  for (;;) {
    const value = check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((ok) => setTimeout(ok, 100))
  }
}

/** The stored record of the run whose prompt holds `marker`. */
const recordWith = (marker: string): { runId: string; status: string; outcome: { _tag: string } | null } | undefined => {
  if (!existsSync(runsDir)) return undefined
  for (const id of readdirSync(runsDir)) {
    try {
      const record = JSON.parse(readFileSync(join(runsDir, id, "record.json"), "utf8"))
      if (typeof record.promptPreview === "string" && record.promptPreview.includes(marker)) return record
    } catch {
      // Being written: read again on the next poll.
    }
  }
  return undefined
}

const documentText = async (uri: string) => (await vscode.workspace.openTextDocument(vscode.Uri.parse(uri))).getText()

describe("agentrun in a desktop VS Code", () => {
  const fakes: Array<{ close: () => Promise<void> }> = []
  const children: Array<ChildProcess> = []
  let env: Record<string, string> = {}

  /** `agentrun run` (the CLI) against the fake at `url`; resolves with the child. */
  const cliRun = (url: string, prompt: string) => {
    const child = spawn(node, [cli, "run", "--claude-path", claude, prompt], {
      env: { ...env, ...offlineClaudeEnv(url, join(sandbox, "home")) },
      stdio: "ignore"
    })
    children.push(child)
    return child
  }
  const exited = (child: ChildProcess) => new Promise<number | null>((ok) => child.on("exit", (code) => ok(code)))

  let successUrl = ""
  let hangUrl = ""

  before(async () => {
    mkdirSync(join(sandbox, "home"), { recursive: true })
    env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", XDG_STATE_HOME: stateHome, CLAUDE_CODE_MAX_RETRIES: "1" }
    const success = await start({ scenario: scenarios.success })
    const hang = await start({ scenario: scenarios.hang })
    fakes.push(success, hang)
    successUrl = success.url
    hangUrl = hang.url
    // The extension reads the CLI's runs: the same state directory.
    await vscode.workspace.getConfiguration("agentrun").update("stateDir", join(stateHome, "agentrun"), vscode.ConfigurationTarget.Global)
    await vscode.extensions.getExtension("agentrun.agentrun")!.activate()
  })

  after(async () => {
    for (const child of children) child.kill("SIGKILL")
    for (const fake of fakes) await fake.close()
    await vscode.workspace.getConfiguration("agentrun").update("stateDir", undefined, vscode.ConfigurationTarget.Global)
    rmSync(sandbox, { recursive: true, force: true })
  })

  it("registers every command package.json contributes", async () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, "packages/vscode-ext/package.json"), "utf8"))
    const registered = new Set(await vscode.commands.getCommands(true))
    for (const { command } of manifest.contributes.commands as ReadonlyArray<{ command: string }>) {
      assert.ok(registered.has(command), `${command} is not registered`)
    }
  })

  it("a run the CLI launched: its transcript ends with the verdict, its verdict document names the class, its id copies", async () => {
    assert.equal(await exited(cliRun(successUrl, "Say hello [host-success]")), 0)
    const { runId } = await until("the record", () => recordWith("[host-success]"))
    const transcript = await documentText(`agentrun-transcript:/${runId}.log`)
    assert.match(transcript, new RegExp(`agentrun: ✓ Succeeded \\(success\\): .* \\[run ${runId}\\]\\n$`))
    assert.match(await documentText(`agentrun-verdict:/${runId}.md`), /^# Succeeded\n/)
    await vscode.commands.executeCommand("agentrun.copyRunId", runId)
    assert.equal(await vscode.env.clipboard.readText(), runId)
  })

  it("Cancel Run stops a run the CLI supervises (through the store): it ends Cancelled", async () => {
    const child = cliRun(hangUrl, "Wait for the API [host-hang]")
    const { runId } = await until("the running record", () => recordWith("[host-hang]"))
    await vscode.commands.executeCommand("agentrun.cancelRun", runId)
    await exited(child)
    const record = await until("the final record", () => {
      const r = recordWith("[host-hang]")
      return r?.status === "running" ? undefined : r
    })
    assert.equal(record.outcome?._tag, "Cancelled")
  })
})
