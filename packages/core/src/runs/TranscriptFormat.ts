/**
 * Turns stored stream-json lines into readable transcript lines for `agentrun logs`: assistant
 * text, tool calls with their input, tool results, API retries, the result. Pure.
 *
 * It decodes with its own schemas, not `domain/Protocol.ts`'s: those run on every line a run
 * writes (the ingest, `pnpm bench`) and decode only what observation and verdicts read; tool
 * inputs and tool results, which only `logs` shows, are decoded here.
 *
 * @module
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
const ToolUse = Schema.Struct({ type: Schema.Literal("tool_use"), name: Schema.String, input: Schema.optional(Schema.Unknown) })
const Text = Schema.Struct({ type: Schema.Literal("text"), text: Schema.String })
const ToolResult = Schema.Struct({
  type: Schema.Literal("tool_result"),
  content: Schema.optional(Schema.Union([Schema.String, Schema.Array(Schema.Struct({ type: Schema.String, text: Schema.optional(Schema.String) }))])),
  is_error: Schema.optional(Schema.NullOr(Schema.Boolean))
})
const Block = Schema.Union([Text, ToolUse, ToolResult, Schema.Struct({ type: Schema.String })])
const Line = Schema.Struct({
  type: Schema.String,
  subtype: Schema.optional(Schema.String),
  // An object on assistant/user lines; a string on system/permission_denied (the reason).
  message: Schema.optional(Schema.Union([Schema.String, Schema.Struct({ content: Schema.optional(Schema.Union([Schema.String, Schema.Array(Block)])) })])),
  // system/permission_denied
  tool_name: Schema.optional(Schema.String),
  // system/init
  session_id: Schema.optional(Schema.String),
  model: Schema.optional(Schema.String),
  cwd: Schema.optional(Schema.String),
  // system/api_retry
  attempt: Schema.optional(Schema.Number),
  max_retries: Schema.optional(Schema.Number),
  error_status: Schema.optional(Schema.NullOr(Schema.Number)),
  error: Schema.optional(Schema.NullOr(Schema.String)),
  retry_delay_ms: Schema.optional(Schema.Number),
  // result
  is_error: Schema.optional(Schema.Boolean),
  result: Schema.optional(Schema.String),
  num_turns: Schema.optional(Schema.Number),
  total_cost_usd: Schema.optional(Schema.Number),
  terminal_reason: Schema.optional(Schema.String)
})
const decode = Schema.decodeUnknownOption(Schema.fromJsonString(Line))

/** Longest tool input / result shown per line, in characters. */
export const maxShownChars = 400

const clip = (text: string, max = maxShownChars): string => {
  const flat = text.replace(/\s*\n\s*/g, " ⏎ ").trim()
  return flat.length > max ? `${flat.slice(0, max)}… (${flat.length} chars)` : flat
}

const inputText = (input: unknown): string => {
  if (typeof input === "object" && input !== null && "command" in input && typeof input.command === "string") return input.command
  return JSON.stringify(input ?? {})
}

/** The readable lines for one stored stream-json line (none for lines not worth showing). */
export const formatTranscriptLine = (raw: string): ReadonlyArray<string> => {
  const parsed = decode(raw)
  if (Option.isNone(parsed)) return [`? ${clip(raw, 200)}`]
  const l = parsed.value
  const message = typeof l.message === "object" ? l.message : undefined
  const content = typeof message?.content === "string" ? [{ type: "text" as const, text: message.content }] : message?.content ?? []
  switch (l.type) {
    case "system":
      if (l.subtype === "init") return [`── session ${l.session_id ?? "?"} · ${l.model ?? "?"} · ${l.cwd ?? ""}`]
      if (l.subtype === "api_retry") {
        return [`retry     attempt ${l.attempt ?? "?"}/${l.max_retries ?? "?"}${l.error_status == null ? "" : ` HTTP ${l.error_status}`}${l.error == null ? "" : ` ${l.error}`}${l.retry_delay_ms === undefined ? "" : `, next in ${(l.retry_delay_ms / 1000).toFixed(1)}s`}`]
      }
      if (l.subtype === "permission_denied") return [`denied    ${l.tool_name ?? "?"}: ${clip(typeof l.message === "string" ? l.message : "")}`]
      return [`system    ${l.subtype ?? ""}`]
    case "assistant":
      return content.flatMap((b): Array<string> => {
        if (b.type === "text" && "text" in b) return b.text.trim() === "" ? [] : [`assistant ${clip(b.text, 2000)}`]
        if (b.type === "tool_use" && "name" in b) return [`tool      ${b.name}: ${clip(inputText(b.input))}`]
        return []
      })
    case "user":
      return content.flatMap((b): Array<string> => {
        if (b.type === "tool_result" && "content" in b) {
          const text = typeof b.content === "string" ? b.content : (b.content ?? []).map((c) => c.text ?? "").join("\n")
          return [`${b.is_error === true ? "error  " : "result "}   ${clip(text)}`]
        }
        if (b.type === "text" && "text" in b) return [`user      ${clip(b.text)}`]
        return []
      })
    case "result":
      return [`── result ${l.subtype ?? "?"}${l.is_error === true ? " (is_error)" : ""}${l.terminal_reason === undefined ? "" : ` · ${l.terminal_reason}`} · ${l.num_turns ?? "?"} turns${l.total_cost_usd === undefined ? "" : ` · $${l.total_cost_usd.toFixed(4)}`}${l.result ? `: ${clip(l.result)}` : ""}`]
    default:
      return []
  }
}
