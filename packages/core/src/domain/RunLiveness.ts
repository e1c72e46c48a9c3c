/**
 * Whether a stored run's supervision still lives, as its backend tells from its placement.
 *
 * @module
 */

/**
 * - `Supervised`: an agentrun process supervises (or follows) it now.
 * - `Orphaned`: its supervisor is gone (`supervisor-gone`: no such pid; `pid-reused`: the pid is
 *   another process now); `agentAlive` says whether the agent still runs.
 * - `Unknown`: the backend cannot tell (another machine, an API not reachable, no backend for
 *   the placement in this build): such a run is never marked Interrupted or pruned on a guess.
 */
export type RunLiveness =
  | { readonly _tag: "Supervised" }
  | { readonly _tag: "Orphaned"; readonly reason: "supervisor-gone" | "pid-reused"; readonly agentAlive: boolean }
  | { readonly _tag: "Unknown"; readonly reason: string }
