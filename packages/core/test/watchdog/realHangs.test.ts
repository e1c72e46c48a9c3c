/**
 * The hang watchdog on real hangs, through the real local backend (real processes, /proc, the
 * stop sequence, a temp-dir run store): the real `claude` binary against the fake Messages API,
 * and small python3 fake agents for the signal cases. Short timeouts (stall 2 s, probe grace
 * 2.5 s, samples every 200 ms). Linux only (they read /proc).
 */
import { assert } from "@effect/vitest"
import { describe, it } from "vitest"
import { Effect, Layer } from "effect"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { offlineClaudeEnv, type Scenario, start } from "../../../../test/support/fake-anthropic/FakeMessagesApi.ts"
import { claudeBinary as claudeExe } from "../../../../test/support/fake-anthropic/runClaude.ts"
import { scenarios } from "../../../../test/support/fake-anthropic/scenarios.ts"
import { stillRunning } from "../../../../test/support/proc.ts"
import { type RunResult } from "../../src/backend/Backend.ts"
import { LocalBackend } from "../../src/backend/LocalBackend.ts"
import { Bootstrap } from "../../src/bootstrap/Bootstrap.ts"
import type { RunSpec, WatchdogSettings } from "../../src/domain/Run.ts"
import { AgentrunPaths } from "../../src/paths/AgentrunPaths.ts"
import { AgentProcess } from "../../src/process/AgentProcess.ts"
import { StopSequence } from "../../src/process/StopSequence.ts"
import { ProcessTable } from "../../src/procfs/ProcessTable.ts"
import { RunStore } from "../../src/store/RunStore.ts"
import type { HangDump } from "../../src/watchdog/HangDump.ts"

const linux = process.platform === "linux" && NodeFs.existsSync("/proc/self/stat")
const python = (() => {
  try {
    return NodeChildProcess.execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim()
  } catch {
    return null
  }
})()

const settings: WatchdogSettings = {
  stallTimeoutMs: 2_000,
  startupTimeoutMs: 20_000,
  busyTimeoutMs: 0,
  probeGraceMs: 2_500,
  sampleIntervalMs: 200
}

const root = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "agentrun-watchdog-"))

const layer = LocalBackend.layer({
  drainGrace: "500 millis",
  grace: { interruptGrace: "1 second", terminateGrace: "1 second", killGrace: "2 seconds" }
}).pipe(
  // claudePath is always given here, so the bootstrap is never asked.
  Layer.provideMerge(Layer.mergeAll(StopSequence.layer, AgentProcess.layer, RunStore.layer, Bootstrap.layerAt(root))),
  Layer.provideMerge(Layer.mergeAll(ProcessTable.layer, AgentrunPaths.layerTest(root)))
)

const baseSpec = (over: Partial<RunSpec>): RunSpec => ({
  prompt: "hi",
  cwd: NodeFs.mkdtempSync(NodePath.join(root, "cwd-")),
  claudePath: claudeExe,
  claudeArgs: [],
  model: null,
  maxTurns: null,
  timeoutMs: 40_000,
  env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
  watchdog: settings,
  ...over
})

/** Runs one spec through the real backend; returns the result, the dump (if any) and the wall time. */
const runSpec = (spec: RunSpec) =>
  Effect.gen(function*() {
    const backend = yield* LocalBackend
    const store = yield* RunStore
    const started = Date.now()
    const handle = yield* backend.launch(spec)
    const result: RunResult = yield* handle.result
    const dumpFile = NodePath.join(store.runDir(handle.runId), "hang-dump.json")
    const dump = NodeFs.existsSync(dumpFile) ? (JSON.parse(NodeFs.readFileSync(dumpFile, "utf8")) as HangDump) : null
    const text = NodeFs.existsSync(dumpFile.replace(/json$/, "txt")) ? NodeFs.readFileSync(dumpFile.replace(/json$/, "txt"), "utf8") : ""
    const pid = result.record.placement._tag === "Local" ? result.record.placement.agentPid : null
    return { result, dump, text, pid, wallMs: Date.now() - started }
  }).pipe(Effect.scoped, Effect.provide(layer))

/** Runs the real claude against the fake API with a scenario. */
const withClaude = (scenario: Scenario, flags: ReadonlyArray<string> = []) =>
  Effect.acquireUseRelease(
    Effect.promise(() => start({ scenario })),
    (api) => {
      const home = NodeFs.mkdtempSync(NodePath.join(root, "home-"))
      const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...offlineClaudeEnv(api.url, home) }
      return Effect.map(runSpec(baseSpec({ claudeArgs: flags, env })), (r) => ({ ...r, port: api.port }))
    },
    (api) => Effect.promise(() => api.close())
  )

const initLine = JSON.stringify({ type: "system", subtype: "init", session_id: "fake-session", model: "fake", tools: [] })

/** A python3 fake agent: prints `system/init`, then runs `body`. */
const fakeAgent = (name: string, body: string): string => {
  const file = NodePath.join(root, `${name}.py`)
  NodeFs.writeFileSync(file, `#!${python}\nimport os, signal, sys, time, subprocess\nprint(${JSON.stringify(initLine)}, flush=True)\n${body}\n`, { mode: 0o755 })
  return file
}

/** No process of the run is left (the agent pid is gone or a zombie). */
const gone = (pid: number | null): boolean => pid === null || !stillRunning(pid, null)

/** A test running concurrently with the others of the file (they mostly wait on real time). */
const live = (name: string, body: () => Effect.Effect<void, unknown>) => it.concurrent(name, () => Effect.runPromise(body()), 40_000)

const hangEvidence = (outcome: RunResult["outcome"]) => {
  assert.strictEqual(outcome.family, "hang", `${outcome._tag}: ${outcome.message}`)
  return (outcome as Extract<RunResult["outcome"], { family: "hang" }>).evidence
}

describe.skipIf(!linux || !NodeFs.existsSync(claudeExe))("watchdog on real claude (fake Messages API)", () => {
  live("the API accepts the request and never answers: HangInterruptible, waiting on model-api", () =>
    Effect.gen(function*() {
      const r = yield* withClaude(scenarios.hang)
      const o = r.result.outcome
      assert.strictEqual(o._tag, "HangInterruptible", o.message)
      const e = hangEvidence(o)
      assert.strictEqual(e.detection.reason, "stall")
      assert.deepStrictEqual(e.waitingOn, { kind: "model-api", endpoint: `127.0.0.1:${r.port}` })
      assert.isTrue(o.retryable)
      assert.isNotNull(e.dumpPath)
      assert.strictEqual(r.dump?.waitingOn.kind, "model-api")
      assert.isTrue(r.dump!.sockets.some((s) => s.detail?._tag === "Tcp" && s.detail.remotePort === r.port))
      assert.notInclude(JSON.stringify(r.dump), "sk-ant-test-fake-key")
      assert.include(r.text, "waiting on: the Messages API")
      assert.isTrue(gone(r.pid))
    }))

  live("a Bash tool that blocks forever: HangInterruptible, waiting on the tool process, named", () =>
    Effect.gen(function*() {
      const r = yield* withClaude(scenarios.toolSleep, ["--allowedTools", "Bash"])
      const o = r.result.outcome
      assert.strictEqual(o._tag, "HangInterruptible", o.message)
      const e = hangEvidence(o)
      assert.strictEqual(e.waitingOn.kind, "tool-process")
      if (e.waitingOn.kind === "tool-process") {
        assert.include(e.waitingOn.name, "sleep 1000")
        assert.strictEqual(e.waitingOn.state, "S")
      }
      assert.isFalse(o.retryable)
      assert.isTrue(r.dump!.processes.length >= 2)
      // claude killed its tool on SIGINT (aborted_tools); nothing of the run is left.
      for (const p of r.dump!.processes) assert.isTrue(gone(p.pid), `pid ${p.pid} ${p.cmdline.join(" ")} left running`)
    }))

  live("no false hang: one model reply streaming longer than the stall timeout", () =>
    Effect.gen(function*() {
      const r = yield* withClaude({ name: "slow", replies: [{ kind: "slowText", durationMs: 6_000, chunks: 12 }] })
      assert.strictEqual(r.result.outcome._tag, "Succeeded", r.result.outcome.message)
      assert.isNull(r.dump)
    }))

  live("no false hang: a tool that computes longer than the stall timeout", () =>
    Effect.gen(function*() {
      const r = yield* withClaude({
        name: "compute",
        replies: [
          { kind: "toolUse", command: "timeout 5 sh -c 'while :; do :; done'; echo computed", description: "Compute" },
          { kind: "text", text: "Computed." }
        ]
      }, ["--allowedTools", "Bash"])
      assert.strictEqual(r.result.outcome._tag, "Succeeded", r.result.outcome.message)
      assert.isTrue(r.wallMs > 5_000)
    }))
})

describe.skipIf(!linux || python === null)("watchdog on fake agents (python3)", () => {
  live("blocks SIGINT and SIGTERM: HangUnresponsive, SigBlk in the dump", () =>
    Effect.gen(function*() {
      const agent = fakeAgent("blocker", "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})\ntime.sleep(1000)")
      const r = yield* runSpec(baseSpec({ claudePath: agent }))
      const o = r.result.outcome
      assert.strictEqual(o._tag, "HangUnresponsive", o.message)
      if (o._tag !== "HangUnresponsive") return
      assert.includeMembers([...r.dump!.signals!.blocked], ["SIGINT", "SIGTERM"])
      assert.deepStrictEqual(o.evidence.sigint && { blocked: o.evidence.sigint.blocked, ignored: o.evidence.sigint.ignored }, { blocked: true, ignored: false })
      assert.includeMembers([...o.evidence.unanswered], ["SIGINT", "SIGTERM"])
      assert.include(o.message, "SIGINT is blocked")
      assert.strictEqual(o.evidence.process.signal?.name, "SIGKILL")
      assert.isTrue(gone(r.pid))
    }))

  live("ignores SIGINT and SIGTERM: HangUnresponsive, SigIgn in the dump", () =>
    Effect.gen(function*() {
      const agent = fakeAgent("ignorer", "signal.signal(signal.SIGINT, signal.SIG_IGN)\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(1000)")
      const r = yield* runSpec(baseSpec({ claudePath: agent }))
      const o = r.result.outcome
      assert.strictEqual(o._tag, "HangUnresponsive", o.message)
      if (o._tag !== "HangUnresponsive") return
      assert.includeMembers([...r.dump!.signals!.ignored], ["SIGINT", "SIGTERM"])
      assert.isTrue(o.evidence.sigint?.ignored)
      assert.include(o.message, "SIGINT is ignored")
      assert.isTrue(gone(r.pid))
    }))

  live("stops itself (SIGSTOP): HangUnresponsive, state T", () =>
    Effect.gen(function*() {
      const agent = fakeAgent("stopper", "os.kill(os.getpid(), signal.SIGSTOP)\ntime.sleep(1000)")
      const r = yield* runSpec(baseSpec({ claudePath: agent }))
      const o = r.result.outcome
      assert.strictEqual(o._tag, "HangUnresponsive", o.message)
      if (o._tag !== "HangUnresponsive") return
      assert.strictEqual(o.evidence.sigint?.state, "T")
      assert.strictEqual(r.dump!.processes[0]!.state, "T")
      assert.include(o.message, "state T")
      assert.isTrue(gone(r.pid))
    }))

  live("a busy loop with no output: HangBusy", () =>
    Effect.gen(function*() {
      const agent = fakeAgent("spinner", "while True:\n    pass")
      const r = yield* runSpec(baseSpec({ claudePath: agent, watchdog: { ...settings, busyTimeoutMs: 2_000 } }))
      const o = r.result.outcome
      assert.strictEqual(o._tag, "HangBusy", o.message)
      if (o._tag !== "HangBusy") return
      assert.isAtLeast(o.evidence.cpuPercent, 50)
      assert.strictEqual(o.evidence.detection.reason, "busy")
      assert.isTrue(gone(r.pid))
    }))

  live("no init at all: a startup hang", () =>
    Effect.gen(function*() {
      const file = NodePath.join(root, "silent.py")
      NodeFs.writeFileSync(file, `#!${python}\nimport time\ntime.sleep(1000)\n`, { mode: 0o755 })
      const r = yield* runSpec(baseSpec({ claudePath: file, watchdog: { ...settings, stallTimeoutMs: 60_000, startupTimeoutMs: 1_500 } }))
      const o = r.result.outcome
      assert.strictEqual(o._tag, "HangInterruptible", o.message)
      assert.strictEqual(hangEvidence(o).detection.reason, "startup")
    }))

  live("no false hang: a slow steady run (output every 0.7 s, stall 2 s)", () =>
    Effect.gen(function*() {
      const result = JSON.stringify({ type: "result", subtype: "success", is_error: false, result: "steady", num_turns: 1, session_id: "fake-session" })
      const agent = fakeAgent(
        "steady",
        `for i in range(8):\n    time.sleep(0.7)\n    print(${JSON.stringify(JSON.stringify({ type: "system", subtype: "status" }))}, flush=True)\nprint(${JSON.stringify(result)}, flush=True)`
      )
      const r = yield* runSpec(baseSpec({ claudePath: agent }))
      assert.strictEqual(r.result.outcome._tag, "Succeeded", r.result.outcome.message)
    }))

  live("no false hang: a child computing longer than the stall timeout", () =>
    Effect.gen(function*() {
      const result = JSON.stringify({ type: "result", subtype: "success", is_error: false, result: "computed", num_turns: 1, session_id: "fake-session" })
      const agent = fakeAgent(
        "computer",
        `subprocess.run(["sh", "-c", "timeout 4 sh -c 'while :; do :; done'"])\nprint(${JSON.stringify(result)}, flush=True)`
      )
      const r = yield* runSpec(baseSpec({ claudePath: agent }))
      assert.strictEqual(r.result.outcome._tag, "Succeeded", r.result.outcome.message)
    }))
})
