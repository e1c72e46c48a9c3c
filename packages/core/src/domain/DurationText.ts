/**
 * Durations as users write them in flags, environment variables and the config file: a number
 * and one unit — `500ms`, `90s`, `30m`, `12h`, `7d`, `2w` — or a bare number of seconds.
 *
 * @module
 */

const units = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const

/** Milliseconds for a duration text (see the module doc), or null when it is not one. Negative values are rejected. */
export const parseDurationText = (text: string | number): number | null => {
  if (typeof text === "number") return Number.isFinite(text) && text >= 0 ? text * 1000 : null
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/.exec(text.trim())
  if (match === null) return null
  return Number(match[1]) * units[(match[2] ?? "s") as keyof typeof units]
}
