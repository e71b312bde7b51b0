#!/usr/bin/env bash
# Fails when the committed playground bundle (crates/server/playground/dist/)
# is not what a fresh build of playground/ (sources, lockfile, examples/)
# gives, byte for byte. Fix: `cd playground && npm ci && npm run build`, commit dist/.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dist="$here/../crates/server/playground/dist"
cd "$here"
npm ci --no-audit --no-fund --loglevel=error
work=$(mktemp -d "${TMPDIR:-/tmp}/playground-fresh.XXXXXX")
trap 'rm -rf "$work"' EXIT
node build.mjs --outdir "$work" >/dev/null
stale=0
for name in $( (ls "$work"; ls "$dist" 2>/dev/null) | sort -u); do
  if ! cmp -s "$work/$name" "$dist/$name"; then
    echo "STALE PLAYGROUND BUNDLE: crates/server/playground/dist/$name differs from a fresh build of playground/" >&2
    stale=1
  fi
done
if [ "$stale" -ne 0 ]; then
  echo "run 'cd playground && npm ci && npm run build' and commit crates/server/playground/dist/" >&2
  exit 1
fi
echo "playground bundle is fresh: crates/server/playground/dist/ matches playground/ and examples/"
