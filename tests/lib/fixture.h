/* fixture.h: database fixtures (hubs, businesses, keys, plans, services) for the tests. */

#ifndef CALENDENCE_TESTS_FIXTURE_H
#define CALENDENCE_TESTS_FIXTURE_H

#include <stddef.h>

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

/*
 * Tokens and the run's secrets check (tests/secrets.sh): a token is cal_hub_,
 * cal_biz_, cal_pub_ or cal_ses_ and 38 base62 characters (FX_TOKEN_LEN in
 * all). fx_token_find() returns the first one in s[0..len), or NULL.
 * fx_token_seen() appends every token in s[0..len) to the file named by the
 * environment variable CALENDENCE_TOKEN_LOG (one per line; nothing when it is
 * unset), so that the run can look for each of them in every file it left
 * behind. fx_value() records the tokens it returns, and the HTTP client
 * those of every request and answer.
 */
#define FX_TOKEN_LEN	46
const char	*fx_token_find(const char *s, size_t len);

/* A webhook secret: "whsec_" and 32 base62 characters; the first in s[0..len), or NULL. */
#define FX_SECRET_LEN	38
const char	*fx_secret_find(const char *s, size_t len);
void		 fx_token_seen(const char *s, size_t len);

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

/* The week of every location and staff member made here: 09:00-17:00 every day. */
#define FX_WEEK_HOURS	"{\"monday\":[\"09:00-17:00\"],\"tuesday\":[\"09:00-17:00\"]," \
	"\"wednesday\":[\"09:00-17:00\"],\"thursday\":[\"09:00-17:00\"]," \
	"\"friday\":[\"09:00-17:00\"],\"saturday\":[\"09:00-17:00\"]," \
	"\"sunday\":[\"09:00-17:00\"]}"

/* A location "Main Shop" of 'business_id' open FX_WEEK_HOURS; returns its id. */
char	*fx_location(const char *business_id);

/* A staff member "Pat Doe" of 'business_id' working FX_WEEK_HOURS at 'location_id'. */
char	*fx_staff(const char *business_id, const char *location_id);

/*
 * A shop that takes bookings (fx_shop_open): a hub on 'plan', its business
 * (in America/Chicago), a business key, a publishable key, a service, a
 * location open 09:00-17:00 every day and a staff member working there.
 * fx_shop() adds something of everything: a confirmed booking (by the
 * business key) and a live hold (10 minutes) of that service, days ahead.
 * Every field is malloc'd (booking and hold NULL after fx_shop_open);
 * fx_shop_free() releases them.
 */
struct fx_shop {
	char	*hub;
	char	*biz;
	char	*key;		/* business key */
	char	*key_id;
	char	*pub;		/* publishable key */
	char	*svc;
	char	*loc;
	char	*staff;
	char	*day;		/* the local date 8 days ahead, YYYY-MM-DD */
	char	*start;		/* 10:00 local on that day, RFC 3339 */
	char	*booking;	/* a confirmed booking (fx_shop) */
	char	*hold;		/* a live hold (fx_shop) */
};

void	 fx_shop_open(struct fx_shop *, const char *plan);
void	 fx_shop(struct fx_shop *, const char *plan);
void	 fx_shop_free(struct fx_shop *);

/*
 * A digest of every row the business owns (itself, services, locations,
 * staff, resources, reservations, sessions, keys, Idempotency-Key answers),
 * leaving out what every request touches (api_keys.last_used_at), so that
 * two equal digests mean nothing of the business was changed.
 */
char	*fx_business_digest(const char *business_id);

#endif
