/**
 * `agentrun env [--runtime claude-cli|python-agent-sdk] [--json]` (default claude-cli, as `bootstrap`): how to use an installed runtime.
 * For `python-agent-sdk`, the interpreter and the `PYTHONPATH` to run agents and hooks with; for
 * `claude-cli`, the `claude` executable. Probes only: never installs (that is `agentrun bootstrap`).
 *
 * Text output is shell-evaluable (`eval "$(agentrun env --runtime python-agent-sdk)"`):
 * `export AGENTRUN_PYTHON='...'` and `export PYTHONPATH='...'` (the latter only when needed), or
 * `export AGENTRUN_CLAUDE='...'`. Exit 0 when present, 3 when not (with what to do on stderr).
 *
 * @module
 */
import { Bootstrap, Runtimes } from "@agentrun/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { Command, Flag } from "effect/cli"
import { ExitCodes, setExitCode } from "../ExitCode.ts"

/** POSIX single-quoting. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** The `env` command (its Bootstrap service is wired in bin.ts). */
export const env = Command.make(
    "env",
    {
      runtime: Flag.Literals("runtime", Runtimes).pipe(
        Flag.withDescription("Which runtime: claude-cli (default, as for bootstrap) or python-agent-sdk"),
        Flag.withDefault("claude-cli" as const)
      ),
      json: Flag.Boolean("json").pipe(Flag.withDescription("Print JSON instead of shell exports"), Flag.withDefault(false))
    },
    Effect.fn(function*({ runtime, json }) {
      const bootstrap = yield* Bootstrap
      const report = yield* bootstrap.probe(runtime)
      if (report === null) {
        yield* Console.error(`${runtime} is not installed; run: agentrun bootstrap --runtime ${runtime}`)
        if (json) yield* Console.log(JSON.stringify({ runtime, present: false }))
        return yield* setExitCode(ExitCodes.process)
      }
      if (json) {
        yield* Console.log(JSON.stringify({
          runtime,
          present: true,
          outcome: report.outcome,
          ...(runtime === "python-agent-sdk"
            ? { interpreter: report.executable, interpreterVersion: report.interpreterVersion, pythonPath: report.pythonPath }
            : { claude: report.executable, version: report.version })
        }, null, 2))
      } else if (runtime === "python-agent-sdk") {
        yield* Console.log(`export AGENTRUN_PYTHON=${shellQuote(report.executable ?? "")}`)
        if (report.pythonPath !== null) yield* Console.log(`export PYTHONPATH=${shellQuote(report.pythonPath)}`)
      } else {
        yield* Console.log(`export AGENTRUN_CLAUDE=${shellQuote(report.executable ?? "")}`)
      }
    })
  ).pipe(
    Command.withDescription("Print the interpreter and PYTHONPATH (or claude path) to use an installed runtime")
  )

