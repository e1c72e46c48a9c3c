import { Effect, Option } from "effect"
import { ProcessTable } from "../../src/procfs/ProcessTable.ts"
import { processTableConformance } from "./conformance.ts"
import { eventually, spawnSession } from "./realProcesses.ts"
import { ProcessTableTest } from "../../src/testing.ts"

const pidLine = (lines: ReadonlyArray<string>, index: number): number => {
  const line = lines[index]
  if (line === undefined || !/^\d+$/.test(line)) throw new Error(`expected a pid on line ${index}, got ${String(line)}`)
  return Number(line)
}

processTableConformance<never>({
  name: "real /proc",
  layer: ProcessTable.layer,
  outsider: Effect.succeed(process.pid),
  session: Effect.gen(function*() {
    // The subshell forks the grandchild and exits before the second echo, so the grandchild is
    // reparented (to init or a subreaper) while staying in the leader's session and group.
    const { pid, lines } = yield* spawnSession("( sleep 1000 & echo $! ); sleep 1000 & echo $!; wait", 2)
    const started = { leader: pid, grandchild: pidLine(lines, 0), child: pidLine(lines, 1) }
    // `$!` is known before the forked shell has exec'd sleep: wait for the exec.
    const table = yield* ProcessTable
    for (const forked of [started.grandchild, started.child]) {
      yield* eventually(table.info(forked), (o) => Option.isSome(o) && o.value.comm === "sleep").pipe(Effect.orDie)
    }
    return started
  }),
  sleeper: Effect.gen(function*() {
    const { pid } = yield* spawnSession("echo ready; exec sleep 1000", 1)
    // wait for the exec, so the pid is `sleep` and not bash
    const table = yield* ProcessTable
    yield* eventually(table.info(pid), (o) => Option.isSome(o) && o.value.comm === "sleep").pipe(Effect.orDie)
    return pid
  }),
  intIgnorer: Effect.map(spawnSession(`trap "" INT; echo ready; sleep 1000`, 1), (s) => s.pid),
  zombie: Effect.gen(function*() {
    // The exec'd `sleep 1000` never waits, so its child becomes a zombie when it ends.
    const { pid, lines } = yield* spawnSession("sleep 0.2 & echo $!; exec sleep 1000", 1)
    const zombie = pidLine(lines, 0)
    const table = yield* ProcessTable
    yield* eventually(table.info(zombie), (o) => Option.isSome(o) && o.value.state === "Z").pipe(Effect.orDie)
    return { parent: pid, zombie }
  })
})

processTableConformance<ProcessTableTest>({
  name: "in-memory",
  layer: ProcessTableTest.layer,
  outsider: Effect.gen(function*() {
    const controls = yield* ProcessTableTest
    yield* controls.seed({ pid: 50, ppid: 1, cmdline: ["node", "agentrun"] })
    return 50
  }),
  session: Effect.gen(function*() {
    const controls = yield* ProcessTableTest
    yield* controls.seed(
      { pid: 50, ppid: 1, cmdline: ["node", "agentrun"] },
      { pid: 100, ppid: 50, pgid: 100, sid: 100, cmdline: ["bash", "-c", "..."] },
      { pid: 101, ppid: 100 },
      { pid: 102, ppid: 1, pgid: 100, sid: 100 }
    )
    return { leader: 100, child: 101, grandchild: 102 }
  }),
  sleeper: Effect.gen(function*() {
    const controls = yield* ProcessTableTest
    yield* controls.seed({ pid: 200, ppid: 50 })
    return 200
  }),
  intIgnorer: Effect.gen(function*() {
    const controls = yield* ProcessTableTest
    yield* controls.seed({ pid: 300, ppid: 50, cmdline: ["bash", "-c", "trap '' INT; sleep 1000"], reactions: { SIGINT: "ignore" } })
    return 300
  }),
  zombie: Effect.gen(function*() {
    const controls = yield* ProcessTableTest
    yield* controls.seed({ pid: 400, ppid: 50 }, { pid: 401, ppid: 400, zombieOnExit: true })
    yield* controls.exit(401)
    return { parent: 400, zombie: 401 }
  })
})
