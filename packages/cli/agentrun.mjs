#!/usr/bin/env node
/**
 * The `agentrun` executable: runs the bundled CLI (dist/agentrun.mjs), rebuilding it first when
 * any source file is newer than the bundle, so a checkout never runs stale code.
 */
import { enableCompileCache } from "node:module"
import { readdirSync, statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const packagesDir = fileURLToPath(new URL("..", import.meta.url))
const outfile = fileURLToPath(new URL("./dist/agentrun.mjs", import.meta.url))

const newestSource = (dir) => {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs)
  }
  return newest
}

const builtAt = (() => {
  try {
    return statSync(outfile).mtimeMs
  } catch {
    return -1
  }
})()
const sourcesAt = Math.max(
  newestSource(join(packagesDir, "core", "src")),
  newestSource(join(packagesDir, "cli", "src")),
  statSync(fileURLToPath(new URL("./build.mjs", import.meta.url))).mtimeMs
)
if (builtAt < sourcesAt) await (await import("./build.mjs")).build()
// Before loading the bundle, so that its compiled code is cached on disk across runs (Node >= 22.1).
enableCompileCache?.()
await import(pathToFileURL(outfile).href)
