import { assert, describe, it } from "@effect/vitest"
import { fromNodeExit } from "../../src/domain/ExitStatus.ts"
import { emptyObservation, observeLine } from "../../src/domain/Observation.ts"
import { decodeLine } from "../../src/domain/Protocol.ts"
import { exitCodeFor } from "../../src/domain/RunOutcome.ts"
import { type RunFacts, verdict } from "../../src/domain/Verdict.ts"
import { factsOf, loadTranscript, transcriptNames } from "../support/Transcripts.ts"

/**
 * The verdict of every real transcript recorded from claude 2.1.330 against the fake Messages API,
 * as if nobody but claude had acted (no deadline, no cancel).
 */
const expected: Record<string, { tag: string; exit: number; retryable?: boolean }> = {
  "success": { tag: "Succeeded", exit: 0 },
  "tool-use": { tag: "Succeeded", exit: 0 },
  "tool-use-denied": { tag: "Succeeded", exit: 0 },
  "overloaded-then-success": { tag: "Succeeded", exit: 0 },
  "slow-text": { tag: "Succeeded", exit: 0 },
  "bare-sleep-blocked": { tag: "Succeeded", exit: 0 },
  "ulimit-v-1000000": { tag: "Succeeded", exit: 0 },
  "agent-error-max-turns": { tag: "MaxTurnsReached", exit: 1, retryable: false },
  "empty": { tag: "EmptyModelResponse", exit: 1, retryable: true },
  "empty-null-stop": { tag: "EmptyModelResponse", exit: 1, retryable: true },
  "empty-max-tokens": { tag: "AgentError", exit: 1 },
  "max-tokens": { tag: "AgentError", exit: 1 },
  "auth-401": { tag: "AuthenticationFailed", exit: 1, retryable: false },
  "permission-403": { tag: "AuthenticationFailed", exit: 1, retryable: false },
  "billing-400": { tag: "BillingError", exit: 1, retryable: false },
  "not-found-404": { tag: "ModelNotFound", exit: 1, retryable: false },
  "prompt-too-long-400": { tag: "PromptTooLong", exit: 1, retryable: false },
  "overloaded-529": { tag: "UpstreamUnavailable", exit: 1, retryable: true },
  "rate-limit-429": { tag: "UpstreamUnavailable", exit: 1, retryable: true },
  "api-error-500": { tag: "UpstreamUnavailable", exit: 1, retryable: true },
  "stream-error": { tag: "UpstreamUnavailable", exit: 1, retryable: true },
  "cut-mid-stream": { tag: "UpstreamUnavailable", exit: 1, retryable: true },
  // Someone else's SIGINT: claude reports the abort as an error result.
  "sigint-while-hang": { tag: "AgentError", exit: 1 },
  "sigint-while-hang-after-headers": { tag: "AgentError", exit: 1 },
  "sigint-while-streaming": { tag: "AgentError", exit: 1 },
  "sigint-during-tool": { tag: "AgentError", exit: 1 },
  "sigint-while-hang-no-result": { tag: "UnparseableOutput", exit: 3 },
  // Someone else's SIGTERM: claude exits 143 without a result.
  "sigterm-during-tool": { tag: "TruncatedMidStream", exit: 3 },
  "auth-401-default-retries-sigterm": { tag: "KilledBySignal", exit: 3 },
  "no-prompt": { tag: "ExitedNonZero", exit: 3 },
  "empty-prompt-newline": { tag: "ExitedNonZero", exit: 3 },
  "ulimit-v-200000": { tag: "KilledBySignal", exit: 3 },
  "ulimit-v-500000": { tag: "KilledBySignal", exit: 3 },
  "ulimit-v-800000": { tag: "InitOnlyExit", exit: 3 }
}

const facts = (overrides: Partial<RunFacts>): RunFacts => ({
  observation: emptyObservation,
  stderrTail: [],
  exit: fromNodeExit(0, null),
  spawnFailure: null,
  action: { _tag: "None" },
  oomKills: null,
  maxTurns: null,
  ...overrides
})

describe("verdict on real transcripts", () => {
  it("covers every recorded transcript", () => {
    assert.deepStrictEqual([...transcriptNames()].sort(), Object.keys(expected).sort())
  })

  for (const [name, want] of Object.entries(expected)) {
    it(`${name} → ${want.tag}`, () => {
      const outcome = verdict(factsOf(loadTranscript(name)))
      assert.strictEqual(outcome._tag, want.tag, outcome.message)
      assert.strictEqual(exitCodeFor(outcome), want.exit)
      if (want.retryable !== undefined) assert.strictEqual(outcome.retryable, want.retryable)
      assert.isTrue(outcome.message.length > 10 && !outcome.message.includes("undefined"), outcome.message)
    })
  }

  it("success carries result text, cost, usage, session and turns", () => {
    const outcome = verdict(factsOf(loadTranscript("tool-use")))
    assert.strictEqual(outcome._tag, "Succeeded")
    if (outcome._tag !== "Succeeded") return
    assert.isTrue(outcome.evidence.result.length > 0)
    assert.isTrue((outcome.evidence.costUsd ?? 0) > 0)
    assert.isTrue((outcome.evidence.usage?.output_tokens ?? 0) > 0)
    assert.match(outcome.evidence.sessionId ?? "", /^[0-9a-f-]{36}$/)
    assert.isTrue((outcome.evidence.numTurns ?? 0) >= 2)
  })

  it("SIGSEGV with empty output is blamed on an address-space limit", () => {
    const outcome = verdict(factsOf(loadTranscript("ulimit-v-200000")))
    assert.strictEqual(outcome._tag, "KilledBySignal")
    if (outcome._tag !== "KilledBySignal") return
    assert.strictEqual(outcome.evidence.signal.name, "SIGSEGV")
    assert.strictEqual(outcome.evidence.signal.number, 11)
    assert.strictEqual(outcome.evidence.likelyCause, "address-space-limit")
    assert.match(outcome.message, /ulimit -v/)
  })

  it("SIGABRT is a runtime abort with the crash text from stderr", () => {
    const outcome = verdict(factsOf(loadTranscript("ulimit-v-500000")))
    assert.strictEqual(outcome._tag, "KilledBySignal")
    if (outcome._tag !== "KilledBySignal") return
    assert.strictEqual(outcome.evidence.likelyCause, "runtime-abort")
    assert.match(outcome.evidence.crashText ?? "", /abort|panic/i)
  })

  it("a 401 names the HTTP status and reads it from the result line", () => {
    const outcome = verdict(factsOf(loadTranscript("auth-401")))
    assert.strictEqual(outcome._tag, "AuthenticationFailed")
    if (outcome._tag !== "AuthenticationFailed") return
    assert.strictEqual(outcome.evidence.apiErrorStatus, 401)
    assert.strictEqual(outcome.evidence.source, "result")
  })

  it("the empty reply cites claude's ede diagnostic", () => {
    const outcome = verdict(factsOf(loadTranscript("empty-null-stop")))
    assert.strictEqual(outcome._tag, "EmptyModelResponse")
    if (outcome._tag !== "EmptyModelResponse") return
    assert.match(outcome.evidence.diagnostic ?? "", /last_content_type=none/)
  })
})

describe("verdict precedence", () => {
  const stop = { steps: [{ signal: "SIGINT", target: "pid" as const, pids: [42], atMs: 0, answered: true }], tookMs: 120 }

  it("agentrun's deadline over a run retrying on 401 names AuthenticationFailed, with the deadline in evidence", () => {
    const t = loadTranscript("auth-401-default-retries-sigterm")
    const outcome = verdict(factsOf(t, { _tag: "Deadline", timeoutMs: 5000, stop }))
    assert.strictEqual(outcome._tag, "AuthenticationFailed")
    if (outcome._tag !== "AuthenticationFailed") return
    assert.strictEqual(outcome.evidence.deadline?.timeoutMs, 5000)
    assert.strictEqual(outcome.evidence.source, "api-retry")
    assert.isTrue(outcome.evidence.retryCount > 0)
    assert.strictEqual(exitCodeFor(outcome), 1)
  })

  it("a deadline over a healthy but slow run is DeadlineExceeded (exit 4)", () => {
    const outcome = verdict(factsOf(loadTranscript("sigint-while-streaming"), { _tag: "Deadline", timeoutMs: 2000, stop }))
    assert.strictEqual(outcome._tag, "DeadlineExceeded")
    assert.strictEqual(exitCodeFor(outcome), 4)
  })

  it("cancellation wins over the agent's own abort result; SIGTERM exits 143, SIGINT 130", () => {
    const t = loadTranscript("sigint-during-tool")
    const byTerm = verdict(factsOf(t, { _tag: "Cancel", signal: "SIGTERM", stop }))
    assert.strictEqual(byTerm._tag, "Cancelled")
    assert.strictEqual(exitCodeFor(byTerm), 143)
    const byInt = verdict(factsOf(t, { _tag: "Cancel", signal: "SIGINT", stop }))
    assert.strictEqual(exitCodeFor(byInt), 130)
  })

  it("spawn failure wins over everything", () => {
    const outcome = verdict(facts({
      exit: null,
      spawnFailure: { path: "/x/claude", reason: "not-found", errno: "ENOENT", detail: "/x/claude does not exist" }
    }))
    assert.strictEqual(outcome._tag, "SpawnFailed")
    assert.strictEqual(exitCodeFor(outcome), 3)
  })

  it("the placeholder stub's message is SpawnFailed placeholder-stub", () => {
    const outcome = verdict(facts({
      exit: fromNodeExit(1, null),
      stderrTail: ["Error: claude native binary not installed.", "", "Either postinstall did not run"]
    }))
    assert.strictEqual(outcome._tag, "SpawnFailed")
    if (outcome._tag !== "SpawnFailed") return
    assert.strictEqual(outcome.evidence.reason, "placeholder-stub")
  })

  it("a rising cgroup oom_kill count is OutOfMemory, not a bare SIGKILL", () => {
    const outcome = verdict(facts({ exit: fromNodeExit(null, "SIGKILL"), oomKills: { before: 2, after: 3 } }))
    assert.strictEqual(outcome._tag, "OutOfMemory")
  })

  it("a bare SIGKILL is blamed on the OOM killer or an external kill", () => {
    const outcome = verdict(facts({ exit: fromNodeExit(null, "SIGKILL") }))
    assert.strictEqual(outcome._tag, "KilledBySignal")
    if (outcome._tag !== "KilledBySignal") return
    assert.strictEqual(outcome.evidence.likelyCause, "oom-killer-or-external-kill")
  })

  it("exit 137 from a wrapper shell is decoded as SIGKILL (128+9)", () => {
    const outcome = verdict(facts({ exit: fromNodeExit(137, null) }))
    assert.strictEqual(outcome._tag, "KilledBySignal")
    if (outcome._tag !== "KilledBySignal") return
    assert.deepStrictEqual(outcome.evidence.signal, { name: "SIGKILL", number: 9, via: "exit-128+n" })
  })

  it("exit 0 with nothing is UnparseableOutput; exit 2 with a line is ExitedNonZero quoting it", () => {
    assert.strictEqual(verdict(facts({}))._tag, "UnparseableOutput")
    const outcome = verdict(facts({ exit: fromNodeExit(2, null), stderrTail: ["", "fatal: something broke"] }))
    assert.strictEqual(outcome._tag, "ExitedNonZero")
    assert.match(outcome.message, /fatal: something broke/)
  })
})

/** Folds stream-json events (objects, written as claude writes them) into an observation. */
const observed = (...events: ReadonlyArray<object>) =>
  events.map((e) => JSON.stringify(e)).reduce((o, line) => observeLine(o, line, decodeLine(line)), emptyObservation)
const init = { type: "system", subtype: "init", session_id: "s-1", model: "m" }
const said = (id: string, text: string, error?: string) => ({ type: "assistant", message: { id, content: [{ type: "text", text }] }, ...(error === undefined ? {} : { error }) })
const retry = (status: number | null, error: string, delayMs: number) => ({ type: "system", subtype: "api_retry", attempt: 1, max_retries: 10, retry_delay_ms: delayMs, error_status: status, error })
const failed = (fields: object) => ({ type: "result", subtype: "error_during_execution", is_error: true, ...fields })
const stop = { steps: [], tookMs: 5 }

describe("verdict: structured fields before text", () => {
  it("a failed result that is not an API error is the agent's, whatever its words or earlier retries", () => {
    for (const result of [
      failed({ result: "I added rate limit handling and it still failed" }),
      failed({ errors: ["Hook PreToolUse timed out after 60s"], terminal_reason: "hook_stopped" }),
      { type: "result", subtype: "success", is_error: true, result: "Update the billing module first" }
    ]) {
      const outcome = verdict(facts({ exit: fromNodeExit(1, null), observation: observed(init, retry(529, "overloaded", 500), said("m1", "working"), result) }))
      assert.strictEqual(outcome._tag, "AgentError", outcome.message)
    }
    const hook = verdict(facts({ exit: fromNodeExit(1, null), observation: observed(init, retry(529, "overloaded", 500), failed({ terminal_reason: "hook_stopped", errors: ["stopped by hook"] })) }))
    assert.strictEqual(hook._tag, "AgentError", hook.message)
  })

  it("terminal_reason prompt_too_long and HTTP 403 decide without the text", () => {
    const long = verdict(facts({ exit: fromNodeExit(1, null), observation: observed(init, failed({ subtype: "success", terminal_reason: "prompt_too_long", api_error_status: 400, result: "Input is too long for requested model." })) }))
    assert.strictEqual(long._tag, "PromptTooLong")
    const forbidden = verdict(facts({ exit: fromNodeExit(1, null), observation: observed(init, failed({ subtype: "success", terminal_reason: "api_error", api_error_status: 403, result: "API Error: 403" })) }))
    assert.strictEqual(forbidden._tag, "AuthenticationFailed")
  })

  it("the result's HTTP status wins over an earlier assistant error category", () => {
    const o = observed(init, said("e1", "x", "rate_limit"), said("e2", "x", "authentication_failed"), said("e3", "x", "rate_limit"), failed({ subtype: "success", terminal_reason: "api_error", api_error_status: 429, result: "API Error: Request rejected (429)" }))
    const outcome = verdict(facts({ exit: fromNodeExit(1, null), observation: o }))
    assert.strictEqual(outcome._tag, "UpstreamUnavailable", outcome.message)
    if (outcome._tag === "UpstreamUnavailable") assert.strictEqual(outcome.evidence.error, "rate_limit")
  })

  it("a startup failure names its reason; a refused sign-in is AuthenticationFailed", () => {
    const cwd = verdict(facts({ exit: fromNodeExit(1, null), observation: observed(failed({ startup_failure_reason: "cwd_unavailable", errors: ["The working directory is gone"] })) }))
    assert.strictEqual(cwd._tag, "AgentError")
    assert.match(cwd.message, /startup failure cwd_unavailable\): The working directory is gone/)
    if (cwd._tag === "AgentError") assert.strictEqual(cwd.evidence.result.startupFailureReason, "cwd_unavailable")
    const signin = verdict(facts({ exit: fromNodeExit(1, null), observation: observed(failed({ startup_failure_reason: "gateway_signin_required", errors: ["Sign in to the gateway"] })) }))
    assert.strictEqual(signin._tag, "AuthenticationFailed")
  })

  it("stderr words that are not an API error do not make one", () => {
    const outcome = verdict(facts({ exit: fromNodeExit(1, null), stderrTail: ["debug: using OAuth token from keychain", "TypeError: x is undefined"] }))
    assert.strictEqual(outcome._tag, "ExitedNonZero")
  })
})

describe("verdict: what agentrun did after claude finished", () => {
  const success = { type: "result", subtype: "success", is_error: false, result: "done", num_turns: 1, total_cost_usd: 0.01 }
  it("a successful result stands when the deadline or the hang detection stopped claude lingering on exit", () => {
    for (const action of [
      { _tag: "Deadline" as const, timeoutMs: 1000, stop },
      { _tag: "Hang" as const, detection: { reason: "stall" as const, idleMs: 3000, timeoutMs: 3000 }, waitingOn: { kind: "unknown" as const }, dumpPath: null, unavailable: [], probe: { answered: true as const, afterMs: 10 }, sigint: null, stop: null, cpuPercent: null }
    ]) {
      const outcome = verdict(facts({ exit: fromNodeExit(null, "SIGINT"), action, observation: observed(init, said("m1", "done"), success) } as Partial<RunFacts>))
      assert.strictEqual(outcome._tag, "Succeeded", outcome.message)
      if (outcome._tag !== "Succeeded") continue
      assert.strictEqual(outcome.evidence.stoppedAfterResult, action._tag === "Deadline" ? "deadline" : "hang")
      assert.match(outcome.message, /had not exited after its result/)
      assert.strictEqual(exitCodeFor(outcome), 0)
    }
  })

  it("cancellation still wins over a successful result", () => {
    const outcome = verdict(facts({ exit: fromNodeExit(null, "SIGINT"), action: { _tag: "Cancel", signal: "SIGINT", stop }, observation: observed(init, said("m1", "done"), success) }))
    assert.strictEqual(outcome._tag, "Cancelled")
  })
})

describe("verdict: OOM, retry timing and evidence size", () => {
  it("a rising oom_kill count without a SIGKILL of the agent is someone else's OOM kill", () => {
    assert.strictEqual(verdict(facts({ observation: observed(init), oomKills: { before: 0, after: 1 } }))._tag, "UnparseableOutput")
    assert.strictEqual(verdict(facts({ exit: fromNodeExit(null, "SIGSEGV"), oomKills: { before: 0, after: 1 } }))._tag, "KilledBySignal")
    assert.strictEqual(verdict(facts({ exit: fromNodeExit(137, null), oomKills: { before: 0, after: 1 } }))._tag, "OutOfMemory")
  })

  it("retryNotBefore comes only from a retry in the final failure", () => {
    const end = Date.parse("2026-11-22T00:00:00.000Z")
    const final500 = failed({ subtype: "success", terminal_reason: "api_error", api_error_status: 500, result: "API Error: 500" })
    const recovered = verdict(facts({ exit: fromNodeExit(1, null), observation: observed(init, retry(429, "rate_limit", 600_000), said("m1", "ok"), final500) }), end)
    assert.strictEqual(recovered._tag, "UpstreamUnavailable")
    if (recovered._tag === "UpstreamUnavailable") assert.isNull(recovered.retryNotBefore)
    const still = verdict(facts({ exit: fromNodeExit(1, null), observation: observed(init, said("m1", "ok"), retry(529, "overloaded", 2_000), final500) }), end)
    assert.strictEqual(still._tag, "UpstreamUnavailable")
    if (still._tag === "UpstreamUnavailable") assert.strictEqual(still.retryNotBefore, "2026-11-22T00:00:02.000Z")
  })

  it("a huge result text and errors list are cut in the evidence", () => {
    const outcome = verdict(facts({ exit: fromNodeExit(1, null), observation: observed(init, failed({ result: "x".repeat(5_000_000), errors: Array.from({ length: 1000 }, (_, i) => `error ${i} ${"y".repeat(10_000)}`) })) }))
    assert.strictEqual(outcome._tag, "AgentError")
    if (outcome._tag !== "AgentError") return
    assert.strictEqual(outcome.evidence.result.result?.length, 4000)
    assert.strictEqual(outcome.evidence.result.errors.length, 20)
    assert.isTrue(outcome.evidence.result.errors.every((e) => e.length <= 4000))
  })
})
