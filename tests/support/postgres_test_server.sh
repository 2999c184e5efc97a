#!/usr/bin/env bash
# Starts or stops one throwaway PostgreSQL server shared by every store test of a ctest run
# (ctest fixture "postgres"), so each test process does not pay for its own initdb.
#   start STATE_DIR: initdb in a fresh temp dir, serve on a free loopback port, write the URL
#                    to STATE_DIR/url (the tests read it through COFFRE_TEST_PG_URL_FILE).
#   stop STATE_DIR:  stop that server and delete its files.
set -euo pipefail
command=$1
state=$2
mkdir -p "$state"

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "PostgreSQL server binaries are missing: run 'make deps'" >&2
  exit 1
fi
# initdb refuses to run as root: run the server as the postgres user then.
as_postgres=()
if [ "$(id -u)" = 0 ]; then as_postgres=(runuser -u postgres --); fi

case "$command" in
  start)
    if [ -f "$state/dir" ]; then "$0" stop "$state" || true; fi
    dir=$(mktemp -d /tmp/coffre-pg-XXXXXX)  # /tmp: reachable by the postgres user
    echo "$dir" > "$state/dir"
    port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    [ ${#as_postgres[@]} -gt 0 ] && chown postgres "$dir"
    "${as_postgres[@]}" "$bin/initdb" -D "$dir/data" -U coffre --auth=trust > "$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    "${as_postgres[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-k $dir -c listen_addresses=127.0.0.1 -p $port -c max_connections=300" start > /dev/null
    echo "postgresql://coffre@127.0.0.1:$port" > "$state/url"
    ;;
  stop)
    [ -f "$state/dir" ] || exit 0
    dir=$(cat "$state/dir")
    if [ -d "$dir/data" ]; then
      "${as_postgres[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop > /dev/null 2>&1 || true
    fi
    rm -rf "$dir" "$state/dir" "$state/url"
    ;;
  *)
    echo "usage: $0 start|stop STATE_DIR" >&2
    exit 2
    ;;
esac
