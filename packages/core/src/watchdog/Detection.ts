/**
 * The hang watchdog's decision, as a pure function of what was sampled: {@link decide} looks at the
 * run's output activity and a window of /proc samples and says whether to go on watching, to check
 * the agent's sockets first, or that a hang is detected. No clock, no I/O: tests drive it with
 * plain values.
 *
 * The rules (issue 4, README "Hang watchdog"); all times are milliseconds of the Effect Clock:
 *
 * - **Progress** is new output (stdout or stderr bytes), OR the agent's process tree used
 *   ≥ {@link cpuProgressPercent}% of one core averaged over the last `stallTimeoutMs`, OR the
 *   agent's `/proc/PID/io` rchar grew by ≥ {@link rcharProgressBytesPerSecond} bytes per second
 *   over that window, OR one of the agent's TCP sockets received data (asked for with
 *   `CheckSockets` just before declaring a stall; see SocketActivity.ts).
 *   Averages over the whole window, not per sample: CPU times come in clock ticks (10 ms at
 *   CLK_TCK 100), and a claude waiting on a hung API still wakes up now and then (observed with
 *   2.1.330: ~0.5% of a core, re-reading `/proc/self/statm` every ~0.7 s and its config every
 *   5 s, ≈ 250 B/s of rchar), so a per-sample test would see "progress" in every stray tick.
 * - **Stall**: no progress for `stallTimeoutMs`.
 * - **Startup**: no `system/init` line within `startupTimeoutMs` of the launch.
 * - **Busy** (`busyTimeoutMs > 0`): no output for `busyTimeoutMs` while the agent process itself
 *   (its own threads, not its tool children) used ≥ {@link busyCpuPercent}% of a core averaged
 *   over that window: it is computing, not waiting, and not producing anything.
 *
 * @module
 */
import type { HangDetection } from "../domain/Failures.ts"
import type { WatchdogSettings } from "../domain/Run.ts"

/** CPU use of the agent's process tree, in percent of one core, that counts as progress (issue 4: "CPU >= 1 % of a core"). */
export const cpuProgressPercent = 1

/**
 * The agent process's own CPU use, in percent of one core, that makes a silent run busy: half a
 * core sustained over the busy window is a loop, not an idle wait (an idle claude uses < 1%; one
 * streaming a reply a few %).
 */
export const busyCpuPercent = 50

/**
 * rchar growth, in bytes per second averaged over the stall window, that counts as progress. Above
 * an idle claude's own background reads (≈ 250 B/s observed), below any real stream of data read
 * with read(2). Note: claude 2.1.330 (Bun) reads its sockets with recvfrom(2), which rchar does
 * not count (proc(5): rchar counts read(2)-like calls), so for claude a streamed reply shows up
 * through the socket check instead.
 */
export const rcharProgressBytesPerSecond = 1024

/** What the backend knows about the run's output (kept up to date by the ingest). */
export interface Activity {
  /** Clock ms of the last stdout or stderr bytes; the launch time before any. */
  readonly lastOutputAtMs: number
  /** Whether the `system/init` line was seen. */
  readonly initSeen: boolean
  /** The last output lines (bounded, redacted), for the hang dump. */
  readonly lastLines: ReadonlyArray<string>
}

/** One sample of the agent's counters. CPU in milliseconds of CPU time; null when it could not be read. */
export interface WatchSample {
  /** Clock ms of the sample. */
  readonly atMs: number
  /**
   * Cumulative CPU of the agent's process tree since watching began (the agent and its live
   * descendants; see TreeCpu.ts), ms.
   */
  readonly treeCpuMs: number | null
  /** The agent process's own cumulative CPU (utime + stime of all its threads, proc(5) stat fields 14-15), ms. */
  readonly agentCpuMs: number | null
  /** The agent's `/proc/PID/io` rchar, bytes. */
  readonly rchar: number | null
}

/** The watchdog's memory between samples. */
export interface WatchState {
  /** Clock ms when watching began (the launch). */
  readonly startedAtMs: number
  /** Samples, oldest first, pruned to what the longest window needs. */
  readonly samples: ReadonlyArray<WatchSample>
  /** Clock ms of the last data the agent's sockets received, from the last socket check; null when none or unknown. */
  readonly lastReceiveAtMs: number | null
  /** Clock ms of the last socket check, null before any. */
  readonly socketsCheckedAtMs: number | null
}

/** What the window measurements showed when a hang was detected (percent of one core, bytes per second). */
export interface Measured {
  readonly treeCpuPercent: number | null
  readonly agentCpuPercent: number | null
  readonly rcharBytesPerSecond: number | null
}

/** The outcome of one {@link decide}. */
export type Decision =
  | { readonly _tag: "Continue" }
  /** Everything else says stall: check whether the agent's sockets received data lately, then decide again. */
  | { readonly _tag: "CheckSockets" }
  | { readonly _tag: "Detected"; readonly detection: HangDetection; readonly measured: Measured }

/** A fresh state for a run launched at `startedAtMs`. */
export const initialState = (startedAtMs: number): WatchState => ({
  startedAtMs,
  samples: [],
  lastReceiveAtMs: null,
  socketsCheckedAtMs: null
})

/** How far back samples are kept: the longest window plus a margin of two sample intervals. */
export const horizonMs = (settings: WatchdogSettings): number =>
  Math.max(settings.stallTimeoutMs, settings.busyTimeoutMs) + 2 * settings.sampleIntervalMs

/** Adds a sample and drops those no window can need (keeping one baseline at or before the horizon). */
export const observe = (state: WatchState, sample: WatchSample, settings: WatchdogSettings): WatchState => {
  const samples = [...state.samples, sample]
  const cutoff = sample.atMs - horizonMs(settings)
  let first = 0
  while (first + 1 < samples.length && samples[first + 1]!.atMs <= cutoff) first++
  return { ...state, samples: first === 0 ? samples : samples.slice(first) }
}

/** Records a socket check done at `atMs`: the last data received then (null: none, or unknown). */
export const socketsChecked = (state: WatchState, atMs: number, lastReceiveAtMs: number | null): WatchState => ({
  ...state,
  socketsCheckedAtMs: atMs,
  lastReceiveAtMs: lastReceiveAtMs === null
    ? state.lastReceiveAtMs
    : Math.max(lastReceiveAtMs, state.lastReceiveAtMs ?? Number.NEGATIVE_INFINITY)
})

/**
 * The growth of a counter over the window that starts `windowMs` before the last sample: from the
 * newest sample at or before the window's start (or the oldest one) to the last. `spanMs` is the
 * time actually covered. Null when fewer than two samples carry the counter.
 */
export const growth = (
  samples: ReadonlyArray<WatchSample>,
  windowMs: number,
  counter: (s: WatchSample) => number | null
): { readonly delta: number; readonly spanMs: number } | null => {
  const withValue = samples.filter((s) => counter(s) !== null)
  const last = withValue[withValue.length - 1]
  if (last === undefined || withValue.length < 2) return null
  const from = last.atMs - windowMs
  const baseline = withValue.findLast((s) => s.atMs <= from) ?? withValue[0]!
  const spanMs = last.atMs - baseline.atMs
  if (spanMs <= 0) return null
  return { delta: Math.max(0, counter(last)! - counter(baseline)!), spanMs }
}

/** CPU ms used over a span of wall ms, in percent of one core. */
const percentOf = (g: { delta: number; spanMs: number } | null): number | null =>
  g === null ? null : (g.delta / g.spanMs) * 100

/** A window measurement covers the whole window (its baseline is at or before the window's start). */
const covers = (g: { spanMs: number } | null, windowMs: number): boolean => g !== null && g.spanMs >= windowMs

/**
 * The decision after the latest sample. Order: startup, busy, stall. Pure: `nowMs` is the Clock
 * time of the decision (normally the last sample's).
 */
export const decide = (state: WatchState, activity: Activity, nowMs: number, settings: WatchdogSettings): Decision => {
  const samples = state.samples
  const measure = (windowMs: number): Measured => ({
    treeCpuPercent: percentOf(growth(samples, windowMs, (s) => s.treeCpuMs)),
    agentCpuPercent: percentOf(growth(samples, windowMs, (s) => s.agentCpuMs)),
    rcharBytesPerSecond: ((g) => (g === null ? null : (g.delta / g.spanMs) * 1000))(growth(samples, windowMs, (s) => s.rchar))
  })

  if (!activity.initSeen && nowMs - state.startedAtMs >= settings.startupTimeoutMs) {
    return {
      _tag: "Detected",
      detection: { reason: "startup", idleMs: nowMs - state.startedAtMs, timeoutMs: settings.startupTimeoutMs },
      measured: measure(settings.startupTimeoutMs)
    }
  }

  const silentMs = nowMs - Math.max(activity.lastOutputAtMs, state.startedAtMs)

  if (settings.busyTimeoutMs > 0 && silentMs >= settings.busyTimeoutMs) {
    const agent = growth(samples, settings.busyTimeoutMs, (s) => s.agentCpuMs)
    const percent = percentOf(agent)
    if (covers(agent, settings.busyTimeoutMs) && percent !== null && percent >= busyCpuPercent) {
      return {
        _tag: "Detected",
        detection: { reason: "busy", idleMs: silentMs, timeoutMs: settings.busyTimeoutMs },
        measured: measure(settings.busyTimeoutMs)
      }
    }
  }

  const idleMs = nowMs - Math.max(activity.lastOutputAtMs, state.startedAtMs, state.lastReceiveAtMs ?? Number.NEGATIVE_INFINITY)
  if (idleMs < settings.stallTimeoutMs) return { _tag: "Continue" }
  const measured = measure(settings.stallTimeoutMs)
  if (measured.treeCpuPercent !== null && measured.treeCpuPercent >= cpuProgressPercent) return { _tag: "Continue" }
  if (measured.rcharBytesPerSecond !== null && measured.rcharBytesPerSecond >= rcharProgressBytesPerSecond) return { _tag: "Continue" }
  if (state.socketsCheckedAtMs === null || state.socketsCheckedAtMs < nowMs) return { _tag: "CheckSockets" }
  return { _tag: "Detected", detection: { reason: "stall", idleMs, timeoutMs: settings.stallTimeoutMs }, measured }
}
