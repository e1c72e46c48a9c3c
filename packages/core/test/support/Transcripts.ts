/**
 * Loads the real transcripts recorded from `claude` under `test/fixtures/transcripts/` and turns
 * them into verdict facts, exactly as the local backend would have observed them.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { fromNodeExit } from "../../src/domain/ExitStatus.ts"
import { emptyObservation, type Observation, observeLine } from "../../src/domain/Observation.ts"
import { decodeLine } from "../../src/domain/Protocol.ts"
import type { RunFacts, SupervisorAction } from "../../src/domain/Verdict.ts"

/** The fixtures folder. */
export const transcriptsDir = NodePath.resolve(NodePath.dirname(fileURLToPath(import.meta.url)), "../../../../test/fixtures/transcripts")

/** One recorded run. */
export interface Transcript {
  readonly name: string
  readonly stdoutLines: ReadonlyArray<string>
  readonly stderrLines: ReadonlyArray<string>
  readonly exitCode: number | null
  readonly signal: string | null
}

/** Every fixture name (files `<name>.json`). */
export const transcriptNames = (): ReadonlyArray<string> =>
  NodeFs.readdirSync(transcriptsDir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort()

/** Reads one fixture. */
export const loadTranscript = (name: string): Transcript => {
  const meta = JSON.parse(NodeFs.readFileSync(NodePath.join(transcriptsDir, `${name}.json`), "utf8"))
  const read = (ext: string) => {
    const text = NodeFs.readFileSync(NodePath.join(transcriptsDir, `${name}.${ext}`), "utf8")
    return text === "" ? [] : text.replace(/\n$/, "").split("\n")
  }
  return { name, stdoutLines: read("stdout.jsonl"), stderrLines: read("stderr.txt"), exitCode: meta.exitCode, signal: meta.signal }
}

/** Folds a transcript's stdout into an observation. */
export const observe = (t: Transcript): Observation =>
  t.stdoutLines.reduce((o, line) => observeLine(o, line, decodeLine(line)), emptyObservation)

/** The facts the verdict would see for this transcript. */
export const factsOf = (t: Transcript, action: SupervisorAction = { _tag: "None" }): RunFacts => ({
  observation: observe(t),
  stderrTail: t.stderrLines.slice(-40),
  exit: fromNodeExit(t.exitCode, t.signal),
  spawnFailure: null,
  action,
  oomKills: null,
  maxTurns: null
})
