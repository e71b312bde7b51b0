#!/usr/bin/env bash
# Type-checks claims scripts against a Claimscript declaration file with tsc.
#
#   tests/types/check.sh STYLE DTS_FILE SCRIPT...
#
# STYLE is logto, auth0 or loginradius; DTS_FILE is the declaration file for
# that style (the output of `claimscript types --style STYLE`, i.e.
# crates/host/types/globals.d.ts followed by crates/host/types/STYLE.d.ts),
# or `-` to read it from standard input.
# The scripts are checked together, each as its own module, with
# `--allowJs --checkJs --strict --target es2023 --lib es2023`, no @types and
# `skipLibCheck: false`, so the declaration file is checked too.
#
# TypeScript is the exact version pinned in package.json; it is installed
# with `npm ci` on first use.
#
# Exit status: 0 when everything type-checks; 1 when tsc reports errors
# (printed on stdout, one per line, as `FILE(LINE,COL): error TSNNNN: ...`);
# 2 for a usage error; 3 when tsc cannot be run (no Node.js or npm, or the
# install failed).
set -euo pipefail

usage() {
  echo "usage: $0 logto|auth0|loginradius DTS_FILE|- SCRIPT..." >&2
  exit 2
}

[ "$#" -ge 3 ] || usage
style=$1
dts=$2
shift 2
case "$style" in
  logto | auth0 | loginradius) ;;
  *) echo "check.sh: unknown style '$style'" >&2; usage ;;
esac
if [ "$dts" != - ] && [ ! -r "$dts" ]; then
  echo "check.sh: cannot read $dts" >&2
  exit 2
fi
for file in "$@"; do
  [ -f "$file" ] || { echo "check.sh: no such file: $file" >&2; exit 2; }
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if ! command -v node >/dev/null 2>&1; then
  echo "check.sh: node is not installed" >&2
  exit 3
fi
tsc="$here/node_modules/typescript/bin/tsc"
if [ ! -f "$tsc" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "check.sh: npm is not installed" >&2
    exit 3
  fi
  if ! (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2); then
    echo "check.sh: npm ci failed in $here" >&2
    exit 3
  fi
fi

# tsc reads the declaration file as declarations only when its name ends in
# .d.ts: copy it when it does not (standard input, a process substitution).
work=$(mktemp -d "${TMPDIR:-/tmp}/claimscript-types.XXXXXX")
trap 'rm -rf "$work"' EXIT
case "$dts" in
  *.d.ts) dts_path=$(cd "$(dirname "$dts")" && pwd)/$(basename "$dts") ;;
  -) dts_path="$work/claimscript-$style.d.ts"; cat >"$dts_path" ;;
  *) dts_path="$work/claimscript-$style.d.ts"; cat "$dts" >"$dts_path" ;;
esac

# A generated tsconfig rather than command-line flags: `--types ''` is not
# accepted by every tsc, and `moduleDetection: force` lets several scripts
# that each declare `const getCustomJwtClaims` be checked in one run.
node - "$work/tsconfig.json" "$dts_path" "$@" <<'JS'
const fs = require('fs');
const path = require('path');
const [out, ...files] = process.argv.slice(2);
fs.writeFileSync(out, JSON.stringify({
  compilerOptions: {
    noEmit: true,
    allowJs: true,
    checkJs: true,
    strict: true,
    target: 'es2023',
    lib: ['es2023'],
    types: [],
    skipLibCheck: false,
    moduleDetection: 'force',
    noErrorTruncation: true,
  },
  files: files.map((file) => path.resolve(file)),
}, null, 2));
JS

set +e
output=$(cd "$here" && node "$tsc" --project "$work/tsconfig.json" --pretty false 2>&1)
status=$?
set -e
[ -z "$output" ] || printf '%s\n' "$output"
if [ "$status" -eq 0 ]; then
  exit 0
fi
if grep -q 'error TS[0-9]' <<<"$output"; then
  exit 1
fi
echo "check.sh: tsc failed (exit $status) without reporting type errors" >&2
exit 3
