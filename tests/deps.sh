#!/usr/bin/env bash
# deps.sh: installs the Debian 12 packages the project needs, when missing.
set -euo pipefail

pkgs=(build-essential pkg-config libfcgi-dev libpq-dev libjson-c-dev libsodium-dev
      libcriterion-dev libcurl4-openssl-dev postgresql postgresql-contrib lighttpd lighttpd-mod-deflate curl openssl
      clang libclang-rt-14-dev python3-jsonschema nodejs
      $(command -v npm >/dev/null || echo npm)	# unless nodejs brought it (NodeSource)
      apache2 libapache2-mod-fcgid nginx pgbouncer valgrind)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
# Debian starts services it installs where it can; ours run privately
for s in lighttpd apache2 nginx pgbouncer; do
	$sudo service "$s" stop >/dev/null 2>&1 || true
done
