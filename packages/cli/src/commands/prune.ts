/**
 * `agentrun prune [--older-than DURATION] [--keep N]`: remove finished runs from the store.
 *
 * @module
 */
import { parseDurationText, RunCatalog } from "@agentrun/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { Command, Flag } from "effect/cli"
import { usageError } from "../ExitCode.ts"

/** The `prune` command. */
export const prune = Command.make("prune", {
  olderThan: Flag.String("older-than").pipe(
    Flag.withDescription("Remove finished runs that ended longer ago than this: 500ms, 90s, 30m, 12h, 7d, 2w (bare number: seconds)"),
    Flag.optional
  ),
  keep: Flag.Int("keep").pipe(Flag.withDescription("Keep only the N newest finished runs"), Flag.optional)
}, (input) =>
  Effect.gen(function*() {
    const olderThanMs = Option.isSome(input.olderThan) ? parseDurationText(input.olderThan.value) : undefined
    if (olderThanMs === null || (Option.isNone(input.olderThan) && Option.isNone(input.keep)) || (Option.isSome(input.keep) && input.keep.value < 0)) {
      return yield* usageError({ message: "prune needs --older-than DURATION (e.g. 7d) and/or --keep N (N >= 0)" })
    }
    const catalog = yield* RunCatalog
    const removed = yield* catalog.prune({
      ...(olderThanMs === undefined ? {} : { olderThanMs }),
      ...(Option.isSome(input.keep) ? { keep: input.keep.value } : {})
    })
    yield* Console.log(removed.length === 0 ? "Nothing to prune." : `Removed ${removed.length} run(s):\n${removed.join("\n")}`)
  })).pipe(Command.withDescription("Remove finished runs (running ones are never removed)"))
