#!/usr/bin/env bash
# Runs every check CI runs, on a fresh machine: installs what the tests need (redis-server, promtool, chromium, kubectl)
# or stops with one line naming what is missing, verifies formatting, builds in Release once and runs every test
# project on that build, with each project's duration. Ends with one "N passed, N failed, N skipped" line. `scripts/test.sh --tools-only` stops after the tool check.
set -euo pipefail
cd "$(dirname "$0")/.."

# The tools the tests start or run: redis-server (cluster and Redis tests), promtool (alert rules), chromium (dashboard),
# kubectl with kustomize v5 built in (the k8s/ kustomizations). What is missing is installed from Debian when possible;
# whatever is still missing afterwards stops the run here with one line, before anything is built.
kustomize_major() {
  kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\([0-9][0-9]*\).*/\1/p' | head -n 1
}
kubectl_ok() {
  local major
  command -v kubectl >/dev/null 2>&1 && major=$(kustomize_major) && [ -n "$major" ] && [ "$major" -ge 5 ]
}
chromium_ok() {
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1
}

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
chromium_ok || need_apt+=(chromium)
need_kubectl=""
kubectl_ok || need_kubectl=1
kubectl_hint="kubectl 1.27 or later (kustomize v5 built in), e.g. the kubectl package of the pkgs.k8s.io apt repository"
if [ -n "$need_kubectl" ] && command -v kubectl >/dev/null 2>&1; then
  kubectl_hint="$kubectl_hint; the kubectl on PATH ($(command -v kubectl)) has no kustomize v5"
fi

if [ ${#need_apt[@]} -gt 0 ] || [ -n "$need_kubectl" ]; then
  as_root=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then as_root="sudo"; else as_root="unavailable"; fi
  fi
  if [ "$as_root" = "unavailable" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "Cannot install missing tools here (needs apt-get, and root or sudo)" >&2
  else
    $as_root apt-get update -qq || echo "warning: apt-get update failed" >&2
    if [ -n "$need_kubectl" ]; then
      # Debian's kubectl is the kubernetes-client package. Bookworm's is 1.20 (1.20.5+really1.20.2), whose built-in
      # kustomize (v2) cannot render these kustomizations: they need kustomize v5, built into kubectl from 1.27 on.
      # Install it only when the candidate Debian offers is recent enough; otherwise the check below names what to install.
      candidate=$(apt-cache policy kubernetes-client 2>/dev/null | awk '/Candidate:/ {print $2}')
      version=${candidate##*really}
      minor=$(printf '%s\n' "${version#*:}" | sed -n 's/^1\.\([0-9][0-9]*\).*/\1/p')
      if [ -n "$minor" ] && [ "$minor" -ge 27 ]; then
        need_apt+=(kubernetes-client)
      elif [ -n "$candidate" ] && [ "$candidate" != "(none)" ]; then
        kubectl_hint="$kubectl_hint; Debian's kubernetes-client $candidate is too old"
      fi
    fi
    for package in "${need_apt[@]}"; do
      echo "Installing $package from Debian"
      $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null \
        || echo "warning: apt-get could not install $package" >&2
    done
  fi
fi

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=("redis-server (apt-get install redis-server)")
command -v promtool >/dev/null 2>&1 || missing+=("promtool (apt-get install prometheus)")
chromium_ok || missing+=("chromium (apt-get install chromium)")
kubectl_ok || missing+=("$kubectl_hint")
if [ ${#missing[@]} -gt 0 ]; then
  joined=$(printf '; %s' "${missing[@]}")
  echo "error: the tests need tools that are missing and could not be installed: ${joined:2}" >&2
  exit 1
fi
if [ "${1:-}" = "--tools-only" ]; then
  echo "Every tool the tests need is installed"
  exit 0
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
started=$SECONDS
dotnet restore Gateway.sln -v quiet

# Formatting of every C# file in the repository, checked without loading the solution (seconds, where a full
# `dotnet format` compiles everything a second time). Code style and analyzer rules need no separate pass: the build
# enforces them (EnforceCodeStyleInBuild, warnings as errors, IDE0055 formatting at warning in .editorconfig).
dotnet format whitespace . --folder --verify-no-changes
echo "restore and format: $((SECONDS - started)) s"

# CPU seconds (user + system) of this shell's children that have ended: with the wall time of a phase, it shows whether
# the phase keeps both cores busy or mostly waits (process starts, load runs of fixed length, fault scenarios). Only
# processes that were waited for count: for the build it is a lower bound (MSBuild's worker nodes and the compilers
# they start may end after the build's own process).
# `times` runs in the calling shell itself (a $(...) subshell would see no children), and leaves the sum in $cpu.
cpu_seconds() {
  local file="$logs/times.$BASHPID"
  times >"$file"
  cpu=$(awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, part, "m"); total += part[1] * 60 + part[2] } } END { printf "%d", total }' "$file")
}

# One Release build of everything the tests run (tests/Gateway.Tests.slnf: the solution without bench/); the tests run
# on its output. The bench projects are compiled later, beside the cluster tests (see below).
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
started=$SECONDS
cpu_seconds
cpu_started=$cpu
dotnet build tests/Gateway.Tests.slnf -c Release --no-restore -v quiet -nologo
cpu_seconds
echo "build: $((SECONDS - started)) s ($((cpu - cpu_started)) s CPU)"

# Runs one test project on the build output into its own log; prints its name, duration and result line.
# The second argument selects tests (default: all but the fault subset), the third names the log.
run_tests() {
  local name=$1 filter=${2:-Category!=Faults} log=${3:-$1} started=$SECONDS cpu_started status=0 cpu
  cpu_seconds
  cpu_started=$cpu
  dotnet test "tests/$name" -c Release --no-build --filter "$filter" --logger "console;verbosity=minimal" >"$logs/$log.log" 2>&1 || status=$?
  echo "$status" >"$logs/$log.status"
  cpu_seconds
  echo "$log: $((SECONDS - started)) s ($((cpu - cpu_started)) s CPU), $(grep -Eo '(Passed|Failed)!.*Total: *[0-9]+' "$logs/$log.log" | head -n 1)"
}

# The bench projects (bench/), compiled on the build output above without building their references again, so that
# nothing the running tests start is rewritten: a bench that does not compile fails the run like a failed test.
build_bench() {
  local started=$SECONDS cpu_started status=0 project cpu
  cpu_seconds
  cpu_started=$cpu
  for project in bench/*/; do
    dotnet build "$project" -c Release --no-restore --no-dependencies -v quiet -nologo >>"$logs/bench.build" 2>&1 || status=1
  done
  echo "$status" >"$logs/bench.status"
  cpu_seconds
  echo "bench build: $((SECONDS - started)) s ($((cpu - cpu_started)) s CPU)$([ "$status" -eq 0 ] || echo ', FAILED')"
}

# The edge tests first, alone: they hold in-process edges to the limiter's 50 ms decision budget. Then the
# real-process cluster tests on one side, and on the other, one after another, the bench build and the projects that
# need no such budget (grains on a fake clock, hosting, deployment files): the cluster tests spend most of their time
# waiting (process starts, membership, load runs of fixed length), so those fit in beside them.
started=$SECONDS
cpu_seconds
cpu_started=$cpu
run_tests Gateway.Edge.Tests
run_tests Gateway.Cluster.Tests &
cluster=$!
build_bench
for project in tests/*.Tests/; do
  name=$(basename "$project")
  case "$name" in
    Gateway.Cluster.Tests | Gateway.Edge.Tests) ;;
    *) run_tests "$name" ;;
  esac
done
wait "$cluster" || true
# Last, alone: the short fault subset (kill -9 and SIGSTOP of a silo, rolling restart, Redis outage, 300 cold
# clients) on a cluster of its own, asserting each scenario's "must hold" (docs/reliability.md). It loads the machine
# on purpose, so nothing else runs beside it.
run_tests Gateway.Cluster.Tests "Category=Faults" Gateway.Cluster.Tests.Faults
cpu_seconds
echo "tests: $((SECONDS - started)) s ($((cpu - cpu_started)) s CPU)"

status=0
if [ "$(cat "$logs/bench.status")" -ne 0 ]; then
  echo "--- bench build ---"
  cat "$logs/bench.build"
  status=1
fi
for log in "$logs"/*.log; do
  name=$(basename "$log" .log)
  if [ "$(cat "$logs/$name.status")" -ne 0 ] || ! grep -q 'Passed!' "$log"; then
    echo "--- $name ---"
    cat "$log"
    status=1
  fi
done

passed=$(cat "$logs"/*.log | grep -Eo 'Passed: +[0-9]+' | awk '{s+=$2} END {print s+0}')
failed=$(cat "$logs"/*.log | grep -Eo 'Failed: +[0-9]+' | awk '{s+=$2} END {print s+0}')
skipped=$(cat "$logs"/*.log | grep -Eo 'Skipped: +[0-9]+' | awk '{s+=$2} END {print s+0}')
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
