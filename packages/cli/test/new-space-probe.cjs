// Preloaded (node -r) by HeapTuning.test.ts: at exit, prints the young generation's size (bytes)
// when the process began and the largest seen (sampled every 5 ms, and at exit).
const v8 = require("node:v8")
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0
const start = newSpace()
let largest = start
setInterval(() => (largest = Math.max(largest, newSpace())), 5).unref()
process.on("exit", () => {
  largest = Math.max(largest, newSpace())
  process.stderr.write(`\nnew-space ${JSON.stringify({ start, largest })}\n`)
})
