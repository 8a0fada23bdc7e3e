#!/usr/bin/env bash
# The demo: installs what is missing, builds the package and the dev server, starts the dev
# server with the floor scenario and the example app, and prints the URL. Ctrl-C stops both.
# Arguments go to the dev server: `npm run demo -- --database-url URL` serves the floor from a
# PostgreSQL that has Supabase's schema and supabase/migrations applied (`npm run demo:postgres`
# makes a throwaway one).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

DEVSERVER_PORT=${DEVSERVER_PORT:-54330}
APP_PORT=${APP_PORT:-5173}

bash scripts/setup.sh
bash scripts/build-pkg.sh
cargo build --quiet -p devserver
if [ ! -d www-example/node_modules ] || [ www-example/package-lock.json -nt www-example/node_modules/.package-lock.json ]; then
  (cd www-example && npm ci --no-audit --no-fund)
fi

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

target/debug/devserver --scenario floor --port "$DEVSERVER_PORT" "$@" &
pids+=($!)
export DEVSERVER_URL="http://127.0.0.1:$DEVSERVER_PORT"
(cd www-example && exec node_modules/.bin/vite --host 127.0.0.1 --port "$APP_PORT" --strictPort --clearScreen false) &
pids+=($!)

sleep 2
printf '\n\033[1mcasino-realtime demo\033[0m: open http://127.0.0.1:%s (Ctrl-C stops everything)\n\n' "$APP_PORT"
wait -n "${pids[@]}"
