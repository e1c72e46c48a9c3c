/**
 * Shared setup for the bootstrap tests: temp roots, fixture scripts with their placeholders filled
 * in, the npm tarball and wheel fixtures, and the real Bootstrap layer rooted in a temp dir.
 *
 * @module
 */
import { Layer } from "effect"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { Bootstrap } from "../../src/bootstrap/Bootstrap.ts"
import { BootstrapSettings, bootstrapSettings, type BootstrapSettingsShape } from "../../src/bootstrap/BootstrapSettings.ts"
import { BootstrapStore } from "../../src/bootstrap/BootstrapStore.ts"
import { InstallerProcess } from "../../src/bootstrap/InstallerProcess.ts"
import { AgentrunPaths } from "../../src/paths/AgentrunPaths.ts"

export const fixtures = NodePath.join(import.meta.dirname, "fixtures")

const roots: Array<string> = []

/** Removes every {@link tempRoot} made so far (each test file calls it in `afterAll`). */
export const cleanupRoots = (): void => {
  for (const root of roots.splice(0)) NodeFs.rmSync(root, { recursive: true, force: true })
}

/** A fresh temp directory, removed by {@link cleanupRoots}. */
export const tempRoot = (): string => {
  const root = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "agentrun-bootstrap-"))
  roots.push(root)
  return root
}

/** The Node 22 this suite runs on (agentrun's own `process.execPath`). */
export const node22 = process.execPath

/** A real CPython >= 3.10 with venv and ensurepip (Debian's /usr/bin/python3.11 here). */
export const realPython: string = (() => {
  for (const candidate of ["/usr/bin/python3.11", "/usr/bin/python3.12", "/usr/bin/python3"]) {
    if (NodeFs.existsSync(candidate)) return candidate
  }
  return NodeChild.execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim()
})()

/** PATH for children: `bin` first, then the system dirs (sh, sleep, kill, npm, node 20). */
export const pathWith = (bin: string): string => [bin, "/usr/local/bin", "/usr/bin", "/bin"].join(":")

/** Copies fixture `name` to `dir/as` (mode 755) replacing `@KEY@` placeholders. */
export const script = (dir: string, name: string, as: string, vars: Record<string, string> = {}): string => {
  NodeFs.mkdirSync(dir, { recursive: true })
  let text = NodeFs.readFileSync(NodePath.join(fixtures, name), "utf8")
  for (const [key, value] of Object.entries(vars)) text = text.split(`@${key}@`).join(value)
  const path = NodePath.join(dir, as)
  NodeFs.writeFileSync(path, text, { mode: 0o755 })
  return path
}

/** Lines in a count file written by the fixture scripts (0 when absent). */
export const countLines = (file: string): number =>
  NodeFs.existsSync(file) ? NodeFs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "").length : 0

/** `npm pack` of the fake claude-code fixture (optionally with package.json changes); the tarball path. */
export const packFakeClaude = (root: string, changes: Record<string, unknown> = {}): string => {
  const dir = NodePath.join(root, `pkg-${Object.keys(changes).join("-") || "plain"}`)
  NodeFs.cpSync(NodePath.join(fixtures, "fake-claude-code"), dir, { recursive: true })
  const pkgPath = NodePath.join(dir, "package.json")
  const pkg = { ...JSON.parse(NodeFs.readFileSync(pkgPath, "utf8")), ...changes }
  NodeFs.writeFileSync(pkgPath, JSON.stringify(pkg, null, 2))
  const out = NodeChild.execFileSync("npm", ["pack", "--pack-destination", root, "--cache", NodePath.join(root, "pack-cache")], {
    cwd: dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"]
  })
  return NodePath.join(root, out.trim().split("\n").pop()!)
}

/** Builds the `claude-agent-sdk` wheel fixture into `root/wheels`; returns that dir. */
export const buildWheel = (root: string): string => {
  const dir = NodePath.join(root, "wheels")
  NodeChild.execFileSync(realPython, [NodePath.join(fixtures, "make_wheel.py"), dir], { stdio: "ignore" })
  return dir
}

/** A closed loopback port: bound, then released. */
export const closedPort = (): number => {
  const out = NodeChild.execFileSync(realPython, ["-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1]); s.close()"], { encoding: "utf8" })
  return Number(out.trim())
}

/**
 * The real Bootstrap (real subprocesses, file store) with state and data under `root`, and the
 * settings `overrides` (env defaults to PATH=`pathWith(root/bin)`, HOME, and PIP_CONFIG_FILE=/dev/null
 * so the machine's pip.conf does not add find-links).
 */
export const bootstrapLayer = (root: string, overrides: Partial<BootstrapSettingsShape> = {}) => {
  const env = overrides.env ?? testEnv(root)
  return Bootstrap.layer.pipe(
    Layer.provide(BootstrapStore.layer),
    Layer.provide(Layer.mergeAll(
      InstallerProcess.layer,
      AgentrunPaths.layerTest(root),
      Layer.succeed(BootstrapSettings, bootstrapSettings({ nodeExecutable: node22, ...overrides, env }))
    ))
  )
}

/**
 * The variables this machine's network needs (CA bundles for a TLS-intercepting proxy, proxies),
 * passed through from the test process so the registry tests reach the registry.
 */
export const networkEnv = (): Record<string, string> =>
  Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] =>
      /^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|(HTTPS?|NO|ALL)_PROXY|(https?|no|all)_proxy)$/.test(e[0]) && e[1] !== undefined
    )
  )

/** The default child environment of {@link bootstrapLayer}. */
export const testEnv = (root: string, extra: Record<string, string> = {}): Record<string, string> => ({
  ...networkEnv(),
  PATH: pathWith(NodePath.join(root, "bin")),
  HOME: root,
  PIP_CONFIG_FILE: "/dev/null",
  ...extra
})
