#!/usr/bin/env bash
# Prints the package's sizes (raw, gzip -9, brotli -q 11) after wasm-opt, beside the reference
# figure for @supabase/realtime-js, then where the wasm's bytes go (bench/wasm-sizes.mjs on a
# build that keeps its names), and fails if the gzipped .wasm exceeds its budget.
#   bash bench/size.sh            builds pkg/ first
#   bash bench/size.sh --no-build  measures the pkg/ already built
set -euo pipefail
cd "$(dirname "$0")/.."

# Budget for the gzipped .wasm, in bytes. Raise it knowingly, in the commit that needs it.
# 72 KiB since the session and the browser layer landed (measured 70,079); the core alone
# measured 37,010. 75 KiB since the session's recovery work (channel phases, two clocks, wake
# checks, replay coverage, hostile-input checks at the boundary, review fixes: measured 75,554); the
# performance issue brings it down: 74,240 once the batcher dropped std's HashMap (measured 74,039);
# 68,608 with size classes in place of dlmalloc and no panicking str slicing (measured 68,043).
# 72,704 for the ecosystem issue (measured 72,068 from 67,523): each error's own members built
# from one kind table, the project URL, `debug`/`inspect()` and the `logger` (the inspector
# alone is about 5 KB raw). 73,216 for the staleness issue's first two parts, `staleSince` and
# polling while stale (measured 72,902); 73,728 with its resync jitter (measured 73,379).
# 92,160 for one connection per browser (measured 91,245 from 73,432): every tab's .wasm also
# holds the host of shared sessions (the hub, SessionHost, the message protocol: about 15 KB raw)
# and the tab client (about 14 KB), and the session serves several clients (about 11 KB). To take
# back: a second .wasm for the host, loaded only by the worker and a leading tab, would leave a
# tab in worker mode the tab client alone (docs/tabs.md).
WASM_GZIP_BUDGET=${WASM_GZIP_BUDGET:-92160}

[ "${1:-}" = "--no-build" ] || bash scripts/build-pkg.sh >/dev/null

total_raw=0 total_gz=0 total_br=0
measure() { # label, file, counts-in-total
  local raw gz br
  raw=$(wc -c <"$2")
  gz=$(gzip -9 -c "$2" | wc -c)
  br=$(brotli -q 11 -c "$2" | wc -c)
  printf '  %-34s %8d %8d %8d\n' "$1" "$raw" "$gz" "$br"
  if [ "${3:-}" = total ]; then
    total_raw=$((total_raw + raw)) total_gz=$((total_gz + gz)) total_br=$((total_br + br))
  fi
}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cat pkg/index.js pkg/casino_realtime_wasm.js >"$out/all.js"
node_modules/.bin/esbuild --bundle --minify --format=esm --log-level=error \
  --external:./casino_realtime_wasm_bg.wasm pkg/index.js >"$out/min.js"

node_modules/.bin/esbuild --bundle --minify --format=esm --log-level=error \
  --external:react --external:@tanstack/react-query --external:./index.js pkg/react.js >"$out/react.min.js"

echo "casino-realtime package size (bytes)"
printf '  %-34s %8s %8s %8s\n' "file" "raw" "gzip" "brotli"
measure "casino_realtime_wasm_bg.wasm" pkg/casino_realtime_wasm_bg.wasm total
measure "JS (index.js + glue), as shipped" "$out/all.js"
measure "JS, bundled and minified" "$out/min.js" total
measure "React entry (react.js), minified" "$out/react.min.js"
printf '  %-34s %8d %8d %8d\n' "total (wasm + minified JS)" "$total_raw" "$total_gz" "$total_br"
echo "  reference: @supabase/realtime-js 2.119, everything, about 17,400 gzipped (docs/design.md)"

# Where the bytes go: the same release build, optimized the same way but keeping its names.
bash bench/named-wasm.sh "$out/named.wasm"
echo
node bench/wasm-sizes.mjs "$out/named.wasm" --top "${SIZE_TOP:-25}"
echo

gz=$(gzip -9 -c pkg/casino_realtime_wasm_bg.wasm | wc -c)
if [ "$gz" -gt "$WASM_GZIP_BUDGET" ]; then
  echo "size: the gzipped .wasm is $gz bytes, over its budget of $WASM_GZIP_BUDGET" >&2
  exit 1
fi
echo "  budget: gzipped .wasm $gz of $WASM_GZIP_BUDGET bytes"
