/**
 * Issue 13's "50 launches for one agent from 50 processes at once: exactly 1 Job, 49
 * ConcurrentRunBlocked": `processes` built CLIs (`agentrun run --backend k8s --agent A --json`),
 * started together against one fake API server (test/support/fake-k8s) and its kubeconfig, the
 * Messages API hanging so the winner's run holds the agent's Lease. Counted: the Jobs in the
 * fake, and each losing process's verdict (`--json` outcome). The winner is SIGKILLed at the end.
 *
 * From run.ts: `await benchAgentRace({ processes: 50 })` (returns the figures; prints nothing).
 */
import { offlineClaudeEnv, start as startAnthropic } from "../support/fake-anthropic/FakeMessagesApi.ts"
import { claudeBinary } from "../support/fake-anthropic/runClaude.ts"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import { hostImage, start } from "../support/fake-k8s/FakeKubernetes.ts"
import { type AgentrunResult, baseEnv, killIfRunning, makeSandbox, startCli } from "../e2e/support/harness.ts"

export interface AgentRaceResult {
  readonly processes: number
  /** Jobs in the fake once every loser ended. */
  readonly jobs: number
  /** Verdict tag → how many processes ended with it (the winner, still running, is not counted). */
  readonly verdicts: Readonly<Record<string, number>>
  /** Start of the processes → the last loser's exit (ms). */
  readonly ms: number
}

const image = "agentrun/agent:race"

const tagOf = (r: AgentrunResult): string => {
  try {
    return (JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "") as { outcome?: { _tag?: string } }).outcome?._tag ?? `no verdict (exit ${r.code})`
  } catch {
    return `no JSON (exit ${r.code}): ${r.stderr.trim().split("\n").at(-1) ?? ""}`
  }
}

export const benchAgentRace = async (options: { readonly processes?: number } = {}): Promise<AgentRaceResult> => {
  const n = options.processes ?? 50
  const sandbox = makeSandbox("agentrun-k8s-race-")
  const anthropic = await startAnthropic({ scenario: scenarios.hang })
  const k8s = await start({
    images: {
      [image]: hostImage({
        AGENTRUN_CLAUDE: claudeBinary,
        ANTHROPIC_API_KEY: offlineClaudeEnv(anthropic.url, "/unused")["ANTHROPIC_API_KEY"]!,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_AUTOUPDATER: "1",
        DISABLE_TELEMETRY: "1",
        DISABLE_ERROR_REPORTING: "1"
      })
    }
  })
  const env = {
    ...baseEnv(),
    HOME: sandbox.home,
    XDG_STATE_HOME: sandbox.stateHome,
    XDG_DATA_HOME: sandbox.dataHome,
    XDG_CONFIG_HOME: sandbox.dir("config"),
    KUBECONFIG: k8s.kubeconfigPath
  }
  const argv = (i: number) => [
    "run", "--backend", "k8s", "--kubeconfig", k8s.kubeconfigPath, "--image", image,
    "--pod-env", `ANTHROPIC_BASE_URL=${anthropic.url}`, "--agent", "A", "--task", `task-${i}`, "--json", "Race."
  ]
  const t0 = performance.now()
  const procs = Array.from({ length: n }, (_, i) => startCli({ argv: argv(i), env, cwd: sandbox.work, killAfterMs: 180_000 }))
  try {
    const ended: Array<AgentrunResult> = []
    let lastAt = t0
    for (const p of procs) {
      void p.done.then((r) => {
        ended.push(r)
        lastAt = performance.now()
      })
    }
    // Every loser ends; the winner's run hangs on the Messages API (or everyone ended: a miss shown in the figures).
    await k8s.waitFor(`${n - 1} processes to end`, () => ended.length >= n - 1 || undefined, 170_000)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const verdicts: Record<string, number> = {}
    for (const r of ended) verdicts[tagOf(r)] = (verdicts[tagOf(r)] ?? 0) + 1
    return { processes: n, jobs: k8s.list("jobs", k8s.namespace).length, verdicts, ms: lastAt - t0 }
  } finally {
    for (const p of procs) killIfRunning(p)
    await Promise.all(procs.map((p) => p.done))
    await k8s.close()
    await anthropic.close()
    sandbox.cleanup()
  }
}
