/* db.h: one PostgreSQL connection per worker and its prepared statements. */
#ifndef DB_H
#define DB_H

#include <time.h>

#include <libpq-fe.h>

#include "conf.h"

enum stmt {
	STMT_AUTHENTICATE,
	STMT_AUTH_FAIL,
	STMT_SESSION_CREATE,
	STMT_SESSION_END,
	STMT_SERVICES_LIST,
	STMT_SERVICES_GET,
	STMT_BUSINESSES_LIST,
	STMT_BUSINESSES_GET,
	STMT_LOCATIONS_LIST,
	STMT_AVAILABILITY,
	STMT_HOLD,
	STMT_BOOK,
	STMT_BOOKINGS_LIST,
	STMT_BOOKINGS_GET,
	STMT_BOOKINGS_CANCEL,
	STMT_HOLD_RELEASE,
	STMT_MAINTENANCE,
	STMT_PING,
	STMT__MAX
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

/* One row of the statement table (db.c). */
struct db_stmt {
	const char	*name;
	const char	*sql;
	int		 nparams;
	enum db_retry	 retry;
	int		 key_param;	/* DB_RETRY_KEYED: index of the key */
};

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
	int		 timeout_ms;	/* db_timeout */
	long long	 deadline;	/* ms on CLOCK_MONOTONIC: waits end here */
};

void		 db_init(struct db *, const char *, enum log_level, enum db_prepare,
		    int);
void		 db_deadline(struct db *, int);
const struct db_stmt *db_stmt(enum stmt);
void		 db_cleanup(struct db *);
int		 db_connect(struct db *);
enum db_status	 db_exec(struct db *, enum stmt, const char *const *, PGresult **);
int		 db_nparams(enum stmt);

#endif
