/**
 * The settings of a Kubernetes run, merged from what the host was given for this run (the CLI's
 * `run --backend k8s` flags, the VS Code extension's `agentrun.k8s.*` settings), the config
 * file's `kubernetes` section and the defaults: one function, {@link resolveKubernetesSettings},
 * used by both hosts so they cannot drift.
 *
 * Precedence, key by key: the given value > the config file's `kubernetes.<key>` > the default
 * (`kubernetesRunDefaults`: cpu `1`, memory `2Gi`, TTL 300 s, uid 1000; otherwise empty or none).
 * `podEnv` is merged rather than replaced: the file's variables, then the given ones, a given one
 * replacing the file's of the same name (and of given ones with one name, the last). The Pod
 * settings with no flag or setting (node selector, tolerations, imagePullSecrets, labels,
 * annotations, `ttlSecondsAfterFinished`) come from the file alone. The kubeconfig has no key in
 * the file: it is the given one or none (the default: `KUBECONFIG`, else `~/.kube/config`, else
 * in-cluster).
 *
 * Every value is checked here, with the API server's rules, before anything is created: a bad
 * one is a {@link ConfigError} whose `source` (and the start of whose message) names where it
 * came from, the given value's own source (`flag --cpu`, ``setting `agentrun.k8s.cpu` ``) or
 * `<config path> kubernetes.<key>`.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import type { ClusterTarget } from "../k8s/KubernetesApi.ts"
import {
  isNamespaceName,
  isObjectName,
  kubernetesRunDefaults,
  type KubernetesRunOptions,
  parseApiKeySecret,
  parseObjectName,
  parsePodEnv,
  parseQuantity,
  type PodEnvVar,
  type Toleration
} from "../k8s/KubernetesRunOptions.ts"
import { isValidLabelKey, isValidLabelValue } from "../k8s/Labels.ts"
import { ConfigError, type ConfigFile, type KubernetesConfig } from "./AgentrunConfig.ts"

/** A value given for this run, as typed, and where it came from as errors name it (`flag --cpu`, ``setting `agentrun.k8s.cpu` ``). */
export interface KubernetesGivenValue {
  readonly value: string
  readonly source: string
}

/**
 * What the host was given for one run, each overriding the config file's key of the same name;
 * absent: not given (the file's, else the default). Texts as the flags take them: quantities
 * (`500m`, `2Gi`), object names, `apiKeySecret` `NAME[:KEY]`, `podEnv` `NAME=VALUE`.
 */
export interface KubernetesGiven {
  /** A kubeconfig file, as given (a relative path is the caller's to resolve); the file has no such key. */
  readonly kubeconfig?: KubernetesGivenValue | undefined
  readonly context?: KubernetesGivenValue | undefined
  readonly namespace?: KubernetesGivenValue | undefined
  readonly image?: KubernetesGivenValue | undefined
  readonly cpu?: KubernetesGivenValue | undefined
  readonly memory?: KubernetesGivenValue | undefined
  readonly serviceAccount?: KubernetesGivenValue | undefined
  readonly apiKeySecret?: KubernetesGivenValue | undefined
  /** `NAME=VALUE` texts, in order, added to (and replacing by name) the file's `podEnv`. */
  readonly podEnv?: ReadonlyArray<KubernetesGivenValue> | undefined
  readonly workspacePvc?: KubernetesGivenValue | undefined
}

/** The Pod's settings of a run: its {@link KubernetesRunOptions} but the namespace and who (agent, task, session). */
export type KubernetesPodSettings = Omit<KubernetesRunOptions, "namespace" | "agentId" | "taskId" | "sessionId">

/** A Kubernetes run's settings, resolved. */
export interface ResolvedKubernetesSettings {
  /**
   * The cluster: the kubeconfig as given (null: the default), the context (null: the
   * kubeconfig's current one), the namespace (null: the context's; it is also the run's namespace).
   */
  readonly target: ClusterTarget
  readonly pod: KubernetesPodSettings
}

/** The error when neither the host nor the file names an image (there is no default): its source and message. */
export interface MissingImage {
  readonly source: string
  readonly message: string
}

const refuse = (source: string, message: string) => new ConfigError({ message, source, retryable: false })

/** The given value, else the file's, with the source an error names. */
const pick = (given: KubernetesGivenValue | undefined, fromFile: string | undefined, fileKey: string, path: string) =>
  given !== undefined
    ? Option.some(given)
    : fromFile === undefined
    ? Option.none()
    : Option.some({ value: fromFile, source: `${path} kubernetes.${fileKey}` })

/** Checks a picked value with `parse` (a Result whose failure is the reason); none stays none. */
const checked = <A, B>(
  picked: Option.Option<{ readonly value: A; readonly source: string }>,
  parse: (a: A) => Result.Result<B, string>
): Effect.Effect<Option.Option<B>, ConfigError> => {
  if (Option.isNone(picked)) return Effect.succeed(Option.none())
  const r = parse(picked.value.value)
  return Result.isSuccess(r)
    ? Effect.succeed(Option.some(r.success))
    : Effect.fail(refuse(picked.value.source, `${picked.value.source}: ${r.failure}`))
}

const nonEmpty = (what: string) => (text: string): Result.Result<string, string> =>
  text.trim() === "" ? Result.fail(`the ${what} is empty`) : Result.succeed(text)

/** Checks labels (or a node selector): keys and values as the API server validates them. */
const labelMap = (what: string, map: Readonly<Record<string, string>>): Result.Result<Readonly<Record<string, string>>, string> => {
  for (const [key, value] of Object.entries(map)) {
    if (!isValidLabelKey(key)) return Result.fail(`"${key}" is not a ${what} key ([prefix/]name: a name of at most 63 of [A-Za-z0-9._-])`)
    if (!isValidLabelValue(value)) return Result.fail(`the value of "${key}", "${value}", is not a label value (at most 63 of [A-Za-z0-9._-], alphanumeric ends)`)
  }
  return Result.succeed(map)
}

const annotationMap = (map: Readonly<Record<string, string>>): Result.Result<Readonly<Record<string, string>>, string> => {
  const bad = Object.keys(map).find((key) => !isValidLabelKey(key))
  return bad === undefined ? Result.succeed(map) : Result.fail(`"${bad}" is not an annotation key ([prefix/]name)`)
}

/** The file's tolerations, checked with the API server's own rules for one (core/v1 validation). */
const tolerationList = (fromFile: NonNullable<KubernetesConfig["tolerations"]>): Result.Result<ReadonlyArray<Toleration>, string> => {
  // The decoded fields may be `undefined`; a Toleration leaves them out.
  const list: ReadonlyArray<Toleration> = fromFile.map((t) =>
    Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as Toleration
  )
  for (const [i, t] of list.entries()) {
    if (t.operator === "Exists" && t.value !== undefined && t.value !== "") return Result.fail(`[${i}]: a value must be empty when the operator is Exists`)
    if ((t.key === undefined || t.key === "") && t.operator !== "Exists") return Result.fail(`[${i}]: without a key the operator must be Exists`)
    if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute") return Result.fail(`[${i}]: tolerationSeconds needs the effect NoExecute`)
  }
  return Result.succeed(list)
}

const secretNames = (names: ReadonlyArray<string>): Result.Result<ReadonlyArray<string>, string> => {
  const bad = names.find((n) => !isObjectName(n))
  return bad === undefined ? Result.succeed(names) : Result.fail(`"${bad}" is not a Secret name (a lower-case RFC 1123 subdomain)`)
}

/**
 * Resolves a Kubernetes run's cluster and Pod settings: `given` (the host's flags or settings) >
 * `file`'s `kubernetes` section (read from `path`, which errors name) > the defaults; see the
 * module doc for the merge of `podEnv` and the keys only the file has. Units are the
 * Kubernetes API's: quantities as texts (`500m`, `2Gi`), `ttlSecondsAfterFinished` and a
 * toleration's `tolerationSeconds` in seconds.
 *
 * Fails with {@link ConfigError} (not retryable: fix the setting) naming the source of:
 * - no image, given or in the file: `missingImage` (its source is what the host offers to set);
 * - an image that is empty or holds white space; a namespace that is not a lower-case RFC 1123
 *   label; an empty context or kubeconfig;
 * - a cpu or memory that is not a Kubernetes quantity above zero; a service account or
 *   PersistentVolumeClaim that is not an object name; an `apiKeySecret` that is not `NAME[:KEY]`;
 * - a `podEnv` entry that is not `NAME=VALUE` or sets a variable agentrun sets itself
 *   (`ANTHROPIC_API_KEY` comes from `apiKeySecret` only);
 * - a node selector or label that is not a label key and value, an annotation key that is not a
 *   label key, an imagePullSecret that is not a Secret name, a toleration the API server refuses.
 */
export const resolveKubernetesSettings = (
  given: KubernetesGiven,
  file: ConfigFile,
  path: string,
  missingImage: MissingImage
): Effect.Effect<ResolvedKubernetesSettings, ConfigError> =>
  Effect.gen(function*() {
    const k = file.kubernetes ?? {}

    const image = yield* checked(pick(given.image, k.image, "image", path), (s) =>
      /\s/.test(s) || s === "" ? Result.fail(`"${s}" is not an image reference`) : Result.succeed(s))
    if (Option.isNone(image)) return yield* refuse(missingImage.source, missingImage.message)
    const namespace = yield* checked(pick(given.namespace, k.namespace, "namespace", path), (ns) =>
      isNamespaceName(ns) ? Result.succeed(ns) : Result.fail(`"${ns}" is not a namespace name (a lower-case RFC 1123 label, at most 63 characters)`))
    const context = yield* checked(pick(given.context, k.context, "context", path), nonEmpty("context"))
    const kubeconfig = yield* checked(pick(given.kubeconfig, undefined, "kubeconfig", path), nonEmpty("kubeconfig path"))
    const cpu = yield* checked(pick(given.cpu, k.cpu, "cpu", path), parseQuantity)
    const memory = yield* checked(pick(given.memory, k.memory, "memory", path), parseQuantity)
    const serviceAccount = yield* checked(pick(given.serviceAccount, k.serviceAccount, "serviceAccount", path), parseObjectName("service account"))
    const apiKeySecret = yield* checked(pick(given.apiKeySecret, k.apiKeySecret, "apiKeySecret", path), parseApiKeySecret)
    const workspacePvc = yield* checked(pick(given.workspacePvc, k.workspacePvc, "workspacePvc", path), parseObjectName("PersistentVolumeClaim"))

    // The file's podEnv first, then the given: a given variable replaces the file's of the same name.
    const podEnv = new Map<string, PodEnvVar>()
    const podEnvTexts: ReadonlyArray<KubernetesGivenValue> = [
      ...Object.entries(k.podEnv ?? {}).map(([name, value]) => ({ value: `${name}=${value}`, source: `${path} kubernetes.podEnv` })),
      ...(given.podEnv ?? [])
    ]
    for (const text of podEnvTexts) {
      const v = yield* checked(Option.some(text), parsePodEnv)
      if (Option.isSome(v)) podEnv.set(v.value.name, v.value)
    }

    const fileOnly = <A, B>(key: string, value: A | undefined, parse: (a: A) => Result.Result<B, string>) =>
      checked(value === undefined ? Option.none() : Option.some({ value, source: `${path} kubernetes.${key}` }), parse)
    const nodeSelector = yield* fileOnly("nodeSelector", k.nodeSelector, (m) => labelMap("node selector", m))
    const labels = yield* fileOnly("labels", k.labels, (m) => labelMap("label", m))
    const annotations = yield* fileOnly("annotations", k.annotations, annotationMap)
    const tolerations = yield* fileOnly("tolerations", k.tolerations, tolerationList)
    const imagePullSecrets = yield* fileOnly("imagePullSecrets", k.imagePullSecrets, secretNames)

    return {
      target: {
        kubeconfigPath: Option.getOrNull(kubeconfig),
        context: Option.getOrNull(context),
        namespace: Option.getOrNull(namespace)
      },
      pod: {
        image: image.value,
        cpu: Option.getOrElse(cpu, () => kubernetesRunDefaults.cpu),
        memory: Option.getOrElse(memory, () => kubernetesRunDefaults.memory),
        serviceAccount: Option.getOrNull(serviceAccount),
        apiKeySecret: Option.getOrNull(apiKeySecret),
        podEnv: [...podEnv.values()],
        workspacePvc: Option.getOrNull(workspacePvc),
        nodeSelector: Option.getOrElse(nodeSelector, () => ({})),
        tolerations: Option.getOrElse(tolerations, () => []),
        imagePullSecrets: Option.getOrElse(imagePullSecrets, () => []),
        labels: Option.getOrElse(labels, () => ({})),
        annotations: Option.getOrElse(annotations, () => ({})),
        ttlSecondsAfterFinished: k.ttlSecondsAfterFinished ?? kubernetesRunDefaults.ttlSecondsAfterFinished,
        runAsUser: kubernetesRunDefaults.runAsUser
      }
    }
  })
