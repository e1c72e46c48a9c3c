/**
 * A local run's record at each stage: at launch (no agent yet), once the executable is known,
 * once the agent is spawned. Pure; the store writes them (the final record: LocalFinish).
 *
 * @module
 */
import { detachedPrefix } from "../domain/Prefix.ts"
import type { Redactor } from "../domain/Redaction.ts"
import { localPlacement, type RunId, type RunRecord, runRecordSchemaVersion, type RunSpec } from "../domain/Run.ts"

/** Where this agentrun process runs: the supervisor of the runs it launches. */
export interface SupervisorIdentity {
  readonly hostname: string
  readonly pid: number
  /** /proc start time of this process (clock ticks since boot), when readable. */
  readonly startTicks: number | null
}

/** The record written at launch: `running`, no agent yet, the command as asked (redacted). */
export const launchRecord = (
  runId: RunId,
  spec: RunSpec,
  argv: ReadonlyArray<string>,
  redactor: Redactor,
  startedAt: number,
  supervisor: SupervisorIdentity
): RunRecord => ({
  schemaVersion: runRecordSchemaVersion,
  runId,
  status: "running",
  createdAt: new Date(startedAt).toISOString(),
  endedAt: null,
  placement: {
    _tag: "Local",
    hostname: supervisor.hostname,
    supervisorPid: supervisor.pid,
    supervisorStartTicks: supervisor.startTicks,
    agentPid: null,
    agentStartTicks: null
  },
  agent: {
    command: [spec.claudePath ?? "claude", ...argv].map(redactor.redact),
    cwd: spec.cwd,
    timeoutMs: spec.timeoutMs
  },
  // Redacted whole, then cut: a secret straddling the cut would otherwise leave its start.
  promptPreview: detachedPrefix(redactor.redact(spec.prompt), 200),
  outcome: null,
  summary: null
})

/** The record once the bootstrap found the executable to run. */
export const withExecutable = (record: RunRecord, executable: string, argv: ReadonlyArray<string>, redactor: Redactor): RunRecord => ({
  ...record,
  agent: { ...record.agent, command: [executable, ...argv].map(redactor.redact) }
})

/**
 * The record once the agent is spawned: its pid and start time, and the command as executed (a
 * claude-code shim is recorded as the binary that ran: `executed`, when the boundary knows it).
 */
export const withAgent = (
  record: RunRecord,
  agent: { readonly pid: number; readonly startTicks: number | null; readonly executed: string | null },
  redactor: Redactor
): RunRecord => ({
  ...record,
  placement: { ...localPlacement(record)!, agentPid: agent.pid, agentStartTicks: agent.startTicks },
  agent: {
    ...record.agent,
    command: agent.executed === null ? record.agent.command : [redactor.redact(agent.executed), ...record.agent.command.slice(1)]
  }
})
