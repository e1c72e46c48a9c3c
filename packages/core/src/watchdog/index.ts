/**
 * The hang watchdog: {@link Watchdog} (watch, triage), its pure detection rules, the hang dump,
 * and the output activity the backend feeds it.
 *
 * @module
 */
export * from "./ActivityTracker.ts"
export * from "./Detection.ts"
export * from "./HangDump.ts"
export * from "./Sampler.ts"
export * from "./SocketActivity.ts"
export * from "./TreeCpu.ts"
export * from "./Watchdog.ts"
