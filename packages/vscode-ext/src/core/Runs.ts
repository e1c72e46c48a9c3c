/**
 * The one module that adapts agentrun's core to the extension: every other file uses the
 * {@link Runs} service, so a change of the core's API touches only this file.
 *
 * The core is the app layer (`AgentrunApp.layer`), one per state directory, built in this
 * layer's scope (so in the activation's, which `context.subscriptions` closes). A run is
 * launched with `Backends.launch` (the registry owns it); the runs are read with `RunCatalog`
 * (crash recovery applied, damaged records kept); the view follows the run store's `changes`
 * Stream (this process's writes and other processes', e.g. the CLI's); a transcript is the core's
 * `transcriptEvents` Stream; a live run's usage so far is the core's TranscriptIngest over the
 * stored lines; a run this extension host supervises is cancelled through its handle, any other
 * through `RunCatalog.cancel`.
 *
 * The core runs in the extension host's own process (no CLI is started). Its state directory is
 * `agentrun.stateDir`, else the CLI's; a change of the setting applies to the next call (one
 * core per directory, built on first use and kept until the extension deactivates).
 *
 * @module
 */
import {
  AgentrunApp,
  AgentrunConfig,
  type AgentrunDirs,
  AgentrunPaths,
  Backends,
  type BackendUnavailable,
  Bootstrap,
  type BootstrapReport,
  type ClusterTarget,
  type ConfigError,
  dirsFromEnv,
  type DoctorReport,
  type KubernetesGiven,
  kubernetesRunOptions,
  type EventCursor,
  eventsStart,
  resolveKubernetesSettings,
  resolveStopGrace,
  resolveWatchdog,
  RunCatalog,
  type RunId,
  type ResolveError,
  type RunNotRunning,
  type RunOnAnotherHost,
  type RunProgress,
  type RunRecord,
  type RunRecordDamaged,
  type RunResult,
  type RunSpec,
  RunStore,
  type RunStoreChange as StoreChange,
  type RunStoreError,
  type StoredRun,
  type TranscriptEvent,
  transcriptEvents,
  TranscriptIngest
} from "@agentrun/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Path from "node:path"
import { type Settings, SettingsRef } from "../Settings.ts"
import { cancelRequester } from "./Identity.ts"
import { KubernetesOnFirstUse } from "./KubernetesOnFirstUse.ts"

/** A change in the run store (the core's RunStoreChange), or `Rescan`: read everything again (at start, and when `agentrun.stateDir` changes). */
export type RunStoreChange = StoreChange | { readonly _tag: "Rescan" }

/** A run launched by this extension host. */
export interface LiveRun {
  readonly runId: RunId
  /** Progress from launch to `Ended` (late subscribers get the last 64 events replayed). */
  readonly progress: Stream.Stream<RunProgress>
  /** Asks the run to stop (the stop sequence) and to be recorded `Cancelled`. */
  readonly cancel: Effect.Effect<void>
  /** The verdict, once the final record is written. */
  readonly result: Effect.Effect<RunResult>
}

/** Turns, tokens and cost of a run so far (US dollars, known once the result line arrives). */
export interface UsageSoFar {
  readonly turns: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly costUsd: number | null
}

/**
 * Reads a live run's usage incrementally: each `next` reads what was appended since the previous
 * one, through the core's TranscriptIngest (the progress a RunHandle reports), and returns the
 * usage so far if it moved (null otherwise).
 */
export interface UsageFollower {
  readonly next: Effect.Effect<UsageSoFar | null, RunStoreError>
}

/** What the user chose for a launch; the rest comes from the settings and the environment. */
export interface LaunchRequest {
  readonly prompt: string
  /** The agent's working directory (absolute). */
  readonly cwd: string
  readonly claudePath: string | null
  readonly claudeArgs: ReadonlyArray<string>
  readonly model: string | null
  /** Seconds; null for no deadline. */
  readonly timeoutSeconds: number | null
  /** Duration text such as "90s"; null resolves as the CLI does (env, config file, 15m). */
  readonly stallTimeout: string | null
  /**
   * A Kubernetes run (the spec's backend is then `k8s`): the `agentrun.k8s.*` settings as given,
   * merged with the config file's `kubernetes` section and the defaults by the core's
   * `resolveKubernetesSettings` (as the CLI merges its flags); null: a local run.
   */
  readonly kubernetes: KubernetesGiven | null
}

/** What {@link RunsShape.cancel} did. */
export type CancelOutcome = "cancelling-here" | "asked-supervisor" | "stopped-orphan"

/** The extension's view of the core. All effects have no requirements. */
export interface RunsShape {
  /** Records, newest first (crash recovery applied, as `agentrun list` does); a damaged record is listed as its RunRecordDamaged. */
  readonly list: Effect.Effect<ReadonlyArray<StoredRun>, RunStoreError>
  /** One record by id or unique prefix. */
  readonly get: (runId: string) => Effect.Effect<RunRecord, ResolveError | RunRecordDamaged>
  /** The run store's changes, this process's and others' (the CLI's), for as long as it is consumed. */
  readonly changes: Stream.Stream<RunStoreChange>
  /** A follower of one run's usage (turns, tokens, cost so far), from its start. */
  readonly followUsage: (runId: string) => Effect.Effect<UsageFollower>
  /**
   * A run's transcript as the core's typed events (transcriptEvents) from `options.from` (default
   * the start): what is stored, then (unless `storedOnly`) what is appended, ending once the
   * record is final (crash recovery applied, so a run whose supervisor died ends too).
   */
  readonly transcript: (
    runId: string,
    options?: { readonly from?: EventCursor; readonly storedOnly?: boolean }
  ) => Stream.Stream<TranscriptEvent, ResolveError | RunRecordDamaged>
  /**
   * The run spec for a request: the watchdog, stop grace and a Kubernetes run's settings resolved
   * from the config file as the CLI resolves them. Fails, naming the setting or the config file's
   * key, when one cannot be used (for Kubernetes: no image, a value the API server would refuse).
   */
  readonly specFor: (request: LaunchRequest) => Effect.Effect<RunSpec, ConfigError>
  /** Launches a run owned by this extension host. Fails if the store cannot record it, or its backend is not in this host. */
  readonly launch: (spec: RunSpec) => Effect.Effect<LiveRun, RunStoreError | BackendUnavailable>
  /** The spec of a run launched by this extension host, live or ended (for re-running it whole), if any. */
  readonly launchedSpec: (runId: string) => Effect.Effect<Option.Option<RunSpec>>
  /** Whether this extension host supervises the run. */
  readonly isOwn: (runId: string) => Effect.Effect<boolean>
  /** Cancels a running run: through its handle when it is this host's, else through the catalog. */
  readonly cancel: (runId: string) => Effect.Effect<CancelOutcome, ResolveError | RunRecordDamaged | RunNotRunning | RunOnAnotherHost>
  /** One bootstrap attempt of the claude CLI runtime (never fails: the report says what happened). */
  readonly bootstrap: (force: boolean) => Effect.Effect<BootstrapReport>
  readonly doctor: Effect.Effect<DoctorReport>
}

/** The core services the adapter uses (a subset of the app layer's AgentrunServices). */
export type CoreServices = Backends | RunCatalog | RunStore | Bootstrap | AgentrunConfig | AgentrunPaths

/**
 * The core for one state directory and cluster target (the `agentrun.k8s.*` settings): the live
 * one ({@link liveCore}), or the unit tests' (fake agents, memory store, a fake cluster).
 */
export type CoreFor = (dirs: AgentrunDirs, cluster: ClusterTarget) => Layer.Layer<CoreServices, unknown>

/**
 * The core for one state directory: the app layer, as the CLI builds it, over the extension
 * host's environment, with the Kubernetes backend of `cluster` (built on first use: see
 * KubernetesOnFirstUse).
 */
export const liveCore: CoreFor = (dirs, cluster) =>
  AgentrunApp.layer({ stateDir: dirs.stateDir, env: process.env, backends: KubernetesOnFirstUse.register(cluster) })

type Core = Context.Context<CoreServices>

/** The agentrun directories for a `agentrun.stateDir` value (null: the CLI's). */
export const dirsFor = (stateDir: string | null, env: Readonly<Record<string, string | undefined>>): AgentrunDirs => {
  const cli = dirsFromEnv(env)
  return stateDir === null ? cli : { ...cli, stateDir, runsDir: Path.join(stateDir, "runs") }
}

const usageOf = (progress: ReadonlyArray<RunProgress>): UsageSoFar | null => {
  let usage: UsageSoFar | null = null
  for (const p of progress) {
    if (p._tag === "Usage") usage = { turns: p.turns, inputTokens: p.inputTokens, outputTokens: p.outputTokens, costUsd: p.costUsd }
  }
  return usage
}

// Stored lines are already redacted.
const storedAsIs = { redact: (text: string) => text, mayContainSecret: () => false, secretValues: 0 }

/**
 * How long deactivation waits for the final records of the runs it cancels, in milliseconds.
 * VS Code gives the extension host at most 5 s after deactivation starts, then ends the process
 * (microsoft/vscode#47881, #114688): waiting longer would be cut short anyway.
 */
export const shutdownWaitMs = 4_000

/** The core adapter service. */
export class Runs extends Context.Service<Runs, RunsShape>()("agentrun-vscode/Runs") {
  /**
   * Builds the adapter for the layer's life over `coreFor`'s core (one per state directory).
   * Closing the layer's scope (deactivation) cancels every run this host launched and waits (up
   * to {@link shutdownWaitMs}) for each final record: claude's stdout is a pipe into this
   * process, so a run left behind would lose its transcript and verdict with the extension host;
   * cancelled, it ends `Cancelled` with no claude process left. A run whose stop outlasts the
   * wait has had its SIGINT: if it survives the host, `agentrun cancel` stops it as an orphan
   * and the next listing records it Interrupted.
   */
  static readonly layerWith = (coreFor: CoreFor) => Layer.effect(
    Runs,
    Effect.gen(function*() {
      const settings = yield* SettingsRef
      const layerScope = yield* Effect.scope
      // The cores' own scope, forked before the finalizer below is added: finalizers run last
      // added first, so deactivation cancels this host's runs (bounded wait) before the cores
      // close (which would otherwise stop them first, through the whole stop sequence).
      const coresScope = yield* Scope.fork(layerScope, "sequential")
      const env = process.env
      const cores = new Map<string, Core>()
      /** The live runs this host supervises; the specs of every run it launched (a re-run repeats it whole: the store keeps 200 characters of the prompt). */
      const own = new Map<string, { readonly live: LiveRun; readonly spec: RunSpec }>()
      const launched = new Map<string, RunSpec>()

      const clusterOf = (s: Settings): ClusterTarget => ({ kubeconfigPath: s.k8s.kubeconfig, context: s.k8s.context, namespace: s.k8s.namespace })
      // One core per state directory and cluster target: a changed `agentrun.k8s.*` applies to the next call.
      const coreAt = (dirs: AgentrunDirs, cluster: ClusterTarget) =>
        Effect.gen(function*() {
          const key = JSON.stringify([dirs.stateDir, cluster.kubeconfigPath, cluster.context, cluster.namespace])
          const cached = cores.get(key)
          if (cached !== undefined) return cached
          const built = yield* Layer.buildWithScope(coreFor(dirs, cluster), coresScope).pipe(Effect.orDie)
          cores.set(key, built)
          return built
        })
      const currentCore = Effect.flatMap(SubscriptionRef.get(settings), (s) => coreAt(dirsFor(s.stateDir, env), clusterOf(s)))
      const withCore = <A, E>(f: (core: Core) => Effect.Effect<A, E>) => Effect.flatMap(currentCore, f)
      const catalog = (core: Core) => Context.get(core, RunCatalog)
      const store = (core: Core) => Context.get(core, RunStore)

      /** The cluster target of each spec {@link specFor} made for a k8s run (a re-run of the spec goes to the same cluster). */
      const launchTargets = new WeakMap<RunSpec, ClusterTarget>()
      const coreOfLaunch = (spec: RunSpec) =>
        Effect.flatMap(SubscriptionRef.get(settings), (s) => {
          const target = launchTargets.get(spec)
          return coreAt(dirsFor(s.stateDir, env), target ?? clusterOf(s))
        })

      const list = withCore((core) => Effect.flatMap(catalog(core).list(), catalog(core).recoverAll))
      const get = (runId: string) => withCore((core) => catalog(core).get(runId))

      // The store of the current state directory: subscribed, then a Rescan (so no change falls
      // between the listing and the subscription); again when `agentrun.stateDir` changes.
      const changes: Stream.Stream<RunStoreChange> = SubscriptionRef.changes(settings).pipe(
        Stream.changesWith((a, b) => a.stateDir === b.stateDir),
        Stream.switchMap((s) =>
          Stream.unwrap(Effect.gen(function*() {
            const subscribed = yield* store(yield* coreAt(dirsFor(s.stateDir, env), clusterOf(s))).watchChanges()
            return Stream.concat(Stream.succeed<RunStoreChange>({ _tag: "Rescan" }), subscribed)
          }))
        )
      )

      const followUsage = (runId: string) =>
        withCore((core) =>
          Effect.sync((): UsageFollower => {
            const ingest = new TranscriptIngest(storedAsIs)
            let cursor = eventsStart
            return {
              next: Effect.gen(function*() {
                const progress: Array<RunProgress> = []
                for (;;) {
                  const chunk = yield* store(core).readEventsSince(runId as RunId, cursor)
                  if (chunk.cursor === cursor) break
                  cursor = chunk.cursor
                  progress.push(...ingest.push(chunk.lines).progress)
                }
                return usageOf(progress)
              })
            }
          })
        )

      const transcript = (query: string, options: { readonly from?: EventCursor; readonly storedOnly?: boolean } = {}) =>
        Stream.unwrap(withCore((core) =>
          Effect.map(catalog(core).resolve(query), (runId) => transcriptEvents(store(core), runId, { ...options, recover: catalog(core).recover }))
        ))

      const specFor = (request: LaunchRequest) =>
        withCore((core) =>
          Effect.gen(function*() {
            const { file, path } = yield* Context.get(core, AgentrunConfig).load(env)
            const watchdog = yield* resolveWatchdog(
              { enabled: Option.none(), stallTimeout: Option.fromNullishOr(request.stallTimeout), startupTimeout: Option.none(), busyTimeout: Option.none() },
              env,
              file,
              path
            )
            const stopGrace = yield* resolveStopGrace(env, file, path)
            const given = request.kubernetes
            const kubernetes = given === null ? null : yield* resolveKubernetesSettings(given, file, path, {
              source: "setting `agentrun.k8s.image`",
              message: `A k8s run needs an agent image: set \`agentrun.k8s.image\` (an image holding claude), or kubernetes.image in ${path}.`
            })
            const spec: RunSpec = {
              prompt: request.prompt,
              cwd: request.cwd,
              claudePath: request.claudePath,
              claudeArgs: request.claudeArgs,
              model: request.model,
              maxTurns: null,
              timeoutMs: request.timeoutSeconds === null ? null : Math.round(request.timeoutSeconds * 1000),
              env,
              watchdog,
              stopGrace,
              ...(kubernetes === null ? {} : {
                backend: "k8s" as const,
                // An unset namespace is left "": the backend takes its cluster target's (the context's).
                kubernetes: kubernetesRunOptions({ ...kubernetes.pod, namespace: kubernetes.target.namespace ?? "" })
              })
            }
            // The cluster of the launch: the settings' (the core's key), with the config file's
            // context when `agentrun.k8s.context` is empty (a namespace goes in the run's options).
            if (kubernetes !== null) launchTargets.set(spec, { ...kubernetes.target, namespace: given?.namespace?.value ?? null })
            return spec
          })
        )

      const launch = (spec: RunSpec) =>
        Effect.flatMap(coreOfLaunch(spec), (core) =>
          Effect.gen(function*() {
            // The registry owns the run (the core's scope ends it, should deactivation get there first).
            const handle = yield* Context.get(core, Backends).launch(spec)
            const live: LiveRun = { runId: handle.runId, progress: handle.progress, cancel: handle.cancel(null), result: handle.result }
            own.set(handle.runId, { live, spec })
            launched.set(handle.runId, spec)
            yield* handle.result.pipe(
              Effect.ensuring(Effect.sync(() => own.delete(handle.runId))),
              Effect.forkIn(coresScope)
            )
            yield* Effect.logInfo(`run ${handle.runId} launched in ${spec.cwd}`)
            return live
          })
        )

      const cancel = (runId: string) =>
        Effect.gen(function*() {
          const record = yield* get(runId)
          const mine = own.get(record.runId)
          if (mine !== undefined) {
            yield* mine.live.cancel
            return "cancelling-here" as const
          }
          const result = yield* withCore((core) => catalog(core).cancel(record.runId, { by: cancelRequester() }))
          return result._tag === "AskedSupervisor" ? "asked-supervisor" as const : "stopped-orphan" as const
        })

      yield* Effect.addFinalizer(() =>
        Effect.gen(function*() {
          const live = [...own.values()].map((o) => o.live)
          if (live.length === 0) return
          yield* Effect.logInfo(`deactivating: cancelling ${live.length} live run(s)`)
          yield* Effect.forEach(live, (run) =>
            Effect.andThen(run.cancel, run.result).pipe(Effect.timeoutOption(shutdownWaitMs), Effect.ignore), { concurrency: "unbounded", discard: true })
        })
      )

      return Runs.of({
        list,
        get,
        changes,
        followUsage,
        transcript,
        specFor,
        launch,
        launchedSpec: (runId) => Effect.sync(() => Option.fromNullishOr(launched.get(runId))),
        isOwn: (runId) => Effect.sync(() => own.has(runId)),
        cancel,
        bootstrap: (force) => withCore((core) => Context.get(core, Bootstrap).attempt("claude-cli", { force })),
        doctor: withCore((core) => Context.get(core, Bootstrap).doctor)
      })
    })
  )

  /** The adapter over the live core (the CLI's state directory unless `agentrun.stateDir` says otherwise). */
  static readonly layer = Runs.layerWith(liveCore)
}
