/**
 * The subprocess boundary of Bootstrap: runs an installer (npm, `python -m venv`, pip) or a probe
 * (`claude --version`, `python3 -c ...`) to completion, with a time limit taken from Effect's Clock.
 *
 * Uses `node:child_process` directly rather than `effect/process`, because bootstrap must see a
 * signal death as data (`ExitStatus`), and must know which signals it sent itself: its own timeout
 * kill is `subprocess_timeout`, any other signal death is `signal_killed`.
 *
 * @module
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as Duration from "effect/Duration"
import * as NodeChild from "node:child_process"
import { type ExitStatus, fromNodeExit } from "../domain/ExitStatus.ts"
import { ProcessControl } from "../procfs/ProcessControl.ts"

/** What to run. */
export interface InstallerSpec {
  /** Executable name (looked up on `env.PATH`) or path. */
  readonly command: string
  readonly args: ReadonlyArray<string>
  /** The child's whole environment; the parent's when absent. */
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly cwd?: string
  /**
   * agentrun's time limit; when it passes, the child's whole process group gets SIGKILL and the
   * run reports `timedOut: true` and `sentSignal: "SIGKILL"`.
   */
  readonly timeout: Duration.Input
}

/** How a run ended, with its output. */
export interface InstallerRun {
  /** How the process ended (`ExitStatus.ts`). */
  readonly status: ExitStatus
  /** Output, each capped at its last 256 KiB. */
  readonly stdout: string
  readonly stderr: string
  /** The signal agentrun itself sent the process group (its timeout kill, or on interruption), else null. */
  readonly sentSignal: string | null
  /** True when agentrun's time limit ran out. */
  readonly timedOut: boolean
  /** Wall time from spawn to exit, in milliseconds (Effect Clock). */
  readonly durationMs: number
}

/**
 * The installer could not be started at all (`spawn` failed): `errno` is Node's code, e.g.
 * `"ENOENT"` (not found on PATH) or `"EACCES"` (not executable).
 */
export class InstallerSpawnError extends Schema.TaggedError<InstallerSpawnError>()("InstallerSpawnError", {
  message: Schema.String,
  command: Schema.String,
  errno: Schema.String,
  retryable: Schema.Boolean
}) {}

const outputCap = 256 * 1024

/** Keeps at most the last {@link outputCap} characters. */
const append = (acc: string, chunk: string): string => {
  const next = acc + chunk
  return next.length > outputCap ? next.slice(next.length - outputCap) : next
}

type Ended =
  | { readonly _tag: "exit"; readonly code: number | null; readonly signal: string | null }
  | { readonly _tag: "error"; readonly errno: string; readonly message: string }

/** Runs {@link InstallerSpec}s; see the module docs. */
export class InstallerProcess extends Context.Service<InstallerProcess, {
  /**
   * Runs to completion. Fails only when the process could not start; every way it can end
   * (exit code, signal, timeout) is an {@link InstallerRun}. Interrupting the effect kills the group.
   */
  run(spec: InstallerSpec): Effect.Effect<InstallerRun, InstallerSpawnError>
}>()("agentrun/bootstrap/InstallerProcess") {
  /** Real child processes, each in its own process group, signalled through the real ProcessControl (provided here: a real child). */
  static readonly layer: Layer.Layer<InstallerProcess> = Layer.effect(
    InstallerProcess,
    Effect.map(Effect.service(ProcessControl), (control) => InstallerProcess.of({
      run: (spec) =>
        Effect.gen(function*() {
          const started = yield* Clock.currentTimeMillis
          const state = { stdout: "", stderr: "", sent: null as string | null }
          const commandLine = [spec.command, ...spec.args].join(" ")
          const spawned = yield* Effect.try({
            try: () => {
              const child = NodeChild.spawn(spec.command, [...spec.args], {
                stdio: ["ignore", "pipe", "pipe"],
                detached: true,
                ...(spec.env !== undefined ? { env: spec.env as NodeJS.ProcessEnv } : {}),
                ...(spec.cwd !== undefined ? { cwd: spec.cwd } : {})
              })
              child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
                state.stdout = append(state.stdout, chunk)
              })
              child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
                state.stderr = append(state.stderr, chunk)
              })
              const ended = new Promise<Ended>((resolve) => {
                child.on("error", (error: NodeJS.ErrnoException) =>
                  resolve({ _tag: "error", errno: error.code ?? "UNKNOWN", message: error.message }))
                child.on("close", (code, signal) => resolve({ _tag: "exit", code, signal }))
              })
              return { child, ended }
            },
            catch: (error) =>
              new InstallerSpawnError({
                message: `could not start ${spec.command}: ${String(error)}`,
                command: commandLine,
                errno: (error as NodeJS.ErrnoException).code ?? "UNKNOWN",
                retryable: false
              })
          })
          const wait = Effect.promise(() => spawned.ended)
          // The child is a group leader (spawned detached): its group is its pid. Gone already is fine.
          const pid = spawned.child.pid
          const kill = Effect.sync(() => {
            state.sent = "SIGKILL"
          }).pipe(Effect.andThen(pid === undefined ? Effect.void : control.killGroup(pid, "SIGKILL").pipe(Effect.ignore)))
          let timedOut = false
          const ended = yield* wait.pipe(
            Effect.timeoutOrElse({
              duration: spec.timeout,
              orElse: () =>
                Effect.sync(() => {
                  timedOut = true
                }).pipe(Effect.andThen(kill), Effect.andThen(wait))
            }),
            Effect.onInterrupt(() => kill)
          )
          if (ended._tag === "error") {
            return yield* new InstallerSpawnError({
              message: `could not start ${spec.command}: ${ended.message}`,
              command: commandLine,
              errno: ended.errno,
              retryable: false
            })
          }
          const finished = yield* Clock.currentTimeMillis
          return {
            status: fromNodeExit(ended.code, ended.signal),
            stdout: state.stdout,
            stderr: state.stderr,
            sentSignal: state.sent,
            timedOut,
            durationMs: Math.max(0, finished - started)
          }
        })
    }))
  ).pipe(Layer.provide(ProcessControl.layer))
}
