/**
 * Runs the REAL claude binary against the fake Messages API.
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { Effect } from "effect"
import { fakeMessagesApi, start } from "./FakeMessagesApi.ts"
import { scenarios } from "./scenarios.ts"
import { resultOf, runClaude } from "./runClaude.ts"

const withFake = async <A>(scenario: Parameters<typeof start>[0]["scenario"], f: (api: Awaited<ReturnType<typeof start>>) => Promise<A>): Promise<A> => {
  const api = await start({ scenario })
  try {
    return await f(api)
  } finally {
    await api.close()
  }
}

describe("FakeMessagesApi (HTTP level)", () => {
  it("streams SSE for stream:true and JSON otherwise, records requests with the key redacted", async () => {
    await withFake({ replies: [{ kind: "text", text: "hi there" }] }, async (api) => {
      const headers = { "content-type": "application/json", "x-api-key": "sk-ant-test-secret", "anthropic-version": "2023-06-01" }
      const sse = await fetch(`${api.url}/v1/messages?beta=true`, {
        method: "POST",
        headers,
        body: JSON.stringify({ model: "m", max_tokens: 10, stream: true, messages: [{ role: "user", content: "x" }] })
      })
      expect(sse.headers.get("content-type")).toBe("text/event-stream")
      const text = await sse.text()
      const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1])
      expect(events[0]).toBe("message_start")
      expect(events.at(-1)).toBe("message_stop")
      expect(events).toContain("message_delta")
      expect(text).toContain("\"stop_reason\":\"end_turn\"")

      const json = await fetch(`${api.url}/v1/messages`, {
        method: "POST",
        headers,
        body: JSON.stringify({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "x" }] })
      })
      const body = (await json.json()) as { content: Array<{ text: string }> }
      expect(body.content[0]?.text).toBe("hi there") // last reply repeats

      const count = await fetch(`${api.url}/v1/messages/count_tokens`, { method: "POST", headers, body: "{}" })
      expect(((await count.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0)

      expect(api.messageRequests()).toHaveLength(2)
      expect(api.requests[0]?.headers["x-api-key"]).toBe("REDACTED")
      expect(JSON.stringify(api.requests)).not.toContain("sk-ant-test-secret")
    })
  })

  it("answers errors with Anthropic error JSON and retry-after", async () => {
    await withFake({ replies: [{ kind: "error", status: 429, errorType: "rate_limit_error", retryAfterSeconds: 3 }] }, async (api) => {
      const res = await fetch(`${api.url}/v1/messages`, { method: "POST", body: "{}" })
      expect(res.status).toBe(429)
      expect(res.headers.get("retry-after")).toBe("3")
      expect(await res.json()).toMatchObject({ type: "error", error: { type: "rate_limit_error" } })
    })
  })

  it("close() ends a hanging request", async () => {
    const api = await start({ scenario: scenarios.hang })
    const pending = fetch(`${api.url}/v1/messages`, { method: "POST", body: "{}" }).then(
      () => "answered",
      () => "failed"
    )
    await new Promise((r) => setTimeout(r, 100))
    await api.close()
    expect(await pending).toBe("failed")
  })

  it("has a scoped Effect wrapper", async () => {
    const program = Effect.scoped(
      Effect.gen(function*() {
        const api = yield* fakeMessagesApi({ scenario: scenarios.success })
        return yield* Effect.promise(() => fetch(`${api.url}/v1/models`).then((r) => r.status))
      })
    )
    expect(await Effect.runPromise(program)).toBe(200)
  })
})

describe("real claude against the fake", () => {
  it("plain success", async () => {
    await withFake(scenarios.success, async (api) => {
      const run = await runClaude({ url: api.url, prompt: "Say hello.", timeoutMs: 30_000 })
      expect(run.exitCode).toBe(0)
      expect(run.events[0]).toMatchObject({ type: "system", subtype: "init", apiKeySource: "ANTHROPIC_API_KEY" })
      expect(resultOf(run)).toMatchObject({
        type: "result",
        subtype: "success",
        is_error: false,
        terminal_reason: "completed",
        result: "Hello from the fake API.",
        num_turns: 1
      })
      const req = api.messageRequests()[0]
      expect(req?.headers["x-api-key"]).toBe("REDACTED")
      expect(req?.body).toMatchObject({ stream: true })
    })
  })

  it("tool use: the Bash tool really runs", async () => {
    await withFake(scenarios.toolUse, async (api) => {
      const run = await runClaude({ url: api.url, prompt: "Create the file.", flags: ["--allowedTools", "Bash"], timeoutMs: 30_000 })
      expect(run.exitCode).toBe(0)
      const file = join(run.cwd, "fake-tool-output.txt")
      expect(existsSync(file)).toBe(true)
      expect(readFileSync(file, "utf8").trim()).toBe("created-by-fake")
      const toolResult = run.events.find((e) => e["type"] === "user")
      expect(JSON.stringify(toolResult)).toContain("\"tool_result\"")
      expect(resultOf(run)).toMatchObject({ subtype: "success", is_error: false, num_turns: 2, result: "I created the file." })
      // second request carries the tool_result back
      expect(JSON.stringify(api.messageRequests()[1]?.body)).toContain("tool_result")
    })
  })

  it("401: is_error result with api_error_status 401 (retries bounded via CLAUDE_CODE_MAX_RETRIES)", async () => {
    await withFake(scenarios.auth401, async (api) => {
      const run = await runClaude({ url: api.url, prompt: "hi", env: { CLAUDE_CODE_MAX_RETRIES: "1" }, timeoutMs: 30_000 })
      expect(run.exitCode).toBe(1)
      expect(run.events.some((e) => e["type"] === "system" && e["subtype"] === "api_retry" && e["error_status"] === 401)).toBe(true)
      expect(resultOf(run)).toMatchObject({
        subtype: "success",
        is_error: true,
        terminal_reason: "api_error",
        api_error_status: 401,
        result: "Invalid API key · Fix external API key"
      })
      expect(api.messageRequests()).toHaveLength(2)
    })
  })

  it("empty message with stop_reason null: error_during_execution with ede_diagnostic", async () => {
    await withFake(scenarios.emptyNullStop, async (api) => {
      const run = await runClaude({ url: api.url, prompt: "hi", timeoutMs: 30_000 })
      expect(run.exitCode).toBe(1)
      const result = resultOf(run)
      expect(result).toMatchObject({ subtype: "error_during_execution", is_error: true })
      expect(String((result?.["errors"] as Array<string>)[0])).toContain("last_content_type=none")
    })
  })
})
