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
	"${ADMIN:-$top/admin/calendence-admin}" migrate --dir "$top/sql" >/dev/null
}

# need_pg WHO: exits 2 unless PG* name a running PostgreSQL (scripts run by hand)
need_pg() {
	local v
	for v in PGHOST PGPORT PGDATABASE PGUSER; do
		if [ -z "${!v:-}" ]; then
			echo "$1: $v is not set (a running PostgreSQL is needed)" >&2
			exit 2
		fi
	done
}

# need_built WHO FILE...: exits 2 unless every FILE is built
need_built() {
	local who=$1 f
	shift
	for f in "$@"; do
		[ -x "$f" ] || { echo "$who: $f is missing (make check-build)" >&2; exit 2; }
	done
}

# lighttpd_conf OUT PORT APP APP_CONFIG STATE_DIR WORKERS: conf/lighttpd.conf
# with its var.* lines changed, as a user would (the widget from the checkout)
lighttpd_conf() {
	local out=$1 port=$2 app=$3 appconf=$4 state=$5 workers=$6
	sed -e "s|^var.port .*|var.port       = $port|" \
	    -e "s|^var.app .*|var.app        = \"$app\"|" \
	    -e "s|^var.app_config .*|var.app_config = \"$appconf\"|" \
	    -e "s|^var.state_dir .*|var.state_dir  = \"$state\"|" \
	    -e "s|^var.workers .*|var.workers    = $workers|" \
	    -e "s|^var.widget_dir .*|var.widget_dir = \"$top/widget\"|" \
	    "$top/conf/lighttpd.conf" >"$out"
	# a client that stops sending its request is cut off after 5 s, not
	# lighttpd's default 60 (e2e_hostile.c's slow client measures it)
	echo "server.max-read-idle = 5" >>"$out"
	# more lines of the caller's (make run's demo page), when it names a file
	if [ -n "${LIGHTTPD_EXTRA:-}" ]; then cat "$LIGHTTPD_EXTRA" >>"$out"; fi
}

# lighttpd_start CONF: starts lighttpd in the background, waits for its port
lighttpd_start() {
	local conf=$1 port
	port=$(sed -n 's/^var.port *= *//p' "$conf")
	lighttpd -tt -f "$conf" >/dev/null
	# the workers' stderr (their log lines) goes where lighttpd's stderr goes:
	# LIGHTTPD_LOG, when set, else the terminal
	if [ -n "${LIGHTTPD_LOG:-}" ]; then
		lighttpd -D -f "$conf" 2>>"$LIGHTTPD_LOG" &
	else
		lighttpd -D -f "$conf" &
	fi
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

# --- more web servers, the application's own pool, PgBouncer -------------------
# (tests/servers.sh and `make run SERVER=...`; every *_start writes FILE.pid
# next to its configuration FILE, and every *_stop takes the same FILE)

# sbin NAME: the path of a server program (/usr/sbin is not on every PATH)
sbin() {
	command -v "$1" 2>/dev/null || echo "/usr/sbin/$1"
}

# web_user: the user the web servers' workers run as: www-data when run as
# root (Apache and nginx give up root), else the current user
web_user() {
	if [ "$(id -u)" -eq 0 ]; then echo www-data; else id -un; fi
}

# web_group: the primary group of web_user
web_group() {
	id -gn "$(web_user)"
}

# user_reaches USER PATH: true when USER may enter the directory or run the
# program PATH (always, unless we are root)
user_reaches() {
	[ "$(id -u)" -ne 0 ] || [ "$1" = root ] || runuser -u "$1" -- test -x "$2" 2>/dev/null
}

# open_dir BASE NAME USER...: BASE/NAME when every USER can reach BASE, else
# a directory under /tmp named after BASE (a checkout under /root is closed
# to www-data and postgres); prints the path, creates nothing
open_dir() {
	local base=$1 name=$2 u
	shift 2
	mkdir -p "$base"
	for u in "$@"; do
		if ! user_reaches "$u" "$base"; then
			echo "/tmp/calendence-$(cd "$base" && pwd | md5sum | cut -c1-12)/$name"
			return
		fi
	done
	echo "$(cd "$base" && pwd)/$name"
}

# proc_tree PID: PID and all its descendants, one per line
proc_tree() {
	local p
	echo "$1"
	for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		proc_tree "$p"
	done
}

# any_alive PID...: true while one of them runs
any_alive() {
	local p
	for p in "$@"; do
		kill -0 "$p" 2>/dev/null && return 0
	done
	return 1
}

# proc_stop PIDFILE [SECONDS]: SIGTERM to the process named in PIDFILE, then
# waits (10 s) for it and everything it started; SIGKILL for what is left.
# Removes PIDFILE.
proc_stop() {
	local pidf=$1 secs=${2:-10} pid tree p i
	[ -f "$pidf" ] || return 0
	pid=$(cat "$pidf")
	tree=$(proc_tree "$pid")
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < secs * 10; i++)); do
		any_alive $tree || break
		sleep 0.1
	done
	for p in $tree; do
		kill -KILL "$p" 2>/dev/null && echo "proc_stop: killed leftover process $p" >&2
	done
	rm -f "$pidf"
}

# port_wait PORT PIDFILE WHAT: waits (10 s) until 127.0.0.1:PORT accepts;
# fails early when the process in PIDFILE is gone
port_wait() {
	local port=$1 pidf=$2 what=$3
	for _ in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$(cat "$pidf")" 2>/dev/null; then
			echo "$what exited before listening on port $port" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "$what did not start on port $port" >&2
	return 1
}

# sock_dir DIR: DIR for the pool's socket, its group the web servers' group
# with the set-group-id bit, so that the socket (mode 0660) belongs to them
sock_dir() {
	mkdir -p "$1"
	chmod 2750 "$1"
	chgrp "$(web_group)" "$1"
}

# pool_start PIDFILE APP LISTEN WORKERS CONFIG LOG: our own pool of workers in
# the background (stderr to LOG); waits until it listens
pool_start() {
	local pidf=$1 app=$2 listen=$3 workers=$4 conf=$5 log=$6
	"$app" --listen "$listen" --workers "$workers" --socket-mode 0660 \
		--config "$conf" </dev/null >>"$log" 2>&1 &
	echo $! >"$pidf"
	for _ in $(seq 1 100); do
		grep -q "listening on $listen" "$log" 2>/dev/null && return 0
		kill -0 "$(cat "$pidf")" 2>/dev/null || break
		sleep 0.1
	done
	echo "the pool did not start on $listen; its log:" >&2
	tail -n 20 "$log" >&2
	return 1
}

# lighttpd_pool_conf OUT PORT SOCKET STATE_DIR: conf/lighttpd-pool.conf with
# its var.* lines changed
lighttpd_pool_conf() {
	local out=$1 port=$2 sock=$3 state=$4
	sed -e "s|^var.port .*|var.port       = $port|" \
	    -e "s|^var.socket .*|var.socket     = \"$sock\"|" \
	    -e "s|^var.state_dir .*|var.state_dir  = \"$state\"|" \
	    -e "s|^var.widget_dir .*|var.widget_dir = \"$top/widget\"|" \
	    "$top/conf/lighttpd-pool.conf" >"$out"
}

# apache_conf SRC OUT NAME=VALUE...: an Apache example with its
# "Define CALENDENCE_NAME" lines changed; WIDGET_DIR, when not given, a copy
# of the widget's files next to OUT (which the web server's user reaches)
apache_conf() {
	local src=$1 out=$2 kv args=()
	shift 2
	if [[ " $* " != *" WIDGET_DIR="* ]]; then
		mkdir -p "$(dirname "$out")/widget"
		cp "$top/widget/calendence-widget.js" "$(dirname "$out")/widget/"
		set -- "$@" WIDGET_DIR="$(cd "$(dirname "$out")/widget" && pwd)"
	fi
	for kv in "$@"; do
		args+=(-e "s|^Define CALENDENCE_${kv%%=*} .*|Define CALENDENCE_${kv%%=*} ${kv#*=}|")
	done
	sed "${args[@]}" "$src" >"$out"
}

# apache_start CONF: Apache in the foreground, in the background (output to
# CONF.out); waits for its port
apache_start() {
	local conf=$1 port
	port=$(sed -n 's/^Define CALENDENCE_PORT *//p' "$conf")
	"$(sbin apache2)" -t -f "$conf" >"$conf.out" 2>&1 || { cat "$conf.out" >&2; return 1; }
	"$(sbin apache2)" -DFOREGROUND -f "$conf" </dev/null >>"$conf.out" 2>&1 &
	echo $! >"$conf.pid"
	port_wait "$port" "$conf.pid" apache2
}

# apache_stop CONF (SIGTERM: Apache stops its children, mod_fcgid its workers)
apache_stop() {
	proc_stop "$1.pid"
}

# nginx_conf OUT PORT SOCKET STATE_DIR USER: conf/nginx.conf with its port,
# socket, state directory and user replaced; the widget's files from a copy
# in STATE_DIR/widget (which the web server's user reaches)
nginx_conf() {
	local out=$1 port=$2 sock=$3 state=$4 user=$5
	mkdir -p "$state/widget"
	cp "$top/widget/calendence-widget.js" "$state/widget/"
	sed -e "s|127\.0\.0\.1:8080|127.0.0.1:$port|" \
	    -e "s|/usr/local/share/calendence/widget/|$state/widget/|" \
	    -e "s|/run/calendence/calendence\.sock|$sock|" \
	    -e "s|/var/lib/calendence|$state|g" \
	    -e "s|^user .*|user                $user;|" \
	    "$top/conf/nginx.conf" >"$out"
}

# nginx_start CONF: nginx in the foreground, in the background; waits for its port
nginx_start() {
	local conf=$1 port errlog
	port=$(sed -n 's/^[[:space:]]*listen 127\.0\.0\.1:\([0-9]*\);.*/\1/p' "$conf")
	errlog=$(sed -n 's/^error_log *\([^ ;]*\).*/\1/p' "$conf")
	"$(sbin nginx)" -t -e "$errlog" -c "$conf" >"$conf.out" 2>&1 || { cat "$conf.out" >&2; return 1; }
	"$(sbin nginx)" -e "$errlog" -c "$conf" -g 'daemon off;' </dev/null >>"$conf.out" 2>&1 &
	echo $! >"$conf.pid"
	port_wait "$port" "$conf.pid" nginx
}

nginx_stop() {
	proc_stop "$1.pid"
}

# pgbouncer_conf DIR PORT PGPORT DBNAME USER: DIR/pgbouncer.ini from
# conf/pgbouncer.ini (database DBNAME on PostgreSQL's 127.0.0.1:PGPORT) and
# DIR/pgbouncer-userlist.txt with USER, all owned by the user that runs it
pgbouncer_conf() {
	local dir=$1 port=$2 pgport=$3 db=$4 user=$5
	mkdir -p "$dir"
	sed -e "s|^calendence = .*|$db = host=127.0.0.1 port=$pgport dbname=$db|" \
	    -e "s|^listen_port = .*|listen_port = $port|" \
	    -e "s|/var/lib/calendence|$dir|g" \
	    "$top/conf/pgbouncer.ini" >"$dir/pgbouncer.ini"
	sed "s|\"calendence\"|\"$user\"|" "$top/conf/pgbouncer-userlist.txt" \
		>"$dir/pgbouncer-userlist.txt"
	[ "$(id -u)" -ne 0 ] || chown -R postgres: "$dir"
}

# pgbouncer_start DIR: PgBouncer as a daemon (as 'postgres' when root: it
# refuses root); waits for its port
pgbouncer_start() {
	local dir=$1 port
	port=$(sed -n 's/^listen_port = *//p' "$dir/pgbouncer.ini")
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$(sbin pgbouncer)" -d -q "$dir/pgbouncer.ini" || return 1
	else
		"$(sbin pgbouncer)" -d -q "$dir/pgbouncer.ini" || return 1
	fi
	for _ in $(seq 1 50); do
		[ -s "$dir/pgbouncer.pid" ] && break
		sleep 0.1
	done
	cp "$dir/pgbouncer.pid" "$dir/pgbouncer.ini.pid" 2>/dev/null
	port_wait "$port" "$dir/pgbouncer.ini.pid" pgbouncer
}

pgbouncer_stop() {
	proc_stop "$1/pgbouncer.ini.pid"
}

# run_workers RUN_DIR: the number of workers `make run` starts and why, on one
# line: WORKERS when set, else what `make bench` found best here
# (RUN_DIR/workers-best), else two per core (at most 8); 1 when it is no
# number from 2 to 99
run_workers() {
	local n why
	if [ -n "${WORKERS:-}" ]; then
		n=$WORKERS why="WORKERS"
	elif [ -s "$1/workers-best" ]; then
		n=$(cat "$1/workers-best") why="make bench, run/workers-best"
	else
		n=$(($(nproc) * 2)) why="two per core; make bench measures the best"
		[ "$n" -le 8 ] || n=8
	fi
	case $n in
	[2-9] | [1-9][0-9]) echo "$n $why" ;;
	*)
		echo "make run: $n workers ($why)? 2 to 99" >&2
		return 1
		;;
	esac
}
