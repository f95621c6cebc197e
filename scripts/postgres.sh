#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the store's integration tests, on loopback only.
#   scripts/postgres.sh start DIR   installs Debian's postgresql if missing, creates a cluster in
#                                   DIR (trust auth, listening on 127.0.0.1 only, a free port),
#                                   starts it and prints RUBBLE_POSTGRES_URL=postgres://...
#   scripts/postgres.sh stop DIR    stops it and deletes DIR.
# As root, the server runs as the 'postgres' user (PostgreSQL refuses to run as root).
set -euo pipefail
action=${1:?start or stop}
dir=${2:?a folder for the cluster}
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
case "$action" in
start)
  if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
    echo "postgres: installing postgresql" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  port=""
  for p in $(seq 55432 55532); do
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then port=$p; break; fi
  done
  [ -n "$port" ] || { echo "postgres: no free port in 55432-55532" >&2; exit 1; }
  as_owner "$bin/initdb" -D "$dir/data" -U rubble --auth=trust -E UTF8 >/dev/null
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off" start >/dev/null
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U rubble rubble
  echo "RUBBLE_POSTGRES_URL=postgres://rubble@127.0.0.1:$port/rubble"
  ;;
stop)
  if [ -d "$dir/data" ]; then as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true; fi
  rm -rf "$dir"
  ;;
*) echo "postgres: start or stop" >&2; exit 2 ;;
esac
