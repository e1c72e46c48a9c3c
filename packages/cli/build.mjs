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
import { dirname, relative, resolve } from "node:path"
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

/**
 * The CLI's Kubernetes code goes into a second chunk, `dist/kubernetes.cjs`: src/KubernetesCluster.ts
 * (which src/KubernetesFlags.ts imports with `import()`) and what only it reaches, the core's
 * Kubernetes backend behind `@agentrun/core/kubernetes` (84 KB). In the bundle, behind that
 * `import()`, it cost about 3 ms of every start, Kubernetes or not (`list` on an empty store,
 * 60 interleaved starts against a bundle without it): V8's code cache of the bundle held its
 * functions (1.05 MB instead of 0.93), and esbuild made the 277 modules it shares with the rest
 * of the CLI lazily initialised ones, each start calling their initialisers.
 *
 * The chunk has no copies of the modules it shares with the bundle (effect, the core's domain and
 * services): it takes the bundle's, so there is one effect runtime, one class per failure and one
 * key per service. Each of its imports of a bundle module becomes `__host("effect/dist/Effect.js")`,
 * served by a table of exactly the names the chunk uses, which the bundle registers as it loads
 * (src/KubernetesHost.ts, whose empty source is replaced by the table). Three esbuild passes: the
 * bundle's module graph, the chunk (importing that graph's modules), the bundle with the table.
 */
export const kubernetesEntry = fileURLToPath(new URL("./src/KubernetesCluster.ts", import.meta.url))
export const kubernetesOutfile = fileURLToPath(new URL("./dist/kubernetes.cjs", import.meta.url))
const kubernetesHostModule = /[\\/]packages[\\/]cli[\\/]src[\\/]KubernetesHost\.ts$/
/** The global symbol (Symbol.for) under which the bundle registers the table's builder. */
const kubernetesHostSymbol = "agentrun.kubernetesChunkHost"
const hostPrefix = "agentrun-host:"
const workspaceRoot = fileURLToPath(new URL("../..", import.meta.url))

/** A bundle module's name in the table: its path in the workspace, or in its package for a dependency (`effect/dist/Effect.js`). */
const hostKeyOf = (path) => relative(workspaceRoot, path).replaceAll("\\", "/").replace(/^.*node_modules\//, "")

/**
 * The bundle's side: the `import()` of KubernetesCluster.ts loads the chunk (a `require` of it:
 * the bundle runs as a script, where `import()` has no loader), and, given the chunk's table
 * module, KubernetesHost.ts is that module. A static import of KubernetesCluster.ts would put the
 * chunk's code back in the bundle: the build fails.
 */
const kubernetesSplit = (hostTable) => ({
  name: "kubernetes-split",
  setup(build) {
    build.onResolve({ filter: /[\\/]KubernetesCluster\.ts$/ }, (args) =>
      args.kind === "dynamic-import"
        ? { path: "./kubernetes.cjs", external: true }
        : { errors: [{ text: `${args.importer} imports KubernetesCluster.ts statically: only import() keeps it in dist/kubernetes.cjs (see kubernetesSplit in build.mjs)` }] }
    )
    if (hostTable !== undefined) build.onLoad({ filter: kubernetesHostModule }, () => ({ contents: hostTable, loader: "js" }))
  }
})

/** The chunk's side: an import that resolves to a module of the bundle (`bundleModules`, absolute paths) becomes an external `agentrun-host:KEY`. */
const importsFromBundle = (bundleModules) => {
  const inner = Symbol("resolving")
  return {
    name: "imports-from-bundle",
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === inner || args.kind === "entry-point") return undefined
        const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: inner })
        if (resolved.errors.length > 0 || resolved.external || !bundleModules.has(resolved.path)) return undefined
        return { path: `${hostPrefix}${hostKeyOf(resolved.path)}`, external: true }
      })
    }
  }
}

/**
 * What the chunk's code (esbuild's CommonJS output, parsed with `ts`, TypeScript's module) takes
 * from each bundle module: `var Effect = __toESM(require("agentrun-host:effect/dist/Effect.js"), 1)`
 * then `Effect.gen`, `Effect.map`... A Map from the module's key to the names. Fails when a
 * module's binding is used other than by naming one of its exports (`Object.keys(Effect)`): the
 * table holds names only, to keep esbuild's tree shaking of the bundle.
 */
export const namesTakenFromBundle = (ts, code) => {
  const source = ts.createSourceFile("kubernetes.cjs", code, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS)
  const hostKeyOfCall = (node) => {
    if (node === undefined || !ts.isCallExpression(node) || !ts.isIdentifier(node.expression)) return undefined
    if (node.expression.text === "__toESM") return hostKeyOfCall(node.arguments[0])
    const [specifier] = node.arguments
    return node.expression.text === "require" && specifier !== undefined && ts.isStringLiteral(specifier) && specifier.text.startsWith(hostPrefix)
      ? specifier.text.slice(hostPrefix.length)
      : undefined
  }
  const names = new Map()
  const bindings = new Map()
  const collect = (node) => {
    const key = hostKeyOfCall(node)
    if (key !== undefined && !names.has(key)) names.set(key, new Set())
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name)) {
      const bound = hostKeyOfCall(node.initializer)
      if (bound !== undefined) {
        if (bindings.has(node.name.text) && bindings.get(node.name.text) !== bound) throw new Error(`dist/kubernetes.cjs binds ${node.name.text} to two bundle modules`)
        bindings.set(node.name.text, bound)
      }
    }
    ts.forEachChild(node, collect)
  }
  collect(source)
  const uses = (node) => {
    if (ts.isIdentifier(node) && bindings.has(node.text)) {
      const parent = node.parent
      if (ts.isPropertyAccessExpression(parent) && parent.expression === node) names.get(bindings.get(node.text)).add(parent.name.text)
      // A declaration's or a property's name (`{ Effect: 1 }`, `x.Effect`) is not a use; `{ Effect }` is.
      else if (!(parent.name === node && !ts.isShorthandPropertyAssignment(parent)) && parent.propertyName !== node) {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart())
        throw new Error(`dist/kubernetes.cjs uses ${node.text} (${bindings.get(node.text)}) as a value, line ${line + 1}: name its exports instead (see namesTakenFromBundle in build.mjs)`)
      }
    }
    ts.forEachChild(node, uses)
  }
  uses(source)
  return names
}

/** KubernetesHost.ts in the bundle: imports of the names the chunk takes, and the registration of a function that builds their table. */
const hostTableModule = (names, pathOfKey) => {
  const imports = []
  const entries = []
  let local = 0
  for (const [key, taken] of names) {
    const path = JSON.stringify(pathOfKey.get(key))
    const locals = [...taken].sort().map((name) => [name, `$${local++}`])
    imports.push(locals.length === 0 ? `import ${path}` : `import { ${locals.map(([name, as]) => `${name} as ${as}`).join(", ")} } from ${path}`)
    entries.push(`${JSON.stringify(key)}: { ${locals.map(([name, as]) => `${JSON.stringify(name)}: ${as}`).join(", ")} }`)
  }
  return `${imports.join("\n")}\nglobalThis[Symbol.for(${JSON.stringify(kubernetesHostSymbol)})] = () => ({\n${entries.join(",\n")}\n})\n`
}

/**
 * The chunk's imports of bundle modules, `require("agentrun-host:KEY")`, become `__host("KEY")`,
 * padded to the same length (the source map's columns stay right), and `__host` is appended.
 */
const linkToBundle = (code) => {
  const helper = `function __host(key) { const table = __host.table ??= globalThis[Symbol.for(${JSON.stringify(kubernetesHostSymbol)})]?.(); if (table === undefined) throw new Error("dist/kubernetes.cjs is loaded by dist/agentrun.cjs only: its modules come from there"); return table[key] }`
  const linked = code.replace(/require\("agentrun-host:([^"]+)"\)/g, (whole, key) => `__host(${JSON.stringify(key)})`.padEnd(whole.length, " "))
  const mapComment = linked.lastIndexOf("\n//# sourceMappingURL=")
  return mapComment < 0 ? `${linked}\n${helper}\n` : `${linked.slice(0, mapComment)}\n${helper}${linked.slice(mapComment)}`
}

/**
 * esbuild's options for the bundle, given the chunk's table module (KubernetesHost.ts; without it
 * the module stays empty, as src/KubernetesHost.ts is: test/Bundle.test.ts inspects what goes in).
 */
export const bundleOptions = (hostTable) => ({
  ...commonOptions,
  entryPoints: [entry],
  outfile,
  // The one import() left, the chunk's, becomes a require (see kubernetesSplit).
  supported: { "dynamic-import": false },
  plugins: [lazyGraphemeSegmenter, kubernetesChunk, kubernetesSplit(hostTable)]
})

/** esbuild's options for the bundle without the chunk's table. */
export const buildOptions = bundleOptions(undefined)

/**
 * Builds the three outputs, in memory: client-node's chunk, the Kubernetes chunk and the bundle
 * (see {@link kubernetesEntry} for the passes). Fails as esbuild does, or when the chunk uses a
 * bundle module other than by its exports' names.
 */
export const buildOutputs = async () => {
  // client-node's chunk takes longest (about 1.3 s): the three passes run meanwhile.
  const clientNodeBuilt = esbuild.build(kubernetesChunkOptions)
  // TypeScript's parser, for namesTakenFromBundle: it takes about 0.6 s to load.
  const typescriptLoaded = import("typescript").then((module) => module.default)
  const graph = await esbuild.build({ ...buildOptions, sourcemap: false, metafile: true, absWorkingDir: workspaceRoot })
  const bundleModules = new Set(Object.keys(graph.metafile.inputs).map((input) => resolve(workspaceRoot, input)))
  const pathOfKey = new Map([...bundleModules].map((path) => [hostKeyOf(path), path]))
  const chunk = await esbuild.build({
    ...commonOptions,
    entryPoints: [kubernetesEntry],
    outfile: kubernetesOutfile,
    plugins: [importsFromBundle(bundleModules), kubernetesChunk]
  })
  const chunkCode = chunk.outputFiles.find((file) => file.path === kubernetesOutfile)
  const bundle = await esbuild.build(bundleOptions(hostTableModule(namesTakenFromBundle(await typescriptLoaded, chunkCode.text), pathOfKey)))
  const clientNode = await clientNodeBuilt
  return [
    ...clientNode.outputFiles.map((file) => ({ path: file.path, contents: file.contents })),
    ...chunk.outputFiles.map((file) => ({ path: file.path, contents: file === chunkCode ? linkToBundle(file.text) : file.contents })),
    ...bundle.outputFiles.map((file) => ({ path: file.path, contents: file.path === outfile ? shareBuiltinNamespaces(file.text) : file.contents }))
  ]
}

/**
 * Bundles src/bin.ts and everything it imports (node built-ins stay external), and the two
 * chunks. Each output file is written to a temporary name and renamed, so a concurrent agentrun
 * never loads half a bundle; the chunks first, so a bundle the launcher finds up to date never
 * names an older chunk.
 */
export const build = async () => {
  for (const file of await buildOutputs()) {
    mkdirSync(dirname(file.path), { recursive: true })
    const temp = `${file.path}.${process.pid}.tmp`
    writeFileSync(temp, file.contents)
    renameSync(temp, file.path)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build()
