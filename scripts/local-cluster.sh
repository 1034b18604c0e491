#!/usr/bin/env bash
# Starts or stops a local clustered gateway on loopback: redis-server, N silos, M edges and the sample upstream.
#   scripts/local-cluster.sh up [--silos N] [--edges M]   (defaults: 2 silos, 2 edges)
#   scripts/local-cluster.sh status
#   scripts/local-cluster.sh down
# Ports: Redis 6399; edge i answers on http://127.0.0.1:$((8080+i)); silo i serves health and the dashboard on
# http://127.0.0.1:$((8180+i)) (user "admin", password = ADMIN_TOKEN), Orleans ports 11111+i and 30000+i.
# Logs and PIDs live in .run/cluster/. Only the processes this script started are stopped, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_DIR=.run/cluster
REDIS_PORT=6399
SILOS=2
EDGES=2
CONFIGURATION=${CONFIGURATION:-Release}
export SESSION_SECRET=${SESSION_SECRET:-local-cluster-secret-0123456789abcdef0123}
export ADMIN_TOKEN=${ADMIN_TOKEN:-local-admin-token-0123456789abcdefgh}  # at least 32 bytes

usage() { sed -n '2,9p' "$0"; exit 1; }

start() { # name, logfile, command...
  local name=$1 log=$2; shift 2
  "$@" >"$log" 2>&1 &
  echo "$!" >"$RUN_DIR/$name.pid"
}

wait_ready() { # name, url
  for _ in $(seq 1 120); do
    if curl -fs -o /dev/null "$2"; then echo "  $1 ready at ${2%/health/ready}"; return 0; fi
    sleep 0.5
  done
  echo "  $1 did not become ready; see $RUN_DIR/$1.log" >&2; return 1
}

up() {
  command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install redis-server" >&2; exit 1; }
  [ -e "$RUN_DIR/redis.pid" ] && { echo "already up; run: $0 down" >&2; exit 1; }
  mkdir -p "$RUN_DIR"
  dotnet build Gateway.sln -c "$CONFIGURATION" -v quiet -nologo >/dev/null
  local bin_edge=src/Gateway.Edge/bin/$CONFIGURATION/net10.0/Gateway.Edge.dll
  local bin_silo=src/Gateway.Silo/bin/$CONFIGURATION/net10.0/Gateway.Silo.dll
  local bin_up=samples/Gateway.SampleUpstream/bin/$CONFIGURATION/net10.0/Gateway.SampleUpstream.dll

  start redis "$RUN_DIR/redis.log" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no
  start upstream "$RUN_DIR/upstream.log" dotnet "$bin_up" --urls "http://127.0.0.1:5001;http://127.0.0.1:5002;http://127.0.0.1:5003"
  export REDIS_CONNECTION=127.0.0.1:$REDIS_PORT GATEWAY_CONFIG=config/gateway.yml ORLEANS_ADVERTISED_IP=127.0.0.1
  for i in $(seq 0 $((SILOS-1))); do
    ASPNETCORE_URLS=http://127.0.0.1:$((8180+i)) ORLEANS_SILO_PORT=$((11111+i)) ORLEANS_GATEWAY_PORT=$((30000+i)) \
      start "silo$i" "$RUN_DIR/silo$i.log" dotnet "$bin_silo"
  done
  for i in $(seq 0 $((SILOS-1))); do wait_ready "silo$i" "http://127.0.0.1:$((8180+i))/health/ready"; done
  for i in $(seq 0 $((EDGES-1))); do
    ASPNETCORE_URLS=http://127.0.0.1:$((8080+i)) start "edge$i" "$RUN_DIR/edge$i.log" dotnet "$bin_edge"
  done
  for i in $(seq 0 $((EDGES-1))); do wait_ready "edge$i" "http://127.0.0.1:$((8080+i))/health/ready"; done
  echo "Try: curl -i http://127.0.0.1:8080/api/public/hello"
}

down() {
  [ -d "$RUN_DIR" ] || { echo "nothing running"; return 0; }
  for f in "$RUN_DIR"/edge*.pid "$RUN_DIR"/silo*.pid "$RUN_DIR"/upstream.pid "$RUN_DIR"/redis.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; fi
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
    rm -f "$f"
  done
  echo "stopped"
}

status() {
  for f in "$RUN_DIR"/*.pid; do
    [ -e "$f" ] || { echo "nothing running"; return 0; }
    name=$(basename "$f" .pid); pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then echo "$name running (pid $pid)"; else echo "$name exited (pid $pid)"; fi
  done
}

cmd=${1:-}; shift || true
while [ $# -gt 0 ]; do
  case $1 in
    --silos) SILOS=$2; shift 2 ;;
    --edges) EDGES=$2; shift 2 ;;
    *) usage ;;
  esac
done
case $cmd in up) up ;; down) down ;; status) status ;; *) usage ;; esac
