/**
 * The Secret and the Job of a run on a cluster, built by a pure function from the {@link RunSpec}
 * and the {@link KubernetesRunOptions}. Nothing here talks to a cluster; the backend creates the
 * Secret first, then the Job, then gives the Secret an ownerReference to the Job
 * ({@link secretOwnerReference}) so Kubernetes collects it with the Job.
 *
 * Facts encoded here and their sources (Kubernetes documentation):
 * - "Jobs": `backoffLimit: 0` and `restartPolicy: Never`, so a failed Pod is never replaced: a second
 *   Pod would run the prompt again from the start, after the first one's side effects;
 *   `activeDeadlineSeconds` counts from the Job's start and ends the Job with condition reason
 *   `DeadlineExceeded`; `ttlSecondsAfterFinished` ("Automatic Cleanup for Finished Jobs").
 * - "Handling retriable and non-retriable pod failures with Pod failure policy" and the JobSpec
 *   reference for `podFailurePolicy` and `podReplacementPolicy` (see {@link podFailurePolicy}).
 * - "Pod Security Standards", profile Restricted: `runAsNonRoot`, a non-zero `runAsUser`,
 *   `allowPrivilegeEscalation: false`, `capabilities.drop: [ALL]`, `seccompProfile: RuntimeDefault`,
 *   volumes of the allowed kinds only (secret, emptyDir, persistentVolumeClaim).
 * - "Configure Service Accounts for Pods": `automountServiceAccountToken: false` keeps the API token
 *   out of a Pod that did not ask for an identity.
 * - "Pod Lifecycle", termination: the kubelet sends SIGTERM, waits `terminationGracePeriodSeconds`,
 *   then SIGKILL.
 *
 * @module
 */
import type { V1Job, V1OwnerReference, V1PodFailurePolicy, V1Secret } from "@kubernetes/client-node"
import { claudeArgv, defaultStopGraceSettings, type RunSpec } from "../domain/Run.ts"
import { entryCommand, promptMountPath, promptSecretKey } from "./EntryScript.ts"
import type { KubernetesRunOptions } from "./KubernetesRunOptions.ts"
import { runAnnotations, type RunIdentity, runLabels } from "./Labels.ts"

/** The agent container's name (the podFailurePolicy's exit-code rule and the log reads name it). */
export const agentContainerName = "agent"
/** Where the workspace (PVC or emptyDir) is mounted: the agent's working directory. */
export const workspacePath = "/workspace"
/** A writable HOME for claude (its `~/.claude`), an emptyDir, whatever the image's user has. */
export const homePath = "/agentrun/home"

/** The Job's name for a run: `agentrun-<runId>` (a run id is lower-case digits, hex and `-`: a valid DNS label). */
export const jobNameFor = (runId: string): string => `agentrun-${runId}`
/** The name of the Secret holding a run's prompt. */
export const promptSecretNameFor = (runId: string): string => `agentrun-${runId}-prompt`

/**
 * The Job's failure policy. With `backoffLimit: 0` any Pod failure already fails the Job; the rules
 * make the Job's `Failed` condition (reason `PodFailurePolicy`) say which failure it was, and keep
 * a disrupted Pod from being replaced (the Kubernetes example's `Ignore` for DisruptionTarget would
 * start the prompt over in a new Pod). Rules are matched in order, the first match applies:
 *
 * 0. `FailJob` on the Pod condition `DisruptionTarget` = True: the Pod was evicted (Eviction API,
 *    node pressure), preempted, deleted by the taint manager or the Pod GC (its node gone), or
 *    terminated by the kubelet on node shutdown ("Pod disruption conditions"). The classifier names
 *    the cause from the condition's reason.
 * 1. `FailJob` on an exit code of the agent container `NotIn [0]`: claude failed (its status, or
 *    128+n for a signal death, passed through by the entry script). `0` is allowed with `NotIn`
 *    only (JobSpec validation).
 */
export const podFailurePolicy: V1PodFailurePolicy = {
  rules: [
    { action: "FailJob", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
    { action: "FailJob", onExitCodes: { containerName: agentContainerName, operator: "NotIn", values: [0] } }
  ]
}

/** A run's two objects, in the order they are created. */
export interface RunManifests {
  readonly secret: V1Secret
  readonly job: V1Job
}

/** The identity of a run as its labels carry it. */
const identityOf = (runId: string, options: KubernetesRunOptions): RunIdentity => ({
  runId,
  agentId: options.agentId,
  taskId: options.taskId,
  sessionId: options.sessionId
})

/**
 * The kubelet's grace before SIGKILL, in whole seconds: the local stop sequence's two graces
 * together (SIGINT, then SIGTERM; in the Pod the entry turns the kubelet's one SIGTERM into SIGINT),
 * 30 s by default, as Kubernetes' own default.
 */
export const terminationGraceSecondsOf = (spec: RunSpec): number => {
  const grace = spec.stopGrace ?? defaultStopGraceSettings
  return Math.max(1, Math.ceil((grace.interruptGraceMs + grace.terminateGraceMs) / 1000))
}

/** `activeDeadlineSeconds` from the run's timeout (milliseconds, rounded up to whole seconds); none without a timeout. */
export const activeDeadlineSecondsOf = (spec: RunSpec): number | null =>
  spec.timeoutMs === null ? null : Math.max(1, Math.ceil(spec.timeoutMs / 1000))

/** claude's arguments in the Pod: agentrun's own, then `--resume SESSION` when a session is resumed. */
export const podClaudeArgs = (spec: RunSpec, options: KubernetesRunOptions): ReadonlyArray<string> => [
  ...claudeArgv(spec),
  ...(options.sessionId === null ? [] : ["--resume", options.sessionId])
]

/**
 * The Secret and Job for a run. Pure and total: the prompt goes only into the Secret (base64
 * `data`, key {@link promptSecretKey}), mounted read-only at {@link promptMountPath}; agentrun's own
 * environment (`spec.env`) never reaches the Pod: its env is `podEnv`, the API key's
 * `secretKeyRef`, and agentrun's few variables. `spec.cwd` and `spec.claudePath` are local-only
 * (the Pod works in {@link workspacePath} and runs `claude` from the image's PATH).
 */
export const runManifests = (runId: string, spec: RunSpec, options: KubernetesRunOptions): RunManifests => {
  const identity = identityOf(runId, options)
  const labels = runLabels(identity, options.labels)
  const annotations = runAnnotations(identity, options.annotations)
  const secretName = promptSecretNameFor(runId)
  const deadline = activeDeadlineSecondsOf(spec)
  const resources = { cpu: options.cpu, memory: options.memory }

  const secret: V1Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: secretName, namespace: options.namespace, labels, annotations },
    type: "Opaque",
    immutable: true,
    data: { [promptSecretKey]: Buffer.from(spec.prompt, "utf8").toString("base64") }
  }

  const job: V1Job = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: jobNameFor(runId), namespace: options.namespace, labels, annotations },
    spec: {
      backoffLimit: 0,
      podFailurePolicy,
      // Required to be Failed when podFailurePolicy is set (JobSpec reference); stated so the spec says it.
      podReplacementPolicy: "Failed",
      ...(deadline === null ? {} : { activeDeadlineSeconds: deadline }),
      ttlSecondsAfterFinished: options.ttlSecondsAfterFinished,
      template: {
        metadata: { labels, annotations },
        spec: {
          restartPolicy: "Never",
          terminationGracePeriodSeconds: terminationGraceSecondsOf(spec),
          automountServiceAccountToken: options.serviceAccount !== null,
          ...(options.serviceAccount === null ? {} : { serviceAccountName: options.serviceAccount }),
          // Service links put one env var per Service of the namespace into the Pod: noise for claude.
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: options.runAsUser,
            runAsGroup: options.runAsUser,
            fsGroup: options.runAsUser,
            seccompProfile: { type: "RuntimeDefault" }
          },
          ...(Object.keys(options.nodeSelector).length === 0 ? {} : { nodeSelector: { ...options.nodeSelector } }),
          ...(options.tolerations.length === 0 ? {} : { tolerations: options.tolerations.map((t) => ({ ...t })) }),
          ...(options.imagePullSecrets.length === 0 ? {} : { imagePullSecrets: options.imagePullSecrets.map((name) => ({ name })) }),
          containers: [{
            name: agentContainerName,
            image: options.image,
            command: [...entryCommand],
            args: [...podClaudeArgs(spec, options)],
            workingDir: workspacePath,
            env: [
              ...options.podEnv.map((e) => ({ name: e.name, value: e.value })),
              ...(options.apiKeySecret === null ? [] : [{
                name: "ANTHROPIC_API_KEY",
                valueFrom: { secretKeyRef: { name: options.apiKeySecret.name, key: options.apiKeySecret.key } }
              }]),
              { name: "AGENTRUN_RUN_ID", value: runId },
              { name: "AGENTRUN_PROMPT_FILE", value: `${promptMountPath}/${promptSecretKey}` },
              { name: "HOME", value: homePath }
            ],
            resources: { requests: { ...resources }, limits: { ...resources } },
            securityContext: {
              runAsNonRoot: true,
              allowPrivilegeEscalation: false,
              privileged: false,
              capabilities: { drop: ["ALL"] },
              seccompProfile: { type: "RuntimeDefault" }
            },
            volumeMounts: [
              { name: "prompt", mountPath: promptMountPath, readOnly: true },
              { name: "workspace", mountPath: workspacePath },
              { name: "home", mountPath: homePath }
            ]
          }],
          volumes: [
            // 0440: readable by the run's group (fsGroup), not by the world.
            { name: "prompt", secret: { secretName, defaultMode: 0o440, items: [{ key: promptSecretKey, path: promptSecretKey }] } },
            options.workspacePvc === null
              ? { name: "workspace", emptyDir: {} }
              : { name: "workspace", persistentVolumeClaim: { claimName: options.workspacePvc } },
            { name: "home", emptyDir: {} }
          ]
        }
      }
    }
  }
  return { secret, job }
}

/**
 * The ownerReference that ties the Secret to its Job once the Job exists (its `uid` comes from the
 * API's answer): Kubernetes' garbage collector then deletes the Secret with the Job
 * ("Owners and Dependents"). Not `controller`: the Job controller does not manage Secrets.
 */
export const secretOwnerReference = (jobName: string, jobUid: string): V1OwnerReference => ({
  apiVersion: "batch/v1",
  kind: "Job",
  name: jobName,
  uid: jobUid,
  blockOwnerDeletion: false
})
