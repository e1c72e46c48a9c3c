/**
 * Issue 13's "100 injected log-stream drops (resets and clean EOFs) during a run: 0 lines lost,
 * 0 duplicated", measured through the real client path: the fake API server's kubelet runs a
 * container writing `lines` lines in same-second bursts; the fake cuts the next `drops` follow
 * streams (half TCP resets, half clean EOFs, at seeded points); agentrun's `followPodLog` (over
 * KubernetesApiLive) takes the log. Baseline, in the same run against the same kind of log: a
 * resume with `sinceTime` = the last line's second and no per-second skip (what a follow that
 * trusts `sinceTime` alone does): it repeats lines.
 *
 * From run.ts: `const r = await benchLogDrops({ drops: 100 })` (returns the figures; prints nothing).
 * Alone: node --disable-warning=ExperimentalWarning test/bench/k8sLogDrops.ts
 */
import { fileURLToPath } from "node:url"
import { Effect, Schedule, Stream } from "effect"
import type { KubernetesApiShape } from "../../packages/core/src/k8s/KubernetesApi.ts"
import * as KubernetesApiLive from "../../packages/core/src/k8s/KubernetesApiLive.ts"
import { emptyCursor } from "../../packages/core/src/k8s/LogCursor.ts"
import { followPodLog } from "../../packages/core/src/k8s/LogFollow.ts"
import { type FakeKubernetes, fakeKubernetes, hostImage } from "../support/fake-k8s/FakeKubernetes.ts"
import { prng } from "../support/prng.ts"

/** What one side took. */
export interface DropsSide {
  readonly lines: number
  readonly lost: number
  readonly duplicated: number
  /** Drops that happened while the container was still writing. */
  readonly dropsDuringOutput: number
  readonly ms: number
}

export interface LogDropsResult {
  readonly expectedLines: number
  readonly drops: number
  readonly agentrun: DropsSide
  readonly baseline: DropsSide
}

const bursts = 100
const perBurst = 30
const script = `i=0; while [ $i -lt ${bursts} ]; do j=0; while [ $j -lt ${perBurst} ]; do echo "line-$i-$j"; j=$((j+1)); done; i=$((i+1)); sleep 0.1; done`
const expected = Array.from({ length: bursts * perBurst }, (_, k) => `line-${Math.floor(k / perBurst)}-${k % perBurst}`)

const terminatedNow = (fake: FakeKubernetes, pod: string) =>
  (fake.get("pods", fake.namespace, pod)?.status?.containerStatuses ?? []).some((c: any) => c.state?.terminated !== undefined)

/** The baseline follow: resume from the last line's whole second, nothing skipped. */
const naiveFollow = (api: KubernetesApiShape, fake: FakeKubernetes, pod: string) =>
  Effect.gen(function*() {
    const taken: Array<string> = []
    let since: string | null = null
    while (true) {
      const final = terminatedNow(fake, pod)
      yield* api.podLog(null, pod, { container: "agent", follow: !final, sinceTime: since }).pipe(
        Stream.runForEach((l) =>
          Effect.sync(() => {
            taken.push(l.line)
            since = `${l.timestamp.slice(0, 19)}Z`
          })
        ),
        Effect.catchTag("KubernetesUnreachable", () => Effect.void)
      )
      if (final) return taken
    }
  })

const side = (which: "agentrun" | "baseline", drops: number, seed: number) =>
  Effect.gen(function*() {
    const fake = yield* fakeKubernetes({ images: { "agent:bench": hostImage() } })
    const api = yield* KubernetesApiLive.make({ kubeconfigPath: fake.kubeconfigPath, context: null, namespace: null })
    const random = prng(seed)
    for (let k = 0; k < drops; k++) fake.faults.dropLogStreams({ afterLines: 1 + Math.floor(random() * 60), mode: k % 2 === 0 ? "reset" : "eof", times: 1 })
    yield* api.createJob(null, {
      metadata: { name: "drops" },
      spec: { backoffLimit: 0, template: { spec: { restartPolicy: "Never", containers: [{ name: "agent", image: "agent:bench", command: ["sh", "-c", script] }] } } }
    })
    const pod = yield* Effect.promise(() => fake.waitFor("the Pod to run", () => fake.list("pods", fake.namespace).find((p) => p.metadata.labels?.["job-name"] === "drops" && (p.status?.containerStatuses ?? []).length > 0)?.metadata.name, 30_000))
    let pendingAtEnd = drops
    const watchEnd = fake.waitFor("the container to end", () => terminatedNow(fake, pod) && (pendingAtEnd = fake.faults.pendingLogDrops(), true), 120_000)
    const t0 = performance.now()
    const taken = which === "agentrun"
      ? Array.from(yield* Stream.runCollect(followPodLog(api, {
        namespace: null,
        pod,
        container: "agent",
        cursor: emptyCursor,
        containerTerminated: Effect.sync(() => terminatedNow(fake, pod)),
        reconnect: Schedule.recurs(50),
        idleResumeMs: 0
      }))).map((l) => l.line)
      : yield* naiveFollow(api, fake, pod)
    const ms = performance.now() - t0
    yield* Effect.promise(() => watchEnd)
    const seen = new Set(taken)
    return {
      lines: taken.length,
      lost: expected.filter((l) => !seen.has(l)).length,
      duplicated: taken.length - seen.size,
      dropsDuringOutput: drops - pendingAtEnd,
      ms
    } satisfies DropsSide
  }).pipe(Effect.scoped)

/** Both sides, one after the other, with the same drop points. */
export const benchLogDrops = (options: { readonly drops?: number; readonly seed?: number } = {}): Promise<LogDropsResult> => {
  const drops = options.drops ?? 100
  const seed = options.seed ?? 13
  return Effect.runPromise(
    Effect.gen(function*() {
      const agentrun = yield* side("agentrun", drops, seed)
      const baseline = yield* side("baseline", drops, seed)
      return { expectedLines: expected.length, drops, agentrun, baseline }
    })
  )
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await benchLogDrops(), null, 2) + "\n")
  process.exit(0)
}
