/**
 * The readers of a local run: the agent's stdout (ingested: observation, progress, the stored
 * transcript) and stderr (the tail kept for evidence, the stored log), each in a fiber of the run.
 *
 * A store append that fails (a full disk) does not stop a reader: the agent must never block on
 * a full pipe because agentrun stopped reading, and the verdict needs every line. The failure is
 * logged once; the stored transcript stays the whole lines stored before it (nothing is appended
 * after a failure, so it has no holes) and the verdict says it is incomplete, and why.
 *
 * @module
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
import type { TranscriptIncomplete } from "../domain/Evidence.ts"
import { clipLine } from "../domain/Prefix.ts"
import type { Redactor } from "../domain/Redaction.ts"
import type { RunId } from "../domain/Run.ts"
import type { AgentHandle } from "../process/AgentProcess.ts"
import type { AppendLog, RunStoreError } from "../store/RunStore.ts"
import { ActivityTracker } from "../watchdog/ActivityTracker.ts"
import type { RunProgress } from "./Backend.ts"
import { pushTail, stderrTailLineChars } from "./RunSupervision.ts"
import { TranscriptIngest } from "./TranscriptIngest.ts"

/** The running readers and what they have gathered so far. */
export interface LocalReaders {
  readonly ingest: TranscriptIngest
  /** The last stderr lines (redacted, clipped). */
  readonly stderrTail: ReadonlyArray<string>
  /** What the watchdog reads: last output time (stdout and stderr), init seen, last lines. */
  readonly activity: ActivityTracker
  /** Set once an append to events.jsonl failed. */
  readonly transcriptIncomplete: () => TranscriptIncomplete | null
  /** Fails with the reader's cause if a reader dies (a defect); never completes otherwise. */
  readonly failure: Effect.Effect<never>
  /**
   * Waits up to `grace` for each reader to reach the end of its pipe, then stops them (a pipe
   * a leftover process still holds open must not keep the run going).
   */
  readonly drain: (grace: Duration.Input) => Effect.Effect<void>
}

/** An append log that, after its first failure, logs it once and stores nothing more. */
const guardedLog = (runId: RunId, name: string, log: AppendLog) => {
  let failed: RunStoreError | null = null
  const guard = (append: Effect.Effect<void, RunStoreError>): Effect.Effect<boolean> =>
    failed !== null
      ? Effect.succeed(false)
      : Effect.as(append, true).pipe(
        Effect.catch((e) => {
          failed = e
          return Effect.as(Effect.logWarning(`run ${runId}: ${name} is incomplete from here on: ${e.message}`), false)
        })
      )
  return {
    failed: () => failed,
    append: (lines: ReadonlyArray<string>) => guard(log.append(lines)),
    appendBytes: (bytes: Uint8Array) => guard(log.appendBytes(bytes))
  }
}

/** Starts both readers as children of the calling fiber (the run's). */
export const startReaders = (options: {
  readonly runId: RunId
  readonly agent: AgentHandle
  readonly redactor: Redactor
  readonly progress: PubSub.PubSub<RunProgress>
  readonly events: AppendLog
  readonly stderrLog: AppendLog
  /** Called once, when claude's `system/init` line has arrived (the record names the session). */
  readonly onSession?: (session: { readonly sessionId: string | null; readonly model: string | null }) => Effect.Effect<void>
}): Effect.Effect<LocalReaders> =>
  Effect.gen(function*() {
    const { agent, progress, redactor, runId } = options
    const ingest = new TranscriptIngest(redactor)
    const stderrTail: Array<string> = []
    const activity = new ActivityTracker(yield* Clock.currentTimeMillis)
    const events = guardedLog(runId, "the stored transcript (events.jsonl)", options.events)
    const stderrLog = guardedLog(runId, "the stored stderr (stderr.log)", options.stderrLog)
    let storedLines = 0
    let lostLines = 0
    let sessionSeen = false

    const readStdout = agent.stdout.pipe(
      Stream.runForEach((lines) =>
        Effect.gen(function*() {
          const batch = ingest.push(lines)
          activity.output(yield* Clock.currentTimeMillis, batch.stored, "stdout")
          if (ingest.observation.init !== null) activity.sawInit()
          const stored = yield* (batch.storedBytes === null ? events.append(batch.stored) : events.appendBytes(batch.storedBytes))
          if (stored) storedLines += batch.stored.length
          else lostLines += batch.stored.length
          const init = ingest.observation.init
          if (init !== null && !sessionSeen) {
            sessionSeen = true
            if (options.onSession !== undefined) yield* options.onSession({ sessionId: init.sessionId, model: init.model })
          }
          if (batch.progress.length > 0) yield* PubSub.publishAll(progress, batch.progress)
        })
      )
    )
    const readStderr = agent.stderr.pipe(
      Stream.runForEachArray((lines) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const redacted = lines.map(redactor.redact)
          // Clipped once for both tails (each keeps a clipped line as it is); the log keeps them whole.
          const clipped = redacted.map((l) => clipLine(l, stderrTailLineChars))
          for (const l of clipped) pushTail(stderrTail, l)
          activity.output(now, clipped, "stderr")
          return Effect.asVoid(stderrLog.append(redacted))
        })
      )
    )
    const stdoutFiber = yield* Effect.forkChild(readStdout)
    const stderrFiber = yield* Effect.forkChild(readStderr)

    const failureOf = (fiber: Fiber.Fiber<void>): Effect.Effect<never> =>
      Effect.flatMap(Fiber.await(fiber), (exit) =>
        Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause) ? Effect.failCause(exit.cause) : Effect.never)

    return {
      ingest,
      stderrTail,
      activity,
      transcriptIncomplete: () => {
        const e = events.failed()
        return e === null ? null : { reason: "store-append-failed", message: e.message, path: e.path, code: e.code, storedLines, lostLines }
      },
      failure: Effect.raceFirst(failureOf(stdoutFiber), failureOf(stderrFiber)),
      drain: (grace) =>
        Effect.gen(function*() {
          // A reader's own defect is supervision's business (`failure`), not the drain's.
          yield* Fiber.await(stdoutFiber).pipe(Effect.timeoutOption(grace))
          yield* Fiber.await(stderrFiber).pipe(Effect.timeoutOption(grace))
          yield* Fiber.interrupt(stdoutFiber)
          yield* Fiber.interrupt(stderrFiber)
        })
    }
  })
