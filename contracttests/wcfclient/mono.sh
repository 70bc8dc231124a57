# Sourced by run.sh and golden.sh: Debian's Mono (compiler, runtime and the
# serialization assemblies), installed when missing.
need_mono() {
	if ! command -v mcs >/dev/null || ! command -v mono >/dev/null ||
		[ ! -e /usr/lib/mono/4.5/System.Runtime.Serialization.dll ]; then
		local sudo=""
		[ "$(id -u)" -eq 0 ] || sudo="sudo"
		echo "installing Debian's Mono (mono-mcs, mono-runtime)" >&2
		$sudo apt-get install -y -q --no-install-recommends mono-mcs mono-runtime \
			libmono-system-runtime-serialization4.0-cil libmono-system-xml4.0-cil >/dev/null
	fi
}
