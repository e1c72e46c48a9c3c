import { assert, describe, it } from "@effect/vitest"
import { decodeTranscriptLine } from "../../src/domain/Protocol.ts"
import { loadTranscript, transcriptNames } from "../support/Transcripts.ts"

const line = (value: unknown) => JSON.stringify(value)

describe("decodeTranscriptLine", () => {
  it("decodes every line of every recorded transcript (none is Unparseable)", () => {
    for (const name of transcriptNames()) {
      for (const raw of loadTranscript(name).stdoutLines) {
        assert.notStrictEqual(decodeTranscriptLine(raw)._tag, "Unparseable", `${name}: ${raw.slice(0, 120)}`)
      }
    }
  })

  it("a tool-use run: session, the tool call with its input, the result with its content, claude's result", () => {
    const entries = loadTranscript("tool-use").stdoutLines.map(decodeTranscriptLine)
    assert.deepStrictEqual(entries.map((e) => e._tag), ["Init", "Assistant", "Assistant", "User", "Assistant", "Result"])
    const init = entries[0]!
    assert.isTrue(init._tag === "Init" && /^[0-9a-f-]{36}$/.test(init.sessionId ?? ""))
    const user = entries[3]!
    assert.deepStrictEqual(user._tag === "User" ? user.blocks : null, [
      { _tag: "ToolResult", toolUseId: "toolu_01mwqu621q5bnaqp01uk2v0", content: "done", isError: false }
    ])
    const result = entries[5]!
    assert.strictEqual(result._tag === "Result" ? result.result.num_turns : null, 2)
  })

  it("a denied tool call and an API retry keep their fields", () => {
    const denied = loadTranscript("tool-use-denied").stdoutLines.map(decodeTranscriptLine).find((e) => e._tag === "PermissionDenied")
    assert.strictEqual(denied?._tag === "PermissionDenied" ? denied.toolName : null, "Bash")
    const retry = loadTranscript("auth-401-default-retries-sigterm").stdoutLines.map(decodeTranscriptLine).find((e) => e._tag === "ApiRetry")
    assert.strictEqual(retry?._tag === "ApiRetry" ? retry.errorStatus : null, 401)
    assert.strictEqual(retry?._tag === "ApiRetry" ? retry.error : null, "authentication_failed")
  })

  it("tool results as parts (text and an image), errors, a subagent's message, string content", () => {
    const user = decodeTranscriptLine(line({
      type: "user",
      parent_tool_use_id: "toolu_parent",
      message: { content: [{ type: "tool_result", tool_use_id: "t1", is_error: true, content: [{ type: "text", text: "no such file" }, { type: "image", source: {} }] }] }
    }))
    assert.deepStrictEqual(user, {
      _tag: "User",
      parentToolUseId: "toolu_parent",
      blocks: [{ _tag: "ToolResult", toolUseId: "t1", content: "no such file\n[image]", isError: true }]
    })
    assert.deepStrictEqual(decodeTranscriptLine(line({ type: "assistant", message: { content: "plain" } })), {
      _tag: "Assistant",
      blocks: [{ _tag: "Text", text: "plain" }],
      error: null,
      parentToolUseId: null
    })
  })

  it("what is not stream-json is Unparseable, kept whole; unknown types and subtypes are Other / System", () => {
    assert.deepStrictEqual(decodeTranscriptLine("npm WARN something"), { _tag: "Unparseable", reason: "not a JSON object", line: "npm WARN something" })
    assert.deepStrictEqual(decodeTranscriptLine("{\"type\":"), { _tag: "Unparseable", reason: "not JSON", line: "{\"type\":" })
    assert.strictEqual(decodeTranscriptLine("{\"nope\":1}")._tag, "Unparseable")
    assert.deepStrictEqual(decodeTranscriptLine(line({ type: "stream_event", event: {} })), { _tag: "Other", type: "stream_event" })
    assert.deepStrictEqual(decodeTranscriptLine(line({ type: "system", subtype: "hook_response" })), { _tag: "System", subtype: "hook_response" })
    // A result line with one odd field is still the result.
    const odd = decodeTranscriptLine(line({ type: "result", subtype: "success", num_turns: "2", result: "ok" }))
    assert.strictEqual(odd._tag === "Result" ? odd.result.result : null, "ok")
  })
})
