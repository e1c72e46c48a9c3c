/**
 * A recipe: how one runtime is found present or built. Bootstrap runs every recipe the same way:
 * `plan` (its no-op probes) says the runtime is there, cannot be built here, or what to build;
 * a build runs under the build guard (BuildGuard.ts: cooldown, lock, heartbeat).
 *
 * @module
 */
import type * as Effect from "effect/Effect"
import type { Draft } from "./BootstrapModel.ts"
import type { Runtime } from "./codes.ts"
import type { InstallerError } from "./errors.ts"

/** What a recipe's probes concluded. */
export type RecipePlan =
  /** Present (a no-op outcome), or not buildable here (IncompatibleInterpreter): the attempt's answer. */
  | { readonly _tag: "Done"; readonly draft: Draft }
  /** Not present: `build` would install it; `extra` goes into the report either way; `installing` names the package for progress. */
  | {
    readonly _tag: "Build"
    readonly build: Effect.Effect<Draft, InstallerError>
    readonly extra: Partial<Draft>
    readonly installing: string
  }

/** One runtime's recipe. */
export interface Recipe {
  readonly runtime: Runtime
  /** Only the no-op probes: a present runtime's draft, or null. */
  readonly probe: Effect.Effect<Draft | null>
  /** The probes, then what an attempt does next (see {@link RecipePlan}). */
  readonly plan: Effect.Effect<RecipePlan>
}
