import type { BuildOptions } from "esbuild"

/** Types of build.mjs (plain JS, run by node without a build step). */
export declare const entry: string
export declare const outfile: string
export declare const buildOptions: BuildOptions & { readonly write: false }
export declare const kubernetesChunkEntry: string
export declare const kubernetesChunkOutfile: string
export declare const kubernetesChunkOptions: BuildOptions & { readonly write: false }
export declare const kubernetesEntry: string
export declare const kubernetesOutfile: string
/** The bundle's options, given KubernetesHost.ts's generated table (none: the module stays empty). */
export declare const bundleOptions: (hostTable: string | undefined) => BuildOptions & { readonly write: false }
/** The Kubernetes chunk's imports of bundle modules: key (`effect/dist/Effect.js`) to the export names it uses. */
export declare const namesTakenFromBundle: (ts: typeof import("typescript"), code: string) => Map<string, Set<string>>
/** The three output files (client-node's chunk, the Kubernetes chunk, the bundle, with their source maps), not written. */
export declare const buildOutputs: () => Promise<ReadonlyArray<{ readonly path: string; readonly contents: string | Uint8Array }>>
export declare const build: () => Promise<void>
