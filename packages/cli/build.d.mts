import type { BuildOptions } from "esbuild"

/** Types of build.mjs (plain JS, run by node without a build step). */
export declare const entry: string
export declare const outfile: string
export declare const buildOptions: BuildOptions & { readonly write: false }
export declare const kubernetesChunkEntry: string
export declare const kubernetesChunkOutfile: string
export declare const kubernetesChunkOptions: BuildOptions & { readonly write: false }
export declare const build: () => Promise<void>
