/**
 * The Backend contract: where runs execute. One backend per placement (`Local`: a child process
 * of this agentrun; `Kubernetes`: a Job), each owning its runs from launch to final record. The
 * {@link Backends} registry (Backends.ts) picks one by `spec.backend` to launch, and by a stored
 * record's placement for everything after: `RunCatalog`'s liveness, recovery, cancel, prune and
 * reattach go through the record's backend, so a run no backend here can judge is `Unknown`,
 * never marked Interrupted or pruned on a guess.
 *
 * @module
 */
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import type { Placement, RunId, RunRecord, RunSpec, RunSummary, StopGraceSettings } from "../domain/Run.ts"
import type { RunLiveness } from "../domain/RunLiveness.ts"
import type { StoredOutcome } from "../domain/StoredOutcome.ts"
import type { RunStoreError } from "../store/RunStore.ts"

/** Live progress of a run, as `follow` streams it. Token counts are not final until `Ended`. */
export type RunProgress =
  | { readonly _tag: "Preparing"; readonly detail: string }
  | { readonly _tag: "Started"; readonly runId: RunId; readonly pid: number | null }
  | { readonly _tag: "SessionStarted"; readonly sessionId: string | null; readonly model: string | null }
  | { readonly _tag: "AssistantText"; readonly text: string }
  | { readonly _tag: "ToolUse"; readonly name: string }
  /** claude refused a tool call (`system/permission_denied`); `reason` is its message, redacted. */
  | { readonly _tag: "PermissionDenied"; readonly toolName: string | null; readonly reason: string | null }
  | {
    readonly _tag: "ApiRetry"
    readonly attempt: number | null
    readonly errorStatus: number | null
    readonly error: string | null
    /** Milliseconds claude will wait before retrying. */
    readonly retryDelayMs: number | null
  }
  | {
    readonly _tag: "Usage"
    readonly turns: number
    readonly inputTokens: number
    readonly outputTokens: number
    /** US dollars, known once the result line arrives. */
    readonly costUsd: number | null
  }
  /** agentrun is stopping the agent: its deadline, a cancel, or the hang watchdog's probe and stop. */
  | { readonly _tag: "Stopping"; readonly reason: "deadline" | "cancel" | "hang" }
  /** The outcome: a reattached run's record may hold one a newer agentrun wrote (UnknownOutcome). */
  | { readonly _tag: "Ended"; readonly outcome: StoredOutcome }

/** A run's final state: the stored record with its outcome and summary. */
export interface RunResult {
  readonly record: RunRecord
  readonly outcome: StoredOutcome
  readonly summary: RunSummary
}

/** A launched run. */
export interface RunHandle {
  readonly runId: RunId
  /** Progress from launch to `Ended` (late subscribers get the last 64 events replayed). */
  readonly progress: Stream.Stream<RunProgress>
  /**
   * Asks the run to stop (the shared stop sequence) and to be recorded `Cancelled`.
   * `signal` is the signal agentrun received (`SIGINT`/`SIGTERM`), or null for a cancel request.
   */
  readonly cancel: (signal: string | null) => Effect.Effect<void>
  /**
   * Waits for the verdict; the final record is written (as far as the store allows) before this
   * completes. Always completes: a run whose supervision failed (the store, a defect) ends
   * `SupervisionFailed`, one whose backend shut down ends `Cancelled` (by "shutdown").
   */
  readonly result: Effect.Effect<RunResult>
}

/** The run is not running: nothing to cancel. */
export class RunNotRunning extends Schema.TaggedError<RunNotRunning>()("RunNotRunning", {
  message: Schema.String,
  runId: Schema.String,
  status: Schema.String,
  retryable: Schema.Boolean
}) {}

/**
 * The run was started on another machine (its placement's hostname): its pids mean nothing
 * here, so agentrun neither signals them nor judges the run dead.
 */
export class RunOnAnotherHost extends Schema.TaggedError<RunOnAnotherHost>()("RunOnAnotherHost", {
  message: Schema.String,
  runId: Schema.String,
  hostname: Schema.String,
  retryable: Schema.Boolean
}) {}

/** What `cancel` did. */
export type CancelResult =
  /**
   * A cancel request is out for the live supervisor, which stops the agent and records the
   * verdict: in the run store (`supervisorPid`: its pid, for a local run; null when none is known),
   * and, for a Kubernetes run supervised on another machine, also on the run's Job as the cancel
   * annotation its Job watch delivers (`supervisorHost`: that machine's hostname; absent when the
   * supervisor runs on this machine).
   */
  | { readonly _tag: "AskedSupervisor"; readonly runId: RunId; readonly supervisorPid: number | null; readonly supervisorHost?: string }
  /** The supervisor was gone: agentrun stopped the agent itself; the record is final. */
  | { readonly _tag: "StoppedOrphan"; readonly record: RunRecord }

/** Options of a cancel ({@link BackendShape.cancel}, RunCatalog's `cancel`). */
export interface CancelOptions {
  /** The stop sequence's grace periods when agentrun stops an orphaned agent itself (see resolveStopGrace); defaults otherwise. */
  readonly stopGrace?: StopGraceSettings
  /** Who asks, for the request's `by` (default: `agentrun cancel (pid N on HOST)`). */
  readonly by?: string
}

/** A record placement's tag: the key a backend is registered under. */
export type PlacementTag = Placement["_tag"]

/**
 * The backend contract. Every operation but `launch` takes a stored record of this backend's
 * `placement` (the registry only hands a backend its own records); given another placement, a
 * backend answers `Unknown` (liveness) or asks through the store (cancel), never guesses.
 */
export interface BackendShape {
  /** The RunRecord placement `_tag` this backend owns (`"Local"`, `"Kubernetes"`). */
  readonly placement: PlacementTag
  /**
   * Launches a run and returns at once. No caller Scope: the backend owns the run in its
   * registry of live runs; closing the backend's layer scope ends every live run it owns with
   * the stop sequence, the sweep and a final record (`Cancelled`, by "shutdown"). Fails only if
   * the run store cannot record the run; every other failure (spawn included) is the run's outcome.
   */
  readonly launch: (spec: RunSpec) => Effect.Effect<RunHandle, RunStoreError>
  /**
   * A handle on a stored run, possibly launched by another agentrun process: its progress from
   * the first stored line, followed live to `Ended`; cancellation (through {@link cancel}); its
   * verdict once the record is final (a run whose supervision is found dead is recovered as
   * `Interrupted` meanwhile). The handle's streams have no error channel: a record that
   * disappears while followed (pruned) is a defect there.
   */
  readonly reattach: (record: RunRecord) => Effect.Effect<RunHandle, RunStoreError>
  /** Whether the run's supervision lives ({@link RunLiveness}). Never fails: what cannot be told is `Unknown`. */
  readonly liveness: (record: RunRecord) => Effect.Effect<RunLiveness>
  /**
   * Cancels a run: asks its live supervisor through the store (a cancel request, which the
   * supervisor turns into the stop sequence and a `Cancelled` record), or, when the supervisor
   * is gone, stops the agent itself and records `Cancelled`. Fails with {@link RunNotRunning}
   * for a finished run (whose agent is not left running) and {@link RunOnAnotherHost} when only
   * another machine can reach the agent.
   */
  readonly cancel: (record: RunRecord, options?: CancelOptions) => Effect.Effect<CancelResult, RunNotRunning | RunOnAnotherHost | RunStoreError>
}
