/**
 * The API-failure evidence: whether (and how) a run failed on the Messages API, from the `result`
 * line, claude's `assistant.error`, a `system/api_retry` still under way, or stderr, and the
 * outcome class each kind of failure is.
 *
 * @module
 */
import {
  type ApiFailureEvidence,
  AuthenticationFailed,
  BillingError,
  type DeadlineFacts,
  ModelNotFound,
  PromptTooLong,
  UpstreamUnavailable
} from "./Failures.ts"
import type { Observation } from "./Observation.ts"
import type { ResultEvent } from "./Protocol.ts"
import type { RunFacts } from "./RunFacts.ts"
import type { RunOutcome } from "./RunOutcome.ts"
import { firstLine, processEnd, resultFacts } from "./VerdictEvidence.ts"

/** The kinds of Messages API failure, one outcome class each (see {@link apiFailure}). */
export type ApiKind = "auth" | "upstream" | "model" | "billing" | "prompt-too-long"

/** claude's `assistant.error` / `api_retry` categories for an unavailable upstream. */
const upstreamCategories = new Set(["overloaded", "rate_limit", "server_error", "api_error", "connection_error"])

/**
 * Classifies an API failure from its HTTP status, claude's error category and text, in that
 * order: the status is the API's own word. Sources: the Anthropic API errors doc (401, 403, 404,
 * 413, 429, 500, 529), claude's `assistant.error` values, and the texts claude 2.1.330 wrote in
 * the recorded transcripts. The text patterns name API failures only (`API Error: 5xx`, `Credit
 * balance`...): callers pass text that is already known to be about the API (a `result` with
 * `terminal_reason: api_error`, a synthetic assistant error message) or stderr of a run that
 * wrote nothing else.
 */
const apiKindOf = (status: number | null, category: string | null, text: string | null): ApiKind | null => {
  const t = (text ?? "").toLowerCase()
  const c = (category ?? "").toLowerCase()
  if (status === 401 || status === 403) return "auth"
  if (status === 404) return "model"
  if (status === 413) return "prompt-too-long"
  if (status === 429 || (status !== null && status >= 500)) return "upstream"
  if (c === "authentication_failed") return "auth"
  if (c === "billing_error") return "billing"
  if (c === "model_not_found") return "model"
  if (c === "prompt_too_long") return "prompt-too-long"
  if (upstreamCategories.has(c)) return "upstream"
  if (/invalid api key|authentication_error|login required|please run \/login|invalid x-api-key|oauth token (?:has )?(?:expired|been revoked)/.test(t)) return "auth"
  if (/credit balance/.test(t)) return "billing"
  if (/not_found_error.*model|model.*not found|model_not_found/.test(t)) return "model"
  if (/prompt is too long|prompt_too_long/.test(t)) return "prompt-too-long"
  if (/overloaded|rate limit|rate_limit|connection error|econnreset|socket hang up|connection to the api was lost|api error: 5\d\d|api error: (?:request )?timed out|api error: terminated/.test(t)) return "upstream"
  return null
}

/**
 * `startup_failure_reason` values that mean the credentials or sign-in were refused (claude
 * 2.1.330's schema for the field); the others are agent failures named by their reason.
 */
const authStartupFailures = new Set(["gateway_signin_required", "gateway_access_denied", "org_pin_api_key_conflict"])

/**
 * Whether a failed `result` is claude reporting a Messages API failure: observed in every recorded
 * API failure as `terminal_reason: "api_error"` (or `"prompt_too_long"`), most with
 * `api_error_status`. Other failed results (a hook that stopped the run, an abort, a tool error)
 * are the agent's own, whatever their text says.
 */
const isApiResult = (r: ResultEvent): boolean =>
  r.terminal_reason === "api_error" || r.terminal_reason === "prompt_too_long" || r.api_error_status != null ||
  (r.terminal_reason == null && /^API Error/.test(r.result ?? ""))

/**
 * When a new attempt may go through, as an ISO instant: the run's end plus the delay of claude's
 * last `api_retry` (claude's backoff, which honours the API's `retry-after`: 1042 ms for
 * `retry-after: 1` in the recorded 429). Only when that retry belongs to the final failure (no
 * assistant content since it): an episode the run recovered from says nothing of the end.
 */
const retryNotBefore = (o: Observation, endedAtMs: number | null): string | null => {
  const last = o.apiRetries[o.apiRetries.length - 1]
  if (last === undefined || last.retryDelayMs === null || endedAtMs === null || o.assistantMessagesSinceRetry > 0) return null
  return new Date(endedAtMs + last.retryDelayMs).toISOString()
}

/**
 * The outcome for an API failure of `kind`; `endedAtMs` (epoch ms, null when unknown) anchors
 * `UpstreamUnavailable.retryNotBefore`.
 */
export const apiFailure = (
  kind: ApiKind,
  evidence: ApiFailureEvidence,
  o: Observation,
  endedAtMs: number | null
): RunOutcome => {
  const status = evidence.apiErrorStatus === null ? "" : ` (HTTP ${evidence.apiErrorStatus})`
  const cut = evidence.deadline === null
    ? ""
    : `; agentrun's ${evidence.deadline.timeoutMs / 1000}s deadline stopped it while claude was retrying (${evidence.retryCount} retries)`
  switch (kind) {
    case "auth":
      return new AuthenticationFailed({
        message: `The Messages API rejected the credentials${status}: check ANTHROPIC_API_KEY or log in again${cut}.`,
        retryable: false,
        evidence
      })
    case "billing":
      return new BillingError({
        message: `The account cannot pay for the request${status}: check the plan or credit balance${cut}.`,
        retryable: false,
        evidence
      })
    case "model":
      return new ModelNotFound({
        message: `The requested model is not available${status}: check --model${cut}.`,
        retryable: false,
        evidence
      })
    case "prompt-too-long":
      return new PromptTooLong({
        message: `The conversation no longer fits the model's context window${status}: shorten the prompt or inputs${cut}.`,
        retryable: false,
        evidence
      })
    case "upstream":
      return new UpstreamUnavailable({
        message: `The Messages API was unavailable${status}${evidence.error === null ? "" : ` (${evidence.error})`}: retry later${cut}.`,
        retryable: true,
        retryNotBefore: retryNotBefore(o, endedAtMs),
        evidence
      })
  }
}

/** An API failure found in a run's facts: its kind and the evidence for it. */
export type FoundApiFailure = { readonly kind: ApiKind; readonly evidence: ApiFailureEvidence }

const apiEvidenceBase = (facts: RunFacts, deadline: DeadlineFacts | null) => ({
  retries: [...facts.observation.apiRetries],
  retryCount: facts.observation.apiRetryCount,
  result: facts.observation.result === null ? null : resultFacts(facts.observation.result),
  deadline,
  process: facts.exit === null ? null : processEnd(facts)
})

/** The API failure a failed `result` reports, if it reports one (see {@link isApiResult}). */
export const resultApiFailure = (facts: RunFacts, r: ResultEvent, deadline: DeadlineFacts | null): FoundApiFailure | null => {
  const o = facts.observation
  const lastError = o.assistantErrors[o.assistantErrors.length - 1] ?? null
  const kind = authStartupFailures.has(r.startup_failure_reason ?? "")
    ? "auth"
    : !isApiResult(r)
    ? null
    : r.terminal_reason === "prompt_too_long"
    ? "prompt-too-long"
    : apiKindOf(r.api_error_status ?? null, lastError, [r.result ?? "", ...(r.errors ?? [])].join("\n"))
  if (kind === null) return null
  return {
    kind,
    evidence: {
      ...apiEvidenceBase(facts, deadline),
      source: "result",
      apiErrorStatus: r.api_error_status ?? null,
      error: lastError,
      detail: firstLine(r.result) ?? firstLine(r.errors?.[0])
    }
  }
}

/**
 * Looks for an API failure: in the `result` line, then the most recent `assistant.error`, then
 * a retry still under way, then (when the run wrote nothing else) stderr.
 */
export const findApiFailure = (facts: RunFacts, deadline: DeadlineFacts | null): FoundApiFailure | null => {
  const o = facts.observation
  if (o.result !== null) {
    const fromResult = resultApiFailure(facts, o.result, deadline)
    if (fromResult !== null) return fromResult
  }
  const base = apiEvidenceBase(facts, deadline)
  for (let i = o.assistantErrors.length - 1; i >= 0; i--) {
    const kind = apiKindOf(null, o.assistantErrors[i]!, o.assistantErrorText)
    if (kind !== null) {
      const lastRetry = o.apiRetries[o.apiRetries.length - 1]
      return {
        kind,
        evidence: {
          ...base,
          source: "assistant-error",
          apiErrorStatus: lastRetry?.errorStatus ?? null,
          error: o.assistantErrors[i]!,
          detail: firstLine(o.assistantErrorText)
        }
      }
    }
  }
  const lastRetry = o.apiRetries[o.apiRetries.length - 1]
  if (lastRetry !== undefined && o.assistantMessagesSinceRetry === 0) {
    const kind = apiKindOf(lastRetry.errorStatus, lastRetry.error, null) ?? "upstream"
    return {
      kind,
      evidence: { ...base, source: "api-retry", apiErrorStatus: lastRetry.errorStatus, error: lastRetry.error, detail: null }
    }
  }
  const stderrText = facts.stderrTail.join("\n")
  const stderrKind = apiKindOf(null, null, stderrText)
  if (stderrKind !== null && o.result === null && o.assistantMessages === 0) {
    return {
      kind: stderrKind,
      evidence: {
        ...base,
        source: "stderr",
        apiErrorStatus: null,
        error: null,
        detail: firstLine(facts.stderrTail.findLast((l) => apiKindOf(null, null, l) !== null))
      }
    }
  }
  return null
}
