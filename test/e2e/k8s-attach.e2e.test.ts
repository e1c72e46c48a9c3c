/**
 * Issue 13: "supervisor SIGKILLed mid-run, then `attach`: the same verdict and transcript as an
 * uninterrupted run". The same deterministic scenario (three Bash steps, then text: the real
 * claude in a pod of the fake cluster, the fake Messages API) runs once uninterrupted and then
 * with the supervising `agentrun run --backend k8s` SIGKILLed mid-stream and `agentrun attach
 * RUN_ID` taking over. Outcome class, cost and events.jsonl must agree line for line, modulo the
 * fields that differ between any two runs (support/k8sAttach.ts `runSpecificKeys`: claude's
 * session id and uuids, the fake API's message and tool-use ids, durations).
 *
 * The record's log cursor is written every few seconds, so at a SIGKILL events.jsonl usually holds
 * lines past it (or the cursor is still null): the attach must neither repeat them nor judge the
 * run before it has seen the Job and its Pod.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { FakeKubernetes } from "../support/fake-k8s/FakeKubernetes.ts"
import { makeSandbox, type Sandbox } from "./support/harness.ts"
import { attachCluster, killedThenAttached, sameRun, type TrialPlace, uninterrupted } from "./support/k8sAttach.ts"

let sandbox: Sandbox
let k8s: FakeKubernetes

beforeAll(async () => {
  sandbox = makeSandbox("agentrun-k8s-attach-")
  k8s = await attachCluster()
})
afterAll(async () => {
  await k8s?.close()
  sandbox?.cleanup()
})

const place = (): TrialPlace => ({
  home: sandbox.home,
  stateHome: sandbox.stateHome,
  dataHome: sandbox.dataHome,
  configHome: sandbox.dir("config"),
  work: sandbox.work
})

describe("SIGKILLed supervisor, then attach (k8s)", () => {
  it("ends with the verdict, cost and transcript of an uninterrupted run, killed before any line and mid-stream", async () => {
    const reference = await uninterrupted(k8s, place())
    expect(reference.notes).toEqual([])
    expect(reference.outcome).toBe("Succeeded")
    expect(reference.costUsd).toBeGreaterThan(0)
    // init, three steps (text, tool_use, tool_result each), the answer, the result.
    expect(reference.events.length).toBeGreaterThanOrEqual(12)
    expect(reference.events.filter((l) => l.includes("step-")).length).toBeGreaterThanOrEqual(3)

    for (const killAfterLines of [0, 4]) {
      const trial = await killedThenAttached(k8s, place(), killAfterLines)
      const verdict = sameRun(reference, trial)
      expect({ killAfterLines, notes: trial.notes, differences: verdict.differences, linesAtKill: trial.linesAtKill, cursorAtKill: trial.cursorAtKill })
        .toEqual({ killAfterLines, notes: [], differences: [], linesAtKill: trial.linesAtKill, cursorAtKill: trial.cursorAtKill })
      expect(trial.runId).not.toBe(reference.runId)
      // The final cursor counts every stored line.
      expect(trial.logCursor).toMatchObject({ eventLines: trial.events.length })
    }
  }, 240_000)
})
