/**
 * KubernetesApiLive.watch against the fake API server: the first Synced list, events as
 * client-node models, resume from the last resourceVersion across dropped watches (reset and clean
 * EOF) without a relist, relist on 410 (mid-stream ERROR event, compacted history on reconnect,
 * HTTP 410), reconnect through 5xx answers, our inactivity timer on a silent connection
 * (TestClock), and a 403 failing the stream.
 */
import { assert, describe, it } from "@effect/vitest"
import type { V1Job } from "@kubernetes/client-node"
import { Effect, Fiber, Queue, Stream } from "effect"
import { TestClock } from "effect/testing"
import type { KubernetesApiError, KubernetesApiShape, WatchEvent } from "../../packages/core/src/k8s/KubernetesApi.ts"
import type { FakeKubernetes } from "../support/fake-k8s/FakeKubernetes.ts"
import * as KubernetesApiLive from "../../packages/core/src/k8s/KubernetesApiLive.ts"
import { job, withFake } from "./apiFixtures.ts"

/** Runs the Job watch into a queue; `next` takes the next event, waiting in real time. */
const watchJobs = (api: KubernetesApiShape, options: { readonly labelSelector?: string; readonly inactivityTimeoutMs?: number } = {}) =>
  Effect.gen(function*() {
    const events = yield* Queue.unbounded<WatchEvent<V1Job>, KubernetesApiError>()
    const fiber = yield* api.watch("jobs", null, options).pipe(
      Stream.runForEach((e) => Queue.offer(events, e)),
      Effect.exit,
      Effect.forkChild
    )
    const next = Queue.take(events).pipe(Effect.timeout("10 seconds"))
    return { events, fiber, next }
  })

const nameOf = (e: WatchEvent<V1Job>) => (e._tag === "Synced" ? e.items.map((j) => j.metadata?.name) : e.object.metadata?.name)

/** Takes events until one satisfies `p`; returns all taken. */
const until = (next: Effect.Effect<WatchEvent<V1Job>, unknown>, p: (e: WatchEvent<V1Job>) => boolean) =>
  Effect.gen(function*() {
    const taken: Array<WatchEvent<V1Job>> = []
    while (true) {
      const e = yield* next
      taken.push(e)
      if (p(e)) return taken
    }
  })

const watchRequests = (fake: FakeKubernetes) => fake.requests.filter((r) => r.path.includes("/jobs") && r.path.includes("watch=true"))

describe("KubernetesApiLive.watch", () => {
  it.live("starts with Synced (the current list), then Added/Modified/Deleted as client-node models", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      yield* api.createJob(null, job("before", "true"))
      const { next } = yield* watchJobs(api)
      const first = yield* next
      assert.strictEqual(first._tag, "Synced")
      if (first._tag !== "Synced") return
      assert.deepStrictEqual(first.items.map((j) => j.metadata?.name), ["before"])
      assert.isString(first.resourceVersion)
      yield* api.createJob(null, job("after", "true"))
      const added = yield* until(next, (e) => e._tag === "Added" && nameOf(e) === "after")
      const a = added.at(-1)!
      if (a._tag === "Synced") return
      assert.instanceOf(a.object.metadata?.creationTimestamp, Date)
      const watch = watchRequests(fake)[0]!
      assert.include(watch.path, "allowWatchBookmarks=true")
      assert.include(watch.path, `resourceVersion=${first.resourceVersion}`)
      yield* api.deleteJob(null, "before", "Background")
      yield* until(next, (e) => e._tag === "Deleted" && nameOf(e) === "before")
    }))

  it.live("a dropped watch (reset, then clean EOF) resumes from the last resourceVersion: no relist, no event lost or repeated", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      const { next } = yield* watchJobs(api)
      assert.strictEqual((yield* next)._tag, "Synced")
      const seen: Array<string> = []
      for (const [i, mode] of (["reset", "eof", "reset", "eof"] as const).entries()) {
        yield* Effect.promise(() => fake.waitFor("an open watch", () => fake.openWatches() === 1))
        assert.strictEqual(fake.faults.dropWatches(mode, "jobs"), 1)
        // Created while the watch may be down: the resume from the resourceVersion delivers it.
        yield* api.createJob(null, job(`job-${i}`, "true"))
        const taken = yield* until(next, (e) => e._tag === "Added" && nameOf(e) === `job-${i}`)
        for (const e of taken) {
          assert.notStrictEqual(e._tag, "Synced")
          if (e._tag === "Added") seen.push(String(nameOf(e)))
        }
      }
      assert.deepStrictEqual(seen, ["job-0", "job-1", "job-2", "job-3"])
      assert.strictEqual(watchRequests(fake).length, 5)
      // Every resume asked for the events after a resourceVersion it had seen.
      for (const r of watchRequests(fake)) assert.match(r.path, /resourceVersion=\d+/)
      // One list only: the first.
      assert.strictEqual(fake.requests.filter((r) => r.path.includes("/jobs") && !r.path.includes("watch=") && r.method === "GET").length, 1)
    }))

  it.live("a mid-stream 410 (ERROR event with an Expired Status) relists: a fresh Synced with the current objects", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      const { next } = yield* watchJobs(api)
      assert.strictEqual((yield* next)._tag, "Synced")
      yield* api.createJob(null, job("one", "true"))
      yield* until(next, (e) => e._tag === "Added" && nameOf(e) === "one")
      yield* Effect.promise(() => fake.waitFor("an open watch", () => fake.openWatches() === 1))
      assert.strictEqual(fake.faults.expireWatches("jobs"), 1)
      const resynced = yield* until(next, (e) => e._tag === "Synced")
      const s = resynced.at(-1)!
      assert.deepStrictEqual(nameOf(s), ["one"])
      yield* api.createJob(null, job("two", "true"))
      yield* until(next, (e) => e._tag === "Added" && nameOf(e) === "two")
    }))

  it.live("a resume whose resourceVersion was compacted away meanwhile (HTTP 200 + ERROR 410 at once) relists", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      const { next } = yield* watchJobs(api)
      assert.strictEqual((yield* next)._tag, "Synced")
      yield* api.createJob(null, job("one", "true"))
      yield* until(next, (e) => e._tag === "Added" && nameOf(e) === "one")
      // The resume is held up in the server; meanwhile more changes and a compaction.
      fake.faults.http({ path: /\/jobs\?.*watch=true/, times: 1, fault: { kind: "delay", ms: 300 } })
      fake.faults.dropWatches("reset", "jobs")
      yield* Effect.promise(() => fake.waitFor("the resume", () => watchRequests(fake).length === 2 || undefined))
      yield* api.createJob(null, job("two", "true"))
      fake.faults.compactHistory()
      const resynced = yield* until(next, (e) => e._tag === "Synced")
      assert.sameMembers(nameOf(resynced.at(-1)!) as Array<string>, ["one", "two"])
      // The relist happened: a second list request.
      assert.strictEqual(fake.requests.filter((r) => r.path.includes("/jobs") && !r.path.includes("watch=") && r.method === "GET").length, 2)
    }))

  it.live("an HTTP 410 Gone answer to a resume relists", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      const { next } = yield* watchJobs(api)
      assert.strictEqual((yield* next)._tag, "Synced")
      yield* api.createJob(null, job("one", "true"))
      yield* until(next, (e) => e._tag === "Added" && nameOf(e) === "one")
      fake.faults.http({ path: /\/jobs\?.*watch=true/, times: 1, fault: { kind: "status", code: 410, message: "too old resource version" } })
      fake.faults.dropWatches("reset", "jobs")
      const resynced = yield* until(next, (e) => e._tag === "Synced")
      assert.deepStrictEqual(nameOf(resynced.at(-1)!), ["one"])
      yield* api.createJob(null, job("two", "true"))
      yield* until(next, (e) => e._tag === "Added" && nameOf(e) === "two")
    }))

  it.live("5xx answers while reconnecting are retried on the Schedule; the watch goes on", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      const { next } = yield* watchJobs(api)
      assert.strictEqual((yield* next)._tag, "Synced")
      yield* Effect.promise(() => fake.waitFor("an open watch", () => fake.openWatches() === 1))
      fake.faults.http({ path: /\/jobs\?.*watch=true/, times: 3, fault: { kind: "status", code: 503 } })
      fake.faults.dropWatches("reset", "jobs")
      yield* api.createJob(null, job("after-5xx", "true"))
      const taken = yield* until(next, (e) => e._tag === "Added" && nameOf(e) === "after-5xx")
      assert.isTrue(taken.every((e) => e._tag !== "Synced"))
      assert.strictEqual(watchRequests(fake).length, 5)
    }))

  it.live("the reconnect Schedule giving up fails the stream with the last KubernetesUnreachable", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      const { next, fiber } = yield* watchJobs(api)
      assert.strictEqual((yield* next)._tag, "Synced")
      // An event first: that connection got through, so the retries start afresh after it.
      yield* api.createJob(null, job("one", "true"))
      yield* until(next, (e) => e._tag === "Added" && nameOf(e) === "one")
      fake.faults.http({ path: /\/jobs\?.*watch=true/, fault: { kind: "status", code: 500 } })
      fake.faults.dropWatches("eof", "jobs")
      const exit = yield* Fiber.join(fiber)
      assert.isTrue(exit._tag === "Failure")
      const reasons = exit._tag === "Failure" ? exit.cause.reasons : []
      const fail = reasons.find((r) => r._tag === "Fail")
      assert.strictEqual(fail?._tag === "Fail" ? (fail.error as KubernetesApiError)._tag : null, "KubernetesUnreachable")
      // The first watch, then 1 + 20 retries of the test's Schedule.recurs(20).
      assert.strictEqual(watchRequests(fake).length, 22)
    }))

  it.live("403 on the watch fails the stream with KubernetesForbidden (not retried)", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake({ namespace: "team-a" })
      fake.faults.deny({ verb: "watch", resource: "jobs" })
      const { next, fiber } = yield* watchJobs(api)
      assert.strictEqual((yield* next)._tag, "Synced")
      const exit = yield* Fiber.join(fiber)
      const fail = exit._tag === "Failure" ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
      const error = fail?._tag === "Fail" ? (fail.error as KubernetesApiError) : null
      assert.strictEqual(error?._tag, "KubernetesForbidden")
      if (error?._tag === "KubernetesForbidden") assert.deepStrictEqual([error.verb, error.resource, error.namespace], ["watch", "jobs", "team-a"])
      assert.strictEqual(watchRequests(fake).length, 1)
    }))

  it.effect("failed reconnects back off on the default Schedule (TestClock): 0.5 s, 1 s, 2 s, 4 s apart", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake({ live: { watchReconnect: KubernetesApiLive.defaultWatchReconnect } })
      const { events } = yield* watchJobs(api)
      const take = Queue.take(events)
      assert.strictEqual((yield* take)._tag, "Synced")
      yield* api.createJob(null, job("one", "true"))
      yield* until(take, (e) => e._tag === "Added" && nameOf(e) === "one")
      const remove = fake.faults.http({ path: /\/jobs\?.*watch=true/, fault: { kind: "status", code: 503 } })
      fake.faults.dropWatches("eof", "jobs")
      // The first reconnect is at once (that connection had got through); it is answered 503.
      yield* Effect.promise(() => fake.waitFor("the reconnect", () => watchRequests(fake).length === 2 || undefined))
      const turns = Effect.promise(() => new Promise<void>((resolve) => setImmediate(() => setImmediate(() => setImmediate(resolve)))))
      const at: Array<number> = []
      let now = 0
      while (at.length < 4 && now < 20_000) {
        const before = watchRequests(fake).length
        for (let i = 0; i < 3; i++) yield* turns
        yield* TestClock.adjust(50)
        now += 50
        for (let i = 0; i < 3; i++) yield* turns
        if (watchRequests(fake).length > before) at.push(now)
      }
      const gaps = at.map((t, i) => t - (i === 0 ? 0 : at[i - 1]!))
      for (const [i, want] of [500, 1000, 2000, 4000].entries()) {
        assert.isAtLeast(gaps[i]!, want, `retry ${i + 1} came after ${gaps[i]} ms`)
        assert.isAtMost(gaps[i]!, want + 500, `retry ${i + 1} came after ${gaps[i]} ms`)
      }
      remove()
    }))

  it.live("interrupting the watch closes its connection", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      const { next, fiber } = yield* watchJobs(api)
      assert.strictEqual((yield* next)._tag, "Synced")
      yield* Effect.promise(() => fake.waitFor("an open watch", () => fake.openWatches() === 1))
      yield* Fiber.interrupt(fiber)
      yield* Effect.promise(() => fake.waitFor("no open watch", () => fake.openWatches() === 0))
    }))

  it.effect("a silent connection (no event, no bookmark) is reopened after the inactivity timeout (TestClock), from the same resourceVersion", () =>
    Effect.gen(function*() {
      // Bookmarks every hour: the connection stays silent, as a dead TCP connection would.
      const { fake, api } = yield* withFake({ bookmarkIntervalMs: 3_600_000 })
      const { events } = yield* watchJobs(api, { inactivityTimeoutMs: 90_000 })
      // No timeout on these takes: the TestClock would fire it.
      const take = Queue.take(events)
      assert.strictEqual((yield* take)._tag, "Synced")
      yield* api.createJob(null, job("before-silence", "true"))
      assert.strictEqual(nameOf(yield* take), "before-silence")
      // Let the watch fiber start its next read (and its timer) before the clock moves.
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow
      yield* TestClock.adjust(89_000)
      assert.strictEqual(watchRequests(fake).length, 1)
      yield* TestClock.adjust(1_000)
      yield* Effect.promise(() => fake.waitFor("a second watch", () => watchRequests(fake).length === 2 || undefined))
      yield* Effect.promise(() => fake.waitFor("the silent one closed", () => fake.openWatches() === 1))
      const [first, second] = watchRequests(fake)
      const rvOf = (p: string) => /resourceVersion=(\d+)/.exec(p)?.[1]
      assert.isDefined(rvOf(second!.path))
      assert.notStrictEqual(rvOf(second!.path), rvOf(first!.path))
      yield* api.createJob(null, job("after-silence", "true"))
      const taken = yield* until(take, (e) => e._tag === "Added" && nameOf(e) === "after-silence")
      assert.isTrue(taken.every((e) => e._tag !== "Synced"))
    }))
})
