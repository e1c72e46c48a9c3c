/**
 * KubernetesApiLive.podLog against the fake's kubelet: one `pods/log` request with
 * `timestamps=true`, follow and not, `sinceTime` at whole-second resolution, a reset failing the
 * stream with KubernetesUnreachable and a clean EOF ending it, a waiting container's 400, and the
 * socket closed when the consumer stops.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Stream } from "effect"
import type { PodLogLine } from "../../packages/core/src/k8s/KubernetesApi.ts"
import { job, podOf, running, terminated, withFake } from "./apiFixtures.ts"

const collect = <A, E>(s: Stream.Stream<A, E>) => Stream.runCollect(s).pipe(Effect.map((c) => Array.from(c as Iterable<A>)))

const isRfc3339Nano = (t: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/.test(t)

describe("KubernetesApiLive.podLog", () => {
  it.live("a finished container's log: every line with the kubelet's RFC 3339 timestamp, in order", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      yield* api.createJob(null, job("log-1", "echo one; echo 'two  spaced'; echo; echo three >&2"))
      const pod = yield* podOf(fake, "log-1", terminated)
      const lines = yield* collect(api.podLog(null, pod.metadata!.name!, { container: "agent", follow: false, sinceTime: null }))
      assert.deepStrictEqual(lines.map((l) => l.line), ["one", "two  spaced", "", "three"])
      for (const l of lines) assert.isTrue(isRfc3339Nano(l.timestamp), l.timestamp)
      const times = lines.map((l) => l.timestamp)
      assert.deepStrictEqual([...times].sort(), times)
      assert.include(fake.requests.at(-1)!.path, "timestamps=true")
    }))

  it.live("follow: lines arrive while the container runs; the stream ends when it exits", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      yield* api.createJob(null, job("log-2", "echo start; sleep 0.5; echo middle; sleep 0.5; echo end"))
      const pod = yield* podOf(fake, "log-2", running)
      const lines = yield* collect(api.podLog(null, pod.metadata!.name!, { container: "agent", follow: true, sinceTime: null }))
      assert.deepStrictEqual(lines.map((l) => l.line), ["start", "middle", "end"])
    }))

  it.live("sinceTime: the lines from that whole second on", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      yield* api.createJob(null, job("log-3", "echo a; sleep 1.2; echo b; echo c"))
      const pod = yield* podOf(fake, "log-3", terminated)
      const all = yield* collect(api.podLog(null, pod.metadata!.name!, { container: "agent", follow: false, sinceTime: null }))
      const b = all.find((l) => l.line === "b")!
      const second = `${b.timestamp.slice(0, 19)}Z`
      const since = yield* collect(api.podLog(null, pod.metadata!.name!, { container: "agent", follow: false, sinceTime: second }))
      assert.deepStrictEqual(since.map((l) => l.line), all.filter((l) => Date.parse(l.timestamp) >= Date.parse(second)).map((l) => l.line))
      assert.notInclude(since.map((l) => l.line), "a")
    }))

  it.live("a follow cut by a TCP reset fails with KubernetesUnreachable; one cut by a clean EOF just ends", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      yield* api.createJob(null, job("log-4", "for i in 1 2 3 4 5 6; do echo line-$i; done; sleep 30"))
      const pod = yield* podOf(fake, "log-4", running)
      const name = pod.metadata!.name!
      fake.faults.dropLogStreams({ afterLines: 2, mode: "reset", times: 1 })
      const seen: Array<PodLogLine> = []
      const reset = yield* Effect.exit(Stream.runForEach(api.podLog(null, name, { container: "agent", follow: true, sinceTime: null }), (l) => Effect.sync(() => seen.push(l))))
      assert.isTrue(Exit.isFailure(reset))
      if (Exit.isFailure(reset)) {
        const fail = reset.cause.reasons.find((r) => r._tag === "Fail")
        assert.strictEqual(fail?._tag === "Fail" ? fail.error._tag : null, "KubernetesUnreachable")
      }
      assert.isAtMost(seen.length, 2)
      fake.faults.dropLogStreams({ afterLines: 3, mode: "eof", times: 1 })
      const eof = yield* collect(api.podLog(null, name, { container: "agent", follow: true, sinceTime: null }))
      assert.deepStrictEqual(eof.map((l) => l.line), ["line-1", "line-2", "line-3"])
    }))

  it.live("taking part of a follow closes its connection", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      yield* api.createJob(null, job("log-5", "echo one; echo two; sleep 30"))
      const pod = yield* podOf(fake, "log-5", running)
      const first = yield* Stream.runCollect(api.podLog(null, pod.metadata!.name!, { container: "agent", follow: true, sinceTime: null }).pipe(Stream.take(1)))
      assert.deepStrictEqual(Chunk.toReadonlyArray(Chunk.fromIterable(first)).map((l) => l.line), ["one"])
      yield* Effect.promise(() => fake.waitFor("the log stream to close", () => fake.openLogStreams() === 0))
    }))

  it.live("a container still waiting: 400 BadRequest as KubernetesInvalid with the server's message", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      yield* api.createJob(null, { ...job("log-6", "true"), spec: { ...job("log-6", "true").spec!, template: { metadata: { labels: { "job-name": "log-6" } }, spec: { restartPolicy: "Never", containers: [{ name: "agent", image: "missing:image", command: ["true"] }] } } } })
      const pod = yield* podOf(fake, "log-6", (p) => p.spec?.nodeName !== undefined)
      const exit = yield* Effect.exit(collect(api.podLog(null, pod.metadata!.name!, { container: "agent", follow: true, sinceTime: null })))
      const fail = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
      const error = fail?._tag === "Fail" ? fail.error : null
      assert.strictEqual(error?._tag, "KubernetesInvalid")
      assert.include(error?.message ?? "", "is waiting to start")
    }))
})
