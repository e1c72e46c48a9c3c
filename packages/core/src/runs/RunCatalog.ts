/**
 * The runs in the store, managed: run ids resolved from what a user typed, records listed and
 * read (reads do not write), crash recovery as an explicit step, cancel through the store,
 * pruning.
 *
 * Liveness, recovery, cancel, prune and reattach go through the record's backend
 * ({@link Backends}`.forRecord`, by its placement): a local run by its pids (LocalBackend); a run
 * whose placement has no backend in this process (Kubernetes, when none is registered), or a
 * local run from another machine, is `Unknown`: never marked Interrupted, never pruned on a guess.
 *
 * Crash recovery ({@link RunCatalogShape.recover}, Recovery.ts): a record still `running` whose
 * supervisor is dead (for a local run: pid gone, or reused by another process: its /proc start
 * time differs) is rewritten as `Interrupted`. `list` and `inspect` call it, as the README says.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as NodeOs from "node:os"
import {
  type BackendShape,
  type CancelOptions,
  type CancelResult,
  type RunHandle,
  RunNotRunning,
  type RunOnAnotherHost
} from "../backend/Backend.ts"
import { BackendUnavailable, Backends } from "../backend/Backends.ts"
import type { RunId, RunRecord } from "../domain/Run.ts"
import { matchRunId } from "../domain/RunIdQuery.ts"
import type { RunLiveness } from "../domain/RunLiveness.ts"
import { isDamaged, RunNotFound, type RunRecordDamaged, RunStore, type RunStoreError, type StoredRun } from "../store/RunStore.ts"
import { recoverWith } from "./Recovery.ts"

/** A run id query (a prefix, a random tail) names several runs; `candidates` newest first. */
export class RunIdAmbiguous extends Schema.TaggedError<RunIdAmbiguous>()("RunIdAmbiguous", {
  message: Schema.String,
  query: Schema.String,
  candidates: Schema.Array(Schema.String),
  retryable: Schema.Boolean
}) {}

/** Filters of {@link RunCatalogShape.list}. */
export interface ListOptions {
  /** Only runs with this status (damaged records have none: left out). */
  readonly status?: RunRecord["status"]
  readonly limit?: number
}

/**
 * Options of {@link RunCatalogShape.prune}. At least one of `olderThanMs` and `keep` must be
 * given. Alone, `keep` removes every finished run but the `keep` newest; with `olderThanMs`, it
 * is a floor: the `keep` newest finished runs stay however old they are.
 */
export interface PruneOptions {
  /** Remove finished runs that ended more than this many milliseconds ago. */
  readonly olderThanMs?: number
  /** Always keep this many finished runs (the newest). */
  readonly keep?: number
  /** Only say which runs would go: remove nothing. */
  readonly dryRun?: boolean
}

/** Errors of resolving a RUN_ID query. */
export type ResolveError = RunNotFound | RunIdAmbiguous | RunStoreError

/** The catalog's operations. */
export interface RunCatalogShape {
  /** The id a query names (see RunIdQuery: exact, unique prefix, random tail, `last`/`@`). */
  readonly resolve: (query: string) => Effect.Effect<RunId, ResolveError>
  /** Records (and damaged ones, unless filtered by status), newest first, as stored: no recovery. */
  readonly list: (options?: ListOptions) => Effect.Effect<ReadonlyArray<StoredRun>, RunStoreError>
  /** One record by query, as stored. */
  readonly get: (query: string) => Effect.Effect<RunRecord, ResolveError | RunRecordDamaged>
  /** Whether the run's supervision lives, as its backend tells (`Unknown` when its placement has none here). */
  readonly liveness: (record: RunRecord) => Effect.Effect<RunLiveness>
  /**
   * Crash recovery: a `running` record whose supervisor is known dead is rewritten Interrupted
   * (re-read first: a supervisor that finished it meanwhile keeps its final record); returns the
   * current record. Any other record is returned as it is.
   */
  readonly recover: (record: RunRecord) => Effect.Effect<RunRecord, RunStoreError>
  /** {@link recover} over a listing (damaged entries pass through). */
  readonly recoverAll: (runs: ReadonlyArray<StoredRun>) => Effect.Effect<ReadonlyArray<StoredRun>, RunStoreError>
  /**
   * Cancels a running run through its backend: a cancel request into the store for its live
   * supervisor (which runs the stop sequence and records `Cancelled`); if a local supervisor is
   * gone, the backend stops the agent's process group itself and records `Cancelled` with the
   * stop report. A run whose placement has no backend here gets the store request (whoever
   * supervises it reads it). Fails with {@link RunNotRunning} for a finished run and
   * {@link RunOnAnotherHost} for a local run supervised on another machine.
   */
  readonly cancel: (
    query: string,
    options?: CancelOptions
  ) => Effect.Effect<CancelResult, ResolveError | RunRecordDamaged | RunNotRunning | RunOnAnotherHost>
  /**
   * Removes finished runs and damaged records per the options (a damaged record's age: none
   * known, so any `olderThanMs` counts it as old); returns the removed ids (with `dryRun`, the ids
   * it would remove), newest first. The newest `keep` are a floor, whatever their age. Running
   * runs are never removed, nor interrupted ones whose agent still runs (`cancel` needs their
   * record), nor runs whose liveness is unknown.
   */
  readonly prune: (options: PruneOptions) => Effect.Effect<ReadonlyArray<string>, RunStoreError>
  /**
   * A handle on a stored run (by query), from its backend's `reattach`: its progress from the
   * first stored line to `Ended`, cancel, verdict. Fails with {@link BackendUnavailable} when its
   * placement has no backend here.
   */
  readonly reattach: (query: string) => Effect.Effect<RunHandle, ResolveError | RunRecordDamaged | BackendUnavailable>
}

/** The run catalog service; needs the run store and the backend registry. */
export class RunCatalog extends Context.Service<RunCatalog, RunCatalogShape>()("agentrun/RunCatalog") {
  static readonly layer = Layer.effect(
    RunCatalog,
    Effect.gen(function*() {
      const store = yield* RunStore
      const backends = yield* Backends
      const now = Effect.clockWith((c) => c.currentTimeMillis)
      const backendOf = (record: RunRecord): BackendShape | null => Option.getOrNull(backends.forRecord(record))
      const noBackend = (record: RunRecord) => `no ${record.placement._tag} backend in this agentrun`

      const resolve = (query: string) =>
        Effect.gen(function*() {
          const match = matchRunId(yield* store.listRunIds, query)
          if (match._tag === "Found") return match.runId as RunId
          if (match._tag === "NotFound") return yield* new RunNotFound({ message: `No run "${query}" in the store.`, runId: query, retryable: false })
          const shown = match.candidates.slice(0, 10)
          return yield* new RunIdAmbiguous({
            message: `Run id "${query}" matches ${match.candidates.length} runs: ${shown.join(", ")}${
              match.candidates.length > shown.length ? ", …" : ""
            }; give more of it.`,
            query,
            candidates: match.candidates,
            retryable: false
          })
        })

      const liveness = (record: RunRecord): Effect.Effect<RunLiveness> => {
        const backend = backendOf(record)
        return backend === null ? Effect.succeed({ _tag: "Unknown", reason: noBackend(record) }) : backend.liveness(record)
      }

      const recover = recoverWith(store, liveness)

      const recoverAll = (runs: ReadonlyArray<StoredRun>) =>
        Effect.forEach(runs, (r): Effect.Effect<StoredRun, RunStoreError> => (isDamaged(r) ? Effect.succeed(r) : recover(r)))

      const list = (options: ListOptions = {}) =>
        Effect.map(store.listRecords, (runs) => {
          const filtered = options.status === undefined ? runs : runs.filter((r) => !isDamaged(r) && r.status === options.status)
          return options.limit === undefined ? filtered : filtered.slice(0, options.limit)
        })

      const get = (query: string) => Effect.flatMap(resolve(query), store.readRecord)

      const cancel = (query: string, options: CancelOptions = {}) =>
        Effect.gen(function*() {
          const record = yield* get(query)
          const backend = backendOf(record)
          if (backend !== null) return yield* backend.cancel(record, options)
          if (record.status !== "running") {
            return yield* new RunNotRunning({
              message: `Run ${record.runId} is not running (${record.status}).`,
              runId: record.runId,
              status: record.status,
              retryable: false
            })
          }
          // No backend here to judge it: whoever supervises it reads the request from the store.
          yield* store.requestCancel(record.runId, {
            requestedAt: new Date(yield* now).toISOString(),
            by: options.by ?? `agentrun cancel (pid ${process.pid} on ${NodeOs.hostname()})`,
            signal: null
          })
          return { _tag: "AskedSupervisor", runId: record.runId, supervisorPid: null } as CancelResult
        })

      const prune = (options: PruneOptions) =>
        Effect.gen(function*() {
          const finished: Array<StoredRun> = []
          for (const r of yield* recoverAll(yield* list())) {
            if (!isDamaged(r)) {
              if (r.status === "running") continue
              // An interrupted run whose agent still runs (or may: another machine, no backend here) keeps its record.
              if (r.status === "interrupted") {
                const live = yield* liveness(r)
                if (live._tag !== "Orphaned" || live.agentAlive) continue
              }
            }
            finished.push(r)
          }
          const t = yield* now
          // Newest first: the first `keep` are the floor, whatever their age.
          const candidates = options.keep === undefined ? finished : finished.slice(options.keep)
          const doomed = options.olderThanMs === undefined
            ? candidates
            : candidates.filter((r) => isDamaged(r) || t - Date.parse(r.endedAt ?? r.createdAt) > options.olderThanMs!)
          if (options.dryRun !== true) for (const r of doomed) yield* store.remove(r.runId)
          return doomed.map((r) => r.runId)
        })

      const reattach = (query: string) =>
        Effect.gen(function*() {
          const record = yield* get(query)
          const backend = backendOf(record)
          if (backend === null) {
            const reason = noBackend(record)
            return yield* new BackendUnavailable({
              message: `Run ${record.runId} cannot be followed here: ${reason}.`,
              backend: record.placement._tag,
              reason,
              available: backends.backends.map((b) => b.placement),
              retryable: false
            })
          }
          return yield* backend.reattach(record)
        })

      return RunCatalog.of({ resolve, list, get, liveness, recover, recoverAll, cancel, prune, reattach })
    })
  )
}

export { RunNotFound }
