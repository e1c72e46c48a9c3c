/**
 * Claude Code's stream-json output protocol (`claude -p --output-format stream-json --verbose`):
 * one JSON object per stdout line, discriminated by `type` (and `subtype` for `system`/`result`).
 *
 * Only the fields agentrun reasons about are typed; every other field stays in the raw line,
 * which the run store keeps verbatim (redacted), so nothing the agent said is lost. Decoding
 * never throws: an unknown `type` is an {@link OtherEvent}, a line that is not a JSON object is
 * a {@link MalformedLine}.
 *
 * Shapes were taken from transcripts of the real `claude` 2.1.330 binary recorded under
 * `test/fixtures/transcripts/`.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { detachedPrefix } from "./Prefix.ts"

const optionalNumber = Schema.optional(Schema.NullOr(Schema.Number))
const optionalString = Schema.optional(Schema.NullOr(Schema.String))

/**
 * An optional field that decodes as absent when its value has another type than expected: on
 * the `result` line one odd field (a producer's change, an `errors` entry that is an object)
 * must not hide the whole line, which would turn a finished run into a truncated one.
 */
const lenient = <S extends Schema.Top>(schema: S) =>
  Schema.optional(Schema.NullOr(schema).pipe(Schema.catchDecoding(() => Effect.succeedNone)))

/** Token usage as the Messages API reports it (all counts in tokens). */
export const Usage = Schema.Struct({
  input_tokens: optionalNumber,
  output_tokens: optionalNumber,
  cache_creation_input_tokens: optionalNumber,
  cache_read_input_tokens: optionalNumber
})
export type Usage = typeof Usage.Type

/** `{"type":"system","subtype":"init",...}`: the first line of a run; names the session. */
export const SystemInit = Schema.Struct({
  type: Schema.Literal("system"),
  subtype: Schema.Literal("init"),
  session_id: optionalString,
  model: optionalString,
  cwd: optionalString,
  claude_code_version: optionalString,
  permissionMode: optionalString,
  apiKeySource: optionalString
})
export type SystemInit = typeof SystemInit.Type

/**
 * `{"type":"system","subtype":"api_retry",...}`: claude is retrying a failed Messages API call.
 * `retry_delay_ms` is in milliseconds; `error_status` is the HTTP status (null for a
 * connection error); `error` a short category such as `authentication_failed`.
 */
export const SystemApiRetry = Schema.Struct({
  type: Schema.Literal("system"),
  subtype: Schema.Literal("api_retry"),
  attempt: optionalNumber,
  max_retries: optionalNumber,
  retry_delay_ms: optionalNumber,
  error_status: optionalNumber,
  error: optionalString,
  session_id: optionalString
})
export type SystemApiRetry = typeof SystemApiRetry.Type

/**
 * `{"type":"system","subtype":"permission_denied",...}`: claude refused a tool call (no
 * `--allowedTools` / `--permission-mode` allowing it); `message` is its reason, which the model
 * also gets as the tool's (error) result.
 */
export const SystemPermissionDenied = Schema.Struct({
  type: Schema.Literal("system"),
  subtype: Schema.Literal("permission_denied"),
  tool_name: optionalString,
  tool_use_id: optionalString,
  message: optionalString,
  session_id: optionalString
})
export type SystemPermissionDenied = typeof SystemPermissionDenied.Type

/** Any other `system` line (hooks, compaction, status...). */
export const SystemOther = Schema.Struct({
  type: Schema.Literal("system"),
  subtype: Schema.String,
  session_id: optionalString
})
export type SystemOther = typeof SystemOther.Type

/** A content block of an assistant message; only `text` and `tool_use` are looked into. */
export const ContentBlock = Schema.Struct({
  type: Schema.String,
  text: Schema.optional(Schema.String),
  name: Schema.optional(Schema.String),
  id: Schema.optional(Schema.String)
})
export type ContentBlock = typeof ContentBlock.Type

/**
 * `{"type":"assistant","message":{...}}`: one streamed assistant message (or part of one).
 * Its `stop_reason` and `usage` are not final (streaming) and never decide a verdict alone.
 * `error` is set on synthetic messages claude writes for API failures, e.g.
 * `authentication_failed`, `billing_error`, `rate_limit`, `overloaded`, `model_not_found`.
 */
export const AssistantEvent = Schema.Struct({
  type: Schema.Literal("assistant"),
  message: Schema.Struct({
    id: optionalString,
    model: optionalString,
    content: Schema.optional(Schema.Array(ContentBlock)),
    stop_reason: optionalString,
    usage: Schema.optional(Schema.NullOr(Usage))
  }),
  error: optionalString,
  parent_tool_use_id: optionalString,
  session_id: optionalString
})
export type AssistantEvent = typeof AssistantEvent.Type

/** `{"type":"user",...}`: tool results fed back to the model. */
export const UserEvent = Schema.Struct({
  type: Schema.Literal("user"),
  session_id: optionalString
})
export type UserEvent = typeof UserEvent.Type

/** One entry of the `result` line's `permission_denials`: a tool call claude refused during the run. */
export const PermissionDenialEntry = Schema.Struct({
  tool_name: optionalString,
  tool_use_id: optionalString,
  tool_input: Schema.optional(Schema.Unknown)
})
export type PermissionDenialEntry = typeof PermissionDenialEntry.Type

/**
 * `{"type":"result",...}`: the final line of a run. `subtype` is `success` or an `error_*`
 * (`error_max_turns`, `error_during_execution`, `error_max_budget_usd`, ...). `is_error: true`
 * with `subtype: "success"` is still a failure (claude reports API errors that way).
 * Durations are in milliseconds; `total_cost_usd` in US dollars. Only `type` and `subtype` must
 * be well-typed: any other field of the wrong type decodes as absent.
 */
export const ResultEvent = Schema.Struct({
  type: Schema.Literal("result"),
  subtype: Schema.String,
  is_error: lenient(Schema.Boolean),
  result: lenient(Schema.String),
  errors: lenient(Schema.Array(Schema.String)),
  terminal_reason: lenient(Schema.String),
  api_error_status: lenient(Schema.Number),
  /**
   * Set by claude on the `error_during_execution` result it writes before exiting on a known
   * startup failure (`errors` then holds its message), e.g. `gateway_signin_required`,
   * `cwd_unavailable`, `cli_version_too_old` (claude 2.1.330's own schema for this field).
   */
  startup_failure_reason: lenient(Schema.String),
  num_turns: lenient(Schema.Number),
  duration_ms: lenient(Schema.Number),
  duration_api_ms: lenient(Schema.Number),
  total_cost_usd: lenient(Schema.Number),
  usage: lenient(Usage),
  modelUsage: lenient(Schema.Record(Schema.String, Schema.Unknown)),
  session_id: lenient(Schema.String),
  /** The tool calls claude refused (claude 2.1.330 writes `[]` when none were). */
  permission_denials: lenient(Schema.Array(PermissionDenialEntry))
})
export type ResultEvent = typeof ResultEvent.Type

/** A well-formed line whose `type` agentrun does not model; kept as-is in the store. */
export const OtherEvent = Schema.Struct({ type: Schema.String })
export type OtherEvent = typeof OtherEvent.Type

/** Every known stream-json event, most specific first. */
export const StreamEvent = Schema.Union([
  ResultEvent,
  AssistantEvent,
  UserEvent,
  SystemInit,
  SystemApiRetry,
  SystemPermissionDenied,
  SystemOther,
  OtherEvent
])
export type StreamEvent = typeof StreamEvent.Type

/** A stdout line that is not a stream-json object: not JSON, or JSON without a string `type`. */
export interface MalformedLine {
  readonly _tag: "Malformed"
  /** Why it was rejected, e.g. `"not JSON"`. */
  readonly reason: string
  /** Its length in UTF-16 code units of the decoded text (not bytes). */
  readonly length: number
  /** The first 200 characters, for evidence (redact before storing). */
  readonly preview: string
}

/** The decoding of one stdout line. */
export type DecodedLine =
  | { readonly _tag: "Event"; readonly event: StreamEvent }
  | MalformedLine

const decodeEvent = Schema.decodeUnknownOption(StreamEvent)

const notJson: unique symbol = Symbol("notJson")

// No Option here: this runs once per stdout line, on the ingest hot path.
const parseJson = (line: string): unknown => {
  try {
    return JSON.parse(line)
  } catch {
    return notJson
  }
}

const malformed = (line: string, reason: string): MalformedLine => ({
  _tag: "Malformed",
  reason,
  length: line.length,
  preview: detachedPrefix(line, 200)
})

/**
 * Decodes one stdout line. Never throws and never fails: malformed input is a value.
 * Lines longer than `maxLength` characters (default 64 MiB) are not parsed at all.
 */
export const decodeLine = (line: string, maxLength = 64 * 1024 * 1024): DecodedLine => {
  if (line.length > maxLength) return malformed(line, `longer than ${maxLength} characters`)
  const first = line.charCodeAt(0)
  // `{` — anything else cannot be a stream-json event, and skipping JSON.parse is cheap armour.
  if (first !== 123) return malformed(line, "not a JSON object")
  const parsed = parseJson(line)
  if (parsed === notJson) return malformed(line, "not JSON")
  const event = decodeEvent(parsed)
  if (Option.isNone(event)) return malformed(line, "JSON object without a string `type`")
  return { _tag: "Event", event: event.value }
}

/** Narrowing helpers (the union is structural, not tagged). */
export const isResult = (e: StreamEvent): e is ResultEvent => e.type === "result" && "subtype" in e
export const isAssistant = (e: StreamEvent): e is AssistantEvent => e.type === "assistant" && "message" in e
export const isSystemInit = (e: StreamEvent): e is SystemInit =>
  e.type === "system" && (e as SystemOther).subtype === "init"
export const isPermissionDenied = (e: StreamEvent): e is SystemPermissionDenied =>
  e.type === "system" && (e as SystemOther).subtype === "permission_denied"
export const isApiRetry = (e: StreamEvent): e is SystemApiRetry =>
  e.type === "system" && (e as SystemOther).subtype === "api_retry"

// ---------------------------------------------------------------------------------------------
// The transcript: every line decoded for reading (`agentrun logs`, the extension's output view).
// Apart from `decodeLine` because the ingest decodes every line a run writes (`pnpm bench`) and
// reads only what verdicts need; tool inputs and results are decoded here, once per line read.

/** A part of a tool result's content: text, or something else (an image) named by its type. */
const ToolResultPart = Schema.Struct({ type: Schema.String, text: Schema.optional(Schema.String) })

/** A content block of an assistant or user message, with what a reader of the transcript sees. */
const TranscriptBlock = Schema.Struct({
  type: Schema.String,
  text: Schema.optional(Schema.String),
  thinking: Schema.optional(Schema.String),
  id: Schema.optional(Schema.String),
  name: Schema.optional(Schema.String),
  input: Schema.optional(Schema.Unknown),
  tool_use_id: Schema.optional(Schema.String),
  content: lenient(Schema.Union([Schema.String, Schema.Array(ToolResultPart)])),
  is_error: lenient(Schema.Boolean)
})

const TranscriptMessageLine = Schema.Struct({
  type: Schema.Literals(["assistant", "user"]),
  message: Schema.Struct({ content: lenient(Schema.Union([Schema.String, Schema.Array(TranscriptBlock)])) }),
  error: optionalString,
  parent_tool_use_id: optionalString
})

const TranscriptStreamLine = Schema.Union([
  ResultEvent,
  TranscriptMessageLine,
  SystemInit,
  SystemApiRetry,
  SystemPermissionDenied,
  SystemOther,
  OtherEvent
])
const decodeTranscriptStreamLine = Schema.decodeUnknownOption(TranscriptStreamLine)

/** A block of an assistant message: text, a tool call (its `input` as claude sent it), thinking, or another type. */
export type AssistantBlock =
  | { readonly _tag: "Text"; readonly text: string }
  | { readonly _tag: "ToolUse"; readonly id: string | null; readonly name: string; readonly input: unknown }
  | { readonly _tag: "Thinking"; readonly text: string }
  | { readonly _tag: "OtherBlock"; readonly type: string }

/**
 * A block of a user message: the result of a tool call (`content` its text; parts that are not
 * text, such as images, as `[image]`), or text.
 */
export type UserBlock =
  | { readonly _tag: "ToolResult"; readonly toolUseId: string | null; readonly content: string; readonly isError: boolean }
  | { readonly _tag: "Text"; readonly text: string }
  | { readonly _tag: "OtherBlock"; readonly type: string }

/**
 * One stream-json line of a transcript, decoded for a reader. `Unparseable` keeps a line that is
 * not a stream-json object as it was stored; `Other` is a well-formed line of a type (or a
 * `system` subtype) not modelled here. `parentToolUseId` is set on a subagent's messages.
 */
export type TranscriptEntry =
  | {
    readonly _tag: "Init"
    readonly sessionId: string | null
    readonly model: string | null
    readonly cwd: string | null
    readonly claudeCodeVersion: string | null
    readonly permissionMode: string | null
  }
  | { readonly _tag: "Assistant"; readonly blocks: ReadonlyArray<AssistantBlock>; readonly error: string | null; readonly parentToolUseId: string | null }
  | { readonly _tag: "User"; readonly blocks: ReadonlyArray<UserBlock>; readonly parentToolUseId: string | null }
  | {
    readonly _tag: "ApiRetry"
    readonly attempt: number | null
    readonly maxRetries: number | null
    /** The HTTP status; null for a connection error. */
    readonly errorStatus: number | null
    readonly error: string | null
    /** Milliseconds until the next attempt. */
    readonly retryDelayMs: number | null
  }
  | { readonly _tag: "PermissionDenied"; readonly toolName: string | null; readonly toolUseId: string | null; readonly message: string | null }
  | { readonly _tag: "Result"; readonly result: ResultEvent }
  | { readonly _tag: "System"; readonly subtype: string }
  | { readonly _tag: "Other"; readonly type: string }
  | { readonly _tag: "Unparseable"; readonly reason: string; readonly line: string }

const orNull = <A>(a: A | null | undefined): A | null => a ?? null

const toolResultText = (content: string | ReadonlyArray<{ readonly type: string; readonly text?: string | undefined }> | null | undefined): string =>
  typeof content === "string"
    ? content
    : (content ?? []).map((part) => part.type === "text" ? part.text ?? "" : `[${part.type}]`).join("\n")

type TranscriptBlockValue = typeof TranscriptBlock.Type
const blocksOf = (content: string | ReadonlyArray<TranscriptBlockValue> | null | undefined): ReadonlyArray<TranscriptBlockValue> =>
  typeof content === "string" ? [{ type: "text", text: content }] : content ?? []

const assistantBlock = (b: TranscriptBlockValue): AssistantBlock => {
  if (b.type === "text" && b.text !== undefined) return { _tag: "Text", text: b.text }
  if (b.type === "tool_use" && b.name !== undefined) return { _tag: "ToolUse", id: orNull(b.id), name: b.name, input: b.input ?? {} }
  if (b.type === "thinking" && b.thinking !== undefined) return { _tag: "Thinking", text: b.thinking }
  return { _tag: "OtherBlock", type: b.type }
}

const userBlock = (b: TranscriptBlockValue): UserBlock => {
  if (b.type === "tool_result") return { _tag: "ToolResult", toolUseId: orNull(b.tool_use_id), content: toolResultText(b.content), isError: b.is_error === true }
  if (b.type === "text" && b.text !== undefined) return { _tag: "Text", text: b.text }
  return { _tag: "OtherBlock", type: b.type }
}

/**
 * Decodes one stored stream-json line for reading. Never throws: a line that is not a
 * stream-json object is `Unparseable` (with {@link decodeLine}'s reason), kept whole.
 */
export const decodeTranscriptLine = (line: string): TranscriptEntry => {
  if (line.charCodeAt(0) !== 123) return { _tag: "Unparseable", reason: "not a JSON object", line }
  const parsed = parseJson(line)
  if (parsed === notJson) return { _tag: "Unparseable", reason: "not JSON", line }
  const decoded = decodeTranscriptStreamLine(parsed)
  if (Option.isNone(decoded)) return { _tag: "Unparseable", reason: "JSON object without a string `type`", line }
  const e = decoded.value
  switch (e.type) {
    case "result":
      return "subtype" in e && isResult(e as StreamEvent) ? { _tag: "Result", result: e as ResultEvent } : { _tag: "Other", type: e.type }
    case "assistant":
    case "user": {
      if (!("message" in e)) return { _tag: "Other", type: e.type }
      const m = e as typeof TranscriptMessageLine.Type
      const blocks = blocksOf(m.message.content)
      return m.type === "assistant"
        ? { _tag: "Assistant", blocks: blocks.map(assistantBlock), error: orNull(m.error), parentToolUseId: orNull(m.parent_tool_use_id) }
        : { _tag: "User", blocks: blocks.map(userBlock), parentToolUseId: orNull(m.parent_tool_use_id) }
    }
    case "system": {
      const s = e as SystemOther
      if (isSystemInit(s)) {
        return {
          _tag: "Init",
          sessionId: orNull(s.session_id),
          model: orNull(s.model),
          cwd: orNull(s.cwd),
          claudeCodeVersion: orNull(s.claude_code_version),
          permissionMode: orNull(s.permissionMode)
        }
      }
      if (isApiRetry(s)) {
        return {
          _tag: "ApiRetry",
          attempt: orNull(s.attempt),
          maxRetries: orNull(s.max_retries),
          errorStatus: orNull(s.error_status),
          error: orNull(s.error),
          retryDelayMs: orNull(s.retry_delay_ms)
        }
      }
      if (isPermissionDenied(s)) return { _tag: "PermissionDenied", toolName: orNull(s.tool_name), toolUseId: orNull(s.tool_use_id), message: orNull(s.message) }
      return "subtype" in s ? { _tag: "System", subtype: s.subtype } : { _tag: "Other", type: e.type }
    }
    default:
      return { _tag: "Other", type: e.type }
  }
}
