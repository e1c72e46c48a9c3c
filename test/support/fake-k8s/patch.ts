/**
 * PATCH bodies: JSON merge patch (RFC 7386), a strategic merge patch for the list fields the
 * backend patches (`metadata.ownerReferences` merged by `uid`, `metadata.finalizers` as a set,
 * `$patch: delete` on list items), and JSON patch (RFC 6902: add/remove/replace/test).
 *
 * @module
 */
import { badRequest } from "./status.ts"

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v)

/** RFC 7386: objects merge recursively, `null` deletes, anything else replaces. */
export const mergePatch = (target: unknown, patch: unknown): unknown => {
  if (!isObject(patch)) return patch
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

/** List fields merged by key instead of replaced, as their patchMergeKey/patchStrategy say. */
const mergeKeys: Record<string, string> = {
  ownerReferences: "uid",
  containers: "name",
  env: "name",
  volumes: "name",
  volumeMounts: "mountPath",
  conditions: "type"
}

/** Strategic merge patch for the fields above; other lists replace, as in a merge patch. */
export const strategicMergePatch = (target: unknown, patch: unknown): unknown => {
  if (!isObject(patch)) return patch
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith("$")) continue
    if (v === null) {
      delete out[k]
      continue
    }
    const key = mergeKeys[k]
    if (key !== undefined && Array.isArray(v)) {
      const cur: Array<Record<string, unknown>> = Array.isArray(out[k]) ? [...(out[k] as Array<Record<string, unknown>>)] : []
      for (const item of v as Array<Record<string, unknown>>) {
        const i = cur.findIndex((c) => c[key] === item[key])
        if (item["$patch"] === "delete") {
          if (i >= 0) cur.splice(i, 1)
        } else if (i >= 0) cur[i] = strategicMergePatch(cur[i], item) as Record<string, unknown>
        else cur.push(item)
      }
      out[k] = cur
    } else if (k === "finalizers" && Array.isArray(v)) {
      out[k] = [...new Set([...(Array.isArray(out[k]) ? (out[k] as Array<unknown>) : []), ...v])]
    } else out[k] = strategicMergePatch(out[k], v)
  }
  return out
}

const pointer = (p: string): Array<string> => p.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))

/** RFC 6902 add/remove/replace/test; fails with 422-like BadRequest when a path does not exist. */
export const jsonPatch = (target: unknown, ops: unknown): unknown => {
  if (!Array.isArray(ops)) throw badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
  const doc = structuredClone(target) as Record<string, unknown>
  for (const op of ops as Array<{ op: string; path: string; value?: unknown }>) {
    const parts = pointer(op.path)
    const last = parts.pop()!
    let parent: any = doc
    for (const part of parts) {
      parent = Array.isArray(parent) ? parent[Number(part)] : parent?.[part]
      if (parent === undefined) throw badRequest(`the server rejected our request due to an error in our request: doc is missing path: "${op.path}"`)
    }
    const idx = Array.isArray(parent) ? (last === "-" ? parent.length : Number(last)) : last
    switch (op.op) {
      case "add":
        if (Array.isArray(parent)) parent.splice(idx as number, 0, op.value)
        else parent[idx] = op.value
        break
      case "replace":
        parent[idx] = op.value
        break
      case "remove":
        if (Array.isArray(parent)) parent.splice(idx as number, 1)
        else delete parent[idx]
        break
      case "test":
        if (JSON.stringify(parent[idx]) !== JSON.stringify(op.value)) throw badRequest(`the server rejected our request due to an error in our request: testing value ${op.path} failed`)
        break
      default:
        throw badRequest(`Unexpected kind: ${op.op}`)
    }
  }
  return doc
}
