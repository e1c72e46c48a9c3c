/**
 * The verdict: a pure function from everything observed about a finished run to its
 * {@link RunOutcome}. The most specific cause wins; structured fields (the `result` line's
 * subtype, terminal_reason, api_error_status, errors[]; `assistant.error`; `system/api_retry`)
 * are read first, stderr text last. Streamed `assistant` stop_reason/usage never decide alone.
 *
 * @module
 */
import type { ProcessEnd, ResultFacts, StopReport } from "./Evidence.ts"
import { describe, type ExitStatus, type SignalDeath } from "./ExitStatus.ts"
import {
  AgentError,
  type ApiFailureEvidence,
  AuthenticationFailed,
  BillingError,
  BudgetExhausted,
  Cancelled,
  DeadlineExceeded,
  type DeadlineFacts,
  EmptyModelResponse,
  ExitedNonZero,
  HangBusy,
  type HangDetection,
  HangInterruptible,
  HangUnresponsive,
  type SigintFacts,
  type WaitingOn,
  InitOnlyExit,
  KilledBySignal,
  type LikelySignalCause,
  MaxTurnsReached,
  ModelNotFound,
  OutOfMemory,
  PromptTooLong,
  RuntimeUnavailable,
  SpawnFailed,
  type SpawnFailureReason,
  TruncatedMidStream,
  UnparseableOutput,
  UpstreamUnavailable
} from "./Failures.ts"
import type { Observation } from "./Observation.ts"
import type { ResultEvent } from "./Protocol.ts"
import { type RunOutcome, Succeeded } from "./RunOutcome.ts"

/** What the watchdog found and did (see watchdog/). */
export interface HangAction {
  readonly _tag: "Hang"
  readonly detection: HangDetection
  readonly waitingOn: WaitingOn
  readonly dumpPath: string | null
  readonly unavailable: ReadonlyArray<string>
  /** The SIGINT probe: answered within the grace (ms after the probe), or not. Busy hangs are not probed. */
  readonly probe: { readonly answered: true; readonly afterMs: number } | { readonly answered: false } | null
  readonly sigint: SigintFacts | null
  /** The rest of the stop sequence, when the probe was not answered (or for a busy hang). */
  readonly stop: StopReport | null
  /** The agent's own CPU use over the busy window (percent of one core), for busy hangs. */
  readonly cpuPercent: number | null
}

/** What agentrun itself did to the run, if anything. */
export type SupervisorAction =
  | { readonly _tag: "None" }
  | HangAction
  | { readonly _tag: "Deadline"; readonly timeoutMs: number; readonly stop: StopReport }
  | {
    readonly _tag: "Cancel"
    /** `SIGINT` / `SIGTERM` received by agentrun, or null for `agentrun cancel`. */
    readonly signal: string | null
    readonly stop: StopReport | null
  }

/** Why spawning failed, as the process boundary reported it. */
export interface SpawnFailure {
  readonly path: string
  readonly reason: typeof SpawnFailureReason.Type
  readonly errno: string | null
  readonly detail: string
}

/** The bootstrap could not provide a claude (no `--claude-path` was given and none was usable). */
export interface RuntimeUnavailableFacts {
  readonly runtime: string
  /** The bootstrap's own explanation (what failed, what to do). */
  readonly message: string
  readonly retryable: boolean
  /** Outcome, phase and error kind with their codes, as the Bootstrap service reported them. */
  readonly bootstrap: Readonly<Record<string, unknown>>
}

/** Everything the verdict looks at. */
export interface RunFacts {
  /** Set when no agent could be launched because the runtime is unavailable. */
  readonly runtimeUnavailable?: RuntimeUnavailableFacts | null
  readonly observation: Observation
  /** The last stderr lines (bounded, already redacted). */
  readonly stderrTail: ReadonlyArray<string>
  /** How the agent ended; null when it never started. */
  readonly exit: ExitStatus | null
  readonly spawnFailure: SpawnFailure | null
  readonly action: SupervisorAction
  /** cgroup `memory.events` oom_kill counts before and after the run, when readable. */
  readonly oomKills: { readonly before: number; readonly after: number } | null
  /** `--max-turns` given to the agent, if any. */
  readonly maxTurns: number | null
}

/** The stub that npm leaves as `claude` when claude-code's postinstall did not run (observed in 2.1.330's bin/claude.exe). */
export const placeholderStubMarker = "claude native binary not installed"

/** The Ede diagnostic the real CLI writes for an empty model reply (observed: `[ede_diagnostic] ... last_content_type=none`). */
const edeDiagnostic = /\[ede_diagnostic\][^\n]*last_content_type=none/

const processEnd = (facts: RunFacts): ProcessEnd => ({
  exitCode: facts.exit?.exitCode ?? null,
  signal: facts.exit?.signal ?? null,
  stderrTail: [...facts.stderrTail],
  stdoutLines: facts.observation.stdoutLines
})

/** Evidence keeps at most this many characters of the `result` text and of each `errors` entry. */
const maxResultTextChars = 4000
/** Evidence keeps at most this many `errors` entries (the first ones). */
const maxResultErrors = 20

const resultFacts = (r: ResultEvent): ResultFacts => ({
  subtype: r.subtype,
  isError: r.is_error === true,
  result: r.result == null ? null : r.result.slice(0, maxResultTextChars),
  errors: (r.errors ?? []).slice(0, maxResultErrors).map((e) => e.slice(0, maxResultTextChars)),
  ...(r.startup_failure_reason == null ? {} : { startupFailureReason: r.startup_failure_reason }),
  terminalReason: r.terminal_reason ?? null,
  apiErrorStatus: r.api_error_status ?? null,
  numTurns: r.num_turns ?? null,
  costUsd: r.total_cost_usd ?? null,
  sessionId: r.session_id ?? null
})

const firstLine = (text: string | null | undefined): string | null => {
  if (text === null || text === undefined) return null
  const line = text.split("\n").find((l) => l.trim() !== "")
  return line === undefined ? null : line.trim().slice(0, 300)
}

// ---------------------------------------------------------------- API failure classification

type ApiKind = "auth" | "upstream" | "model" | "billing" | "prompt-too-long"

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

const apiFailure = (
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

type FoundApiFailure = { readonly kind: ApiKind; readonly evidence: ApiFailureEvidence }

const apiEvidenceBase = (facts: RunFacts, deadline: DeadlineFacts | null) => ({
  retries: [...facts.observation.apiRetries],
  retryCount: facts.observation.apiRetryCount,
  result: facts.observation.result === null ? null : resultFacts(facts.observation.result),
  deadline,
  process: facts.exit === null ? null : processEnd(facts)
})

/** The API failure a failed `result` reports, if it reports one (see {@link isApiResult}). */
const resultApiFailure = (facts: RunFacts, r: ResultEvent, deadline: DeadlineFacts | null): FoundApiFailure | null => {
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
const findApiFailure = (facts: RunFacts, deadline: DeadlineFacts | null): FoundApiFailure | null => {
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

// ---------------------------------------------------------------- signals

/**
 * The likely cause of a signal death (see {@link LikelySignalCause}). SIGSEGV with nothing written
 * is what an address-space limit does to claude (observed with `ulimit -v`); SIGKILL is never sent
 * by the program itself, so it comes from the OOM killer or another process.
 */
export const likelySignalCause = (signal: SignalDeath, wroteNothing: boolean): LikelySignalCause => {
  switch (signal.name) {
    case "SIGSEGV":
    case "SIGBUS":
      return wroteNothing ? "address-space-limit" : "crash"
    case "SIGABRT":
      return "runtime-abort"
    case "SIGKILL":
      return "oom-killer-or-external-kill"
    case "SIGTERM":
    case "SIGINT":
    case "SIGHUP":
    case "SIGQUIT":
      return "external-termination"
    case "SIGILL":
    case "SIGFPE":
    case "SIGTRAP":
    case "SIGSYS":
      return "crash"
    default:
      return "unknown"
  }
}

const signalAdvice: Record<LikelySignalCause, string> = {
  "address-space-limit": "an address-space limit (ulimit -v / RLIMIT_AS) is likely too small for claude: raise or remove it",
  "runtime-abort": "the runtime aborted: see the crash text in stderr",
  "oom-killer-or-external-kill": "the kernel's OOM killer or another process killed it: check memory limits and dmesg",
  "external-termination": "another process asked it to stop",
  crash: "the binary crashed",
  unknown: "see the evidence"
}

const crashText = (stderrTail: ReadonlyArray<string>): string | null => {
  const meaningful = stderrTail.filter((l) => l.trim() !== "")
  return meaningful.length === 0 ? null : meaningful.slice(-5).join("\n")
}

// ---------------------------------------------------------------- hangs

const waitingWords = (w: WaitingOn): string =>
  w.kind === "model-api"
    ? `waiting on the Messages API (${w.endpoint})`
    : w.kind === "tool-process"
    ? `waiting on a tool process (${w.name}, pid ${w.pid}, state ${w.state})`
    : "waiting on something /proc could not name"

const detectionWords = (d: HangDetection): string =>
  d.reason === "startup"
    ? `wrote no session start within ${d.timeoutMs / 1000}s`
    : d.reason === "busy"
    ? `burnt CPU with no output for ${Math.round(d.idleMs / 1000)}s`
    : `made no progress for ${Math.round(d.idleMs / 1000)}s`

const hangVerdict = (facts: RunFacts, hang: HangAction): RunOutcome => {
  const pe = processEnd(facts)
  const common = { detection: hang.detection, waitingOn: hang.waitingOn, dumpPath: hang.dumpPath, unavailable: [...hang.unavailable] }
  const emptyStop: StopReport = { steps: [], tookMs: 0 }
  if (hang.detection.reason === "busy") {
    return new HangBusy({
      message: `The agent ${detectionWords(hang.detection)} (${(hang.cpuPercent ?? 0).toFixed(0)}% of a core) and was stopped: it is likely looping; see the hang dump.`,
      retryable: false,
      evidence: { ...common, cpuPercent: hang.cpuPercent ?? 0, stop: hang.stop ?? emptyStop, process: pe }
    })
  }
  if (hang.probe !== null && hang.probe.answered) {
    return new HangInterruptible({
      message: `The agent ${detectionWords(hang.detection)}, ${waitingWords(hang.waitingOn)}; it answered Ctrl-C (SIGINT) and stopped${
        hang.waitingOn.kind === "model-api" ? ": a rerun will likely get through" : hang.waitingOn.kind === "tool-process" ? ": the same tool will likely hang again, fix the command" : ""
      }.`,
      retryable: hang.waitingOn.kind === "model-api",
      evidence: { ...common, answeredAfterMs: hang.probe.afterMs, terminalReason: facts.observation.result?.terminal_reason ?? null, process: pe }
    })
  }
  const stop = hang.stop ?? emptyStop
  const unanswered = ["SIGINT", ...stop.steps.filter((s) => !s.answered).map((s) => s.signal)]
  const why = hang.sigint === null
    ? ""
    : hang.sigint.state === "T"
    ? " (the process was stopped, state T: signals stay pending until SIGCONT)"
    : hang.sigint.state === "D"
    ? " (uninterruptible sleep, state D: stuck in the kernel)"
    : hang.sigint.ignored
    ? " (SIGINT is ignored)"
    : hang.sigint.blocked
    ? " (SIGINT is blocked)"
    : hang.sigint.caught
    ? " (SIGINT is caught but its handler never ran: the wake-up path is starved)"
    : ""
  return new HangUnresponsive({
    message: `The agent ${detectionWords(hang.detection)}, ${waitingWords(hang.waitingOn)}, and did not answer ${[...new Set(unanswered)].join(", ")}${why}; it was killed.`,
    retryable: false,
    evidence: { ...common, unanswered: [...new Set(unanswered)], sigint: hang.sigint, stop, process: pe }
  })
}

// ---------------------------------------------------------------- the verdict

const succeeded = (facts: RunFacts, r: ResultEvent): Succeeded => {
  const stoppedBy = facts.action._tag === "Deadline" ? "deadline" : facts.action._tag === "Hang" ? "hang" : null
  return new Succeeded({
    message: `The agent finished successfully in ${r.num_turns ?? "?"} turn(s)${
      typeof r.total_cost_usd === "number" ? ` for $${r.total_cost_usd.toFixed(4)}` : ""
    }${
      stoppedBy === null ? "" : `; it had not exited after its result, and agentrun's ${stoppedBy === "deadline" ? "deadline" : "hang detection"} stopped it`
    }.`,
    evidence: {
      ...(stoppedBy === null ? {} : { stoppedAfterResult: stoppedBy }),
      result: r.result ?? "",
      sessionId: r.session_id ?? null,
      numTurns: r.num_turns ?? null,
      costUsd: r.total_cost_usd ?? null,
      usage: r.usage ?? null,
      durationMs: r.duration_ms ?? null,
      process: processEnd(facts)
    }
  })
}

const agentFailureFromResult = (facts: RunFacts, r: ResultEvent, endedAtMs: number | null): RunOutcome => {
  const rf = resultFacts(r)
  if (r.subtype === "error_max_turns") {
    return new MaxTurnsReached({
      message: `The agent stopped after reaching the turn limit (${r.num_turns ?? facts.maxTurns ?? "?"} turns): raise --max-turns or narrow the task.`,
      retryable: false,
      evidence: { result: rf, maxTurns: facts.maxTurns }
    })
  }
  if (r.subtype === "error_max_budget_usd") {
    return new BudgetExhausted({
      message: `The agent stopped after spending its budget ($${(r.total_cost_usd ?? 0).toFixed(4)}).`,
      retryable: false,
      evidence: { result: rf }
    })
  }
  const diagnostic = (r.errors ?? []).find((e) => edeDiagnostic.test(e)) ?? null
  if (diagnostic !== null) {
    return new EmptyModelResponse({
      message: "The model returned an empty reply (no content blocks); a rerun usually gets a real answer.",
      retryable: true,
      evidence: { result: rf, diagnostic }
    })
  }
  // Only the result's own word: an earlier retry or assistant error the run got past does not
  // explain a failure the result names otherwise (a hook, an abort).
  const api = resultApiFailure(facts, r, null)
  if (api !== null) return apiFailure(api.kind, api.evidence, facts.observation, endedAtMs)
  const reason = [r.subtype, r.terminal_reason, r.startup_failure_reason == null ? null : `startup failure ${r.startup_failure_reason}`]
    .filter((part) => part != null && part !== "")
    .join(", ")
  return new AgentError({
    message: `The agent reported a failure (${reason}): ${firstLine(r.result) ?? firstLine(r.errors?.[0]) ?? "no detail given"}`,
    retryable: false,
    evidence: { result: rf, assistantErrors: [...facts.observation.assistantErrors], process: processEnd(facts) }
  })
}

/**
 * Decides how a run ended. Precedence, most specific first: no runtime (bootstrap); spawn
 * failure; cancellation; a successful `result` (claude had finished: a hang or deadline that
 * stopped it afterwards, while it lingered on exit, is noted in the evidence); hang; deadline
 * (naming the API failure it cut short, if claude was retrying); the `result` line; an OOM kill
 * (SIGKILL while the cgroup's oom_kill count rose); truncated output; signal death; API failure
 * without a result; exit 0 without a result; placeholder stub; init-only exit; any other non-zero
 * exit.
 *
 * `endedAtMs` (epoch milliseconds) anchors `retryNotBefore`; pass null when unknown.
 */
export const verdict = (facts: RunFacts, endedAtMs: number | null = null): RunOutcome => {
  const o = facts.observation
  const pe = processEnd(facts)

  if (facts.runtimeUnavailable != null) {
    const r = facts.runtimeUnavailable
    return new RuntimeUnavailable({
      message: `No usable claude, and the bootstrap could not provide one: ${r.message}`,
      retryable: r.retryable,
      evidence: { runtime: r.runtime, bootstrap: r.bootstrap }
    })
  }

  if (facts.spawnFailure !== null) {
    const f = facts.spawnFailure
    const what: Record<SpawnFailure["reason"], string> = {
      "not-found": f.path.includes("/")
        ? `the executable ${f.path} does not exist`
        : `\`${f.path}\` is not on PATH (pass --claude-path, or run \`agentrun bootstrap\`)`,
      "not-executable": `${f.path} is not executable`,
      "placeholder-stub": `${f.path} is claude-code's npm placeholder, not the native binary (its install script did not run)`,
      "bad-working-directory": `the working directory is unusable (${f.detail})`,
      other: f.detail
    }
    return new SpawnFailed({
      message: `The agent could not be started: ${what[f.reason]}.`,
      retryable: false,
      evidence: { path: f.path, reason: f.reason, errno: f.errno, detail: f.detail, process: facts.exit === null ? null : pe }
    })
  }

  if (facts.action._tag === "Cancel") {
    const a = facts.action
    return new Cancelled({
      message: a.signal === null
        ? "The run was cancelled by request and the agent was stopped."
        : `The run was cancelled (${a.signal} to agentrun) and the agent was stopped.`,
      retryable: false,
      evidence: { signal: a.signal, by: a.signal === null ? "cancel-command" : "signal", stop: a.stop, process: pe }
    })
  }

  const r = o.result
  if (r !== null && r.is_error !== true && r.subtype === "success") {
    // Observed: when every model reply is empty (no content, stop_reason end_turn), claude nudges
    // once, then reports success with `result: ""` although the model never said anything.
    if ((r.result ?? "") === "" && o.assistantMessages === 0) {
      return new EmptyModelResponse({
        message: "The model returned only empty replies (claude reported success with an empty result); a rerun usually gets a real answer.",
        retryable: true,
        evidence: { result: resultFacts(r), diagnostic: null }
      })
    }
    return succeeded(facts, r)
  }

  if (facts.action._tag === "Hang") return hangVerdict(facts, facts.action)

  if (facts.action._tag === "Deadline") {
    const deadline: DeadlineFacts = { timeoutMs: facts.action.timeoutMs, stop: facts.action.stop }
    if (o.apiRetryCount > 0 && o.assistantMessagesSinceRetry === 0) {
      const api = findApiFailure(facts, deadline)
      if (api !== null) return apiFailure(api.kind, api.evidence, o, endedAtMs)
    }
    return new DeadlineExceeded({
      message: `The run exceeded its ${facts.action.timeoutMs / 1000}s deadline and was stopped.`,
      retryable: false,
      evidence: { deadline, assistantMessages: o.assistantMessages, process: pe }
    })
  }

  if (r !== null) return agentFailureFromResult(facts, r, endedAtMs)

  const exit = facts.exit
  const signal = exit?.signal ?? null

  // The OOM killer sends SIGKILL; the count is the whole cgroup's, so a rise alone may be another
  // process's (a concurrent run, a tool the agent survived).
  if (facts.oomKills !== null && facts.oomKills.after > facts.oomKills.before && signal?.name === "SIGKILL") {
    return new OutOfMemory({
      message: `The kernel's OOM killer ended the run (cgroup oom_kill ${facts.oomKills.before} → ${facts.oomKills.after}): give it more memory.`,
      retryable: false,
      evidence: { oomKillsBefore: facts.oomKills.before, oomKillsAfter: facts.oomKills.after, process: pe }
    })
  }

  if (o.assistantMessages > 0) {
    const cause = signal !== null ? "signal" : exit?.exitCode === 0 ? "output-cut" : "exit-code"
    return new TruncatedMidStream({
      message: `The agent's output stops mid-run with no result (${exit === null ? "no exit status" : describe(exit)}) after ${o.assistantMessages} assistant message(s) and ${o.toolUses} tool use(s).`,
      retryable: cause !== "signal" || signal?.name === "SIGKILL",
      evidence: { cause, assistantMessages: o.assistantMessages, lastEventType: o.lastEventType, process: pe }
    })
  }

  if (signal !== null) {
    const wroteNothing = o.stdoutLines === 0 && facts.stderrTail.every((l) => l.trim() === "")
    const likely = likelySignalCause(signal, wroteNothing)
    return new KilledBySignal({
      message: `The agent was killed by ${signal.name} (${signal.number})${wroteNothing ? " before writing anything" : ""}: ${signalAdvice[likely]}.`,
      retryable: likely === "oom-killer-or-external-kill" || likely === "external-termination",
      evidence: { signal, likelyCause: likely, crashText: likely === "runtime-abort" || likely === "crash" ? crashText(facts.stderrTail) : null, process: pe }
    })
  }

  const api = findApiFailure(facts, null)
  if (api !== null && exit?.exitCode !== 0) return apiFailure(api.kind, api.evidence, o, endedAtMs)

  if (exit?.exitCode === 0) {
    return new UnparseableOutput({
      message: `The agent exited 0 without a result line (${o.stdoutLines} stdout lines, ${o.malformedLines} not stream-json).`,
      retryable: false,
      evidence: { malformedLines: o.malformedLines, samples: [...o.malformedSamples], process: pe }
    })
  }

  if (facts.stderrTail.some((l) => l.includes(placeholderStubMarker))) {
    return new SpawnFailed({
      message: "The agent could not be started: `claude` is claude-code's npm placeholder, not the native binary (its install script did not run).",
      retryable: false,
      evidence: { path: "claude", reason: "placeholder-stub", errno: null, detail: firstLine(facts.stderrTail.join("\n")) ?? "", process: pe }
    })
  }

  if (o.init !== null && o.stdoutLines - o.malformedLines <= 1) {
    return new InitOnlyExit({
      message: `The agent exited (${exit === null ? "?" : describe(exit)}) right after starting its session, with nothing else written.`,
      retryable: false,
      evidence: { sessionId: o.init.sessionId, process: pe }
    })
  }

  const first = firstLine(facts.stderrTail.join("\n")) ?? o.firstStdoutLine
  return new ExitedNonZero({
    message: `The agent exited with ${exit === null ? "an unknown status" : describe(exit)}${first === null ? "" : `: ${first}`}`,
    retryable: false,
    evidence: { firstMeaningfulLine: first, process: pe }
  })
}
