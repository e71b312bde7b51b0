#!/usr/bin/env bash
# Regenerates playground/samples/hooks.json from crates/hooks/tests/fixtures
# with the hooks crate's own mapping (tools/hook-samples), then rebuild the
# bundle: `npm run build`. Uses the repository's Cargo.lock and target dir.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
tool="$here/hook-samples"
cp "$repo/Cargo.lock" "$tool/Cargo.lock"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}" cargo run --quiet --manifest-path "$tool/Cargo.toml" -- \
  "$repo/crates/hooks/tests/fixtures" "$repo/playground/samples/hooks.json"
echo "wrote playground/samples/hooks.json; now: cd playground && npm run build"
