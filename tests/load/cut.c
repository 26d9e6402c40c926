/*
 * cut.c: a connection cut after each write statement committed (SPEC 7:
 * never blindly re-sent). The server under test (CUT_URL: lighttpd and one
 * sanitizer-built worker) reaches PostgreSQL only through pgcut, a proxy
 * in this process on CUT_PROXY_PORT that can lose the answer to one
 * statement after the server committed it. Whatever the worker does then,
 * its answer must be right (the write's own answer, found again) or a
 * clean 503, and the database must hold the write exactly once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"
#include "api.h"
#include "pgcut.h"

/* The proxy up, CALENDENCE_URL at the cut server, and that server's worker connected. */
static void
cut_up(void)
{
	const char		*url = getenv("CUT_URL"), *port = getenv("CUT_PROXY_PORT");
	const char		*pgport = getenv("PGPORT");
	struct http_resp	 r;
	int			 i, st = 0;

	cr_assert(url && port && pgport, "CUT_URL, CUT_PROXY_PORT and PGPORT are needed");
	cr_assert_eq(pgcut_start(atoi(port), atoi(pgport)), 0);
	setenv("CALENDENCE_URL", url, 1);
	/* its old connection died with the last test's proxy: wait for a new one */
	for (i = 0; i < 100 && st != 200; i++) {
		cr_assert_eq(http_get("/healthz", NULL, NULL, &r), 0);
		st = r.status;
		http_resp_free(&r);
		if (st != 200)
			msleep(100);
	}
	cr_assert_eq(st, 200, "the cut server does not reach the database");
}

static void
cut_down(void)
{
	pgcut_stop();
}

TestSuite(cut, .init = cut_up, .fini = cut_down, .timeout = 60);

static void
expect_503(const struct http_resp *r)
{
	cr_expect_eq(r->status, 503, "status %d: %s", r->status, r->body);
	cr_expect_str_eq(nz(jstr(r->json, "error.code")), "service_unavailable", "%s",
	    r->body);
	cr_expect_not_null(http_header(r, "Retry-After"));
}

/* The minute count of a rate window subject, 0 when it has none. */
static int
window_count(const char *subject)
{
	char	*v = fx_value("SELECT coalesce((SELECT minute_count FROM calendence.rate_windows "
		    "WHERE subject = $1), 0)", subject, NULL);
	int	 n = atoi(nz(v));

	free(v);
	return n;
}

static int
count_of(const char *sql, const char *arg)
{
	char	*v = fx_value(sql, arg, NULL);
	int	 n = atoi(nz(v));

	free(v);
	return n;
}

/*
 * The admission (admit, or a statement fused with it) counts the request in
 * the key's windows: after the cut the worker answers 503 and the request
 * is counted once, not twice (it was re-sent and counted again before).
 */
Test(cut, admission_counted_once)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*key = fx_key("business", biz), *id = fx_key_id(key);
	char			 subject[64];
	struct http_resp	 r;

	snprintf(subject, sizeof(subject), "k:%s", id);
	fresh_window(60, 10);	/* both requests in one minute */
	pgcut_arm("admit*");
	cr_assert_eq(http_get("/api/v1/services", key, NULL, &r), 0);
	cr_expect_eq(pgcut_cuts(), 1, "the proxy did not cut");
	expect_503(&r);
	http_resp_free(&r);
	cr_expect_eq(window_count(subject), 1, "counted %d times", window_count(subject));
	cr_assert_eq(http_get("/api/v1/services", key, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%d %s", r.status, r.body);
	cr_expect_str_eq(nz(http_header(&r, "X-RateLimit-Remaining")), "58");
	http_resp_free(&r);
	free(hub), free(biz), free(key), free(id);
}

/* A failing credential is counted once in the client IP's auth window. */
Test(cut, auth_fail_counted_once)
{
	char			 subject[64];
	struct http_resp	 r;
	int			 before;

	snprintf(subject, sizeof(subject), "a:%s", http_client_ip());
	before = window_count(subject);
	pgcut_arm("auth_fail");
	cr_assert_eq(http_get("/api/v1/services", NULL, NULL, &r), 0);
	cr_expect_eq(pgcut_cuts(), 1, "the proxy did not cut");
	expect_503(&r);
	http_resp_free(&r);
	cr_expect_eq(window_count(subject), before + 1);
}

/*
 * create_session() is keyed by the new token's hash: sent again, it finds
 * the session the first one made, and the client gets that token (it was
 * a 500, duplicate key, before).
 */
Test(cut, session_made_once)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*pub = fx_key("publishable", biz), *pub_id = fx_key_id(pub);
	const char		*tok;
	struct http_resp	 r, s;

	pgcut_arm("session_create");
	cr_assert_eq(http_post("/api/v1/session", pub, NULL, NULL, &r), 0);
	cr_expect_eq(pgcut_cuts(), 1, "the proxy did not cut");
	cr_assert_eq(r.status, 201, "%d %s", r.status, r.body);
	cr_expect_eq(count_of("SELECT count(*) FROM calendence.sessions "
	    "WHERE publishable_key_id = $1", pub_id), 1);
	tok = jstr(r.json, "session_token");
	cr_assert_not_null(tok);
	cr_assert_eq(http_get("/api/v1/services", tok, NULL, &s), 0);
	cr_expect_eq(s.status, 200, "the token given does not work: %d %s", s.status, s.body);
	http_resp_free(&s);
	http_resp_free(&r);
	free(hub), free(biz), free(pub), free(pub_id);
}

/* Ending a session twice ends it once: 204, and the token is refused after. */
Test(cut, session_end_answered)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*pub = fx_key("publishable", biz), *tok;
	struct http_resp	 r;

	cr_assert_eq(http_post("/api/v1/session", pub, NULL, NULL, &r), 0);
	cr_assert_eq(r.status, 201, "%d %s", r.status, r.body);
	tok = strdup(jstr(r.json, "session_token"));
	http_resp_free(&r);
	pgcut_arm("session_end");
	cr_assert_eq(http_delete("/api/v1/session", tok, NULL, &r), 0);
	cr_expect_eq(pgcut_cuts(), 1, "the proxy did not cut");
	cr_expect_eq(r.status, 204, "%d %s", r.status, r.body);
	http_resp_free(&r);
	cr_assert_eq(http_get("/api/v1/services", tok, NULL, &r), 0);
	cr_expect_eq(r.status, 401, "%d %s", r.status, r.body);
	http_resp_free(&r);
	free(hub), free(biz), free(pub), free(tok);
}

static int
reservations(const struct fx_shop *s)
{
	return count_of("SELECT count(*) FROM calendence.reservations WHERE business_id = $1 "
	    "AND status NOT IN ('expired', 'cancelled')", s->biz);
}

/* The hold lost after commit is found again: 201 with it, not 409 slot_unavailable. */
static void
hold_made_once(const char *const *extra)
{
	struct fx_shop		 s;
	struct http_resp	 r;
	char			*id;

	fx_shop_open(&s, "pro");
	pgcut_arm("hold");
	hold(s.key, extra, s.svc, s.loc, s.start, NULL, &r);
	cr_expect_eq(pgcut_cuts(), 1, "the proxy did not cut");
	cr_assert_eq(r.status, 201, "%d %s", r.status, r.body);
	cr_expect_eq(reservations(&s), 1);
	id = fx_value("SELECT id FROM calendence.reservations WHERE business_id = $1",
	    s.biz, NULL);
	cr_expect_str_eq(nz(jstr(r.json, "hold_id")), nz(id), "another hold was answered");
	/*
	 * Without a key of the client's, the worker's own key found the answer:
	 * no Idempotent-Replayed (the client sent nothing to replay). With the
	 * client's key the answer is, truly, the first attempt's, replayed.
	 */
	if (extra == NULL)
		cr_expect_null(http_header(&r, "Idempotent-Replayed"),
		    "the client sees its own request answered, not a replay");
	http_resp_free(&r);
	free(id);
	fx_shop_free(&s);
}

Test(cut, hold_made_once)
{
	hold_made_once(NULL);
}

Test(cut, hold_made_once_with_idempotency_key)
{
	hold_made_once((const char *const[]){ "Idempotency-Key: cut-hold-1", NULL });
}

/* The booking lost after commit is found again: 201 confirmed, not 409 hold_expired. */
Test(cut, booking_made_once)
{
	struct fx_shop		 s;
	struct http_resp	 r;
	char			 body[512], *hold_id;

	fx_shop_open(&s, "pro");
	hold(s.key, NULL, s.svc, s.loc, s.start, NULL, &r);
	cr_assert_eq(r.status, 201, "%d %s", r.status, r.body);
	hold_id = strdup(jstr(r.json, "hold_id"));
	http_resp_free(&r);
	snprintf(body, sizeof(body), "{\"hold_id\":\"%s\",\"client\":{\"first_name\":\"Ann\","
	    "\"last_name\":\"Lee\",\"email\":\"ann@example.com\"}}", hold_id);
	pgcut_arm("book");
	cr_assert_eq(http_post("/api/v1/bookings", s.key, NULL, body, &r), 0);
	cr_expect_eq(pgcut_cuts(), 1, "the proxy did not cut");
	cr_assert_eq(r.status, 201, "%d %s", r.status, r.body);
	cr_expect_str_eq(nz(jstr(r.json, "status")), "confirmed");
	cr_expect_str_eq(nz(jstr(r.json, "id")), hold_id);
	cr_expect_eq(count_of("SELECT count(*) FROM calendence.reservations "
	    "WHERE id = $1 AND status = 'confirmed'", hold_id), 1);
	http_resp_free(&r);
	free(hold_id);
	fx_shop_free(&s);
}

/* A cancel lost after commit is answered as cancelled. */
Test(cut, cancel_answered)
{
	struct fx_shop		 s;
	struct http_resp	 r;
	char			 body[512], path[128], *id;

	fx_shop_open(&s, "pro");
	hold(s.key, NULL, s.svc, s.loc, s.start, NULL, &r);
	cr_assert_eq(r.status, 201, "%d %s", r.status, r.body);
	snprintf(body, sizeof(body), "{\"hold_id\":\"%s\",\"client\":{\"first_name\":\"Ann\","
	    "\"last_name\":\"Lee\",\"email\":\"ann@example.com\"}}", jstr(r.json, "hold_id"));
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/bookings", s.key, NULL, body, &r), 0);
	cr_assert_eq(r.status, 201, "%d %s", r.status, r.body);
	id = strdup(jstr(r.json, "id"));
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/bookings/%s/cancel", id);
	pgcut_arm("bookings_cancel");
	cr_assert_eq(http_post(path, s.key, NULL, NULL, &r), 0);
	cr_expect_eq(pgcut_cuts(), 1, "the proxy did not cut");
	cr_expect_eq(r.status, 200, "%d %s", r.status, r.body);
	cr_expect_str_eq(nz(jstr(r.json, "status")), "cancelled");
	http_resp_free(&r);
	cr_expect_eq(reservations(&s), 0);
	free(id);
	fx_shop_free(&s);
}

/* A booking of the shop's 10:00 slot with its key; its id. */
static char *
booked(const struct fx_shop *s)
{
	struct http_resp	 r;
	char			 body[512], *id;

	hold(s->key, NULL, s->svc, s->loc, s->start, NULL, &r);
	cr_assert_eq(r.status, 201, "%d %s", r.status, r.body);
	snprintf(body, sizeof(body), "{\"hold_id\":\"%s\",\"client\":{\"first_name\":\"Ann\","
	    "\"last_name\":\"Lee\",\"email\":\"ann@example.com\"}}", jstr(r.json, "hold_id"));
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/bookings", s->key, NULL, body, &r), 0);
	cr_assert_eq(r.status, 201, "%d %s", r.status, r.body);
	id = strdup(jstr(r.json, "id"));
	http_resp_free(&r);
	return id;
}

/*
 * A reschedule lost after commit is found again by the worker's own key:
 * 200 with the booking moved, not 409 hold_expired for the hold it used.
 */
Test(cut, reschedule_made_once)
{
	struct fx_shop		 s;
	struct http_resp	 r;
	struct slot		 sl;
	char			 body[128], path[128], *id, *h;

	fx_shop_open(&s, "pro");
	id = booked(&s);
	first_slot(&s, s.key, &sl);
	h = hold_ok(&s, s.key, &sl);
	snprintf(body, sizeof(body), "{\"hold_id\":\"%s\"}", h);
	snprintf(path, sizeof(path), "/api/v1/bookings/%s/reschedule", id);
	pgcut_arm("bookings_reschedule");
	cr_assert_eq(http_post(path, s.key, NULL, body, &r), 0);
	cr_expect_eq(pgcut_cuts(), 1, "the proxy did not cut");
	cr_expect_eq(r.status, 200, "%d %s", r.status, r.body);
	cr_expect_str_eq(nz(jstr(r.json, "starts_at")), sl.starts_at, "%s", r.body);
	cr_expect_null(http_header(&r, "Idempotent-Replayed"));
	http_resp_free(&r);
	cr_expect_eq(reservations(&s), 1, "the booking, and no hold left");
	slot_free(&sl);
	free(h);
	free(id);
	fx_shop_free(&s);
}

/* A status move lost after commit is answered with the new status. */
Test(cut, status_answered)
{
	struct fx_shop		 s;
	struct http_resp	 r;
	char			 path[128], *id;

	fx_shop_open(&s, "pro");
	id = booked(&s);
	snprintf(path, sizeof(path), "/api/v1/bookings/%s", id);
	pgcut_arm("bookings_status");
	cr_assert_eq(http_call("PATCH", path, s.key, NULL, "{\"status\":\"in_progress\"}", &r),
	    0);
	cr_expect_eq(pgcut_cuts(), 1, "the proxy did not cut");
	cr_expect_eq(r.status, 200, "%d %s", r.status, r.body);
	cr_expect_str_eq(nz(jstr(r.json, "status")), "in_progress");
	http_resp_free(&r);
	free(id);
	fx_shop_free(&s);
}
