/**
 * The fake API server's object model: the resource kinds it serves, the wire-format objects it keeps
 * (plain JSON, exactly what the API server sends), and small helpers shared by the store, the
 * controllers and the HTTP layer.
 *
 * @module
 */
import { randomBytes, randomUUID } from "node:crypto"

/** A Kubernetes object in wire form (`apiVersion`, `kind`, `metadata`, ...). */
export type KObject = Record<string, any> & {
  apiVersion: string
  kind: string
  metadata: ObjectMeta
}

/** The `metadata` fields the fake reads and writes. */
export interface ObjectMeta {
  name: string
  namespace?: string
  generateName?: string
  uid: string
  resourceVersion: string
  creationTimestamp: string
  deletionTimestamp?: string
  deletionGracePeriodSeconds?: number
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: Array<OwnerReference>
  finalizers?: Array<string>
  generation?: number
  [key: string]: unknown
}

/** `metadata.ownerReferences[]` as the API carries it. */
export interface OwnerReference {
  apiVersion: string
  kind: string
  name: string
  uid: string
  controller?: boolean
  blockOwnerDeletion?: boolean
}

/**
 * One served resource. `group` "" is the core group. `namespaced` false means cluster-scoped.
 * `returnsObjectOnDelete`: the API server answers a DELETE of a Pod with the Pod (graceful deletion),
 * of most other kinds with a `Status` of `Success`.
 */
export interface ResourceKind {
  readonly group: string
  readonly version: string
  readonly plural: string
  readonly kind: string
  readonly namespaced: boolean
  readonly shortNames?: ReadonlyArray<string>
  readonly verbs: ReadonlyArray<string>
  readonly returnsObjectOnDelete: boolean
}

const crud = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] as const

/** The resources the fake serves. */
export const kinds = {
  pods: { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true, shortNames: ["po"], verbs: crud, returnsObjectOnDelete: true },
  secrets: { group: "", version: "v1", plural: "secrets", kind: "Secret", namespaced: true, verbs: crud, returnsObjectOnDelete: false },
  events: { group: "", version: "v1", plural: "events", kind: "Event", namespaced: true, shortNames: ["ev"], verbs: crud, returnsObjectOnDelete: false },
  jobs: { group: "batch", version: "v1", plural: "jobs", kind: "Job", namespaced: true, verbs: crud, returnsObjectOnDelete: false },
  leases: { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true, verbs: crud, returnsObjectOnDelete: false },
  nodes: { group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false, shortNames: ["no"], verbs: ["get", "list", "watch"], returnsObjectOnDelete: false },
  // Stored only (no controller): so kubectl can map and dry-run deploy/rbac.yaml against the fake.
  serviceaccounts: { group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount", namespaced: true, shortNames: ["sa"], verbs: crud, returnsObjectOnDelete: true },
  roles: { group: "rbac.authorization.k8s.io", version: "v1", plural: "roles", kind: "Role", namespaced: true, verbs: crud, returnsObjectOnDelete: false },
  rolebindings: { group: "rbac.authorization.k8s.io", version: "v1", plural: "rolebindings", kind: "RoleBinding", namespaced: true, verbs: crud, returnsObjectOnDelete: false }
} as const satisfies Record<string, ResourceKind>

/** The key of a served resource, e.g. `"jobs"`. */
export type KindName = keyof typeof kinds

/** `apiVersion` as written in objects of that kind: `v1` or `group/version`. */
export const apiVersionOf = (k: ResourceKind): string => k.group === "" ? k.version : `${k.group}/${k.version}`

/** The `plural.group` form the API server uses in messages (`jobs.batch`, `pods`). */
export const qualifiedResource = (k: ResourceKind): string => k.group === "" ? k.plural : `${k.plural}.${k.group}`

/** The `Kind.group` form used in validation messages (`Job.batch`, `Pod`). */
export const qualifiedKind = (k: ResourceKind): string => k.group === "" ? k.kind : `${k.kind}.${k.group}`

export const newUid = (): string => randomUUID()

const suffixAlphabet = "bcdfghjklmnpqrstvwxz2456789"
/** The 5-character random suffix the API server appends to `generateName` (its own alphabet, no vowels). */
export const nameSuffix = (): string => {
  const bytes = randomBytes(5)
  let out = ""
  for (const b of bytes) out += suffixAlphabet[b % suffixAlphabet.length]
  return out
}

/** RFC 3339 with whole seconds, as metav1.Time serialises (`2026-01-02T03:04:05Z`). */
export const rfc3339 = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z")

export const deepCopy = <A>(a: A): A => structuredClone(a)

/** DNS-1123 subdomain, the rule for most object names (Job, Secret, Pod, Lease). */
export const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
/** The value part of a label (empty, or <= 63 chars of [A-Za-z0-9._-] with alphanumeric ends). */
export const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
/** The name part of a label key. */
export const labelName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/

/** Looks up a dotted path (`status.phase`, `involvedObject.name`) in an object; undefined when absent. */
export const fieldAt = (obj: unknown, path: string): unknown => {
  let cur: unknown = obj
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined
    cur = (cur as Record<string, unknown>)[part]
  }
  return cur
}
