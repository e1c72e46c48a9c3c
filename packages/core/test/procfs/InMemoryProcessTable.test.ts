/**
 * The in-memory table's own behaviour: scripted reactions, delayed exits driven by TestClock,
 * stopped processes keeping signals pending, zombies and reaping, EPERM, the signal log.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import { ProcessControl } from "../../src/procfs/ProcessControl.ts"
import { ProcessTable } from "../../src/procfs/ProcessTable.ts"
import { ProcessTableTest } from "../../src/testing.ts"

describe("ProcessTableTest.layer", () => {
  it.effect("a stop sequence: SIGINT ignored, SIGTERM handled after a delay (TestClock)", () =>
    Effect.gen(function*() {
      const table = yield* ProcessTable
      const control = yield* ProcessControl
      const controls = yield* ProcessTableTest
      yield* controls.seed(
        { pid: 100, ppid: 50, pgid: 100, sid: 100, reactions: { SIGINT: "ignore", SIGTERM: { exitAfterMs: 3_000 } } },
        { pid: 101, ppid: 100, reactions: { SIGINT: "ignore", SIGTERM: "ignore" } }
      )
      assert.strictEqual(yield* control.killGroup(100, "SIGINT"), "delivered")
      yield* TestClock.adjust("5 seconds")
      assert.isTrue(yield* control.isAlive(100))
      assert.isTrue(yield* control.isAlive(101))

      assert.strictEqual(yield* control.killGroup(100, "SIGTERM"), "delivered")
      yield* TestClock.adjust("2999 millis")
      assert.isTrue(yield* control.isAlive(100))
      yield* TestClock.adjust("1 millis")
      assert.isFalse(yield* control.isAlive(100))
      // The child outlives its parent and is reparented to init, still in the group.
      const orphan = Option.getOrThrow(yield* table.info(101))
      assert.strictEqual(orphan.ppid, 1)
      assert.deepStrictEqual((yield* table.family(100)).map((p) => p.pid), [101])

      assert.strictEqual(yield* control.killGroup(100, "SIGKILL"), "delivered")
      assert.isFalse(yield* control.isAlive(101))
      assert.strictEqual(yield* control.killGroup(100, "SIGKILL"), "no-such-process")

      assert.deepStrictEqual(
        (yield* controls.signalLog).map((e) => [e.target, e.id, e.signal, e.outcome, e.atMs]),
        [
          ["group", 100, "SIGINT", "delivered", 0],
          ["group", 100, "SIGTERM", "delivered", 5_000],
          ["group", 100, "SIGKILL", "delivered", 8_000],
          ["group", 100, "SIGKILL", "no-such-process", 8_000]
        ]
      )
      yield* controls.clearSignalLog
      assert.deepStrictEqual(yield* controls.signalLog, [])
    }).pipe(Effect.provide(ProcessTableTest.layer)))

  it.effect("exit only on SIGKILL: every catchable signal is ignored, SIGKILL cannot be", () =>
    Effect.gen(function*() {
      const table = yield* ProcessTable
      const control = yield* ProcessControl
      const controls = yield* ProcessTableTest
      yield* controls.seed({
        pid: 10,
        reactions: { SIGINT: "ignore", SIGTERM: "ignore", SIGHUP: "ignore", SIGKILL: "ignore" }
      })
      for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) yield* control.kill(10, signal)
      assert.isTrue(yield* control.isAlive(10))
      yield* control.kill(10, "SIGKILL")
      assert.isTrue(Option.isNone(yield* table.info(10)))
    }).pipe(Effect.provide(ProcessTableTest.layer)))

  it.effect("a stopped process keeps SIGTERM pending until SIGCONT", () =>
    Effect.gen(function*() {
      const table = yield* ProcessTable
      const control = yield* ProcessControl
      yield* (yield* ProcessTableTest).seed({ pid: 10, reactions: { SIGTERM: "exit" } })
      yield* control.kill(10, "SIGSTOP")
      yield* control.kill(10, "SIGTERM")
      const inspection = Option.getOrThrow(yield* table.inspect(10))
      assert.strictEqual(inspection.info.state, "T")
      if (inspection.status._tag === "Available") {
        assert.deepStrictEqual(inspection.status.status.pending.signals, ["SIGTERM"])
        assert.deepStrictEqual(inspection.status.status.caught.signals, ["SIGTERM"])
      }
      assert.isTrue(yield* control.isAlive(10))
      yield* control.kill(10, "SIGCONT")
      assert.isFalse(yield* control.isAlive(10))
    }).pipe(Effect.provide(ProcessTableTest.layer)))

  it.effect("zombies stay until reaped; setReaction changes a reaction later", () =>
    Effect.gen(function*() {
      const table = yield* ProcessTable
      const control = yield* ProcessControl
      const controls = yield* ProcessTableTest
      yield* controls.seed({ pid: 20 }, { pid: 21, ppid: 20, zombieOnExit: true })
      yield* controls.setReaction(21, "SIGTERM", "ignore")
      yield* control.kill(21, "SIGTERM")
      assert.isTrue(yield* control.isAlive(21))
      yield* controls.setReaction(21, "SIGTERM", "exit")
      yield* control.kill(21, "SIGTERM")
      assert.strictEqual(Option.getOrThrow(yield* table.info(21)).state, "Z")
      assert.isFalse(yield* control.isAlive(21))
      yield* controls.reap(21)
      assert.isTrue(Option.isNone(yield* table.info(21)))
      assert.strictEqual(yield* control.kill(21, "SIGTERM"), "no-such-process")
    }).pipe(Effect.provide(ProcessTableTest.layer)))

  it.effect("EPERM is a SignalNotPermitted error; oomKillCount is settable", () =>
    Effect.gen(function*() {
      const table = yield* ProcessTable
      const control = yield* ProcessControl
      const controls = yield* ProcessTableTest
      yield* controls.seed({ pid: 30, signalDenied: true })
      const error = yield* Effect.flip(control.kill(30, "SIGTERM"))
      assert.strictEqual(error._tag, "SignalNotPermitted")
      assert.strictEqual(error.id, 30)
      assert.strictEqual(error.target, "process")
      assert.isTrue(yield* control.isAlive(30))
      assert.strictEqual((yield* controls.signalLog)[0]?.outcome, "not-permitted")

      assert.isTrue(Option.isNone(yield* table.oomKillCount))
      yield* controls.setOomKillCount(Option.some(2))
      assert.deepStrictEqual(yield* table.oomKillCount, Option.some(2))
    }).pipe(Effect.provide(ProcessTableTest.layer)))

  it.effect("seeding inherits pgid and sid from a seeded parent, like fork", () =>
    Effect.gen(function*() {
      const table = yield* ProcessTable
      yield* (yield* ProcessTableTest).seed(
        { pid: 100, ppid: 50, cmdline: ["/usr/bin/claude", "-p"] },
        { pid: 101, ppid: 100 },
        { pid: 102, ppid: 101 }
      )
      const grandchild = Option.getOrThrow(yield* table.info(102))
      assert.strictEqual(grandchild.pgid, 100)
      assert.strictEqual(grandchild.sid, 100)
      assert.strictEqual(Option.getOrThrow(yield* table.info(100)).comm, "claude")
      assert.deepStrictEqual((yield* table.family(100, { includeRoot: true })).map((p) => p.pid), [100, 101, 102])
    }).pipe(Effect.provide(ProcessTableTest.layer)))
})
