/**
 * Decoding of the signal masks in `/proc/PID/status` (`SigPnd`, `ShdPnd`, `SigBlk`, `SigIgn`,
 * `SigCgt`): 64-bit masks printed as 16 hex digits, where bit n-1 set means signal n is in the set
 * (source: proc(5), "/proc/pid/status"; the kernel prints them with `render_sigset_t`).
 *
 * @module
 */
import * as Schema from "effect/Schema"
import { signalName } from "../domain/ExitStatus.ts"

/**
 * The name of any Linux signal number 1..64. 1..31 are the standard names (signal(7)); 32 and 33
 * are reserved by glibc for its threads implementation and named `"SIG32"`, `"SIG33"`; 34..64 are
 * the real-time signals named as bash's `kill -l` does, `"SIGRTMIN"`, `"SIGRTMIN+1"`, ...,
 * `"SIGRTMIN+30"` (= SIGRTMAX, glibc's SIGRTMIN is 34).
 */
export const anySignalName = (n: number): string => {
  const standard = signalName(n)
  if (standard !== undefined) return standard
  if (n >= 34 && n <= 64) return n === 34 ? "SIGRTMIN" : `SIGRTMIN+${n - 34}`
  return `SIG${n}`
}

/**
 * A decoded mask: the hex text as the kernel printed it and the names of the signals in the set,
 * by ascending signal number.
 */
export const SignalMask = Schema.Struct({
  hex: Schema.String,
  signals: Schema.Array(Schema.String)
})
/** See the {@link SignalMask} schema. */
export type SignalMask = typeof SignalMask.Type

/**
 * Decodes a hex mask such as `"0000000000000002"` (SIGINT) into signal names: bit n-1 = signal n.
 * Non-hex text yields an empty set (the hex is kept so the evidence is not lost).
 */
export const decodeSignalMask = (hex: string): SignalMask => {
  const clean = hex.trim()
  if (!/^[0-9a-fA-F]+$/.test(clean)) return { hex: clean, signals: [] }
  const bits = BigInt(`0x${clean}`)
  const signals: Array<string> = []
  for (let n = 1; n <= clean.length * 4; n++) {
    if ((bits >> BigInt(n - 1)) & 1n) signals.push(anySignalName(n))
  }
  return { hex: clean, signals }
}
