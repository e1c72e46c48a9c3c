#!/usr/bin/env node
/**
 * The `agentrun` executable: runs the bundled CLI (dist/agentrun.cjs, built by build.mjs),
 * rebuilding it first when any source file is newer, so a checkout never runs stale code.
 *
 * Start-up is most of a short run's overhead, so this file is CommonJS (Node starts a CommonJS
 * entry a few ms sooner than an ES module) and it compiles the bundle with node:vm, giving V8 a
 * code cache of the functions the previous start of the same command compiled: Node's own
 * compile cache (module.enableCompileCache) keeps only what is compiled while a module loads,
 * so every start compiled the rest again. Measured on `agentrun run` (pnpm bench, wall time):
 * about 15 ms less before claude is spawned.
 *
 * The cache lives in dist/code-cache/, one file per command and bundle build (V8 checks a
 * cache's source only by length: the file name carries the bundle's size and mtime). It is
 * written when a start found none (or V8 rejected it) and the command then exited 0, never when
 * the directory is not writable. AGENTRUN_DEBUG_STARTUP=1 reports on stderr which cache was used.
 */
"use strict"
const NodeBuffer = require("node:buffer")
const NodeFs = require("node:fs")
const NodeModule = require("node:module")
const NodePath = require("node:path")
const NodeVm = require("node:vm")

const bundle = NodePath.join(__dirname, "dist", "agentrun.cjs")
const cacheDir = NodePath.join(__dirname, "dist", "code-cache")
const debug = process.env.AGENTRUN_DEBUG_STARTUP === "1"

/**
 * V8 flags the CLI changes while it runs (src/HeapTuning.ts registers here what to set them back
 * to): V8 rejects a code cache made under other flags than those of the start that reads it.
 */
const flagsToRestore = []
globalThis[Symbol.for("agentrun.v8FlagsToRestoreBeforeCodeCache")] = flagsToRestore

// Plain concatenation, not path.join: normalising ~100 paths cost 2 ms of every start.
const newestSource = (dir) => {
  let newest = 0
  for (const entry of NodeFs.readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : NodeFs.statSync(path).mtimeMs)
  }
  return newest
}

const statOf = (path) => {
  try {
    return NodeFs.statSync(path)
  } catch {
    return null
  }
}

/**
 * The bundle's stat, or null when it must be (re)built: it is missing or older than a source,
 * the build script, a package.json (the version is bundled) or the lockfile (so are the
 * dependencies).
 */
const builtBundle = () => {
  const built = statOf(bundle)
  const packagesDir = NodePath.dirname(__dirname)
  const inputs = [NodePath.join(__dirname, "build.mjs"), `${packagesDir}/core/package.json`, `${__dirname}/package.json`, `${NodePath.dirname(packagesDir)}/pnpm-lock.yaml`]
  const sourcesAt = Math.max(
    newestSource(`${packagesDir}/core/src`),
    newestSource(`${packagesDir}/cli/src`),
    ...inputs.map((path) => statOf(path)?.mtimeMs ?? 0)
  )
  return built === null || built.mtimeMs < sourcesAt ? null : built
}

/** Flags that make a start print something and stop: its compiled code says nothing of the command's. */
const informational = new Set(["-h", "--help", "-v", "--version", "--completions", "--wizard"])
/** Global flags that take a value (which is not the command's name). */
const withValue = new Set(["--log-level", "--completions"])

/**
 * The command's name (the first argument that is neither a flag nor a flag's value), to key its
 * code cache; null for an informational start, which gets no cache.
 */
const commandKey = () => {
  // Arguments after `--` are claude's (`run x -- --help` is not a help start).
  const all = process.argv.slice(2)
  const args = all.includes("--") ? all.slice(0, all.indexOf("--")) : all
  if (args.some((a) => informational.has(a))) return null
  const at = args.findIndex((a, i) => !a.startsWith("-") && !withValue.has(args[i - 1] ?? ""))
  const first = args[at]
  return first !== undefined && /^[a-z][a-z-]{0,30}$/.test(first) ? first : "none"
}

/**
 * V8 heap flags for a process that follows a Kubernetes Pod's log: src/HeapTuning.ts's
 * `followingHeapFlags` (young generation held at its size, the old one grown by half between full
 * collections), and V8's defaults to set back before a code cache is saved (its
 * `defaultHeapFlags`). HeapTuning.test.ts checks that both lists stay the same as there.
 */
const followingHeapFlags = ["--semi-space-growth-factor=1", "--heap-growing-percent=50"]
const defaultHeapFlags = ["--semi-space-growth-factor=2", "--heap-growing-percent=0"]

/**
 * Whether this start follows a Pod's log: `attach` (Kubernetes runs only) or a `run` given
 * `--backend k8s` on its command line. Such a start gets {@link followingHeapFlags} before the
 * bundle runs, not at the run's `Started` as a local run does: loading the bundle and client-node
 * and building the backend's layers grew the young generation (V8's new space) from 1 to 16 MiB,
 * which V8 does not give back; tuned here it stays at 2 MiB (measured with the k8s-rss bench's fake cluster: 1 GiB
 * followed, 154.9 MB peak RSS tuned where the CLI starts the run, before client-node loads; 137.9
 * MB tuned here; 179.8 MB tuned at the run's `Started`).
 * The price, Node's code cache for the built-ins the bundle then loads (V8 checks the flags), is
 * about 10 ms (measured for --no-flush-bytecode, below), beside client-node's 200. A k8s run whose backend comes from the config file or a
 * stored request (rerun, `run -d`'s supervisor) is tuned later, before client-node loads.
 */
const followsAPod = (command) => {
  if (command === "attach") return true
  if (command !== "run") return false
  const all = process.argv.slice(2)
  const args = all.includes("--") ? all.slice(0, all.indexOf("--")) : all
  return args.some((a, i) => a === "--backend=k8s" || (a === "--backend" && args[i + 1] === "k8s"))
}

const run = (stat) => {
  const key = `${stat.size}-${Math.floor(stat.mtimeMs)}`
  const command = commandKey()
  const cacheFile = command === null ? null : NodePath.join(cacheDir, `${command}.${key}.v8cache`)
  let cachedData
  try {
    cachedData = cacheFile === null ? undefined : NodeFs.readFileSync(cacheFile)
  } catch {
    cachedData = undefined
  }
  // esbuild writes ASCII (non-ASCII characters escaped): decoded as latin1 it is the same text,
  // without UTF-8 decoding a megabyte (about 1 ms). Anything else is decoded as UTF-8.
  const bytes = NodeFs.readFileSync(bundle)
  const source = bytes.toString(NodeBuffer.isAscii(bytes) ? "latin1" : "utf8")
  const script = new NodeVm.Script(NodeModule.wrap(source), { filename: bundle, cachedData })
  if (debug && cacheFile !== null) {
    const state = cachedData === undefined ? "absent" : script.cachedDataRejected ? "rejected" : "accepted"
    process.stderr.write(`agentrun: code cache ${cacheFile}: ${state}\n`)
  }
  const saveAtExit = cacheFile !== null && (cachedData === undefined || script.cachedDataRejected === true)
  if (saveAtExit) {
    // Only a command that went all the way (exit 0) has compiled what its next start needs: a
    // usage error or an early failure would leave a cache of the error path, accepted ever after.
    process.once("exit", (code) => {
      if (code === 0) saveCodeCache(script, cacheFile, key)
    })
  }
  // After the compile: V8 accepts a code cache only under the flags it was made with.
  if (followsAPod(command)) {
    const v8 = process.getBuiltinModule("node:v8")
    for (const flag of followingHeapFlags) v8.setFlagsFromString(flag)
    flagsToRestore.push(...defaultHeapFlags)
  }
  const module = { exports: {} }
  script.runInThisContext().call(module.exports, module.exports, NodeModule.createRequire(bundle), module, bundle, NodePath.dirname(bundle))
  if (!saveAtExit) return
  // V8 drops the bytecode of functions unused for a while (bytecode flushing, at major GCs): a
  // long `run` (following 1 GiB took 9 s) then saved a cache without most start-up code, and every
  // later start compiled it again (+23 ms, measured). A start that saves the cache keeps it all.
  // Not before the bundle is loaded: a flag changed before Node loads its built-in modules (the
  // bundle requires them as it loads) makes Node's own code cache for them unusable (+10 ms).
  // node:v8 takes 1.3 ms to load: that waits until the command is under way (no major GC, so no
  // flushing, happens that soon).
  setTimeout(() => {
    process.getBuiltinModule("node:v8").setFlagsFromString("--no-flush-bytecode")
    flagsToRestore.push("--flush-bytecode")
  }, 100).unref()
}

/** Writes the code cache (atomically) and removes the caches of older builds. Never throws. */
const saveCodeCache = (script, cacheFile, key) => {
  try {
    for (const flag of flagsToRestore) process.getBuiltinModule("node:v8").setFlagsFromString(flag)
    const data = script.createCachedData()
    NodeFs.mkdirSync(cacheDir, { recursive: true })
    for (const name of NodeFs.readdirSync(cacheDir)) {
      if (!name.includes(`.${key}.`)) NodeFs.rmSync(NodePath.join(cacheDir, name), { force: true })
    }
    const temp = `${cacheFile}.${process.pid}.tmp`
    NodeFs.writeFileSync(temp, data)
    NodeFs.renameSync(temp, cacheFile)
  } catch (cause) {
    if (debug) process.stderr.write(`agentrun: code cache not saved: ${cause}\n`)
  }
}

const fresh = builtBundle()
if (fresh === null) {
  import("./build.mjs").then((m) => m.build()).then(() => run(NodeFs.statSync(bundle)), (cause) => {
    process.stderr.write(`agentrun: cannot build the CLI bundle: ${cause?.stack ?? cause}\n`)
    process.exit(3)
  })
} else {
  run(fresh)
}
