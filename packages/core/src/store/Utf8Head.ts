/**
 * Cutting a stored line to a number of bytes without splitting a character (the stores' stderr
 * tail). Internal to the store layers.
 *
 * @module
 */

/**
 * The first `maxBytes` bytes of `bytes[start, end)` as text, cut back to the start of a UTF-8
 * character (so the text ends in no replacement character of its own making).
 */
export const utf8Head = (bytes: Uint8Array, start: number, end: number, maxBytes: number): string => {
  let stop = end
  if (end - start > maxBytes) {
    stop = start + maxBytes
    // 0b10xxxxxx bytes continue a character: the cut goes before the character they belong to.
    while (stop > start && (bytes[stop]! & 0xc0) === 0x80) stop--
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8", start, stop)
}
