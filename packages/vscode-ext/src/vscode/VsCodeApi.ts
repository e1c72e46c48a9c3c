/**
 * The part of the VS Code API the extension uses, as one value: the real `vscode` module in the
 * extension host, a small hand-made fake in the unit tests (test/FakeVsCode.ts). Everything that
 * touches VS Code reaches it through the {@link VsCode} service, never through `import "vscode"`
 * (only src/extension.ts imports the module itself).
 *
 * @module
 */
import * as Context from "effect/Context"
import type * as vscode from "vscode"

/** The VS Code API surface used (a subset of `typeof import("vscode")`). */
export interface VsCodeApi {
  readonly window: Pick<
    typeof vscode.window,
    | "createTreeView"
    | "createStatusBarItem"
    | "createOutputChannel"
    | "showInformationMessage"
    | "showWarningMessage"
    | "showErrorMessage"
    | "showInputBox"
    | "showQuickPick"
    | "withProgress"
    | "showTextDocument"
    | "activeTextEditor"
  >
  readonly commands: Pick<typeof vscode.commands, "registerCommand" | "executeCommand">
  readonly workspace: Pick<
    typeof vscode.workspace,
    "getConfiguration" | "onDidChangeConfiguration" | "registerTextDocumentContentProvider" | "openTextDocument" | "workspaceFolders"
  >
  readonly env: { readonly clipboard: Pick<vscode.Clipboard, "writeText"> }
  readonly Uri: Pick<typeof vscode.Uri, "from">
  readonly EventEmitter: new<T>() => vscode.EventEmitter<T>
  readonly ThemeIcon: new(id: string, color?: vscode.ThemeColor) => vscode.ThemeIcon
  readonly ThemeColor: new(id: string) => vscode.ThemeColor
  readonly TreeItemCollapsibleState: typeof vscode.TreeItemCollapsibleState
  readonly StatusBarAlignment: typeof vscode.StatusBarAlignment
  readonly ProgressLocation: typeof vscode.ProgressLocation
}

/** The VS Code API, provided once at activation. */
export class VsCode extends Context.Service<VsCode, VsCodeApi>()("agentrun-vscode/VsCode") {}

/** What the extension uses of its `ExtensionContext`: the subscriptions and the global memento. */
export interface ExtensionContextShape {
  readonly subscriptions: Array<{ dispose(): unknown }>
  readonly globalState: Pick<vscode.Memento, "get" | "update">
}

/** The extension's context, provided once at activation. */
export class ExtensionContext extends Context.Service<ExtensionContext, ExtensionContextShape>()("agentrun-vscode/ExtensionContext") {}
