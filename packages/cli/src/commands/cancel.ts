/**
 * `agentrun cancel RUN_ID`: stop a run started by another agentrun process.
 *
 * @module
 */
import { AgentrunConfig, followRun, resolveStopGrace, RunCatalog, RunStore } from "@agentrun/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { Argument, Command, Flag } from "effect/cli"
import { positiveDurationMs } from "../DurationFlag.ts"
import { ExitCodes, setExitCode, usageError } from "../ExitCode.ts"
import { recordDamaged, verdictLine } from "../Output.ts"

/** The `cancel` command. */
export const cancel = Command.make("cancel", {
  runId: Argument.String("run-id").pipe(Argument.withDescription("A run id, a unique prefix or random tail of one, or `last`")),
  wait: Flag.String("wait").pipe(
    Flag.withDescription("How long to wait for the supervisor to record the cancellation: 30s, 2m (a bare number is seconds; default 60s; the stop sequence takes up to 35 s)"),
    Flag.withDefault("60s")
  )
}, (input) =>
  Effect.gen(function*() {
    const wait = positiveDurationMs("--wait", input.wait)
    if ("message" in wait) return yield* usageError(wait)
    const catalog = yield* RunCatalog
    const store = yield* RunStore
    // An orphaned agent is stopped here, with the grace periods every stop uses.
    const { file, path } = yield* (yield* AgentrunConfig).load(process.env)
    const stopGrace = yield* resolveStopGrace(process.env, file, path)
    const result = yield* catalog.cancel(input.runId, { stopGrace })
    if (result._tag === "StoppedOrphan") {
      const o = result.record.outcome!
      return yield* Console.log(verdictLine(result.record.runId, o))
    }
    const pid = result.supervisorPid === null ? "" : `pid ${result.supervisorPid}`
    yield* Console.error(
      result.supervisorHost === undefined
        ? `agentrun: asked the supervisor${pid === "" ? "" : ` (${pid})`} to cancel; waiting for it to stop the agent…`
        // Another machine's supervisor reads the request from its Job's annotations (its Job watch).
        : `agentrun: asked the supervisor on ${result.supervisorHost}${pid === "" ? "" : ` (${pid})`} to cancel, through its Job's cancel annotation; waiting for it to stop the agent…`
    )
    // By the full id (a newer run matching the typed prefix must not break the wait), through
    // the store's changes; a supervisor that dies meanwhile leaves an Interrupted record.
    const final = yield* followRun(store, result.runId, { recover: catalog.recover, finalOnly: true }).pipe(
      Stream.filter((item) => item._tag === "Final"),
      Stream.runHead,
      Effect.timeoutOption(wait.ms),
      Effect.map(Option.flatten)
    )
    if (Option.isNone(final) || final.value._tag !== "Final" || final.value.record.outcome === null) {
      yield* Console.error(`agentrun: the run was still running after ${input.wait}`)
      return yield* setExitCode(ExitCodes.process)
    }
    yield* Console.log(verdictLine(final.value.record.runId, final.value.record.outcome))
  }).pipe(
    Effect.catchTags({
      RunNotFound: usageError,
      RunIdAmbiguous: usageError,
      RunRecordDamaged: recordDamaged,
      RunNotRunning: usageError,
      RunOnAnotherHost: usageError,
      ConfigError: usageError
    })
  )).pipe(Command.withDescription("Stop a run started by another agentrun process, through its supervisor if alive"))
