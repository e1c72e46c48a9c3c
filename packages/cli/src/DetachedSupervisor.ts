/**
 * `run -d`: the run is supervised by a child agentrun, detached (its own session, so the
 * terminal's SIGHUP and Ctrl-C do not reach it; it outlives the command that started it), while
 * the command prints the run id and returns 0. The child is a normal `run` (the hidden
 * `run --supervise-detached`): it launches, follows, records the verdict (a failure of its own
 * included: `SupervisionFailed`, `Interrupted` once found dead) and honours `agentrun cancel`
 * through the store like any supervisor.
 *
 * The request (the prompt read from stdin included) goes to the child over Node's IPC channel,
 * unredacted (never to a file): a Kubernetes run's carries its cluster settings, `--pod-env`
 * values included (RunRequest's `kubernetes`), and the child launches the Job there.
 * The child's stdout and stderr are a log file opened by the parent (there is no run folder
 * before the launch); once its run is in the store the child moves that file into the run's
 * folder as `supervisor.log` (same file system: a rename, the open descriptors keep writing to
 * it) and reports the run id over the channel, then closes it. A child that ends before that
 * (a config error, the store unwritable) has its log copied to the parent's stderr.
 *
 * @module
 */
import { AgentrunPaths, type RunId, RunStore } from "@agentrun/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { ExitCodes, setExitCode } from "./ExitCode.ts"
import { runJson } from "./Output.ts"
import { RunRequest } from "./RunRequest.ts"

/** The name of the detached supervisor's log in the run's folder. */
export const supervisorLogName = "supervisor.log"

/** What the parent sends the detached supervisor. */
export const DetachedRun = Schema.Struct({
  request: RunRequest,
  options: Schema.Struct({ json: Schema.Boolean, retries: Schema.Number }),
  /** The log file the child's stdout and stderr write to, until it is moved into the run's folder. */
  logPath: Schema.String
})
export type DetachedRun = typeof DetachedRun.Type

const decodeDetachedRun = Schema.decodeUnknownOption(DetachedRun)

/** The child's report: its run is in the store. */
const Launched = Schema.Struct({ runId: Schema.String, pid: Schema.Number })
const decodeLaunched = Schema.decodeUnknownOption(Launched)

/** What became of the child, as the parent saw it. */
type ChildReport =
  | { readonly _tag: "Launched"; readonly runId: string; readonly pid: number }
  | { readonly _tag: "Ended"; readonly code: number | null; readonly signal: string | null }
  | { readonly _tag: "NotStarted"; readonly message: string }

/**
 * Starts the child and waits until it reported its run, or ended first. The child asks for its
 * run (`{ ready: true }`) once it listens: a message sent before that could be lost.
 */
const spawnSupervisor = (detached: DetachedRun): Effect.Effect<ChildReport> =>
  Effect.callback<readonly [ChildReport, NodeChildProcess.ChildProcess | null]>((resume) => {
    let child: NodeChildProcess.ChildProcess
    try {
      NodeFs.mkdirSync(NodePath.dirname(detached.logPath), { recursive: true })
      const fd = NodeFs.openSync(detached.logPath, "a", 0o600)
      try {
        // The same Node and entry point as this process (the launcher, or src/bin.ts).
        child = NodeChildProcess.spawn(process.execPath, [...process.execArgv, process.argv[1]!, "run", "--supervise-detached"], {
          detached: true,
          stdio: ["ignore", fd, fd, "ipc"],
          env: process.env
        })
      } finally {
        NodeFs.closeSync(fd)
      }
    } catch (e) {
      resume(Effect.succeed([{ _tag: "NotStarted", message: (e as Error).message }, null] as const))
      return
    }
    child.on("message", (message) => {
      if (typeof message === "object" && message !== null && (message as { ready?: unknown }).ready === true) {
        child.send(detached, (e) => {
          if (e !== null) resume(Effect.succeed([{ _tag: "NotStarted", message: e.message }, child] as const))
        })
        return
      }
      const launched = decodeLaunched(message)
      if (launched._tag === "Some") resume(Effect.succeed([{ _tag: "Launched", ...launched.value }, child] as const))
    })
    child.once("exit", (code, signal) => resume(Effect.succeed([{ _tag: "Ended", code, signal }, child] as const)))
    child.once("error", (e) => resume(Effect.succeed([{ _tag: "NotStarted", message: e.message }, child] as const)))
  }).pipe(
    // Whatever the outcome, this process does not wait for the child any longer.
    Effect.tap(([, child]) =>
      Effect.sync(() => {
        if (child === null) return
        if (child.connected) child.disconnect()
        child.unref()
      })
    ),
    Effect.map(([report]) => report)
  )

/**
 * Starts the detached supervisor of `request` and prints its run id (stdout; with `--json` the
 * run's JSON object as `run --json` prints it, status `running`), a hint on stderr; exit 0. When
 * the supervisor ends before its run is stored: its log on stderr, exit with its code (2 for a
 * usage or config error), else 3.
 */
export const startDetached = (request: RunRequest, options: DetachedRun["options"]) =>
  Effect.gen(function*() {
    const paths = yield* AgentrunPaths
    const logPath = NodePath.join(paths.stateDir, `supervisor-${process.pid}-${Date.now()}.log`)
    const report = yield* spawnSupervisor({ request, options, logPath })
    if (report._tag === "Launched") {
      const store = yield* RunStore
      if (options.json) {
        const record = yield* store.readRecord(report.runId)
        return yield* Console.log(JSON.stringify(runJson(record, record.outcome, record.summary)))
      }
      yield* Console.log(report.runId)
      return yield* Console.error(
        `agentrun: run ${report.runId} started under a detached supervisor (pid ${report.pid}, log ${
          NodePath.join(store.runDir(report.runId as RunId), supervisorLogName)
        }); follow it with \`agentrun logs -f ${report.runId}\`, stop it with \`agentrun cancel ${report.runId}\``
      )
    }
    const log = yield* Effect.sync(() => {
      try {
        return NodeFs.readFileSync(logPath, "utf8")
      } catch {
        return ""
      } finally {
        NodeFs.rmSync(logPath, { force: true })
      }
    })
    if (log.trim() !== "") yield* Console.error(log.trimEnd())
    const why = report._tag === "NotStarted"
      ? report.message
      : `it ended (${report.signal === null ? `exit ${report.code}` : report.signal}) before its run was stored`
    yield* Console.error(`agentrun: the detached supervisor did not start the run: ${why}`)
    yield* setExitCode(report._tag === "Ended" && report.code !== null && report.code !== 0 ? report.code : ExitCodes.process)
  })

/**
 * In the detached supervisor: the run its parent sent over the IPC channel. Dies when this
 * process has no channel or the message is not a run (`--supervise-detached` is only for
 * agentrun itself).
 */
export const receiveDetachedRun: Effect.Effect<DetachedRun> = Effect.callback<DetachedRun>((resume) => {
  if (process.send === undefined) {
    resume(Effect.die(new Error("--supervise-detached: no IPC channel to the agentrun that started this one")))
    return
  }
  const onMessage = (message: unknown) => {
    process.off("disconnect", onDisconnect)
    const detached = decodeDetachedRun(message)
    resume(detached._tag === "Some" ? Effect.succeed(detached.value) : Effect.die(new Error("--supervise-detached: not a run request")))
  }
  // The parent went away before it sent the run: nothing to supervise.
  const onDisconnect = () => resume(Effect.die(new Error("--supervise-detached: the agentrun that started this one went away before sending the run")))
  process.once("message", onMessage)
  process.once("disconnect", onDisconnect)
  process.send({ ready: true })
  return Effect.sync(() => {
    process.off("message", onMessage)
    process.off("disconnect", onDisconnect)
  })
})

/**
 * In the detached supervisor, once its run is stored: moves its log into the run's folder and
 * tells the parent the run id, then closes the channel (the parent may be gone: then nobody hears).
 */
export const reportLaunched = (detached: DetachedRun, runDir: (runId: RunId) => string) => (runId: RunId): Effect.Effect<void> =>
  Effect.sync(() => {
      const target = NodePath.join(runDir(runId), supervisorLogName)
      try {
        NodeFs.renameSync(detached.logPath, target)
      } catch (e) {
        process.stderr.write(`agentrun: warning: the supervisor log stays at ${detached.logPath}: ${(e as Error).message}\n`)
      }
      if (process.connected && process.send !== undefined) {
        process.send({ runId, pid: process.pid }, undefined, {}, () => {
          if (process.connected) process.disconnect()
        })
      }
  })
