/**
 * @agentrun/core: the run domain and its services.
 *
 * Domain first: {@link Run} (what was asked, what is stored), {@link RunOutcome} and the failure
 * classes, the stream-json {@link Protocol}, the pure {@link Verdict}. Then the services, one per
 * external boundary: the Backends (one Backend per placement: LocalBackend; Kubernetes registered
 * with Backends.register), AgentProcess, ProcessTable (/proc), StopSequence,
 * RunStore, AgentrunPaths.
 *
 * @module
 */
export * from "./app/AgentrunApp.ts"
export * from "./app/AgentrunRuntime.ts"
export * from "./domain/Run.ts"
export * from "./domain/RunOutcome.ts"
export * from "./domain/Failures.ts"
export * from "./domain/Evidence.ts"
export * as ExitStatus from "./domain/ExitStatus.ts"
export * as Protocol from "./domain/Protocol.ts"
export * from "./domain/Observation.ts"
export * from "./domain/Verdict.ts"
export * from "./domain/Redaction.ts"
export * from "./domain/LazyCodec.ts"
export * from "./backend/Backend.ts"
export * from "./backend/Backends.ts"
export * from "./backend/LocalBackend.ts"
export * from "./process/AgentProcess.ts"
export * from "./process/StopSequence.ts"
export * from "./process/RunTree.ts"
export * from "./procfs/ProcessTable.ts"
export * from "./store/RunStore.ts"
export type { FileRunStoreOptions } from "./store/FileRunStore.ts"
export * from "./store/AtomicWrite.ts"
export * from "./domain/StoredOutcome.ts"
export * from "./paths/AgentrunPaths.ts"
export * from "./runs/RunCatalog.ts"
export * from "./runs/TranscriptFormat.ts"
export * from "./runs/FollowRun.ts"
export * from "./runs/TranscriptEvents.ts"
export * from "./domain/RunIdQuery.ts"
export * from "./domain/RunLiveness.ts"
export * from "./backend/TranscriptIngest.ts"
export * from "./procfs/index.ts"
export * from "./config/AgentrunConfig.ts"
export * from "./config/KubernetesSettings.ts"
export * from "./domain/DurationText.ts"
export * from "./bootstrap/index.ts"
export * from "./watchdog/index.ts"
export * from "./runs/RemoveRun.ts"
// Kubernetes: the pure parts and the API's contract only (none of them loads @kubernetes/client-node:
// its type imports are erased). What talks to a cluster is in "@agentrun/core/kubernetes", loaded on first use.
export * from "./k8s/KubernetesRunOptions.ts"
export * from "./k8s/Labels.ts"
export * from "./k8s/JobManifest.ts"
export * from "./k8s/KubernetesApi.ts"
// The doctor's cluster checks run in "@agentrun/core/kubernetes"; their shapes are here for those who print them.
export type { AccessNeed } from "./k8s/AccessNeeds.ts"
export type { AccessCheck, ClusterDoctorReport } from "./k8s/ClusterDoctor.ts"
export * from "./k8s/KubernetesOnFirstUse.ts"
