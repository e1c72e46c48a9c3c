/**
 * `agentrun rerun RUN_ID [--json] [--retries N] [-d] [-- CLAUDE_FLAGS...]`: run a stored run's
 * request again (the same prompt, working directory and flags: its `request.json`), as a new run,
 * through `run`'s own code path. Flags after `--` are added after the stored claude flags.
 *
 * @module
 */
import { RunCatalog, RunStore } from "@agentrun/core"
import * as Effect from "effect/Effect"
import { Argument, Command, Flag } from "effect/cli"
import { ClaudeArgs } from "../ClaudeArgs.ts"
import { usageError } from "../ExitCode.ts"
import { recordDamaged } from "../Output.ts"
import { readRunRequest } from "../RunRequest.ts"
import { executeRun } from "./run.ts"

/** The `rerun` command. */
export const rerun = Command.make("rerun", {
  json: Flag.Boolean("json").pipe(Flag.withDescription("Print exactly one JSON object on stdout (as `run --json`)"), Flag.withDefault(false)),
  retries: Flag.Int("retries").pipe(Flag.withDescription("As `run --retries N`"), Flag.withDefault(0)),
  detach: Flag.Boolean("detach").pipe(Flag.withAlias("d"), Flag.withDescription("As `run -d`"), Flag.withDefault(false)),
  runId: Argument.String("run-id").pipe(Argument.withDescription("A run id, a unique prefix or random tail of one, or `last`"))
}, (input) =>
  Effect.gen(function*() {
    const catalog = yield* RunCatalog
    const store = yield* RunStore
    const record = yield* catalog.get(input.runId)
    // The stored request holds no Kubernetes flags: rerun here would run it locally.
    if (record.placement._tag === "Kubernetes") {
      return yield* usageError({ message: `Run ${record.runId} ran on Kubernetes; rerun repeats local runs only: start it again with \`agentrun run --backend k8s\`.` })
    }
    const stored = yield* readRunRequest(store, record.runId)
    if (stored._tag === "None") {
      return yield* usageError({
        message: `Run ${record.runId} has no stored request (it was started before agentrun kept them, or not by \`agentrun run\`): start it again with \`agentrun run\`.`
      })
    }
    if (stored.value.redacted) {
      return yield* usageError({
        message: `Run ${record.runId}'s prompt or flags held a secret, which agentrun never stores (it kept [REDACTED] in its place): start it again with \`agentrun run\`.`
      })
    }
    const request = stored.value.request
    yield* executeRun(
      { ...request, claudeArgs: [...request.claudeArgs, ...(yield* ClaudeArgs)] },
      { json: input.json, retries: input.retries, detach: input.detach }
    )
  }).pipe(
    Effect.catchTags({ RunNotFound: usageError, RunIdAmbiguous: usageError, RunRecordDamaged: recordDamaged })
  )).pipe(Command.withDescription("Run a stored run again: the same prompt, working directory and flags, as a new run"))
