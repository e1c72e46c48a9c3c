/**
 * `agentrun cancel` from another machine (issue #13): two Kubernetes backends in this process play
 * two machines (supervisor hostnames `machine-a` and `machine-b`) against one fake cluster, each
 * with its own run store holding the same record (a CI job cancelling what a laptop started: the
 * only thing both see is the cluster). Machine A launches and follows a run of the real claude;
 * machine B cancels it. The request reaches A through the Job's cancel annotation, never through
 * A's store, and A records `Cancelled` naming B, never `JobDeletedExternally`. The control: the
 * Job deleted by a kubectl-like client (client-node, no annotation) is still `JobDeletedExternally`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as k8sClient from "@kubernetes/client-node"
import { Context, Effect, Layer, Option } from "effect"
import type { RunRecord } from "../../packages/core/src/domain/Run.ts"
import type { RunOutcome } from "../../packages/core/src/domain/RunOutcome.ts"
import { CancelAnnotationKeys } from "../../packages/core/src/k8s/CancelAnnotation.ts"
import { MemoryRunStore } from "../../packages/core/src/testing.ts"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import type { FakeKubernetes } from "../support/fake-k8s/FakeKubernetes.ts"
import { backendLayer, cluster, k8sSpec, KubernetesBackend, RunStore, until } from "./backendHarness.ts"

/** One "machine": a backend whose supervisor is `hostname`, with its own in-memory run store. */
const machine = (k8s: FakeKubernetes, hostname: string) =>
  Effect.gen(function*() {
    const ctx = yield* Layer.build(backendLayer(k8s, undefined, { hostname, pid: process.pid }).pipe(Layer.provideMerge(MemoryRunStore.layer)))
    return { backend: Context.get(ctx, KubernetesBackend), store: Context.get(ctx, RunStore) }
  })

const placementOf = (record: RunRecord) => {
  if (record.placement._tag !== "Kubernetes") throw new Error(`not a Kubernetes run: ${record.placement._tag}`)
  return record.placement
}

const jobRequests = (k8s: FakeKubernetes, method: string, jobName: string) =>
  k8s.requests.filter((q) => q.method === method && q.path.startsWith(`/apis/batch/v1/namespaces/${k8s.namespace}/jobs/${jobName}`))

/** A's verdict is the cancel B asked for: by B, with claude's result (and cost) when it wrote one. */
const assertCancelledBy = (outcome: RunOutcome | NonNullable<RunRecord["outcome"]>, requester: string, transcript: ReadonlyArray<string>) => {
  assert.strictEqual(outcome._tag, "Cancelled", JSON.stringify(outcome))
  if (outcome._tag !== "Cancelled") return
  assert.strictEqual(outcome.evidence.by, "cancel-command")
  assert.strictEqual(outcome.evidence.requestedBy, requester)
  assert.include(outcome.message, requester)
  const wroteResult = transcript.some((l) => l.includes("\"type\":\"result\""))
  assert.strictEqual(outcome.evidence.result !== undefined, wroteResult, transcript.join("\n"))
  if (outcome.evidence.result?.costUsd != null) assert.include(outcome.message, "claude had spent $")
}

describe("Kubernetes backend: cancel from another machine", () => {
  it.live("B sees A's run supervised (A's fresh Lease): it only annotates the Job; A deletes it, reads the final logs and records Cancelled naming B", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.hang)
      const a = yield* machine(k8s, "machine-a")
      const b = yield* machine(k8s, "machine-b")
      const handle = yield* a.backend.launch(k8sSpec(anthropic, k8s, { agentId: "agent-x", taskId: "task-1" }))
      const jobName = `agentrun-${handle.runId}`
      yield* until(k8s, "claude's request", () => anthropic.messageRequests().length > 0, 40_000)
      // B's store has the record as A wrote it (supervisor machine-a), and nothing else of A's.
      const record = yield* a.store.readRecord(handle.runId)
      assert.strictEqual(placementOf(record).supervisor?.hostname, "machine-a")
      yield* b.store.writeRecord(record)
      assert.deepStrictEqual(yield* b.backend.liveness(record), { _tag: "Supervised" })

      // Without `patch` on jobs B cannot tell A; it refuses rather than delete A's Job unannounced.
      const removeDeny = k8s.faults.deny({ verb: "patch", resource: "jobs" })
      const refused = yield* Effect.flip(b.backend.cancel(record))
      removeDeny()
      assert.strictEqual(refused._tag, "RunOnAnotherHost")
      if (refused._tag === "RunOnAnotherHost") {
        assert.strictEqual(refused.hostname, "machine-a")
        assert.include(refused.message, "patch")
      }
      assert.strictEqual(jobRequests(k8s, "DELETE", jobName).length, 0)
      assert.isDefined(k8s.get("jobs", k8s.namespace, jobName))

      const asked = yield* b.backend.cancel(record)
      assert.deepStrictEqual(asked, { _tag: "AskedSupervisor", runId: handle.runId, supervisorPid: process.pid, supervisorHost: "machine-a" })
      // B patched the Job (the denied request, then the one that took) and left the deletion to A.
      assert.strictEqual(jobRequests(k8s, "PATCH", jobName).length, 2)
      assert.strictEqual(jobRequests(k8s, "DELETE", jobName).length, 0)
      const annotations = k8s.get("jobs", k8s.namespace, jobName)?.metadata.annotations ?? {}
      const requester = `agentrun cancel (pid ${process.pid} on machine-b)`
      assert.strictEqual(annotations[CancelAnnotationKeys.requestedBy], requester)
      assert.match(annotations[CancelAnnotationKeys.requestedAt] ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)

      const { outcome, record: final } = yield* handle.result
      assertCancelledBy(outcome, requester, yield* a.store.readEvents(handle.runId))
      assert.strictEqual(final.status, "failed")
      assert.strictEqual((yield* a.store.readRecord(handle.runId)).outcome?._tag, "Cancelled")
      assert.isUndefined(k8s.get("jobs", k8s.namespace, jobName))
      assert.strictEqual(jobRequests(k8s, "DELETE", jobName).length, 1, "A deleted the Job, once")
      // The annotation alone told A: its store never had a cancel request.
      assert.isTrue(Option.isNone(yield* a.store.readCancelRequest(handle.runId)))
      // B did not adopt the run: its copy of the record is as it was given.
      assert.strictEqual((yield* b.store.readRecord(handle.runId)).status, "running")
      yield* until(k8s, "the Lease released", () => k8s.list("leases", k8s.namespace).length === 0, 20_000)
    }).pipe(Effect.scoped), 120_000)

  it.live("B cannot see whether A lives (no Lease): it annotates and deletes the Job itself; A, alive, records Cancelled naming B, not JobDeletedExternally", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.hang)
      const a = yield* machine(k8s, "machine-a")
      const b = yield* machine(k8s, "machine-b")
      const handle = yield* a.backend.launch(k8sSpec(anthropic, k8s))
      const jobName = `agentrun-${handle.runId}`
      yield* until(k8s, "claude's request", () => anthropic.messageRequests().length > 0, 40_000)
      const record = yield* a.store.readRecord(handle.runId)
      yield* b.store.writeRecord(record)
      const live = yield* b.backend.liveness(record)
      assert.strictEqual(live._tag, "Unknown", JSON.stringify(live))

      const cancelled = yield* b.backend.cancel(record)
      const requester = `agentrun cancel (pid ${process.pid} on machine-b)`
      assert.strictEqual(cancelled._tag, "StoppedOrphan")
      if (cancelled._tag !== "StoppedOrphan") return
      assertCancelledBy(cancelled.record.outcome!, requester, yield* b.store.readEvents(handle.runId))
      // The annotation went before the deletion.
      const patchAt = jobRequests(k8s, "PATCH", jobName)[0]?.atMs
      const deleteAt = jobRequests(k8s, "DELETE", jobName)[0]?.atMs
      assert.isDefined(patchAt)
      assert.isDefined(deleteAt)
      assert.isTrue(patchAt! <= deleteAt!, `PATCH at ${patchAt} ms, DELETE at ${deleteAt} ms`)

      const { outcome } = yield* handle.result
      assertCancelledBy(outcome, requester, yield* a.store.readEvents(handle.runId))
      assert.strictEqual((yield* a.store.readRecord(handle.runId)).outcome?._tag, "Cancelled")
      assert.isUndefined(k8s.get("jobs", k8s.namespace, jobName))
      assert.isTrue(Option.isNone(yield* a.store.readCancelRequest(handle.runId)))
    }).pipe(Effect.scoped), 120_000)

  it.live("control: the Job deleted by a kubectl-like client (an unrelated annotation first, no cancel request) is JobDeletedExternally", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.hang)
      const a = yield* machine(k8s, "machine-a")
      const handle = yield* a.backend.launch(k8sSpec(anthropic, k8s))
      const jobName = `agentrun-${handle.runId}`
      yield* until(k8s, "claude's request", () => anthropic.messageRequests().length > 0, 40_000)
      const kc = new k8sClient.KubeConfig()
      kc.loadFromFile(k8s.kubeconfigPath)
      const batch = kc.makeApiClient(k8sClient.BatchV1Api)
      // `kubectl annotate job … owner=alice`, then `kubectl delete job …` (Background, as kubectl does).
      yield* Effect.promise(() =>
        batch.patchNamespacedJob(
          { name: jobName, namespace: k8s.namespace, body: { metadata: { annotations: { "example.com/owner": "alice" } } } },
          k8sClient.setHeaderOptions("Content-Type", k8sClient.PatchStrategy.MergePatch)
        )
      )
      yield* Effect.promise(() => batch.deleteNamespacedJob({ name: jobName, namespace: k8s.namespace, propagationPolicy: "Background" }))
      const { outcome } = yield* handle.result
      assert.strictEqual(outcome._tag, "JobDeletedExternally", JSON.stringify(outcome))
      if (outcome._tag !== "JobDeletedExternally") return
      assert.strictEqual(outcome.evidence.deleted, "Job")
      assert.strictEqual(outcome.evidence.seenVia, "watch-deleted")
    }).pipe(Effect.scoped), 120_000)
})
