/**
 * `agentrun list [--json] [--status S] [--limit N]`: runs, newest first.
 *
 * @module
 */
import { RunCatalog } from "@agentrun/core"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { Command, Flag } from "effect/cli"
import { formatDuration, table } from "../Format.ts"
import { usageError } from "../ExitCode.ts"
import { runJson } from "../Output.ts"

/** The `list` command. */
export const list = Command.make("list", {
  json: Flag.Boolean("json").pipe(Flag.withDescription("One JSON array of runs (same shape as `run --json`)"), Flag.withDefault(false)),
  status: Flag.Literals("status", ["running", "succeeded", "failed", "interrupted"]).pipe(
    Flag.withDescription("Only runs with this status"),
    Flag.optional
  ),
  limit: Flag.Int("limit").pipe(Flag.withDescription("At most N runs"), Flag.optional)
}, (input) =>
  Effect.gen(function*() {
    if (Option.isSome(input.limit) && input.limit.value < 0) return yield* usageError({ message: "--limit must be 0 or more" })
    const catalog = yield* RunCatalog
    const records = yield* catalog.list({
      ...(Option.isSome(input.status) ? { status: input.status.value } : {}),
      ...(Option.isSome(input.limit) ? { limit: input.limit.value } : {})
    })
    if (input.json) {
      return yield* Console.log(JSON.stringify(records.map((r) => runJson(r, r.outcome, r.summary))))
    }
    if (records.length === 0) return yield* Console.log("No runs.")
    const now = yield* Clock.currentTimeMillis
    const rows = records.map((r) => {
      const started = Date.parse(r.createdAt)
      const ended = r.endedAt === null ? now : Date.parse(r.endedAt)
      return [
        r.runId,
        r.status,
        r.outcome?._tag ?? "-",
        `${formatDuration(now - started)} ago`,
        formatDuration(r.summary?.durationMs ?? ended - started),
        r.summary?.costUsd == null ? "-" : `$${r.summary.costUsd.toFixed(4)}`
      ]
    })
    yield* Console.log(table([["RUN", "STATUS", "VERDICT", "AGE", "DURATION", "COST"], ...rows]))
  })).pipe(Command.withDescription("List runs, newest first (id, status, verdict, age, duration, cost)"))
