/*
 * senders.c: the sender program's own duties (SPEC 11, docs/webhooks.md,
 * "Running the sender"): two senders never deliver one delivery twice at
 * once, private destinations are refused unless allowed, SIGTERM lets the
 * attempts in flight finish (a second gives them back to the queue), SIGHUP
 * reads the settings again.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "wh_util.h"

#define NBOOK	12

/*
 * Two senders at once, 8 attempts in flight each, on 24 deliveries (12
 * bookings, two webhooks) whose receiver takes 200 ms to answer: every
 * delivery arrives exactly once, never twice in parallel, and the two logs
 * together hold exactly one attempt per delivery.
 */
WH_TEST(two_senders_never_in_parallel)
{
	struct wh_opts		 o = { .concurrency = 8, .poll_ms = 200 };
	struct wh_sender	 s1, s2;
	json_object		*log1, *log2, *bk;
	char			*u1 = wh_url("/p1"), *u2 = wh_url("/p2"), *h1, *h2, *x1, *x2;
	char			*t1, *t2, **seen;
	size_t			 i, j, n, a1 = 0, a2 = 0;

	rcv_delay(wh_rcv, "/p1", 200);
	rcv_delay(wh_rcv, "/p2", 200);
	wh_create(u1, "[\"booking.created\"]", &h1, &x1);
	wh_create(u2, "[\"booking.created\",\"booking.updated\"]", &h2, &x2);
	wh_sender_start(&s1, "sender1", &o);
	wh_sender_start(&s2, "sender2", &o);
	for (i = 0; i < NBOOK; i++) {
		bk = wh_book();
		json_object_put(bk);
	}
	cr_assert(rcv_wait(wh_rcv, NULL, 2 * NBOOK, 20000), "%zu of %d deliveries arrived",
	    rcv_count(wh_rcv, NULL), 2 * NBOOK);
	log1 = wh_wait_log(h1, NBOOK, "succeeded", 10000);
	log2 = wh_wait_log(h2, NBOOK, "succeeded", 10000);
	cr_assert(log1 != NULL && log2 != NULL, "not every delivery succeeded");
	msleep(1000);
	n = rcv_count(wh_rcv, NULL);
	cr_expect_eq(n, 2 * NBOOK, "%zu requests for %d deliveries", n, 2 * NBOOK);
	cr_expect_eq(rcv_max_parallel(wh_rcv, "X-Calendence-Delivery", NULL), 1,
	    "a delivery was being sent twice at the same time");
	seen = calloc(n, sizeof(*seen));
	cr_assert_not_null(seen);
	for (i = 0; i < n; i++) {
		struct rcv_req	 q;
		json_object	*log;

		cr_assert(rcv_copy(wh_rcv, NULL, i, &q));
		seen[i] = wh_header(&q, "X-Calendence-Delivery");
		log = strcmp(q.path, "/p1") == 0 ? log1 : log2;
		json_object_put(wh_expect_delivery(&q, log == log1 ? x1 : x2, "a delivery"));
		cr_expect_not_null(wh_find(log, seen[i]), "delivery %s is not %s's", seen[i],
		    q.path);
		for (j = 0; j < i; j++)
			cr_expect_str_neq(seen[j], seen[i], "delivery %s arrived twice", seen[i]);
		rcv_req_free(&q);
	}
	/* one event, two webhooks: one event id, two delivery ids */
	for (i = 0; i < n; i++) {
		struct rcv_req	 q, q2;
		json_object	*b1, *b2;
		int		 twins = 0;

		cr_assert(rcv_copy(wh_rcv, NULL, i, &q));
		if (strcmp(q.path, "/p1") != 0) {
			rcv_req_free(&q);
			continue;
		}
		b1 = json_tokener_parse(q.body);
		for (j = 0; j < n; j++) {
			cr_assert(rcv_copy(wh_rcv, NULL, j, &q2));
			b2 = json_tokener_parse(q2.body);
			if (strcmp(q2.path, "/p2") == 0 &&
			    strcmp(nz(jstr(b1, "data.id")), nz(jstr(b2, "data.id"))) == 0) {
				twins++;
				cr_expect_str_eq(nz(jstr(b2, "id")), nz(jstr(b1, "id")),
				    "one event, two ids");
				cr_expect_str_neq(seen[j], seen[i], "two webhooks, one delivery id");
			}
			json_object_put(b2);
			rcv_req_free(&q2);
		}
		cr_expect_eq(twins, 1, "booking %s reached the second webhook %d times",
		    nz(jstr(b1, "data.id")), twins);
		json_object_put(b1);
		rcv_req_free(&q);
	}
	for (i = 0; i < NBOOK; i++) {
		cr_expect_eq(jint(json_object_array_get_idx(log1, i), "attempts"), 1);
		cr_expect_eq(jint(json_object_array_get_idx(log2, i), "attempts"), 1);
	}
	wh_sender_stop(&s1);
	wh_sender_stop(&s2);
	t1 = wh_log(&s1);
	t2 = wh_log(&s2);
	for (i = 0; i < n; i++) {
		size_t	 c1 = wh_lines_with(t1, seen[i], " attempt ", NULL);
		size_t	 c2 = wh_lines_with(t2, seen[i], " attempt ", NULL);

		cr_expect_eq(c1 + c2, 1, "delivery %s: %zu attempts in sender 1's log, %zu in "
		    "sender 2's", seen[i], c1, c2);
		a1 += c1;
		a2 += c2;
		free(seen[i]);
	}
	cr_log_info("two senders: %zu and %zu of %zu deliveries", a1, a2, n);
	free(seen);
	json_object_put(log1);
	json_object_put(log2);
	free_all(u1, u2, h1, h2, x1, x2, t1, t2, NULL);
}

/* The delivery of webhook 'hook' (it has one), malloc'd. */
static char *
only_delivery(const char *hook)
{
	char	*d = fx_value("SELECT id FROM calendence.webhook_deliveries WHERE webhook_id = $1",
	    hook, NULL);

	cr_assert_not_null(d, "webhook %s has no delivery", hook);
	return d;
}

/*
 * With webhook_allow_private = no a delivery to 127.0.0.1, or to a name
 * that resolves to loopback (localhost), is refused at every attempt: the
 * receiver gets nothing, last_error says refused and loopback, the log says
 * so. Allowed (a sender with webhook_allow_private = yes) and sent again
 * from the log, both arrive.
 */
WH_TEST(private_address_refused)
{
	struct wh_opts		 deny = { .deny_private = 1, .delays = "200" }, allow = { 0 };
	struct wh_sender	 s;
	json_object		*bk, *r;
	char			*ux = wh_url("/x"), uy[128], *hx, *hy, *xx, *xy, *dx, *dy;
	char			*text, path[256];
	const char		*hooks[2], *dels[2];
	int			 k;

	snprintf(uy, sizeof(uy), "http://localhost:%d/y", rcv_port(wh_rcv));
	wh_create(ux, "[\"booking.created\"]", &hx, &xx);
	wh_create(uy, "[\"booking.created\"]", &hy, &xy);
	wh_sender_start(&s, "deny", &deny);
	bk = wh_book();
	json_object_put(bk);
	dx = only_delivery(hx);
	dy = only_delivery(hy);
	hooks[0] = hx;
	hooks[1] = hy;
	dels[0] = dx;
	dels[1] = dy;
	for (k = 0; k < 2; k++) {
		json_object	*log = wh_wait_log(hooks[k], 1, "failed", 10000), *d;
		const char	*err;

		cr_assert_not_null(log, "%s: the refused delivery did not end failed",
		    k ? uy : ux);
		d = wh_find(log, dels[k]);
		cr_assert_not_null(d);
		err = nz(jstr(d, "last_error"));
		cr_expect(strstr(err, "refused") != NULL && strstr(err, "loopback") != NULL,
		    "%s: last_error %s", k ? uy : ux, err);
		cr_expect(jget(d, "last_status_code") == NULL, "%s",
		    json_object_to_json_string(d));
		cr_expect_eq(jint(d, "attempts"), 2, "%s", json_object_to_json_string(d));
		json_object_put(log);
	}
	msleep(300);
	cr_expect_eq(rcv_count(wh_rcv, NULL), 0, "a refused destination got %zu requests",
	    rcv_count(wh_rcv, NULL));
	wh_sender_stop(&s);
	text = wh_log(&s);
	for (k = 0; k < 2; k++)
		cr_expect_eq(wh_lines_with(text, dels[k], " attempt ", "refused", "loopback", NULL),
		    2, "the log of %s:\n%s", dels[k], text);
	free(text);

	/* allowed, and sent again */
	wh_sender_start(&s, "allow", &allow);
	for (k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "/api/v1/webhooks/%s/deliveries/%s/retry", hooks[k],
		    dels[k]);
		r = wh_call("POST", path, NULL, 202);
		json_object_put(r);
	}
	cr_assert(rcv_wait(wh_rcv, "/x", 1, 10000), "the allowed 127.0.0.1 delivery did not "
	    "arrive");
	cr_assert(rcv_wait(wh_rcv, "/y", 1, 10000), "the allowed localhost delivery did not "
	    "arrive");
	for (k = 0; k < 2; k++) {
		json_object	*log = wh_wait_log(hooks[k], 1, "succeeded", 10000);

		cr_expect_not_null(log, "%s did not succeed once allowed", dels[k]);
		json_object_put(log);
	}
	wh_sender_stop(&s);
	free_all(ux, hx, hy, xx, xy, dx, dy, NULL);
}

/*
 * SIGTERM while an attempt is in flight (the receiver takes 1.5 s): the
 * sender claims nothing more, waits for the attempt, records it succeeded
 * (not lost, not left claimed) and exits 0.
 */
WH_TEST(sigterm_graceful)
{
	struct wh_opts		 o = { .timeout_ms = 5000 };
	struct wh_sender	 s;
	struct rcv_req		 q;
	json_object		*bk;
	char			*url = wh_url("/slow"), *hook, *secret, *dl, *text;
	long long		 t0;
	int			 rc;

	rcv_delay(wh_rcv, "/slow", 1500);
	wh_create(url, "[\"booking.created\"]", &hook, &secret);
	wh_sender_start(&s, "sender", &o);
	bk = wh_book();
	cr_assert(rcv_wait(wh_rcv, "/slow", 1, 10000), "no attempt arrived");
	t0 = now_ms();
	rc = wh_sender_signal_stop(&s, SIGTERM, 1, 10000);
	cr_expect_eq(rc, 0, "the sender ended with %d after SIGTERM", rc);
	cr_expect_geq(now_ms() - t0, 1000, "the sender left after %lld ms, before its attempt "
	    "ended", now_ms() - t0);
	cr_assert(rcv_copy(wh_rcv, "/slow", 0, &q));
	cr_expect_eq(q.status, 200, "the attempt was cut (%d)", q.status);
	dl = wh_header(&q, "X-Calendence-Delivery");
	cr_expect(wh_wait_sql(dl, "d.status = 'succeeded' AND d.attempts = 1 AND "
	    "d.last_status_code = 200 AND d.claimed_by IS NULL AND d.claimed_until IS NULL", 0),
	    "the delivery was not recorded succeeded and released before the sender exited");
	text = wh_log(&s);
	cr_expect_eq(wh_lines_with(text, "stopping", NULL), 1, "%s", text);
	cr_expect_eq(wh_lines_with(text, dl, "attempt 1", "200", NULL), 1, "%s", text);
	cr_expect_eq(wh_lines_with(text, "stopped", NULL), 1, "%s", text);
	msleep(300);
	cr_expect_eq(rcv_count(wh_rcv, NULL), 1);
	json_object_put(bk);
	rcv_req_free(&q);
	free_all(url, hook, secret, dl, text, NULL);
}

/*
 * Two SIGTERMs in a row while the receiver hangs: the sender gives the
 * attempt up at once and exits 0 long before its timeout; the delivery is
 * pending again, claimed by nobody, its attempt not counted, due now; a
 * sender started next delivers it.
 */
WH_TEST(sigterm_twice_gives_back)
{
	struct wh_opts		 o = { .timeout_ms = 20000 };
	struct wh_sender	 s;
	struct rcv_req		 q, q2;
	json_object		*bk, *log, *d;
	char			*url = wh_url("/stuck"), *hook, *secret, *dl, *dl2, *text;
	long long		 t0, took;
	int			 rc;

	rcv_script(wh_rcv, "/stuck", "hang,200");
	wh_create(url, "[\"booking.created\"]", &hook, &secret);
	wh_sender_start(&s, "first", &o);
	bk = wh_book();
	cr_assert(rcv_wait(wh_rcv, "/stuck", 1, 10000), "no attempt arrived");
	cr_assert(rcv_copy(wh_rcv, "/stuck", 0, &q));
	dl = wh_header(&q, "X-Calendence-Delivery");
	rcv_req_free(&q);
	cr_assert(wh_wait_sql(dl, "d.attempts = 1 AND d.claimed_by IS NOT NULL", 2000));
	t0 = now_ms();
	rc = wh_sender_signal_stop(&s, SIGTERM, 2, 5000);
	took = now_ms() - t0;
	cr_expect_eq(rc, 0, "the sender ended with %d after two SIGTERMs", rc);
	cr_expect_lt(took, 3000, "two SIGTERMs took %lld ms to end the sender", took);
	cr_expect(wh_wait_sql(dl, "d.status = 'pending' AND d.attempts = 0 AND "
	    "d.claimed_by IS NULL AND d.claimed_until IS NULL AND d.next_attempt_at <= now()", 0),
	    "the abandoned delivery was not given back to the queue as it was");
	text = wh_log(&s);
	cr_expect_eq(wh_lines_with(text, dl, "given back", NULL), 1, "%s", text);
	free(text);

	wh_sender_start(&s, "second", NULL);
	cr_assert(rcv_wait(wh_rcv, "/stuck", 2, 10000), "the given-back delivery was not sent");
	cr_assert(rcv_copy(wh_rcv, "/stuck", 1, &q2));
	dl2 = wh_header(&q2, "X-Calendence-Delivery");
	cr_expect_str_eq(dl2, dl);
	json_object_put(wh_expect_delivery(&q2, secret, "the given-back delivery"));
	log = wh_wait_log(hook, 1, "succeeded", 10000);
	cr_assert_not_null(log);
	d = wh_find(log, dl);
	cr_expect_eq(jint(d, "attempts"), 1, "%s", json_object_to_json_string(d));
	wh_sender_stop(&s);
	json_object_put(log);
	json_object_put(bk);
	rcv_req_free(&q2);
	free_all(url, hook, secret, dl, dl2, NULL);
}

/*
 * SIGHUP reads the settings again: a sender that refused private
 * destinations is told to allow them; its log says "settings reloaded", and
 * a new delivery to 127.0.0.1 arrives, as does the refused one sent again.
 */
WH_TEST(sighup_reload)
{
	struct wh_opts		 deny = { .deny_private = 1, .delays = "60000" };
	struct wh_opts		 allow = { .delays = "60000" };
	struct wh_sender	 s;
	struct rcv_req		 q;
	json_object		*bk1, *bk2, *got, *r;
	char			*url = wh_url("/hup"), *hook, *secret, *d1, *id2, *text;
	char			 path[256];

	wh_create(url, "[\"booking.created\"]", &hook, &secret);
	wh_sender_start(&s, "sender", &deny);
	bk1 = wh_book();
	d1 = only_delivery(hook);
	cr_assert(wh_wait_sql(d1, "d.attempts = 1 AND d.status = 'pending' AND "
	    "d.last_error LIKE '%refused%'", 10000), "the first delivery was not refused");
	cr_expect_eq(rcv_count(wh_rcv, NULL), 0);

	wh_conf_write(s.conf, &allow);
	kill(s.pid, SIGHUP);
	cr_assert(wh_log_wait(&s, "settings reloaded", 1, 5000), "no \"settings reloaded\"");
	bk2 = wh_book();
	id2 = wh_strdup(bk2, "id");
	cr_assert(rcv_wait(wh_rcv, "/hup", 1, 10000), "nothing arrived after the reload");
	cr_assert(rcv_copy(wh_rcv, "/hup", 0, &q));
	got = wh_expect_delivery(&q, secret, "after the reload");
	cr_expect_str_eq(nz(jstr(got, "data.id")), id2, "the first delivery came, not the new one");
	json_object_put(got);
	rcv_req_free(&q);

	snprintf(path, sizeof(path), "/api/v1/webhooks/%s/deliveries/%s/retry", hook, d1);
	r = wh_call("POST", path, NULL, 202);
	json_object_put(r);
	cr_assert(rcv_wait(wh_rcv, "/hup", 2, 10000), "the refused delivery, sent again, did "
	    "not arrive");
	cr_expect(wh_wait_sql(d1, "d.status = 'succeeded'", 5000));
	wh_sender_stop(&s);
	text = wh_log(&s);
	cr_expect_eq(wh_lines_with(text, d1, "attempt 1", "refused", NULL), 1, "%s", text);
	json_object_put(bk1);
	json_object_put(bk2);
	free_all(url, hook, secret, d1, id2, text, NULL);
}

/*
 * A sender killed in the middle of an attempt leaves its claim; once the
 * lease runs out (webhook_timeout + 30 s: shortened here in SQL, so that
 * the test does not wait for it) another sender takes the delivery up and
 * delivers it. The killed attempt counts.
 */
WH_TEST(dead_senders_claim_runs_out)
{
	struct wh_opts		 o = { .timeout_ms = 20000 };
	struct wh_sender	 s;
	struct rcv_req		 q, q2;
	json_object		*bk, *log, *d;
	char			*url = wh_url("/dead"), *hook, *secret, *dl, *dl2;
	int			 rc;

	rcv_script(wh_rcv, "/dead", "hang,200");
	wh_create(url, "[\"booking.created\"]", &hook, &secret);
	wh_sender_start(&s, "doomed", &o);
	bk = wh_book();
	cr_assert(rcv_wait(wh_rcv, "/dead", 1, 10000), "no attempt arrived");
	cr_assert(rcv_copy(wh_rcv, "/dead", 0, &q));
	dl = wh_header(&q, "X-Calendence-Delivery");
	rcv_req_free(&q);
	cr_assert(wh_wait_sql(dl, "d.attempts = 1 AND d.claimed_by IS NOT NULL AND "
	    "d.claimed_until > clock_timestamp() + interval '40 seconds'", 2000),
	    "no lease of webhook_timeout + 30 s");
	rc = wh_sender_signal_stop(&s, SIGKILL, 1, 5000);
	cr_expect_eq(rc, 128 + SIGKILL);
	fx_exec("UPDATE calendence.webhook_deliveries SET claimed_until = clock_timestamp() + "
	    "interval '1500 milliseconds' WHERE id = $1", dl, NULL);
	wh_sender_start(&s, "heir", NULL);
	msleep(700);
	cr_expect_eq(rcv_count(wh_rcv, "/dead"), 1, "taken up while the lease lasted");
	cr_assert(rcv_wait(wh_rcv, "/dead", 2, 10000), "the delivery was not taken up after "
	    "its lease");
	cr_assert(rcv_copy(wh_rcv, "/dead", 1, &q2));
	dl2 = wh_header(&q2, "X-Calendence-Delivery");
	cr_expect_str_eq(dl2, dl);
	json_object_put(wh_expect_delivery(&q2, secret, "after the lease"));
	log = wh_wait_log(hook, 1, "succeeded", 10000);
	cr_assert_not_null(log);
	d = wh_find(log, dl);
	cr_expect_eq(jint(d, "attempts"), 2, "%s", json_object_to_json_string(d));
	wh_sender_stop(&s);
	json_object_put(log);
	json_object_put(bk);
	rcv_req_free(&q2);
	free_all(url, hook, secret, dl, dl2, NULL);
}
