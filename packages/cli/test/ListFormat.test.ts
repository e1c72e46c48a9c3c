import { assert, describe, it } from "@effect/vitest"
import { clipEnd, clipStart, fitColumns, table, tildePath } from "../src/Format.ts"
import { redactRequest, type RunRequest } from "../src/RunRequest.ts"

describe("list's columns", () => {
  it("cuts a prompt at its end and a path at its start, marking the cut", () => {
    assert.strictEqual(clipEnd("abcdef", 4), "abc…")
    assert.strictEqual(clipEnd("abc", 4), "abc")
    assert.strictEqual(clipStart("/home/u/repo/pkg", 9), "…repo/pkg")
    assert.strictEqual(tildePath("/home/u/repo", "/home/u"), "~/repo")
    assert.strictEqual(tildePath("/home/user2/repo", "/home/u"), "/home/user2/repo")
  })

  it("fits a table into the terminal's width: the prompt gives way first, then the cwd, each down to its minimum", () => {
    const rows = [["RUN", "CWD", "PROMPT"], ["20261203-130041-999-9265d3", "/home/u/projects/agentrun/packages", "summarise the repository and everything in it"]]
    const cut = [{ column: -1, from: "end", min: 12 }, { column: -2, from: "start", min: 12 }] as const
    const at80 = fitColumns(rows, 80, cut)
    assert.strictEqual(at80[1]![1], rows[1]![1]) // the prompt's cut was enough
    for (const line of table(at80).split("\n")) assert.isAtMost(line.length, 80)
    assert.isTrue(table(at80).endsWith("…"))
    const at60 = fitColumns(rows, 60, cut)
    assert.strictEqual(at60[1]![2]!.length, 12)
    assert.isTrue(at60[1]![1]!.startsWith("…"))
    for (const line of table(at60).split("\n")) assert.isAtMost(line.length, 60)
    // Too narrow for the minimums: as narrow as they allow.
    assert.deepStrictEqual(fitColumns(rows, 10, cut)[1]!.map((c) => c.length), [26, 12, 12])
    assert.deepStrictEqual(fitColumns(rows, null, cut), rows)
  })
})

describe("the stored request (rerun)", () => {
  const request: RunRequest = {
    prompt: "deploy with token tok-123456",
    cwd: "/w",
    claudePath: null,
    claudeArgs: ["--allowedTools", "Bash"],
    model: null,
    maxTurns: 3,
    timeout: "5m",
    watchdog: null,
    stallTimeout: null,
    startupTimeout: null,
    busyTimeout: null
  }

  it("is redacted like every stored file, and says when redaction changed it", () => {
    const stored = redactRequest(request, { MY_TOKEN: "tok-123456" })
    assert.isTrue(stored.redacted)
    assert.strictEqual(stored.request.prompt, "deploy with token [REDACTED]")
    assert.deepStrictEqual(redactRequest(request, {}), { request, redacted: false })
  })
})
