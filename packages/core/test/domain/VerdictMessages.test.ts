/**
 * What the verdict's one-sentence messages say (issue 15): the limit a run hit, not claude's
 * turn count; "1 turn", not "1 turns".
 */
import { assert, describe, it } from "@effect/vitest"
import { verdict } from "../../src/domain/Verdict.ts"
import { factsOf, loadTranscript } from "../support/Transcripts.ts"

describe("verdict messages", () => {
  it("MaxTurnsReached names the --max-turns limit, not claude's num_turns (which counts one more)", () => {
    // Recorded with --max-turns 1: claude's result says num_turns 2.
    const outcome = verdict({ ...factsOf(loadTranscript("agent-error-max-turns")), maxTurns: 1 })
    assert.strictEqual(outcome._tag, "MaxTurnsReached")
    if (outcome._tag !== "MaxTurnsReached") return
    assert.strictEqual(outcome.evidence.result.numTurns, 2)
    assert.strictEqual(outcome.message, "The agent stopped after reaching its turn limit (--max-turns 1): raise --max-turns or narrow the task.")
    const unknownLimit = verdict(factsOf(loadTranscript("agent-error-max-turns")))
    assert.match(unknownLimit.message, /turn limit \(claude's --max-turns\)/)
    assert.notMatch(unknownLimit.message, /2 turns/)
  })

  it("Succeeded counts turns in words: 1 turn, 2 turns", () => {
    const one = verdict(factsOf(loadTranscript("success")))
    assert.match(one.message, /successfully in 1 turn for \$/)
    const two = verdict(factsOf(loadTranscript("tool-use")))
    assert.match(two.message, /successfully in 2 turns for \$/)
  })
})

describe("permission denials", () => {
  it("a success whose tool call claude refused stays Succeeded, names the denial in its message and evidence", () => {
    const outcome = verdict(factsOf(loadTranscript("tool-use-denied")))
    assert.strictEqual(outcome._tag, "Succeeded")
    if (outcome._tag !== "Succeeded") return
    assert.deepStrictEqual(outcome.evidence.permissionDenials, [{
      toolName: "Bash",
      toolUseId: "toolu_01mwqu6243aqxhjtipgzhj0",
      inputPreview: JSON.stringify({ command: "echo created-by-fake > fake-tool-output.txt && echo done", description: "Create a file" })
    }])
    assert.match(outcome.message, /; claude denied 1 tool call \(Bash\): allow them with --allowedTools or --permission-mode\.$/)
  })

  it("a run without denials has no permissionDenials key (claude writes [])", () => {
    const outcome = verdict(factsOf(loadTranscript("tool-use")))
    assert.strictEqual(outcome._tag, "Succeeded")
    assert.isFalse("permissionDenials" in outcome.evidence)
    assert.notMatch(outcome.message, /denied/)
  })
})

describe("hang messages keep to the evidence", () => {
  it("a caught SIGINT that did not end the agent is said as such, with no guess at why", () => {
    const base = factsOf(loadTranscript("sigint-while-hang-no-result"))
    const outcome = verdict({
      ...base,
      action: {
        _tag: "Hang",
        detection: { reason: "stall", idleMs: 3000, timeoutMs: 3000 },
        waitingOn: { kind: "tool-process", pid: 42, name: "sleep", state: "S" },
        dumpPath: null,
        unavailable: [],
        probe: { answered: false },
        sigint: { state: "S", pending: false, blocked: false, ignored: false, caught: true },
        stop: { steps: [], tookMs: 0 },
        cpuPercent: null
      }
    })
    assert.strictEqual(outcome._tag, "HangUnresponsive")
    assert.match(outcome.message, /\(SIGINT is caught, yet the process did not end within the grace\)/)
    assert.notMatch(outcome.message, /starved|wake-up/)
  })
})
