/**
 * Read-only virtual documents: a run's transcript (`agentrun-transcript:/<runId>.log`, rendered
 * from the core's transcript events as `agentrun logs` renders them, growing while the run is
 * live: one follower per open transcript, for as long as the run lives) and its verdict
 * (`agentrun-verdict:/<runId>.md`: class, message, evidence, cost).
 *
 * @module
 */
import { formatTranscriptEntry, type RunRecord } from "@agentrun/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import type * as vscode from "vscode"
import { Runs } from "../core/Runs.ts"
import { disposable } from "../vscode/Adapter.ts"
import { VsCode } from "../vscode/VsCodeApi.ts"
import { dollars, verdictText } from "./RunItems.ts"
import { RunsModel } from "./RunsModel.ts"

export const transcriptScheme = "agentrun-transcript"
export const verdictScheme = "agentrun-verdict"

/** The run id a document uri names (`/<runId>.log` or `/<runId>.md`). */
export const runIdOf = (uri: vscode.Uri): string => uri.path.replace(/^\//, "").replace(/\.(log|md)$/, "")

/** The transcript's last line: the verdict, or that the run still runs (as `agentrun logs`). */
export const transcriptTail = (record: RunRecord): string =>
  record.outcome === null || record.status === "running" ? `── still running (run ${record.runId})` : `agentrun: ${verdictText(record.outcome)} [run ${record.runId}]`

/** The verdict document's text (Markdown). */
export const verdictDocument = (record: RunRecord): string => {
  const o = record.outcome
  if (o === null) return `# Run ${record.runId}\n\nStill running (since ${record.createdAt}): no verdict yet.\n`
  const s = record.summary
  const figures = [
    ["status", record.status],
    ["family", o.family],
    ["retryable", String(o.retryable)],
    ["cost", s?.costUsd == null ? "-" : dollars(s.costUsd)],
    ["turns", s?.numTurns == null ? "-" : String(s.numTurns)],
    ["tokens in/out", s?.usage == null ? "-" : `${s.usage.input_tokens ?? "-"} / ${s.usage.output_tokens ?? "-"}`],
    ["duration", s?.durationMs == null ? "-" : `${(s.durationMs / 1000).toFixed(1)} s`],
    ["started", record.createdAt],
    ["ended", record.endedAt ?? "-"],
    ["cwd", record.agent.cwd]
  ]
  return [
    `# ${o._tag}`,
    "",
    o.message,
    "",
    "| | |",
    "|---|---|",
    ...figures.map(([k, v]) => `| ${k} | ${v} |`),
    "",
    "## Evidence",
    "",
    "```json",
    JSON.stringify(o.evidence, null, 2),
    "```",
    "",
    `Run ${record.runId} · prompt: ${record.promptPreview.replace(/\n/g, " ")}`,
    ""
  ].join("\n")
}

/** Opens a run's transcript or verdict document. */
export class Documents extends Context.Service<Documents, {
  readonly openTranscript: (runId: string) => Effect.Effect<void>
  readonly openVerdict: (runId: string) => Effect.Effect<void>
}>()("agentrun-vscode/Documents") {
  static readonly layer = Layer.effect(
    Documents,
    Effect.gen(function*() {
      const api = yield* VsCode
      const runs = yield* Runs
      const model = yield* RunsModel
      const context = yield* Effect.context<never>()
      const scope = yield* Effect.scope
      const run = Effect.runPromiseWith(context)
      const transcriptChanged = yield* disposable(() => new api.EventEmitter<vscode.Uri>())
      const verdictChanged = yield* disposable(() => new api.EventEmitter<vscode.Uri>())
      /** Opened transcripts: the lines rendered so far (their follower appends), and why following stopped early, if it did. */
      const transcripts = new Map<string, { readonly lines: Array<string>; failure: string | null }>()
      const uriFor = (scheme: string, runId: string) => api.Uri.from({ scheme, path: `/${runId}.${scheme === transcriptScheme ? "log" : "md"}` })

      /**
       * Starts following a run's transcript (once per run): what is stored is read before the
       * document's first text is returned (a change fired while VS Code is still opening the
       * document is not asked for again); then each batch appended updates the document.
       */
      const followTranscript = (runId: string) =>
        Effect.gen(function*() {
          const stored = yield* Stream.runCollect(runs.transcript(runId, { storedOnly: true }))
          const open = { lines: stored.flatMap((e) => formatTranscriptEntry(e.entry)), failure: null as string | null }
          transcripts.set(runId, open)
          const changed = Effect.sync(() => transcriptChanged.fire(uriFor(transcriptScheme, runId)))
          const last = stored.at(-1)
          yield* runs.transcript(runId, last === undefined ? {} : { from: last.cursor }).pipe(
            Stream.runForEachArray((events) =>
              Effect.andThen(Effect.sync(() => {
                for (const e of events) open.lines.push(...formatTranscriptEntry(e.entry))
              }), changed)
            ),
            Effect.catch((e) => Effect.sync(() => void (open.failure = `agentrun: ${e._tag}: ${e.message}`))),
            // The end: the record is final, so the tail shows the verdict.
            Effect.ensuring(changed),
            Effect.forkIn(scope)
          )
          return open
        })

      const transcriptText = (runId: string) =>
        Effect.gen(function*() {
          const record = yield* runs.get(runId)
          const open = transcripts.get(record.runId) ?? (yield* followTranscript(record.runId))
          return [...open.lines, ...(open.failure === null ? [] : [open.failure]), transcriptTail(record)].join("\n") + "\n"
        }).pipe(Effect.catch((e) => Effect.succeed(`agentrun: ${e._tag}: ${e.message}\n`)))

      const verdictText = (runId: string) =>
        runs.get(runId).pipe(Effect.map(verdictDocument), Effect.catch((e) => Effect.succeed(`agentrun: ${e._tag}: ${e.message}\n`)))

      yield* disposable(() =>
        api.workspace.registerTextDocumentContentProvider(transcriptScheme, {
          onDidChange: transcriptChanged.event,
          provideTextDocumentContent: (uri) => run(transcriptText(runIdOf(uri)))
        })
      )
      yield* disposable(() =>
        api.workspace.registerTextDocumentContentProvider(verdictScheme, {
          onDidChange: verdictChanged.event,
          provideTextDocumentContent: (uri) => run(verdictText(runIdOf(uri)))
        })
      )

      // An open verdict follows its record (a transcript follows its events, above).
      yield* Stream.fromPubSub(model.changes).pipe(
        Stream.runForEach((change) =>
          Effect.sync(() => {
            if (change._tag === "RecordWritten") verdictChanged.fire(uriFor(verdictScheme, change.runId))
          })
        ),
        Effect.forkScoped
      )

      const open = (scheme: string) => (runId: string) =>
        Effect.promise(async () => {
          const doc = await api.workspace.openTextDocument(uriFor(scheme, runId))
          await api.window.showTextDocument(doc, { preview: false })
        })
      return Documents.of({ openTranscript: open(transcriptScheme), openVerdict: open(verdictScheme) })
    })
  )
}
