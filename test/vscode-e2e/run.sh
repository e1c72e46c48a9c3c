#!/usr/bin/env bash
# The VS Code e2e tier, from a clean machine: installs what is missing (setup.sh), packages the
# extension (pnpm package:vsix), runs e2e.ts on the workspace's Node 22. Prints the tier's own
# "N passed, N failed" line; exits non-zero when a case failed or the set-up did.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
test/vscode-e2e/setup.sh
npx --yes pnpm@10.34.9 -s package:vsix > .cache/vscode-e2e/package-vsix.log 2>&1 || { cat .cache/vscode-e2e/package-vsix.log; exit 1; }
VERSION=$(node -p 'require("./packages/vscode-ext/package.json").version')
exec node_modules/node/bin/node --disable-warning=ExperimentalWarning test/vscode-e2e/e2e.ts "$ROOT/packages/vscode-ext/agentrun-$VERSION.vsix"
