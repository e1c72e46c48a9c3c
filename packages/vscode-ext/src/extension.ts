/**
 * The extension's entry point (package.json `main`, bundled to dist/extension.cjs). The only
 * module that imports `vscode`; everything else gets the API through the VsCode service.
 *
 * @module
 */
import * as vscode from "vscode"
import { type Activation, activate as start } from "./Activation.ts"

let activation: Activation | undefined

/** Called by VS Code once (activation event `onStartupFinished`, or a command / the view). */
export const activate = (context: vscode.ExtensionContext): Promise<void> => {
  activation = start(vscode, context)
  return activation.ready
}

/**
 * Called by VS Code when the extension stops (window closed or reloaded, extension disabled):
 * cancels the runs this extension host launched and waits for their final records.
 */
export const deactivate = (): Promise<void> | undefined => activation?.close()
