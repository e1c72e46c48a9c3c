/**
 * The evidence pieces several verdict rules share: the process's end, the `result` line's facts
 * (bounded), the first meaningful line of a text, and the markers claude's own output is known by.
 *
 * @module
 */
import type { ProcessEnd, ResultFacts } from "./Evidence.ts"
import { permissionDenialsOf } from "./PermissionDenials.ts"
import type { ResultEvent } from "./Protocol.ts"
import type { RunFacts } from "./RunFacts.ts"

/** The stub that npm leaves as `claude` when claude-code's postinstall did not run (observed in 2.1.330's bin/claude.exe). */
export const placeholderStubMarker = "claude native binary not installed"

/** The Ede diagnostic the real CLI writes for an empty model reply (observed: `[ede_diagnostic] ... last_content_type=none`). */
export const edeDiagnostic = /\[ede_diagnostic\][^\n]*last_content_type=none/

/** How the process ended, with the stderr tail and the stdout line count. */
export const processEnd = (facts: RunFacts): ProcessEnd => ({
  exitCode: facts.exit?.exitCode ?? null,
  signal: facts.exit?.signal ?? null,
  stderrTail: [...facts.stderrTail],
  stdoutLines: facts.observation.stdoutLines,
  ...(facts.transcriptIncomplete == null ? {} : { transcriptIncomplete: facts.transcriptIncomplete })
})

/** Evidence keeps at most this many characters of the `result` text and of each `errors` entry. */
const maxResultTextChars = 4000
/** Evidence keeps at most this many `errors` entries (the first ones). */
const maxResultErrors = 20

/** The `result` line as evidence, its text and `errors` bounded. */
export const resultFacts = (r: ResultEvent): ResultFacts => ({
  subtype: r.subtype,
  isError: r.is_error === true,
  result: r.result == null ? null : r.result.slice(0, maxResultTextChars),
  errors: (r.errors ?? []).slice(0, maxResultErrors).map((e) => e.slice(0, maxResultTextChars)),
  ...(r.startup_failure_reason == null ? {} : { startupFailureReason: r.startup_failure_reason }),
  terminalReason: r.terminal_reason ?? null,
  apiErrorStatus: r.api_error_status ?? null,
  numTurns: r.num_turns ?? null,
  costUsd: r.total_cost_usd ?? null,
  sessionId: r.session_id ?? null,
  ...((r.permission_denials?.length ?? 0) === 0 ? {} : { permissionDenials: permissionDenialsOf(r) })
})

/** The first non-blank line of a text, trimmed to 300 characters; null for none. */
export const firstLine = (text: string | null | undefined): string | null => {
  if (text === null || text === undefined) return null
  const line = text.split("\n").find((l) => l.trim() !== "")
  return line === undefined ? null : line.trim().slice(0, 300)
}
