/**
 * One local run's state, shared by the steps of its lifecycle (executable resolution, readers,
 * supervision, finish), and the {@link RunHandle} its caller holds.
 *
 * @module
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
import type { Redactor } from "../domain/Redaction.ts"
import type { RunId, RunRecord, RunSpec } from "../domain/Run.ts"
import type { AgentHandle } from "../process/AgentProcess.ts"
import type { RunHandle, RunProgress, RunResult } from "./Backend.ts"
import type { LocalReaders } from "./LocalReaders.ts"

/**
 * Why the run is asked to stop: its deadline, or a cancel (`signal`: the signal agentrun
 * received, null for a cancel request).
 */
export type StopRequest = { readonly _tag: "Deadline" } | { readonly _tag: "Cancel"; readonly signal: string | null }

/** The agent once spawned: its handle, its /proc start time (clock ticks), its readers (once started). */
export interface LiveAgent {
  readonly handle: AgentHandle
  readonly startTicks: number | null
  readonly readers: LocalReaders | null
}

/** A local run in progress. Mutable fields change as the run goes (one fiber writes them). */
export interface LocalRun {
  readonly runId: RunId
  readonly spec: RunSpec
  /** Epoch milliseconds (Clock) at launch; the deadline counts from here. */
  readonly startedAt: number
  readonly redactor: Redactor
  /** claude's arguments (without the executable). */
  readonly argv: ReadonlyArray<string>
  readonly progress: PubSub.PubSub<RunProgress>
  readonly stopRequest: Deferred.Deferred<StopRequest>
  readonly result: Deferred.Deferred<RunResult>
  /** The record as last written (or about to be). */
  record: RunRecord
  /** Set once the agent is spawned. */
  agent: LiveAgent | null
  /** The cgroup's OOM-kill count when the agent started (read while it starts); none without an agent. */
  oomBefore: Effect.Effect<Option.Option<number>>
}

/** The caller's handle on a local run. */
export const handleOf = (run: LocalRun): RunHandle => ({
  runId: run.runId,
  progress: Stream.fromPubSub(run.progress).pipe(Stream.takeUntil((p) => p._tag === "Ended")),
  cancel: (signal) => Effect.asVoid(Deferred.succeed(run.stopRequest, { _tag: "Cancel", signal })),
  result: Deferred.await(run.result)
})

/** The clock, in epoch milliseconds. */
export const nowMs = Effect.clockWith((c) => c.currentTimeMillis)

/** Publishes one progress event. */
export const publish = (run: LocalRun, event: RunProgress) => PubSub.publish(run.progress, event)

/**
 * Completes when the run's deadline passes (counted from launch, bootstrap included); never for
 * a run without one.
 */
export const untilDeadline = (run: LocalRun): Effect.Effect<StopRequest> =>
  run.spec.timeoutMs === null
    ? Effect.never
    : Effect.flatMap(nowMs, (now) =>
      Effect.as(Effect.sleep(Math.max(0, run.startedAt + run.spec.timeoutMs! - now)), { _tag: "Deadline" } as StopRequest))
