/**
 * The process boundaries: {@link ProcessTable} (reading `/proc`) and {@link ProcessControl}
 * (signals, liveness, `ps`/`ss`), their domain types and parsers. Their in-memory test layer is in
 * `@agentrun/core/testing`.
 *
 * @module
 */
export * from "./CgroupMemory.ts"
export * from "./NetSockets.ts"
export * from "./ProcessControl.ts"
export * from "./ProcessFamily.ts"
export * from "./ProcessInfo.ts"
export * from "./ProcessInspection.ts"
export * from "./ProcessTable.ts"
export * from "./ProcfsErrors.ts"
export * from "./ProcStatus.ts"
export * from "./SignalMask.ts"
