/**
 * Secret redaction, applied to everything before it is written anywhere (run store, logs, error
 * messages): the values of environment variables whose names contain KEY, TOKEN, SECRET or
 * PASSWORD, and anything shaped like an Anthropic key (`sk-ant-...`) or a bearer token
 * (`Bearer ...`), wherever they appear — tool output included.
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
  /Bearer\s+[A-Za-z0-9._~+/=-]+/.source
]

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** A redactor built once per run. */
export interface Redactor {
  /** The text with every secret replaced by {@link redactedMarker}. */
  readonly redact: (text: string) => string
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
  return {
    redact: (text) => text.replace(pattern, redactedMarker),
    secretValues: values.size
  }
}
