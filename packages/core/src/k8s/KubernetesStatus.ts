/**
 * The API server's failure answers and the typed errors of `KubernetesApi.ts` they map to.
 *
 * A failed request answers with a `meta/v1 Status` body (k8s.io/apimachinery/pkg/api/errors):
 * `code`, `reason` (`NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `Forbidden`, `Expired`…),
 * `message` and `details` (`name`, `group`, `kind`, `causes[]` with `field`/`message`). client-node
 * 2.0.1 hands it over as `ApiException.body`, a JSON string; our own streaming requests read it
 * from the response. Both are decoded here with Schema; a body that is not a Status (a proxy's HTML
 * page) still maps by HTTP status.
 *
 * Nothing of the request is quoted: neither headers (the bearer token) nor bodies (a Secret's
 * data); only the operation's verb, resource, namespace and name, and the server's own message.
 *
 * @module
 */
import { ApiException } from "./ClientNode.ts"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import {
  type KubernetesApiError,
  KubernetesConflict,
  KubernetesForbidden,
  KubernetesInvalid,
  KubernetesNotFound,
  KubernetesUnreachable
} from "./KubernetesApi.ts"

/** What a request was doing, for errors: `create jobs "run-1" in team-a`. */
export interface Operation {
  /** The RBAC verb: get, list, watch, create, update, patch, delete. */
  readonly verb: string
  /** Plural resource with its subresource: `jobs`, `pods/log`, `leases`. */
  readonly resource: string
  /** API group, `""` for core. */
  readonly group: string
  readonly namespace: string | null
  readonly name: string | null
}

/** `create jobs "run-1" in team-a` */
export const describeOperation = (op: Operation): string =>
  `${op.verb} ${op.resource}${op.group === "" ? "" : `.${op.group}`}${op.name === null ? "" : ` "${op.name}"`}${op.namespace === null ? "" : ` in ${op.namespace}`}`

/** The fields of a `meta/v1 Status` agentrun reads (all optional: a server may leave any out). */
export const StatusBody = Schema.Struct({
  kind: Schema.optionalKey(Schema.String),
  status: Schema.optionalKey(Schema.String),
  message: Schema.optionalKey(Schema.String),
  reason: Schema.optionalKey(Schema.String),
  code: Schema.optionalKey(Schema.Number),
  details: Schema.optionalKey(Schema.Struct({
    name: Schema.optionalKey(Schema.String),
    group: Schema.optionalKey(Schema.String),
    kind: Schema.optionalKey(Schema.String),
    causes: Schema.optionalKey(Schema.Array(Schema.Struct({
      reason: Schema.optionalKey(Schema.String),
      message: Schema.optionalKey(Schema.String),
      field: Schema.optionalKey(Schema.String)
    })))
  }))
})
export type StatusBody = typeof StatusBody.Type

const decodeStatusText = Schema.decodeUnknownOption(Schema.fromJsonString(StatusBody))
const decodeStatusObject = Schema.decodeUnknownOption(StatusBody)

/** A Status from a body given as JSON text or as an already parsed object; none when it is not one. */
export const decodeStatus = (body: unknown): Option.Option<StatusBody> =>
  typeof body === "string" ? decodeStatusText(body) : decodeStatusObject(body)

/** At most this much of a non-Status body is quoted in a message. */
const quotedBodyChars = 200

const serverText = (status: Option.Option<StatusBody>, body: unknown): string => {
  if (Option.isSome(status) && status.value.message !== undefined) return status.value.message
  const text = typeof body === "string" ? body.trim() : ""
  return text.length > quotedBodyChars ? `${text.slice(0, quotedBodyChars)}…` : text
}

/**
 * The typed error for an HTTP failure answer. 403 (and 401, rejected credentials) → Forbidden;
 * 404 → NotFound; 409 → Conflict; 400/422 and other 4xx → Invalid; 429 and 5xx → Unreachable
 * (retryable). A 410 Gone outside a watch is a NotFound (the object's history is gone).
 */
export const fromHttpStatus = (server: string, op: Operation, httpStatus: number, body: unknown): KubernetesApiError => {
  const status = decodeStatus(body)
  const said = serverText(status, body)
  const what = describeOperation(op)
  const name = op.name ?? (Option.isSome(status) ? status.value.details?.name ?? null : null)
  if (httpStatus === 401 || httpStatus === 403) {
    const why = httpStatus === 401 ? "the API server rejected the credentials (401 Unauthorized)" : "forbidden by RBAC"
    return new KubernetesForbidden({
      message: `Kubernetes API: cannot ${what}: ${why}${said === "" ? "" : `: ${said}`}`,
      verb: op.verb,
      resource: op.resource,
      group: op.group,
      namespace: op.namespace,
      serverMessage: said,
      retryable: false
    })
  }
  if (httpStatus === 404 || httpStatus === 410) {
    return new KubernetesNotFound({
      message: `Kubernetes API: cannot ${what}: not found${said === "" ? "" : ` (${said})`}`,
      resource: op.resource,
      namespace: op.namespace,
      name: name ?? "",
      retryable: false
    })
  }
  if (httpStatus === 409) {
    const reason = Option.isSome(status) && status.value.reason !== undefined ? status.value.reason : "Conflict"
    return new KubernetesConflict({
      message: `Kubernetes API: cannot ${what}: ${reason === "AlreadyExists" ? "it already exists" : "another writer changed it first"}${said === "" ? "" : ` (${said})`}`,
      resource: op.resource,
      namespace: op.namespace,
      name: name ?? "",
      reason,
      // A resourceVersion conflict can succeed after a fresh read; AlreadyExists cannot by retrying.
      retryable: reason === "Conflict",
    })
  }
  if (httpStatus === 429 || httpStatus >= 500) {
    return new KubernetesUnreachable({
      message: `Kubernetes API at ${server}: cannot ${what}: HTTP ${httpStatus}${said === "" ? "" : `: ${said}`}`,
      server,
      operation: what,
      status: httpStatus,
      code: null,
      retryable: true
    })
  }
  const causes = Option.isSome(status)
    ? (status.value.details?.causes ?? []).map((c) => ({ field: c.field ?? null, message: c.message ?? c.reason ?? "" }))
    : []
  return new KubernetesInvalid({
    message: `Kubernetes API: cannot ${what}: HTTP ${httpStatus}${said === "" ? "" : `: ${said}`}`,
    resource: op.resource,
    namespace: op.namespace,
    name,
    causes,
    retryable: false
  })
}

/** The first `code` string on an error or its `cause` chain (`ECONNREFUSED`, `UND_ERR_SOCKET`). */
const errorCode = (error: unknown): string | null => {
  let e: unknown = error
  for (let depth = 0; depth < 5 && typeof e === "object" && e !== null; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === "string" && code !== "") return code
    e = (e as { cause?: unknown }).cause
  }
  return null
}

/** The innermost message on the cause chain (undici's `fetch failed` says less than its cause). */
const innermostMessage = (error: unknown): string => {
  let message = error instanceof Error ? error.message : String(error)
  let e: unknown = error
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    if (e.message !== "") message = e.message
    e = e.cause
  }
  return message
}

/** A connection failure (refused, reset, DNS, TLS, timeout) as KubernetesUnreachable, retryable. */
export const fromTransport = (server: string, op: Operation, error: unknown): KubernetesUnreachable => {
  const code = errorCode(error)
  return new KubernetesUnreachable({
    message: `Kubernetes API at ${server} unreachable: cannot ${describeOperation(op)}: ${innermostMessage(error)}`,
    server,
    operation: describeOperation(op),
    status: null,
    code,
    retryable: true
  })
}

/** No answer (or no more data) within `ms`: KubernetesUnreachable with code ETIMEDOUT. */
export const timedOut = (server: string, op: Operation, ms: number): KubernetesUnreachable =>
  new KubernetesUnreachable({
    message: `Kubernetes API at ${server} did not answer within ${ms} ms: cannot ${describeOperation(op)}`,
    server,
    operation: describeOperation(op),
    status: null,
    code: "ETIMEDOUT",
    retryable: true
  })

/** Any rejection of a client-node call: an `ApiException` by its code and Status body, else a transport failure. */
export const fromClientFailure = (server: string, op: Operation, error: unknown): KubernetesApiError =>
  error instanceof ApiException ? fromHttpStatus(server, op, (error as ApiException<unknown>).code, (error as ApiException<unknown>).body) : fromTransport(server, op, error)
