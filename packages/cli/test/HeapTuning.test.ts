import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"

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
