/**
 * Finding executables on PATH and choosing the Python interpreter for `python-agent-sdk`.
 *
 * Choice (issue 5): the newest `python3.N` (N >= 10) on PATH whose `--version` succeeds, then
 * `python3`, then `python`, if >= 3.10. A name that exists but fails `--version` (a pyenv shim for
 * a version that is not selected exits 127 with "pyenv: python3.12: command not found") is skipped.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import type * as Duration from "effect/Duration"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import type { InstallerProcess } from "./InstallerProcess.ts"
import { compareVersions, parseVersion } from "./versions.ts"

/** The oldest Python the agent SDK supports. */
export const minimumPython = "3.10"

/** The directories of a PATH string, in order, without empties and duplicates. */
export const pathDirs = (path: string | undefined): ReadonlyArray<string> =>
  [...new Set((path ?? "").split(NodePath.delimiter).filter((d) => d !== ""))]

const isExecutable = (file: string): boolean => {
  try {
    NodeFs.accessSync(file, NodeFs.constants.X_OK)
    return NodeFs.statSync(file).isFile()
  } catch {
    return false
  }
}

/** The first executable `name` on `path`, as an absolute path, skipping `exclude`; else null. */
export const findOnPath = (name: string, path: string | undefined, exclude: ReadonlyArray<string> = []): string | null => {
  for (const dir of pathDirs(path)) {
    const file = NodePath.resolve(dir, name)
    if (!exclude.includes(file) && isExecutable(file)) return file
  }
  return null
}

/** The `python3.N` names present on `path`, newest (largest N) first. */
export const pythonMinorNames = (path: string | undefined): ReadonlyArray<string> => {
  const minors = new Set<number>()
  for (const dir of pathDirs(path)) {
    let entries: Array<string>
    try {
      entries = NodeFs.readdirSync(dir)
    } catch {
      continue
    }
    for (const entry of entries) {
      const m = /^python3\.(\d+)$/.exec(entry)
      if (m?.[1] !== undefined) minors.add(Number.parseInt(m[1], 10))
    }
  }
  return [...minors].sort((a, b) => b - a).map((n) => `python3.${n}`)
}

/** One interpreter looked at. */
export interface PythonCandidate {
  /** The name searched for, e.g. `"python3.12"`. */
  readonly name: string
  /** Absolute path found on PATH. */
  readonly path: string
  /** `X.Y.Z` from `--version`, or null when `--version` failed. */
  readonly version: string | null
  /** True when `--version` succeeded and the version is >= {@link minimumPython}. */
  readonly usable: boolean
}

/** The chosen interpreter (or null) and every candidate seen, in probing order. */
export interface InterpreterChoice {
  readonly chosen: PythonCandidate | null
  readonly candidates: ReadonlyArray<PythonCandidate>
}

/** Runs `--version` on each candidate in order and returns the first usable one. */
export const chooseInterpreter = (
  installer: InstallerProcess["Service"],
  env: Readonly<Record<string, string | undefined>>,
  timeout: Duration.Input
): Effect.Effect<InterpreterChoice> =>
  Effect.gen(function*() {
    const names = [...pythonMinorNames(env["PATH"]).filter((n) => Number(n.split(".")[1]) >= 10), "python3", "python"]
    const candidates: Array<PythonCandidate> = []
    const seen = new Set<string>()
    for (const name of names) {
      const path = findOnPath(name, env["PATH"])
      if (path === null || seen.has(path)) continue
      seen.add(path)
      const run = yield* Effect.result(installer.run({ command: path, args: ["--version"], env, timeout }))
      const version = run._tag === "Success" && run.success.status.exitCode === 0
        ? parseVersion(run.success.stdout + run.success.stderr)
        : null
      const candidate = { name, path, version, usable: version !== null && compareVersions(version, minimumPython) >= 0 }
      candidates.push(candidate)
      if (candidate.usable) return { chosen: candidate, candidates }
    }
    return { chosen: null, candidates }
  })
