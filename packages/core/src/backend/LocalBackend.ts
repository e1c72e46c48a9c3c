/**
 * The local backend: runs `claude` as a child process of this agentrun process, follows its
 * output into the run store, enforces the deadline and cancellation with the shared stop
 * sequence, watches for hangs (the {@link Watchdog}, unless `spec.watchdog` is null), and records
 * the verdict.
 *
 * The backend owns the runs it launches: a registry of live runs (a FiberMap by run id) in its
 * layer's scope. Launching needs no caller Scope; closing the layer's scope (the CLI exiting, an
 * extension host deactivating) ends every live run with the stop sequence, the sweep and a final
 * record (`Cancelled`, by "shutdown"). The lifecycle itself is in LocalLifecycle.ts.
 *
 * For stored local runs (this process's or another's) it answers the record-level operations of
 * the Backend contract: liveness from the record's {@link LocalPlacement} (LocalRunOps: the
 * supervisor's pid and /proc start time), cancel (LocalCancel.ts: a request through the store to
 * a live supervisor, else the stop sequence over the orphaned agent), and reattach (Reattach.ts).
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberMap from "effect/FiberMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Random from "effect/Random"
import * as NodeOs from "node:os"
import { makeRedactor } from "../domain/Redaction.ts"
import { claudeArgv, localPlacement, makeRunId, type RunId, type RunRecord, type RunSpec } from "../domain/Run.ts"
import type { RunLiveness } from "../domain/RunLiveness.ts"
import { Bootstrap } from "../bootstrap/Bootstrap.ts"
import { AgentProcess } from "../process/AgentProcess.ts"
import { type StopGrace, StopSequence, stopGraceOf } from "../process/StopSequence.ts"
import { ProcessControl } from "../procfs/ProcessControl.ts"
import { ProcessTable } from "../procfs/ProcessTable.ts"
import { recoverWith } from "../runs/Recovery.ts"
import { RunStore } from "../store/RunStore.ts"
import { Watchdog } from "../watchdog/Watchdog.ts"
import type { BackendShape, RunProgress, RunResult } from "./Backend.ts"
import { cancelLocal } from "./LocalCancel.ts"
import { lifecycle, type LifecycleDeps } from "./LocalLifecycle.ts"
import { launchRecord } from "./LocalRecord.ts"
import { handleOf, type LocalRun, nowMs, type StopRequest } from "./LocalRun.ts"
import { makeLocalRunOps } from "./LocalRunOps.ts"
import { reattach } from "./Reattach.ts"

/** Options of the local backend. */
export interface LocalBackendOptions {
  /** Grace periods of the stop sequence (defaults: 10 s, 20 s, 5 s). */
  readonly grace?: Partial<StopGrace>
  /**
   * How long to keep reading stdout/stderr after the agent exited and its leftovers were killed,
   * before giving up on the pipes (default 2 s).
   */
  readonly drainGrace?: Duration.Input
}

/** Builds the local backend (see {@link LocalBackend}). Its registry of live runs lives in the calling scope. */
export const makeLocalBackend = (options: LocalBackendOptions = {}) =>
  Effect.gen(function*() {
    const store = yield* RunStore
    const table = yield* ProcessTable
    const stopper = yield* StopSequence
    const local = makeLocalRunOps(table, yield* ProcessControl, stopper)
    const deps: LifecycleDeps = {
      agents: yield* AgentProcess,
      bootstrap: yield* Bootstrap,
      stopper,
      watchdog: yield* Watchdog,
      store,
      table,
      // The run's own grace periods (from its settings), else the backend's options.
      graceFor: (run) =>
        run.spec.stopGrace === undefined ? options.grace ?? {} : { ...options.grace, ...stopGraceOf(run.spec.stopGrace) },
      drainGrace: options.drainGrace ?? "2 seconds"
    }
    const supervisor = {
      hostname: NodeOs.hostname(),
      pid: process.pid,
      startTicks: yield* table.stat(process.pid).pipe(
        Effect.map(Option.match({ onNone: () => null, onSome: (p) => p.startTimeTicks })),
        Effect.catch(() => Effect.succeed(null))
      )
    }
    // Closing the layer's scope interrupts every live run; each one's lifecycle then stops its
    // agent and records it before the close completes.
    const runs = yield* FiberMap.make<RunId, void>()

    const launch = (spec: RunSpec) =>
      Effect.gen(function*() {
        const startedAt = yield* nowMs
        const runId = makeRunId(startedAt, yield* Random.nextIntBetween(0, 0xffffff))
        const redactor = makeRedactor(spec.env)
        const argv = claudeArgv(spec)
        const run: LocalRun = {
          runId,
          spec,
          startedAt,
          redactor,
          argv,
          progress: yield* PubSub.unbounded<RunProgress>({ replay: 64 }),
          stopRequest: yield* Deferred.make<StopRequest>(),
          result: yield* Deferred.make<RunResult>(),
          record: launchRecord(runId, spec, argv, redactor, startedAt, supervisor),
          agent: null,
          oomBefore: Effect.succeed(Option.none())
        }
        yield* store.writeRecord(run.record)
        // Started at once, so claude is spawned before the caller goes on (its progress view):
        // 1 to 2 ms sooner, measured.
        yield* FiberMap.run(runs, runId, lifecycle(deps, run), { startImmediately: true })
        return handleOf(run)
      })

    const liveness = (record: RunRecord): Effect.Effect<RunLiveness> => {
      const p = localPlacement(record)
      return p === null ? Effect.succeed({ _tag: "Unknown", reason: `a ${record.placement._tag} run, not a local one` }) : local.liveness(p)
    }

    const cancel = cancelLocal(store, local)

    const backend: BackendShape = {
      placement: "Local",
      launch,
      liveness,
      cancel,
      reattach: reattach(store, recoverWith(store, liveness), cancel)
    }
    return LocalBackend.of(backend)
  })

/**
 * The local backend service (placement `Local`). `layer(options)` builds it with its hang
 * {@link Watchdog}; it needs the process boundary (AgentProcess), the process table, the stop
 * sequence, the run store and the bootstrap. Registered in {@link Backends} by `Backends.layer`.
 */
export class LocalBackend extends Context.Service<LocalBackend, BackendShape>()("agentrun/LocalBackend") {
  static readonly layer = (options: LocalBackendOptions = {}) =>
    Layer.effect(LocalBackend, makeLocalBackend(options)).pipe(Layer.provide(Watchdog.layer))
}
