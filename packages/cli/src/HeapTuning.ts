/**
 * V8 heap settings for the process that follows a run. Following an agent allocates about three
 * bytes per byte of its output (the decoded line, the parsed JSON, the pipe's buffers), nearly
 * all of it garbage at once. Left to its defaults, V8 lets the young generation grow to 16 MiB
 * semi-spaces and the old generation grow up to 4x its live size between full collections: the
 * benchmark (`pnpm bench`, 1 GiB of agent output) measured a peak RSS of 208 MB (133 MB of it
 * anonymous memory, with a live heap near 12 MB).
 *
 * With the young generation held at its initial size and the old generation allowed to grow by
 * half between full collections, the same run peaked at about 130 MB (54 MB anonymous), for about
 * 20 % more CPU while following — irrelevant at the output rates of a real agent, which are far
 * below the 120 MB/s agentrun still sustains.
 *
 * Both flags are read by V8 at each collection, so they take effect when set at run time (tested
 * in HeapTuning.test.ts): a local `run` sets them once the agent has started, before its output
 * flows; a Kubernetes one before it loads client-node ({@link tuneHeapBeforeKubernetes}, and the
 * launcher for `run --backend k8s` and `attach`).
 * The CLI sets them for its own process only; the core never does (an embedding such as the VS
 * Code extension host owns its heap).
 *
 * @module
 */
import * as Effect from "effect/Effect"

/**
 * The V8 flags set by {@link tuneHeapForFollowing}:
 * - `--semi-space-growth-factor=1`: the young generation's semi-spaces keep their current size
 *   (V8's default factor, 2, doubles them under allocation pressure, up to 16 MiB each);
 * - `--heap-growing-percent=50`: after a full collection, the old generation may grow by 50 %
 *   of its live size before the next one (V8's default picks a factor up to 4 from GC speed).
 */
export const followingHeapFlags: ReadonlyArray<string> = ["--semi-space-growth-factor=1", "--heap-growing-percent=50"]

/** V8's defaults for {@link followingHeapFlags} (`node --v8-options`, V8 12.4). */
export const defaultHeapFlags: ReadonlyArray<string> = ["--semi-space-growth-factor=2", "--heap-growing-percent=0"]

/**
 * Where the launcher (agentrun.cjs) collects the flags to set back before it saves a V8 code
 * cache at exit: V8 rejects a cache made under other flags than those of the start reading it.
 */
const restoreRegistry = Symbol.for("agentrun.v8FlagsToRestoreBeforeCodeCache")

/** Whether {@link tuneHeapForFollowing} ran in this process (the flags are set once). */
let tuned = false

/**
 * Applies {@link followingHeapFlags} to this process's V8 heap, once per process (later calls do
 * nothing). Never fails. node:v8 is loaded here, not when the CLI loads: loading it takes about
 * 1.3 ms, and a local `run` tunes the heap once the agent has started, off the path to its spawn.
 * A Kubernetes run tunes it before it loads client-node (see {@link tuneHeapBeforeKubernetes}).
 */
export const tuneHeapForFollowing: Effect.Effect<void> = Effect.sync(() => {
  if (tuned) return
  tuned = true
  const restore = (globalThis as { [restoreRegistry]?: Array<string> })[restoreRegistry]
  restore?.push(...defaultHeapFlags)
  const v8 = process.getBuiltinModule("node:v8")
  for (const flag of followingHeapFlags) v8.setFlagsFromString(flag)
})

/**
 * {@link tuneHeapForFollowing}, for a run that will follow a Pod: called before the Kubernetes
 * chunk (client-node) is loaded and the backend's layers are built, whose allocations grew the
 * young generation (V8's new space) from 8 to 16 MiB, which V8 does not give back. A start the
 * launcher (agentrun.cjs) can tell follows a Pod, `run --backend k8s` or `attach`, is tuned
 * before the bundle runs, earlier still (the CLI's own start-up grows it from 1 to 8 MiB); this is for
 * the others: a k8s backend from the config file or a stored request (rerun, `run -d`'s
 * supervisor). Measured with the k8s-rss bench's fake cluster, 1 GiB followed, same hour: 154.9 MB
 * peak RSS tuned here, 137.9 MB tuned by the launcher, 179.8 MB tuned only at `Started`.
 */
export const tuneHeapBeforeKubernetes: Effect.Effect<void> = tuneHeapForFollowing
