/**
 * The extension's composition: the VS Code adapter, settings, the core adapter, one layer per
 * feature. Built once per activation in a Scope that deactivation (and `context.subscriptions`)
 * closes; closing it stops every fiber and watcher, and cancels the runs this host launched
 * (see Runs.layer).
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { Runs } from "./core/Runs.ts"
import { CommandsLive } from "./features/Commands.ts"
import { Documents } from "./features/Documents.ts"
import { Launcher } from "./features/Launch.ts"
import { NotificationsLive } from "./features/Notifications.ts"
import { RunsModel } from "./features/RunsModel.ts"
import { RunsTree } from "./features/RunsTree.ts"
import { StatusBarLive } from "./features/StatusBar.ts"
import { SettingsRef } from "./Settings.ts"
import { OutputLog } from "./vscode/OutputLog.ts"
import { ExtensionContext, type ExtensionContextShape, VsCode, type VsCodeApi } from "./vscode/VsCodeApi.ts"

/**
 * Every feature over a core adapter (the live one: `Runs.layer`; the unit tests': `Runs.layerWith`
 * a test core), the settings and the log channel. Needs VsCode and ExtensionContext.
 */
export const extensionLayer = (runs: Layer.Layer<Runs, never, SettingsRef>) =>
  Layer.mergeAll(CommandsLive, StatusBarLive, NotificationsLive).pipe(
    Layer.provideMerge(Layer.mergeAll(RunsTree.layer, Documents.layer, Launcher.layer)),
    Layer.provideMerge(RunsModel.layer),
    Layer.provideMerge(runs),
    Layer.provideMerge(SettingsRef.layer),
    Layer.provideMerge(OutputLog.layer)
  )

/** A running activation. */
export interface Activation {
  /** Resolves once every feature is up (rejects if activation failed). */
  readonly ready: Promise<void>
  /** Closes the activation's scope: idempotent; resolves once live runs are cancelled and recorded. */
  readonly close: () => Promise<void>
}

/** Starts the extension on an API and a context (the real ones, or the unit tests' fakes, with their core adapter). */
export const activate = (api: VsCodeApi, context: ExtensionContextShape, runs: Layer.Layer<Runs, never, SettingsRef> = Runs.layer): Activation => {
  const scope = Scope.makeUnsafe()
  const layer = extensionLayer(runs).pipe(
    Layer.provide(Layer.mergeAll(Layer.succeed(VsCode, api), Layer.succeed(ExtensionContext, context)))
  )
  const ready = Effect.runPromise(Effect.asVoid(Layer.buildWithScope(layer, scope)))
  let closing: Promise<void> | undefined
  const close = () => (closing ??= ready.catch(() => undefined).then(() => Effect.runPromise(Scope.close(scope, Exit.void))))
  context.subscriptions.push({ dispose: () => void close() })
  return { ready, close }
}
