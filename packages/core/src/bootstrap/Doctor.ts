/**
 * `agentrun doctor`'s report: which claude would run and why, Node, the Python interpreters and
 * the SDK, the managed installs, each runtime's build lock and cooldown, the last telemetry. Reads
 * only: it probes, never builds, locks or writes telemetry.
 *
 * @module
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs"
import type { BootstrapReport, DoctorReport, Draft, ManagedDirs } from "./BootstrapModel.ts"
import { succeeded } from "./BootstrapModel.ts"
import type { BootstrapStore } from "./BootstrapStore.ts"
import type { ClaudeRecipe } from "./ClaudeRecipe.ts"
import { type Runtime, Runtimes } from "./codes.ts"
import type { PythonSdkRecipe } from "./PythonSdkRecipe.ts"
import type { RecipeTools } from "./RecipeTools.ts"

/** What the doctor reads. */
export interface DoctorDeps {
  readonly tools: RecipeTools
  readonly store: BootstrapStore["Service"]
  readonly managed: ManagedDirs
  readonly claude: ClaudeRecipe
  readonly python: PythonSdkRecipe
  /** A present runtime's draft as a report (what `probe` answers). */
  readonly probeReport: (runtime: Runtime, draft: Draft, startedMs: number) => Effect.Effect<BootstrapReport>
}

/** Builds the doctor's report effect. Never fails. */
export const makeDoctor = ({ claude, managed, probeReport, python, store, tools }: DoctorDeps): Effect.Effect<DoctorReport> => {
  const settings = tools.settings
  const cooldownMs = Duration.toMillis(settings.cooldown)
  return Effect.gen(function*() {
    const system = claude.findSystem()
    const systemVersion = system === null ? null : yield* claude.versionOf(system)
    const managedVersion = NodeFs.existsSync(managed.claudeBin) ? yield* claude.versionOf(managed.claudeBin) : null
    const found = claude.supported(systemVersion) && system !== null
      ? { path: system, source: settings.claudePath !== undefined ? "configured" as const : "system" as const, version: systemVersion }
      : claude.supported(managedVersion)
      ? { path: managed.claudeBin, source: "managed" as const, version: managedVersion }
      : { path: system, source: null, version: systemVersion }
    const nodeVersion = yield* tools.installer.run({ command: settings.nodeExecutable, args: ["--version"], env: tools.env, timeout: settings.probeTimeout }).pipe(
      Effect.map((run) => (succeeded(run) ? run.stdout.trim() : null)),
      Effect.catch(() => Effect.succeed(null))
    )
    const choice = yield* python.choose
    // The interpreter just chosen, probed for the SDK (not chosen again: each candidate runs --version).
    const sdkStarted = yield* Clock.currentTimeMillis
    const sdkDraft = yield* python.probeWith(choice)
    const sdk = sdkDraft === null ? null : yield* probeReport("python-agent-sdk", sdkDraft, sdkStarted)
    const now = yield* Clock.currentTimeMillis
    const locks = []
    for (const runtime of Runtimes) {
      const sentinel = yield* store.readSentinel(runtime)
      const cooldown = yield* store.readCooldown(runtime)
      const remaining = cooldown === null ? null : cooldown.atMs + cooldownMs - now
      locks.push({
        runtime,
        sentinel,
        alive: sentinel === null ? null : yield* store.isAlive(sentinel),
        heartbeatAgeMs: sentinel === null ? null : now - sentinel.heartbeatMs,
        cooldown,
        cooldownRemainingMs: remaining !== null && remaining > 0 ? remaining : null
      })
    }
    return {
      claude: { ...found, minimumVersion: settings.minimumClaudeVersion, pinnedVersion: settings.claudeVersion },
      node: { executable: settings.nodeExecutable, version: nodeVersion, minimumMajor: settings.minimumNodeMajor },
      python: { ...choice, sdk },
      managed: {
        ...managed,
        claudePresent: managedVersion !== null,
        venvPresent: NodeFs.existsSync(managed.venvPython),
        targetPresent: NodeFs.existsSync(managed.target)
      },
      locks,
      lastTelemetry: yield* store.lastTelemetry()
    }
  })

}
