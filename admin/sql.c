/* sql.c: calendence-admin's statements, messages and printing, connecting. */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "admin.h"
#include "log.h"
#include "token.h"

#define MSG_MAX		8192	/* a message, a path in it included */

/* Every statement this tool sends; user input only ever travels as $n. */
static const struct stmt_def {
	const char	*sql;
	int		 nparams;
} adm_stmts[ADM_ST__MAX] = {
	[ADM_XACT_LOCK] = { "SELECT pg_advisory_xact_lock($1::bigint)", 1 },
	[ADM_BEGIN] = { "BEGIN", 0 },
	[ADM_COMMIT] = { "COMMIT", 0 },
	[ADM_ROLLBACK] = { "ROLLBACK", 0 },
	[ADM_SCHEMA] = { "CREATE SCHEMA IF NOT EXISTS calendence", 0 },
	[ADM_MIGRATIONS_TABLE] = {
	    "CREATE TABLE IF NOT EXISTS calendence.schema_migrations ("
	    " version text PRIMARY KEY,"
	    " applied_at timestamptz NOT NULL DEFAULT now())", 0 },
	[ADM_MIGRATION_DONE] = {
	    "SELECT 1 FROM calendence.schema_migrations"
	    " WHERE version = $1", 1 },
	[ADM_MIGRATION_RECORD] = {
	    "INSERT INTO calendence.schema_migrations (version)"
	    " VALUES ($1)", 1 },
	/* for the function files: one may call a function of a later one */
	[ADM_BODIES_UNCHECKED] = { "SET LOCAL check_function_bodies = off", 0 },
	/* every function's body, checked as CREATE FUNCTION would, once all exist */
	[ADM_FUNCTIONS_CHECK] = {
	    "DO $$ DECLARE f record; BEGIN"
	    " PERFORM set_config('check_function_bodies', 'on', true);"
	    " FOR f IN SELECT p.oid, p.oid::regprocedure AS name, l.lanname"
	    "  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang"
	    " WHERE p.pronamespace = 'calendence'::regnamespace"
	    "   AND l.lanname IN ('sql', 'plpgsql') LOOP"
	    " BEGIN"
	    "  IF f.lanname = 'sql' THEN PERFORM fmgr_sql_validator(f.oid);"
	    "  ELSE PERFORM plpgsql_validator(f.oid); END IF;"
	    " EXCEPTION WHEN OTHERS THEN"
	    "  RAISE EXCEPTION '%: %', f.name, SQLERRM USING ERRCODE = SQLSTATE;"
	    " END;"
	    " END LOOP; END $$", 0 },
	/* stored copies of what a function computes, after the function files */
	[ADM_REFRESH_STORED] = { "SELECT calendence.refresh_service_json()", 0 },
	[ADM_CREATE_HUB] = {
	    "SELECT calendence.create_hub($1::text, $2::text) AS id", 2 },
	[ADM_CREATE_BUSINESS] = {
	    "SELECT calendence.create_business($1::uuid, $2::text,"
	    " $3::text, $4::text) AS id", 4 },
	[ADM_ISSUE_KEY] = {
	    "SELECT calendence.issue_key($1::text, $2::uuid,"
	    " $3::text, $4::timestamptz)", 4 },
	/* $1: the token's SHA-256 in hex, hashed here: no token is ever sent */
	[ADM_KEY_BY_HASH] = {
	    "SELECT id FROM calendence.api_keys"
	    " WHERE token_hash = decode($1::text, 'hex')", 1 },
	/* a key by id or display form: the candidates, oldest first */
	[ADM_KEY_RESOLVE] = {
	    "SELECT k.id, k.display, k.kind,"
	    "       calendence.rfc3339(k.created_at) AS created,"
	    "       CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked'"
	    "            WHEN k.expires_at <= now() THEN 'expired'"
	    "            ELSE 'live' END AS state"
	    "  FROM calendence.api_keys k"
	    " WHERE k.id::text = lower($1::text) OR k.display = $1::text"
	    " ORDER BY k.created_at, k.id", 1 },
	[ADM_FIND_KEY] = {
	    "SELECT k.id, k.display, k.kind,"
	    "       coalesce(k.hub_id, k.business_id) AS owner, k.label,"
	    "       calendence.rfc3339(k.created_at) AS created,"
	    "       calendence.rfc3339(k.last_used_at) AS last_used,"
	    "       calendence.rfc3339(k.expires_at) AS expires,"
	    "       calendence.rfc3339(k.revoked_at) AS revoked,"
	    "       array_to_string(k.allowed_origins, ' ') AS origins"
	    "  FROM calendence.api_keys k"
	    " WHERE k.token_hash = decode($1::text, 'hex')", 1 },
	[ADM_LIST_KEYS] = {
	    "SELECT k.id, k.display, k.kind,"
	    "       coalesce(k.hub_id, k.business_id) AS owner, k.label,"
	    "       calendence.rfc3339(k.created_at) AS created,"
	    "       calendence.rfc3339(k.last_used_at) AS last_used,"
	    "       calendence.rfc3339(k.expires_at) AS expires,"
	    "       calendence.rfc3339(k.revoked_at) AS revoked"
	    "  FROM calendence.api_keys k"
	    " WHERE ($1::uuid IS NULL OR k.hub_id = $1::uuid"
	    "        OR k.business_id IN (SELECT b.id"
	    "          FROM calendence.businesses b WHERE b.hub_id = $1::uuid))"
	    "   AND ($2::uuid IS NULL OR k.business_id = $2::uuid)"
	    "   AND ($3::boolean OR (k.revoked_at IS NULL"
	    "        AND (k.expires_at IS NULL OR k.expires_at > now())))"
	    " ORDER BY k.created_at, k.id", 3 },
	[ADM_REVOKE_KEY] = { "SELECT calendence.revoke_key($1::uuid)", 1 },
	/* no --grace: the function's own default */
	[ADM_ROLL_KEY] = {
	    "SELECT calendence.roll_key($1::uuid,"
	    " coalesce($2::interval, interval '24 hours'))", 2 },
	[ADM_KEY_EXPIRES] = {
	    "SELECT calendence.rfc3339(expires_at) FROM calendence.api_keys"
	    " WHERE id = $1::uuid", 1 },
	/* $2: a JSON array of strings, or NULL; no origin at all means any */
	[ADM_SET_ORIGINS] = {
	    "SELECT calendence.set_allowed_origins($1::uuid, nullif(ARRAY("
	    "SELECT json_array_elements_text($2::json)), '{}'::text[]))", 2 },
	/* $1 a key's id: its origins as a JSON array (NULL: any) */
	[ADM_KEY_ORIGINS] = {
	    "SELECT id, to_json(nullif(allowed_origins, '{}')) AS origins"
	    "  FROM calendence.api_keys WHERE id = $1::uuid", 1 },
	[ADM_DEMO_REVOKE] = {
	    "UPDATE calendence.api_keys SET revoked_at = now()"
	    " WHERE label = $3 AND revoked_at IS NULL"
	    "   AND (expires_at IS NULL OR expires_at > now())"
	    "   AND (hub_id = $1::uuid OR business_id = $2::uuid)", 3 },
	[ADM_DEMO_ISSUE] = {
	    "SELECT calendence.issue_key('hub', $1::uuid, $3::text),"
	    "       calendence.issue_key('business', $2::uuid, $3::text),"
	    "       calendence.issue_key('publishable', $2::uuid, $3::text)",
	    3 },
	[ADM_GRANT_WORKER] = {
	    "SELECT calendence.grant_worker($1::text) AS tables", 1 },
	[ADM_MAINTENANCE] = {
	    "SELECT sessions_removed, windows_removed"
	    "  FROM calendence.maintenance()", 0 },
	/*
	 * The booking side (booking.c). A list (SKILL,...) is split here, its
	 * words trimmed; MINUTES is "60" or "60-120"; a deposit "500" is flat,
	 * "25%" a percentage (in hundredths of a percent, as the table keeps it).
	 */
	[ADM_CREATE_SERVICE] = {
	    "SELECT calendence.create_service($1::uuid, $2::text,"
	    " split_part($3::text, '-', 1)::integer, $4::integer,"
	    " nullif(split_part($3::text, '-', 2), '')::integer,"
	    " coalesce($5::text, 'flat'),"
	    " CASE WHEN $6::text IS NULL THEN 'none'"
	    "      WHEN $6::text LIKE '%\\%' THEN 'percentage' ELSE 'flat' END,"
	    " CASE WHEN $6::text LIKE '%\\%'"
	    "      THEN round(rtrim($6::text, '%')::numeric * 100)::integer"
	    "      ELSE coalesce($6::integer, 0) END,"
	    " coalesce($7::integer, 0), coalesce($8::integer, 0), $9::text,"
	    " $10::text, ARRAY(SELECT btrim(s) FROM"
	    "  unnest(string_to_array($11::text, ',')) s WHERE btrim(s) <> ''),"
	    " $12::text) AS id", 12 },
	[ADM_SET_SERVICE_NEEDS] = {
	    "SELECT calendence.set_service_needs($1::uuid, ARRAY(SELECT btrim(s)"
	    " FROM unnest(string_to_array($2::text, ',')) s"
	    " WHERE btrim(s) <> ''), $3::text)", 3 },
	[ADM_CREATE_LOCATION] = {
	    "SELECT calendence.create_location($1::uuid, $2::text, $3::text,"
	    " $4::text, $5::jsonb) AS id", 5 },
	[ADM_SET_LOCATION_HOURS] = {
	    "SELECT calendence.set_location_hours($1::uuid, $2::jsonb)", 2 },
	[ADM_CREATE_STAFF] = {
	    "SELECT calendence.create_staff($1::uuid, $2::text,"
	    " ARRAY(SELECT btrim(s)::uuid FROM"
	    "  unnest(string_to_array($3::text, ',')) s WHERE btrim(s) <> ''),"
	    " ARRAY(SELECT btrim(s) FROM unnest(string_to_array($4::text, ',')) s"
	    "  WHERE btrim(s) <> ''), $5::jsonb) AS id", 5 },
	[ADM_SET_STAFF_HOURS] = {
	    "SELECT calendence.set_staff_hours($1::uuid, $2::jsonb, $3::uuid)",
	    3 },
	[ADM_BLOCK_STAFF_DATE] = {
	    "SELECT calendence.block_staff_date($1::uuid, $2::date, $3::text)",
	    3 },
	[ADM_CREATE_RESOURCE] = {
	    "SELECT calendence.create_resource($1::uuid, $2::text, $3::text)"
	    " AS id", 3 },
	[ADM_BLOCK_RESOURCE] = {
	    "SELECT calendence.block_resource($1::uuid, $2::timestamptz,"
	    " $3::timestamptz, $4::text) AS id", 4 },
	/*
	 * usage: $1 a key's id, $4 a business's (NULL: any); since $2, a time,
	 * or $3, an interval ago (neither: a day)
	 */
	[ADM_USAGE] = {
	    "SELECT calendence.rfc3339(u.hour) AS hour, u.kind, u.display AS key,"
	    "       u.key_id, u.business_id, u.ip, u.admitted,"
	    "       u.refused, u.failed"
	    "  FROM calendence.usage(coalesce($2::timestamptz,"
	    "       now() - coalesce($3::interval, interval '24 hours')),"
	    "       $1::uuid, $4::uuid) u", 4 },
};

/* pg_words' sentences that several constraints share */
#define W_NAME		"a name is 1 to 200 characters, not all blank"
#define W_ZONE		"unknown time zone: use a name PostgreSQL lists, such as" \
			" Europe/Paris"
#define W_NO_HUB	"no hub has this id"
#define W_NO_BUSINESS	"no business has this id"
#define W_NO_LOCATION	"no location has this id"
#define W_NO_STAFF	"no staff member has this id"
#define W_EXISTS	"it exists already"
#define W_KEY_KIND	"a key is hub (of a hub), business or publishable (of a" \
			" business)"
#define W_KEY_MADE	"a key's hash and display form are made by issue-key, not" \
			" by hand"
#define W_SKILLS	"skills are lowercase words of letters, digits, _ and -" \
			" (detail,ceramic_coat)"
#define W_RESOURCE_TYPE	"a resource type is a lowercase word (bay, machine, van)"
#define W_BUFFER	"buffers are zero or more minutes"
#define W_BY_MIDNIGHT	"hours end by 24:00"
#define W_WEEKDAY	"a weekday is 1 (Monday) to 7 (Sunday)"
#define W_REASON	"a reason is at most 500 characters"

/*
 * The database's refusals in words: the first row whose SQLSTATE (NULL:
 * any), constraint (NULL: any) and start of the primary message (NULL: any)
 * match says 'say'; when it matched a start of message, the rest of that
 * message follows (the value PostgreSQL quotes). No row: the message as it
 * is, which for the calendence functions' own RAISEs (22023) is a sentence.
 * Every constraint of the tables the commands write has its row
 * (tests/run.sh admin_tool_more holds it to pg_constraint).
 */
static const struct pg_words {
	const char	*state;
	const char	*constraint;
	const char	*prefix;
	const char	*say;
} pg_words[] = {
	{ "23514", "api_keys_origins_publishable_only", NULL,
	    "only publishable keys have allowed origins" },
	{ "23514", "api_keys_label_check", NULL,
	    "a label is at most 200 characters" },
	{ "23514", "api_keys_kind_check", NULL,
	    W_KEY_KIND },
	{ "23514", "api_keys_owner_matches_kind", NULL,
	    W_KEY_KIND },
	{ "23514", "api_keys_display_check", NULL,
	    W_KEY_MADE },
	{ "23514", "api_keys_display_matches_kind", NULL,
	    W_KEY_MADE },
	{ "23514", "api_keys_token_hash_check", NULL,
	    W_KEY_MADE },
	{ "23505", "api_keys_token_hash_key", NULL,
	    "the new token collided with another; run the command again" },
	{ "23503", "api_keys_hub_id_fkey", NULL,
	    W_NO_HUB },
	{ "23503", "api_keys_business_id_fkey", NULL,
	    W_NO_BUSINESS },
	{ "23514", "hubs_name_check", NULL,
	    W_NAME },
	{ "23503", "hubs_plan_fkey", NULL,
	    "no such plan" },
	{ "23514", "businesses_name_check", NULL,
	    W_NAME },
	{ "23514", "businesses_slug_check", NULL,
	    "a slug is lowercase letters and digits joined by single hyphens,"
	    " at most 100 characters (acme-wash)" },
	{ "23505", "businesses_slug_key", NULL,
	    "another business has this slug; choose another" },
	{ "23514", "businesses_timezone_check", NULL,
	    W_ZONE },
	{ "23514", "businesses_slot_minutes_check", NULL,
	    "slot_minutes is one of 5, 10, 15, 20, 30 and 60" },
	{ "23514", "businesses_booking_horizon_days_check", NULL,
	    "booking_horizon_days is 1 to 3650" },
	{ "23503", "businesses_hub_id_fkey", NULL,
	    W_NO_HUB },
	{ "23514", "services_name_check", NULL,
	    W_NAME },
	{ "23514", "services_description_check", NULL,
	    "a description is at most 5000 characters" },
	{ "23514", "services_category_check", NULL,
	    "a category is at most 200 characters" },
	{ "23514", "services_duration_min_check", NULL,
	    "a service lasts a positive number of minutes" },
	{ "23514", "services_check", NULL,
	    "a service's longest duration is no shorter than its shortest" },
	{ "23514", "services_rate_check", NULL,
	    "a rate is zero or more, in minor units (cents)" },
	{ "23514", "services_rate_type_check", NULL,
	    "a rate type is flat or hourly" },
	{ "23514", "services_deposit_type_check", NULL,
	    "a deposit type is none, flat or percentage" },
	{ "23514", "services_deposit_amount_check", NULL,
	    "a deposit is zero or more" },
	{ "23514", "services_check1", NULL,
	    "a service without a deposit has a deposit amount of 0" },
	{ "23514", "services_check2", NULL,
	    "a percentage deposit is at most 10000 (hundredths of a percent)" },
	{ "23514", "services_buffer_before_min_check", NULL,
	    W_BUFFER },
	{ "23514", "services_buffer_after_min_check", NULL,
	    W_BUFFER },
	{ "23514", "services_custom_fields_check", NULL,
	    "custom fields are a JSON array of objects with id, label, type"
	    " (text, textarea, select), required and options" },
	{ "23514", "services_required_skills_check", NULL,
	    W_SKILLS },
	{ "23514", "services_resource_type_check", NULL,
	    W_RESOURCE_TYPE },
	{ "23503", "services_business_id_fkey", NULL,
	    W_NO_BUSINESS },
	{ "23505", "services_id_business", NULL,
	    W_EXISTS },
	{ "23514", "locations_name_check", NULL,
	    W_NAME },
	{ "23514", "locations_address_check", NULL,
	    "an address is at most 500 characters" },
	{ "23514", "locations_timezone_check", NULL,
	    W_ZONE },
	{ "23503", "locations_business_id_fkey", NULL,
	    W_NO_BUSINESS },
	{ "23505", "locations_id_business_id_key", NULL,
	    W_EXISTS },
	{ "23514", "location_hours_check", NULL,
	    "each range of hours opens before it closes" },
	{ "23514", "location_hours_closes_check", NULL,
	    W_BY_MIDNIGHT },
	{ "23514", "location_hours_weekday_check", NULL,
	    W_WEEKDAY },
	{ "23505", "location_hours_pkey", NULL,
	    "two ranges of hours open at the same time on one day" },
	{ "23503", "location_hours_location_id_fkey", NULL,
	    W_NO_LOCATION },
	{ "23514", "staff_name_check", NULL,
	    W_NAME },
	{ "23514", "staff_skills_check", NULL,
	    W_SKILLS },
	{ "23503", "staff_business_id_fkey", NULL,
	    W_NO_BUSINESS },
	{ "23505", "staff_id_business_id_key", NULL,
	    W_EXISTS },
	{ "23503", "staff_locations_staff_id_business_id_fkey", NULL,
	    "no staff member of this business has this id" },
	{ "23503", "staff_locations_location_id_business_id_fkey", NULL,
	    "every location must be one of the staff member's business" },
	{ "23505", "staff_locations_pkey", NULL,
	    "the staff member works at this location already" },
	{ "23514", "staff_hours_check", NULL,
	    "each range of hours starts before it ends" },
	{ "23514", "staff_hours_ends_check", NULL,
	    W_BY_MIDNIGHT },
	{ "23514", "staff_hours_weekday_check", NULL,
	    W_WEEKDAY },
	{ "23505", "staff_hours_staff_id_location_id_weekday_starts_key", NULL,
	    "two ranges of hours start at the same time on one day" },
	{ "23503", "staff_hours_staff_id_fkey", NULL,
	    W_NO_STAFF },
	{ "23503", "staff_hours_staff_id_location_id_fkey", NULL,
	    "the staff member does not work at that location" },
	{ "23503", "staff_blocked_dates_staff_id_fkey", NULL,
	    W_NO_STAFF },
	{ "23514", "staff_blocked_dates_reason_check", NULL,
	    W_REASON },
	{ "23514", "resources_name_check", NULL,
	    W_NAME },
	{ "23514", "resources_type_check", NULL,
	    W_RESOURCE_TYPE },
	{ "23503", "resources_location_id_business_id_fkey", NULL,
	    W_NO_LOCATION },
	{ "23505", "resources_id_location_id_key", NULL,
	    W_EXISTS },
	{ "23503", "resource_blocks_resource_id_fkey", NULL,
	    "no resource has this id" },
	{ "23514", "resource_blocks_reason_check", NULL,
	    W_REASON },
	{ "23514", "resource_blocks_during_check", NULL,
	    "a block needs a start, before its end" },
	{ "23503", NULL, NULL, "it names something that does not exist" },
	{ "23505", NULL, NULL, "it exists already" },
	{ "23514", NULL, NULL, "a value is out of the allowed range" },
	{ "23502", NULL, NULL, "a required value is missing" },
	{ NULL, NULL, "invalid input syntax for type uuid: ",
	    "not an id (a UUID, as the create-* commands print): " },
	{ NULL, NULL, "invalid input syntax for type integer: ",
	    "not a whole number: " },
	{ NULL, NULL, "invalid input syntax for type numeric: ",
	    "not a number: " },
	{ NULL, NULL, "invalid input syntax for type date: ",
	    "not a date (YYYY-MM-DD): " },
	{ NULL, NULL, "invalid input syntax for type timestamp with time zone: ",
	    "not a time (2026-12-01T08:00:00-06:00): " },
	{ NULL, NULL, "invalid input syntax for type interval: ",
	    "not an interval ('1 hour', '30 minutes'): " },
	{ NULL, NULL, "invalid input syntax for type json",
	    "not JSON (hours: {\"monday\": [\"09:00-17:00\"]})" },
	{ NULL, NULL, "value too long for type ", "a value is too long: " },
	{ NULL, NULL, "date/time field value out of range: ",
	    "not a valid date or time: " },
	{ "22008", NULL, NULL, "not a valid date or time" },
	{ "22003", NULL, NULL, "a number out of range" },
	{ "42883", NULL, NULL, "the database lacks calendence's functions:"
	    " run " PROG " migrate" },
	{ "3F000", NULL, NULL, "the database has no calendence schema:"
	    " run " PROG " migrate" },
};

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* The row of pg_words for this refusal, or NULL. */
static const struct pg_words *
pg_words_find(const char *state, const char *constraint, const char *msg)
{
	size_t	 i;

	for (i = 0; i < nitems(pg_words); i++) {
		const struct pg_words *w = &pg_words[i];

		if ((w->state == NULL || (state != NULL &&
		    strcmp(w->state, state) == 0)) &&
		    (w->constraint == NULL || (constraint != NULL &&
		    strcmp(w->constraint, constraint) == 0)) &&
		    (w->prefix == NULL ||
		    strncmp(msg, w->prefix, strlen(w->prefix)) == 0))
			return w;
	}
	return NULL;
}

/*
 * Writes "calendence-admin: " and the message on stderr, through the
 * worker's redaction (log.c): a database error may echo an argument, and a
 * token given where an id belongs must not reach a terminal's scrollback.
 */
void
adm_errmsg(const char *fmt, ...)
{
	char	 line[MSG_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_redact(line, sizeof(line));
	fprintf(stderr, PROG ": %s\n", line);
}

/*
 * Says why the database refused, after 'what' (NULL: the command's name):
 * in pg_words' words when a row matches, else PostgreSQL's primary message
 * (or, without one, the first line of the connection's); then its hint.
 */
void
adm_pg_warn(PGconn *db, const PGresult *res, const char *what)
{
	const struct pg_words	*w = NULL;
	const char		*msg = NULL, *hint = NULL, *rest = "";

	if (res != NULL) {
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	}
	if (msg == NULL && db != NULL)
		msg = PQerrorMessage(db);
	if ((msg == NULL || *msg == '\0') && res != NULL)
		msg = PQresStatus(PQresultStatus(res));
	if (msg == NULL || *msg == '\0')
		msg = "unknown database error";
	if (res != NULL && (w = pg_words_find(
	    PQresultErrorField(res, PG_DIAG_SQLSTATE),
	    PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME), msg)) != NULL)
		rest = w->prefix != NULL ? msg + strlen(w->prefix) : "";
	if (what == NULL)
		what = adm_cmd_name();
	if (w != NULL)
		msg = w->say;
	adm_errmsg("%s: %s%.*s", what, msg, (int)strcspn(rest, "\n"), rest);
	/* PostgreSQL's own hints (datestyle, casts) would confuse our words */
	if (hint != NULL && w == NULL)
		adm_errmsg("%s: hint: %.*s", what, (int)strcspn(hint, "\n"), hint);
}

/* Shows the server's warnings; its notices ("already exists") are noise. */
static void
notice_rx(void *arg, const PGresult *res)
{
	const char	*sev;

	(void)arg;
	sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	if (sev != NULL && strcmp(sev, "WARNING") == 0)
		adm_pg_warn(NULL, res, "warning");
}

bool
adm_result_ok(const PGresult *res)
{
	return res != NULL && (PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK);
}

/*
 * Runs statement 'st' with its parameters (NULL ones are SQL NULLs).
 * Returns the result for the caller to PQclear, or NULL once the error
 * has been printed, after 'what' when not NULL.
 */
static PGresult *
query_about(PGconn *db, const char *what, enum adm_stmt st,
    const char *const *params)
{
	PGresult	*res;

	res = PQexecParams(db, adm_stmts[st].sql, adm_stmts[st].nparams, NULL,
	    params, NULL, NULL, 0);
	if (!adm_result_ok(res)) {
		adm_pg_warn(db, res, what);
		PQclear(res);
		return NULL;
	}
	return res;
}

/* query_about without the 'what': the error is printed as it is. */
PGresult *
adm_query(PGconn *db, enum adm_stmt st, const char *const *params)
{
	return query_about(db, NULL, st, params);
}

/* Runs 'st' for its effect: 0, or -1 once the error has been printed. */
int
adm_exec(PGconn *db, enum adm_stmt st, const char *const *params)
{
	PGresult	*res;

	if ((res = adm_query(db, st, params)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* Ends a transaction that failed, if one is open; its error is already out. */
void
adm_rollback(PGconn *db)
{
	if (PQtransactionStatus(db) != PQTRANS_IDLE)
		PQclear(PQexecParams(db, adm_stmts[ADM_ROLLBACK].sql, 0, NULL,
		    NULL, NULL, NULL, 0));
}

/* Overwrites a secret held in a result, before PQclear frees it. */
void
adm_wipe_value(PGresult *res, int row, int col)
{
	sodium_memzero(PQgetvalue(res, row, col), PQgetlength(res, row, col));
}

/*
 * Checks that what the database answered as a token is one, in the
 * worker's format (token.c), of kind 'want' (TOKEN__MAX: any kind), before
 * it is shown. 0, or -1 once said, without the value.
 */
int
adm_token_check(const char *s, enum token_kind want)
{
	enum token_kind	 kind;

	if (token_parse(s, strlen(s), &kind) == -1 ||
	    (want != TOKEN__MAX && kind != want)) {
		adm_errmsg("the database answered no well-formed %s token",
		    want != TOKEN__MAX ? token_kind_name(want) : "API");
		return -1;
	}
	return 0;
}

/* Prints the one value 'st' returns (--json: {column: value}): 0, or 1. */
int
adm_print_value(PGconn *db, const struct adm_args *a, enum adm_stmt st,
    const char *const *params)
{
	PGresult	*res;
	int		 rc;

	if ((res = adm_query(db, st, params)) == NULL)
		return 1;
	rc = adm_print(a, res, ADM_VALUE) == 0 ? 0 : 1;
	PQclear(res);
	return rc;
}

/* Connects with 'conninfo' (NULL: the environment alone), or prints why not. */
PGconn *
adm_connect(const char *conninfo)
{
	const char *const	 keys[] = {
	    "dbname", "fallback_application_name", NULL };
	const char *const	 values[] = { conninfo, PROG, NULL };
	PGconn			*db;

	if ((db = PQconnectdbParams(keys, values, 1)) == NULL) {
		adm_errmsg("out of memory");
		return NULL;
	}
	if (PQstatus(db) != CONNECTION_OK) {
		adm_pg_warn(db, NULL, NULL);
		PQfinish(db);
		return NULL;
	}
	PQsetNoticeReceiver(db, notice_rx, NULL);
	return db;
}
