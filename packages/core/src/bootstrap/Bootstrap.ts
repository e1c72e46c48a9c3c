/**
 * The Bootstrap service: makes an agent runtime present (`claude-cli`, `python-agent-sdk`), or
 * says precisely why it cannot, without ever turning an installer killed by a signal into a retry
 * storm. See issue 5 and the codes in `codes.ts`.
 *
 * Per attempt: the runtime's recipe (ClaudeRecipe.ts, PythonSdkRecipe.ts: the no-op probes, then
 * what to build) → for a build, the build guard (BuildGuard.ts: the cooldown unless forced → the
 * build lock (sentinel) → the build with a heartbeat every 30 s) → a telemetry record.
 * `doctor` is Doctor.ts; the report and option types are BootstrapModel.ts.
 *
 * @module
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { AgentrunPaths } from "../paths/AgentrunPaths.ts"
import {
  type AttemptOptions,
  type BootstrapReport,
  type BootstrapUnavailable,
  type ClaudeResolution,
  type DoctorReport,
  type Draft,
  type EnsureOptions,
  lockWatch,
  type ManagedDirs,
  managedDirs,
  unavailable
} from "./BootstrapModel.ts"
import { BootstrapSettings, type BootstrapSettingsShape } from "./BootstrapSettings.ts"
import { BootstrapStore, type TelemetryRecord } from "./BootstrapStore.ts"
import { makeBuildGuard } from "./BuildGuard.ts"
import { claudeRecipe } from "./ClaudeRecipe.ts"
import { OutcomeCodes, PhaseCodes, presentOutcomes, type Runtime } from "./codes.ts"
import { makeDoctor } from "./Doctor.ts"
import { Uncategorized } from "./errors.ts"
import { InstallerProcess } from "./InstallerProcess.ts"
import { pythonSdkRecipe } from "./PythonSdkRecipe.ts"
import type { Recipe } from "./Recipe.ts"
import { makeRecipeTools } from "./RecipeTools.ts"

export * from "./BootstrapModel.ts"

/** The Bootstrap service; see the module docs. */
export class Bootstrap extends Context.Service<Bootstrap, {
  /** One attempt: never fails; the report says what happened. Appends a telemetry record. */
  attempt(runtime: Runtime, options?: AttemptOptions): Effect.Effect<BootstrapReport>
  /**
   * Makes the runtime present or fails with {@link BootstrapUnavailable}. While another process
   * builds (SkipSentinel) it watches that process's lock for up to `lockWait`, and attempts
   * again once the lock is gone (usually NoopManaged).
   */
  ensure(runtime: Runtime, options?: EnsureOptions): Effect.Effect<BootstrapReport, BootstrapUnavailable>
  /**
   * The `claude` to run: `claudePath` if given (returned as is, never probed or bootstrapped: a
   * missing file is the caller's SpawnFailed); else `ensure("claude-cli")` (settings' configured
   * path → `claude` on PATH with a supported `--version` → managed install → build).
   */
  resolveClaude(options?: EnsureOptions & { readonly claudePath?: string }): Effect.Effect<ClaudeResolution, BootstrapUnavailable>
  /** Only the no-op probes (no cooldown, lock, build or telemetry): the present runtime, or null. */
  probe(runtime: Runtime): Effect.Effect<BootstrapReport | null>
  /** Everything `agentrun doctor` shows. */
  readonly doctor: Effect.Effect<DoctorReport>
  /** The managed install locations. */
  readonly managed: ManagedDirs
}>()("agentrun/bootstrap/Bootstrap") {
  /** The real service; needs InstallerProcess, BootstrapStore and AgentrunPaths (settings: optional). */
  static readonly layer = Layer.effect(
    Bootstrap,
    Effect.gen(function*() {
      const installer = yield* InstallerProcess
      const store = yield* BootstrapStore
      const paths = yield* AgentrunPaths
      const settings = yield* BootstrapSettings
      return makeBootstrap(installer, store, managedDirs(paths.dataDir), settings)
    })
  )

  /** Bootstrap over the real installer and files, rooted at `root` (state and data under it). */
  static readonly layerAt = (root: string) =>
    Bootstrap.layer.pipe(
      Layer.provide(BootstrapStore.layer),
      Layer.provide(Layer.mergeAll(InstallerProcess.layer, AgentrunPaths.layerTest(root)))
    )

  /** The production wiring: real installer, files under the XDG dirs from the environment. */
  static readonly layerLive = Bootstrap.layer.pipe(
    Layer.provide(BootstrapStore.layer),
    Layer.provide(Layer.mergeAll(InstallerProcess.layer, AgentrunPaths.layer))
  )
}

/** Builds the service from its dependencies (used by the layers; exported for tests). */
export const makeBootstrap = (
  installer: InstallerProcess["Service"],
  store: BootstrapStore["Service"],
  managed: ManagedDirs,
  settings: BootstrapSettingsShape
): Bootstrap["Service"] => {
  const tools = makeRecipeTools(installer, settings)
  const redactor = tools.redactor
  const staleAfterMs = Duration.toMillis(settings.staleAfter)
  const guard = makeBuildGuard(store, settings)
  const claude = claudeRecipe(tools, managed)
  const python = pythonSdkRecipe(tools, managed)
  const recipes: Record<Runtime, Recipe> = { "claude-cli": claude, "python-agent-sdk": python }

  const attemptDraft = (runtime: Runtime, force: boolean, announce: (detail: string) => Effect.Effect<void>): Effect.Effect<Draft> =>
    Effect.flatMap(recipes[runtime].plan, (plan) =>
      plan._tag === "Done"
        ? Effect.succeed(plan.draft)
        : guard.guarded(runtime, force, plan.build, plan.extra, Effect.suspend(() => announce(`installing ${plan.installing}`))))

  const attempt = (runtime: Runtime, options?: AttemptOptions): Effect.Effect<BootstrapReport> =>
    Effect.gen(function*() {
      const started = yield* Clock.currentTimeMillis
      const draft = yield* attemptDraft(runtime, options?.force ?? false, options?.onProgress ?? (() => Effect.void)).pipe(
        Effect.catchDefect((defect) =>
          Effect.succeed(guard.failedDraft(new Uncategorized({
            message: `agentrun failed unexpectedly while bootstrapping ${runtime}: ${redactor().redact(String(defect))}`,
            phase: "main",
            command: "",
            exitCode: null,
            signal: null,
            stderrTail: "",
            retryable: false,
            lastStderrLine: redactor().redact(String(defect)),
            stderrHash: ""
          })))
        )
      )
      const ended = yield* Clock.currentTimeMillis
      const durationMs = Math.max(0, ended - started)
      const error = draft.error
      const telemetry: TelemetryRecord = {
        atMs: ended,
        runtime,
        outcome: draft.outcome,
        outcomeCode: OutcomeCodes[draft.outcome],
        durationMs,
        phase: draft.phase === null ? null : PhaseCodes[draft.phase],
        errorCode: error?.code ?? null,
        returnCode: error === null ? null : error._tag === "SignalKilled" ? error.returnCode : error.exitCode,
        interpreterVersion: draft.interpreterVersion,
        stderrHash: error?._tag === "Uncategorized" && error.stderrHash !== "" ? error.stderrHash : null
      }
      yield* store.appendTelemetry(telemetry).pipe(
        Effect.catch((e) => Effect.logWarning(`bootstrap telemetry not written: ${e.message}`))
      )
      return {
        ...draft,
        runtime,
        outcomeCode: OutcomeCodes[draft.outcome],
        present: presentOutcomes.includes(draft.outcome),
        phaseCode: draft.phase === null ? null : PhaseCodes[draft.phase],
        durationMs,
        telemetry
      }
    })

  /**
   * One look at another process's build lock: true once the next attempt would take it (gone,
   * holder dead, heartbeat stale: what `acquire` takes over).
   */
  const lockFree = (runtime: Runtime): Effect.Effect<boolean> =>
    Effect.gen(function*() {
      const sentinel = yield* store.readSentinel(runtime)
      if (sentinel === null || !(yield* store.isAlive(sentinel))) return true
      return (yield* Clock.currentTimeMillis) - sentinel.heartbeatMs > staleAfterMs
    })

  const ensure = (runtime: Runtime, options?: EnsureOptions): Effect.Effect<BootstrapReport, BootstrapUnavailable> =>
    Effect.gen(function*() {
      const waitMs = options?.lockWait === undefined ? 0 : Duration.toMillis(options.lockWait)
      const started = yield* Clock.currentTimeMillis
      while (true) {
        const report = yield* attempt(runtime, options)
        if (report.present || report.outcome !== "SkipSentinel") {
          return report.present ? report : yield* unavailable(report)
        }
        if (report.holder !== null && options?.onProgress !== undefined) {
          yield* options.onProgress(`waiting for another agentrun (pid ${report.holder.pid}) installing ${runtime}`)
        }
        const left = waitMs - ((yield* Clock.currentTimeMillis) - started)
        if (left <= 0) return yield* unavailable(report)
        // Another process builds: watch its lock (a file read a second) rather than attempt again
        // (each attempt probes and appends a telemetry record), until it is free or time is up.
        const free = yield* Effect.repeat(lockFree(runtime), {
          schedule: lockWatch(left),
          until: (isFree) => isFree
        })
        if (!free) return yield* unavailable(report)
      }
    })

  const resolveClaude = (options?: EnsureOptions & { readonly claudePath?: string }) =>
    Effect.gen(function*() {
      if (options?.claudePath !== undefined) {
        return { path: options.claudePath, source: "configured" as const, version: null, report: null }
      }
      const report = yield* ensure("claude-cli", options)
      const source = report.outcome === "Built" ? "built" as const : report.outcome === "NoopManaged" ? "managed" as const : "system" as const
      return { path: report.executable ?? managed.claudeBin, source, version: report.version, report }
    })

  const probe = (runtime: Runtime): Effect.Effect<BootstrapReport | null> =>
    Effect.gen(function*() {
      const started = yield* Clock.currentTimeMillis
      const draft = yield* recipes[runtime].probe
      return draft === null ? null : yield* probeReport(runtime, draft, started)
    })

  /** A present runtime found by a probe, as a report (`telemetry`: the record it would make; none is written). */
  const probeReport = (runtime: Runtime, draft: Draft, started: number): Effect.Effect<BootstrapReport> =>
    Effect.map(Clock.currentTimeMillis, (ended) => {
      const durationMs = Math.max(0, ended - started)
      return {
        ...draft,
        runtime,
        outcomeCode: OutcomeCodes[draft.outcome],
        present: true,
        phaseCode: null,
        durationMs,
        telemetry: {
          atMs: ended,
          runtime,
          outcome: draft.outcome,
          outcomeCode: OutcomeCodes[draft.outcome],
          durationMs,
          phase: null,
          errorCode: null,
          returnCode: null,
          interpreterVersion: draft.interpreterVersion,
          stderrHash: null
        }
      }
    })

  const doctor = makeDoctor({ tools, store, managed, claude, python, probeReport })

  return Bootstrap.of({ attempt, ensure, resolveClaude, probe, doctor, managed })
}
