#!/usr/bin/env bash
# serve.sh: `make run`: PostgreSQL, migrations, the demo, and a web server with
# the workers on 127.0.0.1:$PORT, until interrupted (Ctrl-C stops everything).
# SERVER picks the web server, each set up from its conf/ example:
#   lighttpd      lighttpd spawns the workers (the default)
#   apache-fcgid  Apache with mod_fcgid spawns the workers
#   apache-proxy  Apache with mod_proxy_fcgi before our own pool
#   nginx         nginx before our own pool
# WORKERS is the number of workers: by default what `make bench` found best
# on this machine (run/workers-best), else two per core (what it found on
# the project's 2-core machine), 2 to 8.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$top"

port=${PORT:-8080}
pg_port=${RUN_PG_PORT:-54329}
server=${SERVER:-lighttpd}
run=$top/run
app=$top/fcgi/calendence.fcgi
read -r workers why < <(run_workers "$run") || exit 2
case $server in
lighttpd | apache-fcgid | apache-proxy | nginx) ;;
*)
	echo "serve.sh: SERVER=$server is not supported (lighttpd, apache-fcgid," \
		"apache-proxy, nginx)" >&2
	exit 2
	;;
esac
mkdir -p "$run"
pgdir=$(pg_dir "$run")
# Apache and nginx serve as www-data (when started as root): what they open
# must be reachable by that user (a checkout under /root is not)
state=$run
if [ "$server" != lighttpd ]; then
	state=$(open_dir "$run" "$server" "$(web_user)")
	mkdir -p "$state"
	chmod 755 "$state"
fi
front=

cleanup() {
	trap - INT TERM EXIT
	echo
	echo "stopping $server and PostgreSQL ..."
	case $server in
	lighttpd) lighttpd_stop "$run/lighttpd.conf" ;;
	*) [ -z "$front" ] || proc_stop "$front.pid" ;;
	esac
	proc_stop "$state/pool.pid"
	proc_stop "$run/webhooks.pid"
	lighttpd_stop "$run/site/lighttpd.conf"
	"$top/tests/pgctl.sh" stop "$pgdir"
}
trap cleanup INT TERM EXIT

pg_up "$pgdir" "$pg_port" calendence
[ -f "$run/calendence.conf" ] || cat >"$run/calendence.conf" <<CONF
# settings of the demo worker pool; see conf/calendence.conf for all of them
log_level = info
CONF
# pagination links start with this server's own URL (without public_url
# they are relative, never built from the Host header); set on every run,
# as PORT may differ from the last one
sed -i '/^public_url[[:space:]]*=/d' "$run/calendence.conf"
echo "public_url = http://127.0.0.1:$port" >>"$run/calendence.conf"
# webhooks (SPEC 11): the key that seals their secrets, made once; this is
# a machine of one's own, so webhooks may go to http:// receivers on it
if [ ! -s "$run/webhook.key" ]; then
	(umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$run/webhook.key")
fi
sed -i '/^webhook_\(key_file\|allow_http\|allow_private\)[[:space:]]*=/d' \
	"$run/calendence.conf"
cat >>"$run/calendence.conf" <<CONF
webhook_key_file = $run/webhook.key
webhook_allow_http = yes
webhook_allow_private = yes
CONF
keys=$("$top/admin/calendence-admin" demo --dir "$top/sql")
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

# the demo business's web site (widget/demo/, docs/widget.md): index.html,
# one widget, at / of this server (lighttpd) and of the site's own origin
# (PORT+1, lighttpd serving files), where two.html has two widgets; the demo
# publishable key is allowed on both origins, and only there
site_port=$((port + 1))
site=$run/site
mkdir -p "$site"
biz=$(sed -n 's/^DEMO_BUSINESS_ID=//p' <<<"$keys")
pubid=$(psql -XAtq -v b="$biz" <<<"SELECT id FROM calendence.api_keys WHERE business_id = :'b'
    AND kind = 'publishable' AND label = 'demo' AND revoked_at IS NULL")
"$top/admin/calendence-admin" set-origins "$pubid" "http://127.0.0.1:$port" \
	"http://localhost:$port" "http://127.0.0.1:$site_port" "http://localhost:$site_port" >/dev/null
svc() {
	psql -XAtq -v b="$biz" -v n="$1" <<<"SELECT id FROM calendence.services
	    WHERE business_id = :'b' AND name = :'n' AND is_active LIMIT 1"
}
for page in index two; do
	sed -e "s|{{API}}|http://127.0.0.1:$port|g" -e "s|{{SLUG}}|demo-auto-detail|g" \
	    -e "s|{{KEY}}|$(sed -n 's/^DEMO_PUB_KEY=//p' <<<"$keys")|g" \
	    -e "s|{{SERVICE1}}|$(svc 'Express Wash')|g" -e "s|{{SERVICE2}}|$(svc 'Interior Detail')|g" \
	    -e "s|{{OTHER_LINK}}|<a href=\"http://127.0.0.1:$site_port/two.html\">Two widgets on another origin</a>|" \
	    "$top/widget/demo/$page.html" >"$site/$page.html"
done
# lighttpd (SERVER=lighttpd) serves the demo page at / too: lighttpd_conf
# appends LIGHTTPD_EXTRA to the configuration it writes
LIGHTTPD_EXTRA=$site/api-root.conf
cat >"$LIGHTTPD_EXTRA" <<CONF
# make run: the demo page at / (the business's web site, tests/serve.sh)
mimetype.assign += ( ".html" => "text/html; charset=utf-8" )
\$HTTP["url"] == "/" {
	alias.url = ( "/" => "$site/index.html" )
	fastcgi.server = ()
}
CONF
cat >"$site/lighttpd.conf" <<CONF
var.port = $site_port
server.bind = "127.0.0.1"
server.port = var.port
server.document-root = "$site"
server.errorlog = "$site/lighttpd-error.log"
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html; charset=utf-8" )
CONF

# Every server in a process group of its own (job control): Ctrl-C reaches
# this script alone, which stops them in order (lighttpd would otherwise
# restart the workers the SIGINT killed, on its way out).
set -m

# start_pool: our own pool of $workers workers on a socket the web server's group may use
start_pool() {
	sock_dir "$state/sock"
	pool_start "$state/pool.pid" "$app" "$state/sock/calendence.sock" "$workers" \
		"$run/calendence.conf" "$state/pool.log"
}

case $server in
lighttpd)
	lighttpd_conf "$run/lighttpd.conf" "$port" "$app" "$run/calendence.conf" "$run" \
		"$workers"
	lighttpd_start "$run/lighttpd.conf"
	what="lighttpd, $workers workers ($why)"
	# the workers' lines: server.breakagelog of conf/lighttpd.conf, state_dir
	# + "/workers.log" (tests/run.sh, check::worker_log_file)
	logs="run/workers.log (the workers), run/lighttpd-error.log (lighttpd)"
	;;
apache-fcgid)
	# the workers run as www-data: their settings and binary where it may
	# read them, and the database over TCP (its socket directory is closed)
	install -m 0640 -g "$(web_group)" "$run/webhook.key" "$state/webhook.key"
	sed "s|^webhook_key_file = .*|webhook_key_file = $state/webhook.key|" \
		"$run/calendence.conf" >"$state/calendence.conf"
	bin=$app
	if ! user_reaches "$(web_user)" "$app"; then
		cp "$app" "$state/calendence.fcgi"
		bin=$state/calendence.fcgi
	fi
	front=$state/apache.conf
	apache_conf "$top/conf/apache-fcgid.conf" "$front" PORT="$port" APP="$bin" \
		CONFIG="$state/calendence.conf" STATE_DIR="$state" WORKERS="$workers" \
		USER="$(web_user)" GROUP="$(web_group)" PGHOST=127.0.0.1 PGPORT="$PGPORT" \
		PGDATABASE="$PGDATABASE" PGUSER="$PGUSER"
	apache_start "$front"
	what="Apache with mod_fcgid, up to $workers workers ($why)"
	logs="$state/apache-error.log"
	;;
apache-proxy)
	start_pool
	front=$state/apache.conf
	apache_conf "$top/conf/apache-proxy-fcgi.conf" "$front" PORT="$port" \
		SOCKET="$state/sock/calendence.sock" STATE_DIR="$state" \
		USER="$(web_user)" GROUP="$(web_group)"
	apache_start "$front"
	what="Apache with mod_proxy_fcgi, our pool of $workers workers ($why)"
	logs="$state/pool.log, $state/apache-error.log"
	;;
nginx)
	start_pool
	front=$state/nginx.conf
	nginx_conf "$front" "$port" "$state/sock/calendence.sock" "$state" "$(web_user)"
	nginx_start "$front"
	what="nginx, our pool of $workers workers ($why)"
	logs="$state/pool.log, $state/nginx-error.log"
	;;
esac
pidfile=${front:-$run/lighttpd.conf}.pid
lighttpd_start "$site/lighttpd.conf"
# the webhook sender, beside the web server, on the same settings
"$top/webhooks/calendence-webhooks" --config "$run/calendence.conf" \
	2>>"$run/webhooks.log" &
echo $! >"$run/webhooks.pid"

cat <<MSG

Calendence API is serving http://127.0.0.1:$port/api/v1 ($what)
The booking widget on the demo business's site: $( [ "$server" = lighttpd ] &&
	echo "http://127.0.0.1:$port/ and ")http://127.0.0.1:$site_port/
(two widgets on another origin: http://127.0.0.1:$site_port/two.html)
Demo keys and connection settings, also in run/demo.env:

$(sed 's/^/  /' "$run/demo.env")

Try:
  set -a; . run/demo.env; set +a
  curl -s -H "Authorization: Bearer \$DEMO_BIZ_KEY" \$CALENDENCE_URL/api/v1/services
  psql        # the DBA's console, with the settings above

Webhooks: the sender runs (run/webhooks.log); register a receiver with
  curl -s -H "Authorization: Bearer \$DEMO_BIZ_KEY" -H 'Content-Type: application/json' \\
    -d '{"url": "http://127.0.0.1:9999/hook", "events": ["booking.created"]}' \\
    \$CALENDENCE_URL/api/v1/webhooks
  (docs/webhooks.md: what arrives and how to check its signature)

Logs: $logs. Press Ctrl-C to stop.
MSG
wait "$(cat "$pidfile")" || true
