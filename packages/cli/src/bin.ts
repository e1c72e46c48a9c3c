/**
 * The `agentrun` executable: parses argv, wires every layer once, runs the command, and exits
 * with the code the command chose (README, "Exit codes").
 *
 * @module
 */
import { AgentrunApp } from "@agentrun/core"
import * as NodeStdio from "@effect/platform-node/NodeStdio"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Runtime from "effect/Runtime"
import { Command } from "effect/cli"
import { agentrun } from "./Cli.ts"
import { ClaudeArgs, splitAtDoubleDash } from "./ClaudeArgs.ts"
import * as CliPresenter from "./CliPresenter.ts"
import { CliExitCode, ExitCodes } from "./ExitCode.ts"
import { KubernetesOnDemand } from "./KubernetesOnDemand.ts"
import * as LazyTerminal from "./LazyTerminal.ts"
import { TerminationSignals } from "./TerminationSignals.ts"
import packageJson from "../package.json" with { type: "json" }

const [ownArgs, claudeArgs] = splitAtDoubleDash(process.argv.slice(2))

// A closed stderr (its reader went away: EPIPE; the terminal closed: EIO) loses the progress and
// the diagnostics, never the supervision: unhandled, the write error would kill agentrun before
// it stopped the agent. stdout is guarded by the commands that must outlive it (see `run`).
process.stderr.on("error", () => {})

/** The core's services (AgentrunApp: config, paths, store, backends, catalog, bootstrap, process boundary, Node platform) and the CLI's own. */
const AppLayer = Layer.mergeAll(
  // A Kubernetes record's operations (cancel, liveness...) go to a backend built on first use.
  // The CLI's event loop serves only its command: appends and whole-file reads are synchronous
  // (FileRunStoreOptions.appends, .reads).
  AgentrunApp.layer({ backends: KubernetesOnDemand.registry, store: { appends: "sync", reads: "sync" } }),
  TerminationSignals.layer,
  CliExitCode.layer,
  CliPresenter.layer,
  // NodeServices.layer's other services, with a Terminal built on first use (see LazyTerminal).
  NodeStdio.layer,
  LazyTerminal.layer
)

const main = Effect.gen(function*() {
  const exitCode = yield* CliExitCode
  yield* Command.runWith(agentrun, { version: packageJson.version })(ownArgs).pipe(
    Effect.provideService(ClaudeArgs, claudeArgs),
    // The presenter has already printed the parse error (stderr) or the help (stdout).
    Effect.catchTag(
      ["UnrecognizedOption", "DuplicateOption", "MissingOption", "MissingArgument", "UnexpectedArgument", "InvalidValue", "UnknownSubcommand", "ValidationError", "ShowHelp"],
      (e) => Ref.set(exitCode, e._tag === "ShowHelp" && e.errors.length === 0 ? ExitCodes.succeeded : ExitCodes.usage)
    )
  )
  return yield* Ref.get(exitCode)
}).pipe(
  Effect.provide(AppLayer),
  // stdout carries the command's output (`run --json`: one JSON object); logs go to stderr.
  Effect.provideService(Logger.LogToStderr, true)
)

// agentrun handles SIGINT/SIGTERM itself (TerminationSignals), so the runner must not.
const runMain = Runtime.makeRunMain(({ fiber, teardown }) => {
  fiber.addObserver((exit) => teardown(exit, (code) => process.exit(code)))
})

runMain(main, {
  // The teardown below reports the failure, once, on stderr.
  disableErrorReporting: true,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit)) return onExit(exit.value as number)
    // A typed failure that no command handled (the run store cannot be written, say) is an
    // operational error: its message says it all. Anything else is a bug: the whole cause.
    const error = Cause.hasDies(exit.cause) ? Option.none() : Cause.findErrorOption(exit.cause)
    const typed = Option.isSome(error) && typeof error.value === "object" && error.value !== null && "message" in error.value
      ? `${"_tag" in error.value ? `${String(error.value._tag)}: ` : ""}${String(error.value.message)}`
      : null
    process.stderr.write(typed === null ? `agentrun: internal error: ${Cause.pretty(exit.cause)}\n` : `agentrun: ${typed}\n`)
    onExit(ExitCodes.process)
  }
})
