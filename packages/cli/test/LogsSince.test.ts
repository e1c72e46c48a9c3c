import { assert, describe, it } from "@effect/vitest"
import { sinceCutoffMs } from "../src/commands/logs.ts"

describe("logs --since", () => {
  const now = Date.parse("2026-12-03T12:00:00.000Z")
  it("a duration is that long before now (the flags' duration syntax: a bare number is seconds)", () => {
    assert.deepStrictEqual(sinceCutoffMs("10m", now), { ms: now - 600_000 })
    assert.deepStrictEqual(sinceCutoffMs("90", now), { ms: now - 90_000 })
    assert.deepStrictEqual(sinceCutoffMs("2h", now), { ms: now - 7_200_000 })
  })
  it("an ISO 8601 time is that time", () => {
    assert.deepStrictEqual(sinceCutoffMs("2026-12-03T11:30:00Z", now), { ms: Date.parse("2026-12-03T11:30:00Z") })
    assert.deepStrictEqual(sinceCutoffMs("2026-12-03", now), { ms: Date.parse("2026-12-03") })
  })
  it("anything else is a usage message naming the flag", () => {
    for (const bad of ["soon", "-5m", "2026-13-45T99:00:00Z", ""]) {
      const r = sinceCutoffMs(bad, now)
      assert.isTrue("message" in r && r.message.startsWith("--since must be"), bad)
    }
  })
})
