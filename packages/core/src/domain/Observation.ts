/**
 * What agentrun saw of a run's output, folded line by line in bounded memory: counts, the few
 * events a verdict needs (init, the last `result`, API retries, assistant errors), and samples.
 * The full transcript goes to the run store, never into memory.
 *
 * @module
 */
import type { ApiRetry } from "./Evidence.ts"
import { detachedPrefix } from "./Prefix.ts"
import {
  type DecodedLine,
  isApiRetry,
  isAssistant,
  isResult,
  isSystemInit,
  type ResultEvent,
  type Usage
} from "./Protocol.ts"

/** The most `system/api_retry` lines kept (the count is exact). */
export const maxRetriesKept = 20
/** The most malformed-line samples kept (each at most 200 characters). */
export const maxMalformedSamples = 3

/** Token counts summed over streamed assistant messages (not final: progress display only). */
export interface RunningUsage {
  readonly inputTokens: number
  readonly outputTokens: number
}

/** An immutable snapshot of what was observed so far. */
export interface Observation {
  readonly init: { readonly sessionId: string | null; readonly model: string | null; readonly version: string | null } | null
  /**
   * Assistant messages that carried content (text, tool use, thinking). claude writes one
   * `assistant` line per content block, repeating the message id: a message is counted once.
   */
  readonly assistantMessages: number
  /** The id of the last assistant message seen. */
  readonly lastAssistantMessageId: string | null
  /** Usage of the assistant messages before the current one. */
  readonly completedUsage: RunningUsage
  /** Tool uses requested by the model. */
  readonly toolUses: number
  /** Distinct `assistant.error` values (e.g. `authentication_failed`), ordered by their last appearance: the most recent is last. */
  readonly assistantErrors: ReadonlyArray<string>
  /** Text of the last assistant message that carried an `error`. */
  readonly assistantErrorText: string | null
  /** The last {@link maxRetriesKept} `system/api_retry` lines. */
  readonly apiRetries: ReadonlyArray<ApiRetry>
  readonly apiRetryCount: number
  /** Assistant messages since the last api_retry: 0 means the run was still retrying. */
  readonly assistantMessagesSinceRetry: number
  /** The last `result` line, if any. */
  readonly result: ResultEvent | null
  readonly lastEventType: string | null
  readonly stdoutLines: number
  readonly malformedLines: number
  readonly malformedSamples: ReadonlyArray<string>
  /** The first non-empty stdout line, at most 200 characters. */
  readonly firstStdoutLine: string | null
  readonly usage: RunningUsage
  /** Cost reported so far (only the `result` line carries it), in US dollars. */
  readonly costUsd: number | null
}

/** An observation of a run that has written nothing. */
export const emptyObservation: Observation = {
  init: null,
  assistantMessages: 0,
  lastAssistantMessageId: null,
  completedUsage: { inputTokens: 0, outputTokens: 0 },
  toolUses: 0,
  assistantErrors: [],
  assistantErrorText: null,
  apiRetries: [],
  apiRetryCount: 0,
  assistantMessagesSinceRetry: 0,
  result: null,
  lastEventType: null,
  stdoutLines: 0,
  malformedLines: 0,
  malformedSamples: [],
  firstStdoutLine: null,
  usage: { inputTokens: 0, outputTokens: 0 },
  costUsd: null
}

const num = (n: number | null | undefined): number => (typeof n === "number" && Number.isFinite(n) ? n : 0)
const orNull = <A>(a: A | null | undefined): A | null => (a === undefined ? null : a)

/**
 * Folds one stdout line (raw text and its decoding) into an observation. Pure; O(1) per line
 * apart from the line's own content.
 */
export const observeLine = (o: Observation, raw: string, decoded: DecodedLine): Observation => {
  const base = {
    ...o,
    stdoutLines: o.stdoutLines + 1,
    firstStdoutLine: o.firstStdoutLine ?? (raw.trim() === "" ? null : detachedPrefix(raw, 200))
  }
  if (decoded._tag === "Malformed") {
    if (raw.trim() === "") return base
    return {
      ...base,
      malformedLines: o.malformedLines + 1,
      malformedSamples: o.malformedSamples.length < maxMalformedSamples
        ? [...o.malformedSamples, decoded.preview]
        : o.malformedSamples
    }
  }
  const event = decoded.event
  const next = { ...base, lastEventType: event.type }
  if (isResult(event)) {
    return { ...next, result: event, costUsd: event.total_cost_usd ?? o.costUsd }
  }
  if (isSystemInit(event)) {
    return {
      ...next,
      init: { sessionId: orNull(event.session_id), model: orNull(event.model), version: orNull(event.claude_code_version) }
    }
  }
  if (isApiRetry(event)) {
    const retry: ApiRetry = {
      attempt: orNull(event.attempt),
      maxRetries: orNull(event.max_retries),
      errorStatus: orNull(event.error_status),
      error: orNull(event.error),
      retryDelayMs: orNull(event.retry_delay_ms)
    }
    const kept = o.apiRetries.length < maxRetriesKept ? o.apiRetries : o.apiRetries.slice(1)
    return { ...next, apiRetries: [...kept, retry], apiRetryCount: o.apiRetryCount + 1, assistantMessagesSinceRetry: 0 }
  }
  if (isAssistant(event)) {
    const content = event.message.content ?? []
    const texts = content.filter((b) => b.type === "text" && typeof b.text === "string")
    const lastText = texts.length > 0 ? texts[texts.length - 1]!.text! : null
    const usage = event.message.usage
    const id = event.message.id ?? null
    const sameMessage = id !== null && id === o.lastAssistantMessageId
    // A message's streamed usage is cumulative and not final: its latest figures replace the
    // previous ones; a new message moves the running totals into `completedUsage`.
    const completed = sameMessage ? o.completedUsage : o.usage
    const withUsage = {
      ...next,
      lastAssistantMessageId: id,
      completedUsage: completed,
      usage: {
        inputTokens: completed.inputTokens + num(usage?.input_tokens),
        outputTokens: completed.outputTokens + num(usage?.output_tokens)
      }
    }
    if (typeof event.error === "string" && event.error !== "") {
      return {
        ...withUsage,
        assistantErrors: [...o.assistantErrors.filter((e) => e !== event.error), event.error],
        assistantErrorText: lastText ?? o.assistantErrorText
      }
    }
    if (content.length === 0) return withUsage
    return {
      ...withUsage,
      assistantMessages: sameMessage ? o.assistantMessages : o.assistantMessages + 1,
      assistantMessagesSinceRetry: sameMessage ? o.assistantMessagesSinceRetry : o.assistantMessagesSinceRetry + 1,
      toolUses: o.toolUses + content.filter((b) => b.type === "tool_use").length
    }
  }
  return next
}

/** Final usage figures for a result line (tokens), or null when it carries none. */
export const resultUsage = (result: ResultEvent | null): Usage | null => result?.usage ?? null
