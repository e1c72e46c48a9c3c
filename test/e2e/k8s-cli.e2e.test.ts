/**
 * End to end, the Kubernetes side of the CLI against our fake API server (test/support/fake-k8s)
 * through the real `agentrun` executable: `run --backend k8s --dry-run` prints the Secret and Job
 * kubectl takes and creates nothing; bad Kubernetes settings are usage errors (exit 2) before any
 * request; `doctor --backend k8s` names the server version and every permission, denied ones
 * included (the fake's `faults.deny`).
 */
import { loadAllYaml } from "@kubernetes/client-node"
import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { accessNeedText, kubernetesBackendAccess } from "../../packages/core/src/k8s/AccessNeeds.ts"
import { type FakeKubernetes, start } from "../support/fake-k8s/FakeKubernetes.ts"
import { type AgentrunResult, baseEnv, makeSandbox, runCli, type Sandbox } from "./support/harness.ts"

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
