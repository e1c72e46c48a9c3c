/**
 * The fake API server driven by the real clients, on the points the Kubernetes backend will rely
 * on: a Job runs its container as a local process and ends with the conditions Kubernetes >= 1.31
 * sets (SuccessCriteriaMet, then Complete once the Pod has terminated), its log is served with
 * RFC 3339 timestamps, a missing object is a 404 Status shaped as the API server shapes it, and
 * deleting the Job with Background propagation collects its Pod. `kubectl` (Debian's) is a second
 * client where the machine has it.
 */
import * as k8s from "@kubernetes/client-node"
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { existsSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type FakeKubernetes, hostImage, start } from "./FakeKubernetes.ts"

let fake: FakeKubernetes
let batch: k8s.BatchV1Api
let core: k8s.CoreV1Api
const kcOf = () => {
  const kc = new k8s.KubeConfig()
  kc.loadFromFile(fake.kubeconfigPath)
  return kc
}

beforeAll(async () => {
  fake = await start({ images: { "agent:test": hostImage() } })
  const kc = new k8s.KubeConfig()
  kc.loadFromFile(fake.kubeconfigPath)
  batch = kc.makeApiClient(k8s.BatchV1Api)
  core = kc.makeApiClient(k8s.CoreV1Api)
})
afterAll(() => fake.close())

const job = (name: string, script: string): k8s.V1Job => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name, labels: { "app.kubernetes.io/managed-by": "agentrun" } },
  spec: {
    backoffLimit: 0,
    template: {
      metadata: { labels: { "job-name": name } },
      spec: { restartPolicy: "Never", containers: [{ name: "agent", image: "agent:test", command: ["sh", "-c", script] }] }
    }
  }
})

const conditionTypes = (j: k8s.V1Job) => (j.status?.conditions ?? []).filter((c) => c.status === "True").map((c) => c.type)

describe("fake Kubernetes API server, through @kubernetes/client-node", () => {
  it("runs a Job's container as a process: SuccessCriteriaMet and Complete, the log with timestamps, the Pod terminated Completed", async () => {
    await batch.createNamespacedJob({ namespace: fake.namespace, body: job("hello", "echo one; echo two") })
    await fake.waitFor("the Job to complete", () => {
      const j = fake.get("jobs", fake.namespace, "hello") as k8s.V1Job | undefined
      return j !== undefined && conditionTypes(j).includes("Complete")
    }, 15_000)
    const read = await batch.readNamespacedJob({ name: "hello", namespace: fake.namespace })
    expect(conditionTypes(read)).toEqual(expect.arrayContaining(["SuccessCriteriaMet", "Complete"]))
    const pods = await core.listNamespacedPod({ namespace: fake.namespace, labelSelector: "job-name=hello" })
    expect(pods.items).toHaveLength(1)
    const pod = pods.items[0]!
    expect(pod.status?.phase).toBe("Succeeded")
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: "Completed" })
    const log = await core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: fake.namespace, timestamps: true })
    const lines = log.trimEnd().split("\n")
    expect(lines.map((l) => l.replace(/^\S+ /, ""))).toEqual(["one", "two"])
    for (const l of lines) expect(Number.isNaN(Date.parse(l.split(" ")[0]!))).toBe(false)
  }, 30_000)

  it("a container's non-zero exit fails the Job (FailureTarget then Failed) with the exit code in the terminated state", async () => {
    await batch.createNamespacedJob({ namespace: fake.namespace, body: job("fails", "exit 3") })
    await fake.waitFor("the Job to fail", () => {
      const j = fake.get("jobs", fake.namespace, "fails") as k8s.V1Job | undefined
      return j !== undefined && conditionTypes(j).includes("Failed")
    }, 15_000)
    const read = await batch.readNamespacedJob({ name: "fails", namespace: fake.namespace })
    expect(conditionTypes(read)).toEqual(expect.arrayContaining(["FailureTarget", "Failed"]))
    const pods = await core.listNamespacedPod({ namespace: fake.namespace, labelSelector: "job-name=fails" })
    expect(pods.items[0]?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 3, reason: "Error" })
  }, 30_000)

  it("a missing Job is a 404 whose body is a Status with reason NotFound", async () => {
    const error = await batch.readNamespacedJob({ name: "nope", namespace: fake.namespace }).then(() => null, (e: unknown) => e)
    expect(error).toBeInstanceOf(k8s.ApiException)
    const e = error as k8s.ApiException<unknown>
    expect(e.code).toBe(404)
    const body = typeof e.body === "string" ? JSON.parse(e.body) : e.body
    expect(body).toMatchObject({ kind: "Status", status: "Failure", reason: "NotFound", code: 404 })
  })

  it("deleting a Job with Background propagation collects its Pod", async () => {
    await batch.createNamespacedJob({ namespace: fake.namespace, body: job("gc", "sleep 30") })
    await fake.waitFor("the Pod to exist", () => fake.list("pods", fake.namespace).some((p) => p.metadata?.labels?.["job-name"] === "gc") || undefined, 10_000)
    await batch.deleteNamespacedJob({ name: "gc", namespace: fake.namespace, propagationPolicy: "Background" })
    await fake.waitFor("the Pod to be collected", () => !fake.list("pods", fake.namespace).some((p) => p.metadata?.labels?.["job-name"] === "gc"), 40_000)
    expect(fake.get("jobs", fake.namespace, "gc")).toBeUndefined()
  }, 60_000)

  // ---------------------------------------------------------------------------------------------
  // Points KubernetesApiLive, LogCursor and LogFollow rely on (Kubernetes API Concepts:
  // "Efficient detection of changes", "Watch bookmarks", "410 Gone responses"; the pods/log
  // reference; k8s.io/apimachinery api/errors for the Status shapes).

  const raw = (path: string) => fetch(`${fake.url}${path}`, { headers: { authorization: "Bearer fake-k8s-token" } })

  /** Reads a watch's lines until `stop` says so (or the body ends). */
  const watchLines = async (path: string, stop: (lines: Array<any>) => boolean): Promise<Array<any>> => {
    const res = await raw(path)
    expect(res.status).toBe(200)
    const reader = res.body!.getReader()
    const lines: Array<any> = []
    let text = ""
    while (!stop(lines)) {
      const { done, value } = await reader.read()
      if (done) break
      text += Buffer.from(value).toString("utf8")
      const parts = text.split("\n")
      text = parts.pop()!
      for (const p of parts) if (p !== "") lines.push(JSON.parse(p))
    }
    await reader.cancel().catch(() => {})
    return lines
  }

  it("watch from a list's resourceVersion: the later events, and BOOKMARKs carrying only kind, apiVersion and metadata.resourceVersion", async () => {
    const list = await batch.listNamespacedJob({ namespace: fake.namespace })
    const rv = list.metadata!.resourceVersion!
    const lines = watchLines(`/apis/batch/v1/namespaces/${fake.namespace}/jobs?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}`, (ls) => ls.some((l) => l.type === "BOOKMARK") && ls.some((l) => l.type === "ADDED"))
    await batch.createNamespacedJob({ namespace: fake.namespace, body: job("conformance-watch", "true") })
    const got = await lines
    const added = got.find((l) => l.type === "ADDED")
    expect(added.object.metadata.name).toBe("conformance-watch")
    expect(Number(added.object.metadata.resourceVersion)).toBeGreaterThan(Number(rv))
    const bookmark = got.find((l) => l.type === "BOOKMARK")
    expect(bookmark.object).toEqual({ kind: "Job", apiVersion: "batch/v1", metadata: { resourceVersion: expect.stringMatching(/^\d+$/) } })
  }, 20_000)

  it("a watch from a compacted resourceVersion: HTTP 200 with one ERROR event holding a 410 Expired Status, then the end", async () => {
    const rv = (await batch.listNamespacedJob({ namespace: fake.namespace })).metadata!.resourceVersion!
    await batch.createNamespacedJob({ namespace: fake.namespace, body: job("conformance-compact", "true") })
    fake.faults.compactHistory()
    const got = await watchLines(`/apis/batch/v1/namespaces/${fake.namespace}/jobs?watch=true&resourceVersion=${rv}`, () => false)
    expect(got).toHaveLength(1)
    expect(got[0]).toMatchObject({ type: "ERROR", object: { kind: "Status", status: "Failure", reason: "Expired", code: 410 } })
  })

  it("an injected 410 answer carries the reason the API server gives it (Expired)", async () => {
    const remove = fake.faults.http({ path: "conformance-410", fault: { kind: "status", code: 410 } })
    const res = await raw(`/apis/batch/v1/namespaces/${fake.namespace}/jobs/conformance-410`)
    remove()
    expect(res.status).toBe(410)
    expect(await res.json()).toMatchObject({ kind: "Status", reason: "Expired", code: 410 })
  })

  it("pods/log: timestamps=true prefixes RFC3339Nano; sinceTime counts from its whole second; a follow ends when the container exits", async () => {
    await batch.createNamespacedJob({ namespace: fake.namespace, body: job("conformance-log", "echo a; sleep 1.1; echo b; echo c") })
    const pod = await fake.waitFor("the Pod to run", () => fake.list("pods", fake.namespace).find((p) => p.metadata?.labels?.["job-name"] === "conformance-log" && p.spec?.nodeName !== undefined), 10_000)
    const base = `/api/v1/namespaces/${fake.namespace}/pods/${pod.metadata.name}/log?timestamps=true`
    // The follow stays open while the container runs and ends with it.
    const followed = (await (await raw(`${base}&follow=true`)).text()).trimEnd().split("\n")
    expect(followed.map((l) => l.slice(l.indexOf(" ") + 1))).toEqual(["a", "b", "c"])
    for (const l of followed) expect(l.slice(0, l.indexOf(" "))).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/)
    const b = followed[1]!.slice(0, followed[1]!.indexOf(" "))
    // sinceTime with a fraction is cut to its second: b's second includes b (and c when it shares it), never a.
    const since = (await (await raw(`${base}&sinceTime=${encodeURIComponent(b)}`)).text()).trimEnd().split("\n")
    expect(since.map((l) => l.slice(l.indexOf(" ") + 1))).toEqual(["b", "c"])
  }, 20_000)

  it("Status bodies: 409 AlreadyExists and Conflict with details.name, 422 Invalid with details.causes, 403 naming the verb and namespace", async () => {
    const statusOf = async (p: Promise<unknown>) => {
      const e = (await p.then(() => null, (x: unknown) => x)) as k8s.ApiException<string>
      expect(e).toBeInstanceOf(k8s.ApiException)
      return { code: e.code, body: JSON.parse(e.body) }
    }
    const lease = { metadata: { name: "conformance-lease" }, spec: { holderIdentity: "a" } }
    const coordination = kcOf().makeApiClient(k8s.CoordinationV1Api)
    const created = await coordination.createNamespacedLease({ namespace: fake.namespace, body: lease })
    expect(await statusOf(coordination.createNamespacedLease({ namespace: fake.namespace, body: lease }))).toMatchObject({ code: 409, body: { reason: "AlreadyExists", details: { name: "conformance-lease", group: "coordination.k8s.io", kind: "leases" } } })
    await coordination.replaceNamespacedLease({ name: "conformance-lease", namespace: fake.namespace, body: { ...created, spec: { holderIdentity: "b" } } })
    expect(await statusOf(coordination.replaceNamespacedLease({ name: "conformance-lease", namespace: fake.namespace, body: { ...created, spec: { holderIdentity: "c" } } }))).toMatchObject({ code: 409, body: { reason: "Conflict" } })
    const invalid = await statusOf(batch.createNamespacedJob({ namespace: fake.namespace, body: job("Not_Valid", "true") }))
    expect(invalid).toMatchObject({ code: 422, body: { reason: "Invalid", details: { name: "Not_Valid", kind: "Job", causes: [{ field: "metadata.name", reason: "FieldValueInvalid" }] } } })
    const remove = fake.faults.deny({ verb: "delete", resource: "leases" })
    const forbidden = await statusOf(coordination.deleteNamespacedLease({ name: "conformance-lease", namespace: fake.namespace }))
    remove()
    expect(forbidden.code).toBe(403)
    expect(forbidden.body.reason).toBe("Forbidden")
    expect(forbidden.body.message).toContain(`cannot delete resource "leases" in API group "coordination.k8s.io" in the namespace "${fake.namespace}"`)
  })

  it("a strategic merge patch of metadata.ownerReferences merges by uid (owners already there stay)", async () => {
    // Owners that exist: the garbage collector removes dependents whose owners are gone.
    const [a, b] = await Promise.all(["conformance-owner-a", "conformance-owner-b"].map((name) => batch.createNamespacedJob({ namespace: fake.namespace, body: job(name, "sleep 5") })))
    const ref = (j: k8s.V1Job) => ({ apiVersion: "batch/v1", kind: "Job", name: j.metadata!.name!, uid: j.metadata!.uid! })
    await core.createNamespacedSecret({ namespace: fake.namespace, body: { metadata: { name: "conformance-owned", ownerReferences: [ref(a!)] } } })
    await core.patchNamespacedSecret(
      { name: "conformance-owned", namespace: fake.namespace, body: { metadata: { ownerReferences: [ref(b!)] } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.StrategicMergePatch)
    )
    const read = await core.readNamespacedSecret({ name: "conformance-owned", namespace: fake.namespace })
    expect(read.metadata?.ownerReferences?.map((o) => o.uid)).toEqual([a!.metadata!.uid, b!.metadata!.uid])
  })

  it("a JSON merge patch of a Job's metadata.annotations: the keys set, the others kept, the resourceVersion bumped, watchers told MODIFIED; the DELETED event carries the last state", async () => {
    const created = await batch.createNamespacedJob({
      namespace: fake.namespace,
      body: { ...job("conformance-annotate", "sleep 30"), metadata: { ...job("conformance-annotate", "").metadata, annotations: { "example.com/owner": "alice" } } }
    })
    const rv = created.metadata!.resourceVersion!
    const lines = watchLines(
      `/apis/batch/v1/namespaces/${fake.namespace}/jobs?watch=true&fieldSelector=metadata.name%3Dconformance-annotate&resourceVersion=${rv}`,
      (ls) => ls.some((l) => l.type === "DELETED")
    )
    const patched = await batch.patchNamespacedJob(
      { name: "conformance-annotate", namespace: fake.namespace, body: { metadata: { annotations: { "agentrun.dev/cancel-requested-by": "conformance" } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch)
    )
    expect(patched.metadata?.annotations).toEqual({ "example.com/owner": "alice", "agentrun.dev/cancel-requested-by": "conformance" })
    expect(Number(patched.metadata!.resourceVersion)).toBeGreaterThan(Number(rv))
    // Metadata only: the spec, and so the generation, did not change.
    expect(patched.metadata?.generation).toBe(created.metadata?.generation)
    expect(patched.metadata?.uid).toBe(created.metadata?.uid)
    await batch.deleteNamespacedJob({ name: "conformance-annotate", namespace: fake.namespace, propagationPolicy: "Background" })
    const got = (await lines).filter((l) => l.object?.metadata?.name === "conformance-annotate")
    const modified = got.filter((l) => l.type === "MODIFIED" && l.object.metadata.annotations?.["agentrun.dev/cancel-requested-by"] === "conformance")
    expect(modified.length).toBeGreaterThan(0)
    expect(modified[0].object.metadata.resourceVersion).toBe(patched.metadata?.resourceVersion)
    const deleted = got.find((l) => l.type === "DELETED")
    expect(deleted.object.metadata.annotations).toMatchObject({ "agentrun.dev/cancel-requested-by": "conformance" })
    // A patch of a Job that is gone: 404 NotFound.
    const missing = await batch.patchNamespacedJob(
      { name: "conformance-annotate", namespace: fake.namespace, body: { metadata: { annotations: { a: "b" } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch)
    ).then(() => null, (e: k8s.ApiException<string>) => e)
    expect(missing?.code).toBe(404)
  }, 20_000)

  it("Events are listed by involvedObject field selectors", async () => {
    const pod = fake.list("pods", fake.namespace).find((p) => p.metadata?.labels?.["job-name"] === "hello")!
    const events = await core.listNamespacedEvent({ namespace: fake.namespace, fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${pod.metadata.name}` })
    expect(events.items.length).toBeGreaterThan(0)
    for (const e of events.items) expect(e.involvedObject.name).toBe(pod.metadata.name)
  })

  // Asynchronously: the fake serves from this process's event loop.
  it.skipIf(!existsSync("/usr/bin/kubectl"))("kubectl lists the Jobs through the same kubeconfig", async () => {
    const { stdout: out } = await promisify(execFile)("/usr/bin/kubectl", ["--kubeconfig", fake.kubeconfigPath, "get", "jobs", "-o", "name"], { encoding: "utf8", timeout: 20_000 })
    expect(out.split("\n")).toEqual(expect.arrayContaining(["job.batch/hello", "job.batch/fails"]))
  }, 30_000)
})
