/**
 * A Kubernetes backend for tests (placement `Kubernetes`): it records what it is asked
 * ({@link KubernetesTest}'s call log) and answers the liveness its controls hold; its runs are
 * records in the run store, no cluster. Needs the run store.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import type { BackendShape, CancelOptions, RunHandle } from "../../src/backend/Backend.ts"
import type { KubernetesPlacement, RunRecord, RunSpec } from "../../src/domain/Run.ts"
import type { RunLiveness } from "../../src/domain/RunLiveness.ts"
import { RunStore } from "../../src/store/RunStore.ts"
import { sampleRecord } from "../store/conformance.ts"

export const placement = (runId: string): KubernetesPlacement => ({
  _tag: "Kubernetes",
  context: null,
  namespace: "agents",
  jobName: `agentrun-${runId.slice(-6)}`,
  jobUid: null,
  podName: null,
  podUid: null,
  nodeName: null,
  logCursor: null,
  supervisor: { hostname: "ci-7", pid: 4242, startTimeTicks: null },
  agentId: null,
  taskId: null
})

export const kubernetes = (runId: string, status: RunRecord["status"] = "running"): RunRecord => ({ ...sampleRecord(runId, status), placement: placement(runId) })

/** What the test Kubernetes backend was asked. */
export interface Calls {
  readonly launched: ReadonlyArray<RunSpec>
  readonly liveness: ReadonlyArray<string>
  readonly cancelled: ReadonlyArray<{ readonly runId: string; readonly options: CancelOptions | undefined }>
  readonly reattached: ReadonlyArray<string>
}

/** The test Kubernetes backend's controls: its call log, and the liveness it answers per run. */
export class KubernetesTest extends Context.Service<KubernetesTest, {
  readonly calls: Ref.Ref<Calls>
  readonly answer: Ref.Ref<RunLiveness>
}>()("test/KubernetesTest") {}

/** A Kubernetes backend for tests: records what it is asked; its runs are records in the store, no cluster. */
export class TestKubernetesBackend extends Context.Service<TestKubernetesBackend, BackendShape>()("test/TestKubernetesBackend") {
  static readonly layer = Layer.effect(
    TestKubernetesBackend,
    Effect.gen(function*() {
      const store = yield* RunStore
      const { answer, calls } = yield* KubernetesTest
      const handleOf = (record: RunRecord): RunHandle => ({
        runId: record.runId,
        progress: Stream.make({ _tag: "Started", runId: record.runId, pid: null } as const),
        cancel: () => Effect.void,
        result: Effect.never
      })
      return TestKubernetesBackend.of({
        placement: "Kubernetes",
        launch: (spec) =>
          Effect.gen(function*() {
            yield* Ref.update(calls, (c) => ({ ...c, launched: [...c.launched, spec] }))
            const record = kubernetes("20261203-120000-000-k8s001")
            yield* store.writeRecord(record)
            return handleOf(record)
          }),
        reattach: (record) => Effect.as(Ref.update(calls, (c) => ({ ...c, reattached: [...c.reattached, record.runId] })), handleOf(record)),
        liveness: (record) => Effect.andThen(Ref.update(calls, (c) => ({ ...c, liveness: [...c.liveness, record.runId] })), Ref.get(answer)),
        cancel: (record, options) =>
          Effect.as(
            Ref.update(calls, (c) => ({ ...c, cancelled: [...c.cancelled, { runId: record.runId, options }] })),
            { _tag: "AskedSupervisor", runId: record.runId, supervisorPid: 4242 } as const
          )
      })
    })
  ).pipe(
    Layer.provideMerge(Layer.effect(
      KubernetesTest,
      Effect.gen(function*() {
        return KubernetesTest.of({
          calls: yield* Ref.make<Calls>({ launched: [], liveness: [], cancelled: [], reattached: [] }),
          answer: yield* Ref.make<RunLiveness>({ _tag: "Supervised" })
        })
      })
    ))
  )
}

