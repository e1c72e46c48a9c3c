/**
 * The real layer of `KubernetesApi` over `@kubernetes/client-node` 2.0.1: its KubeConfig (file,
 * `KUBECONFIG`, `~/.kube/config` or the in-cluster service account), its typed CoreV1, BatchV1,
 * CoordinationV1, AuthorizationV1 and Version clients for single requests, and our own node:http(s)
 * requests (with the KubeConfig's TLS and auth) for the two streams: `watch` (KubernetesWatch.ts)
 * and `podLog`.
 *
 * Every request is bounded: a single call by `requestTimeoutMs`, a stream's response head by the
 * same, a watch's silence by its inactivity timer. Interrupting a call aborts its fetch;
 * interrupting a stream destroys its socket.
 *
 * @module
 */
import type * as k8s from "@kubernetes/client-node"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import {
  type AccessReview,
  type ClusterTarget,
  KubernetesApi,
  type KubernetesApiError,
  type KubernetesApiShape,
  KubernetesUnreachable,
  type PodLogLine,
  type PodLogOptions,
  type WatchedKind,
  type WatchedObject,
  type WatchEvent,
  type WatchOptions
} from "./KubernetesApi.ts"
import { AuthorizationV1Api, BatchV1Api, CoordinationV1Api, CoreV1Api, KubeConfig, Observable, PatchStrategy, VersionApi } from "./ClientNode.ts"
import { answerError, bodyLines, openGet, urlOf } from "./KubernetesHttp.ts"
import { fromClientFailure, type Operation, timedOut } from "./KubernetesStatus.ts"
import { watchStream } from "./KubernetesWatch.ts"

/** Tuning of the live layer (all optional). */
export interface LiveOptions {
  /** Longest wait for a single call's answer, and for a stream's response head (ms; default 30 000). */
  readonly requestTimeoutMs?: number
  /**
   * Retries of failed watch connections (refused, 5xx, no answer). Restarts after every connection
   * that got through. Default: exponential from 500 ms, each wait at most 30 s, for 5 minutes.
   */
  readonly watchReconnect?: Schedule.Schedule<unknown, KubernetesApiError>
}

/** Default of {@link LiveOptions.requestTimeoutMs} (ms). */
export const defaultRequestTimeoutMs = 30_000

/** Default of {@link LiveOptions.watchReconnect}. */
export const defaultWatchReconnect: Schedule.Schedule<unknown, KubernetesApiError> = Schedule.exponential("500 millis").pipe(
  Schedule.modifyDelay(({ duration }) => Effect.succeed(Duration.min(duration, Duration.seconds(30)))),
  Schedule.upTo({ duration: "5 minutes" })
)

const configFailure = (what: string, detail: string, server = "") =>
  new KubernetesUnreachable({
    message: `Cannot use the Kubernetes configuration: ${what}${detail === "" ? "" : `: ${detail}`}`,
    server,
    operation: "load kubeconfig",
    status: null,
    code: null,
    retryable: false
  })

/** Where client-node's `loadFromDefault` ends when it found nothing (its own fallback). */
const fallbackServer = "http://localhost:8080"

/** The loaded KubeConfig with the context, cluster and namespace in use. */
interface Loaded {
  readonly kc: k8s.KubeConfig
  readonly server: string
  readonly context: string | null
  readonly namespace: string
}

const load = (target: ClusterTarget): Effect.Effect<Loaded, KubernetesUnreachable> =>
  Effect.gen(function*() {
    const kc = new KubeConfig()
    yield* Effect.try({
      try: () => (target.kubeconfigPath === null ? kc.loadFromDefault() : kc.loadFromFile(target.kubeconfigPath)),
      // Only the first line: a YAML error goes on with a snippet of the file, which can hold a token.
      catch: (e) => configFailure(target.kubeconfigPath === null ? "the default kubeconfig" : target.kubeconfigPath, (e instanceof Error ? e.message : String(e)).split("\n")[0]!.trim())
    })
    if (target.context !== null) {
      if (kc.getContextObject(target.context) === null) {
        const known = kc.getContexts().map((c) => c.name)
        return yield* configFailure(`no context "${target.context}"`, known.length === 0 ? "the kubeconfig has none" : `it has ${known.join(", ")}`)
      }
      kc.setCurrentContext(target.context)
    }
    const cluster = kc.getCurrentCluster()
    if (cluster === null) return yield* configFailure(`the context "${kc.getCurrentContext()}" names no cluster`, "")
    if (target.kubeconfigPath === null && kc.getCurrentContext() === "loaded-context" && cluster.server === fallbackServer) {
      return yield* configFailure("no kubeconfig found", "set --kubeconfig or KUBECONFIG, or create ~/.kube/config (or run in a cluster with a service account)")
    }
    // client-node 2.x refuses plain HTTP unless TLS verification is explicitly skipped; say so now, not at the first request.
    if (cluster.server.startsWith("http:") && cluster.skipTLSVerify !== true) {
      return yield* configFailure(`the cluster "${cluster.name}" is plain HTTP`, "client-node refuses http: servers unless the cluster sets insecure-skip-tls-verify", cluster.server)
    }
    const inCluster = kc.getCurrentContext() === "inClusterContext" && cluster.name === "inCluster"
    const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace
    const namespace = target.namespace ?? (contextNamespace === undefined || contextNamespace === "" ? "default" : contextNamespace.trim())
    return { kc, server: cluster.server, context: inCluster ? null : kc.getCurrentContext(), namespace }
  })

/** Per-call options of client-node carrying the abort signal (and more middleware, e.g. a patch's content type). */
const signalOptions = (signal: AbortSignal): k8s.ConfigurationOptions => ({
  middleware: [{
    pre: (context) => {
      context.setSignal(signal)
      return new Observable(Promise.resolve(context))
    },
    post: (response) => new Observable(Promise.resolve(response))
  }],
  middlewareMergeStrategy: "append"
})

const withContentType = (options: k8s.ConfigurationOptions, contentType: string): k8s.ConfigurationOptions => ({
  ...options,
  middleware: [...(options.middleware ?? []), {
    pre: (context) => {
      context.setHeaderParam("Content-Type", contentType)
      return new Observable(Promise.resolve(context))
    },
    post: (response) => new Observable(Promise.resolve(response))
  }]
})

const op = (verb: string, resource: string, group: string, namespace: string | null, name: string | null = null): Operation => ({ verb, resource, group, namespace, name })

/** `2026-12-03T09:45:00.123456789Z text` → timestamp and text (a line without a space is all timestamp). */
const splitLogLine = (raw: string): PodLogLine => {
  const space = raw.indexOf(" ")
  return space === -1 ? { timestamp: raw, line: "" } : { timestamp: raw.slice(0, space), line: raw.slice(space + 1) }
}

const eventTime = (e: k8s.CoreV1Event): number => {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp
  return t === undefined ? 0 : new Date(t as unknown as string | Date).getTime()
}

/** Builds the service from a loaded KubeConfig (no request is made). */
export const make = (target: ClusterTarget, options: LiveOptions = {}): Effect.Effect<KubernetesApiShape, KubernetesUnreachable> =>
  Effect.gen(function*() {
    const { kc, server, context, namespace } = yield* load(target)
    const requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs
    const reconnect = options.watchReconnect ?? defaultWatchReconnect
    const coreApi = kc.makeApiClient(CoreV1Api)
    const batchApi = kc.makeApiClient(BatchV1Api)
    const coordinationApi = kc.makeApiClient(CoordinationV1Api)
    const authorizationApi = kc.makeApiClient(AuthorizationV1Api)
    const versionApi = kc.makeApiClient(VersionApi)
    const ns = (n: string | null) => n ?? namespace

    const call = <A>(operation: Operation, f: (options: k8s.ConfigurationOptions) => Promise<A>): Effect.Effect<A, KubernetesApiError> =>
      Effect.tryPromise({ try: (signal) => f(signalOptions(signal)), catch: (e) => fromClientFailure(server, operation, e) }).pipe(
        Effect.timeoutOrElse({ duration: requestTimeoutMs, orElse: () => Effect.fail(timedOut(server, operation, requestTimeoutMs)) })
      )

    const podLog = (namespaceArg: string | null, pod: string, logOptions: PodLogOptions): Stream.Stream<PodLogLine, KubernetesApiError> => {
      const n = ns(namespaceArg)
      const operation = op("get", "pods/log", "", n, pod)
      const url = urlOf(server, `/api/v1/namespaces/${encodeURIComponent(n)}/pods/${encodeURIComponent(pod)}/log`, {
        container: logOptions.container,
        timestamps: "true",
        follow: logOptions.follow ? "true" : undefined,
        sinceTime: logOptions.sinceTime ?? undefined
      })
      return Stream.unwrap(
        openGet(kc, server, operation, url).pipe(
          Effect.timeoutOrElse({ duration: requestTimeoutMs, orElse: () => Effect.fail(timedOut(server, operation, requestTimeoutMs)) }),
          Effect.catchTag("FailureAnswer", (answer) => Effect.fail(answerError(server, operation, answer))),
          Effect.map((opened) => bodyLines(server, operation, opened.body).pipe(Stream.map(splitLogLine)))
        )
      )
    }

    const watch = <K extends WatchedKind>(kind: K, namespaceArg: string | null, watchOptions: WatchOptions): Stream.Stream<WatchEvent<WatchedObject<K>>, KubernetesApiError> => {
      const n = ns(namespaceArg)
      const selectors = {
        ...(watchOptions.labelSelector === undefined ? {} : { labelSelector: watchOptions.labelSelector }),
        ...(watchOptions.fieldSelector === undefined ? {} : { fieldSelector: watchOptions.fieldSelector })
      }
      if (kind === "jobs") {
        return watchStream<k8s.V1Job>({
          kc,
          server,
          path: `/apis/batch/v1/namespaces/${encodeURIComponent(n)}/jobs`,
          model: "V1Job",
          list: call(op("list", "jobs", "batch", n), (o) => batchApi.listNamespacedJob({ namespace: n, ...selectors }, o)).pipe(
            Effect.map((l) => ({ items: l.items, resourceVersion: l.metadata?.resourceVersion ?? "" }))
          ),
          op: op("watch", "jobs", "batch", n),
          options: watchOptions,
          reconnect
        }) as Stream.Stream<WatchEvent<WatchedObject<K>>, KubernetesApiError>
      }
      return watchStream<k8s.V1Pod>({
        kc,
        server,
        path: `/api/v1/namespaces/${encodeURIComponent(n)}/pods`,
        model: "V1Pod",
        list: call(op("list", "pods", "", n), (o) => coreApi.listNamespacedPod({ namespace: n, ...selectors }, o)).pipe(
          Effect.map((l) => ({ items: l.items, resourceVersion: l.metadata?.resourceVersion ?? "" }))
        ),
        op: op("watch", "pods", "", n),
        options: watchOptions,
        reconnect
      }) as Stream.Stream<WatchEvent<WatchedObject<K>>, KubernetesApiError>
    }

    const shape: KubernetesApiShape = {
      server,
      context,
      namespace,
      serverVersion: call(op("get", "version", "", null), (o) => versionApi.getCode(o)).pipe(Effect.map((v) => v.gitVersion)),

      createSecret: (n, secret) =>
        call(op("create", "secrets", "", ns(n), secret.metadata?.name ?? null), (o) => coreApi.createNamespacedSecret({ namespace: ns(n), body: secret }, o)),
      setSecretOwner: (n, name, owner) =>
        call(op("patch", "secrets", "", ns(n), name), (o) =>
          // A strategic merge patch: ownerReferences merge by uid, so owners already there stay.
          coreApi.patchNamespacedSecret({ name, namespace: ns(n), body: { metadata: { ownerReferences: [owner] } } }, withContentType(o, PatchStrategy.StrategicMergePatch))
        ).pipe(Effect.asVoid),
      deleteSecret: (n, name) => call(op("delete", "secrets", "", ns(n), name), (o) => coreApi.deleteNamespacedSecret({ name, namespace: ns(n) }, o)).pipe(Effect.asVoid),

      createJob: (n, job) => call(op("create", "jobs", "batch", ns(n), job.metadata?.name ?? null), (o) => batchApi.createNamespacedJob({ namespace: ns(n), body: job }, o)),
      getJob: (n, name) => call(op("get", "jobs", "batch", ns(n), name), (o) => batchApi.readNamespacedJob({ name, namespace: ns(n) }, o)),
      listJobs: (n, labelSelector) =>
        call(op("list", "jobs", "batch", ns(n)), (o) => batchApi.listNamespacedJob({ namespace: ns(n), labelSelector }, o)).pipe(Effect.map((l) => l.items)),
      annotateJob: (n, name, annotations) =>
        call(op("patch", "jobs", "batch", ns(n), name), (o) =>
          // A merge patch: the annotations given are set, the others stay (no resourceVersion: no precondition).
          batchApi.patchNamespacedJob({ name, namespace: ns(n), body: { metadata: { annotations } } }, withContentType(o, PatchStrategy.MergePatch))
        ),
      deleteJob: (n, name, propagationPolicy) =>
        call(op("delete", "jobs", "batch", ns(n), name), (o) => batchApi.deleteNamespacedJob({ name, namespace: ns(n), propagationPolicy }, o)).pipe(Effect.asVoid),

      getPod: (n, name) => call(op("get", "pods", "", ns(n), name), (o) => coreApi.readNamespacedPod({ name, namespace: ns(n) }, o)),
      listPods: (n, labelSelector) =>
        call(op("list", "pods", "", ns(n)), (o) => coreApi.listNamespacedPod({ namespace: ns(n), labelSelector }, o)).pipe(Effect.map((l) => l.items)),
      deletePod: (n, name, gracePeriodSeconds) =>
        call(op("delete", "pods", "", ns(n), name), (o) =>
          coreApi.deleteNamespacedPod({ name, namespace: ns(n), ...(gracePeriodSeconds === null ? {} : { gracePeriodSeconds }) }, o)
        ).pipe(Effect.asVoid),

      watch,
      podLog,

      listEvents: (n, involved) => {
        const fieldSelector = [`involvedObject.kind=${involved.kind}`, `involvedObject.name=${involved.name}`, ...(involved.uid === undefined ? [] : [`involvedObject.uid=${involved.uid}`])].join(",")
        return call(op("list", "events", "", ns(n)), (o) => coreApi.listNamespacedEvent({ namespace: ns(n), fieldSelector }, o)).pipe(
          Effect.map((l) => [...l.items].sort((a, b) => eventTime(a) - eventTime(b)))
        )
      },

      getLease: (n, name) => call(op("get", "leases", "coordination.k8s.io", ns(n), name), (o) => coordinationApi.readNamespacedLease({ name, namespace: ns(n) }, o)),
      createLease: (n, lease) =>
        call(op("create", "leases", "coordination.k8s.io", ns(n), lease.metadata?.name ?? null), (o) => coordinationApi.createNamespacedLease({ namespace: ns(n), body: lease }, o)),
      replaceLease: (n, lease) => {
        const name = lease.metadata?.name ?? ""
        return call(op("update", "leases", "coordination.k8s.io", ns(n), name), (o) => coordinationApi.replaceNamespacedLease({ name, namespace: ns(n), body: lease }, o))
      },
      deleteLease: (n, name) =>
        call(op("delete", "leases", "coordination.k8s.io", ns(n), name), (o) => coordinationApi.deleteNamespacedLease({ name, namespace: ns(n) }, o)).pipe(Effect.asVoid),

      accessReview: (review) => {
        const n = review.namespace ?? namespace
        return call(op("create", "selfsubjectaccessreviews", "authorization.k8s.io", null), (o) =>
          authorizationApi.createSelfSubjectAccessReview({
            body: {
              apiVersion: "authorization.k8s.io/v1",
              kind: "SelfSubjectAccessReview",
              spec: {
                resourceAttributes: {
                  verb: review.verb,
                  group: review.group,
                  resource: review.resource,
                  namespace: n,
                  ...(review.subresource === undefined ? {} : { subresource: review.subresource })
                }
              }
            }
          }, o)
        ).pipe(Effect.map((r): AccessReview => ({ allowed: r.status?.allowed === true, reason: r.status?.reason ?? null })))
      }
    }
    return shape
  })

/**
 * The live `KubernetesApi` for a cluster target. Building it loads the kubeconfig (no request);
 * it fails with KubernetesUnreachable (not retryable) when none can be loaded, the context does
 * not exist, or the cluster is plain HTTP without `insecure-skip-tls-verify`.
 */
export const layer = (target: ClusterTarget, options: LiveOptions = {}): Layer.Layer<KubernetesApi, KubernetesUnreachable> =>
  Layer.effect(KubernetesApi, make(target, options))

/** {@link layer} for a kubeconfig file with its current context and namespace (what the fake writes). */
export const layerFromKubeconfig = (kubeconfigPath: string, options: LiveOptions = {}): Layer.Layer<KubernetesApi, KubernetesUnreachable> =>
  layer({ kubeconfigPath, context: null, namespace: null }, options)
