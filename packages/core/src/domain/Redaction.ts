/**
 * Secret redaction, applied to everything before it is written anywhere (run store, logs, error
 * messages): the values of environment variables whose names contain KEY, TOKEN, SECRET or
 * PASSWORD, and anything shaped like an Anthropic key (`sk-ant-...`) or a bearer token
 * (`Bearer ...`), and the `user:password` of a URL (`https://user:pass@proxy`), wherever they appear — tool output included.
 *
 * @module
 */

/** Replaces a secret in text. */
export const redactedMarker = "[REDACTED]"

/** Environment variable names whose values are secrets (case-insensitive substring). */
export const secretNamePattern = /KEY|TOKEN|SECRET|PASSWORD/i

/**
 * Values shorter than this are not treated as secrets even under a secret-looking name: a flag
 * such as `USE_KEYCHAIN=1` would otherwise redact every "1" in the transcript.
 */
export const minSecretLength = 6

import { NeedleScreen } from "./NeedleScreen.ts"

const shapedSecrets = [
  /sk-ant-[A-Za-z0-9_-]+/.source,
  /Bearer\s+[A-Za-z0-9._~+/=-]+/.source,
  // The `user:password` of a URL (a proxy or registry URL): the scheme and host stay readable.
  // Not across a `"` or a backslash: in a JSON line that would join two strings (RFC 3986 userinfo has neither).
  /(?<=:\/\/)[^\s/@:"\\]*:[^\s/@"\\]*(?=@)/.source
]
/** Literals that every match of each shaped secret above contains (URL credentials: both). */
const shapedSecretLiterals: ReadonlyArray<ReadonlyArray<string>> = [["sk-ant-"], ["Bearer"], ["://", "@"]]

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** A redactor built once per run. */
export interface Redactor {
  /** The text with every secret replaced by {@link redactedMarker} (the same string when there was none). */
  readonly redact: (text: string) => string
  /**
   * False when `bytes` (UTF-8) certainly hold no secret, so they may be stored as they are: none
   * of the secret values, `sk-ant-` or `Bearer` occurs in them, nor the rarer of `://` and `@`.
   * A cheap screen (one native byte search per needle: {@link NeedleScreen}) that saves running
   * the pattern over every line. Meant for one stream's chunks in order: the screen tunes itself
   * to the bytes it sees first.
   */
  readonly mayContainSecret: (bytes: Uint8Array) => boolean
  /** How many distinct secret values came from the environment (and the extra secrets); their JSON-escaped forms are not counted. */
  readonly secretValues: number
}

/**
 * Builds a redactor from an environment (and extra secret values, e.g. a token read from a
 * kubeconfig). Longer values are matched first so that a secret containing another is fully hidden.
 */
export const makeRedactor = (
  env: Readonly<Record<string, string | undefined>>,
  extraSecrets: ReadonlyArray<string> = []
): Redactor => {
  const secrets = new Set<string>(extraSecrets.filter((v) => v.length >= minSecretLength))
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.length >= minSecretLength && secretNamePattern.test(name)) secrets.add(value)
  }
  // A value with a quote, a backslash or a control character appears escaped inside a JSON
  // string, which is how stream-json carries it (claude writes with JSON.stringify): both forms
  // are secrets.
  const values = new Set<string>([...secrets].flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]))
  const literal = [...values].sort((a, b) => b.length - a.length).map(escapeRegExp)
  const pattern = new RegExp([...literal, ...shapedSecrets].join("|"), "g")
  // Every match of `pattern` contains all the literals of one of these groups, so text without
  // them needs no regex pass.
  const groups = [...[...values].map((v) => [v]), ...shapedSecretLiterals]
  const singles = groups.filter((g) => g.length === 1).map((g) => g[0]!)
  // A value containing a single literal is found whenever that literal is: search only the shorter.
  const needles = groups.filter((g) => g.length > 1 || !singles.some((m) => m !== g[0] && g[0]!.includes(m)))
  const screen = new NeedleScreen(needles.map((g) => g.map((n) => Buffer.from(n, "utf8"))))
  return {
    redact: (text) => (needles.some((g) => g.every((n) => text.includes(n))) ? text.replace(pattern, redactedMarker) : text),
    mayContainSecret: (bytes) => screen.includesAny(bytes),
    secretValues: secrets.size
  }
}
