/*
 * delivery.c: SPEC 11's deliveries against real PostgreSQL, the API through
 * lighttpd, the sender program and a receiver on loopback: every event once
 * and signed (checked with the openssl command line), retries with growing
 * gaps, failure after the last attempt and a retry from the log, the
 * timeout, a sender started late, and a rolled-back change that sends
 * nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "wh_util.h"

/* What a change through the API answered, and the event it should send. */
struct want {
	const char	*booking;
	const char	*event;
	json_object	*data;		/* the API's answer: the booking at that moment */
	int		 seen;
};

static char *
booking_path(const char *id, const char *suffix)
{
	char	*p = malloc(256);

	cr_assert_not_null(p);
	snprintf(p, 256, "/api/v1/bookings/%s%s", id, suffix);
	return p;
}

/* The delivery's attempt lines in a sender's log (one per attempt). */
static size_t
attempt_lines(const char *log, const char *delivery)
{
	char	 d[64];

	snprintf(d, sizeof(d), "delivery %s ", delivery);
	return wh_lines_with(log, d, " attempt ", NULL);
}

/*
 * Every event type arrives once, signed: a booking made, rescheduled, in
 * progress, completed; another made and cancelled with a reason (a PATCH to
 * the same status and a second cancel change nothing and send nothing). Each
 * request is checked (wh_expect_delivery: headers, body, both signatures by
 * openssl), its data equals the booking as the API answered the change,
 * its delivery id is in the delivery log, and the log shows every delivery
 * succeeded at the first attempt. The sender does not poll within the
 * test: each event wakes it by NOTIFY.
 */
WH_TEST(every_event_once_signed)
{
	struct wh_opts		 o = { .poll_ms = 60000 };
	struct wh_sender	 s;
	struct slot		 sl = { 0 };
	struct want		 w[6];
	json_object		*log, *got;
	char			*url = wh_url("/all"), *hook, *secret, *a, *b, *h, *p, *log_text;
	char			 body[128], ids[6][40];
	size_t			 i, j, n;

	wh_create(url, WH_ALL_EVENTS, &hook, &secret);
	/* no look without a notification for a minute: LISTEN/NOTIFY wakes it */
	wh_sender_start(&s, "sender", &o);

	w[0].data = wh_book();
	a = wh_strdup(w[0].data, "id");
	first_slot(&wh_shop, wh_shop.key, &sl);
	h = hold_ok(&wh_shop, wh_shop.key, &sl);
	snprintf(body, sizeof(body), "{\"hold_id\":\"%s\"}", h);
	p = booking_path(a, "/reschedule");
	w[1].data = wh_call("POST", p, body, 200);
	free(p);
	cr_assert_str_eq(nz(jstr(w[1].data, "starts_at")), sl.starts_at);
	p = booking_path(a, "");
	w[2].data = wh_call("PATCH", p, "{\"status\":\"in_progress\"}", 200);
	w[3].data = wh_call("PATCH", p, "{\"status\":\"completed\"}", 200);
	/* the same status again changes nothing: no event */
	json_object_put(wh_call("PATCH", p, "{\"status\":\"completed\"}", 200));
	free(p);
	w[4].data = wh_book();
	b = wh_strdup(w[4].data, "id");
	p = booking_path(b, "/cancel");
	w[5].data = wh_call("POST", p, "{\"reason\":\"Car broke down\"}", 200);
	/* cancelling a cancelled booking changes nothing: no event */
	json_object_put(wh_call("POST", p, "{\"reason\":\"Again\"}", 200));
	free(p);
	w[0].booking = w[1].booking = w[2].booking = w[3].booking = a;
	w[4].booking = w[5].booking = b;
	w[0].event = w[4].event = "booking.created";
	w[1].event = w[2].event = "booking.updated";
	w[3].event = "booking.completed";
	w[5].event = "booking.cancelled";
	for (i = 0; i < 6; i++)
		w[i].seen = 0;
	cr_expect_str_eq(nz(jstr(w[3].data, "status")), "completed");
	cr_expect_str_eq(nz(jstr(w[5].data, "cancel_reason")), "Car broke down");

	cr_assert(rcv_wait(wh_rcv, "/all", 6, 15000), "%zu of 6 deliveries arrived",
	    rcv_count(wh_rcv, "/all"));
	log = wh_wait_log(hook, 6, "succeeded", 10000);
	cr_assert_not_null(log, "the delivery log did not show 6 deliveries succeeded");
	msleep(800);	/* nothing more comes */
	cr_assert_eq(rcv_count(wh_rcv, NULL), 6, "%zu requests for 6 events",
	    rcv_count(wh_rcv, NULL));

	for (i = 0; i < 6; i++) {
		struct rcv_req	 q;
		char		 what[32], *dl, *ev;
		json_object	*d;
		int		 matched = 0;

		cr_assert(rcv_copy(wh_rcv, "/all", i, &q));
		snprintf(what, sizeof(what), "request %zu", i);
		got = wh_expect_delivery(&q, secret, what);
		cr_expect_eq(q.status, 200);
		dl = wh_header(&q, "X-Calendence-Delivery");
		ev = wh_header(&q, "X-Calendence-Event");
		snprintf(ids[i], sizeof(ids[i]), "%s", dl);
		for (j = 0; j < 6; j++) {
			if (strcmp(w[j].event, ev) != 0 ||
			    strcmp(nz(jstr(got, "data.id")), w[j].booking) != 0 ||
			    !json_object_equal(jget(got, "data"), w[j].data))
				continue;
			w[j].seen++;
			matched = 1;
		}
		cr_expect(matched, "%s: %s matches no change's answer: %s", what, ev, q.body);
		d = wh_find(log, dl);
		cr_expect_not_null(d, "%s: delivery %s is not in the log", what, dl);
		if (d != NULL) {
			cr_expect_str_eq(nz(jstr(d, "event_id")), nz(jstr(got, "id")), "%s", what);
			cr_expect_str_eq(nz(jstr(d, "event")), ev, "%s", what);
		}
		for (j = 0; j < i; j++) {
			cr_expect_str_neq(ids[j], dl, "delivery %s arrived twice", dl);
		}
		free_all(dl, ev, NULL);
		json_object_put(got);
		rcv_req_free(&q);
	}
	for (j = 0; j < 6; j++)
		cr_expect_eq(w[j].seen, 1, "%s of booking %s (change %zu) arrived %d times",
		    w[j].event, w[j].booking, j, w[j].seen);

	/* the log: every one succeeded at once */
	n = json_object_array_length(log);
	cr_expect_eq(n, 6);
	for (i = 0; i < n; i++) {
		json_object	*d = json_object_array_get_idx(log, i);

		cr_expect_str_eq(nz(jstr(d, "status")), "succeeded");
		cr_expect_eq(jint(d, "attempts"), 1, "%s", json_object_to_json_string(d));
		cr_expect_eq(jint(d, "last_status_code"), 200);
		cr_expect(jhas(d, "last_error") && jget(d, "last_error") == NULL);
		cr_expect(jhas(d, "next_attempt_at") && jget(d, "next_attempt_at") == NULL);
		cr_expect_not_null(jstr(d, "delivered_at"));
		cr_expect(matches(jstr(d, "event_id"), "^evt_[0-9a-f]{32}$"));
	}
	/* the last event of each booking is what GET shows now */
	p = booking_path(a, "");
	got = wh_call("GET", p, NULL, 200);
	cr_expect(json_object_equal(got, w[3].data), "GET %s: %s, the completed event: %s", p,
	    json_object_to_json_string(got), json_object_to_json_string(w[3].data));
	json_object_put(got);
	free(p);
	p = booking_path(b, "");
	got = wh_call("GET", p, NULL, 200);
	cr_expect(json_object_equal(got, w[5].data), "GET %s differs from the cancelled event",
	    p);
	json_object_put(got);
	free(p);

	wh_sender_stop(&s);
	log_text = wh_log(&s);
	for (i = 0; i < 6; i++)
		cr_expect_eq(attempt_lines(log_text, ids[i]), 1, "log lines of delivery %s:\n%s",
		    ids[i], log_text);
	for (i = 0; i < 6; i++)
		json_object_put(w[i].data);
	json_object_put(log);
	slot_free(&sl);
	free_all(url, hook, secret, a, b, h, log_text, NULL);
}

/* The gap between the arrivals of requests i and i + 1 on path, in seconds. */
static double
gap(const char *path, size_t i)
{
	struct rcv_req	 q1, q2;
	double		 g;

	cr_assert(rcv_copy(wh_rcv, path, i, &q1) && rcv_copy(wh_rcv, path, i + 1, &q2));
	g = q2.started - q1.started;
	rcv_req_free(&q1);
	rcv_req_free(&q2);
	return g;
}

/*
 * A receiver that fails twice (500) and then answers 200 gets exactly three
 * attempts of one delivery, the same delivery id and the same bytes each
 * time, the gaps growing with the retry delays (400 ms, 1200 ms, each with
 * up to 10 % more); the log says succeeded after 3 attempts.
 */
WH_TEST(fails_twice_then_succeeds)
{
	struct wh_opts		 o = { .delays = "400, 1200" };
	struct wh_sender	 s;
	struct rcv_req		 q[3];
	json_object		*log, *d, *booking;
	char			*url = wh_url("/flaky"), *hook, *secret, *dl[3], *text;
	double			 g1, g2;
	size_t			 i;

	rcv_script(wh_rcv, "/flaky", "500,500,200");
	wh_create(url, "[\"booking.created\"]", &hook, &secret);
	wh_sender_start(&s, "sender", &o);
	booking = wh_book();
	cr_assert(rcv_wait(wh_rcv, "/flaky", 3, 15000), "%zu of 3 attempts arrived",
	    rcv_count(wh_rcv, "/flaky"));
	log = wh_wait_log(hook, 1, "succeeded", 10000);
	cr_assert_not_null(log, "the delivery did not succeed");
	msleep(1500);
	cr_assert_eq(rcv_count(wh_rcv, NULL), 3, "%zu attempts", rcv_count(wh_rcv, NULL));
	for (i = 0; i < 3; i++) {
		char	 what[32];

		cr_assert(rcv_copy(wh_rcv, "/flaky", i, &q[i]));
		snprintf(what, sizeof(what), "attempt %zu", i + 1);
		json_object_put(wh_expect_delivery(&q[i], secret, what));
		dl[i] = wh_header(&q[i], "X-Calendence-Delivery");
	}
	cr_expect_eq(q[0].status, 500);
	cr_expect_eq(q[1].status, 500);
	cr_expect_eq(q[2].status, 200);
	for (i = 1; i < 3; i++) {
		cr_expect_str_eq(dl[i], dl[0], "attempt %zu: another delivery id", i + 1);
		cr_expect(q[i].body_len == q[0].body_len &&
		    memcmp(q[i].body, q[0].body, q[0].body_len) == 0,
		    "attempt %zu sent other bytes", i + 1);
	}
	g1 = gap("/flaky", 0);
	g2 = gap("/flaky", 1);
	cr_expect(g1 >= 0.38 && g1 < 0.44 + 1.0, "gap 1: %.3f s (delay 400 ms + <=10 %%)", g1);
	cr_expect(g2 >= 1.14 && g2 < 1.32 + 1.0, "gap 2: %.3f s (delay 1200 ms + <=10 %%)", g2);
	cr_expect_gt(g2, g1, "the gaps do not grow: %.3f then %.3f s", g1, g2);

	d = wh_find(log, dl[0]);
	cr_assert_not_null(d, "delivery %s not in the log", dl[0]);
	cr_expect_str_eq(nz(jstr(d, "status")), "succeeded");
	cr_expect_eq(jint(d, "attempts"), 3, "%s", json_object_to_json_string(d));
	cr_expect_eq(jint(d, "last_status_code"), 200);
	cr_expect(jget(d, "last_error") == NULL, "%s", json_object_to_json_string(d));
	cr_expect_not_null(jstr(d, "delivered_at"));
	cr_expect_str_eq(nz(jstr(d, "event")), "booking.created");

	wh_sender_stop(&s);
	text = wh_log(&s);
	cr_expect_eq(attempt_lines(text, dl[0]), 3, "%s", text);
	cr_expect_eq(wh_lines_with(text, dl[0], "attempt 1", "500", NULL), 1, "%s", text);
	cr_expect_eq(wh_lines_with(text, dl[0], "attempt 2", "500", NULL), 1, "%s", text);
	cr_expect_eq(wh_lines_with(text, dl[0], "attempt 3", "200", NULL), 1, "%s", text);
	for (i = 0; i < 3; i++) {
		rcv_req_free(&q[i]);
		free(dl[i]);
	}
	json_object_put(log);
	json_object_put(booking);
	free_all(url, hook, secret, text, NULL);
}

/*
 * A receiver that never succeeds (503) gets 3 attempts and no fourth; the
 * delivery is failed, with the last status and an error naming it, and no
 * next attempt. Sent again from the log (202, pending with a fresh count),
 * it arrives with the same id and bytes and succeeds at its first attempt.
 */
WH_TEST(never_succeeds_fails_after_three)
{
	/* the retry from the log is heard of by NOTIFY, not by a timer */
	struct wh_opts		 o = { .delays = "300, 600", .poll_ms = 60000 };
	struct wh_sender	 s;
	struct rcv_req		 q0, q3;
	json_object		*log, *d, *booking, *r;
	char			*url = wh_url("/down"), *hook, *secret, *dl, *dl3, *text;
	char			 path[256];

	rcv_script(wh_rcv, "/down", "503");
	wh_create(url, "[\"booking.created\"]", &hook, &secret);
	wh_sender_start(&s, "sender", &o);
	booking = wh_book();
	cr_assert(rcv_wait(wh_rcv, "/down", 3, 15000), "%zu of 3 attempts",
	    rcv_count(wh_rcv, "/down"));
	log = wh_wait_log(hook, 1, "failed", 10000);
	cr_assert_not_null(log, "the delivery did not end failed");
	msleep(1500);	/* well past the last delay: no fourth attempt */
	cr_assert_eq(rcv_count(wh_rcv, NULL), 3, "%zu attempts", rcv_count(wh_rcv, NULL));
	cr_assert(rcv_copy(wh_rcv, "/down", 0, &q0));
	dl = wh_header(&q0, "X-Calendence-Delivery");
	d = wh_find(log, dl);
	cr_assert_not_null(d, "delivery %s not in the log", dl);
	cr_expect_str_eq(nz(jstr(d, "status")), "failed");
	cr_expect_eq(jint(d, "attempts"), 3, "%s", json_object_to_json_string(d));
	cr_expect_eq(jint(d, "last_status_code"), 503);
	cr_expect(strstr(nz(jstr(d, "last_error")), "503") != NULL, "last_error: %s",
	    nz(jstr(d, "last_error")));
	cr_expect(jhas(d, "next_attempt_at") && jget(d, "next_attempt_at") == NULL,
	    "%s", json_object_to_json_string(d));
	cr_expect(jget(d, "delivered_at") == NULL);
	json_object_put(log);

	/* sent again from the log */
	rcv_script(wh_rcv, "/down", "200");
	snprintf(path, sizeof(path), "/api/v1/webhooks/%s/deliveries/%s/retry", hook, dl);
	r = wh_call("POST", path, NULL, 202);
	cr_expect_str_eq(nz(jstr(r, "id")), dl);
	cr_expect_str_eq(nz(jstr(r, "status")), "pending", "%s", json_object_to_json_string(r));
	cr_expect_eq(jint(r, "attempts"), 0, "%s", json_object_to_json_string(r));
	json_object_put(r);
	cr_assert(rcv_wait(wh_rcv, "/down", 4, 10000), "the retried delivery did not arrive");
	log = wh_wait_log(hook, 1, "succeeded", 10000);
	cr_assert_not_null(log, "the retried delivery did not succeed");
	cr_assert(rcv_copy(wh_rcv, "/down", 3, &q3));
	json_object_put(wh_expect_delivery(&q3, secret, "the retry"));
	dl3 = wh_header(&q3, "X-Calendence-Delivery");
	cr_expect_str_eq(dl3, dl);
	cr_expect(q3.body_len == q0.body_len && memcmp(q3.body, q0.body, q0.body_len) == 0,
	    "the retry sent other bytes");
	d = wh_find(log, dl);
	cr_assert_not_null(d);
	cr_expect_eq(jint(d, "attempts"), 1, "%s", json_object_to_json_string(d));
	cr_expect_eq(jint(d, "last_status_code"), 200);
	cr_expect(jget(d, "last_error") == NULL, "%s", json_object_to_json_string(d));
	cr_expect_not_null(jstr(d, "delivered_at"));
	msleep(700);
	cr_expect_eq(rcv_count(wh_rcv, NULL), 4);

	wh_sender_stop(&s);
	text = wh_log(&s);
	cr_expect_eq(attempt_lines(text, dl), 4, "%s", text);
	cr_expect_eq(wh_lines_with(text, dl, "attempt 3", "503", NULL), 1, "%s", text);
	json_object_put(log);
	json_object_put(booking);
	rcv_req_free(&q0);
	rcv_req_free(&q3);
	free_all(url, hook, secret, dl, dl3, text, NULL);
}

/*
 * A receiver that hangs is cut at webhook_timeout (1000 ms here): the
 * receiver sees the connection dropped after about a second, the log has
 * no status and an error naming the timeout, and the next attempt comes
 * after the retry delay.
 */
WH_TEST(hanging_receiver_cut_at_timeout)
{
	struct wh_opts		 o = { .timeout_ms = 1000, .delays = "1500" };
	struct wh_sender	 s;
	struct rcv_req		 q, q2;
	json_object		*log, *d, *booking;
	char			*url = wh_url("/hang"), *hook, *secret, *dl = NULL, *dl2, *text;
	const char		*err;
	long long		 end;
	double			 took;

	rcv_script(wh_rcv, "/hang", "hang,200");
	wh_create(url, "[\"booking.created\"]", &hook, &secret);
	wh_sender_start(&s, "sender", &o);
	booking = wh_book();
	cr_assert(rcv_wait(wh_rcv, "/hang", 1, 10000), "no attempt arrived");
	for (end = now_ms() + 6000; now_ms() < end; msleep(20)) {
		cr_assert(rcv_copy(wh_rcv, "/hang", 0, &q));
		if (q.ended != 0)
			break;
		rcv_req_free(&q);
	}
	cr_assert(q.ended != 0, "the hanging attempt was not cut within 6 s");
	took = q.ended - q.started;
	cr_expect(took >= 0.9 && took <= 3.0, "the attempt was cut after %.3f s (timeout 1 s)",
	    took);
	cr_expect_eq(q.status, 0, "the receiver answered %d", q.status);
	dl = wh_header(&q, "X-Calendence-Delivery");
	cr_assert(wh_wait_sql(dl, "d.status = 'pending' AND d.attempts = 1 AND "
	    "d.last_error IS NOT NULL AND d.claimed_by IS NULL", 3000),
	    "the timed-out attempt was not recorded");
	log = wh_deliveries(hook);
	d = wh_find(log, dl);
	cr_assert_not_null(d);
	cr_expect(jhas(d, "last_status_code") && jget(d, "last_status_code") == NULL,
	    "%s", json_object_to_json_string(d));
	err = nz(jstr(d, "last_error"));
	cr_expect(strstr(err, "timed out") != NULL || strstr(err, "timeout") != NULL,
	    "last_error: %s", err);
	cr_expect_not_null(jstr(d, "next_attempt_at"), "%s", json_object_to_json_string(d));
	json_object_put(log);

	cr_assert(rcv_wait(wh_rcv, "/hang", 2, 10000), "no second attempt");
	cr_assert(rcv_copy(wh_rcv, "/hang", 1, &q2));
	dl2 = wh_header(&q2, "X-Calendence-Delivery");
	cr_expect_str_eq(dl2, dl);
	cr_expect(q2.started - q.ended >= 1.4, "the retry came %.3f s after the cut "
	    "(delay 1500 ms)", q2.started - q.ended);
	json_object_put(wh_expect_delivery(&q2, secret, "the retry"));
	log = wh_wait_log(hook, 1, "succeeded", 10000);
	cr_assert_not_null(log);
	d = wh_find(log, dl);
	cr_expect_eq(jint(d, "attempts"), 2, "%s", json_object_to_json_string(d));
	cr_expect_eq(jint(d, "last_status_code"), 200);

	wh_sender_stop(&s);
	text = wh_log(&s);
	cr_expect_eq(attempt_lines(text, dl), 2, "%s", text);
	cr_expect_eq(wh_lines_with(text, dl, "attempt 1", "timed out", NULL), 1, "%s", text);
	json_object_put(log);
	json_object_put(booking);
	rcv_req_free(&q);
	rcv_req_free(&q2);
	free_all(url, hook, secret, dl, dl2, text, NULL);
}

/*
 * Bookings made while no sender runs wait as pending deliveries; a sender
 * started afterwards delivers every one of them, once.
 */
WH_TEST(stopped_then_started_delivers_all)
{
	struct wh_sender	 s;
	json_object		*log, *bk[5];
	char			*url = wh_url("/later"), *hook, *secret, *ids[5];
	int			 times[5] = { 0 };
	size_t			 i, j, n;

	wh_create(url, "[\"booking.created\"]", &hook, &secret);
	for (i = 0; i < 5; i++) {
		bk[i] = wh_book();
		ids[i] = wh_strdup(bk[i], "id");
	}
	msleep(1000);
	cr_expect_eq(rcv_count(wh_rcv, NULL), 0, "something arrived with no sender running");
	log = wh_deliveries(hook);
	n = json_object_array_length(log);
	cr_assert_eq(n, 5, "%zu deliveries for 5 bookings", n);
	for (i = 0; i < n; i++) {
		json_object	*d = json_object_array_get_idx(log, i);

		cr_expect_str_eq(nz(jstr(d, "status")), "pending");
		cr_expect_eq(jint(d, "attempts"), 0);
		cr_expect_not_null(jstr(d, "next_attempt_at"));
	}

	wh_sender_start(&s, "sender", NULL);
	cr_assert(rcv_wait(wh_rcv, "/later", 5, 15000), "%zu of 5 arrived",
	    rcv_count(wh_rcv, "/later"));
	json_object_put(log);
	log = wh_wait_log(hook, 5, "succeeded", 10000);
	cr_assert_not_null(log);
	msleep(800);
	cr_expect_eq(rcv_count(wh_rcv, NULL), 5);
	for (i = 0; i < 5; i++) {
		struct rcv_req	 q;
		json_object	*got;
		char		*dl;
		int		 which = -1;

		cr_assert(rcv_copy(wh_rcv, "/later", i, &q));
		got = wh_expect_delivery(&q, secret, "a late delivery");
		dl = wh_header(&q, "X-Calendence-Delivery");
		cr_expect_not_null(wh_find(log, dl), "delivery %s not in the log", dl);
		for (j = 0; j < 5; j++)
			if (strcmp(nz(jstr(got, "data.id")), ids[j]) == 0)
				which = (int)j;
		cr_expect_geq(which, 0, "a delivery of no booking of this test");
		if (which >= 0) {
			times[which]++;
			cr_expect(json_object_equal(jget(got, "data"), bk[which]),
			    "the data of booking %d differs from its 201 answer", which);
		}
		json_object_put(got);
		free(dl);
		rcv_req_free(&q);
	}
	for (j = 0; j < 5; j++)
		cr_expect_eq(times[j], 1, "booking %zu delivered %d times", j, times[j]);
	wh_sender_stop(&s);
	for (i = 0; i < 5; i++) {
		json_object_put(bk[i]);
		free(ids[i]);
	}
	json_object_put(log);
	free_all(url, hook, secret, NULL);
}

/* How many events of booking 'id' the outbox holds, and deliveries of 'hook'. */
static int
events_of(const char *id)
{
	char	*v = fx_value("SELECT count(*) FROM calendence.webhook_events WHERE booking_id = $1",
	    id, NULL);
	int	 n = atoi(nz(v));

	free(v);
	return n;
}

static int
deliveries_of(const char *hook)
{
	char	*v = fx_value("SELECT count(*) FROM calendence.webhook_deliveries "
	    "WHERE webhook_id = $1", hook, NULL);
	int	 n = atoi(nz(v));

	free(v);
	return n;
}

/*
 * A change rolled back leaves no event and sends nothing, while a sender
 * runs; a change a DBA commits in SQL sends its event (so that this test
 * can see a delivery when there is one).
 */
WH_TEST(rolled_back_booking_sends_nothing)
{
	struct wh_sender	 s;
	struct rcv_req		 q;
	json_object		*bk, *got, *log;
	char			*url = wh_url("/rb"), *hook, *secret, *id, *inside, *status;

	wh_create(url, WH_ALL_EVENTS, &hook, &secret);
	wh_sender_start(&s, "sender", NULL);
	bk = wh_book();
	id = wh_strdup(bk, "id");
	cr_assert(rcv_wait(wh_rcv, "/rb", 1, 10000), "booking.created did not arrive");
	cr_assert_eq(events_of(id), 1);
	log = wh_wait_log(hook, 1, "succeeded", 10000);
	cr_assert_not_null(log, "booking.created did not succeed");
	json_object_put(log);
	cr_assert_eq(deliveries_of(hook), 1);

	fx_exec("BEGIN", NULL);
	fx_exec("UPDATE calendence.reservations SET status = 'cancelled', cancelled_at = now() "
	    "WHERE id = $1", id, NULL);
	inside = fx_value("SELECT count(*) FROM calendence.webhook_events WHERE booking_id = $1",
	    id, NULL);
	fx_exec("ROLLBACK", NULL);
	/* the change had its event, inside its transaction */
	cr_expect_str_eq(nz(inside), "2", "the cancellation made no event in its transaction");
	cr_expect_eq(events_of(id), 1, "an event of a rolled-back change remains");
	cr_expect_eq(deliveries_of(hook), 1, "a delivery of a rolled-back change remains");
	status = fx_value("SELECT status FROM calendence.reservations WHERE id = $1", id, NULL);
	cr_expect_str_eq(nz(status), "confirmed");
	msleep(1500);	/* three poll intervals */
	cr_expect_eq(rcv_count(wh_rcv, NULL), 1, "a rolled-back change was sent");

	/* the same change of a DBA, committed: its event arrives */
	fx_exec("UPDATE calendence.reservations SET notes = 'Gate code 1234', updated_at = now() "
	    "WHERE id = $1", id, NULL);
	cr_expect_eq(events_of(id), 2);
	cr_assert(rcv_wait(wh_rcv, "/rb", 2, 10000), "the committed change was not sent");
	cr_assert(rcv_copy(wh_rcv, "/rb", 1, &q));
	got = wh_expect_delivery(&q, secret, "the committed change");
	cr_expect_str_eq(nz(jstr(got, "event")), "booking.updated");
	cr_expect_str_eq(nz(jstr(got, "data.id")), id);
	cr_expect_str_eq(nz(jstr(got, "data.notes")), "Gate code 1234");
	cr_expect_str_eq(nz(jstr(got, "data.status")), "confirmed");
	msleep(700);
	cr_expect_eq(rcv_count(wh_rcv, NULL), 2);
	wh_sender_stop(&s);
	json_object_put(got);
	json_object_put(bk);
	rcv_req_free(&q);
	free_all(url, hook, secret, id, inside, status, NULL);
}

/*
 * A redirect is a failed attempt and is not followed; any 2xx (204 here)
 * is a success.
 */
WH_TEST(redirect_fails_and_204_succeeds)
{
	struct wh_opts		 o = { .delays = "200" };
	struct wh_sender	 s;
	struct rcv_req		 q;
	json_object		*bk, *log, *d;
	char			*url = wh_url("/moving"), *hook, *secret, *dl, *text;

	rcv_script(wh_rcv, "/moving", "301,204");
	wh_create(url, "[\"booking.created\"]", &hook, &secret);
	wh_sender_start(&s, "sender", &o);
	bk = wh_book();
	cr_assert(rcv_wait(wh_rcv, "/moving", 2, 10000), "%zu of 2 attempts",
	    rcv_count(wh_rcv, "/moving"));
	log = wh_wait_log(hook, 1, "succeeded", 10000);
	cr_assert_not_null(log, "a 204 was not a success");
	msleep(500);
	cr_expect_eq(rcv_count(wh_rcv, "/moved"), 0, "the redirect was followed");
	cr_expect_eq(rcv_count(wh_rcv, NULL), 2);
	cr_assert(rcv_copy(wh_rcv, "/moving", 0, &q));
	dl = wh_header(&q, "X-Calendence-Delivery");
	d = wh_find(log, dl);
	cr_assert_not_null(d);
	cr_expect_eq(jint(d, "attempts"), 2, "%s", json_object_to_json_string(d));
	cr_expect_eq(jint(d, "last_status_code"), 204);
	cr_expect(jget(d, "last_error") == NULL, "%s", json_object_to_json_string(d));
	wh_sender_stop(&s);
	text = wh_log(&s);
	cr_expect_eq(wh_lines_with(text, dl, "attempt 1", "301", NULL), 1, "%s", text);
	cr_expect_eq(wh_lines_with(text, dl, "attempt 2", "204", NULL), 1, "%s", text);
	json_object_put(log);
	json_object_put(bk);
	rcv_req_free(&q);
	free_all(url, hook, secret, dl, text, NULL);
}
