/**
 * How a run looks in the Runs view and in one-line messages: pure functions of the record (and
 * the live usage), so the unit tests check them without VS Code.
 *
 * @module
 */
import { type Family, isDamaged, type RunRecord, type RunRecordDamaged, type StoredRun } from "@agentrun/core"
import type * as vscode from "vscode"
import type { UsageSoFar } from "../core/Runs.ts"
import type { VsCodeApi } from "../vscode/VsCodeApi.ts"

/** Tree item context values (package.json's menus match on them). */
export const liveContext = "agentrun.run.live"
export const finishedContext = "agentrun.run.finished"
/** A record that does not decode: only its id can be copied. */
export const damagedContext = "agentrun.run.damaged"

/** The row description of a damaged record. */
export const damagedDescription = "damaged"

/** The codicon and theme color per verdict family (https://code.visualstudio.com/api/references/icons-in-labels). */
export const familyIcon: Record<Family, { readonly id: string; readonly color: string }> = {
  success: { id: "pass", color: "testing.iconPassed" },
  agent: { id: "error", color: "testing.iconFailed" },
  process: { id: "bug", color: "testing.iconFailed" },
  deadline: { id: "watch", color: "testing.iconQueued" },
  hang: { id: "debug-pause", color: "testing.iconFailed" },
  cluster: { id: "cloud", color: "testing.iconFailed" },
  cancelled: { id: "circle-slash", color: "disabledForeground" }
}

/** `12.3k` for 12,345. */
export const compactCount = (n: number): string => (n < 1000 ? String(n) : n < 1_000_000 ? `${(n / 1000).toFixed(1)}k` : `${(n / 1_000_000).toFixed(1)}M`)

/** `$0.0123`. */
export const dollars = (usd: number): string => `$${usd.toFixed(4)}`

/** "3 turns · 12.3k tokens · $0.0123" (cost only once known). */
export const usageText = (u: UsageSoFar): string =>
  [`${u.turns} turn${u.turns === 1 ? "" : "s"}`, `${compactCount(u.inputTokens + u.outputTokens)} tokens`, ...(u.costUsd === null ? [] : [dollars(u.costUsd)])].join(" · ")

/** The row's label: the prompt's first line, clipped. */
export const runLabel = (record: RunRecord): string => {
  const first = record.promptPreview.split("\n").find((l) => l.trim() !== "")?.trim() ?? record.runId
  return first.length > 60 ? `${first.slice(0, 59)}…` : first
}

/** The row's description: the verdict class (and cost) of a finished run; "running" and its usage for a live one. */
export const runDescription = (record: RunRecord, usage: UsageSoFar | undefined): string => {
  if (record.status === "running" || record.outcome === null) return usage === undefined ? "running" : `running · ${usageText(usage)}`
  const cost = record.summary?.costUsd ?? null
  return cost === null ? record.outcome._tag : `${record.outcome._tag} · ${dollars(cost)}`
}

/** The tooltip: the verdict's message (a live run: what runs where). */
export const runTooltip = (record: RunRecord): string => {
  const text = record.outcome === null || record.status === "running"
    ? `Running since ${record.createdAt} in ${record.agent.cwd} (run ${record.runId})`
    : `${record.outcome._tag}: ${record.outcome.message}`
  const p = record.placement
  return p._tag === "Kubernetes" ? `${text}\n${jobText(record)!}${p.context === null ? "" : ` (context ${p.context})`}` : text
}

/** `Job NAMESPACE/NAME` for a run on a cluster; null for a local one. */
export const jobText = (record: RunRecord): string | null =>
  record.placement._tag === "Kubernetes" ? `Job ${record.placement.namespace}/${record.placement.jobName}` : null

/** The tree item of a run. */
export const runTreeItem = (api: VsCodeApi, record: RunRecord, usage: UsageSoFar | undefined): vscode.TreeItem => {
  const live = record.status === "running" || record.outcome === null
  const icon = live ? new api.ThemeIcon("loading~spin") : (() => {
    const { color, id } = familyIcon[record.outcome!.family as Family] ?? familyIcon.process
    return new api.ThemeIcon(id, new api.ThemeColor(color))
  })()
  return {
    id: record.runId,
    label: runLabel(record),
    description: runDescription(record, usage),
    tooltip: runTooltip(record),
    iconPath: icon,
    contextValue: live ? liveContext : finishedContext,
    collapsibleState: api.TreeItemCollapsibleState.None,
    command: { command: "agentrun.openTranscript", title: "Open Transcript", arguments: [record.runId] }
  }
}

/** The tree item of a record that does not decode: shown (warning icon, "damaged", the file and why in the tooltip), not hidden. */
export const damagedTreeItem = (api: VsCodeApi, damaged: RunRecordDamaged): vscode.TreeItem => ({
  id: damaged.runId,
  label: damaged.runId,
  description: damagedDescription,
  tooltip: `${damaged.message}\n${damaged.path}: ${damaged.reason}`,
  iconPath: new api.ThemeIcon("warning", new api.ThemeColor("problemsWarningIcon.foreground")),
  contextValue: damagedContext,
  collapsibleState: api.TreeItemCollapsibleState.None
})

/** The tree item of a listed run: its record's, or its damage's. */
export const storedRunTreeItem = (api: VsCodeApi, run: StoredRun, usage: UsageSoFar | undefined): vscode.TreeItem =>
  isDamaged(run) ? damagedTreeItem(api, run) : runTreeItem(api, run, usage)

/** A run as a quick pick item (the commands' "which run?"). */
export const runPickItem = (run: StoredRun) =>
  isDamaged(run)
    ? { label: run.runId, description: damagedDescription, detail: run.path, runId: run.runId }
    : { label: runLabel(run), description: runDescription(run, undefined), detail: run.runId, runId: run.runId }

/** `✓ Succeeded: <message>` / `✗ AuthenticationFailed (agent, not retryable): <message>`, as the CLI's verdict line. */
export const verdictText = (outcome: { readonly _tag: string; readonly family: string; readonly retryable: boolean; readonly message: string }): string => {
  const mark = outcome._tag === "Succeeded" ? "✓" : "✗"
  const retry = outcome._tag === "Succeeded" ? "" : outcome.retryable ? ", retryable" : ", not retryable"
  return `${mark} ${outcome._tag} (${outcome.family}${retry}): ${outcome.message}`
}
