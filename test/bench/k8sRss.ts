/**
 * Issue 13's "peak RSS following 1 GiB of pod log: < 150 MB, as for local runs": the built CLI,
 * `agentrun run --backend k8s`, follows a Pod whose container is the `rss` bench's fake agent
 * (test/bench/fake-agent.ts: ~1 GiB of real-shaped stream-json from test/bench/transcript.ts,
 * then a success `result`), through the fake API server and node, which run in a process of
 * their own (k8sClusterHost.ts), so neither is in the measured process.
 *
 * Measured: the VmHWM (peak RSS) of the agentrun process, polled every 20 ms. Baseline in the
 * same run: a bare Node process that follows the same Pod's log over plain HTTP
 * (`pods/log?follow=true&timestamps=true`, what any follower receives) and only counts it.
 * Also: agentrun's fixed footprint (the same run with an agent that writes only its init and
 * result lines), the verdict, and whether events.jsonl holds every line the agent wrote.
 *
 * From run.ts: `await benchK8sRss({ bytes, root })` (returns the figures; prints nothing).
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process"
import { chmodSync, createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { createInterface } from "node:readline"
import { join } from "node:path"
import { agentrunBin, baseEnv, nodeBinary } from "../e2e/support/harness.ts"
import { makeTranscript, repoRoot } from "./transcript.ts"

const MiB = 1024 * 1024
const here = join(repoRoot, "test/bench")
const nodeFlags = ["--disable-warning=ExperimentalWarning"]

/** The fake agent's files and the executable that runs it (the `rss` bench's agent). */
export interface BenchAgent {
  /** An executable `claude` stand-in: execs node on fake-agent.ts. */
  readonly path: string
  /** BENCH_AGENT_BLOCK / _INIT / _RESULT: the files fake-agent.ts reads. */
  readonly files: Readonly<Record<"BENCH_AGENT_BLOCK" | "BENCH_AGENT_INIT" | "BENCH_AGENT_RESULT", string>>
  /** Lines of one block. */
  readonly blockLines: number
  readonly blockBytes: number
  readonly initBytes: number
}

/** Writes the fake agent into `root`: a ~4 MiB block of real-shaped turns (seed 7), an init line, a success result. */
export const writeBenchAgent = (root: string): BenchAgent => {
  const t = makeTranscript(7)
  const block: Array<string> = []
  let blockSize = 0
  while (blockSize < 4 * MiB) {
    for (const l of t.turn()) {
      block.push(l)
      blockSize += Buffer.byteLength(l) + 1
    }
  }
  const files = {
    BENCH_AGENT_BLOCK: join(root, "block.jsonl"),
    BENCH_AGENT_INIT: join(root, "init.json"),
    BENCH_AGENT_RESULT: join(root, "result.json")
  }
  writeFileSync(files.BENCH_AGENT_BLOCK, block.join("\n") + "\n")
  const init = t.init() + "\n"
  writeFileSync(files.BENCH_AGENT_INIT, init)
  writeFileSync(files.BENCH_AGENT_RESULT, t.result() + "\n")
  const path = join(root, "fake-claude")
  // exec: the agent's pid is the script's.
  writeFileSync(path, `#!/bin/sh\nexec ${nodeBinary} ${nodeFlags.join(" ")} ${join(here, "fake-agent.ts")}\n`)
  chmodSync(path, 0o755)
  return { path, files, blockLines: block.length, blockBytes: blockSize, initBytes: Buffer.byteLength(init) }
}

/** The lines fake-agent.ts writes for `bytes`: init, whole blocks until `bytes` is reached, the result. */
export const agentLines = (agent: BenchAgent, bytes: number): number =>
  1 + Math.max(0, Math.ceil((bytes - agent.initBytes) / agent.blockBytes)) * agent.blockLines + 1

/** The bytes fake-agent.ts writes for `bytes` (without the result line). */
const agentBytes = (agent: BenchAgent, bytes: number): number =>
  agent.initBytes + Math.max(0, Math.ceil((bytes - agent.initBytes) / agent.blockBytes)) * agent.blockBytes

const vmHwmKb = (pid: number): number | null => {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return m === null ? null : Number(m[1])
  } catch {
    return null
  }
}

interface Ran {
  readonly code: number | null
  readonly ms: number
  readonly peakRssKb: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs a process to its end, polling its VmHWM every 20 ms; keeps the last 64 KiB of each output. */
const measured = (cmd: string, args: ReadonlyArray<string>, env: Record<string, string>, cwd: string, killAfterMs: number): Promise<Ran> =>
  new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child: ChildProcess = spawn(cmd, [...args], { env, cwd, stdio: ["ignore", "pipe", "pipe"] })
    let peak = 0
    const timer = setInterval(() => {
      if (child.pid !== undefined) peak = Math.max(peak, vmHwmKb(child.pid) ?? 0)
    }, 20)
    const killer = setTimeout(() => child.kill("SIGKILL"), killAfterMs)
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (d: Buffer) => (stdout = (stdout + d.toString("utf8")).slice(-65536)))
    child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString("utf8")).slice(-65536)))
    child.on("error", reject)
    child.on("close", (code) => {
      clearInterval(timer)
      clearTimeout(killer)
      resolve({ code, ms: performance.now() - t0, peakRssKb: peak, stdout, stderr })
    })
  })

/** The cluster host child; resolves once it printed where it listens. */
const startHost = (images: Record<string, Record<string, string>>): Promise<{ child: ChildProcess; kubeconfigPath: string; url: string; namespace: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(nodeBinary, [...nodeFlags, "--max-old-space-size=12288", join(here, "k8sClusterHost.ts")], {
      env: { ...process.env, BENCH_K8S_IMAGES: JSON.stringify(images) },
      stdio: ["pipe", "pipe", "inherit"]
    })
    child.on("error", reject)
    child.on("exit", (code) => reject(new Error(`the cluster host exited (${code}) before it listened`)))
    createInterface({ input: child.stdout! }).once("line", (line) => resolve({ child, ...JSON.parse(line) }))
  })

/** A bare follow: lists the Job's Pod, follows its log with plain HTTP, prints bytes and lines. */
const bareFollowScript = `
const http = require("node:http")
const [url, ns, job] = process.argv.slice(1)
const get = (path, onRes) => http.get(url + path, { headers: { Authorization: "Bearer fake-k8s-token" } }, onRes)
get("/api/v1/namespaces/" + ns + "/pods?labelSelector=" + encodeURIComponent("job-name=" + job), (res) => {
  let body = ""
  res.setEncoding("utf8").on("data", (d) => { body += d }).on("end", () => {
    const pod = JSON.parse(body).items[0].metadata.name
    get("/api/v1/namespaces/" + ns + "/pods/" + pod + "/log?container=agent&follow=true&timestamps=true", (log) => {
      let bytes = 0, lines = 0
      log.on("data", (d) => { bytes += d.length; for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) lines++ })
      log.on("end", () => process.stdout.write(JSON.stringify({ status: log.statusCode, bytes, lines }) + "\\n"))
    })
  })
})
`

/** Newlines in a file, streamed (events.jsonl may be a gigabyte). */
const countLines = (file: string): Promise<number> =>
  new Promise((resolve, reject) => {
    let n = 0
    createReadStream(file)
      .on("data", (d) => {
        const b = d as Buffer
        for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++
      })
      .on("end", () => resolve(n))
      .on("error", reject)
  })

/** One side of the bench: agentrun following the Pod, measured. */
interface AgentrunSide {
  readonly code: number | null
  readonly ms: number
  readonly peakMb: number
  readonly outcome: string
  readonly runId: string | null
  readonly eventLines: number
  readonly eventBytes: number
  readonly stderrLines: number
  readonly stderrTail: string
}

/** What the bench measured. */
export interface K8sRssResult {
  readonly bytes: number
  /** Lines the agent wrote (init, blocks, result). */
  readonly expectedLines: number
  readonly agentrun: AgentrunSide
  /** The same run with an agent writing only init + result. */
  readonly small: AgentrunSide
  readonly baseline: { readonly code: number | null; readonly ms: number; readonly peakMb: number; readonly bytes: number; readonly lines: number }
}

/**
 * Follows `bytes` of agent output in a Pod with the built CLI, then the bare follow of the same
 * log, then the small run. `root`: a scratch directory (events.jsonl of `bytes` is written there).
 */
export const benchK8sRss = async (options: { readonly bytes: number; readonly root: string }): Promise<K8sRssResult> => {
  const { bytes, root } = options
  const agent = writeBenchAgent(root)
  const image = (n: number) => `agentrun/bench-agent:${n}`
  const imageEnv = (n: number) => ({ ...agent.files, AGENTRUN_CLAUDE: agent.path, BENCH_AGENT_BYTES: String(n) })
  const host = await startHost({ [image(bytes)]: imageEnv(bytes), [image(0)]: imageEnv(0) })
  host.child.removeAllListeners("exit")
  try {
    const side = async (n: number, name: string): Promise<AgentrunSide> => {
      const dir = join(root, name)
      for (const d of ["home", "state", "data", "config", "work"]) mkdirSync(join(dir, d), { recursive: true })
      const state = join(dir, "state")
      const env = {
        ...baseEnv(),
        HOME: join(dir, "home"),
        XDG_STATE_HOME: state,
        XDG_DATA_HOME: join(dir, "data"),
        XDG_CONFIG_HOME: join(dir, "config"),
        KUBECONFIG: host.kubeconfigPath
      }
      const r = await measured(nodeBinary, [...nodeFlags, agentrunBin, "run", "--backend", "k8s", "--kubeconfig", host.kubeconfigPath, "--image", image(n), "--json", "follow the bench agent"], env, join(dir, "work"), 30 * 60_000)
      const runsDir = join(state, "agentrun", "runs")
      const runId = existsSync(runsDir) ? readdirSync(runsDir)[0] ?? null : null
      const file = (f: string) => (runId === null ? null : join(runsDir, runId, f))
      const events = file("events.jsonl")
      const stderr = file("stderr.log")
      const record = file("record.json")
      return {
        code: r.code,
        ms: r.ms,
        peakMb: (r.peakRssKb * 1024) / 1e6,
        outcome: record !== null && existsSync(record) ? JSON.parse(readFileSync(record, "utf8")).outcome?._tag ?? "none" : "no record",
        runId,
        eventLines: events !== null && existsSync(events) ? await countLines(events) : 0,
        eventBytes: events !== null && existsSync(events) ? statSync(events).size : 0,
        stderrLines: stderr !== null && existsSync(stderr) ? await countLines(stderr) : 0,
        stderrTail: r.stderr.split("\n").filter((l) => l !== "").slice(-4).join(" | ")
      }
    }
    const big = await side(bytes, "big")
    const b = await measured(nodeBinary, ["-e", bareFollowScript, host.url, host.namespace, `agentrun-${big.runId}`], { ...baseEnv() }, root, 30 * 60_000)
    const followed = (() => {
      try {
        return JSON.parse(b.stdout) as { bytes: number; lines: number }
      } catch {
        return { bytes: 0, lines: 0 }
      }
    })()
    const small = await side(0, "small")
    return {
      bytes: agentBytes(agent, bytes),
      expectedLines: agentLines(agent, bytes),
      agentrun: big,
      small,
      baseline: { code: b.code, ms: b.ms, peakMb: (b.peakRssKb * 1024) / 1e6, bytes: followed.bytes, lines: followed.lines }
    }
  } finally {
    host.child.stdin!.end()
    await new Promise((resolve) => {
      if (host.child.exitCode !== null) return resolve(null)
      host.child.once("exit", resolve)
      setTimeout(() => host.child.kill("SIGKILL"), 10_000)
    })
  }
}
