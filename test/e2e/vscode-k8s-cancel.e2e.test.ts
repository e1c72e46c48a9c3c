/**
 * End to end across processes: the `agentrun` CLI (a real process, `run --backend k8s`) launches
 * a hanging run on the fake cluster; the VS Code extension (activated on the fake VS Code API,
 * its core over the real file store of the CLI's state directory and the real Kubernetes backend)
 * sees the run only through the store's files, and its Cancel Run goes through its Kubernetes
 * backend: the CLI, the run's live supervisor on this machine, gets the request through the store,
 * deletes the Job and records `Cancelled` naming the extension. The extension's process table is
 * the test core's: the CLI's real pid is seeded into it, alive, as the real /proc would show it.
 */
import * as Effect from "effect/Effect"
import { hostname } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { description, start as startExtension } from "../../packages/vscode-ext/test/Harness.ts"
import { makeTestCore } from "../../packages/vscode-ext/test/TestCore.ts"
import { offlineClaudeEnv, start as startAnthropic } from "../support/fake-anthropic/FakeMessagesApi.ts"
import { claudeBinary } from "../support/fake-anthropic/runClaude.ts"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import { hostImage, start as startKubernetes } from "../support/fake-k8s/FakeKubernetes.ts"
import { baseEnv, killIfRunning, makeSandbox, parseJsonOutput, type Sandbox, startCli, waitFor } from "./support/harness.ts"

const image = "agentrun/agent:e2e"

let sandbox: Sandbox
beforeAll(() => {
  sandbox = makeSandbox("agentrun-vscode-k8s-")
})
afterAll(() => sandbox?.cleanup())

describe("the VS Code extension cancels a k8s run the CLI launched", () => {
  it("Cancel Run reaches the CLI's supervisor through the shared store: the Job is deleted, both record Cancelled", async () => {
    const anthropic = await startAnthropic({ scenario: scenarios.hang })
    const offline = offlineClaudeEnv(anthropic.url, "/unused")
    const k8s = await startKubernetes({
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
    const stateDir = join(sandbox.stateHome, "agentrun")
    const extension = await startExtension(
      { "agentrun.stateDir": stateDir, "agentrun.k8s.kubeconfig": k8s.kubeconfigPath, "agentrun.k8s.image": image },
      makeTestCore({ kubernetes: {}, store: "file" })
    )
    const run = startCli({
      argv: ["run", "--backend", "k8s", "--kubeconfig", k8s.kubeconfigPath, "--image", image, "--pod-env", `ANTHROPIC_BASE_URL=${anthropic.url}`, "--json", "wait forever"],
      env: { ...baseEnv(), HOME: sandbox.home, XDG_STATE_HOME: sandbox.stateHome, XDG_DATA_HOME: sandbox.dataHome, XDG_CONFIG_HOME: sandbox.dir("config") },
      cwd: sandbox.work,
      killAfterMs: 90_000
    })
    try {
      // Seeded at once, long before the CLI writes its record: the view never sees it unsupervised.
      const core = extension.core.at(stateDir)
      await Effect.runPromise(core.processes.seed({ pid: run.pid, cmdline: ["node", "agentrun.cjs", "run"] }))
      await waitFor("claude's request to reach the fake Messages API", () => anthropic.messageRequests().length >= 1, 60_000)
      const jobName = k8s.list("jobs", "agents").at(-1)!.metadata.name
      const runId = jobName.replace(/^agentrun-/, "")
      const live = await extension.row((r) => r.runId === runId && r.item.contextValue === "agentrun.run.live")
      expect(String(live.item.tooltip)).toContain(`Job agents/${jobName}`)

      await extension.fake.commands.get("agentrun.cancelRun")!(runId)
      const done = await run.done
      const requester = `agentrun VS Code extension (pid ${process.pid} on ${hostname()})`
      const json = parseJsonOutput(done.stdout)
      expect(json.outcome?._tag, done.stderr).toBe("Cancelled")
      expect((json.outcome as unknown as { evidence: { requestedBy?: string } }).evidence.requestedBy).toBe(requester)
      expect(done.code).not.toBe(0)
      expect(k8s.get("jobs", "agents", jobName)).toBeUndefined()
      // The one DELETE of the Job is the CLI's: the extension asked, through the store.
      expect(k8s.requests.filter((q) => q.method === "DELETE" && q.path.startsWith(`/apis/batch/v1/namespaces/agents/jobs/${jobName}`))).toHaveLength(1)
      expect(extension.fake.logLines).toContainEqual(expect.stringContaining(`cancel ${runId}: asked-supervisor`))
      await extension.row((r) => r.runId === runId && description(r).startsWith("Cancelled"))
      expect((await extension.record(runId)).outcome?._tag).toBe("Cancelled")
    } finally {
      killIfRunning(run)
      await extension.stop()
      await k8s.close()
      await anthropic.close()
    }
  }, 150_000)
})
