/**
 * The CLI commands `bootstrap`, `doctor`, `env` through `Command.runWith`, over the real
 * Bootstrap layer rooted in a temp dir: exit codes 0 / 3 / 75, JSON shapes, shell exports.
 */
import { NodeServices } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Ref } from "effect"
import { Command } from "effect/cli"
import { TestConsole } from "effect/testing"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { bootstrap } from "../../../cli/src/commands/bootstrap.ts"
import { doctor } from "../../../cli/src/commands/doctor.ts"
import { env } from "../../../cli/src/commands/env.ts"
import { CliExitCode } from "../../../cli/src/ExitCode.ts"
import type { Bootstrap } from "../../src/bootstrap/index.ts"
import { bootstrapLayer, buildWheel, packFakeClaude, realPython, script, tempRoot, cleanupRoots } from "./helpers.ts"

afterAll(cleanupRoots)

/** Runs argv against a command, capturing console output and the exit code. */
const runners = {
  bootstrap: Command.runWith(bootstrap, { version: "test" }),
  doctor: Command.runWith(doctor, { version: "test" }),
  env: Command.runWith(env, { version: "test" })
}

const runCli = (
  command: keyof typeof runners,
  argv: ReadonlyArray<string>,
  layer: Layer.Layer<Bootstrap>
): Effect.Effect<{ readonly code: number; readonly stdout: string; readonly out: string }, unknown> =>
  Effect.gen(function*() {
    // The test console is shared by the whole test: keep only this command's lines.
    const logsBefore = (yield* TestConsole.logLines).length
    const errorsBefore = (yield* TestConsole.errorLines).length
    yield* runners[command](argv)
    const code = yield* CliExitCode.use((ref) => Ref.get(ref))
    const stdout = (yield* TestConsole.logLines).slice(logsBefore).map(String).join("\n")
    const stderr = (yield* TestConsole.errorLines).slice(errorsBefore).map(String).join("\n")
    return { code, stdout, out: [stdout, stderr].filter((s) => s !== "").join("\n") }
  }).pipe(Effect.provide(layer), Effect.provide(Layer.mergeAll(CliExitCode.layer, NodeServices.layer)))

describe("CLI", () => {
  it.effect("bootstrap --json: 0 and the report; doctor shows the managed claude and telemetry; env prints the claude path", () => {
    const root = tempRoot()
    const layer = bootstrapLayer(root, { claudeSpec: packFakeClaude(root) })
    return Effect.gen(function*() {
      const built = yield* runCli("bootstrap", ["--json"], layer)
      assert.strictEqual(built.code, 0)
      const report = JSON.parse(built.stdout)
      assert.strictEqual(report.outcome, "Built")
      assert.strictEqual(report.telemetry.outcomeCode, 2)
      const doctor = yield* runCli("doctor", ["--json"], layer)
      const d = JSON.parse(doctor.stdout)
      assert.strictEqual(d.claude.source, "managed")
      assert.strictEqual(d.claude.version, "2.1.330")
      assert.strictEqual(d.lastTelemetry.outcome, "Built")
      const text = yield* runCli("doctor", [], layer)
      assert.match(text.out, /last bootstrap: claude-cli Built \(2\)/)
      const env = yield* runCli("env", ["--runtime", "claude-cli"], layer)
      assert.strictEqual(env.code, 0)
      assert.match(env.out, /^export AGENTRUN_CLAUDE='.*claude-cli\/node_modules\/\.bin\/claude'$/)
      // env and bootstrap share their default runtime: claude-cli.
      const byDefault = yield* runCli("env", [], layer)
      assert.strictEqual(byDefault.out, env.out)
    })
  })

  it.effect("bootstrap exits 3 on BuildFailed and 75 during the cooldown; --force builds again", () => {
    const root = tempRoot()
    const count = NodePath.join(root, "venv-attempts")
    script(NodePath.join(root, "bin"), "sigkill-python.sh", "python3.11", { REAL_PYTHON: realPython, COUNT_FILE: count })
    const layer = bootstrapLayer(root)
    const cmd = "bootstrap" as const
    return Effect.gen(function*() {
      const failed = yield* runCli(cmd, ["--runtime", "python-agent-sdk"], layer)
      assert.strictEqual(failed.code, 3)
      assert.match(failed.out, /BuildFailed \(3\), phase venv \(2\), error signal_killed \(16\)/)
      assert.match(failed.out, /retry after .* or use --force/)
      // doctor names the codes of the last attempt, not just their numbers.
      const doctor = yield* runCli("doctor", [], layer)
      assert.match(doctor.out, /last bootstrap: python-agent-sdk BuildFailed \(3\) at .*, phase venv \(2\), error signal_killed \(16\)/)
      const skipped = yield* runCli(cmd, ["--runtime", "python-agent-sdk"], layer)
      assert.strictEqual(skipped.code, 75)
      assert.match(skipped.out, /SkipCooldown \(9\)/)
      const forced = yield* runCli(cmd, ["--runtime", "python-agent-sdk", "--force"], layer)
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
      const before = yield* runCli("env", ["--runtime", "python-agent-sdk"], layer)
      assert.strictEqual(before.code, 3)
      assert.match(before.out, /agentrun bootstrap --runtime python-agent-sdk/)
      const built = yield* runCli("bootstrap", ["--runtime", "python-agent-sdk"], layer)
      assert.strictEqual(built.code, 0)
      const env = yield* runCli("env", ["--runtime", "python-agent-sdk", "--json"], layer)
      const json = JSON.parse(env.stdout)
      assert.strictEqual(json.pythonPath, NodePath.join(root, "data", "agentrun", "agent-sdk-libs"))
      assert.strictEqual(json.outcome, "NoopTarget")
      const text = yield* runCli("env", ["--runtime", "python-agent-sdk"], layer)
      assert.match(text.out, /export PYTHONPATH='.*agent-sdk-libs'/)
    })
  })
})
