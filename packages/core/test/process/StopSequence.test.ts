import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Schedule } from "effect"
import { TestClock } from "effect/testing"
import type { AgentHandle } from "../../src/process/AgentProcess.ts"
import { AgentProcess } from "../../src/process/AgentProcess.ts"
import { exitAfterStop, StopSequence, type StopTarget } from "../../src/process/StopSequence.ts"
import { AgentProcessTest, type FakeAgentScript, ProcessTableTest } from "../../src/testing.ts"

const agentLayerTest = AgentProcessTest.layerTest

const layerFor = (script: FakeAgentScript) => {
  const table = ProcessTableTest.layer
  return Layer.mergeAll(StopSequence.layer, agentLayerTest(() => script)).pipe(Layer.provideMerge(table))
}

const spawnFake = Effect.gen(function*() {
  const agents = yield* AgentProcess
  return yield* agents.spawn({ executable: "claude", args: [], cwd: "/", env: {}, stdin: "" })
})

/** Runs the stop sequence in a fiber and advances the TestClock by `advanceMs` in small steps. */
const stopWith = (agent: AgentHandle, advanceMs: number) =>
  Effect.gen(function*() {
    const stopper = yield* StopSequence
    const fiber = yield* Effect.forkChild(stopper.stop(agent))
    for (let t = 0; t < advanceMs; t += 1000) yield* TestClock.adjust(1000)
    return yield* Fiber.join(fiber)
  })

describe("stop sequence (TestClock, in-memory processes)", () => {
  it.effect("an agent that answers SIGINT gets nothing else", () =>
    Effect.gen(function*() {
      const agent = yield* spawnFake
      const report = yield* stopWith(agent, 2000)
      const controls = yield* ProcessTableTest
      const log = yield* controls.signalLog
      assert.deepStrictEqual(log.map((e) => [e.target, e.signal]), [["process", "SIGINT"]])
      assert.strictEqual(report.steps.length, 1)
      assert.deepStrictEqual(report.steps[0], { signal: "SIGINT", target: "pid", pids: [agent.pid], atMs: 0, answered: true })
      assert.deepStrictEqual(yield* agent.exit, { exitCode: 0, signal: null })
    }).pipe(Effect.scoped, Effect.provide(layerFor({ reactions: { SIGINT: { exitAfterMs: 1500 } } }))))

  it.effect("SIGINT ignored: SIGTERM to the group after exactly the 10 s grace", () =>
    Effect.gen(function*() {
      const agent = yield* spawnFake
      const report = yield* stopWith(agent, 12_000)
      const log = yield* (yield* ProcessTableTest).signalLog
      assert.deepStrictEqual(log.map((e) => [e.target, e.signal, e.atMs]), [["process", "SIGINT", 0], ["group", "SIGTERM", 10_000]])
      assert.deepStrictEqual(report.steps.map((s) => [s.signal, s.answered]), [["SIGINT", false], ["SIGTERM", true]])
      assert.strictEqual((yield* agent.exit).signal?.name, "SIGTERM")
    }).pipe(Effect.scoped, Effect.provide(layerFor({ reactions: { SIGINT: "ignore" } }))))

  it.effect("SIGINT and SIGTERM ignored: SIGKILL at 30 s to every process of the run, reparented grandchild included", () =>
    Effect.gen(function*() {
      const agent = yield* spawnFake
      const report = yield* stopWith(agent, 32_000)
      const log = yield* (yield* ProcessTableTest).signalLog
      const kills = log.filter((e) => e.signal === "SIGKILL" && e.target === "process").map((e) => e.id).sort()
      assert.deepStrictEqual(kills, [agent.pid, agent.pid + 1, agent.pid + 2].sort())
      const step = report.steps[2]!
      assert.strictEqual(step.signal, "SIGKILL")
      assert.strictEqual(step.target, "tree")
      assert.strictEqual(step.atMs, 30_000)
      assert.isTrue(step.answered)
      assert.strictEqual((yield* agent.exit).signal?.name, "SIGKILL")
    }).pipe(
      Effect.scoped,
      Effect.provide(layerFor({
        reactions: { SIGINT: "ignore", SIGTERM: "ignore" },
        children: [
          { pid: 4001, reactions: { SIGTERM: "ignore" }, cmdline: ["bash", "-c", "tool"] },
          // A double-forked grandchild: reparented to init, still in the agent's session.
          { pid: 4002, ppid: 1, sid: 4000, pgid: 4002, reactions: { SIGTERM: "ignore" }, cmdline: ["sleep", "1000"] }
        ]
      }))
    ))

  it.effect("grace periods are configurable", () =>
    Effect.gen(function*() {
      const agent = yield* spawnFake
      const stopper = yield* StopSequence
      const fiber = yield* Effect.forkChild(stopper.stop(agent, { grace: { interruptGrace: "1 second", terminateGrace: "2 seconds" } }))
      yield* TestClock.adjust(4000)
      const report = yield* Fiber.join(fiber)
      assert.deepStrictEqual(report.steps.map((s) => [s.signal, s.atMs]), [["SIGINT", 0], ["SIGTERM", 1000], ["SIGKILL", 3000]])
    }).pipe(Effect.scoped, Effect.provide(layerFor({ reactions: { SIGINT: "ignore", SIGTERM: "ignore" } }))))

  it.effect("sweep kills what the agent left behind after it exited", () =>
    Effect.gen(function*() {
      const agent = yield* spawnFake
      const controls = yield* ProcessTableTest
      yield* controls.exit(agent.pid)
      const stopper = yield* StopSequence
      const swept = yield* stopper.sweep(agent.pid)
      assert.deepStrictEqual([...swept], [4001])
      assert.isFalse(yield* controls.control.isAlive(4001))
    }).pipe(Effect.scoped, Effect.provide(layerFor({ children: [{ pid: 4001, ppid: 1, sid: 4000, pgid: 4000 }] }))))
})

describe("sweep after the agent died (in-memory processes)", () => {
  it.effect("kills a tool that left the agent's session by the run cookie it inherited, and its children; nothing else", () =>
    Effect.gen(function*() {
      const agent = yield* spawnFake
      const controls = yield* ProcessTableTest
      const cookie = { AGENTRUN_RUN_ID: "run-1" }
      // A Bash tool in its own session (setsid), with a `sleep` child; another run's process.
      yield* controls.seed(
        { pid: 4010, ppid: agent.pid, sid: 4010, pgid: 4010, cmdline: ["bash", "-c", "sleep 1000"], environ: cookie },
        { pid: 4011, ppid: 4010, cmdline: ["sleep", "1000"] },
        { pid: 4020, ppid: 1, sid: 4020, pgid: 4020, cmdline: ["other-run"], environ: { AGENTRUN_RUN_ID: "run-2" } }
      )
      yield* controls.exit(agent.pid)
      const stopper = yield* StopSequence
      const withoutCookie = yield* stopper.sweep(agent.pid)
      assert.deepStrictEqual([...withoutCookie], [], "nothing but the cookie links the orphaned tool to the run")
      const swept = yield* stopper.sweep(agent.pid, { name: "AGENTRUN_RUN_ID", value: "run-1" })
      assert.deepStrictEqual([...swept].sort(), [4010, 4011])
      assert.isTrue(yield* controls.control.isAlive(4020))
    }).pipe(Effect.scoped, Effect.provide(layerFor({}))))

})

describe("stop sequence: the bounded wait after SIGKILL, any StopTarget", () => {
  it.effect("an agent in uninterruptible sleep outlives SIGKILL: the stop gives up after the kill grace and says so", () =>
    Effect.gen(function*() {
      const agent = yield* spawnFake
      const report = yield* stopWith(agent, 40_000)
      assert.deepStrictEqual(report.steps.map((s) => [s.signal, s.atMs, s.answered]), [["SIGINT", 0, false], ["SIGTERM", 10_000, false], ["SIGKILL", 30_000, false]])
      assert.isFalse(report.ended)
      assert.strictEqual(report.tookMs, 35_000)
      assert.isNull(yield* agent.exited)
      // Its wait ends: the pending SIGKILL is delivered, as Linux does.
      const controls = yield* ProcessTableTest
      yield* controls.update(agent.pid, { state: "S" })
      yield* TestClock.adjust(10)
      assert.strictEqual((yield* agent.exit).signal?.name, "SIGKILL")
    }).pipe(Effect.scoped, Effect.provide(layerFor({ state: "D" }))))

  it.effect("any StopTarget gets the same sequence and evidence (a Pod-shaped one: deletes, no pids)", () =>
    Effect.gen(function*() {
      const stopper = yield* StopSequence
      const sent: Array<string> = []
      let ended: string | null = null
      const pod: StopTarget<string> = {
        interrupt: Effect.sync(() => {
          sent.push("delete")
          return { signal: "SIGTERM", target: "pod", pids: [], object: "ns/run-1" }
        }),
        terminate: Effect.sync(() => {
          sent.push("delete")
          return { signal: "SIGTERM", target: "pod", pids: [], object: "ns/run-1" }
        }),
        kill: Effect.sync(() => {
          sent.push("delete grace 0")
          ended = "terminated: Error, exit 137"
          return { signal: "SIGKILL", target: "pod", pids: [], object: "ns/run-1" }
        }),
        exit: Effect.sync(() => ended).pipe(
          Effect.repeat({ schedule: Schedule.spaced(100), until: (e) => e !== null }),
          Effect.map((e) => e ?? "")
        ),
        exited: Effect.sync(() => ended)
      }
      const fiber = yield* Effect.forkChild(stopper.stop(pod, { grace: { interruptGrace: "1 second", terminateGrace: "1 second" } }))
      for (let t = 0; t < 5; t++) yield* TestClock.adjust(1000)
      const report = yield* Fiber.join(fiber)
      assert.deepStrictEqual(sent, ["delete", "delete", "delete grace 0"])
      assert.deepStrictEqual(report.steps.map((s) => [s.signal, s.target, s.object, s.atMs]), [
        ["SIGTERM", "pod", "ns/run-1", 0],
        ["SIGTERM", "pod", "ns/run-1", 1000],
        ["SIGKILL", "pod", "ns/run-1", 2000]
      ])
      assert.isTrue(report.ended)
      assert.strictEqual(yield* exitAfterStop(pod, report, "unknown"), "terminated: Error, exit 137")
    }).pipe(Effect.provide(layerFor({}))))
})
