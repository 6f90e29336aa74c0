#!/usr/bin/env bash
# Uses the machine's own PostgreSQL cluster (Debian packaging, trust auth for
# user postgres over TCP) instead of a container, which is not available here.
#
# Usage: deploy/local/postgres.sh start | ensure-db NAME
#   start          make sure 127.0.0.1:5432 accepts connections
#   ensure-db NAME start, then create database NAME if it does not exist
# Last stdout line is DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db>
# (db "postgres" for plain start) so callers can eval it.
set -euo pipefail

HOST=127.0.0.1
PORT=5432
PGUSER=postgres
START_TIMEOUT=30

log() { echo "postgres.sh: $*" >&2; }

ready() { pg_isready -q -h "$HOST" -p "$PORT"; }

start() {
  if ready; then return 0; fi
  local version
  version="$(ls /etc/postgresql 2>/dev/null | head -1)"
  if [[ -z "$version" ]]; then
    log "no cluster under /etc/postgresql; is PostgreSQL installed?"
    exit 1
  fi
  # Without --skip-systemctl-redirect pg_ctlcluster hands off to systemd,
  # which is not running in this container.
  log "starting cluster $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  local deadline=$((SECONDS + START_TIMEOUT))
  until ready; do
    if ((SECONDS >= deadline)); then
      log "not accepting connections on $HOST:$PORT after $START_TIMEOUT s"
      exit 1
    fi
    sleep 0.5
  done
}

ensure_db() {
  local name="$1"
  # The name goes into SQL below; restricting it avoids quoting bugs and
  # injection rather than trying to escape arbitrary input.
  if [[ ! "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
    log "database name must match [A-Za-z_][A-Za-z0-9_]*: $name"
    exit 2
  fi
  start
  local psql=(psql -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U "$PGUSER" -d postgres -At)
  # CREATE DATABASE has no IF NOT EXISTS, hence the lookup first.
  if [[ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$name'")" != 1 ]]; then
    "${psql[@]}" -c "CREATE DATABASE \"$name\""
    log "created database $name"
  fi
}

case "${1:-}" in
  start)
    start
    echo "DATABASE_URL=postgres://$PGUSER@$HOST:$PORT/postgres"
    ;;
  ensure-db)
    [[ $# -eq 2 ]] || { echo "usage: $0 ensure-db NAME" >&2; exit 2; }
    ensure_db "$2"
    echo "DATABASE_URL=postgres://$PGUSER@$HOST:$PORT/$2"
    ;;
  *)
    echo "usage: $0 start | ensure-db NAME" >&2
    exit 2
    ;;
esac
