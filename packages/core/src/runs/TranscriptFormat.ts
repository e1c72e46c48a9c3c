/**
 * Renders transcript entries (decoded once by `Protocol.decodeTranscriptLine`; see
 * TranscriptEvents) as readable lines for `agentrun logs` and the extension: assistant text,
 * tool calls with their input, tool results, permission denials, API retries, the result. Pure.
 *
 * @module
 */
import { decodeTranscriptLine, type TranscriptEntry } from "../domain/Protocol.ts"

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

const turns = (n: number | null | undefined): string => n == null ? "? turns" : n === 1 ? "1 turn" : `${n} turns`

/** The readable lines for one transcript entry (none for entries not worth showing). */
export const formatTranscriptEntry = (entry: TranscriptEntry): ReadonlyArray<string> => {
  switch (entry._tag) {
    case "Unparseable":
      return [`? ${clip(entry.line, 200)}`]
    case "Init":
      return [`── session ${entry.sessionId ?? "?"} · ${entry.model ?? "?"} · ${entry.cwd ?? ""}`]
    case "ApiRetry":
      return [
        `retry     attempt ${entry.attempt ?? "?"}/${entry.maxRetries ?? "?"}${entry.errorStatus === null ? "" : ` HTTP ${entry.errorStatus}`}${
          entry.error === null ? "" : ` ${entry.error}`
        }${entry.retryDelayMs === null ? "" : `, next in ${(entry.retryDelayMs / 1000).toFixed(1)}s`}`
      ]
    case "PermissionDenied":
      return [`denied    ${entry.toolName ?? "?"}: ${clip(entry.message ?? "")}`]
    case "System":
      return [`system    ${entry.subtype}`]
    case "Assistant":
      return entry.blocks.flatMap((b): Array<string> => {
        if (b._tag === "Text") return b.text.trim() === "" ? [] : [`assistant ${clip(b.text, 2000)}`]
        if (b._tag === "ToolUse") return [`tool      ${b.name}: ${clip(inputText(b.input))}`]
        return []
      })
    case "User":
      return entry.blocks.flatMap((b): Array<string> => {
        if (b._tag === "ToolResult") return [`${b.isError ? "error  " : "result "}   ${clip(b.content)}`]
        if (b._tag === "Text") return [`user      ${clip(b.text)}`]
        return []
      })
    case "Result": {
      const r = entry.result
      return [
        `── result ${r.subtype}${r.is_error === true ? " (is_error)" : ""}${r.terminal_reason == null ? "" : ` · ${r.terminal_reason}`} · ${turns(r.num_turns)}${
          r.total_cost_usd == null ? "" : ` · $${r.total_cost_usd.toFixed(4)}`
        }${r.result ? `: ${clip(r.result)}` : ""}`
      ]
    }
    case "Other":
      return []
  }
}

/** The readable lines for one stored stream-json line: {@link formatTranscriptEntry} of its decoding. */
export const formatTranscriptLine = (raw: string): ReadonlyArray<string> => formatTranscriptEntry(decodeTranscriptLine(raw))
