/**
 * Process-level harness for the end-to-end tests (and the demo): runs the real `agentrun` CLI as a
 * subprocess against the fake Messages API, with its own HOME / XDG dirs per run, and reads what
 * agentrun stored and what is left in /proc afterwards.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { type FakeMessagesApi, offlineClaudeEnv, type Scenario, start } from "../../support/fake-anthropic/FakeMessagesApi.ts"
import { procStat, stillRunning } from "../../support/proc.ts"

export { procStat, stillRunning }

const here = dirname(fileURLToPath(import.meta.url))
export const repoRoot = resolve(here, "../../..")

/** The agentrun entry point. */
/**
 * The agentrun executable as users run it (`pnpm -s agentrun` runs this): the launcher that runs
 * the bundled CLI, rebuilding it from the sources when they are newer.
 */
export const agentrunBin = join(repoRoot, "packages/cli/agentrun.cjs")

/**
 * The real Node 22 binary. Not `node_modules/.bin/node`: that is a sh shim that runs node as a
 * child without `exec`, so a signal sent to its pid would never reach agentrun.
 */
export const nodeBinary: string = (() => {
  const pinned = join(repoRoot, "node_modules/node/bin/node")
  return existsSync(pinned) ? realpathSync(pinned) : process.execPath
})()

/** claude-code's native binary (what the memory-limit wrappers exec). */
export const claudeExe = join(repoRoot, "node_modules/@anthropic-ai/claude-code/bin/claude.exe")

/** The API key every run uses: it must never appear in a stored file. */
export const secretApiKey = "sk-ant-test-SECRET1234567"
/** A secret-named variable whose value the tool prints: it must be redacted in stored tool output. */
export const secretTokenName = "MY_SERVICE_TOKEN"
export const secretTokenValue = "tok-very-secret-value"

// ---------------------------------------------------------------- temp dirs

/** A throwaway directory tree for one run: home, XDG state/data, a work dir. */
export interface Sandbox {
  readonly root: string
  readonly home: string
  readonly stateHome: string
  readonly dataHome: string
  /** A work directory (realpath) the tests use as the agent's cwd. */
  readonly work: string
  /** `$XDG_STATE_HOME/agentrun/runs`. */
  readonly runsDir: string
  /** Creates a directory (realpath) under the sandbox root. */
  readonly dir: (name: string) => string
  /** Writes an executable (or not) file under the sandbox root; returns its path. */
  readonly file: (name: string, content: string, mode?: number) => string
  readonly cleanup: () => void
}

export const makeSandbox = (prefix = "agentrun-e2e-"): Sandbox => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), prefix)))
  const dir = (name: string) => {
    const p = join(root, name)
    mkdirSync(p, { recursive: true })
    return p
  }
  const stateHome = dir("state")
  return {
    root,
    home: dir("home"),
    stateHome,
    dataHome: dir("data"),
    work: dir("work"),
    runsDir: join(stateHome, "agentrun", "runs"),
    dir,
    file: (name, content, mode = 0o755) => {
      const p = join(root, name)
      mkdirSync(dirname(p), { recursive: true })
      writeFileSync(p, content)
      chmodSync(p, mode)
      return p
    },
    cleanup: () => rmSync(root, { recursive: true, force: true })
  }
}

/** A wrapper that runs claude under `ulimit -v KB` (the limit applies to the agent only). */
export const ulimitWrapper = (sandbox: Sandbox, kb: number): string =>
  sandbox.file(`claude-ulimit-${kb}`, `#!/bin/bash\nulimit -v ${kb}\nexec ${claudeExe} "$@"\n`)

/** A copy of the npm placeholder stub claude-code ships before its postinstall replaces it. */
export const placeholderStub = (sandbox: Sandbox): string =>
  sandbox.file(
    "stub/claude",
    `#!/bin/sh\n# placeholder: replaced by the native binary in postinstall\necho "Error: claude native binary not installed." >&2\necho "Run the postinstall script of @anthropic-ai/claude-code." >&2\nexit 1\n`
  )

// ---------------------------------------------------------------- environment

/** A minimal base environment: PATH (with the repo's .bin first so `claude` resolves) and locale. Never INIT_CWD, ANTHROPIC_*, CLAUDE_*. */
export const baseEnv = (): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const k of ["LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "SHELL", "TERM"]) {
    const v = process.env[k]
    if (v !== undefined) out[k] = v
  }
  out["PATH"] = `${join(repoRoot, "node_modules/.bin")}:${process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"}`
  return out
}

/** The environment of one agentrun run: offline claude env + per-sandbox HOME / XDG dirs + the secrets. */
export const agentrunEnv = (url: string, sandbox: Sandbox, extra: Readonly<Record<string, string>> = {}): Record<string, string> => ({
  ...baseEnv(),
  ...offlineClaudeEnv(url, sandbox.home),
  ANTHROPIC_API_KEY: secretApiKey,
  [secretTokenName]: secretTokenValue,
  XDG_STATE_HOME: sandbox.stateHome,
  XDG_DATA_HOME: sandbox.dataHome,
  ...extra
})

// ---------------------------------------------------------------- running agentrun

export interface AgentrunOptions {
  /** agentrun's own arguments after `run` (flags and prompt). */
  readonly args: ReadonlyArray<string>
  /** Arguments after `--`, for claude. */
  readonly claudeArgs?: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  /** agentrun's working directory. */
  readonly cwd: string
  /** Written to stdin, then stdin is closed; `null`: stdin closed at once. Default null. */
  readonly stdin?: string | null
  /** Hard SIGKILL after this many ms (a test failure, not an expected outcome). Default 45 s. */
  readonly killAfterMs?: number
}

export interface AgentrunResult {
  /** agentrun's pid. */
  readonly pid: number
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly durationMs: number
  readonly killedByHarness: boolean
}

export interface AgentrunProcess {
  readonly child: ChildProcessWithoutNullStreams
  readonly pid: number
  /** Output so far. */
  readonly output: () => { readonly stdout: string; readonly stderr: string }
  readonly done: Promise<AgentrunResult>
}

/** Starts `agentrun run ARGS [-- CLAUDE_ARGS]` as a child (no shell), so signals reach agentrun itself. */
export const startAgentrun = (o: AgentrunOptions): AgentrunProcess =>
  startCli({ ...o, argv: ["run", ...o.args, ...(o.claudeArgs === undefined ? [] : ["--", ...o.claudeArgs])] })

/** Options of {@link startCli}: any agentrun subcommand. */
export interface CliOptions extends Omit<AgentrunOptions, "args" | "claudeArgs"> {
  /** agentrun's whole argv after the entry point, e.g. `["list", "--json"]`. */
  readonly argv: ReadonlyArray<string>
}

/** Starts `agentrun ARGV...` (any subcommand: list, inspect, logs, cancel, prune...) as a child, no shell. */
export const startCli = (o: CliOptions): AgentrunProcess => {
  const argv = [agentrunBin, ...o.argv]
  const started = Date.now()
  const child = spawn(nodeBinary, argv, { cwd: o.cwd, env: o.env, stdio: ["pipe", "pipe", "pipe"] })
  let stdout = ""
  let stderr = ""
  let killedByHarness = false
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d
  })
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d
  })
  child.stdin.on("error", () => {})
  if (o.stdin === undefined || o.stdin === null) child.stdin.end()
  else child.stdin.end(o.stdin)
  const timer = setTimeout(() => {
    killedByHarness = true
    child.kill("SIGKILL")
  }, o.killAfterMs ?? 45_000)
  const done = new Promise<AgentrunResult>((resolvePromise, reject) => {
    child.on("error", (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolvePromise({ pid: child.pid ?? -1, code, signal, stdout, stderr, durationMs: Date.now() - started, killedByHarness })
    })
  })
  if (child.pid === undefined) throw new Error("agentrun did not start")
  return { child, pid: child.pid, output: () => ({ stdout, stderr }), done }
}

export const runAgentrun = (o: AgentrunOptions): Promise<AgentrunResult> => startAgentrun(o).done

/** Runs `agentrun ARGV...` to its end (default hard limit 45 s). */
export const runCli = (o: CliOptions): Promise<AgentrunResult> => startCli(o).done

/** SIGKILLs a child the harness started if it is still running (for `finally` blocks). */
export const killIfRunning = (p: AgentrunProcess): void => {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL")
}

/** The single JSON object `run --json` printed (fails if stdout is anything else). */
export const parseJsonOutput = (stdout: string): RunJson => {
  const lines = stdout.split("\n").filter((l) => l.trim() !== "")
  if (lines.length !== 1) throw new Error(`expected exactly one line of JSON on stdout, got ${lines.length}:\n${stdout}`)
  return JSON.parse(lines[0]!) as RunJson
}

/** The `--json` shape (loosely typed: the tests assert on it). */
export interface RunJson {
  readonly runId: string
  readonly status: string
  readonly outcome: {
    readonly _tag: string
    readonly family: string
    readonly message: string
    readonly retryable: boolean
    readonly evidence: any
  }
  readonly result: string | null
  readonly agentExitCode: number | null
  readonly agentSignal: { readonly name: string; readonly number: number; readonly via: string } | null
  readonly usage: Record<string, number> | null
  readonly costUsd: number | null
  readonly sessionId: string | null
  readonly durationMs: number | null
}

// ---------------------------------------------------------------- the run store

/** A stored record.json (schemaVersion 2: where the run executes is its `placement`). */
export interface StoredRecord {
  readonly schemaVersion: 2
  readonly runId: string
  readonly status: string
  readonly placement: {
    readonly _tag: "Local"
    readonly hostname: string
    readonly supervisorPid: number
    readonly supervisorStartTicks: number | null
    readonly agentPid: number | null
    readonly agentStartTicks: number | null
  }
  readonly agent: {
    readonly command: ReadonlyArray<string>
    readonly cwd: string
    readonly timeoutMs: number | null
  }
  readonly promptPreview: string
  readonly outcome: RunJson["outcome"] | null
  readonly summary: Record<string, unknown> | null
}

export const runIds = (sandbox: Sandbox): ReadonlyArray<string> =>
  existsSync(sandbox.runsDir) ? readdirSync(sandbox.runsDir).sort() : []

export const readRecord = (sandbox: Sandbox, runId: string): StoredRecord =>
  JSON.parse(readFileSync(join(sandbox.runsDir, runId, "record.json"), "utf8")) as StoredRecord

/** The stored stream-json lines, parsed (throws on a line that is not JSON). */
export const readEvents = (sandbox: Sandbox, runId: string): ReadonlyArray<Record<string, any>> => {
  const path = join(sandbox.runsDir, runId, "events.jsonl")
  if (!existsSync(path)) return []
  return readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Record<string, any>)
}

/** Every regular file under `dir`, with its text. */
export const allFiles = (dir: string): ReadonlyArray<{ readonly path: string; readonly text: string }> => {
  if (!existsSync(dir)) return []
  const out: Array<{ path: string; text: string }> = []
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      const s = statSync(p)
      if (s.isDirectory()) walk(p)
      else if (s.isFile()) out.push({ path: p, text: readFileSync(p, "utf8") })
    }
  }
  walk(dir)
  return out
}

/** Stored files that contain one of the secrets (should be none). */
export const filesLeakingSecrets = (sandbox: Sandbox): ReadonlyArray<string> =>
  [...allFiles(sandbox.stateHome), ...allFiles(sandbox.dataHome)]
    .filter((f) => f.text.includes(secretApiKey) || f.text.includes(secretTokenValue) || f.text.includes("SECRET1234567"))
    .map((f) => f.path)

/** `tool_result` contents from the stored `user` events, as text. */
export const toolResults = (events: ReadonlyArray<Record<string, any>>): ReadonlyArray<{ readonly text: string; readonly isError: boolean }> =>
  events
    .filter((e) => e["type"] === "user")
    .flatMap((e) => (Array.isArray(e["message"]?.content) ? e["message"].content : []) as Array<Record<string, any>>)
    .filter((c) => c["type"] === "tool_result")
    .map((c) => ({
      text: typeof c["content"] === "string"
        ? c["content"]
        : Array.isArray(c["content"])
        ? (c["content"] as Array<Record<string, any>>).map((x) => String(x["text"] ?? "")).join("")
        : JSON.stringify(c["content"]),
      isError: c["is_error"] === true
    }))

// ---------------------------------------------------------------- /proc

/** All live descendants of `pid` (by parentage), with comm and start time. */
export const descendants = (pid: number): ReadonlyArray<{ readonly pid: number; readonly comm: string; readonly startTicks: number }> => {
  const children = new Map<number, Array<number>>()
  const info = new Map<number, { comm: string; startTicks: number }>()
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue
    const s = procStat(Number(name))
    if (s === null || s.state === "Z") continue
    info.set(Number(name), { comm: s.comm, startTicks: s.startTicks })
    const list = children.get(s.ppid) ?? []
    list.push(Number(name))
    children.set(s.ppid, list)
  }
  const out: Array<{ pid: number; comm: string; startTicks: number }> = []
  const queue = [...(children.get(pid) ?? [])]
  while (queue.length > 0) {
    const p = queue.shift()!
    const i = info.get(p)
    if (i !== undefined) out.push({ pid: p, ...i })
    queue.push(...(children.get(p) ?? []))
  }
  return out
}

// ---------------------------------------------------------------- polling

/** Polls `check` every `everyMs` until it returns a non-undefined value, or fails after `timeoutMs`. */
export const waitFor = async <A>(what: string, check: () => A | undefined | false, timeoutMs = 15_000, everyMs = 50): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = check()
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/**
 * Waits for a new run's record (the first id not in `existing`) to name its agent: the run id and
 * the agent's pid and start time.
 */
export const waitForAgent = async (
  sandbox: Sandbox,
  existing: ReadonlyArray<string> = [],
  timeoutMs = 15_000
): Promise<{ readonly runId: string; readonly pid: number; readonly startTicks: number | null }> => {
  const runId = await waitFor("the run record", () => runIds(sandbox).find((id) => !existing.includes(id)), timeoutMs)
  return waitFor("the agent pid in the record", () => {
    try {
      const rec = readRecord(sandbox, runId)
      return rec.placement.agentPid === null ? undefined : { runId, pid: rec.placement.agentPid, startTicks: rec.placement.agentStartTicks }
    } catch {
      return undefined // the record is being written
    }
  }, timeoutMs)
}

/** Live `sleep` processes anywhere below `pid` (a Bash tool's `sleep 1000`, say). */
export const sleepDescendants = (pid: number): ReadonlyArray<{ readonly pid: number; readonly comm: string; readonly startTicks: number }> =>
  descendants(pid).filter((d) => d.comm === "sleep")

/** The command line of a pid (NUL-separated argv joined by spaces), or null when it is gone. */
export const procCmdline = (pid: number): string | null => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter((a) => a !== "").join(" ")
  } catch {
    return null
  }
}

// ---------------------------------------------------------------- fake + sandbox per test

export interface Fixture {
  readonly api: FakeMessagesApi
  readonly sandbox: Sandbox
  /** agentrunEnv for this fixture, with extra variables. */
  readonly env: (extra?: Readonly<Record<string, string>>) => Record<string, string>
}

/** Starts the fake on `scenario` with a fresh sandbox, runs `body`, then closes the fake and removes the sandbox. */
export const withFixture = async <A>(scenario: Scenario, body: (f: Fixture) => Promise<A>): Promise<A> => {
  const api = await start({ scenario })
  const sandbox = makeSandbox()
  try {
    return await body({ api, sandbox, env: (extra = {}) => agentrunEnv(api.url, sandbox, extra) })
  } finally {
    await api.close()
    sandbox.cleanup()
  }
}

/**
 * The one run a fixture's sandbox holds, with its record and stored events; fails (throws) when
 * the sandbox holds no run or several.
 */
export const onlyRun = (f: Fixture) => {
  const ids = runIds(f.sandbox)
  if (ids.length !== 1) throw new Error(`expected exactly one stored run, found ${ids.length}: ${ids.join(", ")}`)
  const runId = ids[0]!
  const record = readRecord(f.sandbox, runId)
  return {
    runId,
    record,
    /** The stored events, parsed (read on use: a run may have stored lines that are not JSON). */
    get events() {
      return readEvents(f.sandbox, runId)
    }
  }
}
