/**
 * The decoded fields of `/proc/PID/status` that tell what a process is doing with signals and
 * whether it is making progress (source: proc(5), "/proc/pid/status").
 *
 * @module
 */
import * as Schema from "effect/Schema"
import { decodeSignalMask, SignalMask } from "./SignalMask.ts"

/**
 * Decoded `/proc/PID/status`.
 *
 * - `state`, `stateMeaning`: the `State:` line, e.g. `"S"` and `"sleeping"` (the kernel's words).
 * - `pending`, `sharedPending`, `blocked`, `ignored`, `caught`: the `SigPnd` (pending for the
 *   thread), `ShdPnd` (pending for the whole process), `SigBlk`, `SigIgn`, `SigCgt` masks.
 * - `threads`: `Threads:`.
 * - `voluntaryCtxtSwitches`, `nonvoluntaryCtxtSwitches`: counters (two samples that do not move
 *   mean the process has not been scheduled in between); `null` when absent.
 * - `vmRssKb`: `VmRSS:` in kB; `null` for zombies and kernel threads.
 */
export const ProcStatus = Schema.Struct({
  state: Schema.String,
  stateMeaning: Schema.String,
  pending: SignalMask,
  sharedPending: SignalMask,
  blocked: SignalMask,
  ignored: SignalMask,
  caught: SignalMask,
  threads: Schema.NullOr(Schema.Number),
  voluntaryCtxtSwitches: Schema.NullOr(Schema.Number),
  nonvoluntaryCtxtSwitches: Schema.NullOr(Schema.Number),
  vmRssKb: Schema.NullOr(Schema.Number)
})
/** See the {@link ProcStatus} schema. */
export type ProcStatus = typeof ProcStatus.Type

/** Splits `/proc/PID/status` into its `Key:\tvalue` lines. */
export const parseStatusLines = (text: string): ReadonlyMap<string, string> => {
  const map = new Map<string, string>()
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":")
    if (colon > 0) map.set(line.slice(0, colon), line.slice(colon + 1).trim())
  }
  return map
}

const numberOrNull = (value: string | undefined): number | null => {
  if (value === undefined) return null
  const n = Number.parseInt(value, 10)
  return Number.isFinite(n) ? n : null
}

/**
 * Decodes the text of `/proc/PID/status`. Missing lines decode to empty masks and `null` numbers,
 * never a failure: the caller keeps whatever evidence there is.
 */
export const parseProcStatus = (text: string): ProcStatus => {
  const lines = parseStatusLines(text)
  // "State:\tS (sleeping)"
  const stateLine = lines.get("State") ?? ""
  const stateMatch = /^(\S+)\s*(?:\((.*)\))?/.exec(stateLine)
  const mask = (key: string) => decodeSignalMask(lines.get(key) ?? "")
  return {
    state: stateMatch?.[1] ?? "?",
    stateMeaning: stateMatch?.[2] ?? "unknown",
    pending: mask("SigPnd"),
    sharedPending: mask("ShdPnd"),
    blocked: mask("SigBlk"),
    ignored: mask("SigIgn"),
    caught: mask("SigCgt"),
    threads: numberOrNull(lines.get("Threads")),
    voluntaryCtxtSwitches: numberOrNull(lines.get("voluntary_ctxt_switches")),
    nonvoluntaryCtxtSwitches: numberOrNull(lines.get("nonvoluntary_ctxt_switches")),
    vmRssKb: numberOrNull(lines.get("VmRSS"))
  }
}
