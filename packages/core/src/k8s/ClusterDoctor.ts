/**
 * `doctor --backend k8s`: can this user run agents on this cluster? The API server is asked for
 * its version (reachable, and which Kubernetes), then a SelfSubjectAccessReview for every
 * permission the backend needs in the namespace ({@link kubernetesBackendAccess}), so a missing
 * RBAC rule is named before a run trips over it. It reports; it never fails.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import { type AccessNeed, accessNeedText, kubernetesBackendAccess } from "./AccessNeeds.ts"
import { KubernetesApi } from "./KubernetesApi.ts"

/** The answer for one permission. */
export interface AccessCheck {
  readonly need: AccessNeed
  /** `create batch/jobs` ({@link accessNeedText}). */
  readonly text: string
  /** The review's answer; null when the review itself failed (`error`). */
  readonly allowed: boolean | null
  /** The authorizer's reason, when it gave one. */
  readonly reason: string | null
  /** `_tag: message` of a failed review (e.g. KubernetesUnreachable). */
  readonly error: string | null
}

/** What `doctor --backend k8s` found. */
export interface ClusterDoctorReport {
  /** The API server URL (no credentials). */
  readonly server: string
  /** The kubeconfig context; null in-cluster. */
  readonly context: string | null
  /** The namespace checked (the target's, else the context's). */
  readonly namespace: string
  /** `/version`'s gitVersion, or why the server could not be asked. */
  readonly version: { readonly _tag: "Reachable"; readonly gitVersion: string } | { readonly _tag: "Unreachable"; readonly error: string }
  /** One per needed permission, in {@link kubernetesBackendAccess}'s order; empty when the server was unreachable. */
  readonly access: ReadonlyArray<AccessCheck>
  /** The permissions denied (texts); those whose review failed are not counted as denied. */
  readonly missing: ReadonlyArray<string>
}

const describe = (e: { readonly _tag: string; readonly message: string }) => `${e._tag}: ${e.message}`

/**
 * Checks the cluster of the provided {@link KubernetesApi}: its version, then every needed
 * permission (4 reviews at a time). Never fails: failures are part of the report.
 */
export const clusterDoctor: Effect.Effect<ClusterDoctorReport, never, KubernetesApi> = Effect.gen(function*() {
  const api = yield* KubernetesApi
  const where = { server: api.server, context: api.context, namespace: api.namespace }
  const version = yield* api.serverVersion.pipe(
    Effect.map((gitVersion) => ({ _tag: "Reachable", gitVersion }) as const),
    Effect.catch((e) => Effect.succeed({ _tag: "Unreachable", error: describe(e) } as const))
  )
  if (version._tag === "Unreachable") return { ...where, version, access: [], missing: [] }
  const access = yield* Effect.forEach(kubernetesBackendAccess, (need) =>
    api.accessReview({ ...need, namespace: api.namespace }).pipe(
      Effect.map((r): AccessCheck => ({ need, text: accessNeedText(need), allowed: r.allowed, reason: r.reason, error: null })),
      Effect.catch((e) => Effect.succeed<AccessCheck>({ need, text: accessNeedText(need), allowed: null, reason: null, error: describe(e) }))
    ), { concurrency: 4 })
  return { ...where, version, access, missing: access.filter((a) => a.allowed === false).map((a) => a.text) }
})
