/**
 * The Kubernetes backend end to end against the fake cluster: the real claude runs "in a pod"
 * (the fake kubelet runs the Job's entry script as a local process) against the fake Messages
 * API. Each test starts its own fake cluster and API; each is bounded by the fake's own timeouts
 * and vitest's. Heavier: every test runs the real claude once or more (a few seconds each).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { AgentrunApp } from "../../packages/core/src/app/AgentrunApp.ts"
import { Backends } from "../../packages/core/src/backend/Backends.ts"
import { RunCatalog } from "../../packages/core/src/runs/RunCatalog.ts"
import { cluster, k8sSpec, KubernetesBackend, quickLogFollow, quickSettings, recordOf, RunStore, withBackend } from "./backendHarness.ts"

describe("Kubernetes backend against the fake cluster (real claude in a pod)", () => {
  it.live("a successful run: Succeeded with cost and usage, the transcript stored, the record naming Job, Pod and node", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.success)
      yield* Effect.gen(function*() {
        const backend = yield* KubernetesBackend
        const store = yield* RunStore
        const handle = yield* backend.launch(k8sSpec(anthropic, k8s))
        const progress = yield* Effect.forkChild(Stream.runCollect(handle.progress))
        const { outcome, record, summary } = yield* handle.result
        assert.strictEqual(outcome._tag, "Succeeded", JSON.stringify(outcome))
        assert.strictEqual(record.status, "succeeded")
        assert.isTrue((summary.costUsd ?? 0) > 0)
        assert.isTrue((summary.usage?.output_tokens ?? 0) > 0)
        assert.strictEqual(summary.agentExitCode, 0)
        const stored = yield* recordOf(handle.runId)
        assert.strictEqual(stored.outcome?._tag, "Succeeded")
        const p = stored.placement
        assert.strictEqual(p._tag, "Kubernetes")
        if (p._tag !== "Kubernetes") return
        assert.strictEqual(p.jobName, `agentrun-${handle.runId}`)
        assert.isNotNull(p.jobUid)
        assert.isNotNull(p.podName)
        assert.strictEqual(p.nodeName, "fake-node")
        assert.isNotNull(p.logCursor)
        assert.strictEqual(stored.session?.sessionId, summary.sessionId)
        // The transcript: claude's stream-json, init to result, through the same ingest as local runs.
        const events = (yield* store.readEvents(handle.runId)).map((l) => JSON.parse(l) as { type: string })
        assert.strictEqual(events[0]?.type, "system")
        assert.strictEqual(events[events.length - 1]?.type, "result")
        // The prompt went only into the Secret, which the Job owns.
        const secret = k8s.get("secrets", k8s.namespace, `agentrun-${handle.runId}-prompt`)
        assert.strictEqual(secret?.metadata.ownerReferences?.[0]?.uid, p.jobUid)
        const job = k8s.get("jobs", k8s.namespace, p.jobName)
        assert.notInclude(JSON.stringify(job), "Say hello.")
        const tags = (yield* Fiber.join(progress)).map((e) => e._tag)
        assert.strictEqual(tags[0], "Started")
        assert.include(tags, "SessionStarted")
        assert.strictEqual(tags[tags.length - 1], "Ended")
      }).pipe(Effect.provide(withBackend(k8s)))
    }).pipe(Effect.scoped), 90_000)

  it.live("through the app: Backends.launch with `backend: \"k8s\"` runs the Job, the file store keeps the record, the catalog dispatches to the backend", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.success)
      const stateDir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "agentrun-k8s-app-"))
      const app = AgentrunApp.layer({
        stateDir,
        backends: KubernetesBackend.register({ kubeconfigPath: k8s.kubeconfigPath, context: null, namespace: null }, { settings: quickSettings, logFollow: quickLogFollow })
      })
      yield* Effect.gen(function*() {
        const handle = yield* (yield* Backends).launch(k8sSpec(anthropic, k8s))
        const { outcome } = yield* handle.result
        assert.strictEqual(outcome._tag, "Succeeded", JSON.stringify(outcome))
        const catalog = yield* RunCatalog
        const record = yield* catalog.get(handle.runId)
        assert.strictEqual(record.placement._tag, "Kubernetes")
        assert.strictEqual(record.status, "succeeded")
        // A finished run: its Job completed, no agent left to stop.
        assert.deepStrictEqual(yield* catalog.liveness(record), { _tag: "Orphaned", reason: "supervisor-gone", agentAlive: false })
      }).pipe(Effect.provide(app))
    }).pipe(Effect.scoped), 90_000)
})
