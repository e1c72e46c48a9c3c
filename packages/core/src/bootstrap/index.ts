/**
 * Bootstrap: install or repair the agent runtimes (issue 5). Public API.
 *
 * @module
 */
export * from "./codes.ts"
export * from "./errors.ts"
export * from "./classify.ts"
export * from "./installerOutput.ts"
export * from "./versions.ts"
export * from "./interpreters.ts"
export * from "./InstallerProcess.ts"
export * from "./BootstrapStore.ts"
export * from "./BootstrapSettings.ts"
export * from "./Bootstrap.ts"
