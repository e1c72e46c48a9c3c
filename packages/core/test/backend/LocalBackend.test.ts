import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Backends } from "../../src/backend/Backends.ts"
import { LocalBackend } from "../../src/backend/LocalBackend.ts"
import type { BootstrapReport } from "../../src/bootstrap/Bootstrap.ts"
import type { RunSpec } from "../../src/domain/Run.ts"
import { AgentProcess } from "../../src/process/AgentProcess.ts"
import { StopSequence } from "../../src/process/StopSequence.ts"
import { RunCatalog } from "../../src/runs/RunCatalog.ts"
import { RunStore } from "../../src/store/RunStore.ts"
import { AgentProcessTest, BootstrapTest, type FakeAgentScript, MemoryRunStore, ProcessTableTest } from "../../src/testing.ts"
import { loadTranscript } from "../support/Transcripts.ts"

const agentLayerTest = AgentProcessTest.layerTest

const spec: RunSpec = {
  prompt: "do it with sk-ant-api03-supersecretvalue",
  cwd: "/work",
  claudePath: "claude",
  claudeArgs: ["--allowedTools", "Bash"],
  model: null,
  maxTurns: null,
  timeoutMs: null,
  env: { ANTHROPIC_API_KEY: "sk-ant-api03-supersecretvalue", MY_TOKEN: "tok-1234567890" },
  watchdog: null
}

/** A bootstrap that found no usable claude: its lock is held by another build (SkipSentinel). */
const lockHeld: BootstrapReport = {
  runtime: "claude-cli",
  outcome: "SkipSentinel",
  outcomeCode: 5,
  present: false,
  phase: null,
  phaseCode: null,
  error: null,
  message: "Another agentrun process (pid 77) is installing claude-cli; retry when it is done.",
  executable: null,
  pythonPath: null,
  version: null,
  interpreterVersion: null,
  retryAfterMs: null,
  retryAt: null,
  holder: null,
  durationMs: 3,
  telemetry: undefined as never
}

const layerFor = (script: FakeAgentScript, bootstrap: BootstrapReport = lockHeld) =>
  RunCatalog.layer.pipe(
    Layer.provideMerge(Backends.layer),
    Layer.provideMerge(LocalBackend.layer({ drainGrace: "100 millis" })),
    Layer.provideMerge(Layer.mergeAll(StopSequence.layer, agentLayerTest(() => script), MemoryRunStore.layer, BootstrapTest.layer(() => bootstrap))),
    Layer.provideMerge(ProcessTableTest.layer)
  )

describe("local backend (test layers, TestClock)", () => {
  it.effect("a successful transcript gives Succeeded, a stored record and redacted events", () =>
    Effect.gen(function*() {
      const backend = yield* LocalBackend
      const store = yield* RunStore
      const handle = yield* backend.launch(spec)
      const progress = yield* Effect.forkChild(Stream.runCollect(handle.progress))
      yield* TestClock.adjust(100)
      const { outcome, record, summary } = yield* handle.result
      assert.strictEqual(outcome._tag, "Succeeded")
      assert.strictEqual(record.status, "succeeded")
      assert.isTrue((summary.costUsd ?? 0) > 0)
      const stored = yield* store.readRecord(handle.runId)
      assert.strictEqual(stored.outcome?._tag, "Succeeded")
      assert.notInclude(stored.promptPreview, "supersecret")
      const events = yield* store.readEvents(handle.runId)
      assert.strictEqual(events.length, loadTranscript("tool-use").stdoutLines.length + 1)
      assert.isFalse(events.some((l) => l.includes("tok-1234567890")))
      const tags = (yield* Fiber.join(progress)).map((p) => p._tag)
      assert.strictEqual(tags[0], "Started")
      assert.include(tags, "ToolUse")
      assert.strictEqual(tags[tags.length - 1], "Ended")
    }).pipe(Effect.scoped, Effect.provide(layerFor({
      // The real tool-use transcript, plus a tool output line leaking a token.
      stdout: [...loadTranscript("tool-use").stdoutLines, JSON.stringify({ type: "user", leaked: "tok-1234567890" })],
      exitAfterMs: 50
    }))))

  it.effect("the deadline runs the stop sequence and records DeadlineExceeded with the steps", () =>
    Effect.gen(function*() {
      const backend = yield* LocalBackend
      const handle = yield* backend.launch({ ...spec, timeoutMs: 5000 })
      const result = yield* Effect.forkChild(handle.result)
      for (let i = 0; i < 40; i++) yield* TestClock.adjust(1000)
      const { outcome, record } = yield* Fiber.join(result)
      assert.strictEqual(outcome._tag, "DeadlineExceeded")
      if (outcome._tag !== "DeadlineExceeded") return
      assert.strictEqual(outcome.evidence.deadline.timeoutMs, 5000)
      assert.deepStrictEqual(outcome.evidence.deadline.stop.steps.map((s) => [s.signal, s.answered]), [["SIGINT", false], ["SIGTERM", true]])
      assert.strictEqual(record.status, "failed")
    }).pipe(Effect.scoped, Effect.provide(layerFor({ reactions: { SIGINT: "ignore" } }))))

  it.effect("the deadline on an agent that outlives SIGKILL (D state) still ends the run, the stop saying it gave up", () =>
    Effect.gen(function*() {
      const backend = yield* LocalBackend
      const handle = yield* backend.launch({ ...spec, timeoutMs: 5000 })
      const result = yield* Effect.forkChild(handle.result)
      for (let i = 0; i < 60; i++) yield* TestClock.adjust(1000)
      const { outcome, record } = yield* Fiber.join(result)
      assert.strictEqual(outcome._tag, "DeadlineExceeded")
      if (outcome._tag !== "DeadlineExceeded") return
      const stop = outcome.evidence.deadline.stop
      assert.deepStrictEqual(stop.steps.map((s) => [s.signal, s.answered]), [["SIGINT", false], ["SIGTERM", false], ["SIGKILL", false]])
      assert.isFalse(stop.ended)
      assert.strictEqual(record.status, "failed")
    }).pipe(Effect.scoped, Effect.provide(layerFor({ state: "D" }))))

  it.effect("reattach replays a finished run's progress to its verdict, and follows a live one to its end", () =>
    Effect.gen(function*() {
      const backend = yield* LocalBackend
      const controls = yield* ProcessTableTest
      // The supervisor (this process) must look alive, or the catalog would recover the live run as Interrupted.
      yield* controls.seed({ pid: process.pid, ppid: 1, cmdline: ["agentrun"] })
      const live = yield* backend.launch(spec)
      yield* TestClock.adjust(10)
      const catalog = yield* RunCatalog
      const attached = yield* catalog.reattach(live.runId.slice(0, 22))
      assert.strictEqual(attached.runId, live.runId)
      const progress = yield* Effect.forkChild(Stream.runCollect(attached.progress))
      const result = yield* Effect.forkChild(attached.result)
      for (let i = 0; i < 30; i++) yield* TestClock.adjust(200)
      const { outcome } = yield* Fiber.join(result)
      assert.strictEqual(outcome._tag, "Succeeded")
      const tags = (yield* Fiber.join(progress)).map((p) => p._tag)
      assert.strictEqual(tags[0], "Started")
      assert.include(tags, "ToolUse")
      assert.strictEqual(tags[tags.length - 1], "Ended")
      // Once finished, a new reattach replays the same run at once.
      const again = yield* catalog.reattach(live.runId)
      const replay = yield* Stream.runCollect(again.progress)
      assert.deepStrictEqual(replay.map((p) => p._tag), tags)
      assert.strictEqual((yield* again.result).outcome._tag, "Succeeded")
    }).pipe(Effect.scoped, Effect.provide(layerFor({ stdout: loadTranscript("tool-use").stdoutLines, exitAfterMs: 3000 }))))

  it.effect("reattach to an unknown run fails with RunNotFound", () =>
    Effect.gen(function*() {
      const catalog = yield* RunCatalog
      const error = yield* Effect.flip(catalog.reattach("no-such-run"))
      assert.strictEqual(error._tag, "RunNotFound")
    }).pipe(Effect.provide(layerFor({}))))

  it.effect("a run's own stop grace periods (from the config) replace the defaults", () =>
    Effect.gen(function*() {
      const backend = yield* LocalBackend
      const handle = yield* backend.launch({ ...spec, timeoutMs: 1000, stopGrace: { interruptGraceMs: 1500, terminateGraceMs: 2500 } })
      const result = yield* Effect.forkChild(handle.result)
      for (let i = 0; i < 20; i++) yield* TestClock.adjust(500)
      const { outcome } = yield* Fiber.join(result)
      assert.strictEqual(outcome._tag, "DeadlineExceeded")
      if (outcome._tag !== "DeadlineExceeded") return
      assert.deepStrictEqual(
        outcome.evidence.deadline.stop.steps.map((s) => [s.signal, s.atMs, s.answered]),
        [["SIGINT", 0, false], ["SIGTERM", 1500, false], ["SIGKILL", 4000, true]]
      )
    }).pipe(Effect.scoped, Effect.provide(layerFor({ reactions: { SIGINT: "ignore", SIGTERM: "ignore" } }))))

  it.effect("cancel with SIGTERM records Cancelled (exit 143 in the CLI)", () =>
    Effect.gen(function*() {
      const backend = yield* LocalBackend
      const handle = yield* backend.launch(spec)
      yield* TestClock.adjust(1000)
      yield* handle.cancel("SIGTERM")
      const result = yield* Effect.forkChild(handle.result)
      yield* TestClock.adjust(1000)
      const { outcome } = yield* Fiber.join(result)
      assert.strictEqual(outcome._tag, "Cancelled")
      if (outcome._tag !== "Cancelled") return
      assert.strictEqual(outcome.evidence.signal, "SIGTERM")
      assert.strictEqual(outcome.evidence.stop?.steps[0]?.signal, "SIGINT")
    }).pipe(Effect.scoped, Effect.provide(layerFor({ reactions: { SIGINT: "exit" } }))))

  it.effect("no --claude-path and no usable claude: RuntimeUnavailable carrying the bootstrap outcome, nothing spawned", () =>
    Effect.gen(function*() {
      const backend = yield* LocalBackend
      const handle = yield* backend.launch({ ...spec, claudePath: null })
      const { outcome, record } = yield* handle.result
      assert.strictEqual(outcome._tag, "RuntimeUnavailable")
      if (outcome._tag !== "RuntimeUnavailable") return
      assert.deepInclude(outcome.evidence.bootstrap, { outcome: "SkipSentinel", outcomeCode: 5 })
      assert.isTrue(outcome.retryable)
      assert.match(outcome.message, /pid 77/)
      assert.strictEqual(record.placement._tag === "Local" ? record.placement.agentPid : "not local", null)
      assert.strictEqual(record.status, "failed")
    }).pipe(Effect.scoped, Effect.provide(layerFor({}))))

  it.effect("a spawn failure is the run's outcome, not an error", () =>
    Effect.gen(function*() {
      const backend = yield* LocalBackend
      const handle = yield* backend.launch({ ...spec, claudePath: "/nonexistent/claude", cwd: "/" })
      const { outcome } = yield* handle.result
      assert.strictEqual(outcome._tag, "SpawnFailed")
    }).pipe(
      Effect.scoped,
      Effect.provide(
        LocalBackend.layer().pipe(
          Layer.provideMerge(Layer.mergeAll(StopSequence.layer, MemoryRunStore.layer, BootstrapTest.layer(() => lockHeld))),
          Layer.provideMerge(Layer.mergeAll(ProcessTableTest.layer, AgentProcess.layer))
        )
      )
    ))
})
