/**
 * Container logs as the kubelet keeps them: one buffer per container instance (per containerID),
 * each line stamped on arrival with a nanosecond timestamp, written out as RFC3339Nano the way Go
 * formats it (trailing zeros of the fraction dropped: `...05.1234Z`, `...05Z`).
 *
 * @module
 */
import { StringDecoder } from "node:string_decoder"

/** One log line: `ns` is nanoseconds since the epoch, `text` the line without its newline. */
export interface LogEntry {
  readonly ns: bigint
  readonly text: string
}

let lastNs = 0n
const hrBase = process.hrtime.bigint()
const wallBase = BigInt(Date.now()) * 1_000_000n

/** A strictly increasing wall-clock reading in nanoseconds. */
export const nowNs = (): bigint => {
  const t = wallBase + (process.hrtime.bigint() - hrBase)
  lastNs = t > lastNs ? t : lastNs + 1n
  return lastNs
}

/** Go's `time.RFC3339Nano` in UTC: `2026-12-03T09:45:00.123456789Z`, fraction zeros trimmed. */
export const rfc3339Nano = (ns: bigint): string => {
  const ms = Number(ns / 1_000_000n)
  const whole = new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)
  const frac = (ns % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "")
  return frac === "" ? `${whole}Z` : `${whole}.${frac}Z`
}

/** Parses an RFC 3339 time (any fraction) to nanoseconds; undefined when malformed. */
export const parseRfc3339 = (s: string): bigint | undefined => {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(s)
  if (m === null) return undefined
  const secMs = Date.parse(`${m[1]}${m[3]}`)
  if (Number.isNaN(secMs)) return undefined
  return BigInt(secMs) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"))
}

/** The log of one container instance. `closed` once the process ended and its output was flushed. */
export class ContainerLog {
  readonly entries: Array<LogEntry> = []
  private readonly listeners = new Set<(e: LogEntry | null) => void>()
  closed = false

  append(text: string): void {
    const e = { ns: nowNs(), text }
    this.entries.push(e)
    for (const l of [...this.listeners]) l(e)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    for (const l of [...this.listeners]) l(null)
    this.listeners.clear()
  }

  /** Calls `f` for every later line, then once with null when the log closes. Returns an unsubscribe. */
  listen(f: (e: LogEntry | null) => void): () => void {
    if (this.closed) {
      f(null)
      return () => {}
    }
    this.listeners.add(f)
    return () => this.listeners.delete(f)
  }
}

/** Splits a byte stream into lines (a trailing partial line is kept until `end`). */
export class LineAssembler {
  private partial = ""
  private readonly decoder = new StringDecoder("utf8")
  private readonly onLine: (line: string) => void
  constructor(onLine: (line: string) => void) {
    this.onLine = onLine
  }
  push(chunk: Buffer): void {
    const text = this.partial + this.decoder.write(chunk)
    const parts = text.split("\n")
    this.partial = parts.pop()!
    for (const p of parts) this.onLine(p)
  }
  end(): void {
    this.partial += this.decoder.end()
    if (this.partial !== "") this.onLine(this.partial)
    this.partial = ""
  }
}
