/**
 * The Runs view (`agentrun.runs`): one row per run, newest first, re-rendered whenever the
 * model changes. Its elements are run ids; commands invoked from its context menu get the id.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type * as vscode from "vscode"
import { disposable } from "../vscode/Adapter.ts"
import { VsCode } from "../vscode/VsCodeApi.ts"
import { storedRunTreeItem } from "./RunItems.ts"
import { RunsModel } from "./RunsModel.ts"

export const runsViewId = "agentrun.runs"

/** The Runs view: its current selection. */
export class RunsTree extends Context.Service<RunsTree, {
  /** The run selected in the view, if any. */
  readonly selected: Effect.Effect<Option.Option<string>>
}>()("agentrun-vscode/RunsTree") {
  static readonly layer = Layer.effect(
    RunsTree,
    Effect.gen(function*() {
      const api = yield* VsCode
      const model = yield* RunsModel
      const changed = yield* disposable(() => new api.EventEmitter<string | undefined>())
      const provider: vscode.TreeDataProvider<string> = {
        onDidChangeTreeData: changed.event,
        getChildren: (element) => element === undefined ? SubscriptionRef.getUnsafe(model.state).records.map((r) => r.runId) : [],
        getTreeItem: (runId) => {
          const state = SubscriptionRef.getUnsafe(model.state)
          const record = state.records.find((r) => r.runId === runId)
          return record === undefined ? { id: runId, label: runId } : storedRunTreeItem(api, record, state.usage.get(runId))
        }
      }
      const view = yield* disposable(() => api.window.createTreeView(runsViewId, { treeDataProvider: provider }))
      yield* SubscriptionRef.changes(model.state).pipe(
        Stream.runForEach(() => Effect.sync(() => changed.fire(undefined))),
        Effect.forkScoped
      )
      return RunsTree.of({ selected: Effect.sync(() => Option.fromNullishOr(view.selection[0])) })
    })
  )
}
