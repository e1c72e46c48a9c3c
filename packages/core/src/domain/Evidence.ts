/**
 * Evidence shapes shared by several failure classes. Every field is plain JSON so that a verdict
 * can be stored in the run record and printed by `--json` unchanged.
 *
 * @module
 */
import * as Schema from "effect/Schema"
import { SignalDeath } from "./ExitStatus.ts"

/**
 * The stored transcript (events.jsonl) stops short of what the agent wrote: an append failed (a
 * full disk: ENOSPC). agentrun kept reading stdout (the verdict saw every line) but stored no
 * more, so the stored transcript is the first `storedLines` lines, whole.
 */
export const TranscriptIncomplete = Schema.Struct({
  reason: Schema.Literal("store-append-failed"),
  /** The store's error message. */
  message: Schema.String,
  path: Schema.String,
  /** errno code (ENOSPC, EIO...), when the OS gave one. */
  code: Schema.NullOr(Schema.String),
  /** stdout lines stored before the first failed append. */
  storedLines: Schema.Number,
  /** stdout lines read but not stored. */
  lostLines: Schema.Number
})
export type TranscriptIncomplete = typeof TranscriptIncomplete.Type

/** How the agent process ended, with the last words it wrote. */
export const ProcessEnd = Schema.Struct({
  /** Exit status 0..255, or null when the kernel reported a signal death. */
  exitCode: Schema.NullOr(Schema.Number),
  /** The terminating signal (also filled for an exit status 128+n). */
  signal: Schema.NullOr(SignalDeath),
  /** The last lines of stderr (bounded, redacted). */
  stderrTail: Schema.Array(Schema.String),
  /** Number of stdout lines the agent wrote. */
  stdoutLines: Schema.Number,
  /** Set when the stored transcript is incomplete (absent otherwise, and from older records). */
  transcriptIncomplete: Schema.optional(TranscriptIncomplete)
})
export type ProcessEnd = typeof ProcessEnd.Type

/** One signal agentrun sent while stopping the agent, and whether the agent ended within its grace. */
export const StopStep = Schema.Struct({
  signal: Schema.String,
  /**
   * `"pid"`: the agent process only; `"group"`: its process group; `"tree"`: each remaining
   * process of the run; `"pod"`: a Kubernetes Pod deleted (the signal is the one its kubelet sends).
   */
  target: Schema.Literals(["pid", "group", "tree", "pod"]),
  /** Processes signalled (pids). */
  pids: Schema.Array(Schema.Number),
  /** Milliseconds after the stop began that the signal was sent. */
  atMs: Schema.Number,
  /** True when the agent ended before the next step was due. */
  answered: Schema.Boolean,
  /** For a Kubernetes object, its `namespace/name`. */
  object: Schema.optional(Schema.String)
})
export type StopStep = typeof StopStep.Type

/** What agentrun's stop sequence did (SIGINT → grace → SIGTERM → grace → SIGKILL). */
export const StopReport = Schema.Struct({
  steps: Schema.Array(StopStep),
  /** Milliseconds from the first signal to the agent's end (or to giving up, see `ended`). */
  tookMs: Schema.Number,
  /**
   * False when the agent had still not ended when SIGKILL's grace ran out and the sequence gave up
   * waiting (a process in uninterruptible sleep, `D`, outlives SIGKILL until its I/O returns): its
   * exit status is then unknown. Absent in records written before agentrun recorded it.
   */
  ended: Schema.optional(Schema.Boolean)
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
 * A tool call claude refused (the `result` line's `permission_denials`): the tool, its call id,
 * and the start of its input as JSON (at most 200 characters, redacted like the transcript).
 */
export const PermissionDenial = Schema.Struct({
  toolName: Schema.NullOr(Schema.String),
  toolUseId: Schema.NullOr(Schema.String),
  inputPreview: Schema.NullOr(Schema.String)
})
export type PermissionDenial = typeof PermissionDenial.Type

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
  sessionId: Schema.NullOr(Schema.String),
  /** The tool calls claude refused (absent when none were, and from older records). */
  permissionDenials: Schema.optional(Schema.Array(PermissionDenial))
})
export type ResultFacts = typeof ResultFacts.Type
