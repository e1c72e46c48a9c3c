/**
 * `agentrun rm RUN_ID...`: remove single runs from the store (README, "Managing runs").
 *
 * Every id is tried, in order; a run that is still live (`cancel` first) or an id naming no run
 * (or several) is reported on stderr and the others are still removed. Exit 0 when every one
 * went, 2 when any was refused or not found (the README's code for a wrong RUN_ID), 3 when the
 * store failed.
 *
 * @module
 */
import { makeRemoveRun, RunCatalog, RunStore } from "@agentrun/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { Argument, Command } from "effect/cli"
import { ExitCodes, setExitCode } from "../ExitCode.ts"

/** The `rm` command. */
export const rm = Command.make("rm", {
  runIds: Argument.String("run-id").pipe(
    Argument.withDescription("Run ids (each an id, a unique prefix or random tail of one, or `last`)"),
    Argument.atLeast(1)
  )
}, (input) =>
  Effect.gen(function*() {
    const remove = makeRemoveRun(yield* RunCatalog, yield* RunStore)
    let refused = 0
    for (const query of input.runIds) {
      const removed = yield* remove(query).pipe(
        Effect.map((runId) => ({ runId })),
        Effect.catchTags({
          RunStillLive: (e) => Effect.succeed({ refused: e.message }),
          RunNotFound: (e) => Effect.succeed({ refused: e.message }),
          RunIdAmbiguous: (e) => Effect.succeed({ refused: e.message })
        })
      )
      if ("runId" in removed) {
        yield* Console.log(removed.runId)
      } else {
        refused++
        yield* Console.error(`agentrun: ${removed.refused}`)
      }
    }
    if (refused > 0) yield* setExitCode(ExitCodes.usage)
  })).pipe(Command.withDescription("Remove runs from the store (live runs are refused: cancel them first); prints each id removed"))
