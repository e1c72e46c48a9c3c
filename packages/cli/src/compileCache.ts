/**
 * Turns on Node's on-disk compile cache (node:module `enableCompileCache`, Node >= 22.1) before
 * the rest of agentrun is imported: most of a short command's time is loading and compiling
 * modules. Imported first by bin.ts, for its side effect only.
 *
 * @module
 */
import * as NodeModule from "node:module"

NodeModule.enableCompileCache?.()
