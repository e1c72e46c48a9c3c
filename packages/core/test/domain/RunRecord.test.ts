import { assert, describe, it } from "@effect/vitest"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { RunRecord, StoredRunRecord } from "../../src/domain/Run.ts"
import { outcomeTag, storedOutcomeJson } from "../../src/domain/StoredOutcome.ts"

/** A record.json exactly as agentrun wrote it before placements (schema version 1). */
const v1Text = `{"runId":"20261202-101500-042-1fbe1a","status":"failed","createdAt":"2026-12-02T10:15:00.042Z","endedAt":"2026-12-02T10:15:09.310Z","supervisor":{"pid":41210,"startTimeTicks":8812345,"hostname":"devbox"},"agent":{"pid":41233,"startTimeTicks":8812391,"command":["/usr/local/bin/claude","-p","--output-format","stream-json","--verbose","--allowedTools","Bash"],"cwd":"/home/dev/project","timeoutMs":600000},"promptPreview":"fix the failing test","outcome":{"_tag":"ExitedNonZero","family":"process","message":"claude exited with code 2 without a result.","retryable":false,"evidence":{"firstMeaningfulLine":"boom","process":{"exitCode":2,"signal":null,"stderrTail":["boom"],"stdoutLines":0}}},"summary":{"result":null,"agentExitCode":2,"agentSignal":null,"usage":null,"costUsd":null,"sessionId":"c0ffee","durationMs":9268,"numTurns":null}}`

const decode = Schema.decodeUnknownResult(Schema.fromJsonString(StoredRunRecord))
const encode = Schema.encodeSync(Schema.fromJsonString(RunRecord))

const v2 = (outcome: unknown) =>
  JSON.stringify({
    schemaVersion: 2,
    runId: "20261202-101500-042-aaaaaa",
    status: "failed",
    createdAt: "2026-12-02T10:15:00.042Z",
    endedAt: "2026-12-02T10:15:01.000Z",
    placement: { _tag: "Local", hostname: "devbox", supervisorPid: 1, supervisorStartTicks: null, agentPid: null, agentStartTicks: null },
    agent: { command: ["claude"], cwd: "/", timeoutMs: null },
    promptPreview: "hi",
    outcome,
    summary: null
  })

describe("run records", () => {
  it("a version-1 record decodes into the version-2 shape, its pids in a Local placement", () => {
    const decoded = decode(v1Text)
    assert.isTrue(Result.isSuccess(decoded))
    if (!Result.isSuccess(decoded)) return
    const r = decoded.success
    assert.strictEqual(r.schemaVersion, 2)
    assert.deepStrictEqual(r.placement, {
      _tag: "Local",
      hostname: "devbox",
      supervisorPid: 41210,
      supervisorStartTicks: 8812345,
      agentPid: 41233,
      agentStartTicks: 8812391
    })
    assert.deepStrictEqual(r.agent, {
      command: ["/usr/local/bin/claude", "-p", "--output-format", "stream-json", "--verbose", "--allowedTools", "Bash"],
      cwd: "/home/dev/project",
      timeoutMs: 600000
    })
    assert.strictEqual(r.outcome?._tag, "ExitedNonZero")
    assert.strictEqual(r.summary?.sessionId, "c0ffee")
    // Written back, it is version 2.
    const again = JSON.parse(encode(r))
    assert.strictEqual(again.schemaVersion, 2)
    assert.notProperty(again, "supervisor")
  })

  it("an outcome tag this build does not know is kept as UnknownOutcome, and written back with its own _tag", () => {
    const stored = { _tag: "QuotaFrozen", family: "agent", message: "The org's quota is frozen.", retryable: true, evidence: { orgId: "o-1" } }
    const decoded = decode(v2(stored))
    assert.isTrue(Result.isSuccess(decoded))
    if (!Result.isSuccess(decoded)) return
    const o = decoded.success.outcome!
    assert.strictEqual(o._tag, "UnknownOutcome")
    assert.strictEqual(outcomeTag(o), "QuotaFrozen")
    assert.deepStrictEqual(storedOutcomeJson(o), stored)
    assert.deepStrictEqual(JSON.parse(encode(decoded.success)).outcome, stored)
  })

  it("a known outcome tag with a malformed body does not decode (a damaged record), nor does a truncated file", () => {
    const bad = decode(v2({ _tag: "Cancelled", family: "cancelled", message: "m", retryable: false, evidence: { nope: 1 } }))
    assert.isTrue(Result.isFailure(bad))
    if (Result.isFailure(bad)) assert.include(bad.failure.message, "Cancelled")
    assert.isTrue(Result.isFailure(decode(v1Text.slice(0, 120))))
  })

  it("a Kubernetes placement round-trips", () => {
    const placement = {
      _tag: "Kubernetes",
      context: null,
      namespace: "agents",
      jobName: "agentrun-1fbe1a",
      jobUid: "u-1",
      podName: null,
      podUid: null,
      nodeName: null,
      logCursor: { containerId: "containerd://abc", second: "2026-12-02T10:15:00Z", count: 3 },
      supervisor: null,
      agentId: null,
      taskId: null
    }
    const text = v2(null).replace(/"placement":\{[^}]*\}/, `"placement":${JSON.stringify(placement)}`)
    const decoded = decode(text)
    assert.isTrue(Result.isSuccess(decoded))
    if (Result.isSuccess(decoded)) assert.deepStrictEqual(JSON.parse(encode(decoded.success)).placement, placement)
  })
})
