/**
 * The Watchdog service with fake agents in the in-memory process table, driven by TestClock:
 * sampling, detection, the dump written before any signal, the SIGINT probe and its classification.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { makeRedactor } from "../../src/domain/Redaction.ts"
import type { WatchdogSettings } from "../../src/domain/Run.ts"
import { type HangAction, verdict } from "../../src/domain/Verdict.ts"
import { emptyObservation } from "../../src/domain/Observation.ts"
import { AgentProcess } from "../../src/process/AgentProcess.ts"
import { StopSequence } from "../../src/process/StopSequence.ts"
import { ProcfsUnavailable } from "../../src/procfs/ProcfsErrors.ts"
import { ProcessControl } from "../../src/procfs/ProcessControl.ts"
import { ProcessTable } from "../../src/procfs/ProcessTable.ts"
import type { Activity } from "../../src/watchdog/Detection.ts"
import { type HangFound, Watchdog } from "../../src/watchdog/Watchdog.ts"
import { artifactsIn } from "../../src/store/AtomicWrite.ts"
import { AgentProcessTest, type FakeAgentScript, ProcessTableTest } from "../../src/testing.ts"

const agentLayerTest = AgentProcessTest.layerTest

const settings: WatchdogSettings = { stallTimeoutMs: 10_000, startupTimeoutMs: 60_000, busyTimeoutMs: 20_000, probeGraceMs: 3_000, sampleIntervalMs: 1_000 }
const quiet: Activity = { lastOutputAtMs: 0, initSeen: true, lastLines: ["{\"type\":\"system\",\"subtype\":\"init\"}"] }

const layerFor = (script: FakeAgentScript) =>
  Watchdog.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(StopSequence.layer, agentLayerTest(() => script))),
    Layer.provideMerge(ProcessTableTest.layer)
  )

const spawn = Effect.gen(function*() {
  const agents = yield* AgentProcess
  return yield* agents.spawn({ executable: "claude", args: [], cwd: "/", env: {}, stdin: "" })
})

/** A few real milliseconds, for the dump's file writes (real I/O) to land between clock steps. */
const realPause = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 5)))

/** Advances the TestClock second by second until the fiber is done (at most `maxS` seconds). */
const until = <A>(fiber: Fiber.Fiber<A>, maxS: number, each: (s: number) => Effect.Effect<void> = () => Effect.void) =>
  Effect.gen(function*() {
    for (let s = 1; s <= maxS && fiber.pollUnsafe() === undefined; s++) {
      yield* each(s)
      yield* realPause
      yield* TestClock.adjust(1_000)
    }
    return yield* Fiber.join(fiber)
  })

describe("Watchdog (in-memory table, TestClock)", () => {
  it.effect("an idle agent is a stall after the stall timeout (within one sample)", () =>
    Effect.gen(function*() {
      const watchdog = yield* Watchdog
      const agent = yield* spawn
      const fiber = yield* Effect.forkChild(watchdog.watch(agent, Effect.succeed(quiet), settings))
      const found: HangFound = yield* until(fiber, 30)
      assert.strictEqual(found.detection.reason, "stall")
      assert.isAtLeast(found.detection.idleMs, 10_000)
      assert.isAtMost(found.detection.idleMs, 11_000)
    }).pipe(Effect.scoped, Effect.provide(layerFor({}))))

  it.effect("CPU in a tool child keeps the run alive; when it stops, the stall clock runs out", () =>
    Effect.gen(function*() {
      const watchdog = yield* Watchdog
      const controls = yield* ProcessTableTest
      const agent = yield* spawn
      const fiber = yield* Effect.forkChild(watchdog.watch(agent, Effect.succeed(quiet), settings))
      // 20 ticks per second (20% of a core) in the child for 30 s, then nothing.
      const found = yield* until(fiber, 60, (s) => (s <= 30 ? controls.update(agent.pid + 1, { utimeTicks: s * 20 }) : Effect.void))
      assert.strictEqual(found.detection.reason, "stall")
      const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
      assert.isAtLeast(now, 40_000)
    }).pipe(Effect.scoped, Effect.provide(layerFor({ children: [{ pid: 4001, cmdline: ["python3", "train.py"] }] }))))

  it.effect("busy: the agent itself burning CPU with no output", () =>
    Effect.gen(function*() {
      const watchdog = yield* Watchdog
      const controls = yield* ProcessTableTest
      const agent = yield* spawn
      const fiber = yield* Effect.forkChild(watchdog.watch(agent, Effect.succeed(quiet), settings))
      const found = yield* until(fiber, 40, (s) => controls.update(agent.pid, { utimeTicks: s * 90 }))
      assert.strictEqual(found.detection.reason, "busy")
      assert.closeTo(found.measured.agentCpuPercent!, 90, 5)
    }).pipe(Effect.scoped, Effect.provide(layerFor({}))))

  it.effect("triage, probe answered: the dump is written first, SIGINT to the pid only, HangInterruptible", () =>
    Effect.gen(function*() {
      const watchdog = yield* Watchdog
      const controls = yield* ProcessTableTest
      const agent = yield* spawn
      const runDir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "agentrun-wd-unit-"))
      const found: HangFound = { detection: { reason: "stall", idleMs: 10_000, timeoutMs: 10_000 }, measured: { treeCpuPercent: 0, agentCpuPercent: 0, rcharBytesPerSecond: null }, unavailable: [] }
      const fiber = yield* Effect.forkChild(watchdog.triage(agent, found, { artifacts: artifactsIn(runDir), env: {}, redactor: makeRedactor({}), lastOutput: [], settings }))
      // The dump is real file I/O: wait (real time) until the probe went out, then move the clock.
      for (let waited = 0; (yield* controls.signalLog).length === 0; waited += 5) {
        assert.isBelow(waited, 10_000, "the probe never went out")
        yield* realPause
      }
      yield* TestClock.adjust(1_000)
      const action: HangAction = yield* Fiber.join(fiber)
      assert.deepStrictEqual(action.probe, { answered: true, afterMs: 800 })
      assert.isNull(action.stop)
      assert.deepStrictEqual((yield* controls.signalLog).map((e) => [e.target, e.signal]), [["process", "SIGINT"]])
      assert.strictEqual(action.dumpPath, NodePath.join(runDir, "hang-dump.json"))
      const dump = JSON.parse(NodeFs.readFileSync(action.dumpPath!, "utf8"))
      assert.deepStrictEqual(dump.signals.pending, []) // captured before the probe
      assert.strictEqual(dump.processes[0].pid, agent.pid)
      assert.isTrue(NodeFs.existsSync(NodePath.join(runDir, "hang-dump.txt")))
      const outcome = verdict({ observation: emptyObservation, stderrTail: [], exit: yield* agent.exit, spawnFailure: null, action, oomKills: null, maxTurns: null, runtimeUnavailable: null } as never, 0)
      assert.strictEqual(outcome._tag, "HangInterruptible")
    }).pipe(Effect.scoped, Effect.provide(layerFor({ reactions: { SIGINT: { exitAfterMs: 800 } } }))))

  it.effect("triage, probe ignored: the rest of the stop sequence, HangUnresponsive naming SIGINT ignored", () =>
    Effect.gen(function*() {
      const watchdog = yield* Watchdog
      const controls = yield* ProcessTableTest
      const agent = yield* spawn
      const found: HangFound = { detection: { reason: "stall", idleMs: 10_000, timeoutMs: 10_000 }, measured: { treeCpuPercent: 0, agentCpuPercent: 0, rcharBytesPerSecond: null }, unavailable: [] }
      const fiber = yield* Effect.forkChild(watchdog.triage(agent, found, { artifacts: artifactsIn("/nonexistent/\0bad"), env: {}, redactor: makeRedactor({}), lastOutput: [], settings }))
      const action = yield* until(fiber, 60)
      assert.deepStrictEqual(action.probe, { answered: false })
      assert.deepStrictEqual(action.sigint, { state: "S", pending: false, blocked: false, ignored: true, caught: false })
      assert.deepStrictEqual(action.stop?.steps.map((s) => [s.signal, s.answered]), [["SIGTERM", true]])
      assert.deepStrictEqual((yield* controls.signalLog).map((e) => [e.target, e.signal]), [["process", "SIGINT"], ["group", "SIGTERM"]])
      assert.isNull(action.dumpPath)
      assert.isTrue(action.unavailable.some((u) => u.startsWith("hang dump not written")))
      const outcome = verdict({ observation: emptyObservation, stderrTail: [], exit: yield* agent.exit, spawnFailure: null, action, oomKills: null, maxTurns: null, runtimeUnavailable: null } as never, 0)
      assert.strictEqual(outcome._tag, "HangUnresponsive")
      assert.include(outcome.message, "SIGINT is ignored")
    }).pipe(Effect.scoped, Effect.provide(layerFor({ reactions: { SIGINT: "ignore" } }))))

  it.effect("triage, busy: no probe, the whole stop sequence", () =>
    Effect.gen(function*() {
      const watchdog = yield* Watchdog
      const agent = yield* spawn
      const runDir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "agentrun-wd-unit-"))
      const found: HangFound = { detection: { reason: "busy", idleMs: 20_000, timeoutMs: 20_000 }, measured: { treeCpuPercent: 95, agentCpuPercent: 95, rcharBytesPerSecond: null }, unavailable: [] }
      const fiber = yield* Effect.forkChild(watchdog.triage(agent, found, { artifacts: artifactsIn(runDir), env: {}, redactor: makeRedactor({}), lastOutput: [], settings }))
      const action = yield* until(fiber, 60)
      assert.isNull(action.probe)
      assert.strictEqual(action.cpuPercent, 95)
      assert.deepStrictEqual(action.stop?.steps.map((s) => s.signal), ["SIGINT"])
    }).pipe(Effect.scoped, Effect.provide(layerFor({}))))
})

describe("Watchdog without /proc (ps fallback)", () => {
  const noProc = new ProcfsUnavailable({ message: "no /proc process table on platform test", path: "/proc", code: null, platform: "test" })
  /** The real table with every /proc read failing, as off Linux: only signals (ProcessControl) work. */
  const tableWithoutProc = Layer.effect(
    ProcessTable,
    Effect.map(Effect.service(ProcessTable), (real) =>
      ProcessTable.of({
        ...real,
        info: () => Effect.fail(noProc),
        stat: () => Effect.fail(noProc),
        list: Effect.fail(noProc),
        family: () => Effect.fail(noProc),
        children: () => Effect.fail(noProc),
        io: () => Effect.fail(noProc),
        inspect: () => Effect.fail(noProc)
      }))
  ).pipe(Layer.provide(ProcessTable.layer), Layer.merge(ProcessControl.layer))

  it.live("detects from output and ps CPU time, and the dump lists what was unavailable", () =>
    Effect.gen(function*() {
      const watchdog = yield* Watchdog
      const agents = yield* AgentProcess
      const agent = yield* agents.spawn({ executable: "sleep", args: ["30"], cwd: "/", env: { PATH: process.env["PATH"] ?? "/bin" }, stdin: "" })
      const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
      const found = yield* watchdog.watch(agent, Effect.succeed({ ...quiet, lastOutputAtMs: now }), { ...settings, stallTimeoutMs: 600, sampleIntervalMs: 100 })
      assert.strictEqual(found.detection.reason, "stall")
      assert.isTrue(found.unavailable.some((u) => u.includes("CPU from ps")))
      const runDir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "agentrun-wd-unit-"))
      const action = yield* watchdog.triage(agent, found, { artifacts: artifactsIn(runDir), env: {}, redactor: makeRedactor({}), lastOutput: [], settings: { ...settings, probeGraceMs: 2_000 } })
      assert.deepStrictEqual(action.waitingOn, { kind: "unknown" })
      assert.isTrue(action.unavailable.some((u) => u.startsWith("process tree, threads, signal masks")))
      assert.isNotNull(action.dumpPath)
      assert.strictEqual(action.probe?.answered, true) // sleep dies of SIGINT
    }).pipe(
      Effect.scoped,
      Effect.provide(Watchdog.layer.pipe(Layer.provideMerge(Layer.mergeAll(StopSequence.layer, AgentProcess.layer)), Layer.provideMerge(tableWithoutProc)))
    ), 20_000)
})
