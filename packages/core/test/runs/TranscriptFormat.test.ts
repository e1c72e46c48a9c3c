import { assert, describe, it } from "@effect/vitest"
import { formatTranscriptLine } from "../../src/runs/TranscriptFormat.ts"
import { loadTranscript, transcriptNames } from "../support/Transcripts.ts"

describe("formatTranscriptLine on real transcripts", () => {
  it("reads every line claude 2.1.330 wrote (none falls back to the raw `?` line)", () => {
    for (const name of transcriptNames()) {
      for (const line of loadTranscript(name).stdoutLines) {
        for (const shown of formatTranscriptLine(line)) assert.isFalse(shown.startsWith("? "), `${name}: ${shown}`)
      }
    }
  })

  it("shows a permission denial with its tool and reason", () => {
    const shown = loadTranscript("tool-use-denied").stdoutLines.flatMap(formatTranscriptLine).filter((l) => l.startsWith("denied"))
    assert.strictEqual(shown.length, 1)
    assert.match(shown[0]!, /^denied {4}Bash: Output redirection to '.+' needs approval\./)
  })
})
