/*
 * api.h: what the suites that speak to the server share, written once:
 * strings for messages, the error envelope, session exchange, statuses,
 * booking a shop's slot through the API, clocks and the database switch.
 * Every function here fails the running Criterion test (cr_assert) when the
 * server cannot be reached; the expect_ ones report with cr_expect and go on.
 */

#ifndef CALENDENCE_TESTS_API_H
#define CALENDENCE_TESTS_API_H

#include <stddef.h>

#include "fixture.h"
#include "http.h"

/* --- strings --- */

/* 's', or "(null)" for NULL: for messages and string assertions. */
const char	*nz(const char *s);

/* Frees the malloc'd pointers given, up to the terminating NULL. */
void		 free_all(void *first, ...) FX_SENTINEL;

/* True when 's' (not NULL) matches the extended regular expression 'ere'. */
int		 matches(const char *s, const char *ere);

/* True for a request id: "req_" and 16 base62 characters. */
int		 is_request_id(const char *id);

/* True for a session token: "cal_ses_" and 38 base62 characters. */
int		 is_session_token(const char *t);

/* 16 random bits (/dev/urandom), for client addresses no other test uses. */
unsigned	 random16(void);

/*
 * A random /64 of 2001:db8::/32 ("2001:db8:x:y::1") into out[len]: a client
 * address whose failed-credentials window is its own.
 */
void		 fresh_address(char *out, size_t len);

/* --- answers --- */

/*
 * What every answer of the application carries: an HTTP status line,
 * exactly one Request-Id of the form req_ and 16 base62 characters, a body
 * (when there is one) that is JSON under Content-Type application/json, and
 * in an error the same request_id as the header. 'what' names the request
 * in messages (NULL: "answer").
 */
void		 expect_common(const struct http_resp *r, const char *what);

/*
 * An error answer of the application: expect_common(), the status, the
 * error.type that belongs to it (401 authentication_error, 403
 * permission_error, 429 rate_limit_error, 5xx api_error, else
 * invalid_request_error), error.code, and error.param when 'param' is not
 * NULL.
 */
void		 expect_error(const struct http_resp *r, int status, const char *code,
		    const char *param, const char *what);

/* --- requests --- */

/*
 * POST /api/v1/session with 'token' (a publishable key or a session token)
 * and the extra header lines 'extra' (NULL-terminated, or NULL); asserts a
 * 201 with a session token and returns it (malloc'd).
 */
char		*new_session(const char *token, const char *const *extra);

/* GET 'path' with 'token' (NULL: none): the status. */
int		 get_status(const char *path, const char *token);

/*
 * GET 'path' with 'token' and a Calendence-Business header naming
 * 'business' (NULL: no such header) into *r; returns the status.
 */
int		 get_as(const char *path, const char *token, const char *business,
		    struct http_resp *r);

/* --- booking through the API, in a shop of fx_shop_open() --- */

/* A free slot as GET /availability lists it; every field malloc'd. */
struct slot {
	char	*starts_at;
	char	*staff;
	char	*location;
};

void		 slot_free(struct slot *);

/* The first free slot of the shop's service on its day, asked with 'token'. */
void		 first_slot(const struct fx_shop *, const char *token, struct slot *);

/*
 * POST /api/v1/bookings/hold of 'svc' at 'loc' starting 'starts', with
 * 'staff' (NULL: any) and the extra header lines 'extra' (or NULL).
 */
void		 hold(const char *token, const char *const *extra, const char *svc,
		    const char *loc, const char *starts, const char *staff,
		    struct http_resp *r);

/* Holds the slot with 'token'; asserts 201 and returns the hold id. */
char		*hold_ok(const struct fx_shop *, const char *token, const struct slot *);

/*
 * POST /api/v1/bookings of 'hold_id' for client Ann Lee at 'email', with
 * 'notes' (NULL: none).
 */
void		 book(const char *token, const char *hold_id, const char *email,
		    const char *notes, struct http_resp *r);

/* Holds and books the shop's first free slot with 'token'; the booking id. */
char		*book_first(const struct fx_shop *, const char *token);

/* --- time and the database --- */

/* CLOCK_MONOTONIC in seconds, and in milliseconds. */
double		 now_sec(void);
long long	 now_ms(void);

/* Sleeps 'ms' milliseconds, through signals. */
void		 msleep(long ms);

/*
 * Sleeps until the clock-aligned window of 'len' seconds (60: the minute,
 * 3600: the hour) has at least 'need' seconds left, so that what a test
 * does next is counted inside one window.
 */
void		 fresh_window(int len, int need);

/*
 * Stops or starts the database of the run (tests/pgctl.sh 'verb' with
 * PG_DATA_DIR and PGPORT, as tests/run.sh sets them); asserts it worked.
 */
void		 pgctl(const char *verb);

#endif
