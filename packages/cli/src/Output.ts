/**
 * What commands print: the `--json` shape of a run and the one-line verdict.
 *
 * @module
 */
import { outcomeJson, type RunOutcome, type RunRecord, type RunSummary } from "@agentrun/core"

/**
 * The JSON object `run --json` and `inspect --json` print: `{ runId, status, outcome: { _tag,
 * family, message, retryable, evidence }, result, agentExitCode, agentSignal, usage, costUsd,
 * sessionId, durationMs }` (durationMs: agentrun's wall clock, milliseconds).
 */
export const runJson = (record: RunRecord, outcome: RunOutcome | null, summary: RunSummary | null) => ({
  runId: record.runId,
  status: record.status,
  outcome: outcome === null ? null : outcomeJson(outcome),
  result: summary?.result ?? null,
  agentExitCode: summary?.agentExitCode ?? null,
  agentSignal: summary?.agentSignal ?? null,
  usage: summary?.usage ?? null,
  costUsd: summary?.costUsd ?? null,
  sessionId: summary?.sessionId ?? null,
  durationMs: summary?.durationMs ?? null
})

/** `agentrun: ✗ AuthenticationFailed (agent, not retryable): <message> [run <id>]`. */
export const verdictLine = (runId: string, outcome: RunOutcome): string => {
  const mark = outcome._tag === "Succeeded" ? "✓" : "✗"
  const retry = outcome._tag === "Succeeded" ? "" : outcome.retryable ? ", retryable" : ", not retryable"
  return `agentrun: ${mark} ${outcome._tag} (${outcome.family}${retry}): ${outcome.message} [run ${runId}]`
}
