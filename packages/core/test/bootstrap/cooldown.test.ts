/**
 * Signal kills and the cooldown, with a real installer that really dies by SIGKILL (it kills
 * itself, as the OOM killer would: agentrun sends nothing) and Effect's TestClock aging the marker.
 * Also: an ordinary failure does not cool down; agentrun's own time limit (TestClock) is
 * subprocess_timeout, not signal_killed, even though agentrun's kill is a SIGKILL.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Bootstrap } from "../../src/bootstrap/Bootstrap.ts"
import { bootstrapLayer, countLines, packFakeClaude, realPython, script, tempRoot, testEnv, cleanupRoots } from "./helpers.ts"

afterAll(cleanupRoots)

const realSleep = (ms: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, ms)))

describe("signal kills and cooldown", () => {
  it.effect("SIGKILL → marker → SkipCooldown without running the installer → window passes → exactly one retry → new window; --force overrides", () => {
    const root = tempRoot()
    const count = NodePath.join(root, "venv-attempts")
    script(NodePath.join(root, "bin"), "sigkill-python.sh", "python3.11", { REAL_PYTHON: realPython, COUNT_FILE: count })
    return Effect.gen(function*() {
      const bootstrap = yield* Bootstrap
      const killed = yield* bootstrap.attempt("python-agent-sdk")
      assert.strictEqual(killed.outcome, "BuildFailed")
      assert.strictEqual(killed.phase, "venv")
      const error = killed.error
      assert.strictEqual(error?._tag, "SignalKilled")
      if (error?._tag !== "SignalKilled") return
      assert.strictEqual(error.signalName, "SIGKILL")
      assert.strictEqual(error.returnCode, -9)
      assert.match(error.message, /OOM killer/)
      assert.strictEqual(countLines(count), 1)

      const skipped = yield* bootstrap.attempt("python-agent-sdk")
      assert.strictEqual(skipped.outcome, "SkipCooldown")
      assert.strictEqual(skipped.outcomeCode, 9)
      assert.strictEqual(skipped.retryAfterMs, 24 * 3600_000)
      assert.match(skipped.message, /retry after 1970-01-02T00:00:00.000Z or use --force/)
      assert.strictEqual(countLines(count), 1, "the installer did not run")

      yield* TestClock.adjust("23 hours")
      assert.strictEqual((yield* bootstrap.attempt("python-agent-sdk")).outcome, "SkipCooldown")
      assert.strictEqual(countLines(count), 1)

      yield* TestClock.adjust("1 hour")
      const retried = yield* bootstrap.attempt("python-agent-sdk")
      assert.strictEqual(retried.error?._tag, "SignalKilled")
      assert.strictEqual(countLines(count), 2, "exactly one retry after the window")
      const again = yield* bootstrap.attempt("python-agent-sdk")
      assert.strictEqual(again.outcome, "SkipCooldown", "a new window started")
      assert.strictEqual(countLines(count), 2)

      const forced = yield* bootstrap.attempt("python-agent-sdk", { force: true })
      assert.strictEqual(forced.error?._tag, "SignalKilled")
      assert.strictEqual(countLines(count), 3)
    }).pipe(Effect.provide(bootstrapLayer(root)))
  })

  it.effect("AGENTRUN_BOOTSTRAP_FORCE=1 ignores the cooldown", () => {
    const root = tempRoot()
    const count = NodePath.join(root, "venv-attempts")
    script(NodePath.join(root, "bin"), "sigkill-python.sh", "python3.11", { REAL_PYTHON: realPython, COUNT_FILE: count })
    return Effect.gen(function*() {
      const bootstrap = yield* Bootstrap
      yield* bootstrap.attempt("python-agent-sdk")
      yield* bootstrap.attempt("python-agent-sdk")
      assert.strictEqual(countLines(count), 2)
    }).pipe(Effect.provide(bootstrapLayer(root, { env: testEnv(root, { AGENTRUN_BOOTSTRAP_FORCE: "1" }) })))
  })

  it.effect("an ordinary failure does not cool down: the next attempt runs the installer again", () => {
    const root = tempRoot()
    const count = NodePath.join(root, "venv-attempts")
    script(NodePath.join(root, "bin"), "failing-python.sh", "python3.11", { REAL_PYTHON: realPython, COUNT_FILE: count })
    return Effect.gen(function*() {
      const bootstrap = yield* Bootstrap
      const first = yield* bootstrap.attempt("python-agent-sdk")
      assert.strictEqual(first.error?._tag, "VenvSetupFailed")
      assert.strictEqual(first.error?.code, 15)
      const second = yield* bootstrap.attempt("python-agent-sdk")
      assert.strictEqual(second.outcome, "BuildFailed")
      assert.strictEqual(countLines(count), 2)
      assert.isFalse(NodeFs.existsSync(NodePath.join(root, "state", "agentrun", "bootstrap", "python-agent-sdk.cooldown.json")))
    }).pipe(Effect.provide(bootstrapLayer(root)))
  })

  it.effect("agentrun's own time limit (aged with TestClock) kills the installer: subprocess_timeout (10), no cooldown", () => {
    const root = tempRoot()
    const count = NodePath.join(root, "npm-runs")
    const tarball = packFakeClaude(root)
    const npm = script(NodePath.join(root, "tools"), "npm-slow.sh", "npm-slow", { COUNT_FILE: count, SLEEP: "60" })
    return Effect.gen(function*() {
      const bootstrap = yield* Bootstrap
      const fiber = yield* Effect.forkChild(bootstrap.attempt("claude-cli"))
      for (let i = 0; countLines(count) === 0 && i < 200; i++) yield* realSleep(20)
      yield* realSleep(50)
      yield* TestClock.adjust("5 minutes")
      const report = yield* Fiber.join(fiber)
      assert.strictEqual(report.error?._tag, "SubprocessTimeout", report.message)
      assert.strictEqual(report.error?.code, 10)
      assert.isFalse(NodeFs.existsSync(NodePath.join(root, "state", "agentrun", "bootstrap", "claude-cli.cooldown.json")))
      const error = report.error
      if (error?._tag === "SubprocessTimeout") assert.strictEqual(error.timeoutMs, 300_000)
      assert.strictEqual(countLines(count), 1)
    }).pipe(Effect.provide(bootstrapLayer(root, { claudeSpec: tarball, npmCommand: npm, installerTimeout: "5 minutes" })))
  }, 30_000)
})
