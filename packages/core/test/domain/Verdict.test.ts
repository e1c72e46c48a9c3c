import { assert, describe, it } from "@effect/vitest"
import { fromNodeExit } from "../../src/domain/ExitStatus.ts"
import { emptyObservation } from "../../src/domain/Observation.ts"
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
