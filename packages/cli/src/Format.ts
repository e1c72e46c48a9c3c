/**
 * Human formatting shared by the run-management commands.
 *
 * @module
 */

/** `850ms`, `12.3s`, `4m05s`, `2h10m`, `3d04h`. Input in milliseconds. */
export const formatDuration = (ms: number): string => {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(1)}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h}h${String(m % 60).padStart(2, "0")}m`
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, "0")}h`
}

/** Pads cells into aligned columns. */
export const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? []
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n")
}

/** `text` cut to at most `max` characters, the cut marked with `…` at the end. */
export const clipEnd = (text: string, max: number): string =>
  text.length <= max ? text : max <= 1 ? "…".slice(0, max) : `${text.slice(0, max - 1)}…`

/** `text` cut to at most `max` characters, keeping its end (a path's last folders): `…/b/c`. */
export const clipStart = (text: string, max: number): string =>
  text.length <= max ? text : max <= 1 ? "…".slice(0, max) : `…${text.slice(text.length - max + 1)}`

/** A path with the home directory shown as `~`. */
export const tildePath = (path: string, home: string | undefined): string =>
  home !== undefined && home !== "" && home !== "/" && (path === home || path.startsWith(`${home}/`)) ? `~${path.slice(home.length)}` : path

/**
 * Fits a table into `width` characters per line (a terminal's columns) by cutting columns, in
 * the order given, down to their minimum: `cut` names each column (by index, from the start;
 * negative from the end) with how it is cut (`end`: `abc…`, `start`: `…xyz`) and its minimum
 * width. Columns not named keep their width; a table that cannot fit stays wider. `width` null:
 * no limit. Rows are cells, the header first.
 */
export const fitColumns = (
  rows: ReadonlyArray<ReadonlyArray<string>>,
  width: number | null,
  cut: ReadonlyArray<{ readonly column: number; readonly from: "end" | "start"; readonly min: number }>
): ReadonlyArray<ReadonlyArray<string>> => {
  if (width === null || rows.length === 0) return rows
  const n = rows[0]!.length
  const widths = Array.from({ length: n }, (_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)))
  const total = () => widths.reduce((a, w) => a + w, 0) + 2 * (n - 1)
  for (const c of cut) {
    const i = c.column < 0 ? n + c.column : c.column
    const over = total() - width
    if (over <= 0) break
    widths[i] = Math.max(Math.min(c.min, widths[i]!), widths[i]! - over)
  }
  return rows.map((r) => r.map((cell, i) => cut.some((c) => (c.column < 0 ? n + c.column : c.column) === i)
    ? (cut.find((c) => (c.column < 0 ? n + c.column : c.column) === i)!.from === "end" ? clipEnd(cell, widths[i]!) : clipStart(cell, widths[i]!))
    : cell))
}
