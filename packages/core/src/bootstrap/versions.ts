/**
 * Version strings: parsing `claude --version` and `python --version` output and comparing them.
 *
 * @module
 */

/** The first `X.Y.Z` (or `X.Y`) in `text`, e.g. `"2.1.330"` from `"2.1.330 (Claude Code)"`; else null. */
export const parseVersion = (text: string): string | null => /(\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1] ?? null

/** Compares dotted numeric versions: negative, zero or positive like `a - b`. Missing parts count as 0. */
export const compareVersions = (a: string, b: string): number => {
  const pa = a.split(".").map((n) => Number.parseInt(n, 10) || 0)
  const pb = b.split(".").map((n) => Number.parseInt(n, 10) || 0)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

/** The major of a Node version such as `"v22.23.3"`; NaN when unparsable. */
export const nodeMajor = (version: string): number => Number.parseInt(version.replace(/^v/, ""), 10)
