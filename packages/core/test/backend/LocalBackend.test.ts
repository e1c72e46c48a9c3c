import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Backend } from "../../src/backend/Backend.ts"
import { LocalBackend } from "../../src/backend/LocalBackend.ts"
import type { RunSpec } from "../../src/domain/Run.ts"
import { AgentProcess } from "../../src/process/AgentProcess.ts"
import { type FakeAgentScript, layerTest as agentLayerTest } from "../../src/process/AgentProcessTest.ts"
import { StopSequence } from "../../src/process/StopSequence.ts"
import { ProcessTable } from "../../src/procfs/ProcessTable.ts"
import { RunStore } from "../../src/store/RunStore.ts"
import { loadTranscript } from "../support/Transcripts.ts"

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

const layerFor = (script: FakeAgentScript) =>
  LocalBackend.layer({ drainGrace: "100 millis" }).pipe(
    Layer.provideMerge(Layer.mergeAll(StopSequence.layer, agentLayerTest(() => script), RunStore.layerTest)),
    Layer.provideMerge(ProcessTable.layerTest)
  )

describe("local backend (test layers, TestClock)", () => {
  it.effect("a successful transcript gives Succeeded, a stored record and redacted events", () =>
    Effect.gen(function*() {
      const backend = yield* Backend
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
      const backend = yield* Backend
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

  it.effect("cancel with SIGTERM records Cancelled (exit 143 in the CLI)", () =>
    Effect.gen(function*() {
      const backend = yield* Backend
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

  it.effect("a spawn failure is the run's outcome, not an error", () =>
    Effect.gen(function*() {
      const backend = yield* Backend
      const handle = yield* backend.launch({ ...spec, claudePath: "/nonexistent/claude", cwd: "/" })
      const { outcome } = yield* handle.result
      assert.strictEqual(outcome._tag, "SpawnFailed")
    }).pipe(
      Effect.scoped,
      Effect.provide(
        LocalBackend.layer().pipe(
          Layer.provideMerge(Layer.mergeAll(StopSequence.layer, RunStore.layerTest)),
          Layer.provideMerge(Layer.mergeAll(ProcessTable.layerTest, AgentProcess.layer))
        )
      )
    ))
})
