import { assert, describe, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { fromNodeExit } from "../../src/domain/ExitStatus.ts"
import { emptyObservation } from "../../src/domain/Observation.ts"
import { finalVerdictRule, type RunFacts, verdict, verdictPrecedence, verdictRules } from "../../src/domain/Verdict.ts"

const readme = NodeFs.readFileSync(NodePath.join(import.meta.dirname, "../../../../README.md"), "utf8")

/** The numbered list that follows "Precedence" in the README's "Verdicts" section. */
const documentedPrecedence = (): ReadonlyArray<string> => {
  const section = readme.slice(readme.indexOf("### Verdicts"))
  const list = section.slice(section.indexOf("\nPrecedence"))
  const items: Array<string> = []
  for (const line of list.split("\n").slice(1)) {
    const item = /^\d+\. (.+)$/.exec(line)
    if (item !== null) items.push(item[1]!)
    else if (items.length > 0 && line.trim() === "") break
  }
  return items
}

const exitedWith = (code: number): RunFacts => ({
  observation: emptyObservation,
  stderrTail: [],
  exit: fromNodeExit(code, null),
  spawnFailure: null,
  action: { _tag: "None" },
  oomKills: null,
  maxTurns: null
})

describe("verdict rules", () => {
  it("the README lists the rules' precedence as the code orders them", () => {
    assert.deepStrictEqual(documentedPrecedence(), verdictPrecedence)
    assert.strictEqual(verdictPrecedence.length, verdictRules.length + 1)
  })

  it("the first rule that applies decides: a spawn failure outranks a cancellation", () => {
    const cancelled: RunFacts = { ...exitedWith(143), action: { _tag: "Cancel", signal: "SIGTERM", stop: null } }
    assert.strictEqual(verdict(cancelled)._tag, "Cancelled")
    const spawnFailed: RunFacts = {
      ...cancelled,
      spawnFailure: { path: "/nope/claude", reason: "not-found", errno: "ENOENT", detail: "spawn /nope/claude ENOENT" }
    }
    assert.strictEqual(verdict(spawnFailed)._tag, "SpawnFailed")
  })

  it("a run no rule explains is the final rule's: any other non-zero exit", () => {
    const facts = exitedWith(7)
    for (const rule of verdictRules) assert.isNull(rule.decide(facts, null), rule.name)
    assert.strictEqual(finalVerdictRule.decide(facts, null)._tag, "ExitedNonZero")
    assert.strictEqual(verdict(facts)._tag, "ExitedNonZero")
  })
})
