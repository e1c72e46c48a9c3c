/**
 * The local backend: runs `claude` as a child process of this agentrun process, follows its
 * output into the run store, enforces the deadline and cancellation with the shared stop
 * sequence, and records the verdict.
 *
 * @module
 */
import { Deferred, type Duration, Effect, Fiber, Layer, Option, PubSub, Random, Stream } from "effect"
import * as NodeOs from "node:os"
import type { ExitStatus } from "../domain/ExitStatus.ts"
import { emptyObservation, type Observation } from "../domain/Observation.ts"
import { makeRedactor } from "../domain/Redaction.ts"
import { claudeArgv, makeRunId, type RunRecord, type RunSpec, statusOf } from "../domain/Run.ts"
import type { RunOutcome } from "../domain/RunOutcome.ts"
import { type RunFacts, type SpawnFailure, type SupervisorAction, verdict } from "../domain/Verdict.ts"
import { AgentProcess, type AgentHandle } from "../process/AgentProcess.ts"
import { type StopGrace, StopSequence } from "../process/StopSequence.ts"
import { ProcessTable } from "../procfs/ProcessTable.ts"
import { RunStore } from "../store/RunStore.ts"
import { Backend, type RunHandle, type RunProgress, type RunResult } from "./Backend.ts"
import { pushTail, summaryOf } from "./RunSupervision.ts"
import { TranscriptIngest } from "./TranscriptIngest.ts"

/** Options of the local backend. */
export interface LocalBackendOptions {
  /** Grace periods of the stop sequence (defaults: 10 s, 20 s, 5 s). */
  readonly grace?: Partial<StopGrace>
  /**
   * How long to keep reading stdout/stderr after the agent exited and its leftovers were killed,
   * before giving up on the pipes (default 2 s).
   */
  readonly drainGrace?: Duration.Input
}

type StopRequest = { readonly _tag: "Deadline" } | { readonly _tag: "Cancel"; readonly signal: string | null }

const nowMs = Effect.clockWith((c) => c.currentTimeMillis)

/** Builds the local backend (see {@link LocalBackend}). */
export const makeLocalBackend = (options: LocalBackendOptions = {}) =>
  Effect.gen(function*() {
    const agents = yield* AgentProcess
    const store = yield* RunStore
    const table = yield* ProcessTable
    const stopper = yield* StopSequence
    const hostname = NodeOs.hostname()
    const supervisorTicks = yield* table.info(process.pid).pipe(
      Effect.map(Option.match({ onNone: () => null, onSome: (p) => p.startTimeTicks })),
      Effect.catch(() => Effect.succeed(null))
    )

    const launch = (spec: RunSpec) =>
      Effect.gen(function*() {
        const startedAt = yield* nowMs
        const runId = makeRunId(startedAt, yield* Random.nextIntBetween(0, 0xffffff))
        const redactor = makeRedactor(spec.env)
        const argv = claudeArgv(spec)
        const baseRecord: RunRecord = {
          runId,
          status: "running",
          createdAt: new Date(startedAt).toISOString(),
          endedAt: null,
          supervisor: { pid: process.pid, startTimeTicks: supervisorTicks, hostname },
          agent: {
            pid: null,
            startTimeTicks: null,
            command: [spec.claudePath, ...argv].map(redactor.redact),
            cwd: spec.cwd,
            timeoutMs: spec.timeoutMs
          },
          promptPreview: redactor.redact(spec.prompt.slice(0, 200)),
          outcome: null,
          summary: null
        }
        yield* store.writeRecord(baseRecord)

        const progress = yield* PubSub.unbounded<RunProgress>({ replay: 64 })
        const resultDeferred = yield* Deferred.make<RunResult>()
        const stopRequest = yield* Deferred.make<StopRequest>()
        const events = yield* store.openEvents(runId)
        const stderrLog = yield* store.openStderr(runId)
        const oomBefore = yield* table.oomKillCount

        const finish = (
          observation: Observation,
          stderrTail: ReadonlyArray<string>,
          exit: ExitStatus | null,
          spawnFailure: SpawnFailure | null,
          action: SupervisorAction,
          record: RunRecord
        ) =>
          Effect.gen(function*() {
            const endedAt = yield* nowMs
            const oomAfter = yield* table.oomKillCount
            const facts: RunFacts = {
              observation,
              stderrTail,
              exit,
              spawnFailure,
              action,
              oomKills: Option.isSome(oomBefore) && Option.isSome(oomAfter)
                ? { before: oomBefore.value, after: oomAfter.value }
                : null,
              maxTurns: spec.maxTurns
            }
            const outcome: RunOutcome = verdict(facts, endedAt)
            const summary = summaryOf(outcome, observation, exit, endedAt - startedAt)
            const finalRecord: RunRecord = {
              ...record,
              status: statusOf(outcome),
              endedAt: new Date(endedAt).toISOString(),
              outcome,
              summary: { ...summary, result: summary.result === null ? null : redactor.redact(summary.result) }
            }
            // A record that cannot be written is reported, but the verdict still reaches the user.
            yield* store.writeRecord(finalRecord).pipe(
              Effect.catch((e) => Effect.logWarning(`run ${runId}: ${e.message}`))
            )
            yield* PubSub.publish(progress, { _tag: "Ended", outcome })
            yield* Deferred.succeed(resultDeferred, { record: finalRecord, outcome, summary })
          })

        const spawned = yield* Effect.result(agents.spawn({
          executable: spec.claudePath,
          args: argv,
          cwd: spec.cwd,
          env: spec.env,
          stdin: spec.prompt
        }))

        if (spawned._tag === "Failure") {
          const e = spawned.failure
          yield* PubSub.publish(progress, { _tag: "Started", runId, pid: null })
          yield* finish(emptyObservation, [], null, { path: e.path, reason: e.reason, errno: e.errno, detail: e.detail }, { _tag: "None" }, baseRecord)
        } else {
          const agent: AgentHandle = spawned.success
          const agentTicks = yield* table.info(agent.pid).pipe(
            Effect.map(Option.match({ onNone: () => null, onSome: (p) => p.startTimeTicks })),
            Effect.catch(() => Effect.succeed(null))
          )
          const record: RunRecord = { ...baseRecord, agent: { ...baseRecord.agent, pid: agent.pid, startTimeTicks: agentTicks } }
          yield* store.writeRecord(record)
          yield* PubSub.publish(progress, { _tag: "Started", runId, pid: agent.pid })

          const ingest = new TranscriptIngest(redactor)
          const stderrTail: Array<string> = []

          const readStdout = agent.stdout.pipe(
            Stream.runForEachArray((lines) =>
              Effect.gen(function*() {
                const batch = ingest.push(lines)
                yield* events.append(batch.stored)
                if (batch.progress.length > 0) yield* PubSub.publishAll(progress, batch.progress)
              })
            )
          )
          const readStderr = agent.stderr.pipe(
            Stream.runForEachArray((lines) => {
              const redacted = lines.map(redactor.redact)
              for (const l of redacted) pushTail(stderrTail, l)
              return stderrLog.append(redacted)
            })
          )
          const stdoutFiber = yield* Effect.forkChild(readStdout)
          const stderrFiber = yield* Effect.forkChild(readStderr)

          const supervise = Effect.gen(function*() {
            const deadline = spec.timeoutMs === null
              ? Effect.never
              : Effect.as(Effect.sleep(spec.timeoutMs), { _tag: "Deadline" } as StopRequest)
            const first = yield* Effect.raceFirst(
              Effect.map(agent.exit, (exit) => ({ _tag: "Exited" as const, exit })),
              Effect.raceFirst(deadline, Deferred.await(stopRequest))
            )
            let action: SupervisorAction = { _tag: "None" }
            let exit: ExitStatus
            if (first._tag === "Exited") {
              exit = first.exit
            } else {
              yield* PubSub.publish(progress, { _tag: "Stopping", reason: first._tag === "Deadline" ? "deadline" : "cancel" })
              const stop = yield* stopper.stop(agent, options.grace === undefined ? {} : { grace: options.grace })
              action = first._tag === "Deadline"
                ? { _tag: "Deadline", timeoutMs: spec.timeoutMs ?? 0, stop }
                : { _tag: "Cancel", signal: first.signal, stop }
              exit = (yield* agent.exited) ?? (yield* agent.exit)
            }
            // Leftover tool processes must not keep the pipes (and the run) open.
            yield* stopper.sweep(agent.pid)
            const drain = options.drainGrace ?? "2 seconds"
            yield* Fiber.join(stdoutFiber).pipe(Effect.timeoutOption(drain), Effect.ignore)
            yield* Fiber.join(stderrFiber).pipe(Effect.timeoutOption(drain), Effect.ignore)
            yield* Fiber.interrupt(stdoutFiber)
            yield* Fiber.interrupt(stderrFiber)
            yield* finish(ingest.observation, [...stderrTail], exit, null, action, record)
          }).pipe(
            // Should the supervisor's scope close first (agentrun exits), the agent is stopped.
            Effect.onInterrupt(() =>
              Effect.gen(function*() {
                if ((yield* agent.exited) === null) yield* stopper.stop(agent, options.grace === undefined ? {} : { grace: options.grace })
              })
            )
          )
          yield* Effect.forkScoped(supervise)
        }

        const handle: RunHandle = {
          runId,
          progress: Stream.fromPubSub(progress).pipe(Stream.takeUntil((p) => p._tag === "Ended")),
          cancel: (signal) => Effect.asVoid(Deferred.succeed(stopRequest, { _tag: "Cancel", signal })),
          result: Deferred.await(resultDeferred)
        }
        return handle
      })

    return Backend.of({ launch })
  })

/**
 * The local backend layer. Needs the process boundary, the process table, the stop sequence and
 * the run store.
 */
export const LocalBackend = {
  layer: (options: LocalBackendOptions = {}) => Layer.effect(Backend, makeLocalBackend(options))
}
