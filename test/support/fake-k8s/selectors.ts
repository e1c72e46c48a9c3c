/**
 * Label and field selectors with the API server's grammar
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors and
 * .../field-selectors/): `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, comma = AND.
 * Field selectors allow only `=`, `==`, `!=`.
 *
 * @module
 */
import { fieldAt, type KObject } from "./objects.ts"

/** One parsed requirement. */
type Requirement =
  | { readonly op: "eq" | "neq"; readonly key: string; readonly value: string }
  | { readonly op: "in" | "notin"; readonly key: string; readonly values: ReadonlyArray<string> }
  | { readonly op: "exists" | "notexists"; readonly key: string }

/** A selector that failed to parse; the HTTP layer answers 400 BadRequest with `message`. */
export class SelectorError extends Error {}

/** Splits at commas that are not inside parentheses. */
const splitTop = (s: string): Array<string> => {
  const parts: Array<string> = []
  let depth = 0
  let cur = ""
  for (const ch of s) {
    if (ch === "(") depth++
    if (ch === ")") depth--
    if (ch === "," && depth === 0) {
      parts.push(cur)
      cur = ""
    } else cur += ch
  }
  parts.push(cur)
  return parts.map((p) => p.trim()).filter((p) => p !== "")
}

const parseLabelRequirement = (raw: string): Requirement => {
  let m = /^([^\s!=]+)\s+(in|notin)\s+\((.*)\)$/.exec(raw)
  if (m !== null) {
    return { op: m[2] === "in" ? "in" : "notin", key: m[1]!, values: m[3]!.split(",").map((v) => v.trim()) }
  }
  m = /^([^\s!=]+)\s*(==|=|!=)\s*([^\s]*)$/.exec(raw)
  if (m !== null) return { op: m[2] === "!=" ? "neq" : "eq", key: m[1]!, value: m[3]! }
  m = /^!\s*([^\s!=]+)$/.exec(raw)
  if (m !== null) return { op: "notexists", key: m[1]! }
  m = /^([^\s!=(),]+)$/.exec(raw)
  if (m !== null) return { op: "exists", key: m[1]! }
  throw new SelectorError(`unable to parse requirement: ${raw}`)
}

/** A parsed selector: `matches(obj)`. */
export interface Selector {
  readonly matches: (obj: KObject) => boolean
}

const everything: Selector = { matches: () => true }

/** Parses a `labelSelector` query value; empty/absent selects everything. */
export const parseLabelSelector = (s: string | null): Selector => {
  if (s === null || s.trim() === "") return everything
  const reqs = splitTop(s).map(parseLabelRequirement)
  return {
    matches: (obj) => {
      const labels = obj.metadata.labels ?? {}
      return reqs.every((r) => {
        const has = Object.hasOwn(labels, r.key)
        const v = labels[r.key]
        switch (r.op) {
          case "eq": return has && v === r.value
          case "neq": return !has || v !== r.value
          case "in": return has && r.values.includes(v!)
          case "notin": return !has || !r.values.includes(v!)
          case "exists": return has
          case "notexists": return !has
        }
      })
    }
  }
}

/**
 * Parses a `fieldSelector`. The real server supports a per-kind list of fields (metadata.name and
 * metadata.namespace everywhere; status.phase, spec.nodeName for Pods; involvedObject.* for Events);
 * the fake accepts any dotted path and compares its string form.
 */
export const parseFieldSelector = (s: string | null): Selector => {
  if (s === null || s.trim() === "") return everything
  const reqs = splitTop(s).map((raw) => {
    const m = /^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/.exec(raw)
    if (m === null) throw new SelectorError(`invalid selector: '${s}'; can't understand '${raw}'`)
    return { key: m[1]!, neq: m[2] === "!=", value: m[3]!.trim() }
  })
  return {
    matches: (obj) =>
      reqs.every((r) => {
        const v = fieldAt(obj, r.key)
        const str = v === undefined || v === null ? "" : String(v)
        return r.neq ? str !== r.value : str === r.value
      })
  }
}

/** `matchLabels` of a LabelSelector object (what a Job's `spec.selector` holds) as a Selector. */
export const matchLabelsSelector = (matchLabels: Record<string, string>): Selector => ({
  matches: (obj) => Object.entries(matchLabels).every(([k, v]) => obj.metadata.labels?.[k] === v)
})
