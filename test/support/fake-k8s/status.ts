/**
 * `Status` bodies shaped as the API server writes them (k8s.io/apimachinery/pkg/api/errors), so a
 * client that reads `reason`, `code`, `details` sees what a cluster would send.
 *
 * @module
 */
import { qualifiedKind, qualifiedResource, type ResourceKind } from "./objects.ts"

/** A `meta/v1 Status` object. */
export interface StatusBody {
  readonly kind: "Status"
  readonly apiVersion: "v1"
  readonly metadata: Record<string, never>
  readonly status: "Failure" | "Success"
  readonly message?: string
  readonly reason?: string
  readonly details?: Record<string, unknown>
  readonly code: number
}

/** An API failure on its way to the HTTP layer: the HTTP status is `body.code`. */
export class ApiError extends Error {
  readonly body: StatusBody
  constructor(body: StatusBody) {
    super(body.message)
    this.body = body
  }
}

const failure = (code: number, reason: string, message: string, details?: Record<string, unknown>): ApiError =>
  new ApiError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...(details === undefined ? {} : { details }), code })

/** 404: `jobs.batch "x" not found`. */
export const notFound = (k: ResourceKind, name: string): ApiError =>
  failure(404, "NotFound", `${qualifiedResource(k)} "${name}" not found`, { name, ...(k.group === "" ? {} : { group: k.group }), kind: k.plural })

/** 409 AlreadyExists: `jobs.batch "x" already exists`. */
export const alreadyExists = (k: ResourceKind, name: string): ApiError =>
  failure(409, "AlreadyExists", `${qualifiedResource(k)} "${name}" already exists`, { name, ...(k.group === "" ? {} : { group: k.group }), kind: k.plural })

/** 409 Conflict: an update whose `metadata.resourceVersion` is not the stored one. */
export const conflict = (k: ResourceKind, name: string): ApiError =>
  failure(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(k)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, ...(k.group === "" ? {} : { group: k.group }), kind: k.plural }
  )

/** One `details.causes[]` entry of a 422. */
export interface Cause {
  readonly reason: "FieldValueInvalid" | "FieldValueRequired" | "FieldValueNotSupported" | "FieldValueForbidden" | "FieldValueTooLong"
  readonly message: string
  readonly field: string
}

/** 422 Invalid: `Job.batch "x" is invalid: field: message[, ...]`. */
export const invalid = (k: ResourceKind, name: string, causes: ReadonlyArray<Cause>): ApiError => {
  const text = causes.map((c) => `${c.field}: ${c.message}`)
  const joined = text.length === 1 ? text[0]! : `[${text.join(", ")}]`
  return failure(422, "Invalid", `${qualifiedKind(k)} "${name}" is invalid: ${joined}`, {
    name,
    ...(k.group === "" ? {} : { group: k.group }),
    kind: k.kind,
    causes
  })
}

/** 400 BadRequest with a free message (log requests on a waiting container, bad selectors). */
export const badRequest = (message: string): ApiError => failure(400, "BadRequest", message)

/** 403 Forbidden with the RBAC message shape. */
export const forbidden = (user: string, verb: string, k: ResourceKind, namespace: string | null, name?: string): ApiError =>
  failure(
    403,
    "Forbidden",
    `${qualifiedResource(k)}${name === undefined ? "" : ` "${name}"`} is forbidden: User "${user}" cannot ${verb} resource "${k.plural}" in API group "${k.group}"${namespace === null ? " at the cluster scope" : ` in the namespace "${namespace}"`}`,
    { ...(name === undefined ? {} : { name }), ...(k.group === "" ? {} : { group: k.group }), kind: k.plural }
  )

/** 410 Expired, as sent inside a watch ERROR event for a compacted resourceVersion. */
export const expired = (requested: number, oldest: number): StatusBody => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message: `too old resource version: ${requested} (${oldest})`,
  reason: "Expired",
  code: 410
})

/** The Status reason the API server gives each code (k8s.io/apimachinery/pkg/apis/meta/v1 StatusReason). */
const reasonOf = (code: number): string => {
  switch (code) {
    case 410: return "Expired"
    case 429: return "TooManyRequests"
    case 503: return "ServiceUnavailable"
    case 504: return "Timeout"
    default: return "InternalError"
  }
}

/** An injected failure answer (5xx, 429, 410) with the reason the API server gives that code. */
export const internalError = (code: number, message: string): ApiError => failure(code, reasonOf(code), message)

/** The `Status` a DELETE of a Job/Secret/Lease answers. */
export const deleted = (k: ResourceKind, name: string, uid: string): StatusBody => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Success",
  details: { name, ...(k.group === "" ? {} : { group: k.group }), kind: k.plural, uid },
  code: 200
})
