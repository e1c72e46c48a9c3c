/**
 * Pure helpers of a supervised run: the record at each stage, the summary, progress events.
 *
 * @module
 */
import type { ExitStatus } from "../domain/ExitStatus.ts"
import { clipLine } from "../domain/Prefix.ts"
import type { Observation } from "../domain/Observation.ts"
import type { DecodedLine, ResultEvent, Usage } from "../domain/Protocol.ts"
import { isApiRetry, isAssistant, isPermissionDenied, isResult, isSystemInit } from "../domain/Protocol.ts"
import type { RunSummary } from "../domain/Run.ts"
import type { RunOutcome } from "../domain/RunOutcome.ts"
import type { RunProgress } from "./Backend.ts"

/** The most stderr lines kept in memory for evidence. */
export const stderrTailLines = 40
/** Longest stderr line kept in the tail, in characters. */
export const stderrTailLineChars = 2000
/**
 * How much of a stored stderr line its tail entry needs, in UTF-8 bytes: a longer line cut there
 * (at a character's start) still has more than {@link stderrTailLineChars} UTF-16 characters (one
 * takes at most 3 bytes), so {@link pushTail} clips the cut line to the same text as the whole one.
 */
export const stderrTailLineBytes = 4 * stderrTailLineChars + 4

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
  } else if (isPermissionDenied(e)) {
    into.push({ _tag: "PermissionDenied", toolName: e.tool_name ?? null, reason: e.message ?? null })
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

const count = (n: unknown): number => (typeof n === "number" && Number.isFinite(n) ? n : 0)

/**
 * The run's token usage: the result line's, unless it is all zeros while the run cost money.
 * claude writes that on a run it aborted mid-stream (SIGINT from agentrun's deadline or hang
 * probe: recorded in `sigint-while-streaming`, `usage` all 0, `total_cost_usd` 0.000628); its
 * `modelUsage` still counts the tokens per model (summed here), and failing that the streamed
 * assistant usage does.
 */
export const usageOf = (r: ResultEvent | null, o: Observation): Usage | null => {
  const u = r?.usage ?? null
  if (r === null || u === null) return u
  const zero = count(u.input_tokens) === 0 && count(u.output_tokens) === 0
  if (!zero || !(count(r.total_cost_usd) > 0)) return u
  const models = Object.values(r.modelUsage ?? {}).filter((m): m is Record<string, unknown> => typeof m === "object" && m !== null)
  const sum = (key: string) => models.reduce((acc, m) => acc + count(m[key]), 0)
  if (sum("inputTokens") + sum("outputTokens") > 0) {
    return {
      input_tokens: sum("inputTokens"),
      output_tokens: sum("outputTokens"),
      cache_creation_input_tokens: sum("cacheCreationInputTokens"),
      cache_read_input_tokens: sum("cacheReadInputTokens")
    }
  }
  if (o.usage.inputTokens + o.usage.outputTokens > 0) {
    return { ...u, input_tokens: o.usage.inputTokens, output_tokens: o.usage.outputTokens }
  }
  return u
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
    usage: usageOf(r, o),
    costUsd: r?.total_cost_usd ?? null,
    sessionId: r?.session_id ?? o.init?.sessionId ?? null,
    durationMs,
    numTurns: r?.num_turns ?? null
  }
}
