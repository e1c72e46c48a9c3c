import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const launcher = fileURLToPath(new URL("../agentrun.cjs", import.meta.url))
const preload = fileURLToPath(new URL("./startup-modules.cjs", import.meta.url))

/** The Node built-ins a start of `agentrun ARGS` loaded (the bundle is built by `pnpm test` first). */
const builtinsLoadedBy = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): ReadonlyArray<string> => {
  const r = spawnSync(process.execPath, ["-r", preload, launcher, ...args], { encoding: "utf8", env })
  const match = /loaded-builtins (.*)/.exec(r.stderr)
  assert.isNotNull(match, r.stderr)
  return JSON.parse(match![1]!) as Array<string>
}

describe("start-up", () => {
  it("leaves node:crypto, node:v8, node:fs/promises and node:child_process unloaded until something uses them", () => {
    builtinsLoadedBy(["--version"]) // rebuilds the bundle first if a source is newer (the build loads more)
    const loaded = builtinsLoadedBy(["--version"])
    assert.include(loaded, "os", "the probe sees the bundle's own built-ins")
    assert.notInclude(loaded, "crypto")
    assert.notInclude(loaded, "v8")
    assert.notInclude(loaded, "fs/promises")
    assert.notInclude(loaded, "child_process")
  })

  it("lists runs with synchronous reads and spawns nothing: `list` loads neither node:fs/promises nor node:child_process", () => {
    const home = mkdtempSync(join(tmpdir(), "agentrun-startup-"))
    try {
      const env = { ...process.env, HOME: home, XDG_STATE_HOME: join(home, "state"), XDG_DATA_HOME: join(home, "data"), XDG_CONFIG_HOME: join(home, "config") }
      const loaded = builtinsLoadedBy(["list"], env)
      assert.include(loaded, "os")
      assert.notInclude(loaded, "fs/promises")
      assert.notInclude(loaded, "child_process")
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })
})
