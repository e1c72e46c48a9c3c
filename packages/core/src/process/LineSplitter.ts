/**
 * Splits a byte stream into UTF-8 lines in bounded memory. A line longer than `maxLineBytes` is
 * cut: its first `maxLineBytes` bytes are emitted (flagged by {@link LineSplitter.truncatedLines})
 * and the rest of it is dropped as it arrives, so one runaway line cannot exhaust memory.
 *
 * Splitting on byte 0x0A before decoding is safe: UTF-8 never uses that byte inside a multi-byte
 * sequence (RFC 3629, section 3).
 *
 * @module
 */

/** Default longest line kept, in bytes (64 MiB). */
export const defaultMaxLineBytes = 64 * 1024 * 1024

/**
 * A batch of complete lines and, when they are exactly those bytes, the bytes they came from
 * (newlines included) — so a consumer that would store the lines unchanged can write the bytes
 * instead of encoding the strings again. `bytes` is null when a line in the batch was cut.
 */
export interface LineBatch {
  readonly lines: ReadonlyArray<string>
  readonly bytes: Uint8Array | null
}

/**
 * A stateful splitter; feed chunks in order, then call `end()`. The start of a line that continues
 * in the next chunk is kept by reference, not copied: a chunk must not be written to after it was
 * pushed (a Node stream's chunks never are: each read gets a buffer of its own).
 */
export class LineSplitter {
  private pending: Array<Buffer> = []
  private pendingBytes = 0
  private dropping = false
  /** How many lines were cut at `maxLineBytes`. */
  truncatedLines = 0
  readonly maxLineBytes: number

  constructor(maxLineBytes: number = defaultMaxLineBytes) {
    this.maxLineBytes = maxLineBytes
  }

  /** Returns the complete lines in `chunk` (without their newline; a trailing `\r` is kept). */
  push(chunk: Buffer): Array<string> {
    const lines: Array<string> = []
    let start = 0
    for (;;) {
      const nl = chunk.indexOf(10, start)
      if (nl === -1) break
      if (this.dropping) {
        this.dropping = false
        lines.push(this.flush())
      } else if (this.pendingBytes === 0) {
        if (nl - start > this.maxLineBytes) {
          this.truncatedLines++
          lines.push(chunk.toString("utf8", start, start + this.maxLineBytes))
        } else {
          lines.push(chunk.toString("utf8", start, nl))
        }
      } else {
        this.keep(chunk.subarray(start, nl))
        this.dropping = false
        lines.push(this.flush())
      }
      start = nl + 1
    }
    if (start < chunk.length && !this.dropping) this.keep(chunk.subarray(start))
    return lines
  }

  /** Like {@link push}, with the bytes of the complete lines (see {@link LineBatch}). */
  pushBatch(chunk: Buffer): LineBatch {
    // A copy: `push` appends this chunk's first segment to `pending` before flushing it.
    const pendingBefore = [...this.pending]
    const wasDropping = this.dropping
    const truncatedBefore = this.truncatedLines
    const lines = this.push(chunk)
    if (lines.length === 0 || wasDropping || this.truncatedLines !== truncatedBefore) return { lines, bytes: null }
    const upToLastLine = chunk.subarray(0, chunk.lastIndexOf(10) + 1)
    return { lines, bytes: pendingBefore.length === 0 ? upToLastLine : Buffer.concat([...pendingBefore, upToLastLine]) }
  }

  /** The last line if the stream did not end with a newline. */
  end(): Array<string> {
    if (this.pendingBytes === 0 && !this.dropping) return []
    this.dropping = false
    return [this.flush()]
  }

  private keep(part: Buffer) {
    const room = this.maxLineBytes - this.pendingBytes
    if (part.length > room) {
      if (room > 0) {
        this.pending.push(part.subarray(0, room))
        this.pendingBytes += room
      }
      if (!this.dropping) this.truncatedLines++
      this.dropping = true
      return
    }
    // No copy: chunks are never written to after `push` (see the class doc).
    this.pending.push(part)
    this.pendingBytes += part.length
  }

  private flush(): string {
    const line = this.pending.length === 1 ? this.pending[0]!.toString("utf8") : Buffer.concat(this.pending).toString("utf8")
    this.pending = []
    this.pendingBytes = 0
    return line
  }
}
