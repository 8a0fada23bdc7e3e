#!/usr/bin/env bash
# Builds the npm package into pkg/: three .wasm modules (release profile: opt-level z, LTO), each
# through the wasm-bindgen CLI at the version pinned in Cargo.lock and wasm-opt, then the
# committed template in pkg-template/. Needs what scripts/setup.sh installs.
#   casino_realtime_host   the session host (host/): what the SharedWorker, a leading tab or a
#                          page hosting its own managers loads
#   casino_realtime_debug  the same host with the inspector (`debug`, `logger`)
#   casino_realtime_plan   planCacheActions and CacheRules (plan/), loaded by a page on first use
set -euo pipefail
cd "$(dirname "$0")/.."

# The flags rustc's wasm32 target enables (binaryen from npm, pinned in package.json: Debian's
# 108 cannot read the reference-types instructions rustc 1.95 emits), then what was measured to
# pay (bench/size.sh prints the effect of each).
WASM_OPT_FLAGS=(-Oz --converge --strip-debug --strip-producers --strip-target-features
  --low-memory-unused --zero-filled-memory
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue)

# module name, crate, cargo features, target dir (the debug host keeps its own, so switching
# features does not rebuild the other)
build() {
  local name=$1 crate=$2 features=$3 target=$4 file
  file=${crate//-/_}
  # shellcheck disable=SC2086
  CARGO_TARGET_DIR=$target cargo build --quiet --release --target wasm32-unknown-unknown \
    -p "$crate" $features
  wasm-bindgen "$target/wasm32-unknown-unknown/release/$file.wasm" \
    --out-dir pkg --out-name "$name" --target web
  node_modules/.bin/wasm-opt "${WASM_OPT_FLAGS[@]}" "pkg/${name}_bg.wasm" -o "pkg/${name}_bg.wasm"
  # wasm-bindgen's import names carry 16-digit hashes: short ones in the .wasm and its glue.
  node scripts/short-imports.mjs "pkg/$name" >/dev/null
}

rm -rf pkg
mkdir -p pkg
build casino_realtime_host casino-realtime-host "" target
build casino_realtime_debug casino-realtime-host "--features debug" target/debug-host
build casino_realtime_plan casino-realtime-plan "" target
# What wasm-bindgen cannot declare: a generic method, free()'s doc, no `[Symbol.dispose]`.
node scripts/patch-dts.mjs
rm -f pkg/.gitignore pkg/package.json
cp pkg-template/package.json pkg-template/README.md pkg-template/*.js pkg-template/*.d.ts \
  LICENSE-MIT LICENSE-APACHE CHANGELOG.md pkg/
# The SQL an app applies to its Supabase project (casino_realtime.emit, the RLS policies).
mkdir -p pkg/supabase/migrations
cp supabase/migrations/*.sql pkg/supabase/migrations/
for name in host debug plan; do
  echo "pkg/ built: $(du -b "pkg/casino_realtime_${name}_bg.wasm" | cut -f1) bytes of $name wasm"
done
