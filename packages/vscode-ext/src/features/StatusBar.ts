/**
 * The status bar item: the number of live runs, spinning while any is live; a click opens the
 * Runs view.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { disposable } from "../vscode/Adapter.ts"
import { VsCode } from "../vscode/VsCodeApi.ts"
import { isLive, RunsModel, type RunsState } from "./RunsModel.ts"

/** The item's text for a state: `$(loading~spin) agentrun: 2 live` or `$(rocket) agentrun`. */
export const statusText = (state: RunsState): string => {
  const live = state.records.filter(isLive).length
  return live === 0 ? "$(rocket) agentrun" : `$(loading~spin) agentrun: ${live} live`
}

/** The status bar item, for the layer's life. */
export const StatusBarLive = Layer.effectDiscard(
  Effect.gen(function*() {
    const api = yield* VsCode
    const model = yield* RunsModel
    const item = yield* disposable(() => api.window.createStatusBarItem("agentrun.status", api.StatusBarAlignment.Left, 10))
    item.name = "agentrun"
    item.tooltip = "agentrun: open the Runs view"
    item.command = "workbench.view.extension.agentrun"
    const render = (state: RunsState) => Effect.sync(() => {
      item.text = statusText(state)
      item.show()
    })
    yield* render(yield* SubscriptionRef.get(model.state))
    yield* SubscriptionRef.changes(model.state).pipe(Stream.runForEach(render), Effect.forkScoped)
  })
)
