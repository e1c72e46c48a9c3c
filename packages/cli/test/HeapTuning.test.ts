import { assert, describe, it } from "@effect/vitest"
import { execFileSync, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { defaultHeapFlags, followingHeapFlags } from "../src/HeapTuning.ts"

const child = fileURLToPath(new URL("./heap-child.ts", import.meta.url))
const youngGeneration = (mode: "default" | "tuned") =>
  JSON.parse(
    execFileSync(process.execPath, ["--disable-warning=ExperimentalWarning", child, mode], { encoding: "utf8" })
  ) as { readonly start: number; readonly largest: number }

describe("tuneHeapForFollowing", () => {
  it("takes effect at run time: the young generation no longer grows under a follow's allocations", () => {
    const untuned = youngGeneration("default")
    const tuned = youngGeneration("tuned")
    // Without the flags V8 doubles the semi-spaces under this load (the control)...
    assert.isAbove(untuned.largest, untuned.start)
    // ...with them, set after start-up as `run` does, they keep their size.
    assert.strictEqual(tuned.largest, tuned.start)
  })
})

const launcher = fileURLToPath(new URL("../agentrun.cjs", import.meta.url))
const newSpaceProbe = fileURLToPath(new URL("./new-space-probe.cjs", import.meta.url))
const home = mkdtempSync(join(tmpdir(), "agentrun-heap-"))

/** The young generation's size (bytes) when a start of `agentrun ARGS` began and at its largest. */
const newSpaceOf = (args: ReadonlyArray<string>): { readonly start: number; readonly largest: number } => {
  const env = { PATH: process.env["PATH"] ?? "", HOME: home, XDG_STATE_HOME: join(home, "state"), XDG_CONFIG_HOME: join(home, "config") }
  const r = spawnSync(process.execPath, ["-r", newSpaceProbe, launcher, ...args], { encoding: "utf8", env })
  const match = /new-space (.*)/.exec(r.stderr)
  assert.isNotNull(match, r.stderr)
  return JSON.parse(match![1]!) as { start: number; largest: number }
}

describe("the launcher's tuning of a start that follows a Pod", () => {
  it("sets HeapTuning.ts's flags (and restores its defaults before a code cache is saved)", () => {
    const source = readFileSync(launcher, "utf8")
    const list = (name: string) => JSON.parse(new RegExp(`const ${name} = (\\[.*\\])`).exec(source)?.[1] ?? "null") as unknown
    assert.deepStrictEqual(list("followingHeapFlags"), followingHeapFlags)
    assert.deepStrictEqual(list("defaultHeapFlags"), defaultHeapFlags)
  })

  it("keeps the young generation small while a `run --backend k8s` loads client-node; untuned starts grow it", () => {
    newSpaceOf(["--version"]) // rebuilds the bundle first if a source is newer (the build allocates more)
    // The control: a plain start, which loads no client-node, already doubles the semi-spaces.
    const plain = newSpaceOf(["list"])
    assert.isAbove(plain.largest, 2 * plain.start)
    // A dry run loads the Kubernetes chunk (its YAML writer) after the same start-up.
    for (const backend of [["--backend", "k8s"], ["--backend=k8s"]]) {
      const k8s = newSpaceOf(["run", ...backend, "--dry-run", "-n", "x", "--image", "x", "hi"])
      assert.isAtMost(k8s.largest, 2 * k8s.start, backend.join(" "))
    }
  })
})

