/**
 * The ingest of an agent's stdout: each line is decoded, folded into the {@link Observation},
 * turned into progress events, and redacted for the store. One instance per run; the hot path of
 * following a run (benchmarked by `pnpm bench`).
 *
 * @module
 */
import { emptyObservation, type Observation, observeLine } from "../domain/Observation.ts"
import { decodeLine } from "../domain/Protocol.ts"
import type { Redactor } from "../domain/Redaction.ts"
import type { RunProgress } from "./Backend.ts"
import type { LineBatch } from "../process/LineSplitter.ts"
import { progressOf } from "./RunSupervision.ts"

/** What one batch of lines produced. */
export interface IngestedBatch {
  /** The lines, redacted (the original strings when they held no secret): what the watchdog keeps as the last output. */
  readonly stored: ReadonlyArray<string>
  /**
   * What to append to the store when the splitter gave the batch's bytes: those bytes, with the
   * lines that held a secret encoded again from their redacted text. Null otherwise (then `stored`
   * is appended).
   */
  readonly storedBytes: Uint8Array | null
  readonly progress: ReadonlyArray<RunProgress>
}

/** A stateful ingest: feed batches of stdout lines in order. */
export class TranscriptIngest {
  observation: Observation = emptyObservation
  readonly redactor: Redactor

  constructor(redactor: Redactor) {
    this.redactor = redactor
  }

  /**
   * Ingests one batch of lines (with their bytes when the splitter had them: see LineBatch). The
   * lines are redacted first and what is observed is the redacted text: the observation feeds
   * the verdict's evidence and the progress events, which reach the record and the terminal.
   */
  push(batch: LineBatch | ReadonlyArray<string>): IngestedBatch {
    const lines = "lines" in batch ? batch.lines : batch
    const bytes = "lines" in batch ? batch.bytes : null
    const { stored, storedBytes } = bytes === null
      ? { stored: lines.map(this.redactor.redact), storedBytes: null }
      : this.redactor.mayContainSecret(bytes)
      ? this.redactLines(lines, bytes)
      : { stored: lines, storedBytes: bytes }
    const progress: Array<RunProgress> = []
    let o = this.observation
    for (let i = 0; i < stored.length; i++) {
      const line = stored[i]!
      const decoded = decodeLine(line)
      o = observeLine(o, line, decoded)
      progressOf(decoded, o, progress)
    }
    this.observation = o
    return { stored, storedBytes, progress }
  }

  /**
   * A batch that holds a secret somewhere: only the lines whose bytes hold one are redacted and
   * encoded again; the bytes of the others are stored as they came.
   */
  private redactLines(lines: ReadonlyArray<string>, bytes: Uint8Array): Omit<IngestedBatch, "progress"> {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const stored = lines.slice()
    const parts: Array<Uint8Array> = []
    let copiedUpTo = 0
    let start = 0
    for (let i = 0; i < lines.length; i++) {
      const end = buffer.indexOf(10, start)
      // Not the bytes of these lines after all (LineBatch promises one newline per line).
      if (end === -1) return { stored: lines.map(this.redactor.redact), storedBytes: null }
      if (this.redactor.mayContainSecret(buffer.subarray(start, end))) {
        const redacted = this.redactor.redact(lines[i]!)
        if (redacted !== lines[i]) {
          stored[i] = redacted
          parts.push(buffer.subarray(copiedUpTo, start), Buffer.from(redacted, "utf8"))
          copiedUpTo = end
        }
      }
      start = end + 1
    }
    if (parts.length === 0) return { stored, storedBytes: bytes }
    parts.push(buffer.subarray(copiedUpTo))
    return { stored, storedBytes: Buffer.concat(parts) }
  }
}
