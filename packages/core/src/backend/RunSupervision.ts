/**
 * Pure helpers of a supervised run: the record at each stage, the summary, progress events.
 *
 * @module
 */
import type { ExitStatus } from "../domain/ExitStatus.ts"
import { clipLine } from "../domain/Prefix.ts"
import type { Observation } from "../domain/Observation.ts"
import type { DecodedLine } from "../domain/Protocol.ts"
import { isApiRetry, isAssistant, isResult, isSystemInit } from "../domain/Protocol.ts"
import type { RunSummary } from "../domain/Run.ts"
import type { RunOutcome } from "../domain/RunOutcome.ts"
import type { RunProgress } from "./Backend.ts"

/** The most stderr lines kept in memory for evidence. */
export const stderrTailLines = 40
/** Longest stderr line kept in the tail, in characters. */
export const stderrTailLineChars = 2000

/** Appends to a bounded tail. */
export const pushTail = (tail: Array<string>, line: string): void => {
  tail.push(clipLine(line, stderrTailLineChars))
  if (tail.length > stderrTailLines) tail.shift()
}

/** Appends to `into` the progress events one decoded stdout line gives rise to (usually none or one). */
export const progressOf = (decoded: DecodedLine, o: Observation, into: Array<RunProgress>): void => {
  if (decoded._tag !== "Event") return
  const e = decoded.event
  if (isSystemInit(e)) {
    into.push({ _tag: "SessionStarted", sessionId: e.session_id ?? null, model: e.model ?? null })
  } else if (isApiRetry(e)) {
    into.push({
      _tag: "ApiRetry",
      attempt: e.attempt ?? null,
      errorStatus: e.error_status ?? null,
      error: e.error ?? null,
      retryDelayMs: e.retry_delay_ms ?? null
    })
  } else if (isAssistant(e)) {
    for (const block of e.message.content ?? []) {
      if (block.type === "text" && block.text !== undefined && block.text !== "") into.push({ _tag: "AssistantText", text: block.text })
      if (block.type === "tool_use") into.push({ _tag: "ToolUse", name: block.name ?? "?" })
    }
    into.push({
      _tag: "Usage",
      turns: o.assistantMessages,
      inputTokens: o.usage.inputTokens,
      outputTokens: o.usage.outputTokens,
      costUsd: o.costUsd
    })
  } else if (isResult(e)) {
    const u = e.usage
    into.push({
      _tag: "Usage",
      turns: e.num_turns ?? o.assistantMessages,
      inputTokens: u?.input_tokens ?? o.usage.inputTokens,
      outputTokens: u?.output_tokens ?? o.usage.outputTokens,
      costUsd: e.total_cost_usd ?? null
    })
  }
}

/** The flat summary stored with the record and printed by `--json`. `durationMs` is agentrun's wall clock. */
export const summaryOf = (
  outcome: RunOutcome,
  o: Observation,
  exit: ExitStatus | null,
  durationMs: number
): RunSummary => {
  const r = o.result
  return {
    result: outcome._tag === "Succeeded" ? outcome.evidence.result : r?.result ?? null,
    agentExitCode: exit?.exitCode ?? null,
    agentSignal: exit?.signal ?? null,
    usage: r?.usage ?? null,
    costUsd: r?.total_cost_usd ?? null,
    sessionId: r?.session_id ?? o.init?.sessionId ?? null,
    durationMs,
    numTurns: r?.num_turns ?? null
  }
}
