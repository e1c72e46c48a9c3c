/**
 * The numeric codes of a bootstrap attempt: outcomes, phases and error kinds.
 *
 * These codes are written to the telemetry record and printed by `agentrun bootstrap --json` and
 * `agentrun doctor`, so they are append-only: a code is never reused or renumbered (outcome 4 is
 * retired and must stay unused).
 *
 * @module
 */

/** The runtimes Bootstrap can make present. */
export const Runtimes = ["claude-cli", "python-agent-sdk"] as const

/**
 * `"claude-cli"`: the `claude` executable runs use (npm package `@anthropic-ai/claude-code`).
 * `"python-agent-sdk"`: the Python `claude-agent-sdk` module (import name `claude_agent_sdk`).
 */
export type Runtime = (typeof Runtimes)[number]

/**
 * How an attempt ended (append-only codes):
 * - `NoopSystem` 0: already present outside agentrun (a supported `claude` on PATH or configured; the
 *   module findable by the system interpreter).
 * - `NoopManaged` 1: agentrun's managed install already works.
 * - `Built` 2: agentrun installed it now.
 * - `BuildFailed` 3: the install ran and failed (see the error kind).
 * - 4: retired, never reused.
 * - `SkipSentinel` 5: another live process holds the build lock; nothing was done.
 * - `IncompatibleInterpreter` 6: no Python >= 3.10 on PATH.
 * - `BuiltTarget` 7: venv creation failed for lack of ensurepip, the `pip --target` fallback worked.
 * - `NoopTarget` 8: the `--target` library dir already works.
 * - `SkipCooldown` 9: a recent installer was killed by a signal; not retrying until the window ends.
 */
export const OutcomeCodes = {
  NoopSystem: 0,
  NoopManaged: 1,
  Built: 2,
  BuildFailed: 3,
  SkipSentinel: 5,
  IncompatibleInterpreter: 6,
  BuiltTarget: 7,
  NoopTarget: 8,
  SkipCooldown: 9
} as const

/** An outcome name, key of {@link OutcomeCodes}. */
export type Outcome = keyof typeof OutcomeCodes

/** Outcomes after which the runtime is usable. */
export const presentOutcomes: ReadonlyArray<Outcome> = ["NoopSystem", "NoopManaged", "Built", "BuiltTarget", "NoopTarget"]

/** Outcomes that mean "skipped for now, try later" (CLI exit 75, EX_TEMPFAIL). */
export const skippedOutcomes: ReadonlyArray<Outcome> = ["SkipSentinel", "SkipCooldown"]

/**
 * Where a failure happened (append-only codes): `pre` 1 (before any installer: interpreter or Node
 * checks, locks), `venv` 2 (`python -m venv`), `pip` 3 (pip into the venv), `main` 4 (an unexpected
 * defect in agentrun itself), `pip_target` 5 (the `pip install --target` fallback), `npm` 6
 * (`npm install` of claude-code).
 */
export const PhaseCodes = {
  pre: 1,
  venv: 2,
  pip: 3,
  main: 4,
  pip_target: 5,
  npm: 6
} as const

/** A phase name, key of {@link PhaseCodes}. */
export type Phase = keyof typeof PhaseCodes

/** The phase names, for schemas. */
export const Phases = ["pre", "venv", "pip", "main", "pip_target", "npm"] as const

/**
 * Installer error kinds (append-only codes). Each has its own tagged error class in `errors.ts`
 * whose `code` is the number here.
 */
export const ErrorKindCodes = {
  pip_no_match: 1,
  dns_fail: 2,
  conn_refused: 3,
  ssl_verify: 4,
  perm_denied: 5,
  no_pip: 6,
  disk_full: 7,
  proxy_auth: 8,
  network_timeout: 9,
  subprocess_timeout: 10,
  venv_ensurepip_fail: 11,
  venv_path_too_long: 12,
  venv_no_module: 13,
  venv_already_exists: 14,
  venv_setup_failed: 15,
  signal_killed: 16,
  npm_not_found: 17,
  npm_integrity: 18,
  npm_engine: 19,
  uncategorized: 99
} as const

/** An error kind name, key of {@link ErrorKindCodes}. */
export type ErrorKind = keyof typeof ErrorKindCodes
