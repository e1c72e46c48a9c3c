/**
 * What `agentrun run` was asked: the prompt, the working directory and the flags as typed, so
 * `agentrun rerun` repeats a run and a detached supervisor (`run -d`) receives its run from the
 * command that started it.
 *
 * Stored in the run's folder as `request.json` (mode 0600, beside record.json, not in it),
 * redacted like everything agentrun stores: a prompt or claude flag that held a secret is kept
 * with `[REDACTED]` in its place and `redacted: true`, and `rerun` refuses such a run rather than
 * send the marker to claude. Records of runs started before this file existed have none.
 *
 * @module
 */
import { lazily, makeRedactor, type RunId, type RunStoreError, type RunStoreShape } from "@agentrun/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/**
 * The `run` command's input, resolved only as far as the command line goes: `cwd` absolute,
 * durations as the flag texts (`5m`, `300`), null where a flag was not given.
 */
export const RunRequest = Schema.Struct({
  prompt: Schema.String,
  cwd: Schema.String,
  claudePath: Schema.NullOr(Schema.String),
  claudeArgs: Schema.Array(Schema.String),
  model: Schema.NullOr(Schema.String),
  maxTurns: Schema.NullOr(Schema.Number),
  timeout: Schema.NullOr(Schema.String),
  /** `--watchdog` (true), `--no-watchdog` (false), neither (null: environment, config file, default). */
  watchdog: Schema.NullOr(Schema.Boolean),
  stallTimeout: Schema.NullOr(Schema.String),
  startupTimeout: Schema.NullOr(Schema.String),
  busyTimeout: Schema.NullOr(Schema.String)
})
export type RunRequest = typeof RunRequest.Type

/** `request.json` as stored: the request (redacted) and whether redaction changed it. */
export const StoredRunRequest = Schema.Struct({
  request: RunRequest,
  redacted: Schema.Boolean
})
export type StoredRunRequest = typeof StoredRunRequest.Type

/** The file name of a run's stored request in its folder. */
export const requestArtifact = "request.json"

const encode = lazily(() => Schema.encodeSync(Schema.fromJsonString(StoredRunRequest)))
const decode = Schema.decodeUnknownOption(Schema.fromJsonString(StoredRunRequest))

/** The request as it may be stored: every secret of `env` (see makeRedactor) redacted. Pure. */
export const redactRequest = (request: RunRequest, env: Readonly<Record<string, string | undefined>>): StoredRunRequest => {
  const redactor = makeRedactor(env)
  const stored: RunRequest = {
    ...request,
    prompt: redactor.redact(request.prompt),
    claudePath: request.claudePath === null ? null : redactor.redact(request.claudePath),
    claudeArgs: request.claudeArgs.map(redactor.redact),
    model: request.model === null ? null : redactor.redact(request.model)
  }
  const redacted = stored.prompt !== request.prompt || stored.claudePath !== request.claudePath ||
    stored.model !== request.model || stored.claudeArgs.some((a, i) => a !== request.claudeArgs[i])
  return { request: stored, redacted }
}

/** Writes the run's `request.json` (redacted with `env`'s secrets). Fails with RunStoreError. */
export const storeRunRequest = (store: RunStoreShape, runId: RunId, request: RunRequest, env: Readonly<Record<string, string | undefined>>) =>
  store.writeArtifact(runId, requestArtifact, encode(redactRequest(request, env)) + "\n")

/**
 * The run's stored request: none when the run has no `request.json` (started before agentrun
 * stored requests, or not by `agentrun run`) or it does not decode. Fails with RunStoreError.
 */
export const readRunRequest = (store: RunStoreShape, runId: RunId): Effect.Effect<Option.Option<StoredRunRequest>, RunStoreError> =>
  Effect.map(store.readArtifact(runId, requestArtifact), Option.flatMap((text) => decode(text)))
