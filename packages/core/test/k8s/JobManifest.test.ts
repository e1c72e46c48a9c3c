/**
 * The Job and Secret of a run, checked against the Kubernetes OpenAPI schema twice: the
 * `kubernetes-models` validators (types, enums, required fields, formats) and client-node's
 * serializer, generated from the same OpenAPI document, which drops any field it does not know
 * (so a misspelt field shows up as a difference).
 */
import { ObjectSerializer } from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js"
import { assert, describe, it } from "@effect/vitest"
import * as Result from "effect/Result"
import { Job } from "kubernetes-models/batch/v1/Job"
import { Secret } from "kubernetes-models/v1/Secret"
import { defaultWatchdogSettings, type RunSpec } from "../../src/domain/Run.ts"
import { entryScript, promptMountPath } from "../../src/k8s/EntryScript.ts"
import {
  agentContainerName,
  jobNameFor,
  podFailurePolicy,
  promptSecretNameFor,
  runManifests,
  secretOwnerReference,
  workspacePath
} from "../../src/k8s/JobManifest.ts"
import { kubernetesRunOptions, parseApiKeySecret, parseObjectName, parsePodEnv, parseQuantity } from "../../src/k8s/KubernetesRunOptions.ts"
import { LabelKeys, isValidLabelValue } from "../../src/k8s/Labels.ts"

const runId = "20261203-094501-123-a1b2c3"
const prompt = `Fix "it" -- $HOME \`rm\`\nsk-ant-never-in-spec ünï`
const spec: RunSpec = {
  prompt,
  cwd: "/home/me/project",
  claudePath: "/usr/local/bin/claude",
  claudeArgs: ["--allowedTools", "Bash,Edit"],
  model: "claude-opus-5-5",
  maxTurns: 12,
  timeoutMs: 90_500,
  env: { ANTHROPIC_API_KEY: "sk-ant-local-secret", PATH: "/usr/bin" },
  watchdog: defaultWatchdogSettings,
  stopGrace: { interruptGraceMs: 10_000, terminateGraceMs: 20_000 }
}
const minimal = kubernetesRunOptions({ namespace: "agents", image: "ghcr.io/acme/agent:1.2" })
const full = kubernetesRunOptions({
  namespace: "agents",
  image: "ghcr.io/acme/agent:1.2",
  cpu: "500m",
  memory: "3Gi",
  serviceAccount: "agent-runner",
  apiKeySecret: { name: "anthropic", key: "api-key" },
  podEnv: [{ name: "ANTHROPIC_BASE_URL", value: "http://proxy.agents.svc:8080" }],
  workspacePvc: "workspace-claim",
  nodeSelector: { "kubernetes.io/arch": "amd64" },
  tolerations: [{ key: "dedicated", operator: "Equal", value: "agents", effect: "NoSchedule" }],
  imagePullSecrets: ["ghcr"],
  labels: { team: "platform", [LabelKeys.runId]: "spoofed" },
  annotations: { "example.com/owner": "me" },
  ttlSecondsAfterFinished: 600,
  agentId: "Agent #7 (reviewer)",
  taskId: "task/" + "x".repeat(80),
  sessionId: "372c0ed2-5d7e-4d8a-9f3b-0c1d2e3f4a5b"
})

/** The object as it goes on the wire (JSON), which is what the validators take. */
const json = (x: unknown) => JSON.parse(JSON.stringify(x))

const validate = (m: ReturnType<typeof runManifests>) => {
  new Job(json(m.job)).validate()
  new Secret(json(m.secret)).validate()
  // The serializer writes every known field, unset ones as undefined: compare the JSON both give.
  assert.deepStrictEqual(json(ObjectSerializer.serialize(m.job, "V1Job", "")), json(m.job))
  assert.deepStrictEqual(json(ObjectSerializer.serialize(m.secret, "V1Secret", "")), json(m.secret))
}

describe("runManifests", () => {
  it("builds a Job and Secret the OpenAPI schema accepts, with and without every option", () => {
    validate(runManifests(runId, spec, minimal))
    validate(runManifests(runId, spec, full))
    validate(runManifests(runId, { ...spec, timeoutMs: null, model: null, maxTurns: null }, minimal))
  })

  it("the schema checks can fail: a wrong type and an unknown field are caught", () => {
    const { job, secret } = runManifests(runId, spec, minimal)
    assert.throws(() => new Job(json({ ...job, spec: { ...job.spec!, backoffLimit: "0" } })).validate())
    const misspelt = { ...job, spec: { ...job.spec!, podFailurPolicy: podFailurePolicy } }
    assert.deepStrictEqual(json(ObjectSerializer.serialize(job, "V1Job", "")), json(job))
    assert.notDeepEqual(json(ObjectSerializer.serialize(misspelt, "V1Job", "")), json(misspelt))
    assert.throws(() => new Secret(json({ ...secret, data: { prompt: 7 } })).validate())
  })

  it("keeps the prompt out of the pod spec: only the Secret holds it, mounted as a file", () => {
    for (const options of [minimal, full]) {
      const { job, secret } = runManifests(runId, spec, options)
      const jobText = JSON.stringify(job)
      assert.notInclude(jobText, "sk-ant-never-in-spec")
      assert.notInclude(jobText, Buffer.from(prompt).toString("base64"))
      assert.strictEqual(Buffer.from(secret.data!["prompt"]!, "base64").toString("utf8"), prompt)
      assert.isTrue(secret.immutable)
      const pod = job.spec!.template.spec!
      const volume = pod.volumes!.find((v) => v.name === "prompt")!
      assert.strictEqual(volume.secret!.secretName, promptSecretNameFor(runId))
      const mount = pod.containers[0]!.volumeMounts!.find((m) => m.name === "prompt")!
      assert.deepStrictEqual([mount.mountPath, mount.readOnly], [promptMountPath, true])
    }
  })

  it("never passes agentrun's own environment; the API key only as a secretKeyRef", () => {
    const { job } = runManifests(runId, spec, full)
    const text = JSON.stringify(job)
    assert.notInclude(text, "sk-ant-local-secret")
    const env = job.spec!.template.spec!.containers[0]!.env!
    assert.deepStrictEqual(env.find((e) => e.name === "ANTHROPIC_API_KEY"), {
      name: "ANTHROPIC_API_KEY",
      valueFrom: { secretKeyRef: { name: "anthropic", key: "api-key" } }
    })
    assert.deepStrictEqual(env.map((e) => e.name), ["ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "AGENTRUN_RUN_ID", "AGENTRUN_PROMPT_FILE", "HOME"])
    assert.isUndefined(runManifests(runId, spec, minimal).job.spec!.template.spec!.containers[0]!.env!.find((e) => e.name === "ANTHROPIC_API_KEY"))
  })

  it("runs once: backoffLimit 0, restartPolicy Never, the failure policy, deadline, grace and TTL", () => {
    const { job } = runManifests(runId, spec, full)
    const js = job.spec!
    assert.strictEqual(job.metadata!.name, jobNameFor(runId))
    assert.strictEqual(js.backoffLimit, 0)
    assert.strictEqual(js.template.spec!.restartPolicy, "Never")
    assert.deepStrictEqual(js.podFailurePolicy, podFailurePolicy)
    assert.strictEqual(js.podReplacementPolicy, "Failed")
    assert.strictEqual(js.activeDeadlineSeconds, 91) // 90.5 s rounded up
    assert.strictEqual(js.template.spec!.terminationGracePeriodSeconds, 30)
    assert.strictEqual(js.ttlSecondsAfterFinished, 600)
    assert.strictEqual(runManifests(runId, spec, minimal).job.spec!.ttlSecondsAfterFinished, 300)
    assert.isUndefined(runManifests(runId, { ...spec, timeoutMs: null }, minimal).job.spec!.activeDeadlineSeconds)
    const short = runManifests(runId, { ...spec, stopGrace: { interruptGraceMs: 1_500, terminateGraceMs: 0 } }, minimal)
    assert.strictEqual(short.job.spec!.template.spec!.terminationGracePeriodSeconds, 2)
  })

  it("meets the restricted Pod Security profile", () => {
    for (const options of [minimal, full]) {
      const pod = runManifests(runId, spec, options).job.spec!.template.spec!
      const c = pod.containers[0]!
      assert.isTrue(pod.securityContext!.runAsNonRoot)
      assert.notStrictEqual(pod.securityContext!.runAsUser, 0)
      assert.strictEqual(pod.securityContext!.seccompProfile!.type, "RuntimeDefault")
      assert.isFalse(c.securityContext!.allowPrivilegeEscalation)
      assert.deepStrictEqual(c.securityContext!.capabilities!.drop, ["ALL"])
      assert.isUndefined(c.securityContext!.capabilities!.add)
      assert.isFalse(c.securityContext!.privileged)
      // Restricted allows only these volume kinds; no hostPath, hostNetwork, hostPID, hostIPC.
      for (const v of pod.volumes!) assert.isTrue(v.secret !== undefined || v.emptyDir !== undefined || v.persistentVolumeClaim !== undefined, v.name)
      assert.isUndefined(pod.hostNetwork)
      assert.isUndefined(pod.hostPID)
    }
  })

  it("mounts a service account token only when a service account is asked for", () => {
    const bare = runManifests(runId, spec, minimal).job.spec!.template.spec!
    assert.isFalse(bare.automountServiceAccountToken)
    assert.isUndefined(bare.serviceAccountName)
    const withSa = runManifests(runId, spec, full).job.spec!.template.spec!
    assert.isTrue(withSa.automountServiceAccountToken)
    assert.strictEqual(withSa.serviceAccountName, "agent-runner")
  })

  it("runs the entry script with claude's arguments, resources request = limit, the workspace", () => {
    const { job } = runManifests(runId, spec, full)
    const pod = job.spec!.template.spec!
    const c = pod.containers[0]!
    assert.strictEqual(c.name, agentContainerName)
    assert.deepStrictEqual(c.command, ["/bin/sh", "-c", entryScript, "agentrun-entry"])
    assert.deepStrictEqual(c.args, [
      "-p", "--output-format", "stream-json", "--verbose", "--model", "claude-opus-5-5", "--max-turns", "12",
      "--allowedTools", "Bash,Edit", "--resume", "372c0ed2-5d7e-4d8a-9f3b-0c1d2e3f4a5b"
    ])
    assert.deepStrictEqual(c.resources, { requests: { cpu: "500m", memory: "3Gi" }, limits: { cpu: "500m", memory: "3Gi" } })
    assert.deepStrictEqual(runManifests(runId, spec, minimal).job.spec!.template.spec!.containers[0]!.resources!.limits, { cpu: "1", memory: "2Gi" })
    assert.strictEqual(c.workingDir, workspacePath)
    assert.deepStrictEqual(pod.volumes!.find((v) => v.name === "workspace"), { name: "workspace", persistentVolumeClaim: { claimName: "workspace-claim" } })
    assert.deepStrictEqual(runManifests(runId, spec, minimal).job.spec!.template.spec!.volumes!.find((v) => v.name === "workspace"), { name: "workspace", emptyDir: {} })
    assert.deepStrictEqual(pod.nodeSelector, { "kubernetes.io/arch": "amd64" })
    assert.deepStrictEqual(pod.imagePullSecrets, [{ name: "ghcr" }])
    assert.strictEqual(pod.tolerations![0]!.key, "dedicated")
  })

  it("labels every object with valid values, agentrun's keys winning; the ids verbatim in annotations", () => {
    const { job, secret } = runManifests(runId, spec, full)
    for (const meta of [job.metadata!, job.spec!.template.metadata!, secret.metadata!]) {
      const labels = meta.labels!
      assert.strictEqual(labels[LabelKeys.managedBy], "agentrun")
      assert.strictEqual(labels[LabelKeys.runId], runId)
      assert.strictEqual(labels["team"], "platform")
      for (const value of Object.values(labels)) assert.isTrue(isValidLabelValue(value), value)
      assert.notStrictEqual(labels[LabelKeys.agentId], "Agent #7 (reviewer)")
      assert.strictEqual(meta.annotations![LabelKeys.agentId], "Agent #7 (reviewer)")
      assert.strictEqual(meta.annotations!["example.com/owner"], "me")
    }
    assert.isUndefined(runManifests(runId, spec, minimal).job.metadata!.labels![LabelKeys.agentId])
  })

  it("ties the Secret to its Job", () => {
    assert.deepStrictEqual(secretOwnerReference("agentrun-x", "uid-1"), {
      apiVersion: "batch/v1", kind: "Job", name: "agentrun-x", uid: "uid-1", blockOwnerDeletion: false
    })
  })
})

describe("option parsers", () => {
  it("--api-key-secret NAME[:KEY]", () => {
    assert.deepStrictEqual(parseApiKeySecret("anthropic"), Result.succeed({ name: "anthropic", key: "ANTHROPIC_API_KEY" }))
    assert.deepStrictEqual(parseApiKeySecret("anthropic:api.key"), Result.succeed({ name: "anthropic", key: "api.key" }))
    assert.isTrue(Result.isFailure(parseApiKeySecret("Anthropic")))
    assert.isTrue(Result.isFailure(parseApiKeySecret("anthropic:")))
    assert.isTrue(Result.isFailure(parseApiKeySecret("anthropic:a/b")))
  })

  it("--pod-env NAME=VALUE, refusing the names agentrun sets", () => {
    assert.deepStrictEqual(parsePodEnv("ANTHROPIC_BASE_URL=http://x:1/?a=b"), Result.succeed({ name: "ANTHROPIC_BASE_URL", value: "http://x:1/?a=b" }))
    assert.deepStrictEqual(parsePodEnv("EMPTY="), Result.succeed({ name: "EMPTY", value: "" }))
    for (const bad of ["NOVALUE", "=x", "1X=y", "ANTHROPIC_API_KEY=sk", "HOME=/root", "AGENTRUN_RUN_ID=1"]) {
      assert.isTrue(Result.isFailure(parsePodEnv(bad)), bad)
    }
  })

  it("quantities (--cpu, --memory) as the API server parses them, above zero", () => {
    for (const good of ["500m", "2", "1.5", "512Mi", "4Gi", "4e9", "1k", ".5"]) assert.deepStrictEqual(parseQuantity(good), Result.succeed(good))
    for (const bad of ["", "2 GB", "2gb", "-1", "0", "0Gi", "1.5.5", "Gi"]) assert.isTrue(Result.isFailure(parseQuantity(bad)), bad)
  })

  it("object names (--service-account, --workspace-pvc): the reason names what was checked", () => {
    assert.deepStrictEqual(parseObjectName("service account")("agent-runner.v2"), Result.succeed("agent-runner.v2"))
    const refused = parseObjectName("PersistentVolumeClaim")("Work_Dir")
    assert.deepStrictEqual(refused, Result.fail(`"Work_Dir" is not a PersistentVolumeClaim name (a lower-case RFC 1123 subdomain)`))
    for (const bad of ["", "-a", "a-", "A", "a".repeat(254)]) assert.isTrue(Result.isFailure(parseObjectName("x")(bad)), bad)
  })
})
