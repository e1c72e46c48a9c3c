/**
 * A fake Kubernetes API server with a simulated node, for driving the real
 * `@kubernetes/client-node` (and `kubectl`) offline. See README.md in this folder for what it models
 * and its knobs.
 *
 * `start()` listens on 127.0.0.1 (a free port), writes a kubeconfig (plain HTTP with
 * `insecure-skip-tls-verify: true`: client-node 2.x refuses `http:` servers without it), and returns
 * a handle: the URL, the kubeconfig, a read view of the objects, and `faults`, the typed control API.
 *
 * @module
 */
import * as fs from "node:fs"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import type { Scope } from "effect"
import { Cluster, nodeName, type PropagationPolicy } from "./cluster.ts"
import { JobController } from "./jobController.ts"
import { Kubelet, volumeSupport, type ImageSpec } from "./kubelet.ts"
import type { KindName, KObject } from "./objects.ts"
import { ApiServer, type Denial, type HttpFaultRule, type LogDropRule, type RecordedRequest } from "./server.ts"

export { volumeSupport, type ImageSpec, type KObject, type HttpFaultRule, type LogDropRule, type Denial, type RecordedRequest }

/** Options of {@link start}. */
export interface StartOptions {
  /** The kubeconfig context's namespace (default "default"). */
  readonly namespace?: string
  /** Images the node can "pull", by the exact name a container gives. Others fail with ErrImagePull. */
  readonly images?: Readonly<Record<string, ImageSpec>>
  /** Interval of watch BOOKMARK events (ms; default 1000; a real API server sends about one a minute). */
  readonly bookmarkIntervalMs?: number
  /** Delay between image pull retries (ms; default 500). */
  readonly pullRetryMs?: number
}

/** The typed fault-injection API. Every method acts at once; rules apply to later requests. */
export interface Faults {
  /** Adds an HTTP fault rule (5xx, slow, silence, reset); returns a function removing it. */
  readonly http: (rule: HttpFaultRule) => () => void
  /** Cuts `pods/log` follow streams after N lines, by TCP reset, clean EOF or a stall (open, silent); returns a remover. */
  readonly dropLogStreams: (rule: LogDropRule) => () => void
  /** How many log-stream drops the rules still hold (finite `times` only). */
  readonly pendingLogDrops: () => number
  /** Ends open watches now (reset or clean EOF); returns how many. */
  readonly dropWatches: (mode: "reset" | "eof", kind?: KindName) => number
  /** Compacts the history and sends every open watch an ERROR event with a 410 Expired Status (mid-stream 410). */
  readonly expireWatches: (kind?: KindName) => number
  /** Compacts the watch history: a later watch from an older resourceVersion gets 410. */
  readonly compactHistory: () => void
  /** Someone else deletes the Job (default propagation Background, as `kubectl delete` does). */
  readonly deleteJob: (namespace: string, name: string, propagationPolicy?: PropagationPolicy) => void
  /** The job controller acts on a Pod's terminal state this much later than the kubelet reports it (ms). */
  readonly statusLag: (ms: number) => void
  /** OOM-kills a container: SIGKILL, terminated reason OOMKilled (137), an OOMKilling Node event. */
  readonly oomKill: (namespace: string, podName: string, container?: string) => void
  /** New Pods stay Pending with PodScheduled=False reason Unschedulable and this message; null schedules them. */
  readonly unschedulable: (message: string | null) => void
  /**
   * Evicts a Pod. `api`: the Eviction API (DisruptionTarget EvictionByEvictionAPI, graceful delete).
   * `kubelet`: node-pressure eviction (DisruptionTarget TerminationByKubelet, containers killed,
   * phase Failed, status.reason Evicted with the kubelet's message; the Pod object stays).
   */
  readonly evict: (namespace: string, podName: string, by?: "api" | "kubelet") => void
  /** The scheduler preempts the Pod (DisruptionTarget PreemptionByScheduler, graceful delete). */
  readonly preempt: (namespace: string, podName: string) => void
  /**
   * The Pod's node is lost: its processes die unreported, DisruptionTarget DeletionByTaintManager is
   * set and the Pod is force-deleted (logs become unavailable).
   */
  readonly loseNode: (namespace: string, podName: string) => void
  /** Force-deletes the Pod and creates another with the same name and spec (a new UID). */
  readonly recreatePod: (namespace: string, podName: string) => KObject
  /** Denies a verb/resource (403 Forbidden on requests, allowed=false in SelfSubjectAccessReview); returns a remover. */
  readonly deny: (denial: Denial) => () => void
}

/** A running fake. */
export interface FakeKubernetes {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** A kubeconfig file for this fake (context "fake", the namespace of the options). */
  readonly kubeconfigPath: string
  readonly kubeconfig: string
  readonly namespace: string
  /** A copy of an object, or undefined. */
  readonly get: (kind: KindName, namespace: string | undefined, name: string) => KObject | undefined
  readonly list: (kind: KindName, namespace?: string) => Array<KObject>
  /** Registers an image the node can pull from now on. */
  readonly registerImage: (name: string, spec: ImageSpec) => void
  /** The pid of a running container's main process, or undefined. */
  readonly containerPid: (namespace: string, podName: string, container?: string) => number | undefined
  /** Every HTTP request served so far. */
  readonly requests: ReadonlyArray<RecordedRequest>
  /** How many watches are open now. */
  readonly openWatches: () => number
  /** How many `pods/log` responses are open now (a follow the client closed is not). */
  readonly openLogStreams: () => number
  /** Resolves when `predicate` holds (checked on every object change), rejects after `timeoutMs`. */
  readonly waitFor: <A>(what: string, predicate: () => A | undefined | false, timeoutMs?: number) => Promise<A>
  readonly faults: Faults
  /** Kills every container, ends every connection, stops listening, removes temp files. */
  readonly close: () => Promise<void>
}

const kubeconfigFor = (url: string, namespace: string) => `apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: ${url}
    insecure-skip-tls-verify: true
contexts:
- name: fake
  context:
    cluster: fake
    user: fake
    namespace: ${namespace}
current-context: fake
users:
- name: fake
  user:
    token: fake-k8s-token
`

/** Starts a fake API server + node on 127.0.0.1. */
export const start = async (options: StartOptions = {}): Promise<FakeKubernetes> => {
  const namespace = options.namespace ?? "default"
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "fake-k8s-"))
  const cluster = new Cluster()
  const kubelet = new Kubelet(cluster, root)
  const jobs = new JobController(cluster)
  const api = new ApiServer(cluster, kubelet)
  for (const [name, spec] of Object.entries(options.images ?? {})) kubelet.images.set(name, spec)
  if (options.bookmarkIntervalMs !== undefined) api.knobs.bookmarkIntervalMs = options.bookmarkIntervalMs
  if (options.pullRetryMs !== undefined) kubelet.knobs.pullRetryMs = options.pullRetryMs
  await new Promise<void>((resolve, reject) => {
    api.server.once("error", reject)
    api.server.listen(0, "127.0.0.1", () => resolve())
  })
  const port = (api.server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}`
  const kubeconfig = kubeconfigFor(url, namespace)
  const kubeconfigPath = path.join(root, "kubeconfig")
  fs.writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 })

  const pod = (ns: string, name: string) => {
    const p = cluster.store.get("pods", ns, name)
    if (p === undefined) throw new Error(`fake-k8s: no pod ${ns}/${name}`)
    return p
  }
  const containerOf = (p: KObject, c?: string) => c ?? (p.spec.containers[0].name as string)
  const addCondition = (ns: string, name: string, reason: string, message: string) =>
    cluster.store.mutate("pods", ns, name, (o) => {
      const conditions: Array<any> = o.status.conditions ??= []
      conditions.push({ type: "DisruptionTarget", status: "True", lastProbeTime: null, lastTransitionTime: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(".000Z", "Z"), reason, message })
    })

  const faults: Faults = {
    http: (rule) => {
      const entry = { rule, remaining: rule.times ?? Number.POSITIVE_INFINITY }
      api.knobs.httpFaults.push(entry)
      return () => {
        const i = api.knobs.httpFaults.indexOf(entry)
        if (i >= 0) api.knobs.httpFaults.splice(i, 1)
      }
    },
    dropLogStreams: (rule) => {
      const entry = { rule, remaining: rule.times ?? Number.POSITIVE_INFINITY }
      api.knobs.logDrops.push(entry)
      return () => {
        const i = api.knobs.logDrops.indexOf(entry)
        if (i >= 0) api.knobs.logDrops.splice(i, 1)
      }
    },
    pendingLogDrops: () => api.knobs.logDrops.reduce((n, d) => n + (Number.isFinite(d.remaining) ? d.remaining : 0), 0),
    dropWatches: (mode, kind) => api.endWatches(mode, kind),
    expireWatches: (kind) => {
      cluster.store.compact()
      return api.endWatches("expire", kind)
    },
    compactHistory: () => cluster.store.compact(),
    deleteJob: (ns, name, policy = "Background") => void cluster.delete("jobs", ns, name, { propagationPolicy: policy }),
    statusLag: (ms) => {
      jobs.knobs.statusLagMs = ms
    },
    oomKill: (ns, name, container) => {
      const p = pod(ns, name)
      if (!kubelet.oomKill(p.metadata.uid, containerOf(p, container))) throw new Error(`fake-k8s: ${ns}/${name} has no running container to OOM-kill`)
    },
    unschedulable: (message) => {
      kubelet.knobs.unschedulable = message
      if (message === null) kubelet.rescheduleAll()
    },
    evict: (ns, name, by = "api") => {
      if (by === "api") return api.evict(ns, name, "EvictionByEvictionAPI", "Eviction API: evicting")
      const message = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 42Mi. Container agent was using 1900Mi, request is 2Gi, has larger consumption of memory."
      const p = addCondition(ns, name, "TerminationByKubelet", message)
      if (p === undefined) throw new Error(`fake-k8s: no pod ${ns}/${name}`)
      cluster.store.mutate("pods", ns, name, (o) => {
        o.status.reason = "Evicted"
        o.status.message = message
      })
      cluster.recordEvent(p, "Warning", "Evicted", message, "kubelet")
      for (const c of p.spec.containers as Array<any>) {
        const pid = kubelet.pidOf(p.metadata.uid, c.name)
        if (pid !== undefined) {
          try {
            process.kill(-pid, "SIGKILL")
          } catch {
            // Exited meanwhile.
          }
        }
      }
    },
    preempt: (ns, name) => api.evict(ns, name, "PreemptionByScheduler", "default-scheduler: preempting to accommodate a higher priority pod"),
    loseNode: (ns, name) => {
      const p = pod(ns, name)
      kubelet.loseNode(p.metadata.uid)
      addCondition(ns, name, "DeletionByTaintManager", "Taint manager: deleting due to NoExecute taint")
      cluster.recordEvent(p, "Normal", "TaintManagerEviction", `Marking for deletion Pod ${ns}/${name}`, "taint-eviction-controller")
      cluster.store.remove("pods", ns, name)
    },
    recreatePod: (ns, name) => {
      const p = pod(ns, name)
      cluster.delete("pods", ns, name, { gracePeriodSeconds: 0 })
      const { nodeName: _n, ...spec } = p.spec
      return cluster.store.create("pods", {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: ns, ...(p.metadata.labels === undefined ? {} : { labels: p.metadata.labels }), ...(p.metadata.ownerReferences === undefined ? {} : { ownerReferences: p.metadata.ownerReferences }) } as unknown as KObject["metadata"],
        spec,
        status: { phase: "Pending", qosClass: "Guaranteed" }
      })
    },
    deny: (denial) => {
      api.knobs.denials.push(denial)
      return () => {
        const i = api.knobs.denials.indexOf(denial)
        if (i >= 0) api.knobs.denials.splice(i, 1)
      }
    }
  }

  const waitFor = <A>(what: string, predicate: () => A | undefined | false, timeoutMs = 20_000): Promise<A> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const v = predicate()
        if (v !== undefined && v !== false) {
          done()
          resolve(v)
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`fake-k8s: timed out after ${timeoutMs} ms waiting for ${what}`))
      }, timeoutMs)
      const poll = setInterval(check, 50)
      const unsubscribe = cluster.store.subscribe(() => queueMicrotask(check))
      const done = () => {
        clearTimeout(timer)
        clearInterval(poll)
        unsubscribe()
      }
      check()
    })

  let closed = false
  return {
    url,
    port,
    kubeconfigPath,
    kubeconfig,
    namespace,
    get: (kind, ns, name) => cluster.store.get(kind, ns, name),
    list: (kind, ns) => cluster.store.list(kind, ns),
    registerImage: (name, spec) => void kubelet.images.set(name, spec),
    containerPid: (ns, name, container) => {
      const p = cluster.store.get("pods", ns, name)
      return p === undefined ? undefined : kubelet.pidOf(p.metadata.uid, containerOf(p, container))
    },
    requests: api.requests,
    openWatches: () => api.openWatches,
    openLogStreams: () => api.openLogStreams,
    waitFor,
    faults,
    close: async () => {
      if (closed) return
      closed = true
      cluster.close()
      kubelet.close()
      api.destroyAll()
      await new Promise<void>((resolve) => api.server.close(() => resolve()))
      fs.rmSync(root, { recursive: true, force: true })
    }
  }
}

/** {@link start} as a scoped Effect: closed with the scope. */
export const fakeKubernetes = (options: StartOptions = {}): Effect.Effect<FakeKubernetes, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => start(options), catch: (e) => (e instanceof Error ? e : new Error(String(e))) }),
    (fake) => Effect.promise(() => fake.close())
  )

/** The node's name (Pods' spec.nodeName). */
export { nodeName }

/** An image spec running commands with this machine's PATH and HOME (what most tests register). */
export const hostImage = (extraEnv: Readonly<Record<string, string>> = {}): ImageSpec => ({
  env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...extraEnv }
})
