/*
 * wh_util.h: what the webhook delivery tests share (SPEC 11): each test gets
 * a bookable shop (fx_shop_open) and a receiver (tests/lib/receiver.h) from
 * wh_setup(); it starts its own senders (the program in WEBHOOKS_SENDER,
 * with a settings file of its own, its stderr in a log file under the run's
 * directory) and makes webhooks and bookings through the API of
 * CALENDENCE_URL. wh_teardown() kills what a failed test left running and
 * deletes the test's webhooks, so that no delivery of it waits in the queue
 * that every later test's senders share.
 */
#ifndef CALENDENCE_TESTS_WH_UTIL_H
#define CALENDENCE_TESTS_WH_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#include <json.h>

#include "api.h"
#include "fixture.h"
#include "http.h"
#include "receiver.h"

#define WH_ALL_EVENTS	"[\"booking.created\",\"booking.updated\"," \
	"\"booking.cancelled\",\"booking.completed\"]"

/* Every test: the suite's set-up and tear-down, and a bound on its time. */
#define WH_TEST(name)	Test(webhooks, name, .init = wh_setup, .fini = wh_teardown, \
	.timeout = 90)

extern struct fx_shop	 wh_shop;	/* this test's shop (business key wh_shop.key) */
extern struct rcv	*wh_rcv;	/* this test's receiver */

void	 wh_setup(void);
void	 wh_teardown(void);

/* --- senders --- */

/* A sender's settings; a 0 or NULL member takes the default shown. */
struct wh_opts {
	int		 deny_private;	/* 1: webhook_allow_private = no (default yes) */
	int		 timeout_ms;	/* webhook_timeout: 3000 */
	const char	*delays;	/* webhook_retry_delays: "300, 900" */
	int		 concurrency;	/* webhook_concurrency: 8 */
	int		 poll_ms;	/* webhook_poll_interval: 500 */
};

struct wh_sender {
	pid_t	 pid;			/* 0: not running */
	char	 conf[512];		/* its settings file */
	char	 log[512];		/* its stderr */
};

/* The directory of this test's files (settings, logs), under the run's. */
const char	*wh_dir(void);

/* Writes the settings file 'path' for 'o' (NULL: every default above). */
void	 wh_conf_write(const char *path, const struct wh_opts *o);

/*
 * Starts a sender named 'name' (its files are wh_dir()/name.conf and
 * name.log) and waits for its start-up line; asserts it started.
 */
void	 wh_sender_start(struct wh_sender *s, const char *name, const struct wh_opts *o);

/*
 * Sends 'sig' ('nsig' times, 50 ms apart) and waits up to 'timeout_ms' for
 * the sender to exit. Returns its exit status, 128 + a signal that ended
 * it, or -1 when it was still running (it is then killed).
 */
int	 wh_sender_signal_stop(struct wh_sender *s, int sig, int nsig, int timeout_ms);

/* SIGTERM and wait (15 s); asserts it exited with status 0. */
void	 wh_sender_stop(struct wh_sender *s);

/* The whole log of the sender (malloc'd, never NULL). */
char	*wh_log(const struct wh_sender *s);

/* Waits until the log holds 'needle' at least n times: 1, or 0 after timeout_ms. */
int	 wh_log_wait(const struct wh_sender *s, const char *needle, size_t n, int timeout_ms);

/* How many times 'needle' occurs in 'hay'. */
size_t	 wh_count(const char *hay, const char *needle);

/* How many lines of 'hay' hold every one of the NULL-terminated needles. */
size_t	 wh_lines_with(const char *hay, ...) FX_SENTINEL;

/* --- the API --- */

/*
 * POST /api/v1/webhooks {url, events (JSON array text)} with the shop's
 * key; asserts 201 with an id, the url, and a secret of the form whsec_ and
 * 32 base62. *id and *secret are malloc'd (secret may be NULL: not wanted).
 */
void	 wh_create(const char *url, const char *events, char **id, char **secret);

/* A receiver URL of this test's receiver for 'path', malloc'd. */
char	*wh_url(const char *path);

/*
 * A request with the shop's key; asserts the answer's status is 'want' and
 * returns its JSON (a new reference: json_object_put() it), or NULL without.
 */
json_object *wh_call(const char *method, const char *path, const char *body, int want);

/* The delivery log of webhook 'hook' (its "data" array, a new reference). */
json_object *wh_deliveries(const char *hook);

/* The item of 'log' (wh_deliveries) whose id is 'delivery', borrowed; or NULL. */
json_object *wh_find(json_object *log, const char *delivery);

/*
 * Waits until webhook 'hook' has exactly n deliveries, every one 'status'
 * (NULL: any status, only the count). The log then (a new reference), or
 * NULL after timeout_ms.
 */
json_object *wh_wait_log(const char *hook, size_t n, const char *status, int timeout_ms);

/*
 * Waits until the delivery 'delivery' of webhook 'hook' satisfies the SQL
 * condition 'cond' on calendence.webhook_deliveries d (e.g. "d.attempts = 1
 * AND d.status = 'pending'"): 1, or 0 after timeout_ms.
 */
int	 wh_wait_sql(const char *delivery, const char *cond, int timeout_ms);

/* Books the shop's first free slot through the API: the 201 answer (new reference). */
json_object *wh_book(void);

/* A string member of 'o' (path as jstr), malloc'd; asserts it is there. */
char	*wh_strdup(json_object *o, const char *path);

/* --- what was received --- */

/*
 * A request received on 'path', checked as every delivery must be: POST,
 * Content-Type application/json, User-Agent Calendence-Webhooks/..., an
 * X-Calendence-Delivery that is a uuid, a body {id: evt_ + 32 hex, event
 * (equal to X-Calendence-Event), timestamp (RFC 3339 UTC), data (an object)},
 * and both signatures verified with 'secret' by the openssl command line
 * (t within 60 s of the request's arrival). The parsed body is returned
 * (a new reference).
 */
json_object *wh_expect_delivery(const struct rcv_req *q, const char *secret, const char *what);

/* The value of header 'name' of q, malloc'd ("" when absent). */
char	*wh_header(const struct rcv_req *q, const char *name);

/*
 * HMAC-SHA256, keyed with 'secret', of prefix (may be NULL) followed by
 * body[0..len), computed by `openssl dgst -sha256 -hmac ... -r` over a file:
 * the 64 lowercase hex digits into out. Asserts openssl ran.
 */
void	 wh_openssl_hmac(const char *secret, const char *prefix, const char *body,
	    size_t len, char out[65]);

#endif
