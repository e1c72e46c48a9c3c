/**
 * followPodLog through KubernetesApiLive against the fake's kubelet: 100 log-stream drops (50 TCP
 * resets, 50 clean EOFs, at seeded points) while a container writes 3000 lines in same-second
 * bursts: every line taken once, in order. A follow resumed from a stored cursor (what `attach`
 * does) goes on with the next line; a container that has already terminated is read once, without
 * follow; a Pod recreated under the same name (another containerID) is read from its start.
 */
import { assert, describe, it } from "@effect/vitest"
import * as k8s from "@kubernetes/client-node"
import type { V1Pod } from "@kubernetes/client-node"
import { Effect, Fiber, Schedule, Stream } from "effect"
import { TestClock } from "effect/testing"
import { emptyCursor, type LogCursor } from "../../packages/core/src/k8s/LogCursor.ts"
import { type FollowPodLogOptions, followPodLog } from "../../packages/core/src/k8s/LogFollow.ts"
import type { FakeKubernetes } from "../support/fake-k8s/FakeKubernetes.ts"
import { prng } from "../support/prng.ts"
import { image, job, podOf, running, terminated, withFake } from "./apiFixtures.ts"

/** `bursts` bursts of `perBurst` lines, `pauseS` apart: many lines share a second. */
const burstScript = (bursts: number, perBurst: number, pauseS: number) =>
  `i=0; while [ $i -lt ${bursts} ]; do j=0; while [ $j -lt ${perBurst} ]; do echo "line-$i-$j"; j=$((j+1)); done; i=$((i+1)); sleep ${pauseS}; done`

const expected = (bursts: number, perBurst: number) => Array.from({ length: bursts * perBurst }, (_, k) => `line-${Math.floor(k / perBurst)}-${k % perBurst}`)

const podNow = (fake: FakeKubernetes, name: string) => fake.get("pods", fake.namespace, name) as unknown as V1Pod | undefined

const followOptions = (fake: FakeKubernetes, pod: string, cursor: LogCursor): FollowPodLogOptions => ({
  namespace: null,
  pod,
  container: "agent",
  cursor,
  containerTerminated: Effect.sync(() => {
    const p = podNow(fake, pod)
    return p !== undefined && terminated(p)
  }),
  reconnect: Schedule.recurs(50),
  idleResumeMs: 0,
  terminationCheckMs: 200,
  terminationGraceMs: 2_000
})

const logRequests = (fake: FakeKubernetes, follow: boolean) =>
  fake.requests.filter((r) => r.path.includes("/log?") && r.path.includes("follow=true") === follow)

describe("followPodLog", () => {
  it.live("100 injected drops (50 resets, 50 clean EOFs) during the container's output: 0 lines lost, 0 duplicated", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      const random = prng(13)
      for (let k = 0; k < 100; k++) {
        fake.faults.dropLogStreams({ afterLines: 1 + Math.floor(random() * 60), mode: k % 2 === 0 ? "reset" : "eof", times: 1 })
      }
      yield* api.createJob(null, job("drops", burstScript(100, 30, 0.1)))
      const pod = yield* podOf(fake, "drops")
      const name = pod.metadata!.name!
      // The drops must all have happened while the container was still writing.
      const pendingAtEnd = fake.waitFor("the container to terminate", () => {
        const p = podNow(fake, name)
        return p !== undefined && terminated(p) ? { pending: fake.faults.pendingLogDrops() } : undefined
      }, 60_000)
      const lines = yield* Stream.runCollect(followPodLog(api, followOptions(fake, name, emptyCursor)))
      const taken = Array.from(lines).map((l) => l.line)
      const want = expected(100, 30)
      const lost = want.filter((l) => !taken.includes(l)).length
      const duplicated = taken.length - new Set(taken).size
      assert.deepStrictEqual({ lost, duplicated }, { lost: 0, duplicated: 0 })
      assert.deepStrictEqual(taken, want)
      assert.strictEqual((yield* Effect.promise(() => pendingAtEnd)).pending, 0)
      assert.isAtLeast(logRequests(fake, true).length, 101)
      // Each resume named the cursor's whole second.
      // (A resume after a reset that came before any line reached us reads from the start again.)
      const resumes = logRequests(fake, true).filter((r) => r.path.includes("sinceTime="))
      assert.isAbove(resumes.length, 50)
      for (const r of resumes) assert.match(r.path, /sinceTime=\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\dZ(&|$)/)
      // The cursors are those of the lines: the last one counts the lines of its second.
      const last = Array.from(lines).at(-1)!
      assert.strictEqual(last.cursor.second, `${last.timestamp.slice(0, 19)}Z`)
      assert.strictEqual(last.cursor.containerId, pod.status?.containerStatuses?.[0]?.containerID ?? podNow(fake, name)?.status?.containerStatuses?.[0]?.containerID)
    }), 90_000)

  it.live("a follow resumed from a stored cursor goes on with the next line", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      yield* api.createJob(null, job("attach", burstScript(10, 30, 0.2)))
      const pod = yield* podOf(fake, "attach")
      const name = pod.metadata!.name!
      // A supervisor takes 137 lines, then is gone; only the cursor of its last line is kept.
      const first = Array.from(yield* Stream.runCollect(followPodLog(api, followOptions(fake, name, emptyCursor)).pipe(Stream.take(137))))
      const cursor = first.at(-1)!.cursor
      const rest = Array.from(yield* Stream.runCollect(followPodLog(api, followOptions(fake, name, cursor))))
      assert.deepStrictEqual([...first, ...rest].map((l) => l.line), expected(10, 30))
    }))

  it.live("interrupting a follow closes its connection", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      yield* api.createJob(null, job("interrupted", "echo one; sleep 30"))
      const pod = yield* podOf(fake, "interrupted", running)
      const fiber = yield* Effect.forkChild(Stream.runDrain(followPodLog(api, followOptions(fake, pod.metadata!.name!, emptyCursor))))
      yield* Effect.promise(() => fake.waitFor("an open log stream", () => fake.openLogStreams() === 1))
      yield* Fiber.interrupt(fiber)
      yield* Effect.promise(() => fake.waitFor("no open log stream", () => fake.openLogStreams() === 0))
    }))

  it.effect("a follow stalled open after the container terminated is dropped after the grace period (TestClock); the final read takes the tail", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      yield* api.createJob(null, job("stalled", "echo one; echo two; sleep 0.3; echo three; echo four"))
      const pod = yield* podOf(fake, "stalled", running)
      const name = pod.metadata!.name!
      // The first follow stops sending after two lines and stays open: a peer gone without a FIN.
      fake.faults.dropLogStreams({ afterLines: 2, mode: "stall", times: 1 })
      const fiber = yield* Effect.forkChild(Stream.runCollect(followPodLog(api, { ...followOptions(fake, name, emptyCursor), terminationCheckMs: 5_000, terminationGraceMs: 10_000 })))
      yield* Effect.promise(() => fake.waitFor("the container to terminate", () => {
        const p = podNow(fake, name)
        return p !== undefined && terminated(p)
      }))
      assert.strictEqual(fake.openLogStreams(), 1)
      let elapsed = 0
      while (logRequests(fake, false).length === 0 && elapsed < 30_000) {
        yield* TestClock.adjust(1_000)
        elapsed += 1_000
        for (let i = 0; i < 10; i++) yield* Effect.yieldNow
        yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
      }
      // Checked at 5 s (terminated), dropped 10 s later.
      assert.isAtLeast(elapsed, 15_000)
      assert.isAtMost(elapsed, 17_000)
      const lines = Array.from(yield* Fiber.join(fiber)).map((l) => l.line)
      assert.deepStrictEqual(lines, ["one", "two", "three", "four"])
      assert.strictEqual(logRequests(fake, false).length, 1)
      yield* Effect.promise(() => fake.waitFor("the stalled stream closed", () => fake.openLogStreams() === 0))
    }))

  it.effect("a follow that ended before the Pod's status says terminated: the tail is read once the status does, not a whole idleResumeMs later (TestClock)", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      yield* api.createJob(null, job("lagging", "echo a; echo b"))
      const pod = yield* podOf(fake, "lagging", running)
      const name = pod.metadata!.name!
      // The caller's watch state lags: it says terminated only once the test lets it.
      let statusSeen = false
      const fiber = yield* Effect.forkChild(Stream.runCollect(followPodLog(api, {
        ...followOptions(fake, name, emptyCursor),
        containerTerminated: Effect.sync(() => statusSeen),
        idleResumeMs: 10_000
      })))
      // The first follow takes both lines and ends with the container; the next ends empty: the idle pause.
      yield* Effect.promise(() => fake.waitFor("two follow reads", () => logRequests(fake, true).length >= 2 && fake.openLogStreams() === 0, 20_000))
      statusSeen = true
      for (let k = 0; k < 3 && logRequests(fake, false).length === 0; k++) {
        yield* TestClock.adjust(100)
        for (let i = 0; i < 10; i++) yield* Effect.yieldNow
        yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 50)))
      }
      assert.strictEqual(logRequests(fake, false).length, 1, "the final read within 300 ms of test time")
      const lines = Array.from(yield* Fiber.join(fiber)).map((l) => l.line)
      assert.deepStrictEqual(lines, ["a", "b"])
    }))

  it.live("a container that already terminated: one read without follow, then the stream ends", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      yield* api.createJob(null, job("done", "echo a; echo b"))
      const pod = yield* podOf(fake, "done", terminated)
      const lines = Array.from(yield* Stream.runCollect(followPodLog(api, followOptions(fake, pod.metadata!.name!, emptyCursor))))
      assert.deepStrictEqual(lines.map((l) => l.line), ["a", "b"])
      assert.strictEqual(logRequests(fake, true).length, 0)
      assert.strictEqual(logRequests(fake, false).length, 1)
    }))

  it.live("a Pod recreated under the same name (another containerID) is read from its start", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      // A bare Pod: a Job's controller would count the deleted one as failed and end the Job.
      const kc = new k8s.KubeConfig()
      kc.loadFromFile(fake.kubeconfigPath)
      const name = "same-name"
      yield* Effect.promise(() =>
        kc.makeApiClient(k8s.CoreV1Api).createNamespacedPod({
          namespace: fake.namespace,
          body: { metadata: { name }, spec: { restartPolicy: "Never", containers: [{ name: "agent", image, command: ["sh", "-c", "echo first-$$; sleep 2; echo later"] }] } }
        })
      )
      const pod = yield* Effect.promise(() => fake.waitFor("the Pod to run", () => {
        const p = podNow(fake, name)
        return p !== undefined && running(p) ? p : undefined
      }))
      const first = Array.from(yield* Stream.runCollect(followPodLog(api, followOptions(fake, name, emptyCursor)).pipe(Stream.take(1))))
      const oldId = first[0]!.cursor.containerId
      assert.isString(oldId)
      fake.faults.recreatePod(fake.namespace, name)
      yield* Effect.promise(() => fake.waitFor("the new Pod to run", () => {
        const p = podNow(fake, name)
        return p !== undefined && p.metadata?.uid !== pod.metadata?.uid && running(p)
      }))
      const again = Array.from(yield* Stream.runCollect(followPodLog(api, followOptions(fake, name, first[0]!.cursor))))
      assert.notStrictEqual(again[0]!.cursor.containerId, oldId)
      assert.match(again[0]!.line, /^first-\d+$/)
      assert.notStrictEqual(again[0]!.line, first[0]!.line)
      assert.deepStrictEqual(again.slice(1).map((l) => l.line), ["later"])
    }))
})
