import { assert, describe, it } from "@effect/vitest"
import * as esbuild from "esbuild"
import { fileURLToPath } from "node:url"
import { buildOptions, kubernetesChunkOptions } from "../build.mjs"

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
  }, 120_000)

  it("requires client-node's chunk, and fails to build when a module imports a client-node value past ClientNode.ts", async () => {
    const result = await esbuild.build({ ...buildOptions, write: false, logLevel: "silent" })
    const bundle = (result.outputFiles ?? []).find((f) => f.path.endsWith("agentrun.cjs"))?.text ?? ""
    assert.include(bundle, 'require("./kubernetes-client.cjs")')
    assert.notInclude(bundle, 'require("@kubernetes/client-node')
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
})
