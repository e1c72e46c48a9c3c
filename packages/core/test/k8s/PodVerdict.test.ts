/**
 * The cluster verdict, table-driven, with the API's real field values (condition types and
 * reasons, container state reasons, kubelet and scheduler messages as Kubernetes writes them) and
 * real claude transcripts for the pod log.
 */
import { assert, describe, it } from "@effect/vitest"
import { emptyObservation } from "../../src/domain/Observation.ts"
import { exitCodeFor } from "../../src/domain/RunOutcome.ts"
import type { ConditionLike, ContainerStateLike, JobLike, PodLike } from "../../src/k8s/ApiObjects.ts"
import { cancelAnnotations } from "../../src/k8s/CancelAnnotation.ts"
import { type ClusterFacts, defaultClusterWaitSettings, podVerdict } from "../../src/k8s/PodVerdict.ts"
import { loadTranscript, observe } from "../support/Transcripts.ts"

const t0 = Date.parse("2026-12-03T10:00:00Z")
const at = (s: number) => new Date(t0 + s * 1000).toISOString()

const success = loadTranscript("success")
/** claude got SIGINT (what the entry forwards) while waiting on the API: an error result, exit 0. */
const interrupted = loadTranscript("sigint-while-hang")
/** Assistant content, then SIGTERM: no result (what a SIGKILL/OOM mid-run leaves too). */
const truncated = loadTranscript("sigterm-during-tool")

const job = (conditions: ReadonlyArray<ConditionLike> = [], activeDeadlineSeconds?: number): JobLike => ({
  metadata: { name: "agentrun-r", uid: "job-uid" },
  spec: activeDeadlineSeconds === undefined ? {} : { activeDeadlineSeconds },
  status: { conditions }
})
const cond = (type: string, reason: string, message: string, s = 60): ConditionLike => ({
  type, status: "True", reason, message, lastTransitionTime: at(s)
})
const failedJob = (reason: string, message: string) => job([cond("FailureTarget", reason, message), cond("Failed", reason, message)])

const pod = (o: {
  phase?: string
  state?: ContainerStateLike
  conditions?: ReadonlyArray<ConditionLike>
  reason?: string
  message?: string
  deletionTimestamp?: string
}): PodLike => ({
  metadata: { name: "agentrun-r-x7k2p", uid: "pod-uid", creationTimestamp: at(0), ...(o.deletionTimestamp === undefined ? {} : { deletionTimestamp: o.deletionTimestamp }) },
  spec: { nodeName: "node-a", containers: [{ name: "agent", image: "ghcr.io/acme/agent:1.2", resources: { limits: { cpu: "1", memory: "2Gi" } } }] },
  status: {
    phase: o.phase ?? "Running",
    ...(o.reason === undefined ? {} : { reason: o.reason }),
    ...(o.message === undefined ? {} : { message: o.message }),
    conditions: o.conditions ?? [{ type: "PodScheduled", status: "True", lastTransitionTime: at(1) }],
    containerStatuses: o.state === undefined ? [] : [{ name: "agent", image: "ghcr.io/acme/agent:1.2", state: o.state }]
  }
})
const terminated = (exitCode: number, reason = exitCode === 0 ? "Completed" : "Error", extra: object = {}): ContainerStateLike => ({
  terminated: { exitCode, reason, containerID: "containerd://abc", startedAt: at(5), finishedAt: at(50), ...extra }
})
const waiting = (reason: string, message: string): ContainerStateLike => ({ waiting: { reason, message } })

const facts = (o: Partial<ClusterFacts> & { transcript?: typeof success | null }): ClusterFacts => ({
  namespace: "agents",
  jobName: "agentrun-r",
  job: job(),
  jobGone: null,
  pod: null,
  events: [],
  observation: o.transcript === undefined || o.transcript === null ? emptyObservation : observe(o.transcript),
  stderrTail: o.transcript?.stderrLines ?? [],
  action: { _tag: "None" },
  lagWaitedOut: false,
  nowMs: t0 + 70_000,
  settings: defaultClusterWaitSettings,
  maxTurns: null,
  ...o
})

const evictionMessage = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 91Mi. Container agent was using 1900Mi, request is 2Gi, has larger consumption of memory."

/** [name, facts, expected _tag, exit code]. */
const table: ReadonlyArray<readonly [string, ClusterFacts, string, number]> = [
  ["success: Job Complete, container exit 0", facts({ transcript: success, job: job([cond("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"), cond("Complete", "CompletionsReached", "Reached expected number of succeeded pods")]), pod: pod({ phase: "Succeeded", state: terminated(0) }) }), "Succeeded", 0],
  ["success outranks a later eviction", facts({ transcript: success, job: failedJob("PodFailurePolicy", "Container agent for pod agents/agentrun-r-x7k2p failed with exit code 143 matching FailJob rule at index 0"), pod: pod({ phase: "Failed", reason: "Evicted", message: evictionMessage, conditions: [cond("DisruptionTarget", "TerminationByKubelet", evictionMessage)], state: terminated(143) }) }), "Succeeded", 0],
  ["success outranks the Job's deadline (claude lingered)", facts({ transcript: success, job: job([cond("Failed", "DeadlineExceeded", "Job was active longer than specified deadline")], 600), pod: pod({ phase: "Failed", state: terminated(137) }) }), "Succeeded", 0],
  ["eviction (kubelet node pressure) is not hidden by the interrupted result", facts({ transcript: interrupted, job: failedJob("PodFailurePolicy", "Pod agents/agentrun-r-x7k2p has condition DisruptionTarget matching FailJob rule at index 0"), pod: pod({ phase: "Failed", reason: "Evicted", message: evictionMessage, conditions: [cond("DisruptionTarget", "TerminationByKubelet", "Pod was terminated in response to imminent node shutdown.")], state: terminated(0) }) }), "PodEvicted", 3],
  ["eviction through the Eviction API (a drain)", facts({ transcript: interrupted, job: failedJob("PodFailurePolicy", "x"), pod: pod({ phase: "Failed", conditions: [cond("DisruptionTarget", "EvictionByEvictionAPI", "Eviction API: evicting")], state: terminated(0) }) }), "PodEvicted", 3],
  ["preemption", facts({ transcript: interrupted, job: failedJob("PodFailurePolicy", "x"), pod: pod({ phase: "Failed", conditions: [cond("DisruptionTarget", "PreemptionByScheduler", "default-scheduler: preempting to accommodate a higher priority pod")], state: terminated(0) }) }), "PodPreempted", 3],
  ["taint manager deletion: the node is lost", facts({ transcript: truncated, job: failedJob("PodFailurePolicy", "x"), pod: pod({ phase: "Failed", conditions: [cond("DisruptionTarget", "DeletionByTaintManager", "Taint manager: deleting due to NoExecute taint key node.kubernetes.io/unreachable")], state: terminated(137) }) }), "NodeLost", 3],
  ["pod GC of a deleted node", facts({ job: failedJob("PodFailurePolicy", "x"), pod: pod({ phase: "Failed", conditions: [cond("DisruptionTarget", "DeletionByPodGC", "PodGC: node no longer exists")] }) }), "NodeLost", 3],
  ["graceful node shutdown", facts({ transcript: interrupted, job: failedJob("PodFailurePolicy", "x"), pod: pod({ phase: "Failed", reason: "Terminated", message: "Pod was terminated in response to imminent node shutdown.", conditions: [cond("DisruptionTarget", "TerminationByKubelet", "Pod was terminated in response to imminent node shutdown.")], state: terminated(0) }) }), "NodeLost", 3],
  ["the Job's deadline is not hidden by the interrupted result", facts({ transcript: interrupted, job: job([cond("FailureTarget", "DeadlineExceeded", "Job was active longer than specified deadline"), cond("Failed", "DeadlineExceeded", "Job was active longer than specified deadline")], 120), pod: pod({ phase: "Failed", state: terminated(0), deletionTimestamp: at(61) }) }), "DeadlineExceeded", 4],
  ["the Job deleted by someone else", facts({ transcript: interrupted, jobGone: { seenVia: "watch-deleted", atMs: t0 + 65_000 }, pod: pod({ phase: "Failed", state: terminated(0), deletionTimestamp: at(64) }) }), "JobDeletedExternally", 3],
  ["the Pod deleted by someone else", facts({ transcript: interrupted, job: failedJob("BackoffLimitExceeded", "Job has reached the specified backoff limit"), pod: pod({ phase: "Failed", state: terminated(0), deletionTimestamp: at(64) }) }), "JobDeletedExternally", 3],
  ["cancel by agentrun: Cancelled with claude's result", facts({ transcript: interrupted, action: { _tag: "Cancel", signal: null, stop: null }, jobGone: null, pod: pod({ phase: "Failed", state: terminated(0), deletionTimestamp: at(64) }) }), "Cancelled", 130],
  ["OOMKilled outranks the truncated output", facts({ transcript: truncated, job: failedJob("PodFailurePolicy", "Container agent for pod agents/agentrun-r-x7k2p failed with exit code 137 matching FailJob rule at index 1"), pod: pod({ phase: "Failed", state: terminated(137, "OOMKilled") }), events: [{ reason: "OOMKilling", type: "Warning", involvedObject: { kind: "Node", name: "node-a" }, message: "Memory cgroup out of memory: Killed process 4242 (claude) total-vm:3081236kB, anon-rss:2096000kB" }] }), "OutOfMemory", 3],
  ["SIGKILL without OOMKilled: a signal death (128+9)", facts({ job: failedJob("PodFailurePolicy", "x"), pod: pod({ phase: "Failed", state: terminated(137) }) }), "KilledBySignal", 3],
  ["assistant output then SIGTERM death: truncated", facts({ transcript: truncated, job: failedJob("PodFailurePolicy", "x"), pod: pod({ phase: "Failed", state: terminated(143) }) }), "TruncatedMidStream", 3],
  ["an agent failure (result is_error) passes through", facts({ transcript: loadTranscript("auth-401"), job: failedJob("PodFailurePolicy", "x"), pod: pod({ phase: "Failed", state: terminated(1) }) }), "AuthenticationFailed", 1],
  ["StartError", facts({ job: failedJob("PodFailurePolicy", "x"), pod: pod({ phase: "Failed", state: terminated(128, "StartError", { message: "failed to create containerd task: exec: \"/bin/sh\": stat /bin/sh: no such file or directory: unknown" }) }) }), "ContainerStartFailed", 3],
  ["no claude on the image's PATH", facts({ stderrTail: ["agentrun-entry: 17: claude: not found"], job: failedJob("PodFailurePolicy", "x"), pod: pod({ phase: "Failed", state: terminated(127) }) }), "SpawnFailed", 3],
  ["CreateContainerConfigError is immediate", facts({ nowMs: t0 + 3_000, pod: pod({ phase: "Pending", state: waiting("CreateContainerConfigError", "secret \"anthropic\" not found") }) }), "ContainerConfigError", 3],
  ["CreateContainerError is immediate", facts({ pod: pod({ phase: "Pending", state: waiting("CreateContainerError", "failed to reserve container name") }) }), "ContainerStartFailed", 3],
  ["InvalidImageName is immediate", facts({ nowMs: t0 + 3_000, pod: pod({ phase: "Pending", state: waiting("InvalidImageName", "Failed to apply default image tag \"Bad:Image\": couldn't parse image name") }) }), "ImagePullFailed", 3],
  ["ImagePullBackOff past the pull timeout", facts({ nowMs: t0 + 1_000 + defaultClusterWaitSettings.imagePullTimeoutMs, pod: pod({ phase: "Pending", state: waiting("ImagePullBackOff", "Back-off pulling image \"ghcr.io/acme/agent:1.2\"") }), events: [{ reason: "Failed", type: "Warning", involvedObject: { kind: "Pod", name: "agentrun-r-x7k2p" }, message: "Failed to pull image \"ghcr.io/acme/agent:1.2\": rpc error: code = NotFound desc = failed to resolve reference: not found" }] }), "ImagePullFailed", 3],
  ["Unschedulable past the schedule timeout", facts({ nowMs: t0 + defaultClusterWaitSettings.scheduleTimeoutMs, pod: pod({ phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.", lastTransitionTime: at(1) }] }) }), "PodUnschedulable", 3]
]

describe("podVerdict", () => {
  it.each(table)("%s", (_name, f, tag, exit) => {
    const v = podVerdict(f)
    assert.strictEqual(v._tag, "Decided", JSON.stringify(v))
    if (v._tag !== "Decided") return
    assert.strictEqual(v.outcome._tag, tag, v.outcome.message)
    assert.strictEqual(exitCodeFor(v.outcome), exit)
  })

  it("keeps the kubelet's, the scheduler's and the node's words as evidence", () => {
    const evicted = podVerdict(table[3]![1])
    assert.strictEqual(evicted._tag === "Decided" && evicted.outcome._tag === "PodEvicted" ? evicted.outcome.evidence.podMessage : null, evictionMessage)
    const oom = podVerdict(table.find(([n]) => n.startsWith("OOMKilled"))![1])
    assert.isTrue(oom._tag === "Decided" && oom.outcome._tag === "OutOfMemory")
    if (oom._tag === "Decided" && oom.outcome._tag === "OutOfMemory") {
      assert.strictEqual(oom.outcome.evidence.pod?.memoryLimit, "2Gi")
      assert.match(oom.outcome.evidence.pod?.nodeEvent ?? "", /Killed process 4242 \(claude\)/)
      assert.strictEqual(oom.outcome.evidence.pod?.termination.reason, "OOMKilled")
    }
    const config = podVerdict(table.find(([n]) => n.startsWith("CreateContainerConfigError"))![1])
    assert.include(config._tag === "Decided" ? config.outcome.message : "", "secret \"anthropic\" not found")
    const pull = podVerdict(table.find(([n]) => n.startsWith("ImagePullBackOff"))![1])
    assert.include(pull._tag === "Decided" ? pull.outcome.message : "", "failed to resolve reference: not found")
  })

  it("Cancelled carries claude's result (cost, session) when it wrote one", () => {
    const v = podVerdict(table.find(([n]) => n.startsWith("cancel"))![1])
    assert.isTrue(v._tag === "Decided" && v.outcome._tag === "Cancelled" && v.outcome.evidence.result?.sessionId != null)
  })

  it("a Job gone whose last seen state carried agentrun's cancel annotation is Cancelled (naming the requester), never JobDeletedExternally", () => {
    const by = "agentrun cancel (pid 4242 on ci-runner-7)"
    const annotated: JobLike = { ...job(), metadata: { ...job().metadata, annotations: cancelAnnotations(by, t0 + 64_000) } }
    const gone = { transcript: interrupted, jobGone: { seenVia: "watch-deleted" as const, atMs: t0 + 65_000 }, pod: pod({ phase: "Failed", state: terminated(0), deletionTimestamp: at(64) }) }
    const v = podVerdict(facts({ ...gone, job: annotated }))
    if (v._tag !== "Decided" || v.outcome._tag !== "Cancelled") return assert.fail(JSON.stringify(v))
    assert.strictEqual(v.outcome.evidence.requestedBy, by)
    assert.strictEqual(v.outcome.evidence.by, "cancel-command")
    assert.include(v.outcome.message, by)
    // claude's interrupted result (the SIGINT the entry forwarded) is kept, with its cost.
    assert.isDefined(v.outcome.evidence.result)
    // The same end without the annotation: someone else deleted it.
    const control = podVerdict(facts(gone))
    assert.strictEqual(control._tag === "Decided" ? control.outcome._tag : control._tag, "JobDeletedExternally")
    // Another annotation of the user's is no cancel request.
    const other = podVerdict(facts({ ...gone, job: { ...job(), metadata: { ...job().metadata, annotations: { "example.com/owner": "alice" } } } }))
    assert.strictEqual(other._tag === "Decided" ? other.outcome._tag : other._tag, "JobDeletedExternally")
  })

  it("the requester of agentrun's own cancel is in the verdict", () => {
    const v = podVerdict(facts({ transcript: interrupted, action: { _tag: "Cancel", signal: null, stop: null, by: "cancel-command", requestedBy: "vscode" }, pod: pod({ phase: "Failed", state: terminated(0), deletionTimestamp: at(64) }) }))
    if (v._tag !== "Decided" || v.outcome._tag !== "Cancelled") return assert.fail(JSON.stringify(v))
    assert.strictEqual(v.outcome.evidence.requestedBy, "vscode")
    assert.include(v.outcome.message, "by request of vscode")
  })

  it("JobDeletedExternally keeps its forensics", () => {
    const v = podVerdict(table.find(([n]) => n.startsWith("the Job deleted"))![1])
    if (v._tag !== "Decided" || v.outcome._tag !== "JobDeletedExternally") return assert.fail(JSON.stringify(v))
    assert.strictEqual(v.outcome.evidence.seenVia, "watch-deleted")
    assert.strictEqual(v.outcome.evidence.msSinceRunning, 60_000) // started at +5 s, seen gone at +65 s
    assert.strictEqual(v.outcome.evidence.transcript.outputLines, interrupted.stdoutLines.length)
  })

  it("waits: an image still being pulled, a Pod still unscheduled, a running container", () => {
    const pulling = podVerdict(facts({ nowMs: t0 + 30_000, pod: pod({ phase: "Pending", state: waiting("ErrImagePull", "rpc error: code = Unknown desc = failed to pull") }) }))
    assert.deepStrictEqual(pulling, { _tag: "Pending", waitingFor: "the image pull (ErrImagePull)", decideByMs: t0 + 1_000 + defaultClusterWaitSettings.imagePullTimeoutMs })
    const unscheduled = podVerdict(facts({ nowMs: t0 + 30_000, pod: pod({ phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes are available" }] }) }))
    assert.strictEqual(unscheduled._tag, "Pending")
    const running = podVerdict(facts({ transcript: truncated, pod: pod({ state: { running: { startedAt: at(5) } } }) }))
    assert.strictEqual(running._tag, "Pending")
  })

  it("believes a terminal state only when the Job's condition and the container's state agree, unless the lag was waited out", () => {
    // FailureTarget first, container still running (Kubernetes >= 1.31).
    const early = facts({ transcript: truncated, job: failedJob("PodFailurePolicy", "x"), pod: pod({ state: { running: { startedAt: at(5) } } }) })
    assert.strictEqual(podVerdict(early)._tag, "Pending")
    // Container terminated, Job condition not yet written.
    const lagging = facts({ transcript: success, job: job(), pod: pod({ phase: "Succeeded", state: terminated(0) }) })
    assert.strictEqual(podVerdict(lagging)._tag, "Pending")
    const v = podVerdict({ ...lagging, lagWaitedOut: true })
    assert.isTrue(v._tag === "Decided" && v.outcome._tag === "Succeeded")
  })
})
