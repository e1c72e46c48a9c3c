/**
 * What the verdict looks at: everything observed about a finished run ({@link RunFacts}), and
 * what agentrun itself did to it ({@link SupervisorAction}).
 *
 * @module
 */
import type { StopReport, TranscriptIncomplete } from "./Evidence.ts"
import type { ExitStatus } from "./ExitStatus.ts"
import type { HangDetection, SigintFacts, SpawnFailureReason, StoreErrorFacts, WaitingOn } from "./Failures.ts"
import type { Observation } from "./Observation.ts"

/** What the watchdog found and did (see watchdog/). */
export interface HangAction {
  readonly _tag: "Hang"
  readonly detection: HangDetection
  readonly waitingOn: WaitingOn
  readonly dumpPath: string | null
  readonly unavailable: ReadonlyArray<string>
  /** The SIGINT probe: answered within the grace (ms after the probe), or not. Busy hangs are not probed. */
  readonly probe: { readonly answered: true; readonly afterMs: number } | { readonly answered: false } | null
  readonly sigint: SigintFacts | null
  /** The rest of the stop sequence, when the probe was not answered (or for a busy hang). */
  readonly stop: StopReport | null
  /** The agent's own CPU use over the busy window (percent of one core), for busy hangs. */
  readonly cpuPercent: number | null
}

/** What agentrun itself did to the run, if anything. */
export type SupervisorAction =
  | { readonly _tag: "None" }
  | HangAction
  | { readonly _tag: "Deadline"; readonly timeoutMs: number; readonly stop: StopReport }
  | {
    readonly _tag: "Cancel"
    /** `SIGINT` / `SIGTERM` received by agentrun, or null for `agentrun cancel`. */
    readonly signal: string | null
    readonly stop: StopReport | null
    /** Who asked; omitted: from `signal` (a signal, else `cancel-command`). */
    readonly by?: "signal" | "cancel-command" | "shutdown"
    /**
     * The requester a cancel request named (its `by`: the run store's request, or on a cluster the
     * Job's `agentrun.dev/cancel-requested-by` annotation), e.g. `agentrun cancel (pid 4242 on ci-7)`;
     * omitted when none is known.
     */
    readonly requestedBy?: string
  }

/** Why agentrun could not go on supervising (see SupervisionFailed). */
export interface SupervisionFailure {
  readonly reason: "store-write-failed" | "defect"
  readonly storeError: StoreErrorFacts | null
  readonly defect: string | null
  /** How the agent was stopped; null when it had already exited or never started. */
  readonly stop: StopReport | null
}

/** Why spawning failed, as the process boundary reported it. */
export interface SpawnFailure {
  readonly path: string
  readonly reason: typeof SpawnFailureReason.Type
  readonly errno: string | null
  readonly detail: string
}

/** The bootstrap could not provide a claude (no `--claude-path` was given and none was usable). */
export interface RuntimeUnavailableFacts {
  readonly runtime: string
  /** The bootstrap's own explanation (what failed, what to do). */
  readonly message: string
  readonly retryable: boolean
  /** Outcome, phase and error kind with their codes, as the Bootstrap service reported them. */
  readonly bootstrap: Readonly<Record<string, unknown>>
}

/** Everything the verdict looks at. */
export interface RunFacts {
  /** Set when no agent could be launched because the runtime is unavailable. */
  readonly runtimeUnavailable?: RuntimeUnavailableFacts | null
  readonly observation: Observation
  /** The last stderr lines (bounded, already redacted). */
  readonly stderrTail: ReadonlyArray<string>
  /** How the agent ended; null when it never started. */
  readonly exit: ExitStatus | null
  readonly spawnFailure: SpawnFailure | null
  readonly action: SupervisorAction
  /** cgroup `memory.events` oom_kill counts before and after the run, when readable. */
  readonly oomKills: { readonly before: number; readonly after: number } | null
  /** `--max-turns` given to the agent, if any. */
  readonly maxTurns: number | null
  /** Set when agentrun could not go on supervising the run; decides the verdict. */
  readonly supervisionFailure?: SupervisionFailure | null
  /** Set when the stored transcript is incomplete (evidence on the process end). */
  readonly transcriptIncomplete?: TranscriptIncomplete | null
}
