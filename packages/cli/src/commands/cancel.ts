/**
 * `agentrun cancel RUN_ID`: stop a run started by another agentrun process.
 *
 * @module
 */
import { AgentrunConfig, resolveStopGrace, RunCatalog } from "@agentrun/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { Argument, Command, Flag } from "effect/cli"
import { ExitCodes, setExitCode, usageError } from "../ExitCode.ts"
import { verdictLine } from "../Output.ts"

/** The `cancel` command. */
export const cancel = Command.make("cancel", {
  runId: Argument.String("run-id").pipe(Argument.withDescription("A run id, or a unique prefix of one")),
  wait: Flag.Finite("wait").pipe(
    Flag.withDescription("Seconds to wait for the supervisor to record the cancellation (default 60; the stop sequence takes up to 35 s)"),
    Flag.withDefault(60)
  )
}, (input) =>
  Effect.gen(function*() {
    const catalog = yield* RunCatalog
    // An orphaned agent is stopped here, with the grace periods every stop uses.
    const { file, path } = yield* (yield* AgentrunConfig).load(process.env)
    const stopGrace = yield* resolveStopGrace(process.env, file, path)
    const result = yield* catalog.cancel(input.runId, { stopGrace })
    if (result._tag === "StoppedOrphan") {
      const o = result.record.outcome!
      return yield* Console.log(verdictLine(result.record.runId, o))
    }
    yield* Console.error(`agentrun: asked the supervisor (pid ${result.supervisorPid}) to cancel; waiting for it to stop the agent…`)
    // By the full id: a newer run matching the typed prefix must not break the wait.
    const record = yield* catalog.get(result.runId).pipe(
      Effect.repeat({ schedule: Schedule.spaced("200 millis"), until: (r) => r.status !== "running" }),
      Effect.timeoutOption(input.wait * 1000)
    )
    if (record._tag === "None" || record.value.outcome === null) {
      yield* Console.error(`agentrun: the run was still running after ${input.wait}s`)
      return yield* setExitCode(ExitCodes.process)
    }
    yield* Console.log(verdictLine(record.value.runId, record.value.outcome))
  }).pipe(
    Effect.catchTags({
      RunNotFound: usageError,
      RunNotRunning: usageError,
      RunOnAnotherHost: usageError,
      ConfigError: usageError
    })
  )).pipe(Command.withDescription("Stop a run started by another agentrun process, through its supervisor if alive"))
