/**
 * The build guard: the one wrapper every recipe's build runs under. The cooldown after an
 * installer was killed by a signal (no retry storm while memory is short), the build lock (one
 * builder per runtime across processes, taken over when its holder died or its heartbeat went
 * stale), the heartbeat while building, and the cooldown bookkeeping after.
 *
 * @module
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { BootstrapSettingsShape } from "./BootstrapSettings.ts"
import type { BootstrapStore, BootstrapStoreError } from "./BootstrapStore.ts"
import { type Draft, emptyDraft, isoOf } from "./BootstrapModel.ts"
import type { Runtime } from "./codes.ts"
import { DiskFull, type InstallerError, PermDenied, Uncategorized } from "./errors.ts"

/** The build guard of one Bootstrap service. */
export interface BuildGuard {
  /**
   * Cooldown check (unless `force`) → lock → `build` with a heartbeat → cooldown bookkeeping.
   * Never fails: SkipCooldown, SkipSentinel, BuildFailed (with the classified error) or the build's draft.
   */
  readonly guarded: (
    runtime: Runtime,
    force: boolean,
    build: Effect.Effect<Draft, InstallerError>,
    extra: Partial<Draft>,
    announce: Effect.Effect<void>
  ) => Effect.Effect<Draft>
  /** A BuildFailed draft for `error`. */
  readonly failedDraft: (error: InstallerError, extra?: Partial<Draft>) => Draft
}

/** A store failure as the installer error it means for the user (permissions, disk, else uncategorized). */
const storeFailure = (error: BootstrapStoreError): InstallerError => {
  const base = { phase: "pre" as const, command: "", exitCode: null, signal: null, stderrTail: "", retryable: false }
  if (error.errno === "EACCES" || error.errno === "EPERM") {
    return new PermDenied({ ...base, message: `${error.message}; check permissions of the agentrun state directory` })
  }
  if (error.errno === "ENOSPC") return new DiskFull({ ...base, message: `${error.message}; free disk space` })
  return new Uncategorized({ ...base, message: error.message, lastStderrLine: "", stderrHash: "" })
}

/** Builds the guard over the store and the settings' cooldown, staleness and heartbeat. */
export const makeBuildGuard = (store: BootstrapStore["Service"], settings: BootstrapSettingsShape): BuildGuard => {
  const cooldownMs = Duration.toMillis(settings.cooldown)
  const staleAfterMs = Duration.toMillis(settings.staleAfter)

  const activeCooldown = (runtime: Runtime, force: boolean) =>
    Effect.gen(function*() {
      if (force || settings.force) return null
      const record = yield* store.readCooldown(runtime)
      if (record === null) return null
      const now = yield* Clock.currentTimeMillis
      const remaining = record.atMs + cooldownMs - now
      return remaining > 0 ? { record, remaining, until: record.atMs + cooldownMs } : null
    })

  const heartbeatLoop = (runtime: Runtime, token: string) =>
    Clock.currentTimeMillis.pipe(
      Effect.flatMap((now) => store.heartbeat(runtime, token, now)),
      Effect.catch(() => Effect.void),
      Effect.repeat(Schedule.spaced(settings.heartbeatInterval))
    )

  const failedDraft = (error: InstallerError, extra: Partial<Draft> = {}): Draft => ({
    ...emptyDraft,
    ...extra,
    outcome: "BuildFailed",
    phase: error.phase,
    error,
    message: extra.message ?? error.message
  })

  /** Cooldown check → lock → build → cooldown bookkeeping. */
  const guardedBuild = (
    runtime: Runtime,
    force: boolean,
    build: Effect.Effect<Draft, InstallerError>,
    extra: Partial<Draft>,
    announce: Effect.Effect<void>
  ): Effect.Effect<Draft> =>
    Effect.gen(function*() {
      const cooling = yield* activeCooldown(runtime, force)
      if (cooling !== null) {
        return {
          ...emptyDraft,
          ...extra,
          outcome: "SkipCooldown",
          retryAfterMs: cooling.remaining,
          retryAt: isoOf(cooling.until),
          message: `not building ${runtime}: the installer was killed by ${cooling.record.signal} at ${isoOf(cooling.record.atMs)} (${cooling.record.phase} phase). Free memory; retry after ${isoOf(cooling.until)} or use --force (AGENTRUN_BOOTSTRAP_FORCE=1)`
        } satisfies Draft
      }
      const now = yield* Clock.currentTimeMillis
      const lock = yield* Effect.result(store.acquire(runtime, { nowMs: now, staleAfterMs }))
      if (lock._tag === "Failure") return failedDraft(storeFailure(lock.failure), extra)
      if (lock.success._tag === "Held") {
        const holder = lock.success.holder
        return {
          ...emptyDraft,
          ...extra,
          outcome: "SkipSentinel",
          holder,
          message: `another agentrun (pid ${holder.pid}) is installing ${runtime} (heartbeat ${Math.round(lock.success.heartbeatAgeMs / 1000)} s ago); retry when it finishes`
        } satisfies Draft
      }
      const token = lock.success.token
      yield* announce
      const result = yield* Effect.scoped(Effect.gen(function*() {
        yield* Effect.addFinalizer(() => store.release(runtime, token))
        yield* Effect.forkScoped(heartbeatLoop(runtime, token))
        return yield* Effect.result(build)
      }))
      if (result._tag === "Success") {
        yield* store.clearCooldown(runtime)
        return result.success
      }
      const error = result.failure
      if (error._tag === "SignalKilled") {
        const at = yield* Clock.currentTimeMillis
        const until = at + cooldownMs
        yield* store.writeCooldown({ runtime, atMs: at, signal: error.signalName, returnCode: error.returnCode, phase: error.phase }).pipe(
          Effect.catch(() => Effect.void)
        )
        return failedDraft(error, {
          ...extra,
          retryAt: isoOf(until),
          message: `${error.message}; retry after ${isoOf(until)} or use --force`
        })
      }
      return failedDraft(error, extra)
    })

  return { guarded: guardedBuild, failedDraft }
}
