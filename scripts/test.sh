#!/usr/bin/env bash
# Runs every check CI runs, on a fresh machine: installs what the tests need (redis-server, promtool, chromium),
# verifies formatting, builds in Release and runs every test project. Ends with one "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "Installing ${need_apt[*]} from Debian"
  as_root=""; [ "$(id -u)" -eq 0 ] || as_root="sudo"
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
command -v kubectl >/dev/null 2>&1 || echo "warning: kubectl is missing; the deployment tests need it" >&2

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet restore Gateway.sln -v quiet
dotnet format Gateway.sln --verify-no-changes --no-restore
dotnet build Gateway.sln -c Release --no-restore -v quiet -nologo

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# One test project at a time: the real-process cluster tests and the 50 ms limiter budget need the two cores.
dotnet test Gateway.sln -c Release --no-build -m:1 --logger "console;verbosity=minimal" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
