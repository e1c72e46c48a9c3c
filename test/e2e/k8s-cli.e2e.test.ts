/**
 * End to end, the Kubernetes side of the CLI against our fake API server (test/support/fake-k8s)
 * through the real `agentrun` executable: `run --backend k8s --dry-run` prints the Secret and Job
 * kubectl takes and creates nothing; bad Kubernetes settings are usage errors (exit 2) before any
 * request; `doctor --backend k8s` names the server version and every permission, denied ones
 * included (the fake's `faults.deny`); and with runs on the fake's simulated node (the real
 * `claude` against the fake Messages API): `inspect --json`'s `kubernetes` object (from the API,
 * then from the record once the API is gone), `rerun` of a Kubernetes run on its cluster (a
 * redacted `--pod-env` asked for again), `run -d --backend k8s` followed by `wait`, `logs -f` and
 * `cancel`.
 */
import { loadAllYaml } from "@kubernetes/client-node"
import { execFile } from "node:child_process"
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { accessNeedText, kubernetesBackendAccess } from "../../packages/core/src/k8s/AccessNeeds.ts"
import { type FakeMessagesApi, offlineClaudeEnv, start as startAnthropic } from "../support/fake-anthropic/FakeMessagesApi.ts"
import { claudeBinary } from "../support/fake-anthropic/runClaude.ts"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import { type FakeKubernetes, hostImage, start } from "../support/fake-k8s/FakeKubernetes.ts"
import { type AgentrunResult, baseEnv, killIfRunning, makeSandbox, parseJsonOutput, runCli, type Sandbox, startCli, waitFor } from "./support/harness.ts"

let fake: FakeKubernetes
let sandbox: Sandbox

beforeAll(async () => {
  fake = await start({ namespace: "team-a" })
  sandbox = makeSandbox("agentrun-k8s-cli-")
})
afterAll(async () => {
  await fake?.close()
  sandbox?.cleanup()
})

/** `agentrun ARGV...` with the sandbox's HOME/XDG dirs and no kubeconfig of the machine's. */
const cli = (argv: ReadonlyArray<string>, extra: Record<string, string> = {}): Promise<AgentrunResult> =>
  runCli({
    argv,
    env: { ...baseEnv(), HOME: sandbox.home, XDG_STATE_HOME: sandbox.stateHome, XDG_DATA_HOME: sandbox.dataHome, XDG_CONFIG_HOME: sandbox.dir("config"), ...extra },
    cwd: sandbox.work,
    killAfterMs: 30_000
  })

/** Requests that changed something on the fake (anything but reads). */
const writes = () => fake.requests.filter((r) => r.method !== "GET")

describe("run --backend k8s --dry-run", () => {
  it("prints the Secret (the prompt, base64) and the Job as YAML, in the kubeconfig context's namespace; creates nothing; exit 0", async () => {
    const before = fake.requests.length
    const r = await cli([
      "run", "--backend", "k8s", "--dry-run", "--kubeconfig", fake.kubeconfigPath, "--image", "registry.example/agent:1",
      "--cpu", "500m", "--memory", "1Gi", "--api-key-secret", "anthropic:key", "--pod-env", "ANTHROPIC_BASE_URL=http://proxy:8080",
      "--agent", "agent-7", "--task", "task 9", "--timeout", "90s", "--max-turns", "3", "fix the bug"
    ])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    const docs = loadAllYaml(r.stdout) as Array<any>
    expect(docs.map((d) => d.kind)).toEqual(["Secret", "Job"])
    const [secret, job] = docs
    expect(Buffer.from(secret.data.prompt, "base64").toString("utf8")).toBe("fix the bug")
    expect(secret.metadata.namespace).toBe("team-a")
    expect(job.metadata.namespace).toBe("team-a")
    expect(job.spec.backoffLimit).toBe(0)
    expect(job.spec.activeDeadlineSeconds).toBe(90)
    expect(job.spec.ttlSecondsAfterFinished).toBe(300)
    expect(job.metadata.labels["agentrun.dev/agent-id"]).toBe("agent-7")
    expect(job.metadata.labels["agentrun.dev/task-id"]).toMatch(/^task-9-[0-9a-f]{8}$/)
    expect(job.metadata.annotations["agentrun.dev/task-id"]).toBe("task 9")
    const pod = job.spec.template.spec
    expect(pod.restartPolicy).toBe("Never")
    expect(pod.volumes[0].secret.secretName).toBe(secret.metadata.name)
    const container = pod.containers[0]
    expect(container.image).toBe("registry.example/agent:1")
    expect(container.resources).toEqual({ requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "500m", memory: "1Gi" } })
    expect(container.args).toEqual(["-p", "--output-format", "stream-json", "--verbose", "--max-turns", "3"])
    expect(container.env).toContainEqual({ name: "ANTHROPIC_BASE_URL", value: "http://proxy:8080" })
    expect(container.env).toContainEqual({ name: "ANTHROPIC_API_KEY", valueFrom: { secretKeyRef: { name: "anthropic", key: "key" } } })
    // The prompt is only in the Secret.
    expect(JSON.stringify(job)).not.toContain("fix the bug")
    // Loading the kubeconfig makes no request; nothing was created.
    expect(fake.requests.length).toBe(before)
    expect(fake.list("jobs")).toEqual([])
    expect(fake.list("secrets")).toEqual([])
  })

  it.skipIf(!existsSync("/usr/bin/kubectl"))("kubectl takes the output: apply --dry-run=client -f - against the fake", async () => {
    const r = await cli(["run", "--backend", "k8s", "--dry-run", "-n", "team-b", "--image", "x", "hi"])
    expect(r.code).toBe(0)
    const out = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        "/usr/bin/kubectl",
        ["--kubeconfig", fake.kubeconfigPath, "apply", "--dry-run=client", "--validate=false", "-f", "-"],
        { encoding: "utf8", timeout: 30_000 },
        (error, stdout, stderr) => (error === null ? resolve(stdout) : reject(new Error(`${error.message}\n${stderr}`)))
      )
      child.stdin!.end(r.stdout)
    })
    expect(out).toMatch(/^secret\/agentrun-\S+-prompt created \(dry run\)$/m)
    expect(out).toMatch(/^job\.batch\/agentrun-\S+ created \(dry run\)$/m)
    expect(fake.list("jobs")).toEqual([])
  })

  it("without any kubeconfig and without -n: the namespace is default, said on stderr", async () => {
    const r = await cli(["run", "--backend", "k8s", "--dry-run", "--image", "x", "hi"])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/the dry run uses the namespace "default"/)
    expect((loadAllYaml(r.stdout) as Array<any>)[1].metadata.namespace).toBe("default")
  })
})

describe("run --backend k8s: settings agentrun cannot use are usage errors (exit 2), nothing is asked of the cluster", () => {
  const cases: ReadonlyArray<{ readonly name: string; readonly argv: ReadonlyArray<string>; readonly message: RegExp }> = [
    { name: "a bad quantity", argv: ["--backend", "k8s", "--image", "x", "--cpu", "lots"], message: /flag --cpu: "lots" is not a Kubernetes quantity/ },
    { name: "no image", argv: ["--backend", "k8s"], message: /--backend k8s needs an image: give --image IMAGE, or set kubernetes\.image in / },
    { name: "a Kubernetes flag on a local run", argv: ["--image", "x"], message: /--image applies to --backend k8s only/ },
    { name: "--cwd on a Kubernetes run", argv: ["--backend", "k8s", "--image", "x", "--cwd", "."], message: /--cwd applies to local runs only/ }
  ]
  for (const c of cases) {
    it(c.name, async () => {
      const before = writes().length
      const r = await cli(["run", ...c.argv, "hi"], { KUBECONFIG: fake.kubeconfigPath })
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(c.message)
      expect(writes().length).toBe(before)
    })
  }
})

describe("doctor --backend k8s", () => {
  it("reports the server version and every permission allowed; exit 0", async () => {
    const r = await cli(["doctor", "--backend", "k8s", "--kubeconfig", fake.kubeconfigPath])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`cluster: ${fake.url} (context fake, namespace team-a)`)
    expect(r.stdout).toContain("server: reachable, Kubernetes v1.32.0-fake")
    for (const need of kubernetesBackendAccess) expect(r.stdout).toMatch(new RegExp(`^  ${accessNeedText(need).replace(/[/.]/g, "\\$&")} +allowed$`, "m"))
    expect(r.stdout).toContain(`RBAC: all ${kubernetesBackendAccess.length} permissions the Kubernetes backend needs are granted`)
    // One SelfSubjectAccessReview per permission, in the context's namespace.
    const reviews = fake.requests.filter((q) => q.method === "POST" && q.path.startsWith("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"))
    expect(reviews.length).toBeGreaterThanOrEqual(kubernetesBackendAccess.length)
  })

  it("names what RBAC denies (the fake's faults.deny), in the namespace asked for; --json carries it", async () => {
    const undo = [
      fake.faults.deny({ verb: "create", group: "batch", resource: "jobs", namespace: "team-b" }),
      fake.faults.deny({ verb: "get", resource: "pods", subresource: "log", namespace: "team-b" })
    ]
    try {
      const r = await cli(["doctor", "--backend", "k8s", "--kubeconfig", fake.kubeconfigPath, "-n", "team-b"])
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/^  create batch\/jobs +DENIED/m)
      expect(r.stdout).toMatch(/^  get pods\/log +DENIED/m)
      expect(r.stdout).toMatch(/^  create secrets +allowed$/m)
      expect(r.stdout).toContain(`RBAC: missing 2 of ${kubernetesBackendAccess.length}: create batch/jobs, get pods/log`)
      const j = await cli(["doctor", "--backend", "k8s", "--json", "--kubeconfig", fake.kubeconfigPath, "-n", "team-b"])
      const report = JSON.parse(j.stdout)
      expect(report.namespace).toBe("team-b")
      expect(report.missing).toEqual(["create batch/jobs", "get pods/log"])
      // Allowed in the context's own namespace: the reviews name the namespace.
      const own = JSON.parse((await cli(["doctor", "--backend", "k8s", "--json", "--kubeconfig", fake.kubeconfigPath])).stdout)
      expect(own.missing).toEqual([])
    } finally {
      for (const u of undo) u()
    }
  })

  it("an API server that does not answer is reported, not a crash; exit 0", async () => {
    const kubeconfig = sandbox.file("dead-kubeconfig", fake.kubeconfig.replace(fake.url, "http://127.0.0.1:9"), 0o600)
    const r = await cli(["doctor", "--backend", "k8s", "--kubeconfig", kubeconfig])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^server: unreachable \(KubernetesUnreachable: /m)
    expect(r.stdout).toContain("access: not checked")
  })
})

// ---------------------------------------------------------------- runs on the fake's node

const image = "agentrun/agent:e2e"

/** A fake cluster (namespace `agents`) whose node runs claude against a fake Messages API playing `scenario`; closed after `body` unless it closed itself. */
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
    await k8s.close().catch(() => {})
    await anthropic.close()
  }
}

/** agentrun's environment for runs on `k8s`: the sandbox's state, the fake's kubeconfig as KUBECONFIG. */
const runEnv = (k8s: FakeKubernetes): Record<string, string> => ({
  ...baseEnv(),
  HOME: sandbox.home,
  XDG_STATE_HOME: sandbox.stateHome,
  XDG_DATA_HOME: sandbox.dataHome,
  XDG_CONFIG_HOME: sandbox.dir("config"),
  KUBECONFIG: k8s.kubeconfigPath
})

const onCluster = (k8s: FakeKubernetes, argv: ReadonlyArray<string>): Promise<AgentrunResult> =>
  runCli({ argv, env: runEnv(k8s), cwd: sandbox.work, killAfterMs: 90_000 })

const k8sRunArgs = (k8s: FakeKubernetes, anthropic: FakeMessagesApi, ...rest: Array<string>) => [
  "run", "--backend", "k8s", "--kubeconfig", k8s.kubeconfigPath, "--image", image,
  "--pod-env", `ANTHROPIC_BASE_URL=${anthropic.url}`, ...rest
]

describe("inspect --json of a Kubernetes run", () => {
  it("carries `kubernetes`: namespace, Job, Pod, node and the Job's conditions from the API; from the record once the API is gone; null for a local run", async () => {
    await withCluster("success", async (k8s, anthropic) => {
      const r = await onCluster(k8s, k8sRunArgs(k8s, anthropic, "--json", "Say hello."))
      expect(r.code, r.stderr).toBe(0)
      const ran = JSON.parse(r.stdout) as Record<string, unknown>
      const runId = ran["runId"] as string
      const job = k8s.get("jobs", "agents", `agentrun-${runId}`)!
      const pod = k8s.list("pods", "agents").find((p) => p.metadata.labels?.["job-name"] === job.metadata.name)!

      const live = await onCluster(k8s, ["inspect", "--json", runId])
      expect(live.code, live.stderr).toBe(0)
      const j = JSON.parse(live.stdout) as Record<string, unknown>
      // Every field of run --json is kept, with the same values (the run has ended).
      for (const [key, value] of Object.entries(ran)) expect(j[key], key).toEqual(value)
      expect(j["kubernetes"]).toEqual({
        namespace: "agents",
        context: "fake",
        job: `agentrun-${runId}`,
        jobUid: job.metadata.uid,
        jobFound: true,
        pod: pod.metadata.name,
        podFound: true,
        node: (pod as any).spec.nodeName,
        podPhase: "Succeeded",
        podReason: null,
        container: "terminated (Completed, exit 0)",
        conditions: (job as any).status.conditions.map((c: any) => ({
          type: c.type,
          status: c.status,
          reason: c.reason ?? null,
          message: c.message || null,
          lastTransitionTime: c.lastTransitionTime === undefined ? null : new Date(c.lastTransitionTime).toISOString()
        })),
        source: "api",
        unavailable: null
      })
      const conditions = (j["kubernetes"] as { conditions: Array<{ type: string; status: string }> }).conditions
      expect(conditions).toContainEqual(expect.objectContaining({ type: "Complete", status: "True" }))
      expect(typeof (j["kubernetes"] as { node: unknown }).node).toBe("string")

      await k8s.close()
      const offline = await onCluster(k8s, ["inspect", "--json", runId])
      expect(offline.code, offline.stderr).toBe(0)
      const o = JSON.parse(offline.stdout) as { kubernetes: Record<string, unknown> }
      expect(o.kubernetes).toMatchObject({
        namespace: "agents",
        job: `agentrun-${runId}`,
        pod: pod.metadata.name,
        node: (pod as any).spec.nodeName,
        jobFound: null,
        podFound: null,
        conditions: [],
        source: "record"
      })
      expect(o.kubernetes["unavailable"]).toEqual(expect.any(String))
      // The human inspect says the same.
      const human = await onCluster(k8s, ["inspect", runId])
      expect(human.stdout).toContain(`cluster   namespace agents, context fake (from the record: the API could not be asked: ${o.kubernetes["unavailable"]})`)

      const local = await runCli({ argv: ["run", "--json", "Say hello."], env: { ...runEnv(k8s), ...offlineClaudeEnv(anthropic.url, sandbox.home) }, cwd: sandbox.work, killAfterMs: 60_000 })
      expect(local.code, local.stderr).toBe(0)
      const localRun = parseJsonOutput(local.stdout)
      const localInspect = JSON.parse((await onCluster(k8s, ["inspect", "--json", localRun.runId])).stdout) as Record<string, unknown>
      expect(localInspect["backend"]).toBe("local")
      expect(localInspect["kubernetes"]).toBeNull()
    })
  }, 180_000)
})

describe("rerun of a Kubernetes run", () => {
  it("runs again on the cluster with the stored settings, as a new run; a redacted --pod-env must be given again", async () => {
    await withCluster("success", async (k8s, anthropic) => {
      const secret = "tok-pod-secret-42"
      const r = await onCluster(k8s, k8sRunArgs(k8s, anthropic, "--json", "--cpu", "250m", "--memory", "512Mi", "--task", "t-1", "--pod-env", `SERVICE_TOKEN=${secret}`, "--pod-env", "PLAIN=visible", "Say hello."))
      expect(r.code, r.stderr).toBe(0)
      const first = parseJsonOutput(r.stdout)
      const requestPath = join(sandbox.runsDir, first.runId, "request.json")
      expect(statSync(requestPath).mode & 0o777).toBe(0o600)
      const stored = readFileSync(requestPath, "utf8")
      expect(stored).not.toContain(secret)
      const parsed = JSON.parse(stored)
      expect(parsed.redactedPodEnv).toEqual(["SERVICE_TOKEN"])
      expect(parsed.request.kubernetes).toMatchObject({ kubeconfig: k8s.kubeconfigPath, image, cpu: "250m", memory: "512Mi", task: "t-1" })
      expect(parsed.request.kubernetes.podEnv).toContainEqual({ name: "PLAIN", value: "visible" })

      // The secret was not stored: rerun asks for it, and creates nothing.
      const jobsBefore = k8s.list("jobs", "agents").length
      const refused = await onCluster(k8s, ["rerun", first.runId])
      expect(refused.code).toBe(2)
      expect(refused.stderr).toContain("give --pod-env SERVICE_TOKEN=VALUE to rerun it")
      expect(k8s.list("jobs", "agents").length).toBe(jobsBefore)

      // The folder it was launched from is gone: a Kubernetes run works in its Pod, so it reruns all the same.
      writeFileSync(requestPath, JSON.stringify({ ...parsed, request: { ...parsed.request, cwd: join(sandbox.root, "gone-since") } }), { mode: 0o600 })
      const again = await onCluster(k8s, ["rerun", "--json", "--pod-env", `SERVICE_TOKEN=${secret}`, first.runId])
      expect(again.code, again.stderr).toBe(0)
      const second = parseJsonOutput(again.stdout)
      expect(second.runId).not.toBe(first.runId)
      expect(second.outcome._tag).toBe(first.outcome._tag)
      expect((second as unknown as { backend: string }).backend).toBe("k8s")
      const job = k8s.get("jobs", "agents", `agentrun-${second.runId}`) as any
      expect(job).toBeDefined()
      const container = job.spec.template.spec.containers[0]
      expect(container.image).toBe(image)
      expect(container.resources).toEqual({ requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "250m", memory: "512Mi" } })
      expect(container.env).toContainEqual({ name: "SERVICE_TOKEN", value: secret })
      expect(container.env).toContainEqual({ name: "PLAIN", value: "visible" })
      expect(container.env).toContainEqual({ name: "ANTHROPIC_BASE_URL", value: anthropic.url })
      expect(job.metadata.annotations["agentrun.dev/task-id"]).toBe("t-1")
      expect(readFileSync(join(sandbox.runsDir, second.runId, "request.json"), "utf8")).not.toContain(secret)
    })
  }, 180_000)
})

describe("run -d --backend k8s", () => {
  it("prints the run id and returns; the detached supervisor follows the Job and records the verdict (wait, logs)", async () => {
    await withCluster("success", async (k8s, anthropic) => {
      const r = await onCluster(k8s, k8sRunArgs(k8s, anthropic, "-d", "Say hello."))
      expect(r.code, r.stderr).toBe(0)
      const runId = r.stdout.trim()
      expect(runId).toMatch(/^\S+$/)
      expect(r.stderr).toContain(`run ${runId} started under a detached supervisor`)
      const waited = await onCluster(k8s, ["wait", "--json", runId])
      expect(waited.code, waited.stderr).toBe(0)
      const j = parseJsonOutput(waited.stdout)
      expect(j.outcome._tag).toBe("Succeeded")
      expect((j as unknown as { backend: string }).backend).toBe("k8s")
      expect(k8s.get("jobs", "agents", `agentrun-${runId}`)).toBeDefined()
      const logs = await onCluster(k8s, ["logs", runId])
      expect(logs.stdout).toContain("Hello from the fake API.")
      expect(readFileSync(join(sandbox.runsDir, runId, "supervisor.log"), "utf8")).toMatch(/Succeeded/)
    })
  }, 180_000)

  it("logs -f follows it and cancel stops it: the Job is deleted, the run ends Cancelled", async () => {
    await withCluster("hang", async (k8s, anthropic) => {
      const r = await onCluster(k8s, k8sRunArgs(k8s, anthropic, "-d", "--json", "wait forever"))
      expect(r.code, r.stderr).toBe(0)
      const started = parseJsonOutput(r.stdout)
      expect(started.status).toBe("running")
      const runId = started.runId
      await waitFor("claude's request to reach the fake Messages API", () => anthropic.messageRequests().length >= 1, 60_000)
      const follow = startCli({ argv: ["logs", "-f", runId], env: runEnv(k8s), cwd: sandbox.work, killAfterMs: 90_000 })
      try {
        const cancel = await onCluster(k8s, ["cancel", runId])
        expect(cancel.code, cancel.stderr).toBe(0)
        expect(cancel.stdout).toMatch(/Cancelled/)
        const followed = await follow.done
        expect(followed.code).not.toBeNull()
        expect(k8s.get("jobs", "agents", `agentrun-${runId}`)).toBeUndefined()
        const waited = await onCluster(k8s, ["wait", runId])
        expect(waited.stdout).toMatch(/Cancelled/)
        expect(waited.code).not.toBe(0)
      } finally {
        killIfRunning(follow)
      }
    })
  }, 180_000)
})
