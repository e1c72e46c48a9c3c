/**
 * The run store service: agentrun's one filesystem boundary for runs (the model and the folder
 * layout: RunStoreModel.ts). `layer` is the filesystem under {@link AgentrunPaths}
 * (FileRunStore.ts); the in-memory layer for tests is `MemoryRunStore.layer` from
 * `@agentrun/core/testing`, kept out of the CLI bundle.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { AgentrunPaths } from "../paths/AgentrunPaths.ts"
import { type FileRunStoreOptions, makeFileRunStore } from "./FileRunStore.ts"
import type { RunStoreShape } from "./RunStoreModel.ts"

export * from "./RunStoreModel.ts"

/** The run store service. */
export class RunStore extends Context.Service<RunStore, RunStoreShape>()("agentrun/RunStore") {
  /** The filesystem store under AgentrunPaths' runs folder. */
  static readonly layer = Layer.effect(
    RunStore,
    Effect.gen(function*() {
      const paths = yield* AgentrunPaths
      return RunStore.of(yield* makeFileRunStore(paths.runsDir))
    })
  )

  /** The filesystem store with explicit options (the rescan period of `changes`). */
  static readonly layerWith = (options: FileRunStoreOptions) =>
    Layer.effect(
      RunStore,
      Effect.gen(function*() {
        const paths = yield* AgentrunPaths
        return RunStore.of(yield* makeFileRunStore(paths.runsDir, options))
      })
    )
}
