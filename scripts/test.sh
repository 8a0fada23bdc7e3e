#!/usr/bin/env bash
# Every check, the same way locally and in CI (`npm test`, `.ci/run`): installs what is missing,
# then formatting, lints on both targets, native tests, the SQL on a real PostgreSQL, browser
# tests in headless Chrome, the built package's type and JS tests, and the size report.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

bash scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (host: SDK and devserver, its database tests included)"
cargo clippy --workspace --all-targets --features devserver/database-tests -- -D warnings

step "clippy (wasm32: the core, the host with and without the inspector, the planner)"
cargo clippy -p casino-realtime -p casino-realtime-host -p casino-realtime-plan --all-targets \
  --target wasm32-unknown-unknown -- -D warnings
cargo clippy -p casino-realtime-host --features debug --target wasm32-unknown-unknown -- -D warnings

step "native tests (SDK core, devserver)"
cargo test --workspace

step "fuzz, short run (npm run fuzz does 1,000,000 cases per target)"
cargo run --quiet --profile fuzz -p fuzz -- --cases 100000

step "the SQL an app deploys, on a real PostgreSQL (a throwaway cluster; devserver/tests/database.rs)"
bash scripts/with-postgres.sh cargo test -p devserver --features database-tests --test database

step "devserver conformance with @supabase/realtime-js"
cargo build -p devserver
node --test --test-force-exit devserver/conformance/*.test.mjs

step "the planner's boundary in headless Chromium (wasm-bindgen-test)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
CHROMEDRIVER=/usr/bin/chromedriver \
WASM_BINDGEN_TEST_TIMEOUT=120 \
  cargo test --target wasm32-unknown-unknown -p casino-realtime-plan --lib

step "package: build, type-check, JS tests"
bash scripts/build-pkg.sh
node_modules/.bin/tsc -p tests/js/tsconfig.json
node --test --test-force-exit tests/js/*.test.mjs
node_modules/.bin/vitest run tests/vitest

step "end to end: the example app and the packed tarball in headless Chromium (playwright-core)"
if [ ! -d www-example/node_modules ] || [ www-example/package-lock.json -nt www-example/node_modules/.package-lock.json ]; then
  (cd www-example && npm ci --no-audit --no-fund)
fi
node --test --test-force-exit tests/e2e/*.test.mjs

step "on a real PostgreSQL: the chaos case through casino_realtime.emit, casino-realtime/server with supabase-js"
# One file at a time: each prepares a database, and roles are the cluster's.
bash scripts/with-postgres.sh node --test --test-force-exit --test-concurrency=1 tests/database/*.test.mjs

step "fleet recovery, short form (npm run bench:fleet runs 1,000 terminals)"
cargo bench --quiet --bench fleet -- --terminals 100

step "size"
bash bench/size.sh --no-build

step "browser benchmark, quick form (npm run bench runs it whole; figures here are not judged)"
node bench/browser/run.mjs --quick

step "tabs benchmark, quick form (npm run bench:tabs: 1 and 5 tabs, own sessions or one shared)"
node bench/browser/tabs.mjs --quick
