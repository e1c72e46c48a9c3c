/**
 * The README's main job, offline: starts the fake Anthropic Messages API on loopback, runs the real
 * `claude` binary through the real `agentrun run` CLI three times, and shows what agentrun says.
 *
 *   npx --yes pnpm@10.34.9 install && npx pnpm@10.34.9 -s demo
 *   node --disable-warning=ExperimentalWarning test/demo/demo.ts
 *
 * 1. a successful run with a tool turn (claude's Bash tool really runs, in a scratch directory);
 * 2. the API rejects the key (HTTP 401) → AuthenticationFailed, exit 1;
 * 3. claude under a 200 MB address-space limit (`ulimit -v`, on the agent only) dies by a signal
 *    → KilledBySignal, exit 3.
 *
 * Runs are stored under a temporary XDG_STATE_HOME (removed at the end) unless XDG_STATE_HOME is
 * set, in which case they stay there. Exits 0 when every verdict was the expected one, else 1.
 */
import { spawn } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { isAbsolute, join } from "node:path"
import { type FakeMessagesApi, offlineClaudeEnv, type Scenario, start } from "../support/fake-anthropic/FakeMessagesApi.ts"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import { agentrunBin, baseEnv, claudeExe, makeSandbox, nodeBinary, ulimitWrapper } from "../e2e/support/harness.ts"

interface Step {
  readonly title: string
  readonly scenario: Scenario
  readonly prompt: string
  /** agentrun flags before the prompt. */
  readonly flags: (sandbox: ReturnType<typeof makeSandbox>) => ReadonlyArray<string>
  readonly claudeArgs: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  readonly expected: { readonly tag: string; readonly exitCode: number }
}

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[22m` : s)

const steps: ReadonlyArray<Step> = [
  {
    title: "a successful run with a tool turn (claude's Bash tool creates a file)",
    scenario: scenarios.toolUse,
    prompt: "Create a file, then tell me what you did.",
    flags: (sb) => ["--cwd", sb.work],
    claudeArgs: ["--allowedTools", "Bash"],
    env: {},
    expected: { tag: "Succeeded", exitCode: 0 }
  },
  {
    title: "a failure: the API rejects the key (HTTP 401)",
    scenario: scenarios.auth401,
    prompt: "Say hello.",
    flags: (sb) => ["--cwd", sb.work],
    claudeArgs: [],
    env: { CLAUDE_CODE_MAX_RETRIES: "1" },
    expected: { tag: "AuthenticationFailed", exitCode: 1 }
  },
  {
    title: "a failure: claude under `ulimit -v 200000` (a 200 MB address-space limit on the agent only)",
    scenario: scenarios.success,
    prompt: "Say hello.",
    flags: (sb) => ["--cwd", sb.work, "--claude-path", ulimitWrapper(sb, 200_000)],
    claudeArgs: [],
    env: {},
    expected: { tag: "KilledBySignal", exitCode: 3 }
  }
]

interface Verdict {
  readonly title: string
  readonly exitCode: number | null
  readonly tag: string | null
  readonly line: string
  readonly ok: boolean
}

const userStateHome = process.env["XDG_STATE_HOME"]
const keepRuns = userStateHome !== undefined && isAbsolute(userStateHome)
const sandbox = makeSandbox("agentrun-demo-")
const stateHome = keepRuns ? userStateHome : sandbox.stateHome
const runsDir = join(stateHome, "agentrun", "runs")
const listRuns = (): ReadonlyArray<string> => (existsSync(runsDir) ? readdirSync(runsDir) : [])

let interrupted = false
// Ctrl-C reaches agentrun too (same terminal group): it stops claude and reports Cancelled; we stop after it.
process.on("SIGINT", () => void (interrupted = true))
process.on("SIGTERM", () => void (interrupted = true))

const runStep = async (n: number, step: Step): Promise<Verdict> => {
  process.stdout.write(`\n${bold(`== ${n}. ${step.title} ==`)}\n`)
  const api: FakeMessagesApi = await start({ scenario: step.scenario })
  try {
    const args = ["run", ...step.flags(sandbox), step.prompt, ...(step.claudeArgs.length > 0 ? ["--", ...step.claudeArgs] : [])]
    process.stdout.write(`$ agentrun ${args.map((a) => (/[\s`$]/.test(a) ? JSON.stringify(a) : a)).join(" ")}\n`)
    const before = new Set(listRuns())
    const env = {
      ...baseEnv(),
      ...offlineClaudeEnv(api.url, sandbox.home),
      XDG_STATE_HOME: stateHome,
      XDG_DATA_HOME: sandbox.dataHome,
      ...step.env
    }
    // agentrun's output goes straight to the terminal: progress and the verdict on stderr, the result on stdout.
    const child = spawn(nodeBinary, [agentrunBin, ...args], {
      cwd: sandbox.work,
      env,
      stdio: ["ignore", "inherit", "inherit"]
    })
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject)
      child.on("close", (code) => resolve(code))
    })
    const runId = listRuns().find((id) => !before.has(id))
    const record = runId === undefined
      ? null
      : JSON.parse(readFileSync(join(runsDir, runId, "record.json"), "utf8")) as {
        outcome: { _tag: string; message: string; evidence: Record<string, any> } | null
      }
    const outcome = record?.outcome ?? null
    const detail = outcome?._tag === "KilledBySignal"
      ? ` (${outcome.evidence["signal"]?.name}, likely cause: ${outcome.evidence["likelyCause"]})`
      : ""
    const tag = outcome?._tag ?? null
    return {
      title: step.title,
      exitCode,
      tag,
      line: `${tag ?? "no verdict recorded"}${detail}, exit ${exitCode}${runId === undefined ? "" : `, run ${runId}`}`,
      ok: tag === step.expected.tag && exitCode === step.expected.exitCode
    }
  } finally {
    await api.close()
  }
}

const main = async (): Promise<number> => {
  if (!existsSync(claudeExe)) {
    process.stderr.write(`demo: ${claudeExe} is missing: run \`npx --yes pnpm@10.34.9 install\` first\n`)
    return 1
  }
  process.stdout.write(
    "agentrun demo: the real `claude` binary, supervised by the real `agentrun run`, against a fake Anthropic\n" +
      "Messages API on 127.0.0.1 (no network, no real key).\n"
  )
  const verdicts: Array<Verdict> = []
  for (const [i, step] of steps.entries()) {
    if (interrupted) break
    verdicts.push(await runStep(i + 1, step))
  }
  process.stdout.write(`\n${bold("== agentrun's verdicts ==")}\n`)
  verdicts.forEach((v, i) => {
    const expected = steps[i]!.expected
    process.stdout.write(
      `${v.ok ? "✓" : "✗"} ${i + 1}. ${v.line}${v.ok ? "" : `   (expected ${expected.tag}, exit ${expected.exitCode})`}\n`
    )
  })
  process.stdout.write(
    keepRuns
      ? `Runs stored in ${runsDir}\n`
      : "Runs were stored in a temporary XDG_STATE_HOME, now removed (set XDG_STATE_HOME to keep them).\n"
  )
  const allOk = !interrupted && verdicts.length === steps.length && verdicts.every((v) => v.ok)
  process.stdout.write(allOk ? "demo: every verdict was the expected one\n" : "demo: FAILED: a verdict was not the expected one\n")
  return allOk ? 0 : 1
}

main().then(
  (code) => {
    sandbox.cleanup()
    process.exit(code)
  },
  (error: unknown) => {
    sandbox.cleanup()
    process.stderr.write(`demo: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
    process.exit(1)
  }
)
