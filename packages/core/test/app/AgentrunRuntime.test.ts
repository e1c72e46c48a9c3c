/**
 * The runtime facade over the real app layer (AgentrunApp: file store in a temp state dir, real
 * processes, /proc, the stop sequence): the real `claude` against the fake Messages API, driven
 * from plain Promises as an extension host would. Linux only (the sweep and the checks read /proc).
 */
import { assert, describe, it } from "vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { offlineClaudeEnv, start } from "../../../../test/support/fake-anthropic/FakeMessagesApi.ts"
import { claudeBinary as claudeExe } from "../../../../test/support/fake-anthropic/runClaude.ts"
import { scenarios } from "../../../../test/support/fake-anthropic/scenarios.ts"
import { procStat, stillRunning } from "../../../../test/support/proc.ts"
import { AgentrunRuntime } from "../../src/app/AgentrunRuntime.ts"
import { Backends } from "../../src/backend/Backends.ts"
import type { RunSpec } from "../../src/domain/Run.ts"
import { RunCatalog } from "../../src/runs/RunCatalog.ts"

const linux = process.platform === "linux" && NodeFs.existsSync("/proc/self/stat")

/** Every live process under `root` (its descendants by ppid, /proc now). */
const descendants = (root: number): ReadonlyArray<{ readonly pid: number; readonly cmdline: string }> => {
  const children = new Map<number, Array<number>>()
  for (const name of NodeFs.readdirSync("/proc")) {
    const pid = Number(name)
    if (!Number.isInteger(pid)) continue
    const stat = procStat(pid)
    if (stat === null) continue
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid])
  }
  const out: Array<{ pid: number; cmdline: string }> = []
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      let cmdline = ""
      try {
        cmdline = NodeFs.readFileSync(`/proc/${child}/cmdline`, "utf8").split("\0").join(" ")
      } catch {
        continue
      }
      out.push({ pid: child, cmdline })
      walk(child)
    }
  }
  walk(root)
  return out
}

/** Waits (real time: a real process is starting) until `find` answers, at most `timeoutMs`. */
const waitFor = async <A>(find: () => A | undefined, timeoutMs: number): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = find()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error("timed out")
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe.skipIf(!linux || !NodeFs.existsSync(claudeExe))("AgentrunRuntime (real claude, fake Messages API)", () => {
  it("a run launched through the runtime, disposed mid-run: final record Cancelled (by shutdown), no process of the run left", async () => {
    const api = await start({ scenario: scenarios.toolSleep })
    const root = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "agentrun-runtime-"))
    const stateDir = NodePath.join(root, "state")
    const runtime = AgentrunRuntime.make({
      stateDir,
      env: { XDG_STATE_HOME: NodePath.join(root, "xdg-state"), XDG_DATA_HOME: NodePath.join(root, "xdg-data") },
      local: { drainGrace: "500 millis", grace: { interruptGrace: "2 seconds", terminateGrace: "2 seconds" } }
    })
    try {
      const home = NodeFs.mkdtempSync(NodePath.join(root, "home-"))
      const spec: RunSpec = {
        prompt: "wait",
        cwd: NodeFs.mkdtempSync(NodePath.join(root, "cwd-")),
        claudePath: claudeExe,
        claudeArgs: ["--allowedTools", "Bash"],
        model: null,
        maxTurns: null,
        timeoutMs: 60_000,
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...offlineClaudeEnv(api.url, home) },
        watchdog: null
      }
      const handle = await runtime.runPromise(Effect.gen(function*() {
        return yield* (yield* Backends).launch(spec)
      }))
      const progress = await runtime.runPromise(Stream.runCollect(handle.progress.pipe(Stream.takeUntil((p) => p._tag === "ToolUse"))))
      const started = progress.find((p) => p._tag === "Started")
      assert.isDefined(started)
      const agentPid = started!._tag === "Started" ? started!.pid : null
      assert.isNotNull(agentPid)
      // The Bash tool's `sleep 1000` (claude's grandchild): the run is mid-tool when the host goes.
      const tool = await waitFor(() => descendants(agentPid!).find((p) => p.cmdline.includes("sleep 1000")), 20_000)
      const running = await runtime.runPromise(Effect.gen(function*() {
        return yield* (yield* RunCatalog).get(handle.runId)
      }))
      assert.strictEqual(running.status, "running")

      await runtime.dispose()

      const record = JSON.parse(NodeFs.readFileSync(NodePath.join(stateDir, "runs", handle.runId, "record.json"), "utf8"))
      assert.notStrictEqual(record.status, "running")
      assert.strictEqual(record.outcome?._tag, "Cancelled", JSON.stringify(record.outcome))
      assert.strictEqual(record.outcome.evidence.by, "shutdown")
      assert.strictEqual(record.outcome.evidence.stop?.steps[0]?.signal, "SIGINT")
      assert.isFalse(stillRunning(agentPid!, null), "the agent is still running")
      assert.isFalse(stillRunning(tool.pid, null), `the tool (pid ${tool.pid}: ${tool.cmdline}) is still running`)
      // Nothing went into the XDG state dir: the stateDir override holds the run.
      assert.isFalse(NodeFs.existsSync(NodePath.join(root, "xdg-state", "agentrun", "runs", handle.runId)))
    } finally {
      await runtime.dispose()
      await api.close()
    }
  }, 60_000)

  it("runPromise rejects with the typed failure (BackendUnavailable for --backend k8s); dispose interrupts runFork's fibers", async () => {
    const root = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "agentrun-runtime-"))
    const runtime = AgentrunRuntime.make({ stateDir: NodePath.join(root, "state"), env: {} })
    const spec: RunSpec = {
      prompt: "hi",
      cwd: root,
      claudePath: "claude",
      claudeArgs: [],
      model: null,
      maxTurns: null,
      timeoutMs: null,
      env: {},
      watchdog: null,
      backend: "k8s"
    }
    const error = await runtime.runPromise(Effect.gen(function*() {
      return yield* (yield* Backends).launch(spec)
    })).then(() => null, (e: unknown) => e as { readonly _tag: string; readonly retryable: boolean; readonly message: string })
    assert.strictEqual(error?._tag, "BackendUnavailable")
    assert.isFalse(error!.retryable)
    assert.include(error!.message, "k8s backend is not available")
    const forked = runtime.runFork(Effect.never)
    await runtime.dispose()
    const exit = await Effect.runPromise(Fiber.await(forked))
    assert.isTrue(Exit.hasInterrupts(exit))
    assert.isFalse(NodeFs.existsSync(NodePath.join(root, "state", "runs")) && NodeFs.readdirSync(NodePath.join(root, "state", "runs")).length > 0)
  })
})
