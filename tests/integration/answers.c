/*
 * answers.c: the answers of GET /availability a worker keeps
 * (fcgi/answers.c): asked again, an answer still true costs the admission
 * alone and is byte for byte what availability() says; a change committed
 * before a request (a hold, a booking cancelled, a DBA's UPDATE of staff,
 * hours, blocked dates, locations, services, businesses) is in that
 * request's answer; a hold's expiry and PostgreSQL's clock end an answer
 * without any change; another business never gets it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "auth.h"
#include "db.h"
#include "helpers.h"
#include "request.h"
#include "router.h"
#include "worker.h"

static struct worker	 wk;	/* large: not on the stack */
static struct request	 rq;

static void
worker_up(int kib)
{
	it_worker_up(&wk, &rq, 768, kib, DB_PREPARE_AUTO);
}

/* GET /availability?query through the worker's path; the round trips it took. */
static unsigned long
serve(const char *token, const char *query)
{
	return it_serve(&wk, &rq, ROUTE_AVAILABILITY, token, query);
}

/* availability()'s body now, for the shop's day (format NULL or compact) */
static char *
fresh(const struct fx_shop *s, const char *format)
{
	return fx_value("SELECT body FROM calendence.availability($1, $2, $3, $3, NULL, NULL, "
	    "$4)", s->biz, s->svc, s->day, format == NULL ? FX_NULL : format, NULL);
}

/* The worker's last answer is want, byte for byte. */
static void
answered(const char *want, const char *what)
{
	cr_assert_eq(rq.status, 200, "%s: %d", what, rq.status);
	cr_expect(rq.out.len == strlen(want) && memcmp(rq.out.p, want, rq.out.len) == 0,
	    "%s: the answer is availability()'s (%zu bytes, want %zu)", what, rq.out.len,
	    strlen(want));
}

static void
query_of(const struct fx_shop *s, const char *extra, char *q, size_t len)
{
	snprintf(q, len, "service_id=%s&date_from=%s&date_to=%s%s", s->svc, s->day, s->day,
	    extra);
}

Test(answers, a_kept_answer_costs_the_admission_alone_and_is_the_same)
{
	struct fx_shop	 shop, other;
	char		 q[512], qc[512], *want, *want_c, *rk_id;
	unsigned long	 trips;

	fx_shop(&shop, "pro");
	fx_shop(&other, "pro");
	it_avoid_five_minute_edge(5);
	want = fresh(&shop, NULL);
	want_c = fresh(&shop, "compact");
	cr_assert(strstr(want, "\"starts_at\"") != NULL, "the day has free slots");
	worker_up(1024);
	query_of(&shop, "", q, sizeof(q));
	query_of(&shop, "&format=compact", qc, sizeof(qc));

	trips = serve(shop.key, q);
	cr_expect_eq(trips, 1);
	answered(want, "made");
	cr_expect_eq(wk.answers.misses, 1);
	cr_expect_eq(wk.answers.hits, 0);
	trips = serve(shop.key, q);
	cr_expect_eq(trips, 1, "kept: %lu round trips", trips);
	answered(want, "kept");
	cr_expect_eq(wk.answers.hits, 1, "the second answer was the kept one");
	cr_expect(PQgetisnull(rq.auth_res, 0, AC_ADMIT__MAX + 2), "availability() not computed");
	it_str_eq(PQgetvalue(rq.auth_res, 0, AC_ADMIT__MAX), "t", "av_fresh");

	trips = serve(shop.key, qc);
	answered(want_c, "the compact form is an answer of its own");
	cr_expect_eq(wk.answers.misses, 2);
	serve(shop.key, qc);
	answered(want_c, "compact, kept");
	serve(shop.key, q);
	answered(want, "both kept");
	cr_expect_eq(wk.answers.hits, 3);

	/* another business asking for this service: its own answer (422) */
	serve(other.key, q);
	cr_expect_eq(rq.status, 422, "another business: %d", rq.status);
	cr_expect_str_eq(rq.error_code, "validation_failed");
	cr_expect_eq(wk.answers.hits, 3, "not from the kept answer");

	/* revocation stays immediate: the admission runs every time */
	rk_id = fx_key_id(shop.key);
	fx_exec("UPDATE calendence.api_keys SET revoked_at = now() WHERE id = $1", rk_id, NULL);
	serve(shop.key, q);
	cr_expect_eq(rq.status, 401, "revoked: %d", rq.status);

	it_worker_down(&wk, &rq);
	free(want), free(want_c), free(rk_id);
	fx_shop_free(&shop);
	fx_shop_free(&other);
}

/*
 * Keeps the shop's answer, runs sql with $1 = arg (committed on another
 * connection), and checks that the very next request answers what
 * availability() says after it (which differs), not the kept answer.
 */
static void
seen_after(const struct fx_shop *s, const char *q, const char *sql, const char *arg,
    const char *what)
{
	char		*before, *after;
	unsigned long	 hits;

	it_avoid_five_minute_edge(3);
	serve(s->key, q);
	serve(s->key, q);
	before = fresh(s, NULL);
	answered(before, what);
	hits = wk.answers.hits;
	cr_expect(hits > 0, "%s: kept", what);
	fx_exec(sql, arg, NULL);
	after = fresh(s, NULL);
	cr_expect(strcmp(before, after) != 0, "%s changes the answer", what);
	serve(s->key, q);
	answered(after, what);
	cr_expect_eq(wk.answers.hits, hits, "%s: not the kept answer", what);
	free(before), free(after);
}

/* the shop's (fx_shop) one service, location or staff member, of business $1 */
#define OF_SHOP(t)	"(SELECT x.id::text FROM calendence." t " x WHERE x.business_id = $1::uuid)"

Test(answers, a_change_committed_before_a_request_is_in_its_answer)
{
	struct fx_shop	 shop;
	char		 q[512];

	fx_shop(&shop, "pro");
	worker_up(1024);
	query_of(&shop, "", q, sizeof(q));

	seen_after(&shop, q, "SELECT calendence.hold($1::uuid, " OF_SHOP("services") ", "
	    OF_SHOP("locations") ", to_json(((now() AT TIME ZONE 'America/Chicago')::date + 8 "
	    "+ time '13:00') AT TIME ZONE 'America/Chicago') #>> '{}', " OF_SHOP("staff")
	    ", NULL, (SELECT k.id FROM calendence.api_keys k WHERE k.business_id = $1::uuid "
	    "AND k.kind = 'business' LIMIT 1))", shop.biz, "a hold");
	seen_after(&shop, q, "UPDATE calendence.reservations SET status = 'cancelled', "
	    "cancelled_at = now() WHERE id = $1", shop.booking, "a booking cancelled");
	seen_after(&shop, q, "UPDATE calendence.staff SET name = 'Renamed Person' "
	    "WHERE id = $1", shop.staff, "a DBA renaming the staff member");
	seen_after(&shop, q, "UPDATE calendence.staff_hours SET starts = '12:00' "
	    "WHERE staff_id = $1", shop.staff, "a DBA's UPDATE of working hours");
	seen_after(&shop, q, "UPDATE calendence.location_hours SET closes = '15:00' "
	    "WHERE location_id = $1", shop.loc, "a DBA's UPDATE of opening hours");
	seen_after(&shop, q, "UPDATE calendence.services SET buffer_after_min = 20 "
	    "WHERE id = $1", shop.svc, "a DBA's UPDATE of the service");
	seen_after(&shop, q, "UPDATE calendence.businesses SET slot_minutes = 30 "
	    "WHERE id = $1", shop.biz, "a DBA's UPDATE of the business");
	seen_after(&shop, q, "INSERT INTO calendence.staff_blocked_dates (staff_id, day) "
	    "VALUES ($1, (now() AT TIME ZONE 'America/Chicago')::date + 8)", shop.staff,
	    "a blocked date");

	it_worker_down(&wk, &rq);
	fx_shop_free(&shop);
}

/*
 * Time ends an answer without any change: a live hold that expires frees
 * its slot, and the answer kept with it is not given past its expires_at
 * (PostgreSQL's now() decides).
 */
Test(answers, a_hold_that_expires_ends_the_answer_kept_with_it)
{
	struct fx_shop	 shop;
	char		 q[512], *hold, *with, *without;

	fx_shop(&shop, "pro");
	worker_up(1024);
	query_of(&shop, "", q, sizeof(q));
	hold = fx_value("SELECT h.body::json->>'hold_id' FROM calendence.hold($1, $2, $3, "
	    "to_json(((now() AT TIME ZONE 'America/Chicago')::date + 8 + time '14:00') "
	    "AT TIME ZONE 'America/Chicago') #>> '{}', $4, NULL, (SELECT id FROM "
	    "calendence.api_keys WHERE business_id = $1 AND kind = 'business' LIMIT 1)) h "
	    "WHERE h.status = 'ok'", shop.biz, shop.svc, shop.loc, shop.staff, NULL);
	cr_assert(hold != NULL, "a hold at 14:00");
	/* (the next 5-minute mark must not come first) */
	it_avoid_five_minute_edge(12);
	fx_exec("UPDATE calendence.reservations SET expires_at = now() + interval '6 seconds' "
	    "WHERE id = $1", hold, NULL);
	with = fresh(&shop, NULL);
	serve(shop.key, q);
	answered(with, "with the hold");
	serve(shop.key, q);
	answered(with, "kept");
	cr_expect_eq(wk.answers.hits, 1);
	usleep(6300000);
	without = fresh(&shop, NULL);
	cr_expect(strcmp(with, without) != 0, "the expired hold frees its slot");
	serve(shop.key, q);
	answered(without, "after the hold's expiry");
	cr_expect_eq(wk.answers.hits, 1, "not the kept answer");
	serve(shop.key, q);
	answered(without, "kept again");
	cr_expect_eq(wk.answers.hits, 2);

	it_worker_down(&wk, &rq);
	free(hold), free(with), free(without);
	fx_shop_free(&shop);
}

/* availability_fresh_until(): the next 5-minute mark, or a live hold's expiry first. */
Test(answers, fresh_until_is_the_next_mark_or_the_first_hold_to_expire)
{
	struct fx_shop	 shop;
	char		*v;

	fx_shop(&shop, "pro");	/* (its hold lives 10 minutes: past the mark) */
	v = fx_value("SELECT (extract(epoch FROM f)::numeric % 300 = 0 AND f > now() "
	    "AND f <= now() + interval '5 minutes')::text "
	    "FROM calendence.availability_fresh_until($1) f", shop.biz, NULL);
	it_str_eq(v, "true", "the next mark");
	free(v);
	it_avoid_five_minute_edge(5);
	fx_exec("UPDATE calendence.reservations SET expires_at = "
	    "to_timestamp((floor(extract(epoch FROM now()) / 300) + 1) * 300) "
	    "- interval '2 seconds' WHERE id = $1", shop.hold, NULL);
	v = fx_value("SELECT (calendence.availability_fresh_until($1) = (SELECT r.expires_at "
	    "FROM calendence.reservations r WHERE r.id = $2))::text", shop.biz, shop.hold, NULL);
	it_str_eq(v, "true", "a live hold's expiry before the mark");
	free(v);
	fx_exec("UPDATE calendence.reservations SET status = 'expired' WHERE id = $1",
	    shop.hold, NULL);
	v = fx_value("SELECT (extract(epoch FROM calendence.availability_fresh_until($1))::numeric "
	    "% 300 = 0)::text", shop.biz, NULL);
	it_str_eq(v, "true", "an expired hold counts no more");
	free(v);
	fx_shop_free(&shop);
}

/* availability_cache = 0: nothing kept, still one round trip, the same answers. */
Test(answers, none_kept_when_switched_off)
{
	struct fx_shop	 shop;
	char		 q[512], *want;

	fx_shop(&shop, "pro");
	want = fresh(&shop, NULL);
	worker_up(0);
	query_of(&shop, "", q, sizeof(q));
	cr_expect_eq(serve(shop.key, q), 1);
	answered(want, "first");
	cr_expect_eq(serve(shop.key, q), 1);
	answered(want, "second");
	cr_expect_eq(wk.answers.hits, 0);
	cr_expect_eq(wk.answers.misses, 0);
	it_worker_down(&wk, &rq);
	free(want);
	fx_shop_free(&shop);
}
