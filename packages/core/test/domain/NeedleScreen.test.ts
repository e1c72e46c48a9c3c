import { assert, describe, it } from "@effect/vitest"
import { NeedleScreen, sampleBytes } from "../../src/domain/NeedleScreen.ts"
import { prng } from "../../../../test/support/prng.ts"

/** The plain answer the screen must always give. */
const naive = (needles: ReadonlyArray<Buffer>, haystack: Buffer) => needles.some((n) => haystack.indexOf(n) !== -1)

describe("NeedleScreen", () => {
  it("answers exactly like a search per needle, before and after it picks its anchors", () => {
    const rng = prng(7)
    // A small alphabet makes partial matches (anchor hits that are not needles) frequent.
    const alphabet = "ab-:_/Bxyz\n{}\"é"
    const text = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rng() * alphabet.length)]).join("")
    const needles = [Buffer.from("ab-ab:"), Buffer.from("x"), Buffer.from("Bz_/é-ab-xy"), Buffer.from("://"), Buffer.from("zzzzzzzzzzz")]
    const screen = new NeedleScreen(needles)
    let seen = 0
    let hits = 0
    let misses = 0
    while (seen < 4 * sampleBytes) {
      // Chunks that hold no `x` (else the one-byte needle decides every answer), some with a needle planted.
      const chunk = Buffer.from(text(50 + Math.floor(rng() * 3000)).replaceAll("x", "y"))
      if (rng() < 0.3) {
        const needle = needles[Math.floor(rng() * needles.length)]!
        const at = Math.floor(rng() * chunk.length)
        needle.copy(chunk, Math.max(0, Math.min(at, chunk.length - needle.length)))
      }
      const expected = naive(needles, chunk)
      assert.strictEqual(screen.includesAny(chunk), expected, chunk.toString("latin1").slice(0, 80))
      if (expected) hits++
      else misses++
      seen += chunk.length
    }
    assert.isAbove(hits, 50)
    assert.isAbove(misses, 50)
  })

  it("finds a needle at the very start and the very end of a chunk, whatever its anchor", () => {
    const needle = Buffer.from("tok-bench-secret-value-0042")
    const screen = new NeedleScreen([needle])
    // Sample text in which every byte of the needle but "4" is common: the anchor starts late in it.
    screen.includesAny(Buffer.from("tok-bench-secret-value-00 ".repeat(Math.ceil(sampleBytes / 26))))
    assert.isTrue(screen.includesAny(needle))
    assert.isTrue(screen.includesAny(Buffer.concat([needle, Buffer.from(" tail")])))
    assert.isTrue(screen.includesAny(Buffer.concat([Buffer.from("head "), needle])))
    assert.isFalse(screen.includesAny(needle.subarray(0, needle.length - 1)))
    assert.isFalse(screen.includesAny(needle.subarray(1)))
    assert.isFalse(screen.includesAny(Buffer.from("0042 tok-bench-secret-value-004")))
  })

  it("accepts Uint8Array views and ignores empty needles", () => {
    const screen = new NeedleScreen([new Uint8Array(0), Buffer.from("needle")])
    const bytes = new TextEncoder().encode("a haystack with a needle in it")
    assert.isTrue(screen.includesAny(bytes.subarray(10)))
    assert.isFalse(screen.includesAny(bytes.subarray(0, 20)))
    assert.isFalse(new NeedleScreen([]).includesAny(bytes))
  })
})
