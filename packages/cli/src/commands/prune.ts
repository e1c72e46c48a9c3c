/**
 * `agentrun prune [--older-than DURATION] [--keep N] [--dry-run]`: remove finished runs from the store.
 *
 * @module
 */
import { parseDurationText, RunCatalog } from "@agentrun/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { Command, Flag } from "effect/cli"
import { usageError } from "../ExitCode.ts"

/**
 * `--older-than`'s milliseconds, or null. A unit is required: a bare `7` (seconds, elsewhere)
 * read as "7 days" by a user would remove every run, so it is refused.
 */
const olderThanMs = (text: string): number | null => (/^\s*\d+(?:\.\d+)?\s*$/.test(text) ? null : parseDurationText(text))

/** The `prune` command. */
export const prune = Command.make("prune", {
  olderThan: Flag.String("older-than").pipe(
    Flag.withDescription("Remove finished runs that ended longer ago than this: 30m, 12h, 7d, 2w (a unit is required)"),
    Flag.optional
  ),
  keep: Flag.Int("keep").pipe(
    Flag.withDescription("Always keep the N newest finished runs (alone: remove all the others; with --older-than: a floor)"),
    Flag.optional
  ),
  dryRun: Flag.Boolean("dry-run").pipe(Flag.withDescription("List what would be removed; remove nothing"), Flag.withDefault(false))
}, (input) =>
  Effect.gen(function*() {
    if (Option.isNone(input.olderThan) && Option.isNone(input.keep)) {
      return yield* usageError({ message: "prune needs --older-than DURATION (e.g. 7d) and/or --keep N (N >= 0)" })
    }
    const ms = Option.isSome(input.olderThan) ? olderThanMs(input.olderThan.value) : undefined
    if (ms === null) {
      return yield* usageError({ message: `--older-than needs a duration with a unit (30m, 12h, 7d, 2w), not "${Option.getOrElse(input.olderThan, () => "")}"` })
    }
    if (Option.isSome(input.keep) && input.keep.value < 0) return yield* usageError({ message: "--keep must be 0 or more" })
    const catalog = yield* RunCatalog
    const ids = yield* catalog.prune({
      ...(ms === undefined ? {} : { olderThanMs: ms }),
      ...(Option.isSome(input.keep) ? { keep: input.keep.value } : {}),
      dryRun: input.dryRun
    })
    if (ids.length === 0) return yield* Console.log("Nothing to prune.")
    yield* Console.log(`${input.dryRun ? "Would remove" : "Removed"} ${ids.length} run(s):\n${ids.join("\n")}`)
  })).pipe(Command.withDescription("Remove finished runs (running ones are never removed); --dry-run lists them first"))
