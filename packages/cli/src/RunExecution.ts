/**
 * The one code path of a run started from the command line (`run`, `rerun`, the detached
 * supervisor of `run -d`): launch through the Backends registry (by `spec.backend`), store the request, show progress, turn
 * the first termination signal into a cancel, print the verdict, set the exit code; and, with
 * `--retries N`, do it again for a retryable verdict (RetryPolicy).
 *
 * @module
 */
import { Backends, type BackendUnavailable, exitCodeFor, type RunHandle, type RunId, type RunResult, type RunSpec, RunStore, type RunStoreError } from "@agentrun/core"
import * as Console from "effect/Console"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { setExitCode } from "./ExitCode.ts"
import { formatDuration } from "./Format.ts"
import { tuneHeapForFollowing } from "./HeapTuning.ts"
import { runJson, verdictLine } from "./Output.ts"
import { makeProgressView } from "./ProgressView.ts"
import { retryLine, retrySchedule } from "./RetryPolicy.ts"
import { type RunRequest, storeRunRequest } from "./RunRequest.ts"
import { type TerminationSignal, TerminationSignals } from "./TerminationSignals.ts"

/** How a run is followed: `--json`, `--retries N` (0: none). */
export interface SuperviseOptions {
  readonly json: boolean
  readonly retries: number
  /** Called once the first attempt's run is in the store (the detached supervisor reports its id). */
  readonly onLaunched?: (runId: RunId) => Effect.Effect<void>
  /** Launches an attempt instead of the app's registry (`run --backend k8s`: the backend of the cluster its flags name). */
  readonly launch?: (spec: RunSpec) => Effect.Effect<RunHandle, RunStoreError>
}

/** The exit code of a termination signal (128 + its number: README, "Exit codes"). */
const signalExitCode: Record<TerminationSignal, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 }

/**
 * Runs `spec` to its verdict (again, up to `options.retries` times, for a retryable one), printing
 * as `agentrun run` does, and sets the exit code: the last attempt's. A termination signal during
 * an attempt cancels it (recorded `Cancelled`, never retried); during the wait before a retry it
 * ends the command with 128 + the signal's number and starts nothing more.
 */
export const superviseRun = (spec: RunSpec, request: RunRequest, options: SuperviseOptions) =>
  Effect.gen(function*() {
    // Once a run is under way its reader going away (EPIPE) costs the output, not the run: the
    // agent is still stopped and recorded, and the exit code still says how it ended. Kept for
    // the life of the process: a write's error event can come after the command returns.
    yield* Effect.sync(() => process.stdout.on("error", () => {}))
    const backends = yield* Backends
    const launch = options.launch ?? backends.launch
    const store = yield* RunStore
    // Listen before launching: a signal that comes while the run starts must cancel it.
    const firstSignal = yield* (yield* TerminationSignals).watch
    const attempts = yield* Ref.make<ReadonlyArray<RunId>>([])
    const waiting = yield* Ref.make(false)

    const attempt: Effect.Effect<RunResult, RunStoreError | BackendUnavailable> = Effect.scoped(Effect.gen(function*() {
      yield* Ref.set(waiting, false)
      const handle = yield* launch(spec)
      const first = (yield* Ref.getAndUpdate(attempts, (ids) => [...ids, handle.runId])).length === 0
      // For `rerun`: a store that cannot take it costs the rerun, not this run.
      yield* storeRunRequest(store, handle.runId, request, spec.env).pipe(
        Effect.catch((e) => Console.error(`agentrun: warning: the run's request was not stored (rerun will not work): ${e.message}`))
      )
      if (first && options.onLaunched !== undefined) yield* options.onLaunched(handle.runId)
      // Once the agent has started (off the path to its spawn), before its output flows.
      if (first) {
        yield* Effect.forkChild(
          handle.progress.pipe(Stream.takeUntil((p) => p._tag === "Started"), Stream.runDrain, Effect.andThen(tuneHeapForFollowing))
        )
      }

      const tty = process.stderr.isTTY === true
      const view = makeProgressView(process.stderr, tty)
      const progressFiber = options.json
        ? null
        : yield* Effect.forkChild(Stream.runForEach(handle.progress, (p) => Effect.sync(() => view.show(p))))
      const spinner = options.json || !tty
        ? null
        : yield* Effect.forkChild(Effect.repeat(Effect.sync(() => view.tick()), Schedule.spaced("120 millis")))
      // The first signal decides what is recorded: SIGINT/SIGTERM/SIGHUP (`agentrun cancel` goes through the store).
      const signalFiber = yield* Effect.forkChild(Effect.flatMap(firstSignal, (signal) => handle.cancel(signal)))

      const result = yield* handle.result
      yield* Fiber.interrupt(signalFiber)
      if (spinner !== null) yield* Fiber.interrupt(spinner)
      if (progressFiber !== null) yield* Fiber.join(progressFiber)
      view.clear()
      if (!options.json) {
        if (result.outcome._tag === "Succeeded") yield* Console.log(result.summary.result ?? result.outcome.evidence.result)
        yield* Console.error(verdictLine(result.record.runId, result.outcome))
      }
      return result
    }))

    const schedule = retrySchedule<RunResult>(options.retries, (notice) =>
      Effect.andThen(Ref.set(waiting, true), Console.error(`agentrun: ${retryLine(notice, formatDuration)}`)))
    // A signal while waiting for a retry: nothing runs, so nothing to cancel; stop here.
    const stopped = yield* Deferred.make<TerminationSignal>()
    const signalWhileWaiting = yield* Effect.forkChild(
      Effect.flatMap(firstSignal, (signal) => Effect.flatMap(Ref.get(waiting), (w) => (w ? Deferred.succeed(stopped, signal) : Effect.void)))
    )
    const last = yield* Effect.raceFirst(
      Effect.map(Effect.repeat(attempt, schedule), (r) => ({ _tag: "Ended" as const, result: r })),
      Effect.map(Deferred.await(stopped), (signal) => ({ _tag: "Signalled" as const, signal }))
    )
    yield* Fiber.interrupt(signalWhileWaiting)
    if (last._tag === "Signalled") {
      yield* Console.error(`agentrun: ${last.signal} while waiting to retry: no further attempt`)
      return yield* setExitCode(signalExitCode[last.signal])
    }
    const { outcome, record, summary } = last.result
    if (options.json) {
      const ids = yield* Ref.get(attempts)
      yield* Console.log(JSON.stringify({ ...runJson(record, outcome, summary), ...(options.retries > 0 ? { attempts: ids } : {}) }))
    }
    yield* setExitCode(exitCodeFor(outcome))
  }).pipe(Effect.scoped)
