/**
 * A run: what was asked (the {@link RunSpec}), and the {@link RunRecord} agentrun keeps about it.
 *
 * @module
 */
import * as Schema from "effect/Schema"
import { SignalDeath } from "./ExitStatus.ts"
import { Usage } from "./Protocol.ts"
import { RunOutcome } from "./RunOutcome.ts"

/**
 * A run id, sortable by start time: `YYYYMMDD-HHMMSS-mmm-xxxxxx` (UTC, then 6 random hex digits),
 * e.g. `20261121-200501-123-a1b2c3`.
 */
export const RunId = Schema.String.pipe(Schema.brand("RunId"))
export type RunId = typeof RunId.Type

/** Makes a {@link RunId} from an epoch-millisecond instant and a random 24-bit number. */
export const makeRunId = (epochMs: number, random24: number): RunId => {
  const iso = new Date(epochMs).toISOString() // 2026-11-21T20:05:01.123Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}-${iso.slice(20, 23)}`
  return RunId.make(`${stamp}-${(random24 & 0xffffff).toString(16).padStart(6, "0")}`)
}

/**
 * The hang watchdog's settings for one run, in milliseconds (README, "Hang watchdog"; resolved
 * from flags > environment > config file > defaults by the CLI).
 */
export interface WatchdogSettings {
  /** No progress (output, CPU >= 1% of a core in the agent's tree, read bytes) for this long is a stall. Default 15 min. */
  readonly stallTimeoutMs: number
  /** No `system/init` within this long after launch is a startup hang. Default 2 min. */
  readonly startupTimeoutMs: number
  /** The agent process itself burning CPU with no output this long is a busy hang; 0 disables. Default 30 min. */
  readonly busyTimeoutMs: number
  /** How long the SIGINT probe waits for the agent to end. Default 10 s. */
  readonly probeGraceMs: number
  /** How often the watchdog samples /proc. Default 1 s. */
  readonly sampleIntervalMs: number
}

/** The watchdog defaults. */
export const defaultWatchdogSettings: WatchdogSettings = {
  stallTimeoutMs: 15 * 60_000,
  startupTimeoutMs: 2 * 60_000,
  busyTimeoutMs: 30 * 60_000,
  probeGraceMs: 10_000,
  sampleIntervalMs: 1_000
}

/** The stop sequence's grace periods for one run, in milliseconds (README, "Stopping a run"). */
export interface StopGraceSettings {
  /** After SIGINT to the agent, before SIGTERM to its group. Default 10 s. */
  readonly interruptGraceMs: number
  /** After SIGTERM, before SIGKILL to every process of the run. Default 20 s. */
  readonly terminateGraceMs: number
}

/** The stop sequence defaults: 10 s, then 20 s. */
export const defaultStopGraceSettings: StopGraceSettings = { interruptGraceMs: 10_000, terminateGraceMs: 20_000 }

/** What to run. Durations in milliseconds. */
export interface RunSpec {
  readonly prompt: string
  /** The agent's working directory (absolute). */
  readonly cwd: string
  /**
   * The `claude` executable (a path, or a name looked up on PATH); null lets the backend find a
   * usable one or install it (the Bootstrap service).
   */
  readonly claudePath: string | null
  /** Extra flags for claude, after agentrun's own (`-p --output-format stream-json --verbose`). */
  readonly claudeArgs: ReadonlyArray<string>
  readonly model: string | null
  readonly maxTurns: number | null
  /** agentrun's deadline for the whole run, in milliseconds; null for none. */
  readonly timeoutMs: number | null
  /** The agent's environment (agentrun's own, passed through). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** The hang watchdog's settings; null turns it off (`--no-watchdog`). */
  readonly watchdog: WatchdogSettings | null
  /** Grace periods of the stop sequence; omitted: the backend's defaults. */
  readonly stopGrace?: StopGraceSettings
}

/** The argv agentrun launches for a spec (without the executable). */
export const claudeArgv = (spec: RunSpec): ReadonlyArray<string> => [
  "-p",
  "--output-format",
  "stream-json",
  "--verbose",
  ...(spec.model === null ? [] : ["--model", spec.model]),
  ...(spec.maxTurns === null ? [] : ["--max-turns", String(spec.maxTurns)]),
  ...spec.claudeArgs
]

/** A run's lifecycle status in the store. */
export const RunStatus = Schema.Literals(["running", "succeeded", "failed", "interrupted"])
export type RunStatus = typeof RunStatus.Type

/** The figures users look for first, flattened from the outcome and the result line. */
export const RunSummary = Schema.Struct({
  result: Schema.NullOr(Schema.String),
  agentExitCode: Schema.NullOr(Schema.Number),
  agentSignal: Schema.NullOr(SignalDeath),
  usage: Schema.NullOr(Usage),
  costUsd: Schema.NullOr(Schema.Number),
  sessionId: Schema.NullOr(Schema.String),
  /** Wall-clock duration of the run as agentrun measured it, in milliseconds. */
  durationMs: Schema.NullOr(Schema.Number),
  numTurns: Schema.NullOr(Schema.Number)
})
export type RunSummary = typeof RunSummary.Type

/**
 * The stored record of a run (`<runsDir>/<runId>/record.json`), rewritten atomically at each
 * change. Instants are ISO 8601 strings; `startTimeTicks` is /proc/PID/stat field 22 (clock ticks
 * since boot) so a reused pid can be told from the original process.
 */
export const RunRecord = Schema.Struct({
  runId: RunId,
  status: RunStatus,
  createdAt: Schema.String,
  endedAt: Schema.NullOr(Schema.String),
  supervisor: Schema.Struct({
    pid: Schema.Number,
    startTimeTicks: Schema.NullOr(Schema.Number),
    hostname: Schema.String
  }),
  agent: Schema.Struct({
    pid: Schema.NullOr(Schema.Number),
    startTimeTicks: Schema.NullOr(Schema.Number),
    /** The argv, redacted. The prompt itself is not stored here. */
    command: Schema.Array(Schema.String),
    cwd: Schema.String,
    timeoutMs: Schema.NullOr(Schema.Number)
  }),
  /** The first 200 characters of the prompt, redacted. */
  promptPreview: Schema.String,
  outcome: Schema.NullOr(RunOutcome),
  summary: Schema.NullOr(RunSummary)
})
export type RunRecord = typeof RunRecord.Type

/** The store status that goes with an outcome. */
export const statusOf = (outcome: RunOutcome): RunStatus =>
  outcome._tag === "Succeeded" ? "succeeded" : outcome._tag === "Interrupted" ? "interrupted" : "failed"
