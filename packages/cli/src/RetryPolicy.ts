/**
 * `run --retries N`: which verdicts are tried again, and when (README, "agentrun run").
 *
 * Only a verdict with `retryable: true` is retried, at most N times, each attempt a run of its
 * own. The wait before retry n is 5 s doubled per retry (5 s, 10 s, 20 s, …, at most 5 min),
 * or longer when the verdict names a time before which a new attempt is pointless:
 * `UpstreamUnavailable.retryNotBefore` (the run's end plus claude's last backoff, which follows
 * the API's `retry-after`). A Schedule over the attempts' results, so the waits run on the
 * Clock (TestClock in tests).
 *
 * @module
 */
import { outcomeTag, type StoredOutcome } from "@agentrun/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

/** The wait before the first retry, in milliseconds; doubled for each further retry. */
export const baseRetryDelayMs = 5_000
/** The longest backoff wait, in milliseconds (a later `retryNotBefore` still wins). */
export const maxRetryDelayMs = 5 * 60_000

/** Whether a verdict may be retried: a failure with `retryable: true`. */
export const isRetryable = (outcome: StoredOutcome): boolean => outcome._tag !== "Succeeded" && outcome.retryable

/** The verdict's `retryNotBefore` (epoch milliseconds), when it names one. */
export const retryNotBeforeMs = (outcome: StoredOutcome): number | null => {
  const at = (outcome as { readonly retryNotBefore?: unknown }).retryNotBefore
  if (typeof at !== "string") return null
  const ms = Date.parse(at)
  return Number.isNaN(ms) ? null : ms
}

/**
 * The wait before the next attempt, in milliseconds: the backoff (`backoffMs`, capped at
 * {@link maxRetryDelayMs}) or until `retryNotBefore`, whichever is later. `nowMs` epoch ms. Pure.
 */
export const retryDelayMs = (outcome: StoredOutcome, nowMs: number, backoffMs: number): number => {
  const notBefore = retryNotBeforeMs(outcome)
  return Math.max(Math.min(backoffMs, maxRetryDelayMs), notBefore === null ? 0 : Math.ceil(notBefore - nowMs))
}

/** A retry about to wait: the retry's number (1-based) of `of`, the wait (ms), the verdict's tag. */
export interface RetryNotice {
  readonly retry: number
  readonly of: number
  readonly delayMs: number
  readonly tag: string
}

/** `retry 2/3 after 30s: UpstreamUnavailable`. */
export const retryLine = (n: RetryNotice, formatDuration: (ms: number) => string): string =>
  `retry ${n.retry}/${n.of} after ${formatDuration(n.delayMs)}: ${n.tag}`

/**
 * The schedule of `--retries`: fed each attempt's result, it recurs while the last verdict is
 * retryable and fewer than `retries` retries were made, waiting {@link retryDelayMs}; `onRetry`
 * runs before each wait. Its output is the last attempt's result (so `Effect.repeat` returns it).
 */
export const retrySchedule = <A extends { readonly outcome: StoredOutcome }>(
  retries: number,
  onRetry: (notice: RetryNotice) => Effect.Effect<void>
): Schedule.Schedule<A, A> =>
  Schedule.exponential(Duration.millis(baseRetryDelayMs)).pipe(
    Schedule.setInputType<A>(),
    Schedule.while(({ attempt, input }) => attempt <= retries && isRetryable(input.outcome)),
    Schedule.modifyDelay(({ duration, input, now }) => Effect.succeed(Duration.millis(retryDelayMs(input.outcome, now, Duration.toMillis(duration))))),
    Schedule.tap(({ attempt, duration, input }) =>
      onRetry({ retry: attempt, of: retries, delayMs: Duration.toMillis(duration), tag: outcomeTag(input.outcome) })
    ),
    Schedule.passthrough
  )
