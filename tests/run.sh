#!/usr/bin/env bash
# run.sh: `make check`: unit tests, then integration tests against a private
# PostgreSQL, then end-to-end tests through a real lighttpd to the sanitizer
# build of the worker, then the database outage test. Prints one summary line.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$top"

build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
work=${CHECK_WORK:-$build/check}
pg_port=${CHECK_PG_PORT:-55433}
http_port=${CHECK_HTTP_PORT:-18080}
export ADMIN=$build/asan/calendence-admin
export CRITERION_NO_EARLY_EXIT=1

cleanup() {
	lighttpd_stop "$work/lighttpd.conf"
	lighttpd_stop "$work/srv2/lighttpd.conf"
	lighttpd_stop "$work/rel/lighttpd.conf"
	lighttpd_stop "$work/cut/lighttpd.conf"
	"$top/tests/pgctl.sh" kill "$work/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$top/tests/pgctl.sh" kill "$work/pg" >/dev/null 2>&1 || true
rm -rf "$work"
mkdir -p "$work/asan"
chmod 755 "$work"
export ASAN_OPTIONS="log_path=$work/asan/asan:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$work/asan/ubsan"
# every token the run sees (fixtures, HTTP requests and answers, the DBA tool)
# is recorded here; at the end no file of the run may hold one (tests/secrets.sh)
export CALENDENCE_TOKEN_LOG=$work/tokens.txt

passed=0 failed=0
suite() {
	local name=$1; shift
	echo "== $name"
	"$@" 2>&1 | tee "$work/$name.out"
	local syn
	syn=$(grep -a 'Synthesis:' "$work/$name.out" | tail -n 1)
	if [ -z "$syn" ]; then
		echo "$name: no test summary (crashed?)"
		failed=$((failed + 1))
		return
	fi
	local p f
	p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$syn")
	f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$syn")
	passed=$((passed + p)); failed=$((failed + f))
}

# check NAME COMMAND...: a shell-level test, counted like the others
check() {
	local name=$1; shift
	if "$@" >"$work/check-$name.out" 2>&1; then
		passed=$((passed + 1)); echo "[PASS] check::$name"
	else
		failed=$((failed + 1)); echo "[FAIL] check::$name"
		sed 's/^/    /' "$work/check-$name.out"
	fi
}

# make install lays everything out under DESTDIR; make uninstall removes it
install_roundtrip() {
	local d=$work/destdir f
	make -s install DESTDIR="$d" PREFIX=/usr/local >/dev/null
	for f in usr/local/bin/calendence.fcgi usr/local/bin/calendence-admin \
	    usr/local/share/calendence/sql/migrations/001_core.sql \
	    usr/local/share/calendence/sql/functions/00_tables.sql \
	    usr/local/share/calendence/sql/demo.sql \
	    usr/local/share/calendence/conf/lighttpd.conf \
	    usr/local/share/calendence/conf/nginx.conf \
	    usr/local/share/doc/calendence/README.md etc/calendence/calendence.conf; do
		[ -e "$d/$f" ] || { echo "missing $f"; return 1; }
	done
	"$d/usr/local/bin/calendence.fcgi" --check-config --config "$d/etc/calendence/calendence.conf"
	make -s uninstall DESTDIR="$d" PREFIX=/usr/local >/dev/null
	[ -z "$(find "$d" -type f ! -path '*/etc/*')" ] || { find "$d" -type f; return 1; }
}

# a bad setting stops start-up, naming the file, the line and the problem
bad_config_refused() {
	local f=$work/bad.conf out
	printf 'log_level = info\nbody_limit = lots\n' >"$f"
	if out=$("$build/asan/calendence.fcgi" --check-config --config "$f" 2>&1); then
		echo "accepted a bad config"; return 1
	fi
	echo "$out"
	grep -q "^calendence: $f:2: expected a whole number" <<<"$out" || return 1
	printf 'no_such_setting = 1\n' >"$f"
	out=$("$build/asan/calendence.fcgi" --check-config --config "$f" 2>&1) && return 1
	grep -q "$f:1: unknown setting \"no_such_setting\"" <<<"$out"
}

# q SQL [NAME=VALUE...]: one value from the test database (variables as :'NAME')
q() {
	local sql=$1; shift
	local args=() v
	for v in "$@"; do args+=(-v "$v"); done
	psql -XAtq "${args[@]}" <<<"$sql"
}

# seen TOKEN...: tokens for the secrets check at the end
seen() {
	printf '%s\n' "$@" >>"$CALENDENCE_TOKEN_LOG"
}

# the DBA tool does from a shell what the SQL functions do
admin_tool() {
	local a=$ADMIN hub biz tok id pub pubid tok2 out
	hub=$($a create-hub "Admin Tool Hub" pro) || return 1
	biz=$($a create-business "$hub" "Admin Tool Wash" Europe/Paris) || return 1
	[ "$(q "SELECT slug FROM calendence.businesses WHERE id = :'b'" b="$biz")" = admin-tool-wash ] ||
		{ echo "slug"; return 1; }
	tok=$($a issue-key business "$biz" --label cli 2>/dev/null) || return 1
	seen "$tok"
	[[ $tok =~ ^cal_biz_[0-9A-Za-z]{38}$ ]] || { echo "token format"; return 1; }
	[ "$(q "SELECT calendence.token_valid(:'t')" t="$tok")" = t ] || return 1
	id=$(q "SELECT id FROM calendence.api_keys WHERE token_hash = calendence.token_hash(:'t')" t="$tok")
	[ -n "$id" ] || { echo "hash not stored"; return 1; }
	out=$($a list-keys --hub "$hub") || return 1
	echo "$out"
	grep -q "${tok:0:8}${tok: -4}" <<<"$out" && grep -q cli <<<"$out" || { echo "list"; return 1; }
	if grep -q "$tok" <<<"$out"; then echo "list shows a token"; return 1; fi
	pub=$($a issue-key publishable "$biz" 2>/dev/null) || return 1
	seen "$pub"
	pubid=$(q "SELECT id FROM calendence.api_keys WHERE token_hash = calendence.token_hash(:'t')" t="$pub")
	$a set-origins "$pubid" https://shop.example https://www.shop.example || return 1
	[ "$(q "SELECT array_length(allowed_origins, 1) FROM calendence.api_keys WHERE id = :'i'" i="$pubid")" = 2 ] ||
		{ echo "origins"; return 1; }
	tok2=$($a roll-key "$id" --grace '1 hour' 2>/dev/null) || return 1
	seen "$tok2"
	[[ $tok2 =~ ^cal_biz_ ]] && [ "$tok2" != "$tok" ] || { echo "roll"; return 1; }
	[ "$(q "SELECT expires_at BETWEEN now() + interval '59 minutes' AND now() + interval '61 minutes'
	    FROM calendence.api_keys WHERE id = :'i'" i="$id")" = t ] || { echo "grace"; return 1; }
	$a revoke-key "$id" || return 1
	[ "$(q "SELECT revoked_at IS NOT NULL FROM calendence.api_keys WHERE id = :'i'" i="$id")" = t ] || return 1
	if $a issue-key hub "$biz" 2>/dev/null; then echo "hub key for a business"; return 1; fi
	if $a create-business "$hub" Nowhere Mars/Base 2>/dev/null; then echo "bad zone"; return 1; fi
	$a maintenance || return 1
	[ "$($a migrate --dir "$top/sql")" = "up to date" ]
}

# the demo tenant (sql/demo.sql) with fresh keys; again: the same tenant,
# new keys, the old ones revoked, and the same lines in --env FILE (0600)
demo_tool() {
	local a=$ADMIN env=$work/demo.env first second ids
	first=$($a demo --dir "$top/sql") || return 1
	second=$($a demo --dir "$top/sql" --env "$env") || return 1
	seen $(sed -n 's/^DEMO_[A-Z]*_KEY=//p' <<<"$first"$'\n'"$second")
	ids='DEMO_HUB_ID=[0-9a-f-]{36}\nDEMO_BUSINESS_ID=[0-9a-f-]{36}\n'
	ids+='DEMO_HUB_KEY=cal_hub_[0-9A-Za-z]{38}\nDEMO_BIZ_KEY=cal_biz_[0-9A-Za-z]{38}\n'
	ids+='DEMO_PUB_KEY=cal_pub_[0-9A-Za-z]{38}'
	grep -Pzq "\A$ids\n\z" <<<"$first" || { echo "demo output"; return 1; }
	[ "$(head -n 2 <<<"$first")" = "$(head -n 2 <<<"$second")" ] || { echo "tenant"; return 1; }
	if grep -qxFf <(tail -n 3 <<<"$first") <<<"$second"; then echo "keys not new"; return 1; fi
	[ "$(cat "$env")" = "$second" ] && [ "$(stat -c %a "$env")" = 600 ] ||
		{ echo "env file"; return 1; }
	rm -f "$env"
	[ "$(q "SELECT concat_ws(' ', (SELECT count(*) FROM calendence.services s
	    WHERE s.business_id = b.id), (SELECT count(*) FROM calendence.locations l
	    WHERE l.business_id = b.id), (SELECT count(*) FROM calendence.staff st
	    WHERE st.business_id = b.id), (SELECT count(*) FROM calendence.api_keys k
	    WHERE k.label = 'demo' AND k.revoked_at IS NULL
	      AND (k.business_id = b.id OR k.hub_id = b.hub_id)))
	    FROM calendence.businesses b WHERE b.slug = 'demo-auto-detail'")" = "5 2 4 3" ] ||
		{ echo "demo data"; return 1; }
	# nothing of the demo is left in the schema
	[ "$(q "SELECT count(*) FROM pg_proc WHERE proname LIKE '%demo%'")" = 0 ]
}

check install install_roundtrip
check bad_config bad_config_refused
suite unit "$build/tests/unit" -j2
check fuzz make -s fuzz-check B="$build"

pg_up "$work/pg" "$pg_port" calendence_test
export PG_DATA_DIR=$work/pg
check admin_tool admin_tool
check demo demo_tool
# a database migrated by the 007-era files, migrated now, equals a new one
check upgrade "$top/tests/upgrade/upgrade.sh"
suite integration "$build/tests/integration" -j2

# the key that seals webhook secrets (SPEC 11), as an operator makes one
export WEBHOOK_KEY_FILE=$work/webhook.key
(umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$WEBHOOK_KEY_FILE")
cat >"$work/calendence.conf" <<CONF
# the end-to-end tests claim client addresses in X-Forwarded-For
trusted_proxies = 127.0.0.1
log_level = info
auth_fail_limit = 20
# the bound of every wait for PostgreSQL (tests/load/trouble.c counts on it)
db_timeout = 2000
webhook_key_file = $WEBHOOK_KEY_FILE
CONF
# the second server keeps the default (https:// webhooks only); the first
# lets the webhook tests register their receivers on http://127.0.0.1
cp "$work/calendence.conf" "$work/srv2.conf"
echo "webhook_allow_http = yes" >>"$work/calendence.conf"
lighttpd_conf "$work/lighttpd.conf" "$http_port" "$build/asan/calendence.fcgi" \
	"$work/calendence.conf" "$work" 3
LIGHTTPD_LOG=$work/workers.log lighttpd_start "$work/lighttpd.conf"
# a second web server with its own pool on the same database: the rate
# windows must stay exact across web servers (SPEC 6)
mkdir -p "$work/srv2"
chmod 755 "$work/srv2"
lighttpd_conf "$work/srv2/lighttpd.conf" "$((http_port + 1))" \
	"$build/asan/calendence.fcgi" "$work/srv2.conf" "$work/srv2" 3
LIGHTTPD_LOG=$work/srv2/workers.log lighttpd_start "$work/srv2/lighttpd.conf"
export CALENDENCE_URL=http://127.0.0.1:$http_port
export CALENDENCE_URL2=http://127.0.0.1:$((http_port + 1))
suite e2e "$build/tests/e2e" -j8
# webhooks (tests/webhooks): senders started by the tests, a receiver in the
# test process, bookings made through the first server; one test at a time,
# as every sender claims from the one queue
suite webhooks env WEBHOOKS_SENDER="$build/asan/calendence-webhooks" \
	"$build/tests/webhooks" -j1
# load (tests/load): many keys at once through both servers, admitted exactly;
# the release build's memory under load, behind its own lighttpd (4 workers);
# PostgreSQL restarted, a worker killed, the database read-only, statements
# timing out, all while load runs against the first server
mkdir -p "$work/rel"
chmod 755 "$work/rel"
lighttpd_conf "$work/rel/lighttpd.conf" "$((http_port + 2))" "$top/fcgi/calendence.fcgi" \
	"$work/calendence.conf" "$work/rel" 4
LIGHTTPD_LOG=$work/rel/workers.log lighttpd_start "$work/rel/lighttpd.conf"
# the cut server (tests/load/cut.c): one worker that reaches PostgreSQL only
# through the test's own proxy on http_port + 5, which can lose an answer
mkdir -p "$work/cut"
chmod 755 "$work/cut"
cat "$work/calendence.conf" - >"$work/cut/calendence.conf" <<CONF
database = host=127.0.0.1 port=$((http_port + 5)) dbname=$PGDATABASE user=$PGUSER sslmode=disable gssencmode=disable
CONF
lighttpd_conf "$work/cut/lighttpd.conf" "$((http_port + 4))" "$build/asan/calendence.fcgi" \
	"$work/cut/calendence.conf" "$work/cut" 1
LIGHTTPD_LOG=$work/cut/workers.log lighttpd_start "$work/cut/lighttpd.conf"
suite load env LOAD_PID="$(cat "$work/lighttpd.conf.pid")" \
	LOAD_REL_URL="http://127.0.0.1:$((http_port + 2))" \
	LOAD_REL_PID="$(cat "$work/rel/lighttpd.conf.pid")" \
	CUT_URL="http://127.0.0.1:$((http_port + 4))" CUT_PROXY_PORT=$((http_port + 5)) \
	"$build/tests/load" -j1
lighttpd_stop "$work/cut/lighttpd.conf"
lighttpd_stop "$work/rel/lighttpd.conf"
lighttpd_stop "$work/srv2/lighttpd.conf"
suite outage "$build/tests/outage" -j1
lighttpd_stop "$work/lighttpd.conf"
# the release worker under valgrind behind lighttpd, an end-to-end pass: no
# memcheck error, no byte lost, nothing left at exit that grows per request
check valgrind env BUILD_DIR="$build" VALGRIND_WORK="$work/valgrind" \
	VALGRIND_PORT=$((http_port + 3)) "$top/tests/valgrind.sh"
grep -a 'requests, errors\|left at exit' "$work/check-valgrind.out" | sed 's/^/    /'
# the smoke suite behind every other front end: Apache (mod_fcgid,
# mod_proxy_fcgi), nginx, lighttpd before our own pool, PgBouncer
suite servers env BUILD_DIR="$build" SERVERS_WORK="$work/servers" \
	SERVERS_PORT_BASE=$((http_port + 20)) "$top/tests/servers.sh"

# every sanitizer report of every worker is a failure. The one exception:
# a leak report from a test binary in which every leaked block was allocated
# by libcriterion itself (its per-test records, freed or not as its runner's
# child exits) is shown and set aside; a block allocated by our code, or by a
# library our code called, still fails the run whatever frames lie above it
criterion_only() {
	awk '
	/ERROR: / && !/ERROR: LeakSanitizer/ { other = 1 }
	/^(Direct|Indirect) leak of/ { blocks++; want = 1; next }
	want && /^ *#1 / { if ($0 ~ /libcriterion\.so/) ours++; want = 0 }
	END { exit !(blocks > 0 && ours == blocks && !other) }' "$1"
}
for f in "$work"/asan/asan.*; do
	[ -f "$f" ] && criterion_only "$f" || continue
	echo "== set aside, a leak inside libcriterion: $(grep -c '^Direct leak\|^Indirect leak' "$f") block(s), $(basename "$f")"
	mkdir -p "$work/asan-criterion"
	mv "$f" "$work/asan-criterion/"
done
if ls "$work"/asan/* >/dev/null 2>&1; then
	echo "== sanitizer reports:"
	cat "$work"/asan/*
	failed=$((failed + 1))
fi
# the workers logged (one line per request) and no token ever reached a log
if ! grep -qE ' req_[0-9A-Za-z]{16} GET /api/v1/services 200 [0-9]+us key=cal_biz_[0-9A-Za-z]{4} ip=[0-9.]+$' "$work/workers.log"; then
	echo "== the workers' request log is missing"
	failed=$((failed + 1))
fi
# no plaintext token in any file of the run: logs, test output, PostgreSQL's
# tables and WAL (after a checkpoint), the other servers' files
check secrets_selftest "$top/tests/secrets.sh" selftest
psql -XAtq -c CHECKPOINT >/dev/null
servers_work=$(open_dir "$work" servers "$(web_user)" postgres)
check secrets "$top/tests/secrets.sh" scan "$CALENDENCE_TOKEN_LOG" "$work" \
	$([ -d "$servers_work" ] && [[ $servers_work != "$work"/* ]] && echo "$servers_work")
tail -n 1 "$work/check-secrets.out" | sed 's/^/    /'

echo
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
