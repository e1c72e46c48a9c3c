/**
 * The pure parsers of proc(5) formats, on fixed samples (including the awkward ones: a comm with
 * spaces and parentheses, real-time signals, IPv6 words in host order, abstract unix sockets).
 */
import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { cgroup2Mounts, cgroupDirCandidates, cgroupV2Path, findMemoryEvents, parseOomKill } from "../../src/procfs/CgroupMemory.ts"
import { decodeAddress, parseTcpTable, parseUnixTable } from "../../src/procfs/NetSockets.ts"
import { familyOf } from "../../src/procfs/ProcessFamily.ts"
import { parseBootTime, parseCmdline, parseStat } from "../../src/procfs/ProcessInfo.ts"
import { classifyFdTarget, parseFdAccess, parseIo } from "../../src/procfs/ProcessInspection.ts"
import { parseProcStatus } from "../../src/procfs/ProcStatus.ts"
import { decodeSignalMask } from "../../src/procfs/SignalMask.ts"
import { parseAuxvClockTicks } from "../../src/procfs/LinuxProcessTable.ts"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"

describe("procfs parsers", () => {
  it("parseStat finds fields after the last ')' of comm", () => {
    const line = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 12 34 0 0 20 0 3 0 98765 1000 10 18446744073709551615\n"
    const stat = Option.getOrThrow(parseStat(line))
    assert.deepStrictEqual(stat, {
      pid: 4242,
      comm: "my (odd) name",
      state: "S",
      ppid: 1,
      pgid: 4242,
      sid: 4242,
      utimeTicks: 12,
      stimeTicks: 34,
      numThreads: 3,
      startTimeTicks: 98765
    })
    assert.isTrue(Option.isNone(parseStat("garbage")))
    assert.isTrue(Option.isNone(parseStat("1 (x) S 1 2")))
  })

  it("parseCmdline splits on NUL and drops the terminator", () => {
    assert.deepStrictEqual(parseCmdline("sleep\u00001000\u0000"), ["sleep", "1000"])
    assert.deepStrictEqual(parseCmdline("a b\u0000\u0000c"), ["a b", "", "c"])
    assert.deepStrictEqual(parseCmdline(""), [])
    assert.strictEqual(parseBootTime("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n"), 1_700_000_000)
    assert.isNull(parseBootTime("cpu 1\n"))
  })

  it("decodeSignalMask: bit n-1 is signal n, real-time signals named like kill -l", () => {
    assert.deepStrictEqual(decodeSignalMask("0000000000000002").signals, ["SIGINT"])
    assert.deepStrictEqual(decodeSignalMask("0000000000004002").signals, ["SIGINT", "SIGTERM"])
    assert.deepStrictEqual(decodeSignalMask("0000000000000000").signals, [])
    assert.deepStrictEqual(decodeSignalMask("8000000180000100").signals, ["SIGKILL", "SIG32", "SIG33", "SIGRTMIN+30"])
    assert.deepStrictEqual(decodeSignalMask("0000000200000000").signals, ["SIGRTMIN"])
    assert.deepStrictEqual(decodeSignalMask("zz").signals, [])
  })

  it("parseProcStatus decodes state and masks", () => {
    const status = parseProcStatus(
      "Name:\tbash\nState:\tT (stopped)\nThreads:\t1\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000004000\n" +
        "SigBlk:\t0000000000010000\nSigIgn:\t0000000000000006\nSigCgt:\t000000004b817efb\nVmRSS:\t    3200 kB\n" +
        "voluntary_ctxt_switches:\t7\nnonvoluntary_ctxt_switches:\t2\n"
    )
    assert.strictEqual(status.state, "T")
    assert.strictEqual(status.stateMeaning, "stopped")
    assert.deepStrictEqual(status.sharedPending.signals, ["SIGTERM"])
    assert.deepStrictEqual(status.blocked.signals, ["SIGCHLD"])
    assert.deepStrictEqual(status.ignored.signals, ["SIGINT", "SIGQUIT"])
    assert.include(status.caught.signals, "SIGHUP")
    assert.strictEqual(status.threads, 1)
    assert.strictEqual(status.vmRssKb, 3200)
    assert.strictEqual(status.voluntaryCtxtSwitches, 7)
    assert.strictEqual(parseProcStatus("").state, "?")
  })

  it("decodeAddress: IPv4 little-endian, IPv6 as host-order words", () => {
    assert.deepStrictEqual(decodeAddress("0100007F:1F90", true), { address: "127.0.0.1", port: 8080 })
    assert.deepStrictEqual(decodeAddress("7F000001:1F90", false), { address: "127.0.0.1", port: 8080 })
    assert.deepStrictEqual(decodeAddress("00000000000000000000000001000000:0016", true), { address: "::1", port: 22 })
    assert.deepStrictEqual(decodeAddress("0000000000000000FFFF00000100007F:01BB", true), {
      address: "::ffff:127.0.0.1",
      port: 443
    })
    assert.deepStrictEqual(decodeAddress("B80D0120000000000000000001000000:0050", true), {
      address: "2001:db8::1",
      port: 80
    })
  })

  it("parseTcpTable and parseUnixTable", () => {
    const tcp = parseTcpTable(
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
        "   0: 0100007F:8E59 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 8386 1 0000 100 0 0 10 0\n" +
        "   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 9999 1 0000 20 4 30 10 -1\n",
      "tcp"
    )
    assert.strictEqual(tcp.length, 2)
    assert.deepStrictEqual(tcp[1], {
      protocol: "tcp",
      localAddress: "127.0.0.1",
      localPort: 50000,
      remoteAddress: "127.0.0.1",
      remotePort: 8080,
      state: "ESTABLISHED",
      inode: 9999
    })
    assert.strictEqual(tcp[0]?.state, "LISTEN")

    const unix = parseUnixTable(
      "Num       RefCount Protocol Flags    Type St Inode Path\n" +
        "00000000b26548e5: 00000002 00000000 00010000 0001 01  7925 /tmp/x.sock\n" +
        "00000000db04bfe8: 00000003 00000000 00000000 0001 03  8391\n" +
        "00000000db04bfe9: 00000002 00000000 00000000 0002 01  8400 @abstract name\n"
    )
    assert.deepStrictEqual(unix[0], { inode: 7925, type: "stream", state: "unconnected", listening: true, path: "/tmp/x.sock" })
    assert.deepStrictEqual(unix[1], { inode: 8391, type: "stream", state: "connected", listening: false, path: null })
    assert.strictEqual(unix[2]?.path, "@abstract name")
    assert.strictEqual(unix[2]?.type, "dgram")
  })

  it("classifyFdTarget, parseFdAccess, parseIo", () => {
    assert.deepStrictEqual(classifyFdTarget("socket:[123]"), { kind: "socket", inode: 123 })
    assert.deepStrictEqual(classifyFdTarget("pipe:[456]"), { kind: "pipe", inode: 456 })
    assert.deepStrictEqual(classifyFdTarget("/tmp/a (deleted)"), { kind: "file", inode: null })
    assert.deepStrictEqual(classifyFdTarget("anon_inode:[eventfd]"), { kind: "other", inode: null })
    assert.strictEqual(parseFdAccess("pos:\t0\nflags:\t0100001\nmnt_id:\t15\n"), "write")
    assert.strictEqual(parseFdAccess("pos:\t0\nflags:\t02000000\n"), "read")
    assert.strictEqual(parseFdAccess("flags:\t02\n"), "read-write")
    assert.isNull(parseFdAccess(""))
    const io = parseIo("rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 0\nwrite_bytes: 4096\ncancelled_write_bytes: 0\n")
    assert.deepStrictEqual(io, { _tag: "Available", rchar: 10, wchar: 20, syscr: 1, syscw: 2, readBytes: 0, writeBytes: 4096 })
    assert.strictEqual(parseIo("")._tag, "Unavailable")
  })

  it("cgroup v2: path, mounts, candidates, oom_kill", () => {
    assert.strictEqual(cgroupV2Path("12:memory:/x\n0::/user.slice/session-1.scope\n"), "/user.slice/session-1.scope")
    assert.isUndefined(cgroupV2Path("4:memory:/x\n"))
    const mounts = cgroup2Mounts(
      "25 30 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n" +
        "41 31 0:38 /sub /mnt/cg\\040two rw,relatime - cgroup2 cgroup2 rw\n" +
        "26 30 0:23 / /proc rw - proc proc rw\n"
    )
    assert.deepStrictEqual(mounts, [{ root: "/", mountPoint: "/sys/fs/cgroup" }, { root: "/sub", mountPoint: "/mnt/cg two" }])
    assert.deepStrictEqual(cgroupDirCandidates("/sub/run", mounts), ["/sys/fs/cgroup/sub/run", "/mnt/cg two/run"])
    assert.strictEqual(parseOomKill("low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\noom_group_kill 0\n"), 1)
    assert.isUndefined(parseOomKill("low 0\n"))
  })

  it("findMemoryEvents: pure v2, hybrid (v2 under /sys/fs/cgroup/unified), v1 only, no memory controller", () => {
    const events = "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"
    const reader = (files: Record<string, string>) => (path: string) => files[path] ?? null
    const pure = reader({
      "/proc/self/cgroup": "0::/user.slice/a.scope\n",
      "/proc/self/mountinfo": "25 30 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
      "/sys/fs/cgroup/user.slice/a.scope/memory.events": events
    })
    assert.strictEqual(findMemoryEvents(pure), "/sys/fs/cgroup/user.slice/a.scope/memory.events")
    const hybrid = reader({
      "/proc/self/cgroup": "4:memory:/x\n0::/job\n",
      "/proc/self/mountinfo": "30 25 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
      "/sys/fs/cgroup/unified/job/memory.events": events
    })
    assert.strictEqual(findMemoryEvents(hybrid), "/sys/fs/cgroup/unified/job/memory.events")
    // Another process's files, through its /proc directory.
    const other = reader({ "/proc/42/cgroup": "0::/job\n", "/sys/fs/cgroup/job/memory.events": events })
    assert.strictEqual(findMemoryEvents(other, "/proc/42"), "/sys/fs/cgroup/job/memory.events")
    assert.isNull(findMemoryEvents(reader({ "/proc/self/cgroup": "4:memory:/x\n" })), "v1 only")
    assert.isNull(findMemoryEvents(reader({ "/proc/self/cgroup": "0::/job\n", "/sys/fs/cgroup/job/memory.events": "low 0\n" })), "no counter")
    assert.isNull(findMemoryEvents(reader({})), "no /proc")
  })

  it("familyOf: session and group members, descendants, parents first", () => {
    const p = (pid: number, ppid: number, pgid: number, sid: number, startTimeTicks = pid) => ({ pid, ppid, pgid, sid, startTimeTicks })
    const table = [
      p(1, 0, 1, 1),
      p(50, 1, 50, 50), // supervisor
      p(100, 50, 100, 100), // run root
      p(103, 102, 100, 100), // child of 102 listed first
      p(101, 100, 100, 100),
      p(102, 101, 100, 100),
      p(104, 1, 100, 100), // reparented grandchild
      p(105, 104, 105, 105), // its child, which called setsid
      p(200, 50, 200, 200) // unrelated run
    ]
    assert.deepStrictEqual(familyOf(table, 100, false).map((x) => x.pid), [104, 101, 105, 102, 103])
    assert.deepStrictEqual(familyOf(table, 100, true).map((x) => x.pid), [100, 104, 101, 105, 102, 103])
    // The root already exited: its session still identifies the run.
    const withoutRoot = table.filter((x) => x.pid !== 100)
    assert.deepStrictEqual(familyOf(withoutRoot, 100, true).map((x) => x.pid), [101, 104, 102, 105, 103])
  })
})

describe("auxv", () => {
  it("reads AT_CLKTCK (type 17) from this process's auxiliary vector, as sysconf(_SC_CLK_TCK) does", () => {
    const auxv = NodeFs.readFileSync("/proc/self/auxv")
    const ticks = parseAuxvClockTicks(auxv)
    const getconf = Number(NodeChildProcess.execFileSync("getconf", ["CLK_TCK"]).toString().trim())
    assert.strictEqual(ticks, getconf)
  })

  it("stops at AT_NULL and reads 4-byte words too", () => {
    const words = new Uint32Array([6, 4096, 17, 250, 0, 0, 17, 999])
    assert.strictEqual(parseAuxvClockTicks(new Uint8Array(words.buffer), 4), 250)
    assert.isNull(parseAuxvClockTicks(new Uint8Array(new Uint32Array([6, 4096, 0, 0, 17, 250]).buffer), 4))
  })
})
