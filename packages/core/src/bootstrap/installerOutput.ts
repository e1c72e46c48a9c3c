/**
 * The short forms of installer output that bootstrap records: tail, last line, stable hash.
 * (Secrets are removed with the shared Redactor, domain/Redaction.ts.)
 *
 * @module
 */
import * as NodeCrypto from "node:crypto"

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
