/**
 * `resolveKubernetesSettings`, the one merge of a Kubernetes run's settings the CLI (its flags) and
 * the VS Code extension (its `agentrun.k8s.*` settings) share: given > config file > defaults, key
 * by key; `podEnv` merged by name; the file-only Pod settings; and the source each error names.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { ConfigFile } from "../../src/config/AgentrunConfig.ts"
import { type KubernetesGiven, type KubernetesGivenValue, resolveKubernetesSettings } from "../../src/config/KubernetesSettings.ts"

const path = "/cfg/config.json"
const missingImage = { source: "flag --image", message: "no image: give --image" }
const resolve = (given: KubernetesGiven, file: ConfigFile = {}) => resolveKubernetesSettings(given, file, path, missingImage)
/** A value as a host would give it, its source named as the CLI names a flag. */
const flag = (name: string, value: string): KubernetesGivenValue => ({ value, source: `flag --${name}` })

const fullFile: ConfigFile = {
  kubernetes: {
    context: "file-ctx",
    namespace: "file-ns",
    image: "file:1",
    cpu: "500m",
    memory: "1Gi",
    serviceAccount: "file-sa",
    apiKeySecret: "file-secret:key",
    podEnv: { SHARED: "from-file", FILE_ONLY: "1" },
    workspacePvc: "file-pvc",
    nodeSelector: { pool: "agents" },
    tolerations: [{ key: "agents", operator: "Exists", effect: "NoSchedule", value: undefined }],
    imagePullSecrets: ["regcred"],
    labels: { team: "a" },
    annotations: { "example.com/note": "anything at all" },
    ttlSecondsAfterFinished: 60
  }
}

describe("resolveKubernetesSettings", () => {
  it.effect("the defaults with only an image given: cpu 1, memory 2Gi, TTL 300 s, uid 1000, the rest empty or none; the cluster all null", () =>
    Effect.gen(function*() {
      const r = yield* resolve({ image: flag("image", "agent:1") })
      assert.deepStrictEqual(r.target, { kubeconfigPath: null, context: null, namespace: null })
      assert.deepStrictEqual(r.pod, {
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
        runAsUser: 1000
      })
    }))

  it.effect("nothing given: every key from the config file (tolerations without their undefined fields; apiKeySecret parsed)", () =>
    Effect.gen(function*() {
      const r = yield* resolve({}, fullFile)
      assert.deepStrictEqual(r.target, { kubeconfigPath: null, context: "file-ctx", namespace: "file-ns" })
      assert.deepStrictEqual(r.pod, {
        image: "file:1",
        cpu: "500m",
        memory: "1Gi",
        serviceAccount: "file-sa",
        apiKeySecret: { name: "file-secret", key: "key" },
        podEnv: [{ name: "SHARED", value: "from-file" }, { name: "FILE_ONLY", value: "1" }],
        workspacePvc: "file-pvc",
        nodeSelector: { pool: "agents" },
        tolerations: [{ key: "agents", operator: "Exists", effect: "NoSchedule" }],
        imagePullSecrets: ["regcred"],
        labels: { team: "a" },
        annotations: { "example.com/note": "anything at all" },
        ttlSecondsAfterFinished: 60,
        runAsUser: 1000
      })
    }))

  it.effect("every given value wins over the file's; podEnv merges by name (the given replaces the file's, the last given of a name wins); the file-only keys stay the file's", () =>
    Effect.gen(function*() {
      const r = yield* resolve({
        kubeconfig: flag("kubeconfig", "kc.yaml"),
        context: flag("context", "given-ctx"),
        namespace: flag("namespace", "given-ns"),
        image: flag("image", "given:2"),
        cpu: flag("cpu", "2"),
        memory: flag("memory", "3Gi"),
        serviceAccount: flag("service-account", "given-sa"),
        apiKeySecret: flag("api-key-secret", "given-secret"),
        podEnv: [flag("pod-env", "SHARED=a"), flag("pod-env", "NEW=b=c"), flag("pod-env", "SHARED=given")],
        workspacePvc: flag("workspace-pvc", "given-pvc")
      }, fullFile)
      // The kubeconfig as given: the caller resolves a relative path.
      assert.deepStrictEqual(r.target, { kubeconfigPath: "kc.yaml", context: "given-ctx", namespace: "given-ns" })
      assert.strictEqual(r.pod.image, "given:2")
      assert.deepStrictEqual([r.pod.cpu, r.pod.memory, r.pod.serviceAccount, r.pod.workspacePvc], ["2", "3Gi", "given-sa", "given-pvc"])
      assert.deepStrictEqual(r.pod.apiKeySecret, { name: "given-secret", key: "ANTHROPIC_API_KEY" })
      assert.deepStrictEqual(r.pod.podEnv, [{ name: "SHARED", value: "given" }, { name: "FILE_ONLY", value: "1" }, { name: "NEW", value: "b=c" }])
      assert.deepStrictEqual(r.pod.nodeSelector, { pool: "agents" })
      assert.deepStrictEqual(r.pod.labels, { team: "a" })
      assert.strictEqual(r.pod.ttlSecondsAfterFinished, 60)
    }))

  it.effect("key by key: what is not given falls back to the file, then the default", () =>
    Effect.gen(function*() {
      const r = yield* resolve({ memory: flag("memory", "4Gi") }, { kubernetes: { image: "file:1", cpu: "250m" } })
      assert.deepStrictEqual([r.pod.image, r.pod.cpu, r.pod.memory], ["file:1", "250m", "4Gi"])
      assert.strictEqual(r.pod.ttlSecondsAfterFinished, 300)
      assert.deepStrictEqual(r.target, { kubeconfigPath: null, context: null, namespace: null })
    }))

  const refused: ReadonlyArray<{
    readonly name: string
    readonly given?: KubernetesGiven
    readonly file?: ConfigFile
    readonly source: string
    readonly message: RegExp
  }> = [
    { name: "no image given or in the file", source: "flag --image", message: /^no image: give --image$/ },
    { name: "an image with a space", given: { image: flag("image", "a b") }, source: "flag --image", message: /^flag --image: "a b" is not an image reference/ },
    { name: "a bad given cpu", given: { image: flag("image", "x"), cpu: flag("cpu", "2 cores") }, source: "flag --cpu", message: /"2 cores" is not a Kubernetes quantity/ },
    { name: "a zero memory in the file", given: { image: flag("image", "x") }, file: { kubernetes: { memory: "0Gi" } }, source: `${path} kubernetes.memory`, message: /not above zero/ },
    { name: "a bad namespace in the file", file: { kubernetes: { image: "x", namespace: "Team_A" } }, source: `${path} kubernetes.namespace`, message: /not a namespace name/ },
    { name: "an empty given context", given: { image: flag("image", "x"), context: flag("context", " ") }, source: "flag --context", message: /context is empty/ },
    {
      name: "a setting's source as the extension names it",
      given: { image: flag("image", "x"), serviceAccount: { value: "Agent_Runner", source: "setting `agentrun.k8s.serviceAccount`" } },
      source: "setting `agentrun.k8s.serviceAccount`",
      message: /^setting `agentrun\.k8s\.serviceAccount`: "Agent_Runner" is not a service account name/
    },
    { name: "a bad apiKeySecret in the file", file: { kubernetes: { image: "x", apiKeySecret: "Keys:a b" } }, source: `${path} kubernetes.apiKeySecret`, message: /not a Secret name/ },
    { name: "the API key in the given podEnv", given: { image: flag("image", "x"), podEnv: [flag("pod-env", "ANTHROPIC_API_KEY=sk-1")] }, source: "flag --pod-env", message: /from --api-key-secret only/ },
    { name: "a variable agentrun sets in the file's podEnv", file: { kubernetes: { image: "x", podEnv: { HOME: "/root" } } }, source: `${path} kubernetes.podEnv`, message: /HOME is set by agentrun/ },
    { name: "a bad node selector value", file: { kubernetes: { image: "x", nodeSelector: { pool: "a b" } } }, source: `${path} kubernetes.nodeSelector`, message: /not a label value/ },
    { name: "a bad label key", file: { kubernetes: { image: "x", labels: { "-team": "a" } } }, source: `${path} kubernetes.labels`, message: /not a label key/ },
    { name: "a bad annotation key", file: { kubernetes: { image: "x", annotations: { "a b": "x" } } }, source: `${path} kubernetes.annotations`, message: /not an annotation key/ },
    { name: "a toleration the API refuses", file: { kubernetes: { image: "x", tolerations: [{ operator: "Equal", value: "v" }] } }, source: `${path} kubernetes.tolerations`, message: /\[0\]: without a key the operator must be Exists/ },
    { name: "tolerationSeconds without NoExecute", file: { kubernetes: { image: "x", tolerations: [{ key: "k", operator: "Exists", tolerationSeconds: 5 }] } }, source: `${path} kubernetes.tolerations`, message: /needs the effect NoExecute/ },
    { name: "a bad imagePullSecret", file: { kubernetes: { image: "x", imagePullSecrets: ["Reg_Cred"] } }, source: `${path} kubernetes.imagePullSecrets`, message: /"Reg_Cred" is not a Secret name/ }
  ]
  for (const c of refused) {
    it.effect(`${c.name} → ConfigError naming ${c.source}`, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(resolve(c.given ?? {}, c.file ?? {}))
        assert.strictEqual(error._tag, "ConfigError")
        assert.strictEqual(error.source, c.source)
        assert.match(error.message, c.message)
        assert.strictEqual(error.retryable, false)
      }))
  }

  it.effect("a given value that is valid hides a bad one in the file (the file's is never read)", () =>
    Effect.gen(function*() {
      const r = yield* resolve({ cpu: flag("cpu", "1500m") }, { kubernetes: { image: "x", cpu: "lots" } })
      assert.strictEqual(r.pod.cpu, "1500m")
    }))
})
