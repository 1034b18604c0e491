#!/usr/bin/env bash
# Starts the gateway in embedded mode (one process, its own silo, no Redis) in front of the sample upstream.
# The edge answers on http://127.0.0.1:8080; Ctrl+C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Gateway.sln -c Release -v quiet -nologo >/dev/null

dotnet samples/Gateway.SampleUpstream/bin/Release/net10.0/Gateway.SampleUpstream.dll \
  --urls "http://127.0.0.1:5001;http://127.0.0.1:5002;http://127.0.0.1:5003" &
upstream=$!
trap 'kill "$upstream" 2>/dev/null || true' EXIT

GATEWAY_CONFIG=${GATEWAY_CONFIG:-config/gateway.yml} \
  dotnet src/Gateway.Edge/bin/Release/net10.0/Gateway.Edge.dll --urls "${GATEWAY_URLS:-http://127.0.0.1:8080}"
