/**
 * The agentrun command tree: every subcommand is wired here, once.
 *
 * @module
 */
import { Command } from "effect/cli"
import { subcommands } from "./commands/index.ts"

/** The root `agentrun` command with all subcommands. */
export const agentrun = Command.make("agentrun").pipe(
  Command.withDescription("Supervise Claude Code agent runs: launch, follow, and say exactly how they ended."),
  Command.withSubcommands(subcommands)
)
