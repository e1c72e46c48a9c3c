/**
 * Every agentrun subcommand, one file each under `commands/`.
 *
 * @module
 */
import { cancel } from "./cancel.ts"
import { inspect } from "./inspect.ts"
import { list } from "./list.ts"
import { logs } from "./logs.ts"
import { prune } from "./prune.ts"
import { run } from "./run.ts"
import { bootstrap } from "./bootstrap.ts"
import { doctor } from "./doctor.ts"
import { env } from "./env.ts"

/** The subcommands of `agentrun`, in the order `--help` lists them. */
export const subcommands = [run, list, inspect, logs, cancel, prune, bootstrap, doctor, env] as const
