import { assert, describe, it } from "@effect/vitest"
import { decodeLine, isAssistant, isResult, isSystemInit } from "../../src/domain/Protocol.ts"
import { emptyObservation, observeLine } from "../../src/domain/Observation.ts"
import { loadTranscript, observe, transcriptNames } from "../support/Transcripts.ts"

describe("stream-json decoding on real transcripts", () => {
  it("every line of every recorded transcript decodes to an event", () => {
    for (const name of transcriptNames()) {
      for (const line of loadTranscript(name).stdoutLines) {
        const decoded = decodeLine(line)
        assert.strictEqual(decoded._tag, "Event", `${name}: ${line.slice(0, 120)}`)
      }
    }
  })

  it("reads init, assistant content, tool uses and the result of a tool-use run", () => {
    const o = observe(loadTranscript("tool-use"))
    assert.match(o.init?.sessionId ?? "", /^[0-9a-f-]{36}$/)
    assert.isTrue(o.assistantMessages >= 2)
    assert.strictEqual(o.toolUses, 1)
    assert.strictEqual(o.result?.subtype, "success")
    assert.strictEqual(o.result?.is_error, false)
    assert.isTrue((o.result?.total_cost_usd ?? 0) > 0)
    assert.strictEqual(o.malformedLines, 0)
  })

  it("condenses system/api_retry lines", () => {
    const o = observe(loadTranscript("auth-401-default-retries-sigterm"))
    assert.isTrue(o.apiRetryCount >= 2)
    assert.strictEqual(o.apiRetries[0]?.errorStatus, 401)
    assert.strictEqual(o.apiRetries[0]?.error, "authentication_failed")
    assert.isTrue((o.apiRetries[0]?.retryDelayMs ?? 0) > 0)
    assert.strictEqual(o.assistantMessagesSinceRetry, 0)
  })

  it("collects assistant.error categories from synthetic error messages", () => {
    const o = observe(loadTranscript("billing-400"))
    assert.include(o.assistantErrors, "billing_error")
  })

  it("keeps unknown types and fields without failing", () => {
    const decoded = decodeLine(JSON.stringify({ type: "stream_event", event: { x: 1 }, future: true }))
    assert.strictEqual(decoded._tag, "Event")
    if (decoded._tag === "Event") assert.strictEqual(decoded.event.type, "stream_event")
    const result = decodeLine(JSON.stringify({ type: "result", subtype: "success", is_error: false, brand_new_field: [1] }))
    assert.isTrue(result._tag === "Event" && isResult(result.event))
  })

  it("a result line with a mistyped field is still a result, the field absent", () => {
    const decoded = decodeLine(JSON.stringify({ type: "result", subtype: "success", is_error: false, result: "done", num_turns: "2", errors: [{ message: "boom" }] }))
    assert.isTrue(decoded._tag === "Event" && isResult(decoded.event))
    if (decoded._tag !== "Event" || !isResult(decoded.event)) return
    assert.strictEqual(decoded.event.result, "done")
    assert.isUndefined(decoded.event.num_turns)
    assert.isUndefined(decoded.event.errors)
  })

  it("keeps the most recent assistant.error last, also when it repeats an earlier one", () => {
    const error = (e: string) => JSON.stringify({ type: "assistant", message: { id: e, content: [{ type: "text", text: e }] }, error: e })
    let o = emptyObservation
    for (const line of [error("rate_limit"), error("authentication_failed"), error("rate_limit")]) o = observeLine(o, line, decodeLine(line))
    assert.deepStrictEqual(o.assistantErrors, ["authentication_failed", "rate_limit"])
  })

  it("records malformed lines as values, never throws", () => {
    for (const line of ["", "not json", "{", "[1,2]", "{\"type\": 5}", "\u0000\u0001binary", "{\"type\":\"assistant\",\"message\":7}"]) {
      const decoded = decodeLine(line)
      if (decoded._tag === "Event") {
        // `{"type":"assistant","message":7}` is kept as an unknown-shaped event, not an assistant message.
        assert.isFalse(isAssistant(decoded.event))
      }
    }
    let o = emptyObservation
    for (const line of ["garbage", "{\"nope\":1}", "more garbage", "4th"]) o = observeLine(o, line, decodeLine(line))
    assert.strictEqual(o.malformedLines, 4)
    assert.strictEqual(o.malformedSamples.length, 3)
  })

  it("narrowing helpers tell system init apart from other system lines", () => {
    const init = decodeLine("{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"s\"}")
    const hook = decodeLine("{\"type\":\"system\",\"subtype\":\"hook_response\"}")
    assert.isTrue(init._tag === "Event" && isSystemInit(init.event))
    assert.isTrue(hook._tag === "Event" && !isSystemInit(hook.event))
  })
})
