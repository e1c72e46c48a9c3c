/**
 * The app layer's wiring: the state directory override (the run store's; the bootstrap's locks
 * stay shared), and another backend registered through the `backends` option (a test Kubernetes
 * backend: no cluster, no process spawned).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { AgentrunApp, appDirs } from "../../src/app/AgentrunApp.ts"
import { Backends } from "../../src/backend/Backends.ts"
import { Bootstrap } from "../../src/bootstrap/Bootstrap.ts"
import type { RunSpec } from "../../src/domain/Run.ts"
import { kubernetesRunOptions } from "../../src/k8s/KubernetesRunOptions.ts"
import { AgentrunPaths } from "../../src/paths/AgentrunPaths.ts"
import { RunCatalog } from "../../src/runs/RunCatalog.ts"
import { RunStore } from "../../src/store/RunStore.ts"
import { TestKubernetesBackend } from "../support/TestKubernetesBackend.ts"

const spec: RunSpec = {
  prompt: "hi",
  cwd: "/work",
  claudePath: "claude",
  claudeArgs: [],
  model: null,
  maxTurns: null,
  timeoutMs: null,
  env: {},
  watchdog: null,
  backend: "k8s",
  kubernetes: kubernetesRunOptions({ namespace: "agents", image: "agent:1" })
}

describe("AgentrunApp.layer", () => {
  it("paths: XDG dirs from the given env, the state directory override applied", () => {
    const dirs = appDirs({ env: { XDG_STATE_HOME: "/x/state", XDG_DATA_HOME: "/x/data" } })
    assert.deepStrictEqual(dirs, { stateDir: "/x/state/agentrun", dataDir: "/x/data/agentrun", runsDir: "/x/state/agentrun/runs" })
    assert.deepStrictEqual(appDirs({ env: { XDG_DATA_HOME: "/x/data" }, stateDir: "/s" }), { stateDir: "/s", dataDir: "/x/data/agentrun", runsDir: "/s/runs" })
  })

  const root = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "agentrun-app-"))
  const stateDir = NodePath.join(root, "state")

  it.effect("the backends option registers another backend over the local one; its runs are in the app's store", () =>
    Effect.gen(function*() {
      const backends = yield* Backends
      assert.deepStrictEqual(backends.backends.map((b) => b.placement), ["Local", "Kubernetes"])
      assert.strictEqual((yield* AgentrunPaths).runsDir, NodePath.join(stateDir, "runs"))
      const handle = yield* backends.launch(spec)
      // The test backend wrote its record through the app's file store, where the catalog finds it.
      const record = yield* (yield* RunCatalog).get(handle.runId)
      assert.strictEqual(record.placement._tag, "Kubernetes")
      assert.isTrue(NodeFs.existsSync(NodePath.join(stateDir, "runs", handle.runId, "record.json")))
      assert.deepStrictEqual(yield* (yield* RunStore).listRunIds, [handle.runId])
    }).pipe(
      Effect.provide(AgentrunApp.layer({
        stateDir,
        env: { XDG_STATE_HOME: NodePath.join(root, "xdg-state"), XDG_DATA_HOME: NodePath.join(root, "xdg-data") },
        backends: Backends.register(TestKubernetesBackend, TestKubernetesBackend.layer)
      }))
    ))

  const shared = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "agentrun-app-shared-"))

  it.effect("the bootstrap's locks and cooldowns stay in the shared XDG state dir, whatever the run store's stateDir", () =>
    Effect.gen(function*() {
      const bootstrapDir = NodePath.join(shared, "xdg-state", "agentrun", "bootstrap")
      NodeFs.mkdirSync(bootstrapDir, { recursive: true })
      // What another agentrun (its own state dir) left: a cooldown after a killed install.
      NodeFs.writeFileSync(
        NodePath.join(bootstrapDir, "claude-cli.cooldown.json"),
        JSON.stringify({ runtime: "claude-cli", atMs: 1, signal: "SIGKILL", returnCode: 137, phase: "install" })
      )
      const bootstrap = yield* Bootstrap
      assert.strictEqual(bootstrap.managed.claudePrefix, NodePath.join(shared, "xdg-data", "agentrun", "claude-cli"))
      const doctor = yield* bootstrap.doctor
      assert.strictEqual(doctor.locks.find((l) => l.runtime === "claude-cli")?.cooldown?.signal, "SIGKILL")
      assert.strictEqual((yield* AgentrunPaths).runsDir, NodePath.join(shared, "own-state", "runs"))
    }).pipe(
      Effect.provide(AgentrunApp.layer({
        stateDir: NodePath.join(shared, "own-state"),
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", XDG_STATE_HOME: NodePath.join(shared, "xdg-state"), XDG_DATA_HOME: NodePath.join(shared, "xdg-data") }
      }))
    ))
})
