import { assert, describe, it } from "@effect/vitest"
import type { StoredOutcome } from "@agentrun/core"
import { Clock, Effect, Fiber, Ref } from "effect"
import { TestClock } from "effect/testing"
import { isRetryable, type RetryNotice, retryDelayMs, retrySchedule } from "../src/RetryPolicy.ts"

/** A verdict as the policy reads it (tag, retryable, retryNotBefore); the rest is irrelevant to it. */
const verdict = (tag: string, retryable: boolean, retryNotBefore: string | null = null): StoredOutcome =>
  ({ _tag: tag, family: tag === "Succeeded" ? "success" : "agent", message: tag, retryable, retryNotBefore, evidence: {} }) as unknown as StoredOutcome

/**
 * Runs attempts whose verdicts are `script` (the last repeats) under `retrySchedule(retries)`,
 * forked; returns the attempts made so far, the notices, and the fiber.
 */
const scripted = (script: ReadonlyArray<(nowMs: number) => StoredOutcome>, retries: number) =>
  Effect.gen(function*() {
    const attempts = yield* Ref.make<Array<number>>([])
    const notices = yield* Ref.make<Array<RetryNotice>>([])
    const attempt = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const made = yield* Ref.updateAndGet(attempts, (a) => [...a, now])
      return { n: made.length, outcome: script[Math.min(made.length, script.length) - 1]!(now) }
    })
    const fiber = yield* Effect.forkChild(
      Effect.repeat(attempt, retrySchedule<{ readonly n: number; readonly outcome: StoredOutcome }>(retries, (n) => Ref.update(notices, (all) => [...all, n])))
    )
    return { attempts, notices, fiber }
  })

describe("run --retries: the retry policy", () => {
  it("only retryable failures are retried", () => {
    assert.isFalse(isRetryable(verdict("Succeeded", false)))
    assert.isFalse(isRetryable(verdict("AuthenticationFailed", false)))
    assert.isTrue(isRetryable(verdict("UpstreamUnavailable", true)))
  })

  it("the wait is the backoff, capped at 5 min, or until retryNotBefore when that is later", () => {
    const now = Date.parse("2026-12-03T12:00:00.000Z")
    assert.strictEqual(retryDelayMs(verdict("TruncatedMidStream", true), now, 5_000), 5_000)
    assert.strictEqual(retryDelayMs(verdict("TruncatedMidStream", true), now, 3_600_000), 300_000)
    assert.strictEqual(retryDelayMs(verdict("UpstreamUnavailable", true, "2026-12-03T12:00:30.000Z"), now, 5_000), 30_000)
    assert.strictEqual(retryDelayMs(verdict("UpstreamUnavailable", true, "2026-12-03T11:59:00.000Z"), now, 10_000), 10_000)
  })

  it.effect("a retryable verdict is retried after 5 s, then 10 s, at most N times; the last attempt's result is returned", () =>
    Effect.gen(function*() {
      const { attempts, fiber, notices } = yield* scripted([() => verdict("TruncatedMidStream", true)], 2)
      yield* TestClock.adjust(4_999)
      assert.strictEqual((yield* Ref.get(attempts)).length, 1)
      yield* TestClock.adjust(1)
      assert.strictEqual((yield* Ref.get(attempts)).length, 2)
      yield* TestClock.adjust(9_999)
      assert.strictEqual((yield* Ref.get(attempts)).length, 2)
      yield* TestClock.adjust(1)
      const last = yield* Fiber.join(fiber)
      assert.strictEqual(last.n, 3)
      const at = yield* Ref.get(attempts)
      assert.deepStrictEqual(at.map((t) => t - at[0]!), [0, 5_000, 15_000])
      assert.deepStrictEqual(yield* Ref.get(notices), [
        { retry: 1, of: 2, delayMs: 5_000, tag: "TruncatedMidStream" },
        { retry: 2, of: 2, delayMs: 10_000, tag: "TruncatedMidStream" }
      ])
    }))

  it.effect("stops at the first verdict that is not retryable (a success included)", () =>
    Effect.gen(function*() {
      const { fiber, notices } = yield* scripted([() => verdict("UpstreamUnavailable", true), () => verdict("Succeeded", false)], 5)
      yield* TestClock.adjust(5_000)
      const last = yield* Fiber.join(fiber)
      assert.strictEqual(last.n, 2)
      assert.strictEqual(last.outcome._tag, "Succeeded")
      assert.strictEqual((yield* Ref.get(notices)).length, 1)
    }))

  it.effect("honours UpstreamUnavailable's retryNotBefore: no attempt before it", () =>
    Effect.gen(function*() {
      const { attempts, fiber, notices } = yield* scripted([
        (now) => verdict("UpstreamUnavailable", true, new Date(now + 30_000).toISOString()),
        () => verdict("Succeeded", false)
      ], 3)
      yield* TestClock.adjust(29_999)
      assert.strictEqual((yield* Ref.get(attempts)).length, 1)
      yield* TestClock.adjust(1)
      assert.strictEqual((yield* Fiber.join(fiber)).n, 2)
      assert.deepStrictEqual(yield* Ref.get(notices), [{ retry: 1, of: 3, delayMs: 30_000, tag: "UpstreamUnavailable" }])
    }))

  it.effect("--retries 0 never retries", () =>
    Effect.gen(function*() {
      const { fiber, notices } = yield* scripted([() => verdict("UpstreamUnavailable", true)], 0)
      assert.strictEqual((yield* Fiber.join(fiber)).n, 1)
      assert.deepStrictEqual(yield* Ref.get(notices), [])
    }))
})
