/**
 * The fake's etcd: objects per resource, one global resourceVersion counter (a decimal string on the
 * wire, as etcd revisions are), and a watch history that can be compacted so that a watch resuming
 * from an older resourceVersion gets `410 Expired`.
 *
 * Every write bumps the counter and appends one event; in-process subscribers (the controllers, the
 * kubelet, open HTTP watches) get each event synchronously, in order.
 *
 * @module
 */
import { alreadyExists, conflict, notFound } from "./status.ts"
import { deepCopy, kinds, nameSuffix, newUid, rfc3339, type KindName, type KObject } from "./objects.ts"

/** What a watch event carries. `previous` is the object before a MODIFIED/DELETED (for selector moves). */
export interface StoreEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED"
  readonly kind: KindName
  readonly object: KObject
  readonly previous: KObject | null
  readonly resourceVersion: number
}

const keyOf = (namespace: string | undefined, name: string) => `${namespace ?? ""}/${name}`

/** The object store. All methods are synchronous; objects handed out are copies. */
export class Store {
  private rv = 1000
  private readonly objects = new Map<KindName, Map<string, KObject>>()
  private readonly history: Array<StoreEvent> = []
  /** Events with a resourceVersion below this are gone: a watch from before it is answered 410. */
  private oldestRetained = 0
  private readonly subscribers = new Set<(e: StoreEvent) => void>()

  constructor() {
    for (const k of Object.keys(kinds) as Array<KindName>) this.objects.set(k, new Map())
  }

  /** The current resourceVersion (what a list answers in `metadata.resourceVersion`). */
  get resourceVersion(): number {
    return this.rv
  }

  /** The oldest resourceVersion a watch may still resume from. */
  get oldestResourceVersion(): number {
    return this.oldestRetained
  }

  subscribe(f: (e: StoreEvent) => void): () => void {
    this.subscribers.add(f)
    return () => this.subscribers.delete(f)
  }

  /** Events after `rv`, in order (for a watch resuming from `rv`). */
  eventsAfter(rv: number): ReadonlyArray<StoreEvent> {
    return this.history.filter((e) => e.resourceVersion > rv)
  }

  /** Forgets all history up to now: any watch resuming from an earlier resourceVersion gets 410. */
  compact(): void {
    this.history.length = 0
    this.oldestRetained = this.rv
  }

  get(kind: KindName, namespace: string | undefined, name: string): KObject | undefined {
    const o = this.objects.get(kind)!.get(keyOf(namespace, name))
    return o === undefined ? undefined : deepCopy(o)
  }

  mustGet(kind: KindName, namespace: string | undefined, name: string): KObject {
    const o = this.get(kind, namespace, name)
    if (o === undefined) throw notFound(kinds[kind], name)
    return o
  }

  list(kind: KindName, namespace?: string): Array<KObject> {
    const out: Array<KObject> = []
    for (const o of this.objects.get(kind)!.values()) {
      if (namespace === undefined || o.metadata.namespace === namespace) out.push(deepCopy(o))
    }
    return out.sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
  }

  private readonly pending: Array<StoreEvent> = []
  private draining = false

  // A subscriber may write (a controller reacting to an event); its events are delivered after the
  // current one reached every subscriber, so each watcher sees resourceVersions in increasing order.
  private emit(type: StoreEvent["type"], kind: KindName, object: KObject, previous: KObject | null): void {
    const e: StoreEvent = { type, kind, object: deepCopy(object), previous, resourceVersion: Number(object.metadata.resourceVersion) }
    this.history.push(e)
    this.pending.push(e)
    if (this.draining) return
    this.draining = true
    try {
      for (let next = this.pending.shift(); next !== undefined; next = this.pending.shift()) {
        for (const s of [...this.subscribers]) {
          try {
            s(next)
          } catch (e) {
            // A controller bug must not stop delivery to the others (watchers would stall).
            console.error("fake-k8s: subscriber failed", e)
          }
        }
      }
    } finally {
      this.draining = false
    }
  }

  /**
   * Creates an object: fills uid, resourceVersion, creationTimestamp, a name from generateName.
   * Fails with 409 AlreadyExists when the name is taken.
   */
  create(kind: KindName, obj: KObject): KObject {
    const o = deepCopy(obj)
    const map = this.objects.get(kind)!
    if ((o.metadata.name === undefined || o.metadata.name === "") && o.metadata.generateName !== undefined) {
      do o.metadata.name = `${o.metadata.generateName}${nameSuffix()}`
      while (map.has(keyOf(o.metadata.namespace, o.metadata.name)))
    }
    const key = keyOf(o.metadata.namespace, o.metadata.name)
    if (map.has(key)) throw alreadyExists(kinds[kind], o.metadata.name)
    o.metadata.uid = newUid()
    o.metadata.creationTimestamp = rfc3339(Date.now())
    o.metadata.resourceVersion = String(++this.rv)
    if (kind === "jobs" || kind === "pods") o.metadata.generation = 1
    delete o.metadata.deletionTimestamp
    map.set(key, o)
    this.emit("ADDED", kind, o, null)
    return deepCopy(o)
  }

  /**
   * Replaces an object. When `obj.metadata.resourceVersion` is set and is not the stored one, fails
   * with 409 Conflict (optimistic concurrency, as an update with a stale read does). Identity fields
   * (uid, creationTimestamp) are kept from the stored object. No change at all writes nothing and
   * keeps the resourceVersion, as the API server does.
   */
  update(kind: KindName, obj: KObject): KObject {
    const map = this.objects.get(kind)!
    const key = keyOf(obj.metadata.namespace, obj.metadata.name)
    const cur = map.get(key)
    if (cur === undefined) throw notFound(kinds[kind], obj.metadata.name)
    const sent = obj.metadata.resourceVersion
    if (sent !== undefined && sent !== "" && sent !== cur.metadata.resourceVersion) throw conflict(kinds[kind], obj.metadata.name)
    const next = deepCopy(obj)
    next.metadata.uid = cur.metadata.uid
    next.metadata.creationTimestamp = cur.metadata.creationTimestamp
    next.metadata.resourceVersion = cur.metadata.resourceVersion
    if (cur.metadata.deletionTimestamp !== undefined) {
      next.metadata.deletionTimestamp = cur.metadata.deletionTimestamp
      if (cur.metadata.deletionGracePeriodSeconds !== undefined) next.metadata.deletionGracePeriodSeconds = cur.metadata.deletionGracePeriodSeconds
    }
    if (JSON.stringify(next) === JSON.stringify(cur)) return deepCopy(cur)
    if (cur.metadata.generation !== undefined && JSON.stringify(next.spec) !== JSON.stringify(cur.spec)) {
      next.metadata.generation = cur.metadata.generation + 1
    }
    next.metadata.resourceVersion = String(++this.rv)
    map.set(key, next)
    this.emit("MODIFIED", kind, next, deepCopy(cur))
    return deepCopy(next)
  }

  /** Read-modify-write without a precondition (what controllers do); undefined when the object is gone. */
  mutate(kind: KindName, namespace: string | undefined, name: string, f: (o: KObject) => void): KObject | undefined {
    const cur = this.get(kind, namespace, name)
    if (cur === undefined) return undefined
    f(cur)
    delete (cur.metadata as { resourceVersion?: string }).resourceVersion
    return this.update(kind, cur)
  }

  /** Removes an object now (the last step of any deletion). Fails with 404 when absent. */
  remove(kind: KindName, namespace: string | undefined, name: string): KObject {
    const map = this.objects.get(kind)!
    const key = keyOf(namespace, name)
    const cur = map.get(key)
    if (cur === undefined) throw notFound(kinds[kind], name)
    map.delete(key)
    const gone = deepCopy(cur)
    gone.metadata.resourceVersion = String(++this.rv)
    this.emit("DELETED", kind, gone, deepCopy(cur))
    return deepCopy(gone)
  }
}
