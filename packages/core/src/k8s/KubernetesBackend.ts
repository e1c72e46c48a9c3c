/**
 * The Kubernetes backend: runs claude as a Job (the Secret and Job of JobManifest.ts), follows it
 * through the {@link KubernetesApi} (watches, the pod log), and records the verdict with the same
 * TranscriptIngest and verdict as local runs (PodVerdict.ts on top of the core's). Placement
 * `Kubernetes`.
 *
 * - `launch(spec)`: the run's options are `spec.kubernetes`; with an agent id the Lease guard
 *   runs first (AgentLease.ts). Returns at once; the backend's registry (a FiberMap in its
 *   layer's scope) owns the run.
 * - Closing the layer's scope does NOT stop the Jobs: each live run's record is left `running`
 *   with `supervisor: null` (`agentrun attach` takes over). Only `cancel` deletes a Job.
 * - `reattach(record)`: follows a stored run from its record's log cursor (no lost or duplicated
 *   transcript lines) and records its verdict, as its supervisor now.
 * - `liveness(record)`: `Supervised` while a live agentrun process on this machine (or, on another
 *   machine, a fresh Lease) follows it; `Orphaned` when its supervisor is gone (`agentAlive`: the
 *   Job still running); `Unknown` when the API cannot be asked or another machine's supervisor
 *   cannot be checked.
 * - `cancel(record)`: the request goes into the run store; a live supervisor on this machine is
 *   asked through it alone (it deletes the Job and records `Cancelled` with claude's cost). For
 *   any other run the request is also merge-patched onto the Job as annotations
 *   (CancelAnnotation.ts), which reach a supervisor on any machine through its Job watch. A
 *   supervisor seen alive on another machine (its fresh Lease) is left to cancel (`AskedSupervisor`
 *   with its host); otherwise this process deletes the Job (propagation Background), reads the
 *   final logs and records `Cancelled` itself, and a supervisor elsewhere that is alive after all
 *   records `Cancelled` too (its Job's last state carried the annotation), never
 *   `JobDeletedExternally`.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberMap from "effect/FiberMap"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as NodeOs from "node:os"
import { Backends } from "../backend/Backends.ts"
import { type BackendShape, type CancelOptions, type CancelResult, RunNotRunning, RunOnAnotherHost } from "../backend/Backend.ts"
import type { SupervisorIdentity } from "../backend/LocalRecord.ts"
import { pushTail, stderrTailLineBytes, stderrTailLines } from "../backend/RunSupervision.ts"
import { makeRedactor } from "../domain/Redaction.ts"
import { defaultWatchdogSettings, emptySummary, makeRunId, type RunId, type RunRecord, type RunSpec } from "../domain/Run.ts"
import type { RunLiveness } from "../domain/RunLiveness.ts"
import { ProcessControl } from "../procfs/ProcessControl.ts"
import { eventsStart, RunStore, type RunStoreError } from "../store/RunStore.ts"
import { cancelAnnotations } from "./CancelAnnotation.ts"
import { jobFinished, leaseExpired, leaseNameFor, leaseRenewIntervalMs } from "./AgentLease.ts"
import type { FollowSettings, LogSource } from "./KubernetesFollow.ts"
import { type ClusterTarget, KubernetesApi, type KubernetesUnreachable } from "./KubernetesApi.ts"
import * as KubernetesApiLive from "./KubernetesApiLive.ts"
import { lifecycle, type LifecycleDeps, type LifecycleStart } from "./KubernetesLifecycle.ts"
import { kubernetesLaunchRecord, kubernetesPlacement, supervisorOf, withPlacement } from "./KubernetesRecord.ts"
import { kubernetesHandle, type KubernetesRun, makeRun, nowMs, publish } from "./KubernetesRun.ts"
import { kubernetesRunOptions } from "./KubernetesRunOptions.ts"
import { podLogSource, type PodLogSourceOptions } from "./PodLogSource.ts"
import { defaultClusterWaitSettings } from "./PodVerdict.ts"

/** A run spec for this backend: the core's, whose `kubernetes` options must be set. */
export type KubernetesRunSpec = RunSpec

/**
 * The backend's operations: the core's Backend contract (backend/Backend.ts), placement
 * `Kubernetes`. `launch` of a spec without `kubernetes` options is a defect (the CLI always
 * resolves them for `--backend k8s`).
 */
export type KubernetesBackendShape = BackendShape & { readonly placement: "Kubernetes" }

/** Options of the backend layer. */
export interface KubernetesBackendOptions {
  /** The pod log follow; default: {@link podLogSource} over the API, with `logFollow`'s timings. */
  readonly logs?: LogSource
  readonly logFollow?: PodLogSourceOptions
  /** Timings of the follow; defaults below. */
  readonly settings?: Partial<FollowSettings>
  /**
   * Who this supervisor is, as its records and Leases name it and as `liveness` tells "this
   * machine" from another (default: `os.hostname()` and this process's pid). Tests give two
   * backends in one process different hostnames to play two machines sharing a cluster.
   */
  readonly supervisor?: { readonly hostname: string; readonly pid: number }
}

/** The follow's defaults: 5 s for the Job and the container to agree, 10 s to read a log's tail, the cursor written every 5 s, the Lease renewed every 10 s. */
export const defaultFollowSettings: FollowSettings = {
  lagWaitMs: 5_000,
  logDrainMs: 10_000,
  cursorPersistMs: 5_000,
  stopMarginMs: 15_000,
  leaseRenewMs: leaseRenewIntervalMs,
  cluster: defaultClusterWaitSettings
}

/** `--max-turns N` from a stored command (a reattached run's verdict names it). */
const maxTurnsOf = (command: ReadonlyArray<string>): number | null => {
  const i = command.indexOf("--max-turns")
  const n = i === -1 ? NaN : Number(command[i + 1])
  return Number.isInteger(n) ? n : null
}

/**
 * The runs followed in this process, by supervisor identity (`hostname:pid`), across every
 * KubernetesBackend built in it. A host may build several (the VS Code extension builds one per
 * cluster target, and a stored run's target may differ from its launch's); a record naming this
 * process is `Supervised` while any of them follows the run, not only the instance asked.
 */
const followedHere = new Map<string, Map<RunId, number>>()
const identityKey = (s: { readonly hostname: string; readonly pid: number }) => `${s.hostname}:${s.pid}`

/** Builds the backend (see {@link KubernetesBackend}). Its registry of live runs lives in the calling scope. */
export const makeKubernetesBackend = (options: KubernetesBackendOptions = {}) =>
  Effect.gen(function*() {
    const api = yield* KubernetesApi
    const store = yield* RunStore
    const control = yield* ProcessControl
    // Another agentrun process on this machine follows the run while its pid lives (a table that
    // cannot tell counts it alive: a live supervisor is never judged gone).
    const supervisorAlive = (pid: number, startTimeTicks: number | null) =>
      control.liveness(pid, startTimeTicks).pipe(Effect.map((l) => l === "alive"), Effect.catch(() => Effect.succeed(true)))
    const supervisor: SupervisorIdentity = { hostname: options.supervisor?.hostname ?? NodeOs.hostname(), pid: options.supervisor?.pid ?? process.pid, startTicks: null }
    const deps: LifecycleDeps = {
      api,
      store,
      logs: options.logs ?? podLogSource(api, options.logFollow),
      settings: { ...defaultFollowSettings, ...options.settings },
      supervisor
    }
    // Closing the layer's scope interrupts every live run: each one detaches (its Job runs on).
    const runs = yield* FiberMap.make<RunId, void>()
    // Counted, not a set: a second follow of a run (attach again) starts before the first one's end is seen.
    const followed = followedHere.get(identityKey(supervisor)) ?? new Map<RunId, number>()
    followedHere.set(identityKey(supervisor), followed)
    const unfollow = (runId: RunId) =>
      Effect.sync(() => {
        const n = (followed.get(runId) ?? 1) - 1
        if (n > 0) followed.set(runId, n)
        else followed.delete(runId)
      })
    const start = (run: KubernetesRun, how: LifecycleStart) =>
      Effect.suspend(() => {
        followed.set(run.runId, (followed.get(run.runId) ?? 0) + 1)
        return FiberMap.run(runs, run.runId, lifecycle(deps, run, how).pipe(Effect.ensuring(unfollow(run.runId))), { startImmediately: true })
      })

    const launch = (spec: KubernetesRunSpec) =>
      Effect.gen(function*() {
        const k = spec.kubernetes
        if (k == null) return yield* Effect.die(new Error("KubernetesBackend.launch: the spec has no `kubernetes` options"))
        const options = k.namespace === "" ? { ...k, namespace: api.namespace } : k
        const startedAt = yield* nowMs
        const runId = makeRunId(startedAt, yield* Random.nextIntBetween(0, 0xffffff))
        const redactor = makeRedactor({ ...spec.env, ...Object.fromEntries(options.podEnv.map((e) => [e.name, e.value])) })
        const record = kubernetesLaunchRecord(runId, spec, options, api.context, redactor, startedAt, supervisor)
        const run = yield* makeRun({ runId, spec, options, startedAt, redactor, record })
        yield* store.writeRecord(record)
        yield* start(run, { _tag: "Launch" })
        return kubernetesHandle(run)
      })

    /**
     * A stored run as this process's to follow: its transcript so far folded (window by window),
     * its stderr tail and stored line counts taken, its supervisor this process.
     */
    const adopt = (record: RunRecord, supervise = true) =>
      Effect.gen(function*() {
        const p = kubernetesPlacement(record)
        if (p === null) return yield* Effect.die(new Error(`KubernetesBackend: run ${record.runId} is not a Kubernetes run`))
        const spec: RunSpec = {
          prompt: "",
          cwd: record.agent.cwd,
          claudePath: null,
          claudeArgs: [],
          model: null,
          maxTurns: maxTurnsOf(record.agent.command),
          timeoutMs: record.agent.timeoutMs,
          env: {},
          watchdog: defaultWatchdogSettings
        }
        const options = kubernetesRunOptions({ namespace: p.namespace, image: "", agentId: p.agentId, taskId: p.taskId })
        // Stored lines are already redacted; new ones are redacted with this process's environment.
        const redactor = makeRedactor(process.env)
        const run = yield* makeRun({
          runId: record.runId as RunId,
          spec,
          options,
          startedAt: Date.parse(record.createdAt),
          redactor,
          record: supervise ? withPlacement(record, { supervisor: supervisorOf(supervisor) }) : record
        })
        yield* publish(run, { _tag: "Started", runId: run.runId, pid: null })
        // The stored transcript goes through the ingest a read window at a time, never whole: an
        // attach to a long run (a transcript of a GiB) holds what following it live holds.
        let events = 0
        for (let at = eventsStart;;) {
          const chunk = yield* store.readEventsSince(run.runId, at)
          if (chunk.cursor === at) break
          at = chunk.cursor
          events += chunk.lines.length
          for (const event of run.ingest.push(chunk.lines).progress) yield* publish(run, event)
        }
        // (A partly written last line, a supervisor killed mid-append, is neither replayed nor
        // counted: the cursor is before it, so the log gives it again.)
        // Of stderr.log only the bounded tail is kept, but its line count must be exact: the
        // follow compares it with the log cursor's to skip the lines stored past the cursor.
        const stderr = yield* store.readStderrTail(run.runId, { maxLines: stderrTailLines, maxLineBytes: stderrTailLineBytes })
        for (const line of stderr.tail) pushTail(run.stderrTail, line)
        run.storedLines = { events, stderr: stderr.lines }
        if (p.agentId !== null) {
          run.lease = { runId: run.runId, agentId: p.agentId, jobName: p.jobName, taskId: p.taskId, sessionId: null, supervisor: `${supervisor.hostname}:${supervisor.pid}` }
        }
        if (supervise) yield* store.writeRecord(run.record)
        return run
      })

    const reattach = (record: RunRecord) =>
      Effect.gen(function*() {
        const current = yield* store.readRecord(record.runId).pipe(Effect.catch(() => Effect.succeed(record)))
        // Recovery marks a run whose supervisor died Interrupted; its Job may live on: follow it again.
        const resumable = current.status === "running" || (current.status === "interrupted" && current.outcome?._tag === "Interrupted")
        const run = yield* adopt(resumable ? { ...current, status: "running", endedAt: null, outcome: null, summary: null } : current, resumable)
        if (resumable) {
          yield* start(run, { _tag: "Attach", cancel: false })
        } else {
          // Already final: the handle replays it and ends.
          const outcome = current.outcome!
          yield* publish(run, { _tag: "Ended", outcome })
          yield* Deferred.succeed(run.result, { record: current, outcome, summary: current.summary ?? emptySummary })
        }
        return kubernetesHandle(run)
      })

    const jobLiveness = (record: RunRecord): Effect.Effect<RunLiveness> => {
      const p = kubernetesPlacement(record)!
      return api.getJob(p.namespace, p.jobName).pipe(
        Effect.map((job): RunLiveness => ({ _tag: "Orphaned", reason: "supervisor-gone", agentAlive: !jobFinished(job) })),
        Effect.catchTag("KubernetesNotFound", () => Effect.succeed<RunLiveness>({ _tag: "Orphaned", reason: "supervisor-gone", agentAlive: false })),
        Effect.catch((e) => Effect.succeed<RunLiveness>({ _tag: "Unknown", reason: `the Kubernetes API cannot be asked: ${e.message}` }))
      )
    }

    const liveness = (record: RunRecord): Effect.Effect<RunLiveness> =>
      Effect.gen(function*() {
        const p = kubernetesPlacement(record)
        if (p === null) return { _tag: "Unknown", reason: `not a Kubernetes run (${record.placement._tag})` } as const
        // A final record has no supervision left to judge: only whether its Job still runs.
        const s = record.status === "running" ? p.supervisor : null
        if (s !== null && s.hostname === supervisor.hostname) {
          // This very process: supervised only while one of its backends follows the run (an earlier, detached follow is not).
          if (s.pid === supervisor.pid ? followed.has(record.runId as RunId) : yield* supervisorAlive(s.pid, s.startTimeTicks)) return { _tag: "Supervised" } as const
          return yield* jobLiveness(record)
        }
        if (s !== null) {
          // Another machine's supervisor: its Lease renewals say it lives (runs with an agent id only).
          if (p.agentId === null) return { _tag: "Unknown", reason: `supervised on ${s.hostname}, not on this machine (${supervisor.hostname})` } as const
          const lease = yield* api.getLease(p.namespace, leaseNameFor(p.agentId)).pipe(Effect.option)
          if (lease._tag === "Some" && lease.value.spec?.holderIdentity === record.runId && !leaseExpired(lease.value, yield* nowMs)) {
            return { _tag: "Supervised" } as const
          }
          return { _tag: "Unknown", reason: `supervised on ${s.hostname}, whose Lease renewals cannot be seen from here` } as const
        }
        return yield* jobLiveness(record)
      })

    const cancel = (record: RunRecord, options: CancelOptions = {}): Effect.Effect<CancelResult, RunNotRunning | RunOnAnotherHost | RunStoreError> =>
      Effect.gen(function*() {
        if (record.status !== "running") {
          return yield* new RunNotRunning({ message: `Run ${record.runId} is ${record.status}: nothing to cancel.`, runId: record.runId, status: record.status, retryable: false })
        }
        const by = options.by ?? `agentrun cancel (pid ${supervisor.pid} on ${supervisor.hostname})`
        const requestedAtMs = yield* nowMs
        yield* store.requestCancel(record.runId as RunId, { requestedAt: new Date(requestedAtMs).toISOString(), by, signal: null })
        const live = yield* liveness(record)
        const p = kubernetesPlacement(record)!
        const runId = record.runId as RunId
        if (live._tag === "Supervised" && p.supervisor?.hostname === supervisor.hostname) {
          return { _tag: "AskedSupervisor", runId, supervisorPid: p.supervisor.pid } as const
        }
        // The Job carries the request first: a supervisor on another machine sees it through its
        // Job watch, and, should this process delete the Job below, knows the deletion for a cancel.
        const annotated = yield* api.annotateJob(p.namespace, p.jobName, cancelAnnotations(by, requestedAtMs)).pipe(
          Effect.asVoid,
          // A Job already gone ends its follow by itself: nothing to carry the request.
          Effect.catchTag("KubernetesNotFound", () => Effect.void),
          Effect.result
        )
        if (live._tag === "Supervised" && p.supervisor !== null) {
          if (annotated._tag === "Failure") {
            // Deleting the Job unannounced would have its live supervisor record JobDeletedExternally.
            const e = annotated.failure
            return yield* new RunOnAnotherHost({
              message: `Run ${runId} is supervised on ${p.supervisor.hostname} (its agent's Lease is fresh), and its Job ${p.jobName} could not be annotated with the cancel request: ${e.message}${
                e._tag === "KubernetesForbidden" ? " (deploy/rbac.yaml grants `patch` on batch/jobs)" : ""
              }. Cancel it on ${p.supervisor.hostname}, or retry.`,
              runId,
              hostname: p.supervisor.hostname,
              retryable: e.retryable
            })
          }
          return { _tag: "AskedSupervisor", runId, supervisorPid: p.supervisor.pid, supervisorHost: p.supervisor.hostname } as const
        }
        if (annotated._tag === "Failure") {
          yield* Effect.logWarning(`run ${runId}: the Job ${p.jobName} could not be annotated with the cancel request (${annotated.failure.message}); deleting it all the same`)
        }
        const run = yield* adopt(record)
        yield* start(run, { _tag: "Attach", cancel: true, requestedBy: by })
        const result = yield* kubernetesHandle(run).result
        return { _tag: "StoppedOrphan", record: result.record } as const
      })

    const backend: KubernetesBackendShape = { placement: "Kubernetes", launch, reattach, liveness, cancel }
    return backend
  })

/**
 * The Kubernetes backend service. `layer(options)` needs the {@link KubernetesApi} and the
 * {@link RunStore}; its scope owns the live runs (closing it detaches them: their Jobs run on).
 */
export class KubernetesBackend extends Context.Service<KubernetesBackend, KubernetesBackendShape>()("agentrun/KubernetesBackend") {
  static readonly layer = (options: KubernetesBackendOptions = {}): Layer.Layer<KubernetesBackend, never, KubernetesApi | RunStore | ProcessControl> =>
    Layer.effect(KubernetesBackend, makeKubernetesBackend(options))

  /**
   * The backend over the real API of `target`, registered into the {@link Backends} registry it
   * is provided with (the app layer's `backends` option):
   * `AgentrunApp.layer({ backends: KubernetesBackend.register(target) })`. Fails with
   * KubernetesUnreachable when no kubeconfig or in-cluster account can be loaded.
   */
  static readonly register = (
    target: ClusterTarget,
    options: KubernetesBackendOptions & { readonly api?: KubernetesApiLive.LiveOptions } = {}
  ): Layer.Layer<Backends, KubernetesUnreachable, Backends | RunStore | ProcessControl> =>
    Backends.register(KubernetesBackend, KubernetesBackend.layer(options).pipe(Layer.provide(KubernetesApiLive.layer(target, options.api))))
}
