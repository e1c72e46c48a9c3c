/**
 * Builds the agentrun CLI into one CommonJS file, `packages/cli/dist/agentrun.cjs`, with esbuild,
 * minified (whitespace and syntax, not identifiers: stack traces keep their names): 0.97 MB
 * instead of 1.39, which V8 reads, hashes and deserialises the code cache of at every start.
 *
 * Why: run from TypeScript sources, every start strips types and resolves ~1,200 modules (about
 * 0.3 s and 150 MB before any work); the bundle starts in about 0.05 s and 90 MB. CommonJS, not
 * an ES module, because the launcher (`agentrun.cjs`) compiles it with node:vm to give V8 a code
 * cache, which vm offers for scripts only. The sources stay the truth: the launcher rebuilds
 * whenever a source is newer than the bundle.
 *
 * Usage: `node packages/cli/build.mjs` (also `pnpm build`).
 */
import * as esbuild from "esbuild"
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"

export const entry = fileURLToPath(new URL("./src/bin.ts", import.meta.url))
export const outfile = fileURLToPath(new URL("./dist/agentrun.cjs", import.meta.url))

/**
 * effect 4.1.0's `effect/cli/CliOutput` builds an `Intl.Segmenter` when it loads, to measure help
 * text; loading ICU's break rules takes about 5 ms of every start (measured with --cpu-prof), help
 * or not. Here it is built on first use instead. Should effect change that code, the build
 * warns and bundles the module as it is.
 */
const lazyGraphemeSegmenter = {
  name: "lazy-grapheme-segmenter",
  setup(build) {
    build.onLoad({ filter: /[\\/]effect[\\/]dist[\\/]cli[\\/]CliOutput\.js$/ }, (args) => {
      const source = readFileSync(args.path, "utf8")
      const eager = /const graphemeSegmenter = \/\*#__PURE__\*\/new Intl\.Segmenter\(undefined, \{\s*granularity: "grapheme"\s*\}\);/
      if (!eager.test(source)) {
        return { contents: source, loader: "js", warnings: [{ text: "effect's CliOutput no longer matches: its Intl.Segmenter stays eager" }] }
      }
      const lazy = `let graphemeSegmenterInstance;
const graphemeSegmenter = { segment: (text) => (graphemeSegmenterInstance ??= new Intl.Segmenter(undefined, { granularity: "grapheme" })).segment(text) };`
      return { contents: source.replace(eager, lazy), loader: "js" }
    })
  }
}

/**
 * Node built-ins the CLI needs only now and then: their namespace is a proxy that loads the
 * module on first use. node:crypto (2.2 ms to load) serves temp-file names and bootstrap locks,
 * node:readline (0.5 ms) effect/cli's prompts; both were loaded at every start, on the way to
 * spawning claude. Every use of them is a property access inside a function (checked in the
 * bundle: `Crypto.randomBytes`, `readline.createInterface`...), which the proxy serves.
 * node:fs/promises (with the stream, readline and watcher internals it loads: 0.7 ms) serves the
 * /proc reads and the watchdog, which start once claude runs. node:child_process (with node:net,
 * node:dgram and their internals) serves spawning claude and `ps`/`ss`: a command that manages
 * stored runs (`list`, `inspect`, `logs`) spawns nothing and does not load it (about 6 ms of CPU
 * off `agentrun list`, measured with 40 interleaved starts against the eager bundle).
 */
const deferredBuiltins = new Set(["node:crypto", "node:readline", "node:fs/promises", "node:child_process"])

/**
 * In CommonJS output esbuild turns every `import * as X from "node:fs"` into its own
 * `__toESM(require("node:fs"), 1)`, which copies each of the module's properties into a new
 * object: 41 such copies of 9 built-in modules cost about 2 ms of every start. One namespace per
 * built-in, shared, is what an ES module loader would give anyway ({@link deferredBuiltins} get a
 * loading proxy instead). The bundle is minified (whitespace and syntax), so many statements
 * share a line: each call is replaced by one of the same length (padded with spaces) and the
 * helpers, hoisted function declarations, are appended at the end, so every line and column the
 * source map names stays where it was.
 */
const shareBuiltinNamespaces = (code) => {
  const call = /__toESM\(require\("(node:[a-z_/]+)"\), ?1\)/g
  if (!call.test(code)) return code
  const helpers = [
    "function __ns(id) { const cache = __ns.cache ??= {}; return cache[id] ??= __toESM(require(id), 1) }",
    "function __nsLazy(id) { const load = () => __ns(id); return new Proxy({}, {",
    "get: (_, key) => load()[key], has: (_, key) => key in load(), ownKeys: () => Reflect.ownKeys(load()),",
    "getOwnPropertyDescriptor: (_, key) => { const d = Reflect.getOwnPropertyDescriptor(load(), key); return d && { ...d, configurable: true } } }) }"
  ].join(" ")
  const replaced = code.replace(call, (whole, id) => (deferredBuiltins.has(id) ? `__nsLazy("${id}")` : `__ns("${id}")`).padEnd(whole.length, " "))
  // Before the source map comment, which stays the last line.
  const mapComment = replaced.lastIndexOf("\n//# sourceMappingURL=")
  return mapComment < 0
    ? `${replaced}\n${helpers}\n`
    : `${replaced.slice(0, mapComment)}\n${helpers}${replaced.slice(mapComment)}`
}

/**
 * `@kubernetes/client-node` goes into a chunk of its own, `dist/kubernetes-client.cjs`, which the
 * bundle requires on the first Kubernetes operation only. Bundled into agentrun.cjs it was 17 MB:
 * compiling it took about 160 ms of every start, Kubernetes or not. Required from node_modules, as
 * it was until now, it cost RSS: the package's main entry re-exports every generated API class and
 * model (25 MB of JavaScript in 1,000 files, their source text kept in the heap), and a bare
 * Node 22 that imported it went from 67 to 151–158 MiB of RSS. The chunk is built from
 * packages/core/src/k8s/ClientNode.ts, the one module that imports client-node's values, by name,
 * so esbuild keeps only what those names reach (with client-node's own dependencies): 3.0 MB,
 * minified; its import takes the same bare node to 92 MiB.
 *
 * The CLI's Kubernetes code reaches ClientNode.ts only through a dynamic `import()` of
 * `@agentrun/core/kubernetes` (esbuild turns the modules behind it into lazily initialised ones);
 * the StartupModules and KubernetesLazy tests check that a plain start loads none of it.
 */
export const kubernetesChunkEntry = fileURLToPath(new URL("../core/src/k8s/ClientNode.ts", import.meta.url))
export const kubernetesChunkOutfile = fileURLToPath(new URL("./dist/kubernetes-client.cjs", import.meta.url))

/** How the bundle names the chunk: `require()` relative to the bundle (the launcher gives it a require made for dist/agentrun.cjs). */
const kubernetesChunkRequest = "./kubernetes-client.cjs"

/**
 * Points ClientNode.ts at the chunk, and fails the build when any other module imports a value of
 * client-node (`import type` is erased before resolution): that import would load the whole
 * package from node_modules next to the chunk, with classes of its own (an `instanceof
 * ApiException` across the two would be false).
 */
const kubernetesChunk = {
  name: "kubernetes-client-chunk",
  setup(build) {
    build.onResolve({ filter: /(^|[\\/])ClientNode\.ts$/ }, (args) =>
      args.resolveDir.replaceAll("\\", "/").endsWith("packages/core/src/k8s") ? { path: kubernetesChunkRequest, external: true } : undefined
    )
    build.onResolve({ filter: /^@kubernetes\/client-node(\/|$)/ }, (args) => ({
      errors: [{ text: `${args.importer} imports a value of ${args.path}: import it from packages/core/src/k8s/ClientNode.ts (see kubernetesChunk in build.mjs)` }]
    }))
  }
}

/** What the bundle and the Kubernetes chunk are built with: one CommonJS file each, for Node 22, minified (whitespace and syntax). */
const commonOptions = {
  write: false,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node22",
  sourcemap: "linked",
  logLevel: "warning",
  minifyWhitespace: true,
  minifySyntax: true
}

/**
 * esbuild's options for the chunk: client-node and its dependencies (undici, js-yaml, ws...),
 * minified as the bundle is (identifiers kept: stack traces keep their names).
 */
export const kubernetesChunkOptions = {
  ...commonOptions,
  entryPoints: [kubernetesChunkEntry],
  outfile: kubernetesChunkOutfile
}

/** esbuild's options for the bundle (also used by test/Bundle.test.ts, to inspect what goes in). */
export const buildOptions = {
  ...commonOptions,
  entryPoints: [entry],
  outfile,
  plugins: [lazyGraphemeSegmenter, kubernetesChunk]
}

/**
 * Bundles src/bin.ts and everything it imports (node built-ins stay external), and the Kubernetes
 * chunk. Each output file is written to a temporary name and renamed, so a concurrent agentrun
 * never loads half a bundle; the chunk first, so a bundle the launcher finds up to date never
 * names an older chunk.
 */
export const build = async () => {
  const [chunk, main] = await Promise.all([esbuild.build(kubernetesChunkOptions), esbuild.build(buildOptions)])
  for (const file of [...chunk.outputFiles, ...main.outputFiles]) {
    mkdirSync(dirname(file.path), { recursive: true })
    const temp = `${file.path}.${process.pid}.tmp`
    writeFileSync(temp, file.path === outfile ? shareBuiltinNamespaces(file.text) : file.contents)
    renameSync(temp, file.path)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build()
