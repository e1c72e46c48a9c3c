/**
 * When did the agent's TCP sockets last receive data? The one per-process sign of a model reply
 * streaming in that claude shows: claude 2.1.330 (a Bun binary) reads its sockets with
 * recvfrom(2), which `/proc/PID/io` rchar does not count, and a sparse stream costs it less CPU
 * than its idle background (observed with the fake Messages API). The kernel keeps, per TCP
 * socket, the time since data last arrived (`tcp_info.tcpi_last_data_recv`), which `ss -i`
 * prints as `lastrcv:<ms>` (iproute2 ss(8)); `ino:<inode>` (`-e`) matches it to the agent's
 * `socket:[inode]` fds. Only asked for just before a stall would be declared, so at most about
 * once per stall timeout.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import type { ProcessControlShape, ToolCommand } from "../procfs/ProcessControl.ts"

/** What `ss` says about one socket: milliseconds since it last received data (null: never, or not shown), bytes received. */
export interface SocketReceive {
  readonly lastReceiveAgoMs: number | null
  readonly bytesReceived: number | null
}

/**
 * Parses `ss -H -t -i -e -n`: each socket is a line with its state and endpoints and `ino:<n>`,
 * followed by an indented line of TCP info (`bytes_received:<n>`, `lastrcv:<ms>`).
 */
export const parseSsInfo = (text: string): ReadonlyMap<number, SocketReceive> => {
  const out = new Map<number, SocketReceive>()
  let inode: number | null = null
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue
    if (!/^\s/.test(line)) {
      const match = /\bino:(\d+)/.exec(line)
      inode = match?.[1] === undefined ? null : Number(match[1])
      if (inode !== null && inode !== 0) out.set(inode, { lastReceiveAgoMs: null, bytesReceived: null })
      continue
    }
    if (inode === null || inode === 0) continue
    const last = /\blastrcv:(\d+)/.exec(line)?.[1]
    const bytes = /\bbytes_received:(\d+)/.exec(line)?.[1]
    out.set(inode, {
      lastReceiveAgoMs: last === undefined ? null : Number(last),
      bytesReceived: bytes === undefined ? null : Number(bytes)
    })
  }
  return out
}

/**
 * Of the sockets `inodes`, the most recent receive: milliseconds ago, or null when none of them
 * ever received data (`bytes_received` absent or 0).
 */
export const mostRecentReceive = (table: ReadonlyMap<number, SocketReceive>, inodes: ReadonlyArray<number>): number | null => {
  let best: number | null = null
  for (const inode of inodes) {
    const s = table.get(inode)
    if (s === undefined || s.lastReceiveAgoMs === null || (s.bytesReceived ?? 0) === 0) continue
    best = best === null ? s.lastReceiveAgoMs : Math.min(best, s.lastReceiveAgoMs)
  }
  return best
}

/** `ss -H -t -i -e -n`: TCP sockets with their info and inodes, no header, numeric (2 s limit). */
export const ssCommand: ToolCommand = { command: "ss", args: ["-H", "-t", "-i", "-e", "-n"], timeoutMs: 2_000, label: "ss -tie" }

/** Runs {@link ssCommand} through `control`. Fails with a reason when ss is missing or fails. */
export const readSsInfo = (control: ProcessControlShape): Effect.Effect<ReadonlyMap<number, SocketReceive>, string> =>
  Effect.map(control.execText(ssCommand), parseSsInfo)
