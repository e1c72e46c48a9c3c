/**
 * A Kubernetes run taken over from its record (`agentrun attach`, `wait` and `logs -f` of a k8s
 * run through the backend) replays its stored transcript through the ingest a read window at a
 * time, never reading events.jsonl or stderr.log whole: a run store whose whole-file reads are
 * defects, with windows of a few hundred bytes, gives the progress the whole transcript gives.
 * No cluster: a final record is replayed and ends (the API is never asked).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import type { RunProgress } from "../../src/backend/Backend.ts"
import { TranscriptIngest } from "../../src/backend/TranscriptIngest.ts"
import { fromNodeExit } from "../../src/domain/ExitStatus.ts"
import { emptyObservation } from "../../src/domain/Observation.ts"
import { makeRedactor } from "../../src/domain/Redaction.ts"
import { verdict } from "../../src/domain/Verdict.ts"
import { emptySummary, type RunId, type RunRecord } from "../../src/domain/Run.ts"
import { KubernetesApi, type KubernetesApiShape } from "../../src/k8s/KubernetesApi.ts"
import { KubernetesBackend } from "../../src/k8s/KubernetesBackend.ts"
import { ProcessControl } from "../../src/procfs/ProcessControl.ts"
import { RunStore } from "../../src/store/RunStore.ts"
import { MemoryRunStore } from "../../src/testing.ts"
import { noWholeReads } from "../support/NoWholeReads.ts"
import { kubernetes } from "../support/TestKubernetesBackend.ts"
import { loadTranscript } from "../support/Transcripts.ts"

const id = "20261204-031500-000-adadad" as RunId
const transcript = loadTranscript("tool-use").stdoutLines
const window = 300

/** An API every call of which is a defect: a final run's replay asks the cluster nothing. */
const noApi = Layer.succeed(
  KubernetesApi,
  KubernetesApi.of(new Proxy({} as KubernetesApiShape, {
    get: (_, key) => key === "namespace" ? "agents" : () => Effect.die(new Error(`KubernetesApi.${String(key)} was called`))
  }))
)

const memory = MemoryRunStore.layerWith({ readWindowBytes: window })
const backend = KubernetesBackend.layer().pipe(Layer.provide(Layer.mergeAll(noWholeReads, noApi, ProcessControl.layer)))

describe("KubernetesBackend: a run taken over from its record", () => {
  it.live("replays a transcript of many read windows through the ingest without readEvents or readStderr: the progress of the whole transcript, the record's verdict", () =>
    Effect.gen(function*() {
      const store = yield* RunStore
      const running = kubernetes(id)
      const final: RunRecord = {
        ...running,
        status: "failed",
        endedAt: "2026-12-02T10:00:09.000Z",
        outcome: verdict({ observation: emptyObservation, stderrTail: [], exit: fromNodeExit(2, null), spawnFailure: null, action: { _tag: "None" }, oomKills: null, maxTurns: null }),
        summary: emptySummary
      }
      yield* store.writeRecord(final)
      yield* Effect.scoped(Effect.gen(function*() {
        const events = yield* store.openEvents(id)
        yield* events.append(transcript)
        const stderr = yield* store.openStderr(id)
        yield* stderr.append(Array.from({ length: 100 }, (_, i) => `warn ${i}`))
      }))
      const bytes = transcript.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0)
      assert.isAbove(bytes, 5 * window, "the transcript spans several read windows")

      const handle = yield* (yield* KubernetesBackend).reattach(final)
      const progress = yield* Stream.runCollect(handle.progress)
      const { outcome, record } = yield* handle.result

      const whole = new TranscriptIngest(makeRedactor(process.env)).push(transcript).progress
      const expected: Array<RunProgress> = [{ _tag: "Started", runId: id, pid: null }, ...whole, { _tag: "Ended", outcome: final.outcome! }]
      assert.isAbove(whole.length, 1)
      assert.isBelow(expected.length, 64, "within the progress PubSub's replay")
      assert.deepStrictEqual(progress, expected)
      assert.deepStrictEqual(outcome, final.outcome)
      assert.deepStrictEqual(record, final)
      // A final run is replayed, not supervised: its record is as it was.
      assert.deepStrictEqual(yield* store.readRecord(id), final)
    }).pipe(Effect.provide(backend.pipe(Layer.provideMerge(memory)))))
})
