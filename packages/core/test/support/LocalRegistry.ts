/**
 * The backend registry with the local backend alone, for tests of the run catalog: the
 * record-level operations (liveness, cancel, reattach) are real; the agent boundary and the
 * bootstrap are test doubles (launch spawns nothing real). Needs the run store, the stop
 * sequence and ProcessTableTest.layer's table and controls.
 */
import * as Layer from "effect/Layer"
import { Backends } from "../../src/backend/Backends.ts"
import { LocalBackend } from "../../src/backend/LocalBackend.ts"
import type { BootstrapReport } from "../../src/bootstrap/Bootstrap.ts"
import { AgentProcessTest, BootstrapTest } from "../../src/testing.ts"

const agentLayerTest = AgentProcessTest.layerTest

/** A bootstrap that found no usable claude (another build holds the lock). */
export const noClaude: BootstrapReport = {
  runtime: "claude-cli",
  outcome: "SkipSentinel",
  outcomeCode: 5,
  present: false,
  phase: null,
  phaseCode: null,
  error: null,
  message: "Another agentrun process (pid 77) is installing claude-cli; retry when it is done.",
  executable: null,
  pythonPath: null,
  version: null,
  interpreterVersion: null,
  retryAfterMs: null,
  retryAt: null,
  holder: null,
  durationMs: 3,
  telemetry: undefined as never
}

/** Backends + LocalBackend over an agent double that exits at once and a bootstrap that finds no claude. */
export const localRegistry = Backends.layer.pipe(
  Layer.provideMerge(LocalBackend.layer({ drainGrace: "100 millis" })),
  Layer.provide(Layer.mergeAll(agentLayerTest(() => ({ exitAfterMs: 0 })), BootstrapTest.layer(() => noClaude)))
)
