/**
 * @agentrun/core: the run domain and its services.
 *
 * Domain first: {@link Run} (what was asked, what is stored), {@link RunOutcome} and the failure
 * classes, the stream-json {@link Protocol}, the pure {@link Verdict}. Then the services, one per
 * external boundary: the Backend (local now), AgentProcess, ProcessTable (/proc), StopSequence,
 * RunStore, AgentrunPaths.
 *
 * @module
 */
export * from "./domain/Run.ts"
export * from "./domain/RunOutcome.ts"
export * from "./domain/Failures.ts"
export * from "./domain/Evidence.ts"
export * as ExitStatus from "./domain/ExitStatus.ts"
export * as Protocol from "./domain/Protocol.ts"
export * from "./domain/Observation.ts"
export * from "./domain/Verdict.ts"
export * from "./domain/Redaction.ts"
export * from "./backend/Backend.ts"
export * from "./backend/LocalBackend.ts"
export * from "./process/AgentProcess.ts"
export * from "./process/StopSequence.ts"
export * from "./procfs/ProcessTable.ts"
export * from "./store/RunStore.ts"
export * from "./paths/AgentrunPaths.ts"
export * from "./runs/RunCatalog.ts"
export * from "./runs/TranscriptFormat.ts"
export * from "./backend/TranscriptIngest.ts"
export * from "./procfs/index.ts"
export * from "./config/AgentrunConfig.ts"
export * from "./domain/DurationText.ts"
export * from "./bootstrap/index.ts"
export * from "./watchdog/index.ts"
