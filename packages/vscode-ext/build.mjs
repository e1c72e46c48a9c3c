/**
 * Bundles the extension into one CommonJS file, `dist/extension.cjs`, with esbuild: the core
 * (@agentrun/core, effect, @effect/platform-node) bundled in, `vscode` external (the extension
 * host provides it), Node built-ins external. The .vsix then needs no install step.
 *
 * Target node22: the oldest extension host that runs the core is VS Code 1.105's (Electron
 * 37.6, Node 22.19; see README "VS Code extension").
 *
 * Usage: `node build.mjs` (also `pnpm --filter agentrun build`); `node build.mjs --host-tests` also
 * bundles the in-host test suite (see .vscode-test.mjs).
 */
import * as esbuild from "esbuild"
import { fileURLToPath } from "node:url"

export const entry = fileURLToPath(new URL("./src/extension.ts", import.meta.url))
export const outfile = fileURLToPath(new URL("./dist/extension.cjs", import.meta.url))

/** Builds the bundle (and its source map). */
export const build = () =>
  esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node22",
    external: ["vscode"],
    sourcemap: "linked",
    logLevel: "warning"
  })

/** The in-host test suite (test/host), bundled for `@vscode/test-cli` (.vscode-test.mjs): `vscode` external, as in the extension. */
export const hostTestsOutfile = fileURLToPath(new URL("./out/host/extension.host.test.cjs", import.meta.url))
export const buildHostTests = () =>
  esbuild.build({
    entryPoints: [fileURLToPath(new URL("./test/host/extension.host.ts", import.meta.url))],
    outfile: hostTestsOutfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node22",
    external: ["vscode"],
    sourcemap: "inline",
    logLevel: "warning"
  })

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await build()
  if (process.argv.includes("--host-tests")) await buildHostTests()
}
