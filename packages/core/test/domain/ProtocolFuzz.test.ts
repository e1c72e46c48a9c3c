/**
 * Fuzz test of the stdout ingest path (issue 3, "Tests on real input"): 10k hostile lines —
 * malformed JSON, random binary (NUL, invalid UTF-8, lone surrogates), deeply nested JSON,
 * the right `type` with wrong field types, huge numbers, and several 16 MiB lines — go through
 * the real byte path: LineSplitter → decodeLine → observeLine, and in parallel TranscriptIngest
 * with a redactor. Nothing may throw, every line must be accounted for, the malformed samples
 * stay bounded, no secret survives redaction, and the heap does not keep what it has seen: after
 * a forced GC it grows by less than one oversized line, and not at all with the number of lines.
 *
 * Deterministic: every byte comes from a seeded PRNG and the recorded transcripts.
 */
import { assert, describe, it } from "@effect/vitest"
import * as NodeV8 from "node:v8"
import * as NodeVm from "node:vm"
import { TranscriptIngest } from "../../src/backend/TranscriptIngest.ts"
import { emptyObservation, maxMalformedSamples, type Observation, observeLine } from "../../src/domain/Observation.ts"
import { decodeLine } from "../../src/domain/Protocol.ts"
import { makeRedactor, redactedMarker } from "../../src/domain/Redaction.ts"
import { LineSplitter } from "../../src/process/LineSplitter.ts"
import { loadTranscript, transcriptNames } from "../support/Transcripts.ts"
import { prng } from "../../../../test/support/prng.ts"

// ------------------------------------------------------------------ determinism and GC

type Rng = ReturnType<typeof prng>
const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1))
const pick = <A>(rng: Rng, xs: ReadonlyArray<A>): A => xs[Math.floor(rng() * xs.length)]!

/** A forced major GC, without needing `--expose-gc` on the command line. */
const gc: () => void = (() => {
  NodeV8.setFlagsFromString("--expose-gc")
  return NodeVm.runInNewContext("gc") as () => void
})()
const settledHeap = (): number => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const MiB = 1024 * 1024
const oversizedBytes = 16 * MiB

// ------------------------------------------------------------------ hostile lines

const secretValue = "tok-fuzz-very-secret-value"
const apiKey = "sk-ant-fuzz-SECRET-0123456789"
const env = { MY_SERVICE_TOKEN: secretValue, ANTHROPIC_API_KEY: apiKey, PATH: "/usr/bin" }
const secrets = [secretValue, apiKey, "sk-ant-api03-shaped", "Bearer eyJfuzz.token"]

const realLines: ReadonlyArray<string> = transcriptNames().flatMap((n) => loadTranscript(n).stdoutLines)
const realObjects = realLines.map((l) => JSON.parse(l) as Record<string, unknown>)

/** The right `type` with fields of the wrong type, prototype tricks, and non-objects. */
const wrongTypes: ReadonlyArray<string> = [
  `{"type":"result","subtype":5,"usage":"x"}`,
  `{"type":"result","subtype":"success","is_error":"yes","num_turns":"3","total_cost_usd":"0.1","usage":{"input_tokens":"a"},"errors":"boom","modelUsage":[1]}`,
  `{"type":"result","subtype":null,"errors":[1,{"x":2}],"api_error_status":"401","terminal_reason":{}}`,
  `{"type":"result","subtype":"success","usage":null,"modelUsage":null,"errors":null,"is_error":null}`,
  `{"type":"assistant","message":null}`,
  `{"type":"assistant","message":"hi"}`,
  `{"type":"assistant","message":{"content":"text"}}`,
  `{"type":"assistant","message":{"content":[1,null,"x",{"type":5}]}}`,
  `{"type":"assistant","message":{"content":[{"type":"text","text":5}]},"error":{"x":1}}`,
  `{"type":"assistant","message":{"content":[{"type":"tool_use","name":[]}],"usage":{"input_tokens":-1,"output_tokens":"7"}},"error":""}`,
  `{"type":"assistant","message":{"content":[]},"error":"rate_limit"}`,
  `{"type":"system","subtype":"init","session_id":7,"model":[]}`,
  `{"type":"system","subtype":"api_retry","attempt":"x","retry_delay_ms":{},"error_status":"401"}`,
  `{"type":"system"}`,
  `{"type":"system","subtype":null}`,
  `{"type":5}`,
  `{"type":null}`,
  `{"type":["result"]}`,
  `{"type":{"toString":"x"}}`,
  `{"type":""}`,
  `{}`,
  `{"__proto__":{"type":"result","subtype":"success"}}`,
  `{"type":"result","__proto__":{"subtype":"success","total_cost_usd":1}}`,
  `{"type":"user","constructor":{"prototype":{"polluted":true}}}`,
  `{"type":"user","session_id":{"$ne":1}}`,
  `{"type":"user","type":"result","subtype":"success"}`,
  `[{"type":"result","subtype":"success"}]`,
  `"type"`,
  `null`,
  `true`,
  `1e999`,
  `{"type":"result"`,
  `{"type":"result",}`,
  `{'type':'result'}`,
  `{"type":"result","subtype":"success"} trailing`,
  `{"type":"result","subtype":"success"}{"type":"result"}`
]

/** Huge, tiny and non-finite numbers where agentrun sums and reports numbers. */
const hugeNumbers = (rng: Rng): string => {
  const n = pick(rng, ["1e400", "-1e400", "1e308", "-0", "5e-324", "123456789012345678901234567890", "1" + "0".repeat(int(rng, 400, 5000))])
  return pick(rng, [
    `{"type":"result","subtype":"success","total_cost_usd":${n},"num_turns":${n},"duration_ms":${n},"usage":{"input_tokens":${n},"output_tokens":${n}}}`,
    `{"type":"assistant","message":{"content":[{"type":"text","text":"n"}],"usage":{"input_tokens":${n},"output_tokens":${n}}}}`,
    `{"type":"system","subtype":"api_retry","attempt":${n},"max_retries":${n},"retry_delay_ms":${n},"error_status":${n}}`
  ])
}

/** Nesting from 1k to 100k levels (log-uniform): inside a known event, at the top, unclosed, in fields the schema reads. */
const deeplyNested = (rng: Rng): string => {
  const d = Math.floor(10 ** (3 + 2 * rng()))
  const arr = "[".repeat(d) + "]".repeat(d)
  const obj = `{"a":`.repeat(d) + "1" + "}".repeat(d)
  return pick(rng, [
    `{"type":"user","x":${arr}}`,
    `{"type":"result","subtype":"success","modelUsage":{"m":${obj}},"errors":[${arr}]}`,
    `{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Bash","input":${obj}}]}}`,
    obj,
    arr,
    "{".repeat(d),
    `{"type":"user","x":` + "[".repeat(d)
  ])
}

/** Bytes that are not valid UTF-8 (overlong, CESU lone surrogates, > U+10FFFF, truncated, stray continuation). */
const badUtf8: ReadonlyArray<ReadonlyArray<number>> = [
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xff],
  [0xfe, 0xfe],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0x80, 0xbf],
  [0xf0, 0x9f, 0x98],
  [0x00]
]

/** Random bytes (never 0x0A, which would end the line). */
const randomBytes = (rng: Rng, length: number): Buffer => {
  const b = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i += 4) {
    const r = (rng() * 4294967296) >>> 0
    b[i] = r & 0xff
    if (i + 1 < length) b[i + 1] = (r >>> 8) & 0xff
    if (i + 2 < length) b[i + 2] = (r >>> 16) & 0xff
    if (i + 3 < length) b[i + 3] = r >>> 24
  }
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i)) b[i] = 0
  return b
}

const alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 {}[]:,\\\"\t/.-é€😀"
/** Random text; long texts repeat a random 1 KiB block (generation must stay cheap). */
const printable = (rng: Rng, length: number): string => {
  let block = ""
  for (let i = 0; i < Math.min(length, 1024); i++) block += alphabet[Math.floor(rng() * alphabet.length)]
  return length <= 1024 ? block : block.repeat(Math.ceil(length / 1024)).slice(0, length)
}

const userToolResult = (content: string) =>
  JSON.stringify({
    type: "user",
    message: { role: "user", content: [{ tool_use_id: "toolu_fuzz", type: "tool_result", content, is_error: false }] },
    parent_tool_use_id: null,
    session_id: "00000000-0000-0000-0000-00000000f022",
    tool_use_result: { stdout: content, stderr: "", interrupted: false, isImage: false }
  })

const assistantText = (text: string) =>
  JSON.stringify({
    type: "assistant",
    message: { id: "msg_fuzz", type: "message", role: "assistant", model: "claude-fuzz", content: [{ type: "text", text }], stop_reason: null },
    parent_tool_use_id: null,
    session_id: "00000000-0000-0000-0000-00000000f022"
  })

const utf8 = (s: string) => Buffer.from(s, "utf8")

/** One hostile (or ordinary) line, without its newline. */
const hostileLine = (rng: Rng): Buffer => {
  const r = rng()
  if (r < 0.15) return utf8(pick(rng, realLines))
  if (r < 0.25) {
    // A real line cut short: never valid JSON.
    const l = pick(rng, realLines)
    return utf8(l.slice(0, int(rng, 1, l.length - 1)))
  }
  if (r < 0.32) {
    // A real line with random bytes overwritten (possibly still valid).
    const b = utf8(pick(rng, realLines))
    for (let k = int(rng, 1, 8); k > 0; k--) b[int(rng, 0, b.length - 1)] = int(rng, 0, 255)
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i)) b[i] = 0x20
    return b
  }
  if (r < 0.45) return randomBytes(rng, int(rng, 0, 4096))
  if (r < 0.52) {
    // Invalid UTF-8 inside an otherwise valid event, and outside any string.
    const bad = Buffer.from(pick(rng, badUtf8))
    return rng() < 0.7
      ? Buffer.concat([utf8(`{"type":"assistant","message":{"content":[{"type":"text","text":"a`), bad, utf8(`b"}]}}`)])
      : Buffer.concat([utf8(`{"type":"user",`), bad, utf8(`}`)])
  }
  if (r < 0.56) {
    // Lone surrogates as JSON escapes, and raw NUL / control characters inside strings (invalid JSON).
    return utf8(pick(rng, [
      `{"type":"assistant","message":{"content":[{"type":"text","text":"\\ud800 x \\udfff"}]},"session_id":"\\udc00"}`,
      `{"type":"system","subtype":"init","session_id":"\\ud83d","model":"\\u0000"}`,
      `{"type":"user","x":"\u0000\u0001\u001f"}`,
      `\u0000{"type":"user"}`,
      `{"type":"user"}\u0000`
    ]))
  }
  if (r < 0.58) return utf8(deeplyNested(rng))
  if (r < 0.73) return utf8(pick(rng, wrongTypes))
  if (r < 0.78) return utf8(hugeNumbers(rng))
  if (r < 0.82) return utf8(pick(rng, ["", " ", "\r", "\t \r", "\uFEFF" + pick(rng, realLines), pick(rng, realLines) + "\r"]))
  if (r < 0.9) {
    // A real-shaped line that carries secrets (tool output and assistant text).
    const s = `${pick(rng, secrets)} and ${pick(rng, secrets)} ${printable(rng, int(rng, 0, 64))}`
    return utf8(rng() < 0.5 ? userToolResult(s) : assistantText(s))
  }
  if (r < 0.99) {
    // A varied real line: a real object with its session id changed.
    const o = { ...pick(rng, realObjects), session_id: printable(rng, 36) }
    return utf8(JSON.stringify(o))
  }
  // Long but legal tool output (100 KB .. 500 KB, twice in the line as claude writes it).
  return utf8(userToolResult(printable(rng, int(rng, 100_000, 500_000))))
}

/** The several 16 MiB lines of a run: valid and not, ASCII and binary, with a secret at the very end. */
const oversizedLine = (rng: Rng, kind: number): Buffer => {
  const filler = (n: number) => Buffer.alloc(n, 0x61 + (kind % 26))
  switch (kind % 4) {
    case 0: {
      // `{` then garbage: parsed and rejected as "not JSON".
      const b = filler(oversizedBytes)
      b[0] = 0x7b
      return b
    }
    case 1: {
      // Binary: decodes to a two-byte string (U+FFFD) twice the size.
      const b = randomBytes(rng, oversizedBytes)
      b[0] = 0xff
      return b
    }
    case 2: {
      // A valid tool_result of 16 MiB.
      const head = `{"type":"user","message":{"role":"user","content":[{"type":"tool_result","content":"`
      const tail = `"}]},"session_id":"s"}`
      return Buffer.concat([utf8(head), filler(oversizedBytes - head.length - tail.length), utf8(tail)])
    }
    default: {
      // A valid assistant text of 16 MiB ending with a secret.
      const head = `{"type":"assistant","message":{"content":[{"type":"text","text":"`
      const tail = ` ${secretValue}"}]},"session_id":"s"}`
      return Buffer.concat([utf8(head), filler(oversizedBytes - head.length - tail.length), utf8(tail)])
    }
  }
}

/**
 * The stdout byte stream of `count` lines: `oversized` of them are 16 MiB (the first two at the
 * very start, where they become the first line and malformed samples), the rest hostile; cut into
 * chunks of random size (1 B .. 64 KiB) as a pipe delivers them.
 */
function* stdoutChunks(rng: Rng, count: number, oversized: number): Generator<Buffer> {
  const bigAt = new Set<number>([0, 1].filter((i) => i < oversized && i < count))
  while (bigAt.size < Math.min(oversized, count)) bigAt.add(int(rng, 2, count - 1))
  let parts: Array<Buffer> = []
  let filled = 0
  let target = int(rng, 1, 65536)
  let big = 0
  for (let i = 0; i < count; i++) {
    const line = bigAt.has(i) ? oversizedLine(rng, big++) : hostileLine(rng)
    for (const piece of [line, Buffer.from([10])]) {
      let at = 0
      while (at < piece.length) {
        const take = Math.min(piece.length - at, target - filled)
        parts.push(piece.subarray(at, at + take))
        filled += take
        at += take
        if (filled === target) {
          yield parts.length === 1 ? parts[0]! : Buffer.concat(parts)
          parts = []
          filled = 0
          target = int(rng, 1, 65536)
        }
      }
    }
  }
  if (filled > 0) yield Buffer.concat(parts)
}

// ------------------------------------------------------------------ the path under test

interface Tally {
  lines: number
  events: number
  malformed: number
  blank: number
  maxLineChars: number
}

/** Both consumers of the path: a direct decodeLine → observeLine fold, and TranscriptIngest with a redactor. */
class Harness {
  readonly ingest = new TranscriptIngest(makeRedactor(env))
  observation: Observation = emptyObservation
  readonly tally: Tally = { lines: 0, events: 0, malformed: 0, blank: 0, maxLineChars: 0 }
  stored = 0
  leaked = 0
  readonly splitter: LineSplitter

  constructor(maxLineBytes?: number) {
    this.splitter = new LineSplitter(maxLineBytes)
  }

  feed(lines: ReadonlyArray<string>) {
    if (lines.length === 0) return
    for (const line of lines) {
      const decoded = decodeLine(line)
      this.tally.lines++
      this.tally.maxLineChars = Math.max(this.tally.maxLineChars, line.length)
      if (decoded._tag === "Event") this.tally.events++
      else {
        this.tally.malformed++
        if (line.trim() === "") this.tally.blank++
        assert.isAtMost(decoded.preview.length, 200)
      }
      this.observation = observeLine(this.observation, line, decoded)
    }
    const batch = this.ingest.push(lines)
    assert.strictEqual(batch.stored.length, lines.length)
    this.stored += batch.stored.length
    for (const s of batch.stored) {
      if (s.includes(secretValue) || s.includes(apiKey) || s.includes("sk-ant-api03")) this.leaked++
    }
  }

  run(chunks: Iterable<Buffer>) {
    for (const chunk of chunks) this.feed(this.splitter.push(chunk))
  }

  end() {
    this.feed(this.splitter.end())
  }
}

const checkAccounting = (h: Harness, expectedLines: number) => {
  const t = h.tally
  assert.strictEqual(t.lines, expectedLines, "every line the splitter was given came out once")
  assert.strictEqual(t.events + t.malformed, t.lines, "events + malformed == lines")
  assert.strictEqual(h.stored, t.lines, "every line is stored")
  assert.strictEqual(h.leaked, 0, "no secret reaches the store")
  for (const o of [h.observation, h.ingest.observation]) {
    assert.strictEqual(o.stdoutLines, t.lines)
    assert.strictEqual(o.malformedLines, t.malformed - t.blank, "blank lines are not malformed")
    assert.isAtMost(o.malformedSamples.length, maxMalformedSamples)
    for (const s of o.malformedSamples) assert.isAtMost(s.length, 200)
    assert.isAtMost(o.firstStdoutLine?.length ?? 0, 200)
  }
  assert.strictEqual(h.ingest.observation.malformedLines, h.observation.malformedLines)
  assert.strictEqual(h.ingest.observation.assistantMessages, h.observation.assistantMessages)
  assert.isTrue(t.events > 0 && t.malformed > 0, `a mix of both: ${JSON.stringify(t)}`)
}

describe("stream-json decoder fuzz (10k hostile lines through the byte path)", () => {
  it("never throws, accounts for every line, keeps bounded samples and bounded memory", () => {
    const rng = prng(0xa6e7)
    // Warm-up on a throwaway harness (JIT, schema caches); then the baseline heap with a fresh
    // harness alive, so that the first lines it sees are the oversized ones.
    new Harness().run(stdoutChunks(prng(1), 300, 0))
    const h = new Harness()
    const before = settledHeap()

    h.run(stdoutChunks(rng, 10_000, 4))
    const after10k = settledHeap()
    h.run(stdoutChunks(rng, 10_000, 4))
    h.end()
    const after20k = settledHeap()

    checkAccounting(h, 20_000)
    assert.strictEqual(h.splitter.truncatedLines, 0)
    assert.isTrue(h.tally.maxLineChars >= oversizedBytes, "the 16 MiB lines went through whole")

    const growth10k = after10k - before
    const growth20k = after20k - before
    const mb = (n: number) => `${(n / MiB).toFixed(1)} MiB`
    const detail = `heap growth: ${mb(growth10k)} after 10k lines, ${mb(growth20k)} after 20k (16 MiB lines seen: 8)`
    // Anything that keeps one of the 16 MiB lines (e.g. a 200-char preview that is a V8 sliced
    // string of the whole line) costs at least 16 MiB; a per-line leak grows with the count.
    assert.isBelow(growth10k, 8 * MiB, detail)
    assert.isBelow(growth20k, 8 * MiB, detail)
    assert.isBelow(growth20k - growth10k, 4 * MiB, detail)
  }, 60_000)

  it("with a 1 MiB line cap, oversized lines are cut, still decoded safely and still counted once", () => {
    const rng = prng(0x5eed)
    const h = new Harness(MiB)
    h.run(stdoutChunks(rng, 2_000, 3))
    h.end()
    checkAccounting(h, 2_000)
    assert.isAtLeast(h.splitter.truncatedLines, 3)
    assert.isAtMost(h.tally.maxLineChars, MiB)
    assert.include(h.ingest.redactor.redact(`x ${secretValue} y`), redactedMarker)
  }, 60_000)
})
