#!/usr/bin/env bash
# servers.sh: the smoke suite (tests/e2e --filter 'servers/*') behind every
# supported front end, each started from its conf/ example as a user would
# (copy, change the marked lines), with the sanitizer build of the worker:
#   lighttpd        lighttpd spawns the workers (bin-path)       conf/lighttpd.conf
#   lighttpd-pool   lighttpd -> our pool on a Unix socket        conf/lighttpd-pool.conf
#   apache-fcgid    Apache + mod_fcgid spawns the workers        conf/apache-fcgid.conf
#   apache-proxy    Apache + mod_proxy_fcgi -> our pool          conf/apache-proxy-fcgi.conf
#   nginx           nginx -> our pool                            conf/nginx.conf
#   pgbouncer-off   lighttpd-pool, the pool's database behind PgBouncer in
#                   transaction mode, prepared_statements = off  conf/pgbouncer.ini
#   pgbouncer-auto  nginx, PgBouncer again, prepared_statements = auto
#
# Usage: tests/servers.sh [NAME...]   (default: all of them)
# Needs a running PostgreSQL with the schema (PGHOST, PGPORT, PGDATABASE,
# PGUSER exported; TCP on 127.0.0.1 with trust, as tests/pgctl.sh makes it)
# and a build (BUILD_DIR, default build). Ports from SERVERS_PORT_BASE
# (default 18100): front ends on BASE+0.., PgBouncer on BASE+10. Files under
# SERVERS_WORK (default BUILD/servers), kept for a look afterwards. Prints one
# "== servers: NAME" block per server and a Criterion-style synthesis line;
# exits non-zero when anything failed (a test, a start, a sanitizer report,
# a token in a log).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$top"

all=(lighttpd lighttpd-pool apache-fcgid apache-proxy nginx pgbouncer-off pgbouncer-auto)
build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
base=${SERVERS_PORT_BASE:-18100}
app=$build/asan/calendence.fcgi
e2e=$build/tests/e2e
wuser=$(web_user)

need_pg servers.sh
need_built servers.sh "$app" "$e2e"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
for n in "${names[@]}"; do
	[[ " ${all[*]} " == *" $n "* ]] || { echo "servers.sh: unknown server $n" >&2; exit 2; }
done

# Apache's workers run as www-data and PgBouncer as postgres: everything
# they open must be reachable (SERVERS_WORK, default BUILD/servers, or a
# directory under /tmp when that is closed to them)
work=${SERVERS_WORK:-$build/servers}
work=$(open_dir "$(dirname "$work")" "$(basename "$work")" "$wuser" postgres)
pgb=$work/pgbouncer

# Stops whatever is still running: every FILE.pid under the work directory.
cleanup() {
	local f
	for f in "$work"/*/*.conf.pid "$work"/*/pool.pid; do
		[ -f "$f" ] && proc_stop "$f"
	done
	[ -f "$pgb/pgbouncer.ini.pid" ] && pgbouncer_stop "$pgb"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$work"
mkdir -p "$work"
chmod 755 "$work"

# app_conf FILE [LINE...]: the workers' settings for the smoke suite
app_conf() {
	local f=$1
	shift
	{
		echo "# the end-to-end tests claim client addresses in X-Forwarded-For"
		echo "trusted_proxies = 127.0.0.1"
		echo "log_level = info"
		echo "auth_fail_limit = 20"
		printf '%s\n' "$@"
	} >"$f"
	chmod 644 "$f"
}

# --- one function per server: start it, set url; the stop is cleanup() -------

start_lighttpd() {
	app_conf "$dir/calendence.conf"
	lighttpd_conf "$dir/lighttpd.conf" "$port" "$app" "$dir/calendence.conf" "$dir" 3
	lighttpd_start "$dir/lighttpd.conf" >>"$dir/lighttpd.conf.out" 2>&1
}

# with_pool FRONT [CONF LINE...]: our pool of 3 workers, FRONT before it
with_pool() {
	local front=$1
	shift
	app_conf "$dir/calendence.conf" "$@"
	sock_dir "$dir/run"
	pool_start "$dir/pool.pid" "$app" "$dir/run/calendence.sock" 3 \
		"$dir/calendence.conf" "$dir/pool.log" || return 1
	case $front in
	lighttpd-pool)
		lighttpd_pool_conf "$dir/lighttpd.conf" "$port" "$dir/run/calendence.sock" "$dir"
		lighttpd_start "$dir/lighttpd.conf" >>"$dir/lighttpd.conf.out" 2>&1 ;;
	apache-proxy)
		apache_conf "$top/conf/apache-proxy-fcgi.conf" "$dir/apache.conf" \
			PORT="$port" SOCKET="$dir/run/calendence.sock" STATE_DIR="$dir" \
			USER="$wuser" GROUP="$(web_group)"
		apache_start "$dir/apache.conf" ;;
	nginx)
		nginx_conf "$dir/nginx.conf" "$port" "$dir/run/calendence.sock" "$dir" "$wuser"
		nginx_start "$dir/nginx.conf" ;;
	esac
}

start_lighttpd-pool() { with_pool lighttpd-pool; }
start_apache-proxy() { with_pool apache-proxy; }
start_nginx() { with_pool nginx; }

# Apache spawns the workers as www-data: they reach PostgreSQL over TCP, and
# their sanitizer logs go to a directory of theirs.
start_apache-fcgid() {
	local bin=$app
	app_conf "$dir/calendence.conf"
	if ! user_reaches "$wuser" "$app"; then
		cp "$app" "$dir/calendence.fcgi"
		bin=$dir/calendence.fcgi
	fi
	apache_conf "$top/conf/apache-fcgid.conf" "$dir/apache.conf" \
		PORT="$port" APP="$bin" CONFIG="$dir/calendence.conf" STATE_DIR="$dir" \
		WORKERS=4 USER="$wuser" GROUP="$(web_group)" PGHOST=127.0.0.1 \
		PGPORT="$PGPORT" PGDATABASE="$PGDATABASE" PGUSER="$PGUSER"
	# the sanitizer settings of the test build, which mod_fcgid passes on
	# only when told
	{
		echo "FcgidInitialEnv ASAN_OPTIONS \"$ASAN_OPTIONS\""
		echo "FcgidInitialEnv UBSAN_OPTIONS \"$UBSAN_OPTIONS\""
	} >>"$dir/apache.conf"
	apache_start "$dir/apache.conf"
}

# PgBouncer before the pool (stopped with the rest after each run). For the
# test, its connections forget every prepared statement at the end of each
# transaction (server_reset_query_always: DISCARD ALL), as they would when a
# later transaction lands on another server connection, only every time:
# with "auto" each worker's first statement surely meets what it must
# detect (with two connections taken in turn it met it only most of the time)
pgbouncer_up() {
	pgbouncer_conf "$pgb" "$((base + 10))" "$PGPORT" "$PGDATABASE" "$PGUSER"
	printf '%s\n' "server_reset_query = DISCARD ALL" "server_reset_query_always = 1" \
		>>"$pgb/pgbouncer.ini"
	pgbouncer_start "$pgb"
}

pgbouncer_db="database = host=127.0.0.1 port=$((base + 10)) dbname=$PGDATABASE user=$PGUSER"

start_pgbouncer-off() {
	pgbouncer_up || return 1
	with_pool lighttpd-pool "$pgbouncer_db" "prepared_statements = off"
}

start_pgbouncer-auto() {
	pgbouncer_up || return 1
	with_pool nginx "$pgbouncer_db" "prepared_statements = auto"
}

# --- the run ---------------------------------------------------------------------

tested=0 passed=0 failed=0 crashed=0 bad=()

# count NAME OUTFILE: adds the suite's synthesis to the totals; 0 when clean
count() {
	local syn t p f c
	syn=$(grep -a 'Synthesis:' "$2" | tail -n 1)
	if [ -z "$syn" ]; then
		echo "servers: $1: no test summary (crashed?)"
		failed=$((failed + 1))
		return 1
	fi
	t=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$syn")
	p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$syn")
	f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$syn")
	c=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$syn")
	tested=$((tested + t)) passed=$((passed + p)) failed=$((failed + f))
	crashed=$((crashed + ${c:-0}))
	[ "$f" -eq 0 ] && [ "$t" -gt 0 ]
}

# widget_served: the booking widget at /widget/, as a page on another origin
# needs it (docs/widget.md): the file itself, a JavaScript type, CORS, a
# year's cache for a versioned URL
widget_served() {
	local h
	h=$(curl -s -D - -o "$dir/widget.js" -H 'Origin: https://shop.example' \
		"http://127.0.0.1:$port/widget/calendence-widget.js?v=1")
	if grep -q '^HTTP/1.1 200' <<<"$h" && grep -qi '^content-type: text/javascript' <<<"$h" &&
	    grep -qi '^access-control-allow-origin: \*' <<<"$h" &&
	    grep -qi '^cache-control: public, max-age=31536000, immutable' <<<"$h" &&
	    cmp -s "$dir/widget.js" "$top/widget/calendence-widget.js"; then
		echo "servers: $name: /widget/ served"
		tested=$((tested + 1)) passed=$((passed + 1))
		return 0
	fi
	echo "servers: $name: /widget/ answered:"
	echo "$h"
	tested=$((tested + 1)) failed=$((failed + 1))
	return 1
}

# checks NAME: what the workers left behind: sanitizer reports, tokens in logs
checks() {
	local ok=0 logs n
	if ls "$dir"/asan/* >/dev/null 2>&1; then
		echo "servers: $1: sanitizer reports:"
		cat "$dir"/asan/*
		ok=1
	fi
	logs=$(ls "$dir"/*.log 2>/dev/null)
	if [ -n "$logs" ] && grep -aE 'cal_(hub|biz|pub|ses)_[0-9A-Za-z]{38}' $logs >/dev/null; then
		echo "servers: $1: a token was written to a log"
		ok=1
	fi
	if [ "$1" = pgbouncer-auto ]; then
		n=$(grep -c 'prepared statements do not survive' "$dir/pool.log")
		echo "servers: $1: workers that switched to unnamed statements: $n"
		if [ "$n" -eq 0 ]; then
			echo "servers: $1: no worker noticed its statements missing"
			ok=1
		fi
	fi
	return $ok
}

i=0
for name in "${all[@]}"; do
	[[ " ${names[*]} " == *" $name "* ]] || { i=$((i + 1)); continue; }
	port=$((base + i))
	i=$((i + 1))
	dir=$work/$name
	mkdir -p "$dir/asan"
	chmod 755 "$dir"
	# the workers (www-data under Apache's mod_fcgid) write their reports here
	[ "$name" != apache-fcgid ] || [ "$(id -u)" -ne 0 ] || chown "$wuser" "$dir/asan"
	export ASAN_OPTIONS="log_path=$dir/asan/asan:detect_leaks=1:abort_on_error=0"
	export UBSAN_OPTIONS="print_stacktrace=1:log_path=$dir/asan/ubsan"

	echo "== servers: $name (http://127.0.0.1:$port)"
	ok=1
	t0=$(date +%s%N)
	if ! "start_$name" >>"$dir/start.out" 2>&1; then
		echo "servers: $name: did not start:"
		sed 's/^/  /' "$dir/start.out"
		failed=$((failed + 1))
		ok=0
	else
		CALENDENCE_URL=http://127.0.0.1:$port "$e2e" --filter 'servers/*' -j4 \
			>"$dir/e2e.out" 2>&1
		cat "$dir/e2e.out"
		count "$name" "$dir/e2e.out" || ok=0
		widget_served || ok=0
	fi
	cleanup
	checks "$name" || { failed=$((failed + 1)); ok=0; }
	ms=$((($(date +%s%N) - t0) / 1000000))
	printf 'servers: %s: %s in %d.%d s\n' "$name" "$([ $ok = 1 ] && echo ok || echo FAILED)" \
		$((ms / 1000)) $((ms % 1000 / 100))
	[ $ok = 1 ] || bad+=("$name")
done

echo
[ ${#bad[@]} -eq 0 ] || echo "servers: failed: ${bad[*]}"
echo "[====] Synthesis: Tested: $tested | Passing: $passed | Failing: $failed | Crashing: $crashed"
[ ${#bad[@]} -eq 0 ]
