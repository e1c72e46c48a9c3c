/**
 * A run store layer over the one it is given whose whole-file reads are defects: what a takeover
 * of a run (an attach, a follow) must not use, since a long run's transcript (a GiB) would be
 * read into memory at once. Everything else is the store below.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { RunStore } from "../../src/store/RunStore.ts"

/** The RunStore below, with `readEvents` and `readStderr` dying (see the module's note). */
export const noWholeReads: Layer.Layer<RunStore, never, RunStore> = Layer.effect(
  RunStore,
  Effect.gen(function*() {
    const store = yield* RunStore
    return RunStore.of({
      ...store,
      readEvents: (runId) => Effect.die(new Error(`readEvents(${runId}): a takeover must read the transcript in windows (readEventsSince)`)),
      readStderr: (runId) => Effect.die(new Error(`readStderr(${runId}): a takeover must read only stderr's tail (readStderrTail)`))
    })
  })
)
