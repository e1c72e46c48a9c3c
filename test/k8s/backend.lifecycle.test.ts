/**
 * The Kubernetes backend's run management against the fake cluster: cancel, the supervisor going
 * away and `attach` taking over (no transcript line lost or duplicated), one run per agent.
 * Heavier: each test runs its own fake cluster and the real claude.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Stream } from "effect"
import { spawn } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import type { RunRecord } from "../../packages/core/src/domain/Run.ts"
import { recoverWith } from "../../packages/core/src/runs/Recovery.ts"
import { MemoryRunStore } from "../../packages/core/src/testing.ts"
import { noWholeReads } from "../../packages/core/test/support/NoWholeReads.ts"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import { hostImage } from "../support/fake-k8s/FakeKubernetes.ts"
import { apiLayer, backendLayer, cluster, k8sSpec, KubernetesApi, KubernetesBackend, podOf, quickSettings, recordOf, RunStore, until, withBackend } from "./backendHarness.ts"

/** Read windows of the store in the attach tests, in bytes: claude's transcript spans many. */
const smallWindow = 256

const placementOf = (record: RunRecord) => {
  if (record.placement._tag !== "Kubernetes") throw new Error(`not a Kubernetes run: ${record.placement._tag}`)
  return record.placement
}

describe("Kubernetes backend: cancel, attach, one run per agent", () => {
  it.live("cancel deletes the Job, reads the final logs and records Cancelled", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.hang)
      yield* Effect.gen(function*() {
        const backend = yield* KubernetesBackend
        const handle = yield* backend.launch(k8sSpec(anthropic, k8s))
        const jobName = `agentrun-${handle.runId}`
        yield* until(k8s, "claude's request", () => anthropic.messageRequests().length > 0, 40_000)
        yield* handle.cancel(null)
        const { outcome, record } = yield* handle.result
        assert.strictEqual(outcome._tag, "Cancelled", JSON.stringify(outcome))
        assert.strictEqual(record.status, "failed")
        assert.strictEqual((yield* recordOf(handle.runId)).outcome?._tag, "Cancelled")
        assert.isUndefined(k8s.get("jobs", k8s.namespace, jobName))
        // The entry turned the kubelet's SIGTERM into SIGINT: claude aborted its turn (its output is in the transcript).
        const events = yield* (yield* RunStore).readEvents(handle.runId)
        assert.isTrue(events.some((l) => l.includes("[Request interrupted by user]") || l.includes("\"type\":\"result\"")), events.join("\n"))
      }).pipe(Effect.provide(withBackend(k8s)))
    }).pipe(Effect.scoped), 90_000)

  it.live("the supervisor goes away mid-run: the Job runs on, the record keeps `running` with no supervisor; attach resumes from the log cursor and records the verdict, no line lost or duplicated", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.slowText)
      yield* Effect.gen(function*() {
        const store = yield* RunStore
        // The first supervisor: its layer's scope closes once claude's init line is stored (agentrun exiting).
        const runId = yield* Effect.gen(function*() {
          const handle = yield* (yield* KubernetesBackend).launch(k8sSpec(anthropic, k8s))
          for (let i = 0; i < 400; i++) {
            if ((yield* store.readEvents(handle.runId)).length > 0) break
            yield* Effect.sleep("50 millis")
          }
          return handle.runId
        }).pipe(Effect.provide(backendLayer(k8s)))
        const left = yield* recordOf(runId)
        assert.strictEqual(left.status, "running")
        assert.isNull(placementOf(left).supervisor)
        assert.isNotNull(placementOf(left).logCursor)
        const jobName = placementOf(left).jobName
        assert.isDefined(k8s.get("jobs", k8s.namespace, jobName), "the Job was left running")
        const linesAtDetach = (yield* store.readEvents(runId)).length
        assert.isTrue(linesAtDetach > 0)

        // `agentrun attach`: another backend takes over from the record, reading the stored
        // transcript a window at a time (of a few hundred bytes here), never whole.
        const { outcome, record } = yield* Effect.gen(function*() {
          const handle = yield* (yield* KubernetesBackend).reattach(left)
          return yield* handle.result
        }).pipe(Effect.provide(backendLayer(k8s).pipe(Layer.provide(noWholeReads))))
        assert.strictEqual(outcome._tag, "Succeeded", JSON.stringify(outcome))
        assert.strictEqual(record.status, "succeeded")

        // The stored transcript is exactly the pod log's stream-json: each line once, in order.
        const stored = yield* store.readEvents(runId)
        const api = yield* KubernetesApi
        const podName = podOf(k8s, jobName)!.metadata.name
        const log = (yield* Stream.runCollect(api.podLog(null, podName, { container: "agent", follow: false, sinceTime: null })).pipe(Effect.orDie))
          .map((l) => l.line)
          .filter((l) => l.startsWith("{"))
        assert.deepStrictEqual(stored, log)
        assert.isTrue(stored.length > linesAtDetach, "attach read the rest of the log")
      }).pipe(Effect.provide(Layer.mergeAll(MemoryRunStore.layerWith({ readWindowBytes: smallWindow }), apiLayer(k8s))))
    }).pipe(Effect.scoped), 120_000)

  it.live("a supervisor killed between cursor writes: the store holds lines past the record's cursor; attach stores none of them twice", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.slowText)
      yield* Effect.gen(function*() {
        const store = yield* RunStore
        // The cursor is never written on its Schedule here: only the record writes of the run
        // (the session's start) carry it, a line behind. The record as a SIGKILL would leave it is
        // the one stored while the supervisor runs; its own detach (which writes the cursor) is undone.
        const { runId, atKill } = yield* Effect.gen(function*() {
          const handle = yield* (yield* KubernetesBackend).launch(k8sSpec(anthropic, k8s))
          for (let i = 0; i < 400; i++) {
            if ((yield* store.readEvents(handle.runId)).length > 0) break
            yield* Effect.sleep("50 millis")
          }
          return { runId: handle.runId, atKill: yield* recordOf(handle.runId) }
        }).pipe(Effect.provide(backendLayer(k8s, { ...quickSettings, cursorPersistMs: 600_000 })))
        const killed: RunRecord = { ...atKill, placement: { ...placementOf(atKill), supervisor: null } }
        yield* store.writeRecord(killed)
        const storedAtKill = (yield* store.readEvents(runId)).length
        const cursorLines = placementOf(killed).logCursor?.eventLines ?? 0
        assert.isTrue(cursorLines < storedAtKill, `the store (${storedAtKill} lines) is ahead of the cursor (${cursorLines})`)

        // The lines past the cursor are skipped by the counts of what is stored, taken a read window at a time.
        const { outcome } = yield* Effect.gen(function*() {
          const handle = yield* (yield* KubernetesBackend).reattach(killed)
          return yield* handle.result
        }).pipe(Effect.provide(backendLayer(k8s).pipe(Layer.provide(noWholeReads))))
        assert.strictEqual(outcome._tag, "Succeeded", JSON.stringify(outcome))
        const stored = yield* store.readEvents(runId)
        const api = yield* KubernetesApi
        const podName = podOf(k8s, placementOf(killed).jobName)!.metadata.name
        const log = (yield* Stream.runCollect(api.podLog(null, podName, { container: "agent", follow: false, sinceTime: null })).pipe(Effect.orDie))
          .map((l) => l.line)
          .filter((l) => l.startsWith("{"))
        assert.deepStrictEqual(stored, log)
        assert.strictEqual(placementOf(yield* recordOf(runId)).logCursor?.eventLines, log.length)
      }).pipe(Effect.provide(Layer.mergeAll(MemoryRunStore.layerWith({ readWindowBytes: smallWindow }), apiLayer(k8s))))
    }).pipe(Effect.scoped), 120_000)

  it.live("two launches for one agent at once: exactly one Job, the other ConcurrentRunBlocked naming the holder; the same task again follows that Job", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.hang)
      yield* Effect.gen(function*() {
        const backend = yield* KubernetesBackend
        const [a, b] = yield* Effect.all([
          backend.launch(k8sSpec(anthropic, k8s, { agentId: "Agent One", taskId: "task-1" })),
          backend.launch(k8sSpec(anthropic, k8s, { agentId: "Agent One", taskId: "task-2" }))
        ], { concurrency: 2 })
        const first = yield* Effect.raceFirst(Effect.map(a.result, (r) => ({ r, other: b, winner: a })), Effect.map(b.result, (r) => ({ r, other: a, winner: b })))
        assert.strictEqual(first.r.outcome._tag, "ConcurrentRunBlocked", JSON.stringify(first.r.outcome))
        if (first.r.outcome._tag !== "ConcurrentRunBlocked") return
        const holder = first.other
        assert.strictEqual(first.r.outcome.evidence.holderRunId, holder.runId)
        assert.strictEqual(first.r.outcome.evidence.holderJob, `agentrun-${holder.runId}`)
        yield* until(k8s, "the holder's Job", () => k8s.list("jobs", k8s.namespace).length > 0)
        assert.strictEqual(k8s.list("jobs", k8s.namespace).length, 1)
        assert.strictEqual(k8s.list("leases", k8s.namespace).length, 1)
        // The holder's supervisor renews its Lease while it follows.
        const renewedAt = () => String(k8s.list("leases", k8s.namespace)[0]?.spec?.renewTime ?? "")
        const before = renewedAt()
        yield* until(k8s, "a Lease renewal", () => renewedAt() !== before, 10_000)

        // The holder's task and session again (a re-run after a crash): it follows the same Job.
        const holderTask = holder === a ? "task-1" : "task-2"
        const again = yield* backend.launch(k8sSpec(anthropic, k8s, { agentId: "Agent One", taskId: holderTask }))
        for (let i = 0; i < 200; i++) {
          const p = placementOf(yield* recordOf(again.runId))
          if (p.jobUid !== null) break
          yield* Effect.sleep("50 millis")
        }
        assert.strictEqual(placementOf(yield* recordOf(again.runId)).jobName, `agentrun-${holder.runId}`)
        assert.strictEqual(k8s.list("jobs", k8s.namespace).length, 1)

        yield* holder.cancel(null)
        assert.strictEqual((yield* holder.result).outcome._tag, "Cancelled")
        yield* again.result
        yield* until(k8s, "the Lease released", () => k8s.list("leases", k8s.namespace).length === 0, 20_000)
      }).pipe(Effect.provide(withBackend(k8s)))
    }).pipe(Effect.scoped), 120_000)

  it.live("liveness: Supervised while followed here; Orphaned (Job alive) once the supervisor let go; cancel of the orphan deletes the Job and records Cancelled", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.hang)
      yield* Effect.gen(function*() {
        const runId = yield* Effect.gen(function*() {
          const backend = yield* KubernetesBackend
          const handle = yield* backend.launch(k8sSpec(anthropic, k8s))
          yield* until(k8s, "claude's request", () => anthropic.messageRequests().length > 0, 40_000)
          assert.deepStrictEqual(yield* backend.liveness(yield* recordOf(handle.runId)), { _tag: "Supervised" })
          // Another backend built in this process (the VS Code extension builds one per cluster
          // target) sees the run followed here too, not a supervisor gone.
          const elsewhere = yield* Effect.scoped(Effect.gen(function*() {
            const other = Context.get(yield* Layer.build(backendLayer(k8s)), KubernetesBackend)
            return yield* other.liveness(yield* recordOf(handle.runId))
          }))
          assert.deepStrictEqual(elsewhere, { _tag: "Supervised" })
          return handle.runId
        }).pipe(Effect.provide(backendLayer(k8s)))
        yield* Effect.gen(function*() {
          const backend = yield* KubernetesBackend
          const left = yield* recordOf(runId)
          assert.deepStrictEqual(yield* backend.liveness(left), { _tag: "Orphaned", reason: "supervisor-gone", agentAlive: true })
          // The API out of reach: Unknown, never a guess.
          const remove = k8s.faults.http({ path: /jobs/, fault: { kind: "status", code: 503 } })
          const unknown = yield* backend.liveness(left)
          remove()
          assert.strictEqual(unknown._tag, "Unknown")
          const cancelled = yield* backend.cancel(left)
          assert.strictEqual(cancelled._tag, "StoppedOrphan")
          if (cancelled._tag !== "StoppedOrphan") return
          assert.strictEqual(cancelled.record.outcome?._tag, "Cancelled", JSON.stringify(cancelled.record.outcome))
          assert.strictEqual((yield* recordOf(runId)).outcome?._tag, "Cancelled")
          assert.isUndefined(k8s.get("jobs", k8s.namespace, placementOf(left).jobName))
          assert.deepStrictEqual(yield* backend.liveness(yield* recordOf(runId)), { _tag: "Orphaned", reason: "supervisor-gone", agentAlive: false })
        }).pipe(Effect.provide(backendLayer(k8s)))
      }).pipe(Effect.provide(Layer.mergeAll(MemoryRunStore.layer, apiLayer(k8s))))
    }).pipe(Effect.scoped), 120_000)

  it.live("the stall watchdog: no pod log output for the stall timeout → the Pod is stopped gracefully → a hang verdict with the Pod's state as evidence", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.hang)
      yield* Effect.gen(function*() {
        const backend = yield* KubernetesBackend
        const spec = k8sSpec(anthropic, k8s, {}, {
          watchdog: { stallTimeoutMs: 3_000, startupTimeoutMs: 60_000, busyTimeoutMs: 0, probeGraceMs: 5_000, sampleIntervalMs: 1_000 }
        })
        const handle = yield* backend.launch(spec)
        const { outcome } = yield* handle.result
        // claude waiting on a hung API answers the entry's SIGINT: the Pod ends within the probe grace.
        assert.strictEqual(outcome._tag, "HangInterruptible", JSON.stringify(outcome))
        if (outcome._tag !== "HangInterruptible") return
        assert.strictEqual(outcome.evidence.detection.reason, "stall")
        assert.isTrue(outcome.evidence.unavailable.some((u) => u.includes("/proc")))
        assert.isNotNull(outcome.evidence.dumpPath)
        const dump = yield* (yield* RunStore).readArtifact(handle.runId, "hang-dump.json")
        assert.strictEqual(dump._tag, "Some")
        if (dump._tag === "Some") assert.include(dump.value, "fake-node")
      }).pipe(Effect.provide(withBackend(k8s)))
    }).pipe(Effect.scoped), 90_000)

  it.live("the stall watchdog on a Pod whose agent ignores SIGINT and SIGTERM: the shared stop sequence escalates to a force delete → HangUnresponsive with the Pod steps", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.hang)
      // An agent that ignores both signals (ignored dispositions survive exec) and says nothing.
      const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "agentrun-ignorer-"))
      const ignorer = NodePath.join(dir, "claude")
      NodeFs.writeFileSync(ignorer, "#!/bin/sh\ntrap '' INT TERM\nexec sleep 1000\n", { mode: 0o755 })
      k8s.registerImage("agentrun/ignorer:test", hostImage({ AGENTRUN_CLAUDE: ignorer }))
      yield* Effect.gen(function*() {
        const backend = yield* KubernetesBackend
        const spec = k8sSpec(anthropic, k8s, { image: "agentrun/ignorer:test" }, {
          watchdog: { stallTimeoutMs: 2_000, startupTimeoutMs: 60_000, busyTimeoutMs: 0, probeGraceMs: 1_000, sampleIntervalMs: 1_000 },
          // Pod grace 5 s: the probe waits 1 s, the repeated graceful DELETE the 4 s left.
          stopGrace: { interruptGraceMs: 2_000, terminateGraceMs: 3_000 }
        })
        const handle = yield* backend.launch(spec)
        const { outcome, record } = yield* handle.result
        assert.strictEqual(outcome._tag, "HangUnresponsive", JSON.stringify(outcome))
        if (outcome._tag !== "HangUnresponsive") return
        const steps = outcome.evidence.stop?.steps ?? []
        const podName = placementOf(record).podName
        assert.deepStrictEqual(steps[0], { signal: "SIGTERM", target: "pod", pids: [], atMs: steps[0]!.atMs, answered: false, object: `${k8s.namespace}/${podName}` })
        assert.isAtLeast(steps.length, 2)
        assert.strictEqual(steps[1]!.signal, "SIGTERM")
        assert.isAtLeast(steps[1]!.atMs, 1_000)
        // Ended by the kubelet's SIGKILL at the grace's end, or by agentrun's force delete.
        assert.isTrue(steps.at(-1)!.answered, JSON.stringify(steps))
        if (steps.length === 3) assert.strictEqual(steps[2]!.signal, "SIGKILL")
        assert.isUndefined(k8s.get("pods", k8s.namespace, podName!))
      }).pipe(Effect.provide(withBackend(k8s)))
    }).pipe(Effect.scoped), 90_000)

  it.live("a supervisor killed outright (its pid gone, nothing written): recovery marks the run Interrupted while its Job runs on; attach resumes it to its verdict", () =>
    Effect.gen(function*() {
      const { k8s, anthropic } = yield* cluster(scenarios.slowText)
      yield* Effect.gen(function*() {
        const store = yield* RunStore
        const runId = yield* Effect.gen(function*() {
          const handle = yield* (yield* KubernetesBackend).launch(k8sSpec(anthropic, k8s))
          for (let i = 0; i < 400; i++) {
            if ((yield* store.readEvents(handle.runId)).length > 0) break
            yield* Effect.sleep("50 millis")
          }
          return handle.runId
        }).pipe(Effect.provide(backendLayer(k8s)))
        // What a SIGKILLed supervisor leaves: its own pid in the record (here one that no longer exists).
        const dead = yield* Effect.promise(() => deadPid())
        const left = yield* recordOf(runId)
        yield* store.writeRecord({ ...left, placement: { ...placementOf(left), supervisor: { hostname: NodeOs.hostname(), pid: dead, startTimeTicks: null } } })
        yield* Effect.gen(function*() {
          const backend = yield* KubernetesBackend
          const recovered = yield* recoverWith(store, backend.liveness)(yield* recordOf(runId))
          assert.strictEqual(recovered.status, "interrupted")
          assert.include(recovered.outcome?.message ?? "", "is still running")
          const { outcome } = yield* Effect.flatMap(backend.reattach(recovered), (h) => h.result)
          assert.strictEqual(outcome._tag, "Succeeded", JSON.stringify(outcome))
          assert.strictEqual((yield* recordOf(runId)).status, "succeeded")
        }).pipe(Effect.provide(backendLayer(k8s)))
      }).pipe(Effect.provide(Layer.mergeAll(MemoryRunStore.layer, apiLayer(k8s))))
    }).pipe(Effect.scoped), 120_000)
})

/** The pid of a process that has exited (and been reaped). */
const deadPid = () =>
  new Promise<number>((resolve, reject) => {
    const child = spawn("true")
    child.on("error", reject)
    child.on("exit", () => resolve(child.pid!))
  })
