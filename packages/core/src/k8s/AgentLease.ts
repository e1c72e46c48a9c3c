/**
 * One run per agent, across machines: a coordination.k8s.io/v1 Lease per agent in the run's
 * namespace, taken by creating it by name (the API server's AlreadyExists is the only lock: no
 * in-process mutex, no check-then-create).
 *
 * - Free: `create` succeeds → this run holds it.
 * - 409 AlreadyExists → held: the Lease is read. Its holder's annotations name the run, Job, task
 *   and session. A holder whose Lease expired (`renewTime + leaseDurationSeconds` in the past)
 *   and whose Job is finished or gone can be taken over, only by a replace carrying the read
 *   `metadata.resourceVersion`: a 409 Conflict there means another process won the takeover.
 * - A holder with the same task and session whose Job is live: the launch reattaches to that Job
 *   (re-running a command after a crash starts no second Job).
 * - Anything else: {@link ConcurrentRunBlocked} (exit 75).
 * - The API cannot be reached (or refuses): fail closed (no run starts unguarded).
 *
 * The supervisor renews the Lease every third of its duration while it follows the run, and
 * deletes it once the run has its verdict.
 *
 * @module
 */
import type { V1Job, V1Lease } from "@kubernetes/client-node"
import * as Effect from "effect/Effect"
import { createHash } from "node:crypto"
import { ConcurrentRunBlocked } from "../domain/Failures.ts"
import { timeMs, trueCondition } from "./ApiObjects.ts"
import type { KubernetesApiError, KubernetesApiShape } from "./KubernetesApi.ts"
import { LabelKeys, managedByValue, sanitizeLabelValue } from "./Labels.ts"

/** How long a Lease holds without renewal, in seconds. */
export const leaseDurationSeconds = 30

/** How often the supervisor renews its Lease, in milliseconds (a third of its duration). */
export const leaseRenewIntervalMs = (leaseDurationSeconds * 1000) / 3

/** Annotation keys a Lease's holder is described by (besides the run-id/agent-id/task-id/session-id keys of Labels.ts). */
export const LeaseAnnotations = {
  jobName: "agentrun.dev/job-name",
  supervisor: "agentrun.dev/supervisor"
} as const

/**
 * The Lease's name for an agent: `agentrun-agent-<id, cleaned>-<8 hex of its SHA-256>` (a valid
 * object name for any id, the same one on every machine; the digest keeps two ids that clean up
 * alike apart).
 */
export const leaseNameFor = (agentId: string): string => {
  const digest = createHash("sha256").update(agentId, "utf8").digest("hex").slice(0, 8)
  const cleaned = agentId.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40).replace(/-+$/, "")
  return cleaned === "" ? `agentrun-agent-${digest}` : `agentrun-agent-${cleaned}-${digest}`
}

/** Who holds (or asks for) an agent's Lease. */
export interface LeaseHolder {
  readonly runId: string
  readonly agentId: string
  readonly jobName: string
  readonly taskId: string | null
  readonly sessionId: string | null
  /** `host:pid` of the supervising agentrun process. */
  readonly supervisor: string
}

/** The Lease object for `holder` (renewed at `nowMs`); `base` keeps the read object's metadata for a replace. */
export const leaseObject = (namespace: string, holder: LeaseHolder, nowMs: number, base: V1Lease | null = null): V1Lease => {
  const now = new Date(nowMs)
  const sameHolder = base?.spec?.holderIdentity === holder.runId
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: {
      ...(base?.metadata ?? {}),
      name: leaseNameFor(holder.agentId),
      namespace,
      labels: {
        ...(base?.metadata?.labels ?? {}),
        [LabelKeys.managedBy]: managedByValue,
        [LabelKeys.agentId]: sanitizeLabelValue(holder.agentId)
      },
      annotations: {
        // A renewal keeps what the holder wrote at acquisition (a reattached supervisor may know less).
        ...(sameHolder ? base?.metadata?.annotations ?? {} : {}),
        [LabelKeys.runId]: holder.runId,
        [LabelKeys.agentId]: holder.agentId,
        [LeaseAnnotations.jobName]: holder.jobName,
        [LeaseAnnotations.supervisor]: holder.supervisor,
        ...(holder.taskId === null ? {} : { [LabelKeys.taskId]: holder.taskId }),
        ...(holder.sessionId === null ? {} : { [LabelKeys.sessionId]: holder.sessionId })
      }
    },
    spec: {
      holderIdentity: holder.runId,
      leaseDurationSeconds,
      acquireTime: sameHolder && base?.spec?.acquireTime != null ? base.spec.acquireTime : now,
      renewTime: now,
      leaseTransitions: (base?.spec?.leaseTransitions ?? 0) + (base !== null && !sameHolder ? 1 : 0)
    }
  }
}

/** The holder a Lease names (annotations written by {@link leaseObject}); fields it lacks are null. */
export const holderOf = (lease: V1Lease) => {
  const a = lease.metadata?.annotations ?? {}
  return {
    runId: a[LabelKeys.runId] ?? lease.spec?.holderIdentity ?? null,
    jobName: a[LeaseAnnotations.jobName] ?? null,
    taskId: a[LabelKeys.taskId] ?? null,
    sessionId: a[LabelKeys.sessionId] ?? null
  }
}

/** Whether the Lease's last renewal is older than its duration at `nowMs` (a Lease with no renewTime is expired). */
export const leaseExpired = (lease: V1Lease, nowMs: number): boolean => {
  const renewed = timeMs(lease.spec?.renewTime) ?? timeMs(lease.spec?.acquireTime)
  const duration = (lease.spec?.leaseDurationSeconds ?? leaseDurationSeconds) * 1000
  return renewed === null || renewed + duration < nowMs
}

/** Whether a Job has finished (Complete or Failed, or their 1.31 forerunners) or is being deleted. */
export const jobFinished = (job: V1Job): boolean =>
  job.metadata?.deletionTimestamp != null ||
  ["Complete", "Failed", "FailureTarget", "SuccessCriteriaMet"].some((t) => trueCondition(job.status?.conditions, t) !== null)

/** What the guard decided. */
export type LeaseDecision =
  /** This run holds the Lease (created, or taken over). */
  | { readonly _tag: "Acquired"; readonly lease: V1Lease }
  /** The same task and session run in a live Job: follow it (the Lease is now this run's). */
  | { readonly _tag: "Reattach"; readonly lease: V1Lease; readonly job: V1Job; readonly holderRunId: string | null }
  /** Another run holds it. */
  | { readonly _tag: "Blocked"; readonly blocked: ConcurrentRunBlocked }

const blockedBy = (namespace: string, holder: LeaseHolder, lease: V1Lease, why: string): Extract<LeaseDecision, { _tag: "Blocked" }> => {
  const h = holderOf(lease)
  const name = leaseNameFor(holder.agentId)
  return {
    _tag: "Blocked",
    blocked: new ConcurrentRunBlocked({
      message: `Agent ${holder.agentId} already has an active run${h.runId === null ? "" : ` (${h.runId}`}${h.jobName === null ? "" : `, Job ${h.jobName}`}${
        h.runId === null ? "" : ")"
      } in namespace ${namespace}${why}: this run was not started. \`agentrun attach\` or \`agentrun cancel\` the other run, or wait for it.`,
      retryable: true,
      evidence: { agentId: holder.agentId, namespace, lease: name, holderRunId: h.runId, holderJob: h.jobName, holderTaskId: h.taskId }
    })
  }
}

/**
 * The guard (see the module doc). Fails with the API's error when the cluster cannot be asked
 * (the caller fails the run closed: ClusterUnreachable / ClusterForbidden).
 */
export const acquireLease = (
  api: KubernetesApiShape,
  namespace: string,
  holder: LeaseHolder,
  nowMs: Effect.Effect<number>
): Effect.Effect<LeaseDecision, KubernetesApiError> =>
  Effect.gen(function*() {
    const name = leaseNameFor(holder.agentId)
    // Twice at most: a Lease deleted between our create and our read is simply free again.
    for (let attempt = 0; attempt < 2; attempt++) {
      const created = yield* api.createLease(namespace, leaseObject(namespace, holder, yield* nowMs)).pipe(
        Effect.map((lease) => ({ _tag: "Acquired" as const, lease })),
        Effect.catchTag("KubernetesConflict", () => Effect.succeed(null))
      )
      if (created !== null) return created
      const held = yield* api.getLease(namespace, name).pipe(Effect.catchTag("KubernetesNotFound", () => Effect.succeed(null)))
      if (held === null) continue
      if (held.spec?.holderIdentity === holder.runId) return { _tag: "Acquired", lease: held }
      const h = holderOf(held)
      const job = h.jobName === null
        ? null
        : yield* api.getJob(namespace, h.jobName).pipe(Effect.catchTag("KubernetesNotFound", () => Effect.succeed(null)))
      const live = job !== null && !jobFinished(job)
      if (live && holder.taskId !== null && h.taskId === holder.taskId && h.sessionId === holder.sessionId) {
        // The Lease now names this run, supervising the Job it found.
        return yield* takeOverOnce(api, namespace, { ...holder, jobName: h.jobName! }, held, yield* nowMs).pipe(
          Effect.map((lease): LeaseDecision => ({ _tag: "Reattach", lease, job: job!, holderRunId: h.runId })),
          Effect.catchTag("KubernetesConflict", () => Effect.succeed(blockedBy(namespace, holder, held, " (another agentrun took it over first)")))
        )
      }
      if (!live && leaseExpired(held, yield* nowMs)) {
        return yield* takeOverOnce(api, namespace, holder, held, yield* nowMs).pipe(
          Effect.map((lease): LeaseDecision => ({ _tag: "Acquired", lease })),
          Effect.catchTag("KubernetesConflict", () => Effect.succeed(blockedBy(namespace, holder, held, " (another agentrun took it over first)")))
        )
      }
      return blockedBy(namespace, holder, held, live ? "" : " (its Lease has not expired yet)")
    }
    // Created and deleted under us twice: someone is churning it; do not start unguarded.
    return blockedBy(namespace, holder, { metadata: { name } }, " (its Lease keeps changing)")
  })

/** A replace carrying the read resourceVersion: KubernetesConflict when another writer got there first. */
const takeOverOnce = (api: KubernetesApiShape, namespace: string, holder: LeaseHolder, read: V1Lease, nowMs: number) =>
  api.replaceLease(namespace, leaseObject(namespace, holder, nowMs, read))

/**
 * Renews this run's Lease at `nowMs` (read, then replace with its resourceVersion). Returns false
 * when the Lease is gone or names another holder now (it was taken over): the caller logs it and
 * does not fight for it.
 */
export const renewLease = (
  api: KubernetesApiShape,
  namespace: string,
  holder: LeaseHolder,
  nowMs: number
): Effect.Effect<boolean, KubernetesApiError> =>
  Effect.gen(function*() {
    const current = yield* api.getLease(namespace, leaseNameFor(holder.agentId)).pipe(
      Effect.catchTag("KubernetesNotFound", () => Effect.succeed(null))
    )
    if (current === null || current.spec?.holderIdentity !== holder.runId) return false
    return yield* api.replaceLease(namespace, leaseObject(namespace, holder, nowMs, current)).pipe(
      Effect.as(true),
      Effect.catchTag("KubernetesConflict", () => Effect.succeed(false))
    )
  })

/** Deletes the Lease if this run still holds it (a taken-over Lease is left to its new holder). */
export const releaseLease = (api: KubernetesApiShape, namespace: string, holder: LeaseHolder): Effect.Effect<void, KubernetesApiError> =>
  Effect.gen(function*() {
    const name = leaseNameFor(holder.agentId)
    const current = yield* api.getLease(namespace, name).pipe(Effect.catchTag("KubernetesNotFound", () => Effect.succeed(null)))
    if (current === null || current.spec?.holderIdentity !== holder.runId) return
    yield* api.deleteLease(namespace, name).pipe(Effect.catchTag("KubernetesNotFound", () => Effect.void))
  })
