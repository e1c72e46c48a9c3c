/**
 * `agentrun run [PROMPT] [-- CLAUDE_FLAGS...]`: launch claude, follow it, print the verdict;
 * `--retries N` tries a retryable verdict again, `-d` leaves the run to a detached supervisor.
 *
 * @module
 */
import { AgentrunConfig, resolveStopGrace, resolveWatchdog, type RunSpec, RunStore } from "@agentrun/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { Argument, Command, Flag } from "effect/cli"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { ClaudeArgs } from "../ClaudeArgs.ts"
import { receiveDetachedRun, reportLaunched, startDetached } from "../DetachedSupervisor.ts"
import { positiveDurationMs } from "../DurationFlag.ts"
import { usageError } from "../ExitCode.ts"
import { tuneHeapBeforeKubernetes } from "../HeapTuning.ts"
import { type BackendChoice, clusterFailure, kubernetesFlags, kubernetesRequestOf, loadCluster, requestFlagValues, resolveBackend } from "../KubernetesFlags.ts"
import { superviseRun } from "../RunExecution.ts"
import type { RunRequest } from "../RunRequest.ts"
import { readStdin } from "../Stdin.ts"

const flags = {
  json: Flag.Boolean("json").pipe(
    Flag.withDescription("Print exactly one JSON object on stdout: runId, status, outcome, result, usage, costUsd..."),
    Flag.withDefault(false)
  ),
  timeout: Flag.String("timeout").pipe(
    Flag.withDescription("Stop the run after this long: 30s, 5m, 2h (a bare number is seconds); stop sequence SIGINT, SIGTERM, SIGKILL; exit 4"),
    Flag.optional
  ),
  claudePath: Flag.String("claude-path").pipe(
    Flag.withDescription("The claude executable to run, used as is (default: a `claude` on PATH that answers --version, else agentrun's managed install, installed on first use)"),
    Flag.optional
  ),
  model: Flag.String("model").pipe(Flag.withDescription("Passed to claude as --model"), Flag.optional),
  maxTurns: Flag.Int("max-turns").pipe(Flag.withDescription("Passed to claude as --max-turns (1 or more)"), Flag.optional),
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
  retries: Flag.Int("retries").pipe(
    Flag.withDescription("Run again, up to N times, when the verdict is retryable (each attempt its own run; waits 5s, 10s, 20s…, or until the verdict's retryNotBefore)"),
    Flag.withDefault(0)
  ),
  detach: Flag.Boolean("detach").pipe(
    Flag.withAlias("d"),
    Flag.withDescription("Start the run under a detached supervisor, print its run id and return (follow it with logs -f, stop it with cancel)"),
    Flag.withDefault(false)
  ),
  superviseDetached: Flag.Boolean("supervise-detached").pipe(Flag.withHidden, Flag.withDefault(false)),
  ...kubernetesFlags,
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

/** Why `dir` cannot be the agent's working directory (missing, not a directory), or null. */
const workingDirectoryProblem = (dir: string): string | null => {
  let stat: NodeFs.Stats | undefined
  try {
    stat = NodeFs.statSync(dir, { throwIfNoEntry: false })
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOTDIR" ? "no such directory" : String((e as Error).message)
  }
  return stat === undefined ? "no such directory" : stat.isDirectory() ? null : "not a directory"
}

/** A `run` input that cannot make a run (exit 2, nothing stored). */
export class RunUsageError extends Schema.TaggedError<RunUsageError>()("RunUsageError", {
  message: Schema.String,
  retryable: Schema.Boolean
}) {}

const usage = (message: string) => new RunUsageError({ message, retryable: false })

/**
 * The RunSpec of a request: durations parsed, the watchdog and stop grace resolved (flags >
 * environment > config file > defaults), the working directory checked (a local run's: a
 * Kubernetes run works in its Pod's `/workspace`, and the directory it was launched from is only
 * recorded, so a rerun from a folder since removed still runs). Fails with
 * {@link RunUsageError} or ConfigError (both exit 2).
 */
export const specOf = (request: RunRequest, options: { readonly localCwd: boolean } = { localCwd: true }) =>
  Effect.gen(function*() {
    if (request.prompt.trim() === "") return yield* usage("no prompt: give it as an argument or on stdin")
    const timeout = request.timeout === null ? null : positiveDurationMs("--timeout", request.timeout)
    if (timeout !== null && "message" in timeout) return yield* usage(timeout.message)
    // claude ignores --max-turns 0 (issue 15: the run went on as if unlimited): refused here.
    if (request.maxTurns !== null && request.maxTurns < 1) return yield* usage(`--max-turns must be 1 or more, not ${request.maxTurns}`)
    const { file, path } = yield* (yield* AgentrunConfig).load(process.env)
    const watchdog = yield* resolveWatchdog(
      {
        enabled: Option.fromNullishOr(request.watchdog),
        stallTimeout: Option.fromNullishOr(request.stallTimeout),
        startupTimeout: Option.fromNullishOr(request.startupTimeout),
        busyTimeout: Option.fromNullishOr(request.busyTimeout)
      },
      process.env,
      file,
      path
    )
    const stopGrace = yield* resolveStopGrace(process.env, file, path)
    // A --cwd that cannot be the agent's directory is the user's typo, not a run to record.
    const cwdProblem = options.localCwd ? workingDirectoryProblem(request.cwd) : null
    if (cwdProblem !== null) return yield* usage(`--cwd ${request.cwd}: ${cwdProblem}`)
    const spec: RunSpec = {
      prompt: request.prompt,
      cwd: request.cwd,
      claudePath: request.claudePath,
      claudeArgs: request.claudeArgs,
      model: request.model,
      maxTurns: request.maxTurns,
      timeoutMs: timeout === null ? null : Math.round(timeout.ms),
      env: process.env,
      watchdog,
      stopGrace
    }
    return spec
  })

/** How to run a request: `--json`, `--retries N`, `-d`. */
export interface RunOptions {
  readonly json: boolean
  readonly retries: number
  readonly detach: boolean
}

/**
 * Runs a request the way `agentrun run` does (`rerun` comes here too): followed here, or, with
 * `detach`, by a detached supervisor once the request proved valid. Usage and config errors are
 * reported (exit 2) before anything starts.
 */
export const executeRun = (request: RunRequest, options: RunOptions) =>
  Effect.gen(function*() {
    if (options.retries < 0) return yield* usage(`--retries must be 0 or more, not ${options.retries}`)
    const spec = yield* specOf(request)
    if (options.detach) return yield* startDetached(request, { json: options.json, retries: options.retries })
    yield* superviseRun(spec, request, { json: options.json, retries: options.retries })
  }).pipe(Effect.catchTags({ RunUsageError: usageError, ConfigError: usageError }))

/** A k8s choice, as {@link resolveBackend} gives it. */
type KubernetesChoice = Extract<BackendChoice, { backend: "k8s" }>

/**
 * The k8s choice of a stored or received request (`rerun`, the detached supervisor): its
 * settings given again as flags, checked against today's config file. Null for a local request.
 * Fails with ConfigError (a value no longer valid).
 */
const choiceOfRequest = (request: RunRequest) =>
  Effect.gen(function*() {
    const k = request.kubernetes ?? null
    if (k === null) return null
    const { file, path } = yield* (yield* AgentrunConfig).load(process.env)
    const choice = yield* resolveBackend(requestFlagValues(k), { cwd: false, claudePath: false }, file, path, request.cwd)
    return choice.backend === "k8s" ? choice : null
  })

/**
 * A request on the Kubernetes backend: `--dry-run` prints the Secret and Job and creates
 * nothing; otherwise the run goes through the same supervision as a local one (progress, verdict,
 * `--json`, `--retries`, exit code), launched on the cluster the flags name; with `-d`, by a
 * detached supervisor that launches it there (the request carries the settings).
 */
const executeOnCluster = (request: RunRequest, choice: KubernetesChoice, options: RunOptions) =>
  Effect.gen(function*() {
    if (options.retries < 0) return yield* usage(`--retries must be 0 or more, not ${options.retries}`)
    const spec = yield* specOf(request, { localCwd: false })
    // This process follows the run (a -d parent only hands it over; a dry run follows nothing).
    if (!choice.dryRun && !options.detach) yield* tuneHeapBeforeKubernetes
    const cluster = yield* loadCluster
    if (choice.dryRun) return yield* Console.log((yield* cluster.dryRunYaml(spec, choice.target, choice.draft)).trimEnd())
    if (options.detach) return yield* startDetached(request, { json: options.json, retries: options.retries })
    const launcher = yield* cluster.clusterLauncher(choice.target, choice.draft)
    yield* superviseRun(spec, request, { json: options.json, retries: options.retries, launch: launcher.launch })
  }).pipe(Effect.scoped, Effect.catchTags({ RunUsageError: usageError, ConfigError: usageError, KubernetesUnreachable: clusterFailure }))

/**
 * Runs a request where it asks to run: on its cluster when it holds Kubernetes settings (a
 * stored k8s run's, for `rerun`), else locally ({@link executeRun}).
 */
export const executeRequest = (request: RunRequest, options: RunOptions) =>
  Effect.gen(function*() {
    const choice = yield* choiceOfRequest(request)
    if (choice === null) return yield* executeRun(request, options)
    yield* executeOnCluster(request, choice, options)
  }).pipe(Effect.catchTag("ConfigError", usageError))

/**
 * The supervisor `run -d` started: its run comes from the parent (DetachedSupervisor), a k8s
 * one launched on the cluster its request names.
 */
const superviseDetached = Effect.gen(function*() {
  const detached = yield* receiveDetachedRun
  const choice = yield* choiceOfRequest(detached.request)
  const spec = yield* specOf(detached.request, { localCwd: choice === null })
  const store = yield* RunStore
  const onLaunched = reportLaunched(detached, store.runDir)
  if (choice === null) return yield* superviseRun(spec, detached.request, { ...detached.options, onLaunched })
  yield* tuneHeapBeforeKubernetes
  const launcher = yield* (yield* loadCluster).clusterLauncher(choice.target, choice.draft)
  yield* superviseRun(spec, detached.request, { ...detached.options, onLaunched, launch: launcher.launch })
}).pipe(Effect.scoped, Effect.catchTags({ RunUsageError: usageError, ConfigError: usageError, KubernetesUnreachable: clusterFailure }))

/** The `run` command. */
export const run = Command.make("run", flags, (input) =>
  Effect.gen(function*() {
    if (input.superviseDetached) return yield* superviseDetached
    const prompt = Option.isNone(input.prompt) || input.prompt.value === "-" ? yield* readStdin : input.prompt.value
    const base = invocationDir()
    const request: RunRequest = {
      prompt,
      cwd: Option.isSome(input.cwd) ? NodePath.resolve(base, input.cwd.value) : base,
      claudePath: Option.getOrNull(input.claudePath),
      claudeArgs: yield* ClaudeArgs,
      model: Option.getOrNull(input.model),
      maxTurns: Option.getOrNull(input.maxTurns),
      timeout: Option.getOrNull(input.timeout),
      watchdog: Option.getOrNull(input.watchdog),
      stallTimeout: Option.getOrNull(input.stallTimeout),
      startupTimeout: Option.getOrNull(input.startupTimeout),
      busyTimeout: Option.getOrNull(input.busyTimeout)
    }
    // Kubernetes (issue 13): its own small path (KubernetesFlags.ts); local runs go on as before.
    const { file, path } = yield* (yield* AgentrunConfig).load(process.env)
    const choice = yield* resolveBackend(input, { cwd: Option.isSome(input.cwd), claudePath: Option.isSome(input.claudePath) }, file, path, base)
    if (choice.backend === "k8s") {
      return yield* executeOnCluster({ ...request, kubernetes: kubernetesRequestOf(choice) }, choice, { json: input.json, retries: input.retries, detach: input.detach })
    }
    yield* executeRun(request, { json: input.json, retries: input.retries, detach: input.detach })
  }).pipe(Effect.catchTag("ConfigError", usageError))).pipe(
  Command.withDescription("Run claude on a prompt, follow it live, and say exactly how it ended")
)
