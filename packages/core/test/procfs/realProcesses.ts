/**
 * Real processes for the procfs tests: each is spawned in its own session and process group
 * (`detached: true`, i.e. setsid, as agentrun spawns claude) and killed with its whole group by a
 * finalizer, whatever the test's outcome.
 *
 * @module
 */
import { Duration, Effect } from "effect"
import type { Scope } from "effect"
import * as NodeChildProcess from "node:child_process"
import * as NodeReadline from "node:readline"

/** A spawned session leader and the first lines it printed on stdout. */
export interface Spawned {
  readonly pid: number
  readonly lines: ReadonlyArray<string>
}

const killQuietly = (pid: number, signal: NodeJS.Signals) =>
  Effect.try({ try: () => process.kill(pid, signal), catch: (cause) => cause }).pipe(Effect.ignore)

/**
 * Spawns `bash -c script` as a session leader and waits (at most 10 s) for `lines` lines on its
 * stdout (print pids or "ready" from the script). A finalizer SIGKILLs the process group, the
 * leader, and any pid printed on those lines (a double-forked grandchild may have left the group
 * only if the script says so; this covers it).
 */
export const spawnSession = (
  script: string,
  lines: number,
  options: { readonly stdio?: "pipe-stdin" } = {}
): Effect.Effect<Spawned, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() =>
      NodeChildProcess.spawn("bash", ["-c", script], {
        detached: true,
        stdio: [options.stdio === "pipe-stdin" ? "pipe" : "ignore", "pipe", "ignore"]
      })
    ),
    (child) =>
      Effect.gen(function*() {
        const pid = child.pid
        if (pid !== undefined) {
          yield* killQuietly(-pid, "SIGKILL")
          yield* killQuietly(pid, "SIGKILL")
        }
        child.stdout?.destroy()
        child.stdin?.destroy()
      })
  ).pipe(
    Effect.flatMap((child) =>
      Effect.promise(() =>
        new Promise<Array<string>>((resolve) => {
          const got: Array<string> = []
          if (lines === 0 || child.stdout === null) return resolve(got)
          const rl = NodeReadline.createInterface({ input: child.stdout })
          rl.on("line", (line) => {
            got.push(line)
            if (got.length === lines) {
              rl.close()
              resolve(got)
            }
          })
          rl.on("close", () => resolve(got))
        })
      ).pipe(
        Effect.timeout(Duration.seconds(10)),
        Effect.orDie,
        Effect.tap((got) =>
          Effect.forEach(
            got.filter((l) => /^\d+$/.test(l)).map(Number),
            (pid) => Effect.addFinalizer(() => killQuietly(pid, "SIGKILL")),
            { discard: true }
          )
        ),
        Effect.map((got): Spawned => ({ pid: child.pid ?? -1, lines: got }))
      )
    )
  )

/**
 * Re-runs `effect` every 25 ms until `done` holds (at most `timeoutMs`, real time), and returns
 * the last value; the caller asserts on it. For tests under `it.live`.
 */
export const eventually = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  done: (a: A) => boolean,
  timeoutMs = 5_000
): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    let value = yield* effect
    while (!done(value) && Date.now() < deadline) {
      yield* Effect.sleep(Duration.millis(25))
      value = yield* effect
    }
    return value
  })
