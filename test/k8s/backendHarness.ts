/**
 * The Kubernetes backend against our fake API server (test/support/fake-k8s), through the real
 * KubernetesApi layer and @kubernetes/client-node: the fake's kubelet runs the Job's container
 * command (the entry script) as a local process, so the real claude, against the fake Messages
 * API, runs "in a pod".
 */
import { Effect, Layer } from "effect"
import type { Scope } from "effect"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import type { RunSpec } from "../../packages/core/src/domain/Run.ts"
import { KubernetesApi } from "../../packages/core/src/k8s/KubernetesApi.ts"
import * as KubernetesApiLive from "../../packages/core/src/k8s/KubernetesApiLive.ts"
import { KubernetesBackend, type KubernetesRunSpec } from "../../packages/core/src/k8s/KubernetesBackend.ts"
import type { FollowSettings } from "../../packages/core/src/k8s/KubernetesFollow.ts"
import { type KubernetesRunOptions, kubernetesRunOptions } from "../../packages/core/src/k8s/KubernetesRunOptions.ts"
import { ProcessControl } from "../../packages/core/src/procfs/ProcessControl.ts"
import { RunStore } from "../../packages/core/src/store/RunStore.ts"
import { MemoryRunStore } from "../../packages/core/src/testing.ts"
import { type FakeMessagesApi, fakeMessagesApi } from "../support/fake-anthropic/FakeMessagesApi.ts"
import { claudeBinary } from "../support/fake-anthropic/runClaude.ts"
import { type Scenario } from "../support/fake-anthropic/FakeMessagesApi.ts"
import { type FakeKubernetes, fakeKubernetes, hostImage } from "../support/fake-k8s/FakeKubernetes.ts"

/** The image the fake node "pulls": this machine's PATH, the real claude binary as the entry's `claude`, claude's offline settings. */
export const agentImage = "agentrun/agent:test"

/** A fake cluster whose node has {@link agentImage}, and a fake Messages API playing `scenario`. */
export const cluster = (scenario: Scenario): Effect.Effect<{ readonly k8s: FakeKubernetes; readonly anthropic: FakeMessagesApi }, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const anthropic = yield* fakeMessagesApi({ scenario })
    const k8s = yield* fakeKubernetes({
      images: {
        [agentImage]: hostImage({
          // The native binary (the node_modules/.bin shim does not pass signals on).
          AGENTRUN_CLAUDE: claudeBinary,
          // In the image, as a real one would carry them; HOME is the Pod's (an emptyDir).
          ANTHROPIC_API_KEY: "sk-ant-test-fake-key-0000",
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
          DISABLE_AUTOUPDATER: "1",
          DISABLE_TELEMETRY: "1",
          DISABLE_ERROR_REPORTING: "1"
        })
      },
      bookmarkIntervalMs: 1000,
      pullRetryMs: 200
    })
    return { k8s, anthropic }
  })

/** A run spec for the fake cluster: claude pointed at the fake Messages API with `--pod-env`. */
export const k8sSpec = (anthropic: FakeMessagesApi, k8s: FakeKubernetes, options: Partial<KubernetesRunOptions> = {}, spec: Partial<RunSpec> = {}): KubernetesRunSpec => ({
  prompt: "Say hello.",
  cwd: NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "agentrun-k8s-cwd-")),
  claudePath: null,
  claudeArgs: [],
  model: null,
  maxTurns: null,
  timeoutMs: null,
  env: {},
  watchdog: null,
  stopGrace: { interruptGraceMs: 3_000, terminateGraceMs: 2_000 },
  backend: "k8s",
  ...spec,
  kubernetes: kubernetesRunOptions({
    namespace: k8s.namespace,
    image: agentImage,
    podEnv: [{ name: "ANTHROPIC_BASE_URL", value: anthropic.url }],
    ...options
  })
})

/** Short waits, so failures that wait on the cluster are decided within a test's time. */
export const quickSettings: Partial<FollowSettings> = {
  lagWaitMs: 2_000,
  logDrainMs: 5_000,
  cursorPersistMs: 500,
  stopMarginMs: 5_000,
  leaseRenewMs: 500,
  cluster: { imagePullTimeoutMs: 1_500, scheduleTimeoutMs: 1_500 }
}

/** The API layer over the fake's kubeconfig. */
export const apiLayer = (k8s: FakeKubernetes) => KubernetesApiLive.layer({ kubeconfigPath: k8s.kubeconfigPath, context: null, namespace: null })

/**
 * The backend over the fake, with a store given from outside (so a second backend can share it).
 * `supervisor` plays another machine: its hostname is the supervisor identity's (default: this one's).
 */
export const backendLayer = (k8s: FakeKubernetes, settings: Partial<FollowSettings> = quickSettings, supervisor?: { readonly hostname: string; readonly pid: number }) =>
  KubernetesBackend.layer({ settings, logFollow: quickLogFollow, ...(supervisor === undefined ? {} : { supervisor }) }).pipe(
    Layer.provideMerge(apiLayer(k8s)),
    Layer.provide(ProcessControl.layer)
  )

/** The log follow's checks sooner than by default (the fake's container ends are seen at once). */
export const quickLogFollow = { idleResumeMs: 200, terminationCheckMs: 500, terminationGraceMs: 1_000 }

/** The backend and an in-memory store. */
export const withBackend = (k8s: FakeKubernetes, settings: Partial<FollowSettings> = quickSettings) =>
  backendLayer(k8s, settings).pipe(Layer.provideMerge(MemoryRunStore.layer))

/** Waits (real time) until `f` gives a value, polling the fake's state every 50 ms. */
export const until = <A>(k8s: FakeKubernetes, what: string, f: () => A | undefined | false, timeoutMs = 30_000) =>
  Effect.promise(() => k8s.waitFor(what, f, timeoutMs))

/** The run's Pod in the fake, once it exists. */
export const podOf = (k8s: FakeKubernetes, jobName: string) =>
  k8s.list("pods", k8s.namespace).find((p) => p.metadata.labels?.["job-name"] === jobName)

/** The stored record. */
export const recordOf = (runId: string) =>
  Effect.gen(function*() {
    const store = yield* RunStore
    return yield* store.readRecord(runId)
  })


export { KubernetesApi, KubernetesBackend, RunStore }
