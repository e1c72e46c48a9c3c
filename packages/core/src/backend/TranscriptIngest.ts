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
  /** The lines, redacted (the original strings when they held no secret). */
  readonly stored: ReadonlyArray<string>
  /**
   * The batch's original bytes when they are exactly what must be stored (they held no secret):
   * append these instead of encoding `stored` again. Null otherwise.
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

  /** Ingests one batch of lines (with their bytes when the splitter had them: see LineBatch). */
  push(batch: LineBatch | ReadonlyArray<string>): IngestedBatch {
    const lines = "lines" in batch ? batch.lines : batch
    const bytes = "lines" in batch ? batch.bytes : null
    const clean = bytes !== null && !this.redactor.mayContainSecret(bytes)
    const stored: Array<string> = clean ? (lines as Array<string>) : new Array(lines.length)
    const progress: Array<RunProgress> = []
    let o = this.observation
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!
      const decoded = decodeLine(line)
      o = observeLine(o, line, decoded)
      for (const p of progressOf(decoded, o)) progress.push(p)
      if (!clean) stored[i] = this.redactor.redact(line)
    }
    this.observation = o
    return { stored, storedBytes: clean ? bytes : null, progress }
  }
}
