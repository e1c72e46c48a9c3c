/**
 * The local backend: runs `claude` as a child process of this agentrun process, follows its
 * output into the run store, enforces the deadline and cancellation with the shared stop
 * sequence, watches for hangs (the {@link Watchdog}, unless `spec.watchdog` is null), and records
 * the verdict.
 *
 * @module
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Random from "effect/Random"
import * as Stream from "effect/Stream"
import * as NodeOs from "node:os"
import type { ExitStatus } from "../domain/ExitStatus.ts"
import { emptyObservation, type Observation } from "../domain/Observation.ts"
import { clipLine, detachedPrefix } from "../domain/Prefix.ts"
import { makeRedactor } from "../domain/Redaction.ts"
import { claudeArgv, defaultWatchdogSettings, makeRunId, type RunId, type RunRecord, type RunSpec, statusOf } from "../domain/Run.ts"
import type { RunOutcome } from "../domain/RunOutcome.ts"
import { type RunFacts, type RuntimeUnavailableFacts, type SpawnFailure, type SupervisorAction, verdict } from "../domain/Verdict.ts"
import { AgentProcess, type AgentHandle } from "../process/AgentProcess.ts"
import { runCookieName, type StopGrace, StopSequence, stopGraceOf } from "../process/StopSequence.ts"
import { ProcessTable } from "../procfs/ProcessTable.ts"
import { RunStore } from "../store/RunStore.ts"
import { Bootstrap } from "../bootstrap/Bootstrap.ts"
import { ActivityTracker } from "../watchdog/ActivityTracker.ts"
import { type HangFound, Watchdog } from "../watchdog/Watchdog.ts"
import { Backend, type RunHandle, type RunProgress, type RunResult } from "./Backend.ts"
import { pushTail, stderrTailLineChars, summaryOf } from "./RunSupervision.ts"
import { TranscriptIngest } from "./TranscriptIngest.ts"
import { reattach } from "./Reattach.ts"
import { RunCatalog } from "../runs/RunCatalog.ts"

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

const handleFor = (
  runId: RunId,
  progress: PubSub.PubSub<RunProgress>,
  stopRequest: Deferred.Deferred<StopRequest>,
  result: Deferred.Deferred<RunResult>
): RunHandle => ({
  runId,
  progress: Stream.fromPubSub(progress).pipe(Stream.takeUntil((p) => p._tag === "Ended")),
  cancel: (signal) => Effect.asVoid(Deferred.succeed(stopRequest, { _tag: "Cancel", signal })),
  result: Deferred.await(result)
})

/** Builds the local backend (see {@link LocalBackend}). */
export const makeLocalBackend = (options: LocalBackendOptions = {}) =>
  Effect.gen(function*() {
    const agents = yield* AgentProcess
    const store = yield* RunStore
    const table = yield* ProcessTable
    const stopper = yield* StopSequence
    const watchdog = yield* Watchdog
    const bootstrap = yield* Bootstrap
    const catalog = yield* RunCatalog
    const hostname = NodeOs.hostname()
    const supervisorTicks = yield* table.stat(process.pid).pipe(
      Effect.map(Option.match({ onNone: () => null, onSome: (p) => p.startTimeTicks })),
      Effect.catch(() => Effect.succeed(null))
    )

    /** The run's own grace periods (from its settings), else the backend's options. */
    const graceFor = (spec: RunSpec): Partial<StopGrace> =>
      spec.stopGrace === undefined
        ? options.grace ?? {}
        : { ...options.grace, ...stopGraceOf(spec.stopGrace) }

    const launch = (spec: RunSpec) =>
      Effect.gen(function*() {
        const startedAt = yield* nowMs
        const runId = makeRunId(startedAt, yield* Random.nextIntBetween(0, 0xffffff))
        const redactor = makeRedactor(spec.env)
        const argv = claudeArgv(spec)
        let baseRecord: RunRecord = {
          runId,
          status: "running",
          createdAt: new Date(startedAt).toISOString(),
          endedAt: null,
          supervisor: { pid: process.pid, startTimeTicks: supervisorTicks, hostname },
          agent: {
            pid: null,
            startTimeTicks: null,
            command: [spec.claudePath ?? "claude", ...argv].map(redactor.redact),
            cwd: spec.cwd,
            timeoutMs: spec.timeoutMs
          },
          // Redacted whole, then cut: a secret straddling the cut would otherwise leave its start.
          promptPreview: detachedPrefix(redactor.redact(spec.prompt), 200),
          outcome: null,
          summary: null
        }
        yield* store.writeRecord(baseRecord)

        const progress = yield* PubSub.unbounded<RunProgress>({ replay: 64 })
        const resultDeferred = yield* Deferred.make<RunResult>()
        const stopRequest = yield* Deferred.make<StopRequest>()
        const events = yield* store.openEvents(runId)
        const stderrLog = yield* store.openStderr(runId)
        // The cgroup's OOM-kill count when the agent started: read while it starts (set below, once
        // spawned), off the path to its spawn; none when there never was an agent.
        let oomBefore: Effect.Effect<Option.Option<number>> = Effect.succeed(Option.none())

        const finish = (
          observation: Observation,
          stderrTail: ReadonlyArray<string>,
          exit: ExitStatus | null,
          spawnFailure: SpawnFailure | null,
          action: SupervisorAction,
          record: RunRecord,
          runtimeUnavailable: RuntimeUnavailableFacts | null = null
        ) =>
          Effect.gen(function*() {
            const endedAt = yield* nowMs
            const before = yield* oomBefore
            // No count before (no cgroup v2 memory.events here, or no agent): none after either.
            const oomAfter = Option.isSome(before) ? yield* table.oomKillCount : Option.none<number>()
            const facts: RunFacts = {
              runtimeUnavailable,
              observation,
              stderrTail,
              exit,
              spawnFailure,
              action,
              oomKills: Option.isSome(before) && Option.isSome(oomAfter)
                ? { before: before.value, after: oomAfter.value }
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
              summary
            }
            // A record that cannot be written is reported, but the verdict still reaches the user.
            yield* store.writeRecord(finalRecord).pipe(
              Effect.catch((e) => Effect.logWarning(`run ${runId}: ${e.message}`))
            )
            yield* PubSub.publish(progress, { _tag: "Ended", outcome })
            yield* Deferred.succeed(resultDeferred, { record: finalRecord, outcome, summary })
          })

        // The deadline counts from launch, bootstrap included.
        const untilDeadline: Effect.Effect<StopRequest> = spec.timeoutMs === null
          ? Effect.never
          : Effect.flatMap(nowMs, (now) => Effect.as(Effect.sleep(Math.max(0, startedAt + spec.timeoutMs! - now)), { _tag: "Deadline" } as StopRequest))

        const start = Effect.gen(function*() {
          // No --claude-path: the bootstrap finds a usable claude or installs one (bounded wait on its lock).
          let executable = spec.claudePath
          if (executable === null) {
            yield* PubSub.publish(progress, { _tag: "Preparing", detail: "looking for a usable claude (bootstrap)" })
            const outcome = yield* Effect.raceFirst(
              Effect.map(Effect.result(bootstrap.resolveClaude({ lockWait: "2 minutes" })), (r) => ({ _tag: "Resolved" as const, r })),
              Effect.raceFirst(untilDeadline, Deferred.await(stopRequest))
            )
            if (outcome._tag !== "Resolved") {
              // Cancelled, or out of time, before there was an agent to stop.
              const noStop = { steps: [], tookMs: 0 }
              yield* PubSub.publish(progress, { _tag: "Started", runId, pid: null })
              yield* finish(emptyObservation, [], null, null, outcome._tag === "Deadline"
                ? { _tag: "Deadline", timeoutMs: spec.timeoutMs ?? 0, stop: noStop }
                : { _tag: "Cancel", signal: outcome.signal, stop: null }, baseRecord)
              return
            }
            const resolved = outcome.r
            if (resolved._tag === "Failure") {
              const e = resolved.failure
              yield* PubSub.publish(progress, { _tag: "Started", runId, pid: null })
              yield* finish(emptyObservation, [], null, null, { _tag: "None" }, baseRecord, {
                runtime: e.runtime,
                message: e.message,
                retryable: e.retryable,
                bootstrap: {
                  outcome: e.outcome,
                  outcomeCode: e.outcomeCode,
                  phase: e.phase,
                  errorKind: e.errorKind,
                  errorCode: e.errorCode,
                  retryAfterMs: e.retryAfterMs
                }
              })
              return
            }
            executable = resolved.success.path
            baseRecord = { ...baseRecord, agent: { ...baseRecord.agent, command: [executable, ...argv].map(redactor.redact) } }
          }

          const spawned = yield* Effect.result(agents.spawn({
            executable,
            args: argv,
            cwd: spec.cwd,
            // The run cookie: every process of the run inherits it, so the final sweep finds them all.
            env: { ...spec.env, [runCookieName]: runId },
            stdin: spec.prompt
          }))

          if (spawned._tag === "Failure") {
            const e = spawned.failure
            yield* PubSub.publish(progress, { _tag: "Started", runId, pid: null })
            yield* finish(emptyObservation, [], null, { path: e.path, reason: e.reason, errno: e.errno, detail: e.detail }, { _tag: "None" }, baseRecord)
          } else {
            const agent: AgentHandle = spawned.success
            oomBefore = Fiber.join(yield* Effect.forkScoped(table.oomKillCount))
            const agentTicks = yield* table.stat(agent.pid).pipe(
              Effect.map(Option.match({ onNone: () => null, onSome: (p) => p.startTimeTicks })),
              Effect.catch(() => Effect.succeed(null))
            )
            // The command as executed: a claude-code shim is recorded as the binary that ran.
            const command = agent.executable === null ? baseRecord.agent.command : [redactor.redact(agent.executable), ...baseRecord.agent.command.slice(1)]
            const record: RunRecord = { ...baseRecord, agent: { ...baseRecord.agent, pid: agent.pid, startTimeTicks: agentTicks, command } }
            yield* store.writeRecord(record)
            yield* PubSub.publish(progress, { _tag: "Started", runId, pid: agent.pid })

            const ingest = new TranscriptIngest(redactor)
            const stderrTail: Array<string> = []
            // What the watchdog reads: last output time (stdout and stderr), init seen, last lines.
            const activity = new ActivityTracker(yield* nowMs)

            const readStdout = agent.stdout.pipe(
              Stream.runForEach((lines) =>
                Effect.gen(function*() {
                  const batch = ingest.push(lines)
                  activity.output(yield* Clock.currentTimeMillis, batch.stored, "stdout")
                  if (ingest.observation.init !== null) activity.sawInit()
                  yield* batch.storedBytes === null ? events.append(batch.stored) : events.appendBytes(batch.storedBytes)
                  if (batch.progress.length > 0) yield* PubSub.publishAll(progress, batch.progress)
                })
              )
            )
            const readStderr = agent.stderr.pipe(
              Stream.runForEachArray((lines) =>
                Effect.flatMap(Clock.currentTimeMillis, (now) => {
                  const redacted = lines.map(redactor.redact)
                  // Clipped once for both tails (each keeps a clipped line as it is); the log keeps them whole.
                  const clipped = redacted.map((l) => clipLine(l, stderrTailLineChars))
                  for (const l of clipped) pushTail(stderrTail, l)
                  activity.output(now, clipped, "stderr")
                  return stderrLog.append(redacted)
                })
              )
            )
            const stdoutFiber = yield* Effect.forkChild(readStdout)
            const stderrFiber = yield* Effect.forkChild(readStderr)

            const supervise = Effect.gen(function*() {
              const deadline = untilDeadline
              // The watchdog completes only on a hang; the race interrupts it when the run ends first.
              const hang = spec.watchdog === null
                ? Effect.never
                : Effect.map(
                  watchdog.watch(agent, Effect.sync(() => activity.snapshot()), spec.watchdog),
                  (found): { readonly _tag: "Hang"; readonly found: HangFound } => ({ _tag: "Hang", found })
                )
              const first = yield* Effect.raceFirst(
                Effect.map(agent.exit, (exit) => ({ _tag: "Exited" as const, exit })),
                Effect.raceFirst(deadline, Effect.raceFirst(Deferred.await(stopRequest), hang))
              )
              let action: SupervisorAction = { _tag: "None" }
              let exit: ExitStatus
              if (first._tag === "Exited") {
                exit = first.exit
              } else if (first._tag === "Hang") {
                yield* PubSub.publish(progress, { _tag: "Stopping", reason: "hang" })
                action = yield* watchdog.triage(agent, first.found, {
                  runDir: store.runDir(runId),
                  env: spec.env,
                  redactor,
                  lastOutput: activity.snapshot().lastLines,
                  settings: spec.watchdog ?? defaultWatchdogSettings,
                  grace: graceFor(spec)
                })
                exit = yield* agent.exit
              } else {
                yield* PubSub.publish(progress, { _tag: "Stopping", reason: first._tag === "Deadline" ? "deadline" : "cancel" })
                const stop = yield* stopper.stop(agent, { grace: graceFor(spec) })
                action = first._tag === "Deadline"
                  ? { _tag: "Deadline", timeoutMs: spec.timeoutMs ?? 0, stop }
                  : { _tag: "Cancel", signal: first.signal, stop }
                exit = yield* agent.exit
              }
              // Leftover tool processes must not keep the pipes (and the run) open, nor outlive it.
              yield* Effect.logDebug(`run ${runId}: agent ${agent.pid} ended (${first._tag})`)
              const swept = yield* stopper.sweep(agent.pid, { name: runCookieName, value: runId, ...(agentTicks === null ? {} : { startedAtTicks: agentTicks }) })
              yield* Effect.logDebug(`run ${runId}: swept ${swept.length} leftover process(es)`)
              const drain = options.drainGrace ?? "2 seconds"
              yield* Fiber.join(stdoutFiber).pipe(Effect.timeoutOption(drain), Effect.ignore)
              yield* Fiber.join(stderrFiber).pipe(Effect.timeoutOption(drain), Effect.ignore)
              yield* Fiber.interrupt(stdoutFiber)
              yield* Fiber.interrupt(stderrFiber)
              yield* Effect.logDebug(`run ${runId}: output drained`)
              yield* finish(ingest.observation, [...stderrTail], exit, null, action, record)
            }).pipe(
              // Should the supervisor's scope close first (agentrun exits), the agent is stopped.
              Effect.onInterrupt(() =>
                Effect.gen(function*() {
                  if ((yield* agent.exited) === null) yield* stopper.stop(agent, { grace: graceFor(spec) })
                })
              )
            )
            yield* supervise
          }
        })
        // The run goes on in the caller's scope; the handle is returned at once, so a cancel or the
        // deadline also applies while the bootstrap waits for a lock or installs claude. The fork
        // starts at once, so claude is spawned before the caller goes on (its progress view):
        // 1 to 2 ms sooner, measured.
        yield* Effect.forkScoped(start, { startImmediately: true })
        return handleFor(runId, progress, stopRequest, resultDeferred)
      })

    return Backend.of({ launch, reattach: reattach(store, catalog) })
  })

/**
 * The local backend layer, with its hang {@link Watchdog} and the {@link RunCatalog} (for
 * reattaching) built in. Needs the process boundary, the process table, the stop sequence, the
 * run store and the bootstrap.
 */
export const LocalBackend = {
  layer: (options: LocalBackendOptions = {}) =>
    Layer.effect(Backend, makeLocalBackend(options)).pipe(Layer.provide(Layer.mergeAll(Watchdog.layer, RunCatalog.layer)))
}
