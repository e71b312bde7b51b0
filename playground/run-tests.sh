#!/usr/bin/env bash
# The playground's browser tests: npm ci, then node's test runner drives
# Debian's Chromium (playwright-core) against the real server,
# `$CLAIMSCRIPT_BIN playground --addr 127.0.0.1:0` (default target/debug/claimscript:
# build it first with `cargo build -p claimscript-cli`).
# Writes docs/playground.png (SCREENSHOT=none to skip, or another path).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
export CLAIMSCRIPT_BIN=${CLAIMSCRIPT_BIN:-$repo/target/debug/claimscript}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian's Chromium (chromium, chromium-driver)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver
  else
    echo "run-tests.sh: no Chromium at $CHROMIUM; install Debian's: apt-get install chromium chromium-driver" >&2
    exit 1
  fi
fi
if [ ! -x "$CLAIMSCRIPT_BIN" ]; then
  echo "run-tests.sh: no claimscript binary at $CLAIMSCRIPT_BIN; build it: cargo build -p claimscript-cli" >&2
  exit 1
fi

cd "$here"
npm ci --no-audit --no-fund --loglevel=error
node --test --test-concurrency=1 test/unit.test.mjs test/playground.test.mjs
