#!/usr/bin/env bash
# pgctl.sh: a private PostgreSQL cluster for `make run` and the tests.
#   pgctl.sh start DIR PORT   create (if needed) and start a cluster in DIR
#   pgctl.sh stop DIR         stop it (fast shutdown)
#   pgctl.sh kill DIR         stop it and remove DIR
# PostgreSQL refuses to run as root: as root the cluster belongs to the
# 'postgres' user (created by Debian's postgresql package).
set -euo pipefail

cmd=${1:?usage: pgctl.sh start|stop|kill DIR [PORT]}
dir=${2:?data directory}
port=${3:-5432}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || { echo "pgctl.sh: PostgreSQL server not installed" >&2; exit 1; }

# glibc's malloc in the server: a backend keeps what it frees, up to 16 MiB,
# instead of handing it back to the kernel at the end of each statement and
# taking page faults for it again in the next (a 500 kB availability answer
# is copied some ten times on its way out: issue 15, docs/performance.md;
# operations.md says how to set it on a production server).
# PG_MALLOC_TUNABLES= (empty) starts the server without it.
malloc_tunables=${PG_MALLOC_TUNABLES-glibc.malloc.mmap_threshold=4194304:glibc.malloc.trim_threshold=16777216}
malloc_tunables=$malloc_tunables${GLIBC_TUNABLES:+${malloc_tunables:+:}$GLIBC_TUNABLES}

as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case "$cmd" in
start)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir"
		chmod 700 "$dir"
		if ! runuser -u postgres -- test -w "$dir"; then
			echo "pgctl.sh: user postgres cannot reach $dir (a parent directory is closed)" >&2
			exit 1
		fi
	fi
	if [ ! -f "$dir/PG_VERSION" ]; then
		as_owner "$bindir/initdb" -D "$dir" -U postgres --auth=trust \
			--encoding=UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 ||
			{ cat "$dir.initdb.log" >&2; exit 1; }
	fi
	# a stale pid file from a killed run must not stop a new start
	if [ -f "$dir/postmaster.pid" ] && ! as_owner "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
		rm -f "$dir/postmaster.pid"
	fi
	if ! as_owner "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
		as_owner env ${malloc_tunables:+GLIBC_TUNABLES=$malloc_tunables} \
			"$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
			-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" \
			start >/dev/null
	fi
	;;
stop)
	if [ -f "$dir/PG_VERSION" ]; then
		as_owner "$bindir/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
	fi
	;;
kill)
	if [ -f "$dir/PG_VERSION" ]; then
		as_owner "$bindir/pg_ctl" -D "$dir" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir" "$dir.initdb.log"
	;;
*)
	echo "usage: pgctl.sh start|stop|kill DIR [PORT]" >&2
	exit 2
	;;
esac
