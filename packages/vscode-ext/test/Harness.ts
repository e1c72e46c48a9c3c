/**
 * The unit tests' set-up: the whole extension activated on the fake VS Code API
 * (FakeVsCode.ts) and the test core (TestCore.ts), a temporary workspace folder, and ways to
 * wait for what the extension shows (the Runs view's rows, messages).
 *
 * @module
 */
import type { RunRecord } from "@agentrun/core"
import * as Effect from "effect/Effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type * as vscode from "vscode"
import { vi } from "vitest"
import { type Activation, activate } from "../src/Activation.ts"
import { Runs } from "../src/core/Runs.ts"
import { type FakeVsCode, makeFakeVsCode } from "./FakeVsCode.ts"
import { makeTestCore } from "./TestCore.ts"

/** A row of the Runs view. */
export interface Row {
  readonly runId: string
  readonly item: vscode.TreeItem
}

/** How long a test waits for something the extension is to show, in ms (a generous bound; nothing waits for it to pass). */
export const showsWithinMs = 20_000

/** An activated extension over the test core. */
export interface Started {
  readonly fake: FakeVsCode
  readonly activation: Activation
  readonly core: ReturnType<typeof makeTestCore>
  /** The workspace folder (the runs' cwd). */
  readonly root: string
  /** `agentrun.stateDir` as set at activation. */
  readonly stateDir: string
  readonly rows: () => Promise<ReadonlyArray<Row>>
  /** Waits until the view has a row that `test` accepts; returns it. */
  readonly row: (test: (row: Row) => boolean) => Promise<Row>
  /** The stored record of a run (in the activation-time state directory). */
  readonly record: (runId: string) => Promise<RunRecord>
  /** Deactivates and removes the workspace. */
  readonly stop: () => Promise<void>
}

/**
 * Activates the extension; `settings` add to (or override) the test's: a state dir in the
 * workspace (or the `agentrun.stateDir` given, e.g. a CLI's), claudePath `claude-test`. `core`: the test core (default: local runs only).
 */
export const start = async (settings: Record<string, unknown> = {}, core = makeTestCore()): Promise<Started> => {
  const root = mkdtempSync(join(tmpdir(), "agentrun-vscode-"))
  const given = settings["agentrun.stateDir"]
  const stateDir = typeof given === "string" ? given : join(root, ".state")
  const fake = makeFakeVsCode({
    settings: { "agentrun.stateDir": stateDir, "agentrun.claudePath": "claude-test", ...settings },
    workspaceFolder: root
  })
  const activation = activate(fake.api, fake.context, Runs.layerWith(core.coreFor))
  await activation.ready
  // The view's subscription to the store builds the state directory's core.
  await eventually(() => core.at(stateDir))
  const rows = async () => (await fake.rows()).map(([runId, item]) => ({ runId, item }))
  const row = (test: (row: Row) => boolean) =>
    vi.waitFor(async () => {
      const found = (await rows()).find(test)
      if (found === undefined) throw new Error(`no such row; rows: ${JSON.stringify((await rows()).map((r) => [r.runId, r.item.description, r.item.tooltip]))}`)
      return found
    }, { timeout: showsWithinMs, interval: 20 })
  const record = (runId: string) => Effect.runPromise(core.at(stateDir).runStore.readRecord(runId))
  const stop = async () => {
    await activation.close()
    rmSync(root, { recursive: true, force: true })
  }
  return { fake, activation, core, root, stateDir, rows, row, record, stop }
}

/** Waits until `check` passes (it throws until then); returns its value. */
export const eventually = <A>(check: () => A | Promise<A>): Promise<A> => vi.waitFor(check, { timeout: showsWithinMs, interval: 20 })

/** The row's description as text. */
export const description = (row: Row): string => String(row.item.description ?? "")
