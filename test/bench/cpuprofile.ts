/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): the functions with the most self time
 * and the most inclusive time, as `name (file:line)`.
 *
 *   node test/bench/cpuprofile.ts PROFILE.cpuprofile [TOP=25] [FILTER]
 *
 * Also imported by run.ts to explain a missed goal.
 */
import { readFileSync } from "node:fs"

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}
interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: ReadonlyArray<number>
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
  readonly startTime: number
  readonly endTime: number
}

export interface FunctionCost {
  readonly name: string
  readonly selfMs: number
  readonly totalMs: number
  readonly selfPct: number
  readonly totalPct: number
}

const label = (f: CallFrame): string => {
  const file = f.url === "" ? "" : f.url.replace(/^file:\/\//, "").replace(/^.*\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, "").replace(/^.*\/work\/main\//, "")
  return `${f.functionName === "" ? "(anonymous)" : f.functionName}${file === "" ? "" : ` ${file}:${f.lineNumber + 1}`}`
}

/** Self and inclusive time per function (recursion counted once per sample). */
export const summarise = (profile: Profile): { readonly totalMs: number; readonly functions: ReadonlyArray<FunctionCost> } => {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  let totalUs = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0
    totalUs += dt
    let id: number | undefined = profile.samples[i]!
    const leaf = byId.get(id)!
    const leafName = label(leaf.callFrame)
    self.set(leafName, (self.get(leafName) ?? 0) + dt)
    const seen = new Set<string>()
    while (id !== undefined) {
      const n = byId.get(id)!
      const name = label(n.callFrame)
      if (!seen.has(name)) {
        seen.add(name)
        total.set(name, (total.get(name) ?? 0) + dt)
      }
      id = parent.get(id)
    }
  }
  const functions = [...total.keys()].map((name) => {
    const s = self.get(name) ?? 0
    const t = total.get(name) ?? 0
    return { name, selfMs: s / 1000, totalMs: t / 1000, selfPct: (100 * s) / totalUs, totalPct: (100 * t) / totalUs }
  })
  return { totalMs: totalUs / 1000, functions }
}

/** A printable report: top self time, then top inclusive time (optionally only names matching `filter`). */
export const report = (file: string, top = 25, filter?: RegExp): string => {
  const { totalMs, functions } = summarise(JSON.parse(readFileSync(file, "utf8")) as Profile)
  const rows = (xs: ReadonlyArray<FunctionCost>, key: "selfMs" | "totalMs") =>
    xs.slice().sort((a, b) => b[key] - a[key]).slice(0, top).map((f) =>
      `  ${f.selfMs.toFixed(0).padStart(7)} ms ${f.selfPct.toFixed(1).padStart(5)}% self  ${f.totalMs.toFixed(0).padStart(7)} ms ${
        f.totalPct.toFixed(1).padStart(5)
      }% total  ${f.name}`
    )
  const shown = filter === undefined ? functions : functions.filter((f) => filter.test(f.name))
  return [
    `profile ${file}: ${totalMs.toFixed(0)} ms sampled`,
    "by self time:",
    ...rows(shown, "selfMs"),
    "by inclusive time:",
    ...rows(shown.filter((f) => !/^\((root|program|idle|garbage collector)\)/.test(f.name)), "totalMs")
  ].join("\n")
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, top, filter] = process.argv.slice(2)
  if (file === undefined) {
    process.stderr.write("usage: node test/bench/cpuprofile.ts PROFILE.cpuprofile [TOP] [FILTER]\n")
    process.exit(2)
  }
  process.stdout.write(report(file, top === undefined ? 25 : Number(top), filter === undefined ? undefined : new RegExp(filter)) + "\n")
}
