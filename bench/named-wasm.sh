#!/usr/bin/env bash
# Writes to $2 a release .wasm as pkg/ ships it (wasm-bindgen, wasm-opt -Oz) but with its name
# section kept, for the size report and the CPU profile: $1 is the crate's file name
# (casino_realtime_host or casino_realtime_plan). Needs a built pkg/ (scripts/build-pkg.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
wasm-bindgen "target/wasm32-unknown-unknown/release/$1.wasm" \
  --out-dir "$tmp" --out-name named --target web
node_modules/.bin/wasm-opt -Oz -g --strip-producers \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$tmp/named_bg.wasm" -o "$2"
