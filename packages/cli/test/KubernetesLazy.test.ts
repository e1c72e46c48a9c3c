import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const launcher = fileURLToPath(new URL("../agentrun.cjs", import.meta.url))
const probe = fileURLToPath(new URL("./client-node-probe.cjs", import.meta.url))
const home = mkdtempSync(join(tmpdir(), "agentrun-lazy-"))

/**
 * How many @kubernetes/client-node files a start of `agentrun ARGS` loaded: `all`, the CLI's
 * chunk of it included; `fromPackage`, those of the package in node_modules.
 */
const clientNodeFilesLoadedBy = (args: ReadonlyArray<string>): { readonly all: number; readonly fromPackage: number } => {
  const env = { PATH: process.env["PATH"] ?? "", HOME: home, XDG_STATE_HOME: join(home, "state"), XDG_CONFIG_HOME: join(home, "config") }
  const r = spawnSync(process.execPath, ["-r", probe, launcher, ...args], { encoding: "utf8", env })
  const all = /client-node-files (\d+)/.exec(r.stderr)
  const fromPackage = /client-node-package-files (\d+)/.exec(r.stderr)
  assert.isNotNull(all, r.stderr)
  assert.isNotNull(fromPackage, r.stderr)
  return { all: Number(all![1]), fromPackage: Number(fromPackage![1]) }
}

describe("@kubernetes/client-node is loaded on first Kubernetes use only", () => {
  it("a local command loads none of it; a Kubernetes one does (so the probe sees it)", () => {
    clientNodeFilesLoadedBy(["--version"]) // rebuilds the bundle first if a source is newer
    assert.strictEqual(clientNodeFilesLoadedBy(["list"]).all, 0)
    assert.isAbove(clientNodeFilesLoadedBy(["run", "--backend", "k8s", "--dry-run", "-n", "x", "--image", "x", "hi"]).all, 0)
  })

  it("a Kubernetes command loads the bundled chunk (2 MB), not the package's 25 MB of modules", () => {
    assert.deepStrictEqual(clientNodeFilesLoadedBy(["run", "--backend", "k8s", "--dry-run", "-n", "x", "--image", "x", "hi"]), { all: 1, fromPackage: 0 })
  })
})
