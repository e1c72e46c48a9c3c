/**
 * What `agentrun run` was asked: the prompt, the working directory and the flags as typed, so
 * `agentrun rerun` repeats a run and a detached supervisor (`run -d`) receives its run from the
 * command that started it.
 *
 * Stored in the run's folder as `request.json` (mode 0600, beside record.json, not in it),
 * redacted like everything agentrun stores: a prompt or claude flag that held a secret is kept
 * with `[REDACTED]` in its place and `redacted: true`, and `rerun` refuses such a run rather than
 * send the marker to claude. Records of runs started before this file existed have none.
 *
 * A Kubernetes run's request also holds the Kubernetes settings it ran with ({@link KubernetesRequest}:
 * flag, else config file, else default), so `rerun` and the detached supervisor launch it on the
 * same cluster the same way. A `--pod-env` value that may be a secret (its name has KEY, TOKEN,
 * SECRET or PASSWORD, or it holds a secret of agentrun's environment) is stored `[REDACTED]` and
 * its name listed in `redactedPodEnv`: `rerun` asks for that `--pod-env` again.
 *
 * @module
 */
import { lazily, makeRedactor, type RunId, type RunStoreError, type RunStoreShape } from "@agentrun/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/**
 * The Kubernetes settings a run was launched with, as flag texts (`apiKeySecret` `NAME:KEY`,
 * `podEnv` the Pod's variables, the config file's `kubernetes.podEnv` merged in), null where
 * unset. `kubeconfig` is absolute (null: the default one); `namespace` null: the context's (the
 * record names the one used). The config file's settings without a flag (nodeSelector,
 * tolerations, labels, annotations, imagePullSecrets, TTL) are read again at each launch.
 */
export const KubernetesRequest = Schema.Struct({
  kubeconfig: Schema.NullOr(Schema.String),
  context: Schema.NullOr(Schema.String),
  namespace: Schema.NullOr(Schema.String),
  image: Schema.String,
  cpu: Schema.String,
  memory: Schema.String,
  serviceAccount: Schema.NullOr(Schema.String),
  apiKeySecret: Schema.NullOr(Schema.String),
  podEnv: Schema.Array(Schema.Struct({ name: Schema.String, value: Schema.String })),
  workspacePvc: Schema.NullOr(Schema.String),
  agent: Schema.NullOr(Schema.String),
  task: Schema.NullOr(Schema.String),
  session: Schema.NullOr(Schema.String)
})
export type KubernetesRequest = typeof KubernetesRequest.Type

/**
 * The `run` command's input, resolved only as far as the command line goes: `cwd` absolute,
 * durations as the flag texts (`5m`, `300`), null where a flag was not given.
 */
export const RunRequest = Schema.Struct({
  prompt: Schema.String,
  cwd: Schema.String,
  claudePath: Schema.NullOr(Schema.String),
  claudeArgs: Schema.Array(Schema.String),
  model: Schema.NullOr(Schema.String),
  maxTurns: Schema.NullOr(Schema.Number),
  timeout: Schema.NullOr(Schema.String),
  /** `--watchdog` (true), `--no-watchdog` (false), neither (null: environment, config file, default). */
  watchdog: Schema.NullOr(Schema.Boolean),
  stallTimeout: Schema.NullOr(Schema.String),
  startupTimeout: Schema.NullOr(Schema.String),
  busyTimeout: Schema.NullOr(Schema.String),
  /** `--backend k8s`: where and how (absent or null: a local run; requests stored before had none). */
  kubernetes: Schema.optionalKey(Schema.NullOr(KubernetesRequest))
})
export type RunRequest = typeof RunRequest.Type

/**
 * `request.json` as stored: the request (redacted), whether redaction changed its prompt or
 * flags (`redacted`), and the names of the `--pod-env` variables whose values it replaced
 * (`redactedPodEnv`, absent when none).
 */
export const StoredRunRequest = Schema.Struct({
  request: RunRequest,
  redacted: Schema.Boolean,
  redactedPodEnv: Schema.optionalKey(Schema.Array(Schema.String))
})
export type StoredRunRequest = typeof StoredRunRequest.Type

/** The file name of a run's stored request in its folder. */
export const requestArtifact = "request.json"

const encode = lazily(() => Schema.encodeSync(Schema.fromJsonString(StoredRunRequest)))
const decode = Schema.decodeUnknownOption(Schema.fromJsonString(StoredRunRequest))

/**
 * The request as it may be stored: every secret of `env` (see makeRedactor) redacted, and of the
 * Pod's variables (as the Kubernetes backend redacts its transcript: a variable named like a
 * secret is one). Pure.
 */
export const redactRequest = (request: RunRequest, env: Readonly<Record<string, string | undefined>>): StoredRunRequest => {
  const k8s = request.kubernetes ?? null
  const redactor = makeRedactor({ ...env, ...Object.fromEntries((k8s?.podEnv ?? []).map((e) => [e.name, e.value])) })
  const stored: RunRequest = {
    ...request,
    prompt: redactor.redact(request.prompt),
    claudePath: request.claudePath === null ? null : redactor.redact(request.claudePath),
    claudeArgs: request.claudeArgs.map(redactor.redact),
    model: request.model === null ? null : redactor.redact(request.model)
  }
  const redacted = stored.prompt !== request.prompt || stored.claudePath !== request.claudePath ||
    stored.model !== request.model || stored.claudeArgs.some((a, i) => a !== request.claudeArgs[i])
  if (k8s === null) return { request: stored, redacted }
  const podEnv = k8s.podEnv.map((e) => ({ name: e.name, value: redactor.redact(e.value) }))
  const redactedPodEnv = podEnv.filter((e, i) => e.value !== k8s.podEnv[i]!.value).map((e) => e.name)
  return {
    request: { ...stored, kubernetes: { ...k8s, podEnv } },
    redacted,
    ...(redactedPodEnv.length === 0 ? {} : { redactedPodEnv })
  }
}

/** Writes the run's `request.json` (redacted with `env`'s secrets). Fails with RunStoreError. */
export const storeRunRequest = (store: RunStoreShape, runId: RunId, request: RunRequest, env: Readonly<Record<string, string | undefined>>) =>
  store.writeArtifact(runId, requestArtifact, encode(redactRequest(request, env)) + "\n")

/**
 * The run's stored request: none when the run has no `request.json` (started before agentrun
 * stored requests, or not by `agentrun run`) or it does not decode. Fails with RunStoreError.
 */
export const readRunRequest = (store: RunStoreShape, runId: RunId): Effect.Effect<Option.Option<StoredRunRequest>, RunStoreError> =>
  Effect.map(store.readArtifact(runId, requestArtifact), Option.flatMap((text) => decode(text)))
