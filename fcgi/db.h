/* db.h: one PostgreSQL connection per worker and its prepared statements. */
#ifndef DB_H
#define DB_H

#include <time.h>

#include <libpq-fe.h>

#include "conf.h"

enum stmt {
	STMT_AUTHENTICATE,
	/*
	 * Each admission statement (db.c ADMIT_SQL) comes in three, in this
	 * order (enum admit_variant): a key's that may refresh its
	 * last_used_at, a key's that does not, a session's.
	 */
	STMT_ADMIT,
	STMT_ADMIT_QUIET,
	STMT_ADMIT_SESSION,
	STMT_ADMIT_AVAILABILITY,
	STMT_ADMIT_AVAILABILITY_QUIET,
	STMT_ADMIT_AVAILABILITY_SESSION,
	STMT_ADMIT_SERVICES,
	STMT_ADMIT_SERVICES_QUIET,
	STMT_ADMIT_SERVICES_SESSION,
	STMT_AUTH_FAIL,
	STMT_SESSION_CREATE,
	STMT_SESSION_END,
	STMT_SERVICES_LIST,
	STMT_SERVICES_GET,
	STMT_BUSINESSES_LIST,
	STMT_BUSINESSES_GET,
	STMT_CAT_SERVICES,
	STMT_CAT_LOCATIONS,
	STMT_CAT_BUSINESSES,
	STMT_LOCATIONS_LIST,
	STMT_AVAILABILITY,
	STMT_HOLD,
	STMT_BOOK,
	STMT_BOOKINGS_LIST,
	STMT_BOOKINGS_GET,
	STMT_BOOKINGS_CANCEL,
	STMT_BOOKINGS_RESCHEDULE,
	STMT_BOOKINGS_STATUS,
	STMT_HOLD_RELEASE,
	STMT_WEBHOOK_CREATE,
	STMT_WEBHOOKS_LIST,
	STMT_WEBHOOKS_GET,
	STMT_WEBHOOK_DELETE,
	STMT_WEBHOOK_DELIVERIES,
	STMT_WEBHOOK_RETRY,
	STMT_MAINTENANCE,
	STMT_USAGE_REFUSED,
	STMT_PING,
	/* the webhook sender's (webhooks/), prepared by it alone */
	STMT_WH_CLAIM,
	STMT_WH_RECORD,
	STMT_WH_RELEASE,
	STMT_WH_MAINTENANCE,
	STMT__MAX
};

/* Which program prepares a statement: each prepares only its own. */
enum db_program {
	DB_WORKER,
	DB_SENDER
};

/*
 * What may be done when the connection breaks after a statement was sent,
 * so that nobody knows whether it ran (SPEC 7: never blindly re-sent).
 */
enum db_retry {
	DB_RETRY_SAFE,	/* a read, or a write whose second run changes nothing
			   and answers as the first: sent again */
	DB_RETRY_KEYED,	/* a write that a request-scoped key among its
			   parameters (key_param, never NULL) makes safe so:
			   the second run finds the first one's answer */
	DB_RETRY_NEVER	/* a write that counts (rate windows): 503 instead */
};

/*
 * One row of the statement table (db.c): the statement, the names of its
 * parameters and of its result columns, in order (NULL-terminated). A
 * worker checks both counts and every column name against the database
 * once per connection (PQdescribePrepared) and serves nothing (503) while
 * they disagree: C reads columns by position, so a column out of place
 * would be read as another.
 */
struct db_stmt {
	const char		*name;
	const char		*sql;
	const char *const	*params;
	const char *const	*cols;
	enum db_retry		 retry;
	int			 key_param;	/* DB_RETRY_KEYED: index of the key */
	enum db_program		 program;
};

/*
 * The result columns of calendence.authenticate(), in order: the enum that
 * auth.c reads them by and the names the table checks are made from this
 * one list, so that the two cannot drift apart.
 */
#define DB_AUTH_COLS(X) \
	X(STATUS, status) X(KEY_ID, key_id) X(HUB_ID, hub_id) \
	X(BUSINESS_ID, business_id) X(DISPLAY, display) \
	X(FULL_API, full_api_access) X(BUSINESS_OK, business_ok) \
	X(BUSINESS_ACTIVE, business_active) X(BUSINESS_NAME, business_name) \
	X(BUSINESS_TZ, business_timezone) X(ORIGIN_OK, origin_ok) \
	X(PUB_KEY_ID, publishable_key_id) X(ROOT_SESSION, root_session_id) \
	X(WINDOW, window) X(ADMITTED, admitted) X(MINUTE_COUNT, minute_count) \
	X(HOUR_COUNT, hour_count) X(MINUTE_LIMIT, minute_limit) \
	X(HOUR_LIMIT, hour_limit) X(NOW, now_epoch) \
	X(SESSION_COUNT, session_count) X(SESSION_LIMIT, session_limit)

#define DB_COL_ENUM(e, n)	AC_##e,
#define DB_COL_NAME(e, n)	#n,

enum db_auth_col {
	DB_AUTH_COLS(DB_COL_ENUM)
	AC__MAX,
	/*
	 * The admission statements' (not authenticate()'s) one more: the
	 * epoch of the key's last_used_at once the statement is done (NULL:
	 * a session, or credentials that failed). What a fused statement adds
	 * follows it, from AC_ADMIT__MAX.
	 */
	AC_LAST_USED = AC__MAX,
	AC_ADMIT__MAX
};

/* An admission statement's variant: its offset from the first (enum stmt). */
enum admit_variant { ADMIT_TOUCH, ADMIT_QUIET, ADMIT_SESSION };

/* The leading columns of a booking function's outcome (status strings: kit.c). */
enum db_outcome_col { OC_STATUS, OC_MESSAGE, OC_BODY, OC_REPLAYED };

/* The columns of a list statement, and of a get statement's one column. */
enum db_list_col { LC_TOTAL, LC_DATA };
/* ... and of a list statement that checks its arguments (status, message first). */
enum db_checked_list_col { CLC_TOTAL = 2, CLC_DATA };
#define GC_BODY	0

enum db_status {
	DB_OK = 0,
	DB_UNAVAILABLE = -1,	/* no connection, or the server cannot serve: 503 */
	DB_ERROR = -2		/* the statement failed: 500 */
};

enum db_prepare {
	DB_PREPARE_AUTO,	/* prepare; fall back to unnamed on error 26000 */
	DB_PREPARE_ON,
	DB_PREPARE_OFF		/* PgBouncer in transaction pooling mode */
};

struct db {
	PGconn		*conn;
	enum db_prepare	 prepare;
	int		 prepared;	/* statements are prepared on this connection */
	const char	*conninfo;
	enum log_level	 log_level;
	int		 up;		/* last known state, for logging changes */
	struct timespec	 next_try;	/* no reconnect attempt before this */
	unsigned long	 round_trips;
	int		 contract_broken; /* a statement disagrees with the database */
	int		 contract_logged; /* ... and that was said in the log */
	int		 timeout_ms;	/* db_timeout */
	int		 outcome_unknown; /* the last db_exec()'s DB_UNAVAILABLE came
					   after sending: it may have run */
	long long	 deadline;	/* ms on CLOCK_MONOTONIC: waits end here */
	enum db_program	 program;	/* whose statements are prepared */
	const char	*listen;	/* a channel to LISTEN on at connect, or NULL */
	unsigned long	 connects;	/* connections made: a new one may have
					   missed notifications */
};

void		 db_init(struct db *, const char *, enum log_level, enum db_prepare,
		    int);
void		 db_for_sender(struct db *, const char *);
void		 db_listen(struct db *, const char *);
void		 db_deadline(struct db *, int);
const struct db_stmt *db_stmt(enum stmt);
void		 db_cleanup(struct db *);
int		 db_connect(struct db *);
enum db_status	 db_exec(struct db *, enum stmt, const char *const *, PGresult **);
int		 db_nparams(enum stmt);
int		 db_socket(const struct db *);
int		 db_hears(const struct db *);
int		 db_notified(struct db *, void (*)(void *, const char *), void *);

#endif
