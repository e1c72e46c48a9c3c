import { assert, describe, it } from "@effect/vitest"
import { matchRunId } from "../../src/domain/RunIdQuery.ts"

// Newest first, as the store lists them.
const ids = ["20261202-101700-000-1fbe1a", "20261202-101600-000-1fc000", "20261201-090000-000-abcdef"]

describe("matchRunId", () => {
  it("an exact id, a unique prefix, the random tail (or a prefix of it), last and @", () => {
    assert.deepStrictEqual(matchRunId(ids, ids[1]!), { _tag: "Found", runId: ids[1]! })
    assert.deepStrictEqual(matchRunId(ids, "20261201"), { _tag: "Found", runId: ids[2]! })
    assert.deepStrictEqual(matchRunId(ids, "1fbe1a"), { _tag: "Found", runId: ids[0]! })
    assert.deepStrictEqual(matchRunId(ids, "abc"), { _tag: "Found", runId: ids[2]! })
    assert.deepStrictEqual(matchRunId(ids, "last"), { _tag: "Found", runId: ids[0]! })
    assert.deepStrictEqual(matchRunId(ids, "@"), { _tag: "Found", runId: ids[0]! })
  })

  it("an ambiguous query lists the candidates newest first; nothing matches: NotFound", () => {
    assert.deepStrictEqual(matchRunId(ids, "1f"), { _tag: "Ambiguous", candidates: [ids[0]!, ids[1]!] })
    assert.deepStrictEqual(matchRunId(ids, "20261202"), { _tag: "Ambiguous", candidates: [ids[0]!, ids[1]!] })
    assert.deepStrictEqual(matchRunId(ids, "zzz"), { _tag: "NotFound" })
    assert.deepStrictEqual(matchRunId(ids, ""), { _tag: "NotFound" })
    assert.deepStrictEqual(matchRunId([], "last"), { _tag: "NotFound" })
  })
})
