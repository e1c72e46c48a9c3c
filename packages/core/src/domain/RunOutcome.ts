/**
 * How a run ended: {@link Succeeded}, or one {@link RunFailure} class. Every outcome has the same
 * outer shape `{ _tag, family, message, retryable, evidence }`, which is what `--json` prints and
 * the run record stores.
 *
 * @module
 */
import * as Schema from "effect/Schema"
import { PermissionDenial, ProcessEnd } from "./Evidence.ts"
import { type Family, RunFailure } from "./Failures.ts"
import { Usage } from "./Protocol.ts"
import { lazily } from "./LazyCodec.ts"

/** The run finished and the agent reported success (`result` with `is_error: false`). */
export class Succeeded extends Schema.TaggedClass<Succeeded>()("Succeeded", {
  family: Schema.tag("success"),
  message: Schema.String,
  retryable: Schema.tag(false),
  evidence: Schema.Struct({
    result: Schema.String,
    sessionId: Schema.NullOr(Schema.String),
    numTurns: Schema.NullOr(Schema.Number),
    costUsd: Schema.NullOr(Schema.Number),
    usage: Schema.NullOr(Usage),
    /** claude's own `duration_ms` (milliseconds). */
    durationMs: Schema.NullOr(Schema.Number),
    /**
     * Set when claude had written its successful `result` but had not exited, and agentrun's
     * deadline or hang detection stopped it: the work was done (absent otherwise).
     */
    stoppedAfterResult: Schema.optional(Schema.Literals(["deadline", "hang"])),
    /**
     * The tool calls claude refused during the run (absent when none were). The run is still a
     * success: claude said so, and the model was told of each refusal (README, "Verdicts").
     */
    permissionDenials: Schema.optional(Schema.Array(PermissionDenial)),
    process: ProcessEnd
  })
}) {}

/** Every way a run can end. */
export const RunOutcome = Schema.Union([Succeeded, RunFailure])
export type RunOutcome = typeof RunOutcome.Type

/**
 * agentrun's process exit code for an outcome (README, "Exit codes"): 0 success; 1 agent; 3 process;
 * 4 deadline; 5 hang; 130 cancelled by SIGINT or by `agentrun cancel`, 143 cancelled by SIGTERM,
 * 129 by SIGHUP (shell convention 128+n); 3 cluster, except `ConcurrentRunBlocked`: 75
 * (sysexits(3) EX_TEMPFAIL: try again later, like a bootstrap skipped for now).
 */
export const exitCodeFor = (outcome: RunOutcome | { readonly _tag: "UnknownOutcome"; readonly family: string }): number => {
  if (outcome._tag === "ConcurrentRunBlocked") return concurrentRunBlockedExitCode
  if (outcome._tag === "Cancelled") return outcome.evidence.signal === "SIGTERM" ? 143 : outcome.evidence.signal === "SIGHUP" ? 129 : 130
  // An outcome a newer agentrun recorded (StoredOutcome's UnknownOutcome): its family's code, 1 for a family unknown here.
  return (familyExitCodes as Record<string, number | undefined>)[outcome.family] ?? familyExitCodes.agent
}

/** Exit code per family. `cancelled` is 130 unless the signal was SIGTERM (143) or SIGHUP (129). */
export const familyExitCodes: Record<Family, number> = {
  success: 0,
  agent: 1,
  process: 3,
  deadline: 4,
  hang: 5,
  cancelled: 130,
  cluster: 3
}

/** The exit code of `ConcurrentRunBlocked` (EX_TEMPFAIL). */
export const concurrentRunBlockedExitCode = 75

/** The JSON shape of an outcome (what `run --json` prints under `outcome`). */
export const outcomeJson: (outcome: RunOutcome) => typeof RunOutcome.Encoded = lazily(() => Schema.encodeSync(RunOutcome))
