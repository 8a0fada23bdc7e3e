#!/usr/bin/env bash
# Builds the npm package into pkg/: the crate for wasm32 (release profile: opt-level z, LTO),
# the wasm-bindgen CLI at the version pinned in Cargo.lock, wasm-opt, then the committed
# template in pkg-template/. Needs what scripts/setup.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --release --target wasm32-unknown-unknown --lib
rm -rf pkg
mkdir -p pkg
wasm-bindgen target/wasm32-unknown-unknown/release/casino_realtime.wasm \
  --out-dir pkg --out-name casino_realtime_wasm --target web
# binaryen from npm (pinned in package.json): Debian's 108 cannot read the reference-types
# instructions rustc 1.95 emits. The feature flags are those rustc's wasm32 target enables.
node_modules/.bin/wasm-opt -Oz --strip-debug --strip-producers \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg/casino_realtime_wasm_bg.wasm -o pkg/casino_realtime_wasm_bg.wasm
# What wasm-bindgen cannot declare: a generic method, free()'s doc, no `[Symbol.dispose]`.
node scripts/patch-dts.mjs
rm -f pkg/.gitignore pkg/package.json
cp pkg-template/package.json pkg-template/README.md pkg-template/*.js pkg-template/*.d.ts \
  LICENSE-MIT LICENSE-APACHE CHANGELOG.md pkg/
echo "pkg/ built: $(du -b pkg/casino_realtime_wasm_bg.wasm | cut -f1) bytes of wasm"
