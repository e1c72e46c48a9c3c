/**
 * `agentrun doctor [--json]`: which `claude` would be used and its version, the Python
 * interpreters, the managed installs, the build locks and cooldowns, and the last bootstrap
 * telemetry record. `agentrun doctor --backend k8s [--kubeconfig P] [--context C] [-n NS]`: the
 * cluster (reachable, its version) and a SelfSubjectAccessReview for every permission the
 * Kubernetes backend needs, naming what RBAC is missing. Always exits 0: it reports, it does not
 * judge (a flag it cannot use is a usage error, 2).
 *
 * @module
 */
import { Bootstrap, type ClusterDoctorReport, type ClusterTarget, type DoctorReport, ErrorKindCodes, PhaseCodes } from "@agentrun/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { Command, Flag } from "effect/cli"
import * as NodePath from "node:path"
import { usageError } from "../ExitCode.ts"
import { kubernetesFlags, loadCluster } from "../KubernetesFlags.ts"

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`

/** `pip (3)`: a telemetry code with its name from the append-only tables (README, "Codes"); `-` for none. */
const named = (table: Readonly<Record<string, number>>, code: number | null): string => {
  if (code === null) return "-"
  const name = Object.entries(table).find(([, c]) => c === code)?.[0]
  return name === undefined ? String(code) : `${name} (${code})`
}

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
      : `last bootstrap: ${t.runtime} ${t.outcome} (${t.outcomeCode}) at ${new Date(t.atMs).toISOString()}, ${t.durationMs} ms, phase ${named(PhaseCodes, t.phase)}, error ${named(ErrorKindCodes, t.errorCode)}, return code ${t.returnCode ?? "-"}${t.stderrHash === null ? "" : `, stderr hash ${t.stderrHash}`}`
  )
  return lines.join("\n")
}

/** The human form of a {@link ClusterDoctorReport} (`doctor --backend k8s`). */
export const clusterDoctorText = (d: ClusterDoctorReport): string => {
  const lines = [`cluster: ${d.server} (context ${d.context ?? "in-cluster"}, namespace ${d.namespace})`]
  if (d.version._tag === "Unreachable") {
    lines.push(`server: unreachable (${d.version.error})`, "access: not checked (the API server did not answer)")
    return lines.join("\n")
  }
  lines.push(`server: reachable, Kubernetes ${d.version.gitVersion}`)
  lines.push(`access in ${d.namespace} (SelfSubjectAccessReview):`)
  const width = Math.max(...d.access.map((a) => a.text.length))
  for (const a of d.access) {
    const answer = a.allowed === true ? "allowed" : a.allowed === false ? `DENIED${a.reason === null || a.reason === "" ? "" : ` (${a.reason})`}` : `not checked (${a.error})`
    lines.push(`  ${a.text.padEnd(width)}  ${answer}`)
  }
  const unchecked = d.access.filter((a) => a.allowed === null).length
  lines.push(
    d.missing.length === 0 && unchecked === 0
      ? `RBAC: all ${d.access.length} permissions the Kubernetes backend needs are granted`
      : d.missing.length === 0
      ? `RBAC: ${unchecked} of ${d.access.length} permissions could not be checked`
      : `RBAC: missing ${d.missing.length} of ${d.access.length}: ${d.missing.join(", ")} (deploy/rbac.yaml grants exactly what is needed)`
  )
  return lines.join("\n")
}

/** The `doctor` command (its Bootstrap service is wired in bin.ts). */
export const doctor = Command.make(
    "doctor",
    {
      json: Flag.Boolean("json").pipe(Flag.withDescription("Print the report as JSON"), Flag.withDefault(false)),
      backend: Flag.Literals("backend", ["local", "k8s"]).pipe(
        Flag.withDescription("local (default): claude, Python, installs; k8s: the cluster, its version and the RBAC the Kubernetes backend needs"),
        Flag.withDefault("local")
      ),
      kubeconfig: kubernetesFlags.kubeconfig,
      context: kubernetesFlags.context,
      namespace: kubernetesFlags.namespace
    },
    Effect.fn(function*({ backend, context, json, kubeconfig, namespace }) {
      if (backend === "k8s") {
        const target: ClusterTarget = {
          kubeconfigPath: Option.match(kubeconfig, { onNone: () => null, onSome: (p) => NodePath.resolve(p) }),
          context: Option.getOrNull(context),
          namespace: Option.getOrNull(namespace)
        }
        // Reports, never judges: a kubeconfig that cannot be loaded is part of the report.
        const report = yield* Effect.scoped((yield* loadCluster).doctorOnCluster(target)).pipe(
          Effect.map((r) => ({ _tag: "Checked", report: r }) as const),
          Effect.catchTag("KubernetesUnreachable", (e) => Effect.succeed({ _tag: "NoCluster", error: e.message } as const))
        )
        if (json) return yield* Console.log(JSON.stringify(report._tag === "Checked" ? report.report : { error: report.error }, null, 2))
        return yield* Console.log(report._tag === "Checked" ? clusterDoctorText(report.report) : `cluster: cannot be used: ${report.error}`)
      }
      if (Option.isSome(kubeconfig) || Option.isSome(context) || Option.isSome(namespace)) {
        return yield* usageError({ message: "--kubeconfig, --context and --namespace apply to doctor --backend k8s only" })
      }
      const bootstrap = yield* Bootstrap
      const report = yield* bootstrap.doctor
      yield* Console.log(json ? JSON.stringify(report, null, 2) : doctorText(report))
    })
  ).pipe(
    Command.withDescription("Show which claude and Python would be used, managed installs, locks, cooldowns, last bootstrap; with --backend k8s, whether the cluster can run agents (version, RBAC)")
  )
