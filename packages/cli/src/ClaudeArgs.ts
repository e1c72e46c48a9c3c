/**
 * The arguments after `--` on agentrun's command line, passed to `claude` verbatim.
 *
 * They are split off before effect/cli parses the rest, because effect/cli appends operands after
 * `--` to the positional arguments, where they would be mistaken for the prompt.
 *
 * @module
 */
import * as Context from "effect/Context"
/** Flags for claude given after `--` (empty by default). */
export const ClaudeArgs = Context.Reference<ReadonlyArray<string>>("agentrun/cli/ClaudeArgs", {
  defaultValue: () => []
})

/** Splits argv at the first `--`: `[agentrun's own, claude's]`. */
export const splitAtDoubleDash = (argv: ReadonlyArray<string>): readonly [ReadonlyArray<string>, ReadonlyArray<string>] => {
  const i = argv.indexOf("--")
  return i === -1 ? [argv, []] : [argv.slice(0, i), argv.slice(i + 1)]
}
