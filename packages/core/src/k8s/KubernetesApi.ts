/**
 * The Kubernetes API boundary: every request agentrun makes to a cluster goes through this one
 * service, built over `@kubernetes/client-node` (its KubeConfig, its typed models and, for
 * requests and streams it does not do safely, node:http with the KubeConfig's own TLS and auth
 * options). The Kubernetes backend and `doctor --backend k8s` use it; nothing else in core talks
 * to a cluster.
 *
 * Contract shared by the real layer (`KubernetesApiLive.ts`) and the tests that run it against our
 * fake API server (`test/support/fake-k8s`):
 * - Every method resolves its namespace argument (`null` → the context's namespace).
 * - API failures are typed (below) from the response's `Status` body: 403 names verb, resource and
 *   namespace; 404, 409 and 422 are their own classes; connection failures and 5xx are
 *   `KubernetesUnreachable` (retryable). Secrets' data and bearer tokens never appear in an error.
 * - `watch` and `followLog` are Streams that end or fail; they never throw out of band (client-node's
 *   `Log` helper does: a socket error escapes as an uncaught exception and a dropped connection never
 *   ends it, which is why the log follow is our own request).
 *
 * @module
 */
import type { CoreV1Event, V1Job, V1Lease, V1OwnerReference, V1Pod, V1Secret } from "@kubernetes/client-node"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"

/** The cluster could not be reached or answered 5xx: DNS, refused, reset, TLS, timeout. A retry can help. */
export class KubernetesUnreachable extends Schema.TaggedError<KubernetesUnreachable>()("KubernetesUnreachable", {
  message: Schema.String,
  /** The API server URL (no credentials). */
  server: Schema.String,
  /** What was being done, e.g. `create jobs in team-a`. */
  operation: Schema.String,
  /** HTTP status when the server answered (5xx), else null. */
  status: Schema.NullOr(Schema.Number),
  /** The socket error code (`ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`), else null. */
  code: Schema.NullOr(Schema.String),
  retryable: Schema.Boolean
}) {}

/** 403: RBAC denies the verb on the resource in the namespace. Not retryable until RBAC changes. */
export class KubernetesForbidden extends Schema.TaggedError<KubernetesForbidden>()("KubernetesForbidden", {
  message: Schema.String,
  verb: Schema.String,
  /** Plural resource with its subresource, e.g. `jobs`, `pods/log`, `leases`. */
  resource: Schema.String,
  /** API group, `""` for core. */
  group: Schema.String,
  namespace: Schema.NullOr(Schema.String),
  /** The Status message the API server gave. */
  serverMessage: Schema.String,
  retryable: Schema.Boolean
}) {}

/** 404: the object does not exist (or no longer does). */
export class KubernetesNotFound extends Schema.TaggedError<KubernetesNotFound>()("KubernetesNotFound", {
  message: Schema.String,
  resource: Schema.String,
  namespace: Schema.NullOr(Schema.String),
  name: Schema.String,
  retryable: Schema.Boolean
}) {}

/** 409: AlreadyExists on create, or a resourceVersion conflict on update (another writer won). */
export class KubernetesConflict extends Schema.TaggedError<KubernetesConflict>()("KubernetesConflict", {
  message: Schema.String,
  resource: Schema.String,
  namespace: Schema.NullOr(Schema.String),
  name: Schema.String,
  /** The Status reason: `AlreadyExists` or `Conflict`. */
  reason: Schema.String,
  retryable: Schema.Boolean
}) {}

/** 422 (or 400): the API server refused the object; `causes` are the Status details' field errors. */
export class KubernetesInvalid extends Schema.TaggedError<KubernetesInvalid>()("KubernetesInvalid", {
  message: Schema.String,
  resource: Schema.String,
  namespace: Schema.NullOr(Schema.String),
  name: Schema.NullOr(Schema.String),
  causes: Schema.Array(Schema.Struct({ field: Schema.NullOr(Schema.String), message: Schema.String })),
  retryable: Schema.Boolean
}) {}

/** Any failure of a Kubernetes API request. */
export type KubernetesApiError = KubernetesUnreachable | KubernetesForbidden | KubernetesNotFound | KubernetesConflict | KubernetesInvalid

/** Where the cluster is: the CLI's `--kubeconfig`, `--context`, `-n/--namespace` (null: client-node's defaults). */
export interface ClusterTarget {
  /** A kubeconfig file; null: `KUBECONFIG`, else `~/.kube/config`, else in-cluster (client-node's `loadFromDefault`). */
  readonly kubeconfigPath: string | null
  readonly context: string | null
  /** null: the context's namespace, else `default`. */
  readonly namespace: string | null
}

/** Resources `watch` follows. */
export type WatchedKind = "jobs" | "pods"

/** The object type of a watched kind. */
export type WatchedObject<K extends WatchedKind> = K extends "jobs" ? V1Job : V1Pod

/**
 * One watch event. `Synced` carries the full current list (the first event, and again after every
 * relist on 410 Gone): consumers replace their state with it, keyed by UID. BOOKMARKs are consumed
 * inside `watch` (they only advance its resourceVersion) and never emitted.
 */
export type WatchEvent<A> =
  | { readonly _tag: "Synced"; readonly items: ReadonlyArray<A>; readonly resourceVersion: string }
  | { readonly _tag: "Added" | "Modified" | "Deleted"; readonly object: A }

/** Options of a watch: selectors as the API takes them. */
export interface WatchOptions {
  readonly labelSelector?: string
  readonly fieldSelector?: string
  /**
   * With no event (bookmarks included) for this long the connection is taken for dead and reopened
   * (ms; default 90 000: the API server sends a bookmark about once a minute when asked).
   */
  readonly inactivityTimeoutMs?: number
}

/** One pod log line as read with `timestamps=true`: the kubelet's RFC 3339 nano timestamp, then the text (no newline). */
export interface PodLogLine {
  readonly timestamp: string
  readonly line: string
}

/** Options of one `pods/log` request. */
export interface PodLogOptions {
  readonly container: string
  readonly follow: boolean
  /** RFC 3339 time (whole seconds: the API's resolution); null: from the start. */
  readonly sinceTime: string | null
}

/** The answer of a SelfSubjectAccessReview. */
export interface AccessReview {
  readonly allowed: boolean
  readonly reason: string | null
}

/** The Kubernetes API as agentrun uses it. Every method's R is never. */
export interface KubernetesApiShape {
  /** The API server URL of the context in use (no credentials). */
  readonly server: string
  /** The context in use; null when in-cluster. */
  readonly context: string | null
  /** The namespace `null` arguments mean. */
  readonly namespace: string
  /** `/version`'s `gitVersion`, e.g. `v1.31.2`. */
  readonly serverVersion: Effect.Effect<string, KubernetesApiError>

  readonly createSecret: (namespace: string | null, secret: V1Secret) => Effect.Effect<V1Secret, KubernetesApiError>
  /** Adds `owner` to the Secret's `metadata.ownerReferences` (a strategic merge patch: owners merge by uid, those already there stay), so GC collects it with the Job. */
  readonly setSecretOwner: (namespace: string | null, name: string, owner: V1OwnerReference) => Effect.Effect<void, KubernetesApiError>
  readonly deleteSecret: (namespace: string | null, name: string) => Effect.Effect<void, KubernetesApiError>

  readonly createJob: (namespace: string | null, job: V1Job) => Effect.Effect<V1Job, KubernetesApiError>
  readonly getJob: (namespace: string | null, name: string) => Effect.Effect<V1Job, KubernetesApiError>
  /** Jobs matching a label selector (e.g. an agent's live runs). */
  readonly listJobs: (namespace: string | null, labelSelector: string) => Effect.Effect<ReadonlyArray<V1Job>, KubernetesApiError>
  /**
   * Sets annotations on the Job (a JSON merge patch of `metadata.annotations`: the keys given are
   * set, every other annotation stays) and returns the Job as patched. A patch is a write: the
   * Job's resourceVersion moves on and its watchers get a MODIFIED event. agentrun's cancel uses
   * it to carry the request to a supervisor on another machine (CancelAnnotation.ts).
   */
  readonly annotateJob: (namespace: string | null, name: string, annotations: Readonly<Record<string, string>>) => Effect.Effect<V1Job, KubernetesApiError>
  /** Deletes the Job with `propagationPolicy` (agentrun's cancel uses Background, as kubectl does). */
  readonly deleteJob: (
    namespace: string | null,
    name: string,
    propagationPolicy: "Background" | "Foreground" | "Orphan"
  ) => Effect.Effect<void, KubernetesApiError>

  readonly getPod: (namespace: string | null, name: string) => Effect.Effect<V1Pod, KubernetesApiError>
  readonly listPods: (namespace: string | null, labelSelector: string) => Effect.Effect<ReadonlyArray<V1Pod>, KubernetesApiError>
  /** Deletes a Pod with a grace period in seconds (null: the Pod's own `terminationGracePeriodSeconds`). */
  readonly deletePod: (namespace: string | null, name: string, gracePeriodSeconds: number | null) => Effect.Effect<void, KubernetesApiError>

  /**
   * Follows Jobs or Pods: a list, then a watch from its resourceVersion with `allowWatchBookmarks`,
   * resumed from the last resourceVersion seen when the connection ends (clean EOF, reset, or the
   * inactivity timeout), reconnecting on a Schedule; a 410 Gone (HTTP 410, or an ERROR event holding
   * a 410 Status) relists and emits a fresh `Synced`. Fails only with a non-retryable error
   * (Forbidden), or Unreachable once the reconnect Schedule gives up.
   */
  readonly watch: <K extends WatchedKind>(
    kind: K,
    namespace: string | null,
    options: WatchOptions
  ) => Stream.Stream<WatchEvent<WatchedObject<K>>, KubernetesApiError>

  /**
   * One `pods/log` request with `timestamps=true`: its lines, ending at the server's EOF (which,
   * with `follow`, does not mean the container ended: kubelet idle timeouts, log rotation and stream
   * caps end follows too). A reset fails with KubernetesUnreachable. Resuming without loss or
   * duplicates is `LogFollow`'s job, not this method's.
   */
  readonly podLog: (namespace: string | null, pod: string, options: PodLogOptions) => Stream.Stream<PodLogLine, KubernetesApiError>

  /** core/v1 Events whose involvedObject is this object (by name, and uid when given), oldest first. */
  readonly listEvents: (
    namespace: string | null,
    involvedObject: { readonly kind: string; readonly name: string; readonly uid?: string }
  ) => Effect.Effect<ReadonlyArray<CoreV1Event>, KubernetesApiError>

  readonly getLease: (namespace: string | null, name: string) => Effect.Effect<V1Lease, KubernetesApiError>
  /** Fails with KubernetesConflict (reason AlreadyExists) when the Lease exists: the guard's "held". */
  readonly createLease: (namespace: string | null, lease: V1Lease) => Effect.Effect<V1Lease, KubernetesApiError>
  /** A replace carrying the read `metadata.resourceVersion`: KubernetesConflict when another writer won. */
  readonly replaceLease: (namespace: string | null, lease: V1Lease) => Effect.Effect<V1Lease, KubernetesApiError>
  readonly deleteLease: (namespace: string | null, name: string) => Effect.Effect<void, KubernetesApiError>

  /** A SelfSubjectAccessReview: may the current user do `verb` on `group`/`resource`[/`subresource`] in the namespace? */
  readonly accessReview: (review: {
    readonly verb: string
    readonly group: string
    readonly resource: string
    readonly subresource?: string
    readonly namespace: string | null
  }) => Effect.Effect<AccessReview, KubernetesApiError>
}

/**
 * The Kubernetes API service. Its real layer (`KubernetesApiLive.layer(target)`) loads the
 * kubeconfig once; building it fails with KubernetesUnreachable when no kubeconfig or in-cluster
 * account can be loaded (no request is made at build time).
 */
export class KubernetesApi extends Context.Service<KubernetesApi, KubernetesApiShape>()("agentrun/KubernetesApi") {}
