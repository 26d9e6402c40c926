/* db.c: one connection per worker, a table of prepared statements, reconnect. */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

static const struct db_stmt stmts[STMT__MAX] = {
	[STMT_AUTHENTICATE] = { "authenticate",
	    "SELECT * FROM calendence.authenticate($1::bytea, $2, $3::boolean, $4, "
	    "$5::uuid, $6, $7::integer)",
	    .nparams = 7, .retry = DB_RETRY_NEVER },
	[STMT_AUTH_FAIL] = { "auth_fail",
	    "SELECT * FROM calendence.auth_fail($1, $2::integer)",
	    .nparams = 2, .retry = DB_RETRY_NEVER },
	[STMT_SESSION_CREATE] = { "session_create",
	    "SELECT * FROM calendence.create_session($1::bytea, $2::uuid, $3::uuid, "
	    "$4::uuid, $5::inet)",
	    .nparams = 5, .retry = DB_RETRY_SAFE },
	[STMT_SESSION_END] = { "session_end",
	    "UPDATE calendence.sessions SET revoked_at = now() "
	    "WHERE id = $1::uuid AND revoked_at IS NULL",
	    .nparams = 1, .retry = DB_RETRY_SAFE },
	[STMT_SERVICES_LIST] = { "services_list",
	    "SELECT (SELECT count(*) FROM calendence.services "
	    "WHERE business_id = $1::uuid AND is_active), "
	    "coalesce((SELECT '[' || string_agg(calendence.service_json(s)::text, ',' "
	    "ORDER BY s.name, s.id) || ']' "
	    "FROM (SELECT * FROM calendence.services WHERE business_id = $1::uuid "
	    "AND is_active ORDER BY name, id LIMIT $2::integer OFFSET $3::bigint) s), "
	    "'[]')",
	    .nparams = 3, .retry = DB_RETRY_SAFE },
	[STMT_SERVICES_GET] = { "services_get",
	    "SELECT calendence.service_json(s) FROM calendence.services s "
	    "WHERE s.id = $1::uuid AND s.business_id = $2::uuid AND s.is_active",
	    .nparams = 2, .retry = DB_RETRY_SAFE },
	[STMT_BUSINESSES_LIST] = { "businesses_list",
	    "SELECT (SELECT count(*) FROM calendence.businesses "
	    "WHERE hub_id = $1::uuid AND ($2::uuid IS NULL OR id = $2::uuid)), "
	    "coalesce((SELECT '[' || string_agg(calendence.business_json(b)::text, ',' "
	    "ORDER BY b.name, b.id) || ']' "
	    "FROM (SELECT * FROM calendence.businesses WHERE hub_id = $1::uuid "
	    "AND ($2::uuid IS NULL OR id = $2::uuid) ORDER BY name, id "
	    "LIMIT $3::integer OFFSET $4::bigint) b), '[]')",
	    .nparams = 4, .retry = DB_RETRY_SAFE },
	[STMT_BUSINESSES_GET] = { "businesses_get",
	    "SELECT calendence.business_json(b) FROM calendence.businesses b "
	    "WHERE b.id = $1::uuid AND b.hub_id = $2::uuid "
	    "AND ($3::uuid IS NULL OR b.id = $3::uuid)",
	    .nparams = 3, .retry = DB_RETRY_SAFE },
	[STMT_LOCATIONS_LIST] = { "locations_list",
	    "SELECT * FROM calendence.locations_json($1::uuid, $2::integer, $3::bigint)",
	    .nparams = 3, .retry = DB_RETRY_SAFE },
	[STMT_AVAILABILITY] = { "availability",
	    "SELECT * FROM calendence.availability($1::uuid, $2, $3, $4, $5, $6)",
	    .nparams = 6, .retry = DB_RETRY_SAFE },
	[STMT_HOLD] = { "hold",
	    "SELECT * FROM calendence.hold($1::uuid, $2, $3, $4, $5, $6::uuid, $7::uuid, "
	    "$8)",
	    .nparams = 8, .retry = DB_RETRY_KEYED, .key_param = 7 },
	[STMT_BOOK] = { "book",
	    "SELECT * FROM calendence.book($1::uuid, $2, $3::jsonb, $4::jsonb, $5, "
	    "$6::uuid, $7::uuid, $8)",
	    .nparams = 8, .retry = DB_RETRY_KEYED, .key_param = 7 },
	[STMT_BOOKINGS_LIST] = { "bookings_list",
	    "SELECT * FROM calendence.bookings_list($1::uuid, $2, $3, $4, $5::integer, "
	    "$6::bigint, $7::uuid)",
	    .nparams = 7, .retry = DB_RETRY_SAFE },
	[STMT_BOOKINGS_GET] = { "bookings_get",
	    "SELECT calendence.booking_json($1::uuid, $2, $3::uuid)",
	    .nparams = 3, .retry = DB_RETRY_SAFE },
	[STMT_BOOKINGS_CANCEL] = { "bookings_cancel",
	    "SELECT * FROM calendence.cancel_booking($1::uuid, $2, $3::uuid)",
	    .nparams = 3, .retry = DB_RETRY_SAFE },
	[STMT_MAINTENANCE] = { "maintenance",
	    "SELECT m.*, b.* FROM calendence.maintenance() m, "
	    "calendence.booking_maintenance() b",
	    .nparams = 0, .retry = DB_RETRY_SAFE },
	[STMT_PING] = { "ping",
	    "SELECT 1",
	    .nparams = 0, .retry = DB_RETRY_SAFE },
};

/* Sets up db; nothing is connected until first use. */
void
db_init(struct db *db, const char *conninfo, enum log_level ll, enum db_prepare p)
{
	memset(db, 0, sizeof(*db));
	db->conninfo = conninfo;
	db->prepare = p;
	db->log_level = ll;
	db->up = 1;	/* so that a first failure is logged */
}

void
db_cleanup(struct db *db)
{
	PQfinish(db->conn);
	db->conn = NULL;
}

/* How many parameters the statement takes. */
int
db_nparams(enum stmt s)
{
	return stmts[s].nparams;
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

static int
prepare_all(struct db *db)
{
	PGresult	*res;
	int		 i, ok;

	for (i = 0; i < STMT__MAX; i++) {
		res = PQprepare(db->conn, stmts[i].name, stmts[i].sql,
		    stmts[i].nparams, NULL);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		if (!ok)
			log_msg(db->log_level, LOG_LEVEL_ERROR, "prepare %s: %s",
			    stmts[i].name, PQresultErrorMessage(res));
		PQclear(res);
		if (!ok)
			return -1;
	}
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
 * Makes sure there is a live connection with every statement prepared.
 * Returns 0, or -1 when the database cannot be reached (attempts are spaced
 * a quarter of a second apart, so a dead database is not hammered).
 */
int
db_connect(struct db *db)
{
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	if (too_soon(db))
		return -1;
	PQfinish(db->conn);
	db->conn = PQconnectdb(db->conninfo);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		mark(db, 0, PQerrorMessage(db->conn));
		PQfinish(db->conn);
		db->conn = NULL;
		return -1;
	}
	db->prepared = 0;
	if (db->prepare != DB_PREPARE_OFF) {
		if (prepare_all(db) == 0)
			db->prepared = 1;
		else if (db->prepare == DB_PREPARE_ON || PQstatus(db->conn) != CONNECTION_OK) {
			mark(db, 0, "could not prepare statements");
			PQfinish(db->conn);
			db->conn = NULL;
			return -1;
		}
	}
	mark(db, 1, NULL);
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
 * One round trip: the prepared statement, or, without prepared statements
 * (PgBouncer's transaction pooling hands each transaction to any server
 * connection), the same text as an unnamed statement with parameters.
 */
static PGresult *
exec_once(struct db *db, enum stmt s, const char *const *params)
{
	db->round_trips++;
	if (db->prepared)
		return PQexecPrepared(db->conn, stmts[s].name, stmts[s].nparams,
		    params, NULL, NULL, 0);
	return PQexecParams(db->conn, stmts[s].sql, stmts[s].nparams, NULL, params,
	    NULL, NULL, 0);
}

/* True when a prepared statement went missing: a pooler swapped connections. */
static int
lost_prepared(struct db *db, const char *state)
{
	if (!db->prepared || db->prepare != DB_PREPARE_AUTO || state == NULL ||
	    strcmp(state, "26000") != 0)
		return 0;
	log_msg(db->log_level, LOG_LEVEL_WARN, "prepared statements do not survive "
	    "on this connection (a pooler in transaction mode?): using unnamed ones");
	db->prepared = 0;
	return 1;
}

/*
 * Runs prepared statement s with text parameters (NULL is SQL NULL). On
 * DB_OK *out holds the result, which the caller clears; otherwise *out is
 * NULL. A connection lost before the statement ran is re-established and
 * the statement tried once more.
 */
enum db_status
db_exec(struct db *db, enum stmt s, const char *const *params, PGresult **out)
{
	PGresult	*res;
	int		 st, attempt;

	*out = NULL;
	for (attempt = 0; attempt < 2; attempt++) {
		if (db_connect(db) == -1)
			return DB_UNAVAILABLE;
		res = exec_once(db, s, params);
		st = PQresultStatus(res);
		if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
			*out = res;
			return DB_OK;
		}
		/*
		 * An error without a SQLSTATE is libpq's own: the connection
		 * broke. A session that a restarted server ended while the
		 * worker was idle is found dead only by this statement, and
		 * libpq may still call the connection OK: reconnect and retry,
		 * as for CONNECTION_BAD, rather than answer 503.
		 */
		if (PQstatus(db->conn) == CONNECTION_OK &&
		    PQresultErrorField(res, PG_DIAG_SQLSTATE) != NULL) {
			const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			int t = transient(state);

			if (lost_prepared(db, state)) {
				PQclear(res);
				continue;
			}
			log_msg(db->log_level, t ? LOG_LEVEL_WARN : LOG_LEVEL_ERROR,
			    "statement %s: %s", stmts[s].name,
			    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
			PQclear(res);
			return t ? DB_UNAVAILABLE : DB_ERROR;
		}
		PQclear(res);
		mark(db, 0, PQerrorMessage(db->conn));
		PQfinish(db->conn);
		db->conn = NULL;
		memset(&db->next_try, 0, sizeof(db->next_try));
	}
	return DB_UNAVAILABLE;
}
