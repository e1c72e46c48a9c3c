/**
 * Launching a run on Kubernetes from the palette: the extension's settings (`agentrun.k8s.*`),
 * over the config file's `kubernetes` section, become the run's KubernetesRunOptions, the launch goes to the real Kubernetes backend
 * (client-node) against the fake cluster (test/support/fake-k8s), whose node runs the Job's
 * container as a local process: the real claude, against the fake Messages API.
 */
import { AgentrunApp, Backends, type ConfigFile, defaultWatchdogSettings, kubernetesRunOptions } from "@agentrun/core"
import { KubernetesBackend } from "@agentrun/core/kubernetes"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import { hostname } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { fakeMessagesApi, type Scenario } from "../../../test/support/fake-anthropic/FakeMessagesApi.ts"
import { claudeBinary } from "../../../test/support/fake-anthropic/runClaude.ts"
import { scenarios } from "../../../test/support/fake-anthropic/scenarios.ts"
import { fakeKubernetes, hostImage } from "../../../test/support/fake-k8s/FakeKubernetes.ts"
import { description, eventually, start, type Started } from "./Harness.ts"
import { makeTestCore } from "./TestCore.ts"

const image = "agentrun/agent:test"

let started: Started | undefined
let servers: Scope.Closeable | undefined
afterEach(async () => {
  await started?.stop()
  started = undefined
  if (servers !== undefined) await Effect.runPromise(Scope.close(servers, Exit.void))
  servers = undefined
})

/**
 * A fake cluster whose node has {@link image}: the real claude, pointed at a fake Messages API by
 * the image's env (as a proxy image would), or, with `baseUrlInImage: false`, by nothing: the run
 * reaches the fake only through the Pod's env (`agentrun.k8s.podEnv`).
 */
const fakeCluster = async (scenario: Scenario = scenarios.success, options: { readonly baseUrlInImage?: boolean } = {}) => {
  servers = Effect.runSync(Scope.make())
  return Effect.runPromise(Scope.provide(servers)(Effect.gen(function*() {
    const anthropic = yield* fakeMessagesApi({ scenario })
    const k8s = yield* fakeKubernetes({
      images: {
        [image]: hostImage({
          AGENTRUN_CLAUDE: claudeBinary,
          // Unset, claude would call the real API: a closed port makes that a failed run instead.
          ANTHROPIC_BASE_URL: options.baseUrlInImage === false ? "http://127.0.0.1:9" : anthropic.url,
          ANTHROPIC_API_KEY: "sk-ant-test-fake-key-0000",
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
          DISABLE_AUTOUPDATER: "1",
          DISABLE_TELEMETRY: "1",
          DISABLE_ERROR_REPORTING: "1"
        })
      },
      bookmarkIntervalMs: 1000,
      pullRetryMs: 200
    })
    return { k8s, anthropic }
  })))
}

/** The Kubernetes backend's timings, shortened for the tests. */
const k8sTimings = {
  settings: { lagWaitMs: 2_000, logDrainMs: 5_000, cursorPersistMs: 500, stopMarginMs: 5_000, leaseRenewMs: 500 },
  logFollow: { idleResumeMs: 200, terminationCheckMs: 500, terminationGraceMs: 1_000 }
}

const k8sCore = (options: { readonly store?: "memory" | "file" } = {}) => makeTestCore({ kubernetes: k8sTimings, ...options })

describe("launching runs on Kubernetes", () => {
  it("Launch Run… with backend k8s runs a Job with the agentrun.k8s.* settings; the view shows it Succeeded, naming namespace and Job", async () => {
    const { k8s } = await fakeCluster()
    // The Secret `agentrun.k8s.apiKeySecret` names, made as a user would (kubectl create secret).
    const created = await fetch(`${k8s.url}/api/v1/namespaces/${k8s.namespace}/secrets`, {
      method: "POST",
      headers: { authorization: "Bearer fake-k8s-token", "content-type": "application/json" },
      body: JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "anthropic" }, data: { "api-key": Buffer.from("sk-ant-test-fake-key-0000").toString("base64") } })
    })
    expect(created.status).toBe(201)
    const s = (started = await start({
      "agentrun.k8s.kubeconfig": k8s.kubeconfigPath,
      "agentrun.k8s.image": image,
      "agentrun.k8s.apiKeySecret": "anthropic:api-key"
    }, k8sCore()))
    const pick = (label: string) => (items: ReadonlyArray<{ label: string }>) => items.find((i) => i.label === label)
    s.fake.inputAnswers.push("say hello on the cluster")
    s.fake.pickAnswers.push(pick("k8s"), pick("default"), pick("no deadline"))
    await s.fake.commands.get("agentrun.launchRunWithOptions")!()
    const row = await s.row((r) => description(r).startsWith("Succeeded"))
    // Nothing ran locally: the Job's Pod did.
    expect(s.core.at(s.stateDir).spawned).toEqual([])
    const record = await s.record(row.runId)
    expect(record.placement).toMatchObject({ _tag: "Kubernetes", namespace: k8s.namespace, jobName: `agentrun-${row.runId}` })
    expect(String(row.item.tooltip)).toContain(`Job ${k8s.namespace}/agentrun-${row.runId}`)
    const job = k8s.get("jobs", k8s.namespace, `agentrun-${row.runId}`)
    expect(job?.spec?.template.spec?.containers[0]?.image).toBe(image)
    const apiKey = job?.spec?.template.spec?.containers[0]?.env?.find((e: { name: string }) => e.name === "ANTHROPIC_API_KEY")
    expect(apiKey?.valueFrom?.secretKeyRef).toEqual({ name: "anthropic", key: "api-key" })
    expect(s.fake.memento.get("agentrun.lastLaunchOptions")).toEqual({ backend: "k8s", model: null, timeoutSeconds: null })
    expect(s.fake.messages).toEqual([])
  }, 90_000)

  it("agentrun.k8s.cpu, memory, serviceAccount, podEnv and workspacePvc become the Job's resources, service account, env and /workspace volume; the run reaches its API through podEnv alone", async () => {
    const { k8s, anthropic } = await fakeCluster(scenarios.success, { baseUrlInImage: false })
    const s = (started = await start({
      "agentrun.defaultBackend": "k8s",
      "agentrun.k8s.kubeconfig": k8s.kubeconfigPath,
      "agentrun.k8s.image": image,
      "agentrun.k8s.cpu": "500m",
      "agentrun.k8s.memory": "1Gi",
      "agentrun.k8s.serviceAccount": "agent-runner",
      "agentrun.k8s.podEnv": { ANTHROPIC_BASE_URL: anthropic.url, AGENT_TIER: "gold" },
      "agentrun.k8s.workspacePvc": "agent-work"
    }, k8sCore()))
    s.fake.inputAnswers.push("say hello with my settings")
    await s.fake.commands.get("agentrun.launchRun")!()
    const row = await s.row((r) => r.item.label === "say hello with my settings" && description(r).startsWith("Succeeded"))
    expect(anthropic.messageRequests().length).toBeGreaterThan(0)
    const pod = k8s.get("jobs", k8s.namespace, `agentrun-${row.runId}`)?.spec?.template.spec
    const container = pod?.containers[0]
    expect(container?.resources).toEqual({ requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "500m", memory: "1Gi" } })
    expect(pod?.serviceAccountName).toBe("agent-runner")
    expect(pod?.automountServiceAccountToken).toBe(true)
    const env = new Map((container?.env ?? []).map((e: { name: string; value?: string }) => [e.name, e.value]))
    expect([env.get("ANTHROPIC_BASE_URL"), env.get("AGENT_TIER")]).toEqual([anthropic.url, "gold"])
    expect(pod?.volumes?.find((v: { name: string }) => v.name === "workspace")).toEqual({ name: "workspace", persistentVolumeClaim: { claimName: "agent-work" } })
    expect(s.fake.messages).toEqual([])
  }, 90_000)

  it("with none set, the core's defaults (cpu 1, memory 2Gi, no service account, an emptyDir); changed agentrun.k8s.* settings apply to the next launch without a reload", async () => {
    const { k8s } = await fakeCluster()
    const s = (started = await start({ "agentrun.defaultBackend": "k8s", "agentrun.k8s.kubeconfig": k8s.kubeconfigPath, "agentrun.k8s.image": image }, k8sCore()))
    const launchK8s = async (prompt: string) => {
      s.fake.inputAnswers.push(prompt)
      await s.fake.commands.get("agentrun.launchRun")!()
      const row = await s.row((r) => r.item.label === prompt && description(r).startsWith("Succeeded"))
      return k8s.get("jobs", k8s.namespace, `agentrun-${row.runId}`)?.spec?.template.spec
    }
    const before = await launchK8s("with the defaults")
    expect(before?.containers[0]?.resources).toEqual({ requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "1", memory: "2Gi" } })
    expect([before?.serviceAccountName, before?.automountServiceAccountToken]).toEqual([undefined, false])
    expect(before?.volumes?.find((v: { name: string }) => v.name === "workspace")).toEqual({ name: "workspace", emptyDir: {} })
    s.fake.setSetting("agentrun.k8s.cpu", 2)
    s.fake.setSetting("agentrun.k8s.memory", "3Gi")
    s.fake.setSetting("agentrun.k8s.podEnv", ["MODE=a", "MODE=b=c"])
    s.fake.setSetting("agentrun.k8s.workspacePvc", "scratch")
    const after = await launchK8s("with changed settings")
    expect(after?.containers[0]?.resources).toEqual({ requests: { cpu: "2", memory: "3Gi" }, limits: { cpu: "2", memory: "3Gi" } })
    // The last of one name wins, as repeated --pod-env flags do; a value may hold `=`.
    expect((after?.containers[0]?.env ?? []).filter((e: { name: string }) => e.name === "MODE")).toEqual([{ name: "MODE", value: "b=c" }])
    expect(after?.volumes?.find((v: { name: string }) => v.name === "workspace")).toEqual({ name: "workspace", persistentVolumeClaim: { claimName: "scratch" } })
  }, 120_000)

  it("the config file's kubernetes section applies to editor launches: its image, node selector, tolerations, imagePullSecrets, labels, annotations, TTL, resources and podEnv are on the Job; a set agentrun.k8s.* setting overrides the file's value", async () => {
    const { k8s } = await fakeCluster()
    const config: ConfigFile = {
      kubernetes: {
        image,
        cpu: "500m",
        memory: "1Gi",
        podEnv: { AGENT_TIER: "silver", FROM_FILE: "1" },
        nodeSelector: { pool: "agents" },
        tolerations: [{ key: "agents", operator: "Exists", effect: "NoSchedule" }],
        imagePullSecrets: ["regcred"],
        labels: { team: "a" },
        annotations: { "example.com/note": "from the config file" },
        ttlSecondsAfterFinished: 600
      }
    }
    // No agentrun.k8s.image: the file's. agentrun.k8s.memory and one podEnv variable override the file's.
    const s = (started = await start({
      "agentrun.defaultBackend": "k8s",
      "agentrun.k8s.kubeconfig": k8s.kubeconfigPath,
      "agentrun.k8s.memory": "3Gi",
      "agentrun.k8s.podEnv": { AGENT_TIER: "gold" }
    }, makeTestCore({ kubernetes: k8sTimings, config })))
    s.fake.inputAnswers.push("say hello with the config file")
    await s.fake.commands.get("agentrun.launchRun")!()
    const row = await s.row((r) => r.item.label === "say hello with the config file" && description(r).startsWith("Succeeded"))
    const job = k8s.get("jobs", k8s.namespace, `agentrun-${row.runId}`)
    const pod = job?.spec?.template.spec
    expect(pod?.containers[0]?.image).toBe(image)
    expect(pod?.nodeSelector).toEqual({ pool: "agents" })
    expect(pod?.tolerations).toEqual([{ key: "agents", operator: "Exists", effect: "NoSchedule" }])
    expect(pod?.imagePullSecrets).toEqual([{ name: "regcred" }])
    expect(job?.spec?.ttlSecondsAfterFinished).toBe(600)
    expect(job?.metadata?.labels).toMatchObject({ team: "a" })
    expect(job?.spec?.template.metadata?.labels).toMatchObject({ team: "a" })
    expect(job?.metadata?.annotations).toMatchObject({ "example.com/note": "from the config file" })
    // The setting wins over the file (memory); the file fills what the settings leave empty (cpu).
    expect(pod?.containers[0]?.resources).toEqual({ requests: { cpu: "500m", memory: "3Gi" }, limits: { cpu: "500m", memory: "3Gi" } })
    const env = new Map((pod?.containers[0]?.env ?? []).map((e: { name: string; value?: string }) => [e.name, e.value]))
    expect([env.get("AGENT_TIER"), env.get("FROM_FILE")]).toEqual(["gold", "1"])

    // A setting given later overrides the file's value on the next launch; cleared, the file's applies again.
    s.fake.setSetting("agentrun.k8s.cpu", "2")
    s.fake.setSetting("agentrun.k8s.memory", "")
    s.fake.inputAnswers.push("say hello with a setting over the file")
    await s.fake.commands.get("agentrun.launchRun")!()
    const second = await s.row((r) => r.item.label === "say hello with a setting over the file" && description(r).startsWith("Succeeded"))
    const resources = k8s.get("jobs", k8s.namespace, `agentrun-${second.runId}`)?.spec?.template.spec?.containers[0]?.resources
    expect(resources).toEqual({ requests: { cpu: "2", memory: "1Gi" }, limits: { cpu: "2", memory: "1Gi" } })
    expect(s.fake.messages).toEqual([])
  }, 120_000)

  it("the config file's context and namespace apply when agentrun.k8s.context and namespace are empty; set, the settings win", async () => {
    const { k8s } = await fakeCluster()
    // The fake's kubeconfig has the one context "fake": the file's "elsewhere" is refused by the cluster layer.
    const config: ConfigFile = { kubernetes: { image, context: "elsewhere", namespace: "from-file" } }
    const s = (started = await start(
      { "agentrun.defaultBackend": "k8s", "agentrun.k8s.kubeconfig": k8s.kubeconfigPath },
      // A changed agentrun.k8s.context makes another core than the view's: the file store is what they share, as the live cores do.
      makeTestCore({ kubernetes: k8sTimings, config, store: "file" })
    ))
    s.fake.inputAnswers.push("in the file's context")
    await s.fake.commands.get("agentrun.launchRun")!()
    await eventually(() => expect(s.fake.messages).toEqual([expect.objectContaining({ level: "error", message: expect.stringContaining(`no context "elsewhere"`) })]))
    expect(k8s.requests.filter((q) => q.method === "POST")).toEqual([])

    s.fake.setSetting("agentrun.k8s.context", "fake")
    s.fake.inputAnswers.push("in the file's namespace")
    await s.fake.commands.get("agentrun.launchRun")!()
    const row = await s.row((r) => r.item.label === "in the file's namespace" && description(r).startsWith("Succeeded"))
    expect((await s.record(row.runId)).placement).toMatchObject({ _tag: "Kubernetes", context: "fake", namespace: "from-file" })
    expect(k8s.get("jobs", "from-file", `agentrun-${row.runId}`)).toBeDefined()

    s.fake.setSetting("agentrun.k8s.namespace", k8s.namespace)
    s.fake.inputAnswers.push("in the setting's namespace")
    await s.fake.commands.get("agentrun.launchRun")!()
    const second = await s.row((r) => r.item.label === "in the setting's namespace" && description(r).startsWith("Succeeded"))
    expect((await s.record(second.runId)).placement).toMatchObject({ _tag: "Kubernetes", namespace: k8s.namespace })
    expect(k8s.get("jobs", k8s.namespace, `agentrun-${second.runId}`)).toBeDefined()
  }, 120_000)

  it("a bad value in the config file's kubernetes section is refused, naming the file's key, before anything is created on the cluster", async () => {
    const { k8s } = await fakeCluster()
    const config: ConfigFile = { kubernetes: { image, labels: { team: "a b" } } }
    const s = (started = await start(
      { "agentrun.defaultBackend": "k8s", "agentrun.k8s.kubeconfig": k8s.kubeconfigPath },
      makeTestCore({ kubernetes: k8sTimings, config })
    ))
    s.fake.inputAnswers.push("say hello")
    await s.fake.commands.get("agentrun.launchRun")!()
    await eventually(() => expect(s.fake.messages).toEqual([expect.objectContaining({ level: "error", message: expect.stringContaining("/test/config.json kubernetes.labels: ") })]))
    expect(s.fake.messages[0]?.message).toContain("is not a label value")
    expect(await s.rows()).toEqual([])
    expect(k8s.requests.filter((q) => q.method === "POST")).toEqual([])
  })

  it("Cancel Run on a live k8s run stops its Job's claude and the view shows it Cancelled", async () => {
    const { k8s, anthropic } = await fakeCluster(scenarios.hang)
    const s = (started = await start({ "agentrun.defaultBackend": "k8s", "agentrun.k8s.kubeconfig": k8s.kubeconfigPath, "agentrun.k8s.image": image }, k8sCore()))
    s.fake.inputAnswers.push("wait forever")
    await s.fake.commands.get("agentrun.launchRun")!()
    const live = await s.row((r) => String(r.item.tooltip).includes(`Job ${k8s.namespace}/agentrun-`))
    // Once claude asked the API, it has its SIGINT handler: a cancel while it starts is the entry
    // script's known gap (EntryScript.ts: the SIGINT is lost and the kubelet's SIGKILL ends the Pod
    // after its 30 s grace), the likely cause of this test's 20 s timeout on a loaded CI clone.
    await eventually(() => expect(anthropic.messageRequests().length).toBeGreaterThan(0))
    await s.fake.commands.get("agentrun.cancelRun")!(live.runId)
    const row = await s.row((r) => r.runId === live.runId && description(r).startsWith("Cancelled"))
    expect((await s.record(row.runId)).placement._tag).toBe("Kubernetes")
  }, 90_000)

  it("Cancel Run on a k8s run another agentrun launched (its own store over the same state dir): the extension sees it through the store's changes, its cancel reaches that supervisor, the Job is deleted and the run ends Cancelled", async () => {
    const { k8s, anthropic } = await fakeCluster(scenarios.hang)
    const s = (started = await start({ "agentrun.k8s.kubeconfig": k8s.kubeconfigPath, "agentrun.k8s.image": image }, k8sCore({ store: "file" })))
    const mine = s.core.at(s.stateDir)
    // The other agentrun (a CLI's `run --backend k8s`): the app layer over the same state directory
    // (its own file store), its own Kubernetes backend; its supervisor, pid 7300 on this machine,
    // is alive in the process table the extension's core reads.
    await Effect.runPromise(mine.processes.seed({ pid: 7300, cmdline: ["agentrun", "run", "--backend", "k8s"] }))
    const cliScope = Effect.runSync(Scope.make())
    try {
      const cli = await Effect.runPromise(Layer.buildWithScope(
        AgentrunApp.layer({
          stateDir: s.stateDir,
          env: { HOME: s.root, XDG_STATE_HOME: join(s.root, "xdg-state"), XDG_DATA_HOME: join(s.root, "xdg-data") },
          backends: KubernetesBackend.register(
            { kubeconfigPath: k8s.kubeconfigPath, context: null, namespace: null },
            { ...k8sTimings, supervisor: { hostname: hostname(), pid: 7300 } }
          )
        }),
        cliScope
      ))
      const handle = await Effect.runPromise(Context.get(cli, Backends).launch({
        prompt: "wait forever",
        cwd: s.root,
        claudePath: null,
        claudeArgs: [],
        model: null,
        maxTurns: null,
        timeoutMs: null,
        env: {},
        watchdog: defaultWatchdogSettings,
        backend: "k8s",
        kubernetes: kubernetesRunOptions({ namespace: "", image })
      }))
      const jobName = `agentrun-${handle.runId}`
      const live = await s.row((r) => r.runId === handle.runId && String(r.item.tooltip).includes(`Job ${k8s.namespace}/${jobName}`))
      expect(live.item.contextValue).toBe("agentrun.run.live")
      await eventually(() => expect(anthropic.messageRequests().length).toBeGreaterThan(0))

      await s.fake.commands.get("agentrun.cancelRun")!(live.runId)
      const outcome = (await Effect.runPromise(handle.result)).outcome
      const requester = `agentrun VS Code extension (pid ${process.pid} on ${hostname()})`
      expect(outcome).toMatchObject({ _tag: "Cancelled", evidence: { by: "cancel-command", requestedBy: requester } })
      expect(k8s.get("jobs", k8s.namespace, jobName)).toBeUndefined()
      await s.row((r) => r.runId === handle.runId && description(r).startsWith("Cancelled"))
      // The request went through the extension's Kubernetes backend into the shared store, for the
      // supervisor there (alive on this machine): it did not delete the Job behind that supervisor's back.
      expect(s.fake.logLines).toContainEqual(expect.stringContaining(`cancel ${handle.runId}: asked-supervisor`))
      expect(Option.getOrNull(await Effect.runPromise(mine.runStore.readCancelRequest(handle.runId)))?.by).toBe(requester)
      expect(k8s.requests.filter((q) => q.method === "DELETE" && q.path.startsWith(`/apis/batch/v1/namespaces/${k8s.namespace}/jobs/${jobName}`))).toHaveLength(1)
      expect(mine.spawned).toEqual([])
      // The end-of-run notification (notifyOn: failures) is the only message: the cancel itself raised none.
      await eventually(() => expect(s.fake.messages).toEqual([expect.objectContaining({ message: expect.stringContaining(`✗ Cancelled (cancelled, not retryable): The run was cancelled by request of ${requester}`) })]))
    } finally {
      await Effect.runPromise(Scope.close(cliScope, Exit.void))
    }
  }, 90_000)

  it("with a kubeconfig that cannot be loaded, a k8s launch says so and local runs still work", async () => {
    const s = (started = await start({ "agentrun.k8s.kubeconfig": "/nonexistent/kubeconfig", "agentrun.k8s.image": image }, k8sCore()))
    const pick = (label: string) => (items: ReadonlyArray<{ label: string }>) => items.find((i) => i.label === label)
    s.fake.inputAnswers.push("on the cluster")
    s.fake.pickAnswers.push(pick("k8s"), pick("default"), pick("no deadline"))
    await s.fake.commands.get("agentrun.launchRunWithOptions")!()
    await eventually(() => expect(s.fake.messages).toEqual([expect.objectContaining({ level: "error", message: expect.stringContaining("/nonexistent/kubeconfig") })]))
    s.fake.inputAnswers.push("here")
    await s.fake.commands.get("agentrun.launchRun")!()
    await s.row((r) => r.item.label === "here" && description(r).startsWith("Succeeded"))
    expect((await s.rows()).map((r) => r.item.label)).toEqual(["here"])
  })

  it("a k8s launch without agentrun.k8s.image says which setting to set and launches nothing", async () => {
    const s = (started = await start({ "agentrun.defaultBackend": "k8s" }, k8sCore()))
    s.fake.inputAnswers.push("say hello")
    await s.fake.commands.get("agentrun.launchRun")!()
    await eventually(() => expect(s.fake.messages).toEqual([expect.objectContaining({ level: "error", message: expect.stringContaining("agentrun.k8s.image") })]))
    expect(await s.rows()).toEqual([])
    expect(s.core.at(s.stateDir).spawned).toEqual([])
  })

  it.each([
    ["agentrun.k8s.cpu", "2 cores", "is not a Kubernetes quantity"],
    ["agentrun.k8s.memory", "0Gi", "is not above zero"],
    ["agentrun.k8s.serviceAccount", "Agent_Runner", "is not a service account name"],
    ["agentrun.k8s.workspacePvc", "-work", "is not a PersistentVolumeClaim name"],
    ["agentrun.k8s.podEnv", ["ANTHROPIC_API_KEY=sk-ant-in-the-clear"], "is set from --api-key-secret only"],
    ["agentrun.k8s.podEnv", { HOME: "/root" }, "HOME is set by agentrun"],
    ["agentrun.k8s.podEnv", ["NOEQUALS"], "is not NAME=VALUE"],
    ["agentrun.k8s.podEnv", { PORT: 8080 }, "the value of PORT is not a string"],
    ["agentrun.k8s.podEnv", "A=B", "neither an object"]
  ])("%s = %j is refused, naming the setting, before anything is created on the cluster", async (setting, value, reason) => {
    const { k8s } = await fakeCluster()
    const s = (started = await start({ "agentrun.defaultBackend": "k8s", "agentrun.k8s.kubeconfig": k8s.kubeconfigPath, "agentrun.k8s.image": image, [setting]: value }, k8sCore()))
    s.fake.inputAnswers.push("say hello")
    await s.fake.commands.get("agentrun.launchRun")!()
    await eventually(() => expect(s.fake.messages).toEqual([expect.objectContaining({ level: "error", message: expect.stringContaining(`\`${setting}\`: `) })]))
    expect(s.fake.messages[0]?.message).toContain(reason)
    expect(await s.rows()).toEqual([])
    expect(k8s.requests.filter((q) => q.method === "POST")).toEqual([])
  })

  it("an agentrun.k8s.apiKeySecret that is not NAME[:KEY] is refused before anything is launched", async () => {
    const s = (started = await start({ "agentrun.defaultBackend": "k8s", "agentrun.k8s.image": image, "agentrun.k8s.apiKeySecret": "Not_A_Name" }, k8sCore()))
    s.fake.inputAnswers.push("say hello")
    await s.fake.commands.get("agentrun.launchRun")!()
    await eventually(() => expect(s.fake.messages).toEqual([expect.objectContaining({ level: "error", message: expect.stringContaining("agentrun.k8s.apiKeySecret") })]))
    expect(await s.rows()).toEqual([])
  })
})
