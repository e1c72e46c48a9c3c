/**
 * The Backend: where runs execute. `run` launches through this interface, so another backend
 * (a Kubernetes Job) plugs in without touching the CLI; the commands that manage stored runs
 * (list, inspect, logs, cancel, prune) go through `RunCatalog` and the run store.
 *
 * @module
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { RunRecord, RunSpec, RunSummary } from "../domain/Run.ts"
import type { RunId } from "../domain/Run.ts"
import type { RunOutcome } from "../domain/RunOutcome.ts"
import type { RunNotFound, RunStoreError } from "../store/RunStore.ts"

/** Live progress of a run, as `follow` streams it. Token counts are not final until `Ended`. */
export type RunProgress =
  | { readonly _tag: "Preparing"; readonly detail: string }
  | { readonly _tag: "Started"; readonly runId: RunId; readonly pid: number | null }
  | { readonly _tag: "SessionStarted"; readonly sessionId: string | null; readonly model: string | null }
  | { readonly _tag: "AssistantText"; readonly text: string }
  | { readonly _tag: "ToolUse"; readonly name: string }
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
  | { readonly _tag: "Ended"; readonly outcome: RunOutcome }

/** A run's final state: the stored record with its outcome and summary. */
export interface RunResult {
  readonly record: RunRecord
  readonly outcome: RunOutcome
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
  /** Waits for the verdict; the record is written before this completes. */
  readonly result: Effect.Effect<RunResult>
}

/** The backend contract. */
export interface BackendShape {
  /**
   * Launches a run and returns at once. The run lives in the given Scope: closing it early stops
   * the agent. Fails only if the run store cannot record the run; every other failure (spawn
   * included) is the run's outcome.
   */
  readonly launch: (spec: RunSpec) => Effect.Effect<RunHandle, RunStoreError, Scope.Scope>
  /**
   * A handle on a run launched earlier, possibly by another agentrun process: its progress from
   * the start, cancellation (through its supervisor, or of the orphaned agent), its verdict.
   * Fails with RunNotFound for an unknown id (or ambiguous prefix).
   */
  readonly reattach: (runId: string) => Effect.Effect<RunHandle, RunNotFound | RunStoreError>
}

/** The backend in use. `LocalBackend.layer` runs agents as local processes. */
export class Backend extends Context.Service<Backend, BackendShape>()("agentrun/Backend") {}
