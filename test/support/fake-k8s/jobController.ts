/**
 * The job controller, as Kubernetes >= 1.31 runs it
 * (https://kubernetes.io/docs/concepts/workloads/controllers/job/#termination-of-job-pods):
 * - creates the Job's Pod from its template (generateName `<job>-`, the controller-uid/job-name
 *   labels, an ownerReference with controller and blockOwnerDeletion), a SuccessfulCreate event;
 * - a failed Pod is matched against `podFailurePolicy` (FailJob / Ignore / Count; onExitCodes and
 *   onPodConditions, first matching rule wins); `backoffLimit` counts the rest;
 * - failure: condition `FailureTarget` first (reason BackoffLimitExceeded, PodFailurePolicy or
 *   DeadlineExceeded), running Pods are deleted, and `Failed` (same reason/message) is added only
 *   once no Pod is left running or terminating;
 * - success: `SuccessCriteriaMet` (reason CompletionsReached), then `Complete` once every Pod is
 *   terminal, with completionTime;
 * - `activeDeadlineSeconds` counts from status.startTime;
 * - `ttlSecondsAfterFinished`: the finished Job is deleted (Foreground, as the TTL controller does).
 * Only `completions` 1 / `parallelism` 1 Jobs are modelled (what agentrun creates).
 *
 * Knob `statusLagMs`: the controller sees a Pod's terminal state that much later than the kubelet
 * reports it (the Job's condition lags the container's terminated state, as on a loaded cluster).
 *
 * @module
 */
import { Cluster } from "./cluster.ts"
import { rfc3339, type KObject } from "./objects.ts"

interface Condition {
  type: string
  status: "True" | "False"
  reason?: string
  message?: string
  lastProbeTime: string
  lastTransitionTime: string
}

/** Knobs of the controller. */
export interface JobControllerKnobs {
  /** How long after the kubelet reports a terminal Pod the controller acts on it (ms). */
  statusLagMs: number
}

const isTerminalPhase = (p: KObject) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed"

export class JobController {
  readonly knobs: JobControllerKnobs = { statusLagMs: 0 }
  private readonly cluster: Cluster
  private readonly queued = new Set<string>()
  /** When the controller first saw a Pod terminal (for statusLagMs), by Pod UID. */
  private readonly terminalSeen = new Map<string, number>()
  /**
   * Every Pod a Job ever had, by Job UID then Pod UID, as last seen; `deleted` once removed. A Pod
   * removed before reaching a terminal phase counts as failed (the controller's Pod tracking).
   */
  private readonly known = new Map<string, Map<string, { pod: KObject; deleted: boolean }>>()
  private readonly deadlineTimers = new Map<string, NodeJS.Timeout>()
  private readonly ttlTimers = new Map<string, NodeJS.Timeout>()

  constructor(cluster: Cluster) {
    this.cluster = cluster
    cluster.store.subscribe((e) => {
      if (e.kind === "jobs") {
        if (e.type === "DELETED") {
          cluster.cancelTimer(this.deadlineTimers.get(e.object.metadata.uid))
          cluster.cancelTimer(this.ttlTimers.get(e.object.metadata.uid))
          this.known.delete(e.object.metadata.uid)
          return
        }
        this.enqueue(e.object.metadata.namespace!, e.object.metadata.name)
      }
      if (e.kind === "pods") {
        const owner = e.object.metadata.ownerReferences?.find((r) => r.kind === "Job" && r.controller === true)
        if (owner === undefined) return
        const pods = this.known.get(owner.uid) ?? new Map()
        pods.set(e.object.metadata.uid, { pod: e.object, deleted: e.type === "DELETED" })
        this.known.set(owner.uid, pods)
        this.enqueue(e.object.metadata.namespace!, owner.name)
      }
    })
  }

  private enqueue(namespace: string, name: string, delayMs = 0): void {
    const key = `${namespace}/${name}`
    if (delayMs > 0) {
      this.cluster.after(delayMs, () => this.enqueue(namespace, name))
      return
    }
    if (this.queued.has(key)) return
    this.queued.add(key)
    setImmediate(() => {
      this.queued.delete(key)
      if (!this.cluster.isClosed) this.reconcile(namespace, name)
    })
  }

  private podsOf(job: KObject): Array<{ pod: KObject; deleted: boolean }> {
    return [...(this.known.get(job.metadata.uid)?.values() ?? [])]
  }

  /** Terminal as far as the controller knows (statusLagMs applied). */
  private seenTerminal(job: KObject, p: KObject): boolean {
    if (!isTerminalPhase(p)) return false
    const lag = this.knobs.statusLagMs
    if (lag <= 0) return true
    const now = Date.now()
    const first = this.terminalSeen.get(p.metadata.uid)
    if (first === undefined) {
      this.terminalSeen.set(p.metadata.uid, now)
      this.enqueue(job.metadata.namespace!, job.metadata.name, lag)
      return false
    }
    if (now - first < lag) {
      this.enqueue(job.metadata.namespace!, job.metadata.name, lag - (now - first))
      return false
    }
    return true
  }

  /** The first podFailurePolicy rule a failed Pod matches: its action and the condition message. */
  private policyFor(job: KObject, pod: KObject, index: number): { action: string; message: string } | null {
    const rules: Array<any> = job.spec.podFailurePolicy?.rules ?? []
    const podName = `${pod.metadata.namespace}/${pod.metadata.name}`
    for (const [i, rule] of rules.entries()) {
      if (rule.onExitCodes !== undefined) {
        const { containerName, operator, values } = rule.onExitCodes
        for (const cs of (pod.status?.containerStatuses ?? []) as Array<any>) {
          const code = cs.state?.terminated?.exitCode
          if (code === undefined || code === 0) continue
          if (containerName !== undefined && containerName !== cs.name) continue
          const hit = operator === "In" ? values.includes(code) : !values.includes(code)
          if (hit) return { action: rule.action, message: `Container ${cs.name} for pod ${podName} failed with exit code ${code} matching ${rule.action} rule at index ${i}` }
        }
      }
      for (const pattern of (rule.onPodConditions ?? []) as Array<any>) {
        const c = (pod.status?.conditions ?? []).find((x: any) => x.type === pattern.type && x.status === (pattern.status ?? "True"))
        if (c !== undefined) return { action: rule.action, message: `Pod ${podName} has condition ${pattern.type} matching ${rule.action} rule at index ${i}` }
      }
    }
    void index
    return null
  }

  private reconcile(namespace: string, name: string): void {
    const job = this.cluster.store.get("jobs", namespace, name)
    if (job === undefined) return
    const status: Record<string, any> = job.status ?? {}
    const conditions: Array<Condition> = status.conditions ?? []
    const has = (type: string) => conditions.find((c) => c.type === type && c.status === "True")
    const now = Date.now()
    const addCondition = (type: string, reason: string, message: string) => {
      if (has(type) !== undefined) return
      conditions.push({ type, status: "True", reason, message, lastProbeTime: rfc3339(now), lastTransitionTime: rfc3339(now) })
    }
    if (has("Complete") !== undefined || has("Failed") !== undefined) return this.armTtl(job)

    const startTime: string = status.startTime ?? rfc3339(now)
    const pods = this.podsOf(job)
    const terminal = pods.filter((p) => this.seenTerminal(job, p.pod)).map((p) => p.pod)
    const vanished = pods.filter((p) => p.deleted && !isTerminalPhase(p.pod)).map((p) => p.pod)
    const running = pods.filter((p) => !p.deleted && !terminal.includes(p.pod)).map((p) => p.pod)
    const failedPods = [...terminal.filter((p) => p.status.phase === "Failed"), ...vanished]
    const succeeded = terminal.filter((p) => p.status.phase === "Succeeded").length
    let failed = 0
    let failJob: { reason: string; message: string } | null = null
    for (const [i, p] of failedPods.entries()) {
      const rule = this.policyFor(job, p, i)
      if (rule?.action === "Ignore") continue
      failed++
      if (rule?.action === "FailJob" && failJob === null) failJob = { reason: "PodFailurePolicy", message: rule.message }
    }
    const backoffLimit: number = job.spec.backoffLimit ?? 6
    const completions: number = job.spec.completions ?? 1

    if (has("FailureTarget") === undefined && has("SuccessCriteriaMet") === undefined && job.metadata.deletionTimestamp === undefined) {
      const deadline: number | undefined = job.spec.activeDeadlineSeconds
      const elapsedMs = now - Date.parse(startTime)
      if (failJob !== null) addCondition("FailureTarget", failJob.reason, failJob.message)
      else if (failed > backoffLimit) addCondition("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
      else if (succeeded >= completions) addCondition("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods")
      else if (deadline !== undefined && elapsedMs >= deadline * 1000) addCondition("FailureTarget", "DeadlineExceeded", "Job was active longer than specified deadline")
      else {
        if (deadline !== undefined && !this.deadlineTimers.has(job.metadata.uid)) {
          this.deadlineTimers.set(job.metadata.uid, this.cluster.after(deadline * 1000 - elapsedMs, () => this.enqueue(namespace, name)))
        }
        if (running.length === 0 && job.spec.suspend !== true) this.createPod(job)
      }
    }

    const failureTarget = has("FailureTarget")
    if (failureTarget !== undefined) {
      for (const p of running) {
        if (p.metadata.deletionTimestamp === undefined && !isTerminalPhase(p)) {
          try {
            this.cluster.delete("pods", namespace, p.metadata.name)
          } catch {
            // Gone meanwhile.
          }
        }
      }
    }
    const stillRunning = this.podsOf(job).filter((p) => !p.deleted && !this.seenTerminal(job, p.pod)).map((p) => p.pod)
    const active = stillRunning.filter((p) => p.metadata.deletionTimestamp === undefined).length
    const terminating = stillRunning.length - active
    if (stillRunning.length === 0) {
      if (failureTarget !== undefined) {
        addCondition("Failed", failureTarget.reason!, failureTarget.message!)
        this.cluster.recordEvent(job, "Warning", failureTarget.reason!, failureTarget.message!, "job-controller")
      } else if (has("SuccessCriteriaMet") !== undefined) {
        addCondition("Complete", "CompletionsReached", "Reached expected number of succeeded pods")
        status.completionTime = rfc3339(now)
        this.cluster.recordEvent(job, "Normal", "Completed", "Job completed", "job-controller")
      }
    }
    const ready = stillRunning.filter((p) => p.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True")).length
    const next: Record<string, any> = {
      ...status,
      startTime,
      ...(conditions.length > 0 ? { conditions } : {}),
      ...(active > 0 ? { active } : {}),
      ready,
      terminating,
      ...(succeeded > 0 ? { succeeded } : {}),
      ...(failedPods.length > 0 ? { failed: failedPods.length } : {}),
      uncountedTerminatedPods: {}
    }
    if (active === 0) delete next.active
    if (succeeded === 0) delete next.succeeded
    if (JSON.stringify(next) !== JSON.stringify(job.status ?? {})) {
      this.cluster.store.mutate("jobs", namespace, name, (o) => {
        o.status = next
      })
    }
  }

  private createPod(job: KObject): void {
    const uid = job.metadata.uid
    const name = job.metadata.name
    const tpl = job.spec.template ?? {}
    const labels = {
      ...tpl.metadata?.labels,
      "batch.kubernetes.io/controller-uid": uid,
      "batch.kubernetes.io/job-name": name,
      "controller-uid": uid,
      "job-name": name
    }
    const pod = this.cluster.store.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        generateName: `${name}-`,
        namespace: job.metadata.namespace,
        labels,
        ...(tpl.metadata?.annotations === undefined ? {} : { annotations: tpl.metadata.annotations }),
        ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name, uid, controller: true, blockOwnerDeletion: true }]
      } as unknown as KObject["metadata"],
      spec: { terminationGracePeriodSeconds: 30, ...structuredClone(tpl.spec) },
      status: { phase: "Pending", qosClass: "Guaranteed" }
    })
    this.cluster.recordEvent(job, "Normal", "SuccessfulCreate", `Created pod: ${pod.metadata.name}`, "job-controller")
  }

  private armTtl(job: KObject): void {
    const ttl: number | undefined = job.spec.ttlSecondsAfterFinished
    if (ttl === undefined || this.ttlTimers.has(job.metadata.uid)) return
    const finished = (job.status?.conditions ?? []).find((c: any) => (c.type === "Complete" || c.type === "Failed") && c.status === "True")
    const since = finished === undefined ? Date.now() : Date.parse(finished.lastTransitionTime)
    this.ttlTimers.set(
      job.metadata.uid,
      this.cluster.after(since + ttl * 1000 - Date.now(), () => {
        const cur = this.cluster.store.get("jobs", job.metadata.namespace, job.metadata.name)
        if (cur?.metadata.uid !== job.metadata.uid) return
        this.cluster.delete("jobs", cur.metadata.namespace, cur.metadata.name, { propagationPolicy: "Foreground" })
      })
    )
  }
}
