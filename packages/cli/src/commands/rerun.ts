/**
 * `agentrun rerun RUN_ID [--json] [--retries N] [-d] [--pod-env NAME=VALUE...] [-- CLAUDE_FLAGS...]`:
 * run a stored run's request again (the same prompt, working directory and flags: its
 * `request.json`), as a new run, through `run`'s own code path. Flags after `--` are added after
 * the stored claude flags. A Kubernetes run runs again on its cluster with the settings it ran
 * with; a `--pod-env` value stored redacted must be given again (`--pod-env NAME=VALUE`).
 *
 * @module
 */
import { parsePodEnv, RunCatalog, RunStore } from "@agentrun/core"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { Argument, Command, Flag } from "effect/cli"
import { ClaudeArgs } from "../ClaudeArgs.ts"
import { usageError } from "../ExitCode.ts"
import { recordDamaged } from "../Output.ts"
import { readRunRequest, type RunRequest } from "../RunRequest.ts"
import { executeRequest } from "./run.ts"

/** The `rerun` command. */
export const rerun = Command.make("rerun", {
  json: Flag.Boolean("json").pipe(Flag.withDescription("Print exactly one JSON object on stdout (as `run --json`)"), Flag.withDefault(false)),
  retries: Flag.Int("retries").pipe(Flag.withDescription("As `run --retries N`"), Flag.withDefault(0)),
  detach: Flag.Boolean("detach").pipe(Flag.withAlias("d"), Flag.withDescription("As `run -d`"), Flag.withDefault(false)),
  podEnv: Flag.String("pod-env").pipe(
    Flag.withMetavar("NAME=VALUE"),
    Flag.withDescription("A Kubernetes run: set this Pod variable (replacing the stored one; a value stored [REDACTED] must be given so), repeatable"),
    Flag.atLeast(0)
  ),
  runId: Argument.String("run-id").pipe(Argument.withDescription("A run id, a unique prefix or random tail of one, or `last`"))
}, (input) =>
  Effect.gen(function*() {
    const catalog = yield* RunCatalog
    const store = yield* RunStore
    const record = yield* catalog.get(input.runId)
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
    const k8s = request.kubernetes ?? null
    // A Kubernetes run stored before its settings were kept would run locally here.
    if (record.placement._tag === "Kubernetes" && k8s === null) {
      return yield* usageError({ message: `Run ${record.runId} ran on Kubernetes, but its stored request has no Kubernetes settings (it was started before agentrun kept them): start it again with \`agentrun run --backend k8s\`.` })
    }
    if (k8s === null) {
      if (input.podEnv.length > 0) return yield* usageError({ message: `--pod-env applies to a Kubernetes run; run ${record.runId} ran locally.` })
      return yield* executeRequest({ ...request, claudeArgs: [...request.claudeArgs, ...(yield* ClaudeArgs)] }, input)
    }
    const given = new Map<string, string>()
    for (const text of input.podEnv) {
      const v = parsePodEnv(text)
      if (Result.isFailure(v)) return yield* usageError({ message: `flag --pod-env: ${v.failure}` })
      given.set(v.success.name, v.success.value)
    }
    const missing = (stored.value.redactedPodEnv ?? []).filter((name) => !given.has(name))
    if (missing.length > 0) {
      return yield* usageError({
        message: `Run ${record.runId}'s Pod variable${missing.length === 1 ? "" : "s"} ${missing.join(", ")} held a secret, which agentrun never stores: give ${missing.map((n) => `--pod-env ${n}=VALUE`).join(" ")} to rerun it.`
      })
    }
    const podEnv = [
      ...k8s.podEnv.filter((e) => !given.has(e.name)),
      ...[...given].map(([name, value]) => ({ name, value }))
    ]
    const again: RunRequest = {
      ...request,
      claudeArgs: [...request.claudeArgs, ...(yield* ClaudeArgs)],
      // The namespace used (the context's, when none was given): the record's.
      kubernetes: { ...k8s, podEnv, namespace: k8s.namespace ?? (record.placement._tag === "Kubernetes" ? record.placement.namespace : null) }
    }
    yield* executeRequest(again, input)
  }).pipe(
    Effect.catchTags({ RunNotFound: usageError, RunIdAmbiguous: usageError, RunRecordDamaged: recordDamaged })
  )).pipe(Command.withDescription("Run a stored run again: the same prompt, working directory and flags (a Kubernetes run on its cluster), as a new run"))
