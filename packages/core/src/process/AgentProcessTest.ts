/**
 * The test layer of {@link AgentProcess}: fake agents that live in the in-memory process table
 * ({@link ProcessTableTest}), so signals, process groups, children and time (TestClock) behave
 * as scripted, with no real process.
 *
 * @module
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import type { ExitStatus, SignalName } from "../domain/ExitStatus.ts"
import { fromNodeExit } from "../domain/ExitStatus.ts"
import { ProcessTableTest, type SeedProcess, type SignalReaction } from "../procfs/InMemoryProcessTable.ts"
import { type AgentCommand, type AgentHandle, AgentProcess, agentStopSteps, type StopSignal } from "./AgentProcess.ts"
import { killRunTree } from "./RunTree.ts"

/** How a fake agent behaves. Times are Clock milliseconds. */
export interface FakeAgentScript {
  /** Lines written to stdout at once. */
  readonly stdout?: ReadonlyArray<string>
  readonly stderr?: ReadonlyArray<string>
  /** Reactions to signals (default: terminate, as signal(7) says for SIGINT/SIGTERM). */
  readonly reactions?: Partial<Record<SignalName, SignalReaction>>
  /** Exits by itself this long after spawn; omitted: runs until signalled. */
  readonly exitAfterMs?: number
  /** The status of an exit that is not a signal death (its own, or a handler's). Default exit 0. */
  readonly exitStatus?: ExitStatus
  /**
   * Its state letter at spawn (default `"S"`). `"D"`, uninterruptible sleep, keeps every signal
   * pending, SIGKILL included, until a test changes its state (`ProcessTableTest` `update`).
   */
  readonly state?: string
  /** Processes it has started (pid, and ppid relative: omitted ppid means the agent). */
  readonly children?: ReadonlyArray<Omit<SeedProcess, "ppid"> & { readonly ppid?: number }>
}

/** Polling period of the fake's exit watch, in Clock milliseconds. */
const pollMs = 5

/**
 * `AgentProcess` backed by the in-memory process table. `scriptFor` picks the behaviour for each
 * spawned command; pids are allocated from 4000 up.
 */
export const layerTest = (scriptFor: (command: AgentCommand) => FakeAgentScript) =>
  Layer.effect(
    AgentProcess,
    Effect.gen(function*() {
      const controls = yield* ProcessTableTest
      const nextPid = yield* Ref.make(4000)

      const spawn = (command: AgentCommand) =>
        Effect.gen(function*() {
          const script = scriptFor(command)
          const pid = yield* Ref.getAndUpdate(nextPid, (n) => n + 100)
          yield* controls.seed({
            pid,
            ppid: 1,
            pgid: pid,
            sid: pid,
            cmdline: [command.executable, ...command.args],
            ...(script.state === undefined ? {} : { state: script.state }),
            reactions: script.reactions ?? {}
          })
          for (const child of script.children ?? []) yield* controls.seed({ ...child, ppid: child.ppid ?? pid })
          const exitDeferred = yield* Deferred.make<ExitStatus>()
          const startedAt = yield* Effect.clockWith((c) => c.currentTimeMillis)

          const statusOnExit = Effect.gen(function*() {
            const log = yield* controls.signalLog
            const last = log.findLast((e) => e.outcome === "delivered" && e.id === pid)
            if (last === undefined) return script.exitStatus ?? fromNodeExit(0, null)
            const reaction = script.reactions?.[last.signal] ?? "default"
            return reaction === "default" || last.signal === "SIGKILL"
              ? fromNodeExit(null, last.signal)
              : script.exitStatus ?? fromNodeExit(0, null)
          })

          const watch = Effect.gen(function*() {
            for (;;) {
              const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
              if (script.exitAfterMs !== undefined && now - startedAt >= script.exitAfterMs) {
                yield* controls.exit(pid)
              }
              const alive = yield* controls.control.isAlive(pid).pipe(Effect.catch(() => Effect.succeed(false)))
              if (!alive) return yield* Deferred.succeed(exitDeferred, yield* statusOnExit)
              yield* Effect.sleep(pollMs)
            }
          })
          yield* Effect.forkScoped(watch)

          const signal = (signal: StopSignal) =>
            controls.control.kill(pid, signal).pipe(
              Effect.map((d) => d === "delivered"),
              Effect.catch(() => Effect.succeed(false))
            )
          const signalGroup = (signal: StopSignal) =>
            controls.control.killGroup(pid, signal).pipe(
              Effect.map((d) => d === "delivered"),
              Effect.catch(() => Effect.succeed(false))
            )
          const handle: AgentHandle = {
            pid,
            executable: command.executable,
            stdout: (script.stdout ?? []).length === 0 ? Stream.empty : Stream.make({ lines: script.stdout ?? [], bytes: null }),
            stderr: Stream.fromIterable(script.stderr ?? []),
            exit: Deferred.await(exitDeferred),
            exited: Effect.flatMap(Deferred.isDone(exitDeferred), (d) => (d ? Deferred.await(exitDeferred) : Effect.succeed(null))),
            signal,
            signalGroup,
            ...agentStopSteps(pid, signal, signalGroup, killRunTree(controls.table, controls.control, pid))
          }
          return handle
        })

      return AgentProcess.of({ spawn })
    })
  )
