#!/usr/bin/env bash
# A CPU profile of the SDK on the browser benchmark's burst, with the wasm's function names:
# builds pkg/, then a copy of its .wasm optimized the same way but keeping the name section,
# and prints self time per function (CDP Profiler, 100 µs sampling).
#   bash bench/profile.sh [client] [--events N]    client: sdk (default), realtime-js, floor
set -euo pipefail
cd "$(dirname "$0")/.."
client=${1:-sdk}
[ $# -gt 0 ] && shift
bash scripts/build-pkg.sh >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bash bench/named-wasm.sh casino_realtime_host "$out/named.wasm"
node bench/browser/run.mjs --profile "$client" --wasm "$out/named.wasm" "$@"
