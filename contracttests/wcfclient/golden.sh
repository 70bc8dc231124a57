#!/usr/bin/env bash
# make dotnet-golden: the contract suite's golden bodies, written anew by the
# real .NET serializers (Mono; see Golden.cs) into contracttests/testdata/dotnet.
# Needs Debian's mono-mcs and mono-runtime (installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
. contracttests/wcfclient/mono.sh
need_mono
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mcs -nologo -r:System.Runtime.Serialization.dll -r:System.Xml.dll \
	contracttests/wcfclient/Golden.cs contracttests/wcfclient/Contracts.cs -out:"$out/golden.exe"
dir=contracttests/testdata/dotnet
rm -rf "$dir"
mono "$out/golden.exe" "$dir"
