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

describe("LineSplitter batches", () => {
  it("the bytes of the batches are exactly the input, however it is chunked", () => {
    const input = Buffer.from(Array.from({ length: 200 }, (_, i) => `{"type":"user","n":${i},"é":"${"x".repeat(i * 7)}"}`).join("\n") + "\n")
    for (const size of [1, 3, 64, 1000, 4096, input.length]) {
      const s = new LineSplitter()
      const parts: Array<Uint8Array> = []
      const lines: Array<string> = []
      for (let off = 0; off < input.length; off += size) {
        const batch = s.pushBatch(input.subarray(off, off + size))
        if (batch.lines.length === 0) continue
        assert.isNotNull(batch.bytes)
        parts.push(batch.bytes!)
        lines.push(...batch.lines)
      }
      assert.deepStrictEqual(Buffer.concat(parts), input, `chunk size ${size}`)
      assert.deepStrictEqual(lines, input.toString("utf8").trimEnd().split("\n"))
    }
  })

  it("a batch with a cut line has no bytes (they would not match the stored lines)", () => {
    const s = new LineSplitter(8)
    assert.isNull(s.pushBatch(Buffer.from("0123456789abcdef\nok\n")).bytes)
    assert.isNotNull(s.pushBatch(Buffer.from("fine\n")).bytes)
  })
})
