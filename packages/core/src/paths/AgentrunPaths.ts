/**
 * Where agentrun keeps its files, following the XDG Base Directory spec
 * (https://specifications.freedesktop.org/basedir-spec/latest/): state (run records, locks,
 * telemetry) under `$XDG_STATE_HOME/agentrun` (default `~/.local/state/agentrun`), managed
 * installs under `$XDG_DATA_HOME/agentrun` (default `~/.local/share/agentrun`).
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import * as NodePath from "node:path"
import * as NodeOs from "node:os"

/** Absolute directories agentrun owns. Nothing here is created eagerly. */
export interface AgentrunDirs {
  /** `$XDG_STATE_HOME/agentrun`: run records, sentinels, cooldown markers, telemetry. */
  readonly stateDir: string
  /** `$XDG_DATA_HOME/agentrun`: managed runtime installs. */
  readonly dataDir: string
  /** `<stateDir>/runs`: one folder per run. */
  readonly runsDir: string
}

/**
 * {@link AgentrunDirs} from an environment: `XDG_STATE_HOME` / `XDG_DATA_HOME` when absolute
 * (the spec says relative values are to be ignored), else `~/.local/state` and `~/.local/share`.
 */
export const dirsFromEnv = (env: Readonly<Record<string, string | undefined>>): AgentrunDirs => {
  const home = NodeOs.homedir()
  const absolute = (value: string | undefined, fallback: string) =>
    value !== undefined && NodePath.isAbsolute(value) ? value : fallback
  return dirsFrom(
    absolute(env["XDG_STATE_HOME"], NodePath.join(home, ".local", "state")),
    absolute(env["XDG_DATA_HOME"], NodePath.join(home, ".local", "share"))
  )
}

/** Builds {@link AgentrunDirs} from the XDG roots (absolute paths). */
export const dirsFrom = (stateHome: string, dataHome: string): AgentrunDirs => {
  const stateDir = NodePath.join(stateHome, "agentrun")
  return { stateDir, dataDir: NodePath.join(dataHome, "agentrun"), runsDir: NodePath.join(stateDir, "runs") }
}

/**
 * The agentrun directories. `layer` reads `XDG_STATE_HOME` / `XDG_DATA_HOME` (empty or relative
 * values are ignored, as the spec says) and falls back to `~/.local/state` and `~/.local/share`;
 * `layerTest(root)` puts both under `root`.
 */
export class AgentrunPaths extends Context.Service<AgentrunPaths, AgentrunDirs>()("agentrun/AgentrunPaths") {
  static readonly layer = Layer.sync(AgentrunPaths, () => AgentrunPaths.of(dirsFromEnv(process.env)))

  static readonly layerTest = (root: string) =>
    Layer.succeed(AgentrunPaths, AgentrunPaths.of(dirsFrom(NodePath.join(root, "state"), NodePath.join(root, "data"))))
}
