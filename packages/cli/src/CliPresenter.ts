/**
 * Where effect/cli's own output goes (README, "Running agentrun").
 *
 * effect/cli's default presenter prints the whole help page to stdout on a usage error, so
 * `agentrun run --json --bogus hi | jq` read 20-odd lines of help where one JSON object or
 * nothing was promised. Here a usage error is the error (with effect/cli's "Did you mean"
 * suggestions) and a one-line pointer to `--help`, on stderr; stdout stays empty. Help asked
 * for (`--help`, a bare `agentrun`) and `--version` still go to stdout. Help pages name the
 * global flags once, on `agentrun --help`, and point there from every subcommand's page.
 *
 * @module
 */
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { type CliError, CliOutput, type HelpDoc, TerminalCapabilities } from "effect/cli"

/** `Run 'agentrun run --help' for usage.`: the pointer printed under a usage error. */
export const helpHint = (commandPath: ReadonlyArray<string>): string => `Run '${commandPath.join(" ")} --help' for usage.`

/**
 * What a usage line leaves out: effect/cli knows nothing of the operands after `--` that `run`
 * passes to claude (bin.ts splits them off before parsing).
 */
const usageTails: Readonly<Record<string, string>> = { "agentrun run": " [-- CLAUDE_FLAGS...]", "agentrun rerun": " [-- CLAUDE_FLAGS...]" }

const withUsageTail = (doc: HelpDoc.HelpDoc): HelpDoc.HelpDoc => {
  const tail = usageTails[(doc.commandPath ?? []).join(" ")]
  return tail === undefined ? doc : { ...doc, usage: `${doc.usage}${tail}` }
}

/**
 * An error on one line: effect/cli's message without its "Did you mean this?" block, the
 * suggestions appended as `(did you mean --json?)`.
 */
const oneLine = (error: CliError.NonShowHelpErrors): string => {
  const head = error.message.split("\n\n")[0]!.trim()
  const suggestions = "suggestions" in error ? error.suggestions : []
  return suggestions.length === 0 ? head : `${head} (did you mean ${suggestions.join(" or ")}?)`
}

/**
 * The presenter: help and version on stdout; a usage error (`InvalidInvocation`) as
 * `agentrun: <error>` lines and {@link helpHint} on stderr, nothing on stdout.
 */
export const presenter: CliOutput.Presenter = {
  present: (event) =>
    Effect.gen(function*() {
      const context = yield* Effect.context<never>()
      const canColor = Context.get(context, TerminalCapabilities.TerminalCapabilities).canColor
      const formatter = CliOutput.defaultFormatter({ colors: canColor, globalFlags: "summary" })
      switch (event._tag) {
        case "Help":
          return yield* Console.log(formatter.formatHelpDoc(withUsageTail(event.helpDoc)))
        case "Version":
          return yield* Console.log(formatter.formatVersion(event.name, event.version))
        case "InvalidInvocation": {
          const lines = event.errors.map((e) => `agentrun: ${oneLine(e)}`)
          return yield* Console.error([...lines, helpHint(event.commandPath)].join("\n"))
        }
      }
    })
}

/** The {@link presenter} as effect/cli's Presenter. */
export const layer: Layer.Layer<never> = CliOutput.layerPresenter(presenter)
