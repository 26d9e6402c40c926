#!/usr/bin/env bash
# upgrade.sh: a database made by the 007-era migrations (v007/, frozen copies
# of sql/001_core.sql ... 007_time_hours.sql as they were at commit 34806a2,
# applied as the runner of that time did: each file in a transaction of its
# own, recorded in calendence.schema_migrations) is migrated with today's
# sql/, and must then equal a database made by today's sql/ alone: the same
# schema (pg_dump --schema-only, normalised), the same definition of every
# calendence function, the same answers to a few calls. Then the comparison
# itself is tested: a function left stale, or missing, must fail it.
#
# Uses the PostgreSQL of the PG* environment (tests/run.sh: pg_up) and
# $ADMIN (calendence-admin); makes and drops its own databases.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
admin=${ADMIN:-$top/admin/calendence-admin}
old=calendence_upgrade_old
new=calendence_upgrade_new
work=$(mktemp -d)
trap 'rm -rf "$work"; dropdb --if-exists "$old"; dropdb --if-exists "$new"' EXIT

q() {	# q DB SQL: rows, unaligned; stops at the first error
	PGOPTIONS='-c client_min_messages=warning' psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# v007 DB: the schema as the 007-era runner left it
v007() {
	local f
	q "$1" "CREATE SCHEMA calendence;
	    CREATE TABLE calendence.schema_migrations (version text PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())"
	for f in "$top"/tests/upgrade/v007/0*.sql; do
		PGOPTIONS='-c client_min_messages=warning' psql -X -q -1 -v ON_ERROR_STOP=1 \
			-d "$1" -f "$f" >/dev/null
		q "$1" "INSERT INTO calendence.schema_migrations VALUES ('$(basename "$f" .sql)')"
	done
}

# schema DB: what must be equal, without what differs between any two dumps
schema() {
	pg_dump --schema-only -n calendence "$1" | grep -v '^\\\(un\)\?restrict '
	q "$1" "SELECT version FROM calendence.schema_migrations ORDER BY 1"
	q "$1" "SELECT p.oid::regprocedure || E'\n' || pg_get_functiondef(p.oid)
	    FROM pg_proc p WHERE p.pronamespace = 'calendence'::regnamespace
	    ORDER BY p.oid::regprocedure::text"
}

# calls DB: answers that depend on the functions and on the data migrations
# (plans, time zones), not on the moment or on random ids
calls() {
	local biz
	q "$1" "SELECT calendence.parse_rfc3339('2030-01-01T24:00:00Z') IS NULL,
	    calendence.parse_rfc3339('2030-01-01T10:00:00+99:99') IS NULL,
	    calendence.parse_rfc3339('2030-01-01T10:00:00+01:00'),
	    calendence.is_blank(E' \u200b'), calendence.slugify('Hello, World!'),
	    calendence.token_checksum('cal_biz_0123456789abcdefABCDEF0123456789'),
	    (SELECT count(*) FROM calendence.timezones) > 300,
	    (SELECT string_agg(code, ',' ORDER BY code) FROM calendence.plans)"
	q "$1" "SELECT * FROM calendence.rl_admit('t:upgrade', 3600, 2, 10)"
	q "$1" "SELECT status, \"window\", admitted, hour_count, session_count
	    FROM calendence.authenticate(calendence.token_hash('x'), 'business', false,
		'192.0.2.1', NULL, NULL, 5)"
	biz=$(q "$1" "SELECT calendence.create_business(calendence.create_hub('Up', 'pro'),
	    'Up Wash', 'Europe/Paris')")
	q "$1" "SELECT status, message, replayed FROM calendence.hold('$biz', 'nope',
	    NULL, NULL, NULL, NULL, NULL, 'k', 2)"
	q "$1" "SELECT status, message FROM calendence.availability('$biz', NULL, NULL, NULL)"
	q "$1" "SELECT status, message FROM calendence.release_hold('$biz', 'nope')"
	q "$1" "SELECT bad, message FROM calendence.check_client(
	    '{\"first_name\": \"\u00a0\", \"last_name\": \"L\", \"email\": \"a@b.example\"}')"
	q "$1" "SELECT count(*) FROM pg_proc WHERE proname = 'load_demo_booking'"
}

# same: the two databases' schemas and answers are equal
same() {
	schema "$old" >"$work/old.schema"
	schema "$new" >"$work/new.schema"
	calls "$old" >"$work/old.calls"
	calls "$new" >"$work/new.calls"
	diff -u "$work/new.schema" "$work/old.schema" &&
		diff -u "$work/new.calls" "$work/old.calls"
}

dropdb --if-exists "$old"
dropdb --if-exists "$new"
createdb "$old"
createdb "$new"
v007 "$old"
# a key whose origins were stored as they came, before 015 normalised them
obiz=$(q "$old" "SELECT calendence.create_business(calendence.create_hub('Origins', 'pro'),
    'Origins Shop', 'Europe/Paris')")
q "$old" "SELECT calendence.issue_key('publishable', '$obiz')" >/dev/null
q "$old" "SELECT calendence.set_allowed_origins(a.id, '{HTTPS://Shop.Example/,
    https://shop.example:443,http://shop.example:8080/,https://x.example/path}')
    FROM calendence.api_keys a WHERE a.business_id = '$obiz'" >/dev/null
out=$(PGDATABASE=$old "$admin" migrate --dir "$top/sql" 2>&1) || { echo "$out"; exit 1; }
echo "$out"
origins=$(q "$old" "SELECT allowed_origins FROM calendence.api_keys WHERE business_id = '$obiz'")
[ "$origins" = '{https://shop.example,http://shop.example:8080,https://x.example/path}' ] ||
	{ echo "015 left the stored origins as $origins"; exit 1; }
echo "stored origins normalised: $origins"
out=$(grep '^applied ' <<<"$out")
# the migrations after 007 are applied, and only those
diff -u <(ls "$top"/sql/migrations | comm -23 - <(ls "$top"/tests/upgrade/v007) |
	sed 's/^/applied /; s/\.sql$//') - <<<"$out"
PGDATABASE=$new "$admin" migrate --dir "$top/sql" >/dev/null
same || { echo "an upgraded database differs from a new one"; exit 1; }
echo "upgraded from 007 = new: $(grep -c '^CREATE FUNCTION' "$work/new.schema") functions, $(wc -l <"$work/new.schema") lines of schema"
[ "$(PGDATABASE=$old "$admin" migrate --dir "$top/sql")" = "up to date" ]

# the comparison has teeth: a stale function (parse_rfc3339 as 006 left it),
# then a missing one, are each found
q "$old" "CREATE OR REPLACE FUNCTION calendence.parse_rfc3339(t text) RETURNS timestamptz
    LANGUAGE plpgsql IMMUTABLE STRICT AS \$\$
    BEGIN
	RETURN t::timestamptz;
    EXCEPTION WHEN data_exception THEN
	RETURN NULL;
    END \$\$"
if same >/dev/null; then echo "a stale parse_rfc3339() went unnoticed"; exit 1; fi
PGDATABASE=$old "$admin" migrate --dir "$top/sql" >/dev/null
same || { echo "migrate did not mend the stale function"; exit 1; }
q "$old" "DROP FUNCTION calendence.hold_usable(uuid, uuid)"
if same >/dev/null; then echo "a missing hold_usable() went unnoticed"; exit 1; fi
echo "a stale and a missing function are found"
