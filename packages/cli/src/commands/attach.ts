/**
 * `agentrun attach RUN_ID [--json] [--kubeconfig PATH]`: take over the supervision of a
 * Kubernetes run whose supervisor is gone (SIGKILLed, its machine lost, or let go of after a
 * SIGINT): follow its Job from where the record's log cursor stopped (no line lost or repeated),
 * record the verdict, print it and exit with its code, as `run` would have.
 *
 * A local run cannot be attached to (its agent does not outlive its supervisor's process group:
 * `logs -f` follows it); a run that has ended prints its verdict; a run an agentrun process
 * supervises now is left to it.
 *
 * @module
 */
import { exitCodeFor, RunCatalog } from "@agentrun/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { Argument, Command, Flag } from "effect/cli"
import * as NodePath from "node:path"
import { setExitCode, usageError } from "../ExitCode.ts"
import { tuneHeapForFollowing } from "../HeapTuning.ts"
import { clusterFailure, kubernetesFlags, loadCluster } from "../KubernetesFlags.ts"
import { recordDamaged, runJson, verdictLine } from "../Output.ts"
import { makeProgressView } from "../ProgressView.ts"
import { TerminationSignals } from "../TerminationSignals.ts"

/** The `attach` command. */
export const attach = Command.make("attach", {
  json: Flag.Boolean("json").pipe(Flag.withDescription("Print exactly one JSON object on stdout (same shape as `run --json`)"), Flag.withDefault(false)),
  kubeconfig: kubernetesFlags.kubeconfig,
  runId: Argument.String("run-id").pipe(Argument.withDescription("A run id, a unique prefix or random tail of one, or `last`"))
}, (input) =>
  Effect.gen(function*() {
    const catalog = yield* RunCatalog
    const record = yield* catalog.get(input.runId)
    if (record.placement._tag !== "Kubernetes") {
      return yield* usageError({
        message: `run ${record.runId} is a local run: attach takes over Kubernetes runs (a local agent ends with its supervisor); \`agentrun logs -f ${record.runId}\` follows it`
      })
    }
    if (record.outcome !== null) {
      yield* input.json ? Console.log(JSON.stringify(runJson(record, record.outcome, record.summary))) : Console.error(verdictLine(record.runId, record.outcome))
      return yield* setExitCode(exitCodeFor(record.outcome))
    }
    const live = yield* catalog.liveness(record)
    const supervisor = record.placement.supervisor
    if (live._tag === "Supervised") {
      return yield* usageError({
        message: `run ${record.runId} is supervised${supervisor === null ? "" : ` by agentrun pid ${supervisor.pid} on ${supervisor.hostname}`}; \`agentrun logs -f ${record.runId}\` follows it`
      })
    }
    const cluster = yield* loadCluster
    const target = cluster.targetOfRecord(record, Option.match(input.kubeconfig, { onNone: () => null, onSome: (p) => NodePath.resolve(p) }))!

    yield* Effect.sync(() => process.stdout.on("error", () => {}))
    const firstSignal = yield* (yield* TerminationSignals).watch
    // This process follows the run from here on, as `run`'s does: the same heap settings (see
    // HeapTuning.ts), set before the takeover replays the stored transcript, which is the same
    // garbage-heavy ingest (a replay of 1 GiB grew the peak RSS by about 110 MB with them, 320 without).
    yield* tuneHeapForFollowing
    const handle = yield* cluster.attachOnCluster(record, target)
    const tty = process.stderr.isTTY === true
    const view = makeProgressView(process.stderr, tty)
    const progressFiber = input.json ? null : yield* Effect.forkChild(Stream.runForEach(handle.progress, (p) => Effect.sync(() => view.show(p))))
    const spinner = input.json || !tty ? null : yield* Effect.forkChild(Effect.repeat(Effect.sync(() => view.tick()), Schedule.spaced("120 millis")))
    // A signal lets go of the run again (its Job runs on), as it does for `run`.
    const signalFiber = yield* Effect.forkChild(Effect.flatMap(firstSignal, (signal) => handle.cancel(signal)))

    const { outcome, record: final, summary } = yield* handle.result
    yield* Fiber.interrupt(signalFiber)
    if (spinner !== null) yield* Fiber.interrupt(spinner)
    if (progressFiber !== null) yield* Fiber.join(progressFiber)
    view.clear()
    if (input.json) {
      yield* Console.log(JSON.stringify(runJson(final, outcome, summary)))
    } else {
      if (outcome._tag === "Succeeded") yield* Console.log(summary.result ?? outcome.evidence.result)
      yield* Console.error(verdictLine(final.runId, outcome))
    }
    yield* setExitCode(exitCodeFor(outcome))
  }).pipe(
    Effect.scoped,
    Effect.catchTags({ RunNotFound: usageError, RunIdAmbiguous: usageError, RunRecordDamaged: recordDamaged, KubernetesUnreachable: clusterFailure })
  )).pipe(Command.withDescription("Take over a Kubernetes run whose supervisor is gone: follow it from its log cursor and record its verdict"))
