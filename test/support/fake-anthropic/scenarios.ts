/**
 * Named scenarios for the fake Messages API (used by main.ts, fixtures and tests).
 */
import type { Scenario } from "./FakeMessagesApi.ts"

export const scenarios = {
  /** One plain text answer. */
  success: { name: "success", replies: [{ kind: "text", text: "Hello from the fake API." }] },
  /** A Bash tool call (creates ./fake-tool-output.txt in claude's cwd), then a text answer. */
  toolUse: {
    name: "toolUse",
    replies: [
      { kind: "toolUse", text: "I will create the file.", command: "echo created-by-fake > fake-tool-output.txt && echo done", description: "Create a file" },
      { kind: "text", text: "I created the file." }
    ]
  },
  /** A tool call that never ends (`echo start && sleep 1000`: claude 2.1.330 blocks a bare `sleep 1000` and `sleep 1000 && ...`): for interrupting claude while a tool runs. */
  toolSleep: {
    name: "toolSleep",
    replies: [
      { kind: "toolUse", command: "echo start && sleep 1000", description: "Wait for a long time" },
      { kind: "text", text: "Slept." }
    ]
  },
  /** Tool calls forever: with `--max-turns 1` claude ends with error_max_turns. */
  toolLoop: {
    name: "toolLoop",
    replies: [{ kind: "toolUse", command: "echo again", description: "Echo" }]
  },
  /** A message with no content blocks at all. */
  empty: { name: "empty", replies: [{ kind: "empty" }] },
  /** Empty content, stop_reason max_tokens. */
  emptyMaxTokens: { name: "emptyMaxTokens", replies: [{ kind: "empty", stopReason: "max_tokens" }] },
  /** Empty content, stop_reason tool_use (but no tool_use block). */
  emptyToolUse: { name: "emptyToolUse", replies: [{ kind: "empty", stopReason: "tool_use" }] },
  /** Empty content, stop_reason null. */
  emptyNullStop: { name: "emptyNullStop", replies: [{ kind: "empty", stopReason: null }] },
  /** Every request: 401 authentication_error. */
  auth401: { name: "auth401", replies: [{ kind: "error", status: 401, errorType: "authentication_error" }] },
  /** Every request: 403 permission_error. */
  permission403: { name: "permission403", replies: [{ kind: "error", status: 403, errorType: "permission_error" }] },
  /** Every request: 400 billing-style invalid_request_error (credit balance too low). */
  billing400: {
    name: "billing400",
    replies: [{
      kind: "error",
      status: 400,
      errorType: "invalid_request_error",
      message: "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."
    }]
  },
  /** Every request: 400 invalid_request_error (prompt too long). */
  promptTooLong400: {
    name: "promptTooLong400",
    replies: [{ kind: "error", status: 400, errorType: "invalid_request_error", message: "prompt is too long: 250000 tokens > 200000 maximum" }]
  },
  /** Every request: 404 not_found_error for the model. */
  notFound404: { name: "notFound404", replies: [{ kind: "error", status: 404, errorType: "not_found_error", message: "model: claude-nonexistent" }] },
  /** Every request: 429 rate_limit_error with retry-after: 1. */
  rateLimit429: { name: "rateLimit429", replies: [{ kind: "error", status: 429, errorType: "rate_limit_error", retryAfterSeconds: 1 }] },
  /** Every request: 500 api_error. */
  apiError500: { name: "apiError500", replies: [{ kind: "error", status: 500, errorType: "api_error" }] },
  /** Every request: 529 overloaded_error. */
  overloaded529: { name: "overloaded529", replies: [{ kind: "error", status: 529, errorType: "overloaded_error" }] },
  /** One 529, then success: claude retries and succeeds. */
  overloadedThenSuccess: {
    name: "overloadedThenSuccess",
    replies: [{ kind: "error", status: 529, errorType: "overloaded_error" }, { kind: "text", text: "Recovered after overload." }]
  },
  /** Two 429s (retry-after: 1), then success: with CLAUDE_CODE_MAX_RETRIES=1 the first run fails UpstreamUnavailable with a retryNotBefore, a second run succeeds. */
  rateLimitedTwiceThenSuccess: {
    name: "rateLimitedTwiceThenSuccess",
    replies: [
      { kind: "error", status: 429, errorType: "rate_limit_error", retryAfterSeconds: 1 },
      { kind: "error", status: 429, errorType: "rate_limit_error", retryAfterSeconds: 1 },
      { kind: "text", text: "Answered after the rate limit." }
    ]
  },
  /** 200 SSE stream with an `event: error` (overloaded) inside. */
  streamError: { name: "streamError", replies: [{ kind: "streamError", errorType: "overloaded_error" }] },
  /** Every request: stream cut after a few events (socket destroyed). */
  cutMidStream: { name: "cutMidStream", replies: [{ kind: "cutMidStream" }] },
  /** Every request: accepted, never answered. */
  hang: { name: "hang", replies: [{ kind: "hang" }] },
  /** Every request: 200 + SSE headers + message_start, then nothing. */
  hangAfterHeaders: { name: "hangAfterHeaders", replies: [{ kind: "hang", sendHeaders: true }] },
  /** A text reply streamed over 5 s. */
  slowText: { name: "slowText", replies: [{ kind: "slowText", durationMs: 5_000, chunks: 20 }] },
  /** Text cut by max_tokens. */
  maxTokens: { name: "maxTokens", replies: [{ kind: "text", text: "This answer is trunc", stopReason: "max_tokens" }] }
} satisfies Record<string, Scenario>

export type ScenarioName = keyof typeof scenarios

export const isScenarioName = (s: string): s is ScenarioName => Object.hasOwn(scenarios, s)
