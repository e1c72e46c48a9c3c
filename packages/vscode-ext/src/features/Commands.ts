/**
 * The commands (ids fixed by issue #14, contributed in package.json). A command acting on a run
 * takes it from its argument (the Runs view's context menu passes the row's run id), else from
 * the view's selection, else asks with a quick pick of runs.
 *
 * @module
 */
import { isDamaged, type RunRecord, type StoredRun } from "@agentrun/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { Runs } from "../core/Runs.ts"
import { registerCommand } from "../vscode/Adapter.ts"
import { VsCode } from "../vscode/VsCodeApi.ts"
import { Documents } from "./Documents.ts"
import { Launcher } from "./Launch.ts"
import { runPickItem } from "./RunItems.ts"
import { isLive, RunsModel } from "./RunsModel.ts"
import { RunsTree } from "./RunsTree.ts"

/** No run to act on: none given, none selected, none picked (or none fits). */
export class NoRunChosen extends Schema.TaggedError<NoRunChosen>()("NoRunChosen", {
  message: Schema.String,
  retryable: Schema.Boolean
}) {}

/** Every command, registered for the layer's life. */
export const CommandsLive = Layer.effectDiscard(
  Effect.gen(function*() {
    const api = yield* VsCode
    const runs = yield* Runs
    const model = yield* RunsModel
    const tree = yield* RunsTree
    const documents = yield* Documents
    const launcher = yield* Launcher

    /** A decodable record (not a damaged one) fits. */
    const decodable = (r: StoredRun): r is RunRecord => !isDamaged(r)
    /** The run a command acts on (see the module doc); `fits` narrows the quick pick (e.g. live runs for cancel). */
    const chooseRun = (arg: unknown, title: string, fits: (r: StoredRun) => boolean = decodable) =>
      Effect.gen(function*() {
        if (typeof arg === "string" && arg !== "") return arg
        const selected = yield* tree.selected
        if (Option.isSome(selected)) return selected.value
        const candidates = (yield* SubscriptionRef.get(model.state)).records.filter(fits)
        if (candidates.length === 0) return yield* new NoRunChosen({ message: "No run to act on.", retryable: false })
        const picked = yield* Effect.promise(() =>
          Promise.resolve(api.window.showQuickPick(
            candidates.map(runPickItem),
            { title, ignoreFocusOut: true }
          ))
        )
        if (picked === undefined) return yield* new NoRunChosen({ message: "No run chosen.", retryable: false })
        return picked.runId
      })

    const quietly = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(Effect.catchIf((e): e is E => typeof e === "object" && e !== null && "_tag" in e && e._tag === "LaunchDismissed", () => Effect.void))

    yield* registerCommand("agentrun.launchRun", () => quietly(launcher.launchRun))
    yield* registerCommand("agentrun.launchRunWithOptions", () => quietly(launcher.launchRunWithOptions))
    yield* registerCommand("agentrun.launchRunOnSelection", (uri) => quietly(launcher.launchRunOnSelection(uri)))
    yield* registerCommand("agentrun.rerun", (arg) =>
      quietly(Effect.gen(function*() {
        const record = yield* runs.get(yield* chooseRun(arg, "agentrun: re-run which run?"))
        return yield* launcher.rerun(record)
      })))
    yield* registerCommand("agentrun.cancelRun", (arg) =>
      Effect.gen(function*() {
        const runId = yield* chooseRun(arg, "agentrun: cancel which run?", isLive)
        const how = yield* runs.cancel(runId)
        yield* Effect.logInfo(`cancel ${runId}: ${how}`)
      }))
    yield* registerCommand("agentrun.openTranscript", (arg) =>
      Effect.flatMap(chooseRun(arg, "agentrun: transcript of which run?"), documents.openTranscript))
    yield* registerCommand("agentrun.showVerdict", (arg) =>
      Effect.flatMap(chooseRun(arg, "agentrun: verdict of which run?", (r) => decodable(r) && r.outcome !== null), documents.openVerdict))
    yield* registerCommand("agentrun.copyRunId", (arg) =>
      Effect.gen(function*() {
        // The full id even of a damaged record (a prefix given as argument resolves through the store).
        const chosen = yield* chooseRun(arg, "agentrun: copy the id of which run?", () => true)
        const listed = (yield* SubscriptionRef.get(model.state)).records.find((r) => r.runId === chosen)
        const runId = listed?.runId ?? (yield* runs.get(chosen)).runId
        yield* Effect.promise(() => Promise.resolve(api.env.clipboard.writeText(runId)))
        yield* Effect.sync(() => void api.window.showInformationMessage(`agentrun: copied ${runId}`))
      }))
    yield* registerCommand("agentrun.refreshRuns", () => model.refresh)
    yield* registerCommand("agentrun.bootstrap", (force) =>
      Effect.gen(function*() {
        const report = yield* Effect.promise(() =>
          Promise.resolve(api.window.withProgress(
            { location: api.ProgressLocation.Notification, title: "agentrun: bootstrapping claude" },
            () => Effect.runPromise(runs.bootstrap(force === true))
          ))
        )
        const line = `agentrun: claude-cli ${report.outcome} (${report.outcomeCode}): ${report.message}`
        yield* Effect.sync(() => void (report.present ? api.window.showInformationMessage(line) : api.window.showErrorMessage(line)))
      }))
    yield* registerCommand("agentrun.doctor", () =>
      Effect.gen(function*() {
        const report = yield* runs.doctor
        const doc = yield* Effect.promise(() =>
          Promise.resolve(api.workspace.openTextDocument({ language: "json", content: JSON.stringify(report, null, 2) }))
        )
        yield* Effect.promise(() => Promise.resolve(api.window.showTextDocument(doc, { preview: false })))
      }))
  })
)
