import { assert, describe, it } from "@effect/vitest"
import * as esbuild from "esbuild"
import { buildOptions } from "../build.mjs"

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
})
