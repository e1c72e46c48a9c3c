/**
 * A run always ends with a record (issue #12, section 1): the failures that used to leave a run
 * without a verdict (a record write after spawn, a defect in the supervisor, a full disk under
 * events.jsonl, the backend's scope closing mid-run), each injected through a test layer.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Fiber, Layer, Logger, Scope, Stream } from "effect"
import { TestClock } from "effect/testing"
import { type RunResult } from "../../src/backend/Backend.ts"
import { LocalBackend } from "../../src/backend/LocalBackend.ts"
import { Bootstrap, type BootstrapReport, managedDirs } from "../../src/bootstrap/Bootstrap.ts"
import type { RunRecord, RunSpec } from "../../src/domain/Run.ts"
import { AgentProcess } from "../../src/process/AgentProcess.ts"
import { runCookieName, StopSequence } from "../../src/process/StopSequence.ts"
import { RunStore, RunStoreError } from "../../src/store/RunStore.ts"
import { AgentProcessTest, BootstrapTest, type FakeAgentScript, MemoryRunStore, ProcessTableTest } from "../../src/testing.ts"
import { loadTranscript } from "../support/Transcripts.ts"

const agentLayerTest = AgentProcessTest.layerTest

const spec: RunSpec = {
  prompt: "do it",
  cwd: "/work",
  claudePath: "claude",
  claudeArgs: [],
  model: null,
  maxTurns: null,
  timeoutMs: null,
  env: {},
  watchdog: null
}

const noClaude: BootstrapReport = {
  runtime: "claude-cli",
  outcome: "SkipSentinel",
  outcomeCode: 5,
  present: false,
  phase: null,
  phaseCode: null,
  error: null,
  message: "Another agentrun process is installing claude-cli.",
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

const enospc = (path: string) =>
  new RunStoreError({ message: `Run store: append ${path} failed (ENOSPC).`, operation: "append", path, code: "ENOSPC", retryable: false })

/** Faults a test injects into the memory store. */
interface StoreFaults {
  /** Fails this record write (1-based count of `writeRecord` calls) and every later one. */
  readonly failRecordWriteFrom?: number
  /** events.jsonl appends fail from this one on (1-based). */
  readonly failEventsAppendFrom?: number
}

/** The memory store, with writes that fail as `faults` say. */
const faultyStore = (faults: StoreFaults) =>
  Layer.effect(
    RunStore,
    Effect.gen(function*() {
      const store = yield* RunStore
      let recordWrites = 0
      let appends = 0
      return RunStore.of({
        ...store,
        writeRecord: (record) =>
          Effect.suspend(() => {
            recordWrites++
            return faults.failRecordWriteFrom !== undefined && recordWrites >= faults.failRecordWriteFrom
              ? Effect.fail(new RunStoreError({ message: "Run store: write record.json failed (EIO).", operation: "write", path: "/memory/record.json", code: "EIO", retryable: false }))
              : store.writeRecord(record)
          }),
        openEvents: (runId) =>
          Effect.map(store.openEvents(runId), (log) => {
            const guard = <A>(append: Effect.Effect<A, RunStoreError>) =>
              Effect.suspend(() => {
                appends++
                return faults.failEventsAppendFrom !== undefined && appends >= faults.failEventsAppendFrom
                  ? Effect.fail(enospc(`/memory/runs/${runId}/events.jsonl`))
                  : append
              })
            return { append: (lines) => guard(log.append(lines)), appendBytes: (bytes) => guard(log.appendBytes(bytes)) }
          })
      })
    })
  ).pipe(Layer.provide(MemoryRunStore.layer))

/** A fake agent whose stdout arrives one line per batch (as a real pipe delivers a long run). */
const lineByLine = Layer.effect(
  AgentProcess,
  Effect.map(AgentProcess, (agents) =>
    AgentProcess.of({
      spawn: (command) =>
        Effect.map(agents.spawn(command), (handle) => ({
          ...handle,
          stdout: Stream.flatMap(handle.stdout, (batch) => Stream.fromIterable(batch.lines.map((line) => ({ lines: [line], bytes: null }))))
        }))
    }))
)

/** A fake agent whose stdout reader dies (a bug in a reader, not a failure of the agent). */
const dyingReader = Layer.effect(
  AgentProcess,
  Effect.map(AgentProcess, (agents) =>
    AgentProcess.of({
      spawn: (command) => Effect.map(agents.spawn(command), (handle) => ({ ...handle, stdout: Stream.die(new Error("reader bug")) }))
    }))
)

/** Everything the backend needs, with the store, process table and agents the test inspects. */
const depsFor = (
  script: (env: Readonly<Record<string, string | undefined>>) => FakeAgentScript,
  options: { readonly faults?: StoreFaults; readonly agents?: "line-by-line" | "dying-reader"; readonly bootstrap?: Layer.Layer<Bootstrap> } = {}
) => {
  const fake = agentLayerTest((command) => script(command.env))
  const agents = options.agents === "line-by-line"
    ? Layer.provide(lineByLine, fake)
    : options.agents === "dying-reader"
    ? Layer.provide(dyingReader, fake)
    : fake
  return Layer.mergeAll(
    StopSequence.layer,
    agents,
    faultyStore(options.faults ?? {}),
    options.bootstrap ?? BootstrapTest.layer(() => noClaude)
  ).pipe(Layer.provideMerge(ProcessTableTest.layer))
}

const backendLayer = LocalBackend.layer({ drainGrace: "100 millis" })

/** Advances the TestClock until `fiber` is done (or `ms` ran out), in 250 ms steps. */
const settle = <A, E>(fiber: Fiber.Fiber<A, E>, ms = 60_000) =>
  Effect.gen(function*() {
    for (let t = 0; t < ms && fiber.pollUnsafe() === undefined; t += 250) yield* TestClock.adjust(250)
    return fiber.pollUnsafe()
  })

/** The run's result, or a failed assertion if it never came. */
const resultWithin = (result: Effect.Effect<RunResult>, ms = 60_000) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(result)
    const exit = yield* settle(fiber, ms)
    assert.isDefined(exit, "handle.result never completed")
    assert.isTrue(exit !== undefined && Exit.isSuccess(exit), "handle.result failed")
    return yield* Fiber.join(fiber)
  })

/** A run that goes on until signalled (SIGINT ends it: claude's Ctrl-C). */
const untilSignalled = () => ({ reactions: { SIGINT: "exit" as const } })

describe("a run always ends with a record", () => {
  it.effect("the record write after spawn fails: result completes (SupervisionFailed) and the agent is stopped", () =>
    Effect.gen(function*() {
      const backend = yield* LocalBackend
      const controls = yield* ProcessTableTest
      const handle = yield* backend.launch(spec)
      const { outcome, record } = yield* resultWithin(handle.result)
      assert.strictEqual(outcome._tag, "SupervisionFailed")
      if (outcome._tag !== "SupervisionFailed") return
      assert.strictEqual(outcome.evidence.reason, "store-write-failed")
      assert.strictEqual(outcome.evidence.storeError?.code, "EIO")
      assert.strictEqual(outcome.evidence.stop?.steps[0]?.signal, "SIGINT")
      assert.strictEqual(record.status, "failed")
      const log = yield* controls.signalLog
      assert.isTrue(log.some((e) => e.signal === "SIGINT" && e.outcome === "delivered"), "the agent was not stopped")
      assert.isFalse(yield* controls.control.isAlive(4000))
    }).pipe(Effect.scoped, Effect.provide(backendLayer.pipe(Layer.provideMerge(depsFor(untilSignalled, { faults: { failRecordWriteFrom: 2 } }))))))

  it.effect("a defect in a reader ends supervision: result completes (SupervisionFailed) and the agent is stopped", () =>
    Effect.gen(function*() {
      const backend = yield* LocalBackend
      const controls = yield* ProcessTableTest
      const store = yield* RunStore
      const handle = yield* backend.launch(spec)
      const { outcome } = yield* resultWithin(handle.result)
      assert.strictEqual(outcome._tag, "SupervisionFailed")
      if (outcome._tag !== "SupervisionFailed") return
      assert.strictEqual(outcome.evidence.reason, "defect")
      assert.match(outcome.evidence.defect ?? "", /reader bug/)
      assert.isFalse(yield* controls.control.isAlive(4000))
      // The store works: the final record says so too.
      assert.strictEqual((yield* store.readRecord(handle.runId)).outcome?._tag, "SupervisionFailed")
    }).pipe(Effect.scoped, Effect.provide(backendLayer.pipe(Layer.provideMerge(depsFor(untilSignalled, { agents: "dying-reader" }))))))

  it.effect("a defect before the agent exists (the bootstrap dies): result completes with SupervisionFailed, recorded", () =>
    Effect.gen(function*() {
      const backend = yield* LocalBackend
      const store = yield* RunStore
      const handle = yield* backend.launch({ ...spec, claudePath: null })
      const { outcome } = yield* resultWithin(handle.result)
      assert.strictEqual(outcome._tag, "SupervisionFailed")
      assert.strictEqual((yield* store.readRecord(handle.runId)).status, "failed")
    }).pipe(
      Effect.scoped,
      Effect.provide(backendLayer.pipe(Layer.provideMerge(depsFor(untilSignalled, {
        bootstrap: Layer.succeed(Bootstrap, Bootstrap.of({
          attempt: () => Effect.die("unused"),
          probe: () => Effect.die("unused"),
          ensure: () => Effect.die("unused"),
          resolveClaude: () => Effect.die(new Error("bootstrap bug")),
          doctor: Effect.die("unused"),
          managed: managedDirs("/nonexistent/agentrun")
        }))
      }))))
    ))

  it.effect("events.jsonl appends fail (ENOSPC): stdout is still drained, one warning, the verdict says the transcript is incomplete", () => {
    const warnings: Array<string> = []
    const collector = Logger.make((options) => {
      if (options.logLevel === "Warn" || options.logLevel === "Error") warnings.push(String(options.message))
    })
    return Effect.gen(function*() {
      const backend = yield* LocalBackend
      const store = yield* RunStore
      const handle = yield* backend.launch(spec)
      const { outcome } = yield* resultWithin(handle.result)
      // The result line came after the first failed append: it was still read.
      assert.strictEqual(outcome._tag, "Succeeded")
      if (outcome._tag !== "Succeeded") return
      const incomplete = outcome.evidence.process.transcriptIncomplete
      assert.isDefined(incomplete)
      assert.strictEqual(incomplete?.code, "ENOSPC")
      assert.strictEqual(incomplete?.storedLines, 1)
      assert.strictEqual(incomplete?.lostLines, loadTranscript("tool-use").stdoutLines.length - 1)
      assert.strictEqual(warnings.filter((w) => w.includes("ENOSPC")).length, 1, `warnings: ${warnings.join(" | ")}`)
      assert.strictEqual((yield* store.readEvents(handle.runId)).length, 1)
    }).pipe(
      Effect.scoped,
      Effect.provide(backendLayer.pipe(Layer.provideMerge(depsFor(
        () => ({ stdout: loadTranscript("tool-use").stdoutLines, exitAfterMs: 50 }),
        { faults: { failEventsAppendFrom: 2 }, agents: "line-by-line" }
      )))),
      Effect.provide(Logger.layer([collector]))
    )
  })

  it.effect("the backend's scope closes mid-run: final record Cancelled (by shutdown), agent stopped, setsid tools swept", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      const controls = yield* ProcessTableTest
      const scope = yield* Scope.make()
      const services = yield* Layer.buildWithScope(backendLayer, scope)
      const backend = Context.get(services, LocalBackend)
      const handle = yield* Scope.provide(scope)(backend.launch(spec))
      yield* TestClock.adjust(1000)
      assert.strictEqual((yield* store.readRecord(handle.runId)).status, "running")
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      assert.isDefined(yield* settle(closing), "the scope did not close")
      const record: RunRecord = yield* store.readRecord(handle.runId)
      assert.strictEqual(record.outcome?._tag, "Cancelled")
      if (record.outcome?._tag !== "Cancelled") return
      assert.strictEqual(record.outcome.evidence.by, "shutdown")
      assert.strictEqual(record.outcome.evidence.stop?.steps[0]?.signal, "SIGINT")
      const log = yield* controls.signalLog
      assert.isTrue(log.some((e) => e.id === 9000 && e.signal === "SIGKILL"), "the setsid tool was not swept")
      assert.isFalse(yield* controls.control.isAlive(9000))
    }).pipe(Effect.scoped, Effect.provide(depsFor((env) => ({
      reactions: { SIGINT: "exit" },
      // A tool that setsid()s: its own session, only the run cookie links it to the run.
      children: [{ pid: 9000, ppid: 1, pgid: 9000, sid: 9000, environ: { [runCookieName]: env[runCookieName] ?? "" } }]
    })))))
})
