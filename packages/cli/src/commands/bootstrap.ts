/**
 * `agentrun bootstrap [--runtime claude-cli|python-agent-sdk] [--force] [--json]`: install or repair
 * an agent runtime (issue 5).
 *
 * Exit codes: 0 the runtime is present (NoopSystem, NoopManaged, Built, BuiltTarget, NoopTarget);
 * 75 skipped for now (SkipCooldown, SkipSentinel: EX_TEMPFAIL); 3 failed (BuildFailed,
 * IncompatibleInterpreter).
 *
 * @module
 */
import { Bootstrap, type BootstrapReport, Runtimes, skippedOutcomes } from "@agentrun/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { Command, Flag } from "effect/cli"
import { ExitCodes, setExitCode } from "../ExitCode.ts"

/** The `--runtime` flag of `bootstrap` (`env` has its own, with the same default: claude-cli). */
export const runtimeFlag = Flag.Literals("runtime", Runtimes).pipe(
  Flag.withDescription("Which runtime: claude-cli (the claude executable) or python-agent-sdk (claude-agent-sdk for Python)"),
  Flag.withDefault("claude-cli" as const)
)

/** The exit code for a report: 0 present, 75 skipped for now, 3 failed. */
export const exitCodeForReport = (report: BootstrapReport): number =>
  report.present ? ExitCodes.succeeded : skippedOutcomes.includes(report.outcome) ? ExitCodes.tempFail : ExitCodes.process

/** One-paragraph human summary of a report. */
export const reportText = (report: BootstrapReport): string => {
  const head = `${report.runtime}: ${report.outcome} (${report.outcomeCode})`
  const phase = report.phase === null ? "" : `, phase ${report.phase} (${report.phaseCode})`
  const error = report.error === null ? "" : `, error ${report.error.kind} (${report.error.code})`
  const lines = [`${head}${phase}${error}`, report.message]
  if (report.executable !== null) lines.push(`executable: ${report.executable}`)
  if (report.pythonPath !== null) lines.push(`PYTHONPATH: ${report.pythonPath}`)
  if (report.error !== null && report.error.stderrTail !== "") lines.push(`installer output (tail):\n${report.error.stderrTail}`)
  return lines.join("\n")
}

/** The `bootstrap` command (its Bootstrap service is wired in bin.ts). */
export const bootstrap = Command.make(
    "bootstrap",
    {
      runtime: runtimeFlag,
      force: Flag.Boolean("force").pipe(
        Flag.withDescription("Build even during the cooldown after a signal kill (same as AGENTRUN_BOOTSTRAP_FORCE=1)"),
        Flag.withDefault(false)
      ),
      json: Flag.Boolean("json").pipe(
        Flag.withDescription("Print the attempt's report (outcome, phase, error kind, telemetry record) as JSON"),
        Flag.withDefault(false)
      )
    },
    Effect.fn(function*({ runtime, force, json }) {
      const bootstrap = yield* Bootstrap
      const report = yield* bootstrap.attempt(runtime, { force })
      yield* json ? Console.log(JSON.stringify(report, null, 2)) : report.present ? Console.log(reportText(report)) : Console.error(reportText(report))
      yield* setExitCode(exitCodeForReport(report))
    })
  ).pipe(
    Command.withDescription("Install or repair an agent runtime (exit 0 present, 3 failed, 75 skipped for now)")
  )

