/**
 * The fake's HTTP layer: the REST paths of the API server for the served kinds, discovery, watches,
 * pods/log, pods/eviction, SelfSubjectAccessReview, /version, RBAC denials and injected HTTP faults.
 *
 * Wire behaviour pinned by the conformance test (FakeKubernetes.test.ts):
 * - list: `{kind: "<Kind>List", apiVersion, metadata: {resourceVersion}, items}`; items carry no
 *   kind/apiVersion (the API server leaves them out of list items);
 * - watch (`?watch=true`): one JSON event per line; without resourceVersion (or "0") the current
 *   objects come first as ADDED; with one, the events after it; one older than the compacted history
 *   is answered HTTP 200 with a single `ERROR` event holding a 410 `Expired` Status; bookmarks (with
 *   `allowWatchBookmarks=true`) every `bookmarkIntervalMs`: `{type: "BOOKMARK", object: {kind,
 *   apiVersion, metadata: {resourceVersion}}}`; `timeoutSeconds` ends the watch cleanly;
 * - a selector move is sent as the watch would: MODIFIED out of the selector → DELETED, into → ADDED;
 * - pods/log: text/plain; `timestamps=true` prefixes `RFC3339Nano ` to each line; `sinceTime` is
 *   truncated to its whole second and lines at or after it are sent; `tailLines`, `previous`,
 *   `follow` (ends when the container's log ends: the process exited).
 * Not modelled: pagination (limit/continue), server-side apply, Table output, the openapi endpoints.
 *
 * @module
 */
import * as http from "node:http"
import type { Socket } from "node:net"
import { Cluster, type PropagationPolicy } from "./cluster.ts"
import type { Kubelet } from "./kubelet.ts"
import { rfc3339Nano, parseRfc3339, nowNs, type ContainerLog, type LogEntry } from "./logs.ts"
import { apiVersionOf, deepCopy, dns1123Subdomain, kinds, labelName, labelValue, type KindName, type KObject, type ResourceKind } from "./objects.ts"
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch.ts"
import { parseFieldSelector, parseLabelSelector, SelectorError } from "./selectors.ts"
import { ApiError, badRequest, deleted, expired, forbidden, internalError, invalid, notFound, type Cause, type StatusBody } from "./status.ts"
import type { StoreEvent } from "./store.ts"

/** An injected HTTP fault. */
export type HttpFault =
  /** Answer with this status (a 5xx) and an API Status body. */
  | { readonly kind: "status"; readonly code: number; readonly message?: string }
  /** Wait this long, then answer normally (a slow API server). */
  | { readonly kind: "delay"; readonly ms: number }
  /** Accept the request and never answer (the connection is destroyed when the fake closes). */
  | { readonly kind: "silence" }
  /** Reset the TCP connection without an answer. */
  | { readonly kind: "reset" }

/** Which requests a fault hits: method and path (a RegExp or a substring of the path + query), `times` (default forever). */
export interface HttpFaultRule {
  readonly method?: string
  readonly path?: RegExp | string
  readonly times?: number
  readonly fault: HttpFault
}

/**
 * Ends `pods/log` follow streams after `afterLines` lines: with a TCP reset, a clean end of the
 * body, or `stall`: nothing more is sent and the connection stays open (a peer gone without a FIN).
 */
export interface LogDropRule {
  readonly afterLines: number
  readonly mode: "reset" | "eof" | "stall"
  /** Only streams of this Pod. */
  readonly podName?: string
  /** How many streams to cut (default forever). */
  readonly times?: number
}

/** One RBAC denial: any omitted field matches everything. */
export interface Denial {
  readonly verb?: string
  readonly group?: string
  readonly resource?: string
  readonly subresource?: string
  readonly namespace?: string
}

/** The server's knobs (mutable: the fault API sets them). */
export interface ServerKnobs {
  bookmarkIntervalMs: number
  /** The user named in 403 messages and SelfSubjectAccessReview answers. */
  user: string
  readonly denials: Array<Denial>
  readonly httpFaults: Array<{ rule: HttpFaultRule; remaining: number }>
  readonly logDrops: Array<{ rule: LogDropRule; remaining: number }>
}

/** An open watch, for the fault API. */
interface OpenWatch {
  readonly kind: KindName
  readonly res: http.ServerResponse
  readonly end: (how: "expire" | "reset" | "eof") => void
}

/** One HTTP request, as recorded (for tests counting API requests). */
export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly atMs: number
}

const json = (res: http.ServerResponse, code: number, body: unknown) => {
  const text = JSON.stringify(body)
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  res.end(text)
}

const sendError = (res: http.ServerResponse, e: ApiError) => json(res, e.body.code, e.body)

const readBody = (req: http.IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

const stripForList = (o: KObject): Record<string, unknown> => {
  const { kind: _k, apiVersion: _a, ...rest } = o
  return rest
}

const findKind = (group: string, version: string, plural: string): [KindName, ResourceKind] | undefined => {
  for (const [name, k] of Object.entries(kinds) as Array<[KindName, ResourceKind]>) {
    if (k.group === group && k.version === version && k.plural === plural) return [name, k]
  }
  return undefined
}

const validateMeta = (k: ResourceKind, o: KObject): Array<Cause> => {
  const causes: Array<Cause> = []
  const name = o.metadata?.name
  if ((name === undefined || name === "") && (o.metadata?.generateName === undefined || o.metadata.generateName === "")) {
    causes.push({ reason: "FieldValueRequired", message: "Required value: name or generateName is required", field: "metadata.name" })
  } else if (name !== undefined && name !== "" && (!dns1123Subdomain.test(name) || name.length > 253)) {
    causes.push({
      reason: "FieldValueInvalid",
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      field: "metadata.name"
    })
  }
  for (const [key, value] of Object.entries(o.metadata?.labels ?? {})) {
    const namePart = key.includes("/") ? key.slice(key.indexOf("/") + 1) : key
    if (namePart.length > 63 || !labelName.test(namePart)) {
      causes.push({ reason: "FieldValueInvalid", message: `Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`, field: "metadata.labels" })
    }
    if (typeof value !== "string") {
      causes.push({ reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(value)}: label values must be strings`, field: "metadata.labels" })
    } else if (value.length > 63) {
      causes.push({ reason: "FieldValueInvalid", message: `Invalid value: "${value}": must be no more than 63 characters`, field: "metadata.labels" })
    } else if (!labelValue.test(value)) {
      causes.push({ reason: "FieldValueInvalid", message: `Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`, field: "metadata.labels" })
    }
  }
  void k
  return causes
}

const validatePodSpec = (spec: any, field: string, restartPolicies: ReadonlyArray<string>): Array<Cause> => {
  const causes: Array<Cause> = []
  if (spec === undefined || !Array.isArray(spec.containers) || spec.containers.length === 0) {
    causes.push({ reason: "FieldValueRequired", message: "Required value", field: `${field}.containers` })
    return causes
  }
  for (const [i, c] of (spec.containers as Array<any>).entries()) {
    if (typeof c.name !== "string" || c.name === "") causes.push({ reason: "FieldValueRequired", message: "Required value", field: `${field}.containers[${i}].name` })
    if (typeof c.image !== "string" || c.image === "") causes.push({ reason: "FieldValueRequired", message: "Required value", field: `${field}.containers[${i}].image` })
  }
  const rp = spec.restartPolicy ?? "Always"
  if (!restartPolicies.includes(rp)) {
    causes.push({ reason: "FieldValueNotSupported", message: `Unsupported value: "${rp}": supported values: ${restartPolicies.map((r) => `"${r}"`).join(", ")}`, field: `${field}.restartPolicy` })
  }
  return causes
}

/** The HTTP front of a {@link Cluster}. */
export class ApiServer {
  readonly knobs: ServerKnobs = { bookmarkIntervalMs: 1000, user: "system:serviceaccount:default:agentrun", denials: [], httpFaults: [], logDrops: [] }
  readonly requests: Array<RecordedRequest> = []
  readonly server: http.Server
  private readonly sockets = new Set<Socket>()
  private readonly watches = new Set<OpenWatch>()
  private readonly logStreams = new Set<http.ServerResponse>()
  private readonly startedAt = Date.now()
  private readonly cluster: Cluster
  private readonly kubelet: Kubelet

  constructor(cluster: Cluster, kubelet: Kubelet) {
    this.cluster = cluster
    this.kubelet = kubelet
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (e instanceof ApiError) sendError(res, e)
        else if (!res.headersSent) sendError(res, internalError(500, String(e)))
      })
    })
    this.server.on("connection", (s) => {
      this.sockets.add(s)
      s.on("close", () => this.sockets.delete(s))
    })
  }

  /** Ends every open watch: `expire` sends an ERROR event with a 410 Status first (and the history is compacted by the caller). */
  endWatches(how: "expire" | "reset" | "eof", kind?: KindName): number {
    let n = 0
    for (const w of [...this.watches]) {
      if (kind !== undefined && w.kind !== kind) continue
      w.end(how)
      n++
    }
    return n
  }

  get openWatches(): number {
    return this.watches.size
  }

  /** How many `pods/log` responses are still being written. */
  get openLogStreams(): number {
    return this.logStreams.size
  }

  /** Destroys every connection (for close). */
  destroyAll(): void {
    for (const w of [...this.watches]) w.end("eof")
    for (const s of this.sockets) s.destroy()
  }

  private applyFault(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> | boolean {
    const url = req.url ?? "/"
    for (const entry of this.knobs.httpFaults) {
      const r = entry.rule
      if (entry.remaining <= 0) continue
      if (r.method !== undefined && r.method.toUpperCase() !== req.method) continue
      if (r.path !== undefined && !(typeof r.path === "string" ? url.includes(r.path) : r.path.test(url))) continue
      entry.remaining--
      const f = r.fault
      switch (f.kind) {
        case "status":
          sendError(res, internalError(f.code, f.message ?? (f.code === 503 ? "the server is currently unable to handle the request" : "Internal error occurred: injected by fake-k8s")))
          return true
        case "silence":
          return true
        case "reset":
          req.socket.resetAndDestroy()
          return true
        case "delay":
          return new Promise((resolve) => this.cluster.after(f.ms, () => resolve(false)))
      }
    }
    return false
  }

  private denied(verb: string, group: string, resource: string, subresource: string | undefined, namespace: string | null): boolean {
    return this.knobs.denials.some((d) =>
      (d.verb === undefined || d.verb === verb) &&
      (d.group === undefined || d.group === group) &&
      (d.resource === undefined || d.resource === resource) &&
      (d.subresource === undefined || d.subresource === subresource) &&
      (d.namespace === undefined || d.namespace === namespace)
    )
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake")
    this.requests.push({ method: req.method ?? "GET", path: `${url.pathname}${url.search}`, atMs: Date.now() - this.startedAt })
    const faulted = await this.applyFault(req, res)
    if (faulted) return
    const seg = url.pathname.split("/").filter((s) => s !== "").map(decodeURIComponent)
    const q = url.searchParams
    const method = req.method ?? "GET"

    if (seg.length === 1 && seg[0] === "version") {
      return json(res, 200, { major: "1", minor: "32", gitVersion: "v1.32.0-fake", gitCommit: "0000000000000000000000000000000000000000", gitTreeState: "clean", buildDate: "2026-01-01T00:00:00Z", goVersion: "go1.23.0", compiler: "gc", platform: "linux/amd64" })
    }
    if (seg.length === 0 || seg[0] === "openapi" || seg[0] === "healthz" || seg[0] === "livez" || seg[0] === "readyz") {
      if (seg[0] === "healthz" || seg[0] === "livez" || seg[0] === "readyz") {
        res.writeHead(200, { "content-type": "text/plain" })
        return void res.end("ok")
      }
      return sendError(res, badRequest("not served by fake-k8s"))
    }
    if (seg[0] === "api" && seg.length === 1) return json(res, 200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: req.headers.host ?? "" }] })
    if (seg[0] === "apis" && seg.length === 1) return json(res, 200, this.groupList())
    let group: string
    let version: string
    let rest: Array<string>
    if (seg[0] === "api") {
      group = ""
      version = seg[1]!
      rest = seg.slice(2)
    } else if (seg[0] === "apis") {
      group = seg[1]!
      if (seg.length === 2) {
        const g = this.groupList().groups.find((x) => x.name === group)
        if (g === undefined) return sendError(res, notFound({ group, version: "", plural: "", kind: "", namespaced: false, verbs: [], returnsObjectOnDelete: false }, group))
        return json(res, 200, { kind: "APIGroup", apiVersion: "v1", ...g })
      }
      version = seg[2]!
      rest = seg.slice(3)
    } else {
      return json(res, 404, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "the server could not find the requested resource", reason: "NotFound", details: {}, code: 404 })
    }
    if (rest.length === 0) return json(res, 200, this.resourceList(group, version))

    if (group === "authorization.k8s.io" && rest[0] === "selfsubjectaccessreviews" && method === "POST") {
      const body = JSON.parse(await readBody(req))
      const a = body.spec?.resourceAttributes ?? {}
      const allowed = !this.denied(a.verb, a.group ?? "", a.resource, a.subresource === "" ? undefined : a.subresource, a.namespace === undefined || a.namespace === "" ? null : a.namespace)
      return json(res, 201, {
        kind: "SelfSubjectAccessReview",
        apiVersion: "authorization.k8s.io/v1",
        metadata: { creationTimestamp: null },
        spec: body.spec,
        status: allowed ? { allowed: true, reason: `RBAC: allowed by RoleBinding "agentrun/${a.namespace ?? ""}" of Role "agentrun" to User "${this.knobs.user}"` } : { allowed: false }
      })
    }

    let namespace: string | null = null
    if (rest[0] === "namespaces" && group === "") {
      if (rest.length === 1) return json(res, 200, { kind: "NamespaceList", apiVersion: "v1", metadata: { resourceVersion: String(this.cluster.store.resourceVersion) }, items: [] })
      namespace = rest[1]!
      if (rest.length === 2) {
        return json(res, 200, { kind: "Namespace", apiVersion: "v1", metadata: { name: namespace, uid: `ns-${namespace}`, resourceVersion: "1", creationTimestamp: "2026-01-01T00:00:00Z" }, spec: { finalizers: ["kubernetes"] }, status: { phase: "Active" } })
      }
      rest = rest.slice(2)
    } else if (rest[0] === "namespaces") {
      namespace = rest[1]!
      rest = rest.slice(2)
    }
    const [plural, name, subresource] = rest
    const found = findKind(group, version, plural ?? "")
    if (found === undefined) {
      return json(res, 404, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "the server could not find the requested resource", reason: "NotFound", details: {}, code: 404 })
    }
    const [kindName, k] = found
    const isWatch = q.get("watch") === "true" || q.get("watch") === "1"
    const verb = method === "GET" ? (isWatch ? "watch" : name === undefined ? "list" : "get")
      : method === "POST" ? "create" : method === "PUT" ? "update" : method === "PATCH" ? "patch"
      : method === "DELETE" ? (name === undefined ? "deletecollection" : "delete") : method.toLowerCase()
    if (this.denied(verb, group, k.plural, subresource, namespace)) return sendError(res, forbidden(this.knobs.user, verb, k, namespace, name))
    const ns = k.namespaced ? (namespace ?? undefined) : undefined

    if (subresource === "log" && kindName === "pods" && method === "GET") return this.serveLog(req, res, ns!, name!, q)
    if (subresource === "eviction" && kindName === "pods" && method === "POST") {
      await readBody(req)
      this.evict(ns!, name!, "EvictionByEvictionAPI", "Eviction API: evicting")
      return json(res, 201, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 })
    }
    if (subresource !== undefined && subresource !== "status") return sendError(res, notFound(k, `${name}/${subresource}`))

    try {
      switch (verb) {
        case "watch":
          return this.serveWatch(req, res, kindName, ns, q, name)
        case "list": {
          const ls = parseLabelSelector(q.get("labelSelector"))
          const fs = parseFieldSelector(q.get("fieldSelector"))
          const items = this.cluster.store.list(kindName, ns).filter((o) => ls.matches(o) && fs.matches(o)).map(stripForList)
          return json(res, 200, { kind: `${k.kind}List`, apiVersion: apiVersionOf(k), metadata: { resourceVersion: String(this.cluster.store.resourceVersion) }, items })
        }
        case "get":
          return json(res, 200, this.cluster.store.mustGet(kindName, ns, name!))
        case "create": {
          const body = JSON.parse(await readBody(req)) as KObject
          if (body.metadata?.namespace !== undefined && ns !== undefined && body.metadata.namespace !== ns) {
            return sendError(res, badRequest("the namespace of the provided object does not match the namespace sent on the request"))
          }
          if (q.get("dryRun") === "All") return json(res, 201, this.prepareCreate(kindName, k, body, ns))
          return json(res, 201, this.cluster.store.create(kindName, this.prepareCreate(kindName, k, body, ns)))
        }
        case "update": {
          const body = JSON.parse(await readBody(req)) as KObject
          const cur = this.cluster.store.mustGet(kindName, ns, name!)
          body.metadata = { ...body.metadata, name: name!, ...(ns === undefined ? {} : { namespace: ns }) }
          if (subresource === "status") body.spec = cur.spec
          else if (cur.status !== undefined && kindName !== "leases") body.status = cur.status
          const causes = validateMeta(k, body)
          if (causes.length > 0) throw invalid(k, name!, causes)
          return json(res, 200, this.cluster.store.update(kindName, this.normalize(kindName, { ...body, kind: k.kind, apiVersion: apiVersionOf(k) })))
        }
        case "patch": {
          const body = JSON.parse(await readBody(req))
          const ct = String(req.headers["content-type"] ?? "").split(";")[0]!.trim()
          const cur = this.cluster.store.mustGet(kindName, ns, name!)
          const patched = (ct === "application/json-patch+json" ? jsonPatch(cur, body)
            : ct === "application/strategic-merge-patch+json" ? strategicMergePatch(cur, body)
            : ct === "application/merge-patch+json" ? mergePatch(cur, body)
            : (() => { throw new ApiError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`, reason: "UnsupportedMediaType", code: 415 }) })()) as KObject
          patched.metadata.name = cur.metadata.name
          if (ns !== undefined) patched.metadata.namespace = ns
          const causes = validateMeta(k, patched)
          if (causes.length > 0) throw invalid(k, name!, causes)
          // A patch carries no precondition unless it names a resourceVersion itself.
          const sentRv = (body as any)?.metadata?.resourceVersion
          if (sentRv === undefined) patched.metadata.resourceVersion = cur.metadata.resourceVersion
          return json(res, 200, this.cluster.store.update(kindName, this.normalize(kindName, patched)))
        }
        case "delete": {
          const raw = await readBody(req)
          const opts = raw.trim() === "" ? {} : JSON.parse(raw)
          const policy = (q.get("propagationPolicy") ?? opts.propagationPolicy ?? undefined) as PropagationPolicy | undefined
          const graceRaw = q.get("gracePeriodSeconds") ?? opts.gracePeriodSeconds
          const grace = graceRaw === undefined || graceRaw === null ? undefined : Number(graceRaw)
          const before = this.cluster.store.mustGet(kindName, ns, name!)
          const result = this.cluster.delete(kindName, ns, name!, { ...(policy === undefined ? {} : { propagationPolicy: policy }), ...(grace === undefined ? {} : { gracePeriodSeconds: grace }) })
          if (k.returnsObjectOnDelete || result.metadata.deletionTimestamp !== undefined) return json(res, 200, result)
          return json(res, 200, deleted(k, name!, before.metadata.uid))
        }
        case "deletecollection": {
          const ls = parseLabelSelector(q.get("labelSelector"))
          for (const o of this.cluster.store.list(kindName, ns).filter((o) => ls.matches(o))) {
            this.cluster.delete(kindName, ns, o.metadata.name, { propagationPolicy: (q.get("propagationPolicy") ?? "Background") as PropagationPolicy })
          }
          return json(res, 200, { kind: `${k.kind}List`, apiVersion: apiVersionOf(k), metadata: { resourceVersion: String(this.cluster.store.resourceVersion) }, items: [] })
        }
        default:
          return json(res, 405, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `the server does not allow this method on the requested resource`, reason: "MethodNotAllowed", code: 405 })
      }
    } catch (e) {
      if (e instanceof SelectorError) return sendError(res, badRequest(e.message))
      if (e instanceof SyntaxError) return sendError(res, badRequest(`the object provided is unrecognized (${e.message})`))
      throw e
    }
  }

  /** Defaults and validation of a create, as the API server applies them. */
  private prepareCreate(kindName: KindName, k: ResourceKind, body: KObject, ns: string | undefined): KObject {
    const o = deepCopy(body)
    o.kind = k.kind
    o.apiVersion = apiVersionOf(k)
    o.metadata = { ...o.metadata, ...(ns === undefined ? {} : { namespace: ns }) }
    const name = o.metadata.name ?? o.metadata.generateName ?? ""
    const causes = validateMeta(k, o)
    if (kindName === "jobs") {
      causes.push(...validatePodSpec(o.spec?.template?.spec, "spec.template.spec", ["OnFailure", "Never"]))
      if (o.spec?.podFailurePolicy !== undefined && o.spec?.template?.spec?.restartPolicy !== "Never") {
        causes.push({ reason: "FieldValueInvalid", message: `Invalid value: "${o.spec?.template?.spec?.restartPolicy ?? "Always"}": only "Never" is supported when podFailurePolicy is specified`, field: "spec.template.spec.restartPolicy" })
      }
      for (const f of ["activeDeadlineSeconds", "ttlSecondsAfterFinished", "backoffLimit"] as const) {
        const v = o.spec?.[f]
        if (v !== undefined && (typeof v !== "number" || v < (f === "activeDeadlineSeconds" ? 1 : 0))) {
          causes.push({ reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(v)}: must be ${f === "activeDeadlineSeconds" ? "greater than 0" : "greater than or equal to 0"}`, field: `spec.${f}` })
        }
      }
    }
    if (kindName === "pods") causes.push(...validatePodSpec(o.spec, "spec", ["Always", "OnFailure", "Never"]))
    if (causes.length > 0) throw invalid(k, name, causes)
    return this.normalize(kindName, o)
  }

  private normalize(kindName: KindName, o: KObject): KObject {
    if (kindName === "secrets") {
      // The API server folds stringData into data (base64) and never returns stringData.
      if (o.stringData !== undefined) {
        o.data = { ...o.data, ...Object.fromEntries(Object.entries(o.stringData as Record<string, string>).map(([key, v]) => [key, Buffer.from(v).toString("base64")])) }
        delete o.stringData
      }
      o.type ??= "Opaque"
    }
    if (kindName === "jobs") {
      o.spec = { parallelism: 1, completions: 1, backoffLimit: 6, completionMode: "NonIndexed", suspend: false, ...o.spec }
      o.spec.podReplacementPolicy ??= o.spec.podFailurePolicy === undefined ? "TerminatingOrFailed" : "Failed"
      o.spec.manualSelector ??= undefined
      if (o.spec.manualSelector === undefined) delete o.spec.manualSelector
      o.spec.template = { ...o.spec.template, spec: { restartPolicy: "Never", terminationGracePeriodSeconds: 30, dnsPolicy: "ClusterFirst", schedulerName: "default-scheduler", ...o.spec.template?.spec } }
      o.status ??= {}
    }
    if (kindName === "pods") {
      o.spec = { restartPolicy: "Always", terminationGracePeriodSeconds: 30, dnsPolicy: "ClusterFirst", schedulerName: "default-scheduler", serviceAccountName: "default", ...o.spec }
      o.status ??= { phase: "Pending", qosClass: "Guaranteed" }
    }
    return o
  }

  /** Graceful deletion with a DisruptionTarget condition (eviction, preemption). */
  evict(namespace: string, name: string, reason: string, message: string): void {
    this.cluster.store.mutate("pods", namespace, name, (o) => {
      const conditions: Array<any> = o.status.conditions ??= []
      conditions.push({ type: "DisruptionTarget", status: "True", lastProbeTime: null, lastTransitionTime: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(".000Z", "Z"), reason, message })
    }) ?? (() => { throw notFound(kinds.pods, name) })()
    this.cluster.delete("pods", namespace, name)
  }

  private groupList() {
    const groups = new Map<string, Set<string>>()
    for (const k of Object.values(kinds)) if (k.group !== "") groups.set(k.group, new Set([...(groups.get(k.group) ?? []), k.version]))
    groups.set("authorization.k8s.io", new Set(["v1"]))
    return {
      kind: "APIGroupList" as const,
      apiVersion: "v1" as const,
      groups: [...groups].map(([name, versions]) => ({
        name,
        versions: [...versions].map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${name}/${[...versions][0]}`, version: [...versions][0]! }
      }))
    }
  }

  private resourceList(group: string, version: string) {
    const resources: Array<Record<string, unknown>> = []
    for (const k of Object.values(kinds) as Array<ResourceKind>) {
      if (k.group !== group || k.version !== version) continue
      resources.push({ name: k.plural, singularName: k.kind.toLowerCase(), namespaced: k.namespaced, kind: k.kind, verbs: k.verbs, ...(k.shortNames === undefined ? {} : { shortNames: k.shortNames }) })
      if (k.plural === "pods") {
        resources.push({ name: "pods/log", singularName: "", namespaced: true, kind: "Pod", verbs: ["get"] })
        resources.push({ name: "pods/eviction", singularName: "", namespaced: true, group: "policy", version: "v1", kind: "Eviction", verbs: ["create"] })
      }
      if (k.plural === "pods" || k.plural === "jobs") resources.push({ name: `${k.plural}/status`, singularName: "", namespaced: true, kind: k.kind, verbs: ["get", "patch", "update"] })
    }
    if (group === "authorization.k8s.io") resources.push({ name: "selfsubjectaccessreviews", singularName: "selfsubjectaccessreview", namespaced: false, kind: "SelfSubjectAccessReview", verbs: ["create"] })
    return { kind: "APIResourceList", apiVersion: "v1", groupVersion: group === "" ? version : `${group}/${version}`, resources }
  }

  // -----------------------------------------------------------------------------------------------
  // Watch

  private serveWatch(req: http.IncomingMessage, res: http.ServerResponse, kindName: KindName, ns: string | undefined, q: URLSearchParams, name: string | undefined): void {
    const k = kinds[kindName]
    const ls = parseLabelSelector(q.get("labelSelector"))
    const fsel = parseFieldSelector(name === undefined ? q.get("fieldSelector") : `metadata.name=${name}`)
    const inScope = (o: KObject | null) => o !== null && (ns === undefined || o.metadata.namespace === ns) && ls.matches(o) && fsel.matches(o)
    const rvParam = q.get("resourceVersion")
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" })
    res.flushHeaders()
    const write = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`)
    let lastRv = this.cluster.store.resourceVersion
    const deliver = (e: StoreEvent) => {
      if (e.kind !== kindName) return
      const now = inScope(e.object)
      const before = e.type === "ADDED" ? false : inScope(e.previous)
      lastRv = e.resourceVersion
      if (e.type === "DELETED") {
        if (before || now) write("DELETED", e.object)
      } else if (now && before) write("MODIFIED", e.object)
      else if (now) write("ADDED", e.object)
      else if (before) write("DELETED", e.object)
    }
    if (rvParam === null || rvParam === "" || rvParam === "0") {
      for (const o of this.cluster.store.list(kindName, ns)) if (inScope(o)) write("ADDED", o)
    } else {
      const from = Number(rvParam)
      if (!Number.isFinite(from)) {
        write("ERROR", badRequest(`resourceVersion: Invalid value: "${rvParam}": must be a number`).body)
        res.end()
        return
      }
      if (from < this.cluster.store.oldestResourceVersion) {
        write("ERROR", expired(from, this.cluster.store.oldestResourceVersion))
        res.end()
        return
      }
      for (const e of this.cluster.store.eventsAfter(from)) deliver(e)
    }
    const unsubscribe = this.cluster.store.subscribe(deliver)
    const bookmarks = q.get("allowWatchBookmarks") === "true"
      ? setInterval(() => write("BOOKMARK", { kind: k.kind, apiVersion: apiVersionOf(k), metadata: { resourceVersion: String(Math.max(lastRv, this.cluster.store.resourceVersion)) } }), this.knobs.bookmarkIntervalMs)
      : undefined
    const timeoutSeconds = q.get("timeoutSeconds")
    const timeout = timeoutSeconds === null ? undefined : setTimeout(() => end("eof"), Number(timeoutSeconds) * 1000)
    let ended = false
    const watch: OpenWatch = { kind: kindName, res, end: (how) => end(how) }
    const cleanup = () => {
      if (ended) return
      ended = true
      unsubscribe()
      if (bookmarks !== undefined) clearInterval(bookmarks)
      if (timeout !== undefined) clearTimeout(timeout)
      this.watches.delete(watch)
    }
    const end = (how: "expire" | "reset" | "eof") => {
      if (ended) return
      cleanup()
      if (how === "expire") {
        write("ERROR", expired(lastRv, this.cluster.store.oldestResourceVersion))
        res.end()
      } else if (how === "eof") res.end()
      else req.socket.resetAndDestroy()
    }
    this.watches.add(watch)
    res.on("close", cleanup)
  }

  // -----------------------------------------------------------------------------------------------
  // pods/log

  private serveLog(req: http.IncomingMessage, res: http.ServerResponse, ns: string, name: string, q: URLSearchParams): void {
    const pod = this.cluster.store.mustGet("pods", ns, name)
    const containers: Array<string> = (pod.spec.containers ?? []).map((c: any) => c.name)
    let container = q.get("container")
    if (container === null || container === "") {
      if (containers.length !== 1) throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.join(" ")}]`)
      container = containers[0]!
    }
    if (!containers.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`)
    if (pod.spec.nodeName === undefined) throw badRequest(`pod ${name} does not have a host assigned`)
    const previous = q.get("previous") === "true"
    const instances = this.kubelet.logsOf(pod.metadata.uid, container)
    if (instances === undefined && pod.status?.containerStatuses?.some((cs: any) => cs.name === container && cs.state?.running !== undefined)) {
      // The kubelet is unreachable (node lost): the API server's proxy to it fails.
      throw internalError(500, `Get "https://10.0.0.1:10250/containerLogs/${ns}/${name}/${container}": dial tcp 10.0.0.1:10250: connect: no route to host`)
    }
    let log: ContainerLog | undefined
    if (previous) {
      log = instances !== undefined && instances.length >= 2 ? instances[instances.length - 2] : undefined
      if (log === undefined) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`)
    } else {
      log = instances?.at(-1)
      if (log === undefined) {
        const cs = (pod.status?.containerStatuses ?? []).find((c: any) => c.name === container)
        const reason: string = cs?.state?.waiting?.reason ?? "ContainerCreating"
        const shown = reason === "ErrImagePull" || reason === "ImagePullBackOff" ? "trying and failing to pull image" : reason
        throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${shown}`)
      }
    }
    const timestamps = q.get("timestamps") === "true"
    const follow = q.get("follow") === "true"
    let since: bigint | undefined
    const sinceTime = q.get("sinceTime")
    if (sinceTime !== null) {
      const ns0 = parseRfc3339(sinceTime)
      if (ns0 === undefined) throw badRequest(`parsing time "${sinceTime}" as "2006-01-02T15:04:05Z07:00": cannot parse "${sinceTime}" as "2006"`)
      since = (ns0 / 1_000_000_000n) * 1_000_000_000n
    }
    const sinceSeconds = q.get("sinceSeconds")
    if (sinceSeconds !== null) since = nowNs() - BigInt(Number(sinceSeconds)) * 1_000_000_000n
    let entries: Array<LogEntry> = log.entries.filter((e) => since === undefined || e.ns >= since)
    const tail = q.get("tailLines")
    if (tail !== null) entries = entries.slice(Math.max(0, entries.length - Number(tail)))

    const drop = follow ? this.knobs.logDrops.find((d) => d.remaining > 0 && (d.rule.podName === undefined || d.rule.podName === name)) : undefined
    if (drop !== undefined) drop.remaining--
    res.writeHead(200, { "content-type": "text/plain", "transfer-encoding": "chunked" })
    res.flushHeaders()
    this.logStreams.add(res)
    res.on("close", () => this.logStreams.delete(res))
    let written = 0
    let done = false
    let unlisten = () => {}
    const finish = (how: "eof" | "reset" | "stall") => {
      if (done) return
      done = true
      unlisten()
      if (how === "eof") res.end()
      else if (how === "reset") req.socket.resetAndDestroy()
    }
    // Written at the reader's pace, as the kubelet streams a log file: lines wait in `backlog`
    // while the socket is full (a gigabyte of log is never buffered in this process at once).
    const backlog: Array<LogEntry> = entries
    let next = 0
    let logEnded = !follow || log.closed
    let draining = false
    const pump = () => {
      while (!done && !draining && next < backlog.length) {
        const e = backlog[next]!
        backlog[next++] = undefined as unknown as LogEntry
        const flowing = res.write(timestamps ? `${rfc3339Nano(e.ns)} ${e.text}\n` : `${e.text}\n`)
        written++
        if (drop !== undefined && written >= drop.rule.afterLines) return finish(drop.rule.mode)
        if (!flowing) {
          draining = true
          res.once("drain", () => {
            draining = false
            pump()
          })
        }
      }
      if (!done && !draining && next >= backlog.length) {
        backlog.length = next = 0
        if (logEnded) finish("eof")
      }
    }
    pump()
    if (done) return
    if (!logEnded) {
      unlisten = log.listen((e) => {
        if (e === null) logEnded = true
        else backlog.push(e)
        pump()
      })
    }
    // The Pod object going away ends a follow (its log goes with it).
    const unsubscribe = this.cluster.store.subscribe((ev) => {
      if (ev.kind === "pods" && ev.type === "DELETED" && ev.object.metadata.uid === pod.metadata.uid) finish("eof")
    })
    const prevUnlisten = unlisten
    unlisten = () => {
      prevUnlisten()
      unsubscribe()
    }
    res.on("close", () => {
      done = true
      unlisten()
    })
  }
}

export type { StatusBody }
