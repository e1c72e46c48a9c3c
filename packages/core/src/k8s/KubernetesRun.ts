/**
 * One Kubernetes run's state, shared by the steps of its lifecycle (guard, create, follow,
 * finish), and the {@link RunHandle} its caller holds.
 *
 * @module
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
import type { RunHandle, RunProgress, RunResult } from "../backend/Backend.ts"
import { TranscriptIngest } from "../backend/TranscriptIngest.ts"
import type { Redactor } from "../domain/Redaction.ts"
import type { RunId, RunRecord, RunSpec } from "../domain/Run.ts"
import type { LeaseHolder } from "./AgentLease.ts"
import type { KubernetesRunOptions } from "./KubernetesRunOptions.ts"

/**
 * Why the supervisor is asked to stop following:
 * - `Cancel`: a cancel (`agentrun cancel`, a host's cancel button): the Job is deleted and the
 *   run recorded `Cancelled`;
 * - `Detach`: agentrun itself got a signal (SIGINT/SIGTERM/SIGHUP): the Job keeps running, the
 *   record stays `running` with no supervisor, for `agentrun attach`.
 */
export type KubernetesStopRequest =
  | { readonly _tag: "Cancel" }
  | { readonly _tag: "Detach"; readonly signal: string }

/** A Kubernetes run in progress. Mutable fields change as the run goes (one fiber writes the record). */
export interface KubernetesRun {
  readonly runId: RunId
  readonly spec: RunSpec
  readonly options: KubernetesRunOptions
  /** Epoch milliseconds (Clock) at launch, or at attach for a reattached run. */
  readonly startedAt: number
  readonly redactor: Redactor
  readonly progress: PubSub.PubSub<RunProgress>
  readonly stopRequest: Deferred.Deferred<KubernetesStopRequest>
  readonly result: Deferred.Deferred<RunResult>
  /** The pod log's stream-json, folded as for a local run. */
  readonly ingest: TranscriptIngest
  /** The pod log's last non-JSON lines (stderr evidence), bounded. */
  readonly stderrTail: Array<string>
  /** The agent's Lease, when the run has an agent id. */
  lease: LeaseHolder | null
  /** Lines in the run's events.jsonl and stderr.log when the follow starts (an adopted run's; 0 for a new one). */
  storedLines: { readonly events: number; readonly stderr: number }
  /** The record as last written (or about to be). */
  record: RunRecord
}

/** A run's state before its lifecycle starts. */
export const makeRun = (fields: {
  readonly runId: RunId
  readonly spec: RunSpec
  readonly options: KubernetesRunOptions
  readonly startedAt: number
  readonly redactor: Redactor
  readonly record: RunRecord
}): Effect.Effect<KubernetesRun> =>
  Effect.gen(function*() {
    return {
      ...fields,
      progress: yield* PubSub.unbounded<RunProgress>({ replay: 64 }),
      stopRequest: yield* Deferred.make<KubernetesStopRequest>(),
      result: yield* Deferred.make<RunResult>(),
      ingest: new TranscriptIngest(fields.redactor),
      stderrTail: [],
      lease: null,
      storedLines: { events: 0, stderr: 0 }
    }
  })

const stopRequestOf = (signal: string | null): KubernetesStopRequest =>
  signal === null ? { _tag: "Cancel" } : { _tag: "Detach", signal }

/**
 * The caller's handle. `cancel(null)` cancels the run (the Job is deleted); `cancel(signal)` is
 * agentrun itself being signalled: the supervisor lets go and the Job runs on (`agentrun attach`).
 */
export const kubernetesHandle = (run: KubernetesRun): RunHandle => ({
  runId: run.runId,
  progress: Stream.fromPubSub(run.progress).pipe(Stream.takeUntil((p) => p._tag === "Ended")),
  cancel: (signal) =>
    Effect.asVoid(Deferred.succeed(run.stopRequest, stopRequestOf(signal))),
  result: Deferred.await(run.result)
})

/** Publishes one progress event. */
export const publish = (run: KubernetesRun, event: RunProgress) => PubSub.publish(run.progress, event)

/** The clock, in epoch milliseconds. */
export const nowMs = Effect.clockWith((c) => c.currentTimeMillis)
