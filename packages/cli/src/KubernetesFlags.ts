/**
 * The Kubernetes flags of `run` (names fixed by issue 13, kubectl's where kubectl has one) and
 * their resolution, with the config file (`backend`, `kubernetes.*`) and the defaults, into a
 * {@link ClusterTarget} and the run's {@link KubernetesRunOptions}.
 *
 * Precedence: flag > config file > default, merged by the core's `resolveKubernetesSettings`
 * (config/KubernetesSettings.ts, which the VS Code extension's launches use too). The cluster:
 * `--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config`, else the in-cluster service account
 * (client-node's `loadFromDefault`, done by the API layer); the namespace: `-n`, else
 * `kubernetes.namespace`, else the context's. Every value is checked before anything is created,
 * and a bad one is a {@link ConfigError} naming its source (`flag --cpu`, `<config path>
 * kubernetes.cpu`): the CLI makes it a usage error (exit 2).
 *
 * @module
 */
import {
  type ClusterTarget,
  ConfigError,
  type ConfigFile,
  type KubernetesGivenValue,
  kubernetesRunDefaults,
  type KubernetesRunOptions,
  kubernetesRunOptions,
  resolveKubernetesSettings
} from "@agentrun/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import { Flag } from "effect/cli"
import * as NodePath from "node:path"
import { ExitCodes, setExitCode } from "./ExitCode.ts"
import "./KubernetesHost.ts"
import type { KubernetesRequest } from "./RunRequest.ts"

const k8sOnly = "(--backend k8s)"

/** The flags, to spread into `run`'s own. */
export const kubernetesFlags = {
  backend: Flag.Literals("backend", ["local", "k8s"]).pipe(
    Flag.withDescription("Where the agent runs: local (a child process, the default) or k8s (a Kubernetes Job); default: the config file's `backend`"),
    Flag.optional
  ),
  kubeconfig: Flag.String("kubeconfig").pipe(
    Flag.withDescription(`The kubeconfig file (default: KUBECONFIG, else ~/.kube/config, else the in-cluster service account) ${k8sOnly}`),
    Flag.optional
  ),
  context: Flag.String("context").pipe(Flag.withDescription(`The kubeconfig context (default: its current one) ${k8sOnly}`), Flag.optional),
  namespace: Flag.String("namespace").pipe(
    Flag.withAlias("n"),
    Flag.withDescription(`The namespace of the Job (default: the context's) ${k8sOnly}`),
    Flag.optional
  ),
  image: Flag.String("image").pipe(
    Flag.withDescription(`The agent's image: sh and claude on PATH (default: the config file's kubernetes.image) ${k8sOnly}`),
    Flag.optional
  ),
  cpu: Flag.String("cpu").pipe(Flag.withDescription(`CPU request = limit, a Kubernetes quantity (default ${kubernetesRunDefaults.cpu}) ${k8sOnly}`), Flag.optional),
  memory: Flag.String("memory").pipe(
    Flag.withDescription(`Memory request = limit, a Kubernetes quantity (default ${kubernetesRunDefaults.memory}) ${k8sOnly}`),
    Flag.optional
  ),
  serviceAccount: Flag.String("service-account").pipe(
    Flag.withDescription(`The Pod's service account, its token mounted (default: none mounted) ${k8sOnly}`),
    Flag.optional
  ),
  apiKeySecret: Flag.String("api-key-secret").pipe(
    Flag.withMetavar("NAME[:KEY]"),
    Flag.withDescription(`ANTHROPIC_API_KEY from this Secret's KEY (default ANTHROPIC_API_KEY), a secretKeyRef: agentrun never reads it ${k8sOnly}`),
    Flag.optional
  ),
  podEnv: Flag.String("pod-env").pipe(
    Flag.withMetavar("NAME=VALUE"),
    Flag.withDescription(`An environment variable of the Pod, repeatable (e.g. ANTHROPIC_BASE_URL=...) ${k8sOnly}`),
    Flag.atLeast(0)
  ),
  workspacePvc: Flag.String("workspace-pvc").pipe(
    Flag.withDescription(`A PersistentVolumeClaim mounted at /workspace, the agent's working directory (default: an emptyDir) ${k8sOnly}`),
    Flag.optional
  ),
  agent: Flag.String("agent").pipe(
    Flag.withDescription(`The agent's id: at most one active run of it in the namespace (a Lease guards it) ${k8sOnly}`),
    Flag.optional
  ),
  task: Flag.String("task").pipe(Flag.withDescription(`The task's id, on the Job's labels ${k8sOnly}`), Flag.optional),
  session: Flag.String("session").pipe(Flag.withDescription(`The claude session the run resumes (claude --resume) ${k8sOnly}`), Flag.optional),
  dryRun: Flag.Boolean("dry-run").pipe(
    Flag.withDescription(`Print the Secret (its data base64, as kubectl shows it: it holds the prompt) and the Job as YAML; create nothing ${k8sOnly}`),
    Flag.withDefault(false)
  )
}

/** The parsed values of {@link kubernetesFlags}. */
export interface KubernetesFlagValues {
  readonly backend: Option.Option<"local" | "k8s">
  readonly kubeconfig: Option.Option<string>
  readonly context: Option.Option<string>
  readonly namespace: Option.Option<string>
  readonly image: Option.Option<string>
  readonly cpu: Option.Option<string>
  readonly memory: Option.Option<string>
  readonly serviceAccount: Option.Option<string>
  readonly apiKeySecret: Option.Option<string>
  readonly podEnv: ReadonlyArray<string>
  readonly workspacePvc: Option.Option<string>
  readonly agent: Option.Option<string>
  readonly task: Option.Option<string>
  readonly session: Option.Option<string>
  readonly dryRun: boolean
}

/** A run's settings but the namespace, which may be the context's (known once the kubeconfig is loaded). */
export type KubernetesRunDraft = Omit<KubernetesRunOptions, "namespace">

/** The backend a run uses, and for `k8s` where and how. */
export type BackendChoice =
  | { readonly backend: "local" }
  | {
    readonly backend: "k8s"
    /** The cluster; `namespace` null: the context's. */
    readonly target: ClusterTarget
    readonly draft: KubernetesRunDraft
    readonly dryRun: boolean
  }

/** The run's options once the namespace is known (`target.namespace`, else the context's). */
export const withNamespace = (draft: KubernetesRunDraft, namespace: string): KubernetesRunOptions =>
  kubernetesRunOptions({ ...draft, namespace })

/** The `run` flags that mean something for local runs only, with whether each was given. */
export interface LocalOnlyFlags {
  readonly cwd: boolean
  readonly claudePath: boolean
}

/** Flag names (as typed) of the Kubernetes flags that were given. */
const givenKubernetesFlags = (f: KubernetesFlagValues): ReadonlyArray<string> => [
  ...(Option.isSome(f.kubeconfig) ? ["--kubeconfig"] : []),
  ...(Option.isSome(f.context) ? ["--context"] : []),
  ...(Option.isSome(f.namespace) ? ["--namespace"] : []),
  ...(Option.isSome(f.image) ? ["--image"] : []),
  ...(Option.isSome(f.cpu) ? ["--cpu"] : []),
  ...(Option.isSome(f.memory) ? ["--memory"] : []),
  ...(Option.isSome(f.serviceAccount) ? ["--service-account"] : []),
  ...(Option.isSome(f.apiKeySecret) ? ["--api-key-secret"] : []),
  ...(f.podEnv.length > 0 ? ["--pod-env"] : []),
  ...(Option.isSome(f.workspacePvc) ? ["--workspace-pvc"] : []),
  ...(Option.isSome(f.agent) ? ["--agent"] : []),
  ...(Option.isSome(f.task) ? ["--task"] : []),
  ...(Option.isSome(f.session) ? ["--session"] : []),
  ...(f.dryRun ? ["--dry-run"] : [])
]

const refuse = (source: string, message: string) => new ConfigError({ message, source, retryable: false })

/** A flag's value with its source as errors name it (`flag --cpu`); undefined when not given. */
const fromFlag = (flag: Option.Option<string>, name: string): KubernetesGivenValue | undefined =>
  Option.match(flag, { onNone: () => undefined, onSome: (value) => ({ value, source: `flag ${name}` }) })

const nonEmpty = (what: string) => (text: string): Result.Result<string, string> =>
  text.trim() === "" ? Result.fail(`the ${what} is empty`) : Result.succeed(text)

/** An identity flag (`--agent`, `--task`, `--session`), checked non-empty; null when not given. */
const identity = (flag: Option.Option<string>, name: string): Effect.Effect<string | null, ConfigError> => {
  if (Option.isNone(flag)) return Effect.succeed(null)
  const r = nonEmpty(`${name.slice(2)} id`)(flag.value)
  return Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(refuse(`flag ${name}`, `flag ${name}: ${r.failure}`))
}

/**
 * Resolves the backend and, for `k8s`, the cluster and the run's settings. `baseDir` is where
 * relative paths (`--kubeconfig`) are resolved from. Fails with {@link ConfigError} naming the
 * source for: a Kubernetes flag on a local run, a local-only flag (`--cwd`, `--claude-path`) on a
 * k8s run, no image, and any value the API server would refuse (a quantity, a name, a label).
 */
export const resolveBackend = (
  flags: KubernetesFlagValues,
  local: LocalOnlyFlags,
  file: ConfigFile,
  path: string,
  baseDir: string
): Effect.Effect<BackendChoice, ConfigError> =>
  Effect.gen(function*() {
    const backend = Option.getOrElse(flags.backend, () => file.backend ?? "local")
    const given = givenKubernetesFlags(flags)
    if (backend === "local") {
      if (given.length === 0) return { backend: "local" } as const
      const from = Option.isSome(flags.backend) ? "--backend local" : file.backend === "local" ? `${path} backend "local"` : "the default backend, local"
      return yield* refuse(`flag ${given[0]}`, `${given.join(", ")} ${given.length === 1 ? "applies" : "apply"} to --backend k8s only (this run's backend is ${from}).`)
    }
    if (local.cwd || local.claudePath) {
      const flag = local.cwd ? "--cwd" : "--claude-path"
      const why = local.cwd ? "the Pod works in /workspace (--workspace-pvc mounts a volume there)" : "the Pod runs the image's claude"
      return yield* refuse(`flag ${flag}`, `${flag} applies to local runs only: ${why}.`)
    }
    // The merge of flags, config file and defaults is the core's, shared with the VS Code extension.
    const resolved = yield* resolveKubernetesSettings(
      {
        kubeconfig: fromFlag(flags.kubeconfig, "--kubeconfig"),
        context: fromFlag(flags.context, "--context"),
        namespace: fromFlag(flags.namespace, "--namespace"),
        image: fromFlag(flags.image, "--image"),
        cpu: fromFlag(flags.cpu, "--cpu"),
        memory: fromFlag(flags.memory, "--memory"),
        serviceAccount: fromFlag(flags.serviceAccount, "--service-account"),
        apiKeySecret: fromFlag(flags.apiKeySecret, "--api-key-secret"),
        podEnv: flags.podEnv.map((value) => ({ value, source: "flag --pod-env" })),
        workspacePvc: fromFlag(flags.workspacePvc, "--workspace-pvc")
      },
      file,
      path,
      { source: "flag --image", message: `--backend k8s needs an image: give --image IMAGE, or set kubernetes.image in ${path}.` }
    )
    const draft: KubernetesRunDraft = {
      ...resolved.pod,
      agentId: yield* identity(flags.agent, "--agent"),
      taskId: yield* identity(flags.task, "--task"),
      sessionId: yield* identity(flags.session, "--session")
    }
    const target: ClusterTarget = {
      ...resolved.target,
      kubeconfigPath: resolved.target.kubeconfigPath === null ? null : NodePath.resolve(baseDir, resolved.target.kubeconfigPath)
    }
    return { backend: "k8s", target, draft, dryRun: flags.dryRun } as const
  })

/**
 * The CLI's cluster operations (KubernetesCluster.ts), loaded on first use: that module loads
 * `@kubernetes/client-node`, which a start that never talks to a cluster must not pay for. In the
 * bundle this import loads the Kubernetes chunk, `dist/kubernetes.cjs` (see KubernetesHost.ts).
 */
export const loadCluster = Effect.promise(() => import("./KubernetesCluster.ts"))

/**
 * Reports a cluster that cannot be used before anything was created (no kubeconfig, the API
 * server not answering) and sets exit code 3, a cluster failure (README, "Exit codes").
 */
export const clusterFailure = (error: { readonly message: string }) =>
  Effect.andThen(Console.error(`agentrun: ${error.message}`), setExitCode(ExitCodes.process))

/**
 * The settings of a resolved k8s choice as a stored request holds them (RunRequest.ts): what
 * `rerun` and the detached supervisor replay through {@link requestFlagValues}.
 */
export const kubernetesRequestOf = (choice: Extract<BackendChoice, { backend: "k8s" }>): KubernetesRequest => ({
  kubeconfig: choice.target.kubeconfigPath,
  context: choice.target.context,
  namespace: choice.target.namespace,
  image: choice.draft.image,
  cpu: choice.draft.cpu,
  memory: choice.draft.memory,
  serviceAccount: choice.draft.serviceAccount,
  apiKeySecret: choice.draft.apiKeySecret === null ? null : `${choice.draft.apiKeySecret.name}:${choice.draft.apiKeySecret.key}`,
  podEnv: choice.draft.podEnv.map((e) => ({ name: e.name, value: e.value })),
  workspacePvc: choice.draft.workspacePvc,
  agent: choice.draft.agentId,
  task: choice.draft.taskId,
  session: choice.draft.sessionId
})

/**
 * A stored request's Kubernetes settings as the flags that give them (`--backend k8s` and each
 * set value), for {@link resolveBackend}: checked again, the config file's flagless settings
 * read again.
 */
export const requestFlagValues = (k: KubernetesRequest): KubernetesFlagValues => ({
  backend: Option.some("k8s"),
  kubeconfig: Option.fromNullishOr(k.kubeconfig),
  context: Option.fromNullishOr(k.context),
  namespace: Option.fromNullishOr(k.namespace),
  image: Option.some(k.image),
  cpu: Option.some(k.cpu),
  memory: Option.some(k.memory),
  serviceAccount: Option.fromNullishOr(k.serviceAccount),
  apiKeySecret: Option.fromNullishOr(k.apiKeySecret),
  podEnv: k.podEnv.map((e) => `${e.name}=${e.value}`),
  workspacePvc: Option.fromNullishOr(k.workspacePvc),
  agent: Option.fromNullishOr(k.agent),
  task: Option.fromNullishOr(k.task),
  session: Option.fromNullishOr(k.session),
  dryRun: false
})
