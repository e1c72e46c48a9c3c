/**
 * A cancel request carried by the run's Job itself, for supervisors on other machines.
 *
 * The run store's cancel request reaches a supervisor that shares the store and watches it; a
 * supervisor on another machine (a laptop, while a CI job cancels; a state dir on NFS whose
 * change notifications never arrive) is reached through the one thing both sides see: the Job.
 * `agentrun cancel` merge-patches these annotations onto the Job before anything else; every
 * supervisor follows its Job with a watch, so the patch reaches it as a MODIFIED event, and it
 * then cancels exactly as for a store request (deletes the Job, reads the final logs, records
 * `Cancelled` naming the requester).
 *
 * When the canceller deletes the Job itself (the run's supervisor is gone or cannot be seen
 * from its machine), the annotation was set first: a supervisor that is alive after all sees the
 * annotated Job (the MODIFIED, or the DELETED event's final object) and records `Cancelled`, not
 * `JobDeletedExternally` (PodVerdict.ts, step 1).
 *
 * @module
 */
import type { JobLike } from "./ApiObjects.ts"

/** The annotation keys of a cancel request (the prefix `agentrun.dev/` is ours). */
export const CancelAnnotationKeys = {
  /** Who asked: the cancel's `by` (e.g. `agentrun cancel (pid 4242 on ci-runner-7)`). */
  requestedBy: "agentrun.dev/cancel-requested-by",
  /** When: ISO 8601 UTC. */
  requestedAt: "agentrun.dev/cancel-requested-at"
} as const

/** A cancel request as read from a Job's annotations. */
export interface JobCancelRequest {
  readonly by: string
  /** ISO 8601 text as written; null when the annotation is missing. */
  readonly at: string | null
}

/** The annotations that ask the Job's supervisor to cancel the run. `at` is epoch milliseconds. */
export const cancelAnnotations = (by: string, atMs: number): Record<string, string> => ({
  [CancelAnnotationKeys.requestedBy]: by,
  [CancelAnnotationKeys.requestedAt]: new Date(atMs).toISOString()
})

/** The cancel request a Job carries (by its `agentrun.dev/cancel-requested-by` annotation), or null. */
export const cancelRequestOf = (job: JobLike | null): JobCancelRequest | null => {
  const annotations = job?.metadata?.annotations
  const by = annotations?.[CancelAnnotationKeys.requestedBy]
  if (by === undefined || by === null) return null
  return { by, at: annotations?.[CancelAnnotationKeys.requestedAt] ?? null }
}
