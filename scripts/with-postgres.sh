#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL (Debian's `postgresql`, installed by setup.sh):
# a cluster in a temporary directory, owned by an unprivileged user (PostgreSQL refuses to run as
# root; CI is root), reachable only through its Unix socket there, in UTC, stopped and removed
# when the command ends. The command gets CASINO_REALTIME_DATABASE_URL (libpq key=value form).
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "with-postgres: no PostgreSQL server (run scripts/setup.sh)" >&2; exit 1; }

dir=$(mktemp -d /tmp/casino-realtime-pg.XXXXXX)
as_owner=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  as_owner=(runuser -u postgres --)
fi
stop() {
  "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

"${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
"${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
  -o "-k $dir -c listen_addresses='' -c timezone=UTC -c fsync=off -c max_connections=200" >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }

export CASINO_REALTIME_DATABASE_URL="host=$dir user=postgres dbname=postgres"
set +e
"$@"
status=$?
set -e
exit $status
