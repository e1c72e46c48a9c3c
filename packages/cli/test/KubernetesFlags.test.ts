import { assert, describe, it } from "@effect/vitest"
import type { ConfigFile } from "@agentrun/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { type KubernetesFlagValues, resolveBackend, withNamespace } from "../src/KubernetesFlags.ts"

const none: KubernetesFlagValues = {
  backend: Option.none(),
  kubeconfig: Option.none(),
  context: Option.none(),
  namespace: Option.none(),
  image: Option.none(),
  cpu: Option.none(),
  memory: Option.none(),
  serviceAccount: Option.none(),
  apiKeySecret: Option.none(),
  podEnv: [],
  workspacePvc: Option.none(),
  agent: Option.none(),
  task: Option.none(),
  session: Option.none(),
  dryRun: false
}
const k8s = (flags: Partial<KubernetesFlagValues>): KubernetesFlagValues => ({ ...none, backend: Option.some("k8s"), ...flags })
const noLocal = { cwd: false, claudePath: false }
const path = "/cfg/config.json"
const resolve = (flags: KubernetesFlagValues, file: ConfigFile = {}, local = noLocal) => resolveBackend(flags, local, file, path, "/here")

describe("resolveBackend", () => {
  it.effect("local by default; the config file's backend is used without --backend", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* resolve(none), { backend: "local" })
      const fromFile = yield* resolve({ ...none, image: Option.some("agent:1") }, { backend: "k8s" })
      assert.strictEqual(fromFile.backend, "k8s")
      // --backend local overrides the file's k8s.
      assert.deepStrictEqual(yield* resolve({ ...none, backend: Option.some("local") }, { backend: "k8s" }), { backend: "local" })
    }))

  it.effect("k8s: defaults (1 CPU, 2Gi, TTL 300, uid 1000, no account, emptyDir), the target from the flags, a relative kubeconfig resolved", () =>
    Effect.gen(function*() {
      const choice = yield* resolve(k8s({ image: Option.some("agent:1"), kubeconfig: Option.some("kc.yaml"), context: Option.some("prod") }))
      assert(choice.backend === "k8s")
      assert.deepStrictEqual(choice.target, { kubeconfigPath: "/here/kc.yaml", context: "prod", namespace: null })
      assert.strictEqual(choice.dryRun, false)
      const options = withNamespace(choice.draft, "team-a")
      assert.deepStrictEqual(
        { ...options },
        {
          namespace: "team-a",
          image: "agent:1",
          cpu: "1",
          memory: "2Gi",
          serviceAccount: null,
          apiKeySecret: null,
          podEnv: [],
          workspacePvc: null,
          nodeSelector: {},
          tolerations: [],
          imagePullSecrets: [],
          labels: {},
          annotations: {},
          ttlSecondsAfterFinished: 300,
          runAsUser: 1000,
          agentId: null,
          taskId: null,
          sessionId: null
        }
      )
    }))

  it.effect("flags win over the file; the file fills the rest, Pod settings without a flag included; --pod-env replaces a file variable of its name", () =>
    Effect.gen(function*() {
      const file: ConfigFile = {
        kubernetes: {
          namespace: "from-file",
          image: "file:1",
          cpu: "500m",
          memory: "1Gi",
          apiKeySecret: "anthropic",
          podEnv: { ANTHROPIC_BASE_URL: "http://file", KEEP: "1" },
          nodeSelector: { pool: "agents" },
          tolerations: [{ key: "agents", operator: "Exists", effect: "NoSchedule", value: undefined }],
          imagePullSecrets: ["regcred"],
          labels: { team: "a" },
          annotations: { "example.com/note": "anything at all" },
          ttlSecondsAfterFinished: 60
        }
      }
      const choice = yield* resolve(
        k8s({
          namespace: Option.some("from-flag"),
          memory: Option.some("3Gi"),
          podEnv: ["ANTHROPIC_BASE_URL=http://flag=1"],
          agent: Option.some("agent 7"),
          task: Option.some("t-1"),
          session: Option.some("s-1"),
          dryRun: true
        }),
        file
      )
      assert(choice.backend === "k8s")
      assert.strictEqual(choice.target.namespace, "from-flag")
      assert.strictEqual(choice.dryRun, true)
      const d = choice.draft
      assert.strictEqual(d.image, "file:1")
      assert.strictEqual(d.cpu, "500m")
      assert.strictEqual(d.memory, "3Gi")
      assert.deepStrictEqual(d.apiKeySecret, { name: "anthropic", key: "ANTHROPIC_API_KEY" })
      assert.deepStrictEqual(d.podEnv, [{ name: "ANTHROPIC_BASE_URL", value: "http://flag=1" }, { name: "KEEP", value: "1" }])
      assert.deepStrictEqual(d.nodeSelector, { pool: "agents" })
      assert.deepStrictEqual(d.tolerations, [{ key: "agents", operator: "Exists", effect: "NoSchedule" }])
      assert.deepStrictEqual(d.imagePullSecrets, ["regcred"])
      assert.deepStrictEqual(d.labels, { team: "a" })
      assert.strictEqual(d.ttlSecondsAfterFinished, 60)
      assert.deepStrictEqual([d.agentId, d.taskId, d.sessionId], ["agent 7", "t-1", "s-1"])
    }))

  const refused: ReadonlyArray<{
    readonly name: string
    readonly flags: KubernetesFlagValues
    readonly file?: ConfigFile
    readonly local?: typeof noLocal
    readonly source: string
    readonly message: RegExp
  }> = [
    { name: "a k8s flag on a local run", flags: { ...none, image: Option.some("x"), dryRun: true }, source: "flag --image", message: /--image, --dry-run apply to --backend k8s only \(this run's backend is the default backend, local\)/ },
    { name: "a k8s flag with --backend local", flags: { ...none, backend: Option.some("local"), namespace: Option.some("a") }, source: "flag --namespace", message: /--backend local/ },
    { name: "no image", flags: k8s({}), source: "flag --image", message: /needs an image: give --image IMAGE, or set kubernetes\.image in \/cfg\/config\.json/ },
    { name: "a bad --cpu", flags: k8s({ image: Option.some("x"), cpu: Option.some("two") }), source: "flag --cpu", message: /"two" is not a Kubernetes quantity/ },
    { name: "a zero --memory", flags: k8s({ image: Option.some("x"), memory: Option.some("0Gi") }), source: "flag --memory", message: /not above zero/ },
    { name: "a bad memory in the file", flags: k8s({ image: Option.some("x") }), file: { kubernetes: { memory: "2 GB" } }, source: `${path} kubernetes.memory`, message: /not a Kubernetes quantity/ },
    { name: "a bad namespace", flags: k8s({ image: Option.some("x"), namespace: Option.some("Team_A") }), source: "flag --namespace", message: /not a namespace name/ },
    { name: "a bad --api-key-secret", flags: k8s({ image: Option.some("x"), apiKeySecret: Option.some("Keys:a b") }), source: "flag --api-key-secret", message: /not a Secret name/ },
    { name: "--pod-env of the API key", flags: k8s({ image: Option.some("x"), podEnv: ["ANTHROPIC_API_KEY=sk-1"] }), source: "flag --pod-env", message: /from --api-key-secret only/ },
    { name: "a bad label in the file", flags: k8s({ image: Option.some("x") }), file: { kubernetes: { labels: { team: "a b" } } }, source: `${path} kubernetes.labels`, message: /not a label value/ },
    { name: "a toleration the API refuses", flags: k8s({ image: Option.some("x") }), file: { kubernetes: { tolerations: [{ key: "k", operator: "Exists", value: "v" }] } }, source: `${path} kubernetes.tolerations`, message: /value must be empty/ },
    { name: "--cwd on a k8s run", flags: k8s({ image: Option.some("x") }), local: { cwd: true, claudePath: false }, source: "flag --cwd", message: /local runs only: the Pod works in \/workspace/ },
    { name: "an empty --agent", flags: k8s({ image: Option.some("x"), agent: Option.some(" ") }), source: "flag --agent", message: /agent id is empty/ }
  ]
  for (const c of refused) {
    it.effect(`${c.name} → ConfigError naming ${c.source}`, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(resolve(c.flags, c.file ?? {}, c.local ?? noLocal))
        assert.strictEqual(error._tag, "ConfigError")
        assert.strictEqual(error.source, c.source)
        assert.match(error.message, c.message)
        assert.strictEqual(error.retryable, false)
      }))
  }
})
