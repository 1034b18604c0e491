#!/usr/bin/env bash
# The fault suite: one command, real processes. Builds in Release, then tests/Gateway.Faults starts redis-server, 2 silos
# and 3 edges on loopback (through tests/Gateway.Testing's LocalCluster), runs every fault scenario in turn under
# steady load over all edges, prints each scenario's figures and writes docs/reliability.md from this run.
#   scripts/faults.sh [output.md]      (default: docs/reliability.md)
#   scripts/faults.sh subset           the short subset as xunit tests (a few minutes)
#   scripts/faults.sh --only flood [output.md]   one scenario by id (kill, sigstop, rolling, redis-stop, redis-empty,
#                                      flood, cold, config, idle) or by text in its name; writes no file unless given
# Exits 1 when a scenario's "must hold" failed (the document is written either way). Takes about 10 minutes.
# Every process it starts is ended by its own PID when the run ends.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install redis-server" >&2; exit 1; }
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 16384 ]; then
  ulimit -n 16384 2>/dev/null || { echo "the idle-connection scenario needs 'ulimit -n' of at least 16384 (now $(ulimit -n))" >&2; exit 1; }
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [ "${1:-}" = subset ]; then
  # The short subset (kill -9, SIGSTOP, rolling restart, Redis outage, cold clients) as xunit tests asserting each "must hold".
  exec dotnet test tests/Gateway.Cluster.Tests -c Release --filter "Category=Faults" --logger "console;verbosity=normal"
fi
dotnet build tests/Gateway.Faults -c Release -v quiet -nologo
if [ "${1:-}" = --only ]; then
  [ -n "${2:-}" ] || { echo "usage: scripts/faults.sh --only <text in a scenario's name> [output.md]" >&2; exit 2; }
  only=(--only "$2"); shift 2
  [ $# -eq 0 ] && exec dotnet tests/Gateway.Faults/bin/Release/net10.0/Gateway.Faults.dll "${only[@]}"
fi
out=${1:-docs/reliability.md}
case $out in /*) ;; *) out="$PWD/$out" ;; esac
exec dotnet tests/Gateway.Faults/bin/Release/net10.0/Gateway.Faults.dll ${only+"${only[@]}"} "$out"
