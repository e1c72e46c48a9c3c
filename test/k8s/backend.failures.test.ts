/**
 * Every pod failure named, against the fake cluster with its faults: OOMKilled, an image that
 * cannot be pulled, no node, eviction, the Job deleted by someone else. The real claude runs in
 * the Pod where there is one (the `hang` scenario keeps it waiting on the Messages API until the
 * fault strikes). Heavier: each test runs its own fake cluster and claude.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import { cluster, k8sSpec, KubernetesBackend, podOf, recordOf, until, withBackend } from "./backendHarness.ts"

/** Launches a run that waits on the (hanging) Messages API, and gives its Pod's name once claude's request is in flight. */
const launchHanging = Effect.fn(function*(k8s: Parameters<typeof k8sSpec>[1], anthropic: Parameters<typeof k8sSpec>[0]) {
  const backend = yield* KubernetesBackend
  const handle = yield* backend.launch(k8sSpec(anthropic, k8s))
  const jobName = `agentrun-${handle.runId}`
  const before = anthropic.messageRequests().length
  yield* until(k8s, "claude's request to the Messages API", () => anthropic.messageRequests().length > before, 40_000)
  const pod = podOf(k8s, jobName)!
  return { handle, jobName, podName: pod.metadata.name }
})

describe("Kubernetes backend: pod failures named from the API's fields", () => {
  it.live("OOMKilled → OutOfMemory, with the node's OOMKilling event", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.hang)
      yield* Effect.gen(function*() {
        const { handle, podName } = yield* launchHanging(k8s, anthropic)
        k8s.faults.oomKill(k8s.namespace, podName)
        const { outcome } = yield* handle.result
        assert.strictEqual(outcome._tag, "OutOfMemory", JSON.stringify(outcome))
        if (outcome._tag !== "OutOfMemory") return
        assert.include(outcome.message, "2Gi")
        assert.include(outcome.message, "Memory cgroup out of memory")
        assert.strictEqual(outcome.evidence.pod?.termination.reason, "OOMKilled")
        assert.strictEqual((yield* recordOf(handle.runId)).status, "failed")
      }).pipe(Effect.provide(withBackend(k8s)))
    }).pipe(Effect.scoped), 90_000)

  it.live("an image that cannot be pulled → ImagePullFailed after the pull timeout, and the Job is deleted", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.success)
      yield* Effect.gen(function*() {
        const backend = yield* KubernetesBackend
        const handle = yield* backend.launch(k8sSpec(anthropic, k8s, { image: "registry.example/missing:1" }))
        const { outcome } = yield* handle.result
        assert.strictEqual(outcome._tag, "ImagePullFailed", JSON.stringify(outcome))
        if (outcome._tag !== "ImagePullFailed") return
        assert.include(["ErrImagePull", "ImagePullBackOff"], outcome.evidence.reason)
        assert.include(outcome.message, "registry.example/missing:1")
        assert.include(outcome.evidence.eventMessage ?? "", "pull access denied")
        yield* until(k8s, "the Job to be deleted", () => k8s.get("jobs", k8s.namespace, `agentrun-${handle.runId}`) === undefined, 20_000)
      }).pipe(Effect.provide(withBackend(k8s)))
    }).pipe(Effect.scoped), 60_000)

  it.live("no node for the Pod → PodUnschedulable with the scheduler's message", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.success)
      k8s.faults.unschedulable("0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available.")
      yield* Effect.gen(function*() {
        const backend = yield* KubernetesBackend
        const handle = yield* backend.launch(k8sSpec(anthropic, k8s))
        const { outcome } = yield* handle.result
        assert.strictEqual(outcome._tag, "PodUnschedulable", JSON.stringify(outcome))
        assert.include(outcome.message, "Insufficient memory")
      }).pipe(Effect.provide(withBackend(k8s)))
    }).pipe(Effect.scoped), 60_000)

  it.live("an eviction through the Eviction API → PodEvicted (claude's interrupted result does not hide it)", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.hang)
      yield* Effect.gen(function*() {
        const { handle, podName } = yield* launchHanging(k8s, anthropic)
        k8s.faults.evict(k8s.namespace, podName, "api")
        const { outcome } = yield* handle.result
        assert.strictEqual(outcome._tag, "PodEvicted", JSON.stringify(outcome))
        if (outcome._tag !== "PodEvicted") return
        assert.strictEqual(outcome.evidence.condition?.reason, "EvictionByEvictionAPI")
      }).pipe(Effect.provide(withBackend(k8s)))
    }).pipe(Effect.scoped), 90_000)

  it.live("the Job deleted by someone else → JobDeletedExternally with forensics", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.hang)
      yield* Effect.gen(function*() {
        const { handle, jobName } = yield* launchHanging(k8s, anthropic)
        k8s.faults.deleteJob(k8s.namespace, jobName)
        const { outcome } = yield* handle.result
        assert.strictEqual(outcome._tag, "JobDeletedExternally", JSON.stringify(outcome))
        if (outcome._tag !== "JobDeletedExternally") return
        assert.strictEqual(outcome.evidence.deleted, "Job")
        assert.strictEqual(outcome.evidence.seenVia, "watch-deleted")
        assert.isNotNull(outcome.evidence.msSinceRunning)
        assert.isTrue(outcome.evidence.transcript.outputLines > 0)
      }).pipe(Effect.provide(withBackend(k8s)))
    }).pipe(Effect.scoped), 90_000)
})
