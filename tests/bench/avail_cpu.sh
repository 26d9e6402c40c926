#!/usr/bin/env bash
# avail_cpu.sh: the CPU time of one availability() call in its PostgreSQL
# backend, and of the free_slots() inside it, for row (g) of `make bench`
# (issue 15); steadier than requests per second on a shared machine, since
# the time other processes take is not counted.
#   tests/bench/avail_cpu.sh [ROUNDS [CALLS [SQL_FILE...]]]
# Uses the bench cluster (run/bench-pg, port BENCH_PG_PORT or 55990) and the
# (g) business that the last `make bench` with row g left in bench_10k. Each
# round measures every SQL_FILE in turn (each one loaded first: a version of
# sql/functions/50_availability.sql, e.g. `git show main:sql/functions/...`),
# or the functions as they are when none is given; the file of the tree is
# loaded again at the end. Prints, per version, the backend's user + system
# time per call (from /proc, CALLS calls a round: 100 by default, 1 ms of
# resolution over 100 calls is 0.01 ms a call), one figure a round.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$top"

rounds=${1:-3}
calls=${2:-100}
shift $(($# < 2 ? $# : 2))
export PGHOST=$top/run/bench-pg PGPORT=${BENCH_PG_PORT:-55990} PGUSER=postgres PGDATABASE=bench_10k
psql -XAtqc "SELECT 1" >/dev/null || { echo "avail_cpu.sh: no bench cluster on $PGPORT (make bench first)" >&2; exit 2; }

# the range of (g): the Monday of its first booking's week, 14 days
IFS='|' read -r biz svc d0 d13 < <(psql -XAtq -c "
	SELECT s.business_id, s.id, to_char(m, 'YYYY-MM-DD'), to_char(m + 13, 'YYYY-MM-DD')
	  FROM calendence.services s
	  JOIN calendence.businesses b ON b.id = s.business_id
	  JOIN calendence.hubs h ON h.id = b.hub_id,
	       LATERAL (SELECT (min(r.starts_at) AT TIME ZONE b.timezone)::date AS d
			  FROM calendence.reservations r WHERE r.business_id = b.id) x,
	       LATERAL (SELECT x.d - (extract(isodow FROM x.d)::integer - 1) AS m) y
	 WHERE h.name = 'Bench availability hub' AND s.name = 'Bench wash' AND x.d IS NOT NULL")
[ -n "${d0:-}" ] || { echo "avail_cpu.sh: no (g) business in bench_10k (make bench BENCH_ONLY=g)" >&2; exit 2; }

avail="SELECT * FROM calendence.availability('$biz', '$svc', '$d0', '$d13')"
free="SELECT count(*) FROM calendence.free_slots('$biz', '$svc',
	'$d0'::date::timestamp AT TIME ZONE 'America/Chicago',
	('$d13'::date + 1)::timestamp AT TIME ZONE 'America/Chicago')"

# cpu_per_call STATEMENT: ms of the backend's CPU a call, CALLS calls after 3 to warm up
cpu_per_call() {
	local in
	in=$(mktemp)
	{
		echo "SELECT pg_backend_pid() AS pid \\gset"
		echo "\\setenv PID :pid"
		for _ in 1 2 3; do echo "$1 \\g /dev/null"; done
		echo "\\! awk '{ print \$14 + \$15 }' /proc/\$PID/stat >$in.t0"
		for ((i = 0; i < calls; i++)); do echo "$1 \\g /dev/null"; done
		echo "\\! awk -v n=$calls -v hz=$(getconf CLK_TCK) '{ getline t0 <\"$in.t0\"; printf \"%.2f\", (\$14 + \$15 - t0) * 1000 / hz / n }' /proc/\$PID/stat"
	} >"$in"
	psql -XAtq -f "$in"
	rm -f "$in" "$in.t0"
}

# (the backend's /proc/PID/stat: readable by root or the postgres user)
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(-)
declare -A out
for ((r = 1; r <= rounds; r++)); do
	for v in "${versions[@]}"; do
		[ "$v" = - ] || psql -XAtq -v ON_ERROR_STOP=1 -f "$v" >/dev/null
		out[$v]="${out[$v]:-} $(cpu_per_call "$avail")/$(cpu_per_call "$free")"
	done
done
[ "${versions[0]}" = - ] || psql -XAtq -v ON_ERROR_STOP=1 -f sql/functions/50_availability.sql >/dev/null
echo "availability()/free_slots(), ms of backend CPU a call, $calls calls a round ($biz, $d0..$d13):"
for v in "${versions[@]}"; do
	echo "  ${v/#-/(as installed)}:${out[$v]}"
done
