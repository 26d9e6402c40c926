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
pg_port=${CHECK_PG_PORT:-25433}
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
# the names of what failed, repeated at the end next to the count (a CI log
# is often read from its tail)
failures=()
suite() {
	local name=$1; shift
	echo "== $name"
	"$@" 2>&1 | tee "$work/$name.out"
	local syn
	syn=$(grep -a 'Synthesis:' "$work/$name.out" | tail -n 1)
	# node's test runner (tests/browser) closes with "ℹ pass N", "ℹ fail N"
	# and "ℹ cancelled N" (a test stopped by its timeout: a failure)
	if [ -z "$syn" ] && grep -aqE '^ℹ fail [0-9]+$' "$work/$name.out"; then
		node_count() { sed -nE "s/^ℹ $1 ([0-9]+)$/\1/p" "$work/$name.out" | tail -n 1; }
		passed=$((passed + $(node_count pass)))
		failed=$((failed + $(node_count fail) + $(node_count cancelled)))
		mapfile -t -O "${#failures[@]}" failures < <(
			grep -aE '^ *✖ ' "$work/$name.out" | sed -E "s/^ *✖ /$name: /" | sort -u)
		return
	fi
	if [ -z "$syn" ]; then
		echo "$name: no test summary (crashed?)"
		failed=$((failed + 1))
		failures+=("$name: no test summary (crashed?)")
		return
	fi
	local p f
	p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$syn")
	f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$syn")
	passed=$((passed + p)); failed=$((failed + f))
	[ "${f:-0}" -eq 0 ] || mapfile -t -O "${#failures[@]}" failures < <(
		sed -E 's/\x1b\[[0-9;]*m//g' "$work/$name.out" |
		awk -v s="$name" '/^\[(FAIL|CRASH)\] / { print s ": " $0 }
		    /: Assertion Failed$/ { print s ": " $0; m = 3; next }
		    m && /^\[----\] *$/ { m--; next }
		    m { print s ": " $0; m = 0 }' | head -n 40)
}

# check NAME COMMAND...: a shell-level test, counted like the others
check() {
	local name=$1; shift
	if "$@" >"$work/check-$name.out" 2>&1; then
		passed=$((passed + 1)); echo "[PASS] check::$name"
	else
		failed=$((failed + 1)); echo "[FAIL] check::$name"
		failures+=("check::$name")
		sed 's/^/    /' "$work/check-$name.out"
	fi
}

# make install lays everything out under DESTDIR, for PREFIX=/usr/local and
# PREFIX=/usr; the settings file is 0640; make uninstall removes everything
# but the settings file
install_roundtrip() {
	local d=$work/destdir f prefix
	for prefix in /usr /usr/local; do
		rm -rf "$d"
		make -s install B="$build" DESTDIR="$d" PREFIX=$prefix >/dev/null
		for f in bin/calendence.fcgi bin/calendence-admin bin/calendence-webhooks \
		    share/calendence/sql/migrations/001_core.sql \
		    share/calendence/sql/functions/00_tables.sql \
		    share/calendence/sql/demo.sql \
		    share/calendence/conf/lighttpd.conf \
		    share/calendence/conf/nginx.conf \
		    share/calendence/conf/calendence.service \
		    share/calendence/conf/calendence-webhooks.service \
		    share/calendence/widget/calendence-widget.js \
		    share/doc/calendence/README.md; do
			[ -e "$d$prefix/$f" ] || { echo "missing $prefix/$f"; return 1; }
		done
		[ -e "$d/etc/calendence/calendence.conf" ] || { echo "missing etc/"; return 1; }
		[ "$(stat -c %a "$d/etc/calendence/calendence.conf")" = 640 ] ||
			{ echo "calendence.conf is not 0640"; return 1; }
		# nothing outside PREFIX and /etc
		f=$(cd "$d" && find . -type f ! -path ".$prefix/*" ! -path './etc/calendence/*')
		[ -z "$f" ] || { echo "outside $prefix: $f"; return 1; }
		"$d$prefix/bin/calendence.fcgi" --check-config \
			--config "$d/etc/calendence/calendence.conf"
		make -s uninstall B="$build" DESTDIR="$d" PREFIX=$prefix >/dev/null
		f=$(cd "$d" && find . -type f)
		[ "$f" = ./etc/calendence/calendence.conf ] ||
			{ echo "left after uninstall: $f"; return 1; }
	done
}

# the installed programs know where they were installed: a copy of the
# sources built and installed with PREFIX and SYSCONFDIR in a scratch root
# (no DESTDIR, so the paths built in are real); calendence-admin migrates a
# new database from PREFIX/share/calendence/sql without --dir; the worker
# and the sender read SYSCONFDIR/calendence.conf when no file is named, and
# all defaults when it is missing; a file named but missing is an error
install_paths() {
	local src=$work/install-src root=$work/root out db=calendence_paths f
	rm -rf "$src" "$root"
	mkdir -p "$src"
	cp -r Makefile README.md LICENSE fcgi admin webhooks sql conf docs widget "$src/"
	make -s -C "$src" install B="$src/build" PREFIX="$root/usr" \
		SYSCONFDIR="$root/etc/calendence" >/dev/null 2>"$work/install-src.err" ||
		{ cat "$work/install-src.err"; return 1; }
	f=$root/etc/calendence/calendence.conf
	[ "$(stat -c %a "$f")" = 640 ] || { echo "$f is not 0640"; return 1; }
	# migrate and demo, from a directory without sql/, into a new database
	dropdb --if-exists "$db" && createdb "$db" || return 1
	out=$(cd / && PGDATABASE=$db "$root/usr/bin/calendence-admin" migrate 2>&1) ||
		{ echo "migrate: $out"; return 1; }
	echo "migrate: $out"
	grep -q 001_core <<<"$out" || return 1
	out=$(cd / && PGDATABASE=$db "$root/usr/bin/calendence-admin" demo 2>&1) ||
		{ echo "demo: $out"; return 1; }
	dropdb "$db" || return 1
	# the default settings file: read when no file is named
	(
		unset CALENDENCE_CONFIG
		"$root/usr/bin/calendence.fcgi" --check-config || exit 1
		echo 'body_limit = lots' >>"$f"
		out=$("$root/usr/bin/calendence.fcgi" --check-config 2>&1) &&
			{ echo "the default file was not read"; exit 1; }
		echo "$out"
		grep -q "^calendence: $f:[0-9]*: expected a whole number" <<<"$out" || exit 1
		out=$("$root/usr/bin/calendence-webhooks" --check-config 2>&1) &&
			{ echo "the sender did not read the default file"; exit 1; }
		echo "$out"
		grep -q "^calendence-webhooks: $f:[0-9]*: expected a whole number" <<<"$out" ||
			exit 1
		# named files win over the default
		out=$(CALENDENCE_CONFIG=/dev/null "$root/usr/bin/calendence.fcgi" \
			--check-config 2>&1) || { echo "$out"; exit 1; }
		# missing: all defaults, silently; named and missing: an error
		rm "$f"
		out=$("$root/usr/bin/calendence.fcgi" --check-config 2>&1) ||
			{ echo "$out"; exit 1; }
		[ -z "$out" ] || { echo "not silent: $out"; exit 1; }
		out=$("$root/usr/bin/calendence.fcgi" --check-config --config "$f" 2>&1) &&
			{ echo "a missing named file was accepted"; exit 1; }
		grep -q "No such file" <<<"$out" || { echo "$out"; exit 1; }
		out=$(CALENDENCE_CONFIG=$f "$root/usr/bin/calendence-webhooks" \
			--check-config 2>&1) && { echo "the sender took a missing file"; exit 1; }
		grep -q "No such file" <<<"$out" || { echo "$out"; exit 1; }
	) || return 1
	rm -rf "$src"	# the installed tree serves the demo next (installed_demo)
}

# the installed tree (install_paths) serves the demo through lighttpd with a
# role that has only calendence.grant_worker(): a request with the demo's
# business key is 200, /healthz is 200; a privilege taken away makes
# /healthz 503 and the workers' log name it
installed_demo() {
	local root=$work/root db=calendence_installed role=calendence_installed_worker
	local port=$((http_port + 6)) dir=$work/installed keys key code out
	[ -x "$root/usr/bin/calendence.fcgi" ] || { echo "no installed tree"; return 1; }
	dropdb --if-exists "$db" && createdb "$db" || return 1
	(cd / && PGDATABASE=$db "$root/usr/bin/calendence-admin" migrate >/dev/null) || return 1
	keys=$(cd / && PGDATABASE=$db "$root/usr/bin/calendence-admin" demo) || return 1
	seen $(sed -n 's/^DEMO_[A-Z]*_KEY=//p' <<<"$keys")
	key=$(sed -n 's/^DEMO_BIZ_KEY=//p' <<<"$keys")
	psql -XAtq -d "$db" -c "DROP ROLE IF EXISTS $role" -c "CREATE ROLE $role LOGIN" \
		>/dev/null || return 1
	# the grant as the operator gives it: the tables covered, a count
	out=$(cd / && PGDATABASE=$db "$root/usr/bin/calendence-admin" grant "$role") ||
		{ echo "grant: $out"; return 1; }
	[ "$out" = "$(psql -XAtq -d "$db" -c "SELECT count(*) FROM calendence.worker_privileges()")" ] ||
		{ echo "grant printed $out"; return 1; }
	if out=$(cd / && PGDATABASE=$db "$root/usr/bin/calendence-admin" grant no_such_role 2>&1); then
		echo "grant of a missing role succeeded"; return 1
	fi
	grep -q "no role named no_such_role" <<<"$out" || { echo "grant: $out"; return 1; }
	mkdir -p "$dir"
	chmod 755 "$dir"
	printf 'database = "dbname=%s user=%s"\nlog_level = info\n' "$db" "$role" \
		>"$dir/calendence.conf"
	lighttpd_conf "$dir/lighttpd.conf" "$port" "$root/usr/bin/calendence.fcgi" \
		"$dir/calendence.conf" "$dir" 2
	lighttpd_start "$dir/lighttpd.conf" 2>/dev/null || return 1
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" \
		"http://127.0.0.1:$port/api/v1/services")
	[ "$code" = 200 ] || { echo "services: $code"; lighttpd_stop "$dir/lighttpd.conf"; return 1; }
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")
	[ "$code" = 200 ] || { echo "healthz: $code"; lighttpd_stop "$dir/lighttpd.conf"; return 1; }
	psql -XAtq -d "$db" -c "REVOKE DELETE ON calendence.sessions FROM $role" || return 1
	out=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$port/healthz")
	lighttpd_stop "$dir/lighttpd.conf"
	[[ $out == *' 503' ]] || { echo "healthz without DELETE on sessions: $out"; return 1; }
	grep -q "role lacks a privilege" <<<"$out" || { echo "healthz says: $out"; return 1; }
	grep -q "lacks DELETE on calendence.sessions" "$dir/workers.log" ||
		{ echo "the log does not name it"; cat "$dir/workers.log"; return 1; }
	dropdb "$db" && psql -XAtq -c "DROP ROLE $role" || return 1
	rm -rf "$root"
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

# make run's number of workers: WORKERS, else run/workers-best (make bench's
# sweep), else two per core (tests/lib.sh run_workers)
run_workers_choice() {
	local d=$work/run-workers got want
	rm -rf "$d" && mkdir -p "$d"
	want=$(($(nproc) * 2)) && [ "$want" -le 8 ] || want=8
	got=$(WORKERS= run_workers "$d") || return 1
	[ "${got%% *}" = "$want" ] || { echo "no sweep: $got, want $want"; return 1; }
	echo 6 >"$d/workers-best"
	got=$(WORKERS= run_workers "$d") || return 1
	[ "$got" = "6 make bench, run/workers-best" ] || { echo "sweep: $got"; return 1; }
	got=$(WORKERS=3 run_workers "$d") || return 1
	[ "${got%% *}" = 3 ] || { echo "WORKERS=3: $got"; return 1; }
	if WORKERS=1 run_workers "$d" 2>/dev/null; then echo "1 worker accepted"; return 1; fi
	grep -q 'run_workers "$run"' tests/serve.sh || { echo "serve.sh does not use it"; return 1; }
}

# the shipped lighttpd.conf keeps the workers' log in a file, state_dir +
# "/workers.log", the file `make run` names, whatever lighttpd's own stderr
# is (here /dev/null, as when it is in the background); with log_format =
# json each line is one JSON object with the request's fields
worker_log_file() {
	local d=$work/logfile port=$((http_port + 6)) hub biz out tok id
	grep -q '^	logs="run/workers.log ' tests/serve.sh ||
		{ echo "make run's banner does not name run/workers.log"; return 1; }
	# a key of its own, for a request line with a key id and a business
	hub=$($ADMIN create-hub "Log File Hub" pro) || return 1
	biz=$($ADMIN create-business "$hub" "Log File Wash" Europe/Paris) || return 1
	out=$($ADMIN issue-key business "$biz" --label logfile 2>/dev/null) || return 1
	tok=$(awk '$1 == "token" { print $2 }' <<<"$out")
	id=$(awk '$1 == "id" { print $2 }' <<<"$out")
	seen "$tok"
	mkdir -p "$d"
	chmod 755 "$d"
	printf 'log_format = json\nlog_level = info\n' >"$d/calendence.conf"
	lighttpd_conf "$d/lighttpd.conf" "$port" "$build/asan/calendence.fcgi" \
		"$d/calendence.conf" "$d" 1
	LIGHTTPD_LOG=/dev/null lighttpd_start "$d/lighttpd.conf" || return 1
	curl -s -o /dev/null "http://127.0.0.1:$port/api/v1/services?limit=2"
	curl -s -o /dev/null -H 'Authorization: Bearer cal_biz_nonsense' \
		"http://127.0.0.1:$port/api/v1/services"
	curl -s -o /dev/null -H "Authorization: Bearer $tok" \
		"http://127.0.0.1:$port/api/v1/services"
	for _ in $(seq 1 50); do
		[ "$(grep -c '"request_id"' "$d/workers.log" 2>/dev/null)" -ge 3 ] && break
		sleep 0.1
	done
	lighttpd_stop "$d/lighttpd.conf"
	cat "$d/workers.log"
	python3 - "$d/workers.log" "${tok:0:8}${tok: -4}" "$id" "$biz" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
reqs = [json.loads(l) for l in lines if l.startswith("{") and '"request_id"' in l]
assert len(reqs) >= 3, "no request lines in workers.log"
ok = [x for x in reqs if x["status"] == 200]
assert len(ok) == 1, reqs
ok = ok[0]
assert ok["key"] == sys.argv[2] and ok["key_id"] == sys.argv[3], ok
assert ok["business_id"] == sys.argv[4] and ok["error_code"] is None, ok
reqs = [x for x in reqs if x["status"] != 200]
for o in map(json.loads, (l for l in lines if l.startswith("{"))):
    for k in ("time", "level", "pid", "program", "message"):
        assert k in o, (k, o)
r = reqs[0]
for k in ("request_id", "method", "path", "status", "error_code", "key", "key_id",
          "business_id", "latency_us", "ip"):
    assert k in r, (k, r)
assert r["method"] == "GET" and r["path"] == "/api/v1/services", r
assert all(x["status"] >= 400 and isinstance(x["error_code"], str) and x["error_code"]
           for x in reqs), reqs
assert all(x["key"] in (None, "cal_biz_nons") for x in reqs), reqs
assert r["program"] == "calendence" and isinstance(r["latency_us"], int), r
print("json request lines:", len(reqs))
PY
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
	local a=$ADMIN hub biz tok id pub pubid tok2 id2 out disp
	hub=$($a create-hub "Admin Tool Hub" pro) || return 1
	biz=$($a create-business "$hub" "Admin Tool Wash" Europe/Paris) || return 1
	[ "$(q "SELECT slug FROM calendence.businesses WHERE id = :'b'" b="$biz")" = admin-tool-wash ] ||
		{ echo "slug"; return 1; }
	# issue-key: "id  UUID" and "token  TOKEN" lines
	out=$($a issue-key business "$biz" --label cli 2>/dev/null) || return 1
	tok=$(awk '$1 == "token" { print $2 }' <<<"$out")
	id=$(awk '$1 == "id" { print $2 }' <<<"$out")
	seen "$tok"
	[[ $tok =~ ^cal_biz_[0-9A-Za-z]{38}$ ]] || { echo "token format"; return 1; }
	[ "$(q "SELECT calendence.token_valid(:'t')" t="$tok")" = t ] || return 1
	[ "$(q "SELECT id FROM calendence.api_keys WHERE token_hash = calendence.token_hash(:'t')" t="$tok")" = "$id" ] ||
		{ echo "issue-key: the id printed is not the token's key"; return 1; }
	out=$($a list-keys --hub "$hub") || return 1
	echo "$out"
	grep -q "${tok:0:8}${tok: -4}" <<<"$out" && grep -q cli <<<"$out" || { echo "list"; return 1; }
	if grep -q "$tok" <<<"$out"; then echo "list shows a token"; return 1; fi
	# aligned: every line puts its display form at the same column
	[ "$(awk 'NR > 1 { print index($0, "cal_") }' <<<"$out" | sort -u | wc -l)" = 1 ] ||
		{ echo "list-keys columns not aligned"; return 1; }
	out=$($a issue-key publishable "$biz" 2>/dev/null) || return 1
	pub=$(awk '$1 == "token" { print $2 }' <<<"$out")
	pubid=$(awk '$1 == "id" { print $2 }' <<<"$out")
	seen "$pub"
	# origins: normalised by the database, refused when no browser sends them
	$a set-origins "$pubid" HTTPS://Shop.Example/ https://www.shop.example:443 || return 1
	[ "$(q "SELECT allowed_origins FROM calendence.api_keys WHERE id = :'i'" i="$pubid")" = \
	    "{https://shop.example,https://www.shop.example}" ] || { echo "origins"; return 1; }
	out=$($a set-origins "$pubid" https://shop.example/cart 2>&1) && { echo "a path accepted"; return 1; }
	echo "$out"
	grep -q 'set-origins: origin "https://shop.example/cart" is not scheme://host\[:port\]' <<<"$out" ||
		{ echo "origin refusal"; return 1; }
	out=$($a set-origins "$id" https://shop.example 2>&1) && { echo "origins on a business key"; return 1; }
	echo "$out"
	grep -qx "calendence-admin: set-origins: only publishable keys have allowed origins" <<<"$out" ||
		{ echo "set-origins on a business key"; return 1; }
	# roll-key by display form: id, token, the key it replaces
	disp=${tok:0:8}${tok: -4}
	out=$($a roll-key "$disp" --grace '1 hour' 2>/dev/null) || return 1
	tok2=$(awk '$1 == "token" { print $2 }' <<<"$out")
	id2=$(awk '$1 == "id" { print $2 }' <<<"$out")
	seen "$tok2"
	[[ $tok2 =~ ^cal_biz_ ]] && [ "$tok2" != "$tok" ] || { echo "roll"; return 1; }
	[ "$(awk '$1 == "replaces" { print $2 }' <<<"$out")" = "$id" ] || { echo "roll: replaces"; return 1; }
	[ "$(q "SELECT id FROM calendence.api_keys WHERE token_hash = calendence.token_hash(:'t')" t="$tok2")" = "$id2" ] ||
		{ echo "roll-key: the id printed is not the new token's key"; return 1; }
	[ "$(q "SELECT expires_at BETWEEN now() + interval '59 minutes' AND now() + interval '61 minutes'
	    FROM calendence.api_keys WHERE id = :'i'" i="$id")" = t ] || { echo "grace"; return 1; }
	$a revoke-key "$id" || return 1
	[ "$(q "SELECT revoked_at IS NOT NULL FROM calendence.api_keys WHERE id = :'i'" i="$id")" = t ] || return 1
	if $a issue-key hub "$biz" 2>/dev/null; then echo "hub key for a business"; return 1; fi
	if $a create-business "$hub" Nowhere Mars/Base 2>/dev/null; then echo "bad zone"; return 1; fi
	$a maintenance || return 1
	[ "$($a migrate --dir "$top/sql")" = "up to date" ]
}

# the DBA tool's keys by hash, id or display form; --json and --version;
# the booking side (services, locations, staff, hours, resources, blocks);
# the database's refusals as sentences
admin_tool_more() {
	local a=$ADMIN hub biz out tok id disp svc loc loc2 st res h j
	hub=$($a create-hub "Admin More Hub" pro) || return 1
	out=$($a --json create-business "$hub" "Admin More Wash" America/Chicago) || return 1
	biz=$(jget "$out" id)
	[[ $biz =~ ^[0-9a-f-]{36}$ ]] || { echo "create-business --json"; return 1; }
	# --version: the worker's version
	[ "$($a --version)" = "calendence-admin $("$build/asan/calendence.fcgi" --version | awk '{ print $2 }')" ] ||
		{ echo "--version"; return 1; }
	# issue-key --json: {"id", "token"}; find-key by the token's hash, on stdin too
	j=$($a issue-key business "$biz" --label more --json 2>/dev/null) || return 1
	tok=$(jget "$j" token) id=$(jget "$j" id)
	seen "$tok"
	[[ $tok =~ ^cal_biz_ ]] && [[ $id =~ ^[0-9a-f-]{36}$ ]] || { echo "issue-key --json"; return 1; }
	out=$($a find-key "$tok") || return 1
	echo "$out"
	[ "$(awk '$1 == "id" { print $2 }' <<<"$out")" = "$id" ] &&
	    [ "$(awk '$1 == "kind" { print $2 }' <<<"$out")" = business ] &&
	    [ "$(awk '$1 == "owner" { print $2 }' <<<"$out")" = "$biz" ] &&
	    [ "$(awk '$1 == "label" { print $2 }' <<<"$out")" = more ] || { echo "find-key"; return 1; }
	if grep -q "$tok" <<<"$out"; then echo "find-key shows the token"; return 1; fi
	out=$($a find-key - --json <<<"$tok") || return 1
	[ "$(jget "$out" id)" = "$id" ] && [ "$(q "SELECT :'j'::json->'revoked'" j="$out")" = null ] ||
		{ echo "find-key - --json"; return 1; }
	out=$($a find-key cal_biz_notatoken 2>&1) && { echo "find-key: a malformed token"; return 1; }
	echo "$out"
	# --json on the commands without a table: migrate, maintenance, demo
	out=$($a migrate --dir "$top/sql" --json) &&
	    [ "$(q "SELECT json_array_length(:'j'::json->'applied')" j="$out")" = 0 ] || { echo "migrate --json"; return 1; }
	out=$($a maintenance --json) && [[ $(jget "$out" sessions_removed) =~ ^[0-9]+$ ]] ||
		{ echo "maintenance --json"; return 1; }
	out=$($a demo --dir "$top/sql" --json) || return 1
	seen "$(jget "$out" DEMO_HUB_KEY)" "$(jget "$out" DEMO_BIZ_KEY)" "$(jget "$out" DEMO_PUB_KEY)"
	[[ $(jget "$out" DEMO_PUB_KEY) =~ ^cal_pub_[0-9A-Za-z]{38}$ ]] || { echo "demo --json"; return 1; }
	# a key by display form; two keys with one display form: both ids named
	disp=${tok:0:8}${tok: -4}
	out=$($a --json list-keys --business "$biz") || return 1
	[ "$(q "SELECT count(*) FROM json_array_elements(:'j') e WHERE e->>'display' = :'d'" j="$out" d="$disp")" = 1 ] ||
		{ echo "list-keys --json"; return 1; }
	q "INSERT INTO calendence.api_keys (kind, business_id, token_hash, display)
	    VALUES ('business', :'b', sha256(convert_to(:'b', 'UTF8')), :'d')" b="$biz" d="$disp" || return 1
	out=$($a revoke-key "$disp" 2>&1) && { echo "an ambiguous display form accepted"; return 1; }
	echo "$out"
	grep -q "revoke-key: 2 keys have the display form $disp; give the id of one" <<<"$out" &&
	    grep -q "^calendence-admin:   $id  business, live" <<<"$out" || { echo "ambiguity"; return 1; }
	out=$($a revoke-key cal_biz_WONP 2>&1) && { echo "an unknown key revoked"; return 1; }
	echo "$out"
	grep -qx "calendence-admin: revoke-key: no key with id or display form cal_biz_WONP" <<<"$out" ||
		{ echo "unknown key"; return 1; }
	out=$($a revoke-key "$id" --json) && [ "$(jget "$out" state)" = revoked ] || { echo "revoke --json"; return 1; }
	out=$($a find-key - <<<"$tok") && [ "$(awk '$1 == "revoked" { print $2 }' <<<"$out")" != - ] ||
		{ echo "revoked"; return 1; }
	# the booking side, each printing the new id
	h='{"monday": ["09:00-12:00", "13:00-17:00"], "saturday": ["09:00-13:00"]}'
	svc=$($a create-service "$biz" "Full Detail" 60-120 9000 --rate-type hourly --deposit 25% \
	    --buffer-before 5 --buffer-after 10 --category Detailing --skills "detail, wash" \
	    --resource-type bay) || return 1
	[ "$(q "SELECT concat_ws('|', duration_min, duration_max, rate, rate_type, deposit_type,
	    deposit_amount, buffer_before_min, buffer_after_min, category, required_skills, resource_type)
	    FROM calendence.services WHERE id = :'s' AND business_id = :'b'" s="$svc" b="$biz")" = \
	    "60|120|9000|hourly|percentage|2500|5|10|Detailing|{detail,wash}|bay" ] || { echo "create-service"; return 1; }
	out=$($a create-service "$biz" "Basic Wash" 30 2500 --json) && [[ $(jget "$out" id) =~ ^[0-9a-f-]{36}$ ]] ||
		{ echo "create-service --json"; return 1; }
	loc=$($a create-location "$biz" Downtown --address "1 Main St" --hours "$h") || return 1
	out=$($a create-location "$biz" Uptown --timezone America/New_York --json) || return 1
	loc2=$(jget "$out" id)
	[ "$(q "SELECT string_agg(weekday || ' ' || opens || '-' || closes, ',' ORDER BY weekday, opens)
	    FROM calendence.location_hours WHERE location_id = :'l'" l="$loc")" = \
	    "1 09:00:00-12:00:00,1 13:00:00-17:00:00,6 09:00:00-13:00:00" ] || { echo "location hours"; return 1; }
	$a set-location-hours "$loc2" '{"tuesday": ["08:00-18:00"]}' || return 1
	[ "$(q "SELECT timezone || ' ' || (SELECT count(*) FROM calendence.location_hours h
	    WHERE h.location_id = l.id) FROM calendence.locations l WHERE id = :'l'" l="$loc2")" = \
	    "America/New_York 1" ] || { echo "set-location-hours"; return 1; }
	st=$($a create-staff "$biz" "Alex Rivera" "$loc,$loc2" --skills detail,wash --hours "$h") || return 1
	[ "$(q "SELECT (SELECT count(*) FROM calendence.staff_locations WHERE staff_id = :'s') || ' ' ||
	    (SELECT skills::text FROM calendence.staff WHERE id = :'s')" s="$st")" = "2 {detail,wash}" ] ||
		{ echo "create-staff"; return 1; }
	out=$($a set-staff-hours "$st" '{"friday": ["10:00-14:00"]}' --location "$loc" --json) &&
	    [ "$(jget "$out" done)" = "hours set" ] || { echo "set-staff-hours"; return 1; }
	$a block-staff-date "$st" 2026-12-24 --reason holiday || return 1
	res=$($a create-resource "$loc" bay "Bay 1") || return 1
	out=$($a block-resource "$res" 2026-12-01T08:00-06 2026-12-01T12:00-06 --reason repair) || return 1
	[ "$(q "SELECT count(*) FROM calendence.resource_blocks WHERE id = :'i' AND resource_id = :'r'" \
	    i="$out" r="$res")" = 1 ] || { echo "block-resource"; return 1; }
	$a set-service-needs "$svc" --skills detail || return 1
	[ "$(q "SELECT required_skills::text || ' ' || coalesce(resource_type, '-')
	    FROM calendence.services WHERE id = :'s'" s="$svc")" = "{detail} -" ] || { echo "set-service-needs"; return 1; }
	[ "$(q "SELECT (SELECT count(*) FROM calendence.staff_hours WHERE staff_id = :'s') || ' ' ||
	    (SELECT reason FROM calendence.staff_blocked_dates WHERE staff_id = :'s')" s="$st")" = "4 holiday" ] ||
		{ echo "staff hours and blocked date"; return 1; }
	# refusals in words, never a constraint's name or a cast's message
	admin_says "create-service: not an id (a UUID, as the create-* commands print): \"nope\"" \
	    create-service nope X 30 100 || return 1
	admin_says "create-service: a service lasts a positive number of minutes" \
	    create-service "$biz" X 60-30 100 || return 1
	admin_says "create-service: not a whole number: \"10x\"" \
	    create-service "$biz" X 30 100 --deposit 10x || return 1
	admin_says "block-staff-date: not a valid date or time: \"2026-13-40\"" \
	    block-staff-date "$st" 2026-13-40 || return 1
	admin_says "block-staff-date: no staff member has this id" \
	    block-staff-date "$svc" 2026-12-24 || return 1
	admin_says "create-resource: a resource type is a lowercase word (bay, machine, van)" \
	    create-resource "$loc" "Big Bay" "Bay 2" || return 1
	admin_says "set-location-hours: not JSON" set-location-hours "$loc" '{"monday": 9' || return 1
	admin_says "set-location-hours: hours are JSON, or such as" set-location-hours "$loc" 'mo 09:00-17:00' ||
		return 1
	admin_says 'set-location-hours: hours: monday has a bad range "9-5"' set-location-hours "$loc" 'mon 9-5' ||
		return 1
	# the short form of hours: days (ranges may wrap), then ranges; parts split by ';'
	$a set-location-hours "$loc2" 'mon-fri 09:00-12:00 13:00-17:00; Sat,sun 10:00-14:00' || return 1
	[ "$(q "SELECT string_agg(weekday || ' ' || opens || '-' || closes, ',' ORDER BY weekday, opens)
	    FROM calendence.location_hours WHERE location_id = :'l' AND weekday IN (1, 6, 7)" l="$loc2")" = \
	    "1 09:00:00-12:00:00,1 13:00:00-17:00:00,6 10:00:00-14:00:00,7 10:00:00-14:00:00" ] &&
	    [ "$(q "SELECT count(*) FROM calendence.location_hours WHERE location_id = :'l'" l="$loc2")" = 12 ] ||
		{ echo "short hours"; return 1; }
	$a set-staff-hours "$st" 'fri-mon 10:00-14:00' || return 1
	[ "$(q "SELECT string_agg(weekday::text, ',' ORDER BY weekday) FROM calendence.staff_hours
	    WHERE staff_id = :'s' AND location_id IS NULL" s="$st")" = "1,5,6,7" ] || { echo "wrapping days"; return 1; }
	admin_says "create-business: another business has this slug; choose another" \
	    create-business "$hub" Again UTC admin-more-wash || return 1
	admin_says "create-staff: skills are lowercase words" create-staff "$biz" X "$loc" --skills Detail || return 1
	admin_says "create-service: hint: Such as 60 minutes" create-service "$biz" X 0 100 || return 1
	# every constraint of the tables the commands write has its words (admin/sql.c)
	out=$(q "SELECT conname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
	    WHERE k.contype IN ('c', 'f', 'u', 'x') AND c.relnamespace = 'calendence'::regnamespace
	      AND c.relname IN ('hubs', 'businesses', 'api_keys', 'services', 'locations',
		'location_hours', 'staff', 'staff_locations', 'staff_hours', 'staff_blocked_dates',
		'resources', 'resource_blocks')") || return 1
	[ "$(wc -l <<<"$out")" -gt 50 ] || { echo "constraints: $out"; return 1; }
	for c in $out; do
		grep -q "\"$c\"" "$top/admin/sql.c" || { echo "admin/sql.c: no words for $c"; return 1; }
	done
}

# jget JSON PATH: the text at PATH (names and indexes joined by '.'), by PostgreSQL
jget() {
	q "SELECT :'j'::json #>> string_to_array(:'p', '.')" j="$1" p="$2"
}

# admin_says TEXT ARGS...: the DBA tool refuses ARGS, saying TEXT (exit 1)
admin_says() {
	local want=$1 out rc
	shift
	out=$("$ADMIN" "$@" 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" = 1 ] && grep -qF "calendence-admin: $want" <<<"$out" ||
		{ echo "\"$*\": wanted \"$want\" and exit 1, got $rc"; return 1; }
	if grep -q '_check\|_fkey\|_key\b\|invalid input syntax' <<<"$out"; then
		echo "\"$*\": a raw database message"; return 1
	fi
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

# the widget stays small (docs/widget.md, Size): under 30 KB as it is, under
# 10 KB gzipped
widget_size() {
	local raw gz
	raw=$(wc -c <"$top/widget/calendence-widget.js")
	gz=$(gzip -9c "$top/widget/calendence-widget.js" | wc -c)
	echo "widget: $raw bytes, $gz gzipped"
	[ "$raw" -lt 30000 ] && [ "$gz" -lt 10000 ]
}

# make run installs only what the demo needs (tests/deps.sh demo): the build,
# PostgreSQL and the one web server it serves with, no test tools
deps_demo_only() {
	local demo all p
	grep -q '^	tests/deps.sh demo $(SERVER)$' "$top/Makefile" || { echo "make run: not deps.sh demo"; return 1; }
	demo=$(DEPS_LIST=1 "$top/tests/deps.sh" demo) || return 1
	all=$(DEPS_LIST=1 "$top/tests/deps.sh") || return 1
	for p in postgresql lighttpd libcurl4-openssl-dev; do
		grep -qx "$p" <<<"$demo" || { echo "demo lacks $p"; return 1; }
	done
	for p in apache2 nginx pgbouncer clang valgrind libcriterion-dev nodejs; do
		if grep -qx "$p" <<<"$demo"; then echo "demo installs $p"; return 1; fi
		grep -qx "$p" <<<"$all" || { echo "check lacks $p"; return 1; }
	done
	grep -qx nginx <<<"$(DEPS_LIST=1 "$top/tests/deps.sh" demo nginx)" &&
		grep -qx apache2 <<<"$(DEPS_LIST=1 "$top/tests/deps.sh" demo apache-fcgid)"
}

check install install_roundtrip
check deps_demo deps_demo_only
check bad_config bad_config_refused
suite unit "$build/tests/unit" -j2
check fuzz make -s fuzz-check B="$build"

pg_up "$work/pg" "$pg_port" calendence_test
export PG_DATA_DIR=$work/pg
check install_paths install_paths
check installed_demo installed_demo
check worker_log_file worker_log_file
check admin_tool admin_tool
check admin_tool_more admin_tool_more
check demo demo_tool
check run_workers run_workers_choice
# a database migrated by the 007-era files, migrated now, equals a new one
check upgrade "$top/tests/upgrade/upgrade.sh"
suite integration "$build/tests/integration" -j2

# the workers connect with a role of least privilege (grant_worker(),
# functions/90_roles.sql), so that every end-to-end test proves it enough;
# the tests' own connection (fixtures, the DBA's side) stays the owner's
psql -XAtq -c "CREATE ROLE calendence_worker LOGIN" \
	-c "SELECT calendence.grant_worker('calendence_worker')" >/dev/null

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
# the role of least privilege (host, port and database from PG*)
database = user=calendence_worker
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
# every answer the e2e and webhooks suites receive, one JSON line each
# (tests/lib/http.c), for check::openapi_responses below
export CALENDENCE_RESPONSE_LOG=$work/responses.jsonl
suite e2e "$build/tests/e2e" -j8
# webhooks (tests/webhooks): senders started by the tests, a receiver in the
# test process, bookings made through the first server; one test at a time,
# as every sender claims from the one queue
suite webhooks env WEBHOOKS_SENDER="$build/asan/calendence-webhooks" \
	"$build/tests/webhooks" -j1
unset CALENDENCE_RESPONSE_LOG
# the booking widget in headless Chromium (tests/browser): the business's web
# sites on http_port + 30 and + 31 (served by the test), the widget's script
# and the API from the first server; a screenshot of each step in run/
check widget_size widget_size
suite browser env WIDGET_SITE_PORT=$((http_port + 30)) WIDGET_SCREENS="$top/run/widget-screens" \
	node --test --test-reporter=spec "$top/tests/browser/widget.test.mjs"
# docs/openapi.json: every answer of those suites fits it (jsonschema), and
# the document passes redocly's lint (npm, cached under the build directory)
check openapi_responses python3 tests/openapi/validate.py docs/openapi.json \
	"$work/responses.jsonl"
grep -a 'answers validated' "$work/check-openapi_responses.out" | sed 's/^/    /'
check openapi_lint tests/openapi/lint.sh "$build/npm"
# docs/reference.md is written from the document, never by hand
check openapi_reference python3 "$top/tests/openapi/reference.py" --check \
	"$top/docs/openapi.json" "$top/docs/reference.md"
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
	failures+=("sanitizer reports: $(cd "$work/asan" && echo *)")
fi
# the workers logged (one line per request) and no token ever reached a log
if ! grep -qE ' req_[0-9A-Za-z]{16} GET /api/v1/services 200 [0-9]+us key=cal_biz_[0-9A-Za-z]{4} ip=[0-9.]+$' "$work/workers.log"; then
	echo "== the workers' request log is missing"
	failed=$((failed + 1))
	failures+=("the workers' request log is missing")
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
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
