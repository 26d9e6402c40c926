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
	[ADM_CREATE_HUB] = {
	    "SELECT calendence.create_hub($1::text, $2::text)", 2 },
	[ADM_CREATE_BUSINESS] = {
	    "SELECT calendence.create_business($1::uuid, $2::text,"
	    " $3::text, $4::text)", 4 },
	[ADM_ISSUE_KEY] = {
	    "SELECT calendence.issue_key($1::text, $2::uuid,"
	    " $3::text, $4::timestamptz)", 4 },
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
	[ADM_MAINTENANCE] = {
	    "SELECT sessions_removed, windows_removed"
	    "  FROM calendence.maintenance()", 0 },
};

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
 * Prints PostgreSQL's primary message for 'res' (or, without one, the
 * first line of the connection's message), after 'what' when not NULL.
 */
void
adm_pg_warn(PGconn *db, const PGresult *res, const char *what)
{
	const char	*msg = NULL;

	if (res != NULL)
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (msg == NULL && db != NULL)
		msg = PQerrorMessage(db);
	if ((msg == NULL || *msg == '\0') && res != NULL)
		msg = PQresStatus(PQresultStatus(res));
	if (msg == NULL || *msg == '\0')
		msg = "unknown database error";
	if (what != NULL)
		adm_errmsg("%s: %.*s", what, (int)strcspn(msg, "\n"), msg);
	else
		adm_errmsg("%.*s", (int)strcspn(msg, "\n"), msg);
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

/* Prints the one value 'st' returns: 0, or 1 after an error. */
int
adm_print_value(PGconn *db, enum adm_stmt st, const char *const *params)
{
	PGresult	*res;

	if ((res = adm_query(db, st, params)) == NULL)
		return 1;
	puts(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/*
 * Prints the token 'st' returns, the only time it is ever shown, once
 * adm_token_check has found it well formed; wipes it. 0, or 1.
 */
int
adm_print_token(PGconn *db, enum adm_stmt st, const char *const *params)
{
	PGresult	*res;
	int		 rc = 1;

	if ((res = adm_query(db, st, params)) == NULL)
		return 1;
	if (adm_token_check(PQgetvalue(res, 0, 0), TOKEN__MAX) == -1)
		goto out;
	puts(PQgetvalue(res, 0, 0));
	fflush(stdout);
	adm_errmsg("store this token now: it cannot be shown again");
	rc = 0;
 out:
	adm_wipe_value(res, 0, 0);
	PQclear(res);
	return rc;
}

/* Writes s with control characters, which could upset a terminal, as '?'. */
static void
put_field(const char *s)
{
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

/* Prints a result as tab-separated columns under a header of their names. */
void
adm_print_table(const PGresult *res)
{
	int	 i, j, ncols = PQnfields(res);

	for (j = 0; j < ncols; j++)
		printf("%s%s", j > 0 ? "\t" : "", PQfname(res, j));
	putchar('\n');
	for (i = 0; i < PQntuples(res); i++) {
		for (j = 0; j < ncols; j++) {
			if (j > 0)
				putchar('\t');
			put_field(PQgetvalue(res, i, j));
		}
		putchar('\n');
	}
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
