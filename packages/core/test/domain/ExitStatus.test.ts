import { assert, describe, it } from "@effect/vitest"
import { describe as describeExit, fromNodeExit } from "../../src/domain/ExitStatus.ts"

describe("ExitStatus", () => {
  it("decodes a kernel-reported signal death", () => {
    const s = fromNodeExit(null, "SIGSEGV")
    assert.deepStrictEqual(s, { exitCode: null, signal: { name: "SIGSEGV", number: 11, via: "wait" } })
    assert.strictEqual(describeExit(s), "SIGSEGV (11)")
  })

  it("decodes the shell form 128+n", () => {
    const s = fromNodeExit(143, null)
    assert.deepStrictEqual(s.signal, { name: "SIGTERM", number: 15, via: "exit-128+n" })
    assert.strictEqual(describeExit(s), "exit 143 (SIGTERM, 128+15)")
  })

  it("leaves ordinary codes alone", () => {
    assert.deepStrictEqual(fromNodeExit(1, null), { exitCode: 1, signal: null })
    assert.deepStrictEqual(fromNodeExit(128, null), { exitCode: 128, signal: null })
    assert.deepStrictEqual(fromNodeExit(200, null), { exitCode: 200, signal: null })
  })
})
