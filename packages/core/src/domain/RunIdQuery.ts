/**
 * What a user may type where a command takes a RUN_ID (issue 15, "Friction"): an exact id, a
 * unique prefix of one (`20261121-2005`), its random tail or a prefix of it (`1fbe1a`, `1fb`),
 * or `last` / `@` for the newest run. Pure.
 *
 * @module
 */

/** The names of the newest run. */
export const newestRunAliases: ReadonlyArray<string> = ["last", "@"]

/** How a query matched the stored ids. */
export type RunIdMatch =
  | { readonly _tag: "Found"; readonly runId: string }
  | { readonly _tag: "NotFound" }
  | { readonly _tag: "Ambiguous"; readonly candidates: ReadonlyArray<string> }

/** The random tail of a run id (after its last `-`): `a1b2c3` of `20261121-200501-123-a1b2c3`. */
export const randomTail = (runId: string): string => runId.slice(runId.lastIndexOf("-") + 1)

/**
 * Matches `query` against `ids` (newest first, as the store lists them). An exact id wins over
 * any prefix; otherwise every id the query is a prefix of, or whose random tail it is a prefix
 * of, is a candidate: one is found, several are ambiguous (listed newest first).
 */
export const matchRunId = (ids: ReadonlyArray<string>, query: string): RunIdMatch => {
  const q = query.trim()
  if (q === "") return { _tag: "NotFound" }
  if (newestRunAliases.includes(q)) return ids.length === 0 ? { _tag: "NotFound" } : { _tag: "Found", runId: ids[0]! }
  if (ids.includes(q)) return { _tag: "Found", runId: q }
  const candidates = ids.filter((id) => id.startsWith(q) || randomTail(id).startsWith(q))
  if (candidates.length === 1) return { _tag: "Found", runId: candidates[0]! }
  return candidates.length === 0 ? { _tag: "NotFound" } : { _tag: "Ambiguous", candidates }
}
