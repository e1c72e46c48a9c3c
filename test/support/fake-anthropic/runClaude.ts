/**
 * Run the real `claude` binary (print mode, stream-json) against a fake
 * Messages API and capture everything. Used by tests and record.ts.
 */
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { offlineClaudeEnv } from "./FakeMessagesApi.ts"

const here = dirname(fileURLToPath(import.meta.url))
export const repoRoot = resolve(here, "../../..")

/**
 * The native binary. We spawn it directly, not the `node_modules/.bin/claude`
 * sh shim: the shim runs claude.exe as a child without `exec`, so a signal
 * sent to the shim's pid never reaches claude.
 */
export const claudeBinary: string = (() => {
  const direct = join(repoRoot, "node_modules/@anthropic-ai/claude-code/bin/claude.exe")
  return existsSync(direct) ? direct : join(repoRoot, "node_modules/.bin/claude")
})()

/** The argv agentrun uses: `claude -p --output-format stream-json --verbose [flags]`. */
export const baseArgs: ReadonlyArray<string> = ["-p", "--output-format", "stream-json", "--verbose"]

export interface RunClaudeOptions {
  /** Base URL of the fake. */
  readonly url: string
  /** Extra flags after the base args. */
  readonly flags?: ReadonlyArray<string>
  /** Prompt written to stdin then stdin is closed. `null` = close stdin immediately without writing. */
  readonly prompt: string | null
  /** Working directory (default: a fresh temp dir). */
  readonly cwd?: string
  /** Throwaway HOME (default: a fresh temp dir). */
  readonly home?: string
  /** Extra env vars (override the offline defaults). */
  readonly env?: Readonly<Record<string, string>>
  /** Hard kill (SIGKILL) after this many ms. Default 60_000. */
  readonly timeoutMs?: number
  /** Send `signal` when `when` becomes true (polled every 50 ms) or after `afterMs`. */
  readonly interrupt?: {
    readonly signal: NodeJS.Signals
    readonly afterMs?: number
    readonly when?: (state: { stdoutLines: ReadonlyArray<string>; elapsedMs: number }) => boolean
    /** Extra delay (ms) after `when` first becomes true. */
    readonly delayMs?: number
  }
  /** Wrap in `bash -c 'ulimit -v N; exec claude ...'` (N in KiB). */
  readonly ulimitVKb?: number
}

export interface ClaudeRun {
  readonly argv: ReadonlyArray<string>
  readonly stdout: string
  readonly stderr: string
  /** Parsed stream-json lines (non-JSON lines are skipped). */
  readonly events: ReadonlyArray<Record<string, unknown>>
  readonly exitCode: number | null
  readonly signal: NodeJS.Signals | null
  readonly durationMs: number
  readonly cwd: string
  readonly interruptSentAtMs?: number
  readonly timedOut: boolean
}

/** Minimal inherited env: PATH etc., never ANTHROPIC_* / CLAUDE_* from the parent. */
const baseEnv = (): Record<string, string> => {
  const keep = ["PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "SHELL", "TERM"]
  const out: Record<string, string> = {}
  for (const k of keep) {
    const v = process.env[k]
    if (v !== undefined) out[k] = v
  }
  out["PATH"] ??= "/usr/local/bin:/usr/bin:/bin"
  return out
}

export const runClaude = (o: RunClaudeOptions): Promise<ClaudeRun> => {
  const cwd = o.cwd ?? mkdtempSync(join(tmpdir(), "agentrun-claude-cwd-"))
  const home = o.home ?? mkdtempSync(join(tmpdir(), "agentrun-claude-home-"))
  const env = { ...baseEnv(), ...offlineClaudeEnv(o.url, home), ...(o.env ?? {}) }
  const claudeArgs = [...baseArgs, ...(o.flags ?? [])]
  const [cmd, args] = o.ulimitVKb === undefined
    ? [claudeBinary, claudeArgs]
    : ["bash", ["-c", `ulimit -v ${o.ulimitVKb}; exec "$0" "$@"`, claudeBinary, ...claudeArgs]]
  const argv = [cmd, ...args]
  const started = Date.now()
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    let interruptSentAtMs: number | undefined
    let timedOut = false
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    child.stdin.on("error", () => {})
    if (o.prompt === null) child.stdin.end()
    else child.stdin.end(o.prompt)

    const timers: Array<NodeJS.Timeout> = []
    timers.push(setTimeout(() => {
      timedOut = true
      child.kill("SIGKILL")
    }, o.timeoutMs ?? 60_000))
    const intr = o.interrupt
    if (intr !== undefined) {
      const send = () => {
        if (interruptSentAtMs !== undefined || child.exitCode !== null) return
        interruptSentAtMs = Date.now() - started
        child.kill(intr.signal)
      }
      if (intr.afterMs !== undefined) timers.push(setTimeout(send, intr.afterMs))
      if (intr.when !== undefined) {
        const when = intr.when
        let fired = false
        const poll = setInterval(() => {
          if (fired) return
          const lines = stdout.split("\n").filter((l) => l.length > 0)
          if (when({ stdoutLines: lines, elapsedMs: Date.now() - started })) {
            fired = true
            clearInterval(poll)
            timers.push(setTimeout(send, intr.delayMs ?? 0))
          }
        }, 50)
        timers.push(poll)
      }
    }
    child.on("error", reject)
    child.on("close", (code, signal) => {
      for (const t of timers) clearTimeout(t)
      const events: Array<Record<string, unknown>> = []
      for (const line of stdout.split("\n")) {
        if (line.trim().length === 0) continue
        try {
          events.push(JSON.parse(line) as Record<string, unknown>)
        } catch {
          // not JSON
        }
      }
      resolvePromise({
        argv,
        stdout,
        stderr,
        events,
        exitCode: code,
        signal,
        durationMs: Date.now() - started,
        cwd,
        ...(interruptSentAtMs !== undefined ? { interruptSentAtMs } : {}),
        timedOut
      })
    })
  })
}

/** The last `result` event, if any. */
export const resultOf = (run: ClaudeRun): Record<string, unknown> | undefined =>
  [...run.events].reverse().find((e) => e["type"] === "result")
