#!/usr/bin/env bash
# valgrind.sh: the release worker under valgrind's memcheck, behind a real
# lighttpd (bin-path, one worker), through an end-to-end pass of the e2e
# suite; then lighttpd is stopped, the worker exits normally on SIGTERM and
# valgrind writes its leak summary. Two passes, each with a fresh worker: the
# selection once, and VALGRIND_REPEAT (2) copies of it at once. Fails on:
#   - any memcheck error (ERROR SUMMARY > 0) in either pass,
#   - any byte "definitely lost" or "indirectly lost",
#   - "possibly lost" or "still reachable" at exit growing with the number
#     of requests (the long pass must end with the same bytes as the short
#     one: what is left at exit is one-time library state, not per request),
#   - a pass whose worker did not answer the requests or did not exit.
# Suppressions (tests/valgrind.supp) cover only one-time library noise.
#
# Usage: tests/valgrind.sh   (from tests/run.sh, or by hand)
# Needs a running PostgreSQL with the schema (PG* exported), the release
# worker (APP, default fcgi/calendence.fcgi) and the e2e binary
# (BUILD_DIR/tests/e2e). Files under VALGRIND_WORK (default
# BUILD/valgrind); lighttpd on VALGRIND_PORT (default 18090).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$top"

build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
work=${VALGRIND_WORK:-$build/valgrind}
port=${VALGRIND_PORT:-18090}
app=${APP:-$top/fcgi/calendence.fcgi}
case $app in /*) ;; *) app=$top/$app ;; esac
e2e=$build/tests/e2e
repeat=${VALGRIND_REPEAT:-2}
# what one pass runs: every handler (services, businesses, session,
# bookings), errors of every kind (401, 403, 404, 405, 413, 415, 429), CORS
filter=${VALGRIND_FILTER:-@(servers|session|booking|http|services|businesses)/*}

need_pg valgrind.sh
need_built valgrind.sh "$app" "$e2e"
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 2; }

rm -rf "$work"
mkdir -p "$work"
chmod 755 "$work"

cleanup() {
	local f
	for f in "$work"/*/lighttpd.conf.pid; do
		[ -f "$f" ] && proc_stop "$f"
	done
}
trap cleanup EXIT

cat >"$work/calendence.conf" <<CONF
# the end-to-end tests claim client addresses in X-Forwarded-For
trusted_proxies = 127.0.0.1
log_level = info
auth_fail_limit = 20
CONF

# pass NAME TIMES: a fresh lighttpd and worker, the selection TIMES times,
# then a graceful stop; the worker's valgrind log is NAME/vg.PID.log
pass() {
	local name=$1 times=$2 dir=$work/$1 i rc=0 pid kids clients=()
	mkdir -p "$dir"
	chmod 755 "$dir"
	# lighttpd runs bin-path with the listening socket as fd 0; valgrind
	# keeps it, and the worker is valgrind's process (exec)
	cat >"$dir/worker.sh" <<SH
#!/bin/sh
exec valgrind --leak-check=full --show-leak-kinds=all \\
	--errors-for-leak-kinds=definite,indirect --num-callers=30 \\
	--suppressions="$top/tests/valgrind.supp" \\
	--log-file="$dir/vg.%p.log" "$app"
SH
	chmod 755 "$dir/worker.sh"
	lighttpd_conf "$dir/lighttpd.conf" "$port" "$dir/worker.sh" \
		"$work/calendence.conf" "$dir" 1
	LIGHTTPD_LOG=$dir/workers.log lighttpd_start "$dir/lighttpd.conf" || return 1
	# the port answers: make sure it is this lighttpd and its worker
	for ((i = 0; i < 100; i++)); do
		grep -q 'worker started' "$dir/workers.log" 2>/dev/null && break
		sleep 0.1
	done
	if ! kill -0 "$(cat "$dir/lighttpd.conf.pid")" 2>/dev/null ||
	    ! grep -q 'worker started' "$dir/workers.log"; then
		echo "$name: lighttpd or its worker did not start:"
		tail -n 20 "$dir/workers.log" "$dir/lighttpd-error.log" 2>/dev/null
		return 1
	fi
	# TIMES copies of the selection at once (its tests run in parallel in
	# the e2e suite anyway: each process has its own fixtures and address)
	for ((i = 1; i <= times; i++)); do
		CALENDENCE_URL=http://127.0.0.1:$port "$e2e" -j2 --filter "$filter" \
			>"$dir/e2e.$i.out" 2>&1 &
		clients+=($!)
	done
	for pid in "${clients[@]}"; do
		wait "$pid" || rc=1
	done
	cat "$dir"/e2e.*.out >"$dir/e2e.out"
	grep -a 'Synthesis:' "$dir/e2e.out" | sed "s/^/$name: /"
	# lighttpd sends its workers SIGTERM when it stops; wait for them, as
	# valgrind writes the leak summary at exit
	kids=$(ps -o pid= --ppid "$(cat "$dir/lighttpd.conf.pid")" 2>/dev/null)
	proc_stop "$dir/lighttpd.conf.pid" 30
	for pid in $kids; do
		for ((i = 0; i < 300; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "$name: worker $pid did not exit on SIGTERM"
			kill -KILL "$pid" 2>/dev/null
			rc=1
		fi
	done
	[ "$rc" -eq 0 ] || { echo "$name: the e2e selection failed:"; grep -a -B2 -A8 '\[FAIL\]\|\[----\]' "$dir/e2e.out" | head -n 40; }
	return "$rc"
}

# bytes KIND LOG: the bytes of a leak summary line ("definitely lost" ...)
bytes() {
	sed -n "s/.*$1: \([0-9,]*\) bytes.*/\1/p" "$2" | tr -d , | tail -n 1
}

# verdict NAME: the pass's logs hold one finished worker, clean; prints the
# numbers as NAME requests definite indirect possible reachable
verdict() {
	local name=$1 dir=$work/$1 logs log errs ok=0 n d ind p r
	logs=("$dir"/vg.*.log)
	[ -f "${logs[0]}" ] || { echo "$name: no valgrind log"; return 1; }
	n=$(grep -caE ' req_[0-9A-Za-z]{16} ' "$dir/workers.log")
	for log in "${logs[@]}"; do
		errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
		if [ -z "$errs" ]; then
			echo "$name: $log has no ERROR SUMMARY (the worker did not exit normally)"
			ok=1
			continue
		fi
		d=$(bytes "definitely lost" "$log"); ind=$(bytes "indirectly lost" "$log")
		p=$(bytes "possibly lost" "$log"); r=$(bytes "still reachable" "$log")
		echo "$name: $(basename "$log"): $n requests, errors $errs, definitely lost ${d:-0}," \
			"indirectly lost ${ind:-0}, possibly lost ${p:-0}, still reachable ${r:-0}"
		if [ "$errs" -ne 0 ] || [ "${d:-0}" -ne 0 ] || [ "${ind:-0}" -ne 0 ]; then
			echo "$name: memcheck found errors or leaks:"
			# each error or lost block with its stack, up to the blank line
			awk '/^==[0-9]+== (Invalid|Conditional|Use of uninit|Mismatched|Syscall param|Source and destination)|are (definitely|indirectly) lost/ { p = 1 }
			    p { print } /^==[0-9]+== $/ { p = 0 }' "$log" | head -n 80
			ok=1
		fi
		echo "$name ${p:-0} ${r:-0} $n" >>"$work/summary"
	done
	[ "${#logs[@]}" -eq 1 ] || { echo "$name: ${#logs[@]} workers ran, expected 1"; ok=1; }
	[ "$n" -gt 0 ] || { echo "$name: the worker logged no requests"; ok=1; }
	return "$ok"
}

fail=0
pass once 1 || fail=1
verdict once || fail=1
pass many "$repeat" || fail=1
verdict many || fail=1
# what is left at exit does not grow with the requests served
read -r _ p1 r1 n1 < <(grep '^once ' "$work/summary" 2>/dev/null) || true
read -r _ p2 r2 n2 < <(grep '^many ' "$work/summary" 2>/dev/null) || true
if [ -n "${n1:-}" ] && [ -n "${n2:-}" ]; then
	echo "left at exit after $n1 and $n2 requests: possibly lost $p1 and $p2," \
		"still reachable $r1 and $r2 bytes"
	if [ "$n2" -lt $((n1 * repeat * 9 / 10)) ]; then
		echo "the long pass served too few requests"; fail=1
	fi
	if [ "$p2" -gt "$p1" ] || [ "$r2" -gt "$r1" ]; then
		echo "memory left at exit grows with the number of requests"; fail=1
	fi
else
	fail=1
fi
exit "$fail"
