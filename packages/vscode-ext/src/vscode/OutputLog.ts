/**
 * The LogOutputChannel "agentrun" (the extension's own logs) and an Effect Logger writing to
 * it. The channel filters by VS Code's log level (Developer: Set Log Level...), so the Effect
 * side passes everything on.
 *
 * @module
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import type * as vscode from "vscode"
import { disposable } from "./Adapter.ts"
import { VsCode } from "./VsCodeApi.ts"

/** The extension's LogOutputChannel. */
export class OutputLog extends Context.Service<OutputLog, vscode.LogOutputChannel>()("agentrun-vscode/OutputLog") {
  /** Creates the channel "agentrun" for the layer's life, and routes Effect's logs to it. */
  static readonly layer = Layer.effectContext(
    Effect.gen(function*() {
      const api = yield* VsCode
      const channel = yield* disposable(() => api.window.createOutputChannel("agentrun", { log: true }))
      const text = (message: unknown): string =>
        (Array.isArray(message) ? message : [message])
          .map((m) => (typeof m === "string" ? m : Cause.isCause(m) ? Cause.pretty(m) : JSON.stringify(m)))
          .join(" ")
      const logger = Logger.make<unknown, void>(({ cause, logLevel, message }) => {
        const line = cause.reasons.length === 0 ? text(message) : `${text(message)}\n${Cause.pretty(cause)}`
        switch (logLevel) {
          case "Fatal":
          case "Error":
            return channel.error(line)
          case "Warn":
            return channel.warn(line)
          case "Info":
            return channel.info(line)
          case "Debug":
            return channel.debug(line)
          default:
            return channel.trace(line)
        }
      })
      const loggers = Context.make(Logger.CurrentLoggers, new Set([logger]))
      return Context.add(Context.add(loggers, References.MinimumLogLevel, "All"), OutputLog, channel)
    })
  )
}
