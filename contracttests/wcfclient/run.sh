#!/usr/bin/env bash
# make wcf-check: a real .NET DataContract client (Mono) against the mock.
# Needs Debian's mono-mcs and mono-runtime (installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
. contracttests/wcfclient/mono.sh
need_mono
out=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$out"' EXIT
mcs -nologo -r:System.Runtime.Serialization.dll -r:System.Xml.dll contracttests/wcfclient/Probe.cs contracttests/wcfclient/Contracts.cs -out:"$out/probe.exe"
go build -o "$out/mockserver" ./cmd/mockserver
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18099)
"$out/mockserver" -addr "127.0.0.1:$port" 2>/dev/null &
pid=$!
for _ in $(seq 50); do (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
mono "$out/probe.exe" "http://127.0.0.1:$port"
