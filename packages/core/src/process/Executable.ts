/**
 * Checks an executable before spawning it, so that "not found", "not executable" and
 * "claude-code's npm placeholder instead of the native binary" are told apart instead of
 * surfacing as one ENOENT.
 *
 * @module
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { placeholderStubMarker } from "../domain/Verdict.ts"

/** The result of checking an executable. */
export type ExecutableCheck =
  | { readonly _tag: "Ok"; readonly path: string }
  | {
    readonly _tag: "Unusable"
    readonly path: string
    readonly reason: "not-found" | "not-executable" | "placeholder-stub"
    readonly errno: string | null
    readonly detail: string
  }

/** Resolves `name` on PATH (`:`-separated) the way execvp does; names containing `/` are taken as paths. */
export const resolveOnPath = (name: string, pathEnv: string | undefined, cwd: string): string | null => {
  if (name.includes("/")) return NodePath.resolve(cwd, name)
  for (const dir of (pathEnv ?? "").split(":")) {
    if (dir === "") continue
    const candidate = NodePath.join(dir, name)
    try {
      NodeFs.accessSync(candidate, NodeFs.constants.X_OK)
      if (NodeFs.statSync(candidate).isFile()) return candidate
    } catch {
      continue
    }
  }
  return null
}

/**
 * The placeholder `bin/claude.exe` that @anthropic-ai/claude-code ships is a ~500-byte shell
 * script printing "Error: claude native binary not installed." (observed in 2.1.330); its
 * postinstall replaces it with the native binary. Small files only are read.
 */
const isPlaceholderStub = (path: string): boolean => {
  try {
    const real = NodeFs.realpathSync(path)
    const size = NodeFs.statSync(real).size
    if (size > 16 * 1024) return false
    if (NodeFs.readFileSync(real, "utf8").includes(placeholderStubMarker)) return true
    // npm's .bin shim for claude-code is a shell script that execs bin/claude.exe next to it.
    const sibling = NodePath.join(NodePath.dirname(real), "..", "@anthropic-ai", "claude-code", "bin", "claude.exe")
    return NodeFs.existsSync(sibling) && NodeFs.statSync(sibling).size < 16 * 1024 &&
      NodeFs.readFileSync(sibling, "utf8").includes(placeholderStubMarker)
  } catch {
    return false
  }
}

/**
 * npm/pnpm install `claude` as a shell shim that runs `.../@anthropic-ai/claude-code/bin/claude.exe`
 * as a child without `exec` (observed: pnpm 10's `node_modules/.bin/claude`). A SIGINT sent to the
 * shim's pid never reaches claude, so agentrun runs the binary the shim points at. Returns the
 * path unchanged when it is not such a shim.
 */
export const resolveClaudeShim = (path: string): string => {
  try {
    if (NodeFs.statSync(path).size > 16 * 1024) return path
    const text = NodeFs.readFileSync(path, "utf8")
    if (!text.startsWith("#!")) return path
    const match = /"\$basedir\/([^"]*@anthropic-ai\/claude-code\/bin\/claude(?:\.exe)?)"/.exec(text)
    if (match === null) return path
    const target = NodePath.resolve(NodePath.dirname(path), match[1]!)
    return NodeFs.existsSync(target) ? target : path
  } catch {
    return path
  }
}

/** Checks `name` (a path, or a command looked up on PATH) for being a usable executable; a claude-code shim is resolved to its binary. */
export const checkExecutable = (name: string, pathEnv: string | undefined, cwd: string): ExecutableCheck => {
  const found = resolveOnPath(name, pathEnv, cwd)
  const path = found === null ? null : resolveClaudeShim(found)
  if (path === null) {
    return { _tag: "Unusable", path: name, reason: "not-found", errno: "ENOENT", detail: `${name} is not on PATH` }
  }
  if (!NodeFs.existsSync(path)) {
    return { _tag: "Unusable", path, reason: "not-found", errno: "ENOENT", detail: `${path} does not exist` }
  }
  try {
    NodeFs.accessSync(path, NodeFs.constants.X_OK)
    if (NodeFs.statSync(path).isDirectory()) {
      return { _tag: "Unusable", path, reason: "not-executable", errno: "EISDIR", detail: `${path} is a directory` }
    }
  } catch {
    return { _tag: "Unusable", path, reason: "not-executable", errno: "EACCES", detail: `${path} lacks execute permission` }
  }
  if (isPlaceholderStub(path)) {
    return {
      _tag: "Unusable",
      path,
      reason: "placeholder-stub",
      errno: null,
      detail: "claude-code's postinstall did not run (installed with --ignore-scripts or --omit=optional?)"
    }
  }
  return { _tag: "Ok", path }
}
