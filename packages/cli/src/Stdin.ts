/**
 * Reads all of stdin as UTF-8 (the prompt, when none is given as an argument).
 *
 * @module
 */
import * as Effect from "effect/Effect"
/** All of stdin, or "" when stdin is a terminal (nothing is piped in). */
export const readStdin: Effect.Effect<string> = Effect.callback<string>((resume) => {
  if (process.stdin.isTTY === true) {
    resume(Effect.succeed(""))
    return
  }
  const chunks: Array<Buffer> = []
  const onData = (c: Buffer) => void chunks.push(c)
  const onEnd = () => resume(Effect.succeed(Buffer.concat(chunks).toString("utf8")))
  process.stdin.on("data", onData)
  process.stdin.once("end", onEnd)
  process.stdin.once("error", onEnd)
  return Effect.sync(() => {
    process.stdin.off("data", onData)
    process.stdin.off("end", onEnd)
  })
})
