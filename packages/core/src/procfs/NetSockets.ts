/**
 * Parsers for the socket tables `/proc/net/tcp`, `/proc/net/tcp6` and `/proc/net/unix` (source:
 * proc(5), "/proc/net/tcp", "/proc/net/unix"; TCP state numbers from the kernel's
 * `include/net/tcp_states.h`; unix socket states from `include/uapi/linux/net.h` `socket_state`).
 *
 * Read them as `/proc/PID/net/...` to see the target process's network namespace.
 *
 * @module
 */
import * as NodeOs from "node:os"

/** TCP states by number (`include/net/tcp_states.h`), as printed in the `st` column in hex. */
export const TcpStates: Readonly<Record<number, string>> = {
  1: "ESTABLISHED",
  2: "SYN_SENT",
  3: "SYN_RECV",
  4: "FIN_WAIT1",
  5: "FIN_WAIT2",
  6: "TIME_WAIT",
  7: "CLOSE",
  8: "CLOSE_WAIT",
  9: "LAST_ACK",
  10: "LISTEN",
  11: "CLOSING",
  12: "NEW_SYN_RECV"
}

/** One row of `/proc/net/tcp` or `/proc/net/tcp6`, decoded. */
export interface TcpRow {
  readonly protocol: "tcp" | "tcp6"
  /** Local address, dotted IPv4 or compressed IPv6 (no brackets). */
  readonly localAddress: string
  readonly localPort: number
  readonly remoteAddress: string
  readonly remotePort: number
  /** TCP state name from {@link TcpStates}, or `"UNKNOWN(n)"`. */
  readonly state: string
  /** Socket inode: matches the `socket:[inode]` link of an fd. */
  readonly inode: number
}

/** One row of `/proc/net/unix`, decoded. */
export interface UnixRow {
  /** Socket inode: matches the `socket:[inode]` link of an fd. */
  readonly inode: number
  /** `"stream"`, `"dgram"`, `"seqpacket"` or `"type(n)"` (the `Type` column, SOCK_* values). */
  readonly type: string
  /** `St` column: `"unconnected"`, `"connecting"`, `"connected"`, `"disconnecting"` (SS_*). */
  readonly state: string
  /** `Flags` has `__SO_ACCEPTCON` (0x10000): a listening socket. */
  readonly listening: boolean
  /** Bound path; abstract names start with `@`; `null` when unbound (most accepted/connected ends). */
  readonly path: string | null
}

/**
 * Reads one 32-bit word as the kernel printed it: the bytes of the address in host byte order,
 * printed as a hex number (proc(5): "on little-endian architectures the address is printed
 * byte-reversed"). Returns the 4 bytes in network order.
 */
const wordBytes = (hex8: string, littleEndian: boolean): Array<number> => {
  const bytes = [0, 2, 4, 6].map((i) => Number.parseInt(hex8.slice(i, i + 2), 16))
  return littleEndian ? bytes.reverse() : bytes
}

/** Compressed IPv6 text (RFC 5952: longest run of 2+ zero groups as `::`; IPv4-mapped as `::ffff:a.b.c.d`). */
const formatIpv6 = (bytes: ReadonlyArray<number>): string => {
  const groups: Array<number> = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0))
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes.slice(12).join(".")}`
  }
  let bestStart = -1
  let bestLength = 0
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (bestStart < 0) return hex.join(":")
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`
}

/**
 * Decodes `ADDR:PORT` from the tcp tables: 8 hex digits (IPv4) or 32 (IPv6, four host-order
 * 32-bit words), and the port as 4 hex digits in network (normal) order.
 */
export const decodeAddress = (
  text: string,
  littleEndian: boolean = NodeOs.endianness() === "LE"
): { readonly address: string; readonly port: number } | undefined => {
  const [addr, port] = text.split(":")
  if (addr === undefined || port === undefined) return undefined
  if (addr.length === 8) return { address: wordBytes(addr, littleEndian).join("."), port: Number.parseInt(port, 16) }
  if (addr.length === 32) {
    const bytes = [0, 8, 16, 24].flatMap((i) => wordBytes(addr.slice(i, i + 8), littleEndian))
    return { address: formatIpv6(bytes), port: Number.parseInt(port, 16) }
  }
  return undefined
}

/** `host:port`, with brackets for IPv6 (`[::1]:8080`). */
export const formatEndpoint = (address: string, port: number): string =>
  address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`

/**
 * Parses `/proc/net/tcp` or `/proc/net/tcp6`. Columns (after the header): `sl local_address
 * rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...`. Rows that do not
 * parse are skipped.
 */
export const parseTcpTable = (text: string, protocol: "tcp" | "tcp6"): ReadonlyArray<TcpRow> => {
  const rows: Array<TcpRow> = []
  for (const line of text.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/)
    if (cols.length < 10) continue
    const local = decodeAddress(cols[1] ?? "")
    const remote = decodeAddress(cols[2] ?? "")
    const st = Number.parseInt(cols[3] ?? "", 16)
    const inode = Number(cols[9])
    if (local === undefined || remote === undefined || !Number.isFinite(inode)) continue
    rows.push({
      protocol,
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      state: TcpStates[st] ?? `UNKNOWN(${st})`,
      inode
    })
  }
  return rows
}

const unixTypes: Readonly<Record<number, string>> = { 1: "stream", 2: "dgram", 5: "seqpacket" }
const unixStates: Readonly<Record<number, string>> = {
  0: "free",
  1: "unconnected",
  2: "connecting",
  3: "connected",
  4: "disconnecting"
}

/**
 * Parses `/proc/net/unix`. Columns: `Num RefCount Protocol Flags Type St Inode [Path]` (hex
 * except Inode). The peer of a connected unix socket is not in this table.
 */
export const parseUnixTable = (text: string): ReadonlyArray<UnixRow> => {
  const rows: Array<UnixRow> = []
  for (const line of text.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/)
    if (cols.length < 7) continue
    const flags = Number.parseInt(cols[3] ?? "", 16)
    const type = Number.parseInt(cols[4] ?? "", 16)
    const st = Number.parseInt(cols[5] ?? "", 16)
    const inode = Number(cols[6])
    if (!Number.isFinite(inode)) continue
    rows.push({
      inode,
      type: unixTypes[type] ?? `type(${type})`,
      state: unixStates[st] ?? `state(${st})`,
      listening: (flags & 0x10000) !== 0,
      path: cols.length > 7 ? cols.slice(7).join(" ") : null
    })
  }
  return rows
}
