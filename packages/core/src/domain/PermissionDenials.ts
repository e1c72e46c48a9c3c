/**
 * Tool calls claude refused: read from the `result` line's `permission_denials` (claude 2.1.330
 * writes one entry per refused call, `[]` when there was none) for the verdict's evidence.
 *
 * @module
 */
import type { PermissionDenial } from "./Evidence.ts"
import { detachedPrefix } from "./Prefix.ts"
import type { ResultEvent } from "./Protocol.ts"

/** The most denials kept in evidence (the count in the message stays exact). */
export const maxDenialsKept = 20

/** The refused tool calls of a result line, at most {@link maxDenialsKept}; `[]` when none. */
export const permissionDenialsOf = (r: ResultEvent): ReadonlyArray<PermissionDenial> =>
  (r.permission_denials ?? []).slice(0, maxDenialsKept).map((d) => ({
    toolName: d.tool_name ?? null,
    toolUseId: d.tool_use_id ?? null,
    inputPreview: d.tool_input === undefined ? null : detachedPrefix(JSON.stringify(d.tool_input) ?? "", 200)
  }))

/**
 * `; claude denied 2 tool calls (Bash, Write): allow them with --allowedTools or
 * --permission-mode`, or "" when it denied none. `total` is the exact count.
 */
export const deniedSentence = (r: ResultEvent): string => {
  const total = r.permission_denials?.length ?? 0
  if (total === 0) return ""
  const tools = [...new Set((r.permission_denials ?? []).map((d) => d.tool_name ?? "?"))].join(", ")
  return `; claude denied ${total === 1 ? "1 tool call" : `${total} tool calls`} (${tools}): allow them with --allowedTools or --permission-mode`
}
