/**
 * The filesystem boundary of Bootstrap: the build lock (sentinel), the cooldown marker and the
 * telemetry log, all under `<stateDir>/bootstrap/` (`$XDG_STATE_HOME/agentrun/bootstrap`), next to
 * and never inside the managed installs (`$XDG_DATA_HOME/agentrun`, which `venv --clear` wipes).
 *
 * Files, per runtime R:
 * - `R.sentinel`: JSON {@link SentinelRecord}. Created atomically and exclusively: the record is
 *   written to a private temp file which is then `link(2)`ed to the sentinel name. `link` fails
 *   with EEXIST exactly like `open(O_CREAT|O_EXCL)` does, and readers never see a half-written
 *   sentinel (open(2), "O_EXCL", recommends link for lock files for the same reason).
 * - `R.sentinel.takeover`: a short-lived `O_CREAT|O_EXCL` lock that serialises taking over a
 *   stale sentinel, so two processes cannot both take it over.
 * - `R.cooldown.json`: JSON {@link CooldownRecord}, written after a signal kill.
 * - `telemetry.jsonl`: one {@link TelemetryRecord} per line, all runtimes.
 *
 * Time is passed in (milliseconds from Effect's Clock), except where a file's mtime is compared
 * (the takeover lock's age), which needs the wall clock.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { AgentrunPaths } from "../paths/AgentrunPaths.ts"
import type { Phase, Runtime } from "./codes.ts"
import { writeFileAtomicSync } from "../store/AtomicWrite.ts"
import { pidLivenessNow } from "../procfs/ProcessControl.ts"
import { readStatFile } from "../procfs/StatFile.ts"

/** The content of a sentinel: who builds, since when, last sign of life. */
export interface SentinelRecord {
  readonly runtime: Runtime
  /** Process id of the builder. */
  readonly pid: number
  /**
   * The builder's process start time (field 22 of `/proc/<pid>/stat`, clock ticks since boot), to
   * tell the builder from a later process that reuses its pid; null where /proc is unavailable.
   */
  readonly startTime: string | null
  readonly hostname: string
  /** Random id of this holding; only the holder with this token may refresh or remove it. */
  readonly token: string
  /** When the lock was taken, epoch ms (Effect Clock). */
  readonly createdMs: number
  /** Last heartbeat, epoch ms (Effect Clock); refreshed every 30 s while building. */
  readonly heartbeatMs: number
}

/** The cooldown marker written after an installer was killed by a signal. */
export interface CooldownRecord {
  readonly runtime: Runtime
  /** When the kill was seen, epoch ms (Effect Clock). */
  readonly atMs: number
  readonly signal: string
  /** The return code (`-n`, or `128+n` via a shell). */
  readonly returnCode: number
  readonly phase: Phase
}

/** One bootstrap attempt's metrics (the telemetry record). */
export interface TelemetryRecord {
  /** When the attempt ended, epoch ms (Effect Clock). */
  readonly atMs: number
  readonly runtime: Runtime
  readonly outcome: string
  /** `OutcomeCodes` number. */
  readonly outcomeCode: number
  /** Attempt duration in milliseconds. */
  readonly durationMs: number
  /** `PhaseCodes` number of the failing phase, or null. */
  readonly phase: number | null
  /** `ErrorKindCodes` number, or null. */
  readonly errorCode: number | null
  /** The installer's return code (exit status, `-n` for a signal death), or null. */
  readonly returnCode: number | null
  /** The Python interpreter's version (`"3.11.7"`), or null. */
  readonly interpreterVersion: string | null
  /** Short stable hash of an uncategorized stderr tail (`stderrHash` in `installerOutput.ts`), or null. */
  readonly stderrHash: string | null
}

/** Result of trying to take the build lock. */
export type AcquireResult =
  | { readonly _tag: "Acquired"; readonly token: string; readonly takenOver: SentinelRecord | null }
  | { readonly _tag: "Held"; readonly holder: SentinelRecord; readonly heartbeatAgeMs: number }

/** A state file could not be read or written; `errno` is Node's code (`"EACCES"`, `"ENOSPC"`). */
export class BootstrapStoreError extends Schema.TaggedError<BootstrapStoreError>()("BootstrapStoreError", {
  message: Schema.String,
  path: Schema.String,
  errno: Schema.String,
  retryable: Schema.Boolean
}) {}

/** When a takeover lock is older than this (file mtime), its taker died mid-takeover. */
const takeoverStaleMs = 10_000
/** Telemetry is trimmed to its newer half when it grows beyond this many bytes. */
const telemetryMaxBytes = 1024 * 1024

/** The process start time of `pid` from `/proc/<pid>/stat` (field 22), or null. */
export const processStartTime = (pid: number): string | null =>
  Option.match(readStatFile(`/proc/${pid}/stat`), { onNone: () => null, onSome: (s) => String(s.startTimeTicks) })

/**
 * True when `record`'s builder is still running: ProcessControl's liveness rule (same pid, not a
 * zombie, and where known the same start time), in its synchronous form: the lock is taken in
 * one synchronous critical section.
 */
export const holderAlive = (record: SentinelRecord): boolean => {
  if (record.hostname !== NodeOs.hostname()) return true // cannot check another host: assume alive
  const startTicks = record.startTime === null ? null : Number(record.startTime)
  return pidLivenessNow(record.pid, startTicks !== null && Number.isFinite(startTicks) ? startTicks : null) === "alive"
}

/** The store; see the module docs. */
export class BootstrapStore extends Context.Service<BootstrapStore, {
  /** The directory holding the sentinels, cooldown markers and telemetry. */
  readonly dir: string
  /**
   * Takes the build lock for `runtime`, or reports its live holder. A sentinel whose holder is dead
   * ({@link holderAlive}) or whose heartbeat is older than `staleAfterMs` is taken over atomically.
   */
  acquire(runtime: Runtime, options: { readonly nowMs: number; readonly staleAfterMs: number }): Effect.Effect<AcquireResult, BootstrapStoreError>
  /** Refreshes the heartbeat, if `token` still holds the lock. */
  heartbeat(runtime: Runtime, token: string, nowMs: number): Effect.Effect<void, BootstrapStoreError>
  /** Removes the sentinel, if `token` still holds it (only the holder removes it). */
  release(runtime: Runtime, token: string): Effect.Effect<void>
  readSentinel(runtime: Runtime): Effect.Effect<SentinelRecord | null>
  /** Whether a sentinel's holder is alive. */
  isAlive(record: SentinelRecord): Effect.Effect<boolean>
  readCooldown(runtime: Runtime): Effect.Effect<CooldownRecord | null>
  writeCooldown(record: CooldownRecord): Effect.Effect<void, BootstrapStoreError>
  clearCooldown(runtime: Runtime): Effect.Effect<void>
  appendTelemetry(record: TelemetryRecord): Effect.Effect<void, BootstrapStoreError>
  /** The newest telemetry record (of `runtime`, when given), or null. */
  lastTelemetry(runtime?: Runtime): Effect.Effect<TelemetryRecord | null>
}>()("agentrun/bootstrap/BootstrapStore") {
  /** Files under `<AgentrunPaths.stateDir>/bootstrap`. */
  static readonly layer = Layer.effect(
    BootstrapStore,
    Effect.gen(function*() {
      const paths = yield* AgentrunPaths
      return makeFileStore(NodePath.join(paths.stateDir, "bootstrap"))
    })
  )
}

const storeError = (path: string, what: string) => (error: unknown) => {
  const errno = (error as NodeJS.ErrnoException).code ?? "UNKNOWN"
  return new BootstrapStoreError({
    message: `could not ${what} ${path}: ${(error as Error).message ?? String(error)}`,
    path,
    errno,
    retryable: false
  })
}

const readJson = <A>(path: string): A | null => {
  try {
    return JSON.parse(NodeFs.readFileSync(path, "utf8")) as A
  } catch {
    return null
  }
}

/** Writes `data` to `path` atomically: the stores' one helper (AtomicWrite), in its synchronous form (the lock is taken synchronously). */
const writeAtomic = (path: string, data: string): void => writeFileAtomicSync(path, data, { mkdir: false, mode: 0o644 })

/** A new sentinel for this process (a fresh token); shared with the in-memory store of `@agentrun/core/testing`. */
export const newRecord = (runtime: Runtime, nowMs: number): SentinelRecord => ({
  runtime,
  pid: process.pid,
  startTime: processStartTime(process.pid),
  hostname: NodeOs.hostname(),
  token: NodeCrypto.randomBytes(8).toString("hex"),
  createdMs: nowMs,
  heartbeatMs: nowMs
})

/** The real, file-backed store rooted at `dir`. */
export const makeFileStore = (dir: string): BootstrapStore["Service"] => {
  const sentinelPath = (runtime: Runtime) => NodePath.join(dir, `${runtime}.sentinel`)
  const cooldownPath = (runtime: Runtime) => NodePath.join(dir, `${runtime}.cooldown.json`)
  const telemetryPath = NodePath.join(dir, "telemetry.jsonl")

  /** Exclusive create with complete content: temp file + link(2); false when it already exists. */
  const createExclusive = (path: string, record: SentinelRecord): boolean => {
    NodeFs.mkdirSync(dir, { recursive: true })
    const tmp = `${path}.${record.token}.tmp`
    NodeFs.writeFileSync(tmp, JSON.stringify(record))
    try {
      NodeFs.linkSync(tmp, path)
      return true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return false
      throw error
    } finally {
      NodeFs.rmSync(tmp, { force: true })
    }
  }

  const acquireSync = (runtime: Runtime, nowMs: number, staleAfterMs: number): AcquireResult => {
    const path = sentinelPath(runtime)
    for (let round = 0; round < 5; round++) {
      const mine = newRecord(runtime, nowMs)
      if (createExclusive(path, mine)) return { _tag: "Acquired", token: mine.token, takenOver: null }
      const holder = readJson<SentinelRecord>(path)
      if (holder === null) continue // released meanwhile: try again
      const heartbeatAgeMs = nowMs - holder.heartbeatMs
      if (holderAlive(holder) && heartbeatAgeMs <= staleAfterMs) return { _tag: "Held", holder, heartbeatAgeMs }
      // Stale: take it over under the takeover lock (O_CREAT|O_EXCL).
      const takeover = `${path}.takeover`
      let fd: number
      try {
        fd = NodeFs.openSync(takeover, NodeFs.constants.O_CREAT | NodeFs.constants.O_EXCL | NodeFs.constants.O_WRONLY)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
        // Gone already (its taker finished between our open and this stat): nothing to clear.
        const taken = NodeFs.statSync(takeover, { throwIfNoEntry: false })
        if (taken !== undefined && Date.now() - taken.mtimeMs > takeoverStaleMs) NodeFs.rmSync(takeover, { force: true })
        return { _tag: "Held", holder, heartbeatAgeMs }
      }
      try {
        NodeFs.closeSync(fd)
        const again = readJson<SentinelRecord>(path)
        if (again === null) continue
        if (again.token !== holder.token || again.heartbeatMs !== holder.heartbeatMs) {
          return { _tag: "Held", holder: again, heartbeatAgeMs: nowMs - again.heartbeatMs }
        }
        writeAtomic(path, JSON.stringify(mine))
        return { _tag: "Acquired", token: mine.token, takenOver: holder }
      } finally {
        NodeFs.rmSync(takeover, { force: true })
      }
    }
    const holder = readJson<SentinelRecord>(path)
    if (holder !== null) return { _tag: "Held", holder, heartbeatAgeMs: nowMs - holder.heartbeatMs }
    throw Object.assign(new Error("sentinel kept changing"), { code: "EBUSY" })
  }

  return BootstrapStore.of({
    dir,
    acquire: (runtime, { nowMs, staleAfterMs }) =>
      Effect.try({ try: () => acquireSync(runtime, nowMs, staleAfterMs), catch: storeError(sentinelPath(runtime), "take the lock") }),
    heartbeat: (runtime, token, nowMs) =>
      Effect.try({
        try: () => {
          const current = readJson<SentinelRecord>(sentinelPath(runtime))
          if (current !== null && current.token === token) {
            writeAtomic(sentinelPath(runtime), JSON.stringify({ ...current, heartbeatMs: nowMs }))
          }
        },
        catch: storeError(sentinelPath(runtime), "refresh")
      }),
    release: (runtime, token) =>
      Effect.sync(() => {
        const current = readJson<SentinelRecord>(sentinelPath(runtime))
        if (current !== null && current.token === token) NodeFs.rmSync(sentinelPath(runtime), { force: true })
      }),
    readSentinel: (runtime) => Effect.sync(() => readJson<SentinelRecord>(sentinelPath(runtime))),
    isAlive: (record) => Effect.sync(() => holderAlive(record)),
    readCooldown: (runtime) => Effect.sync(() => readJson<CooldownRecord>(cooldownPath(runtime))),
    writeCooldown: (record) =>
      Effect.try({
        try: () => {
          NodeFs.mkdirSync(dir, { recursive: true })
          writeAtomic(cooldownPath(record.runtime), JSON.stringify(record))
        },
        catch: storeError(cooldownPath(record.runtime), "write")
      }),
    clearCooldown: (runtime) => Effect.sync(() => NodeFs.rmSync(cooldownPath(runtime), { force: true })),
    appendTelemetry: (record) =>
      Effect.try({
        try: () => {
          NodeFs.mkdirSync(dir, { recursive: true })
          const size = NodeFs.statSync(telemetryPath, { throwIfNoEntry: false })?.size ?? 0
          if (size > telemetryMaxBytes) {
            const lines = NodeFs.readFileSync(telemetryPath, "utf8").split("\n").filter((l) => l !== "")
            writeAtomic(telemetryPath, lines.slice(Math.floor(lines.length / 2)).join("\n") + "\n")
          }
          NodeFs.appendFileSync(telemetryPath, JSON.stringify(record) + "\n")
        },
        catch: storeError(telemetryPath, "append to")
      }),
    lastTelemetry: (runtime) =>
      Effect.sync(() => {
        let text: string
        try {
          text = NodeFs.readFileSync(telemetryPath, "utf8")
        } catch {
          return null
        }
        const lines = text.split("\n").filter((l) => l.trim() !== "").reverse()
        for (const line of lines) {
          try {
            const record = JSON.parse(line) as TelemetryRecord
            if (runtime === undefined || record.runtime === runtime) return record
          } catch {
            // skip a torn line
          }
        }
        return null
      })
  })
}
