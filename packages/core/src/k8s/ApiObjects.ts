/**
 * The fields of Jobs, Pods and Events that the classifier reads, typed structurally so that both
 * client-node's decoded models (times as `Date`) and raw watch JSON (times as ISO strings) fit.
 * Field names and meanings are the Kubernetes API's (batch/v1 Job, core/v1 Pod and Event).
 *
 * @module
 */

/** An API timestamp: `Date` from client-node's models, RFC 3339 text from raw JSON. */
export type ApiTime = Date | string | null | undefined

/** A Job or Pod condition. */
export interface ConditionLike {
  readonly type: string
  readonly status: string
  readonly reason?: string | null | undefined
  readonly message?: string | null | undefined
  readonly lastTransitionTime?: ApiTime
}

/** `containerStatuses[].state` (exactly one of the three is set). */
export interface ContainerStateLike {
  readonly waiting?: { readonly reason?: string | null | undefined; readonly message?: string | null | undefined } | null | undefined
  readonly running?: { readonly startedAt?: ApiTime } | null | undefined
  readonly terminated?: {
    readonly exitCode: number
    readonly signal?: number | null | undefined
    readonly reason?: string | null | undefined
    readonly message?: string | null | undefined
    readonly containerID?: string | null | undefined
    readonly startedAt?: ApiTime
    readonly finishedAt?: ApiTime
  } | null | undefined
}

/** One `status.containerStatuses[]` entry. */
export interface ContainerStatusLike {
  readonly name: string
  readonly state?: ContainerStateLike | null | undefined
  readonly containerID?: string | null | undefined
  readonly image?: string | null | undefined
}

/** The object metadata the classifier reads. */
export interface MetaLike {
  readonly name?: string | null | undefined
  readonly uid?: string | null | undefined
  readonly creationTimestamp?: ApiTime
  readonly deletionTimestamp?: ApiTime
  readonly annotations?: Readonly<Record<string, string>> | null | undefined
}

/** A Pod. */
export interface PodLike {
  readonly metadata?: MetaLike | null | undefined
  readonly spec?: {
    readonly nodeName?: string | null | undefined
    readonly containers?: ReadonlyArray<{
      readonly name: string
      readonly image?: string | null | undefined
      readonly resources?: { readonly limits?: Readonly<Record<string, string>> | null | undefined } | null | undefined
    }> | null | undefined
  } | null | undefined
  readonly status?: {
    readonly phase?: string | null | undefined
    readonly reason?: string | null | undefined
    readonly message?: string | null | undefined
    readonly conditions?: ReadonlyArray<ConditionLike> | null | undefined
    readonly containerStatuses?: ReadonlyArray<ContainerStatusLike> | null | undefined
  } | null | undefined
}

/** A Job. */
export interface JobLike {
  readonly metadata?: MetaLike | null | undefined
  readonly spec?: { readonly activeDeadlineSeconds?: number | null | undefined } | null | undefined
  readonly status?: { readonly conditions?: ReadonlyArray<ConditionLike> | null | undefined } | null | undefined
}

/** A core/v1 Event about the Pod or its node. */
export interface EventLike {
  readonly reason?: string | null | undefined
  readonly message?: string | null | undefined
  readonly type?: string | null | undefined
  readonly involvedObject?: { readonly kind?: string | null | undefined; readonly name?: string | null | undefined } | null | undefined
  readonly lastTimestamp?: ApiTime
  readonly eventTime?: ApiTime
}

/** Epoch milliseconds of an API time; null when absent or unparseable. */
export const timeMs = (t: ApiTime): number | null => {
  if (t === null || t === undefined) return null
  const ms = t instanceof Date ? t.getTime() : Date.parse(t)
  return Number.isNaN(ms) ? null : ms
}

/** An API time as ISO 8601 text; null when absent or unparseable. */
export const timeIso = (t: ApiTime): string | null => {
  const ms = timeMs(t)
  return ms === null ? null : new Date(ms).toISOString()
}

/** The condition of `type` with status `True`, if any. */
export const trueCondition = (conditions: ReadonlyArray<ConditionLike> | null | undefined, type: string): ConditionLike | null =>
  (conditions ?? []).find((c) => c.type === type && c.status === "True") ?? null
