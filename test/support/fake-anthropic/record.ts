/**
 * Records real `claude` transcripts against the fake into test/fixtures/transcripts/.
 *
 *   node --disable-warning=ExperimentalWarning test/support/fake-anthropic/record.ts [name ...]
 *
 * For each case writes `<name>.stdout.jsonl`, `<name>.stderr.txt` and `<name>.json`
 * (meta: argv, env overrides, exit code, signal, duration, scenario, requests summary).
 * The fake API key never appears in the files (it is not in argv; env is listed without it).
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { start } from "./FakeMessagesApi.ts"
import type { Scenario } from "./FakeMessagesApi.ts"
import { scenarios } from "./scenarios.ts"
import { repoRoot, runClaude } from "./runClaude.ts"
import type { RunClaudeOptions } from "./runClaude.ts"

interface Case {
  readonly name: string
  readonly description: string
  readonly scenario: Scenario
  readonly flags?: ReadonlyArray<string>
  readonly prompt?: string | null
  readonly env?: Readonly<Record<string, string>>
  readonly timeoutMs?: number
  readonly interrupt?: RunClaudeOptions["interrupt"]
  readonly ulimitVKb?: number
}

const bash = ["--allowedTools", "Bash"]
/** A tool call that never ends, as the interrupt-during-tool fixtures were recorded. */
const toolSleepChained: Scenario = {
  name: "toolSleepChained",
  replies: [{ kind: "toolUse", command: "echo start && sleep 1000", description: "Wait" }, { kind: "text", text: "done" }]
}
const sawToolUse = ({ stdoutLines }: { stdoutLines: ReadonlyArray<string> }) =>
  stdoutLines.some((l) => l.includes("\"type\":\"tool_use\""))

export const cases: ReadonlyArray<Case> = [
  { name: "success", description: "plain text reply", scenario: scenarios.success },
  { name: "tool-use", description: "Bash tool_use (allowed via --allowedTools Bash) then text", scenario: scenarios.toolUse, flags: bash },
  {
    name: "tool-use-denied",
    description: "Bash tool_use writing a file without --allowedTools: permission_denied, run still succeeds",
    scenario: scenarios.toolUse
  },
  {
    name: "agent-error-max-turns",
    description: "--max-turns 1 with a tool_use: result subtype error_max_turns, exit 1",
    scenario: scenarios.toolLoop,
    flags: ["--max-turns", "1", ...bash]
  },
  { name: "empty", description: "message with no content blocks, stop_reason end_turn (claude nudges once, then success with empty result)", scenario: scenarios.empty },
  {
    name: "empty-null-stop",
    description: "message with no content blocks and stop_reason null: error_during_execution with [ede_diagnostic]",
    scenario: scenarios.emptyNullStop
  },
  {
    name: "empty-max-tokens",
    description: "no content blocks, stop_reason max_tokens: claude resumes 3 times then gives up (api_error)",
    scenario: scenarios.emptyMaxTokens
  },
  {
    name: "auth-401",
    description: "401 authentication_error, retries bounded by CLAUDE_CODE_MAX_RETRIES=1",
    scenario: scenarios.auth401,
    env: { CLAUDE_CODE_MAX_RETRIES: "1" }
  },
  {
    name: "auth-401-default-retries-sigterm",
    description: "401 with default retries (10, exponential backoff); SIGTERM sent at 12 s",
    scenario: scenarios.auth401,
    interrupt: { signal: "SIGTERM", afterMs: 12_000 },
    timeoutMs: 30_000
  },
  { name: "overloaded-529", description: "529 overloaded_error on every request (default retry settings)", scenario: scenarios.overloaded529 },
  {
    name: "overloaded-then-success",
    description: "one 529 then a text reply",
    scenario: scenarios.overloadedThenSuccess
  },
  {
    name: "rate-limit-429",
    description: "429 rate_limit_error with retry-after: 1, CLAUDE_CODE_MAX_RETRIES=1",
    scenario: scenarios.rateLimit429,
    env: { CLAUDE_CODE_MAX_RETRIES: "1" }
  },
  { name: "api-error-500", description: "500 api_error, CLAUDE_CODE_MAX_RETRIES=1", scenario: scenarios.apiError500, env: { CLAUDE_CODE_MAX_RETRIES: "1" } },
  { name: "not-found-404", description: "404 not_found_error (model)", scenario: scenarios.notFound404, env: { CLAUDE_CODE_MAX_RETRIES: "1" } },
  { name: "permission-403", description: "403 permission_error", scenario: scenarios.permission403, env: { CLAUDE_CODE_MAX_RETRIES: "1" } },
  { name: "billing-400", description: "400 invalid_request_error 'credit balance is too low'", scenario: scenarios.billing400, env: { CLAUDE_CODE_MAX_RETRIES: "1" } },
  {
    name: "prompt-too-long-400",
    description: "400 invalid_request_error 'prompt is too long'",
    scenario: scenarios.promptTooLong400,
    env: { CLAUDE_CODE_MAX_RETRIES: "1" }
  },
  { name: "stream-error", description: "200 SSE with event: error (overloaded_error) after message_start", scenario: scenarios.streamError, env: { CLAUDE_CODE_MAX_RETRIES: "1" } },
  {
    name: "cut-mid-stream",
    description: "SSE cut after 3 events (socket destroyed), CLAUDE_CODE_MAX_RETRIES=2; claude finally tries non-streaming",
    scenario: scenarios.cutMidStream,
    env: { CLAUDE_CODE_MAX_RETRIES: "2" }
  },
  { name: "max-tokens", description: "text reply with stop_reason max_tokens", scenario: scenarios.maxTokens },
  {
    name: "sigint-while-hang",
    description: "fake accepts the request and sends nothing; SIGINT at 3 s",
    scenario: scenarios.hang,
    interrupt: { signal: "SIGINT", afterMs: 3_000 }
  },
  {
    name: "sigint-while-hang-no-result",
    description: "same as sigint-while-hang; RACY: ~2/3 of runs print NO result line (only init + '[Request interrupted by user]' user line) yet exit 0. This fixture holds that variant.",
    scenario: scenarios.hang,
    interrupt: { signal: "SIGINT", afterMs: 3_000 }
  },
  {
    name: "sigint-while-hang-after-headers",
    description: "fake sends 200 + message_start then stalls; SIGINT at 3 s",
    scenario: scenarios.hangAfterHeaders,
    interrupt: { signal: "SIGINT", afterMs: 3_000 }
  },
  {
    name: "sigint-while-streaming",
    description: "slowText (5 s); SIGINT at 2.5 s",
    scenario: scenarios.slowText,
    interrupt: { signal: "SIGINT", afterMs: 2_500 }
  },
  {
    name: "sigint-during-tool",
    description: "Bash `echo start && sleep 1000`; SIGINT 2 s after the tool_use line appears",
    scenario: toolSleepChained,
    flags: bash,
    interrupt: { signal: "SIGINT", when: sawToolUse, delayMs: 2_000 }
  },
  {
    name: "sigterm-during-tool",
    description: "Bash `echo start && sleep 1000`; SIGTERM 2 s after the tool_use line appears",
    scenario: toolSleepChained,
    flags: bash,
    interrupt: { signal: "SIGTERM", when: sawToolUse, delayMs: 2_000 }
  },
  {
    name: "bare-sleep-blocked",
    description: "Bash `sleep 1000` alone is refused by claude's sleep guard (tool_result is_error)",
    // What the stored fixture was recorded with (claude 2.1.330 refuses it; the shared toolSleep runs).
    scenario: {
      name: "toolSleep",
      replies: [{ kind: "toolUse", command: "sleep 1000 && echo finished", description: "Wait for a long time" }, { kind: "text", text: "Slept." }]
    },
    flags: bash
  },
  { name: "no-prompt", description: "stdin closed immediately, nothing written", scenario: scenarios.success, prompt: null },
  { name: "empty-prompt-newline", description: "stdin is just a newline", scenario: scenarios.success, prompt: "\n" },
  { name: "slow-text", description: "text streamed over 5 s, no interruption", scenario: scenarios.slowText }
]

/** ulimit -v cases are added by name `ulimit-v-<KB>`. */
const ulimitCase = (kb: number): Case => ({
  name: `ulimit-v-${kb}`,
  description: `bash -c 'ulimit -v ${kb}; exec claude ...' (virtual memory limit ${kb} KiB)`,
  scenario: scenarios.success,
  ulimitVKb: kb,
  timeoutMs: 30_000
})

const outDir = join(repoRoot, "test/fixtures/transcripts")

const recordOne = async (c: Case): Promise<string> => {
  const api = await start({ scenario: c.scenario })
  const prompt = c.prompt === undefined ? "Please answer." : c.prompt
  const run = await runClaude({
    url: api.url,
    flags: c.flags ?? [],
    prompt,
    ...(c.env !== undefined ? { env: c.env } : {}),
    timeoutMs: c.timeoutMs ?? 60_000,
    ...(c.interrupt !== undefined ? { interrupt: c.interrupt } : {}),
    ...(c.ulimitVKb !== undefined ? { ulimitVKb: c.ulimitVKb } : {})
  })
  await api.close()
  const argv = run.argv.map((a) => a.startsWith(repoRoot) ? a.slice(repoRoot.length + 1) : a)
  const meta = {
    name: c.name,
    description: c.description,
    argv,
    stdin: prompt,
    envOverrides: {
      ANTHROPIC_BASE_URL: "http://127.0.0.1:<port>",
      ANTHROPIC_API_KEY: "<fake, omitted>",
      HOME: "<tmp>",
      CLAUDE_CONFIG_DIR: "<tmp>/.claude",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_AUTOUPDATER: "1",
      DISABLE_TELEMETRY: "1",
      DISABLE_ERROR_REPORTING: "1",
      ...(c.env ?? {})
    },
    exitCode: run.exitCode,
    signal: run.signal,
    durationMs: run.durationMs,
    timedOut: run.timedOut,
    interrupt: c.interrupt === undefined ? null : { signal: c.interrupt.signal, sentAtMs: run.interruptSentAtMs ?? null },
    ulimitVKb: c.ulimitVKb ?? null,
    stdoutBytes: Buffer.byteLength(run.stdout),
    stderrBytes: Buffer.byteLength(run.stderr),
    scenario: c.scenario,
    requests: api.requests.map((r) => {
      const b = r.body as { model?: unknown; stream?: unknown; messages?: ReadonlyArray<unknown> } | undefined
      return {
        atMs: r.atMs,
        method: r.method,
        path: r.path,
        replyIndex: r.replyIndex ?? null,
        replyKind: r.replyKind ?? null,
        model: b?.model ?? null,
        stream: b?.stream ?? null,
        messages: b?.messages?.length ?? null,
        stainlessTimeout: r.headers["x-stainless-timeout"] ?? null
      }
    })
  }
  writeFileSync(join(outDir, `${c.name}.stdout.jsonl`), run.stdout)
  writeFileSync(join(outDir, `${c.name}.stderr.txt`), run.stderr)
  writeFileSync(join(outDir, `${c.name}.json`), JSON.stringify(meta, null, 2) + "\n")
  const result = [...run.events].reverse().find((e) => e["type"] === "result")
  return `${c.name}: exit=${run.exitCode} signal=${run.signal} ${run.durationMs}ms stdout=${meta.stdoutBytes}B stderr=${meta.stderrBytes}B` +
    (result ? ` result.subtype=${String(result["subtype"])} is_error=${String(result["is_error"])} terminal_reason=${String(result["terminal_reason"])}` : " (no result)")
}

const main = async () => {
  mkdirSync(outDir, { recursive: true })
  const wanted = process.argv.slice(2)
  const all: Array<Case> = [...cases]
  for (const w of wanted) {
    const m = /^ulimit-v-(\d+)$/.exec(w)
    if (m !== null) all.push(ulimitCase(Number(m[1])))
  }
  const selected = wanted.length === 0 ? all : all.filter((c) => wanted.includes(c.name))
  // Bounded concurrency: 4 claude processes at a time.
  const queue = [...selected]
  const worker = async () => {
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
      try {
        console.log(await recordOne(c))
      } catch (e) {
        console.log(`${c.name}: FAILED ${String(e)}`)
      }
    }
  }
  await Promise.all([worker(), worker(), worker(), worker()])
}

await main()
