#!/usr/bin/env bash
# Prints the package's pieces (raw, gzip -9, brotli -q 11) after wasm-opt, each as it is fetched
# and by whom, against its own budget (bench/pieces.mjs, where the budgets and their history
# are), then where the host's .wasm bytes go (bench/wasm-sizes.mjs on a build that keeps its
# names). Fails when a piece is over its budget.
#   bash bench/size.sh            builds pkg/ first
#   bash bench/size.sh --no-build  measures the pkg/ already built
set -euo pipefail
cd "$(dirname "$0")/.."

[ "${1:-}" = "--no-build" ] || bash scripts/build-pkg.sh >/dev/null

status=0
node bench/pieces.mjs || status=$?

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bash bench/named-wasm.sh casino_realtime_host "$out/named.wasm"
echo
echo "the host .wasm:"
node bench/wasm-sizes.mjs "$out/named.wasm" --top "${SIZE_TOP:-25}"
exit "$status"
