/**
 * String prefixes that do not pin their source in memory.
 *
 * V8 represents `s.slice(0, n)` of a long string as a "sliced string" pointing into `s`, so a
 * 200-character sample kept from a 16 MiB line keeps all 16 MiB alive (measured by the decoder
 * fuzz test). Evidence samples are copied out instead.
 *
 * @module
 */

/** The first `n` characters of `text`, as an independent copy when that matters. */
export const detachedPrefix = (text: string, n: number): string => {
  const prefix = text.length > n ? text.slice(0, n) : text
  // V8 does not make sliced strings below 13 characters, nor for a string that is whole.
  if (prefix.length < 13 || prefix.length === text.length) return prefix
  return Buffer.from(prefix, "utf16le").toString("utf16le")
}

/** `text` itself when it fits in `maxChars`, else its detached first `maxChars` characters and "…". */
export const clipLine = (text: string, maxChars: number): string =>
  text.length > maxChars ? detachedPrefix(text, maxChars) + "…" : text
