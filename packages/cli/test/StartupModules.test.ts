import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const launcher = fileURLToPath(new URL("../agentrun.cjs", import.meta.url))
const preload = fileURLToPath(new URL("./startup-modules.cjs", import.meta.url))

/** The Node built-ins a start of `agentrun ARGS` loaded (the bundle is built by `pnpm test` first). */
const builtinsLoadedBy = (args: ReadonlyArray<string>): ReadonlyArray<string> => {
  const r = spawnSync(process.execPath, ["-r", preload, launcher, ...args], { encoding: "utf8" })
  const match = /loaded-builtins (.*)/.exec(r.stderr)
  assert.isNotNull(match, r.stderr)
  return JSON.parse(match![1]!) as Array<string>
}

describe("start-up", () => {
  it("leaves node:crypto, node:v8 and node:fs/promises unloaded until something uses them", () => {
    builtinsLoadedBy(["--version"]) // rebuilds the bundle first if a source is newer (the build loads more)
    const loaded = builtinsLoadedBy(["--version"])
    assert.include(loaded, "child_process", "the probe sees the bundle's own built-ins")
    assert.notInclude(loaded, "crypto")
    assert.notInclude(loaded, "v8")
    assert.notInclude(loaded, "fs/promises")
  })
})
