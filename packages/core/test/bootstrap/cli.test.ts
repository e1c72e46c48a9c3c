/**
 * The CLI commands `bootstrap`, `doctor`, `env` through `Command.runWith`, over the real
 * Bootstrap layer rooted in a temp dir: exit codes 0 / 3 / 75, JSON shapes, shell exports.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Ref } from "effect"
import { Command } from "effect/cli"
import { TestConsole } from "effect/testing"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { makeBootstrapCommand } from "../../../cli/src/commands/bootstrap.ts"
import { makeDoctorCommand } from "../../../cli/src/commands/doctor.ts"
import { makeEnvCommand } from "../../../cli/src/commands/env.ts"
import { CliExitCode } from "../../../cli/src/ExitCode.ts"
import { bootstrapLayer, buildWheel, packFakeClaude, realPython, script, tempRoot } from "./helpers.ts"

/** Runs argv against a command, capturing console output and the exit code. */
const runCli = (command: Command.Command<any, any, any, any, any>, argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    yield* Command.runWith(command, { version: "test" })(argv)
    const code = yield* CliExitCode.use((ref) => Ref.get(ref))
    const out = [...(yield* TestConsole.logLines), ...(yield* TestConsole.errorLines)].map(String).join("\n")
    return { code, out }
  }).pipe(Effect.provide(Layer.mergeAll(CliExitCode.layer, NodeServices.layer, TestConsole.layer)))

describe("CLI", () => {
  it.effect("bootstrap --json: 0 and the report; doctor shows the managed claude and telemetry; env prints the claude path", () => {
    const root = tempRoot()
    const layer = bootstrapLayer(root, { claudeSpec: packFakeClaude(root) })
    return Effect.gen(function*() {
      const built = yield* runCli(makeBootstrapCommand(layer), ["--json"])
      assert.strictEqual(built.code, 0)
      const report = JSON.parse(built.out)
      assert.strictEqual(report.outcome, "Built")
      assert.strictEqual(report.telemetry.outcomeCode, 2)
      const doctor = yield* runCli(makeDoctorCommand(layer), ["--json"])
      const d = JSON.parse(doctor.out)
      assert.strictEqual(d.claude.source, "managed")
      assert.strictEqual(d.claude.version, "2.1.330")
      assert.strictEqual(d.lastTelemetry.outcome, "Built")
      const text = yield* runCli(makeDoctorCommand(layer), [])
      assert.match(text.out, /last bootstrap: claude-cli Built \(2\)/)
      const env = yield* runCli(makeEnvCommand(layer), ["--runtime", "claude-cli"])
      assert.strictEqual(env.code, 0)
      assert.match(env.out, /^export AGENTRUN_CLAUDE='.*claude-cli\/node_modules\/\.bin\/claude'$/)
    })
  })

  it.effect("bootstrap exits 3 on BuildFailed and 75 during the cooldown; --force builds again", () => {
    const root = tempRoot()
    const count = NodePath.join(root, "venv-attempts")
    script(NodePath.join(root, "bin"), "sigkill-python.sh", "python3.11", { REAL_PYTHON: realPython, COUNT_FILE: count })
    const layer = bootstrapLayer(root)
    const cmd = makeBootstrapCommand(layer)
    return Effect.gen(function*() {
      const failed = yield* runCli(cmd, ["--runtime", "python-agent-sdk"])
      assert.strictEqual(failed.code, 3)
      assert.match(failed.out, /BuildFailed \(3\), phase venv \(2\), error signal_killed \(16\)/)
      assert.match(failed.out, /retry after .* or use --force/)
      const skipped = yield* runCli(cmd, ["--runtime", "python-agent-sdk"])
      assert.strictEqual(skipped.code, 75)
      assert.match(skipped.out, /SkipCooldown \(9\)/)
      const forced = yield* runCli(cmd, ["--runtime", "python-agent-sdk", "--force"])
      assert.strictEqual(forced.code, 3)
      assert.strictEqual(NodeFs.readFileSync(count, "utf8").trim().split("\n").length, 2)
    })
  })

  it.effect("env --runtime python-agent-sdk: 3 before bootstrap; after a --target build, exports the interpreter and PYTHONPATH", () => {
    const root = tempRoot()
    const wheels = buildWheel(root)
    script(NodePath.join(root, "bin"), "debian-python.sh", "python3.11", { REAL_PYTHON: realPython })
    const layer = bootstrapLayer(root, { pipArgs: ["--no-index", "--find-links", wheels] })
    return Effect.gen(function*() {
      const before = yield* runCli(makeEnvCommand(layer), [])
      assert.strictEqual(before.code, 3)
      assert.match(before.out, /agentrun bootstrap --runtime python-agent-sdk/)
      const built = yield* runCli(makeBootstrapCommand(layer), ["--runtime", "python-agent-sdk"])
      assert.strictEqual(built.code, 0)
      const env = yield* runCli(makeEnvCommand(layer), ["--json"])
      const json = JSON.parse(env.out)
      assert.strictEqual(json.pythonPath, NodePath.join(root, "data", "agentrun", "agent-sdk-libs"))
      assert.strictEqual(json.outcome, "NoopTarget")
      const text = yield* runCli(makeEnvCommand(layer), [])
      assert.match(text.out, /export PYTHONPATH='.*agent-sdk-libs'/)
    })
  })
})
