/**
 * The labels agentrun puts on its Jobs, Pods and Secrets, and the sanitising that makes any id a
 * valid label value.
 *
 * A label value (Kubernetes "Labels and Selectors", syntax and character set) is empty or at most
 * 63 characters of `[A-Za-z0-9._-]`, beginning and ending with an alphanumeric character. Agent,
 * task and session ids come from users and may be anything, so they are sanitised; the original is
 * kept in an annotation of the same key (annotations have no such limits).
 *
 * @module
 */
// A namespace import: the CLI bundle loads node:crypto on first use only (build.mjs, deferredBuiltins).
import * as NodeCrypto from "node:crypto"

/** The label keys agentrun sets (the prefix `agentrun.dev/` is ours). */
export const LabelKeys = {
  runId: "agentrun.dev/run-id",
  agentId: "agentrun.dev/agent-id",
  taskId: "agentrun.dev/task-id",
  sessionId: "agentrun.dev/session-id",
  /** The well-known label (Kubernetes "Recommended Labels") naming the tool that manages the object. */
  managedBy: "app.kubernetes.io/managed-by"
} as const

/** The value of {@link LabelKeys.managedBy} on everything agentrun creates. */
export const managedByValue = "agentrun"

/** The longest label value the API accepts. */
export const maxLabelValueLength = 63

const validLabelValue = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)?$/

/** Whether `value` is a valid label value as the API server validates it (at most 63 characters, `[A-Za-z0-9._-]`, alphanumeric ends). */
export const isValidLabelValue = (value: string): boolean =>
  value.length <= maxLabelValueLength && validLabelValue.test(value)

/** Hex digits of the digest appended to an altered value (32 bits: collisions need ~65k distinct altered ids). */
const digestChars = 8

const trimToAlnum = (s: string): string => s.replace(/^[^A-Za-z0-9]+/, "").replace(/[^A-Za-z0-9]+$/, "")

/**
 * A valid label value for any string, deterministic (the same id always gives the same value, so a
 * label selector finds it again). A value that is already valid is returned unchanged. Otherwise
 * each run of characters outside `[A-Za-z0-9._-]` becomes `-`, the ends are trimmed to
 * alphanumerics, the rest is cut to fit, and `-` plus 8 hex digits of the SHA-256 of the original
 * is appended, so two ids that clean up alike still get different values.
 */
export const sanitizeLabelValue = (value: string): string => {
  if (isValidLabelValue(value)) return value
  const digest = NodeCrypto.createHash("sha256").update(value, "utf8").digest("hex").slice(0, digestChars)
  const cleaned = trimToAlnum(value.replace(/[^A-Za-z0-9._-]+/g, "-"))
  const head = trimToAlnum(cleaned.slice(0, maxLabelValueLength - digestChars - 1))
  return head === "" ? digest : `${head}-${digest}`
}

/** The identity a run carries on its objects. */
export interface RunIdentity {
  readonly runId: string
  readonly agentId: string | null
  readonly taskId: string | null
  readonly sessionId: string | null
}

/**
 * The labels of a run's Job, Pod template and Secret: the managed-by label, the run id, and the
 * agent, task and session ids that are set, each sanitised. User labels come first and cannot
 * override agentrun's own keys (a selector on them must keep finding the run).
 */
export const runLabels = (identity: RunIdentity, userLabels: Readonly<Record<string, string>> = {}): Record<string, string> => ({
  ...userLabels,
  [LabelKeys.managedBy]: managedByValue,
  [LabelKeys.runId]: sanitizeLabelValue(identity.runId),
  ...(identity.agentId === null ? {} : { [LabelKeys.agentId]: sanitizeLabelValue(identity.agentId) }),
  ...(identity.taskId === null ? {} : { [LabelKeys.taskId]: sanitizeLabelValue(identity.taskId) }),
  ...(identity.sessionId === null ? {} : { [LabelKeys.sessionId]: sanitizeLabelValue(identity.sessionId) })
})

/** The annotations holding the ids verbatim (the labels may be sanitised); user annotations first, ours win. */
export const runAnnotations = (identity: RunIdentity, userAnnotations: Readonly<Record<string, string>> = {}): Record<string, string> => ({
  ...userAnnotations,
  [LabelKeys.runId]: identity.runId,
  ...(identity.agentId === null ? {} : { [LabelKeys.agentId]: identity.agentId }),
  ...(identity.taskId === null ? {} : { [LabelKeys.taskId]: identity.taskId }),
  ...(identity.sessionId === null ? {} : { [LabelKeys.sessionId]: identity.sessionId })
})

/** The label selector (`key=value,...`) that finds a run's objects by its run id. */
export const runSelector = (runId: string): string =>
  `${LabelKeys.managedBy}=${managedByValue},${LabelKeys.runId}=${sanitizeLabelValue(runId)}`

/** The label selector that finds every run of one agent. */
export const agentSelector = (agentId: string): string =>
  `${LabelKeys.managedBy}=${managedByValue},${LabelKeys.agentId}=${sanitizeLabelValue(agentId)}`

/**
 * Whether `key` is a valid label or annotation key ("Labels and Selectors", syntax): an optional
 * DNS-subdomain prefix (at most 253 characters) and `/`, then a name of at most 63 characters of
 * `[A-Za-z0-9._-]` with alphanumeric ends.
 */
export const isValidLabelKey = (key: string): boolean => {
  const slash = key.indexOf("/")
  const prefix = slash === -1 ? null : key.slice(0, slash)
  const name = slash === -1 ? key : key.slice(slash + 1)
  const prefixOk = prefix === null ||
    (prefix.length <= 253 && /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/.test(prefix))
  return prefixOk && name !== "" && isValidLabelValue(name)
}
