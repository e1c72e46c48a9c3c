/**
 * The extension's settings (`agentrun.*`, contributed in package.json) as a reactive value:
 * read once at activation, re-read whenever VS Code reports a change under `agentrun`, so a
 * changed setting applies to the next action without a reload.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { disposable } from "./vscode/Adapter.ts"
import { VsCode, type VsCodeApi } from "./vscode/VsCodeApi.ts"

/** When to show a notification as a run ends. */
export const NotifyOn = Schema.Literals(["all", "failures", "none"])
export type NotifyOn = typeof NotifyOn.Type

/** Where a run executes: `local` (a child process of the extension host) or `k8s` (a Job on a cluster). */
export const BackendName = Schema.Literals(["local", "k8s"])
export type BackendName = typeof BackendName.Type

/**
 * The `agentrun.k8s.*` settings; null: empty. At a k8s launch they take the place of the CLI's
 * flags over the config file's `kubernetes` section (core's `resolveKubernetesSettings`): an
 * empty one is the file's key of the same name, else the default given here.
 */
export interface KubernetesSettings {
  /** `agentrun.k8s.kubeconfig`; null: `KUBECONFIG`, else `~/.kube/config`, else in-cluster. */
  readonly kubeconfig: string | null
  /** `agentrun.k8s.context`; null: the config file's, else the kubeconfig's current context. */
  readonly context: string | null
  /** `agentrun.k8s.namespace`; null: the config file's, else the context's namespace, else `default`. */
  readonly namespace: string | null
  /** `agentrun.k8s.image`: the agent image; null: the config file's (with neither, a k8s launch is refused: there is no default image). */
  readonly image: string | null
  /** `agentrun.k8s.apiKeySecret` as typed (`NAME[:KEY]`, parsed at launch); null: the config file's, else no API key from a Secret. */
  readonly apiKeySecret: string | null
  /** `agentrun.k8s.cpu` as typed (a Kubernetes quantity, checked at launch); null: the config file's, else the core's default (1). */
  readonly cpu: string | null
  /** `agentrun.k8s.memory` as typed (a Kubernetes quantity, checked at launch); null: the config file's, else the core's default (2Gi). */
  readonly memory: string | null
  /** `agentrun.k8s.serviceAccount` as typed (checked at launch); null: the config file's, else none, no token mounted. */
  readonly serviceAccount: string | null
  /**
   * `agentrun.k8s.podEnv` as `NAME=VALUE` texts in order (an object's entries joined with `=`),
   * parsed at launch as the CLI parses `--pod-env`, added to the config file's `podEnv` (replacing
   * the file's variable of a name). A failure: the setting is neither an array of
   * strings nor an object of strings (the reason as text), and a k8s launch is refused rather than
   * run without, say, the `ANTHROPIC_BASE_URL` it was meant to have.
   */
  readonly podEnv: Result.Result<ReadonlyArray<string>, string>
  /** `agentrun.k8s.workspacePvc` as typed (checked at launch); null: the config file's, else an emptyDir at /workspace. */
  readonly workspacePvc: string | null
}

/** The settings, decoded. Durations: `timeoutSeconds` in seconds; `stallTimeout` as duration text. */
export interface Settings {
  /** `agentrun.claudePath`; null (empty setting): found on PATH or installed, as the CLI does. */
  readonly claudePath: string | null
  readonly defaultBackend: BackendName
  /** `agentrun.timeout`, seconds; null (0) for no deadline. */
  readonly timeoutSeconds: number | null
  /** `agentrun.stallTimeout` (e.g. "90s"); null (empty) resolves as the CLI does. */
  readonly stallTimeout: string | null
  readonly claudeArgs: ReadonlyArray<string>
  /** `agentrun.stateDir`; null (empty): the CLI's state directory. */
  readonly stateDir: string | null
  readonly notifyOn: NotifyOn
  readonly k8s: KubernetesSettings
}

const decodeOr = <A>(schema: Schema.Codec<A, unknown>, fallback: A) => {
  const decode = Schema.decodeUnknownOption(schema)
  return (value: unknown): A => {
    const decoded = decode(value)
    return decoded._tag === "Some" ? decoded.value : fallback
  }
}
const text = decodeOr(Schema.String, "")
const seconds = decodeOr(Schema.Number, 0)
const args = decodeOr<ReadonlyArray<string>>(Schema.Array(Schema.String), [])
const notifyOn = decodeOr<NotifyOn>(NotifyOn, "failures")
const backendName = decodeOr<BackendName>(BackendName, "local")
/** A quantity setting: its text, or a number as written (`"agentrun.k8s.cpu": 2` means "2"). */
const quantityText = (value: unknown): string => (typeof value === "number" ? String(value) : text(value))
const orNull = (s: string): string | null => (s.trim() === "" ? null : s.trim())

/** `agentrun.k8s.podEnv`: unset is empty; an array of strings as is; an object's string values as `NAME=VALUE`. */
const podEnv = (value: unknown): Result.Result<ReadonlyArray<string>, string> => {
  if (value === undefined || value === null) return Result.succeed([])
  if (Array.isArray(value)) {
    const bad = value.findIndex((v) => typeof v !== "string")
    return bad === -1 ? Result.succeed(value as ReadonlyArray<string>) : Result.fail(`item ${bad} is not a "NAME=VALUE" string`)
  }
  if (typeof value === "object") {
    const entries = Object.entries(value)
    const bad = entries.find(([, v]) => typeof v !== "string")
    return bad === undefined ? Result.succeed(entries.map(([name, v]) => `${name}=${v as string}`)) : Result.fail(`the value of ${bad[0]} is not a string`)
  }
  return Result.fail("it is neither an object of NAME: VALUE nor an array of \"NAME=VALUE\"")
}

/** Reads the settings from VS Code's configuration (a mistyped value counts as its default, but for `k8s.podEnv`: see {@link KubernetesSettings.podEnv}). */
export const readSettings = (api: VsCodeApi): Settings => {
  const c = api.workspace.getConfiguration("agentrun")
  const timeout = seconds(c.get("timeout"))
  return {
    claudePath: orNull(text(c.get("claudePath"))),
    defaultBackend: backendName(c.get("defaultBackend")),
    timeoutSeconds: timeout > 0 ? timeout : null,
    stallTimeout: orNull(text(c.get("stallTimeout"))),
    claudeArgs: args(c.get("claudeArgs")),
    stateDir: orNull(text(c.get("stateDir"))),
    notifyOn: notifyOn(c.get("notifyOn")),
    k8s: {
      kubeconfig: orNull(text(c.get("k8s.kubeconfig"))),
      context: orNull(text(c.get("k8s.context"))),
      namespace: orNull(text(c.get("k8s.namespace"))),
      image: orNull(text(c.get("k8s.image"))),
      apiKeySecret: orNull(text(c.get("k8s.apiKeySecret"))),
      cpu: orNull(quantityText(c.get("k8s.cpu"))),
      memory: orNull(quantityText(c.get("k8s.memory"))),
      serviceAccount: orNull(text(c.get("k8s.serviceAccount"))),
      podEnv: podEnv(c.get("k8s.podEnv")),
      workspacePvc: orNull(text(c.get("k8s.workspacePvc")))
    }
  }
}

/** The current settings and their changes. */
export class SettingsRef extends Context.Service<SettingsRef, SubscriptionRef.SubscriptionRef<Settings>>()("agentrun-vscode/Settings") {
  /**
   * Follows `onDidChangeConfiguration` for the layer's life. The value is set inside VS Code's
   * callback, not on a fiber after it, so a command run right after a change sees the change.
   */
  static readonly layer = Layer.effect(
    SettingsRef,
    Effect.gen(function*() {
      const api = yield* VsCode
      const ref = yield* SubscriptionRef.make(readSettings(api))
      yield* disposable(() =>
        api.workspace.onDidChangeConfiguration((e) => {
          if (e.affectsConfiguration("agentrun")) Effect.runSync(SubscriptionRef.set(ref, readSettings(api)))
        })
      )
      return ref
    })
  )
}
