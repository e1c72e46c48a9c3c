/**
 * A Kubernetes run's whole lifecycle: the agent's Lease (when the run has an agent id), the
 * Secret holding the prompt, the Job, the Secret's ownerReference to the Job, the follow
 * (KubernetesFollow.ts), the final record.
 *
 * Total, like the local lifecycle: whatever ends it, the handle's result completes. Unlike a
 * local run, the end of agentrun's supervision is not the end of the run: when the backend's
 * scope closes (agentrun exiting), agentrun is signalled (a `Detach`), or the API is lost, the
 * Job is left running and the record stays `running` with `supervisor: null`, so `agentrun
 * attach` can take over; nothing final is recorded.
 *
 * @module
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { SupervisorIdentity } from "../backend/LocalRecord.ts"
import { summaryOf } from "../backend/RunSupervision.ts"
import type { ExitStatus } from "../domain/ExitStatus.ts"
import { Interrupted, SupervisionFailed } from "../domain/Failures.ts"
import { type RunRecord, statusOf } from "../domain/Run.ts"
import type { RunOutcome } from "../domain/RunOutcome.ts"
import type { RunStoreError } from "../store/RunStore.ts"
import { acquireLease, type LeaseHolder, releaseLease, renewLease } from "./AgentLease.ts"
import { clusterFailure } from "./ClusterFailure.ts"
import { follow, type FollowDeps, type FollowEnd } from "./KubernetesFollow.ts"
import type { KubernetesApiError } from "./KubernetesApi.ts"
import { kubernetesPlacement, withPlacement } from "./KubernetesRecord.ts"
import { type KubernetesRun, nowMs, publish } from "./KubernetesRun.ts"
import { promptSecretNameFor, runManifests, secretOwnerReference } from "./JobManifest.ts"

/** Everything a lifecycle needs, resolved when the backend is built. */
export interface LifecycleDeps extends FollowDeps {
  readonly supervisor: SupervisorIdentity
}

/**
 * How a lifecycle starts: a new run (guard and create), or a stored one (follow its Job; `cancel`:
 * cancel it first, on the request of `requestedBy`, the request's `by`).
 */
export type LifecycleStart =
  | { readonly _tag: "Launch" }
  | { readonly _tag: "Attach"; readonly cancel: boolean; readonly requestedBy?: string }

const supervisorText = (s: SupervisorIdentity) => `${s.hostname}:${s.pid}`

const messageOf = (defect: unknown): string =>
  defect instanceof Error ? defect.message : typeof defect === "string" ? defect : String(defect)

const where = (deps: LifecycleDeps, run: KubernetesRun) => {
  const p = kubernetesPlacement(run.record)!
  return { server: deps.api.server, context: p.context, namespace: p.namespace, jobName: p.jobName }
}

type Started = { readonly _tag: "Follow" } | { readonly _tag: "Failed"; readonly outcome: RunOutcome }

/** The guard, then the Secret and the Job (or the live Job of the same task and session, adopted). */
const guardAndCreate = (deps: LifecycleDeps, run: KubernetesRun): Effect.Effect<Started, RunStoreError> =>
  Effect.gen(function*() {
    const { api, store } = deps
    const p = kubernetesPlacement(run.record)!
    const ns = p.namespace
    const failed = (doing: string) => (e: KubernetesApiError) => Effect.succeed<Started>({ _tag: "Failed", outcome: clusterFailure(e, where(deps, run), doing) })

    if (run.options.agentId !== null) {
      const holder: LeaseHolder = {
        runId: run.runId,
        agentId: run.options.agentId,
        jobName: p.jobName,
        taskId: run.options.taskId,
        sessionId: run.options.sessionId,
        supervisor: supervisorText(deps.supervisor)
      }
      const decision = yield* acquireLease(api, ns, holder, nowMs).pipe(Effect.result)
      if (decision._tag === "Failure") return yield* failed("check the agent's Lease (the guard fails closed)")(decision.failure)
      const d = decision.success
      if (d._tag === "Blocked") return { _tag: "Failed", outcome: d.blocked }
      if (d._tag === "Reattach") {
        const jobName = d.job.metadata?.name ?? p.jobName
        run.lease = { ...holder, jobName }
        run.record = withPlacement(run.record, { jobName, jobUid: d.job.metadata?.uid ?? null })
        yield* store.writeRecord(run.record)
        yield* Effect.logInfo(`run ${run.runId}: agent ${holder.agentId} already runs task ${holder.taskId} in Job ${jobName}${
          d.holderRunId === null ? "" : ` (run ${d.holderRunId})`
        }: following it instead of starting another`)
        yield* publish(run, { _tag: "Started", runId: run.runId, pid: null })
        return { _tag: "Follow" }
      }
      run.lease = holder
    }

    const { secret, job } = runManifests(run.runId, run.spec, { ...run.options, namespace: ns })
    const createdSecret = yield* api.createSecret(ns, secret).pipe(Effect.result)
    if (createdSecret._tag === "Failure") return yield* failed("create the prompt's Secret")(createdSecret.failure)
    const created = yield* api.createJob(ns, job).pipe(Effect.result)
    if (created._tag === "Failure") {
      yield* api.deleteSecret(ns, promptSecretNameFor(run.runId)).pipe(Effect.ignore)
      return yield* failed("create the Job")(created.failure)
    }
    const jobUid = created.success.metadata?.uid ?? null
    run.record = withPlacement(run.record, { jobUid })
    yield* store.writeRecord(run.record)
    yield* publish(run, { _tag: "Started", runId: run.runId, pid: null })
    if (jobUid !== null) {
      // Without it the Secret outlives the Job (ttlSecondsAfterFinished collects only the Job and Pod).
      yield* api.setSecretOwner(ns, promptSecretNameFor(run.runId), secretOwnerReference(p.jobName, jobUid)).pipe(
        Effect.catch((e) => Effect.logWarning(`run ${run.runId}: the prompt's Secret could not be tied to its Job: ${e.message}`))
      )
    }
    return { _tag: "Follow" }
  })

/** Renews the run's Lease while it is followed (a Lease taken over is not fought for). */
const renewWhileFollowing = (deps: LifecycleDeps, run: KubernetesRun) =>
  Effect.gen(function*() {
    const lease = run.lease
    if (lease === null) return
    const ns = kubernetesPlacement(run.record)!.namespace
    yield* Effect.flatMap(nowMs, (now) => renewLease(deps.api, ns, lease, now)).pipe(
      Effect.flatMap((held) => held ? Effect.void : Effect.logWarning(`run ${run.runId}: the Lease of agent ${lease.agentId} is no longer this run's`)),
      Effect.catch((e) => Effect.logWarning(`run ${run.runId}: the agent's Lease could not be renewed: ${e.message}`)),
      Effect.delay(Duration.millis(deps.settings.leaseRenewMs)),
      Effect.repeat(Schedule.forever),
      Effect.forkScoped
    )
  })

const complete = (deps: LifecycleDeps, run: KubernetesRun, outcome: RunOutcome, record: RunRecord, exit: ExitStatus | null) =>
  Effect.gen(function*() {
    const endedAt = yield* nowMs
    const summary = summaryOf(outcome, run.ingest.observation, exit, endedAt - run.startedAt)
    const final = record.status === "running" ? record : { ...record, endedAt: new Date(endedAt).toISOString(), outcome, summary }
    if (final.status !== "running") {
      // A record that cannot be written is reported, but the verdict still reaches the caller.
      yield* deps.store.writeRecord(final).pipe(Effect.catch((e) => Effect.logWarning(`run ${run.runId}: ${e.message}`)))
    }
    run.record = final
    yield* publish(run, { _tag: "Ended", outcome })
    yield* Deferred.succeed(run.result, { record: final, outcome, summary })
  })

/** The verdict: the final record, the Lease released, `Ended`, the handle's result. */
const finishDecided = (deps: LifecycleDeps, run: KubernetesRun, outcome: RunOutcome, exit: ExitStatus | null) =>
  Effect.gen(function*() {
    const lease = run.lease
    if (lease !== null) {
      yield* releaseLease(deps.api, kubernetesPlacement(run.record)!.namespace, lease).pipe(
        Effect.catch((e) => Effect.logWarning(`run ${run.runId}: the agent's Lease could not be released (it expires by itself): ${e.message}`))
      )
    }
    yield* complete(deps, run, outcome, { ...run.record, status: statusOf(outcome) }, exit)
  })

/**
 * agentrun lets go of the run (a signal, the scope closing, the API lost): the record stays
 * `running` with `supervisor: null`; the handle's result is an `Interrupted` (or, with the API
 * lost, the cluster failure) that is NOT recorded: the run goes on in its Job.
 */
const finishDetached = (deps: LifecycleDeps, run: KubernetesRun, signal: string | null, error: KubernetesApiError | null) =>
  Effect.gen(function*() {
    run.record = withPlacement(run.record, { supervisor: null })
    yield* deps.store.writeRecord(run.record).pipe(Effect.catch((e) => Effect.logWarning(`run ${run.runId}: ${e.message}`)))
    const p = kubernetesPlacement(run.record)!
    const how = `\`agentrun attach ${run.runId}\` follows it again, \`agentrun cancel ${run.runId}\` stops it`
    const outcome: RunOutcome = error !== null
      ? clusterFailure(error, where(deps, run), `follow the run (its Job ${p.jobName} may still be running: ${how})`)
      : new Interrupted({
        message: `agentrun stopped following the run${signal === null ? "" : ` (${signal})`}; its Job ${p.jobName} keeps running: ${how}.`,
        retryable: true,
        evidence: { supervisorPid: deps.supervisor.pid, agentPid: null, agentAlive: true, reason: "supervisor-gone" }
      })
    yield* complete(deps, run, outcome, run.record, null)
  })

/** The last resort, should finishing itself have failed: SupervisionFailed, so the result still completes. */
const finishedOrFailed = (deps: LifecycleDeps, run: KubernetesRun, defect: string) =>
  Effect.gen(function*() {
    if (yield* Deferred.isDone(run.result)) return
    const outcome = new SupervisionFailed({
      message: `agentrun could not judge the run (internal error: ${defect}).`,
      retryable: false,
      evidence: { reason: "defect", storeError: null, defect, stop: null, process: null }
    })
    yield* complete(deps, run, outcome, { ...run.record, status: "failed" }, null)
  })

const body = (deps: LifecycleDeps, run: KubernetesRun, start: LifecycleStart): Effect.Effect<FollowEnd | Started, RunStoreError, Scope.Scope> =>
  Effect.gen(function*() {
    if (start._tag === "Launch") {
      const started = yield* guardAndCreate(deps, run)
      if (started._tag === "Failed") return started
    }
    yield* renewWhileFollowing(deps, run)
    return yield* follow(deps, run, start._tag === "Attach" ? { cancel: start.cancel, cancelRequestedBy: start.requestedBy ?? null, attached: true } : { cancel: false })
  })

/**
 * Runs `run` to its verdict or to a detach (see the module doc). Never fails; the result is in
 * the run's handle. Interrupting it (the backend's registry closing) detaches: the Job runs on.
 */
export const lifecycle = (deps: LifecycleDeps, run: KubernetesRun, start: LifecycleStart): Effect.Effect<void> =>
  body(deps, run, start).pipe(
    Effect.scoped,
    Effect.onExit((exit) => {
      if (Exit.isSuccess(exit)) {
        const end = exit.value
        switch (end._tag) {
          case "Failed":
            // As for a local run that could not spawn: Started (no Job), then the verdict.
            return Effect.andThen(publish(run, { _tag: "Started", runId: run.runId, pid: null }), finishDecided(deps, run, end.outcome, null))
          case "Decided":
            return finishDecided(deps, run, end.outcome, end.exit)
          case "Detached":
            return finishDetached(deps, run, end.signal, end.error)
          case "Follow":
            return finishedOrFailed(deps, run, "the follow did not run")
        }
      }
      if (Cause.hasInterruptsOnly(exit.cause)) return finishDetached(deps, run, null, null)
      return finishedOrFailed(deps, run, messageOf(Cause.squash(exit.cause)))
    }),
    Effect.catchCause((cause) => finishedOrFailed(deps, run, messageOf(Cause.squash(cause)))),
    Effect.ensuring(Effect.suspend(() => finishedOrFailed(deps, run, "the run ended without a verdict")))
  )
