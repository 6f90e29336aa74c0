#!/usr/bin/env bash
# A Docker registry (Debian's `docker-registry`, distribution 2.8) on loopback, for builds to push to.
#   registry.sh start   prints REGISTRY_URL=http://127.0.0.1:<port> as its last line; harmless if already running
#   registry.sh stop
# Env: REGISTRY_PORT (5000), REGISTRY_STATE_DIR (.cache/registry), REGISTRY_HTPASSWD (a bcrypt htpasswd file, as
# `htpasswd -B` from apache2-utils writes it: the registry then requires those users' credentials; unset: open).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
port="${REGISTRY_PORT:-5000}"
state="${REGISTRY_STATE_DIR:-$root/.cache/registry}"
pidfile="$state/registry.pid"

running() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

case "${1:-}" in
  start)
    command -v docker-registry >/dev/null || { echo "registry.sh: docker-registry is not installed (apt-get install docker-registry)" >&2; exit 2; }
    mkdir -p "$state/data"
    if ! running; then
      cat > "$state/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $state/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YAML
      if [[ -n "${REGISTRY_HTPASSWD:-}" ]]; then
        [[ -r "$REGISTRY_HTPASSWD" ]] || { echo "registry.sh: REGISTRY_HTPASSWD $REGISTRY_HTPASSWD is not a readable file" >&2; exit 2; }
        cat >> "$state/config.yml" <<YAML
auth:
  htpasswd:
    realm: faasline-registry
    path: $REGISTRY_HTPASSWD
YAML
      fi
      nohup docker-registry serve "$state/config.yml" > "$state/registry.log" 2>&1 &
      echo $! > "$pidfile"
      # Up means /v2/ answers: 200 when open, 401 when it requires credentials.
      up() { [[ "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" 2>/dev/null)" =~ ^(200|401)$ ]]; }
      for _ in $(seq 1 100); do
        up && break
        sleep 0.1
      done
      up || { echo "registry.sh: did not start; see $state/registry.log" >&2; exit 1; }
    fi
    echo "REGISTRY_URL=http://127.0.0.1:$port"
    ;;
  stop)
    if running; then kill "$(cat "$pidfile")"; echo "registry.sh: stopped (pid $(cat "$pidfile"))"; fi
    rm -f "$pidfile"
    ;;
  *) echo "usage: registry.sh start|stop" >&2; exit 2 ;;
esac
