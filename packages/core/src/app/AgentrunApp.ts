/**
 * The app layer: every service a host of the core needs, wired once (the CLI's bin.ts, the VS
 * Code extension, a test). Configuration, paths, the run store, the backends (local, plus any
 * registered with `backends`), the run catalog, the bootstrap, the process boundary and the
 * Node platform services.
 *
 * ```ts
 * import { AgentrunApp, Backends, RunCatalog } from "@agentrun/core"
 *
 * const program = Effect.gen(function*() {
 *   const handle = yield* (yield* Backends).launch(spec)
 *   const { outcome } = yield* handle.result
 *   const runs = yield* (yield* RunCatalog).list({ limit: 10 })
 * })
 * // The layer's scope owns the live runs: closing it (the end of `Effect.provide`) ends each
 * // one, recorded Cancelled (by "shutdown").
 * await Effect.runPromise(program.pipe(Effect.provide(AgentrunApp.layer({ stateDir: "/tmp/agentrun-state" }))))
 * ```
 *
 * Another backend is one option: `AgentrunApp.layer({ backends: Backends.register(KubernetesBackend,
 * KubernetesBackend.layer(target)) })` (its layer gets the core's services; a `--backend k8s` spec
 * then launches there, and stored Kubernetes runs are judged by it). Its layer is built with the
 * app's, on every start of the CLI: keep what it does at build time cheap.
 *
 * Non-Effect callers use {@link AgentrunRuntime} (AgentrunRuntime.ts) over the same layer.
 *
 * @module
 */
import * as NodeChildProcessSpawner from "@effect/platform-node/NodeChildProcessSpawner"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as Layer from "effect/Layer"
import type * as FileSystem from "effect/FileSystem"
import type * as Path from "effect/Path"
import type * as ChildProcessSpawner from "effect/process/ChildProcessSpawner"
import * as NodePathModule from "node:path"
import { Backends } from "../backend/Backends.ts"
import { LocalBackend, type LocalBackendOptions } from "../backend/LocalBackend.ts"
import { Bootstrap } from "../bootstrap/Bootstrap.ts"
import { BootstrapSettings, bootstrapSettings } from "../bootstrap/BootstrapSettings.ts"
import { BootstrapStore } from "../bootstrap/BootstrapStore.ts"
import { InstallerProcess } from "../bootstrap/InstallerProcess.ts"
import { AgentrunConfig } from "../config/AgentrunConfig.ts"
import { type AgentrunDirs, AgentrunPaths, dirsFromEnv } from "../paths/AgentrunPaths.ts"
import { AgentProcess } from "../process/AgentProcess.ts"
import { StopSequence } from "../process/StopSequence.ts"
import type { ProcessControl } from "../procfs/ProcessControl.ts"
import { ProcessTable } from "../procfs/ProcessTable.ts"
import { RunCatalog } from "../runs/RunCatalog.ts"
import { RunStore } from "../store/RunStore.ts"
import type { FileRunStoreOptions } from "../store/FileRunStore.ts"

/** The Node platform services the app layer provides (for hosts built on effect/cli and the like). */
export type PlatformServices = FileSystem.FileSystem | Path.Path | ChildProcessSpawner.ChildProcessSpawner

/**
 * The services an extra backend's layer may use (the `backends` option): everything the app
 * layer provides but the registry and the catalog built on it.
 */
export type AgentrunBaseServices =
  | AgentrunConfig
  | AgentrunPaths
  | RunStore
  | Bootstrap
  | ProcessTable
  | ProcessControl
  | StopSequence
  | AgentProcess
  | LocalBackend
  | PlatformServices

/** Every service {@link AgentrunApp.layer} provides. */
export type AgentrunServices = AgentrunBaseServices | Backends | RunCatalog

/** Options of {@link AgentrunApp.layer}. */
export interface AgentrunAppOptions<E = never> {
  /**
   * The environment the XDG directories and the bootstrap's settings are read from (default:
   * `process.env`). The config file's location is `AgentrunConfig.load(env)`'s argument.
   */
  readonly env?: Readonly<Record<string, string | undefined>>
  /**
   * The state directory of the run store (run records under `<stateDir>/runs`), an absolute
   * path; default `$XDG_STATE_HOME/agentrun` from `env`. The bootstrap's locks, cooldowns and
   * telemetry stay under `$XDG_STATE_HOME/agentrun/bootstrap` whatever this says: they guard the
   * managed installs under `$XDG_DATA_HOME/agentrun`, which every agentrun of the user shares
   * (two hosts with their own state dirs must still see each other's install lock).
   */
  readonly stateDir?: string
  /** The local backend's options (stop grace periods, drain grace). */
  readonly local?: LocalBackendOptions
  /** The run store's options (FileRunStore.ts): the CLI appends and reads synchronously, a host that shares its event loop keeps the async defaults. */
  readonly store?: FileRunStoreOptions
  /**
   * More backends, as a registry layer over the local one: `Backends.register(Tag, layer)` (or
   * several, piped). It gets the app's base services ({@link AgentrunBaseServices}); its error
   * `E` is the app layer's.
   */
  readonly backends?: Layer.Layer<Backends, E, Backends | AgentrunBaseServices>
}

/** The directories for `options` (the state directory override applied). */
export const appDirs = (options: Pick<AgentrunAppOptions, "env" | "stateDir">): AgentrunDirs => {
  const dirs = dirsFromEnv(options.env ?? process.env)
  return options.stateDir === undefined
    ? dirs
    : { ...dirs, stateDir: options.stateDir, runsDir: NodePathModule.join(options.stateDir, "runs") }
}

/** The Node platform services: FileSystem, Path, ChildProcessSpawner. */
const platformLayer = Layer.provideMerge(NodeChildProcessSpawner.layer, Layer.mergeAll(NodeFileSystem.layer, NodePath.layer))

/** The app layer (see the module docs). */
export const AgentrunApp = {
  /**
   * Every {@link AgentrunServices} service, built in the caller's scope (the layer's scope owns
   * the live runs: closing it ends each one, recorded `Cancelled` by "shutdown"). Fails only as
   * the `backends` option's layer does; a run store that cannot be written fails the runs (their
   * launch), not the layer.
   */
  layer: <E = never>(options: AgentrunAppOptions<E> = {}): Layer.Layer<AgentrunServices, E> => {
    const env = options.env
    // Without an env, BootstrapSettings' default (a Context.Reference) reads process.env itself.
    const settings = env === undefined ? Layer.empty : Layer.sync(BootstrapSettings, () => bootstrapSettings({ env }))
    const paths = Layer.sync(AgentrunPaths, () => AgentrunPaths.of(appDirs(options)))
    // The XDG directories, without the state dir override (see `stateDir`).
    const sharedPaths = Layer.sync(AgentrunPaths, () => AgentrunPaths.of(dirsFromEnv(options.env ?? process.env)))
    const bootstrap = Bootstrap.layer.pipe(
      Layer.provide(BootstrapStore.layer),
      Layer.provide(Layer.mergeAll(InstallerProcess.layer, settings, sharedPaths))
    )
    const base = LocalBackend.layer(options.local).pipe(
      Layer.provideMerge(Layer.mergeAll(StopSequence.layer, RunStore.layerWith(options.store ?? {})).pipe(Layer.provideMerge(ProcessTable.layer))),
      Layer.provideMerge(Layer.mergeAll(AgentProcess.layer, bootstrap)),
      Layer.provideMerge(Layer.mergeAll(paths, AgentrunConfig.layer, platformLayer))
    )
    const registry = options.backends === undefined ? Backends.layer : options.backends.pipe(Layer.provide(Backends.layer))
    return RunCatalog.layer.pipe(Layer.provideMerge(registry), Layer.provideMerge(base))
  }
}
