#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks, in a directory of its own:
#
#   scripts/postgres.sh start DIR   initdb DIR/data if needed, start on 127.0.0.1 and a free port,
#                                   print its URL (postgres://bankhooks@127.0.0.1:PORT/postgres),
#                                   also written to DIR/url
#   scripts/postgres.sh stop DIR    stop it (fast shutdown)
#
# Debian's `postgresql` package is installed when initdb cannot be found. Trust authentication on
# loopback only (nothing listens elsewhere). fsync stays on, so benchmarks measure real commits;
# tests may set BANKHOOKS_POSTGRES_OPTIONS="-c fsync=off" (any server options). As root the server
# runs as the `postgres` user (initdb refuses root), and DIR is given to that user.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
command=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)

find_bin() {
  local found
  for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/initdb" ] && found=$candidate
  done
  if [ -z "${found:-}" ] && command -v initdb >/dev/null 2>&1; then found=$(dirname "$(command -v initdb)"); fi
  echo "${found:-}"
}

bin=$(find_bin)
if [ -z "$bin" ]; then
  ensure_debian_packages postgresql
  bin=$(find_bin)
  [ -n "$bin" ] || { echo "postgres.sh: initdb not found after installing postgresql" >&2; exit 1; }
fi

# Runs a PostgreSQL program as the owner of the data directory.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$command" in
start)
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$dir/data" -U bankhooks --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  # A free port: bind port 0 and read what the kernel gave (a race with another process is unlikely
  # and fails the start loudly).
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # No Unix socket (the directory may be one another server uses, or missing): TCP on loopback only.
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "-h 127.0.0.1 -p $port -k '' -c max_connections=300 -c shared_buffers=128MB ${BANKHOOKS_POSTGRES_OPTIONS:-}" >/dev/null \
    || { tail -n 20 "$dir/server.log" >&2; exit 1; }
  url="postgres://bankhooks@127.0.0.1:$port/postgres"
  echo "$url" >"$dir/url"
  echo "$url"
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  fi
  ;;
*) usage ;;
esac
