/**
 * python-agent-sdk with a real `python -m venv` and pip: success from a local wheel, an
 * unreachable index (conn_refused), Debian's missing-ensurepip failure (BuiltTarget through a
 * wrapper interpreter), interpreter choice.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Bootstrap } from "../../src/bootstrap/Bootstrap.ts"
import { bootstrapLayer, buildWheel, closedPort, realPython, script, tempRoot, cleanupRoots } from "./helpers.ts"

afterAll(cleanupRoots)

describe("python-agent-sdk (real venv and pip)", () => {
  it.effect("builds a venv and installs the wheel fixture: Built, then NoopManaged", () => {
    const root = tempRoot()
    const wheels = buildWheel(root)
    NodeFs.mkdirSync(NodePath.join(root, "bin"))
    NodeFs.symlinkSync(realPython, NodePath.join(root, "bin", "python3.11"))
    return Effect.gen(function*() {
      const bootstrap = yield* Bootstrap
      const first = yield* bootstrap.attempt("python-agent-sdk")
      assert.strictEqual(first.outcome, "Built", first.message)
      assert.strictEqual(first.outcomeCode, 2)
      assert.strictEqual(first.executable, NodePath.join(root, "data", "agentrun", "agent-sdk-venv", "bin", "python"))
      assert.match(first.interpreterVersion ?? "", /^3\.1\d/)
      assert.strictEqual(first.telemetry.outcomeCode, 2)
      const second = yield* bootstrap.attempt("python-agent-sdk")
      assert.strictEqual(second.outcome, "NoopManaged")
      assert.strictEqual(second.outcomeCode, 1)
    }).pipe(Effect.provide(bootstrapLayer(root, { pipArgs: ["--no-index", "--find-links", wheels] })))
  })

  // pip reports the refused connection only in its retry warnings: with --retries 0 it prints just
  // "No matching distribution found" (measured, pip 23.0.1), so the test keeps one retry.
  it.effect("an index on a closed loopback port is conn_refused (3) in the pip phase", () => {
    const root = tempRoot()
    NodeFs.mkdirSync(NodePath.join(root, "bin"))
    NodeFs.symlinkSync(realPython, NodePath.join(root, "bin", "python3.11"))
    const port = closedPort()
    return Effect.gen(function*() {
      const report = yield* (yield* Bootstrap).attempt("python-agent-sdk")
      assert.strictEqual(report.outcome, "BuildFailed")
      assert.strictEqual(report.phase, "pip")
      assert.strictEqual(report.phaseCode, 3)
      assert.strictEqual(report.error?._tag, "ConnRefused")
      assert.strictEqual(report.error?.code, 3)
      assert.strictEqual(report.error?.retryable, true)
      assert.strictEqual(report.telemetry.errorCode, 3)
      // an ordinary failure does not cool down
      assert.strictEqual(NodeFs.existsSync(NodePath.join(root, "state", "agentrun", "bootstrap", "python-agent-sdk.cooldown.json")), false)
    }).pipe(Effect.provide(bootstrapLayer(root, {
      pipArgs: ["--index-url", `http://127.0.0.1:${port}/simple`, "--retries", "1", "--timeout", "3"]
    })))
  })

  it.effect("Debian without python3-venv: venv_ensurepip_fail, then pip --target → BuiltTarget, then NoopTarget", () => {
    const root = tempRoot()
    const wheels = buildWheel(root)
    script(NodePath.join(root, "bin"), "debian-python.sh", "python3.11", { REAL_PYTHON: realPython })
    return Effect.gen(function*() {
      const bootstrap = yield* Bootstrap
      const report = yield* bootstrap.attempt("python-agent-sdk")
      assert.strictEqual(report.outcome, "BuiltTarget", report.message)
      assert.strictEqual(report.outcomeCode, 7)
      const target = NodePath.join(root, "data", "agentrun", "agent-sdk-libs")
      assert.strictEqual(report.pythonPath, target)
      assert.isTrue(NodeFs.existsSync(NodePath.join(target, "claude_agent_sdk", "__init__.py")))
      assert.match(report.message, /python3-venv/)
      const again = yield* bootstrap.attempt("python-agent-sdk")
      assert.strictEqual(again.outcome, "NoopTarget")
      assert.strictEqual(again.outcomeCode, 8)
      const probed = yield* bootstrap.probe("python-agent-sdk")
      assert.strictEqual(probed?.pythonPath, target)
    }).pipe(Effect.provide(bootstrapLayer(root, { pipArgs: ["--no-index", "--find-links", wheels] })))
  })

  it.effect("only old or broken interpreters: IncompatibleInterpreter (6); a failing pyenv-style shim is skipped", () => {
    const root = tempRoot()
    const bin = NodePath.join(root, "bin")
    NodeFs.mkdirSync(bin)
    // A pyenv shim for a version that is not selected: exit 127 (measured on this machine).
    NodeFs.writeFileSync(NodePath.join(bin, "python3.13"), "#!/bin/sh\necho 'pyenv: python3.13: command not found' >&2\nexit 127\n", { mode: 0o755 })
    NodeFs.writeFileSync(NodePath.join(bin, "python3"), "#!/bin/sh\necho 'Python 3.8.10'\n", { mode: 0o755 })
    return Effect.gen(function*() {
      const report = yield* (yield* Bootstrap).attempt("python-agent-sdk")
      assert.strictEqual(report.outcome, "IncompatibleInterpreter")
      assert.strictEqual(report.outcomeCode, 6)
      assert.match(report.message, /3\.8\.10/)
    }).pipe(Effect.provide(bootstrapLayer(root, {
      // no system python on this PATH
      env: { PATH: `${bin}:/bin-none`, HOME: root }
    })))
  })
})
