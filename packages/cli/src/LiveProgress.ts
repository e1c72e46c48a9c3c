/**
 * Where a running run stands, from the transcript it stored so far: `list` shows its turns (and
 * cost, once claude wrote its result) while it runs.
 *
 * @module
 */
import { emptyObservation, eventsStart, observeLine, type Observation, Protocol, type RunId, type RunStoreError, type RunStoreShape } from "@agentrun/core"
import * as Effect from "effect/Effect"

/** A running run's figures so far: turns (assistant messages), tokens, cost in USD (null until claude's result). */
export interface LiveProgress {
  readonly turns: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly costUsd: number | null
}

/** The figures of an observation (the same ones `run` shows on its progress line). Pure. */
export const progressOfObservation = (o: Observation): LiveProgress => ({
  turns: o.result?.num_turns ?? o.assistantMessages,
  inputTokens: o.usage.inputTokens,
  outputTokens: o.usage.outputTokens,
  costUsd: o.costUsd
})

/**
 * The run's figures from its stored `events.jsonl`, read a window at a time (bounded memory) and
 * folded as the supervisor folds them. Fails with RunStoreError.
 */
export const liveProgress = (store: RunStoreShape, runId: RunId): Effect.Effect<LiveProgress, RunStoreError> =>
  Effect.gen(function*() {
    let o = emptyObservation
    let cursor = eventsStart
    for (;;) {
      const chunk = yield* store.readEventsSince(runId, cursor)
      for (const line of chunk.lines) if (line !== "") o = observeLine(o, line, Protocol.decodeLine(line))
      if (chunk.cursor === cursor) break
      cursor = chunk.cursor
    }
    return progressOfObservation(o)
  })
