import { assert, describe, it } from "@effect/vitest"
import { makeRedactor } from "../../src/domain/Redaction.ts"
import type { ProcessInspection } from "../../src/procfs/ProcessInspection.ts"
import { decodeSignalMask } from "../../src/procfs/SignalMask.ts"
import { apiEndpoints, buildHangDump, classifyWaitingOn, matchesEndpoint, renderHangDump } from "../../src/watchdog/HangDump.ts"
import { mostRecentReceive, parseSsInfo } from "../../src/watchdog/SocketActivity.ts"
import { accumulateTreeCpu, descendantsOf, parsePsRows, parsePsTime } from "../../src/watchdog/TreeCpu.ts"

const proc = (pid: number, ppid: number, over: Partial<ProcessInspection["info"]> = {}, fds: ProcessInspection["fds"] = { _tag: "Available", fds: [] }): ProcessInspection => ({
  info: {
    pid, ppid, pgid: 100, sid: 100, state: "S", stateMeaning: "sleeping", comm: "claude", cmdline: ["claude", "-p"],
    utimeTicks: 5, stimeTicks: 1, startTimeTicks: pid, startTimeEpochMs: null, numThreads: 1, ...over
  },
  status: {
    _tag: "Available",
    status: {
      state: over.state ?? "S", stateMeaning: "sleeping", pending: decodeSignalMask("0000000000000002"), sharedPending: decodeSignalMask("0"),
      blocked: decodeSignalMask("0000000000004002"), ignored: decodeSignalMask("0"), caught: decodeSignalMask("0"),
      threads: 1, voluntaryCtxtSwitches: null, nonvoluntaryCtxtSwitches: null, vmRssKb: null
    }
  },
  threads: { _tag: "Available", threads: [{ tid: pid, comm: "claude", state: "S", stateMeaning: "sleeping", wchan: "do_epoll_wait", utimeTicks: 5, stimeTicks: 1 }] },
  io: { _tag: "Unavailable", reason: "EACCES reading /proc/1/io" },
  fds
})

const tcp = (fd: number, remote: string, remotePort: number, state = "ESTABLISHED"): ProcessInspection["fds"] => ({
  _tag: "Available",
  fds: [{ fd, target: "socket:[77]", kind: "socket", inode: 77, access: "read-write", socket: { _tag: "Tcp", protocol: "tcp", local: "127.0.0.1:5000", localPort: 5000, remote, remotePort, state } }]
})

describe("tree CPU and ps", () => {
  it("accumulates per-process deltas; new and reused pids count whole; exits do not go backwards", () => {
    let s = accumulateTreeCpu(null, [{ pid: 1, startId: 1, cpuMs: 100 }, { pid: 2, startId: 2, cpuMs: 50 }])
    assert.strictEqual(s.totalMs, 0)
    s = accumulateTreeCpu(s, [{ pid: 1, startId: 1, cpuMs: 130 }, { pid: 3, startId: 3, cpuMs: 20 }])
    assert.strictEqual(s.totalMs, 50)
    s = accumulateTreeCpu(s, [{ pid: 1, startId: 1, cpuMs: 130 }, { pid: 3, startId: 9, cpuMs: 5 }])
    assert.strictEqual(s.totalMs, 55)
  })

  it("parses ps time and rows, and finds descendants", () => {
    assert.strictEqual(parsePsTime("00:01:02"), 62_000)
    assert.strictEqual(parsePsTime("1-02:00:00"), 26 * 3_600_000)
    assert.strictEqual(parsePsTime("0:03.50"), 3_500)
    assert.isNull(parsePsTime("n/a"))
    const rows = parsePsRows("  10     1 00:00:05\n  11    10 00:00:01\n  12    11 00:00:02\n  13     1 00:00:09\njunk\n")
    assert.deepStrictEqual(descendantsOf(rows, 10).map((r) => r.pid), [10, 11, 12])
  })
})

describe("socket activity (ss -tie)", () => {
  const ss = [
    "ESTAB 0      0               127.0.0.1:57994          127.0.0.1:36177 ino:113943 sk:1 cgroup:/ <->",
    "\t ts sack cubic wscale:10,10 rto:200 bytes_acked:1 bytes_received:900 segs_out:11 lastsnd:980 lastrcv:76 lastack:76",
    "ESTAB 0      0               127.0.0.1:57995          127.0.0.1:36177 ino:113944 sk:2 <->",
    "\t ts sack cubic bytes_acked:1 lastsnd:980 lastrcv:5000 lastack:76",
    ""
  ].join("\n")
  it("reads lastrcv and bytes_received by inode; sockets that never received data do not count", () => {
    const table = parseSsInfo(ss)
    assert.deepStrictEqual(table.get(113943), { lastReceiveAgoMs: 76, bytesReceived: 900 })
    assert.strictEqual(mostRecentReceive(table, [113943, 113944]), 76)
    assert.isNull(mostRecentReceive(table, [113944, 1]))
  })
})

describe("hang dump", () => {
  const redactor = makeRedactor({ ANTHROPIC_API_KEY: "sk-ant-secret-123456" })
  it("API endpoints from ANTHROPIC_BASE_URL (default api.anthropic.com:443) and the proxy", () => {
    assert.deepStrictEqual(apiEndpoints({}), [{ host: "api.anthropic.com", port: 443, via: "base-url" }])
    assert.deepStrictEqual(apiEndpoints({ ANTHROPIC_BASE_URL: "http://127.0.0.1:8080", HTTPS_PROXY: "http://proxy.corp:3128" }), [
      { host: "127.0.0.1", port: 8080, via: "base-url" },
      { host: "proxy.corp", port: 3128, via: "proxy" }
    ])
  })

  it("matches peers without DNS: loopback names, literals (mapped too), names by port", () => {
    const local = apiEndpoints({ ANTHROPIC_BASE_URL: "http://localhost:8080" })
    assert.isNotNull(matchesEndpoint("[::ffff:127.0.0.1]:8080", local))
    assert.isNull(matchesEndpoint("127.0.0.1:8081", local))
    assert.isNotNull(matchesEndpoint("[::ffff:10.0.0.1]:443", apiEndpoints({ ANTHROPIC_BASE_URL: "https://10.0.0.1" })))
    assert.isNotNull(matchesEndpoint("160.79.104.10:443", apiEndpoints({})))
    assert.isNull(matchesEndpoint("160.79.104.10:80", apiEndpoints({})))
  })

  it("waitingOn: a live tool child wins (the deepest one), then an open API connection, else unknown", () => {
    const env = apiEndpoints({ ANTHROPIC_BASE_URL: "http://127.0.0.1:8080" })
    const agent = proc(100, 1, {}, tcp(20, "127.0.0.1:8080", 8080))
    const bash = proc(101, 100, { comm: "bash", cmdline: ["/bin/bash", "-c", "sleep 1000"] })
    const sleep = proc(102, 101, { comm: "sleep", cmdline: ["sleep", "1000"] })
    assert.deepStrictEqual(classifyWaitingOn(agent, [bash, sleep], env, (t) => t), { kind: "tool-process", pid: 102, name: "sleep 1000", state: "S" })
    assert.deepStrictEqual(classifyWaitingOn(agent, [proc(103, 100, { state: "Z" })], env, (t) => t), { kind: "model-api", endpoint: "127.0.0.1:8080" })
    assert.deepStrictEqual(classifyWaitingOn(proc(100, 1, {}, tcp(20, "127.0.0.1:8080", 8080, "TIME_WAIT")), [], env, (t) => t), { kind: "unknown" })
    assert.deepStrictEqual(classifyWaitingOn(null, [], env, (t) => t), { kind: "unknown" })
  })

  it("builds a redacted dump with signal names, sockets and what was unavailable; renders it as text", () => {
    const dump = buildHangDump({
      capturedAtMs: 0,
      detection: { reason: "stall", idleMs: 900_000, timeoutMs: 900_000 },
      agentPid: 100,
      clockTicksPerSecond: 100,
      agent: proc(100, 1, { cmdline: ["claude", "--api-key", "sk-ant-secret-123456"] }, tcp(20, "127.0.0.1:8080", 8080)),
      descendants: [],
      env: { ANTHROPIC_BASE_URL: "http://127.0.0.1:8080" },
      lastOutput: ["token sk-ant-secret-123456"],
      measured: { treeCpuPercent: 0.2 },
      unavailable: [],
      redactor
    })
    const json = JSON.stringify(dump)
    assert.notInclude(json, "sk-ant-secret")
    assert.deepStrictEqual(dump.signals?.blocked, ["SIGINT", "SIGTERM"])
    assert.deepStrictEqual(dump.signals?.pending, ["SIGINT"])
    assert.strictEqual(dump.processes[0]?.wchan, "do_epoll_wait")
    assert.strictEqual(dump.sockets.length, 1)
    assert.include(dump.unavailable[0], "I/O counters of 100")
    const text = renderHangDump(dump)
    assert.include(text, "blocked (SigBlk):        SIGINT SIGTERM")
    assert.include(text, "waiting on: the Messages API (127.0.0.1:8080)")
    assert.notInclude(text, "sk-ant-secret")
  })
})
