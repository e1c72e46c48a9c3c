/**
 * Evidence shapes shared by several failure classes. Every field is plain JSON so that a verdict
 * can be stored in the run record and printed by `--json` unchanged.
 *
 * @module
 */
import * as Schema from "effect/Schema"
import { SignalDeath } from "./ExitStatus.ts"

/** How the agent process ended, with the last words it wrote. */
export const ProcessEnd = Schema.Struct({
  /** Exit status 0..255, or null when the kernel reported a signal death. */
  exitCode: Schema.NullOr(Schema.Number),
  /** The terminating signal (also filled for an exit status 128+n). */
  signal: Schema.NullOr(SignalDeath),
  /** The last lines of stderr (bounded, redacted). */
  stderrTail: Schema.Array(Schema.String),
  /** Number of stdout lines the agent wrote. */
  stdoutLines: Schema.Number
})
export type ProcessEnd = typeof ProcessEnd.Type

/** One signal agentrun sent while stopping the agent, and whether the agent ended within its grace. */
export const StopStep = Schema.Struct({
  signal: Schema.String,
  /** `"pid"`: the agent process only; `"group"`: its process group; `"tree"`: each remaining process of the run. */
  target: Schema.Literals(["pid", "group", "tree"]),
  /** Processes signalled (pids). */
  pids: Schema.Array(Schema.Number),
  /** Milliseconds after the stop began that the signal was sent. */
  atMs: Schema.Number,
  /** True when the agent ended before the next step was due. */
  answered: Schema.Boolean
})
export type StopStep = typeof StopStep.Type

/** What agentrun's stop sequence did (SIGINT → grace → SIGTERM → grace → SIGKILL). */
export const StopReport = Schema.Struct({
  steps: Schema.Array(StopStep),
  /** Milliseconds from the first signal to the agent's end. */
  tookMs: Schema.Number
})
export type StopReport = typeof StopReport.Type

/** A `system/api_retry` line, condensed. `retryDelayMs` in milliseconds. */
export const ApiRetry = Schema.Struct({
  attempt: Schema.NullOr(Schema.Number),
  maxRetries: Schema.NullOr(Schema.Number),
  errorStatus: Schema.NullOr(Schema.Number),
  error: Schema.NullOr(Schema.String),
  retryDelayMs: Schema.NullOr(Schema.Number)
})
export type ApiRetry = typeof ApiRetry.Type

/**
 * The `result` line's fields that explain a failure. `result` and each `errors` entry are cut to
 * 4,000 characters and `errors` to its first 20 entries (the transcript keeps them whole).
 */
export const ResultFacts = Schema.Struct({
  subtype: Schema.String,
  isError: Schema.Boolean,
  result: Schema.NullOr(Schema.String),
  errors: Schema.Array(Schema.String),
  /** claude's `startup_failure_reason`, when it wrote a result for a known startup failure (absent from older records). */
  startupFailureReason: Schema.optional(Schema.String),
  terminalReason: Schema.NullOr(Schema.String),
  apiErrorStatus: Schema.NullOr(Schema.Number),
  numTurns: Schema.NullOr(Schema.Number),
  costUsd: Schema.NullOr(Schema.Number),
  sessionId: Schema.NullOr(Schema.String)
})
export type ResultFacts = typeof ResultFacts.Type
