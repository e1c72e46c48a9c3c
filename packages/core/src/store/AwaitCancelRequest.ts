/**
 * The wait for a run's cancel request, shared by both store layers: subscribe first, then look,
 * so a request written between the look and the subscription is not missed.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { RunId } from "../domain/Run.ts"
import type { CancelRequest, RunStoreError, RunStoreShape } from "./RunStoreModel.ts"

/**
 * Completes with the run's cancel request: at once if one is stored, else when a
 * `CancelRequested` change for the run brings one. Fails with RunStoreError when it cannot be read.
 */
export const awaitCancelRequestVia = (
  store: Pick<RunStoreShape, "watchChanges" | "readCancelRequest">,
  runId: RunId
): Effect.Effect<CancelRequest, RunStoreError> =>
  Effect.scoped(Effect.gen(function*() {
    const changes = yield* store.watchChanges(runId)
    const now = yield* store.readCancelRequest(runId)
    if (Option.isSome(now)) return now.value
    const next = yield* changes.pipe(
      Stream.filter((c) => c._tag === "CancelRequested"),
      Stream.mapEffect(() => store.readCancelRequest(runId)),
      Stream.filter(Option.isSome),
      Stream.runHead
    )
    return Option.getOrThrow(Option.flatten(next))
  }))
