#!/usr/bin/env bash
# Installs what the build and the tests need, idempotently: each step checks first and skips
# what is already there. Needs Debian (apt-get as root, or sudo), Rust by rustup, Node 20 and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

# The wasm-bindgen CLI must match the crate pinned in Cargo.lock to the letter.
wasm_bindgen_version() {
  sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p;q}' Cargo.lock
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
command -v brotli >/dev/null || need_apt+=(brotli)
# A real PostgreSQL for the SQL an app deploys (scripts/with-postgres.sh runs a throwaway one).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
for component in rustfmt clippy; do
  rustup component list --installed | grep -q "^$component" || rustup component add "$component"
done

want=$(wasm_bindgen_version)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  log "cargo install wasm-bindgen-cli $want (had: ${have:-none}); this takes a few minutes"
  # Not --locked: one dependency locked upstream is not served by every registry mirror.
  cargo install wasm-bindgen-cli --version "$want" --force
fi

# Vite 8 and the lock files need npm 11; some images ship npm 10.
if [ "$(npm --version | cut -d. -f1)" -lt 11 ]; then
  log "npm install -g npm@11"
  as_root npm install -g npm@11 --no-audit --no-fund
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
fi
log "ready"
