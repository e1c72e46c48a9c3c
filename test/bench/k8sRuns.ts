/**
 * Issue 13's "Numbers" for whole Kubernetes runs: the real claude "in a pod" of the fake API server
 * (test/support/fake-k8s, whose kubelet runs the Job's entry script as a local process) against the
 * fake Messages API, followed by the KubernetesBackend with its default settings (the ones users
 * get), over KubernetesApiLive and @kubernetes/client-node.
 *
 * - `benchQuiet`: API requests per minute while a run is quiet: claude waits on a reply the fake
 *   Messages API streams over `quietMs` (no stream-json line meanwhile). The window starts
 *   `settleMs` after the Messages API got claude's request (the watches and the log stream are
 *   open by then) and ends `settleMs` before the reply completes. Counted from the fake's
 *   `requests` (every HTTP request it received). Once without an agent, once with `agentId` (the
 *   Lease is renewed every `leaseRenewIntervalMs`).
 * - `benchVerdictLatency`: (the Job gets its terminal condition, `Complete` or `Failed`) → (the
 *   run's `result` resolves, after the verdict is written to the store), in ms, per run.
 *
 * From run.ts: `await benchQuiet()`, `await benchVerdictLatency({ runs: 3 })` (return figures; print nothing).
 */
import { ProcessControl } from "../../packages/core/src/procfs/ProcessControl.ts"
import { Effect, Layer } from "effect"
import { leaseRenewIntervalMs } from "../../packages/core/src/k8s/AgentLease.ts"
import { KubernetesBackend } from "../../packages/core/src/k8s/KubernetesBackend.ts"
import { MemoryRunStore } from "../../packages/core/src/testing.ts"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import type { Scenario } from "../support/fake-anthropic/FakeMessagesApi.ts"
import { apiLayer, cluster, k8sSpec } from "../k8s/backendHarness.ts"

/** The backend as users get it (default follow settings), an in-memory store. */
const defaultBackend = (k8s: Parameters<typeof apiLayer>[0]) =>
  KubernetesBackend.layer({}).pipe(Layer.provideMerge(apiLayer(k8s)), Layer.provideMerge(MemoryRunStore.layer), Layer.provide(ProcessControl.layer))

/** One quiet run's figures. */
export interface QuietSide {
  /** Requests to the API server in the window. */
  readonly requests: number
  readonly windowMs: number
  readonly perMinute: number
  /** `METHOD path` (query cut) → count, in the window. */
  readonly byPath: Readonly<Record<string, number>>
  readonly outcome: string
}

export interface QuietResult {
  readonly quietMs: number
  readonly leaseRenewMs: number
  readonly withoutAgent: QuietSide
  readonly withAgent: QuietSide
}

const quietScenario = (quietMs: number): Scenario => ({
  name: "quiet",
  replies: [{ kind: "slowText", text: "Done after a long think.", durationMs: quietMs, chunks: 2 }],
  sideRequests: "answerText"
})

const quietSide = (quietMs: number, settleMs: number, agentId: string | null) =>
  Effect.gen(function*() {
    const { k8s, anthropic } = yield* cluster(quietScenario(quietMs))
    return yield* Effect.gen(function*() {
      const backend = yield* KubernetesBackend
      const handle = yield* backend.launch(k8sSpec(anthropic, k8s, { agentId }))
      const asked = () => anthropic.requests.some((r) => r.replyKind === "slowText")
      while (!asked()) yield* Effect.sleep("100 millis")
      yield* Effect.sleep(`${settleMs} millis`)
      const from = k8s.requests.length
      const t0 = performance.now()
      yield* Effect.sleep(`${quietMs - 2 * settleMs} millis`)
      const windowMs = performance.now() - t0
      const seen = k8s.requests.slice(from)
      const { outcome } = yield* handle.result
      const byPath: Record<string, number> = {}
      for (const r of seen) {
        const key = `${r.method} ${r.path.split("?")[0]}`
        byPath[key] = (byPath[key] ?? 0) + 1
      }
      return { requests: seen.length, windowMs, perMinute: (seen.length * 60_000) / windowMs, byPath, outcome: outcome._tag } satisfies QuietSide
    }).pipe(Effect.provide(defaultBackend(k8s)))
  }).pipe(Effect.scoped)

/** Both sides at once (separate fake clusters and APIs), so the run takes `quietMs` once. */
export const benchQuiet = (options: { readonly quietMs?: number; readonly settleMs?: number } = {}): Promise<QuietResult> => {
  const quietMs = options.quietMs ?? 60_000
  const settleMs = options.settleMs ?? 5_000
  return Effect.runPromise(
    Effect.all([quietSide(quietMs, settleMs, null), quietSide(quietMs, settleMs, "bench-agent")], { concurrency: 2 }).pipe(
      Effect.map(([withoutAgent, withAgent]) => ({ quietMs, leaseRenewMs: leaseRenewIntervalMs, withoutAgent, withAgent }))
    )
  )
}

export interface VerdictLatencyResult {
  /** ms from the Job's terminal condition to `result`, per run. */
  readonly ms: ReadonlyArray<number>
  readonly outcomes: ReadonlyArray<string>
}

const terminalCondition = (job: any): string | undefined =>
  (job?.status?.conditions ?? []).find((c: any) => (c.type === "Complete" || c.type === "Failed") && c.status === "True")?.type

const latencyRun = Effect.gen(function*() {
  const { k8s, anthropic } = yield* cluster(scenarios.success)
  return yield* Effect.gen(function*() {
    const backend = yield* KubernetesBackend
    const handle = yield* backend.launch(k8sSpec(anthropic, k8s))
    const jobName = `agentrun-${handle.runId}`
    // waitFor checks on every object change in the fake: the moment the condition is stored.
    const conditionAt = k8s.waitFor("the Job's terminal condition", () => terminalCondition(k8s.get("jobs", k8s.namespace, jobName)) !== undefined && performance.now(), 120_000)
    const { outcome } = yield* handle.result
    const resultAt = performance.now()
    const at = yield* Effect.promise(() => conditionAt)
    return { ms: resultAt - at, outcome: outcome._tag }
  }).pipe(Effect.provide(defaultBackend(k8s)))
}).pipe(Effect.scoped)

/** `runs` successful runs one after the other. */
export const benchVerdictLatency = (options: { readonly runs?: number } = {}): Promise<VerdictLatencyResult> =>
  Effect.runPromise(
    Effect.gen(function*() {
      const ms: Array<number> = []
      const outcomes: Array<string> = []
      for (let i = 0; i < (options.runs ?? 3); i++) {
        const r = yield* latencyRun
        ms.push(r.ms)
        outcomes.push(r.outcome)
      }
      return { ms, outcomes }
    })
  )
