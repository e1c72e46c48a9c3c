/**
 * LogCursor, property-tested against a model of the kubelet's `pods/log`: a log of lines with
 * nanosecond timestamps (many in one second: bursts), reads answered from `sinceTime`'s whole second
 * on and cut after an arbitrary number of lines (a drop), resumed from the cursor until a read is
 * not cut. Whatever the drops, the lines taken are the log, each once, in order; a new container
 * instance starts over.
 */
import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { acceptLine, advance, beginRead, emptyCursor, epochSecond, type LogCursor } from "../../src/k8s/LogCursor.ts"

interface Line {
  readonly timestamp: string
  readonly text: string
}

const base = Date.parse("2026-12-03T09:45:00Z") / 1000

/** Go's RFC3339Nano: fraction zeros trimmed (`...05Z` when it is whole). */
const rfc3339Nano = (epoch: number, nanos: number): string => {
  const whole = new Date(epoch * 1000).toISOString().slice(0, 19)
  const frac = String(nanos).padStart(9, "0").replace(/0+$/, "")
  return frac === "" ? `${whole}Z` : `${whole}.${frac}Z`
}

/** A log: per second a burst of lines (0..n), timestamps strictly increasing within it. */
const logArb = (prefix: string) =>
  fc.array(fc.nat({ max: 12 }), { minLength: 1, maxLength: 12 }).map((bursts) => {
    const lines: Array<Line> = []
    bursts.forEach((n, s) => {
      for (let i = 0; i < n; i++) lines.push({ timestamp: rfc3339Nano(base + s * 2, i === 0 ? 0 : i * 1000 + 7), text: `${prefix}-${lines.length}` })
    })
    return lines
  })

/** The kubelet's answer to a read with `sinceTime` (whole-second resolution). */
const serve = (log: ReadonlyArray<Line>, sinceTime: string | null): ReadonlyArray<Line> => {
  if (sinceTime === null) return log
  const since = epochSecond(sinceTime)!
  return log.filter((l) => epochSecond(l.timestamp)! >= since)
}

/** Reads `log` of `containerId` from `cursor`, each read cut after the next drop point until none is left. */
const follow = (log: ReadonlyArray<Line>, containerId: string, start: LogCursor, drops: ReadonlyArray<number>) => {
  const taken: Array<string> = []
  let cursor = start
  const pending = [...drops]
  while (true) {
    let read = beginRead(cursor, containerId)
    const answer = serve(log, read.sinceTime)
    const cut = pending.shift()
    const sent = cut === undefined ? answer : answer.slice(0, cut)
    for (const l of sent) {
      const r = acceptLine(read, l.timestamp)
      read = r.read
      if (r.emit) taken.push(l.text)
    }
    cursor = read.cursor
    if (cut === undefined) return { taken, cursor }
  }
}

describe("LogCursor", () => {
  it("advance counts lines per whole second and moves on with a later second", () => {
    let c: LogCursor = { ...emptyCursor, containerId: "c" }
    c = advance(c, "2026-12-03T09:45:00.1Z")
    c = advance(c, "2026-12-03T09:45:00.9Z")
    expect(c).toEqual({ containerId: "c", second: "2026-12-03T09:45:00Z", count: 2 })
    c = advance(c, "2026-12-03T09:45:03Z")
    expect(c).toEqual({ containerId: "c", second: "2026-12-03T09:45:03Z", count: 1 })
    // An offset is read as the instant it names.
    expect(advance(c, "2026-12-03T10:45:03.5+01:00")).toEqual({ containerId: "c", second: "2026-12-03T09:45:03Z", count: 2 })
  })

  it("a resume asks for the cursor's second and skips the lines of it already read", () => {
    const read = beginRead({ containerId: "c", second: "2026-12-03T09:45:00Z", count: 2 }, "c")
    expect(read.sinceTime).toBe("2026-12-03T09:45:00Z")
    const a = acceptLine(read, "2026-12-03T09:45:00.1Z")
    const b = acceptLine(a.read, "2026-12-03T09:45:00.2Z")
    const c = acceptLine(b.read, "2026-12-03T09:45:00.3Z")
    expect([a.emit, b.emit, c.emit]).toEqual([false, false, true])
    expect(c.read.cursor).toEqual({ containerId: "c", second: "2026-12-03T09:45:00Z", count: 3 })
  })

  it("another containerID reads from the start", () => {
    const read = beginRead({ containerId: "old", second: "2026-12-03T09:45:00Z", count: 5 }, "new")
    expect(read).toEqual({ sinceTime: null, skip: null, cursor: { containerId: "new", second: null, count: 0 } })
  })

  it("property: arbitrary drop points over same-second bursts lose no line and repeat none", () => {
    fc.assert(
      fc.property(logArb("a"), fc.array(fc.nat({ max: 40 }), { maxLength: 60 }), (log, drops) => {
        const { taken } = follow(log, "c1", emptyCursor, drops)
        expect(taken).toEqual(log.map((l) => l.text))
      }),
      { numRuns: 500 }
    )
  })

  it("property: a cursor kept from a run (e.g. in the run record) resumes it, and a new container instance is read whole", () => {
    fc.assert(
      fc.property(logArb("a"), logArb("b"), fc.nat({ max: 150 }), fc.array(fc.nat({ max: 40 }), { maxLength: 30 }), (first, second, stopAt, drops) => {
        // A supervisor read part of the first container's log, then stopped (crashed).
        const part = first.slice(0, Math.min(stopAt, first.length))
        const before = follow(part, "c1", emptyCursor, [])
        // Another resumes from the stored cursor: the first container's remaining lines, then the second container's.
        const rest = follow(first, "c1", before.cursor, drops)
        const next = follow(second, "c2", rest.cursor, drops)
        expect([...before.taken, ...rest.taken]).toEqual(first.map((l) => l.text))
        expect(next.taken).toEqual(second.map((l) => l.text))
      }),
      { numRuns: 300 }
    )
  })
})
