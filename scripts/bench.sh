#!/usr/bin/env bash
# The side-by-side proxy benchmark: the edge against plain YARP and nginx, in front of the same upstream, one command.
#   scripts/bench.sh
# Installs wrk, nginx and redis-server from Debian when missing, builds in Release, starts every target itself on
# 127.0.0.1, warms each .NET target, alternates the runs over several rounds and prints one table (req/s, p50, p99,
# CPU us per request of each process, ratios to plain YARP and to nginx). A full run also writes the ratios to
# docs/benchmarks.md; see that file for the method. It is a benchmark, not a test: CI never runs it.
#
# Environment (defaults in brackets):
#   BENCH_WARMUP [60]      seconds of load on each .NET target before the first round
#   BENCH_ROUNDS [3]       rounds; every round runs every selected run once, in alternating order
#   BENCH_DURATION [10]    seconds per run (wrk -t1 -c$BENCH_CONNECTIONS --latency)
#   BENCH_CONNECTIONS [64]
#   BENCH_TARGETS [all]    space-separated targets (direct yarp nginx embedded-exact embedded-fast clustered-exact
#                          clustered-fast) or single runs (clustered-exact/10k-session)
#   BENCH_UPSTREAM [nginx] the upstream behind every proxy: "nginx" (a fixed small JSON body) or "sample" (the echoing
#                          samples/Gateway.SampleUpstream)
#   BENCH_NOISE [0.10]     cores' worth of CPU other processes may take during a run before it is run again (once),
#                          then marked noisy
# Quick look: BENCH_WARMUP=3 BENCH_DURATION=2 BENCH_ROUNDS=1 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export BENCH_WARMUP=${BENCH_WARMUP:-60} BENCH_ROUNDS=${BENCH_ROUNDS:-3} BENCH_DURATION=${BENCH_DURATION:-10}
export BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-64} BENCH_UPSTREAM=${BENCH_UPSTREAM:-nginx} BENCH_NOISE=${BENCH_NOISE:-0.10}
BENCH_TARGETS=${BENCH_TARGETS:-all}
ALL_TARGETS="direct yarp nginx embedded-exact embedded-fast clustered-exact clustered-fast"
LOADS="1c 1c-session 10k 10k-session"   # one client or 10,000 (X-Forwarded-For), without or with a bearer session
RUN_DIR=$PWD/.run/bench
CONFIGURATION=Release
SESSION_SECRET=bench-session-secret-0123456789abcdef0123456789
ADMIN_TOKEN=bench-admin-token-0123456789abcdef0123456789

# ------------------------------------------------------------------------------------------------ tools and cores
need_apt=()
for tool in wrk:wrk nginx:nginx redis-server:redis-server curl:curl taskset:util-linux; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need_apt+=("${tool#*:}")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "Installing ${need_apt[*]} from Debian"
  as_root=""; [ "$(id -u)" -eq 0 ] || as_root="sudo"
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# The proxy under test gets core 0; the upstream, wrk, the silo and redis-server share core 1.
PROXY_CORE=0 LOAD_CORE=1
if [ "$(nproc)" -lt 2 ]; then
  echo "WARNING: $(nproc) core(s): the proxy and the load share one core, so the figures are not comparable" >&2
  LOAD_CORE=0
fi
export BENCH_LOAD_CORE=$LOAD_CORE BENCH_WRK_SCRIPT=$PWD/scripts/bench-wrk.lua

# ------------------------------------------------------------------------------------------------------- selection
selected() { # target [load]: is this target (or this run) in BENCH_TARGETS?
  [ "$BENCH_TARGETS" = all ] && return 0
  local entry
  for entry in $BENCH_TARGETS; do
    [ "$entry" = "$1" ] && return 0
    [ -n "${2:-}" ] && [ "$entry" = "$1/$2" ] && return 0
  done
  return 1
}
for entry in $BENCH_TARGETS; do
  [ "$entry" = all ] || [[ " $ALL_TARGETS " == *" ${entry%%/*} "* ]] || { echo "unknown target: $entry (known: $ALL_TARGETS)" >&2; exit 2; }
done
loads_of() { # target: the loads it runs
  case $1 in
    direct) echo 1c ;;
    *) local load; for load in $LOADS; do selected "$1" "$load" && echo "$load"; done ;;
  esac
}

# ----------------------------------------------------------------------------------------------------------- build
echo "Building (Release)"
for project in src/Gateway.Edge src/Gateway.Silo samples/Gateway.SampleUpstream bench/Gateway.Bench.PlainYarp; do
  dotnet build "$project" -c "$CONFIGURATION" -v quiet -nologo >/dev/null
done
bin() { echo "$1/bin/$CONFIGURATION/net10.0/$(basename "$1").dll"; }

# ------------------------------------------------------------------------------------------------------- processes
rm -rf "$RUN_DIR"; mkdir -p "$RUN_DIR"
PIDS=() LOG_PIDS=()
declare -A NAME_OF
stop() { # seconds pids...: SIGTERM to all, SIGKILL to those still running after that many seconds; only the
  # processes this script started, by PID
  local seconds=$1 pid alive; shift
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 $((seconds * 4))); do
    alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1 && break; done
    [ "$alive" = 1 ] || break
    sleep 0.25
  done
  for pid in "$@"; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "  ${NAME_OF[$pid]:-$pid} did not stop within $seconds s of SIGTERM; killed" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
}
cleanup() {
  echo "Stopping the targets"
  # Redis last: a silo stopping leaves the membership table in Redis, and without Redis it gives up only after its
  # shutdown timeouts (measured: more than 30 s).
  local pid others=() redis=()
  for pid in "${PIDS[@]}"; do
    if [[ "${NAME_OF[$pid]:-}" == *-redis ]]; then redis+=("$pid"); else others+=("$pid"); fi
  done
  stop 30 "${others[@]}"
  [ ${#redis[@]} -eq 0 ] || stop 10 "${redis[@]}"
  # The log readers write what they kept once their writer has gone (end of file): they end on their own.
  stop 5 "${LOG_PIDS[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

USED_PORTS=" "
free_port() { # variable: sets it to a free loopback port not handed out before in this run
  local port
  while :; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    [[ "$USED_PORTS" == *" $port "* ]] || { USED_PORTS+="$port "; printf -v "$1" %s "$port"; return; }
  done
}

LAST_PID=
start() { # name core command...: runs it in the background, pinned, output to $RUN_DIR/name.log
  local name=$1 core=$2; shift 2
  taskset -c "$core" "$@" >"$RUN_DIR/$name.log" 2>&1 &
  LAST_PID=$!; PIDS+=("$LAST_PID"); NAME_OF[$LAST_PID]=$name
}

LOG_PID=
start_logged() { # name core command...: like start, but stdout goes through a pipe to a reader on the load core
  # (as a container runtime reads it) that keeps the last MB in $RUN_DIR/name.log: the access log of a full run
  # would otherwise fill gigabytes.
  local name=$1 core=$2; shift 2
  mkfifo "$RUN_DIR/$name.pipe"
  taskset -c "$LOAD_CORE" tail -c 1000000 <"$RUN_DIR/$name.pipe" >"$RUN_DIR/$name.log" &
  LOG_PID=$!; LOG_PIDS+=("$LOG_PID"); NAME_OF[$LOG_PID]="$name (log reader)"
  taskset -c "$core" "$@" >"$RUN_DIR/$name.pipe" 2>&1 &
  LAST_PID=$!; PIDS+=("$LAST_PID"); NAME_OF[$LAST_PID]=$name
}

wait_http() { # name url: until it answers 2xx (60 s)
  for _ in $(seq 1 240); do
    curl -fs -o /dev/null --max-time 2 "$2" && return 0
    sleep 0.25
  done
  echo "error: $1 did not answer $2; see $RUN_DIR/$1.log" >&2
  tail -n 20 "$RUN_DIR/$1.log" >&2 || true
  exit 1
}

nginx_conf() { # name port body: a config with its own prefix, pid, logs and temp paths (nothing root-owned)
  local dir=$RUN_DIR/$1
  mkdir -p "$dir/temp"
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $dir/temp/client_body;
  proxy_temp_path $dir/temp/proxy;
  fastcgi_temp_path $dir/temp/fastcgi;
  uwsgi_temp_path $dir/temp/uwsgi;
  scgi_temp_path $dir/temp/scgi;
$3
}
EOF
  echo "$dir"
}
start_nginx() { # name core dir
  start "$1" "$2" nginx -p "$3" -e "$3/error.log" -c "$3/nginx.conf"
}

# The sample upstream: the identity check for logins (alice/alice), and the upstream itself with BENCH_UPSTREAM=sample.
free_port SAMPLE_PORT
start sample-upstream "$LOAD_CORE" dotnet "$(bin samples/Gateway.SampleUpstream)" --urls "http://127.0.0.1:$SAMPLE_PORT"
SAMPLE_PID=$LAST_PID
wait_http sample-upstream "http://127.0.0.1:$SAMPLE_PORT/health"

case $BENCH_UPSTREAM in
  sample) UPSTREAM_PORT=$SAMPLE_PORT UPSTREAM_PID=$SAMPLE_PID ;;
  nginx)
    free_port UPSTREAM_PORT
    dir=$(nginx_conf upstream "$UPSTREAM_PORT" "  server {
    listen 127.0.0.1:$UPSTREAM_PORT;
    location / { default_type application/json; return 200 '{\"service\":\"bench-upstream\",\"ok\":true,\"items\":[1,2,3]}'; }
  }")
    start_nginx upstream "$LOAD_CORE" "$dir"; UPSTREAM_PID=$LAST_PID
    wait_http upstream "http://127.0.0.1:$UPSTREAM_PORT/" ;;
  *) echo "BENCH_UPSTREAM is nginx or sample, not $BENCH_UPSTREAM" >&2; exit 2 ;;
esac
UPSTREAM=http://127.0.0.1:$UPSTREAM_PORT
PATH_UNDER_TEST=/api/bench   # every proxy forwards it unchanged; the edge's route is /api/{**rest}

# The plan lists the runs for scripts/bench.py in the order each round runs them: direct, baselines, edges.
PLAN=$RUN_DIR/plan.tsv
TOKEN_FOR_BASELINES=
plan() { # file run target instance load url token clients warm metrics roles
  local file=$1; shift
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RUN_DIR/plan-$file.tsv"
}
clients_of() { case $1 in 10k*) echo 10000 ;; *) echo 0 ;; esac; }

# --- the direct upstream
if selected direct; then
  plan 1-direct direct/1c direct upstream 1c "$UPSTREAM$PATH_UNDER_TEST" - 0 0 - "upstream=$UPSTREAM_PID"
fi

# --- the edge: embedded, or clustered (a silo and its own redis-server on the load core); exact or fast; a process
# per client set, since the 10,000-client targets trust 127.0.0.0/8 as a proxy in their gateway.yml.
gateway_yml() { # path mode trusted_proxies
  cat >"$1" <<EOF
# Written by scripts/bench.sh: one route, auth optional, a default limit far too high to trigger.
upstreams:
  app: { destinations: ["$UPSTREAM"] }
  identity: { destinations: ["http://127.0.0.1:$SAMPLE_PORT"] }
routes:
  - id: bench
    path: /api/{**rest}
    upstream: app
    auth: optional
session:
  cookie: gw_bench
  secure_cookie: false
  login: { upstream: identity, path: /auth/verify }
ratelimit:
  default: { requests: 1000000, period: 1s, burst: 1000000 }
  mode: $2
  on_backend_failure: open
trusted_proxies: $3
EOF
}

login() { # edge_url: a bearer token for alice, checked with GET /auth/session
  local body token
  body=$(curl -fs --max-time 10 -X POST "$1/auth/login" -H 'Content-Type: application/json' -d '{"username":"alice","password":"alice"}') \
    || { echo "error: login at $1 failed" >&2; exit 1; }
  token=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])' <<<"$body")
  curl -fs -o /dev/null --max-time 5 -H "Authorization: Bearer $token" "$1/auth/session" \
    || { echo "error: $1 does not accept its own session token" >&2; exit 1; }
  echo "$token"
}

for target in embedded-exact embedded-fast clustered-exact clustered-fast; do
  mode=${target#*-}
  for clients in 1c 10k; do
    loads=$(loads_of "$target" | grep "^$clients" || true)
    [ -n "$loads" ] || continue
    instance=$target-$clients
    trusted='[]'; [ "$clients" = 10k ] && trusted='["127.0.0.0/8"]'
    gateway_yml "$RUN_DIR/$instance.yml" "$mode" "$trusted"
    free_port edge_port
    common=(SESSION_SECRET="$SESSION_SECRET" ADMIN_TOKEN="$ADMIN_TOKEN" SHUTDOWN_DRAIN_DELAY=0
            GATEWAY_CONFIG="$RUN_DIR/$instance.yml" ORLEANS_ADVERTISED_IP=127.0.0.1)
    roles=""
    if [[ $target == clustered-* ]]; then
      free_port redis_port; free_port silo_http; free_port silo_port; free_port gateway_port
      start "$instance-redis" "$LOAD_CORE" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no
      redis_pid=$LAST_PID
      start "$instance-silo" "$LOAD_CORE" env "${common[@]}" REDIS_CONNECTION="127.0.0.1:$redis_port" \
        ASPNETCORE_URLS="http://127.0.0.1:$silo_http" ORLEANS_SILO_PORT="$silo_port" ORLEANS_GATEWAY_PORT="$gateway_port" \
        dotnet "$(bin src/Gateway.Silo)"
      silo_pid=$LAST_PID
      wait_http "$instance-silo" "http://127.0.0.1:$silo_http/health/ready"
      start_logged "$instance" "$PROXY_CORE" env "${common[@]}" REDIS_CONNECTION="127.0.0.1:$redis_port" \
        ASPNETCORE_URLS="http://127.0.0.1:$edge_port" dotnet "$(bin src/Gateway.Edge)"
      roles=",silo=$silo_pid,redis=$redis_pid"
    else
      free_port silo_port; free_port gateway_port
      start_logged "$instance" "$PROXY_CORE" env "${common[@]}" ASPNETCORE_URLS="http://127.0.0.1:$edge_port" \
        ORLEANS_SILO_PORT="$silo_port" ORLEANS_GATEWAY_PORT="$gateway_port" dotnet "$(bin src/Gateway.Edge)"
    fi
    edge_pid=$LAST_PID log_pid=$LOG_PID
    edge=http://127.0.0.1:$edge_port
    wait_http "$instance" "$edge/health/ready"
    echo "  $instance ready at $edge"
    token=-
    if grep -q session <<<"$loads"; then token=$(login "$edge"); TOKEN_FOR_BASELINES=$token; fi
    for load in $loads; do
      run_token=-; [[ $load == *session ]] && run_token=$token
      plan 3-edges "$target/$load" "$target" "$instance" "$load" "$edge$PATH_UNDER_TEST" "$run_token" "$(clients_of "$load")" 1 \
        "$edge/metrics" "proxy=$edge_pid,upstream=$UPSTREAM_PID,log=$log_pid$roles"
    done
  done
done

# --- the baselines: plain YARP and nginx (1 worker, keepalive upstream) forward the same headers to the same upstream.
# They see the same loads; the session header is only forwarded (any edge's token, or a stand-in of the same shape).
[ -n "$TOKEN_FOR_BASELINES" ] || TOKEN_FOR_BASELINES=v1.$(head -c 96 /dev/zero | tr '\0' 'x')
if [ -n "$(loads_of yarp)" ]; then
  free_port yarp_port
  start yarp "$PROXY_CORE" dotnet "$(bin bench/Gateway.Bench.PlainYarp)" --urls "http://127.0.0.1:$yarp_port" --upstream "$UPSTREAM"
  yarp_pid=$LAST_PID
  wait_http yarp "http://127.0.0.1:$yarp_port$PATH_UNDER_TEST"
  for load in $(loads_of yarp); do
    run_token=-; [[ $load == *session ]] && run_token=$TOKEN_FOR_BASELINES
    plan 2-baselines "yarp/$load" yarp yarp "$load" "http://127.0.0.1:$yarp_port$PATH_UNDER_TEST" "$run_token" "$(clients_of "$load")" 1 - \
      "proxy=$yarp_pid,upstream=$UPSTREAM_PID"
  done
fi
if [ -n "$(loads_of nginx)" ]; then
  free_port nginx_port
  dir=$(nginx_conf nginx-proxy "$nginx_port" "  upstream app {
    server 127.0.0.1:$UPSTREAM_PORT;
    keepalive 64;
    keepalive_requests 100000000;
  }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
    }
  }")
  start_nginx nginx-proxy "$PROXY_CORE" "$dir"; nginx_pid=$LAST_PID
  wait_http nginx-proxy "http://127.0.0.1:$nginx_port$PATH_UNDER_TEST"
  for load in $(loads_of nginx); do
    run_token=-; [[ $load == *session ]] && run_token=$TOKEN_FOR_BASELINES
    plan 2-baselines "nginx/$load" nginx nginx "$load" "http://127.0.0.1:$nginx_port$PATH_UNDER_TEST" "$run_token" "$(clients_of "$load")" 0 - \
      "proxy=$nginx_pid,upstream=$UPSTREAM_PID"
  done
fi
cat "$RUN_DIR"/plan-*.tsv >"$PLAN" 2>/dev/null || true
[ -s "$PLAN" ] || { echo "nothing selected by BENCH_TARGETS=$BENCH_TARGETS" >&2; exit 2; }

# ------------------------------------------------------------------------------------------------------ measuring
echo "$(wc -l <"$PLAN") runs; warm-up ${BENCH_WARMUP} s per .NET target, $BENCH_ROUNDS rounds of ${BENCH_DURATION} s"
python3 scripts/bench.py run "$PLAN" "$RUN_DIR/results.jsonl"

# Only a run with the full method updates the committed document; any other keeps its ratios in $RUN_DIR.
doc=docs/benchmarks.md
if [ "$BENCH_TARGETS" != all ] || [ "$BENCH_WARMUP" -lt 60 ] || [ "$BENCH_ROUNDS" -lt 3 ] || [ "$BENCH_DURATION" -lt 10 ]; then
  doc=-
fi
echo
python3 scripts/bench.py report "$RUN_DIR/results.jsonl" "$doc" "$RUN_DIR/benchmarks-section.md"
