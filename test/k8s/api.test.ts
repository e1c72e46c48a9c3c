/**
 * KubernetesApiLive against the fake API server, through the real client-node: the kubeconfig's
 * context and namespace, CRUD of the kinds the backend uses, and the typed errors mapped from the
 * API's Status bodies (404, 409 AlreadyExists and Conflict, 422 with causes, 403 naming verb,
 * resource and namespace, 5xx and refused connections as retryable KubernetesUnreachable).
 */
import { assert, describe, it } from "@effect/vitest"
import type { V1Lease } from "@kubernetes/client-node"
import { Effect, Exit, Fiber, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { KubernetesApi } from "../../packages/core/src/k8s/KubernetesApi.ts"
import * as KubernetesApiLive from "../../packages/core/src/k8s/KubernetesApiLive.ts"
import { job, podOf, withFake } from "./apiFixtures.ts"

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error(`expected a failure, got ${JSON.stringify(exit.value)}`)
  const e = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (e === undefined || e._tag !== "Fail") throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
  return e.error
}

const serviceOf = Effect.gen(function*() {
  return yield* KubernetesApi
})

describe("KubernetesApiLive: kubeconfig", () => {
  it.live("the layer takes the kubeconfig's server, context and namespace; an explicit namespace wins", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake({ namespace: "team-a" })
      assert.strictEqual(api.server, fake.url)
      assert.strictEqual(api.context, "fake")
      assert.strictEqual(api.namespace, "team-a")
      const other = yield* Effect.provide(serviceOf, KubernetesApiLive.layer({ kubeconfigPath: fake.kubeconfigPath, context: "fake", namespace: "team-b" }))
      assert.strictEqual(other.namespace, "team-b")
      assert.strictEqual(yield* api.serverVersion, "v1.32.0-fake")
    }))

  it.live("a missing file, an unknown context and a plain-HTTP cluster without insecure-skip-tls-verify fail the build, not a request", () =>
    Effect.gen(function*() {
      const { fake } = yield* withFake()
      const missing = failureOf(yield* Effect.exit(KubernetesApiLive.make({ kubeconfigPath: "/nonexistent/kubeconfig", context: null, namespace: null })))
      assert.strictEqual(missing._tag, "KubernetesUnreachable")
      assert.include(missing.message, "/nonexistent/kubeconfig")
      assert.strictEqual(missing.retryable, false)
      const context = failureOf(yield* Effect.exit(KubernetesApiLive.make({ kubeconfigPath: fake.kubeconfigPath, context: "prod", namespace: null })))
      assert.include(context.message, `no context "prod"`)
      assert.include(context.message, "fake")
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "k8sapi-"))
      const plain = path.join(dir, "kubeconfig")
      fs.writeFileSync(plain, fake.kubeconfig.replace("    insecure-skip-tls-verify: true\n", ""))
      const http = failureOf(yield* Effect.exit(KubernetesApiLive.make({ kubeconfigPath: plain, context: null, namespace: null })))
      assert.include(http.message, "insecure-skip-tls-verify")
      fs.rmSync(dir, { recursive: true, force: true })
      // No request reached the server while building.
      assert.strictEqual(fake.requests.length, 0)
    }))
})

describe("KubernetesApiLive: default kubeconfig", () => {
  const withEnv = <A, E>(env: Readonly<Record<string, string | undefined>>, effect: Effect.Effect<A, E>) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
        for (const [k, v] of Object.entries(env)) v === undefined ? delete process.env[k] : (process.env[k] = v)
        return saved
      }),
      () => effect,
      (saved) => Effect.sync(() => {
        for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v)
      })
    )

  it.live("no --kubeconfig: KUBECONFIG is used", () =>
    Effect.gen(function*() {
      const { fake } = yield* withFake({ namespace: "team-k" })
      const api = yield* withEnv({ KUBECONFIG: fake.kubeconfigPath }, KubernetesApiLive.make({ kubeconfigPath: null, context: null, namespace: null }))
      assert.deepStrictEqual([api.server, api.context, api.namespace], [fake.url, "fake", "team-k"])
    }))

  it.live.skipIf(fs.existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token"))("no kubeconfig anywhere and no service account: the build fails saying so", () =>
    Effect.gen(function*() {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), "k8sapi-home-"))
      const exit = yield* withEnv({ KUBECONFIG: undefined, HOME: home }, Effect.exit(KubernetesApiLive.make({ kubeconfigPath: null, context: null, namespace: null })))
      fs.rmSync(home, { recursive: true, force: true })
      const e = failureOf(exit)
      assert.strictEqual(e._tag, "KubernetesUnreachable")
      assert.include(e.message, "no kubeconfig found")
    }))

  it.live("a malformed kubeconfig fails the build without quoting the file (it can hold a token)", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "k8sapi-"))
      const file = path.join(dir, "kubeconfig")
      fs.writeFileSync(file, "apiVersion: v1\nusers:\n- name: u\n  user:\n    token: s3cr3t-t0ken-value\n   bad: [indent\n")
      const e = failureOf(yield* Effect.exit(KubernetesApiLive.make({ kubeconfigPath: file, context: null, namespace: null })))
      fs.rmSync(dir, { recursive: true, force: true })
      assert.include(e.message, file)
      assert.notInclude(JSON.stringify(e), "s3cr3t-t0ken-value")
    }))
})

describe("KubernetesApiLive: CRUD", () => {
  it.live("Secret, Job, Pod, Events: create, get, list by label, owner reference, delete", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      const secret = yield* api.createSecret(null, { metadata: { name: "prompt-1" }, stringData: { prompt: "hello" } })
      assert.strictEqual(secret.metadata?.name, "prompt-1")
      const created = yield* api.createJob(null, job("run-1", "echo hi", { "agentrun.dev/agent-id": "a1" }))
      assert.isString(created.metadata?.uid)
      yield* api.setSecretOwner(null, "prompt-1", { apiVersion: "batch/v1", kind: "Job", name: "run-1", uid: created.metadata!.uid!, controller: false })
      const owners = (fake.get("secrets", fake.namespace, "prompt-1")?.metadata as any).ownerReferences
      assert.deepStrictEqual(owners.map((o: any) => o.uid), [created.metadata!.uid])
      const read = yield* api.getJob(null, "run-1")
      assert.strictEqual(read.metadata?.uid, created.metadata?.uid)
      // Times are client-node's Dates, as from every typed call.
      assert.instanceOf(read.metadata?.creationTimestamp, Date)
      assert.deepStrictEqual((yield* api.listJobs(null, "agentrun.dev/agent-id=a1")).map((j) => j.metadata?.name), ["run-1"])
      assert.deepStrictEqual(yield* api.listJobs(null, "agentrun.dev/agent-id=other"), [])
      const pod = yield* podOf(fake, "run-1")
      const got = yield* api.getPod(null, pod.metadata!.name!)
      assert.strictEqual(got.metadata?.uid, pod.metadata?.uid)
      assert.deepStrictEqual((yield* api.listPods(null, "job-name=run-1")).map((p) => p.metadata?.uid), [pod.metadata?.uid])
      const events = yield* api.listEvents(null, { kind: "Pod", name: pod.metadata!.name! })
      assert.isAbove(events.length, 0)
      for (const e of events) assert.strictEqual(e.involvedObject.name, pod.metadata!.name)
      yield* api.deleteJob(null, "run-1", "Background")
      assert.strictEqual(fake.get("jobs", fake.namespace, "run-1"), undefined)
      // The owner reference set above lets the garbage collector take the Secret with the Job.
      yield* Effect.promise(() => fake.waitFor("the Secret to be collected", () => fake.get("secrets", fake.namespace, "prompt-1") === undefined))
      yield* api.createSecret(null, { metadata: { name: "prompt-2" }, stringData: { prompt: "hello" } })
      yield* api.deleteSecret(null, "prompt-2")
      assert.strictEqual(fake.get("secrets", fake.namespace, "prompt-2"), undefined)
    }))

  it.live("annotateJob: a merge patch of the Job's annotations (the user's stay), seen by the Job watch as Modified; 404 once the Job is gone; 403 names the patch verb", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake({ namespace: "team-a" })
      const created = yield* api.createJob(null, { ...job("run-1", "sleep 30"), metadata: { ...job("run-1", "").metadata, annotations: { "example.com/owner": "alice" } } })
      const modified = yield* api.watch("jobs", null, { fieldSelector: "metadata.name=run-1" }).pipe(
        Stream.filter((e) => e._tag === "Modified" && e.object.metadata?.annotations?.["agentrun.dev/cancel-requested-by"] !== undefined),
        Stream.runHead,
        Effect.forkScoped
      )
      // The watch is open (its list answered) before the patch.
      yield* Effect.promise(() => fake.waitFor("the watch", () => fake.openWatches() > 0))
      const patched = yield* api.annotateJob(null, "run-1", { "agentrun.dev/cancel-requested-by": "agentrun cancel (pid 1 on b)" })
      assert.deepStrictEqual(patched.metadata?.annotations, { "example.com/owner": "alice", "agentrun.dev/cancel-requested-by": "agentrun cancel (pid 1 on b)" })
      assert.isAbove(Number(patched.metadata?.resourceVersion), Number(created.metadata?.resourceVersion))
      const seen = yield* Fiber.join(modified)
      assert.strictEqual(seen._tag === "Some" && seen.value._tag === "Modified" ? seen.value.object.metadata?.resourceVersion : null, patched.metadata?.resourceVersion)
      assert.isTrue(fake.requests.some((q) => q.method === "PATCH" && q.path.startsWith("/apis/batch/v1/namespaces/team-a/jobs/run-1")))
      yield* api.deleteJob(null, "run-1", "Background")
      const gone = failureOf(yield* Effect.exit(api.annotateJob(null, "run-1", { a: "b" })))
      assert.strictEqual(gone._tag, "KubernetesNotFound")
      yield* api.createJob(null, job("run-2", "sleep 30"))
      fake.faults.deny({ verb: "patch", resource: "jobs" })
      const denied = failureOf(yield* Effect.exit(api.annotateJob(null, "run-2", { a: "b" })))
      assert.strictEqual(denied._tag, "KubernetesForbidden")
      if (denied._tag === "KubernetesForbidden") assert.deepStrictEqual([denied.verb, denied.resource, denied.group, denied.namespace], ["patch", "jobs", "batch", "team-a"])
    }).pipe(Effect.scoped))

  it.live("Leases: create, 409 AlreadyExists when held, replace with the read resourceVersion, 409 Conflict with a stale one", () =>
    Effect.gen(function*() {
      const { api } = yield* withFake()
      const lease: V1Lease = { metadata: { name: "agent-a1" }, spec: { holderIdentity: "run-1", leaseDurationSeconds: 30 } }
      const created = yield* api.createLease(null, lease)
      const held = failureOf(yield* Effect.exit(api.createLease(null, lease)))
      assert.strictEqual(held._tag, "KubernetesConflict")
      if (held._tag === "KubernetesConflict") {
        assert.strictEqual(held.reason, "AlreadyExists")
        assert.strictEqual(held.name, "agent-a1")
        assert.strictEqual(held.retryable, false)
      }
      const read = yield* api.getLease(null, "agent-a1")
      const won = yield* api.replaceLease(null, { ...read, spec: { ...read.spec, holderIdentity: "run-2" } })
      assert.strictEqual(won.spec?.holderIdentity, "run-2")
      // `created` carries the first resourceVersion: another writer (the replace above) won since.
      const lost = failureOf(yield* Effect.exit(api.replaceLease(null, { ...created, spec: { ...created.spec, holderIdentity: "run-3" } })))
      assert.strictEqual(lost._tag, "KubernetesConflict")
      if (lost._tag === "KubernetesConflict") assert.strictEqual(lost.reason, "Conflict")
      yield* api.deleteLease(null, "agent-a1")
      const gone = failureOf(yield* Effect.exit(api.getLease(null, "agent-a1")))
      assert.strictEqual(gone._tag, "KubernetesNotFound")
    }))

  it.live("SelfSubjectAccessReview: allowed, and denied after a denial", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      const allowed = yield* api.accessReview({ verb: "create", group: "batch", resource: "jobs", namespace: null })
      assert.strictEqual(allowed.allowed, true)
      fake.faults.deny({ verb: "get", resource: "pods", subresource: "log" })
      const denied = yield* api.accessReview({ verb: "get", group: "", resource: "pods", subresource: "log", namespace: null })
      assert.deepStrictEqual(denied, { allowed: false, reason: null })
      assert.strictEqual((yield* api.accessReview({ verb: "get", group: "", resource: "pods", namespace: null })).allowed, true)
    }))
})

describe("KubernetesApiLive: errors from Status bodies", () => {
  it.live("404 NotFound names the resource, namespace and name", () =>
    Effect.gen(function*() {
      const { api } = yield* withFake({ namespace: "team-a" })
      const e = failureOf(yield* Effect.exit(api.getJob(null, "nope")))
      assert.strictEqual(e._tag, "KubernetesNotFound")
      if (e._tag !== "KubernetesNotFound") return
      assert.deepStrictEqual([e.resource, e.namespace, e.name, e.retryable], ["jobs", "team-a", "nope", false])
      assert.include(e.message, `jobs.batch "nope" not found`)
    }))

  it.live("422 Invalid carries the Status causes' fields and messages", () =>
    Effect.gen(function*() {
      const { api } = yield* withFake()
      const bad = job("Bad_Name", "true")
      const e = failureOf(yield* Effect.exit(api.createJob(null, { ...bad, spec: { ...bad.spec!, template: { spec: { restartPolicy: "Always", containers: [{ name: "agent", image: "agent:test" }] } } } })))
      assert.strictEqual(e._tag, "KubernetesInvalid")
      if (e._tag !== "KubernetesInvalid") return
      assert.strictEqual(e.name, "Bad_Name")
      const fields = e.causes.map((c) => c.field)
      assert.includeMembers(fields, ["metadata.name", "spec.template.spec.restartPolicy"])
      for (const c of e.causes) assert.isAbove(c.message.length, 0)
    }))

  it.live("403 Forbidden names verb, resource, group and namespace, and the token appears in no error", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake({ namespace: "team-a" })
      fake.faults.deny({ verb: "create", resource: "jobs" })
      const e = failureOf(yield* Effect.exit(api.createJob(null, job("run-1", "true"))))
      assert.strictEqual(e._tag, "KubernetesForbidden")
      if (e._tag !== "KubernetesForbidden") return
      assert.deepStrictEqual([e.verb, e.resource, e.group, e.namespace, e.retryable], ["create", "jobs", "batch", "team-a", false])
      assert.include(e.serverMessage, `cannot create resource "jobs" in API group "batch" in the namespace "team-a"`)
      assert.notInclude(JSON.stringify(e), "fake-k8s-token")
    }))

  it.live("5xx and a reset are KubernetesUnreachable (retryable) with the status or socket code; a refused port too", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake()
      fake.faults.http({ path: "/jobs/", times: 1, fault: { kind: "status", code: 503 } })
      const e503 = failureOf(yield* Effect.exit(api.getJob(null, "x")))
      assert.strictEqual(e503._tag, "KubernetesUnreachable")
      if (e503._tag === "KubernetesUnreachable") {
        assert.deepStrictEqual([e503.status, e503.retryable, e503.server], [503, true, fake.url])
      }
      fake.faults.http({ path: "/jobs/", times: 1, fault: { kind: "reset" } })
      const reset = failureOf(yield* Effect.exit(api.getJob(null, "x")))
      assert.strictEqual(reset._tag, "KubernetesUnreachable")
      if (reset._tag === "KubernetesUnreachable") {
        assert.strictEqual(reset.status, null)
        assert.isString(reset.code)
      }
      yield* Effect.promise(() => fake.close())
      const refused = failureOf(yield* Effect.exit(api.getJob(null, "x")))
      assert.strictEqual(refused._tag, "KubernetesUnreachable")
      if (refused._tag === "KubernetesUnreachable") assert.strictEqual(refused.code, "ECONNREFUSED")
      assert.notInclude(JSON.stringify([e503, reset, refused]), "fake-k8s-token")
    }))

  it.effect("a server that never answers: KubernetesUnreachable ETIMEDOUT after requestTimeoutMs (TestClock)", () =>
    Effect.gen(function*() {
      const { fake, api } = yield* withFake({ live: { requestTimeoutMs: 30_000 } })
      fake.faults.http({ path: "/jobs/", times: 1, fault: { kind: "silence" } })
      const fiber = yield* Effect.forkChild(Effect.exit(api.getJob(null, "x")))
      yield* Effect.promise(() => fake.waitFor("the request", () => fake.requests.some((r) => r.path.includes("/jobs/x"))))
      yield* TestClock.adjust(29_000)
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust(1_000)
      const e = failureOf(yield* Fiber.join(fiber))
      assert.strictEqual(e._tag, "KubernetesUnreachable")
      if (e._tag === "KubernetesUnreachable") assert.strictEqual(e.code, "ETIMEDOUT")
    }))
})

// The layer as a Layer (what the backend provides).
describe("KubernetesApiLive.layerFromKubeconfig", () => {
  it.live("provides KubernetesApi", () =>
    Effect.gen(function*() {
      const { fake } = yield* withFake()
      const api = yield* Effect.provide(serviceOf, Layer.fresh(KubernetesApiLive.layerFromKubeconfig(fake.kubeconfigPath)))
      assert.strictEqual(api.namespace, "default")
    }))
})
