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
    return this.pushBatch(chunk).lines as Array<string>
  }

  /**
   * Like {@link push}, with the bytes of the complete lines (see {@link LineBatch}). A line that
   * started in earlier chunks is copied once, together with the rest of this chunk's complete
   * lines: that one buffer is both what its text is decoded from and the batch's bytes.
   */
  pushBatch(chunk: Buffer): LineBatch {
    const last = chunk.lastIndexOf(10)
    if (last === -1) {
      if (!this.dropping) this.keep(chunk)
      return { lines: [], bytes: null }
    }
    const lines: Array<string> = []
    const first = chunk.indexOf(10)
    let cut: boolean
    let bytes: Buffer
    if (this.dropping || (this.pendingBytes > 0 && this.pendingBytes + first > this.maxLineBytes)) {
      // The first line is cut: what was kept of it (at most maxLineBytes) is all of it.
      if (!this.dropping) this.keep(chunk.subarray(0, first))
      this.dropping = false
      lines.push(this.flush())
      this.splitInto(lines, chunk, first + 1, last + 1)
      cut = true
      bytes = chunk
    } else if (this.pendingBytes > 0) {
      const carried = this.pendingBytes
      bytes = Buffer.allocUnsafe(carried + last + 1)
      let at = 0
      for (const part of this.pending) {
        bytes.set(part, at)
        at += part.length
      }
      bytes.set(chunk.subarray(0, last + 1), at)
      this.pending = []
      this.pendingBytes = 0
      lines.push(bytes.toString("utf8", 0, carried + first))
      cut = this.splitInto(lines, bytes, carried + first + 1, bytes.length)
    } else {
      bytes = chunk.subarray(0, last + 1)
      cut = this.splitInto(lines, chunk, 0, last + 1)
    }
    if (last + 1 < chunk.length) this.keep(chunk.subarray(last + 1))
    return { lines, bytes: cut ? null : bytes }
  }

  /** Pushes the lines of `buffer[from, to)`, which ends with a newline; true if one was cut. */
  private splitInto(lines: Array<string>, buffer: Buffer, from: number, to: number): boolean {
    let cut = false
    for (let start = from; start < to;) {
      const nl = buffer.indexOf(10, start)
      if (nl - start > this.maxLineBytes) {
        this.truncatedLines++
        cut = true
        lines.push(buffer.toString("utf8", start, start + this.maxLineBytes))
      } else {
        lines.push(buffer.toString("utf8", start, nl))
      }
      start = nl + 1
    }
    return cut
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
