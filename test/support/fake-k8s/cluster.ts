/**
 * The fake cluster's shared core: the store, deletion with its propagation policies and the garbage
 * collector for ownerReferences, the Event recorder, and the knobs the controllers read.
 *
 * Deletion follows https://kubernetes.io/docs/concepts/architecture/garbage-collection/:
 * - `Orphan`: dependents lose their ownerReference to the object, then it is removed. This is the
 *   default for a batch/v1 Job deleted through the API (kept for backward compatibility).
 * - `Background` (default for every other kind here): the object is removed at once; the garbage
 *   collector then deletes every dependent whose owners are all gone (Pods gracefully).
 * - `Foreground`: the object gets `deletionTimestamp` and the `foregroundDeletion` finalizer, its
 *   dependents are deleted, and it is removed when none is left.
 * A Pod is deleted gracefully: `deletionTimestamp` + `deletionGracePeriodSeconds`, the kubelet
 * stops its containers and removes it; `gracePeriodSeconds=0` removes it at once.
 *
 * @module
 */
import { Store, type StoreEvent } from "./store.ts"
import { deepCopy, kinds, rfc3339, type KindName, type KObject } from "./objects.ts"
import { randomBytes } from "node:crypto"

/** `propagationPolicy` of a DELETE. */
export type PropagationPolicy = "Orphan" | "Background" | "Foreground"

/** Options of one deletion. */
export interface DeleteOptions {
  readonly propagationPolicy?: PropagationPolicy
  /** Pods only: seconds before SIGKILL; 0 removes the Pod at once. Default: the Pod's own. */
  readonly gracePeriodSeconds?: number
}

/** What the kubelet must do when a Pod is deleted; set by the kubelet when it is built. */
export interface PodTerminator {
  /** The Pod got a deletionTimestamp: stop its containers, then remove it. */
  readonly terminate: (pod: KObject) => void
  /** The Pod was removed without waiting (force delete): kill whatever runs now. */
  readonly forget: (podUid: string) => void
}

/** The name of the only node. */
export const nodeName = "fake-node"

/** The cluster core. Timers it starts are cleared by `close`. */
export class Cluster {
  readonly store = new Store()
  podTerminator: PodTerminator = { terminate: () => {}, forget: () => {} }
  private readonly timers = new Set<NodeJS.Timeout>()
  private closed = false

  constructor() {
    this.store.subscribe((e) => this.collectGarbage(e))
    this.store.create("nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: nodeName, labels: { "kubernetes.io/hostname": nodeName, "kubernetes.io/os": "linux" } } as unknown as KObject["metadata"],
      spec: {},
      status: {
        conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" }],
        nodeInfo: { kubeletVersion: "v1.32.0-fake", containerRuntimeVersion: "fake://1.0", operatingSystem: "linux", architecture: "amd64" }
      }
    })
  }

  /** setTimeout that `close` clears; a no-op once closed. */
  after(ms: number, f: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t)
      if (!this.closed) f()
    }, Math.max(0, ms))
    this.timers.add(t)
    return t
  }

  cancelTimer(t: NodeJS.Timeout | undefined): void {
    if (t === undefined) return
    clearTimeout(t)
    this.timers.delete(t)
  }

  get isClosed(): boolean {
    return this.closed
  }

  close(): void {
    this.closed = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }

  /** Deletes an object with the API's semantics (see the module doc). Fails with 404 when absent. */
  delete(kind: KindName, namespace: string | undefined, name: string, options: DeleteOptions = {}): KObject {
    const obj = this.store.mustGet(kind, namespace, name)
    const policy = options.propagationPolicy ?? (kind === "jobs" ? "Orphan" : "Background")
    if (kind === "pods") return this.deletePod(obj, options.gracePeriodSeconds)
    if (policy === "Orphan") {
      for (const dep of this.dependentsOf(obj.metadata.uid)) {
        this.store.mutate(dep.kind, dep.object.metadata.namespace, dep.object.metadata.name, (o) => {
          o.metadata.ownerReferences = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== obj.metadata.uid)
          if (o.metadata.ownerReferences.length === 0) delete o.metadata.ownerReferences
        })
      }
      return this.store.remove(kind, namespace, name)
    }
    if (policy === "Foreground") {
      const marked = this.store.mutate(kind, namespace, name, (o) => {
        o.metadata.deletionTimestamp ??= rfc3339(Date.now())
        o.metadata.deletionGracePeriodSeconds = 0
        o.metadata.finalizers = [...new Set([...(o.metadata.finalizers ?? []), "foregroundDeletion"])]
      })!
      for (const dep of this.dependentsOf(obj.metadata.uid)) this.deleteDependent(dep.kind, dep.object)
      this.finishForeground(kind, marked)
      return marked
    }
    return this.store.remove(kind, namespace, name)
  }

  private deletePod(pod: KObject, gracePeriodSeconds: number | undefined): KObject {
    const grace = gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30
    if (grace === 0) {
      this.podTerminator.forget(pod.metadata.uid)
      return this.store.remove("pods", pod.metadata.namespace, pod.metadata.name)
    }
    if (pod.metadata.deletionTimestamp !== undefined) return pod
    const marked = this.store.mutate("pods", pod.metadata.namespace, pod.metadata.name, (o) => {
      o.metadata.deletionTimestamp = rfc3339(Date.now() + grace * 1000)
      o.metadata.deletionGracePeriodSeconds = grace
    })!
    this.podTerminator.terminate(marked)
    return marked
  }

  /** Objects of any kind holding an ownerReference to `uid`. */
  dependentsOf(uid: string): Array<{ kind: KindName; object: KObject }> {
    const out: Array<{ kind: KindName; object: KObject }> = []
    for (const kind of Object.keys(kinds) as Array<KindName>) {
      for (const o of this.store.list(kind)) {
        if (o.metadata.ownerReferences?.some((r) => r.uid === uid)) out.push({ kind, object: o })
      }
    }
    return out
  }

  private ownerExists(namespace: string | undefined, uid: string): boolean {
    for (const kind of Object.keys(kinds) as Array<KindName>) {
      if (this.store.list(kind).some((o) => o.metadata.uid === uid && (o.metadata.namespace === namespace || !kinds[kind].namespaced))) return true
    }
    return false
  }

  private deleteDependent(kind: KindName, o: KObject): void {
    try {
      this.delete(kind, o.metadata.namespace, o.metadata.name, { propagationPolicy: "Background" })
    } catch {
      // Already gone: another deletion got there first.
    }
  }

  // The garbage collector: an object all of whose owners are gone is deleted (background), whether
  // the owner went just now or was absent when the reference was written.
  private collectGarbage(e: StoreEvent): void {
    if (e.type === "DELETED") {
      const uid = e.object.metadata.uid
      queueMicrotask(() => {
        for (const dep of this.dependentsOf(uid)) {
          const live = (dep.object.metadata.ownerReferences ?? []).some((r) => r.uid !== uid && this.ownerExists(dep.object.metadata.namespace, r.uid))
          if (!live) this.deleteDependent(dep.kind, dep.object)
        }
        this.checkForegroundOwners()
      })
      return
    }
    const refs = e.object.metadata.ownerReferences
    if (refs !== undefined && refs.length > 0 && e.object.metadata.deletionTimestamp === undefined) {
      const ns = e.object.metadata.namespace
      const name = e.object.metadata.name
      queueMicrotask(() => {
        const cur = this.store.get(e.kind, ns, name)
        if (cur === undefined || cur.metadata.uid !== e.object.metadata.uid) return
        const owners = cur.metadata.ownerReferences ?? []
        if (owners.length > 0 && !owners.some((r) => this.ownerExists(ns, r.uid))) this.deleteDependent(e.kind, cur)
      })
    }
  }

  private checkForegroundOwners(): void {
    for (const kind of Object.keys(kinds) as Array<KindName>) {
      for (const o of this.store.list(kind)) {
        if (o.metadata.finalizers?.includes("foregroundDeletion")) this.finishForeground(kind, o)
      }
    }
  }

  private finishForeground(kind: KindName, o: KObject): void {
    const blocking = this.dependentsOf(o.metadata.uid).filter((d) => d.object.metadata.ownerReferences?.some((r) => r.uid === o.metadata.uid && r.blockOwnerDeletion === true))
    if (blocking.length > 0) return
    try {
      this.store.remove(kind, o.metadata.namespace, o.metadata.name)
    } catch {
      // Removed meanwhile.
    }
  }

  /**
   * Records a core/v1 Event about `involved` (reason, message and type as the component that emits
   * it writes them; `component` kubelet, job-controller, default-scheduler, kernel-monitor).
   */
  recordEvent(involved: KObject, type: "Normal" | "Warning", reason: string, message: string, component: string): void {
    const now = rfc3339(Date.now())
    const namespace = involved.metadata.namespace ?? "default"
    this.store.create("events", {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${involved.metadata.name}.${randomBytes(8).toString("hex")}`, namespace } as unknown as KObject["metadata"],
      involvedObject: {
        kind: involved.kind,
        apiVersion: involved.apiVersion,
        ...(involved.metadata.namespace === undefined ? {} : { namespace: involved.metadata.namespace }),
        name: involved.metadata.name,
        uid: involved.metadata.uid,
        resourceVersion: involved.metadata.resourceVersion
      },
      reason,
      message,
      source: { component, ...(component === "kubelet" || component === "kernel-monitor" ? { host: nodeName } : {}) },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: component,
      reportingInstance: component === "kubelet" ? nodeName : ""
    })
  }

  /** A copy of the object as the store holds it, with `kind`/`apiVersion` (for event subjects). */
  withType(kind: KindName, o: KObject): KObject {
    const c = deepCopy(o)
    c.kind = kinds[kind].kind
    c.apiVersion = kinds[kind].group === "" ? kinds[kind].version : `${kinds[kind].group}/${kinds[kind].version}`
    return c
  }
}
