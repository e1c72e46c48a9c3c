/**
 * Issue 13's "supervisor SIGKILLed mid-run, then `attach`: the same verdict and transcript as an
 * uninterrupted run", as trials shared by the e2e test (test/e2e/k8s-attach.e2e.test.ts) and the
 * `k8s-attach` bench: one fake cluster (its node runs the real claude "in a pod"), a fresh fake
 * Messages API per trial playing {@link stepsScenario}, the built CLI.
 *
 * - {@link uninterrupted}: `agentrun run --backend k8s --json` to its end.
 * - {@link killedThenAttached}: the same, SIGKILLed once its events.jsonl holds `killAfterLines`
 *   lines (0: once claude's first request reached the Messages API), then `agentrun attach --json
 *   RUN_ID` to the end.
 * - {@link sameRun}: whether two trials agree: outcome class, cost, and events.jsonl line for line
 *   after {@link normalizedTranscript}.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { type FakeMessagesApi, offlineClaudeEnv, type Scenario, start as startAnthropic } from "../../support/fake-anthropic/FakeMessagesApi.ts"
import { claudeBinary } from "../../support/fake-anthropic/runClaude.ts"
import { type FakeKubernetes, hostImage, start as startKubernetes } from "../../support/fake-k8s/FakeKubernetes.ts"
import { baseEnv, killIfRunning, parseJsonOutput, runCli, startCli, waitFor } from "./harness.ts"

/** The image the fake node runs: the real claude binary as the entry's `claude`, offline. */
export const attachImage = "agentrun/agent:attach"

/**
 * Deterministic and spread over time: three Bash steps (each `echo step-N && sleep 1`), then a
 * text answer; claude's side requests are answered apart, so they never take a reply of the list.
 * About 13 stream-json lines over 4 s.
 */
export const stepsScenario: Scenario = {
  name: "steps",
  replies: [
    ...[1, 2, 3].map((n) => ({ kind: "toolUse" as const, text: `Step ${n}.`, command: `echo step-${n} && sleep 1`, description: `Step ${n}` })),
    { kind: "text", text: "All three steps are done." }
  ],
  sideRequests: "answerText"
}

/** A fake cluster whose node can run claude (no Messages API: each trial brings its own). */
export const attachCluster = (): Promise<FakeKubernetes> => {
  const offline = offlineClaudeEnv("http://127.0.0.1:1", "/unused")
  return startKubernetes({
    namespace: "agents",
    images: {
      [attachImage]: hostImage({
        AGENTRUN_CLAUDE: claudeBinary,
        ANTHROPIC_API_KEY: offline["ANTHROPIC_API_KEY"]!,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_AUTOUPDATER: "1",
        DISABLE_TELEMETRY: "1",
        DISABLE_ERROR_REPORTING: "1"
      })
    }
  })
}

/** Where a trial's agentrun keeps its state, and runs. */
export interface TrialPlace {
  readonly home: string
  readonly stateHome: string
  readonly dataHome: string
  readonly configHome: string
  readonly work: string
}

/** What one trial ended with. */
export interface Trial {
  readonly runId: string
  /** The verdict's class (`outcome._tag`) as the last agentrun process printed it. */
  readonly outcome: string
  readonly costUsd: number | null
  /** events.jsonl, line by line. */
  readonly events: ReadonlyArray<string>
  /** The stored record's log cursor at the end. */
  readonly logCursor: unknown
  /** For a killed trial: lines events.jsonl held when the supervisor was killed. */
  readonly linesAtKill: number | null
  /** For a killed trial: the record's log cursor at the kill. */
  readonly cursorAtKill: unknown
  readonly notes: ReadonlyArray<string>
}

const env = (k8s: FakeKubernetes, p: TrialPlace): Record<string, string> => ({
  ...baseEnv(),
  HOME: p.home,
  XDG_STATE_HOME: p.stateHome,
  XDG_DATA_HOME: p.dataHome,
  XDG_CONFIG_HOME: p.configHome,
  KUBECONFIG: k8s.kubeconfigPath
})

const runArgs = (k8s: FakeKubernetes, anthropic: FakeMessagesApi) => [
  "run", "--backend", "k8s", "--kubeconfig", k8s.kubeconfigPath, "--image", attachImage,
  "--pod-env", `ANTHROPIC_BASE_URL=${anthropic.url}`, "--json", "Do the three steps."
]

const runDir = (p: TrialPlace, runId: string) => join(p.stateHome, "agentrun", "runs", runId)

const readLines = (file: string): Array<string> =>
  existsSync(file) ? readFileSync(file, "utf8").split("\n").filter((l) => l !== "") : []

const readRecord = (p: TrialPlace, runId: string): any => {
  const file = join(runDir(p, runId), "record.json")
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : null
}

const runIdOf = (k8s: FakeKubernetes, jobsBefore: number): string | undefined =>
  k8s.list("jobs", "agents").slice(jobsBefore).at(-1)?.metadata.labels?.["agentrun.dev/run-id"]

const finish = (p: TrialPlace, runId: string, stdout: string, extra: Partial<Trial>, notes: Array<string>): Trial => {
  let outcome = "?"
  let costUsd: number | null = null
  try {
    const json = parseJsonOutput(stdout)
    outcome = json.outcome?._tag ?? "?"
    costUsd = json.costUsd ?? null
  } catch (e) {
    notes.push(`no JSON result: ${e instanceof Error ? e.message : String(e)}`)
  }
  return {
    runId,
    outcome,
    costUsd,
    events: readLines(join(runDir(p, runId), "events.jsonl")),
    logCursor: readRecord(p, runId)?.placement?.logCursor ?? null,
    linesAtKill: null,
    cursorAtKill: null,
    notes,
    ...extra
  }
}

/** One run to its end, nothing interrupted. */
export const uninterrupted = async (k8s: FakeKubernetes, p: TrialPlace): Promise<Trial> => {
  const anthropic = await startAnthropic({ scenario: stepsScenario })
  try {
    const before = k8s.list("jobs", "agents").length
    const r = await runCli({ argv: runArgs(k8s, anthropic), env: env(k8s, p), cwd: p.work, killAfterMs: 90_000 })
    const runId = runIdOf(k8s, before) ?? "?"
    const notes: Array<string> = []
    if (r.code !== 0) notes.push(`run exited ${r.code}: ${r.stderr.slice(-400)}`)
    return finish(p, runId, r.stdout, {}, notes)
  } finally {
    await anthropic.close()
  }
}

/**
 * The run SIGKILLed once its events.jsonl holds `killAfterLines` lines (0: once claude's first
 * request reached the Messages API), then `agentrun attach --json RUN_ID` to its end.
 */
export const killedThenAttached = async (k8s: FakeKubernetes, p: TrialPlace, killAfterLines: number): Promise<Trial> => {
  const anthropic = await startAnthropic({ scenario: stepsScenario })
  const before = k8s.list("jobs", "agents").length
  const run = startCli({ argv: runArgs(k8s, anthropic), env: env(k8s, p), cwd: p.work, killAfterMs: 90_000 })
  try {
    const events = () => {
      const id = runIdOf(k8s, before)
      return id === undefined ? [] : readLines(join(runDir(p, id), "events.jsonl"))
    }
    await waitFor(
      killAfterLines === 0 ? "claude's first request" : `${killAfterLines} lines in events.jsonl`,
      () => (killAfterLines === 0 ? anthropic.messageRequests().length >= 1 : events().length >= killAfterLines),
      60_000,
      5
    ).catch((e) => {
      throw new Error(`${e}: agentrun wrote ${JSON.stringify(run.output())}`)
    })
    run.child.kill("SIGKILL")
    await run.done
    const runId = runIdOf(k8s, before)!
    const linesAtKill = events().length
    const cursorAtKill = readRecord(p, runId)?.placement?.logCursor ?? null
    const attached = await runCli({ argv: ["attach", "--json", runId], env: env(k8s, p), cwd: p.work, killAfterMs: 90_000 })
    const notes: Array<string> = []
    if (attached.code !== 0) notes.push(`attach exited ${attached.code}: ${attached.stderr.slice(-400)}`)
    return finish(p, runId, attached.stdout, { linesAtKill, cursorAtKill }, notes)
  } finally {
    killIfRunning(run)
    await anthropic.close()
  }
}

/**
 * Fields that differ between any two runs of the same scenario, whatever agentrun does: claude's
 * session id and message uuids (random per run), its messaging socket (named by its pid), the fake
 * Messages API's message and tool-use ids (random per request), and the wall-clock durations (keys ending in `_ms`).
 * Their values are replaced by `<key>`.
 */
export const runSpecificKeys: ReadonlySet<string> = new Set([
  "session_id",
  "uuid",
  "messaging_socket_path",
  "id",
  "tool_use_id",
  "request_id",
  "timestamp"
])

/** Keys of wall-clock durations (`duration_ms`, `duration_api_ms`, `ttft_ms`...): normalized as {@link runSpecificKeys}. */
const isDurationKey = (k: string) => k.endsWith("_ms")

const normalize = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(normalize)
  if (v === null || typeof v !== "object") return v
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, runSpecificKeys.has(k) || isDurationKey(k) ? `<${k}>` : normalize(x)]))
}

/** events.jsonl with {@link runSpecificKeys} replaced (a line that is not JSON stays as it is). */
export const normalizedTranscript = (events: ReadonlyArray<string>): Array<string> =>
  events.map((l) => {
    try {
      return JSON.stringify(normalize(JSON.parse(l)))
    } catch {
      return l
    }
  })

const parsed = (l: string): unknown => {
  try {
    return JSON.parse(l)
  } catch {
    return l
  }
}

/** Where two JSON values first differ: `path: a | b`. */
const diffAt = (a: unknown, b: unknown, path: string): string | null => {
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = diffAt((a as any)[k], (b as any)[k], `${path}.${k}`)
      if (d !== null) return d
    }
    return null
  }
  return JSON.stringify(a) === JSON.stringify(b) ? null : `${path}: ${JSON.stringify(a)?.slice(0, 80)} | ${JSON.stringify(b)?.slice(0, 80)}`
}

const firstDifference = (a: string, b: string | undefined): string =>
  b === undefined ? `missing (${a.slice(0, 80)})` : diffAt(parsed(a), parsed(b), "$") ?? "(same JSON, other text)"

/** Whether `b` ended as `a` did: the same outcome class, cost, and normalized transcript; else what differs. */
export const sameRun = (a: Trial, b: Trial): { readonly same: boolean; readonly differences: ReadonlyArray<string> } => {
  const differences: Array<string> = []
  if (a.outcome !== b.outcome) differences.push(`outcome ${b.outcome}, not ${a.outcome}`)
  if (a.costUsd !== b.costUsd) differences.push(`cost ${b.costUsd}, not ${a.costUsd}`)
  const x = normalizedTranscript(a.events)
  const y = normalizedTranscript(b.events)
  if (x.length !== y.length) differences.push(`${y.length} transcript lines, not ${x.length}`)
  const first = x.findIndex((l, i) => l !== y[i])
  if (first !== -1) differences.push(`transcript line ${first + 1} differs: ${firstDifference(x[first]!, y[first])}`)
  return { same: differences.length === 0, differences }
}
