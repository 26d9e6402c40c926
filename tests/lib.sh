# lib.sh: shared steps of `make run` and `make check` (sourced, not run).
# Starts and stops the private PostgreSQL cluster and lighttpd from conf/.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# pg_up DIR PORT DBNAME: a running cluster with the schema migrated; exports PG*
pg_up() {
	local dir=$1 port=$2 db=$3
	"$top/tests/pgctl.sh" start "$dir" "$port"
	export PGHOST=$(cd "$dir" && pwd) PGPORT=$port PGUSER=postgres PGDATABASE=$db
	if ! psql -X -qAt -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
		createdb "$db"
	fi
	"${ADMIN:-$top/fcgi/calendence-admin}" migrate --dir "$top/sql" >/dev/null
}

# lighttpd_conf OUT PORT APP APP_CONFIG STATE_DIR WORKERS: conf/lighttpd.conf
# with its var.* lines changed, as a user would
lighttpd_conf() {
	local out=$1 port=$2 app=$3 appconf=$4 state=$5 workers=$6
	sed -e "s|^var.port .*|var.port       = $port|" \
	    -e "s|^var.app .*|var.app        = \"$app\"|" \
	    -e "s|^var.app_config .*|var.app_config = \"$appconf\"|" \
	    -e "s|^var.state_dir .*|var.state_dir  = \"$state\"|" \
	    -e "s|^var.workers .*|var.workers    = $workers|" \
	    "$top/conf/lighttpd.conf" >"$out"
}

# lighttpd_start CONF: starts lighttpd in the background, waits for its port
lighttpd_start() {
	local conf=$1 port
	port=$(sed -n 's/^var.port *= *//p' "$conf")
	lighttpd -tt -f "$conf" >/dev/null
	lighttpd -D -f "$conf" &
	echo $! >"$conf.pid"
	for _ in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "lighttpd did not start on port $port" >&2
	return 1
}

# lighttpd_stop CONF
lighttpd_stop() {
	local pidf=$1.pid
	if [ -f "$pidf" ]; then
		kill "$(cat "$pidf")" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$(cat "$pidf")" 2>/dev/null || break
			sleep 0.1
		done
		rm -f "$pidf"
	fi
}

# pg_dir BASE: BASE/pg when the cluster's owner can reach it, else a private
# directory under /tmp (a checkout under /root is closed to 'postgres')
pg_dir() {
	local base=$1
	mkdir -p "$base"
	if [ "$(id -u)" -ne 0 ] || runuser -u postgres -- test -x "$base" 2>/dev/null; then
		echo "$base/pg"
	else
		echo "/tmp/calendence-$(echo "$base" | md5sum | cut -c1-12)/pg"
	fi
}
