/**
 * utf8Head cuts at a character's start; a stderr line cut at stderrTailLineBytes gives the same
 * tail entry as the whole line (what the Kubernetes takeover relies on to read only line heads).
 */
import { assert, describe, it } from "@effect/vitest"
import { pushTail, stderrTailLineBytes, stderrTailLineChars } from "../../src/backend/RunSupervision.ts"
import { utf8Head } from "../../src/store/Utf8Head.ts"

const entry = (line: string) => {
  const tail: Array<string> = []
  pushTail(tail, line)
  return tail[0]!
}

describe("utf8Head", () => {
  it("cuts before a character the limit falls inside, never into a replacement character", () => {
    const bytes = Buffer.from("aé€😀b", "utf8") // 1 + 2 + 3 + 4 + 1 bytes
    assert.deepStrictEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((n) => utf8Head(bytes, 0, bytes.length, n)), [
      "", "a", "a", "aé", "aé", "aé", "aé€", "aé€", "aé€", "aé€", "aé€😀", "aé€😀b"
    ])
    assert.strictEqual(utf8Head(bytes, 1, 6, 3), "é")
  })

  it("a line cut at stderrTailLineBytes makes the tail entry the whole line makes, in any script", () => {
    for (const unit of ["x", "é", "€", "😀", "a😀"]) {
      for (const chars of [stderrTailLineChars - 1, stderrTailLineChars, stderrTailLineChars + 1, 3 * stderrTailLineChars, 10 * stderrTailLineChars]) {
        // As stored: through UTF-8 (a surrogate pair the slice split is a replacement character).
        const bytes = Buffer.from(unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars), "utf8")
        const line = bytes.toString("utf8")
        assert.strictEqual(entry(utf8Head(bytes, 0, bytes.length, stderrTailLineBytes)), entry(line), `${JSON.stringify(unit)} × ${chars}`)
      }
    }
  })
})
