/**
 * claude-cli with a real npm: install from a local tarball fixture (offline), a version that does
 * not exist on the real registry (npm_not_found), engines checks (npm_engine), npm killed by
 * SIGSEGV under a real address-space limit, and one real install of the pinned claude-code.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Bootstrap } from "../../src/bootstrap/Bootstrap.ts"
import { bootstrapLayer, packFakeClaude, script, tempRoot, testEnv, cleanupRoots } from "./helpers.ts"

afterAll(cleanupRoots)

const cooldownFile = (root: string) => NodePath.join(root, "state", "agentrun", "bootstrap", "claude-cli.cooldown.json")

describe("claude-cli (real npm)", () => {
  it.effect("installs the tarball fixture into the managed prefix: Built, then NoopManaged; resolveClaude uses it", () => {
    const root = tempRoot()
    const tarball = packFakeClaude(root)
    return Effect.gen(function*() {
      const bootstrap = yield* Bootstrap
      const report = yield* bootstrap.attempt("claude-cli")
      assert.strictEqual(report.outcome, "Built", report.message)
      assert.strictEqual(report.version, "2.1.330")
      assert.strictEqual(report.executable, NodePath.join(root, "data", "agentrun", "claude-cli", "node_modules", ".bin", "claude"))
      const again = yield* bootstrap.ensure("claude-cli")
      assert.strictEqual(again.outcome, "NoopManaged")
      const resolved = yield* bootstrap.resolveClaude()
      assert.strictEqual(resolved.source, "managed")
      const configured = yield* bootstrap.resolveClaude({ claudePath: "/nonexistent/claude" })
      assert.deepStrictEqual([configured.source, configured.path], ["configured", "/nonexistent/claude"])
    }).pipe(Effect.provide(bootstrapLayer(root, { claudeSpec: tarball })))
  })

  it.effect("a supported claude on PATH is NoopSystem and nothing is installed", () => {
    const root = tempRoot()
    const bin = NodePath.join(root, "bin")
    NodeFs.mkdirSync(bin)
    NodeFs.writeFileSync(NodePath.join(bin, "claude"), "#!/bin/sh\necho '2.1.330 (Claude Code)'\n", { mode: 0o755 })
    return Effect.gen(function*() {
      const report = yield* (yield* Bootstrap).attempt("claude-cli")
      assert.strictEqual(report.outcome, "NoopSystem")
      assert.strictEqual(report.executable, NodePath.join(bin, "claude"))
      assert.isFalse(NodeFs.existsSync(NodePath.join(root, "data", "agentrun", "claude-cli")))
    }).pipe(Effect.provide(bootstrapLayer(root, { claudeSpec: "/nonexistent.tgz" })))
  })

  it.effect("a version the registry does not have is npm_not_found (17), no cooldown", () => {
    const root = tempRoot()
    return Effect.gen(function*() {
      const report = yield* (yield* Bootstrap).attempt("claude-cli")
      assert.strictEqual(report.outcome, "BuildFailed")
      assert.strictEqual(report.phase, "npm")
      assert.strictEqual(report.error?._tag, "NpmNotFound")
      assert.strictEqual(report.error?.code, 17)
      assert.isFalse(NodeFs.existsSync(cooldownFile(root)))
    }).pipe(Effect.provide(bootstrapLayer(root, { claudeVersion: "0.0.0-agentrun-does-not-exist" })))
  })

  it.effect("a package whose engines exclude this Node fails with npm_engine (19) under --engine-strict", () => {
    const root = tempRoot()
    const tarball = packFakeClaude(root, { engines: { node: ">=99.0.0" } })
    return Effect.gen(function*() {
      const report = yield* (yield* Bootstrap).attempt("claude-cli")
      assert.strictEqual(report.error?._tag, "NpmEngine", report.message)
      assert.strictEqual(report.error?.code, 19)
      assert.strictEqual(report.phase, "npm")
    }).pipe(Effect.provide(bootstrapLayer(root, { claudeSpec: tarball })))
  })

  it.effect("Node 20 (claude-code 2.1.330 needs >= 22) is npm_engine in the pre phase, before npm runs", () => {
    const root = tempRoot()
    return Effect.gen(function*() {
      const report = yield* (yield* Bootstrap).attempt("claude-cli")
      assert.strictEqual(report.error?._tag, "NpmEngine")
      assert.strictEqual(report.phase, "pre")
      assert.match(report.message, /Node >= 22/)
    }).pipe(Effect.provide(bootstrapLayer(root, { nodeExecutable: "/usr/bin/node", claudeSpec: "/nonexistent.tgz" })))
  })

  it.effect("the installed claude's --version killed by SIGKILL (as by the OOM killer) is signal_killed, with the cooldown", () => {
    const root = tempRoot()
    const tarball = packFakeClaude(root)
    return Effect.gen(function*() {
      const bootstrap = yield* Bootstrap
      const report = yield* bootstrap.attempt("claude-cli")
      assert.strictEqual(report.outcome, "BuildFailed")
      assert.strictEqual(report.phase, "npm")
      const error = report.error
      assert.strictEqual(error?._tag, "SignalKilled", report.message)
      if (error?._tag !== "SignalKilled") return
      assert.strictEqual(error.signalName, "SIGKILL")
      assert.match(error.command, /claude --version$/)
      assert.match(error.message, /OOM killer/)
      assert.strictEqual(JSON.parse(NodeFs.readFileSync(cooldownFile(root), "utf8")).signal, "SIGKILL")
      assert.strictEqual((yield* bootstrap.attempt("claude-cli")).outcome, "SkipCooldown", "no reinstall loop")
    }).pipe(Effect.provide(bootstrapLayer(root, { claudeSpec: tarball, env: testEnv(root, { FAKE_CLAUDE_VERSION_SIGKILL: "1" }) })))
  })

  it.effect("npm under `ulimit -v 100000` really dies by SIGSEGV with no output: signal_killed (16), cooldown marker", () => {
    const root = tempRoot()
    const tarball = packFakeClaude(root)
    const npm = script(NodePath.join(root, "tools"), "npm-ulimit.sh", "npm-ulimit")
    return Effect.gen(function*() {
      const report = yield* (yield* Bootstrap).attempt("claude-cli")
      assert.strictEqual(report.outcome, "BuildFailed")
      const error = report.error
      assert.strictEqual(error?._tag, "SignalKilled", report.message)
      if (error?._tag !== "SignalKilled") return
      assert.strictEqual(error.signalName, "SIGSEGV")
      assert.strictEqual(error.via, "wait")
      assert.strictEqual(error.returnCode, -11)
      assert.strictEqual(error.stderrTail, "")
      assert.match(error.message, /address-space limit/)
      assert.match(report.message, /retry after .* or use --force/)
      assert.strictEqual(report.telemetry.returnCode, -11)
      assert.strictEqual(report.telemetry.errorCode, 16)
      const marker = JSON.parse(NodeFs.readFileSync(cooldownFile(root), "utf8"))
      assert.strictEqual(marker.signal, "SIGSEGV")
    }).pipe(Effect.provide(bootstrapLayer(root, { claudeSpec: tarball, npmCommand: npm })))
  })

  it.effect("installs the real pinned @anthropic-ai/claude-code 2.1.330 from the registry (native binary answers --version)", () => {
    const root = tempRoot()
    return Effect.gen(function*() {
      const report = yield* (yield* Bootstrap).attempt("claude-cli")
      assert.strictEqual(report.outcome, "Built", report.message)
      assert.strictEqual(report.version, "2.1.330")
    }).pipe(Effect.ensuring(Effect.sync(() => NodeFs.rmSync(root, { recursive: true, force: true }))), Effect.provide(bootstrapLayer(root)))
  }, 120_000)
})
