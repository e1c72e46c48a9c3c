/**
 * Label sanitising, as properties over seeded random ids (valid characters, invalid ASCII,
 * separators at the ends, unicode, lengths around the 63-character limit).
 */
import { assert, describe, it } from "@effect/vitest"
import { prng } from "../../../../test/support/prng.ts"
import { agentSelector, isValidLabelValue, LabelKeys, runLabels, sanitizeLabelValue } from "../../src/k8s/Labels.ts"

/** The API server's own rule for a label value (k8s.io/apimachinery validation.IsValidLabelValue), written independently. */
const apiAccepts = (v: string) => v.length <= 63 && (v === "" || /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(v))

const alphabet = [..."abcXYZ019", ..."-_.", ..." /:#@!*()[]{}$\"'\\\t\n", "ü", "日", "🙂", "\u0000"]

const randomIds = (seed: number, count: number): Array<string> => {
  const rng = prng(seed)
  return Array.from({ length: count }, () => {
    const length = Math.floor(rng() ** 2 * 140)
    return Array.from({ length }, () => alphabet[Math.floor(rng() * alphabet.length)]!).join("")
  })
}

describe("sanitizeLabelValue", () => {
  const ids = [...randomIds(13, 3000), "", "-", "...", "a", "a".repeat(63), "a".repeat(64), "-a-", "Agent #7", "x".repeat(500)]

  it("always gives a value the API server accepts", () => {
    for (const id of ids) assert.isTrue(apiAccepts(sanitizeLabelValue(id)), JSON.stringify(id))
  })

  it("keeps valid values unchanged and is idempotent", () => {
    for (const id of ids) {
      const once = sanitizeLabelValue(id)
      assert.strictEqual(sanitizeLabelValue(once), once)
      if (apiAccepts(id)) assert.strictEqual(once, id)
    }
  })

  it("is deterministic and keeps ids that clean up alike apart", () => {
    const seen = new Map<string, string>()
    for (const id of ids) {
      const value = sanitizeLabelValue(id)
      assert.strictEqual(sanitizeLabelValue(id), value)
      const other = seen.get(value)
      if (other !== undefined) assert.strictEqual(other, id, `${JSON.stringify(other)} and ${JSON.stringify(id)} collide`)
      seen.set(value, id)
    }
    assert.notStrictEqual(sanitizeLabelValue("a b"), sanitizeLabelValue("a/b"))
    assert.notStrictEqual(sanitizeLabelValue("x".repeat(64)), sanitizeLabelValue("x".repeat(65)))
  })

  it("keeps a readable prefix of the id", () => {
    assert.match(sanitizeLabelValue("Agent #7 (reviewer)"), /^Agent-7-reviewer-[0-9a-f]{8}$/)
    assert.match(sanitizeLabelValue("task/" + "x".repeat(80)), /^task-x+-[0-9a-f]{8}$/)
    assert.match(sanitizeLabelValue("🙂"), /^[0-9a-f]{8}$/)
  })

  it("agrees with isValidLabelValue", () => {
    for (const id of ids) assert.strictEqual(isValidLabelValue(id), apiAccepts(id), JSON.stringify(id))
  })
})

describe("runLabels", () => {
  it("sets managed-by and the ids that are present; user labels cannot override them", () => {
    const labels = runLabels(
      { runId: "20261203-094501-123-a1b2c3", agentId: "a b", taskId: null, sessionId: "s" },
      { [LabelKeys.managedBy]: "helm", [LabelKeys.runId]: "spoofed", team: "x" }
    )
    assert.deepStrictEqual(labels, {
      team: "x",
      [LabelKeys.managedBy]: "agentrun",
      [LabelKeys.runId]: "20261203-094501-123-a1b2c3",
      [LabelKeys.agentId]: sanitizeLabelValue("a b"),
      [LabelKeys.sessionId]: "s"
    })
    assert.strictEqual(agentSelector("a b"), `app.kubernetes.io/managed-by=agentrun,agentrun.dev/agent-id=${sanitizeLabelValue("a b")}`)
  })
})
