/**
 * `agentrun run [PROMPT] [-- CLAUDE_FLAGS...]`: launch claude, follow it, print the verdict.
 *
 * @module
 */
import { AgentrunConfig, Backend, exitCodeFor, resolveStopGrace, resolveWatchdog, type RunSpec } from "@agentrun/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { Argument, Command, Flag } from "effect/cli"
import * as NodePath from "node:path"
import { ClaudeArgs } from "../ClaudeArgs.ts"
import { setExitCode, usageError } from "../ExitCode.ts"
import { tuneHeapForFollowing } from "../HeapTuning.ts"
import { runJson, verdictLine } from "../Output.ts"
import { makeProgressView } from "../ProgressView.ts"
import { readStdin } from "../Stdin.ts"
import { TerminationSignals } from "../TerminationSignals.ts"

const flags = {
  json: Flag.Boolean("json").pipe(
    Flag.withDescription("Print exactly one JSON object on stdout: runId, status, outcome, result, usage, costUsd..."),
    Flag.withDefault(false)
  ),
  timeout: Flag.Finite("timeout").pipe(
    Flag.withDescription("Stop the run after this many SECONDS (stop sequence: SIGINT, SIGTERM, SIGKILL); exit 4"),
    Flag.optional
  ),
  claudePath: Flag.String("claude-path").pipe(
    Flag.withDescription("The claude executable to run, used as is (default: a `claude` on PATH that answers --version, else agentrun's managed install, installed on first use)"),
    Flag.optional
  ),
  model: Flag.String("model").pipe(Flag.withDescription("Passed to claude as --model"), Flag.optional),
  maxTurns: Flag.Int("max-turns").pipe(Flag.withDescription("Passed to claude as --max-turns"), Flag.optional),
  cwd: Flag.String("cwd").pipe(
    Flag.withDescription("The agent's working directory (default: the directory agentrun was started from)"),
    Flag.optional
  ),
  watchdog: Flag.Boolean("watchdog").pipe(
    Flag.withDescription("Watch for hangs (on by default; --no-watchdog turns it off, --watchdog overrides AGENTRUN_WATCHDOG=0 and the config file)"),
    Flag.optional
  ),
  stallTimeout: Flag.String("stall-timeout").pipe(
    Flag.withDescription("Hang when no progress for this long (default 15m; e.g. 90s, 20m)"),
    Flag.optional
  ),
  startupTimeout: Flag.String("startup-timeout").pipe(
    Flag.withDescription("Hang when claude has not started its session after this long (default 2m)"),
    Flag.optional
  ),
  busyTimeout: Flag.String("busy-timeout").pipe(
    Flag.withDescription("Hang when claude burns CPU with no output this long (default 30m; 0 disables)"),
    Flag.optional
  ),
  prompt: Argument.String("prompt").pipe(
    Argument.withDescription("The prompt; read from stdin when absent or `-`"),
    Argument.optional
  )
}

/**
 * The directory the user ran agentrun from. Through the root `agentrun` script (`pnpm agentrun`)
 * that is INIT_CWD, which npm and pnpm set to where the user typed the command; any other
 * process inherits INIT_CWD from whatever script started it, so only the working directory counts.
 */
const invocationDir = (): string =>
  process.env["npm_lifecycle_event"] === "agentrun" ? process.env["INIT_CWD"] ?? process.cwd() : process.cwd()

/** The `run` command. */
export const run = Command.make("run", flags, (input) =>
  Effect.gen(function*() {
    const prompt = Option.isNone(input.prompt) || input.prompt.value === "-" ? yield* readStdin : input.prompt.value
    if (prompt.trim() === "") return yield* usageError({ message: "no prompt: give it as an argument or on stdin" })
    if (Option.isSome(input.timeout) && !(input.timeout.value > 0)) {
      return yield* usageError({ message: "--timeout must be a positive number of seconds" })
    }
    const { file, path } = yield* (yield* AgentrunConfig).load(process.env)
    const watchdog = yield* resolveWatchdog(
      { enabled: input.watchdog, stallTimeout: input.stallTimeout, startupTimeout: input.startupTimeout, busyTimeout: input.busyTimeout },
      process.env,
      file,
      path
    )
    const stopGrace = yield* resolveStopGrace(process.env, file, path)
    const base = invocationDir()
    const spec: RunSpec = {
      prompt,
      cwd: Option.isSome(input.cwd) ? NodePath.resolve(base, input.cwd.value) : base,
      claudePath: Option.getOrNull(input.claudePath),
      claudeArgs: yield* ClaudeArgs,
      model: Option.getOrNull(input.model),
      maxTurns: Option.getOrNull(input.maxTurns),
      timeoutMs: Option.isSome(input.timeout) ? Math.round(input.timeout.value * 1000) : null,
      env: process.env,
      watchdog,
      stopGrace
    }

    // Once a run is under way its reader going away (EPIPE) costs the output, not the run: the
    // agent is still stopped and recorded, and the exit code still says how it ended. Kept for
    // the life of the process: a write's error event can come after the command returns.
    yield* Effect.sync(() => process.stdout.on("error", () => {}))
    const backend = yield* Backend
    // Listen before launching: the record names this process as the supervisor `cancel` signals.
    const firstSignal = yield* (yield* TerminationSignals).watch
    const handle = yield* backend.launch(spec)
    // Once the agent has started (off the path to its spawn), before its output flows.
    yield* Effect.forkChild(
      handle.progress.pipe(Stream.takeUntil((p) => p._tag === "Started"), Stream.runDrain, Effect.andThen(tuneHeapForFollowing))
    )

    const tty = process.stderr.isTTY === true
    const view = makeProgressView(process.stderr, tty)
    const progressFiber = input.json
      ? null
      : yield* Effect.forkChild(Stream.runForEach(handle.progress, (p) => Effect.sync(() => view.show(p))))
    const spinner = input.json || !tty
      ? null
      : yield* Effect.forkChild(Effect.repeat(Effect.sync(() => view.tick()), Schedule.spaced("120 millis")))
    // The first signal decides what is recorded: SIGINT/SIGTERM/SIGHUP, or SIGUSR1 for `agentrun cancel`.
    const signalFiber = yield* Effect.forkChild(
      Effect.flatMap(firstSignal, (signal) => handle.cancel(signal === "SIGUSR1" ? null : signal))
    )

    const { outcome, record, summary } = yield* handle.result
    yield* Fiber.interrupt(signalFiber)
    if (spinner !== null) yield* Fiber.interrupt(spinner)
    if (progressFiber !== null) yield* Fiber.join(progressFiber)
    view.clear()

    if (input.json) {
      yield* Console.log(JSON.stringify(runJson(record, outcome, summary)))
    } else {
      if (outcome._tag === "Succeeded") yield* Console.log(summary.result ?? outcome.evidence.result)
      yield* Console.error(verdictLine(record.runId, outcome))
    }
    yield* setExitCode(exitCodeFor(outcome))
  }).pipe(Effect.scoped, Effect.catchTag("ConfigError", usageError))).pipe(
  Command.withDescription("Run claude on a prompt, follow it live, and say exactly how it ended")
)
