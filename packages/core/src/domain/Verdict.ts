/**
 * The verdict: a pure function from everything observed about a finished run to its
 * {@link RunOutcome}. The most specific cause wins: the first of {@link verdictRules} (in
 * VerdictRules.ts, the documented precedence as data) that decides. Structured fields (the
 * `result` line's subtype, terminal_reason, api_error_status, errors[]; `assistant.error`;
 * `system/api_retry`) are read first, stderr text last. Streamed `assistant` stop_reason/usage
 * never decide alone.
 *
 * @module
 */
import type { RunFacts } from "./RunFacts.ts"
import type { RunOutcome } from "./RunOutcome.ts"
import { finalVerdictRule, verdictRules } from "./VerdictRules.ts"

export type { HangAction, RunFacts, RuntimeUnavailableFacts, SpawnFailure, SupervisionFailure, SupervisorAction } from "./RunFacts.ts"
export { likelySignalCause } from "./SignalCause.ts"
export { placeholderStubMarker } from "./VerdictEvidence.ts"
export { type FinalVerdictRule, finalVerdictRule, type VerdictRule, verdictPrecedence, verdictRules } from "./VerdictRules.ts"

/**
 * Decides how a run ended: the outcome of the first rule of {@link verdictRules} that applies
 * ({@link finalVerdictRule} when none does). Precedence, most specific first: supervision failure; no runtime (bootstrap); spawn
 * failure; cancellation; a successful `result`; hang; deadline (naming the API failure it cut
 * short, if claude was retrying); the `result` line; an OOM kill (SIGKILL while the cgroup's
 * oom_kill count rose); truncated output; signal death; API failure without a result; exit 0
 * without a result; placeholder stub; init-only exit; any other non-zero exit.
 *
 * `endedAtMs` (epoch milliseconds) anchors `retryNotBefore`; pass null when unknown.
 */
export const verdict = (facts: RunFacts, endedAtMs: number | null = null): RunOutcome => {
  for (const rule of verdictRules) {
    const outcome = rule.decide(facts, endedAtMs)
    if (outcome !== null) return outcome
  }
  return finalVerdictRule.decide(facts, endedAtMs)
}
