/**
 * The process boundary: start the agent in its own session and process group, read its stdout
 * and stderr as lines in bounded memory, signal it, and learn how it ended.
 *
 * Why not `effect/process`: its `exitCode` turns a signal death into an error string, and it
 * signals the whole process group on any non-zero exit — erasing the evidence a verdict and the
 * hang watchdog need. This service keeps both facts structured ({@link ExitStatus}).
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import { PassThrough } from "node:stream"
import { type ExitStatus, fromNodeExit } from "../domain/ExitStatus.ts"
import { SpawnFailureReason } from "../domain/Failures.ts"
import { ProcessControl, type ProcessControlShape } from "../procfs/ProcessControl.ts"
import { ProcessTable, type ProcessTableShape } from "../procfs/ProcessTable.ts"
import { checkExecutable } from "./Executable.ts"
import { defaultMaxLineBytes, type LineBatch, LineSplitter } from "./LineSplitter.ts"
import { killRunTree } from "./RunTree.ts"
import type { StopDelivery, StopTarget } from "./StopTarget.ts"

/** What to start. */
export interface AgentCommand {
  /** Path or PATH-resolved name of the executable. */
  readonly executable: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  /** Written to stdin, which is then closed. */
  readonly stdin: string
  /** Longest stdout/stderr line kept, in bytes (default 64 MiB); longer lines are cut. */
  readonly maxLineBytes?: number
}

/** The agent could not be started. `reason` tells the causes apart. */
export class AgentSpawnError extends Schema.TaggedError<AgentSpawnError>()("AgentSpawnError", {
  message: Schema.String,
  path: Schema.String,
  reason: SpawnFailureReason,
  errno: Schema.NullOr(Schema.String),
  detail: Schema.String,
  retryable: Schema.Boolean
}) {}

/** Signal names this boundary sends. */
export type StopSignal = "SIGINT" | "SIGTERM" | "SIGKILL" | "SIGSTOP" | "SIGCONT"

/**
 * A running agent. Its streams can each be consumed once. A {@link StopTarget}: `interrupt` is
 * SIGINT to its pid, `terminate` SIGTERM to its process group, `kill` SIGKILL to each process of
 * its tree (see RunTree.ts).
 */
export interface AgentHandle extends StopTarget<ExitStatus> {
  readonly pid: number
  /**
   * The file agentrun executed: the command found on PATH, a claude-code npm/pnpm shim resolved
   * to the binary it runs (see resolveClaudeShim); null for an agent agentrun did not start.
   */
  readonly executable: string | null
  /**
   * stdout, in batches of complete lines as they arrive, with their bytes (see LineBatch). Ends
   * when the agent closes stdout.
   */
  readonly stdout: Stream.Stream<LineBatch>
  /** stderr, line by line. */
  readonly stderr: Stream.Stream<string>
  /** Waits for the agent to exit. */
  readonly exit: Effect.Effect<ExitStatus>
  /** Non-blocking: the exit status if it has exited. */
  readonly exited: Effect.Effect<ExitStatus | null>
  /** Sends a signal to the agent process only; false if it is already gone. */
  readonly signal: (signal: StopSignal) => Effect.Effect<boolean>
  /** Sends a signal to the agent's whole process group; false if the group is gone. */
  readonly signalGroup: (signal: StopSignal) => Effect.Effect<boolean>
}

/** Starts agents. The handle's scope, when closed, SIGKILLs the process group if it is still alive. */
export class AgentProcess extends Context.Service<AgentProcess, {
  readonly spawn: (command: AgentCommand) => Effect.Effect<AgentHandle, AgentSpawnError, Scope.Scope>
}>()("agentrun/AgentProcess") {
  /**
   * Real processes via node:child_process, signalled through the real ProcessControl (and their
   * tree found in the real ProcessTable), which the layer provides itself: a real child must
   * never be signalled through a test double.
   */
  static readonly layer: Layer.Layer<AgentProcess> = Layer.effect(
    AgentProcess,
    Effect.gen(function*() {
      const table = yield* ProcessTable
      const control = yield* ProcessControl
      return AgentProcess.of({ spawn: (command) => spawnNode(table, control, command) })
    })
  ).pipe(Layer.provide(ProcessTable.layer))
}

/**
 * The {@link StopTarget} steps of agent `pid`, given how to signal it (`signal`, `signalGroup`:
 * false when it is gone) and to kill its tree. Shared by the real handle and the test double.
 */
export const agentStopSteps = (
  pid: number,
  signal: (signal: StopSignal) => Effect.Effect<boolean>,
  signalGroup: (signal: StopSignal) => Effect.Effect<boolean>,
  killTree: Effect.Effect<ReadonlyArray<number>>
): Pick<StopTarget, "interrupt" | "terminate" | "kill"> => ({
  interrupt: Effect.as(signal("SIGINT"), { signal: "SIGINT", target: "pid", pids: [pid] }),
  terminate: Effect.as(signalGroup("SIGTERM"), { signal: "SIGTERM", target: "group", pids: [pid] }),
  kill: Effect.map(killTree, (pids): StopDelivery => ({ signal: "SIGKILL", target: "tree", pids }))
})

/** A signal to our own child or its group through `control`: false when it is gone (ESRCH; EPERM cannot happen for our own child). */
const sendTo = (control: ProcessControlShape, target: "process" | "group", id: number, signal: StopSignal): Effect.Effect<boolean> =>
  (target === "process" ? control.kill(id, signal) : control.killGroup(id, signal)).pipe(
    Effect.map((d) => d === "delivered"),
    Effect.catch(() => Effect.succeed(false))
  )

async function* splitBatches(readable: NodeJS.ReadableStream, maxLineBytes: number): AsyncGenerator<LineBatch> {
  const splitter = new LineSplitter(maxLineBytes)
  for await (const chunk of readable) {
    const batch = splitter.pushBatch(chunk as Buffer)
    if (batch.lines.length > 0) yield batch
  }
  const rest = splitter.end()
  if (rest.length > 0) yield { lines: rest, bytes: null }
}

// A read error on a pipe from our own child means the pipe is gone: the stream just ends.
const batches = (readable: NodeJS.ReadableStream, maxLineBytes: number): Stream.Stream<LineBatch> =>
  Stream.fromAsyncIterable(splitBatches(readable, maxLineBytes), (e) => e).pipe(Stream.catch(() => Stream.empty))

const lines = (readable: NodeJS.ReadableStream, maxLineBytes: number): Stream.Stream<string> =>
  batches(readable, maxLineBytes).pipe(
    Stream.map((b) => b.lines as readonly [string, ...Array<string>]),
    Stream.flattenArray
  )

const spawnNode = (
  table: ProcessTableShape,
  control: ProcessControlShape,
  command: AgentCommand
): Effect.Effect<AgentHandle, AgentSpawnError, Scope.Scope> =>
  Effect.gen(function*() {
    if (!NodeFs.existsSync(command.cwd) || !NodeFs.statSync(command.cwd).isDirectory()) {
      return yield* new AgentSpawnError({
        message: `Working directory ${command.cwd} does not exist or is not a directory.`,
        path: command.executable,
        reason: "bad-working-directory",
        errno: "ENOENT",
        detail: command.cwd,
        retryable: false
      })
    }
    const check = checkExecutable(command.executable, command.env["PATH"], command.cwd)
    if (check._tag === "Unusable") {
      return yield* new AgentSpawnError({
        message: `Cannot start ${check.path}: ${check.detail}.`,
        path: check.path,
        reason: check.reason,
        errno: check.errno,
        detail: check.detail,
        retryable: false
      })
    }
    const exitDeferred = yield* Deferred.make<ExitStatus>()
    const child = yield* Effect.acquireRelease(
      Effect.callback<NodeChildProcess.ChildProcess, AgentSpawnError>((resume) => {
        const child = NodeChildProcess.spawn(check.path, [...command.args], {
          cwd: command.cwd,
          env: command.env as NodeJS.ProcessEnv,
          // setsid(): its own session and process group, so signals to agentrun's terminal
          // group do not reach it and we can signal its whole group.
          detached: true,
          stdio: ["pipe", "pipe", "pipe"]
        })
        child.once("error", (error: NodeJS.ErrnoException) => {
          resume(Effect.fail(new AgentSpawnError({
            message: `Cannot start ${check.path}: ${error.message}.`,
            path: check.path,
            reason: error.code === "ENOENT" ? "not-found" : error.code === "EACCES" ? "not-executable" : "other",
            errno: error.code ?? null,
            detail: error.message,
            retryable: false
          })))
        })
        child.once("exit", (code, signal) => {
          Deferred.doneUnsafe(exitDeferred, Effect.succeed(fromNodeExit(code, signal)))
        })
        child.once("spawn", () => resume(Effect.succeed(child)))
      }),
      (child) =>
        Effect.gen(function*() {
          const done = yield* Deferred.isDone(exitDeferred)
          // Last resort: the supervisor is leaving and the agent is still here.
          if (!done && child.pid !== undefined && child.pid > 1) yield* sendTo(control, "group", child.pid, "SIGKILL")
          child.stdin?.destroy()
        })
    )
    const pid = child.pid!
    // EPIPE when the agent exits without reading its stdin is not our failure.
    child.stdin!.on("error", () => {})
    child.stdin!.end(command.stdin)
    const signal = (signal: StopSignal) => sendTo(control, "process", pid, signal)
    const signalGroup = (signal: StopSignal) => sendTo(control, "group", pid, signal)
    const maxLineBytes = command.maxLineBytes ?? defaultMaxLineBytes
    // Read from the pipes now, not when the streams are first pulled: after the child's 'exit'
    // Node resumes stdio streams that have no reader, dropping their data (child_process
    // flushStdio), so a fast-exiting agent's output would be lost. The PassThrough keeps
    // backpressure: once it holds `highWaterMark` bytes the pipe pauses.
    const stdout = child.stdout!.pipe(new PassThrough({ highWaterMark: 1024 * 1024 }))
    const stderr = child.stderr!.pipe(new PassThrough({ highWaterMark: 256 * 1024 }))
    return {
      pid,
      executable: check.path,
      stdout: batches(stdout, maxLineBytes),
      stderr: lines(stderr, maxLineBytes),
      exit: Deferred.await(exitDeferred),
      exited: Effect.flatMap(
        Deferred.isDone(exitDeferred),
        (done) => (done ? Deferred.await(exitDeferred) : Effect.succeed(null))
      ),
      signal,
      signalGroup,
      ...agentStopSteps(pid, signal, signalGroup, killRunTree(table, control, pid))
    } satisfies AgentHandle
  })

