/**
 * Shared setup of the KubernetesApi tests: a fake API server per test and the live layer built
 * from the kubeconfig it writes, with a reconnect Schedule that does not wait (the fake answers at
 * once; the waiting Schedule itself is tested with the TestClock).
 */
import type { V1Job, V1Pod } from "@kubernetes/client-node"
import { Effect, Schedule } from "effect"
import type { KubernetesApiShape } from "../../packages/core/src/k8s/KubernetesApi.ts"
import * as KubernetesApiLive from "../../packages/core/src/k8s/KubernetesApiLive.ts"
import { type FakeKubernetes, fakeKubernetes, hostImage, type StartOptions } from "../support/fake-k8s/FakeKubernetes.ts"

export const image = "agent:test"

/** A fake with `agent:test` registered, and the live API over its kubeconfig. */
export const withFake = (options: StartOptions & { readonly live?: KubernetesApiLive.LiveOptions } = {}) =>
  Effect.gen(function*() {
    const fake: FakeKubernetes = yield* fakeKubernetes({ images: { [image]: hostImage() }, ...options })
    const api: KubernetesApiShape = yield* KubernetesApiLive.make(
      { kubeconfigPath: fake.kubeconfigPath, context: null, namespace: null },
      { watchReconnect: Schedule.recurs(20), requestTimeoutMs: 5_000, ...options.live }
    )
    return { fake, api }
  })

/** A Job running `script` in one container named `agent`. */
export const job = (name: string, script: string, labels: Readonly<Record<string, string>> = {}): V1Job => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name, labels: { "app.kubernetes.io/managed-by": "agentrun", ...labels } },
  spec: {
    backoffLimit: 0,
    template: {
      metadata: { labels: { "job-name": name } },
      spec: { restartPolicy: "Never", containers: [{ name: "agent", image, command: ["sh", "-c", script] }] }
    }
  }
})

/** Waits (real time: the fake runs real processes) for the Job's Pod and returns it. */
export const podOf = (fake: FakeKubernetes, jobName: string, predicate: (p: V1Pod) => boolean = () => true) =>
  Effect.promise(() =>
    fake.waitFor(`a Pod of ${jobName}`, () =>
      (fake.list("pods", fake.namespace) as unknown as Array<V1Pod>).find((p) => p.metadata?.labels?.["job-name"] === jobName && predicate(p))
    )
  )

/** The Pod's container `agent` is running. */
export const running = (p: V1Pod) => p.status?.containerStatuses?.some((c) => c.name === "agent" && c.state?.running !== undefined) === true

/** The Pod's container `agent` has terminated. */
export const terminated = (p: V1Pod) => p.status?.containerStatuses?.some((c) => c.name === "agent" && c.state?.terminated !== undefined) === true
