/**
 * One suite of tests against the {@link ProcessTableShape} and {@link ProcessControlShape} interfaces, run against the real layer
 * (with real processes) and the in-memory layer (seeded equivalently): the points both must agree
 * on, so that tests written against the in-memory table hold for the real one.
 *
 * Tests run under `it.live`: real processes need real time; the in-memory table answers on the
 * first poll.
 *
 * @module
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import type { Layer, Scope } from "effect"
import { isZombie, type ProcessInfo } from "../../src/procfs/ProcessInfo.ts"
import { ProcessControl } from "../../src/procfs/ProcessControl.ts"
import { ProcessTable } from "../../src/procfs/ProcessTable.ts"
import { eventually } from "./realProcesses.ts"

/** What a fixture may need: the table, its own services `R`, and a scope for cleanup. */
type Needs<R> = ProcessTable | ProcessControl | R | Scope.Scope

/** The processes each implementation provides for the suite. */
export interface ConformanceFixtures<R> {
  readonly name: string
  readonly layer: Layer.Layer<ProcessTable | ProcessControl | R>
  /** A process outside every run (the supervisor itself). */
  readonly outsider: Effect.Effect<number, never, Needs<R>>
  /**
   * A session leader (`pid == sid == pgid`) with a direct child `sleep 1000` and a grandchild
   * `sleep 1000` whose parent exited (double fork), so its ppid is no longer in the run.
   */
  readonly session: Effect.Effect<{ leader: number; child: number; grandchild: number }, never, Needs<R>>
  /** A `sleep 1000` in its own session, default signal dispositions. */
  readonly sleeper: Effect.Effect<number, never, Needs<R>>
  /** A process that ignores SIGINT (`trap "" INT`) and dies on SIGTERM. */
  readonly intIgnorer: Effect.Effect<number, never, Needs<R>>
  /** A live parent that never reaps its exited child: the child is a zombie. */
  readonly zombie: Effect.Effect<{ parent: number; zombie: number }, never, Needs<R>>
}

/** A pid above any pid_max (at most 2^22 on Linux, proc(5) /proc/sys/kernel/pid_max). */
const absentPid = 99_999_999

/** Registers the conformance suite for one implementation. */
export const processTableConformance = <R>(fixtures: ConformanceFixtures<R>): void => {
  const run = <A, E>(body: Effect.Effect<A, E, Needs<R>>) => body.pipe(Effect.provide(fixtures.layer))

  describe(`ProcessTable conformance: ${fixtures.name}`, () => {
    it.live("info describes a process; startTimeMatches detects identity", () =>
      run(Effect.gen(function*() {
        const table = yield* ProcessTable
        const control = yield* ProcessControl
        const { leader, child } = yield* fixtures.session
        const found = yield* table.info(child)
        assert.isTrue(Option.isSome(found))
        const info = Option.getOrThrow(found)
        assert.strictEqual(info.pid, child)
        assert.strictEqual(info.ppid, leader)
        assert.strictEqual(info.pgid, leader)
        assert.strictEqual(info.sid, leader)
        assert.strictEqual(info.comm, "sleep")
        assert.deepStrictEqual(info.cmdline, ["sleep", "1000"])
        assert.strictEqual(info.numThreads, 1)
        assert.isTrue(info.utimeTicks >= 0 && info.stimeTicks >= 0)
        assert.isNotNull(info.startTimeEpochMs)
        assert.isBelow(Math.abs((info.startTimeEpochMs ?? 0) - Date.now()), 60_000)
        assert.isTrue(yield* control.startTimeMatches(child, info.startTimeTicks))
        assert.isFalse(yield* control.startTimeMatches(child, info.startTimeTicks + 1))
        assert.isTrue(yield* control.isAlive(child))
        const leaderInfo = Option.getOrThrow(yield* table.info(leader))
        assert.strictEqual(leaderInfo.sid, leader)
        assert.strictEqual(leaderInfo.pgid, leader)
      })))

    it.live("a pid that does not exist: none, not alive, no-such-process", () =>
      run(Effect.gen(function*() {
        const table = yield* ProcessTable
        const control = yield* ProcessControl
        assert.isTrue(Option.isNone(yield* table.info(absentPid)))
        assert.isTrue(Option.isNone(yield* table.stat(absentPid)))
        assert.isFalse(yield* control.isAlive(absentPid))
        assert.isFalse(yield* control.startTimeMatches(absentPid, 1))
        assert.strictEqual(yield* control.kill(absentPid, "SIGTERM"), "no-such-process")
        assert.strictEqual(yield* control.killGroup(absentPid, "SIGTERM"), "no-such-process")
        assert.isTrue(Option.isNone(yield* table.inspect(absentPid)))
      })))

    it.live("liveness: alive with its start time or none, pid-reused with another, gone when absent or a zombie", () =>
      run(Effect.gen(function*() {
        const table = yield* ProcessTable
        const control = yield* ProcessControl
        const { child } = yield* fixtures.session
        const ticks = Option.getOrThrow(yield* table.stat(child)).startTimeTicks
        assert.strictEqual(yield* control.liveness(child, ticks), "alive")
        assert.strictEqual(yield* control.liveness(child, null), "alive")
        assert.strictEqual(yield* control.liveness(child, ticks + 1), "pid-reused")
        assert.strictEqual(yield* control.liveness(absentPid, null), "gone")
        assert.strictEqual(yield* control.liveness(absentPid, 1), "gone")
        const { zombie } = yield* fixtures.zombie
        const zombieTicks = Option.getOrThrow(yield* table.stat(zombie)).startTimeTicks
        assert.strictEqual(yield* control.liveness(zombie, zombieTicks), "gone")
      })))

    it.live("family finds the child and the reparented grandchild, parents first, root excluded", () =>
      run(Effect.gen(function*() {
        const table = yield* ProcessTable
        const outsider = yield* fixtures.outsider
        const { leader, child, grandchild } = yield* fixtures.session
        const grandchildInfo = Option.getOrThrow(yield* table.info(grandchild))
        assert.notStrictEqual(grandchildInfo.ppid, leader, "the grandchild was reparented away from the run")
        assert.strictEqual(grandchildInfo.sid, leader)

        const family = (yield* table.family(leader)).map((p) => p.pid)
        assert.include(family, child)
        assert.include(family, grandchild)
        assert.notInclude(family, leader)
        assert.notInclude(family, outsider)

        const withRoot = (yield* table.family(leader, { includeRoot: true })).map((p) => p.pid)
        assert.strictEqual(withRoot[0], leader)
        assert.isTrue(withRoot.indexOf(child) > withRoot.indexOf(leader))
        assert.sameMembers(withRoot.slice(1), family)

        const listed = yield* table.list
        const everyone = listed.map((p) => p.pid)
        for (const pid of [outsider, leader, child, grandchild]) assert.include(everyone, pid)

        // The stat-only listing: the same processes and facts, no command lines.
        const statOnly = yield* table.listStatOnly
        for (const pid of [outsider, leader, child, grandchild]) {
          const full = listed.find((p) => p.pid === pid)!
          const light = statOnly.find((p) => p.pid === pid)
          assert.isDefined(light, `pid ${pid}`)
          const stable = (p: ProcessInfo) => ({ pid: p.pid, ppid: p.ppid, pgid: p.pgid, sid: p.sid, startTimeTicks: p.startTimeTicks, comm: p.comm })
          assert.deepStrictEqual(stable(light!), stable(full))
          assert.deepStrictEqual(light!.cmdline, [])
        }
        assert.deepStrictEqual(statOnly.map((p) => p.pid), [...statOnly.map((p) => p.pid)].sort((a, b) => a - b))

        // One process from its stat alone: the same facts as info, no command line.
        const one = Option.getOrThrow(yield* table.stat(child))
        const full = Option.getOrThrow(yield* table.info(child))
        assert.deepStrictEqual({ pid: one.pid, ppid: one.ppid, sid: one.sid, startTimeTicks: one.startTimeTicks }, { pid: full.pid, ppid: full.ppid, sid: full.sid, startTimeTicks: full.startTimeTicks })
        assert.deepStrictEqual(one.cmdline, [])
      })))

    it.live("kill delivers; once the process is gone it reports no-such-process", () =>
      run(Effect.gen(function*() {
        const table = yield* ProcessTable
        const control = yield* ProcessControl
        const pid = yield* fixtures.sleeper
        assert.isTrue(yield* control.isAlive(pid))
        assert.strictEqual(yield* control.kill(pid, "SIGTERM"), "delivered")
        assert.isFalse(yield* eventually(control.isAlive(pid), (alive) => !alive))
        assert.strictEqual(yield* eventually(control.kill(pid, "SIGTERM"), (r) => r === "no-such-process"), "no-such-process")
        assert.isTrue(Option.isNone(yield* table.info(pid)))
      })))

    it.live("a process ignoring SIGINT survives it and dies on SIGTERM", () =>
      run(Effect.gen(function*() {
        const table = yield* ProcessTable
        const control = yield* ProcessControl
        const pid = yield* fixtures.intIgnorer
        const inspection = Option.getOrThrow(yield* table.inspect(pid))
        assert.strictEqual(inspection.status._tag, "Available")
        if (inspection.status._tag === "Available") assert.include(inspection.status.status.ignored.signals, "SIGINT")
        assert.strictEqual(yield* control.kill(pid, "SIGINT"), "delivered")
        yield* Effect.sleep("200 millis")
        assert.isTrue(yield* control.isAlive(pid))
        assert.strictEqual(yield* control.kill(pid, "SIGTERM"), "delivered")
        assert.isFalse(yield* eventually(control.isAlive(pid), (alive) => !alive))
      })))

    it.live("SIGSTOP stops (state T), SIGCONT resumes", () =>
      run(Effect.gen(function*() {
        const table = yield* ProcessTable
        const control = yield* ProcessControl
        const pid = yield* fixtures.sleeper
        assert.strictEqual(yield* control.kill(pid, "SIGSTOP"), "delivered")
        const stopped = yield* eventually(table.info(pid), (o) => Option.isSome(o) && o.value.state === "T")
        assert.strictEqual(Option.getOrThrow(stopped).state, "T")
        assert.isTrue(yield* control.isAlive(pid))
        assert.strictEqual(yield* control.kill(pid, "SIGCONT"), "delivered")
        // Briefly R while it handles SIGCONT, then back asleep.
        const resumed = yield* eventually(table.info(pid), (o) => Option.isSome(o) && o.value.state === "S")
        assert.strictEqual(Option.getOrThrow(resumed).state, "S")
      })))

    it.live("a zombie is found, is not alive, and still accepts signals", () =>
      run(Effect.gen(function*() {
        const table = yield* ProcessTable
        const control = yield* ProcessControl
        const { parent, zombie } = yield* fixtures.zombie
        const info = Option.getOrThrow(yield* table.info(zombie))
        assert.strictEqual(info.state, "Z")
        assert.isTrue(isZombie(info))
        assert.strictEqual(info.ppid, parent)
        assert.deepStrictEqual(info.cmdline, [])
        assert.isFalse(yield* control.isAlive(zombie))
        assert.isTrue(yield* control.isAlive(parent))
        assert.strictEqual(yield* control.kill(zombie, "SIGTERM"), "delivered")
        assert.include((yield* table.family(parent)).map((p) => p.pid), zombie)
      })))

    it.live("killGroup reaches every member, the reparented grandchild included", () =>
      run(Effect.gen(function*() {
        const table = yield* ProcessTable
        const control = yield* ProcessControl
        const { leader, child, grandchild } = yield* fixtures.session
        // No process has pgid == child (the child is not a group leader).
        assert.strictEqual(yield* control.killGroup(child, "SIGTERM"), "no-such-process")
        assert.strictEqual(yield* control.killGroup(leader, "SIGKILL"), "delivered")
        for (const pid of [leader, child, grandchild]) {
          assert.isFalse(yield* eventually(control.isAlive(pid), (alive) => !alive), `pid ${pid} still alive`)
        }
        const left = yield* eventually(table.family(leader, { includeRoot: true }), (ps) => ps.every(isZombie))
        assert.isTrue(left.every(isZombie))
      })))

    it.live("refuses to signal pids that kill(2) would broadcast to", () =>
      run(Effect.gen(function*() {
        const control = yield* ProcessControl
        for (const attempt of [control.kill(0, "SIGTERM"), control.kill(-5, "SIGTERM"), control.killGroup(1, "SIGTERM"), control.killGroup(0, "SIGTERM")]) {
          const exit = yield* Effect.exit(attempt)
          assert.strictEqual(exit._tag, "Failure")
        }
      })))
  })
}
