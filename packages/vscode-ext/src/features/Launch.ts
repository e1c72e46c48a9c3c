/**
 * Launching runs from VS Code: the prompt (and, for "Launch Run…", quick picks for backend,
 * model and timeout, the last choice remembered), the workspace folder as the agent's working
 * directory, a progress notification with a Cancel button that cancels the run.
 *
 * @module
 */
import { ConfigError, type KubernetesGiven, type KubernetesGivenValue, type RunRecord, type RunSpec } from "@agentrun/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { type LaunchRequest, type LiveRun, Runs } from "../core/Runs.ts"
import { BackendName, type Settings, SettingsRef } from "../Settings.ts"
import { ExtensionContext, VsCode } from "../vscode/VsCodeApi.ts"
import { usageText } from "./RunItems.ts"
import { RunsModel } from "./RunsModel.ts"

/** The user gave up (Escape on a prompt or a pick): the command ends quietly. */
export class LaunchDismissed extends Schema.TaggedError<LaunchDismissed>()("LaunchDismissed", {
  message: Schema.String,
  retryable: Schema.Boolean
}) {}

/** No folder is open: runs need a working directory. */
export class NoWorkspaceFolder extends Schema.TaggedError<NoWorkspaceFolder>()("NoWorkspaceFolder", {
  message: Schema.String,
  retryable: Schema.Boolean
}) {}

/** A setting's name as errors name it: ``setting `agentrun.k8s.cpu` `` (the CLI's are `flag --cpu`). */
const settingSource = (key: string) => `setting \`agentrun.k8s.${key}\``

/**
 * The `agentrun.k8s.*` settings as what this launch was given (the CLI's flags, for the core's
 * `resolveKubernetesSettings`): each set one overrides the config file's `kubernetes` key of the
 * same name, an empty one leaves it to the file, then the default. The values are checked by the
 * core when the run's spec is made (Runs.specFor), with the CLI's rules for the same flags;
 * here only `podEnv`'s shape: fails with a {@link ConfigError} naming the setting when it is
 * neither an array of strings nor an object of strings.
 */
export const kubernetesGivenOf = (s: Settings["k8s"]): Effect.Effect<KubernetesGiven, ConfigError> =>
  Effect.gen(function*() {
    if (Result.isFailure(s.podEnv)) {
      const source = settingSource("podEnv")
      return yield* new ConfigError({ message: `${source}: ${s.podEnv.failure}`, source, retryable: false })
    }
    const given = (key: keyof Settings["k8s"], value: string | null): KubernetesGivenValue | undefined =>
      value === null ? undefined : { value, source: settingSource(key) }
    return {
      kubeconfig: given("kubeconfig", s.kubeconfig),
      context: given("context", s.context),
      namespace: given("namespace", s.namespace),
      image: given("image", s.image),
      cpu: given("cpu", s.cpu),
      memory: given("memory", s.memory),
      serviceAccount: given("serviceAccount", s.serviceAccount),
      apiKeySecret: given("apiKeySecret", s.apiKeySecret),
      podEnv: s.podEnv.success.map((value) => ({ value, source: settingSource("podEnv") })),
      workspacePvc: given("workspacePvc", s.workspacePvc)
    }
  })

/** The choices "Launch Run…" remembers (globalState key {@link lastOptionsKey}). */
export const LaunchOptions = Schema.Struct({
  backend: BackendName,
  model: Schema.NullOr(Schema.String),
  /** Seconds; null for no deadline. */
  timeoutSeconds: Schema.NullOr(Schema.Number)
})
export type LaunchOptions = typeof LaunchOptions.Type
export const lastOptionsKey = "agentrun.lastLaunchOptions"

/** The models offered by "Launch Run…" (claude's aliases); null is claude's default. */
export const modelChoices: ReadonlyArray<string | null> = [null, "sonnet", "opus", "haiku"]
/** The deadlines offered by "Launch Run…", in seconds; null is none. */
export const timeoutChoices: ReadonlyArray<number | null> = [null, 300, 900, 1800, 3600]

const dismissed = new LaunchDismissed({ message: "dismissed", retryable: false })

/** The launch operations the commands use. */
export class Launcher extends Context.Service<Launcher, {
  /** Asks for a prompt (the settings give the rest) and launches. Returns the run id. */
  readonly launchRun: Effect.Effect<string, LaunchDismissed | NoWorkspaceFolder | ConfigError | Error>
  /** Prompt, then quick picks for backend, model and timeout. */
  readonly launchRunWithOptions: Effect.Effect<string, LaunchDismissed | NoWorkspaceFolder | ConfigError | Error>
  /** The editor's selection (or the whole active file, or a file from the explorer) as context. */
  readonly launchRunOnSelection: (fileUri: unknown) => Effect.Effect<string, LaunchDismissed | NoWorkspaceFolder | ConfigError | Error>
  /** The same run again: its full spec when this host launched it, else its stored prompt preview, to confirm. */
  readonly rerun: (record: RunRecord) => Effect.Effect<string, LaunchDismissed | ConfigError | Error>
}>()("agentrun-vscode/Launcher") {
  static readonly layer = Layer.effect(
    Launcher,
    Effect.gen(function*() {
      const api = yield* VsCode
      const context = yield* ExtensionContext
      const runs = yield* Runs
      const model = yield* RunsModel
      const settings = yield* SettingsRef
      const services = yield* Effect.context<never>()
      const runFork = Effect.runForkWith(services)

      const thenable = <A>(f: () => Thenable<A | undefined>) =>
        Effect.flatMap(Effect.promise(() => Promise.resolve(f())), (a) => (a === undefined ? Effect.fail(dismissed) : Effect.succeed(a)))

      const askPrompt = (title: string, value?: string) =>
        Effect.flatMap(
          thenable(() => api.window.showInputBox({ title, prompt: "What should claude do?", value: value ?? "", ignoreFocusOut: true })),
          (p) => (p.trim() === "" ? Effect.fail(dismissed) : Effect.succeed(p))
        )

      const pickFolder = Effect.gen(function*() {
        const folders = api.workspace.workspaceFolders ?? []
        if (folders.length === 0) {
          return yield* new NoWorkspaceFolder({ message: "Open a folder first: runs use the workspace folder as claude's working directory.", retryable: false })
        }
        if (folders.length === 1) return folders[0]!.uri.fsPath
        const picked = yield* thenable(() =>
          api.window.showQuickPick(folders.map((f) => ({ label: f.name, description: f.uri.fsPath })), { title: "agentrun: working directory", ignoreFocusOut: true })
        )
        return picked.description
      })

      /** Follows a launched run in a notification until it ends; its Cancel button cancels the run. */
      const showProgress = (live: LiveRun) =>
        Effect.promise(() =>
          Promise.resolve(api.window.withProgress(
            { location: api.ProgressLocation.Notification, title: `agentrun: run ${live.runId}`, cancellable: true },
            (progress, token) => {
              token.onCancellationRequested(() => runFork(live.cancel))
              return new Promise<void>((resolve) => {
                runFork(
                  live.progress.pipe(
                    Stream.runForEach((p) =>
                      Effect.sync(() => {
                        if (p._tag === "Usage") progress.report({ message: usageText({ ...p }) })
                        else if (p._tag === "ToolUse") progress.report({ message: `tool ${p.name}` })
                        else if (p._tag === "Stopping") progress.report({ message: `stopping (${p.reason})` })
                        else if (p._tag === "Preparing") progress.report({ message: p.detail })
                      })
                    ),
                    Effect.ensuring(Effect.sync(resolve))
                  )
                )
              })
            }
          ))
        )

      const start = (spec: RunSpec) =>
        Effect.gen(function*() {
          const live = yield* runs.launch(spec)
          yield* model.expectEnd(live.runId)
          runFork(showProgress(live))
          return live.runId as string
        })

      const launch = (prompt: string, cwd: string, choices?: LaunchOptions) =>
        Effect.gen(function*() {
          const s = yield* SubscriptionRef.get(settings)
          const backend = choices?.backend ?? s.defaultBackend
          const request: LaunchRequest = {
            prompt,
            cwd,
            claudePath: s.claudePath,
            claudeArgs: s.claudeArgs,
            model: choices?.model ?? null,
            timeoutSeconds: choices === undefined ? s.timeoutSeconds : choices.timeoutSeconds,
            stallTimeout: s.stallTimeout,
            kubernetes: backend === "k8s" ? yield* kubernetesGivenOf(s.k8s) : null
          }
          return yield* start(yield* runs.specFor(request))
        })

      const launchRun = Effect.gen(function*() {
        const prompt = yield* askPrompt("agentrun: Launch Run")
        return yield* launch(prompt, yield* pickFolder)
      })

      const lastOptions = Effect.sync(() => Schema.decodeUnknownOption(LaunchOptions)(context.globalState.get(lastOptionsKey)))
      const first = <A>(items: ReadonlyArray<A>, last: Option.Option<A>) =>
        Option.isSome(last) && items.includes(last.value) ? [last.value, ...items.filter((i) => i !== last.value)] : [...items]

      const launchRunWithOptions = Effect.gen(function*() {
        const prompt = yield* askPrompt("agentrun: Launch Run…")
        const last = yield* lastOptions
        const backends = first<BackendName>(["local", "k8s"], Option.map(last, (l) => l.backend))
        const backendInfo: Record<BackendName, string> = {
          local: "claude as a child process of this VS Code's extension host",
          k8s: "claude in a Kubernetes Job (the agentrun.k8s.* settings)"
        }
        const backend = yield* thenable(() =>
          api.window.showQuickPick(backends.map((b) => ({ label: b, description: backendInfo[b], value: b })), {
            title: "agentrun: backend",
            ignoreFocusOut: true
          })
        )
        const models = first(modelChoices, Option.map(last, (l) => l.model))
        const model = yield* thenable(() =>
          api.window.showQuickPick(models.map((m) => ({ label: m ?? "default", description: m === null ? "claude's default model" : `--model ${m}`, value: m })), {
            title: "agentrun: model",
            ignoreFocusOut: true
          })
        )
        const timeouts = first(timeoutChoices, Option.map(last, (l) => l.timeoutSeconds))
        const timeout = yield* thenable(() =>
          api.window.showQuickPick(timeouts.map((t) => ({ label: t === null ? "no deadline" : `${t / 60} min`, value: t })), {
            title: "agentrun: timeout",
            ignoreFocusOut: true
          })
        )
        const choices: LaunchOptions = { backend: backend.value, model: model.value, timeoutSeconds: timeout.value }
        yield* Effect.promise(() => Promise.resolve(context.globalState.update(lastOptionsKey, choices)))
        return yield* launch(prompt, yield* pickFolder, choices)
      })

      /** Most of a file given as context, in characters. */
      const maxContextChars = 100_000

      const launchRunOnSelection = (fileUri: unknown) =>
        Effect.gen(function*() {
          const editor = api.window.activeTextEditor
          const fromExplorer = typeof fileUri === "object" && fileUri !== null && "fsPath" in fileUri && "scheme" in fileUri
          const document = fromExplorer
            ? yield* Effect.promise(() => Promise.resolve(api.workspace.openTextDocument(fileUri as Parameters<typeof api.workspace.openTextDocument>[0] & object)))
            : editor?.document
          if (document === undefined) return yield* new NoWorkspaceFolder({ message: "Open a file or select text first.", retryable: false })
          const selection = !fromExplorer && editor !== undefined && !editor.selection.isEmpty ? editor.selection : undefined
          const text = selection === undefined ? document.getText() : document.getText(selection)
          const where = selection === undefined
            ? document.uri.fsPath
            : `${document.uri.fsPath} lines ${selection.start.line + 1}-${selection.end.line + 1}`
          const instruction = yield* askPrompt("agentrun: Launch Run on Selection")
          const clipped = text.length > maxContextChars ? `${text.slice(0, maxContextChars)}\n… (${text.length} characters, clipped)` : text
          return yield* launch(`${instruction}\n\nContext: ${where}\n\`\`\`\n${clipped}\n\`\`\``, yield* pickFolder)
        })

      const rerun = (record: RunRecord) =>
        Effect.gen(function*() {
          const spec = yield* runs.launchedSpec(record.runId)
          if (Option.isSome(spec)) return yield* start(spec.value)
          // Only the first 200 characters of the prompt are stored (redacted): the user confirms it.
          const prompt = yield* askPrompt(`agentrun: Re-run ${record.runId}`, record.promptPreview)
          return yield* launch(prompt, record.agent.cwd)
        })

      return Launcher.of({ launchRun, launchRunWithOptions, launchRunOnSelection, rerun })
    })
  )
}
