// The in-host test tier (@vscode/test-cli + @vscode/test-electron): `pnpm --filter agentrun test:host`
// downloads the desktop VS Code named here (internet needed: not run in CI, whose real host is
// code-server, test/vscode-e2e) and runs the mocha suite test/host (bundled by build.mjs) in its
// extension host, with this folder as the extension under development.
import { defineConfig } from "@vscode/test-cli"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export default defineConfig({
  label: "host",
  files: "out/host/**/*.test.cjs",
  // The oldest VS Code the extension supports (engines.vscode): its extension host is Node 22.19.
  version: "1.105.0",
  workspaceFolder: mkdtempSync(join(tmpdir(), "agentrun-host-workspace-")),
  launchArgs: ["--disable-extensions", "--disable-workspace-trust"],
  mocha: { ui: "bdd", timeout: 120_000 }
})
