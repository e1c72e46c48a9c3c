/**
 * An exact multi-needle byte search tuned for a stream: "does any of these byte strings occur in
 * this chunk?", answered with one native `Buffer.indexOf` per needle — but not on the needle
 * itself. Each needle is searched through an *anchor*: a window of at most
 * {@link maxAnchorBytes} bytes of it that starts on the byte the stream has shown to be rarest;
 * every anchor hit is then checked against the whole needle, so answers stay exact.
 *
 * Why: Node's `Buffer.indexOf` (V8's string search, src/string_search.h) finds a needle shorter
 * than 7 bytes by `memchr` on its first byte, at memory speed when that byte is rare, and a longer
 * one by Boyer-Moore-Horspool, which is several times slower on text. Measured on 100 MB of
 * real-shaped stream-json: `sk-ant-` 34 ms, `-ant-` 3.8 ms; a 27-byte token 16 ms, its `-0042`
 * 3.5 ms. Which bytes are rare depends on the text, so the screen counts the bytes of the first
 * {@link sampleBytes} it sees and picks the anchors then; until then it searches whole needles.
 *
 * @module
 */

/** Anchors stay below V8's Boyer-Moore threshold (7) so that the search is `memchr` on their first byte. */
export const maxAnchorBytes = 6

/** How many bytes of the stream are counted before the anchors are chosen. */
export const sampleBytes = 64 * 1024

interface Anchor {
  /** The whole needle. */
  readonly needle: Buffer
  /** The window searched for. */
  readonly window: Buffer
  /** Where `window` starts in `needle`. */
  readonly offset: number
}

/** Searches `haystack` for `needle` through `anchor`: the position of the first occurrence, or -1. */
const findAnchored = (haystack: Buffer, a: Anchor): number => {
  const n = a.needle.length
  for (let at = haystack.indexOf(a.window, a.offset); at !== -1; at = haystack.indexOf(a.window, at + 1)) {
    const start = at - a.offset
    if (start + n > haystack.length) return -1
    if (a.needle.compare(haystack, start, start + n) === 0) return start
  }
  return -1
}

/**
 * Picks the window of `needle` that starts on the byte seen least often in the sample (the
 * earliest such byte): up to {@link maxAnchorBytes} long, shorter at the needle's end.
 */
const anchorOf = (needle: Buffer, counts: Uint32Array): Anchor => {
  let best = 0
  for (let i = 1; i < needle.length; i++) {
    if (counts[needle[i]!]! < counts[needle[best]!]!) best = i
  }
  return { needle, window: needle.subarray(best, Math.min(best + maxAnchorBytes, needle.length)), offset: best }
}

/**
 * What one needle stands for: a byte string, or several that all occur wherever the thing
 * looked for does (URL credentials always come with `://` and `@`) — the screen then searches
 * only the one whose anchor is rarest in the stream.
 */
export type Needle = Uint8Array | ReadonlyArray<Uint8Array>

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/**
 * A stateful screen over one stream's chunks (state: the byte counts of its first
 * {@link sampleBytes}). `includesAny` is exact for plain needles: true iff one occurs in the chunk.
 */
export class NeedleScreen {
  private readonly needles: ReadonlyArray<ReadonlyArray<Buffer>>
  private anchors: ReadonlyArray<Anchor> | null = null
  private readonly counts = new Uint32Array(256)
  private counted = 0

  /** @param needles non-empty byte strings (an empty one would match everything: it is dropped). */
  constructor(needles: ReadonlyArray<Needle>) {
    this.needles = needles
      .map((n) => (n instanceof Uint8Array ? [n] : n).filter((b) => b.length > 0).map(asBuffer))
      .filter((group) => group.length > 0)
  }

  /**
   * True when a needle occurs in `chunk` (for a group: the member searched). False means that none
   * of the things looked for is there.
   */
  includesAny(chunk: Uint8Array): boolean {
    const haystack = asBuffer(chunk)
    const anchors = this.anchors ?? this.sample(haystack)
    if (anchors === null) return this.needles.some((group) => haystack.indexOf(group[0]!) !== -1)
    for (let i = 0; i < anchors.length; i++) if (findAnchored(haystack, anchors[i]!) !== -1) return true
    return false
  }

  private sample(chunk: Buffer): ReadonlyArray<Anchor> | null {
    const counts = this.counts
    const end = Math.min(chunk.length, sampleBytes - this.counted)
    for (let i = 0; i < end; i++) counts[chunk[i]!] = counts[chunk[i]!]! + 1
    this.counted += end
    if (this.counted < sampleBytes) return null
    const rarity = (a: Anchor) => counts[a.window[0]!]!
    this.anchors = this.needles.map((group) =>
      group.map((n) => anchorOf(n, counts)).reduce((best, a) => (rarity(a) < rarity(best) ? a : best))
    )
    return this.anchors
  }
}
