/**
 * Runs a small system tool (`ps`, `ss`) for the watchdog and returns its stdout: bounded in time
 * and output, SIGKILLed if the watchdog is interrupted first.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as NodeChildProcess from "node:child_process"

/**
 * `command args…`'s stdout; fails with a one-line reason (`"<label> failed: ENOENT"`) when it is
 * missing, exits non-zero or outlives `timeoutMs` (milliseconds). Output is capped at 16 MiB.
 */
export const execText = (command: string, args: ReadonlyArray<string>, timeoutMs: number, label: string): Effect.Effect<string, string> =>
  Effect.callback<string, string>((resume) => {
    const child = NodeChildProcess.execFile(command, [...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      if (error === null) resume(Effect.succeed(stdout))
      else resume(Effect.fail(`${label} failed: ${(error as NodeJS.ErrnoException).code ?? error.message}`))
    })
    return Effect.sync(() => child.kill("SIGKILL"))
  })
