/**
 * How `agentrun run` shows progress on stderr: a one-line spinner on a terminal, plain lines
 * otherwise (CI logs, pipes). Pure formatting plus a tiny writer; no Effect services needed.
 *
 * @module
 */
import type { RunProgress } from "@agentrun/core"

/** Compact token count: 950, 1.2k, 3.4M. */
export const formatTokens = (n: number): string =>
  n < 1000 ? String(n) : n < 1_000_000 ? `${(n / 1000).toFixed(1)}k` : `${(n / 1_000_000).toFixed(1)}M`

/** The status part shared by both views: `turns 2 · 1.2k in / 340 out · $0.0123`. */
export const formatUsage = (u: Extract<RunProgress, { _tag: "Usage" }>): string =>
  `turns ${u.turns} · ${formatTokens(u.inputTokens)} in / ${formatTokens(u.outputTokens)} out${
    u.costUsd === null ? "" : ` · $${u.costUsd.toFixed(4)}`
  }`

const clip = (text: string, n: number): string => {
  const line = text.split("\n")[0]!.trim()
  return line.length > n ? `${line.slice(0, n - 1)}…` : line
}

/** One plain line for a progress event, or null when the event is not worth a line. */
export const plainLine = (p: RunProgress): string | null => {
  switch (p._tag) {
    case "Preparing":
      return `agentrun: ${p.detail}`
    case "Started":
      return `agentrun: run ${p.runId} started${p.pid === null ? "" : ` (pid ${p.pid})`}`
    case "SessionStarted":
      return `agentrun: session ${p.sessionId ?? "?"}${p.model === null ? "" : ` · ${p.model}`}`
    case "ToolUse":
      return `agentrun: tool ${p.name}`
    case "PermissionDenied":
      return `agentrun: warning: claude denied ${p.toolName ?? "a tool"}${p.reason === null ? "" : `: ${clip(p.reason, 160)}`}`
    case "ApiRetry":
      return `agentrun: API retry ${p.attempt ?? "?"}${p.errorStatus === null ? "" : ` (HTTP ${p.errorStatus}`}${
        p.error === null ? (p.errorStatus === null ? "" : ")") : `${p.errorStatus === null ? " (" : ", "}${p.error})`
      }${p.retryDelayMs === null ? "" : `, next in ${(p.retryDelayMs / 1000).toFixed(1)}s`}`
    case "Usage":
      return `agentrun: ${formatUsage(p)}`
    case "Stopping":
      return `agentrun: stopping the agent (${p.reason})`
    case "AssistantText":
    case "Ended":
      return null
  }
}

const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

/**
 * A progress sink writing to a stream: plain lines when not `tty`; on a terminal, the run's
 * start and session as lines and a one-line spinner below them for the rest.
 */
export const makeProgressView = (out: NodeJS.WritableStream, tty: boolean) => {
  let frame = 0
  let status = "starting"
  let lastPlainUsage = ""
  const render = () => {
    frame = (frame + 1) % frames.length
    out.write(`\r\x1b[2K${frames[frame]} ${status}`)
  }
  return {
    /** Shows one progress event. */
    show(p: RunProgress): void {
      if (tty) {
        // What `logs -f` and `cancel` need (the run id, the pid, the session) stays on screen
        // above the spinner: the spinner line shows only the latest state.
        if (p._tag === "PermissionDenied") {
          out.write(`\r\x1b[2K${plainLine(p)!}\n`)
          render()
          return
        }
        if (p._tag === "Started" || p._tag === "SessionStarted") {
          out.write(`\r\x1b[2K${plainLine(p)!}\n`)
          status = p._tag === "Started" ? "waiting for claude" : "waiting for the model"
          render()
          return
        }
        if (p._tag === "Usage") status = formatUsage(p)
        else if (p._tag === "ToolUse") status = `${status.split(" · tool")[0]} · tool ${p.name}`
        else if (p._tag === "ApiRetry" || p._tag === "Stopping" || p._tag === "Preparing") status = plainLine(p)!.replace("agentrun: ", "")
        render()
        return
      }
      const line = plainLine(p)
      if (line === null) return
      // Usage repeats with every message; print it only when it changed.
      if (p._tag === "Usage") {
        if (line === lastPlainUsage) return
        lastPlainUsage = line
      }
      out.write(line + "\n")
    },
    /** Animates the spinner (terminal only). */
    tick(): void {
      if (tty) render()
    },
    /** Clears the spinner line. */
    clear(): void {
      if (tty) out.write("\r\x1b[2K")
    }
  }
}
