#!/usr/bin/env bash
# A private, throwaway PostgreSQL server for the tests, on 127.0.0.1 and a
# free port, in a directory of its own.
#
#   pg_server.sh start STATE   initdb + pg_ctl start; writes STATE/uri
#                              (postgresql://refold:<password>@127.0.0.1:<port>/refold)
#   pg_server.sh stop STATE    stops the server and removes its files
#   pg_server.sh pause STATE   stops the server, keeping its data
#   pg_server.sh resume STATE  starts it again on the same port
#
# PostgreSQL refuses to run as root, and CI runs as root: then the server
# runs as the `postgres` system user (the Debian package makes it), its
# data in a directory under /tmp that user owns. STATE (any directory the
# caller owns) keeps the URI and where the data lives.
#
# The tests' server runs with fsync=off (a test asserts what a crash of a
# process does, not of the machine). REFOLD_PG_FSYNC=on starts one that
# syncs, for benchmarks of durable writes. REFOLD_PG_TLS=DIR (holding
# cert.pem and key.pem) turns TLS on with that certificate.
set -euo pipefail

cmd=${1:?usage: pg_server.sh start|stop|pause|resume STATE}
state=${2:?usage: pg_server.sh start|stop|pause|resume STATE}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "pg_server.sh: no PostgreSQL server binaries under /usr/lib/postgresql (scripts/bootstrap installs them)" >&2
  exit 1
fi

as_server() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start_server() {
  local data=$1 port=$2 tls=""
  if [ -f "$data/tls/cert.pem" ]; then
    tls="-c ssl=on -c ssl_cert_file=$data/tls/cert.pem -c ssl_key_file=$data/tls/key.pem"
  fi
  as_server "$bindir/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 60 \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=${REFOLD_PG_FSYNC:-off} -c max_connections=300 $tls" \
    start >/dev/null
}

case "$cmd" in
  start)
    mkdir -p "$state"
    data=$(mktemp -d /tmp/refold-pg.XXXXXX)
    chmod 700 "$data"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$data"
    password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    printf '%s\n' "$password" | as_server tee "$data/pwfile" >/dev/null
    as_server "$bindir/initdb" -D "$data/db" -U refold --pwfile="$data/pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-sync >"$state/initdb.log" 2>&1
    as_server rm -f "$data/pwfile"
    if [ -n "${REFOLD_PG_TLS:-}" ]; then
      # The server reads its key only when the key is private to it.
      as_server mkdir -m 700 "$data/tls"
      as_server tee "$data/tls/cert.pem" <"$REFOLD_PG_TLS/cert.pem" >/dev/null
      as_server tee "$data/tls/key.pem" <"$REFOLD_PG_TLS/key.pem" >/dev/null
      as_server chmod 600 "$data/tls/key.pem"
    fi
    for _ in 1 2 3 4 5 6 7 8; do
      port=$((20000 + RANDOM % 40000))
      port_free "$port" || continue
      if start_server "$data" "$port"; then
        as_server "$bindir/createdb" -h "$data" -p "$port" -U refold refold
        printf '%s\n' "$data" >"$state/data"
        printf '%s\n' "$port" >"$state/port"
        printf 'postgresql://refold:%s@127.0.0.1:%s/refold\n' "$password" "$port" >"$state/uri"
        chmod 600 "$state/uri"
        exit 0
      fi
    done
    echo "pg_server.sh: the server did not start; its log:" >&2
    as_server cat "$data/server.log" >&2 || true
    exit 1
    ;;
  pause)
    data=$(cat "$state/data")
    as_server "$bindir/pg_ctl" -D "$data/db" -m fast -w stop >/dev/null
    ;;
  resume)
    start_server "$(cat "$state/data")" "$(cat "$state/port")"
    ;;
  stop)
    [ -f "$state/data" ] || exit 0
    data=$(cat "$state/data")
    as_server "$bindir/pg_ctl" -D "$data/db" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$data"
    rm -f "$state/data" "$state/port" "$state/uri"
    ;;
  *)
    echo "pg_server.sh: unknown command '$cmd'" >&2
    exit 2
    ;;
esac
