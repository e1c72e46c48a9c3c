/**
 * A run: what was asked (the {@link RunSpec}), and the {@link RunRecord} agentrun keeps about it.
 *
 * @module
 */
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import type { KubernetesRunOptions } from "../k8s/KubernetesRunOptions.ts"
import { SignalDeath } from "./ExitStatus.ts"
import { Usage } from "./Protocol.ts"
import type { RunOutcome } from "./RunOutcome.ts"
import { StoredOutcome } from "./StoredOutcome.ts"

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
  /**
   * Where to run it (`--backend`): `local` (a child process of this agentrun; the default when
   * omitted) or `k8s` (a Kubernetes Job). A backend not registered in this process fails the
   * launch with BackendUnavailable.
   */
  readonly backend?: "local" | "k8s"
  /** The Kubernetes settings of a `k8s` run (namespace, image, resources...); null or omitted otherwise. */
  readonly kubernetes?: KubernetesRunOptions | null
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

/** The summary of a run that has none stored yet (a record written before its end): every field null. */
export const emptySummary: RunSummary = {
  result: null,
  agentExitCode: null,
  agentSignal: null,
  usage: null,
  costUsd: null,
  sessionId: null,
  durationMs: null,
  numTurns: null
}

/**
 * Where a local run executes: on `hostname`, supervised by the agentrun process `supervisorPid`,
 * the agent being `agentPid` (null until spawned, and when it never was). `*StartTicks` is
 * /proc/PID/stat field 22 (clock ticks since boot), so a reused pid can be told from the
 * original process (null when it could not be read).
 */
export const LocalPlacement = Schema.TaggedStruct("Local", {
  hostname: Schema.String,
  supervisorPid: Schema.Number,
  supervisorStartTicks: Schema.NullOr(Schema.Number),
  agentPid: Schema.NullOr(Schema.Number),
  agentStartTicks: Schema.NullOr(Schema.Number)
})
export type LocalPlacement = typeof LocalPlacement.Type

/**
 * Where a Kubernetes run executes: its Job (and, once scheduled, its Pod) in `namespace` of the
 * kubeconfig `context` (null: the current one). Names and fields are Kubernetes' own.
 */
export const KubernetesPlacement = Schema.TaggedStruct("Kubernetes", {
  context: Schema.NullOr(Schema.String),
  namespace: Schema.String,
  jobName: Schema.String,
  jobUid: Schema.NullOr(Schema.String),
  podName: Schema.NullOr(Schema.String),
  podUid: Schema.NullOr(Schema.String),
  nodeName: Schema.NullOr(Schema.String),
  /**
   * Where the log follow stopped: containerID, the last line's whole second (ISO), lines seen in
   * that second; and how many lines events.jsonl and stderr.log held at that point (absent in
   * records written before agentrun kept them). The store's files may be ahead of a cursor written
   * before the supervisor died: an attach skips the log lines they already hold.
   */
  logCursor: Schema.NullOr(Schema.Struct({
    containerId: Schema.String,
    second: Schema.String,
    count: Schema.Number,
    eventLines: Schema.optional(Schema.Number),
    stderrLines: Schema.optional(Schema.Number)
  })),
  /** The agentrun process following it now, if any (null once it is gone / detached). */
  supervisor: Schema.NullOr(Schema.Struct({ hostname: Schema.String, pid: Schema.Number, startTimeTicks: Schema.NullOr(Schema.Number) })),
  agentId: Schema.NullOr(Schema.String),
  taskId: Schema.NullOr(Schema.String)
})
export type KubernetesPlacement = typeof KubernetesPlacement.Type

/** Where a run executes, by backend. */
export const Placement = Schema.Union([LocalPlacement, KubernetesPlacement])
export type Placement = typeof Placement.Type

/** The record format version agentrun writes. */
export const runRecordSchemaVersion = 2 as const

/**
 * The stored record of a run (`<runsDir>/<runId>/record.json`), rewritten atomically at each
 * change. Instants are ISO 8601 strings. Always written in this shape (schemaVersion 2); see
 * {@link StoredRunRecord} for what is read.
 */
export const RunRecord = Schema.Struct({
  schemaVersion: Schema.Literal(runRecordSchemaVersion),
  runId: RunId,
  status: RunStatus,
  createdAt: Schema.String,
  endedAt: Schema.NullOr(Schema.String),
  placement: Placement,
  agent: Schema.Struct({
    /** The argv, redacted. The prompt itself is not stored here. */
    command: Schema.Array(Schema.String),
    cwd: Schema.String,
    timeoutMs: Schema.NullOr(Schema.Number)
  }),
  /** The first 200 characters of the prompt, redacted. */
  promptPreview: Schema.String,
  /**
   * claude's session and model from its `system/init` line, written as soon as that line
   * arrives, so a running run names its session (absent before it, and from older records).
   */
  session: Schema.optional(Schema.NullOr(Schema.Struct({ sessionId: Schema.NullOr(Schema.String), model: Schema.NullOr(Schema.String) }))),
  outcome: Schema.NullOr(StoredOutcome),
  summary: Schema.NullOr(RunSummary)
})
export type RunRecord = typeof RunRecord.Type

/**
 * A version-1 record (agentrun before placements: no `schemaVersion`, the local pids under
 * `supervisor` and `agent`), decoded into the version-2 shape. Encoding goes back to version 1
 * for a local placement only; agentrun never writes version 1.
 */
const RunRecordV1 = Schema.Struct({
  runId: Schema.String,
  status: Schema.String,
  createdAt: Schema.String,
  endedAt: Schema.NullOr(Schema.String),
  supervisor: Schema.Struct({ pid: Schema.Number, startTimeTicks: Schema.NullOr(Schema.Number), hostname: Schema.String }),
  agent: Schema.Struct({
    pid: Schema.NullOr(Schema.Number),
    startTimeTicks: Schema.NullOr(Schema.Number),
    command: Schema.Array(Schema.String),
    cwd: Schema.String,
    timeoutMs: Schema.NullOr(Schema.Number)
  }),
  promptPreview: Schema.String,
  outcome: Schema.Unknown,
  summary: Schema.Unknown
})

const RunRecordFromV1 = RunRecordV1.pipe(
  Schema.decodeTo(RunRecord, {
    decode: SchemaGetter.transform((v1): typeof RunRecord.Encoded => ({
      schemaVersion: runRecordSchemaVersion,
      runId: v1.runId,
      status: v1.status as RunStatus,
      createdAt: v1.createdAt,
      endedAt: v1.endedAt,
      placement: {
        _tag: "Local",
        hostname: v1.supervisor.hostname,
        supervisorPid: v1.supervisor.pid,
        supervisorStartTicks: v1.supervisor.startTimeTicks,
        agentPid: v1.agent.pid,
        agentStartTicks: v1.agent.startTimeTicks
      },
      agent: { command: v1.agent.command, cwd: v1.agent.cwd, timeoutMs: v1.agent.timeoutMs },
      promptPreview: v1.promptPreview,
      outcome: v1.outcome as typeof RunRecord.Encoded["outcome"],
      summary: v1.summary as typeof RunRecord.Encoded["summary"]
    })),
    encode: SchemaGetter.transform((v2: typeof RunRecord.Encoded) => {
      const p = v2.placement._tag === "Local"
        ? v2.placement
        : { hostname: "", supervisorPid: 0, supervisorStartTicks: null, agentPid: null, agentStartTicks: null }
      return {
        runId: v2.runId,
        status: v2.status,
        createdAt: v2.createdAt,
        endedAt: v2.endedAt,
        supervisor: { pid: p.supervisorPid, startTimeTicks: p.supervisorStartTicks, hostname: p.hostname },
        agent: { pid: p.agentPid, startTimeTicks: p.agentStartTicks, ...v2.agent },
        promptPreview: v2.promptPreview,
        outcome: v2.outcome,
        summary: v2.summary
      }
    })
  })
)

/** What `record.json` may hold: a version-2 record, or a version-1 one (read as version 2). */
export const StoredRunRecord = Schema.Union([RunRecord, RunRecordFromV1])

/** The local placement of a record, if it is a local run. */
export const localPlacement = (record: RunRecord): LocalPlacement | null =>
  record.placement._tag === "Local" ? record.placement : null

/** The store status that goes with an outcome. */
export const statusOf = (outcome: RunOutcome): RunStatus =>
  outcome._tag === "Succeeded" ? "succeeded" : outcome._tag === "Interrupted" ? "interrupted" : "failed"
