import { assert, describe, it } from "@effect/vitest"
import { LineSplitter } from "../../src/process/LineSplitter.ts"

const feed = (splitter: LineSplitter, parts: ReadonlyArray<string | Buffer>) => {
  const out: Array<string> = []
  for (const p of parts) out.push(...splitter.push(typeof p === "string" ? Buffer.from(p) : p))
  out.push(...splitter.end())
  return out
}

describe("LineSplitter", () => {
  it("splits across chunk boundaries and keeps a final unterminated line", () => {
    assert.deepStrictEqual(feed(new LineSplitter(), ["a\nb", "c\n", "\nd"]), ["a", "bc", "", "d"])
  })

  it("never splits a multi-byte UTF-8 character cut between chunks", () => {
    const bytes = Buffer.from("héllo → wörld\n")
    const parts = [...bytes].map((b) => Buffer.from([b]))
    assert.deepStrictEqual(feed(new LineSplitter(), parts), ["héllo → wörld"])
  })

  it("cuts lines longer than the limit and drops the rest of them, in bounded memory", () => {
    const s = new LineSplitter(10)
    const out = feed(s, ["0123456789ABCDEF", "GHIJ\nnext\n", "x".repeat(25) + "\n"])
    assert.deepStrictEqual(out, ["0123456789", "next", "x".repeat(10)])
    assert.strictEqual(s.truncatedLines, 2)
  })
})
