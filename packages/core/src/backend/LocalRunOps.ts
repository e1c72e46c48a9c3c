/**
 * The record-level operations of local runs, for runs this process did not start (or no longer
 * supervises): liveness from the record's {@link LocalPlacement} (the supervisor's pid and /proc
 * start time, the agent's), and stopping an orphaned agent with the shared stop sequence.
 * LocalBackend answers the Backend contract's liveness and cancel for local records with these (a
 * Kubernetes run's liveness is not a pid check: its own backend answers).
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as NodeOs from "node:os"
import type { StopReport } from "../domain/Evidence.ts"
import type { LocalPlacement, RunRecord, StopGraceSettings } from "../domain/Run.ts"
import type { RunLiveness } from "../domain/RunLiveness.ts"
import { runCookieName, type StopSequenceShape, stopGraceOf } from "../process/StopSequence.ts"
import type { ProcessControlShape } from "../procfs/ProcessControl.ts"
import type { ProcessTableShape } from "../procfs/ProcessTable.ts"
import { foreignAgent, processAlive } from "../runs/ForeignAgent.ts"

/** The local run operations. */
export interface LocalRunOpsShape {
  /** This machine's hostname: a local placement from another one is `Unknown` here. */
  readonly hostname: string
  /** Whether the run's supervisor lives (see {@link RunLiveness}). Never fails: a table that cannot tell says alive. */
  readonly liveness: (placement: LocalPlacement) => Effect.Effect<RunLiveness>
  /** Whether the recorded agent process still runs (false when never spawned, or its pid was reused). */
  readonly agentAlive: (placement: LocalPlacement) => Effect.Effect<boolean>
  /**
   * Stops an orphaned agent (the stop sequence over its pid, then the sweep of every process
   * carrying the run's cookie); returns the stop report, null when the agent had already ended.
   */
  readonly stopOrphan: (record: RunRecord, placement: LocalPlacement, stopGrace?: StopGraceSettings) => Effect.Effect<StopReport | null>
}

/** Builds the local run operations over the process table, process control and the stop sequence. */
export const makeLocalRunOps = (
  table: ProcessTableShape,
  control: ProcessControlShape,
  stopper: StopSequenceShape,
  hostname: string = NodeOs.hostname()
): LocalRunOpsShape => {
  const agentAlive = (p: LocalPlacement) => p.agentPid === null ? Effect.succeed(false) : processAlive(control, p.agentPid, p.agentStartTicks)

  const liveness = (p: LocalPlacement): Effect.Effect<RunLiveness> =>
    Effect.gen(function*() {
      if (p.hostname !== hostname) return { _tag: "Unknown", reason: `supervised on ${p.hostname}, not on this machine (${hostname})` } as const
      // A table that cannot tell says alive: a run is never orphaned on a guess.
      const supervisor = yield* control.liveness(p.supervisorPid, p.supervisorStartTicks).pipe(
        Effect.catch(() => control.isAlive(p.supervisorPid).pipe(Effect.map((a) => (a ? "alive" as const : "gone" as const)))),
        Effect.catch(() => Effect.succeed("alive" as const))
      )
      if (supervisor === "alive") return { _tag: "Supervised" } as const
      const reason = supervisor === "gone" ? "supervisor-gone" as const : "pid-reused" as const
      return { _tag: "Orphaned", reason, agentAlive: yield* agentAlive(p) } as const
    })

  const stopOrphan = (record: RunRecord, p: LocalPlacement, stopGrace?: StopGraceSettings) =>
    Effect.gen(function*() {
      const alive = yield* agentAlive(p)
      const agent = foreignAgent(table, control, p.agentPid ?? -1, p.agentStartTicks)
      const stop = alive ? yield* stopper.stop(agent, stopGrace === undefined ? undefined : { grace: stopGraceOf(stopGrace) }) : null
      if (p.agentPid !== null) {
        yield* stopper.sweep(p.agentPid, {
          name: runCookieName,
          value: record.runId,
          ...(p.agentStartTicks === null ? {} : { startedAtTicks: p.agentStartTicks })
        })
      }
      return stop
    })

  return { hostname, liveness, agentAlive, stopOrphan }
}
