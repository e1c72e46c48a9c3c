import { assert, describe, it } from "@effect/vitest"
import * as esbuild from "esbuild"
import { fileURLToPath } from "node:url"
import ts from "typescript"
import { buildOptions, buildOutputs, kubernetesChunkOptions, namesTakenFromBundle } from "../build.mjs"

/**
 * The core's test doubles (`@agentrun/core/testing`) must not reach users: the CLI bundle is built
 * here as build.mjs builds it, and esbuild's metafile lists every module that went in.
 */
const testDoubleModules = [
  "packages/core/src/testing.ts",
  "packages/core/src/procfs/InMemoryProcessTable.ts",
  "packages/core/src/process/AgentProcessTest.ts",
  "packages/core/src/store/MemoryRunStore.ts",
  "packages/core/src/bootstrap/BootstrapTest.ts"
]

/** Service keys of the doubles: a copy of their code under another file name would still carry them. */
const testDoubleMarkers = ["agentrun/ProcessTableTest", "agentrun/testing/MemoryRunStore", "BootstrapTest.layer: doctor is not scripted"]

/** build.mjs's three outputs, built once for the tests that read them. */
let outputs: ReturnType<typeof buildOutputs> | undefined
const outputText = async (name: string): Promise<string> => {
  const file = (await (outputs ??= buildOutputs())).find((f) => f.path.endsWith(`dist/${name}`))
  if (file === undefined) throw new Error(`build.mjs gave no dist/${name}`)
  return typeof file.contents === "string" ? file.contents : new TextDecoder().decode(file.contents)
}

describe("CLI bundle", () => {
  it("holds no test double", async () => {
    const result = await esbuild.build({ ...buildOptions, write: false, metafile: true, logLevel: "silent" })
    if (result.metafile === undefined || result.outputFiles === undefined) throw new Error("esbuild gave no metafile or output")
    const inputs = Object.keys(result.metafile.inputs)
    assert.isTrue(inputs.some((i) => i.endsWith("packages/core/src/procfs/ProcessControl.ts")), "the metafile lists the core's modules")
    for (const module of testDoubleModules) {
      assert.isFalse(inputs.some((i) => i.endsWith(module)), `${module} is in the CLI bundle`)
    }
    const bundle = result.outputFiles.find((f) => f.path.endsWith("agentrun.cjs"))?.text ?? ""
    assert.isAbove(bundle.length, 100_000)
    for (const marker of testDoubleMarkers) assert.notInclude(bundle, marker)
    const chunk = await outputText("kubernetes.cjs")
    for (const marker of testDoubleMarkers) assert.notInclude(chunk, marker)
  }, 120_000)

  it("requires client-node's chunk, and fails to build when a module imports a client-node value past ClientNode.ts", async () => {
    // The Kubernetes chunk requires it; the bundle, which loads that chunk, does not.
    assert.include(await outputText("kubernetes.cjs"), 'require("./kubernetes-client.cjs")')
    for (const name of ["agentrun.cjs", "kubernetes.cjs"]) assert.notInclude(await outputText(name), 'require("@kubernetes/client-node')
    assert.notInclude(await outputText("agentrun.cjs"), "kubernetes-client.cjs")
    const stray = esbuild.build({
      ...buildOptions,
      entryPoints: [],
      stdin: { contents: 'import { KubeConfig } from "@kubernetes/client-node"\nconsole.log(new KubeConfig())\n', resolveDir: fileURLToPath(new URL("../src", import.meta.url)), loader: "ts" },
      logLevel: "silent"
    })
    const error = await stray.then(() => null, (e: unknown) => e)
    assert.instanceOf(error, Error)
    assert.include((error as Error).message, "import it from packages/core/src/k8s/ClientNode.ts")
  }, 120_000)

  it("keeps of client-node's generated API classes only those ClientNode.ts names", async () => {
    const result = await esbuild.build({ ...kubernetesChunkOptions, write: false, logLevel: "silent" })
    const chunk = (result.outputFiles ?? []).find((f) => f.path.endsWith("kubernetes-client.cjs"))?.text ?? ""
    // esbuild writes each kept class as `var Name=class ...`.
    for (const kept of ["CoreV1ApiRequestFactory", "BatchV1ApiRequestFactory", "CoordinationV1ApiRequestFactory", "AuthorizationV1ApiRequestFactory", "VersionApiRequestFactory", "KubeConfig"]) {
      assert.include(chunk, `var ${kept}=class`)
    }
    for (const dropped of ["AppsV1ApiRequestFactory", "NetworkingV1ApiRequestFactory", "PromiseCoreV1Api", "ObservableAppsV1Api"]) assert.notInclude(chunk, dropped)
    // Every model stays (ObjectSerializer's type map names them all): 3.0 MB when this was written, the package's JavaScript 25 MB.
    assert.isBelow(chunk.length, 4_000_000)
  }, 120_000)

  it("keeps the CLI's Kubernetes code in dist/kubernetes.cjs, which takes its shared modules from the bundle", async () => {
    const bundle = await outputText("agentrun.cjs")
    const chunk = await outputText("kubernetes.cjs")
    // The backend's own code (KubernetesBackend.ts's service key) is in the chunk only, and the
    // bundle loads it with a require: an import() would leave it in the bundle, behind lazily
    // initialised modules (esbuild's __esm), which every start pays for.
    const backendOnly = "agentrun/KubernetesBackend"
    assert.include(chunk, backendOnly)
    assert.notInclude(bundle, backendOnly)
    assert.include(bundle, 'require("./kubernetes.cjs")')
    assert.notInclude(bundle, "__esm(")
    // The chunk has no copy of effect or of the core's shared modules: it asks the bundle's table.
    assert.include(chunk, '__host("effect/dist/Effect.js")')
    assert.include(chunk, '__host("packages/core/src/domain/Failures.ts")')
    assert.notInclude(chunk, "agentrun-host:")
    assert.include(bundle, "agentrun.kubernetesChunkHost")
    assert.isBelow(chunk.length, 200_000)
  }, 120_000)

  it("refuses a static import of KubernetesCluster.ts, which would put the chunk's code back in the bundle", async () => {
    const stray = esbuild.build({
      ...buildOptions,
      entryPoints: [],
      stdin: { contents: 'import { loadKubernetes } from "./KubernetesCluster.ts"\nconsole.log(loadKubernetes)\n', resolveDir: fileURLToPath(new URL("../src", import.meta.url)), loader: "ts" },
      logLevel: "silent"
    })
    const error = await stray.then(() => null, (e: unknown) => e)
    assert.instanceOf(error, Error)
    assert.include((error as Error).message, "imports KubernetesCluster.ts statically")
  }, 120_000)

  it("names what the chunk takes from each bundle module, and refuses a module used as a value", () => {
    const code = [
      'var Effect=__toESM(require("agentrun-host:effect/dist/Effect.js"),1),import_core=require("agentrun-host:packages/core/src/index.ts");',
      'require("agentrun-host:packages/cli/src/Side.ts");',
      'var x=Effect.gen(function*(){yield*Effect.sleep(1)}),y=new import_core.RunStore,z={Effect:1},s="Effect.map";'
    ].join("\n")
    const names = namesTakenFromBundle(ts, code)
    assert.deepStrictEqual(Object.fromEntries([...names].map(([key, taken]) => [key, [...taken].sort()])), {
      "effect/dist/Effect.js": ["gen", "sleep"],
      "packages/core/src/index.ts": ["RunStore"],
      "packages/cli/src/Side.ts": []
    })
    assert.throws(() => namesTakenFromBundle(ts, `${code}\nObject.keys(Effect);`), /uses Effect \(effect\/dist\/Effect\.js\) as a value, line 4/)
  })
})
