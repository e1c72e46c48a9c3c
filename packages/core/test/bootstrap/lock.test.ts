/**
 * The build lock (sentinel): two real agentrun processes bootstrapping at once → exactly one
 * builds; a dead holder's sentinel and a live holder's stale heartbeat (TestClock) are taken over;
 * a live, fresh holder makes the attempt SkipSentinel without running the installer.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { Bootstrap } from "../../src/bootstrap/Bootstrap.ts"
import { processStartTime, type SentinelRecord } from "../../src/bootstrap/BootstrapStore.ts"
import { bootstrapLayer, countLines, fixtures, node22, packFakeClaude, script, tempRoot, cleanupRoots } from "./helpers.ts"

afterAll(cleanupRoots)

const sentinelPath = (root: string) => NodePath.join(root, "state", "agentrun", "bootstrap", "claude-cli.sentinel")

const writeSentinel = (root: string, record: Partial<SentinelRecord>) => {
  NodeFs.mkdirSync(NodePath.dirname(sentinelPath(root)), { recursive: true })
  const full: SentinelRecord = {
    runtime: "claude-cli",
    pid: process.pid,
    startTime: processStartTime(process.pid),
    hostname: NodeOs.hostname(),
    token: "other-holder",
    createdMs: 0,
    heartbeatMs: 0,
    ...record
  }
  NodeFs.writeFileSync(sentinelPath(root), JSON.stringify(full))
}

const runOnce = (root: string, tarball: string, npm: string) =>
  new Promise<{ outcome: string }>((resolve, reject) => {
    NodeChild.execFile(node22, [NodePath.join(fixtures, "bootstrap-once.ts"), root, tarball, npm], (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`))
      else resolve(JSON.parse(stdout.trim().split("\n").pop()!))
    })
  })

/** A store root with the fake claude packed and an npm that counts its runs in `count` (sleeping `sleepS` seconds). */
const slowNpm = (sleepS: number) => {
  const root = tempRoot()
  const count = NodePath.join(root, "npm-runs")
  const tarball = packFakeClaude(root)
  const npm = script(NodePath.join(root, "tools"), "npm-slow.sh", "npm-slow", { COUNT_FILE: count, SLEEP: String(sleepS) })
  return { root, count, tarball, npm }
}

describe("build lock", () => {
  it.live("two agentrun processes at once: exactly one builds, the other is SkipSentinel", () => {
    const { root, count, tarball, npm } = slowNpm(2)
    return Effect.gen(function*() {
      const outcomes = yield* Effect.promise(() => Promise.all([runOnce(root, tarball, npm), runOnce(root, tarball, npm)]))
      assert.deepStrictEqual(outcomes.map((o) => o.outcome).sort(), ["Built", "SkipSentinel"])
      assert.strictEqual(countLines(count), 1, "npm ran once")
      assert.isFalse(NodeFs.existsSync(sentinelPath(root)), "the holder removed its sentinel")
      const after = yield* Effect.promise(() => runOnce(root, tarball, npm))
      assert.strictEqual(after.outcome, "NoopManaged")
    })
  }, 30_000)

  it.effect("a dead holder's sentinel is taken over and the build runs", () => {
    const root = tempRoot()
    const tarball = packFakeClaude(root)
    const dead = NodeChild.spawnSync("true").pid
    writeSentinel(root, { pid: dead, startTime: "1", heartbeatMs: 0 })
    return Effect.gen(function*() {
      const report = yield* (yield* Bootstrap).attempt("claude-cli")
      assert.strictEqual(report.outcome, "Built", report.message)
      assert.isFalse(NodeFs.existsSync(sentinelPath(root)))
    }).pipe(Effect.provide(bootstrapLayer(root, { claudeSpec: tarball })))
  })

  it.effect("a live holder with a fresh heartbeat → SkipSentinel without running npm; once its heartbeat is 2 min old → taken over", () => {
    const { root, count, tarball, npm } = slowNpm(0)
    writeSentinel(root, { heartbeatMs: 0 })
    return Effect.gen(function*() {
      const bootstrap = yield* Bootstrap
      const skipped = yield* bootstrap.attempt("claude-cli")
      assert.strictEqual(skipped.outcome, "SkipSentinel")
      assert.strictEqual(skipped.outcomeCode, 5)
      assert.strictEqual(skipped.holder?.pid, process.pid)
      assert.strictEqual(countLines(count), 0)
      yield* TestClock.adjust("2 minutes")
      assert.strictEqual((yield* bootstrap.attempt("claude-cli")).outcome, "SkipSentinel", "exactly 2 min is not yet stale")
      yield* TestClock.adjust("1 second")
      const built = yield* bootstrap.attempt("claude-cli")
      assert.strictEqual(built.outcome, "Built", built.message)
      assert.strictEqual(countLines(count), 1)
    }).pipe(Effect.provide(bootstrapLayer(root, { claudeSpec: tarball, npmCommand: npm })))
  })

  it.effect("ensure stops waiting on a live holder whose heartbeat went stale (a hung builder) and takes the lock over", () => {
    const { root, count, tarball, npm } = slowNpm(0)
    writeSentinel(root, { heartbeatMs: 0 })
    return Effect.gen(function*() {
      const waiting = yield* Effect.forkChild((yield* Bootstrap).ensure("claude-cli", { lockWait: "10 minutes" }))
      // The holder (this very process) is alive but never beats again: stale after 2 min.
      yield* TestClock.adjust("2 minutes")
      assert.strictEqual(countLines(count), 0)
      yield* TestClock.adjust("2 seconds")
      const report = yield* Fiber.join(waiting)
      assert.strictEqual(report.outcome, "Built", report.message)
      assert.strictEqual(countLines(count), 1)
    }).pipe(Effect.provide(bootstrapLayer(root, { claudeSpec: tarball, npmCommand: npm })))
  })

  it.effect("ensure waits on a live holder's lock without attempting again, and attempts once it is gone", () => {
    const { root, count, tarball, npm } = slowNpm(0)
    const telemetry = NodePath.join(root, "state", "agentrun", "bootstrap", "telemetry.jsonl")
    writeSentinel(root, { heartbeatMs: 0 })
    return Effect.gen(function*() {
      const bootstrap = yield* Bootstrap
      const waiting = yield* Effect.forkChild(bootstrap.ensure("claude-cli", { lockWait: "1 minute" }))
      yield* TestClock.adjust("30 seconds")
      assert.strictEqual(countLines(telemetry), 1, "one attempt while the holder builds, not one a second")
      NodeFs.rmSync(sentinelPath(root))
      yield* TestClock.adjust("1 second")
      const report = yield* Fiber.join(waiting)
      assert.strictEqual(report.outcome, "Built", report.message)
      assert.strictEqual(countLines(count), 1, "the build ran once the lock was gone")
      assert.strictEqual(countLines(telemetry), 2)
    }).pipe(Effect.provide(bootstrapLayer(root, { claudeSpec: tarball, npmCommand: npm })))
  })
})
