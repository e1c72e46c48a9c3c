/**
 * Every agentrun subcommand, one file each under `commands/`.
 *
 * @module
 */
import { attach } from "./attach.ts"
import { cancel } from "./cancel.ts"
import { inspect } from "./inspect.ts"
import { list } from "./list.ts"
import { logs } from "./logs.ts"
import { prune } from "./prune.ts"
import { rerun } from "./rerun.ts"
import { rm } from "./rm.ts"
import { run } from "./run.ts"
import { bootstrap } from "./bootstrap.ts"
import { doctor } from "./doctor.ts"
import { env } from "./env.ts"
import { wait } from "./wait.ts"

/** The subcommands of `agentrun`, in the order `--help` lists them. */
export const subcommands = [run, rerun, list, inspect, logs, wait, attach, cancel, rm, prune, bootstrap, doctor, env] as const
