/**
 * Every agentrun subcommand, one file each under `commands/`.
 *
 * @module
 */
import { run } from "./run.ts"

/** The subcommands of `agentrun`, in the order `--help` lists them. */
export const subcommands = [run] as const
