/**
 * `agentrun logs RUN_ID [-f] [--raw]`: a run's transcript.
 *
 * @module
 */
import { formatTranscriptLine, RunCatalog, RunStore } from "@agentrun/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { Argument, Command, Flag } from "effect/cli"
import { usageError } from "../ExitCode.ts"
import { verdictLine } from "../Output.ts"

/** How often `-f` looks for new output, in milliseconds. */
const followPollMs = 200

/** The `logs` command. */
export const logs = Command.make("logs", {
  runId: Argument.String("run-id").pipe(Argument.withDescription("A run id, or a unique prefix of one")),
  follow: Flag.Boolean("follow").pipe(
    Flag.withAlias("f"),
    Flag.withDescription("Follow a live run (started by another agentrun process) until its verdict"),
    Flag.withDefault(false)
  ),
  raw: Flag.Boolean("raw").pipe(Flag.withDescription("Print the stored stream-json lines as they are (redacted)"), Flag.withDefault(false))
}, (input) =>
  Effect.gen(function*() {
    const catalog = yield* RunCatalog
    const store = yield* RunStore
    let record = yield* catalog.get(input.runId)
    let cursor = 0
    /** Prints what was appended since `cursor`, window by window (bounded memory). */
    const printNew = Effect.gen(function*() {
      for (;;) {
        const chunk = yield* store.readEventsSince(record.runId, cursor)
        if (chunk.cursor === cursor) return
        cursor = chunk.cursor
        const text = input.raw ? chunk.lines : chunk.lines.flatMap(formatTranscriptLine)
        if (text.length > 0) yield* Console.log(text.join("\n"))
      }
    })
    yield* printNew
    while (input.follow && record.status === "running") {
      yield* Effect.sleep(followPollMs)
      yield* printNew
      record = yield* catalog.get(record.runId)
    }
    if (input.follow) yield* printNew
    if (!input.raw) {
      yield* Console.log(record.outcome === null ? `── still running (run ${record.runId})` : verdictLine(record.runId, record.outcome))
    }
  }).pipe(
    Effect.catchTag("RunNotFound", usageError)
  )).pipe(Command.withDescription("Print a run's transcript: assistant text, tool calls and results, retries, the verdict"))
