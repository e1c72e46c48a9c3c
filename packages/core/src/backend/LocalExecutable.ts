/**
 * Which claude a local run executes: the spec's `--claude-path` as is, else what the bootstrap
 * finds or installs (a bounded wait on its lock). The run's deadline and a cancel apply while it
 * waits.
 *
 * @module
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type { Bootstrap } from "../bootstrap/Bootstrap.ts"
import type { RuntimeUnavailableFacts } from "../domain/Verdict.ts"
import { type LocalRun, publish, type StopRequest, untilDeadline } from "./LocalRun.ts"

/** What resolution gave: an executable, the bootstrap's failure, or a stop before there was an agent. */
export type Resolution =
  | { readonly _tag: "Executable"; readonly path: string }
  | { readonly _tag: "Unavailable"; readonly facts: RuntimeUnavailableFacts }
  | { readonly _tag: "Stopped"; readonly request: StopRequest }

/** Resolves the executable of `run` (see the module doc). */
export const resolveExecutable = (bootstrap: Bootstrap["Service"], run: LocalRun): Effect.Effect<Resolution> =>
  Effect.gen(function*() {
    if (run.spec.claudePath !== null) return { _tag: "Executable", path: run.spec.claudePath } as const
    // Said only when the bootstrap does more than find claude: it installs, or waits for an install.
    const onProgress = (detail: string) => publish(run, { _tag: "Preparing", detail: `${detail} (bootstrap)` })
    const first = yield* Effect.raceFirst(
      Effect.map(Effect.result(bootstrap.resolveClaude({ lockWait: "2 minutes", onProgress })), (r) => ({ _tag: "Resolved" as const, r })),
      Effect.raceFirst(untilDeadline(run), Deferred.await(run.stopRequest))
    )
    if (first._tag !== "Resolved") return { _tag: "Stopped", request: first } as const
    if (first.r._tag === "Success") return { _tag: "Executable", path: first.r.success.path } as const
    const e = first.r.failure
    return {
      _tag: "Unavailable",
      facts: {
        runtime: e.runtime,
        message: e.message,
        retryable: e.retryable,
        bootstrap: {
          outcome: e.outcome,
          outcomeCode: e.outcomeCode,
          phase: e.phase,
          errorKind: e.errorKind,
          errorCode: e.errorCode,
          retryAfterMs: e.retryAfterMs
        }
      }
    } as const
  })
