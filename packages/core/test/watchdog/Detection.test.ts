import { assert, describe, it } from "@effect/vitest"
import type { WatchdogSettings } from "../../src/domain/Run.ts"
import { type Activity, decide, initialState, observe, socketsChecked, type WatchSample, type WatchState } from "../../src/watchdog/Detection.ts"

const settings: WatchdogSettings = { stallTimeoutMs: 10_000, startupTimeoutMs: 5_000, busyTimeoutMs: 20_000, probeGraceMs: 1_000, sampleIntervalMs: 1_000 }

/** Samples every second from 0 to `untilMs`, with counters as functions of time (ms). */
const run = (
  untilMs: number,
  counters: { tree?: (t: number) => number | null; agent?: (t: number) => number | null; rchar?: (t: number) => number | null },
  s: WatchdogSettings = settings
): WatchState => {
  let state = initialState(0)
  for (let t = 1_000; t <= untilMs; t += 1_000) {
    const sample: WatchSample = { atMs: t, treeCpuMs: counters.tree?.(t) ?? 0, agentCpuMs: counters.agent?.(t) ?? 0, rchar: counters.rchar?.(t) ?? null }
    state = observe(state, sample, s)
  }
  return state
}

const active = (lastOutputAtMs: number): Activity => ({ lastOutputAtMs, initSeen: true, lastLines: [] })

describe("watchdog detection (pure)", () => {
  it("startup: no init within the startup timeout", () => {
    const d = decide(run(5_000, {}), { lastOutputAtMs: 0, initSeen: false, lastLines: [] }, 5_000, settings)
    assert.strictEqual(d._tag, "Detected")
    if (d._tag === "Detected") assert.deepStrictEqual(d.detection, { reason: "startup", idleMs: 5_000, timeoutMs: 5_000 })
    assert.strictEqual(decide(run(4_000, {}), { lastOutputAtMs: 0, initSeen: false, lastLines: [] }, 4_000, settings)._tag, "Continue")
  })

  it("stall: no output and an idle tree for the stall timeout, confirmed by a socket check", () => {
    const state = run(12_000, { tree: (t) => t * 0.005 }) // 0.5% of a core: an idle claude
    assert.strictEqual(decide(state, active(2_500), 12_000, settings)._tag, "Continue") // 9.5 s since output
    assert.strictEqual(decide(state, active(2_000), 12_000, settings)._tag, "CheckSockets")
    const checked = socketsChecked(state, 12_000, null)
    const d = decide(checked, active(2_000), 12_000, settings)
    assert.strictEqual(d._tag, "Detected")
    if (d._tag === "Detected") {
      assert.deepStrictEqual(d.detection, { reason: "stall", idleMs: 10_000, timeoutMs: 10_000 })
      assert.closeTo(d.measured.treeCpuPercent!, 0.5, 0.01)
    }
  })

  it("socket data received lately is progress: the stall clock restarts from it", () => {
    const state = socketsChecked(run(12_000, {}), 12_000, 11_000)
    assert.strictEqual(decide(state, active(0), 12_000, settings)._tag, "Continue")
    const later = run(21_000, {})
    const d = decide({ ...later, lastReceiveAtMs: 11_000, socketsCheckedAtMs: 12_000 }, active(0), 21_000, settings)
    assert.strictEqual(d._tag, "CheckSockets")
  })

  it("CPU >= 1% of a core in the tree over the window is progress", () => {
    assert.strictEqual(decide(run(12_000, { tree: (t) => t * 0.01 }), active(0), 12_000, settings)._tag, "Continue")
    assert.strictEqual(decide(run(12_000, { tree: (t) => t * 0.009 }), active(0), 12_000, settings)._tag, "CheckSockets")
  })

  it("a CPU burst keeps the run alive only while it is inside the window", () => {
    const burst = (t: number) => Math.min(t, 3_000) * 0.5 // 50% of a core for the first 3 s, then nothing
    assert.strictEqual(decide(run(12_000, { tree: burst }), active(0), 12_000, settings)._tag, "Continue")
    assert.strictEqual(decide(run(14_000, { tree: burst }), active(0), 14_000, settings)._tag, "CheckSockets")
  })

  it("rchar growth >= 1 KiB/s is progress; an idle claude's background reads are not", () => {
    assert.strictEqual(decide(run(12_000, { rchar: (t) => t * 2 }), active(0), 12_000, settings)._tag, "Continue")
    assert.strictEqual(decide(run(12_000, { rchar: (t) => t * 0.25 }), active(0), 12_000, settings)._tag, "CheckSockets")
  })

  it("busy: the agent itself at >= 50% of a core with no output for the busy timeout", () => {
    const state = run(22_000, { agent: (t) => t * 0.9, tree: (t) => t * 0.9 }, settings)
    assert.strictEqual(decide(state, active(2_500), 22_000, settings)._tag, "Continue")
    const d = decide(state, active(2_000), 22_000, settings)
    assert.strictEqual(d._tag, "Detected")
    if (d._tag === "Detected") {
      assert.strictEqual(d.detection.reason, "busy")
      assert.closeTo(d.measured.agentCpuPercent!, 90, 0.01)
    }
  })

  it("busy ignores CPU burnt by tool children, and a zero busy timeout disables it", () => {
    const childBusy = run(22_000, { agent: () => 0, tree: (t) => t * 0.9 })
    assert.strictEqual(decide(childBusy, active(0), 22_000, settings)._tag, "Continue")
    const off = { ...settings, busyTimeoutMs: 0 }
    assert.strictEqual(decide(run(22_000, { agent: (t) => t, tree: (t) => t }, off), active(0), 22_000, off)._tag, "Continue")
  })

  it("busy needs a window fully covered by samples", () => {
    const short = run(12_000, { agent: (t) => t, tree: (t) => t })
    const s = { ...settings, busyTimeoutMs: 11_500 }
    assert.strictEqual(decide(short, active(0), 12_000, s)._tag, "Continue")
  })

  it("observe keeps only what the longest window needs", () => {
    const state = run(100_000, {})
    assert.isAtMost(state.samples.length, 24)
    assert.isAtMost(state.samples[0]!.atMs, 100_000 - 22_000)
  })

  it("no CPU figures (unavailable): output alone decides", () => {
    let state = initialState(0)
    for (let t = 1_000; t <= 12_000; t += 1_000) state = observe(state, { atMs: t, treeCpuMs: null, agentCpuMs: null, rchar: null }, settings)
    assert.strictEqual(decide(socketsChecked(state, 12_000, null), active(1_000), 12_000, settings)._tag, "Detected")
  })
})
