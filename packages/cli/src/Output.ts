/**
 * What commands print: the `--json` shape of a run and the one-line verdict.
 *
 * @module
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { ExitCodes, setExitCode } from "./ExitCode.ts"
import { outcomeTag, type RunRecord, type RunSummary, type StoredOutcome, storedOutcomeJson } from "@agentrun/core"

/**
 * How many tool calls claude refused in a run, from its outcome's evidence (`permissionDenials`
 * of a success, `result.permissionDenials` of a failure; at most 20 are kept); 0 when none or
 * no outcome yet.
 */
export const deniedCount = (outcome: StoredOutcome | null): number => {
  if (outcome === null) return 0
  const evidence = outcome.evidence as { readonly permissionDenials?: ReadonlyArray<unknown>; readonly result?: unknown }
  if (evidence.permissionDenials !== undefined) return evidence.permissionDenials.length
  const result = evidence.result as { readonly permissionDenials?: ReadonlyArray<unknown> } | null | undefined
  return typeof result === "object" && result !== null ? result.permissionDenials?.length ?? 0 : 0
}

/** The first non-blank line of a (redacted) prompt preview, at most 80 characters. */
export const promptLine = (preview: string): string => {
  const line = preview.split("\n").find((l) => l.trim() !== "")?.trim() ?? ""
  return line.length > 80 ? `${line.slice(0, 79)}…` : line
}

/**
 * A run's status as `list` shows it: the stored status (`running`, `succeeded`, `failed`,
 * `interrupted`), except `cancelled` for a run whose verdict is `Cancelled` (stored as `failed`).
 */
export const shownStatus = (record: RunRecord): string =>
  record.outcome !== null && record.outcome._tag === "Cancelled" ? "cancelled" : record.status

/** Every status {@link shownStatus} gives, in `list --status`'s order. */
export const shownStatuses = ["running", "succeeded", "failed", "cancelled", "interrupted"] as const

/**
 * The JSON object `run --json`, `inspect --json` and (one per run) `list --json` print:
 * `{ runId, status, outcome: { _tag, family, message, retryable, evidence }, result,
 * agentExitCode, agentSignal, usage, costUsd, sessionId, durationMs, permissionDenials,
 * createdAt, endedAt, cwd, prompt, model, numTurns, state, backend }`. durationMs: agentrun's wall clock,
 * milliseconds; permissionDenials: {@link deniedCount}; createdAt/endedAt: ISO 8601 (endedAt
 * null while running); prompt: {@link promptLine}; sessionId and model: known once claude's
 * session started, a running run's included; numTurns: claude's count, null until the result;
 * state: {@link shownStatus} (`status` keeps the stored value: a cancelled run's is `failed`);
 * backend: `local` or `k8s`, from the record's placement.
 */
export const runJson = (record: RunRecord, outcome: StoredOutcome | null, summary: RunSummary | null) => ({
  runId: record.runId,
  status: record.status,
  outcome: outcome === null ? null : storedOutcomeJson(outcome),
  result: summary?.result ?? null,
  agentExitCode: summary?.agentExitCode ?? null,
  agentSignal: summary?.agentSignal ?? null,
  usage: summary?.usage ?? null,
  costUsd: summary?.costUsd ?? null,
  sessionId: summary?.sessionId ?? record.session?.sessionId ?? null,
  durationMs: summary?.durationMs ?? null,
  permissionDenials: deniedCount(outcome),
  createdAt: record.createdAt,
  endedAt: record.endedAt,
  cwd: record.agent.cwd,
  prompt: promptLine(record.promptPreview),
  model: record.session?.model ?? null,
  numTurns: summary?.numTurns ?? null,
  state: shownStatus(record),
  backend: record.placement._tag === "Kubernetes" ? "k8s" : "local"
})

/** `agentrun: ✗ AuthenticationFailed (agent, not retryable): <message> [run <id>]`. */
export const verdictLine = (runId: string, outcome: StoredOutcome): string => {
  const mark = outcome._tag === "Succeeded" ? "✓" : "✗"
  const retry = outcome._tag === "Succeeded" ? "" : outcome.retryable ? ", retryable" : ", not retryable"
  return `agentrun: ${mark} ${outcomeTag(outcome)} (${outcome.family}${retry}): ${outcome.message} [run ${runId}]`
}

/**
 * Reports a damaged record (`agentrun: <message>` and the decoder's first line, on stderr) and
 * sets exit code 3: the store holds something agentrun cannot read (`prune` removes it).
 */
export const recordDamaged = (error: { readonly message: string; readonly reason: string }) =>
  Effect.andThen(
    Console.error(`agentrun: ${error.message} ${error.reason.split("\n")[0] ?? ""}`.trimEnd()),
    setExitCode(ExitCodes.process)
  )

/** The JSON `list --json` prints for a damaged record: `{ runId, status: "damaged", path, reason }`. */
export const damagedJson = (damaged: { readonly runId: string; readonly path: string; readonly reason: string }) => ({
  runId: damaged.runId,
  status: "damaged" as const,
  path: damaged.path,
  reason: damaged.reason
})
