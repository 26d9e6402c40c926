#!/usr/bin/env bash
# deps.sh: installs the Debian 12 packages the project needs, when missing.
#   tests/deps.sh                 everything: make check (other web servers,
#                                 PgBouncer, the test tools, Chromium and
#                                 puppeteer-core for tests/browser) and make bench
#   tests/deps.sh demo [SERVER]   only what make run needs: the build,
#                                 PostgreSQL, and the web server it serves
#                                 with (lighttpd, apache-fcgid, apache-proxy,
#                                 nginx)
# A web server or PgBouncer installed here is stopped and not started at
# boot: ours run privately, on ports of their own. DEPS_LIST=1: prints the
# packages, one a line, and installs nothing.
set -euo pipefail

build=(build-essential pkg-config libfcgi-dev libpq-dev libjson-c-dev libsodium-dev
       libcurl4-openssl-dev postgresql postgresql-contrib)
lighttpd=(lighttpd lighttpd-mod-deflate)
apache=(apache2 libapache2-mod-fcgid)
nginx=(nginx)
tools=(libcriterion-dev curl openssl clang libclang-rt-14-dev python3-jsonschema nodejs
       $(command -v npm >/dev/null || echo npm)	# unless nodejs brought it (NodeSource)
       pgbouncer valgrind chromium fonts-dejavu-core)

case "${1:-}" in
demo)
	case "${2:-lighttpd}" in
	apache-fcgid | apache-proxy) front=("${apache[@]}") ;;
	nginx) front=("${nginx[@]}") ;;
	*) front=("${lighttpd[@]}") ;;
	esac
	pkgs=("${build[@]}" "${front[@]}")
	;;
"") pkgs=("${build[@]}" "${lighttpd[@]}" "${apache[@]}" "${nginx[@]}" "${tools[@]}") ;;
*)
	echo "usage: tests/deps.sh [demo [SERVER]]" >&2
	exit 2
	;;
esac
if [ -n "${DEPS_LIST:-}" ]; then
	printf '%s\n' "${pkgs[@]}"
	exit 0
fi
# browser_deps: puppeteer-core as tests/browser/package-lock.json pins it
# (npm ci; no browser is downloaded: the tests drive Debian's chromium)
browser_deps() {
	local dir
	dir=$(cd "$(dirname "$0")/browser" && pwd)
	[ "$(node -p "require('$dir/node_modules/puppeteer-core/package.json').version" 2>/dev/null)" = \
	  "$(node -p "require('$dir/package.json').dependencies['puppeteer-core']")" ] && return
	(cd "$dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
}
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	[ -n "${1:-}" ] || browser_deps
	exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
# Debian starts and enables the services it installs where it can; those
# installed now are stopped and kept from starting at boot
for s in lighttpd apache2 nginx pgbouncer; do
	[[ " ${missing[*]} " == *" $s "* ]] || continue
	$sudo service "$s" stop >/dev/null 2>&1 || true
	if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
		$sudo systemctl disable "$s" >/dev/null 2>&1 || true
	elif command -v update-rc.d >/dev/null; then
		$sudo update-rc.d "$s" disable >/dev/null 2>&1 || true
	fi
done
[ -n "${1:-}" ] || browser_deps
