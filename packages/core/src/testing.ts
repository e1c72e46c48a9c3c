/**
 * @agentrun/core/testing: test doubles of the core's boundaries, kept out of `@agentrun/core`
 * (and so out of the CLI bundle: test/bundle checks it).
 *
 * - {@link MemoryRunStore}: the run store in memory.
 * - {@link ProcessTableTest}: an in-memory process table and process control (seeded processes
 *   that react to signals as scripted), with its controls.
 * - `AgentProcessTest.layerTest(scriptFor)`: fake agents living in that table.
 *
 * @module
 */
export * from "./store/MemoryRunStore.ts"
export * from "./procfs/InMemoryProcessTable.ts"
export * as AgentProcessTest from "./process/AgentProcessTest.ts"
export type { FakeAgentScript } from "./process/AgentProcessTest.ts"
export * as BootstrapTest from "./bootstrap/BootstrapTest.ts"
