/**
 * Bootstrap's test doubles, from `@agentrun/core/testing` (as `BootstrapTest`): a Bootstrap with
 * scripted answers, an in-memory build-lock/cooldown/telemetry store, scripted installer runs.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Bootstrap, type BootstrapReport, managedDirs, unavailable } from "./Bootstrap.ts"
import { type AcquireResult, BootstrapStore, type CooldownRecord, newRecord, type SentinelRecord, type TelemetryRecord } from "./BootstrapStore.ts"
import type { Runtime } from "./codes.ts"
import { fromNodeExit } from "../domain/ExitStatus.ts"
import { InstallerProcess, type InstallerRun, type InstallerSpawnError, type InstallerSpec } from "./InstallerProcess.ts"

/** Bootstrap with a fixed answer for every runtime, for tests of callers (`run`, the CLI). */
export const layer = (answer: (runtime: Runtime) => BootstrapReport): Layer.Layer<Bootstrap> =>
  Layer.succeed(
    Bootstrap,
    Bootstrap.of({
      attempt: (runtime) => Effect.succeed(answer(runtime)),
      ensure: (runtime) => {
        const report = answer(runtime)
        return report.present ? Effect.succeed(report) : Effect.fail(unavailable(report))
      },
      resolveClaude: (options) => {
        if (options?.claudePath !== undefined) {
          return Effect.succeed({ path: options.claudePath, source: "configured" as const, version: null, report: null })
        }
        const report = answer("claude-cli")
        return report.present && report.executable !== null
          ? Effect.succeed({ path: report.executable, source: "system" as const, version: report.version, report })
          : Effect.fail(unavailable(report))
      },
      probe: (runtime) => Effect.succeed(answer(runtime)).pipe(Effect.map((r) => (r.present ? r : null))),
      doctor: Effect.die("BootstrapTest.layer: doctor is not scripted"),
      managed: managedDirs("/nonexistent/agentrun")
    })
  )

/** An in-memory store with the same semantics (for tests of Bootstrap's decisions). */
export const makeMemoryStore = (alive: (record: SentinelRecord) => boolean): BootstrapStore["Service"] => {
  const sentinels = new Map<Runtime, SentinelRecord>()
  const cooldowns = new Map<Runtime, CooldownRecord>()
  const telemetry: Array<TelemetryRecord> = []
  return BootstrapStore.of({
    dir: "<memory>",
    acquire: (runtime, { nowMs, staleAfterMs }) =>
      Effect.sync((): AcquireResult => {
        const holder = sentinels.get(runtime)
        if (holder !== undefined && alive(holder) && nowMs - holder.heartbeatMs <= staleAfterMs) {
          return { _tag: "Held", holder, heartbeatAgeMs: nowMs - holder.heartbeatMs }
        }
        const mine = newRecord(runtime, nowMs)
        sentinels.set(runtime, mine)
        return { _tag: "Acquired", token: mine.token, takenOver: holder ?? null }
      }),
    heartbeat: (runtime, token, nowMs) =>
      Effect.sync(() => {
        const current = sentinels.get(runtime)
        if (current?.token === token) sentinels.set(runtime, { ...current, heartbeatMs: nowMs })
      }),
    release: (runtime, token) =>
      Effect.sync(() => {
        if (sentinels.get(runtime)?.token === token) sentinels.delete(runtime)
      }),
    readSentinel: (runtime) => Effect.sync(() => sentinels.get(runtime) ?? null),
    isAlive: (record) => Effect.sync(() => alive(record)),
    readCooldown: (runtime) => Effect.sync(() => cooldowns.get(runtime) ?? null),
    writeCooldown: (record) => Effect.sync(() => void cooldowns.set(record.runtime, record)),
    clearCooldown: (runtime) => Effect.sync(() => void cooldowns.delete(runtime)),
    appendTelemetry: (record) => Effect.sync(() => void telemetry.push(record)),
    lastTelemetry: (runtime) =>
      Effect.sync(() => [...telemetry].reverse().find((r) => runtime === undefined || r.runtime === runtime) ?? null)
  })
}

/** The in-memory store as a layer; `alive` decides whether a holder lives (default: pid is this process). */
export const storeLayer = (alive: (record: SentinelRecord) => boolean = (r) => r.pid === process.pid): Layer.Layer<BootstrapStore> =>
  Layer.sync(BootstrapStore, () => makeMemoryStore(alive))

/** Scripted installer runs: `handler` answers each spec (it may count calls or fail). Use {@link scriptedRun} to build answers. */
export const installerLayer = (handler: (spec: InstallerSpec) => Effect.Effect<InstallerRun, InstallerSpawnError>): Layer.Layer<InstallerProcess> =>
  Layer.succeed(InstallerProcess, InstallerProcess.of({ run: handler }))

/** An {@link InstallerRun} for tests: exit code (or signal name), stdout, stderr. */
export const scriptedRun = (
  end: { readonly exitCode: number } | { readonly signal: string },
  stdout = "",
  stderr = ""
): InstallerRun => ({
  status: "signal" in end ? fromNodeExit(null, end.signal) : fromNodeExit(end.exitCode, null),
  stdout,
  stderr,
  sentSignal: null,
  timedOut: false,
  durationMs: 1
})
