/**
 * `agentrun wait RUN_ID [--json]`: blocks until a run has its verdict, prints it, and exits with
 * the run's exit code (README, "Exit codes"), like `gh run watch --exit-status`.
 *
 * @module
 */
import { exitCodeFor, followRun, RunCatalog, RunStore } from "@agentrun/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { Argument, Command, Flag } from "effect/cli"
import { ExitCodes, setExitCode, usageError } from "../ExitCode.ts"
import { recordDamaged, runJson, verdictLine } from "../Output.ts"

/** The `wait` command. */
export const wait = Command.make("wait", {
  json: Flag.Boolean("json").pipe(Flag.withDescription("The run as one JSON object once it ends (same shape as `run --json`)"), Flag.withDefault(false)),
  runId: Argument.String("run-id").pipe(Argument.withDescription("A run id, a unique prefix or random tail of one, or `last`"))
}, (input) =>
  Effect.gen(function*() {
    const catalog = yield* RunCatalog
    const store = yield* RunStore
    const { runId } = yield* catalog.get(input.runId)
    // The record only, through the store's changes; a supervisor that dies meanwhile leaves an
    // Interrupted record (recover), so the wait always ends.
    const items = yield* Stream.runCollect(followRun(store, runId, { recover: catalog.recover, finalOnly: true }))
    const record = items.flatMap((item) => item._tag === "Final" ? [item.record] : []).at(0)
    const outcome = record?.outcome ?? null
    if (record === undefined || outcome === null) {
      yield* Console.error(`agentrun: run ${runId} ended without a verdict`)
      return yield* setExitCode(ExitCodes.process)
    }
    yield* Console.log(input.json ? JSON.stringify(runJson(record, outcome, record.summary)) : verdictLine(runId, outcome))
    yield* setExitCode(exitCodeFor(outcome))
  }).pipe(
    Effect.catchTags({ RunNotFound: usageError, RunIdAmbiguous: usageError, RunRecordDamaged: recordDamaged })
  )).pipe(Command.withDescription("Wait for a run's verdict; print it and exit with the run's exit code"))
