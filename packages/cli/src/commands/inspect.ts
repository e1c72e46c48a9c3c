/**
 * `agentrun inspect RUN_ID [--json]`: one run's record and verdict.
 *
 * @module
 */
import { RunCatalog } from "@agentrun/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { Argument, Command, Flag } from "effect/cli"
import { usageError } from "../ExitCode.ts"
import { runJson } from "../Output.ts"

/** The `inspect` command. */
export const inspect = Command.make("inspect", {
  json: Flag.Boolean("json").pipe(Flag.withDescription("The run as one JSON object (same shape as `run --json`)"), Flag.withDefault(false)),
  runId: Argument.String("run-id").pipe(Argument.withDescription("A run id, or a unique prefix of one"))
}, (input) =>
  Effect.gen(function*() {
    const catalog = yield* RunCatalog
    const record = yield* catalog.get(input.runId)
    if (input.json) return yield* Console.log(JSON.stringify(runJson(record, record.outcome, record.summary)))
    const o = record.outcome
    const lines = [
      `run       ${record.runId}`,
      `status    ${record.status}`,
      `verdict   ${o === null ? "- (still running)" : `${o._tag} (${o.family}${o._tag === "Succeeded" ? "" : o.retryable ? ", retryable" : ", not retryable"})`}`,
      ...(o === null ? [] : [`          ${o.message}`]),
      `started   ${record.createdAt}${record.endedAt === null ? "" : `, ended ${record.endedAt}`}`,
      `command   ${record.agent.command.join(" ")}`,
      `cwd       ${record.agent.cwd}`,
      `prompt    ${record.promptPreview}`,
      `pids      supervisor ${record.supervisor.pid} on ${record.supervisor.hostname}, agent ${record.agent.pid ?? "-"}`,
      ...(record.summary === null ? [] : [
        `agent     exit ${record.summary.agentExitCode ?? "-"}${record.summary.agentSignal === null ? "" : `, ${record.summary.agentSignal.name}`}`,
        `session   ${record.summary.sessionId ?? "-"}`,
        `cost      ${record.summary.costUsd == null ? "-" : `$${record.summary.costUsd.toFixed(4)}`}, turns ${record.summary.numTurns ?? "-"}, ${record.summary.usage?.input_tokens ?? 0} in / ${record.summary.usage?.output_tokens ?? 0} out tokens`
      ]),
      ...(o === null ? [] : [`evidence  ${JSON.stringify(o.evidence, null, 2).split("\n").join("\n          ")}`])
    ]
    yield* Console.log(lines.join("\n"))
  }).pipe(
    Effect.catchTag("RunNotFound", usageError)
  )).pipe(Command.withDescription("Show a run's record and verdict"))
