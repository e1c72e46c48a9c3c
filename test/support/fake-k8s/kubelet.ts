/**
 * The simulated scheduler and kubelet of the fake's one node.
 *
 * Scheduler: binds each new Pod to `fake-node` (condition PodScheduled True) unless the
 * `unschedulable` knob is set (PodScheduled False, reason Unschedulable, the scheduler's message, a
 * FailedScheduling event); Pods left pending are bound when the knob is cleared.
 *
 * Kubelet: runs every container of a bound Pod as a LOCAL process: `[...command, ...args]` (the
 * image's entrypoint when the container has no command), with the image's env, then the container's
 * `env` (values, `secretKeyRef` from the fake's Secrets) and `envFrom` secretRefs, in `workingDir`.
 * Volumes: `secret` volumes (files per key, or per `items`), `emptyDir` (a per-pod temp dir) and
 * `persistentVolumeClaim` (a per-claim temp dir that outlives pods) are bind-mounted at their
 * `mountPath` inside a private mount namespace (`unshare -m`, root only). Without it, a Pod with
 * volume mounts fails with CreateContainerError naming why (see `volumeSupport`).
 * stdout and stderr go, merged, into the container's log with a timestamp per line.
 *
 * States follow the kubelet's strings: waiting ContainerCreating / ErrImagePull / ImagePullBackOff /
 * CreateContainerConfigError / CreateContainerError; running; terminated with exitCode (128+n for a
 * signal death, as container runtimes report it; `signal` stays unset as containerd leaves it) and
 * reason Completed / Error / OOMKilled. Deleting a Pod sends SIGTERM to the container's main process,
 * then SIGKILL to its whole process group after terminationGracePeriodSeconds.
 *
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Cluster, nodeName } from "./cluster.ts"
import { ContainerLog, LineAssembler } from "./logs.ts"
import { rfc3339, type KObject } from "./objects.ts"

/** An image the fake can "pull": its entrypoint and env (PATH must let `sh` and the command resolve). */
export interface ImageSpec {
  readonly command?: ReadonlyArray<string>
  readonly env?: Readonly<Record<string, string>>
}

/** Whether bind mounts work here (probed once): `unshare -m` as root. */
export const volumeSupport: { readonly ok: boolean; readonly reason: string } = (() => {
  if (process.getuid?.() !== 0) return { ok: false, reason: "the simulated kubelet needs root for unshare -m (bind-mounting volumes)" }
  const r = spawnSync("unshare", ["-m", "--propagation", "private", "sh", "-c", "mount -t tmpfs none /mnt && umount /mnt"], { stdio: "ignore" })
  return r.status === 0 ? { ok: true, reason: "unshare -m works" } : { ok: false, reason: `unshare -m failed here (status ${r.status ?? r.signal})` }
})()

/** One running (or finished) container instance. */
interface ContainerRuntime {
  readonly name: string
  readonly containerID: string
  readonly log: ContainerLog
  readonly startedAt: string
  child: ChildProcess | null
  oomKilled: boolean
  exited: boolean
}

/** Per-pod kubelet state, keyed by Pod UID (a recreated same-name Pod is another entry). */
interface PodRuntime {
  readonly uid: string
  readonly namespace: string
  readonly name: string
  readonly dir: string
  readonly containers: Map<string, ContainerRuntime>
  /** Every instance's log per container name, oldest first (for `previous`). */
  readonly logs: Map<string, Array<ContainerLog>>
  terminating: boolean
  /** The kubelet no longer reports (node lost): no status writes, logs unavailable. */
  silenced: boolean
  retry: NodeJS.Timeout | undefined
  killTimer: NodeJS.Timeout | undefined
}

/** Knobs of the scheduler and kubelet (mutable: the fault API sets them). */
export interface KubeletKnobs {
  /** When set, new Pods stay unscheduled with this scheduler message. */
  unschedulable: string | null
  /** Delay between image pull retries (ms); the kubelet alternates ErrImagePull and ImagePullBackOff. */
  pullRetryMs: number
  /** Delay between retries of a container whose config (a Secret) is missing (ms). */
  configRetryMs: number
}

const signalNumber = (sig: NodeJS.Signals): number => os.constants.signals[sig] ?? 9

const hasTag = (image: string) => /:[^/]+$/.test(image) || image.includes("@")
const normalizedImage = (image: string) => {
  const withTag = hasTag(image) ? image : `${image}:latest`
  const first = withTag.split("/")[0]!
  if (!withTag.includes("/")) return `docker.io/library/${withTag}`
  return first.includes(".") || first.includes(":") || first === "localhost" ? withTag : `docker.io/${withTag}`
}

/** The simulated node: scheduler + kubelet. */
export class Kubelet {
  readonly images = new Map<string, ImageSpec>()
  readonly knobs: KubeletKnobs = { unschedulable: null, pullRetryMs: 500, configRetryMs: 300 }
  private readonly pods = new Map<string, PodRuntime>()
  /** Logs stay readable after a pod's runtime is gone, until the Pod object is removed. */
  private readonly root: string
  private readonly claims = new Map<string, string>()
  private readonly cluster: Cluster

  constructor(cluster: Cluster, root: string) {
    this.cluster = cluster
    this.root = root
    cluster.podTerminator = { terminate: (pod) => this.terminate(pod), forget: (uid) => this.forget(uid) }
    cluster.store.subscribe((e) => {
      if (e.kind !== "pods") return
      if (e.type === "ADDED") queueMicrotask(() => this.schedule(e.object))
      if (e.type === "DELETED") {
        const rt = this.pods.get(e.object.metadata.uid)
        if (rt !== undefined) this.dispose(rt)
      }
    })
  }

  // ---------------------------------------------------------------------------------------------
  // Scheduler

  private schedule(pod: KObject): void {
    const cur = this.cluster.store.get("pods", pod.metadata.namespace, pod.metadata.name)
    if (cur === undefined || cur.metadata.uid !== pod.metadata.uid || cur.spec.nodeName !== undefined) {
      if (cur !== undefined && cur.spec.nodeName === nodeName && !this.pods.has(cur.metadata.uid)) this.start(cur)
      return
    }
    const now = rfc3339(Date.now())
    if (this.knobs.unschedulable !== null) {
      const message = this.knobs.unschedulable
      const updated = this.cluster.store.mutate("pods", pod.metadata.namespace, pod.metadata.name, (o) => {
        o.status = {
          phase: "Pending",
          conditions: [{ type: "PodScheduled", status: "False", lastProbeTime: null, lastTransitionTime: now, reason: "Unschedulable", message }],
          qosClass: o.status?.qosClass ?? "Guaranteed"
        }
      })
      if (updated !== undefined) this.cluster.recordEvent(updated, "Warning", "FailedScheduling", message, "default-scheduler")
      return
    }
    const bound = this.cluster.store.mutate("pods", pod.metadata.namespace, pod.metadata.name, (o) => {
      o.spec.nodeName = nodeName
      o.status = {
        phase: "Pending",
        conditions: [{ type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: now }],
        qosClass: "Guaranteed"
      }
    })
    if (bound === undefined) return
    this.cluster.recordEvent(bound, "Normal", "Scheduled", `Successfully assigned ${bound.metadata.namespace}/${bound.metadata.name} to ${nodeName}`, "default-scheduler")
    this.start(bound)
  }

  /** Binds the Pods left pending while `unschedulable` was set (call after clearing it). */
  rescheduleAll(): void {
    for (const p of this.cluster.store.list("pods")) if (p.spec.nodeName === undefined) this.schedule(p)
  }

  // ---------------------------------------------------------------------------------------------
  // Kubelet

  private writeStatus(rt: PodRuntime, f: (status: Record<string, any>, pod: KObject) => void): KObject | undefined {
    if (rt.silenced) return undefined
    const cur = this.cluster.store.get("pods", rt.namespace, rt.name)
    if (cur === undefined || cur.metadata.uid !== rt.uid) return undefined
    return this.cluster.store.mutate("pods", rt.namespace, rt.name, (o) => f(o.status ??= {}, o))
  }

  private setCondition(status: Record<string, any>, type: string, value: "True" | "False", reason?: string, message?: string): void {
    const list: Array<Record<string, any>> = status.conditions ??= []
    const now = rfc3339(Date.now())
    const i = list.findIndex((c) => c.type === type)
    const prev = i >= 0 ? list[i] : undefined
    const c: Record<string, any> = { type, status: value, lastProbeTime: null, lastTransitionTime: prev !== undefined && prev.status === value ? prev.lastTransitionTime : now }
    if (reason !== undefined) c.reason = reason
    if (message !== undefined) c.message = message
    if (i >= 0) list[i] = c
    else list.push(c)
  }

  private start(pod: KObject): void {
    if (this.pods.has(pod.metadata.uid)) return
    const dir = fs.mkdtempSync(path.join(this.root, `${pod.metadata.name}-`))
    const rt: PodRuntime = {
      uid: pod.metadata.uid,
      namespace: pod.metadata.namespace!,
      name: pod.metadata.name,
      dir,
      containers: new Map(),
      logs: new Map(),
      terminating: false,
      silenced: false,
      retry: undefined,
      killTimer: undefined
    }
    this.pods.set(rt.uid, rt)
    const now = rfc3339(Date.now())
    this.writeStatus(rt, (s, o) => {
      s.phase = "Pending"
      s.hostIP = "10.0.0.1"
      s.hostIPs = [{ ip: "10.0.0.1" }]
      s.startTime = now
      this.setCondition(s, "PodReadyToStartContainers", "False")
      this.setCondition(s, "Initialized", "True")
      this.setCondition(s, "Ready", "False", "ContainersNotReady", `containers with unready status: [${o.spec.containers.map((c: any) => c.name).join(" ")}]`)
      this.setCondition(s, "ContainersReady", "False", "ContainersNotReady", `containers with unready status: [${o.spec.containers.map((c: any) => c.name).join(" ")}]`)
      s.containerStatuses = o.spec.containers.map((c: any) => this.waitingStatus(c, "ContainerCreating"))
    })
    this.tryStart(rt, 0)
  }

  private waitingStatus(c: any, reason: string, message?: string): Record<string, any> {
    return {
      name: c.name,
      image: c.image,
      imageID: "",
      ready: false,
      started: false,
      restartCount: 0,
      state: { waiting: { reason, ...(message === undefined ? {} : { message }) } },
      lastState: {}
    }
  }

  private setWaiting(rt: PodRuntime, containerName: string, reason: string, message: string): void {
    this.writeStatus(rt, (s, o) => {
      const c = o.spec.containers.find((x: any) => x.name === containerName)
      s.containerStatuses = (s.containerStatuses ?? []).map((cs: any) => cs.name === containerName ? this.waitingStatus(c, reason, message) : cs)
    })
  }

  /** One attempt to get every container running; problems are reported and retried on a timer. */
  private tryStart(rt: PodRuntime, attempt: number): void {
    if (rt.terminating || this.cluster.isClosed) return
    const pod = this.cluster.store.get("pods", rt.namespace, rt.name)
    if (pod === undefined || pod.metadata.uid !== rt.uid) return
    const retry = (ms: number) => {
      rt.retry = this.cluster.after(ms, () => this.tryStart(rt, attempt + 1))
    }
    // Volumes first: the kubelet mounts before it creates containers.
    const mounts = this.prepareVolumes(rt, pod)
    if (typeof mounts === "string") {
      if (attempt === 0 || attempt % 10 === 0) this.cluster.recordEvent(pod, "Warning", "FailedMount", mounts, "kubelet")
      return retry(this.knobs.configRetryMs)
    }
    const plans: Array<{ c: any; argv: Array<string>; env: Record<string, string>; spec: ImageSpec }> = []
    for (const c of pod.spec.containers as Array<any>) {
      if (rt.containers.has(c.name)) continue
      const image: string = c.image ?? ""
      if (image === "" || /[A-Z]/.test(image) || /\s/.test(image)) {
        const message = `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`
        this.setWaiting(rt, c.name, "InvalidImageName", message)
        if (attempt === 0) this.cluster.recordEvent(pod, "Warning", "InspectFailed", message, "kubelet")
        return retry(this.knobs.pullRetryMs)
      }
      const spec = this.images.get(image)
      if (spec === undefined) {
        const ref = normalizedImage(image)
        const pullMessage = `failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`
        if (attempt % 2 === 0) {
          this.setWaiting(rt, c.name, "ErrImagePull", pullMessage)
          this.cluster.recordEvent(pod, "Normal", "Pulling", `Pulling image "${image}"`, "kubelet")
          this.cluster.recordEvent(pod, "Warning", "Failed", `Failed to pull image "${image}": ${pullMessage}`, "kubelet")
          this.cluster.recordEvent(pod, "Warning", "Failed", "Error: ErrImagePull", "kubelet")
        } else {
          this.setWaiting(rt, c.name, "ImagePullBackOff", `Back-off pulling image "${image}"`)
          this.cluster.recordEvent(pod, "Normal", "BackOff", `Back-off pulling image "${image}"`, "kubelet")
          this.cluster.recordEvent(pod, "Warning", "Failed", "Error: ImagePullBackOff", "kubelet")
        }
        return retry(this.knobs.pullRetryMs)
      }
      const env = this.resolveEnv(pod, c, spec)
      if (typeof env === "string") {
        this.setWaiting(rt, c.name, "CreateContainerConfigError", env)
        if (attempt === 0 || attempt % 10 === 0) this.cluster.recordEvent(pod, "Warning", "Failed", `Error: ${env}`, "kubelet")
        return retry(this.knobs.configRetryMs)
      }
      const argv = [...(c.command ?? spec.command ?? []), ...(c.args ?? [])]
      if (argv.length === 0) {
        const message = `failed to generate container spec: no command specified`
        this.setWaiting(rt, c.name, "CreateContainerError", message)
        return retry(this.knobs.configRetryMs)
      }
      const volumeMounts: Array<any> = c.volumeMounts ?? []
      if (volumeMounts.length > 0 && !volumeSupport.ok) {
        this.setWaiting(rt, c.name, "CreateContainerError", `fake-k8s cannot mount volumes here: ${volumeSupport.reason}`)
        return retry(this.knobs.configRetryMs)
      }
      plans.push({ c, argv, env, spec })
    }
    for (const p of plans) this.launch(rt, pod, p.c, p.argv, p.env, mounts)
  }

  /** Host directories per volume name, or the FailedMount message. */
  private prepareVolumes(rt: PodRuntime, pod: KObject): Map<string, string> | string {
    const out = new Map<string, string>()
    for (const v of (pod.spec.volumes ?? []) as Array<any>) {
      const dir = path.join(rt.dir, "volumes", v.name)
      if (v.secret !== undefined) {
        const secret = this.cluster.store.get("secrets", pod.metadata.namespace, v.secret.secretName)
        if (secret === undefined) {
          if (v.secret.optional === true) {
            fs.mkdirSync(dir, { recursive: true })
            out.set(v.name, dir)
            continue
          }
          return `MountVolume.SetUp failed for volume "${v.name}" : secret "${v.secret.secretName}" not found`
        }
        fs.mkdirSync(dir, { recursive: true })
        const data = { ...Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, b]) => [k, Buffer.from(String(b), "base64")])), ...Object.fromEntries(Object.entries(secret.stringData ?? {}).map(([k, s]) => [k, Buffer.from(String(s))])) }
        const items: Array<{ key: string; path: string; mode?: number }> = v.secret.items ?? Object.keys(data).map((k) => ({ key: k, path: k }))
        for (const item of items) {
          const bytes = data[item.key]
          if (bytes === undefined) return `MountVolume.SetUp failed for volume "${v.name}" : references non-existent secret key: ${item.key}`
          const file = path.join(dir, item.path)
          fs.mkdirSync(path.dirname(file), { recursive: true })
          fs.writeFileSync(file, bytes, { mode: item.mode ?? v.secret.defaultMode ?? 0o644 })
        }
        out.set(v.name, dir)
      } else if (v.persistentVolumeClaim !== undefined) {
        const key = `${pod.metadata.namespace}/${v.persistentVolumeClaim.claimName}`
        let claimDir = this.claims.get(key)
        if (claimDir === undefined) {
          claimDir = fs.mkdtempSync(path.join(this.root, `pvc-${v.persistentVolumeClaim.claimName}-`))
          this.claims.set(key, claimDir)
        }
        out.set(v.name, claimDir)
      } else {
        // emptyDir, and any other kind: a fresh directory for this pod.
        fs.mkdirSync(dir, { recursive: true })
        out.set(v.name, dir)
      }
    }
    return out
  }

  /** The container's environment, or the CreateContainerConfigError message (the kubelet's words). */
  private resolveEnv(pod: KObject, c: any, image: ImageSpec): Record<string, string> | string {
    const ns = pod.metadata.namespace!
    const env: Record<string, string> = { ...image.env, HOSTNAME: pod.metadata.name }
    const secretData = (name: string) => {
      const s = this.cluster.store.get("secrets", ns, name)
      if (s === undefined) return undefined
      return {
        ...Object.fromEntries(Object.entries(s.data ?? {}).map(([k, b]) => [k, Buffer.from(String(b), "base64").toString("utf8")])),
        ...(s.stringData ?? {})
      } as Record<string, string>
    }
    for (const from of (c.envFrom ?? []) as Array<any>) {
      if (from.secretRef === undefined) continue
      const data = secretData(from.secretRef.name)
      if (data === undefined) {
        if (from.secretRef.optional === true) continue
        return `secret "${from.secretRef.name}" not found`
      }
      for (const [k, v] of Object.entries(data)) env[`${from.prefix ?? ""}${k}`] = v
    }
    for (const e of (c.env ?? []) as Array<any>) {
      if (e.valueFrom?.secretKeyRef !== undefined) {
        const ref = e.valueFrom.secretKeyRef
        const data = secretData(ref.name)
        if (data === undefined) {
          if (ref.optional === true) continue
          return `secret "${ref.name}" not found`
        }
        const value = data[ref.key]
        if (value === undefined) {
          if (ref.optional === true) continue
          return `couldn't find key ${ref.key} in Secret ${ns}/${ref.name}`
        }
        env[e.name] = value
      } else if (e.valueFrom?.fieldRef !== undefined) {
        const p: string = e.valueFrom.fieldRef.fieldPath
        env[e.name] = p === "metadata.name" ? pod.metadata.name : p === "metadata.namespace" ? ns : p === "metadata.uid" ? pod.metadata.uid : p === "spec.nodeName" ? nodeName : ""
      } else {
        // $(VAR) references to earlier variables, as the kubelet expands them.
        env[e.name] = String(e.value ?? "").replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n: string) => env[n] ?? m)
      }
    }
    return env
  }

  /** Creates the mount point on the host if missing (another fake may create it at the same time). */
  private ensureMountPoint(target: string): void {
    fs.mkdirSync(target, { recursive: true })
  }

  private launch(rt: PodRuntime, pod: KObject, c: any, argv: Array<string>, env: Record<string, string>, mounts: Map<string, string>): void {
    const binds: Array<string> = []
    for (const m of (c.volumeMounts ?? []) as Array<any>) {
      const src = mounts.get(m.name)
      if (src === undefined) continue
      const from = m.subPath === undefined ? src : path.join(src, m.subPath)
      this.ensureMountPoint(m.mountPath)
      binds.push(`mount --bind ${shq(from)} ${shq(m.mountPath)}`)
      if (m.readOnly === true) binds.push(`mount -o remount,bind,ro ${shq(m.mountPath)}`)
    }
    const cd = c.workingDir === undefined ? "" : `cd ${shq(c.workingDir)} || exit 1; `
    const setup = `${binds.map((b) => `${b} || exit 1; `).join("")}${cd}exec "$@"`
    const [file, args] = binds.length > 0
      ? ["unshare", ["-m", "--propagation", "private", "sh", "-c", setup, "fake-kubelet", ...argv]]
      : ["sh", ["-c", `${cd}exec "$@"`, "fake-kubelet", ...argv]]
    const containerID = `containerd://${randomBytes(32).toString("hex")}`
    const log = new ContainerLog()
    const startedAt = rfc3339(Date.now())
    const cr: ContainerRuntime = { name: c.name, containerID, log, startedAt, child: null, oomKilled: false, exited: false }
    rt.containers.set(c.name, cr)
    const instances = rt.logs.get(c.name) ?? []
    instances.push(log)
    rt.logs.set(c.name, instances)
    const child = spawn(file as string, args as Array<string>, { env, stdio: ["ignore", "pipe", "pipe"], detached: true })
    cr.child = child
    const lines = new LineAssembler((l) => log.append(l))
    child.stdout!.on("data", (b: Buffer) => lines.push(b))
    child.stderr!.on("data", (b: Buffer) => lines.push(b))
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null
    let streamsOpen = 2
    const finish = () => {
      if (exit === null || streamsOpen > 0 || cr.exited) return
      cr.exited = true
      lines.end()
      log.close()
      this.containerExited(rt, cr, exit.code, exit.signal)
    }
    child.stdout!.on("close", () => { streamsOpen--; finish() })
    child.stderr!.on("close", () => { streamsOpen--; finish() })
    child.on("exit", (code, signal) => {
      exit = { code, signal }
      // The container's other processes die with its init (PID 1), as in a real container.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGKILL")
        } catch {
          // The group is already gone.
        }
      }
      finish()
    })
    child.on("error", (err) => {
      exit = { code: 128, signal: null }
      log.append(`fake-kubelet: ${err.message}`)
      streamsOpen = 0
      finish()
    })
    const image = c.image as string
    this.cluster.recordEvent(pod, "Normal", "Pulled", `Container image "${image}" already present on machine`, "kubelet")
    this.cluster.recordEvent(pod, "Normal", "Created", `Created container: ${c.name}`, "kubelet")
    this.cluster.recordEvent(pod, "Normal", "Started", `Started container ${c.name}`, "kubelet")
    this.writeStatus(rt, (s, o) => {
      s.phase = "Running"
      s.podIP = "10.244.0.10"
      s.podIPs = [{ ip: "10.244.0.10" }]
      s.containerStatuses = (s.containerStatuses ?? []).map((cs: any) =>
        cs.name === c.name
          ? { name: c.name, image, imageID: `${normalizedImage(image)}@sha256:${"0".repeat(64)}`, containerID, ready: true, started: true, restartCount: 0, state: { running: { startedAt } }, lastState: {} }
          : cs
      )
      const allRunning = s.containerStatuses.every((cs: any) => cs.state.running !== undefined)
      this.setCondition(s, "PodReadyToStartContainers", "True")
      if (allRunning) {
        this.setCondition(s, "Ready", "True")
        this.setCondition(s, "ContainersReady", "True")
      }
      void o
    })
  }

  private containerExited(rt: PodRuntime, cr: ContainerRuntime, code: number | null, signal: NodeJS.Signals | null): void {
    const exitCode = code ?? (signal === null ? 0 : 128 + signalNumber(signal))
    const reason = cr.oomKilled ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error"
    const finishedAt = rfc3339(Date.now())
    const updated = this.writeStatus(rt, (s) => {
      s.containerStatuses = (s.containerStatuses ?? []).map((cs: any) =>
        cs.name === cr.name
          ? { ...cs, ready: false, started: false, state: { terminated: { exitCode, reason, startedAt: cr.startedAt, finishedAt, containerID: cr.containerID } } }
          : cs
      )
      const all = s.containerStatuses as Array<any>
      const done = all.every((cs) => cs.state.terminated !== undefined)
      this.setCondition(s, "Ready", "False", done ? (all.every((cs) => cs.state.terminated.exitCode === 0) ? "PodCompleted" : "PodFailed") : "ContainersNotReady")
      this.setCondition(s, "ContainersReady", "False", done ? (all.every((cs) => cs.state.terminated.exitCode === 0) ? "PodCompleted" : "PodFailed") : "ContainersNotReady")
      if (done) {
        s.phase = all.every((cs) => cs.state.terminated.exitCode === 0) ? "Succeeded" : "Failed"
        this.setCondition(s, "PodReadyToStartContainers", "False")
      } else if (all.some((cs) => cs.state.waiting !== undefined)) {
        // A container still starting while another ended: the Pod is not running yet.
      }
    })
    if (updated !== undefined && updated.status.phase !== "Running" && updated.metadata.deletionTimestamp !== undefined) this.removePod(rt)
  }

  private removePod(rt: PodRuntime): void {
    const cur = this.cluster.store.get("pods", rt.namespace, rt.name)
    if (cur === undefined || cur.metadata.uid !== rt.uid) return
    try {
      this.cluster.store.remove("pods", rt.namespace, rt.name)
    } catch {
      // Removed meanwhile.
    }
  }

  /** Graceful stop of a deleted Pod: SIGTERM to each container's main process, SIGKILL after the grace. */
  private terminate(pod: KObject): void {
    const rt = this.pods.get(pod.metadata.uid)
    if (rt === undefined) {
      this.cluster.after(0, () => {
        const cur = this.cluster.store.get("pods", pod.metadata.namespace, pod.metadata.name)
        if (cur !== undefined && cur.metadata.uid === pod.metadata.uid) this.cluster.store.remove("pods", cur.metadata.namespace, cur.metadata.name)
      })
      return
    }
    if (rt.terminating) return
    rt.terminating = true
    this.cluster.cancelTimer(rt.retry)
    const running = [...rt.containers.values()].filter((c) => !c.exited)
    if (running.length === 0) {
      // Nothing started (waiting on an image, a secret, a mount): the Pod goes at once.
      this.writeStatus(rt, (s) => {
        if (s.phase === "Pending") s.phase = "Failed"
      })
      this.removePod(rt)
      return
    }
    for (const c of running) {
      this.cluster.recordEvent(pod, "Normal", "Killing", `Stopping container ${c.name}`, "kubelet")
      try {
        c.child?.kill("SIGTERM")
      } catch {
        // Exited meanwhile.
      }
    }
    const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30
    rt.killTimer = this.cluster.after(grace * 1000, () => {
      for (const c of rt.containers.values()) if (!c.exited) this.killGroup(c)
    })
  }

  private killGroup(c: ContainerRuntime): void {
    const pid = c.child?.pid
    if (pid === undefined) return
    try {
      process.kill(-pid, "SIGKILL")
    } catch {
      // Gone.
    }
  }

  private forget(uid: string): void {
    const rt = this.pods.get(uid)
    if (rt === undefined) return
    rt.silenced = true
    for (const c of rt.containers.values()) this.killGroup(c)
  }

  private dispose(rt: PodRuntime): void {
    this.cluster.cancelTimer(rt.retry)
    this.cluster.cancelTimer(rt.killTimer)
    rt.silenced = true
    for (const c of rt.containers.values()) if (!c.exited) this.killGroup(c)
    this.pods.delete(rt.uid)
    fs.rmSync(rt.dir, { recursive: true, force: true })
  }

  // ---------------------------------------------------------------------------------------------
  // What the API layer and the fault API use

  /** The log instances of a Pod's container, oldest first; undefined when the kubelet has none. */
  logsOf(podUid: string, container: string): ReadonlyArray<ContainerLog> | undefined {
    const rt = this.pods.get(podUid)
    if (rt === undefined || rt.silenced) return undefined
    return rt.logs.get(container)
  }

  /** The pid of a running container's main process (for tests), or undefined. */
  pidOf(podUid: string, container: string): number | undefined {
    const c = this.pods.get(podUid)?.containers.get(container)
    return c === undefined || c.exited ? undefined : c.child?.pid
  }

  /**
   * OOMKill: SIGKILL the container's processes and report terminated reason OOMKilled (exit 137),
   * with an OOMKilling Event on the Node as the kernel monitor writes it.
   */
  oomKill(podUid: string, container: string): boolean {
    const c = this.pods.get(podUid)?.containers.get(container)
    if (c === undefined || c.exited || c.child?.pid === undefined) return false
    c.oomKilled = true
    const node = this.cluster.store.get("nodes", undefined, nodeName)!
    this.cluster.recordEvent(
      { ...node, metadata: { ...node.metadata, namespace: "default" } },
      "Warning",
      "OOMKilling",
      `Memory cgroup out of memory: Killed process ${c.child.pid} (${commOf(c.child.spawnargs)}) total-vm:1048576kB, anon-rss:2097152kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4096kB oom_score_adj:-997`,
      "kernel-monitor"
    )
    this.killGroup(c)
    return true
  }

  /**
   * The node disappears: containers are killed without any status report (the kubelet is gone with
   * the node), the Node object is deleted.
   */
  loseNode(podUid: string): void {
    this.forget(podUid)
  }

  /**
   * Stops the Pods and deletes the claims' directories; called on close. The mount points it
   * created on the host (`/workspace`, `/agentrun/prompt`) stay: removing one detaches the bind
   * mounts on it in every other mount namespace (Linux >= 3.18), so the close of one fake took
   * the working directory from under the containers of any other fake running on the machine
   * (claude's Bash: "getcwd: cannot access parent directories").
   */
  close(): void {
    for (const rt of [...this.pods.values()]) this.dispose(rt)
    for (const d of this.claims.values()) fs.rmSync(d, { recursive: true, force: true })
  }
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * The kernel's name (comm: the executable's basename, at most 15 characters) of a container's main
 * process: after the wrapper's `exec "$@"` it is the container command's first word, the argument
 * after the `fake-kubelet` $0 marker.
 */
const commOf = (spawnargs: ReadonlyArray<string>): string => {
  const i = spawnargs.indexOf("fake-kubelet")
  return path.basename(spawnargs[i + 1] ?? "sh").slice(0, 15)
}
