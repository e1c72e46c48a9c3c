/**
 * The RBAC the Kubernetes backend needs in a run's namespace, derived from the API boundary: each
 * method of {@link KubernetesApiShape} maps to the verbs and resources its requests use, so the
 * list is complete by construction (a new method does not compile until it is mapped here).
 * `doctor --backend k8s` checks exactly this list with SelfSubjectAccessReviews, and
 * `deploy/rbac.yaml` grants exactly it (a test compares the two).
 *
 * Verbs and resources are Kubernetes' ("Authorization", request verbs): a create is `create`, a
 * read `get`, a list `list`, a watch `watch`, a merge patch `patch`, a replace `update`, a delete
 * `delete`; `pods/log` is the log subresource, read with `get`.
 *
 * @module
 */
import type { KubernetesApiShape } from "./KubernetesApi.ts"

/** One permission: a verb on a resource (with its subresource) of an API group (`""`: core). */
export interface AccessNeed {
  readonly verb: string
  readonly group: string
  readonly resource: string
  readonly subresource?: string
}

/** The request methods of the API boundary (its other members are plain values). */
type RequestMethod = Exclude<keyof KubernetesApiShape, "server" | "context" | "namespace">

const core = (verb: string, resource: string, subresource?: string): AccessNeed =>
  subresource === undefined ? { verb, group: "", resource } : { verb, group: "", resource, subresource }
const batch = (verb: string): AccessNeed => ({ verb, group: "batch", resource: "jobs" })
const lease = (verb: string): AccessNeed => ({ verb, group: "coordination.k8s.io", resource: "leases" })

/**
 * What each method needs in the namespace. `serverVersion` needs nothing namespaced (`/version` is
 * readable by every authenticated user: the `system:public-info-viewer` ClusterRole), nor does
 * `accessReview` (SelfSubjectAccessReviews are cluster-scoped and allowed to every authenticated
 * user: `system:basic-user`).
 */
export const accessByMethod: { readonly [M in RequestMethod]: ReadonlyArray<AccessNeed> } = {
  serverVersion: [],
  createSecret: [core("create", "secrets")],
  setSecretOwner: [core("patch", "secrets")],
  deleteSecret: [core("delete", "secrets")],
  createJob: [batch("create")],
  getJob: [batch("get")],
  listJobs: [batch("list")],
  annotateJob: [batch("patch")],
  deleteJob: [batch("delete")],
  getPod: [core("get", "pods")],
  listPods: [core("list", "pods")],
  deletePod: [core("delete", "pods")],
  // A watch starts with a list (and relists after 410 Gone); both kinds are watched.
  watch: [batch("list"), batch("watch"), core("list", "pods"), core("watch", "pods")],
  podLog: [core("get", "pods", "log")],
  listEvents: [core("list", "events")],
  getLease: [lease("get")],
  createLease: [lease("create")],
  replaceLease: [lease("update")],
  deleteLease: [lease("delete")],
  accessReview: []
}

/** `verb group/resource[/subresource]`, e.g. `create batch/jobs`, `get pods/log` (core group unnamed). */
export const accessNeedText = (need: AccessNeed): string =>
  `${need.verb} ${need.group === "" ? "" : `${need.group}/`}${need.resource}${need.subresource === undefined ? "" : `/${need.subresource}`}`

/**
 * Every permission the backend needs in a run's namespace, each once, grouped by resource (secrets,
 * jobs, pods, pods/log, events, leases) in the order of {@link accessByMethod}.
 */
export const kubernetesBackendAccess: ReadonlyArray<AccessNeed> = (() => {
  const seen = new Map<string, AccessNeed>()
  for (const needs of Object.values(accessByMethod)) for (const need of needs) seen.set(accessNeedText(need), need)
  const resourceOf = (n: AccessNeed) => `${n.group}/${n.resource}/${n.subresource ?? ""}`
  const resources = [...new Set([...seen.values()].map(resourceOf))]
  return [...seen.values()].sort((a, b) => resources.indexOf(resourceOf(a)) - resources.indexOf(resourceOf(b)))
})()
