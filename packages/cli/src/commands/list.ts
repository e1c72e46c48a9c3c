/**
 * `agentrun list [--json] [--status S] [--verdict CLASS] [--family F] [--limit N]`: runs, newest
 * first.
 *
 * @module
 */
import { Families, isDamaged, knownOutcomeTags, outcomeTag, RunCatalog, type RunRecord, RunStore, type StoredRun } from "@agentrun/core"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { Command, Flag } from "effect/cli"
import { clipEnd, clipStart, fitColumns, formatDuration, table, tildePath } from "../Format.ts"
import { usageError } from "../ExitCode.ts"
import { type LiveProgress, liveProgress } from "../LiveProgress.ts"
import { damagedJson, deniedCount, promptLine, runJson, shownStatus, shownStatuses } from "../Output.ts"

/** The widest CWD shown (its end is kept: `…/repo/pkg`). */
const cwdWidth = 32
/** The widest PROMPT shown when stdout is not a terminal (on one, what the terminal's width leaves). */
const promptWidth = 50

/** Whether a listed run passes `--status`, `--verdict` and `--family` (a damaged one has none of them). */
const matches = (r: StoredRun, status: string | null, verdict: string | null, family: string | null): boolean => {
  if (status === null && verdict === null && family === null) return true
  if (isDamaged(r)) return false
  return (status === null || shownStatus(r) === status) &&
    (verdict === null || (r.outcome !== null && outcomeTag(r.outcome) === verdict)) &&
    (family === null || (r.outcome !== null && r.outcome.family === family))
}

/** The `list` command. */
export const list = Command.make("list", {
  json: Flag.Boolean("json").pipe(Flag.withDescription("One JSON array of runs (same shape as `run --json`; a running run adds `progress`)"), Flag.withDefault(false)),
  status: Flag.Literals("status", shownStatuses).pipe(
    Flag.withDescription("Only runs with this status (as the STATUS column shows it: a Cancelled run is `cancelled`)"),
    Flag.optional
  ),
  verdict: Flag.String("verdict").pipe(Flag.withDescription("Only runs with this verdict class (UpstreamUnavailable, Succeeded, …)"), Flag.optional),
  family: Flag.String("family").pipe(Flag.withDescription(`Only runs whose verdict is of this family (${Families.join(", ")})`), Flag.optional),
  limit: Flag.Int("limit").pipe(Flag.withDescription("At most N runs"), Flag.optional)
}, (input) =>
  Effect.gen(function*() {
    if (Option.isSome(input.limit) && input.limit.value < 0) return yield* usageError({ message: "--limit must be 0 or more" })
    const family = Option.getOrNull(input.family)
    if (family !== null && !(Families as ReadonlyArray<string>).includes(family)) {
      return yield* usageError({ message: `--family must be one of ${Families.join(", ")}, not "${family}"` })
    }
    const catalog = yield* RunCatalog
    // Crash recovery first (README, "Crash recovery"), then the filters: a recovered run is interrupted.
    const stored = yield* catalog.recoverAll(yield* catalog.list())
    const verdict = Option.getOrNull(input.verdict)
    // A class this build does not know may still be in the store (written by a newer agentrun).
    if (verdict !== null && !knownOutcomeTags.has(verdict) && !stored.some((r) => !isDamaged(r) && r.outcome !== null && outcomeTag(r.outcome) === verdict)) {
      return yield* usageError({ message: `--verdict: no verdict class "${verdict}" (one of ${[...knownOutcomeTags].join(", ")})` })
    }
    const wanted = stored.filter((r) => matches(r, Option.getOrNull(input.status), verdict, family))
    const records = Option.isSome(input.limit) ? wanted.slice(0, input.limit.value) : wanted
    // Live figures of running runs, from what their transcript holds so far (finished runs have their summary).
    const store = yield* RunStore
    const live = new Map<string, LiveProgress>()
    for (const r of records) {
      if (!isDamaged(r) && r.status === "running") live.set(r.runId, yield* liveProgress(store, r.runId))
    }
    if (input.json) {
      return yield* Console.log(JSON.stringify(records.map((r) => {
        if (isDamaged(r)) return damagedJson(r)
        const progress = live.get(r.runId)
        return progress === undefined ? runJson(r, r.outcome, r.summary) : { ...runJson(r, r.outcome, r.summary), progress }
      })))
    }
    if (records.length === 0) return yield* Console.log("No runs.")
    const now = yield* Clock.currentTimeMillis
    // Shown only when a listed run had a tool call refused: most never do.
    const denied = records.some((r) => !isDamaged(r) && deniedCount(r.outcome) > 0)
    // Shown only when a listed run is a Kubernetes one: a local-only list reads as it always did.
    const k8s = records.some((r) => !isDamaged(r) && r.placement._tag === "Kubernetes")
    const home = process.env["HOME"]
    const row = (r: RunRecord): ReadonlyArray<string> => {
      const started = Date.parse(r.createdAt)
      const ended = r.endedAt === null ? now : Date.parse(r.endedAt)
      const progress = live.get(r.runId)
      const turns = progress?.turns ?? r.summary?.numTurns ?? null
      const cost = progress?.costUsd ?? r.summary?.costUsd ?? null
      return [
        r.runId,
        shownStatus(r),
        r.outcome === null ? "-" : outcomeTag(r.outcome),
        `${formatDuration(now - started)} ago`,
        formatDuration(r.summary?.durationMs ?? ended - started),
        turns === null ? "-" : String(turns),
        cost === null ? "-" : `$${cost.toFixed(4)}`,
        ...(denied ? [String(deniedCount(r.outcome))] : []),
        ...(k8s ? [r.placement._tag === "Kubernetes" ? `k8s ${r.placement.namespace}/${r.placement.jobName}` : "local"] : []),
        clipStart(tildePath(r.agent.cwd, home), cwdWidth),
        promptLine(r.promptPreview) || "-"
      ]
    }
    const rows = records.map((r) =>
      isDamaged(r) ? [r.runId, "damaged", "-", "-", "-", "-", "-", ...(denied ? ["-"] : []), ...(k8s ? ["-"] : []), "-", "-"] : row(r)
    )
    const header = ["RUN", "STATUS", "VERDICT", "AGE", "DURATION", "TURNS", "COST", ...(denied ? ["DENIED"] : []), ...(k8s ? ["BACKEND"] : []), "CWD", "PROMPT"]
    // On a terminal the prompt, then the cwd, give way to the terminal's width; elsewhere a fixed cut.
    const width = process.stdout.isTTY === true && process.stdout.columns > 0 ? process.stdout.columns : null
    const all = [header, ...rows]
    const fitted = width === null
      ? all.map((r) => [...r.slice(0, -1), clipEnd(r[r.length - 1]!, promptWidth)])
      : fitColumns(all, width, [{ column: -1, from: "end", min: 12 }, { column: -2, from: "start", min: 12 }])
    yield* Console.log(table(fitted))
  })).pipe(Command.withDescription("List runs, newest first (id, status, verdict, age, duration, turns, cost, cwd, prompt; a record that cannot be read is a damaged row)"))
