/**
 * The container entry script, run for real with /bin/sh-compatible shells (dash and bash in POSIX
 * mode) against small fake claudes (Node scripts: exact signals and statuses) and against the
 * real claude 2.1.330 with the fake Messages API.
 */
import { spawn } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { entryCommand, entryScriptName, promptUnreadableExitCode } from "../../src/k8s/EntryScript.ts"
import { type FakeMessagesApi, offlineClaudeEnv, start } from "../../../../test/support/fake-anthropic/FakeMessagesApi.ts"
import { baseArgs, claudeBinary } from "../../../../test/support/fake-anthropic/runClaude.ts"
import { scenarios } from "../../../../test/support/fake-anthropic/scenarios.ts"

const shells = ["/usr/bin/dash", "/usr/bin/bash"].filter((s) => NodeFs.existsSync(s))
const tmp = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "agentrun-entry-"))

interface EntryRun {
  readonly stdout: string
  readonly stderr: string
  readonly exitCode: number | null
  readonly signal: NodeJS.Signals | null
}

/**
 * Runs the entry as the container would (`sh -c SCRIPT agentrun-entry ARGS...`), with `shell` in
 * place of /bin/sh. `signalWhen` sends signals to the shell (PID 1 in a container) once stdout
 * satisfies it.
 */
const runEntry = (options: {
  readonly shell: string
  readonly claude: string
  readonly args: ReadonlyArray<string>
  readonly prompt: string | null
  readonly env?: Record<string, string>
  readonly signals?: { readonly when: (stdout: string) => boolean; readonly send: ReadonlyArray<NodeJS.Signals>; readonly gapMs?: number }
  readonly timeoutMs?: number
}): Promise<EntryRun> => {
  const dir = NodeFs.mkdtempSync(NodePath.join(tmp, "run-"))
  const promptFile = NodePath.join(dir, "prompt")
  if (options.prompt !== null) NodeFs.writeFileSync(promptFile, options.prompt)
  const [, dashC, script, name] = entryCommand
  const child = spawn(options.shell, [dashC!, script!, name!, ...options.args], {
    cwd: dir,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", AGENTRUN_PROMPT_FILE: promptFile, AGENTRUN_CLAUDE: options.claude, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so a test that times out kills claude too, not just the shell.
    detached: true
  })
  let stdout = ""
  let stderr = ""
  let signalled = false
  return new Promise((resolve, reject) => {
    const kill = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), options.timeoutMs ?? 30_000)
    const check = () => {
      const sig = options.signals
      if (sig !== undefined && !signalled && sig.when(stdout)) {
        signalled = true
        sig.send.forEach((s, i) => setTimeout(() => child.kill(s), i * (sig.gapMs ?? 300)))
      }
    }
    const poll = setInterval(check, 50)
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d
      check()
    })
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    child.on("error", reject)
    child.on("close", (exitCode, signal) => {
      clearTimeout(kill)
      clearInterval(poll)
      resolve({ stdout, stderr, exitCode, signal })
    })
  })
}

/** A fake claude: a Node script (Node resets inherited signal dispositions, as claude does by installing handlers). */
const fakeClaude = (name: string, body: string): string => {
  const path = NodePath.join(tmp, name)
  NodeFs.writeFileSync(path, `#!${process.execPath}\n${body}\n`, { mode: 0o755 })
  return path
}

const echoClaude = fakeClaude(
  "echo-claude",
  `let input = ""
process.stdin.setEncoding("utf8").on("data", (d) => (input += d)).on("end", () => {
  process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), stdin: input }) + "\\n")
})`
)
const exitClaude = fakeClaude("exit-claude", `process.exit(Number(process.argv[2]))`)
const selfSignalClaude = fakeClaude("signal-claude", `process.kill(process.pid, process.argv[2])`)
/** Prints `ready`, then one line per signal it gets; ends on the Nth SIGINT with status 7. */
const signalRecorder = fakeClaude(
  "recorder-claude",
  `const needed = Number(process.argv[2] ?? "1")
let ints = 0
for (const s of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(s, () => {
  process.stdout.write("got " + s + "\\n")
  if (s === "SIGINT" && ++ints >= needed) process.exit(7)
})
process.stdout.write("ready\\n")
setInterval(() => {}, 1000)`
)

describe.each(shells)("entry script under %s", (shell) => {
  it("feeds the prompt file on stdin, byte for byte, and passes claude's arguments intact", async () => {
    const prompt = `It's "quoted" $HOME \`date\` \\ back; $(rm -rf /) 'single'\n-- --verbose\n\ttabs ünïcödé 🙂\n\n`
    const args = ["-p", "--output-format", "stream-json", "--allowedTools", "Bash(echo *)", "--", "a b", "$PATH", "*"]
    const run = await runEntry({ shell, claude: echoClaude, args, prompt })
    assert.strictEqual(run.exitCode, 0, run.stderr)
    const seen = JSON.parse(run.stdout.trim())
    assert.strictEqual(seen.stdin, prompt)
    assert.deepStrictEqual(seen.argv, args)
  })

  it("exits with claude's own status", async () => {
    for (const code of [0, 1, 2, 42, 255]) {
      const run = await runEntry({ shell, claude: exitClaude, args: [String(code)], prompt: "x" })
      assert.strictEqual(run.exitCode, code)
    }
  })

  it("reports claude's signal death as 128+n", async () => {
    for (const [signal, code] of [["SIGSEGV", 139], ["SIGKILL", 137], ["SIGABRT", 134]] as const) {
      const run = await runEntry({ shell, claude: selfSignalClaude, args: [signal], prompt: "x" })
      assert.strictEqual(run.exitCode, code, `${signal}: ${run.stderr}`)
    }
  })

  it("turns SIGTERM into SIGINT for claude and exits with the status claude chose", async () => {
    const run = await runEntry({
      shell,
      claude: signalRecorder,
      args: ["1"],
      prompt: "x",
      signals: { when: (out) => out.includes("ready"), send: ["SIGTERM"] }
    })
    assert.deepStrictEqual(run.stdout.trim().split("\n"), ["ready", "got SIGINT"])
    assert.strictEqual(run.exitCode, 7)
  })

  it("forwards every SIGTERM while claude lives, and SIGINT as SIGINT", async () => {
    const run = await runEntry({
      shell,
      claude: signalRecorder,
      args: ["3"],
      prompt: "x",
      signals: { when: (out) => out.includes("ready"), send: ["SIGTERM", "SIGINT", "SIGTERM"] }
    })
    assert.deepStrictEqual(run.stdout.trim().split("\n"), ["ready", "got SIGINT", "got SIGINT", "got SIGINT"])
    assert.strictEqual(run.exitCode, 7)
  })

  it("refuses to start claude without a readable prompt file", async () => {
    const run = await runEntry({ shell, claude: echoClaude, args: [], prompt: null })
    assert.strictEqual(run.exitCode, promptUnreadableExitCode)
    assert.strictEqual(run.stdout, "")
    assert.match(run.stderr, new RegExp(`^${entryScriptName}: cannot read the prompt file `))
  })

  it("exits 127 with the shell's message when claude is not on PATH", async () => {
    const run = await runEntry({ shell, claude: "claude-that-does-not-exist", args: [], prompt: "x" })
    assert.strictEqual(run.exitCode, 127)
    assert.match(run.stderr, /claude-that-does-not-exist: (?:command )?not found/)
  })
})

describe("entry script with the real claude", () => {
  let api: FakeMessagesApi
  let hangApi: FakeMessagesApi
  beforeAll(async () => {
    api = await start({ scenario: scenarios.success })
    hangApi = await start({ scenario: scenarios.hang })
  })
  afterAll(async () => {
    await api.close()
    await hangApi.close()
  })
  const claudeEnv = (url: string) => offlineClaudeEnv(url, NodeFs.mkdtempSync(NodePath.join(tmp, "home-")))
  const events = (stdout: string) =>
    stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>)

  it.each(shells)("%s: runs claude on the prompt file and passes its success through", async (shell) => {
    const prompt = `Say "hello" to $USER's \`shell\` \\n please\nsecond line`
    const run = await runEntry({ shell, claude: claudeBinary, args: [...baseArgs], prompt, env: claudeEnv(api.url) })
    assert.strictEqual(run.exitCode, 0, run.stderr)
    const result = events(run.stdout).find((e) => e["type"] === "result")
    assert.strictEqual(result?.["subtype"], "success")
    const sent = JSON.stringify(api.messageRequests().map((r) => r.body))
    assert.include(sent, JSON.stringify(prompt).slice(1, -1))
  })

  it.each(shells)("%s: SIGTERM to the entry reaches claude as SIGINT: it aborts the turn and exits 0 (with its result when it writes one)", async (shell) => {
    const before = hangApi.messageRequests().length
    const run = await runEntry({
      shell,
      claude: claudeBinary,
      args: [...baseArgs],
      prompt: "Please answer.",
      env: claudeEnv(hangApi.url),
      // claude has its SIGINT handler once it is waiting on the API: the request is in flight.
      signals: { when: () => hangApi.messageRequests().length > before, send: ["SIGTERM"] }
    })
    const all = events(run.stdout)
    const init = all.find((e) => e["type"] === "system" && e["subtype"] === "init")
    const result = all.find((e) => e["type"] === "result")
    // claude's answer to SIGINT: the turn's abort, as a user line. Whether a `result` follows is
    // racy in claude itself (fixture sigint-while-hang-no-result: about 2 runs in 3 print none).
    const interrupted = all.some((e) => e["type"] === "user" && JSON.stringify(e).includes("[Request interrupted by user]"))
    assert.isTrue(interrupted || result !== undefined, `claude did not abort the turn: ${run.stdout}\n${run.stderr}`)
    if (result !== undefined) {
      assert.strictEqual(result["session_id"], init?.["session_id"])
      assert.isTrue(result["is_error"])
    }
    // As when claude itself gets SIGINT (fixture sigint-while-hang): it reports the abort and exits 0.
    assert.strictEqual(run.exitCode, 0)
  })
})
