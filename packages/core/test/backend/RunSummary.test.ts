/**
 * The stored summary's usage (issue 15): after agentrun's SIGINT cut a reply mid-stream claude's
 * result says 0 tokens though the run cost money; the summary counts what was used.
 */
import { assert, describe, it } from "@effect/vitest"
import { fromNodeExit } from "../../src/domain/ExitStatus.ts"
import { verdict } from "../../src/domain/Verdict.ts"
import { summaryOf } from "../../src/backend/RunSupervision.ts"
import { factsOf, loadTranscript } from "../support/Transcripts.ts"

const summaryFor = (name: string) => {
  const facts = factsOf(loadTranscript(name))
  return { facts, summary: summaryOf(verdict(facts), facts.observation, fromNodeExit(0, null), 1000) }
}

describe("summaryOf", () => {
  it("usage all zeros with a cost (SIGINT mid-stream): the tokens claude's modelUsage counted", () => {
    const { facts, summary } = summaryFor("sigint-while-streaming")
    assert.deepStrictEqual({ in: facts.observation.result?.usage?.input_tokens, out: facts.observation.result?.usage?.output_tokens }, { in: 0, out: 0 })
    assert.isAbove(summary.costUsd ?? 0, 0)
    assert.deepStrictEqual(summary.usage, { input_tokens: 12, output_tokens: 29, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 })
  })

  it("a result's own usage is kept as claude wrote it", () => {
    const { facts, summary } = summaryFor("tool-use")
    assert.deepStrictEqual(summary.usage, facts.observation.result?.usage)
    // Nothing used and nothing paid (a hang answered SIGINT before any reply): zeros stay zeros.
    const hang = summaryFor("sigint-while-hang").summary
    assert.strictEqual(hang.usage?.input_tokens, 0)
  })
})
