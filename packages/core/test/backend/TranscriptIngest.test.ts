import { assert, describe, it } from "@effect/vitest"
import { TranscriptIngest } from "../../src/backend/TranscriptIngest.ts"
import { makeRedactor, redactedMarker } from "../../src/domain/Redaction.ts"
import { LineSplitter } from "../../src/process/LineSplitter.ts"

const secret = "tok-ingest-secret-1234"
const ingestOf = () => new TranscriptIngest(makeRedactor({ SERVICE_TOKEN: secret }))
const line = (type: string, text: string) => JSON.stringify({ type, message: { content: [{ type: "text", text }] } })

describe("TranscriptIngest", () => {
  it("stores a clean batch's bytes as they came", () => {
    const bytes = Buffer.from([line("assistant", "hello"), line("user", "ok")].join("\n") + "\n")
    const batch = ingestOf().push(new LineSplitter().pushBatch(bytes))
    assert.strictEqual(batch.stored.length, 2)
    assert.deepStrictEqual(Buffer.from(batch.storedBytes!), bytes)
  })

  it("redacts only the lines that hold a secret and keeps the others' bytes, across chunks", () => {
    const lines = [line("assistant", "é before"), line("user", `export SERVICE_TOKEN=${secret} ✓`), line("user", "after https://host/x")]
    const all = Buffer.from(lines.join("\n") + "\n")
    const splitter = new LineSplitter()
    const ingest = ingestOf()
    // Cut inside the secret line: its bytes reach the ingest in the second batch.
    const cut = all.indexOf(secret) + 5
    const first = ingest.push(splitter.pushBatch(all.subarray(0, cut)))
    const second = ingest.push(splitter.pushBatch(all.subarray(cut)))
    const storedText = Buffer.concat([first.storedBytes!, second.storedBytes!]).toString("utf8")
    const expected = [lines[0], lines[1]!.replace(secret, redactedMarker), lines[2]].join("\n") + "\n"
    assert.strictEqual(storedText, expected)
    assert.deepStrictEqual([...first.stored, ...second.stored], expected.trimEnd().split("\n"))
    assert.strictEqual(second.stored[1], lines[2], "a clean line is the same string")
    assert.strictEqual(ingest.observation.stdoutLines, 3)
  })

  it("keeps the bytes when a needle occurs but nothing is redacted", () => {
    // "://" is screened for (URL credentials) but this URL has none.
    const bytes = Buffer.from(line("user", "see https://example.com/a") + "\n")
    const lines = new LineSplitter().pushBatch(bytes)
    const batch = ingestOf().push(lines)
    assert.strictEqual(batch.storedBytes, lines.bytes, "the batch's own bytes, not a copy")
    assert.strictEqual(batch.stored[0], lines.lines[0])
  })

  it("redacts the strings when no bytes came with them", () => {
    const batch = ingestOf().push([line("user", `x ${secret}`)])
    assert.isNull(batch.storedBytes)
    assert.notInclude(batch.stored[0], secret)
    assert.include(batch.stored[0], redactedMarker)
  })
})

describe("TranscriptIngest observes what it stores", () => {
  it("keeps secrets out of the observation (the verdict's evidence) and the progress", () => {
    const ingest = ingestOf()
    const result = JSON.stringify({ type: "result", subtype: "success", is_error: false, result: `the token is ${secret}` })
    const text = line("assistant", `printing ${secret}`)
    const batch = ingest.push(new LineSplitter().pushBatch(Buffer.from(`${text}\n${result}\n`)))
    assert.notInclude(JSON.stringify(ingest.observation), secret)
    assert.include(ingest.observation.result?.result ?? "", redactedMarker)
    assert.notInclude(JSON.stringify(batch.progress), secret)
  })

  it("a URL credential redacted inside a JSON line leaves it valid JSON", () => {
    const bytes = Buffer.from(JSON.stringify({ type: "result", subtype: "success", result: "fetch https://api.example.com", errors: ["user@example.com"] }) + "\n")
    const batch = ingestOf().push(new LineSplitter().pushBatch(bytes))
    assert.doesNotThrow(() => JSON.parse(batch.stored[0]!))
    const creds = ingestOf().push([JSON.stringify({ type: "user", content: "https://bob:hunter22@proxy:8080" })])
    assert.strictEqual(JSON.parse(creds.stored[0]!).content, `https://${redactedMarker}@proxy:8080`)
  })
})
