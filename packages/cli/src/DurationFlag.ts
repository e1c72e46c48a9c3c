/**
 * One duration syntax for every flag (README, "Hang watchdog"): a number and a unit (`500ms`,
 * `90s`, `5m`, `2h`, `7d`, `2w`), or a bare number of seconds — `--timeout 300` and
 * `--timeout 5m` are the same.
 *
 * @module
 */
import { parseDurationText } from "@agentrun/core"

/**
 * Milliseconds for a flag's duration text, or a usage message naming the flag when it is not a
 * duration above 0 (`--timeout must be a duration above 0 (30s, 5m, 2h; a bare number is seconds), not "soon"`).
 */
export const positiveDurationMs = (flag: string, text: string): { readonly ms: number } | { readonly message: string } => {
  const ms = parseDurationText(text)
  return ms !== null && ms > 0
    ? { ms }
    : { message: `${flag} must be a duration above 0 (30s, 5m, 2h; a bare number is seconds), not "${text}"` }
}
