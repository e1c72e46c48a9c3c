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
 * 4. `run --backend k8s` against our fake Kubernetes API server (test/support/fake-k8s), whose
 *    simulated node runs the Job's entry script, so the real claude runs "in a pod" → Succeeded;
 * 5. the same, the container OOM-killed while claude waits on the API (the fake's `oomKill`
 *    fault: terminated reason OOMKilled, the node's OOMKilling event) → OutOfMemory, exit 3.
 *
 * Runs are stored under a temporary XDG_STATE_HOME (removed at the end) unless XDG_STATE_HOME is
 * set, in which case they stay there. Exits 0 when every verdict was the expected one, else 1.
 */
import { spawn } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { isAbsolute, join } from "node:path"
import { type FakeMessagesApi, offlineClaudeEnv, type Scenario, start } from "../support/fake-anthropic/FakeMessagesApi.ts"
import { claudeBinary } from "../support/fake-anthropic/runClaude.ts"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import { type FakeKubernetes, hostImage, start as startKubernetes } from "../support/fake-k8s/FakeKubernetes.ts"
import { agentrunBin, baseEnv, claudeExe, makeSandbox, nodeBinary, ulimitWrapper } from "../e2e/support/harness.ts"

interface Step {
  readonly title: string
  readonly scenario: Scenario
  readonly prompt: string
  /** agentrun flags before the prompt (`k8s`: the step's fake cluster, when it has one). */
  readonly flags: (sandbox: ReturnType<typeof makeSandbox>, k8s: K8sContext | null) => ReadonlyArray<string>
  /** Runs the step against a fake Kubernetes cluster; `oomKill`: its container is OOM-killed once claude asked the API. */
  readonly k8s?: { readonly oomKill: boolean }
  readonly claudeArgs: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  readonly expected: { readonly tag: string; readonly exitCode: number }
}

/** The fake cluster of a k8s step and the fake Messages API its Pod's claude talks to. */
interface K8sContext {
  readonly fake: FakeKubernetes
  readonly anthropicUrl: string
}

const k8sImage = "agentrun/agent:demo"

const k8sFlags = (_sb: ReturnType<typeof makeSandbox>, k8s: K8sContext | null) => [
  "--backend", "k8s", "--kubeconfig", k8s!.fake.kubeconfigPath, "--image", k8sImage,
  "--pod-env", `ANTHROPIC_BASE_URL=${k8s!.anthropicUrl}`
]

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
  },
  {
    title: "a Kubernetes run (`--backend k8s`, a fake API server whose node runs the Job's container locally)",
    scenario: scenarios.success,
    prompt: "Say hello.",
    flags: k8sFlags,
    k8s: { oomKill: false },
    claudeArgs: [],
    env: {},
    expected: { tag: "Succeeded", exitCode: 0 }
  },
  {
    title: "a Kubernetes failure: the container is OOM-killed while claude waits on the API",
    scenario: scenarios.hang,
    prompt: "Think for a long time.",
    flags: k8sFlags,
    k8s: { oomKill: true },
    claudeArgs: [],
    env: {},
    expected: { tag: "OutOfMemory", exitCode: 3 }
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
  const fake = step.k8s === undefined ? null : await startKubernetes({
    images: {
      // The image the fake node "pulls": this machine's PATH, the real claude as the entry's `claude`.
      [k8sImage]: hostImage({
        AGENTRUN_CLAUDE: claudeBinary,
        ANTHROPIC_API_KEY: offlineClaudeEnv(api.url, sandbox.home)["ANTHROPIC_API_KEY"]!,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_AUTOUPDATER: "1",
        DISABLE_TELEMETRY: "1",
        DISABLE_ERROR_REPORTING: "1"
      })
    }
  })
  try {
    const k8s = fake === null ? null : { fake, anthropicUrl: api.url }
    const args = ["run", ...step.flags(sandbox, k8s), step.prompt, ...(step.claudeArgs.length > 0 ? ["--", ...step.claudeArgs] : [])]
    process.stdout.write(`$ agentrun ${args.map((a) => (/[\s`$]/.test(a) ? JSON.stringify(a) : a)).join(" ")}\n`)
    const before = new Set(listRuns())
    const env = {
      ...baseEnv(),
      ...offlineClaudeEnv(api.url, sandbox.home),
      XDG_STATE_HOME: stateHome,
      XDG_DATA_HOME: sandbox.dataHome,
      ...(fake === null ? {} : { KUBECONFIG: fake.kubeconfigPath }),
      ...step.env
    }
    // agentrun's output goes straight to the terminal: progress and the verdict on stderr, the result on stdout.
    const child = spawn(nodeBinary, [agentrunBin, ...args], {
      cwd: sandbox.work,
      env,
      stdio: ["ignore", "inherit", "inherit"]
    })
    let running = true
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on("error", reject)
      child.on("close", (code) => {
        running = false
        resolve(code)
      })
    })
    if (fake !== null && step.k8s?.oomKill === true) {
      // "" when agentrun ended first (its verdict then shows what went wrong).
      const pod = await fake.waitFor("claude's request to the fake Messages API", () =>
        running ? api.messageRequests().length > 0 && fake.list("pods", fake.namespace)[0]?.metadata.name : "", 60_000)
      if (pod !== "") {
        process.stdout.write(`(demo: OOM-killing the container of Pod ${pod})\n`)
        fake.faults.oomKill(fake.namespace, pod)
      }
    }
    const exitCode = await exited
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
    await fake?.close()
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
