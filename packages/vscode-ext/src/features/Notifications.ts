/**
 * End-of-run notifications (`agentrun.notifyOn`: all / failures / none): the verdict's line,
 * with "Open Transcript", "Re-run", and "Bootstrap Now" when claude could not be installed
 * because of the bootstrap's cooldown.
 *
 * @module
 */
import type { RunRecord } from "@agentrun/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { type NotifyOn, SettingsRef } from "../Settings.ts"
import { VsCode } from "../vscode/VsCodeApi.ts"
import { Documents } from "./Documents.ts"
import { verdictText } from "./RunItems.ts"
import { RunsModel } from "./RunsModel.ts"

export const openTranscriptAction = "Open Transcript"
export const rerunAction = "Re-run"
export const bootstrapAction = "Bootstrap Now"

/** Whether a finished run is announced under a `notifyOn` setting. */
export const shouldNotify = (notifyOn: NotifyOn, record: RunRecord): boolean =>
  notifyOn === "all" || (notifyOn === "failures" && record.outcome?._tag !== "Succeeded")

const CooldownEvidence = Schema.Struct({ bootstrap: Schema.Struct({ outcome: Schema.Literal("SkipCooldown") }) })

/** A RuntimeUnavailable run whose bootstrap was skipped for its cooldown (a forced bootstrap helps). */
export const isBootstrapCooldown = (record: RunRecord): boolean =>
  record.outcome?._tag === "RuntimeUnavailable" && Schema.is(CooldownEvidence)(record.outcome.evidence)

/** Notifies each run the model saw end, for the layer's life. */
export const NotificationsLive = Layer.effectDiscard(
  Effect.gen(function*() {
    const api = yield* VsCode
    const model = yield* RunsModel
    const settings = yield* SettingsRef
    const documents = yield* Documents
    const notify = (record: RunRecord) =>
      Effect.gen(function*() {
        const outcome = record.outcome
        if (outcome === null || !shouldNotify((yield* SubscriptionRef.get(settings)).notifyOn, record)) return
        const actions = [openTranscriptAction, rerunAction, ...(isBootstrapCooldown(record) ? [bootstrapAction] : [])]
        const line = `agentrun: ${verdictText(outcome)} [run ${record.runId}]`
        const show = outcome._tag === "Succeeded" ? api.window.showInformationMessage : api.window.showErrorMessage
        // The notification stays until the user acts or dismisses it: not waited for here.
        yield* Effect.forkScoped(Effect.gen(function*() {
          const choice = yield* Effect.promise(() => Promise.resolve(show(line, ...actions)))
          if (choice === openTranscriptAction) yield* documents.openTranscript(record.runId)
          if (choice === rerunAction) yield* Effect.promise(() => Promise.resolve(api.commands.executeCommand("agentrun.rerun", record.runId)))
          if (choice === bootstrapAction) yield* Effect.promise(() => Promise.resolve(api.commands.executeCommand("agentrun.bootstrap", true)))
        }))
      })
    yield* Stream.fromPubSub(model.ended).pipe(Stream.runForEach(notify), Effect.forkScoped)
  })
)
