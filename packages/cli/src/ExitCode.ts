/**
 * The process exit code a command chose, and the table they come from.
 *
 * Commands never call `process.exit`: they set the code here and the entry point exits with it
 * once the command's scope is closed (so run records are flushed first).
 *
 * @module
 */
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
/**
 * The exit codes commands set themselves (README, "Exit codes"): 0 succeeded; 2 usage or config
 * error; 3 process or infrastructure failure; 75 skipped for now (EX_TEMPFAIL, sysexits.h). A
 * run's code follows its verdict's family instead (`exitCodeFor`, core's `familyExitCodes`).
 */
export const ExitCodes = {
  succeeded: 0,
  usage: 2,
  process: 3,
  tempFail: 75
} as const

/** Holds the exit code the running command chose; defaults to 0. */
export class CliExitCode extends Context.Service<CliExitCode, Ref.Ref<number>>()("agentrun/cli/CliExitCode") {
  static readonly layer = Layer.effect(CliExitCode, Ref.make<number>(ExitCodes.succeeded))
}

/** Sets the exit code agentrun will exit with. */
export const setExitCode = (code: number) => CliExitCode.use((ref) => Ref.set(ref, code))

/** Reports a usage error (`agentrun: <message>` on stderr) and sets exit code 2. */
export const usageError = (error: { readonly message: string }) =>
  Effect.andThen(Console.error(`agentrun: ${error.message}`), setExitCode(ExitCodes.usage))
