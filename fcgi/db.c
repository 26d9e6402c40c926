/* db.c: one connection per worker, a table of prepared statements, bounded waits. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

/* Names, for the rows below; each row is checked against the database at connect. */
#define P(...)		.params = (const char *const[]){ __VA_ARGS__, NULL }
#define NO_PARAMS	.params = (const char *const[]){ NULL }
#define C(...)		.cols = (const char *const[]){ __VA_ARGS__, NULL }
#define NO_COLS		.cols = (const char *const[]){ NULL }
#define OUTCOME		C("status", "message", "body", "replayed")

/*
 * The admission of every request but POST /session, as one plain SQL
 * statement (issue 15: no PL/pgSQL on the hot path; POST /session, with its
 * two windows for a refresh, keeps calendence.authenticate()). Its columns
 * are authenticate()'s (DB_AUTH_COLS) and mean the same; the rules are those
 * of authenticate() in sql/functions/30_admission.sql, and
 * tests/integration/admit.c checks the two against each other.
 *   $1 token hash, $2 kind ('hub', 'business', 'publishable', 'session'),
 *   $3 the client IP subject, $4 a hub key's Calendence-Business (or NULL),
 *   $5 Origin (or NULL), $6 the failed-credentials limit per IP and minute.
 * In order:
 *   c  now, and synchronous_commit off (only counters and last_used_at are
 *      written: losing the last few to a crash is harmless);
 *   k  the credential, and its status: a key of the kind (ADMIT_KEY), or a
 *      session with its publishable key (ADMIT_SESSION): each statement
 *      comes in both (and the key's in two, below), so that a plan holds
 *      only the tables its credential is looked for in;
 *   s  the business it acts for (a hub key's named one, of its own hub), the
 *      plan, the window's subject and limits; a failed credential counts in
 *      its IP's auth window instead;
 *   ADMIT_WORK: whatever the request needs done before its admission in the
 *      same round trip (GET /availability); kept before the lock below, so
 *      that no window row is held while it runs;
 *   l  the subject's advisory lock (class 1: only admissions, maintenance()
 *      and usage_refused() take it), then lock_timeout 100 ms for the row:
 *      an outsider's lock on it ends the statement with 55P03, a 503 of that
 *      tenant's only (architecture.md, Bounded waits);
 *   w  the upsert: admitted when both windows have room (counts after it);
 *   r  refused: one more refusal in the hour, and the counts as they stand;
 *   u  (ADMIT_TOUCH) last_used_at of a key, at most once a minute, skipped
 *      (never waited for) while a DBA holds the row. The statement without
 *      it (the _QUIET variant) is what a worker sends while the key's
 *      last_used_at is known to be less than a minute old (auth.c:
 *      key_uses): writing it costs nothing then, but its plan nodes cost
 *      every request some 10 % of the statement (docs/performance.md).
 *   last_used: the epoch of the key's last_used_at after the statement
 *      (AC_LAST_USED), from which the worker knows when it is next due.
 */
#define ADMIT_SQL(cred, touch, used, work, l_after, cols, joins) \
	"WITH c AS MATERIALIZED (" \
	"SELECT now() AS t, floor(extract(epoch FROM now()))::bigint AS e, " \
	"set_config('synchronous_commit', 'off', true) AS sc" \
	"), k AS MATERIALIZED (" \
	"SELECT c.t, c.e, y.id, y.hub_id, y.own_business, y.display, y.last_used_at, " \
	"y.origins, y.publishable_key_id, y.root_session_id, " \
	"CASE WHEN y.id IS NULL THEN 'unknown' WHEN y.ended THEN 'session_expired' " \
	"WHEN y.revoked_at IS NOT NULL THEN 'revoked' " \
	"WHEN y.expires_at <= c.t THEN 'expired' ELSE 'ok' END AS status " \
	"FROM c LEFT JOIN (" cred ") y ON true" \
	"), s AS MATERIALIZED (" \
	"SELECT k.*, b.id AS b_id, b.active AS b_active, b.name AS b_name, " \
	"b.timezone AS b_tz, coalesce(k.hub_id, b.hub_id) AS h_id, p.full_api_access, " \
	"($5::text IS NULL OR k.origins IS NULL OR cardinality(k.origins) = 0 " \
	"OR $5::text = ANY (k.origins)) AS origin_ok, " \
	"CASE WHEN k.status <> 'ok' THEN 'a:' || $3::text " \
	"WHEN k.root_session_id IS NOT NULL THEN 's:' || k.root_session_id " \
	"ELSE 'k:' || k.id END AS subject, " \
	"CASE WHEN k.status = 'ok' THEN p.api_per_minute ELSE $6::integer END AS mlim, " \
	"CASE WHEN k.status = 'ok' THEN p.api_per_hour END AS hlim " \
	"FROM k " \
	"LEFT JOIN calendence.businesses b ON k.status = 'ok' " \
	"AND b.id = coalesce(k.own_business, $4::uuid) " \
	"AND (k.hub_id IS NULL OR b.hub_id = k.hub_id) " \
	"LEFT JOIN calendence.hubs h ON k.status = 'ok' AND h.id = coalesce(k.hub_id, b.hub_id) " \
	"LEFT JOIN calendence.plans p ON p.code = h.plan" \
	")" work ", l AS MATERIALIZED (" \
	"SELECT pg_advisory_xact_lock(1, hashtext(s.subject)) AS held, " \
	"set_config('lock_timeout', '100ms', true) AS lt FROM s" l_after \
	"), w AS (" \
	"INSERT INTO calendence.rate_windows AS w " \
	"(subject, minute_start, minute_count, hour_start, hour_count) " \
	"SELECT s.subject, s.e - s.e % 60, 1, s.e - s.e % 3600, 1 FROM s, l " \
	"ON CONFLICT ON CONSTRAINT rate_windows_pkey DO UPDATE SET " \
	"minute_start = greatest(w.minute_start, excluded.minute_start), " \
	"minute_count = CASE WHEN w.minute_start >= excluded.minute_start " \
	"THEN w.minute_count ELSE 0 END + 1, " \
	"hour_start = greatest(w.hour_start, excluded.hour_start), " \
	"hour_count = CASE WHEN w.hour_start >= excluded.hour_start " \
	"THEN w.hour_count ELSE 0 END + 1, " \
	"hour_refused = CASE WHEN w.hour_start >= excluded.hour_start " \
	"THEN w.hour_refused ELSE 0 END, " \
	"prev_hour_start = CASE WHEN w.hour_start < excluded.hour_start " \
	"AND w.hour_count + w.hour_refused > 0 THEN w.hour_start ELSE w.prev_hour_start END, " \
	"prev_hour_count = CASE WHEN w.hour_start < excluded.hour_start " \
	"AND w.hour_count + w.hour_refused > 0 THEN w.hour_count ELSE w.prev_hour_count END, " \
	"prev_hour_refused = CASE WHEN w.hour_start < excluded.hour_start " \
	"AND w.hour_count + w.hour_refused > 0 THEN w.hour_refused " \
	"ELSE w.prev_hour_refused END " \
	"WHERE CASE WHEN w.minute_start >= excluded.minute_start THEN w.minute_count ELSE 0 END " \
	"< (SELECT s.mlim FROM s) AND ((SELECT s.hlim FROM s) IS NULL " \
	"OR CASE WHEN w.hour_start >= excluded.hour_start THEN w.hour_count ELSE 0 END " \
	"< (SELECT s.hlim FROM s)) " \
	"RETURNING w.minute_count, w.hour_count" \
	"), r AS (" \
	"UPDATE calendence.rate_windows x SET hour_refused = x.hour_refused + 1 FROM s " \
	"WHERE x.subject = s.subject AND x.hour_start >= s.e - s.e % 3600 " \
	"AND NOT EXISTS (SELECT FROM w) " \
	"RETURNING CASE WHEN x.minute_start >= s.e - s.e % 60 THEN x.minute_count ELSE 0 END " \
	"AS minute_count, x.hour_count" \
	")" touch " SELECT s.status, " \
	"CASE WHEN s.status = 'ok' THEN s.id END AS key_id, " \
	"CASE WHEN s.status = 'ok' THEN s.h_id END AS hub_id, s.b_id AS business_id, " \
	"CASE WHEN s.status = 'ok' THEN s.display END AS display, " \
	"s.full_api_access, " \
	"CASE WHEN s.status = 'ok' THEN s.b_id IS NOT NULL END AS business_ok, " \
	"s.b_active AS business_active, s.b_name AS business_name, " \
	"s.b_tz AS business_timezone, " \
	"CASE WHEN s.status = 'ok' THEN s.origin_ok END AS origin_ok, " \
	"CASE WHEN s.status = 'ok' THEN s.publishable_key_id END AS publishable_key_id, " \
	"CASE WHEN s.status = 'ok' THEN s.root_session_id END AS root_session_id, " \
	"CASE WHEN s.status = 'ok' THEN 'key' ELSE 'auth' END AS \"window\", " \
	"w.minute_count IS NOT NULL AS admitted, " \
	"coalesce(w.minute_count, r.minute_count, 0) AS minute_count, " \
	"CASE WHEN s.hlim IS NOT NULL THEN coalesce(w.hour_count, r.hour_count, 0) END " \
	"AS hour_count, s.mlim AS minute_limit, s.hlim AS hour_limit, s.e AS now_epoch, " \
	"NULL::integer AS session_count, NULL::integer AS session_limit, " \
	"CASE WHEN s.status = 'ok' THEN floor(extract(epoch FROM " used "))::bigint END " \
	"AS last_used" cols \
	" FROM s LEFT JOIN w ON true LEFT JOIN r ON true" joins

/* the credential of an ADMIT_SQL: a key of kind $2, or a session ($2 'session') */
#define ADMIT_KEY \
	"SELECT a.id, a.hub_id, a.business_id AS own_business, a.display, a.last_used_at, " \
	"a.allowed_origins AS origins, NULL::uuid AS publishable_key_id, " \
	"NULL::uuid AS root_session_id, false AS ended, a.revoked_at, a.expires_at " \
	"FROM calendence.api_keys a WHERE a.token_hash = $1::bytea AND a.kind = $2::text"
#define ADMIT_SESSION \
	"SELECT x.id, NULL::uuid AS hub_id, x.business_id AS own_business, " \
	"NULL::text AS display, NULL::timestamptz AS last_used_at, " \
	"pk.allowed_origins AS origins, x.publishable_key_id, x.root_session_id, " \
	"x.revoked_at IS NOT NULL OR x.expires_at <= now() OR pk.revoked_at IS NOT NULL " \
	"AS ended, NULL::timestamptz AS revoked_at, NULL::timestamptz AS expires_at " \
	"FROM calendence.sessions x JOIN calendence.api_keys pk ON pk.id = x.publishable_key_id " \
	"WHERE x.token_hash = $1::bytea AND $2::text = 'session'"
/* the refresh of a key's last_used_at (u above), and the column that tells it */
#define ADMIT_TOUCH \
	", lu AS (" \
	"SELECT y.id FROM calendence.api_keys y JOIN s ON y.id = s.id " \
	"WHERE s.status = 'ok' AND s.root_session_id IS NULL " \
	"AND (s.last_used_at IS NULL OR s.last_used_at < s.t - interval '1 minute') " \
	"FOR NO KEY UPDATE OF y SKIP LOCKED" \
	"), u AS (" \
	"UPDATE calendence.api_keys a SET last_used_at = s.t FROM lu, s WHERE a.id = lu.id" \
	")"
/* last_used: the key's last_used_at once the statement is done, in each */
#define ADMIT_USED_TOUCH	"CASE WHEN EXISTS (SELECT FROM lu) THEN s.t ELSE s.last_used_at END"
#define ADMIT_USED_QUIET	"s.last_used_at"
#define ADMIT_USED_SESSION	"NULL::timestamptz"

/*
 * The three statements of one admission (enum admit_variant), E and its
 * _QUIET and _SESSION, named name, name_quiet and name_session: the rest
 * of ADMIT_SQL's arguments, the parameters and the columns are theirs.
 */
#define ADMIT_STMTS(E, name, work, l_after, extra, joins, params, colnames) \
	[E] = { name, ADMIT_SQL(ADMIT_KEY, ADMIT_TOUCH, ADMIT_USED_TOUCH, work, l_after, \
	    extra, joins), params, .cols = colnames, .retry = DB_RETRY_NEVER }, \
	[E##_QUIET] = { name "_quiet", ADMIT_SQL(ADMIT_KEY, "", ADMIT_USED_QUIET, work, \
	    l_after, extra, joins), params, .cols = colnames, .retry = DB_RETRY_NEVER }, \
	[E##_SESSION] = { name "_session", ADMIT_SQL(ADMIT_SESSION, "", ADMIT_USED_SESSION, \
	    work, l_after, extra, joins), params, .cols = colnames, .retry = DB_RETRY_NEVER }

#define ADMIT_PARAMS	"token_hash", "kind", "ip", "business", "origin", "auth_limit"

/* the admission statements' columns: authenticate()'s, last_used, then their own */
static const char *const admit_cols[] = { DB_AUTH_COLS(DB_COL_NAME) "last_used", NULL };
static const char *const admit_availability_cols[] = { DB_AUTH_COLS(DB_COL_NAME) "last_used",
	"av_fresh", "av_until", "av_status", "av_message", "av_body", NULL };
static const char *const admit_services_cols[] = { DB_AUTH_COLS(DB_COL_NAME) "last_used",
	"cat_read", "cat_n", "cat_list", NULL };

static const struct db_stmt stmts[STMT__MAX] = {
	[STMT_AUTHENTICATE] = { "authenticate",
	    "SELECT * FROM calendence.authenticate($1::bytea, $2, $3::boolean, $4, "
	    "$5::uuid, $6, $7::integer)",
	    P("token_hash", "kind", "exchange", "ip", "business", "origin", "auth_limit"),
	    .cols = (const char *const[]){ DB_AUTH_COLS(DB_COL_NAME) NULL },
	    .retry = DB_RETRY_NEVER },
	ADMIT_STMTS(STMT_ADMIT, "admit", "", "", "", "", P(ADMIT_PARAMS), admit_cols),
	/*
	 * GET /availability's admission and answer in one round trip: the
	 * answer (availability(), 50_availability.sql) is computed only for a
	 * credential that may have one (its business active, the origin
	 * allowed), before the admission takes its locks, and only when the
	 * worker has none it may still give: $13, $14 are the business and
	 * fresh_until of the answer it keeps for these parameters (answers.c;
	 * NULL: none), and av_fresh says that answer is still true (as of this
	 * statement's now(): PostgreSQL's clock decides, not the worker's).
	 * auth.c reads the admission, the handler the av_ columns (av_status
	 * NULL: not computed; av_until is availability_fresh_until()).
	 */
	ADMIT_STMTS(STMT_ADMIT_AVAILABILITY, "admit_availability",
	    ", v AS MATERIALIZED (SELECT y.status, y.message, y.body, "
		"calendence.availability_fresh_until(s.b_id) AS until FROM s, "
		"LATERAL calendence.availability(s.b_id, $7, $8, $9, $10, $11, $12) y "
		"WHERE s.status = 'ok' AND s.b_active AND s.origin_ok "
		"AND $2::text <> 'publishable' AND ($2::text = 'session' OR s.full_api_access) "
		"AND NOT coalesce(s.b_id = $13::uuid AND now() < $14::timestamptz, false))",
		" WHERE (SELECT count(*) FROM v) >= 0",
		", coalesce(s.b_id = $13::uuid AND now() < $14::timestamptz, false) AS av_fresh, "
		"v.until AS av_until, v.status AS av_status, v.message AS av_message, "
		"v.body AS av_body",
		" LEFT JOIN v ON true",
	    P(ADMIT_PARAMS, "service_id", "date_from", "date_to", "staff_id", "location_id",
		"format", "answer_business", "answer_until"), admit_availability_cols),
	/*
	 * GET /services's admission with the business's services, for a worker
	 * whose catalogue is missing most lists (catalogue.c: cat_cold()), on
	 * the admission's one row: cat_read is true when the credential may
	 * list them, cat_n is how many there are, and cat_list the list as the
	 * database keeps it for the catalogue (service_lists, written through
	 * calendence.service_list() in 40_json.sql: each service by name as its
	 * id, the length of its JSON, ':' and that JSON, joined with commas;
	 * NULL: none, or more than CAT_MAX_ROWS). One row of one table, by key.
	 */
	ADMIT_STMTS(STMT_ADMIT_SERVICES, "admit_services", "", "",
		", s.status = 'ok' AND s.b_active AND s.origin_ok "
		"AND $2::text <> 'publishable' AND ($2::text = 'session' OR s.full_api_access) "
		"AS cat_read, coalesce(sl.n, 0) AS cat_n, sl.list AS cat_list",
		" LEFT JOIN calendence.service_lists sl ON sl.business_id = s.b_id",
	    P(ADMIT_PARAMS), admit_services_cols),
	[STMT_AUTH_FAIL] = { "auth_fail",
	    "SELECT * FROM calendence.auth_fail($1, $2::integer)",
	    P("ip", "auth_limit"), C("admitted", "count", "now_epoch", "stalled"),
	    .retry = DB_RETRY_NEVER },
	[STMT_SESSION_CREATE] = { "session_create",
	    "SELECT * FROM calendence.create_session($1::bytea, $2::uuid, $3::uuid, "
	    "$4::uuid, $5::inet)",
	    P("token_hash", "business", "publishable_key", "root", "ip"),
	    C("session_id", "expires_at"), .retry = DB_RETRY_SAFE },
	[STMT_SESSION_END] = { "session_end",
	    "UPDATE calendence.sessions SET revoked_at = now() "
	    "WHERE id = $1::uuid AND revoked_at IS NULL",
	    P("session"), NO_COLS, .retry = DB_RETRY_SAFE },
	[STMT_SERVICES_LIST] = { "services_list",
	    "SELECT (SELECT count(*) FROM calendence.services "
	    "WHERE business_id = $1::uuid AND is_active) AS total, "
	    "coalesce((SELECT '[' || string_agg(calendence.service_json(s)::text, ',' "
	    "ORDER BY s.name, s.id) || ']' "
	    "FROM (SELECT * FROM calendence.services WHERE business_id = $1::uuid "
	    "AND is_active ORDER BY name, id LIMIT $2::integer OFFSET $3::bigint) s), "
	    "'[]') AS data",
	    P("business", "limit", "offset"), C("total", "data"), .retry = DB_RETRY_SAFE },
	[STMT_SERVICES_GET] = { "services_get",
	    "SELECT calendence.service_json(s) AS body FROM calendence.services s "
	    "WHERE s.id = $1::uuid AND s.business_id = $2::uuid AND s.is_active",
	    P("id", "business"), C("body"), .retry = DB_RETRY_SAFE },
	[STMT_BUSINESSES_LIST] = { "businesses_list",
	    "SELECT (SELECT count(*) FROM calendence.businesses "
	    "WHERE hub_id = $1::uuid AND ($2::uuid IS NULL OR id = $2::uuid)) AS total, "
	    "coalesce((SELECT '[' || string_agg(calendence.business_json(b)::text, ',' "
	    "ORDER BY b.name, b.id) || ']' "
	    "FROM (SELECT * FROM calendence.businesses WHERE hub_id = $1::uuid "
	    "AND ($2::uuid IS NULL OR id = $2::uuid) ORDER BY name, id "
	    "LIMIT $3::integer OFFSET $4::bigint) b), '[]') AS data",
	    P("hub", "only", "limit", "offset"), C("total", "data"),
	    .retry = DB_RETRY_SAFE },
	[STMT_BUSINESSES_GET] = { "businesses_get",
	    "SELECT calendence.business_json(b) AS body FROM calendence.businesses b "
	    "WHERE b.id = $1::uuid AND b.hub_id = $2::uuid "
	    "AND ($3::uuid IS NULL OR b.id = $3::uuid)",
	    P("id", "hub", "only"), C("body"), .retry = DB_RETRY_SAFE },
	[STMT_CAT_SERVICES] = { "cat_services",
	    "SELECT s.id, coalesce(s.api_json, calendence.service_json(s)::text) AS body "
	    "FROM calendence.services s WHERE s.business_id = $1::uuid AND s.is_active "
	    "ORDER BY s.name, s.id LIMIT $2::integer",
	    P("business", "limit"), C("id", "body"), .retry = DB_RETRY_SAFE },
	[STMT_CAT_LOCATIONS] = { "cat_locations",
	    "SELECT l.id, calendence.location_json(l)::text AS body "
	    "FROM calendence.locations l WHERE l.business_id = $1::uuid AND l.active "
	    "ORDER BY l.name, l.id LIMIT $2::integer",
	    P("business", "limit"), C("id", "body"), .retry = DB_RETRY_SAFE },
	[STMT_CAT_BUSINESSES] = { "cat_businesses",
	    "SELECT b.id, calendence.business_json(b)::text AS body "
	    "FROM calendence.businesses b WHERE b.hub_id = $1::uuid "
	    "ORDER BY b.name, b.id LIMIT $2::integer",
	    P("hub", "limit"), C("id", "body"), .retry = DB_RETRY_SAFE },
	[STMT_LOCATIONS_LIST] = { "locations_list",
	    "SELECT * FROM calendence.locations_json($1::uuid, $2::integer, $3::bigint)",
	    P("business", "limit", "offset"), C("total", "data"), .retry = DB_RETRY_SAFE },
	[STMT_AVAILABILITY] = { "availability",
	    "SELECT * FROM calendence.availability($1::uuid, $2, $3, $4, $5, $6, $7)",
	    P("business", "service_id", "date_from", "date_to", "staff_id", "location_id",
		"format"),
	    C("status", "message", "body"), .retry = DB_RETRY_SAFE },
	[STMT_HOLD] = { "hold",
	    "SELECT * FROM calendence.hold($1::uuid, $2, $3, $4, $5, $6::uuid, $7::uuid, "
	    "$8, $9::integer)",
	    P("business", "service_id", "location_id", "starts_at", "staff_id",
	    "root_session", "key", "idempotency_key", "max_holds"), OUTCOME,
	    .retry = DB_RETRY_KEYED, .key_param = 7 },
	[STMT_BOOK] = { "book",
	    "SELECT * FROM calendence.book($1::uuid, $2, $3::jsonb, $4::jsonb, $5, "
	    "$6::uuid, $7::uuid, $8)",
	    P("business", "hold_id", "client", "custom_field_values", "notes",
	    "root_session", "key", "idempotency_key"), OUTCOME,
	    .retry = DB_RETRY_KEYED, .key_param = 7 },
	[STMT_BOOKINGS_LIST] = { "bookings_list",
	    /* the page last, as every list statement takes it (kit.c) */
	    "SELECT * FROM calendence.bookings_list($1::uuid, $2, $3, $4, $7::integer, "
	    "$8::bigint, $5::uuid, $6)",
	    P("business", "status", "from", "to", "root_session", "updated_since",
	    "limit", "offset"),
	    C("status", "message", "total", "data"), .retry = DB_RETRY_SAFE },
	[STMT_BOOKINGS_GET] = { "bookings_get",
	    "SELECT calendence.booking_json($1::uuid, $2, $3::uuid) AS body",
	    P("business", "id", "root_session"), C("body"), .retry = DB_RETRY_SAFE },
	[STMT_BOOKINGS_CANCEL] = { "bookings_cancel",
	    "SELECT * FROM calendence.cancel($1::uuid, $2, $3::uuid, $4::uuid, $5, $6)",
	    P("business", "id", "root_session", "key", "idempotency_key", "reason"),
	    OUTCOME, .retry = DB_RETRY_SAFE },
	[STMT_BOOKINGS_RESCHEDULE] = { "bookings_reschedule",
	    "SELECT * FROM calendence.reschedule($1::uuid, $2, $3, $4::uuid, $5::uuid, $6)",
	    P("business", "id", "hold_id", "root_session", "key", "idempotency_key"),
	    OUTCOME, .retry = DB_RETRY_KEYED, .key_param = 5 },
	[STMT_BOOKINGS_STATUS] = { "bookings_status",
	    "SELECT * FROM calendence.set_booking_status($1::uuid, $2, $3)",
	    P("business", "id", "status"), C("status", "message", "body"),
	    .retry = DB_RETRY_SAFE },
	[STMT_HOLD_RELEASE] = { "hold_release",
	    "SELECT * FROM calendence.release_hold($1::uuid, $2, $3::uuid)",
	    P("business", "id", "root_session"), C("status", "message"),
	    .retry = DB_RETRY_SAFE },
	[STMT_WEBHOOK_CREATE] = { "webhook_create",
	    "SELECT * FROM calendence.webhook_create($1::uuid, $2, $3, $4, $5::bytea, "
	    "$6::boolean)",
	    P("business", "url", "events", "description", "secret_box", "allow_http"),
	    C("status", "message", "body"), .retry = DB_RETRY_NEVER },
	[STMT_WEBHOOKS_LIST] = { "webhooks_list",
	    "SELECT * FROM calendence.webhooks_list($1::uuid, $2::integer, $3::bigint)",
	    P("business", "limit", "offset"), C("total", "data"), .retry = DB_RETRY_SAFE },
	[STMT_WEBHOOKS_GET] = { "webhooks_get",
	    "SELECT calendence.webhook_get($1::uuid, $2) AS body",
	    P("business", "id"), C("body"), .retry = DB_RETRY_SAFE },
	/* a second run would answer 404 for the first one's 204: never re-sent */
	[STMT_WEBHOOK_DELETE] = { "webhook_delete",
	    "SELECT * FROM calendence.webhook_delete($1::uuid, $2)",
	    P("business", "id"), C("status", "message"), .retry = DB_RETRY_NEVER },
	[STMT_WEBHOOK_DELIVERIES] = { "webhook_deliveries",
	    "SELECT * FROM calendence.webhook_deliveries($1::uuid, $2, $3::integer, "
	    "$4::bigint)",
	    P("business", "id", "limit", "offset"), C("status", "message", "total", "data"),
	    .retry = DB_RETRY_SAFE },
	[STMT_WEBHOOK_RETRY] = { "webhook_retry",
	    "SELECT * FROM calendence.webhook_retry($1::uuid, $2, $3)",
	    P("business", "id", "delivery_id"), C("status", "message", "body"),
	    .retry = DB_RETRY_SAFE },
	[STMT_MAINTENANCE] = { "maintenance",
	    "SELECT m.*, b.* FROM calendence.maintenance() m, "
	    "calendence.booking_maintenance() b",
	    NO_PARAMS, C("sessions_removed", "windows_removed", "keys_removed",
	    "holds_removed"), .retry = DB_RETRY_SAFE },
	[STMT_USAGE_REFUSED] = { "usage_refused",
	    "SELECT * FROM calendence.usage_refused($1::text[], $2::bigint[], "
	    "$3::integer[])",
	    P("subjects", "hour_starts", "counts"), C("skipped"),
	    .retry = DB_RETRY_NEVER },
	[STMT_WH_CLAIM] = { "wh_claim",
	    "SELECT * FROM calendence.webhook_claim($1::uuid, $2::integer, $3::integer)",
	    P("sender", "limit", "lease_ms"), C("delivery_id", "webhook_id", "url",
	    "secret_box", "event", "payload", "attempt"),
	    .retry = DB_RETRY_NEVER, .program = DB_SENDER },
	[STMT_WH_RECORD] = { "wh_record",
	    "SELECT * FROM calendence.webhook_record($1::uuid, $2::uuid, $3::integer, $4, "
	    "$5::integer)",
	    P("delivery", "sender", "code", "error", "retry_ms"), C("recorded", "status"),
	    .retry = DB_RETRY_SAFE, .program = DB_SENDER },
	[STMT_WH_RELEASE] = { "wh_release",
	    "SELECT * FROM calendence.webhook_release($1::uuid, $2::uuid)",
	    P("delivery", "sender"), C("released"), .retry = DB_RETRY_SAFE,
	    .program = DB_SENDER },
	[STMT_WH_MAINTENANCE] = { "wh_maintenance",
	    "SELECT * FROM calendence.webhook_maintenance()",
	    NO_PARAMS, C("events_removed"), .retry = DB_RETRY_SAFE, .program = DB_SENDER },
	[STMT_PING] = { "ping",
	    "SELECT calendence.health_check() AS ok",
	    NO_PARAMS, C("ok"), .retry = DB_RETRY_SAFE },
};

#undef P
#undef NO_PARAMS
#undef C
#undef NO_COLS
#undef OUTCOME

/*
 * Sets up db; nothing is connected until first use. timeout_ms bounds
 * every wait for the server (db_deadline()).
 */
void
db_init(struct db *db, const char *conninfo, enum log_level ll, enum db_prepare p,
    int timeout_ms)
{
	memset(db, 0, sizeof(*db));
	db->conninfo = conninfo;
	db->prepare = p;
	db->log_level = ll;
	db->timeout_ms = timeout_ms;
	db->up = 1;	/* so that a first failure is logged */
}

/*
 * Makes db the webhook sender's: its own statements are prepared, and each
 * new connection LISTENs on channel (so that db_notified() hears of new
 * deliveries).
 */
void
db_for_sender(struct db *db, const char *channel)
{
	db->program = DB_SENDER;
	db->listen = channel;
}

/* Each new connection LISTENs on channel too (a worker's catalogue, catalogue.c). */
void
db_listen(struct db *db, const char *channel)
{
	db->listen = channel;
}


void
db_cleanup(struct db *db)
{
	PQfinish(db->conn);
	db->conn = NULL;
}

static int
count(const char *const *names)
{
	int	 n = 0;

	while (names[n] != NULL)
		n++;
	return n;
}

/* How many parameters the statement takes (its row names them). */
int
db_nparams(enum stmt s)
{
	return count(stmts[s].params);
}

/* The statement's row of the table. */
const struct db_stmt *
db_stmt(enum stmt s)
{
	return &stmts[s];
}

static long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Starts a new bound: everything db does until the next call (connecting,
 * preparing, statements) gives up ms milliseconds from now (0: the
 * configured db_timeout). A request calls it once, so that its statements
 * share one bound.
 */
void
db_deadline(struct db *db, int ms)
{
	db->deadline = now_ms() + (ms > 0 ? ms : db->timeout_ms);
}

/* Milliseconds left before the deadline, at least 0. */
static int
remaining(const struct db *db)
{
	long long	 left = db->deadline - now_ms();

	return left > 0 ? (int)(left > 86400000 ? 86400000 : left) : 0;
}

static void
mark(struct db *db, int up, const char *why)
{
	if (up && !db->up)
		log_msg(db->log_level, LOG_LEVEL_WARN, "database connection restored");
	else if (!up && db->up)
		log_msg(db->log_level, LOG_LEVEL_ERROR, "database unavailable: %s",
		    why);
	db->up = up;
}

/* Closes the connection; the next use makes a new one at once. */
static void
drop(struct db *db)
{
	PQfinish(db->conn);
	db->conn = NULL;
	memset(&db->next_try, 0, sizeof(db->next_try));
}

/* Waits until fd is ready for events, or the deadline; 1 ready, 0 not. */
static int
wait_fd(struct db *db, int fd, short events)
{
	struct pollfd	 pfd = { .fd = fd, .events = events };
	int		 rc;

	do {
		rc = poll(&pfd, 1, remaining(db));
	} while (rc == -1 && errno == EINTR && remaining(db) > 0);
	return rc > 0;
}

enum wait_outcome { W_RESULT, W_TIMEOUT, W_BROKEN };

/*
 * Collects the result of what was sent, waiting at most until the
 * deadline. W_RESULT sets *out (the last result; an error result when the
 * server refused); W_TIMEOUT when the server did not answer in time;
 * W_BROKEN when the connection broke. *out is NULL unless W_RESULT.
 */
static enum wait_outcome
wait_result(struct db *db, PGresult **out)
{
	PGresult	*res;

	*out = NULL;
	for (;;) {
		while (PQisBusy(db->conn)) {
			if (!wait_fd(db, PQsocket(db->conn), POLLIN)) {
				PQclear(*out);
				*out = NULL;
				return W_TIMEOUT;
			}
			if (!PQconsumeInput(db->conn))
				break;	/* PQgetResult() reports it */
		}
		if ((res = PQgetResult(db->conn)) == NULL)
			break;
		PQclear(*out);
		*out = res;
		if (PQstatus(db->conn) != CONNECTION_OK)
			break;
	}
	if (*out == NULL || PQstatus(db->conn) != CONNECTION_OK ||
	    (PQresultStatus(*out) == PGRES_FATAL_ERROR &&
	    PQresultErrorField(*out, PG_DIAG_SQLSTATE) == NULL)) {
		PQclear(*out);
		*out = NULL;
		return W_BROKEN;
	}
	return W_RESULT;
}

/* Sends sql (settings, no parameters) and waits for it; 0 or -1. */
static int
simple(struct db *db, const char *sql)
{
	PGresult	*res;
	int		 ok;

	if (!PQsendQuery(db->conn, sql) || wait_result(db, &res) != W_RESULT)
		return -1;
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	return ok ? 0 : -1;
}

/*
 * Why the description of statement s (PQdescribePrepared) disagrees with
 * its row of the table, written into why; 0 when they agree.
 */
static int
contract_broken(enum stmt s, const PGresult *res, char *why, size_t len)
{
	const char *const *cols = stmts[s].cols;
	int		 i, n = count(cols);

	if (PQnparams(res) != count(stmts[s].params)) {
		snprintf(why, len, "takes %d parameters, the statement table names %d",
		    PQnparams(res), count(stmts[s].params));
		return 1;
	}
	for (i = 0; i < PQnfields(res) || i < n; i++) {
		const char *got = i < PQnfields(res) ? PQfname(res, i) : "(none)";
		const char *want = i < n ? cols[i] : "(none)";

		if (strcmp(got, want) != 0) {
			snprintf(why, len, "result column %d is \"%s\", the statement "
			    "table says \"%s\"", i + 1, got, want);
			return 1;
		}
	}
	return 0;
}

static void
say_unnamed(struct db *db)
{
	log_msg(db->log_level, LOG_LEVEL_WARN, "prepared statements do not survive "
	    "on this connection (a pooler in transaction mode?): using unnamed ones");
}

/*
 * Prepares statement i and holds its description against its row of the
 * table. 0, or -1 (logged) when the server refused it or the two disagree.
 */
static int
prepare_one(struct db *db, enum stmt i)
{
	PGresult	*res;
	char		 why[256];
	int		 ok;

	if (!PQsendPrepare(db->conn, stmts[i].name, stmts[i].sql,
	    count(stmts[i].params), NULL) || wait_result(db, &res) != W_RESULT)
		return -1;
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		log_msg(db->log_level, LOG_LEVEL_ERROR, "prepare %s: %s",
		    stmts[i].name, PQresultErrorMessage(res));
	PQclear(res);
	if (!ok)
		return -1;
	if (!PQsendDescribePrepared(db->conn, stmts[i].name) ||
	    wait_result(db, &res) != W_RESULT)
		return -1;
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		/*
		 * Not a disagreement: the description went elsewhere (a pooler in
		 * transaction mode hands each round trip to any server connection,
		 * where the statement is missing: 26000), and the connection falls
		 * back to unnamed statements as for a failed prepare.
		 */
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (state != NULL && strcmp(state, "26000") == 0)
			say_unnamed(db);
		else
			log_msg(db->log_level, LOG_LEVEL_WARN, "describe %s: %s",
			    stmts[i].name, PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	ok = !contract_broken(i, res, why, sizeof(why));
	if (!ok) {
		db->contract_broken = 1;
		if (!db->contract_logged)	/* once, not at every attempt */
			log_msg(db->log_level, LOG_LEVEL_ERROR, "statement %s does not "
			    "match the database: %s; serving nothing until it does",
			    stmts[i].name, why);
		db->contract_logged = 1;
	}
	PQclear(res);
	return ok ? 0 : -1;
}

static int
prepare_all(struct db *db)
{
	int	 i;

	for (i = 0; i < STMT__MAX; i++)
		if (stmts[i].program == db->program && prepare_one(db, (enum stmt)i) == -1)
			return -1;
	return 0;
}

static int
too_soon(struct db *db)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec < db->next_try.tv_sec || (now.tv_sec == db->next_try.tv_sec &&
	    now.tv_nsec < db->next_try.tv_nsec))
		return 1;
	db->next_try = now;
	db->next_try.tv_nsec += 250 * 1000000L;	/* at most 4 attempts a second */
	if (db->next_try.tv_nsec >= 1000000000L) {
		db->next_try.tv_sec++;
		db->next_try.tv_nsec -= 1000000000L;
	}
	return 0;
}

/*
 * What the server says outside an answer (a warning, or why it is about to
 * end the session): one log line, not libpq's lines on stderr.
 */
static void
notice(void *arg, const char *message)
{
	struct db	*db = arg;
	char		 line[512];
	size_t		 i;

	snprintf(line, sizeof(line), "%s", message);
	for (i = 0; line[i] != '\0'; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = line[i + 1] == '\0' ? '\0' : ' ';
	log_msg(db->log_level, LOG_LEVEL_WARN, "database says: %s", line);
}

/*
 * Opens the connection without blocking past the deadline (PQconnectdb
 * would wait as long as the network does). 0, or -1 with db->conn NULL.
 */
static int
open_bounded(struct db *db)
{
	/* the conninfo first: what it says wins over the fallback name */
	const char *const	 kw[] = { "dbname", "fallback_application_name", NULL };
	const char *const	 val[] = { db->conninfo, db->program == DB_SENDER ?
	    "calendence-webhooks" : "calendence-worker", NULL };
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;

	db->conn = PQconnectStartParams(kw, val, 1);
	if (db->conn == NULL || PQstatus(db->conn) == CONNECTION_BAD)
		goto fail;
	PQsetNoticeProcessor(db->conn, notice, db);
	while (st != PGRES_POLLING_OK) {
		if (st == PGRES_POLLING_FAILED)
			goto fail;
		if (!wait_fd(db, PQsocket(db->conn),
		    st == PGRES_POLLING_READING ? POLLIN : POLLOUT)) {
			mark(db, 0, "no answer within the bound while connecting");
			PQfinish(db->conn);
			db->conn = NULL;
			return -1;
		}
		st = PQconnectPoll(db->conn);
	}
	return 0;
fail:
	mark(db, 0, db->conn ? PQerrorMessage(db->conn) : "out of memory");
	PQfinish(db->conn);
	db->conn = NULL;
	return -1;
}

/*
 * The server's own bounds, a little inside the worker's deadline: a lock
 * wait or statement past them is cancelled by the server itself, which
 * answers with an error (503, the connection kept) before the worker gives
 * up on it; and a backend whose worker gave up does not linger in a lock
 * queue. The worker's deadline stays the bound for a server that answers
 * nothing at all (stopped, or the network gone).
 */
static int
set_bounds(struct db *db)
{
	char	 sql[128];
	int	 ms = db->timeout_ms * 9 / 10;

	snprintf(sql, sizeof(sql), "SET statement_timeout = %d; SET lock_timeout = %d",
	    ms, ms);
	return simple(db, sql);
}

/* LISTEN on db->listen, a quoted identifier of the program's own. */
static int
listen_on(struct db *db)
{
	char	 sql[128];

	if (strlen(db->listen) > 63 || strchr(db->listen, '"') != NULL)
		return -1;
	snprintf(sql, sizeof(sql), "LISTEN \"%s\"", db->listen);
	return simple(db, sql);
}

/*
 * Makes sure there is a live connection with every statement prepared,
 * within the deadline. Returns 0, or -1 when the database cannot be
 * reached (attempts are spaced a quarter of a second apart, so a dead
 * database is not hammered).
 */
int
db_connect(struct db *db)
{
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	if (too_soon(db))
		return -1;
	PQfinish(db->conn);
	db->conn = NULL;
	if (open_bounded(db) == -1)
		return -1;
	if (set_bounds(db) == -1) {
		mark(db, 0, "could not set statement_timeout and lock_timeout");
		PQfinish(db->conn);
		db->conn = NULL;
		return -1;
	}
	db->prepared = 0;
	db->contract_broken = 0;
	if (db->prepare != DB_PREPARE_OFF) {
		if (prepare_all(db) == 0)
			db->prepared = 1;
		else if (db->prepare == DB_PREPARE_ON || db->contract_broken ||
		    PQstatus(db->conn) != CONNECTION_OK || PQisBusy(db->conn)) {
			mark(db, 0, "could not prepare statements");
			PQfinish(db->conn);
			db->conn = NULL;
			return -1;
		}
	}
	if (db->listen != NULL && listen_on(db) == -1) {
		mark(db, 0, "could not LISTEN");
		PQfinish(db->conn);
		db->conn = NULL;
		return -1;
	}
	db->contract_logged = 0;
	db->connects++;
	mark(db, 1, NULL);
	return 0;
}

/*
 * True when an idle connection is known dead before anything is sent: a
 * server that ended the session (a restart, pg_terminate_backend) has sent
 * its goodbye or closed the socket, which is then readable. Finding out
 * now, not after sending, is what lets a write go to a new connection
 * without the doubt of having been sent twice.
 */
static int
dead_while_idle(struct db *db)
{
	struct pollfd	 pfd = { .fd = PQsocket(db->conn), .events = POLLIN };
	int		 i;

	/*
	 * A server that ended the session sent its reason, then closed: libpq
	 * reads the reason (a notice, the connection still "OK") and meets the
	 * end only on a further read, so read while there is something to read.
	 */
	for (i = 0; i < 8 && poll(&pfd, 1, 0) > 0; i++)
		if (!PQconsumeInput(db->conn) || PQstatus(db->conn) != CONNECTION_OK)
			return 1;
	return 0;
}

/*
 * SQLSTATEs after which the server is unavailable rather than wrong: the
 * connection (08), resources (53), an operator or a timeout (57: shutdown,
 * statement_timeout), a read-only database (25006), a lock that could not be
 * had in time (55P03: lock_timeout), serialization and deadlocks (40).
 */
static int
transient(const char *state)
{
	return state == NULL || strncmp(state, "08", 2) == 0 ||
	    strncmp(state, "53", 2) == 0 || strncmp(state, "57", 2) == 0 ||
	    strcmp(state, "25006") == 0 || strcmp(state, "55P03") == 0 ||
	    strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0;
}

/*
 * Sends statement s: the prepared statement, or, without prepared
 * statements (PgBouncer's transaction pooling hands each transaction to any
 * server connection), the same text as an unnamed statement with
 * parameters. 0 when sent.
 */
static int
send_stmt(struct db *db, enum stmt s, const char *const *params)
{
	db->round_trips++;
	if (db->prepared)
		return PQsendQueryPrepared(db->conn, stmts[s].name, count(stmts[s].params),
		    params, NULL, NULL, 0) ? 0 : -1;
	return PQsendQueryParams(db->conn, stmts[s].sql, count(stmts[s].params), NULL, params,
	    NULL, NULL, 0) ? 0 : -1;
}

/* True when a prepared statement went missing: a pooler swapped connections. */
static int
lost_prepared(struct db *db, const char *state)
{
	if (!db->prepared || db->prepare != DB_PREPARE_AUTO || state == NULL ||
	    strcmp(state, "26000") != 0)
		return 0;
	say_unnamed(db);
	db->prepared = 0;
	return 1;
}

/*
 * True when s may be sent again after its connection broke with the
 * outcome unknown (enum db_retry): a keyed statement only with its key.
 */
static int
resendable(enum stmt s, const char *const *params)
{
	switch (stmts[s].retry) {
	case DB_RETRY_SAFE:
		return 1;
	case DB_RETRY_KEYED:
		return params != NULL && params[stmts[s].key_param] != NULL;
	default:
		return 0;
	}
}

/* An error result: DB_UNAVAILABLE or DB_ERROR, logged; 1 to try again. */
static int
refused(struct db *db, enum stmt s, PGresult *res)
{
	const char	*state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	int		 t = transient(state);

	if (lost_prepared(db, state))
		return 1;
	log_msg(db->log_level, t ? LOG_LEVEL_WARN : LOG_LEVEL_ERROR,
	    "statement %s: %s [%s]", stmts[s].name,
	    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY), state ? state : "-");
	return t ? DB_UNAVAILABLE : DB_ERROR;
}

/*
 * Runs statement s with text parameters (NULL is SQL NULL), waiting no
 * longer than the deadline (db_deadline()). On DB_OK *out holds the
 * result, which the caller clears; otherwise *out is NULL.
 *
 * A connection found dead before sending is replaced and the statement
 * sent on the new one. A connection that breaks after sending leaves the
 * outcome unknown: the statement is sent again only when its row says
 * that this cannot change or count anything twice (resendable()), else
 * DB_UNAVAILABLE (503). Past the deadline the connection is closed (the
 * server may be stopped mid-statement) and DB_UNAVAILABLE returned, never
 * re-sent: the first may still be running.
 */
enum db_status
db_exec(struct db *db, enum stmt s, const char *const *params, PGresult **out)
{
	enum wait_outcome w;
	int		 attempt, st;

	*out = NULL;
	db->outcome_unknown = 0;
	for (attempt = 0; attempt < 3; attempt++) {
		if (db_connect(db) == -1)
			return DB_UNAVAILABLE;
		if (dead_while_idle(db)) {
			mark(db, 0, "the server ended the session");
			drop(db);
			continue;	/* nothing was sent */
		}
		if (send_stmt(db, s, params) == -1) {
			/* no Sync reached the server: nothing committed */
			mark(db, 0, PQerrorMessage(db->conn));
			drop(db);
			continue;
		}
		if ((w = wait_result(db, out)) == W_TIMEOUT) {
			log_msg(db->log_level, LOG_LEVEL_WARN, "statement %s: no answer "
			    "within the bound (db_timeout): connection closed",
			    stmts[s].name);
			drop(db);
			db->outcome_unknown = 1;
			return DB_UNAVAILABLE;
		}
		if (w == W_BROKEN) {
			mark(db, 0, PQerrorMessage(db->conn));
			drop(db);
			if (resendable(s, params))
				continue;
			log_msg(db->log_level, LOG_LEVEL_WARN, "statement %s: connection "
			    "lost after sending; not sent again", stmts[s].name);
			db->outcome_unknown = 1;
			return DB_UNAVAILABLE;
		}
		st = PQresultStatus(*out);
		if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
			return DB_OK;
		st = refused(db, s, *out);
		PQclear(*out);
		*out = NULL;
		if (st != 1)
			return (enum db_status)st;
	}
	return DB_UNAVAILABLE;
}

/* The connection's socket, for a poll() that waits for notifications; -1 without one. */
int
db_socket(const struct db *db)
{
	return db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK ?
	    PQsocket(db->conn) : -1;
}

/*
 * True when the connection hears notifications: it is open, it LISTENs,
 * and its statements are prepared (not through PgBouncer's transaction
 * pooling, which has no LISTEN). The workers' caches rely on it.
 */
int
db_hears(const struct db *db)
{
	return db->listen != NULL && db->prepared && db->conn != NULL;
}

/*
 * Reads what the server sent while idle and counts the notifications among
 * it, and those libpq read with the last answer: each is given to fn (when
 * not NULL) with its payload, then freed. -1 when the connection broke (it
 * is closed; the next statement opens another).
 */
int
db_notified(struct db *db, void (*fn)(void *, const char *), void *arg)
{
	PGnotify	*n;
	int		 count = 0;

	if (db->conn == NULL)
		return -1;
	if (!PQconsumeInput(db->conn) || PQstatus(db->conn) != CONNECTION_OK) {
		mark(db, 0, "the server ended the session");
		drop(db);
		return -1;
	}
	while ((n = PQnotifies(db->conn)) != NULL) {
		count++;
		if (fn != NULL)
			fn(arg, n->extra);
		PQfreemem(n);
	}
	return count;
}
