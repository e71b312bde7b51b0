#!/usr/bin/env bash
# Packaging check (issue 18): every publishable crate packages and builds
# from its package alone, carries the metadata crates.io wants, the host
# crate's package holds its committed runtime files, and
# `cargo install --path crates/cli` gives a working `claimscript`.
#
#   scripts/check-packaging.sh            # in CI, on a clean checkout
#   ALLOW_DIRTY=1 scripts/check-packaging.sh   # locally, with edits
#   NO_VERIFY=1 ...   # package only, without building each package (fast)
#
# `cargo publish --dry-run --workspace` packages the workspace together:
# each crate is verified against the packages of the crates it depends on
# (an overlay registry), so crates whose workspace dependencies are not on
# crates.io yet still verify. Nothing is uploaded.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

dirty=()
[ -n "${ALLOW_DIRTY:-}" ] && dirty=(--allow-dirty)
verify=()
[ -n "${NO_VERIFY:-}" ] && verify=(--no-verify)
# Never published: the guest build tool and the example.
unpublished=(--exclude claimscript-runtime-build --exclude claimscript-example-token-endpoint)

echo "== metadata of the publishable crates"
cargo metadata --no-deps --format-version 1 --locked | python3 -c '
import json, sys
meta = json.load(sys.stdin)
bad = []
for p in meta["packages"]:
    if p.get("publish") == []:
        continue
    for field in ("description", "license", "repository", "readme"):
        if not p.get(field):
            bad.append("%s: no %s" % (p["name"], field))
    for field in ("keywords", "categories"):
        if not p.get(field):
            bad.append("%s: no %s" % (p["name"], field))
    for d in p["dependencies"]:
        if d.get("path") and d["kind"] != "dev" and not d.get("req", "*").strip("*"):
            bad.append("%s: path dependency %s has no version" % (p["name"], d["name"]))
    print("ok  %s %s" % (p["name"], p["version"]))
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
'

echo "== the host crate packages its runtime and declarations"
list=$(cargo package --list -p claimscript "${dirty[@]}")
for f in runtime/claimscript-runtime.wasm runtime/claimscript-quickjs.wasm \
         types/globals.d.ts types/logto.d.ts types/auth0.d.ts types/loginradius.d.ts; do
  if ! grep -qx "$f" <<<"$list"; then
    echo "claimscript's package lacks $f" >&2
    exit 1
  fi
done
echo "ok"

echo "== cargo publish --dry-run --workspace (packages and builds each crate from its package)"
cargo publish --dry-run --workspace --locked "${dirty[@]}" "${verify[@]}" "${unpublished[@]}"

echo "== cargo install --path crates/cli gives a working binary"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
cargo install --locked --path crates/cli --root "$root"
"$root/bin/claimscript" --version
version=$("$root/bin/claimscript" --version)
want="claimscript $(cargo metadata --no-deps --format-version 1 --locked | python3 -c '
import json, sys
print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "claimscript-cli"))')"
if [ "$version" != "$want" ]; then
  echo "expected '$want', got '$version'" >&2
  exit 1
fi
# The installed binary runs a script with the runtime it embeds.
out=$(echo 'const getCustomJwtClaims = async () => ({ ok: true });' > "$root/s.js" &&
      echo '{"token":{}}' > "$root/in.json" &&
      "$root/bin/claimscript" --no-cache run "$root/s.js" --input "$root/in.json" || true)
echo "$out"
grep -q '"ok":true' <<<"$out" || { echo "the installed claimscript did not run a script" >&2; exit 1; }
echo "packaging: ok"
