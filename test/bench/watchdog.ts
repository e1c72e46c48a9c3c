/**
 * The hang watchdog's benchmark (issue 4, "Benchmark"), with the real `claude` binary against the
 * fake Messages API through the real local backend:
 *
 * 1. Detection latency: the fake API takes the request and never answers; from the moment the
 *    hanging request arrives (the stall begins: claude writes nothing more) to the verdict
 *    written (`handle.result`, which resolves after record.json), minus the configured stall
 *    timeout. Also split: stall begins → hang detected (the `Stopping: hang` progress event)
 *    minus the stall timeout, and detected → verdict (the dump, the SIGINT probe, claude's exit).
 *    And the watchdog's own delay: detected − the first instant the detection rules allow a
 *    stall (`quietAt`: the stall timeout has passed since the hanging request AND claude's process
 *    tree used < 1 % of a core over the last stall window, read here from /proc every 100 ms).
 *    claude 2.1.330 keeps working for about 10 s after it sent a request (measured: ~2.6 % of a
 *    core, in bursts of 40–70 ms, then ~0.5 % while idle), so with this bench's 3 s window the
 *    stall rule is only met once those bursts are out of the window: "stall begins → detected"
 *    swings between ~1 and ~5.5 s with the phase of the bursts, while the watchdog's own delay
 *    (sampling + the socket check) stays below one sample interval. Median and max of N runs.
 * 2. CPU cost while a run is healthy: the watchdog's own CPU as a ratio of the run's CPU.
 *    (a) direct: the CPU time of one watchdog sample (tree CPU + rchar from /proc) measured
 *    over many samples of a live claude, times the sample rate, over claude's own CPU rate in
 *    that run; (b) A/B: agentrun's process CPU for the same healthy run (a reply streamed over
 *    `--healthy-ms`) with and without the watchdog, interleaved, median difference over the
 *    run's CPU (claude's, read from cutime/cstime of this process after it reaped claude).
 *
 *   node --disable-warning=ExperimentalWarning test/bench/watchdog.ts [--runs N] [--stall-ms MS] [--sample-ms MS] [--healthy-ms MS]
 *
 * From run.ts: `import { benchWatchdog } from "./watchdog.ts"` then
 * `const r = await benchWatchdog({ runs: 3 })` (returns the figures; prints nothing).
 * Not a test: prints JSON, exits 0.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Layer, Option, Stream } from "effect"
import { LocalBackend } from "../../packages/core/src/backend/LocalBackend.ts"
import { Bootstrap } from "../../packages/core/src/bootstrap/Bootstrap.ts"
import type { RunSpec, WatchdogSettings } from "../../packages/core/src/domain/Run.ts"
import { AgentrunPaths } from "../../packages/core/src/paths/AgentrunPaths.ts"
import { AgentProcess } from "../../packages/core/src/process/AgentProcess.ts"
import { StopSequence } from "../../packages/core/src/process/StopSequence.ts"
import { ProcessControl } from "../../packages/core/src/procfs/ProcessControl.ts"
import { ProcessTable } from "../../packages/core/src/procfs/ProcessTable.ts"
import { RunStore } from "../../packages/core/src/store/RunStore.ts"
import { makeSampler } from "../../packages/core/src/watchdog/Sampler.ts"
import { offlineClaudeEnv, type Scenario, start } from "../support/fake-anthropic/FakeMessagesApi.ts"
import { claudeBinary as claudeExe } from "../support/fake-anthropic/runClaude.ts"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"


/** Options of {@link benchWatchdog}; times in milliseconds. */
export interface WatchdogBenchOptions {
  /** Hang runs and A/B pairs (default 3). */
  readonly runs?: number
  /** Stall timeout of the latency runs (default 3000). */
  readonly stallMs?: number
  /** Sample interval (default 1000, the product default). */
  readonly sampleMs?: number
  /** Length of the healthy streamed reply (default 8000). */
  readonly healthyMs?: number
}

/** The figures. Milliseconds, CPU ratios as fractions. */
export interface WatchdogBenchResult {
  readonly settings: WatchdogSettings
  readonly latency: {
    readonly verdictMinusTimeoutMs: { readonly median: number; readonly max: number; readonly runs: ReadonlyArray<number> }
    readonly detectMinusTimeoutMs: { readonly median: number; readonly max: number; readonly runs: ReadonlyArray<number> }
    /** Detected − quietAt (see the module documentation): the watchdog's own delay. */
    readonly detectMinusQuietMs: { readonly median: number; readonly max: number; readonly runs: ReadonlyArray<number> }
    /** Runs in which this bench's 100 ms samples never saw the window under 1 % before the verdict (the watchdog's 1 s samples did). */
    readonly quietUnseen: number
    readonly outcomes: ReadonlyArray<string>
  }
  readonly cpu: {
    /** CPU ms of one sample (tree CPU, agent CPU, rchar) of a live claude. */
    readonly perSampleMs: number
    /** claude's CPU during the healthy run, percent of one core. */
    readonly runCpuPercent: number
    /** perSample × samples per second, over the run's CPU rate. */
    readonly directRatio: number
    /** (agentrun CPU with − without watchdog) / the run's CPU, median of the pairs. */
    readonly abRatio: number
    readonly abPairs: ReadonlyArray<{ readonly withMs: number; readonly withoutMs: number; readonly runMs: number }>
  }
}

/** The median (NaN for no values). */
export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/** CPU of this process's reaped children (claude), ms: /proc/self/stat cutime + cstime (fields 16, 17). */
const childrenCpuMs = (): number => {
  const stat = readFileSync("/proc/self/stat", "utf8")
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(rest[13]) + Number(rest[14])) * 10 // CLK_TCK 100
}

/** CPU ms of `pid` and its direct children (utime + stime + cutime + cstime, proc(5) stat fields 14–17); 0 once gone. */
const treeCpuMsOf = (pid: number): number => {
  const of = (p: number): { ppid: number; cpuMs: number } | null => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8")
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      return { ppid: Number(rest[1]), cpuMs: (Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14])) * 10 }
    } catch {
      return null
    }
  }
  let total = of(pid)?.cpuMs ?? 0
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry) || Number(entry) === pid) continue
    const s = of(Number(entry))
    if (s !== null && s.ppid === pid) total += s.cpuMs
  }
  return total
}

/**
 * The first sample time ≥ `from` at which the tree's CPU over the preceding `windowMs` was below
 * 1 % of a core (Detection.ts's cpuProgressPercent), or null. `samples` are [wall ms, CPU ms], oldest first.
 */
const quietAfter = (samples: ReadonlyArray<readonly [number, number]>, from: number, windowMs: number): number | null => {
  for (const [at, cpu] of samples) {
    if (at < from) continue
    const base = samples.findLast(([t]) => t <= at - windowMs)
    if (base === undefined) continue
    if (((cpu - base[1]) / windowMs) * 100 < 1) return at
  }
  return null
}

const ownCpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

const root = mkdtempSync(join(tmpdir(), "agentrun-bench-watchdog-"))
const layer = LocalBackend.layer({ drainGrace: "500 millis", grace: { interruptGrace: "2 seconds", terminateGrace: "2 seconds" } }).pipe(
  Layer.provideMerge(Layer.mergeAll(StopSequence.layer, AgentProcess.layer, RunStore.layer, Bootstrap.layerAt(root))),
  Layer.provideMerge(Layer.mergeAll(ProcessTable.layer, AgentrunPaths.layerTest(root)))
)

/** One run of the real claude against a scenario: wall times of the hanging request, the detection and the verdict. */
const oneRun = (scenario: Scenario, watchdog: WatchdogSettings | null) =>
  Effect.gen(function*() {
    const api = yield* Effect.promise(() => start({ scenario }))
    const apiStartedAt = Date.now() - (api.requests[0]?.atMs ?? 0)
    const home = mkdtempSync(join(root, "home-"))
    const spec: RunSpec = {
      prompt: "hi",
      cwd: mkdtempSync(join(root, "cwd-")),
      claudePath: claudeExe,
      claudeArgs: [],
      model: null,
      maxTurns: null,
      timeoutMs: 120_000,
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...offlineClaudeEnv(api.url, home) },
      watchdog
    }
    const backend = yield* LocalBackend
    const cpuBefore = ownCpuMs()
    const childBefore = childrenCpuMs()
    const startedAt = Date.now()
    const handle = yield* backend.launch(spec)
    let detectedAt: number | null = null
    const cpuSamples: Array<readonly [number, number]> = []
    let sampling: ReturnType<typeof setInterval> | undefined
    yield* Effect.forkChild(Stream.runForEach(handle.progress, (p) =>
      Effect.sync(() => {
        if (p._tag === "Started" && p.pid !== null && sampling === undefined) {
          const pid = p.pid
          sampling = setInterval(() => cpuSamples.push([Date.now(), treeCpuMsOf(pid)]), 100)
        }
        if (p._tag === "Stopping" && p.reason === "hang") detectedAt = Date.now()
      })
    ))
    const result = yield* handle.result
    clearInterval(sampling)
    const verdictAt = Date.now()
    const cpuMs = ownCpuMs() - cpuBefore
    yield* Effect.sleep(200) // let the exit be reaped into cutime
    const runCpuMs = childrenCpuMs() - childBefore
    const requests = api.messageRequests()
    const hangingAt = requests.length === 0 ? null : apiStartedAt + requests[requests.length - 1]!.atMs
    yield* Effect.promise(() => api.close())
    const quietAt = hangingAt === null || watchdog === null ? null : quietAfter(cpuSamples, hangingAt + watchdog.stallTimeoutMs, watchdog.stallTimeoutMs)
    return { outcome: result.outcome._tag, startedAt, hangingAt, detectedAt: detectedAt as number | null, quietAt, verdictAt, cpuMs, runCpuMs, wallMs: verdictAt - startedAt }
  }).pipe(Effect.scoped)

/** Runs the benchmark; see the module documentation. */
export const benchWatchdog = (options: WatchdogBenchOptions = {}): Promise<WatchdogBenchResult> =>
  Effect.runPromise(
    Effect.gen(function*() {
      const runs = options.runs ?? 3
      const settings: WatchdogSettings = {
        stallTimeoutMs: options.stallMs ?? 3_000,
        startupTimeoutMs: 60_000,
        busyTimeoutMs: 0,
        probeGraceMs: 5_000,
        sampleIntervalMs: options.sampleMs ?? 1_000
      }
      const healthyMs = options.healthyMs ?? 8_000

      // 1. latency
      const verdictLat: Array<number> = []
      const detectLat: Array<number> = []
      const quietLat: Array<number> = []
      let quietUnseen = 0
      const outcomes: Array<string> = []
      for (let i = 0; i < runs; i++) {
        const r = yield* oneRun(scenarios.hang, settings)
        outcomes.push(r.outcome)
        if (r.hangingAt === null) continue
        verdictLat.push(r.verdictAt - r.hangingAt - settings.stallTimeoutMs)
        if (r.detectedAt !== null) detectLat.push(r.detectedAt - r.hangingAt - settings.stallTimeoutMs)
        if (r.detectedAt !== null && r.quietAt !== null) quietLat.push(r.detectedAt - r.quietAt)
        else if (r.detectedAt !== null) quietUnseen++
      }

      // 2a. per-sample cost against a live, healthy claude
      const healthy: Scenario = { name: "healthy", replies: [{ kind: "slowText", durationMs: healthyMs, chunks: 200 }] }
      const table = yield* ProcessTable
      const control = yield* ProcessControl
      const direct = yield* Effect.gen(function*() {
        const api = yield* Effect.promise(() => start({ scenario: healthy }))
        const home = mkdtempSync(join(root, "home-"))
        const { spawn } = yield* Effect.promise(() => import("node:child_process"))
        const child = spawn(claudeExe, ["-p", "--output-format", "stream-json", "--verbose"], {
          cwd: mkdtempSync(join(root, "cwd-")),
          env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...offlineClaudeEnv(api.url, home) },
          stdio: ["pipe", "ignore", "ignore"]
        })
        child.stdin.end("hi")
        yield* Effect.sleep(1_500)
        const sampler = makeSampler(table, control, child.pid!)
        const before = ownCpuMs()
        const n = 200
        for (let i = 0; i < n; i++) yield* sampler.sample
        const perSampleMs = (ownCpuMs() - before) / n
        const t0 = Date.now()
        const cpuTicks = Effect.map(table.info(child.pid!), Option.match({ onNone: () => 0, onSome: (p) => p.utimeTicks + p.stimeTicks }))
        const c0 = yield* cpuTicks
        yield* Effect.sleep(3_000)
        const c1 = yield* cpuTicks
        const runCpuPercent = ((c1 - c0) * 10 * 100) / (Date.now() - t0)
        child.kill("SIGKILL")
        yield* Effect.promise(() => api.close())
        return { perSampleMs, runCpuPercent }
      })
      const samplesPerSecond = 1000 / settings.sampleIntervalMs
      const directRatio = (direct.perSampleMs * samplesPerSecond / 1000 * 100) / direct.runCpuPercent

      // 2b. A/B, interleaved
      const pairs: Array<{ withMs: number; withoutMs: number; runMs: number }> = []
      for (let i = 0; i < runs; i++) {
        const w = yield* oneRun(healthy, { ...settings, stallTimeoutMs: 60_000 })
        const wo = yield* oneRun(healthy, null)
        pairs.push({ withMs: w.cpuMs, withoutMs: wo.cpuMs, runMs: (w.runCpuMs + wo.runCpuMs) / 2 })
      }
      const abRatio = median(pairs.map((p) => (p.withMs - p.withoutMs) / p.runMs))

      const result: WatchdogBenchResult = {
        settings,
        latency: {
          verdictMinusTimeoutMs: { median: median(verdictLat), max: Math.max(...verdictLat), runs: verdictLat },
          detectMinusTimeoutMs: { median: median(detectLat), max: Math.max(...detectLat), runs: detectLat },
          detectMinusQuietMs: { median: median(quietLat), max: Math.max(...quietLat), runs: quietLat },
          quietUnseen,
          outcomes
        },
        cpu: { perSampleMs: direct.perSampleMs, runCpuPercent: direct.runCpuPercent, directRatio, abRatio, abPairs: pairs }
      }
      return result
    }).pipe(Effect.provide(layer))
  )

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const num = (flag: string): number | undefined => {
    const i = args.indexOf(flag)
    return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : undefined
  }
  const opts: { -readonly [K in keyof WatchdogBenchOptions]: WatchdogBenchOptions[K] } = {}
  const runs = num("--runs")
  const stallMs = num("--stall-ms")
  const sampleMs = num("--sample-ms")
  const healthyMs = num("--healthy-ms")
  if (runs !== undefined) opts.runs = runs
  if (stallMs !== undefined) opts.stallMs = stallMs
  if (sampleMs !== undefined) opts.sampleMs = sampleMs
  if (healthyMs !== undefined) opts.healthyMs = healthyMs
  const result = await benchWatchdog(opts)
  process.stdout.write(JSON.stringify(result, null, 2) + "\n")
}
