/**
 * The hang watchdog (issue 4): notices a stuck run ({@link WatchdogShape.watch}), captures the
 * evidence before touching the process, probes it with SIGINT and stops it
 * ({@link WatchdogShape.triage}). The detection rules are in Detection.ts (pure); the verdict
 * (HangInterruptible / HangUnresponsive / HangBusy) is made from the returned {@link HangAction}
 * by Verdict.ts.
 *
 * Timing follows the Effect Clock (sampling on a `Schedule`, the probe grace with
 * `Effect.timeoutOption`), so TestClock drives it in tests.
 *
 * @module
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type { HangDetection, SigintFacts } from "../domain/Failures.ts"
import type { Redactor } from "../domain/Redaction.ts"
import type { WatchdogSettings } from "../domain/Run.ts"
import type { HangAction } from "../domain/Verdict.ts"
import type { AgentHandle } from "../process/AgentProcess.ts"
import { type StopGrace, StopSequence } from "../process/StopSequence.ts"
import type { ProcessInspection } from "../procfs/ProcessInspection.ts"
import { ProcessControl } from "../procfs/ProcessControl.ts"
import { ProcessTable } from "../procfs/ProcessTable.ts"
import type { ArtifactSink } from "../store/RunStoreModel.ts"
import { type Activity, decide, type Decision, initialState, type Measured, observe, socketsChecked } from "./Detection.ts"
import { buildHangDump, type HangDump, renderHangDump } from "./HangDump.ts"
import { makeSampler } from "./Sampler.ts"
import { mostRecentReceive, readSsInfo } from "./SocketActivity.ts"

/** The names of the dump files in the run's folder. */
export const hangDumpJson = "hang-dump.json"
export const hangDumpText = "hang-dump.txt"

/** What {@link WatchdogShape.watch} found: the detection and the window measurements behind it. */
export interface HangFound {
  readonly detection: HangDetection
  readonly measured: Measured
  /** What the sampling could not read (no /proc, no ss, ...). */
  readonly unavailable: ReadonlyArray<string>
}

/** What {@link WatchdogShape.triage} needs besides the agent. */
export interface TriageContext {
  /** Where the dump files go: the run's artifacts in the store (see storeArtifacts). */
  readonly artifacts: ArtifactSink
  /** The agent's environment: where the Messages API is (ANTHROPIC_BASE_URL, proxies). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** The run's redactor: command lines and output lines carry tokens. */
  readonly redactor: Redactor
  /** The last output lines (already redacted). */
  readonly lastOutput: ReadonlyArray<string>
  readonly settings: WatchdogSettings
  /** Grace periods for the rest of the stop sequence (its defaults otherwise). */
  readonly grace?: Partial<StopGrace>
}

/** The watchdog's operations (R = never). */
export interface WatchdogShape {
  /**
   * Samples the agent every `settings.sampleIntervalMs` and completes only when a hang is
   * detected (see Detection.ts for the rules). `activity` is read at each sample: the backend's
   * view of the output. Interrupt it when the run ends.
   */
  readonly watch: (agent: AgentHandle, activity: Effect.Effect<Activity>, settings: WatchdogSettings) => Effect.Effect<HangFound>
  /**
   * Handles a detected hang: first writes the hang dump (`hang-dump.json` and `hang-dump.txt`
   * through `context.artifacts`, redacted) without touching the process; then, for a stall or startup
   * hang, sends SIGINT to the agent pid only (never its group: that would kill the tool and claude
   * would carry on) and waits `probeGraceMs`; unanswered, it runs the rest of the stop sequence
   * (SIGTERM to the group, SIGKILL to the tree). A busy hang gets the whole stop sequence. Returns
   * the {@link HangAction} for the verdict. Never fails: a dump that cannot be written is listed
   * as unavailable and `dumpPath` is null.
   */
  readonly triage: (agent: AgentHandle, found: HangFound, context: TriageContext) => Effect.Effect<HangAction>
}

/** SIGINT's disposition from a decoded status (proc(5) SigPnd/ShdPnd/SigBlk/SigIgn/SigCgt). */
export const sigintFacts = (inspection: ProcessInspection | null): SigintFacts | null => {
  if (inspection === null || inspection.status._tag !== "Available") return null
  const s = inspection.status.status
  const has = (names: ReadonlyArray<string>) => names.includes("SIGINT")
  return {
    state: s.state,
    pending: has(s.pending.signals) || has(s.sharedPending.signals),
    blocked: has(s.blocked.signals),
    ignored: has(s.ignored.signals),
    caught: has(s.caught.signals)
  }
}

const measuredRecord = (m: Measured): Record<string, number | null> => ({
  treeCpuPercent: m.treeCpuPercent,
  agentCpuPercent: m.agentCpuPercent,
  rcharBytesPerSecond: m.rcharBytesPerSecond
})

/** The watchdog service; its layer needs {@link ProcessTable}, {@link ProcessControl} (signals, `ps`, `ss`) and {@link StopSequence}. */
export class Watchdog extends Context.Service<Watchdog, WatchdogShape>()("agentrun/Watchdog") {
  static readonly layer = Layer.effect(
    Watchdog,
    Effect.gen(function*() {
      const table = yield* ProcessTable
      const control = yield* ProcessControl
      const stopper = yield* StopSequence

      /** Clock ms of the last data the agent tree's TCP sockets received (ss lastrcv), or null. */
      const lastReceive = (pids: ReadonlyArray<number>, note: (reason: string) => void) =>
        Effect.gen(function*() {
          // Every socket's inode: `ss -t` lists only TCP ones, so the others match nothing.
          const inodes = (yield* Effect.forEach(pids, (p) => table.socketInodes(p), { concurrency: 4 })).flat()
          if (inodes.length === 0) return null
          const ss = yield* Effect.result(readSsInfo(control))
          if (ss._tag === "Failure") {
            note(`socket receive times: ${ss.failure}`)
            return null
          }
          const ago = mostRecentReceive(ss.success, inodes)
          return ago === null ? null : (yield* Clock.currentTimeMillis) - ago
        }).pipe(Effect.catch(() => Effect.succeed(null)))

      const watch = (agent: AgentHandle, activity: Effect.Effect<Activity>, settings: WatchdogSettings) =>
        Effect.gen(function*() {
          const sampler = makeSampler(table, control, agent.pid)
          const extra: Array<string> = []
          const note = (reason: string) => {
            if (!extra.includes(reason)) extra.push(reason)
          }
          let state = initialState(yield* Clock.currentTimeMillis)
          const step = Effect.gen(function*() {
            const sample = yield* sampler.sample
            state = observe(state, sample, settings)
            const now = sample.atMs
            const seen = yield* activity
            let decision: Decision = decide(state, seen, now, settings)
            if (decision._tag === "CheckSockets") {
              const received = yield* lastReceive([agent.pid, ...sampler.descendants()], note)
              state = socketsChecked(state, now, received)
              decision = decide(state, seen, now, settings)
            }
            return decision._tag === "Detected"
              ? Option.some<HangFound>({ detection: decision.detection, measured: decision.measured, unavailable: [...sampler.unavailable(), ...extra] })
              : Option.none<HangFound>()
          })
          const found = yield* Effect.repeat(step, {
            schedule: Schedule.spaced(Math.max(1, settings.sampleIntervalMs)),
            until: (o: Option.Option<HangFound>) => Option.isSome(o)
          })
          return Option.getOrThrow(found)
        })

      /** Inspects the agent and its family before anything is signalled. */
      const capture = (agent: AgentHandle, found: HangFound, context: TriageContext) =>
        Effect.gen(function*() {
          const unavailable: Array<string> = [...found.unavailable]
          const agentInspection = yield* table.inspect(agent.pid).pipe(
            Effect.map(Option.getOrNull),
            Effect.catch((e) => {
              unavailable.push(`process tree, threads, signal masks, sockets and pipes: ${e.message}`)
              return Effect.succeed(null)
            })
          )
          const family = yield* table.family(agent.pid).pipe(Effect.catch(() => Effect.succeed([])))
          const descendants = yield* Effect.forEach(
            family.slice(0, 256),
            (p) => table.inspect(p.pid).pipe(Effect.map(Option.getOrNull), Effect.catch(() => Effect.succeed(null))),
            { concurrency: 8 }
          )
          const dump: HangDump = buildHangDump({
            capturedAtMs: yield* Clock.currentTimeMillis,
            detection: found.detection,
            agentPid: agent.pid,
            clockTicksPerSecond: table.clockTicksPerSecond,
            agent: agentInspection,
            descendants: descendants.filter((d): d is ProcessInspection => d !== null),
            env: context.env,
            lastOutput: context.lastOutput,
            measured: measuredRecord(found.measured),
            unavailable,
            redactor: context.redactor
          })
          // The pieces are redacted; the whole text again, should a secret hide elsewhere.
          const written = yield* context.artifacts.write(hangDumpJson, context.redactor.redact(JSON.stringify(dump, null, 2)) + "\n").pipe(
            Effect.tap(() => context.artifacts.write(hangDumpText, context.redactor.redact(renderHangDump(dump)))),
            Effect.mapError((e) => e.message),
            Effect.result
          )
          const jsonPath = written._tag === "Success" ? written.success : null
          const dumpPath = jsonPath
          const finalUnavailable = written._tag === "Success"
            ? dump.unavailable
            : [...dump.unavailable, `hang dump not written to ${context.artifacts.where}: ${written.failure}`]
          return { dump, dumpPath, unavailable: finalUnavailable, sigint: sigintFacts(agentInspection) }
        })

      const triage = (agent: AgentHandle, found: HangFound, context: TriageContext) =>
        Effect.gen(function*() {
          const captured = yield* capture(agent, found, context)
          const grace = context.grace === undefined ? {} : { grace: context.grace }
          const base = {
            _tag: "Hang" as const,
            detection: found.detection,
            waitingOn: captured.dump.waitingOn,
            dumpPath: captured.dumpPath,
            unavailable: captured.unavailable,
            sigint: captured.sigint
          }
          if (found.detection.reason === "busy") {
            const stop = yield* stopper.stop(agent, grace)
            return { ...base, probe: null, stop, cpuPercent: found.measured.agentCpuPercent } satisfies HangAction
          }
          const probeAt = yield* Clock.currentTimeMillis
          yield* agent.signal("SIGINT")
          const answered = yield* Effect.timeoutOption(agent.exit, Math.max(0, context.settings.probeGraceMs))
          if (Option.isSome(answered)) {
            const afterMs = (yield* Clock.currentTimeMillis) - probeAt
            return { ...base, probe: { answered: true, afterMs }, stop: null, cpuPercent: null } satisfies HangAction
          }
          const stop = yield* stopper.stop(agent, { ...grace, skipInterrupt: true })
          return { ...base, probe: { answered: false }, stop, cpuPercent: null } satisfies HangAction
        })

      return Watchdog.of({ watch, triage })
    })
  )
}
