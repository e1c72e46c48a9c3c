/**
 * Child process for HeapTuning.test.ts: allocates like a follow does (short-lived parsed JSON,
 * a window of it kept alive a little longer) and reports the young generation's size before and
 * at its largest. `tuned` as the first argument applies tuneHeapForFollowing first.
 */
import * as Effect from "effect/Effect"
import * as NodeV8 from "node:v8"
import { tuneHeapForFollowing } from "../src/HeapTuning.ts"

const newSpace = () => NodeV8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0
const start = newSpace()
if (process.argv[2] === "tuned") Effect.runSync(tuneHeapForFollowing)
let window: Array<unknown> = []
let largest = start
for (let i = 0; i < 20000; i++) {
  window.push(JSON.parse(JSON.stringify({ text: "x".repeat(2000) + i, blocks: Array.from({ length: 20 }, (_, j) => ({ j })) })))
  if (window.length > 300) window = window.slice(100)
  if (i % 100 === 0) largest = Math.max(largest, newSpace())
}
process.stdout.write(JSON.stringify({ start, largest }))
