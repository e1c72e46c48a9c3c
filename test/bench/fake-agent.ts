/**
 * A fake `claude` for the peak-RSS benchmark: writes `BENCH_AGENT_BYTES` of real-shaped
 * stream-json to stdout as fast as the pipe takes it (the block in `BENCH_AGENT_BLOCK`, over and
 * over, after its init line), then a final `result` line, and exits 0. Ignores its arguments and
 * stdin, as the real CLI would ignore what it does not need.
 *
 *   BENCH_AGENT_BLOCK=block.jsonl BENCH_AGENT_INIT=init.json BENCH_AGENT_RESULT=result.json \
 *   BENCH_AGENT_BYTES=1073741824 node test/bench/fake-agent.ts
 */
import { readFileSync } from "node:fs"

const env = (name: string): string => {
  const v = process.env[name]
  if (v === undefined) {
    process.stderr.write(`fake-agent: ${name} is not set\n`)
    process.exit(2)
  }
  return v
}

const block = readFileSync(env("BENCH_AGENT_BLOCK"))
const init = readFileSync(env("BENCH_AGENT_INIT"))
const result = readFileSync(env("BENCH_AGENT_RESULT"))
const total = Number(env("BENCH_AGENT_BYTES"))

process.stdin.resume()
process.stdin.on("error", () => {})
process.stdout.on("error", () => process.exit(1))

const write = (b: Buffer): Promise<void> =>
  process.stdout.write(b) ? Promise.resolve() : new Promise((resolve) => process.stdout.once("drain", () => resolve()))

await write(init)
let written = init.length
while (written < total) {
  await write(block)
  written += block.length
}
await write(result)
process.exit(0)
