/**
 * Which cluster the extension asks about a stored Kubernetes run: the one its record names (its
 * context and namespace, through the settings' kubeconfig), not the `agentrun.k8s.*` settings'
 * current one. A launch may take its context from the config file; after a reload the run must be
 * checked (and cancelled, re-attached) there, as the CLI does.
 */
import { AgentrunApp, type ClusterTarget, RunCatalog, type RunId, type RunRecord, RunStore } from "@agentrun/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { fakeKubernetes } from "../../../test/support/fake-k8s/FakeKubernetes.ts"
import { KubernetesOnFirstUse, targetOfRecord } from "../src/core/KubernetesOnFirstUse.ts"

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f()
})

const k8sRecord = (runId: string, context: string | null, namespace: string): RunRecord => ({
  schemaVersion: 2,
  runId: runId as RunId,
  status: "running",
  createdAt: "2026-12-04T10:00:00.000Z",
  endedAt: null,
  placement: {
    _tag: "Kubernetes",
    context,
    namespace,
    jobName: `agentrun-${runId}`,
    jobUid: null,
    podName: null,
    podUid: null,
    nodeName: null,
    logCursor: null,
    supervisor: null,
    agentId: null,
    taskId: null
  },
  agent: { command: ["claude", "-p"], cwd: "/workspace", timeoutMs: null },
  promptPreview: "hi",
  outcome: null,
  summary: null
})

describe("the extension's Kubernetes backend and stored runs", () => {
  it("targetOfRecord: a Kubernetes record's context and namespace with the settings' kubeconfig; a local record the settings' cluster", () => {
    const settings: ClusterTarget = { kubeconfigPath: "/home/u/.kube/config", context: "dev", namespace: "agents" }
    expect(targetOfRecord(settings, k8sRecord("20261204-100000-000-aaaaaa", "prod", "batch"))).toEqual({ kubeconfigPath: "/home/u/.kube/config", context: "prod", namespace: "batch" })
    expect(targetOfRecord(settings, k8sRecord("20261204-100000-000-bbbbbb", null, "agents"))).toEqual({ kubeconfigPath: "/home/u/.kube/config", context: null, namespace: "agents" })
    const local: RunRecord = { ...k8sRecord("20261204-100000-000-cccccc", null, "x"), placement: { _tag: "Local", hostname: "h", supervisorPid: 1, supervisorStartTicks: null, agentPid: null, agentStartTicks: null } }
    expect(targetOfRecord(settings, local)).toBe(settings)
  })

  it("a run recorded in a context the kubeconfig lacks is Unknown (never judged gone from the settings' cluster); one in the kubeconfig's context is asked there", async () => {
    const root = mkdtempSync(join(tmpdir(), "agentrun-ext-target-"))
    const scope = Effect.runSync(Scope.make())
    cleanups.push(async () => {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      rmSync(root, { recursive: true, force: true })
    })
    const k8s = await Effect.runPromise(Scope.provide(scope)(fakeKubernetes({})))
    const settings: ClusterTarget = { kubeconfigPath: k8s.kubeconfigPath, context: null, namespace: null }
    const app = await Effect.runPromise(Layer.buildWithScope(
      AgentrunApp.layer({
        stateDir: join(root, "state"),
        env: { HOME: root, XDG_STATE_HOME: join(root, "xdg-state"), XDG_DATA_HOME: join(root, "xdg-data") },
        backends: KubernetesOnFirstUse.register(settings)
      }),
      scope
    ))
    const catalog = Context.get(app, RunCatalog)
    const store = Context.get(app, RunStore)
    const elsewhere = k8sRecord("20261204-100000-000-dddddd", "elsewhere", k8s.namespace)
    const here = k8sRecord("20261204-100000-000-eeeeee", null, k8s.namespace)
    await Effect.runPromise(Effect.all([store.writeRecord(elsewhere), store.writeRecord(here)]))

    // Before the fix the settings' cluster (the current context) was asked: no such Job there,
    // so the run in "elsewhere" looked finished (Orphaned, agent not alive) and recovery would
    // have marked it Interrupted.
    const unknown = await Effect.runPromise(catalog.liveness(elsewhere))
    expect(unknown).toMatchObject({ _tag: "Unknown" })
    expect(JSON.stringify(unknown)).toContain("elsewhere")
    const gone = await Effect.runPromise(catalog.liveness(here))
    expect(gone).toEqual({ _tag: "Orphaned", reason: "supervisor-gone", agentAlive: false })
    expect(k8s.requests.some((q) => q.method === "GET" && q.path.endsWith(`/jobs/${here.placement._tag === "Kubernetes" ? here.placement.jobName : ""}`))).toBe(true)
  }, 60_000)
})
