import { assert, describe, it } from "@effect/vitest"
import { LineSplitter } from "../../src/process/LineSplitter.ts"
import { prng } from "../../../../test/support/prng.ts"

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

describe("LineSplitter against a model", () => {
  /** What the splitter must produce: every line, cut to `max` bytes (at a byte boundary, decoded as a whole). */
  const model = (input: Buffer, max: number) => {
    const out: Array<string> = []
    const cutAt = new Set<number>()
    let cut = 0
    let start = 0
    for (let nl = input.indexOf(10); nl !== -1; nl = input.indexOf(10, start)) {
      if (nl - start > max) {
        cut++
        cutAt.add(out.length)
      }
      out.push(input.toString("utf8", start, Math.min(nl, start + max)))
      start = nl + 1
    }
    if (start < input.length) {
      if (input.length - start > max) cut++
      out.push(input.toString("utf8", start, Math.min(input.length, start + max)))
    }
    return { lines: out, cut, cutAt }
  }

  it("gives the model's lines, cut count and (when nothing was cut) bytes for random inputs and chunkings", () => {
    const rng = prng(11)
    for (let round = 0; round < 300; round++) {
      const max = 1 + Math.floor(rng() * 40)
      const input = Buffer.from(
        Array.from({ length: Math.floor(rng() * 30) }, () => "ab→é\r".slice(0, Math.floor(rng() * 5)).repeat(Math.floor(rng() * 12))).join("\n") +
          (rng() < 0.5 ? "\n" : "")
      )
      const expected = model(input, max)
      const s = new LineSplitter(max)
      const lines: Array<string> = []
      for (let off = 0; off < input.length;) {
        const size = 1 + Math.floor(rng() * 50)
        const batch = s.pushBatch(input.subarray(off, off + size))
        if (batch.bytes !== null) {
          assert.deepStrictEqual(batch.bytes.toString(), batch.lines.map((l) => `${l}\n`).join(""), `round ${round}`)
        }
        const hasCut = batch.lines.some((_, i) => expected.cutAt.has(lines.length + i))
        assert.strictEqual(batch.bytes === null, batch.lines.length === 0 || hasCut, `bytes exactly when no line is cut, round ${round}`)
        lines.push(...batch.lines)
        off += size
      }
      lines.push(...s.end())
      assert.deepStrictEqual(lines, expected.lines, `round ${round}, max ${max}`)
      assert.strictEqual(s.truncatedLines, expected.cut, `round ${round}`)
    }
  })
})
