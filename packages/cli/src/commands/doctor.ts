/**
 * `agentrun doctor [--json]`: which `claude` would be used and its version, the Python
 * interpreters, the managed installs, the build locks and cooldowns, and the last bootstrap
 * telemetry record. Always exits 0: it reports, it does not judge.
 *
 * @module
 */
import { Bootstrap, type DoctorReport } from "@agentrun/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { Command, Flag } from "effect/cli"

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`

/** The human form of a {@link DoctorReport}. */
export const doctorText = (d: DoctorReport): string => {
  const lines: Array<string> = []
  lines.push(
    d.claude.path === null
      ? `claude: none found (agentrun would install ${d.claude.pinnedVersion} on first run)`
      : `claude: ${d.claude.path} (${d.claude.source ?? "unsupported"}, version ${d.claude.version ?? "unknown"}; minimum ${d.claude.minimumVersion})`
  )
  lines.push(`node for installs: ${d.node.executable} ${d.node.version ?? "(--version failed)"} (claude-code needs >= ${d.node.minimumMajor})`)
  lines.push("python interpreters:")
  for (const c of d.python.candidates) {
    const mark = d.python.chosen?.path === c.path ? " <- chosen" : ""
    lines.push(`  ${c.name}: ${c.path} ${c.version ?? "(--version failed)"}${c.usable ? "" : " (not usable)"}${mark}`)
  }
  if (d.python.candidates.length === 0) lines.push("  none on PATH")
  lines.push(`claude-agent-sdk: ${d.python.sdk === null ? "not present" : `${d.python.sdk.outcome} (${d.python.sdk.message})`}`)
  lines.push(`managed claude-cli: ${d.managed.claudePresent ? "present" : "absent"} (${d.managed.claudePrefix})`)
  lines.push(`managed venv: ${d.managed.venvPresent ? "present" : "absent"} (${d.managed.venv})`)
  lines.push(`managed --target libs: ${d.managed.targetPresent ? "present" : "absent"} (${d.managed.target})`)
  for (const l of d.locks) {
    lines.push(
      l.sentinel === null
        ? `${l.runtime} lock: free`
        : `${l.runtime} lock: held by pid ${l.sentinel.pid} (${l.alive ? "alive" : "dead"}, heartbeat ${Math.round((l.heartbeatAgeMs ?? 0) / 1000)} s ago)`
    )
    if (l.cooldown !== null) {
      lines.push(
        l.cooldownRemainingMs === null
          ? `${l.runtime} cooldown: expired (last kill ${l.cooldown.signal} at ${new Date(l.cooldown.atMs).toISOString()})`
          : `${l.runtime} cooldown: active for ${minutes(l.cooldownRemainingMs)} after ${l.cooldown.signal} at ${new Date(l.cooldown.atMs).toISOString()} (bootstrap --force overrides)`
      )
    }
  }
  const t = d.lastTelemetry
  lines.push(
    t === null
      ? "last bootstrap: none recorded"
      : `last bootstrap: ${t.runtime} ${t.outcome} (${t.outcomeCode}) at ${new Date(t.atMs).toISOString()}, ${t.durationMs} ms, phase ${t.phase ?? "-"}, error ${t.errorCode ?? "-"}, return code ${t.returnCode ?? "-"}${t.stderrHash === null ? "" : `, stderr hash ${t.stderrHash}`}`
  )
  return lines.join("\n")
}

/** The `doctor` command (its Bootstrap service is wired in bin.ts). */
export const doctor = Command.make(
    "doctor",
    {
      json: Flag.Boolean("json").pipe(Flag.withDescription("Print the report as JSON"), Flag.withDefault(false))
    },
    Effect.fn(function*({ json }) {
      const bootstrap = yield* Bootstrap
      const report = yield* bootstrap.doctor
      yield* Console.log(json ? JSON.stringify(report, null, 2) : doctorText(report))
    })
  ).pipe(
    Command.withDescription("Show which claude and Python would be used, managed installs, locks, cooldowns, last bootstrap")
  )

