#!/usr/bin/env bash
# bench.sh: `make bench`: throughput and latency of the release worker on this
# machine, loopback only, in a few minutes. It starts its own PostgreSQL
# (a cluster kept under run/bench-pg, seeded once), lighttpd and worker pool,
# measures with wrk, prints a table and writes it as JSON to run/bench.json.
#   1    transport ceiling: tests/bench/minimal.c behind the same lighttpd
#   2    database ceiling: pgbench -M prepared running the worker's own
#        admission statement with the same key mix (the services list of
#        (a) comes from the workers' catalogue cache)
#   a-f  the worker (see the table); then ratios against the targets
#   g    availability over 14 days (issue 7): 2 locations, 4 staff, 200
#        bookings, made anew each run by tests/bench/avail.sql; gc the same
#        in the compact form (format=compact); g2 as (g) in bench_1m beside
#        10,000 businesses with schedules (tests/bench/crowd.sql, seeded once);
#        the workers keep answers (fcgi/answers.c), so (g) and (gc) ask for
#        one kept; g0 is (g) with availability_cache = 0, every answer made,
#        and so is g2
#   w    webhooks (issue 13): events per second from bookings to a receiver
#        through one calendence-webhooks, the end-to-end latency, and the
#        outbox's cost on POST /bookings (tests/bench/webhooks.c)
#   n2-n8  the number of workers (issue 15): (a) with 2, 3, 4, 6 and 8
#        workers, BENCH_SWEEP_SECONDS (5) each; the best is written to
#        run/workers-best, which `make run` starts with
# Settings (environment): BENCH_WORKERS (4), BENCH_THREADS (2),
# BENCH_CONNECTIONS (32), BENCH_SECONDS (10), BENCH_WARMUP (2),
# BENCH_PROFILE (cases whose workers perf records, e.g. "a d": run/bench/
# perf-ID.data, for perf report -i), BENCH_ONLY
# (the cases to run, e.g. "1 a d"; the default is all of them),
# BENCH_HTTP_PORT (18901: it and the next two), BENCH_PG_PORT (55990), all on
# 127.0.0.1; BENCH_SQL (a file psql runs in both databases once they are
# migrated, e.g. tests/bench/avail_before.sql to measure the old availability).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$top"

# what the bench needs beyond tests/deps.sh (Debian packages)
BENCH_PKGS=(wrk jq)

build=${BUILD_DIR:-build}
workers=${BENCH_WORKERS:-4}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-32}
secs=${BENCH_SECONDS:-10}
warm=${BENCH_WARMUP:-2}
profile=${BENCH_PROFILE:-}
only=${BENCH_ONLY:-}
saturate=8			# pgbench clients for the saturated database line
pg_port=${BENCH_PG_PORT:-55990}
pg_buffers=1GB			# the bench cluster's shared_buffers
port_minimal=${BENCH_HTTP_PORT:-18901}
port_small=$((port_minimal + 1))
port_big=$((port_minimal + 2))
crowd=10000			# (g2): businesses with schedules beside it
seed_version=1			# change to make every bench database anew

run=$top/run
work=$run/bench
json_out=$run/bench.json
app=$top/fcgi/calendence.fcgi
minimal=$top/$build/bench/minimal.fcgi
stmt_sql=$top/$build/bench/stmt-sql
wh_bench=$top/$build/bench/webhooks
wh_sender=$top/webhooks/calendence-webhooks
lua=$top/tests/bench/pick.lua
pgdir=$(pg_dir "$run")
pgdir=${pgdir%/pg}/bench-pg
hz=$(getconf CLK_TCK)

# report: run/bench.json from what the run left in run/bench/, and the table
report() {
	jq -s -f "$top/tests/bench/report.jq" "$work/meta.json" "$work/cases.jsonl" >"$json_out"
	jq -r -f "$top/tests/bench/table.jq" "$json_out"
	echo
	echo "bench: written ${json_out#$top/}"
}

if [ "${1:-}" = --report ]; then	# the table again, from the last run
	report
	exit 0
fi

install_missing() {
	local p missing=()
	for p in "${BENCH_PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "bench: installing ${missing[*]}"
	$sudo apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null
}

for f in "$app" "$minimal" "$stmt_sql" "$wh_bench" "$wh_sender"; do
	[ -x "$f" ] || { echo "bench: $f is missing: run 'make bench'" >&2; exit 1; }
done
install_missing
for p in $port_minimal $port_small $port_big; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		echo "bench: port $p is in use (another bench still running?)" >&2
		exit 1
	fi
done

rm -rf "$work"
mkdir -p "$work"
: >"$work/cases.jsonl"

cleanup() {
	local c
	trap - INT TERM EXIT
	for c in "$work"/*/lighttpd.conf; do
		[ -f "$c.pid" ] && lighttpd_stop "$c"
	done
	# (w) interrupted: the outbox trigger on again (it turns it off and on)
	[ -z "${wh_running:-}" ] || q bench_10k "ALTER TABLE calendence.reservations
	    ENABLE TRIGGER reservations_booking_event" || true
	"$top/tests/pgctl.sh" stop "$pgdir"
}
trap cleanup INT TERM EXIT

q() {	# q DB SQL: one value or rows, unaligned
	PGOPTIONS='-c client_min_messages=warning' psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# --- PostgreSQL: the bench cluster, pg_stat_statements, the data -----------

# pg_start: the cluster running with pg_stat_statements loaded
pg_start() {
	pg_up "$pgdir" "$pg_port" bench_10k
	# shared_buffers sized as a DBA would for (f): the million-key tables'
	# pages that 10,000 keys touch fit (PostgreSQL's default, 128 MB, does
	# not: (f) then reads about 3 blocks a request from the kernel's cache)
	if ! q postgres "SHOW shared_preload_libraries" | grep -q pg_stat_statements ||
	    [ "$(q postgres "SHOW shared_buffers")" != "$pg_buffers" ]; then
		q postgres "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
		q postgres "ALTER SYSTEM SET shared_buffers = '$pg_buffers'"
		"$top/tests/pgctl.sh" stop "$pgdir"
		"$top/tests/pgctl.sh" start "$pgdir" "$pg_port"
	fi
}

# stale_migrations DB: the migrations edited since DB was seeded (the data
# was made for another schema), or nothing
stale_migrations() {
	local f m
	q "$1" "CREATE TABLE IF NOT EXISTS bench.migrations (file text PRIMARY KEY, md5 text NOT NULL)"
	while IFS='|' read -r f m; do
		if [ ! -f "$top/sql/$f" ] || [ "$(md5sum <"$top/sql/$f" | cut -c1-32)" != "$m" ]; then
			echo -n "$f "
		fi
	done < <(q "$1" "SELECT file, md5 FROM bench.migrations")
}

# record_migrations DB: the migrations DB holds now, as they are
record_migrations() {
	local f
	for f in "$top"/sql/migrations/*.sql; do
		q "$1" "INSERT INTO bench.migrations VALUES ('migrations/$(basename "$f")',
		    '$(md5sum <"$f" | cut -c1-32)') ON CONFLICT (file) DO NOTHING"
	done
}

# seed DB BUSINESSES KEYS_PER_BUSINESS SESSIONS SAMPLE: the data, once; made
# anew when the bench's seeding changed or a migration was edited in place
seed() {
	local db=$1 have stale=
	pg_up "$pgdir" "$pg_port" "$db"
	have=$(q "$db" "SELECT version FROM bench.seeded" 2>/dev/null || true)
	[ -z "$have" ] || stale=$(stale_migrations "$db")
	if [ -n "$have" ] && { [ "$have" != "$seed_version" ] || [ -n "$stale" ]; }; then
		echo "bench: $db was made for ${stale:+a schema since changed (}${stale:-another bench}${stale:+)}: making it anew"
		dropdb "$db"
		pg_up "$pgdir" "$pg_port" "$db"
		have=
	fi
	if [ -z "$have" ]; then
		echo "bench: seeding $db once: $2 businesses, $(($2 * ($3 + 1))) keys," \
			"$4 sessions (kept in $pgdir) ..."
		local t0=$SECONDS
		psql -X -q -v ON_ERROR_STOP=1 -v version="$seed_version" -v businesses="$2" \
			-v keys_per_business="$3" -v sessions="$4" -v sample="$5" \
			-d "$db" -f "$top/tests/bench/seed.sql" >/dev/null
		echo "bench: seeded $db in $((SECONDS - t0)) s"
		stale_migrations "$db" >/dev/null
	fi
	record_migrations "$db"
	q "$db" "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
	stats_view "$db"
	# what earlier runs left: sessions made by case c, the IP's auth window
	q "$db" "DELETE FROM calendence.sessions WHERE expires_at < now() + interval '1 day'"
	q "$db" "DELETE FROM calendence.rate_windows WHERE subject LIKE 'a:%' OR subject LIKE 'x:%'"
}

# tokens DB KIND: the file of that kind's tokens, one a line
tokens() {
	local f=$work/tokens-$1-$2.txt
	if [ ! -s "$f" ]; then
		(umask 077 && q "$1" "SELECT token FROM bench.tokens WHERE kind = '$2' ORDER BY n" >"$f")
	fi
	echo "$f"
}

# --- measurements ------------------------------------------------------------

# wanted ID: true when case ID is to be run (BENCH_ONLY)
wanted() {
	[ -z "$only" ] || [[ " $only " == *" $1 "* ]] || [[ " $only " == *" ${1%s} "* ]] ||
		[[ " $only " == *" ${1%%[0-9]*} "* ]]
}

# ticks PID...: clock ticks of CPU the processes used so far
ticks() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null) || v=0
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# busy_ticks: CPU ticks the whole machine spent busy so far
busy_ticks() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

children() {
	ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true
}

# workers LIGHTTPD_PID: the processes that serve requests under lighttpd: the
# children of the one process it spawns (conf/lighttpd.conf: --workers N),
# or its children themselves when they have none
workers() {
	local c g
	for c in $(children "$1"); do
		g=$(children "$c")
		if [ -n "$g" ]; then echo "$g"; else echo "$c"; fi
	done
}

pg_pids() {
	local pm
	pm=$(head -n 1 "$pgdir/postmaster.pid")
	echo "$pm"
	children "$pm"
}

# statements DB: calls of each statement since the last reset, as JSON
statements() {
	q "$1" "SELECT coalesce(json_object_agg(stmt, calls), '{}') FROM (
	    SELECT stmt, sum(calls) AS calls FROM bench.statement_stats GROUP BY 1) s"
}

# statement_times DB: mean time (ms) and blocks read from outside
# shared_buffers per call of each statement since the last reset, as JSON
statement_times() {
	q "$1" "SELECT coalesce(json_object_agg(stmt, json_build_object(
		'mean_ms', round((exec_ms / calls)::numeric, 4),
		'blocks_read', round(blks_read::numeric / calls, 3),
		'blocks_hit', round(blks_hit::numeric / calls, 1))), '{}') FROM (
	    SELECT stmt, sum(calls) AS calls, sum(total_exec_time) AS exec_ms,
		   sum(shared_blks_read) AS blks_read, sum(shared_blks_hit) AS blks_hit
	      FROM bench.statement_stats GROUP BY 1) s"
}

# the bench's view of pg_stat_statements: the workers' statements by name
stats_view() {
	q "$1" "CREATE SCHEMA IF NOT EXISTS bench;
	    CREATE OR REPLACE VIEW bench.statement_stats AS
	    SELECT CASE
		WHEN query LIKE '%calendence.availability(s.b_id%' THEN 'admit+availability'
		WHEN query LIKE '%calendence.service_lists sl ON sl.business_id = s.b_id%' THEN 'admit+services'
		WHEN query LIKE 'WITH c AS MATERIALIZED%calendence.sessions x%' THEN 'admit_session'
		WHEN query LIKE 'WITH c AS MATERIALIZED%FOR NO KEY UPDATE OF y SKIP LOCKED%' THEN 'admit'
		WHEN query LIKE 'WITH c AS MATERIALIZED%calendence.rate_windows%' THEN 'admit_quiet'
		WHEN query LIKE '%calendence.authenticate(%' THEN 'authenticate'
		WHEN query LIKE '%calendence.auth_fail(%' THEN 'auth_fail'
		WHEN query LIKE '%calendence.create_session(%' THEN 'session_create'
		WHEN query LIKE '%FROM calendence.services WHERE business_id%' THEN 'services_list'
		WHEN query LIKE '%calendence.maintenance()%' THEN 'maintenance'
		WHEN query LIKE '%calendence.availability(%' THEN 'availability'
		ELSE left(regexp_replace(query, '\s+', ' ', 'g'), 60) END AS stmt,
		calls, total_exec_time, shared_blks_read, shared_blks_hit
	      FROM pg_stat_statements
	     WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%statement_stats%'
	       AND toplevel AND dbid = (SELECT oid FROM pg_database
					 WHERE datname = current_database())"
}

# statuses LOG OFFSET: the statuses the workers logged after OFFSET, as JSON
statuses() {
	tail -c +"$(($2 + 1))" "$1" | awk '
	    / info: req_/ {
		for (i = 2; i <= NF; i++)
			if ($i ~ /^[0-9]+us$/) { n[$(i - 1)]++; break }
	    }
	    END {
		printf "{"
		for (s in n) printf "%s\"%s\":%d", (c++ ? "," : ""), s, n[s]
		printf "}\n"
	    }'
}

# wrk_run SECONDS URL TOKENS METHOD OUT: wrk with the bench's settings; its
# JSON line in OUT, its CPU seconds in OUT.cpu
wrk_run() {
	local TIMEFORMAT='%U %S'
	{ time wrk -t"$threads" -c"$conns" -d"$1"s --timeout 5s -s "$lua" "$2" -- "$3" "$4" \
		>"$5.out" 2>&1; } 2>"$5.cpu"
	grep '^{' "$5.out" | tail -n 1 >"$5"
}

# settle LOG: waits (at most 2 s) until LOG has stopped growing for 0.2 s
settle() {
	local a b i
	a=$(stat -c %s "$1")
	for i in $(seq 1 10); do
		sleep 0.2
		b=$(stat -c %s "$1")
		[ "$a" = "$b" ] && return 0
		a=$b
	done
}

# measure ID LABEL CONF PATH METHOD TOKENS [DB]: one case against the
# lighttpd of CONF: a warm-up, then SECONDS measured; appends its JSON
measure() {
	local id=$1 label=$2 conf=$3 path=$4 method=$5 toks=$6 db=${7:-}
	local port lpid wpids url log off=0 w0 l0 p0 b0 w1 l1 p1 b1 st='{}' rt='{}' times='{}'
	local out prof=
	wanted "$id" || return 0
	port=$(sed -n 's/^var.port *= *//p' "$conf")
	lpid=$(cat "$conf.pid")
	wpids=$(workers "$lpid")
	url=http://127.0.0.1:$port$path
	log=$(dirname "$conf")/workers.log	# the workers' stderr (server.breakagelog)
	out=$work/case-$id
	printf 'bench: %-3s %s ...\n' "$id" "$label"
	wrk_run "$warm" "$url" "$toks" "$method" "$out.warm"
	[ -n "$db" ] && q "$db" "SELECT pg_stat_statements_reset()" >/dev/null
	off=$(stat -c %s "$log")
	if [[ " $profile " == *" $id "* ]]; then
		perf record -q -e cpu-clock -g -p "$(echo $wpids | tr ' ' ,)" \
			-o "$work/perf-$id.data" -- sleep "$secs" >/dev/null 2>&1 &
		prof=$!
	fi
	w0=$(ticks $wpids) l0=$(ticks "$lpid") p0=$(ticks $(pg_pids)) b0=$(busy_ticks)
	wrk_run "$secs" "$url" "$toks" "$method" "$out"
	w1=$(ticks $wpids) l1=$(ticks "$lpid") p1=$(ticks $(pg_pids)) b1=$(busy_ticks)
	[ -z "$prof" ] || wait "$prof" || true
	# the requests in flight when wrk stopped (up to one per connection)
	# still reach the database: let them finish, so that the statements
	# and the workers' log lines count the same requests
	[ "$id" = 1 ] || settle "$log"
	[ -n "$db" ] && rt=$(statements "$db") && times=$(statement_times "$db")
	[ "$id" = 1 ] || st=$(statuses "$log" "$off")
	[ -s "$out" ] || { echo "bench: wrk failed:" >&2; cat "$out.out" >&2; exit 1; }
	jq -c --arg id "$id" --arg lbl "$label" --arg method "$method" --arg path "$path" \
	    --argjson st "$st" --argjson rt "$rt" --argjson times "$times" --arg db "$db" \
	    --argjson hz "$hz" \
	    --argjson w "$((w1 - w0))" --argjson l "$((l1 - l0))" --argjson p "$((p1 - p0))" \
	    --argjson b "$((b1 - b0))" --arg wrkcpu "$(cat "$out.cpu")" \
	    --argjson tokens "$(wc -l <"$toks")" '
	    . as $r | ($wrkcpu | split(" ") | map(tonumber) | add * $hz | round) as $k |
	    (1000000 / $hz / $r.requests) as $us |
	    { id: $id, label: $lbl, method: $method, path: $path, tokens: $tokens,
	      requests: $r.requests, seconds: ($r.duration_us / 1e6),
	      rps: ($r.requests / $r.duration_us * 1e6),
	      p50_ms: ($r.p50_us / 1000), p90_ms: ($r.p90_us / 1000),
	      p99_ms: ($r.p99_us / 1000), max_ms: ($r.max_us / 1000),
	      non_2xx_3xx: $r.non_2xx_3xx, socket_errors: $r.socket_errors,
	      statuses: $st,
	      statements: $rt, statement_times: $times,
	      served: ([$st[]] | add),
	      round_trips: (if $db == "" then null else ([$rt[]] | add // 0) /
		  ([$st[]] | add // $r.requests) end),
	      cpu_us_per_request: { workers: ($w * $us), lighttpd: ($l * $us),
		postgres: ($p * $us), wrk: ($k * $us),
		other: (([($b - $w - $l - $p - $k), 0] | max) * $us),
		machine: ($b * $us) } }' "$out" >>"$work/cases.jsonl"
}

# steady_keys DB: the bench keys' last_used_at spread evenly over the last
# minute, then a checkpoint. (a) and (f) start alike: as on a server under
# steady load, where a key's last_used_at is written once a minute (SPEC 2),
# so a sixth of a 10-second run's keys come due and are written (with the
# full-page image of their block, the first write since the checkpoint).
# Without it (a) began with every key fresh when row 2's pgbench had just used
# them, and (f) with every key due: a write on nearly every request of (f)
# that (a) did not make (issue 15, docs/performance.md "Row (f)").
steady_keys() {
	wanted "$2" || return 0
	q "$1" "UPDATE calendence.api_keys a
	    SET last_used_at = now() - random() * interval '60 seconds'
	    FROM bench.tokens t WHERE t.kind = 'biz' AND a.token_hash = t.token_hash" >/dev/null
	q "$1" "CHECKPOINT" >/dev/null
}

# pgbench_run ID LABEL CLIENTS: the database ceiling on bench_10k
pgbench_run() {
	local id=$1 label=$2 clients=$3 out=$work/case-$1 b0 b1 tps lat
	wanted "$id" || return 0
	printf 'bench: %-3s %s ...\n' "$id" "$label"
	local TIMEFORMAT='%U %S'
	rm -f "$work"/pgbench-"$id".*
	pgbench -n -M prepared -c "$clients" -j "$((clients < threads ? clients : threads))" \
		-T "$warm" -f "$work/db-ceiling.sql" -D kind=business -D exchange=f \
		-D ip=127.0.0.1 -D auth_limit=20 -D per_page=15 -D offset=0 \
		bench_10k >/dev/null 2>&1
	q bench_10k "SELECT pg_stat_statements_reset()" >/dev/null
	b0=$(busy_ticks)
	{ time pgbench -n -M prepared -c "$clients" -j "$((clients < threads ? clients : threads))" \
		-T "$secs" -f "$work/db-ceiling.sql" -D kind=business -D exchange=f \
		-D ip=127.0.0.1 -D auth_limit=20 -D per_page=15 -D offset=0 \
		--log --log-prefix="$work/pgbench-$id" bench_10k >"$out.out" 2>&1; } 2>"$out.cpu"
	b1=$(busy_ticks)
	cat "$work"/pgbench-"$id".* | awk '{ print $3 }' | sort -n >"$out.lat"
	jq -n -c --arg id "$id" --arg lbl "$label" --argjson clients "$clients" \
	    --argjson n "$(wc -l <"$out.lat")" --arg text "$(cat "$out.out")" \
	    --argjson p50 "$(awk -v n="$(wc -l <"$out.lat")" 'NR == int(n * 0.50) + 1 { print; exit }' "$out.lat")" \
	    --argjson p99 "$(awk -v n="$(wc -l <"$out.lat")" 'NR == int(n * 0.99) + 1 { print; exit }' "$out.lat")" \
	    --argjson rt "$(statements bench_10k)" --argjson times "$(statement_times bench_10k)" \
	    --argjson b "$((b1 - b0))" --argjson hz "$hz" \
	    --arg cpu "$(cat "$out.cpu")" '
	    ($text | capture("tps = (?<t>[0-9.]+) \\(without") | .t | tonumber) as $tps |
	    (1000000 / $hz / $n) as $us |
	    { id: $id, label: $lbl, clients: $clients, requests: $n, rps: $tps,
	      p50_ms: ($p50 / 1000), p99_ms: ($p99 / 1000), statements: $rt,
	      statement_times: $times,
	      round_trips: (([$rt[]] | add // 0) / $n),
	      cpu_us_per_request: { pgbench: (($cpu | split(" ") | map(tonumber) | add) * 1e6 / $n),
		machine: ($b * $us) } }' >>"$work/cases.jsonl"
}

# rss CONF: the workers' memory (kB), the largest of them, as JSON
rss() {
	local p
	for p in $(workers "$(cat "$1.pid")"); do
		awk '/^(VmRSS|VmHWM|RssAnon|RssFile|Pss):/ {
			sub(/:$/, "", $1); printf "%s\"%s\":%d", (n++ ? "," : "{"), $1, $2 }
		    END { print "}" }' "/proc/$p/status" "/proc/$p/smaps_rollup"
	done | jq -s -c '{ workers: length, VmRSS_kB: (map(.VmRSS) | max),
	    VmHWM_kB: (map(.VmHWM) | max), RssAnon_kB: (map(.RssAnon) | max),
	    RssFile_kB: (map(.RssFile) | max), Pss_kB: (map(.Pss) | max) }'
}

# server CONF PORT STATE APP DB [SETTINGS]: lighttpd with WORKERS workers of
# APP on DB, with the bench's worker settings or the file SETTINGS
server() {
	local conf=$1 port=$2 state=$3 app_bin=$4 db=$5 settings=${6:-$work/calendence.conf}
	mkdir -p "$state"
	lighttpd_conf "$conf" "$port" "$app_bin" "$settings" "$state" "$workers"
	PGDATABASE=$db
	set -m
	lighttpd_start "$conf" 2>"$state/lighttpd.out"
	set +m
	# the pool is up when every worker answers
	local i n
	for i in $(seq 1 50); do
		n=$(workers "$(cat "$conf.pid")" | wc -l)
		[ "$n" -ge "$workers" ] && break
		sleep 0.1
	done
}

# check URL TOKEN STATUS: one request answers STATUS, or the bench stops
check() {
	local got
	got=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $2" "$1")
	if [ "$got" != "$3" ]; then
		echo "bench: $1 answered $got, not $3; the server log:" >&2
		tail -n 20 "$(dirname "$conf")/lighttpd.out" "$(dirname "$conf")/workers.log" >&2 || true
		exit 1
	fi
}

# --- the run -----------------------------------------------------------------

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: PostgreSQL on port $pg_port, data in $pgdir"
pg_start
seed bench_10k 1000 10 10000 10000
seed bench_1m 100000 9 100000 10000
if [ -n "${BENCH_SQL:-}" ]; then
	for db in bench_10k bench_1m; do
		psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$BENCH_SQL" >/dev/null
	done
fi
q bench_10k "CHECKPOINT"

cat >"$work/calendence.conf" <<CONF
# the bench's worker settings: the defaults, except that maintenance (a
# background task every 5 minutes by default) is off so that it neither
# falls into a measurement nor removes the seeded rate windows
log_level = info
auth_fail_limit = 20
maintenance_interval = 0
CONF
# (g0, g2) every availability answer made, none kept (fcgi/answers.c)
cat "$work/calendence.conf" - >"$work/calendence-g0.conf" <<CONF
availability_cache = 0
CONF

# the worker's own statement, the key drawn by pgbench's random n: the one
# (a) sends while its keys' last_used_at is less than a minute old
# (admit_quiet; fcgi/auth.c, key_uses), that is for all but a key's first
# request of a minute
auth=$("$stmt_sql" admit_quiet)
key="(SELECT token_hash FROM bench.tokens WHERE kind = 'biz' AND n = :n)"
auth=${auth//'$1::bytea'/$key}
auth=${auth//'$2::text'/:kind::text}
auth=${auth//'$3::text'/:ip::text}
auth=${auth//'$4::uuid'/NULL::uuid}
auth=${auth//'$5::text'/NULL::text}
auth=${auth//'$6::integer'/:auth_limit::integer}
case "$auth" in
*'$'*) echo "bench: a statement parameter was not replaced: $auth" >&2; exit 1 ;;
esac
nbiz=$(wc -l <"$(tokens bench_10k biz)")
# the services list is in the workers' catalogue cache (fcgi/catalogue.c):
# what (a) asks of PostgreSQL is the admission alone
cat >"$work/db-ceiling.sql" <<SQL
\set n random(1, $nbiz)
$auth;
SQL

export PGDATABASE

# 1: the transport ceiling
c=$work/minimal/lighttpd.conf
if wanted 1; then
	server "$c" "$port_minimal" "$work/minimal" "$minimal" bench_10k
	measure 1 "transport: minimal FastCGI responder" "$c" /api/v1/services GET \
		"$(tokens bench_10k biz)"
	lighttpd_stop "$c"
fi

# 2: the database ceiling
pgbench_run 2 "database: pgbench, admission, -c $workers" "$workers"
pgbench_run 2s "database: pgbench, admission, -c $saturate" "$saturate"

# a-e: the worker, 10,000 keys
c=$work/small/lighttpd.conf
conf=$c
rss_small='{}' rss_avail='{}'
if wanted a || wanted b || wanted c || wanted d || wanted e1 || wanted e2 || wanted g || wanted g0 ||
    wanted gc; then
	server "$c" "$port_small" "$work/small" "$app" bench_10k
	check "http://127.0.0.1:$port_small/api/v1/services" \
		"$(head -n 1 "$(tokens bench_10k biz)")" 200
	steady_keys bench_10k a
	measure a "GET /services, business keys" "$c" /api/v1/services GET \
		"$(tokens bench_10k biz)" bench_10k
	measure b "GET /services, session tokens" "$c" /api/v1/services GET \
		"$(tokens bench_10k ses)" bench_10k
	measure c "POST /session, publishable keys" "$c" /api/v1/session POST \
		"$(tokens bench_10k pub)" bench_10k
	q bench_10k "DELETE FROM calendence.sessions WHERE expires_at < now() + interval '1 day'"
	measure d "GET /services, one exhausted key (429)" "$c" /api/v1/services GET \
		"$(tokens bench_10k limited)" bench_10k
	q bench_10k "DELETE FROM calendence.rate_windows WHERE subject LIKE 'a:%'"
	measure e1 "GET /services, bad checksums" "$c" /api/v1/services GET \
		"$(tokens bench_10k badsum)" bench_10k
	q bench_10k "DELETE FROM calendence.rate_windows WHERE subject LIKE 'a:%'"
	measure e2 "GET /services, unknown tokens" "$c" /api/v1/services GET \
		"$(tokens bench_10k unknown)" bench_10k
	rss_small=$(rss "$c")
	# g last: its answers (1,740 slots of JSON) grow the workers' buffers
	if wanted g || wanted gc || wanted g0; then
		# one business key of a business with 2 locations, 4 staff and
		# 200 bookings in the 14 days asked for (tests/bench/avail.sql)
		IFS='|' read -r av_token av_svc av_from av_to av_n < <(psql -X -qAt \
			-v ON_ERROR_STOP=1 -d bench_10k -f "$top/tests/bench/avail.sql")
		[ "$av_n" = 200 ] || { echo "bench: avail.sql made $av_n bookings, not 200" >&2; exit 1; }
		(umask 077 && echo "$av_token" >"$work/tokens-avail.txt")
		av_path="/api/v1/availability?service_id=$av_svc&date_from=$av_from&date_to=$av_to"
		check "http://127.0.0.1:$port_small$av_path" "$av_token" 200
		q bench_10k "ANALYZE calendence.reservations" >/dev/null
		measure g "GET /availability, 14 days, 200 bookings" "$c" "$av_path" GET \
			"$work/tokens-avail.txt" bench_10k
		measure gc "GET /availability, the same, format=compact" "$c" \
			"$av_path&format=compact" GET "$work/tokens-avail.txt" bench_10k
		rss_avail=$(rss "$c")
	fi
	lighttpd_stop "$c"
	# g0: (g) with the workers' answers off (availability_cache = 0), so
	# that every request makes its answer: what the first request after a
	# change to the business's schedule costs (fcgi/answers.c)
	if wanted g0; then
		c=$work/made/lighttpd.conf
		server "$c" "$port_small" "$work/made" "$app" bench_10k "$work/calendence-g0.conf"
		measure g0 "GET /availability as (g), every answer made" "$c" "$av_path" GET \
			"$work/tokens-avail.txt" bench_10k
		lighttpd_stop "$c"
	fi
fi

# n2-n8: which number of workers serves (a) best on this machine; make run
# (tests/serve.sh) starts that many, from run/workers-best
if wanted n; then
	c=$work/sweep/lighttpd.conf
	conf=$c
	best=0 best_rps=0
	for n in 2 3 4 6 8; do
		(workers=$n secs=${BENCH_SWEEP_SECONDS:-5}
		server "$c" "$port_small" "$work/sweep" "$app" bench_10k
		measure "n$n" "GET /services, business keys, $n workers" "$c" \
			/api/v1/services GET "$(tokens bench_10k biz)" bench_10k
		lighttpd_stop "$c")
		rps=$(jq -r --arg id "n$n" 'select(.id == $id) | .rps | floor' \
			"$work/cases.jsonl" | tail -n 1)
		if [ "${rps:-0}" -gt "$best_rps" ]; then
			best=$n best_rps=$rps
		fi
	done
	echo "$best" >"$run/workers-best"
	echo "bench: best number of workers: $best ($best_rps req/s); written to run/workers-best"
fi

# f: the worker, 1,000,000 keys
c=$work/big/lighttpd.conf
conf=$c
rss_big='{}'
if wanted f; then
	# the measurement is of a warm cache, as a server that has run a while
	# has: the tables and indexes that (f) reads, read into shared_buffers
	# first (all of bench_1m, some 1.2 GB with (w)'s events and the crowd's
	# bookings, no longer fits the 1 GB, and reading it all evicted them)
	q bench_1m "CREATE EXTENSION IF NOT EXISTS pg_prewarm"
	q bench_1m "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c
	    JOIN pg_namespace n ON n.oid = c.relnamespace
	    WHERE n.nspname = 'calendence' AND c.relkind IN ('r', 'i')
	      AND c.relname ~ '^(api_keys|businesses|hubs|plans|rate_windows|sessions|services)'" >/dev/null
	server "$c" "$port_big" "$work/big" "$app" bench_1m
	check "http://127.0.0.1:$port_big/api/v1/services" \
		"$(head -n 1 "$(tokens bench_1m biz)")" 200
	steady_keys bench_1m f
	measure f "GET /services, business keys, 1M keys" "$c" /api/v1/services GET \
		"$(tokens bench_1m biz)" bench_1m
	rss_big=$(rss "$c")
	lighttpd_stop "$c"
fi

# g2: (g0) in bench_1m, beside the schedules of 10,000 other businesses
# (tests/bench/crowd.sql, seeded once): the same business, made anew; every
# answer made (none kept), so that it compares the making with (g0)
if wanted g2; then
	c=$work/crowd/lighttpd.conf
	if [ -z "$(q bench_1m "SELECT businesses FROM bench.crowd" 2>/dev/null || true)" ]; then
		echo "bench: seeding bench_1m once with $crowd businesses' schedules ..."
		t0=$SECONDS
		psql -X -q -v ON_ERROR_STOP=1 -v crowd="$crowd" -d bench_1m \
			-f "$top/tests/bench/crowd.sql" >/dev/null
		echo "bench: seeded in $((SECONDS - t0)) s"
	fi
	server "$c" "$port_big" "$work/crowd" "$app" bench_1m "$work/calendence-g0.conf"
	IFS='|' read -r av_token av_svc av_from av_to av_n < <(psql -X -qAt \
		-v ON_ERROR_STOP=1 -d bench_1m -f "$top/tests/bench/avail.sql")
	[ "$av_n" = 200 ] || { echo "bench: avail.sql made $av_n bookings, not 200" >&2; exit 1; }
	(umask 077 && echo "$av_token" >"$work/tokens-crowd.txt")
	av_path="/api/v1/availability?service_id=$av_svc&date_from=$av_from&date_to=$av_to"
	check "http://127.0.0.1:$port_big$av_path" "$av_token" 200
	q bench_1m "ANALYZE calendence.reservations" >/dev/null
	measure g2 "GET /availability as (g0), beside $crowd businesses" "$c" "$av_path" GET \
		"$work/tokens-crowd.txt" bench_1m
	lighttpd_stop "$c"
fi

# w: webhooks, 10,000 keys: its own server, whose settings add the webhook
# key (made anew each run) and let webhooks go to http:// on loopback (the
# receiver in tests/bench/webhooks.c); one sender started by the program
c=$work/webhooks/lighttpd.conf
conf=$c
if wanted w; then
	printf 'bench: %-3s %s ...\n' w "webhooks: bookings to a local receiver"
	mkdir -p "$work/webhooks"
	(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$work/webhook.key")
	cat "$work/calendence.conf" - >"$work/calendence-w.conf" <<CONF
webhook_key_file = $work/webhook.key
webhook_allow_http = yes
webhook_allow_private = yes
webhook_concurrency = 8
CONF
	server "$c" "$port_small" "$work/webhooks" "$app" bench_10k "$work/calendence-w.conf"
	check "http://127.0.0.1:$port_small/api/v1/services" \
		"$(head -n 1 "$(tokens bench_10k biz)")" 200
	# the database put back whatever happens to the program: the trigger
	# on, the business it made gone (bench_10k is kept between runs)
	wh_rc=0 wh_running=1
	CALENDENCE_URL=http://127.0.0.1:$port_small WEBHOOKS_SENDER=$wh_sender \
	    WEBHOOKS_CONFIG=$work/calendence-w.conf WEBHOOKS_LOG=$work/webhooks/sender.log \
	    "$wh_bench" >"$work/case-w.json" 2>"$work/case-w.err" || wh_rc=$?
	q bench_10k "ALTER TABLE calendence.reservations ENABLE TRIGGER reservations_booking_event"
	q bench_10k "DELETE FROM calendence.hubs WHERE name = 'Bench webhooks hub'"
	wh_running=
	if [ "$wh_rc" -ne 0 ] || ! jq -e .webhooks "$work/case-w.json" >/dev/null 2>&1; then
		echo "bench: tests/bench/webhooks failed ($wh_rc):" >&2
		tail -n 20 "$work/case-w.err" >&2
		exit 1
	fi
	jq -c . "$work/case-w.json" >>"$work/cases.jsonl"
	lighttpd_stop "$c"
fi

sizes=$(q bench_1m "SELECT json_build_object('api_keys', (SELECT count(*) FROM calendence.api_keys),
    'sessions', (SELECT count(*) FROM calendence.sessions WHERE expires_at > now()),
    'rate_windows', (SELECT count(*) FROM calendence.rate_windows),
    'businesses', (SELECT count(*) FROM calendence.businesses))")
sizes_small=$(q bench_10k "SELECT json_build_object('api_keys', (SELECT count(*) FROM calendence.api_keys),
    'sessions', (SELECT count(*) FROM calendence.sessions WHERE expires_at > now()),
    'rate_windows', (SELECT count(*) FROM calendence.rate_windows),
    'businesses', (SELECT count(*) FROM calendence.businesses))")
pg_settings=$(q postgres "SELECT json_object_agg(name, setting) FROM pg_settings WHERE name IN
    ('shared_buffers', 'fsync', 'synchronous_commit', 'max_connections', 'server_version')")

# --- the report ----------------------------------------------------------------

jq -n \
    --arg started "$started" --arg load "$load_before" \
    --arg load_after "$(cut -d' ' -f1-3 /proc/loadavg)" \
    --arg cpu "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" \
    --argjson cores "$(nproc)" --arg kernel "$(uname -r)" \
    --arg commit "$(git rev-parse --short HEAD 2>/dev/null || echo -)" \
    --arg dirty "$(git status --porcelain --untracked-files=no 2>/dev/null | wc -l)" \
    --arg wrk "$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)" \
    --arg lighttpd "$(lighttpd -v | cut -d' ' -f1)" \
    --argjson pg "$pg_settings" --argjson workers "$workers" --argjson threads "$threads" \
    --argjson conns "$conns" --argjson secs "$secs" --argjson warm "$warm" \
    --argjson rss_small "$rss_small" --argjson rss_big "$rss_big" \
    --argjson rss_avail "$rss_avail" \
    --argjson sizes "$sizes" --argjson sizes_small "$sizes_small" '
    { bench: "calendence make bench", started: $started,
      machine: { cpu: $cpu, cores: $cores, kernel: $kernel, load_before: $load,
		 load_after: $load_after },
      software: { commit: $commit, modified_tracked_files: ($dirty | tonumber),
		  wrk: $wrk, lighttpd: $lighttpd, postgresql: $pg },
      settings: { workers: $workers, wrk_threads: $threads, wrk_connections: $conns,
		  seconds: $secs, warmup_seconds: $warm, auth_fail_limit: 20,
		  log_level: "info", maintenance_interval: 0 },
      data: { small: $sizes_small, big: $sizes },
      worker_memory: { after_a_to_e: $rss_small, after_f: $rss_big,
		       after_g: $rss_avail } }' >"$work/meta.json"
report
