/**
 * End to end, a real Kubernetes run through the `agentrun` executable: `run --backend k8s` against
 * our fake API server, whose simulated node runs the Job's entry script with the real `claude`
 * (against the fake Messages API) "in a pod"; then `list`, `inspect`, `logs` from other agentrun
 * processes, `cancel` of a hanging run, and `attach` to a run whose supervisor was SIGKILLed.
 * Heavier than the other k8s tests (each case runs claude); bounded by the harness's kill timers.
 */
import { spawn, spawnSync } from "node:child_process"
import { hostname } from "node:os"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type FakeMessagesApi, offlineClaudeEnv, start as startAnthropic } from "../support/fake-anthropic/FakeMessagesApi.ts"
import { claudeBinary } from "../support/fake-anthropic/runClaude.ts"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import { type FakeKubernetes, hostImage, start } from "../support/fake-k8s/FakeKubernetes.ts"
import { agentrunBin, type AgentrunResult, baseEnv, killIfRunning, makeSandbox, nodeBinary, parseJsonOutput, runCli, type Sandbox, startCli, waitFor } from "./support/harness.ts"

const image = "agentrun/agent:e2e"

/** Whether this process may give a child its own hostname (a UTS namespace: root, and util-linux's `unshare`). */
const canPlayAnotherHost = spawnSync("unshare", ["--uts", "true"]).status === 0

/** Runs `argv` with the hostname `host` (its own UTS namespace), asynchronously: the fakes serve from this event loop. */
const onAnotherHost = (host: string, argv: ReadonlyArray<string>, childEnv: Record<string, string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolvePromise, reject) => {
    const child = spawn("unshare", ["--uts", "sh", "-c", "hostname \"$0\" && exec \"$@\"", host, ...argv], { cwd: sandbox.work, env: childEnv, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000)
    child.on("error", reject)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolvePromise({ code, stdout, stderr })
    })
  })

let sandbox: Sandbox

beforeAll(() => {
  sandbox = makeSandbox("agentrun-k8s-run-")
})
afterAll(() => sandbox?.cleanup())

/** A fake cluster whose node can run claude, with a fake Messages API playing `scenario`; closed after `body`. */
const withCluster = async <A>(scenario: keyof typeof scenarios, body: (k8s: FakeKubernetes, anthropic: FakeMessagesApi) => Promise<A>): Promise<A> => {
  const anthropic = await startAnthropic({ scenario: scenarios[scenario] })
  const offline = offlineClaudeEnv(anthropic.url, "/unused")
  const k8s = await start({
    namespace: "agents",
    images: {
      [image]: hostImage({
        AGENTRUN_CLAUDE: claudeBinary,
        ANTHROPIC_API_KEY: offline["ANTHROPIC_API_KEY"]!,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_AUTOUPDATER: "1",
        DISABLE_TELEMETRY: "1",
        DISABLE_ERROR_REPORTING: "1"
      })
    }
  })
  try {
    return await body(k8s, anthropic)
  } finally {
    await k8s.close()
    await anthropic.close()
  }
}

/** agentrun's environment: the sandbox's state, the fake's kubeconfig as KUBECONFIG (what `list`/`cancel` use). */
const env = (k8s: FakeKubernetes): Record<string, string> => ({
  ...baseEnv(),
  HOME: sandbox.home,
  XDG_STATE_HOME: sandbox.stateHome,
  XDG_DATA_HOME: sandbox.dataHome,
  XDG_CONFIG_HOME: sandbox.dir("config"),
  KUBECONFIG: k8s.kubeconfigPath
})

const runArgs = (k8s: FakeKubernetes, anthropic: FakeMessagesApi, ...rest: Array<string>) => [
  "run", "--backend", "k8s", "--kubeconfig", k8s.kubeconfigPath, "--image", image,
  "--pod-env", `ANTHROPIC_BASE_URL=${anthropic.url}`, ...rest
]

const cli = (k8s: FakeKubernetes, argv: ReadonlyArray<string>): Promise<AgentrunResult> =>
  runCli({ argv, env: env(k8s), cwd: sandbox.work, killAfterMs: 60_000 })

describe("run --backend k8s against the fake cluster", () => {
  it("Succeeded with cost; list, inspect and logs show it; exit 0", async () => {
    await withCluster("success", async (k8s, anthropic) => {
      const r = await cli(k8s, [...runArgs(k8s, anthropic, "--json", "Say hello.")])
      expect(r.stderr).not.toMatch(/internal error/)
      expect(r.code).toBe(0)
      const json = parseJsonOutput(r.stdout)
      expect(json.status).toBe("succeeded")
      expect(json.outcome?._tag).toBe("Succeeded")
      expect(json.costUsd).toBeGreaterThan(0)
      expect((json as unknown as { backend: string }).backend).toBe("k8s")
      const runId = json.runId
      expect(k8s.list("jobs", "agents").map((j) => j.metadata.name)).toEqual([`agentrun-${runId}`])

      const list = await cli(k8s, ["list"])
      expect(list.code).toBe(0)
      expect(list.stdout).toMatch(/BACKEND/)
      expect(list.stdout).toMatch(new RegExp(`${runId}.*succeeded.*Succeeded.*k8s agents/agentrun-${runId}`))
      const listJson = JSON.parse((await cli(k8s, ["list", "--json"])).stdout) as Array<{ runId: string; backend: string }>
      expect(listJson.find((x) => x.runId === runId)?.backend).toBe("k8s")

      const inspect = await cli(k8s, ["inspect", runId])
      expect(inspect.code).toBe(0)
      expect(inspect.stdout).toContain("cluster   namespace agents, context fake (live from the API)")
      expect(inspect.stdout).toMatch(new RegExp(`^job       agentrun-${runId}$`, "m"))
      expect(inspect.stdout).toMatch(/conditions .*Complete=True/)
      expect(inspect.stdout).toMatch(/^pod       agentrun-\S+ on \S+, phase Succeeded, container terminated \(Completed, exit 0\)$/m)

      const logs = await cli(k8s, ["logs", runId])
      expect(logs.code).toBe(0)
      expect(logs.stdout).toContain("Hello from the fake API.")
    })
  }, 120_000)

  it("cancel from another process: the Job is deleted, the run ends Cancelled, both processes say so", async () => {
    await withCluster("hang", async (k8s, anthropic) => {
      const run = startCli({ argv: runArgs(k8s, anthropic, "--json", "wait forever"), env: env(k8s), cwd: sandbox.work, killAfterMs: 90_000 })
      try {
        await waitFor("claude's request to reach the fake Messages API", () => anthropic.messageRequests().length >= 1, 60_000)
        const job = k8s.list("jobs", "agents").at(-1)!
        const runId = job.metadata.labels!["agentrun.dev/run-id"]!
        const cancel = await cli(k8s, ["cancel", runId])
        expect(cancel.code).toBe(0)
        expect(cancel.stdout).toMatch(/Cancelled/)
        const done = await run.done
        const json = parseJsonOutput(done.stdout)
        expect(json.outcome?._tag).toBe("Cancelled")
        expect(done.code).not.toBe(0)
        expect(k8s.get("jobs", "agents", job.metadata.name)).toBeUndefined()
      } finally {
        killIfRunning(run)
      }
    })
  }, 150_000)

  // A second machine: `agentrun cancel` in its own UTS namespace whose hostname is machine-b (root
  // only), sharing the state dir as an NFS mount would; the supervisor stays on this host.
  it.skipIf(!canPlayAnotherHost)("cancel from another machine (another hostname): only the Job's cancel annotation is written; the supervisor deletes the Job and records Cancelled naming the canceller", async () => {
    await withCluster("hang", async (k8s, anthropic) => {
      const run = startCli({ argv: runArgs(k8s, anthropic, "--json", "--agent", "e2e-agent", "wait forever"), env: env(k8s), cwd: sandbox.work, killAfterMs: 90_000 })
      try {
        await waitFor("claude's request to reach the fake Messages API", () => anthropic.messageRequests().length >= 1, 60_000)
        const job = k8s.list("jobs", "agents").at(-1)!
        const runId = job.metadata.labels!["agentrun.dev/run-id"]!
        const cancel = await onAnotherHost("machine-b", [nodeBinary, agentrunBin, "cancel", runId], env(k8s))
        expect(cancel.stderr).toContain(`asked the supervisor on ${hostname()} (pid ${run.pid}) to cancel, through its Job's cancel annotation`)
        expect(cancel.code).toBe(0)
        expect(cancel.stdout).toMatch(/Cancelled/)
        const done = await run.done
        const json = parseJsonOutput(done.stdout)
        expect(json.outcome?._tag).toBe("Cancelled")
        expect((json.outcome as unknown as { evidence: { requestedBy?: string } }).evidence.requestedBy).toMatch(/^agentrun cancel \(pid \d+ on machine-b\)$/)
        expect(k8s.get("jobs", "agents", job.metadata.name)).toBeUndefined()
        // machine-b annotated the Job; the one DELETE of it is the supervisor's.
        const jobPath = `/apis/batch/v1/namespaces/agents/jobs/${job.metadata.name}`
        expect(k8s.requests.filter((q) => q.method === "PATCH" && q.path.startsWith(jobPath))).toHaveLength(1)
        expect(k8s.requests.filter((q) => q.method === "DELETE" && q.path.startsWith(jobPath))).toHaveLength(1)
      } finally {
        killIfRunning(run)
      }
    })
  }, 150_000)

  it("attach after the supervisor was SIGKILLed: follows the Job to its verdict; attaching to an ended run reports it", async () => {
    await withCluster("slowText", async (k8s, anthropic) => {
      const run = startCli({ argv: runArgs(k8s, anthropic, "--json", "take your time"), env: env(k8s), cwd: sandbox.work, killAfterMs: 90_000 })
      await waitFor("claude's request to reach the fake Messages API", () => anthropic.messageRequests().length >= 1, 60_000).catch((e) => {
        throw new Error(`${e}: agentrun wrote ${JSON.stringify(run.output())}`)
      })
      run.child.kill("SIGKILL")
      await run.done
      const job = k8s.list("jobs", "agents").at(-1)!
      const runId = job.metadata.labels!["agentrun.dev/run-id"]!
      const attached = await cli(k8s, ["attach", "--json", runId])
      expect(attached.stderr).not.toMatch(/internal error/)
      const json = parseJsonOutput(attached.stdout)
      expect(json.runId).toBe(runId)
      expect(json.outcome?._tag).toBe("Succeeded")
      expect(attached.code).toBe(0)
      // Ended: attach again just reports the verdict.
      const again = await cli(k8s, ["attach", runId])
      expect(again.code).toBe(0)
      expect(again.stderr).toMatch(/Succeeded/)
    })
  }, 150_000)
})
