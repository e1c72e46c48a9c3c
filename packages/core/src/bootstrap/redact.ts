/**
 * Keeping secrets out of messages, logs and telemetry, and the short forms of installer output
 * that bootstrap records (tail, last line, stable hash).
 *
 * @module
 */
import * as NodeCrypto from "node:crypto"

/** Environment variable names whose values are secrets: any name containing one of these words. */
const secretName = /KEY|TOKEN|SECRET|PASSWORD/i

/** Shortest value we treat as a secret to hide (shorter values would garble ordinary text). */
const minimumSecretLength = 4

/**
 * The secret values of an environment: the values of variables whose names contain KEY, TOKEN,
 * SECRET or PASSWORD (case-insensitive), at least 4 characters long, longest first.
 */
export const secretValues = (env: Readonly<Record<string, string | undefined>>): ReadonlyArray<string> =>
  Object.entries(env)
    .filter(([name, value]) => secretName.test(name) && value !== undefined && value.length >= minimumSecretLength)
    .map(([, value]) => value as string)
    .sort((a, b) => b.length - a.length)

/**
 * Replaces every secret value (see {@link secretValues}) and every `user:password@` in a URL with
 * `[redacted]`.
 */
export const redact = (text: string, secrets: ReadonlyArray<string>): string => {
  let out = text
  for (const secret of secrets) out = out.split(secret).join("[redacted]")
  return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*:[^\s/@]*@/gi, "$1[redacted]@")
}

/** The last `maxLines` (default 20) non-empty lines of `text`, joined by newlines. */
export const tail = (text: string, maxLines = 20): string =>
  text.split(/\r?\n/).filter((line) => line.trim() !== "").slice(-maxLines).join("\n")

/** The last non-empty line of `text`, trimmed; empty string when there is none. */
export const lastLine = (text: string): string => {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "")
  return lines[lines.length - 1] ?? ""
}

/**
 * A short (12 hex digits) hash of an installer's output tail, stable across machines and runs:
 * before hashing, absolute paths become `<path>`, hex strings of 8+ digits `<hex>`, and numbers `N`,
 * so the same failure in another directory or at another time hashes the same. Empty input → `""`.
 */
export const stderrHash = (text: string): string => {
  const normalised = tail(text, 5)
    .toLowerCase()
    .replace(/(?:\/[^\s'":,)\]]+)+/g, "<path>")
    .replace(/\b[0-9a-f]{8,}\b/g, "<hex>")
    .replace(/\d+/g, "N")
    .replace(/[ \t]+/g, " ")
  if (normalised.trim() === "") return ""
  return NodeCrypto.createHash("sha256").update(normalised).digest("hex").slice(0, 12)
}
