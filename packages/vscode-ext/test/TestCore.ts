/**
 * The core the unit tests run the extension on: the app layer's wiring (AgentrunApp.layer)
 * with the real backend registry, local backend, run catalog, stop sequence and watchdog, over the core's test boundaries: fake agents in the in-memory process
 * table (AgentProcessTest; they replay transcripts recorded from the real claude), the memory
 * run store (one per state directory, as the file store is), a scripted bootstrap. This
 * process's pid is in the table as the supervisor, so this host's runs are `Supervised`.
 *
 * What an agent does is chosen by its prompt: `[hang]` runs until signalled (a stuck run to
 * cancel), `[auth]` replays `auth-401` (AuthenticationFailed), anything else `success`.
 *
 * With `kubernetes` options, a core whose cluster target names a kubeconfig (`agentrun.k8s.kubeconfig`)
 * also has the real Kubernetes backend (`KubernetesOnFirstUse.register`, as the live core) over that
 * kubeconfig: the tests point it at the fake cluster (test/support/fake-k8s).
 *
 * With `config`, every core's AgentrunConfig answers that config file (`/test/config.json`), else an
 * empty one.
 *
 * With `store: "file"`, the run store is the real one (the files under `<stateDir>/runs`, as the
 * live core's): another agentrun in the test, with its own store over the same state directory,
 * plays a CLI sharing it, and the extension sees its runs only through the files.
 *
 * @module
 */
import {
  type AgentCommand,
  AgentrunConfig,
  AgentrunPaths,
  type AgentrunDirs,
  Backends,
  type BootstrapReport,
  type ClusterTarget,
  type ConfigFile,
  ExitStatus,
  LocalBackend,
  RunCatalog,
  RunStore,
  type RunStoreShape,
  StopSequence
} from "@agentrun/core"
import {
  AgentProcessTest,
  BootstrapTest,
  type FakeAgentScript,
  MemoryRunStore,
  type MemoryRunStoreControl,
  ProcessTableTest,
  type ProcessTableTestControls
} from "@agentrun/core/testing"
import type { KubernetesBackendOptions } from "@agentrun/core/kubernetes"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { readFileSync } from "node:fs"
import { KubernetesOnFirstUse } from "../src/core/KubernetesOnFirstUse.ts"
import type { CoreFor } from "../src/core/Runs.ts"

const agentLayerTest = AgentProcessTest.layerTest

const transcripts = new URL("../../../test/fixtures/transcripts/", import.meta.url)

/** A transcript recorded from the real claude, as a fake agent replays it. */
export const recorded = (name: string): FakeAgentScript => {
  const meta = JSON.parse(readFileSync(new URL(`${name}.json`, transcripts), "utf8")) as { exitCode: number | null; signal: string | null }
  const stdout = readFileSync(new URL(`${name}.stdout.jsonl`, transcripts), "utf8").replace(/\n$/, "").split("\n")
  return { stdout, exitAfterMs: 0, exitStatus: ExitStatus.fromNodeExit(meta.exitCode, meta.signal as NodeJS.Signals | null) }
}

/** The script for a prompt (see the module doc). */
export const scriptFor = (command: AgentCommand): FakeAgentScript =>
  command.stdin.includes("[hang]") ? {} : command.stdin.includes("[auth]") ? recorded("auth-401") : recorded("success")

/** Used only when a run has no `agentrun.claudePath`: the tests set one, so a bootstrap is a mistake. */
const noBootstrap = (): BootstrapReport => {
  throw new Error("TestCore: a run asked the bootstrap for claude; set agentrun.claudePath in the test")
}

/** One state directory's core, as a test sees it. */
export interface TestCoreHandles {
  /** The store itself (its effects need nothing: run them with Effect.runPromise). */
  readonly runStore: RunStoreShape
  /** The memory store's controls (raw records); a core with `store: "file"` has none: it throws. */
  readonly store: MemoryRunStoreControl
  readonly processes: ProcessTableTestControls
  /** Every agent command spawned, in order. */
  readonly spawned: Array<AgentCommand>
}

/** Makes the test core: `coreFor` for `Runs.layerWith`, and each state directory's handles once built. */
export const makeTestCore = (
  options: { readonly kubernetes?: KubernetesBackendOptions; readonly store?: "memory" | "file"; readonly config?: ConfigFile } = {}
) => {
  const built = new Map<string, TestCoreHandles>()
  const coreFor: CoreFor = (dirs: AgentrunDirs, cluster: ClusterTarget) => {
    const spawned: Array<AgentCommand> = []
    // This process is the runs' supervisor: in the table before the backend reads its start time.
    const table = Layer.effectDiscard(
      Effect.flatMap(ProcessTableTest, (t) => t.seed({ pid: process.pid, cmdline: ["code", "--type=extensionHost"] }))
    ).pipe(Layer.provideMerge(ProcessTableTest.layer))
    const handles = Layer.effectDiscard(
      Effect.gen(function*() {
        const runStore = yield* RunStore
        const processes = yield* ProcessTableTest
        const memory = yield* Effect.serviceOption(MemoryRunStore)
        built.set(dirs.stateDir, {
          runStore,
          processes,
          spawned,
          get store(): MemoryRunStoreControl {
            if (Option.isSome(memory)) return memory.value
            throw new Error(`TestCore: the core of ${dirs.stateDir} has a file store: write through runStore`)
          }
        })
      })
    )
    const runStore: Layer.Layer<RunStore, never, AgentrunPaths> = options.store === "file" ? RunStore.layer : MemoryRunStore.layer
    const registry = options.kubernetes !== undefined && cluster.kubeconfigPath !== null
      ? KubernetesOnFirstUse.register(cluster, options.kubernetes).pipe(Layer.provide(Backends.layer))
      : Backends.layer
    // As AgentrunApp.layer wires it, with the test boundaries.
    return Layer.mergeAll(RunCatalog.layer, handles).pipe(
      Layer.provideMerge(registry),
      Layer.provideMerge(LocalBackend.layer({ drainGrace: "100 millis" })),
      Layer.provideMerge(Layer.mergeAll(
        StopSequence.layer,
        agentLayerTest((command) => {
          spawned.push(command)
          return scriptFor(command)
        }),
        runStore,
        BootstrapTest.layer(noBootstrap)
      )),
      Layer.provideMerge(table),
      Layer.provideMerge(Layer.mergeAll(AgentrunConfig.layerTest(options.config ?? {}), Layer.succeed(AgentrunPaths, AgentrunPaths.of(dirs))))
    )
  }
  return {
    coreFor,
    /** The handles of the core built for a state directory (it is built on first use). */
    at: (stateDir: string): TestCoreHandles => {
      const handles = built.get(stateDir)
      if (handles === undefined) throw new Error(`TestCore: no core built for ${stateDir}`)
      return handles
    }
  }
}
