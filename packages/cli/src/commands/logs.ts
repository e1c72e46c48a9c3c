/**
 * `agentrun logs RUN_ID [-f] [--exit-status] [--raw] [--tail N] [--since D] [--timestamps] [--stderr]`:
 * a run's transcript, rendered from core's transcript events (TranscriptEvents).
 *
 * @module
 */
import {
  eventsStart,
  exitCodeFor,
  formatTranscriptEntry,
  isFinal,
  parseDurationText,
  RunCatalog,
  type RunNotFound,
  type RunRecord,
  type RunRecordDamaged,
  RunStore,
  type RunStoreError,
  type TranscriptEvent,
  transcriptEvents
} from "@agentrun/core"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { Argument, Command, Flag } from "effect/cli"
import { ExitCodes, setExitCode, usageError } from "../ExitCode.ts"
import { recordDamaged, verdictLine } from "../Output.ts"

/**
 * The time `--since` names, in milliseconds since the epoch: a duration before `nowMs` (`10m`,
 * `2h`, a bare number of seconds: DurationText) or an ISO 8601 time (`2026-12-03T12:00:00Z`);
 * a usage message otherwise.
 */
export const sinceCutoffMs = (text: string, nowMs: number): { readonly ms: number } | { readonly message: string } => {
  const ago = parseDurationText(text)
  if (ago !== null) return { ms: nowMs - ago }
  const at = /^\d{4}-\d{2}-\d{2}/.test(text.trim()) ? Date.parse(text.trim()) : Number.NaN
  return Number.isFinite(at)
    ? { ms: at }
    : { message: `--since must be a duration (10m, 2h; a bare number is seconds) or an ISO 8601 time (2026-12-03T12:00:00Z), not "${text}"` }
}

/** The width of a `--timestamps` prefix: an ISO 8601 time with milliseconds, in UTC. */
const unknownStamp = "-".padEnd("2026-12-03T12:00:00.000Z".length)

/** The `logs` command. */
export const logs = Command.make("logs", {
  runId: Argument.String("run-id").pipe(Argument.withDescription("A run id, a unique prefix or random tail of one, or `last`")),
  follow: Flag.Boolean("follow").pipe(
    Flag.withAlias("f"),
    Flag.withDescription("Follow a live run (started by another agentrun process) until its verdict"),
    Flag.withDefault(false)
  ),
  exitStatus: Flag.Boolean("exit-status").pipe(
    Flag.withDescription("With -f: exit with the run's exit code (as `run` would) once it has its verdict"),
    Flag.withDefault(false)
  ),
  raw: Flag.Boolean("raw").pipe(Flag.withDescription("Print the stored stream-json lines as they are (redacted)"), Flag.withDefault(false)),
  tail: Flag.Int("tail").pipe(
    Flag.withDescription("Only the last N transcript entries stored (and the last N lines of --stderr); with -f, then what comes"),
    Flag.optional
  ),
  since: Flag.String("since").pipe(
    Flag.withDescription("Only entries stored since then: a duration ago (10m, 2h; a bare number is seconds) or an ISO 8601 time"),
    Flag.optional
  ),
  timestamps: Flag.Boolean("timestamps").pipe(
    Flag.withAlias("t"),
    Flag.withDescription("Prefix each entry with the time agentrun stored it (ISO 8601, UTC)"),
    Flag.withDefault(false)
  ),
  stderr: Flag.Boolean("stderr").pipe(
    Flag.withDescription("Also print the run's stderr.log (redacted), after the transcript: its lines have no stored times, so they are not interleaved"),
    Flag.withDefault(false)
  )
}, (input) =>
  Effect.gen(function*() {
    const tail = Option.getOrNull(input.tail)
    if (tail !== null && tail < 0) return yield* usageError({ message: "--tail must be 0 or more" })
    if (input.exitStatus && !input.follow) return yield* usageError({ message: "--exit-status needs -f/--follow (or use `agentrun wait RUN_ID`)" })
    const since = Option.isSome(input.since) ? sinceCutoffMs(input.since.value, yield* Clock.currentTimeMillis) : null
    if (since !== null && "message" in since) return yield* usageError(since)
    const catalog = yield* RunCatalog
    const store = yield* RunStore
    const runId = (yield* catalog.get(input.runId)).runId

    let untimed = false
    const shown = (e: TranscriptEvent): boolean => {
      if (e.storedAt === null && (since !== null || input.timestamps)) untimed = true
      // An entry whose time is unknown is shown: hiding it would hide a whole old transcript.
      return since === null || e.storedAt === null || e.storedAt >= since.ms
    }
    const render = (e: TranscriptEvent): ReadonlyArray<string> => {
      const lines = input.raw ? [e.line] : formatTranscriptEntry(e.entry)
      if (!input.timestamps) return lines
      const stamp = e.storedAt === null ? unknownStamp : new Date(e.storedAt).toISOString()
      return lines.map((line) => `${stamp} ${line}`)
    }
    const print = (events: Stream.Stream<TranscriptEvent, RunNotFound | RunRecordDamaged | RunStoreError>, keepLast: number | null) =>
      events.pipe(
        Stream.filter(shown),
        Stream.map(render),
        Stream.filter((lines) => lines.length > 0),
        (s) => keepLast === null ? s : Stream.takeRight(s, keepLast),
        Stream.runForEach((lines) => Console.log(lines.join("\n")))
      )

    // What is stored now (--tail counts from its end); with -f, then what is appended, until the
    // verdict. A dead supervisor's run is recovered as Interrupted on the way.
    let cursor = eventsStart
    yield* print(transcriptEvents(store, runId, { storedOnly: true }).pipe(Stream.tap((e) => Effect.sync(() => cursor = e.cursor))), tail)
    if (input.follow) yield* print(transcriptEvents(store, runId, { from: cursor, recover: catalog.recover }), null)
    if (untimed) yield* Console.error("agentrun: this run's transcript has no stored times (stored by an older agentrun): those entries are shown, unstamped")
    if (input.stderr) {
      // With --tail only the last lines are kept (the log is counted a window at a time).
      const { lines: count, tail: lines } = tail === null
        ? yield* Effect.map(store.readStderr(runId), (all) => ({ lines: all.length, tail: all }))
        : yield* store.readStderrTail(runId, { maxLines: tail })
      if (input.raw) {
        if (lines.length > 0) yield* Console.log(lines.join("\n"))
      } else {
        yield* Console.log([`── stderr.log (${count === 0 ? "empty" : count === 1 ? "1 line" : `${count} lines`})`, ...lines.map((l) => `stderr    ${l}`)].join("\n"))
      }
    }
    const record = yield* store.readRecord(runId)
    if (!input.raw) yield* Console.log(endLine(record))
    if (input.exitStatus) yield* setExitCode(record.outcome === null || !isFinal(record) ? ExitCodes.process : exitCodeFor(record.outcome))
  }).pipe(
    Effect.catchTags({ RunNotFound: usageError, RunIdAmbiguous: usageError, RunRecordDamaged: recordDamaged })
  )).pipe(Command.withDescription("Print a run's transcript: assistant text, tool calls and results, retries, the verdict"))

const endLine = (record: RunRecord): string =>
  !isFinal(record) || record.outcome === null ? `── still running (run ${record.runId})` : verdictLine(record.runId, record.outcome)
