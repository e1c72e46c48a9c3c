/**
 * The backend registry: launch by `spec.backend`, BackendUnavailable for one not registered,
 * `Backends.register`, and the run catalog dispatching a Kubernetes record's liveness, recovery,
 * cancel, prune and reattach to the Kubernetes backend when one is registered (and `Unknown`,
 * never Interrupted, when none is).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { Backends } from "../../src/backend/Backends.ts"
import type { RunSpec } from "../../src/domain/Run.ts"
import { kubernetesRunOptions } from "../../src/k8s/KubernetesRunOptions.ts"
import { StopSequence } from "../../src/process/StopSequence.ts"
import { RunCatalog } from "../../src/runs/RunCatalog.ts"
import { RunStore } from "../../src/store/RunStore.ts"
import { MemoryRunStore, ProcessTableTest } from "../../src/testing.ts"
import { localRegistry } from "../support/LocalRegistry.ts"
import { sampleRecord } from "../store/conformance.ts"
import { kubernetes, KubernetesTest, TestKubernetesBackend } from "../support/TestKubernetesBackend.ts"

const base = Layer.mergeAll(MemoryRunStore.layer, StopSequence.layer.pipe(Layer.provideMerge(ProcessTableTest.layer)))

/** The catalog over the local backend alone. */
const localOnly = RunCatalog.layer.pipe(Layer.provideMerge(localRegistry), Layer.provideMerge(base))

/** The catalog over the local backend and the test Kubernetes backend (registered the documented way). */
const withKubernetes = RunCatalog.layer.pipe(
  Layer.provideMerge(Backends.register(TestKubernetesBackend, TestKubernetesBackend.layer).pipe(Layer.provide(localRegistry))),
  // The controls, from the same build of the test backend's layer (layers are memoized).
  Layer.provideMerge(TestKubernetesBackend.layer),
  Layer.provideMerge(base)
)

const spec: RunSpec = {
  prompt: "hi",
  cwd: "/work",
  claudePath: "claude",
  claudeArgs: [],
  model: null,
  maxTurns: null,
  timeoutMs: null,
  env: {},
  watchdog: null
}

describe("Backends", () => {
  it.effect("--backend k8s with no Kubernetes backend registered: BackendUnavailable, nothing recorded", () =>
    Effect.gen(function*() {
      const backends = yield* Backends
      assert.deepStrictEqual(backends.backends.map((b) => b.placement), ["Local"])
      assert.isTrue(Option.isNone(backends.forPlacement("Kubernetes")))
      const error = yield* Effect.flip(backends.launch({ ...spec, backend: "k8s", kubernetes: kubernetesRunOptions({ namespace: "agents", image: "agent:1" }) }))
      assert.strictEqual(error._tag, "BackendUnavailable")
      if (error._tag !== "BackendUnavailable") return
      assert.strictEqual(error.backend, "k8s")
      assert.isFalse(error.retryable)
      assert.deepStrictEqual(error.available, ["Local"])
      assert.include(error.message, "k8s backend is not available")
      assert.include(error.message, "no Kubernetes backend is registered")
      assert.deepStrictEqual(yield* (yield* RunStore).listRunIds, [])
    }).pipe(Effect.provide(localOnly)))

  it.effect("Backends.register adds the Kubernetes backend: a k8s spec launches there, a local one stays local", () =>
    Effect.gen(function*() {
      const backends = yield* Backends
      const { calls } = yield* KubernetesTest
      assert.deepStrictEqual(backends.backends.map((b) => b.placement), ["Local", "Kubernetes"])
      const k8sSpec: RunSpec = { ...spec, backend: "k8s", kubernetes: kubernetesRunOptions({ namespace: "agents", image: "agent:1" }) }
      const handle = yield* backends.launch(k8sSpec)
      assert.strictEqual(handle.runId, "20261203-120000-000-k8s001")
      assert.deepStrictEqual((yield* Ref.get(calls)).launched, [k8sSpec])
      const record = yield* (yield* RunStore).readRecord(handle.runId)
      assert.strictEqual(Option.getOrThrow(backends.forRecord(record)).placement, "Kubernetes")
      assert.strictEqual(Option.getOrThrow(backends.forRecord(sampleRecord("20261203-120000-000-aaaaaa"))).placement, "Local")
    }).pipe(Effect.provide(withKubernetes)))
})

describe("RunCatalog dispatch by placement", () => {
  it.effect("with a Kubernetes backend: liveness, cancel and reattach of a Kubernetes run go to it", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      const catalog = yield* RunCatalog
      const { calls } = yield* KubernetesTest
      const k = kubernetes("20261203-130000-000-aaaaaa")
      yield* store.writeRecord(k)
      assert.deepStrictEqual(yield* catalog.liveness(k), { _tag: "Supervised" })
      // Supervised: recovery leaves it running.
      assert.strictEqual((yield* catalog.recover(k)).status, "running")
      const asked = yield* catalog.cancel("aaaaaa", { by: "test" })
      assert.deepStrictEqual(asked, { _tag: "AskedSupervisor", runId: k.runId, supervisorPid: 4242 })
      const handle = yield* catalog.reattach("aaaaaa")
      assert.strictEqual(handle.runId, k.runId)
      const log = yield* Ref.get(calls)
      assert.deepStrictEqual(log.liveness, [k.runId, k.runId])
      assert.deepStrictEqual(log.cancelled, [{ runId: k.runId, options: { by: "test" } }])
      assert.deepStrictEqual(log.reattached, [k.runId])
      // The backend answered the cancel: no store request from the catalog itself.
      assert.isTrue(Option.isNone(yield* store.readCancelRequest(k.runId)))
    }).pipe(Effect.provide(withKubernetes)))

  it.effect("with a Kubernetes backend: its Orphaned is recovered as Interrupted (naming the Job), and pruned once its agent is gone", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      const catalog = yield* RunCatalog
      const { answer } = yield* KubernetesTest
      const k = kubernetes("20261203-130000-000-bbbbbb")
      yield* store.writeRecord(k)
      yield* Ref.set(answer, { _tag: "Orphaned", reason: "supervisor-gone", agentAlive: true })
      const recovered = yield* catalog.recover(k)
      assert.strictEqual(recovered.status, "interrupted")
      assert.strictEqual(recovered.outcome?._tag, "Interrupted")
      if (recovered.outcome?._tag !== "Interrupted") return
      assert.deepStrictEqual(recovered.outcome.evidence, { supervisorPid: 4242, agentPid: null, agentAlive: true, reason: "supervisor-gone" })
      assert.include(recovered.outcome.message, "Job agents/agentrun-bbbbbb is still running")
      // Its Job still runs: prune keeps the record (cancel needs it).
      assert.deepStrictEqual(yield* catalog.prune({ keep: 0 }), [])
      yield* Ref.set(answer, { _tag: "Orphaned", reason: "supervisor-gone", agentAlive: false })
      assert.deepStrictEqual(yield* catalog.prune({ keep: 0 }), [k.runId])
    }).pipe(Effect.provide(withKubernetes)))

  it.effect("without a Kubernetes backend: the same run is Unknown, never recovered or pruned; cancel is a store request; reattach is BackendUnavailable", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      const catalog = yield* RunCatalog
      const k = kubernetes("20261203-130000-000-cccccc")
      const interrupted = { ...kubernetes("20261203-120000-000-dddddd", "interrupted"), endedAt: "2026-12-03T12:00:01.000Z" }
      yield* store.writeRecord(k)
      yield* store.writeRecord(interrupted)
      assert.deepStrictEqual(yield* catalog.liveness(k), { _tag: "Unknown", reason: "no Kubernetes backend in this agentrun" })
      assert.strictEqual((yield* catalog.recover(k)).status, "running")
      assert.deepStrictEqual(yield* catalog.prune({ keep: 0 }), [])
      const asked = yield* catalog.cancel("cccccc")
      assert.deepStrictEqual(asked, { _tag: "AskedSupervisor", runId: k.runId, supervisorPid: null })
      const request = yield* store.readCancelRequest(k.runId)
      assert.include(Option.getOrThrow(request).by, "agentrun cancel (pid ")
      const error = yield* Effect.flip(catalog.reattach("cccccc"))
      assert.strictEqual(error._tag, "BackendUnavailable")
      if (error._tag !== "BackendUnavailable") return
      assert.strictEqual(error.backend, "Kubernetes")
      assert.include(error.message, `Run ${k.runId} cannot be followed here`)
    }).pipe(Effect.provide(localOnly)))
})
