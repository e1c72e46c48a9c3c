/**
 * What a run on a cluster needs besides the {@link RunSpec}: where (namespace), in what (image,
 * resources, service account, the API key's Secret, volumes, scheduling), and who (agent, task,
 * session). The CLI's flags (the VS Code extension's settings), the config file and the defaults
 * are resolved into this by `resolveKubernetesSettings` (config/KubernetesSettings.ts); the parsers for the flag forms (`NAME[:KEY]`,
 * `NAME=VALUE`, quantities, object names) live here so the CLI, the config file and the extension agree.
 *
 * @module
 */
import * as Result from "effect/Result"

/** A toleration as the Pod spec takes it (core/v1 Toleration). `tolerationSeconds` in seconds. */
export interface Toleration {
  readonly key?: string
  readonly operator?: "Exists" | "Equal"
  readonly value?: string
  readonly effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute"
  readonly tolerationSeconds?: number
}

/** The API key as a `secretKeyRef`: agentrun never reads or copies it. */
export interface SecretKeyRef {
  readonly name: string
  readonly key: string
}

/** One `--pod-env NAME=VALUE`. */
export interface PodEnvVar {
  readonly name: string
  readonly value: string
}

/** Settings of one Kubernetes run. Quantities are Kubernetes quantity strings (`500m`, `2Gi`). */
export interface KubernetesRunOptions {
  readonly namespace: string
  readonly image: string
  /** CPU request and limit (request = limit). Default `1`. */
  readonly cpu: string
  /** Memory request and limit (request = limit). Default `2Gi`. */
  readonly memory: string
  /** The Pod's service account; null: the namespace's default, with no token mounted. */
  readonly serviceAccount: string | null
  /** Where the Pod reads `ANTHROPIC_API_KEY` from; null: not set (e.g. a proxy in `podEnv` needs none). */
  readonly apiKeySecret: SecretKeyRef | null
  readonly podEnv: ReadonlyArray<PodEnvVar>
  /** A PersistentVolumeClaim mounted at `/workspace`; null: an emptyDir. */
  readonly workspacePvc: string | null
  readonly nodeSelector: Readonly<Record<string, string>>
  readonly tolerations: ReadonlyArray<Toleration>
  /** Names of Secrets of type `kubernetes.io/dockerconfigjson` for pulling the image. */
  readonly imagePullSecrets: ReadonlyArray<string>
  /** Extra labels and annotations for the Job, its Pod and the Secret (agentrun's own keys win). */
  readonly labels: Readonly<Record<string, string>>
  readonly annotations: Readonly<Record<string, string>>
  /** Seconds the finished Job (and with it Pod and Secret) is kept before Kubernetes deletes it. Default 300. */
  readonly ttlSecondsAfterFinished: number
  /** The uid and gid the container runs as (restricted Pod Security needs a non-root one). Default 1000, the agent image's user. */
  readonly runAsUser: number
  readonly agentId: string | null
  readonly taskId: string | null
  /** The claude session the run resumes (`claude --resume ID`). */
  readonly sessionId: string | null
}

/** The defaults of the fields that have one. */
export const kubernetesRunDefaults = {
  cpu: "1",
  memory: "2Gi",
  ttlSecondsAfterFinished: 300,
  runAsUser: 1000
} as const

/** Options from the required fields and any others; the rest take their defaults (empty, null). */
export const kubernetesRunOptions = (
  options: Pick<KubernetesRunOptions, "namespace" | "image"> & Partial<KubernetesRunOptions>
): KubernetesRunOptions => ({
  cpu: kubernetesRunDefaults.cpu,
  memory: kubernetesRunDefaults.memory,
  serviceAccount: null,
  apiKeySecret: null,
  podEnv: [],
  workspacePvc: null,
  nodeSelector: {},
  tolerations: [],
  imagePullSecrets: [],
  labels: {},
  annotations: {},
  ttlSecondsAfterFinished: kubernetesRunDefaults.ttlSecondsAfterFinished,
  runAsUser: kubernetesRunDefaults.runAsUser,
  agentId: null,
  taskId: null,
  sessionId: null,
  ...options
})

/** The key `--api-key-secret NAME` reads when no `:KEY` is given. */
export const defaultApiKeySecretKey = "ANTHROPIC_API_KEY"

/** An object name (DNS-1123 subdomain: RFC 1123, Kubernetes "Object Names and IDs"), at most 253 characters. */
const dnsSubdomain = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/
/** A Secret data key: `[-._a-zA-Z0-9]+`, at most 253 characters (core/v1 validation). */
const secretKey = /^[-._a-zA-Z0-9]+$/
/** A C identifier, what the API accepts for env var names without a warning (Kubernetes recommends it). */
const envName = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Env names the Pod spec sets itself: a `--pod-env` cannot replace them. */
export const reservedEnvNames: ReadonlySet<string> = new Set([
  "HOME",
  "AGENTRUN_RUN_ID",
  "AGENTRUN_PROMPT_FILE",
  "AGENTRUN_CLAUDE",
  defaultApiKeySecretKey
])

/**
 * Parses `--api-key-secret NAME[:KEY]` (KEY defaults to {@link defaultApiKeySecretKey}).
 * Fails with the reason as text when NAME is not a valid Secret name or KEY not a valid key.
 */
export const parseApiKeySecret = (text: string): Result.Result<SecretKeyRef, string> => {
  const colon = text.indexOf(":")
  const name = colon === -1 ? text : text.slice(0, colon)
  const key = colon === -1 ? defaultApiKeySecretKey : text.slice(colon + 1)
  if (name.length > 253 || !dnsSubdomain.test(name)) return Result.fail(`"${name}" is not a Secret name (lower-case RFC 1123 subdomain)`)
  if (key.length > 253 || !secretKey.test(key)) return Result.fail(`"${key}" is not a Secret key ([-._a-zA-Z0-9]+)`)
  return Result.succeed({ name, key })
}

/**
 * Parses `--pod-env NAME=VALUE` (the value may contain `=`). Fails for a name that is not a C
 * identifier or is one agentrun sets ({@link reservedEnvNames}: the API key comes only from
 * `--api-key-secret`).
 */
export const parsePodEnv = (text: string): Result.Result<PodEnvVar, string> => {
  const eq = text.indexOf("=")
  if (eq <= 0) return Result.fail(`"${text}" is not NAME=VALUE`)
  const name = text.slice(0, eq)
  if (!envName.test(name)) return Result.fail(`"${name}" is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)`)
  if (reservedEnvNames.has(name)) {
    return Result.fail(name === defaultApiKeySecretKey
      ? `${name} is set from --api-key-secret only (the key never goes into the pod spec)`
      : `${name} is set by agentrun`)
  }
  return Result.succeed({ name, value: text.slice(eq + 1) })
}

/**
 * A quantity as the API server parses it (apimachinery `resource.Quantity`, documented in
 * "Resource Management for Pods and Containers" and the Quantity reference): a decimal number,
 * then one suffix: a binary SI one (`Ki Mi Gi Ti Pi Ei`), a decimal SI one (`m k M G T P E`) or
 * a decimal exponent (`e3`, `E-2`).
 */
const quantityPattern = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/

/**
 * Parses a CPU or memory quantity (`500m`, `2`, `1.5Gi`, `4e9`), returned as given. Fails with the
 * reason as text for anything the API server would refuse, and for zero or a negative amount
 * (request = limit: a zero limit leaves the container nothing to run with).
 */
export const parseQuantity = (text: string): Result.Result<string, string> => {
  const match = quantityPattern.exec(text)
  if (match === null) return Result.fail(`"${text}" is not a Kubernetes quantity (examples: 500m, 2, 512Mi, 4Gi)`)
  if (match[1] === "-" || Number(match[2]) === 0) return Result.fail(`"${text}" is not above zero`)
  return Result.succeed(text)
}

/** Whether `name` is a valid object name (DNS-1123 subdomain): Secrets, PVCs, service accounts. */
export const isObjectName = (name: string): boolean => name.length <= 253 && dnsSubdomain.test(name)

/**
 * Checks the name of an object a run refers to (`--service-account`, `--workspace-pvc`): returned
 * as given, or the reason as text naming `what` (e.g. "service account", "PersistentVolumeClaim").
 * The CLI's flags and config file and the VS Code extension's settings check names with it.
 */
export const parseObjectName = (what: string) => (name: string): Result.Result<string, string> =>
  isObjectName(name) ? Result.succeed(name) : Result.fail(`"${name}" is not a ${what} name (a lower-case RFC 1123 subdomain)`)

/** Whether `name` is a valid namespace name (DNS-1123 label: at most 63 of `[a-z0-9-]`, alphanumeric ends). */
export const isNamespaceName = (name: string): boolean => name.length <= 63 && /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/.test(name)
