import { assert, describe, it } from "@effect/vitest"
import type { ConfigFile } from "@agentrun/core"
import * as Effect from "effect/Effect"
import { kubernetesRequestOf, requestFlagValues, resolveBackend } from "../src/KubernetesFlags.ts"
import { type KubernetesRequest, redactRequest, type RunRequest } from "../src/RunRequest.ts"

const local: RunRequest = {
  prompt: "fix it",
  cwd: "/work",
  claudePath: null,
  claudeArgs: [],
  model: null,
  maxTurns: null,
  timeout: null,
  watchdog: null,
  stallTimeout: null,
  startupTimeout: null,
  busyTimeout: null
}

const k8s: KubernetesRequest = {
  kubeconfig: "/home/u/.kube/config",
  context: "prod",
  namespace: null,
  image: "registry.example/agent:1",
  cpu: "500m",
  memory: "1Gi",
  serviceAccount: "agent",
  apiKeySecret: "anthropic:key",
  podEnv: [{ name: "ANTHROPIC_BASE_URL", value: "http://proxy:8080" }, { name: "GITHUB_TOKEN", value: "ghp-abcdef-123" }, { name: "NOTE", value: "uses sk-env-secret-99" }],
  workspacePvc: "ws",
  agent: "a-1",
  task: null,
  session: "s-1"
}

describe("redactRequest", () => {
  it("a local request: no kubernetes, no redactedPodEnv", () => {
    const stored = redactRequest(local, {})
    assert.deepStrictEqual(stored, { request: local, redacted: false })
  })

  it("a Pod variable named like a secret, or holding one of the environment's, is stored [REDACTED] and named; the rest is kept", () => {
    const stored = redactRequest({ ...local, kubernetes: k8s }, { MY_API_KEY: "sk-env-secret-99" })
    assert.strictEqual(stored.redacted, false)
    assert.deepStrictEqual(stored.redactedPodEnv, ["GITHUB_TOKEN", "NOTE"])
    assert.deepStrictEqual(stored.request.kubernetes?.podEnv, [
      { name: "ANTHROPIC_BASE_URL", value: "http://proxy:8080" },
      { name: "GITHUB_TOKEN", value: "[REDACTED]" },
      { name: "NOTE", value: "uses [REDACTED]" }
    ])
    assert.deepStrictEqual({ ...stored.request.kubernetes, podEnv: [] }, { ...k8s, podEnv: [] })
  })
})

describe("a stored request's Kubernetes settings", () => {
  const file: ConfigFile = {}
  it.effect("resolve, as flags, to the choice they were taken from", () =>
    Effect.gen(function*() {
      const choice = yield* resolveBackend(requestFlagValues(k8s), { cwd: false, claudePath: false }, file, "/c.json", "/work")
      assert.strictEqual(choice.backend, "k8s")
      if (choice.backend !== "k8s") return
      assert.deepStrictEqual(kubernetesRequestOf(choice), k8s)
      assert.deepStrictEqual(choice.target, { kubeconfigPath: "/home/u/.kube/config", context: "prod", namespace: null })
      assert.deepStrictEqual(choice.draft.apiKeySecret, { name: "anthropic", key: "key" })
    }))

  it.effect("a value no longer valid is a ConfigError naming its flag", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolveBackend(requestFlagValues({ ...k8s, cpu: "lots" }), { cwd: false, claudePath: false }, file, "/c.json", "/work"))
      assert.strictEqual(error.source, "flag --cpu")
    }))
})

