#!/usr/bin/env bash
# Build the guest runtime core module (wasm32-wasip1) into $1.
#
# Two toolchains are supported:
#  - rustup with the wasm32-wasip1 target and a wasi-sdk at $WASI_SDK;
#  - Debian bookworm's packages (no rustup target, no wasi-sdk):
#      apt-get install rustc-web cargo-web rust-web-src clang lld wasi-libc \
#                      libclang-rt-14-dev-wasm32 llvm-14
#    std is rebuilt with -Zbuild-std and a wasi-sdk-shaped directory is made
#    from the packages for rquickjs-sys's C build.
set -euo pipefail
out=$(realpath -m "${1:?usage: build.sh OUT.wasm}")
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
target_dir=${CARGO_TARGET_DIR:-$here/target}
# Keep the checkout's location out of the binary, so that every clone builds
# the same bytes (CI compares them with the committed runtime).
remap="--remap-path-prefix=$here=/claimscript/guest --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"

have_rustup_target() {
  command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1
}

if have_rustup_target && [ -n "${WASI_SDK:-}" ]; then
  echo "guest: rustup wasm32-wasip1 target with WASI_SDK=$WASI_SDK" >&2
  RUSTFLAGS="$remap" cargo build --release --target wasm32-wasip1 --target-dir "$target_dir"
elif [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust ] && [ -d /usr/lib/wasm32-wasi ] \
     && command -v wasm-ld >/dev/null && command -v clang-14 >/dev/null \
     && [ -d /usr/lib/llvm-14/lib/clang ]; then
  echo "guest: Debian toolchain (rustc-web + build-std + wasi-libc)" >&2
  sdk="$target_dir/wasi-sdk-shim"
  mkdir -p "$sdk/bin" "$sdk/share/wasi-sysroot/include" "$sdk/share/wasi-sysroot/lib"
  cat > "$sdk/bin/clang" <<'SH'
#!/bin/sh
# clang-14 knows wasm32-wasi, not wasm32-wasip1/p2: rewrite the triple.
for a in "$@"; do
  shift
  case "$a" in
    --target=wasm32-wasip1|--target=wasm32-wasip2) a=--target=wasm32-wasi ;;
    wasm32-wasip1|wasm32-wasip2) a=wasm32-wasi ;;
  esac
  set -- "$@" "$a"
done
exec clang-14 "$@"
SH
  chmod +x "$sdk/bin/clang"
  ln -sfn /usr/bin/llvm-ar-14 "$sdk/bin/ar"
  for t in wasm32-wasi wasm32-wasip1; do
    ln -sfn /usr/include/wasm32-wasi "$sdk/share/wasi-sysroot/include/$t"
    ln -sfn /usr/lib/wasm32-wasi "$sdk/share/wasi-sysroot/lib/$t"
  done
  builtins=$(dirname "$(ls /usr/lib/llvm-14/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a | head -n1)")
  WASI_SDK="$sdk" RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
  RUSTFLAGS="-C linker=wasm-ld -C link-self-contained=no -L /usr/lib/wasm32-wasi -L $builtins -C link-arg=/usr/lib/wasm32-wasi/crt1-reactor.o $remap" \
    /usr/bin/cargo build -Zbuild-std=std,panic_abort --target wasm32-wasip1 --release \
      --target-dir "$target_dir"
else
  cat >&2 <<'MSG'
guest: no toolchain for wasm32-wasip1 found. Either
  - rustup target add wasm32-wasip1, and set WASI_SDK to a wasi-sdk, or
  - on Debian bookworm: apt-get install rustc-web cargo-web rust-web-src clang lld \
      wasi-libc libclang-rt-14-dev-wasm32 llvm-14
MSG
  exit 1
fi
mkdir -p "$(dirname "$out")"
cp "$target_dir/wasm32-wasip1/release/claimscript_guest.wasm" "$out"
