/**
 * The process table boundary: {@link ProcessTable} (real `/proc` layer and in-memory test layer),
 * its domain types and parsers.
 *
 * @module
 */
export * from "./CgroupMemory.ts"
export * from "./InMemoryProcessTable.ts"
export * from "./NetSockets.ts"
export * from "./ProcessFamily.ts"
export * from "./ProcessInfo.ts"
export * from "./ProcessInspection.ts"
export * from "./ProcessTable.ts"
export * from "./ProcfsErrors.ts"
export * from "./ProcStatus.ts"
export * from "./SignalMask.ts"
