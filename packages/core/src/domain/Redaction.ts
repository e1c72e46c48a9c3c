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

const shapedSecrets = [
  /sk-ant-[A-Za-z0-9_-]+/.source,
  /Bearer\s+[A-Za-z0-9._~+/=-]+/.source,
  // The `user:password` of a URL (a proxy or registry URL): the scheme and host stay readable.
  /(?<=:\/\/)[^\s/@:]*:[^\s/@]*(?=@)/.source
]
/** A literal that every match of each shaped secret above contains. */
const shapedSecretPrefixes = ["sk-ant-", "Bearer", "://"]

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** A redactor built once per run. */
export interface Redactor {
  /** The text with every secret replaced by {@link redactedMarker} (the same string when there was none). */
  readonly redact: (text: string) => string
  /**
   * False when `bytes` (UTF-8) certainly hold no secret, so they may be stored as they are: none
   * of the secret values, `sk-ant-` or `Bearer` occurs in them. A cheap screen (a byte search per
   * needle) that saves running the pattern over every line.
   */
  readonly mayContainSecret: (bytes: Uint8Array) => boolean
  /** How many distinct secret values came from the environment (for tests and `doctor`). */
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
  const values = new Set<string>(extraSecrets.filter((v) => v.length >= minSecretLength))
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.length >= minSecretLength && secretNamePattern.test(name)) values.add(value)
  }
  const literal = [...values].sort((a, b) => b.length - a.length).map(escapeRegExp)
  const pattern = new RegExp([...literal, ...shapedSecrets].join("|"), "g")
  // Every match of `pattern` contains one of these, so text without them needs no regex pass.
  const candidates = [...values, ...shapedSecretPrefixes]
  // A needle containing another needle is found whenever the other is: search only the shorter.
  const needles = candidates.filter((n) => !candidates.some((m) => m !== n && n.includes(m)))
  const byteNeedles = needles.map((n) => Buffer.from(n, "utf8"))
  return {
    redact: (text) => (needles.some((n) => text.includes(n)) ? text.replace(pattern, redactedMarker) : text),
    mayContainSecret: (bytes) => {
      const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      return byteNeedles.some((n) => buffer.indexOf(n) !== -1)
    },
    secretValues: values.size
  }
}
