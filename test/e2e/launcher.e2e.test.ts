/**
 * The launcher (packages/cli/agentrun.cjs) keeps a V8 code cache per command: the second start of
 * a command must compile the bundle from it. `run` retunes V8's heap while it follows the agent
 * (src/HeapTuning.ts), and V8 rejects a cache made under other flags than the reader's: this
 * checks that the launcher puts them back before it saves the cache, end to end, with the real
 * CLI following a stand-in agent.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { baseEnv, makeSandbox, repoRoot, startCli } from "./support/harness.ts"

const cacheDir = join(repoRoot, "packages/cli/dist/code-cache")
const cacheState = (stderr: string): string | undefined => /agentrun: code cache \S+: (absent|rejected|accepted)/.exec(stderr)?.[1]

describe("launcher code cache", () => {
  it("a second `run` compiles the bundle from the cache the first one left", async () => {
    const sandbox = makeSandbox("agentrun-launcher-")
    try {
      const transcript = join(repoRoot, "test/fixtures/transcripts/success.stdout.jsonl")
      const agent = sandbox.file("agents/claude", `#!/bin/sh\ncat '${transcript}'\n`)
      const env = {
        ...baseEnv(),
        HOME: sandbox.home,
        XDG_STATE_HOME: sandbox.stateHome,
        XDG_DATA_HOME: sandbox.dataHome,
        AGENTRUN_DEBUG_STARTUP: "1"
      }
      // `--help` after `--` is claude's flag, not agentrun's: this is a `run` start, with its cache.
      const run = () => startCli({ argv: ["run", "--claude-path", agent, "hello", "--", "--help"], env, cwd: sandbox.work }).done
      const first = await run()
      expect(first.code, first.stderr).toBe(0)
      expect(cacheState(first.stderr), first.stderr).toBeDefined()
      const second = await run()
      expect(second.code, second.stderr).toBe(0)
      expect(cacheState(second.stderr), second.stderr).toBe("accepted")
      expect(existsSync(cacheDir) && readdirSync(cacheDir).some((f) => f.startsWith("run.") && f.endsWith(".v8cache"))).toBe(true)
      // What the agent said still reaches the user: the cache changes how, not what, runs.
      expect(readFileSync(join(sandbox.runsDir, readdirSync(sandbox.runsDir)[0]!, "events.jsonl"), "utf8")).toContain('"type":"result"')
    } finally {
      sandbox.cleanup()
    }
  }, 30_000)
})
