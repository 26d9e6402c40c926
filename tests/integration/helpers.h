/* helpers.h: what the integration tests share: SQL errors, result columns, authenticate(), clocks. */

#ifndef CALENDENCE_TESTS_INTEGRATION_HELPERS_H
#define CALENDENCE_TESTS_INTEGRATION_HELPERS_H

#include <libpq-fe.h>

#include "db.h"
#include "fixture.h"
#include "router.h"
#include "token.h"

/*
 * Every function here runs on fx_db() and fails the current test (Criterion
 * assertion) when the database does not answer as it must; call them only
 * from a test's own thread. Returned strings are malloc'd for the caller.
 */

/*
 * Expects the string 'got' to equal 'want' (either may be NULL, which equals
 * only NULL); an optional printf format and its arguments name the case. A
 * failure shows both values, the case and the caller's file and line.
 */
#define it_str_eq(got, ...) \
	it_str_eq_at(__FILE__, __LINE__, (got), __VA_ARGS__, (const char *)NULL)
void		 it_str_eq_at(const char *file, int line, const char *got, const char *want,
		    const char *fmt, ...);

/*
 * Runs a statement that must succeed; the variadic arguments are its text
 * parameters, NULL-terminated, FX_NULL for SQL NULL (as fx_exec()).
 * Returns the result for the caller to PQclear().
 */
PGresult	*it_query(const char *sql, ...) FX_SENTINEL;
PGresult	*it_authenticate(const char *, const char *, int, const char *,
		    const char *, const char *, const char *);
PGresult	*it_admit(const char *, const char *, const char *, const char *,
		    const char *, const char *);
enum admit_variant it_admit_variant(const char *);
PGresult	*it_admit_as(enum admit_variant, const char *, const char *, const char *,
		    const char *, const char *, const char *);

/* As it_query() with n parameters in an array (NULL: SQL NULL). */
PGresult	*it_queryv(const char *sql, int n, const char *const *params);

/*
 * Runs a statement that may fail. Returns the SQLSTATE of its error
 * ("23514" ...), or NULL when it succeeded.
 */
char		*it_sqlstate(const char *sql, ...) FX_SENTINEL;

/*
 * As it_sqlstate() with n parameters in an array, each declared as text (so
 * that the statement may leave some unused; it casts the others itself).
 */
char		*it_sqlstatev(const char *sql, int n, const char *const *params);

/*
 * The value of column 'name' in row 'row' of 'res', or NULL for SQL NULL.
 * The test fails when the result has no such row or column. The pointer
 * belongs to 'res'.
 */
const char	*it_col(const PGresult *res, int row, const char *name);

/* The lowercase hex of C's SHA-256 of 'token' (token_hash()); 64 characters. */
char		*it_hash_hex(const char *token);

/* A fresh token made by C's token_generate(). */
char		*it_token(enum token_kind kind);

/*
 * calendence.authenticate() for 'token' (hashed in C, as the worker does);
 * 'business' and 'origin' may be NULL. Returns its single row.
 */
PGresult	*it_auth(const char *token, const char *kind, int exchange, const char *ip,
		    const char *business, const char *origin, int auth_limit);

/* A client IP address that no other test (or earlier run) uses. */
void		 it_ip(char buf[64]);

/* The database's clock (clock_timestamp()) in Unix seconds. */
long long	 it_now(void);

/*
 * Sleeps until the database's clock is at least 12 seconds away from the
 * end of its minute, so that a short test sees one minute window only.
 */
void		 it_avoid_minute_edge(void);

/*
 * Sleeps until the database's clock is more than secs seconds away from the
 * next 5-minute mark (where a kept GET /availability answer ends:
 * availability_fresh_until()).
 */
void		 it_avoid_five_minute_edge(int secs);

/*
 * Tests that must take turns (in the -j2 run) hold a lock named 'what'
 * (a session advisory lock, "calendence tests: " + what) from
 * it_turn(what, 1) to it_turn(what, 0); holds of one name nest.
 */
void		 it_turn(const char *what, int hold);

/*
 * calendence.maintenance() (its one row), one test at a time (the turn
 * "maintenance"): it removes and folds every test's dead rows, skipping
 * those another call has locked. A test that counts what its own call
 * removed holds that turn from its set-up.
 */
PGresult	*it_maintenance(void);

/*
 * The start of an hour a day or more ahead, for tests that pass their own
 * now_epoch: calendence.maintenance(), run by a parallel test, never
 * removes a window of the future.
 */
long long	 it_future_hour(void);

/* A session made by calendence.create_session() with a C-made token. */
struct it_session {
	char	*token;
	char	*id;
	char	*expires_at;	/* as create_session() returns it */
};

/*
 * Creates a session of 'business' made through publishable key 'pk_id',
 * 'root' NULL for a first session; frees with it_session_free().
 */
void		 it_session_new(struct it_session *s, const char *business, const char *pk_id,
		    const char *root);
void		 it_session_free(struct it_session *s);

/* One call of a concurrent run: what the statement answered. */
struct it_call {
	int		admitted;	/* 1 or 0 */
	int		minute_count;
	int		hour_count;	/* -1 for SQL NULL */
	long long	now_epoch;
};

/*
 * Runs 'sql' (its columns: admitted, minute_count, hour_count, now_epoch)
 * 'calls' times in each of 'threads' threads at once, each thread on a
 * connection of its own (PQconnectdb() from the libpq environment, not
 * fx_db()), with the same n text parameters. All threads start together.
 * Returns threads * calls results (malloc'd, for the caller to free), in no
 * particular order; the test fails when a connection or a call fails.
 */
struct it_call	*it_concurrent(const char *sql, int n, const char *const *params,
		    int threads, int calls);

/*
 * A worker in the test's process, as a worker process sets itself up: the
 * defaults, the PG* environment of the tests, these caches (KiB) and
 * prepared statements; connected, with r its request.
 */
struct worker;
struct request;
void		 it_worker_up(struct worker *w, struct request *r, int catalogue_kib,
		    int answers_kib, enum db_prepare prepare);
void		 it_worker_down(struct worker *w, struct request *r);

/*
 * A GET of route with query and token's Bearer through the worker's own
 * path (auth_or_reply(), then the route's handler); the round trips it took.
 */
unsigned long	 it_serve(struct worker *w, struct request *r, enum route_id route,
		    const char *token, const char *query);

#endif
