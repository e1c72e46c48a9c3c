/**
 * Real-shaped synthetic stream-json for the benchmarks: the lines of the recorded `claude`
 * transcripts (test/fixtures/transcripts), re-emitted turn after turn with fresh ids and varied
 * content: assistant text, assistant tool_use, user tool_result (mostly short, some long tool
 * outputs, a few with a secret in them), the odd `system/api_retry`, a `system/init` first and a
 * `result` last. Deterministic (seeded).
 */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { prng } from "../support/prng.ts"

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..")
const transcriptsDir = join(repoRoot, "test/fixtures/transcripts")

/** A secret env value that appears in some tool outputs (redaction has work to do). */
export const benchSecretName = "BENCH_SERVICE_TOKEN"
export const benchSecretValue = "tok-bench-secret-value-0042"

type Json = Record<string, unknown>

const fixtureObjects = (): ReadonlyArray<Json> =>
  readdirSync(transcriptsDir)
    .filter((f) => f.endsWith(".stdout.jsonl"))
    .sort()
    .flatMap((f) => readFileSync(join(transcriptsDir, f), "utf8").split("\n").filter((l) => l !== ""))
    .map((l) => JSON.parse(l) as Json)

type Rng = ReturnType<typeof prng>

const words = [
  "the", "file", "function", "return", "const", "import", "test", "error", "value", "string", "number", "await",
  "Effect", "stream", "line", "process", "result", "agent", "output", "config", "path", "module", "export", "type",
  "src/index.ts", "packages/core", "node_modules", "npm", "pnpm", "build", "passed", "failed", "warning:", "TODO",
  "é", "naïve", "日本語", "✓", "→", "😀", "\"quoted\"", "back\\slash", "{", "}", "[", "]", "=>", "&&", "||"
]

/** A ~1 MiB corpus of tool-output-like text (lines, indentation, quotes, some non-ASCII). */
const makeCorpus = (rng: Rng): string => {
  const parts: Array<string> = []
  let size = 0
  while (size < 1 << 20) {
    const n = 3 + Math.floor(rng() * 14)
    let line = "  ".repeat(Math.floor(rng() * 4))
    for (let i = 0; i < n; i++) line += (i === 0 ? "" : " ") + words[Math.floor(rng() * words.length)]
    parts.push(line)
    size += line.length + 1
  }
  return parts.join(rng() < 0.5 ? "\n" : "\r\n")
}

const uuid = (rng: Rng): string => {
  const h = () => Math.floor(rng() * 0x10000).toString(16).padStart(4, "0")
  return `${h()}${h()}-${h()}-4${h().slice(1)}-a${h().slice(1)}-${h()}${h()}${h()}`
}

/** A generator of real-shaped lines. */
export const makeTranscript = (seed = 42) => {
  const rng = prng(seed)
  const fixtures = fixtureObjects()
  const first = <A>(p: (o: Json) => boolean): A => structuredClone(fixtures.find(p)) as A
  const init = first<Json>((o) => o["type"] === "system" && o["subtype"] === "init")
  const retry = first<Json>((o) => o["type"] === "system" && o["subtype"] === "api_retry")
  const text = first<Json & { message: Json & { content: Array<Json> } }>((o) =>
    o["type"] === "assistant" && JSON.stringify(o).includes(`"type":"text"`)
  )
  const toolUse = first<Json & { message: Json & { content: Array<Json> } }>((o) =>
    o["type"] === "assistant" && JSON.stringify(o).includes(`"type":"tool_use"`)
  )
  const toolResult = first<Json & { message: Json & { content: Array<Json> }; tool_use_result: Json }>((o) =>
    o["type"] === "user" && "tool_use_result" in o
  )
  const result = first<Json>((o) => o["type"] === "result" && o["subtype"] === "success" && o["is_error"] === false)
  const corpus = makeCorpus(rng)
  const session = uuid(rng)
  const slice = (len: number) => {
    const at = Math.floor(rng() * (corpus.length - len))
    return corpus.slice(at, at + len)
  }
  const stamp = () => new Date(Date.UTC(2026, 10, 21, 20, 0, 0) + Math.floor(rng() * 3.6e6)).toISOString()
  let turn = 0

  const assistantText = (): string => {
    const o = structuredClone(text)
    o.message["id"] = `msg_${uuid(rng).replaceAll("-", "")}`
    o.message.content = [{ type: "text", text: slice(40 + Math.floor(rng() * 1500)) }]
    Object.assign(o, { session_id: session, uuid: uuid(rng), timestamp: stamp() })
    return JSON.stringify(o)
  }
  const assistantToolUse = (id: string): string => {
    const o = structuredClone(toolUse)
    o.message["id"] = `msg_${uuid(rng).replaceAll("-", "")}`
    o.message.content = [{
      type: "tool_use",
      id,
      name: rng() < 0.7 ? "Bash" : "Read",
      input: { command: slice(20 + Math.floor(rng() * 200)), description: slice(20) }
    }]
    Object.assign(o, { session_id: session, uuid: uuid(rng), timestamp: stamp() })
    return JSON.stringify(o)
  }
  const userToolResult = (id: string): string => {
    const r = rng()
    // Mostly short outputs, a quarter medium, a few long ones (up to 300 KB).
    const len = r < 0.7 ? 10 + Math.floor(rng() * 500) : r < 0.95 ? 1000 + Math.floor(rng() * 20_000) : 50_000 + Math.floor(rng() * 250_000)
    let content = slice(len)
    if (rng() < 0.02) content = `${content}\nexport ${benchSecretName}=${benchSecretValue}\n`
    const o = structuredClone(toolResult)
    o.message.content = [{ tool_use_id: id, type: "tool_result", content, is_error: false }]
    o.tool_use_result = { ...o.tool_use_result, stdout: content }
    Object.assign(o, { session_id: session, uuid: uuid(rng), timestamp: stamp() })
    return JSON.stringify(o)
  }

  return {
    /** The first line. */
    init: (): string => JSON.stringify({ ...init, session_id: session }),
    /** The lines of one turn: text, tool use, tool result, sometimes an API retry first. */
    turn: (): Array<string> => {
      turn++
      const id = `toolu_${uuid(rng).replaceAll("-", "")}`
      const lines: Array<string> = []
      if (rng() < 0.01) lines.push(JSON.stringify({ ...retry, attempt: 1 + (turn % 3), session_id: session, uuid: uuid(rng) }))
      if (rng() < 0.8) lines.push(assistantText())
      lines.push(assistantToolUse(id), userToolResult(id))
      return lines
    },
    /** The last line. */
    result: (): string => JSON.stringify({ ...result, session_id: session, num_turns: turn, uuid: uuid(rng) })
  }
}

/** About `bytes` of stream-json (init, turns, result), newline-terminated. */
export const transcriptBytes = (bytes: number, seed = 42): Buffer => {
  const t = makeTranscript(seed)
  const lines = [t.init()]
  let size = lines[0]!.length
  while (size < bytes) {
    for (const l of t.turn()) {
      lines.push(l)
      size += Buffer.byteLength(l) + 1
    }
  }
  lines.push(t.result())
  return Buffer.from(lines.join("\n") + "\n")
}
