/* fixture.h: database fixtures (hubs, businesses, keys, plans, services) for the tests. */

#ifndef CALENDENCE_TESTS_FIXTURE_H
#define CALENDENCE_TESTS_FIXTURE_H

#include <libpq-fe.h>

#if defined(__GNUC__)
#define FX_SENTINEL	__attribute__((sentinel))
#else
#define FX_SENTINEL
#endif

/*
 * Every function here aborts the test, with the statement and PostgreSQL's
 * message on stderr, when the database refuses or cannot be reached. Every
 * returned string is malloc'd and belongs to the caller.
 */

/*
 * The connection of this process, opened on first use from the libpq
 * environment (PGHOST, PGPORT, PGDATABASE, PGUSER ...) and closed at exit.
 */
PGconn	*fx_db(void);

/* Passed as a parameter to fx_exec() or fx_value(), sends SQL NULL. */
extern const char	 fx_sql_null[];
#define FX_NULL		 fx_sql_null

/*
 * Runs one statement; the variadic arguments are its text parameters $1, $2 ...
 * (at most 16) and end with NULL:
 *	fx_exec("UPDATE calendence.api_keys SET revoked_at = now() WHERE id = $1",
 *	    id, NULL);
 */
void	 fx_exec(const char *sql, ...) FX_SENTINEL;

/* As fx_exec(); returns the first column of the first row, or NULL for no row or SQL NULL. */
char	*fx_value(const char *sql, ...) FX_SENTINEL;

/* A new hub on 'plan' with a unique name; returns its id. */
char	*fx_hub(const char *plan);

/*
 * A new business of 'hub_id' in time zone 'tz' (NULL: "America/Chicago") with a
 * unique name, its slug derived from the name; returns its id.
 */
char	*fx_business(const char *hub_id, const char *tz);

/* A new key ('hub', 'business' or 'publishable') of 'owner_id'; returns the token. */
char	*fx_key(const char *kind, const char *owner_id);

/* The api_keys.id of 'token', or NULL when no key has that token. */
char	*fx_key_id(const char *token);

/* A new plan with these limits and a unique code "t_..."; returns the code. */
char	*fx_plan(int per_minute, int per_hour, int session_per_ip, int full_access);

/*
 * A new service of 'business_id' called 'name' (NULL: a unique name), 30 minutes,
 * rate 1000 flat, active or not; returns its id.
 */
char	*fx_service(const char *business_id, const char *name, int active);

#endif
