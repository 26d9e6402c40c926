#!/usr/bin/env bash
# serve.sh: `make run`: PostgreSQL, migrations, the demo, and lighttpd with the
# worker pool on 127.0.0.1:$PORT, until interrupted (Ctrl-C stops everything).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$top"

port=${PORT:-8080}
pg_port=${RUN_PG_PORT:-54329}
server=${SERVER:-lighttpd}
run=$top/run
if [ "$server" != lighttpd ]; then
	echo "serve.sh: SERVER=$server is not supported yet (lighttpd is)" >&2
	exit 2
fi
mkdir -p "$run"
pgdir=$(pg_dir "$run")

cleanup() {
	trap - INT TERM EXIT
	echo
	echo "stopping lighttpd and PostgreSQL ..."
	lighttpd_stop "$run/lighttpd.conf"
	"$top/tests/pgctl.sh" stop "$pgdir"
}
trap cleanup INT TERM EXIT

pg_up "$pgdir" "$pg_port" calendence
[ -f "$run/calendence.conf" ] || cat >"$run/calendence.conf" <<CONF
# settings of the demo worker pool; see conf/calendence.conf for all of them
log_level = info
CONF
keys=$("$top/fcgi/calendence-admin" demo)
umask 077
{
	echo "CALENDENCE_URL=http://127.0.0.1:$port"
	echo "PGHOST=$PGHOST"
	echo "PGPORT=$PGPORT"
	echo "PGDATABASE=$PGDATABASE"
	echo "PGUSER=$PGUSER"
	echo "$keys"
} >"$run/demo.env"
umask 022
lighttpd_conf "$run/lighttpd.conf" "$port" "$top/fcgi/calendence.fcgi" \
	"$run/calendence.conf" "$run" 2
lighttpd_start "$run/lighttpd.conf"

cat <<MSG

Calendence API is serving http://127.0.0.1:$port/api/v1 (lighttpd, 2 workers)
Demo keys and connection settings, also in run/demo.env:

$(sed 's/^/  /' "$run/demo.env")

Try:
  set -a; . run/demo.env; set +a
  curl -s -H "Authorization: Bearer \$DEMO_BIZ_KEY" \$CALENDENCE_URL/api/v1/services
  psql        # the DBA's console, with the settings above

Logs: run/lighttpd-error.log. Press Ctrl-C to stop.
MSG
wait "$(cat "$run/lighttpd.conf.pid")" || true
