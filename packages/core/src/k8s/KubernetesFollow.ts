/**
 * Following a run's Job to its verdict: the Job and its Pod from watches (keyed by UID: a Pod
 * recreated under the same name is another Pod), the pod log through the same
 * {@link TranscriptIngest} as a local run's stdout, and {@link podVerdict} asked after every
 * change. No polling: the loop sleeps on its queue until a watch event, a log line's end, a stop
 * request or the next deadline it knows of (a pending pull or schedule timeout, the bounded wait
 * for the Job's condition and the container's state to agree, the stall watchdog, a cancel's
 * grace).
 *
 * What agentrun does to the run from here:
 * - a cancel deletes the Job (propagation Background), then waits for the container's end so
 *   claude's `result` (cost, session: the entry turns the kubelet's SIGTERM into SIGINT) is read.
 *   A cancel is asked for through the handle, the run store's cancel request, or the Job's cancel
 *   annotation (CancelAnnotation.ts: `agentrun cancel` on another machine), whichever comes first;
 *   the verdict names the requester the request named;
 * - the stall watchdog (no pod log output for the stall timeout) stops the Pod with the shared
 *   stop sequence (PodStopTarget.ts: a graceful DELETE, its probe grace, the same DELETE, then
 *   `gracePeriodSeconds: 0`) and records a hang-family verdict: HangInterruptible when the Pod
 *   ended within the probe grace, else HangUnresponsive with the sequence's steps; its evidence is
 *   the Pod's state and Events (an artifact), not /proc: /proc evidence is local-only;
 * - a run decided while its Pod still waits (an image that cannot be pulled, no node, a broken
 *   container config) has its Job deleted: nothing else would stop the cluster retrying.
 * A detach (agentrun got a signal, or lost the API) leaves the Job alone.
 *
 * @module
 */
import type { CoreV1Event, V1Job, V1Pod } from "@kubernetes/client-node"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { pushTail } from "../backend/RunSupervision.ts"
import type { StopReport } from "../domain/Evidence.ts"
import type { ExitStatus } from "../domain/ExitStatus.ts"
import { defaultStopGraceSettings } from "../domain/Run.ts"
import type { RunOutcome } from "../domain/RunOutcome.ts"
import type { HangAction, SupervisorAction } from "../domain/RunFacts.ts"
import { runStopSequence } from "../process/StopSequence.ts"
import type { RunStoreError, RunStoreShape } from "../store/RunStore.ts"
import type { EventLike } from "./ApiObjects.ts"
import type { KubernetesApiError, KubernetesApiShape, WatchEvent } from "./KubernetesApi.ts"
import { type KubernetesRun, nowMs, publish } from "./KubernetesRun.ts"
import { kubernetesPlacement, type RecordLogCursor, withPlacement } from "./KubernetesRecord.ts"
import { podStopTarget } from "./PodStopTarget.ts"
import { cancelRequestOf } from "./CancelAnnotation.ts"
import { terminationGraceSecondsOf } from "./JobManifest.ts"
import { agentStatus, type ClusterFacts, type ClusterWaitSettings, exitOf, jobTerminal, podVerdict } from "./PodVerdict.ts"

/** One pod log line with the cursor that resumes right after it. */
export interface CursorLine {
  readonly line: string
  readonly cursor: RecordLogCursor
}

/** What a {@link LogSource} is asked to follow. */
export interface LogRequest {
  readonly namespace: string
  readonly podName: string
  /** Where the record's cursor stopped (null: from the start). */
  readonly cursor: RecordLogCursor | null
  /** Whether the agent container has terminated, from the follow's own watch state (no request). */
  readonly containerTerminated: Effect.Effect<boolean>
  /** The agent container's containerID as the watch last saw it (null: not started). */
  readonly containerId: Effect.Effect<string | null>
}

/**
 * The pod log of the agent container from the request's cursor, resumed across dropped and
 * ended follows without loss or duplicates, ending once the container has terminated and its
 * tail is read.
 */
export type LogSource = (request: LogRequest) => Stream.Stream<CursorLine, KubernetesApiError>

/** The follow's timings, in milliseconds. */
export interface FollowSettings {
  /** How long the Job's condition and the container's terminated state may disagree before the verdict goes on without the other. */
  readonly lagWaitMs: number
  /** How long a decided run waits for its log follow to read the tail. */
  readonly logDrainMs: number
  /** How often the log cursor is written to the record while lines come (and once at the end). */
  readonly cursorPersistMs: number
  /** After a cancel or a hang stop, how long beyond the Pod's termination grace to wait for its end. */
  readonly stopMarginMs: number
  /** How often the agent's Lease is renewed while the run is followed (default a third of its duration). */
  readonly leaseRenewMs: number
  readonly cluster: ClusterWaitSettings
}

/** What following needs, resolved when the backend is built. */
export interface FollowDeps {
  readonly api: KubernetesApiShape
  readonly store: RunStoreShape
  readonly logs: LogSource
  readonly settings: FollowSettings
}

/** How the follow ended. */
export type FollowEnd =
  /** The verdict (the record is not written yet). */
  | { readonly _tag: "Decided"; readonly outcome: RunOutcome; readonly exit: ExitStatus | null }
  /** agentrun let go of the run (a signal to agentrun, or the API lost): the Job runs on. */
  | { readonly _tag: "Detached"; readonly signal: string | null; readonly error: KubernetesApiError | null }

type Msg =
  | { readonly _tag: "Job"; readonly event: WatchEvent<V1Job> }
  | { readonly _tag: "Pod"; readonly event: WatchEvent<V1Pod> }
  | { readonly _tag: "LogEnded"; readonly error: KubernetesApiError | null }
  | { readonly _tag: "Cancel"; readonly deleteJob: boolean; readonly requestedBy: string | null }
  | { readonly _tag: "Detach"; readonly signal: string }
  | { readonly _tag: "ApiLost"; readonly error: KubernetesApiError }
  /** The stall watchdog's stop sequence over the Pod ended (PodStopTarget.ts). */
  | { readonly _tag: "HangStopped"; readonly report: StopReport }
  | { readonly _tag: "Tick" }

/** Options of {@link follow}. */
export interface FollowOptions {
  /** Start as cancelled (an orphaned run being cancelled): the Job is deleted at once. */
  readonly cancel: boolean
  /** Who asked for that cancel (the request's `by`), for the verdict; null: not known. */
  readonly cancelRequestedBy?: string | null
  /**
   * A run taken over from its record (attach, reattach, an orphan's cancel): no verdict before
   * both watches have listed once, since the Job may have ended long ago and a Pod not yet
   * listed is not gone. A run this process launched has seen its Job created.
   */
  readonly attached?: boolean
}

const hangDumpName = "hang-dump.json"

/**
 * Follows `run` (its record names the Job) to a verdict or a detach. Fails only when the run
 * store cannot be written.
 */
export const follow = (deps: FollowDeps, run: KubernetesRun, options: FollowOptions): Effect.Effect<FollowEnd, RunStoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const { api, store, settings } = deps
    const placement = kubernetesPlacement(run.record)!
    const ns = placement.namespace
    const jobName = placement.jobName
    const queue = yield* Queue.unbounded<Msg>()
    const offer = (m: Msg) => Queue.offer(queue, m)
    const events = yield* store.openEvents(run.runId)
    const stderrLog = yield* store.openStderr(run.runId)

    let job: V1Job | null = null
    let jobUid = placement.jobUid
    let jobGone: ClusterFacts["jobGone"] = null
    let pod: V1Pod | null = null
    let podUid = placement.podUid
    let podDeleted = false
    let action: SupervisorAction = { _tag: "None" }
    let stopDeadline: number | null = null
    /** The hang stop's report once its sequence ended; null before (or with no Pod to stop). */
    let hangStop: StopReport | null = null
    let hangStopping = false
    /** Completed once the agent container has terminated or the Pod is gone: the Pod stop target's `exit`. */
    const podEnded = yield* Deferred.make<void>()
    let lagSince: number | null = null
    let decidedSince: number | null = null
    let logState: "idle" | "running" | "ended" = "idle"
    let cursor = placement.logCursor
    let cursorWritten = cursor
    let lastOutputAt = yield* nowMs
    let stallClockStarted = false
    // No verdict before both watches have listed once: until then a null Job or Pod is not yet
    // known, not gone (an attach to an ended run would judge the replayed transcript alone).
    let jobSynced = false
    let podSynced = false
    // The store's files may hold lines past the stored cursor (it is written every
    // cursorPersistMs; a supervisor SIGKILLed in between stored more): those lines come again
    // from the log and are skipped, by kind, in order. A cursor without counts (an older record)
    // skips nothing.
    const storedAtCursor = cursor === null ? { events: 0, stderr: 0 } : cursor.eventLines === undefined || cursor.stderrLines === undefined ? null : { events: cursor.eventLines, stderr: cursor.stderrLines }
    let eventLines = run.storedLines.events
    let stderrLines = run.storedLines.stderr
    let skipEvents = storedAtCursor === null ? 0 : Math.max(0, eventLines - storedAtCursor.events)
    let skipStderr = storedAtCursor === null ? 0 : Math.max(0, stderrLines - storedAtCursor.stderr)
    // The lines to skip are the cursor's container's (with no cursor: the first container read).
    let skipContainer = cursor?.containerId ?? null

    const writeRecord = (change: Parameters<typeof withPlacement>[1]) =>
      Effect.suspend(() => {
        run.record = withPlacement(run.record, change)
        return store.writeRecord(run.record)
      })
    // The record in memory always has the cursor of the last stored line (a detach writes it as it is);
    // the store gets it on a Schedule and at the end, not on every line.
    const persistCursor = Effect.suspend(() => {
      if (cursor === cursorWritten) return Effect.void
      cursorWritten = cursor
      return store.writeRecord(run.record)
    })

    // The watches and the stop requests feed the loop's queue; all of them end with the scope.
    const watch = <K extends "jobs" | "pods">(kind: K, selector: { fieldSelector: string } | { labelSelector: string }) =>
      api.watch(kind, ns, selector).pipe(
        Stream.runForEach((event) => offer(kind === "jobs" ? { _tag: "Job", event } as Msg : { _tag: "Pod", event } as Msg)),
        Effect.catch((error) => offer({ _tag: "ApiLost", error })),
        Effect.forkScoped
      )
    yield* watch("jobs", { fieldSelector: `metadata.name=${jobName}` })
    yield* watch("pods", { labelSelector: `job-name=${jobName}` })
    yield* Deferred.await(run.stopRequest).pipe(
      Effect.flatMap((r) => offer(r._tag === "Cancel" ? { _tag: "Cancel", deleteJob: true, requestedBy: null } : { _tag: "Detach", signal: r.signal })),
      Effect.forkScoped
    )
    // `agentrun cancel` from another process on this machine writes a cancel request.
    yield* store.awaitCancelRequest(run.runId).pipe(
      Effect.flatMap((request) => offer({ _tag: "Cancel", deleteJob: true, requestedBy: request.by })),
      Effect.catch((e) => Effect.logWarning(`run ${run.runId}: cancel requests cannot be watched: ${e.message}`)),
      Effect.forkScoped
    )
    yield* persistCursor.pipe(
      Effect.catch((e) => Effect.logWarning(`run ${run.runId}: ${e.message}`)),
      Effect.repeat(Schedule.spaced(Duration.millis(settings.cursorPersistMs))),
      Effect.forkScoped
    )
    if (options.cancel) yield* offer({ _tag: "Cancel", deleteJob: true, requestedBy: options.cancelRequestedBy ?? null })

    // Uninterruptible: a line stored and the cursor past it go together (an attach neither loses nor repeats it).
    const onLine = (item: CursorLine) =>
      Effect.gen(function*() {
        lastOutputAt = yield* nowMs
        const json = item.line.startsWith("{")
        skipContainer ??= item.cursor.containerId
        if (item.cursor.containerId !== skipContainer) skipEvents = skipStderr = 0
        if (json ? skipEvents > 0 : skipStderr > 0) {
          if (json) skipEvents--
          else skipStderr--
        } else if (json) {
          const batch = run.ingest.push([item.line])
          yield* events.append(batch.stored)
          eventLines++
          for (const p of batch.progress) {
            if (p._tag === "SessionStarted") {
              run.record = { ...run.record, session: { sessionId: p.sessionId, model: p.model } }
              yield* store.writeRecord(run.record)
            }
            yield* publish(run, p)
          }
        } else {
          // Pod logs merge stdout and stderr: a line that is not stream-json is stderr evidence.
          const redacted = run.redactor.redact(item.line)
          pushTail(run.stderrTail, redacted)
          yield* stderrLog.append([redacted])
          stderrLines++
        }
        cursor = { ...item.cursor, eventLines: eventLines - skipEvents, stderrLines: stderrLines - skipStderr }
        run.record = withPlacement(run.record, { logCursor: cursor })
      }).pipe(Effect.uninterruptible)

    const startLog = (podName: string) =>
      Effect.gen(function*() {
        logState = "running"
        const status = Effect.sync(() => agentStatus(pod))
        yield* deps.logs({
          namespace: ns,
          podName,
          cursor,
          containerTerminated: Effect.map(status, (s) => s?.state?.terminated != null || podDeleted),
          containerId: Effect.map(status, (s) => s?.containerID ?? s?.state?.terminated?.containerID ?? null)
        }).pipe(
          Stream.runForEach(onLine),
          Effect.matchEffect({
            onFailure: (error) =>
              "_tag" in error && error._tag === "RunStoreError"
                ? Effect.fail(error)
                : offer({ _tag: "LogEnded", error: error as KubernetesApiError }),
            onSuccess: () => offer({ _tag: "LogEnded", error: null })
          }),
          Effect.catch((e) => Effect.logWarning(`run ${run.runId}: the transcript could not be stored: ${e.message}`)),
          Effect.forkScoped
        )
      })

    const jobIsOurs = (j: V1Job) => {
      if (jobUid === null && j.metadata?.name === jobName) jobUid = j.metadata?.uid ?? null
      return jobUid !== null && j.metadata?.uid === jobUid
    }
    const podIsOurs = (p: V1Pod) => {
      if (podUid !== null) return p.metadata?.uid === podUid
      const owned = (p.metadata?.ownerReferences ?? []).some((o) => o.uid === jobUid)
      return jobUid === null || owned
    }

    const jobLost = (seenVia: "watch-deleted" | "not-found") =>
      Effect.gen(function*() {
        if (action._tag === "Cancel" || jobGone !== null) return
        // `agentrun cancel` of an orphaned run elsewhere on this machine deleted it: its request says so.
        const request = yield* store.readCancelRequest(run.runId).pipe(Effect.catch(() => Effect.succeed(Option.none())))
        if (Option.isSome(request)) return yield* startCancel(false, request.value.by)
        jobGone = { seenVia, atMs: yield* nowMs }
      })

    // `agentrun cancel` from another machine annotates the Job (and, when it cannot see this
    // supervisor alive, deletes it too): an annotated Job is a cancel request, deleted or not.
    const onCancelAnnotation = (j: V1Job, deleted: boolean) => {
      const request = cancelRequestOf(j)
      return request === null || action._tag === "Cancel" ? Effect.void : startCancel(!deleted, request.by)
    }

    const onJob = (event: WatchEvent<V1Job>) =>
      Effect.gen(function*() {
        if (event._tag === "Synced") {
          jobSynced = true
          const mine = event.items.find((j) => jobIsOurs(j))
          if (mine === undefined) {
            if (jobUid !== null || job !== null) yield* jobLost("not-found")
          } else {
            job = mine
            yield* onCancelAnnotation(mine, false)
          }
          return
        }
        if (!jobIsOurs(event.object)) return
        job = event.object
        yield* onCancelAnnotation(event.object, event._tag === "Deleted")
        if (event._tag === "Deleted") yield* jobLost("watch-deleted")
        if (placement.jobUid === null && run.record.placement._tag === "Kubernetes" && run.record.placement.jobUid === null && jobUid !== null) {
          yield* writeRecord({ jobUid })
        }
      })

    const adoptPod = (p: V1Pod) =>
      Effect.gen(function*() {
        const first = podUid === null
        podUid = p.metadata?.uid ?? null
        pod = p
        const rec = kubernetesPlacement(run.record)!
        const nodeName = p.spec?.nodeName ?? null
        if (first || rec.podUid !== podUid || rec.nodeName !== nodeName) {
          yield* writeRecord({ podName: p.metadata?.name ?? null, podUid, nodeName })
        }
        if (agentStatus(p)?.state?.terminated != null) yield* Deferred.succeed(podEnded, undefined)
        if (logState === "idle" && agentStatus(p)?.containerID != null) yield* startLog(p.metadata!.name!)
        // The stall clock starts when the agent does.
        if (!stallClockStarted && agentStatus(p)?.state?.running != null) {
          stallClockStarted = true
          lastOutputAt = yield* nowMs
        }
      })

    const onPod = (event: WatchEvent<V1Pod>) =>
      Effect.gen(function*() {
        if (event._tag === "Synced") {
          podSynced = true
          const mine = event.items
            .filter(podIsOurs)
            .sort((a, b) => String(a.metadata?.creationTimestamp ?? "").localeCompare(String(b.metadata?.creationTimestamp ?? "")))[0]
          if (mine === undefined) {
            if (podUid !== null) {
              podDeleted = true
              yield* Deferred.succeed(podEnded, undefined)
            }
          } else {
            yield* adoptPod(mine)
          }
          return
        }
        if (!podIsOurs(event.object)) return
        yield* adoptPod(event.object)
        if (event._tag === "Deleted") {
          podDeleted = true
          yield* Deferred.succeed(podEnded, undefined)
        }
      })

    const startCancel = (deleteJob: boolean, requestedBy: string | null) =>
      Effect.gen(function*() {
        if (action._tag === "Cancel") return
        action = { _tag: "Cancel", signal: null, stop: null, by: "cancel-command", ...(requestedBy === null ? {} : { requestedBy }) }
        const grace = (pod?.spec?.terminationGracePeriodSeconds ?? 30) * 1000
        stopDeadline = (yield* nowMs) + grace + settings.stopMarginMs
        yield* publish(run, { _tag: "Stopping", reason: "cancel" })
        if (deleteJob) {
          yield* api.deleteJob(ns, jobName, "Background").pipe(
            Effect.catchTag("KubernetesNotFound", () => Effect.void),
            Effect.catch((e) => Effect.logWarning(`run ${run.runId}: the Job could not be deleted: ${e.message}`))
          )
        }
      })

    const listEvents = Effect.gen(function*() {
      const out: Array<CoreV1Event> = []
      const name = pod?.metadata?.name
      if (name != null) {
        out.push(...yield* api.listEvents(ns, { kind: "Pod", name, ...(podUid === null ? {} : { uid: podUid }) }).pipe(Effect.orElseSucceed(() => [])))
      }
      const node = pod?.spec?.nodeName
      if (node != null) {
        out.push(...yield* api.listEvents(ns, { kind: "Node", name: node }).pipe(Effect.orElseSucceed(() => [])))
        // Node events are recorded in the `default` namespace by the kubelet and node problem detector.
        if (ns !== "default") out.push(...yield* api.listEvents("default", { kind: "Node", name: node }).pipe(Effect.orElseSucceed(() => [])))
      }
      return out
    })

    const startHang = (now: number, stallTimeoutMs: number) =>
      Effect.gen(function*() {
        yield* publish(run, { _tag: "Stopping", reason: "hang" })
        const evidence = { pod, job, events: yield* listEvents, note: "/proc evidence is local-only: the agent runs in a Pod" }
        const dumpPath = yield* store.writeArtifact(run.runId, hangDumpName, JSON.stringify(evidence, null, 2)).pipe(
          Effect.map((p): string | null => p),
          Effect.catch(() => Effect.succeed(null))
        )
        action = {
          _tag: "Hang",
          detection: { reason: "stall", idleMs: now - lastOutputAt, timeoutMs: stallTimeoutMs },
          waitingOn: { kind: "unknown" },
          dumpPath,
          unavailable: ["/proc (the agent runs in a Pod: its process state is local-only evidence)"],
          probe: null,
          sigint: null,
          stop: null,
          cpuPercent: null
        }
        const podName = pod?.metadata?.name
        if (podName == null) {
          stopDeadline = now + settings.stopMarginMs
          return
        }
        // The shared stop sequence over the Pod: its first step is the local SIGINT probe's
        // counterpart (the entry script turns the kubelet's SIGTERM into claude's SIGINT).
        const graceSeconds = pod?.spec?.terminationGracePeriodSeconds ?? terminationGraceSecondsOf(run.spec)
        // Within the Pod's grace: after it the kubelet's SIGKILL, not claude, would end the wait.
        const probeMs = Math.min(graceSeconds * 1000, run.spec.watchdog?.probeGraceMs ?? (run.spec.stopGrace ?? defaultStopGraceSettings).interruptGraceMs)
        const target = podStopTarget({ api, namespace: ns, podName, graceSeconds, ended: podEnded, runId: run.runId })
        hangStopping = true
        yield* runStopSequence(target, {
          grace: { interruptGrace: probeMs, terminateGrace: Math.max(0, graceSeconds * 1000 - probeMs), killGrace: settings.stopMarginMs }
        }).pipe(
          Effect.flatMap((report) => offer({ _tag: "HangStopped", report })),
          Effect.forkScoped
        )
      })

    /**
     * The hang action once its stop sequence ended: answered at its first step (the Pod ended
     * within the probe grace of the graceful DELETE: claude answered the SIGINT) is the local
     * probe answered; otherwise the probe went unanswered and the report holds every step.
     */
    const hangAtEnd = (hang: HangAction): HangAction => {
      if (hangStop === null) return hang
      // Ended in time, but by the kubelet's SIGKILL (137 = 128 + 9: the grace ran out) is no answer.
      const killed = agentStatus(pod)?.state?.terminated?.exitCode === 137
      if (hangStop.steps[0]?.answered === true && !killed) return { ...hang, probe: { answered: true, afterMs: hangStop.tookMs } }
      return { ...hang, probe: { answered: false }, stop: hangStop }
    }

    const factsAt = (now: number, eventList: ReadonlyArray<EventLike>): ClusterFacts => {
      const t = agentStatus(pod)?.state?.terminated ?? null
      // A cancelled or stalled Pod that went without a terminated state (or outlived its grace) has ended all the same.
      const stopped = action._tag !== "None" &&
        ((podDeleted && t === null) || (stopDeadline !== null && now >= stopDeadline) || (action._tag === "Hang" && hangStop !== null))
      return {
        namespace: ns,
        jobName,
        job,
        jobGone,
        pod: stopped && action._tag === "Cancel" ? null : pod,
        events: eventList,
        observation: run.ingest.observation,
        stderrTail: run.stderrTail,
        action: action._tag === "Hang" ? hangAtEnd(action) : action,
        lagWaitedOut: (lagSince !== null && now - lagSince >= settings.lagWaitMs) || stopped || (podDeleted && t === null && lagSince !== null),
        nowMs: now,
        settings: settings.cluster,
        maxTurns: run.spec.maxTurns
      }
    }

    /** The verdict if there is one now, else the next instant worth looking again (null: only a message can change things). */
    const evaluate = Effect.gen(function*() {
      const now = yield* nowMs
      if (options.attached === true && (!jobSynced || !podSynced)) return { _tag: "Wait" as const, wakeAt: null }
      const t = agentStatus(pod)?.state?.terminated ?? null
      const terminal = jobTerminal(job)
      if ((terminal !== null) !== (t !== null) || (podDeleted && t === null)) lagSince ??= now
      else lagSince = null
      // The hang stop's report is part of the verdict: wait for its sequence (bounded by its graces).
      if (hangStopping && hangStop === null) return { _tag: "Wait" as const, wakeAt: null }
      const first = podVerdict(factsAt(now, []))
      const wakes: Array<number> = []
      if (lagSince !== null) wakes.push(lagSince + settings.lagWaitMs)
      if (stopDeadline !== null) wakes.push(stopDeadline)
      if (first._tag === "Pending") {
        decidedSince = null
        if (first.decideByMs !== null) wakes.push(first.decideByMs)
        const watchdog = run.spec.watchdog
        if (watchdog !== null && action._tag === "None" && agentStatus(pod)?.state?.running != null) {
          const stallAt = lastOutputAt + watchdog.stallTimeoutMs
          if (now >= stallAt) {
            yield* startHang(now, watchdog.stallTimeoutMs)
            wakes.push(stopDeadline ?? now)
          } else {
            wakes.push(stallAt)
          }
        }
        return { _tag: "Wait" as const, wakeAt: wakes.length === 0 ? null : Math.min(...wakes) }
      }
      // Decided: the log's tail first (claude's result may be in it), boundedly: logDrainMs
      // without a new line (a long log still being read when the Job ended is read to its end).
      if (logState === "running") {
        decidedSince ??= now
        const drainUntil = Math.max(decidedSince, lastOutputAt) + settings.logDrainMs
        if (now < drainUntil) return { _tag: "Wait" as const, wakeAt: drainUntil }
      }
      const final = podVerdict(factsAt(yield* nowMs, yield* listEvents))
      const outcome = final._tag === "Decided" ? final.outcome : first.outcome
      return { _tag: "Done" as const, outcome, exit: exitOf(t) }
    })

    while (true) {
      const verdict = yield* evaluate
      if (verdict._tag === "Done") {
        yield* persistCursor
        if (jobTerminal(job) === null && jobGone === null && action._tag === "None" && !podDeleted) {
          // Decided while the Pod waits (pull, schedule, config): nothing else would stop the cluster retrying.
          yield* api.deleteJob(ns, jobName, "Background").pipe(
            Effect.catch((e) => Effect.logWarning(`run ${run.runId}: the Job could not be deleted: ${e.message}`))
          )
        }
        return { _tag: "Decided", outcome: verdict.outcome, exit: verdict.exit } satisfies FollowEnd
      }
      const now = yield* nowMs
      const take = Queue.take(queue)
      const msg: Msg = verdict.wakeAt === null
        ? yield* take
        : Option.getOrElse(yield* Effect.timeoutOption(take, Duration.millis(Math.max(0, verdict.wakeAt - now))), (): Msg => ({ _tag: "Tick" }))
      switch (msg._tag) {
        case "Job":
          yield* onJob(msg.event)
          break
        case "Pod":
          yield* onPod(msg.event)
          break
        case "LogEnded":
          logState = "ended"
          if (msg.error !== null) yield* Effect.logDebug(`run ${run.runId}: pod log unavailable: ${msg.error.message}`)
          break
        case "Cancel":
          yield* startCancel(msg.deleteJob, msg.requestedBy)
          break
        case "Detach":
          yield* persistCursor
          return { _tag: "Detached", signal: msg.signal, error: null } satisfies FollowEnd
        case "ApiLost":
          yield* persistCursor
          return { _tag: "Detached", signal: null, error: msg.error } satisfies FollowEnd
        case "HangStopped":
          hangStop = msg.report
          break
        case "Tick":
          break
      }
    }
  })
