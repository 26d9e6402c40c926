/*
 * admit.c: the workers' admission statement (db.c STMT_ADMIT, plain SQL)
 * answers as calendence.authenticate() does for every request but POST
 * /session, refusals included; and GET /availability's fused statement
 * (STMT_ADMIT_AVAILABILITY) answers availability() in the same round trip,
 * only for a credential that may have it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "auth.h"
#include "catalogue.h"
#include "db.h"
#include "handlers.h"
#include "helpers.h"
#include "request.h"
#include "router.h"
#include "worker.h"

#define LIMIT	"1000"

/* Columns that depend on the call's turn (counts) or its second. */
static int
turn_dependent(const char *name)
{
	return strcmp(name, "minute_count") == 0 || strcmp(name, "hour_count") == 0 ||
	    strcmp(name, "now_epoch") == 0;
}

/* The first n columns of a and b agree, but for the counts and now. */
static void
same_columns(const PGresult *a, const PGresult *b, int n, const char *which,
    const char *what)
{
	int	 i;

	cr_assert_eq(PQntuples(b), 1, "%s: %s", what, which);
	for (i = 0; i < n; i++) {
		it_str_eq(PQfname(a, i), PQfname(b, i));
		if (turn_dependent(PQfname(a, i)))
			continue;
		it_str_eq(PQgetisnull(a, 0, i) ? NULL : PQgetvalue(a, 0, i),
		    PQgetisnull(b, 0, i) ? NULL : PQgetvalue(b, 0, i), "%s: %s: %s", what,
		    which, PQfname(a, i));
	}
}

/*
 * One credential through both: the statement (for a key, also its variant
 * without the refresh of last_used_at), then authenticate() (not an
 * exchange), in the same windows. Every column agrees but the counts, which
 * the second call has one more of when both were admitted.
 */
static void
same_answer(const char *token, const char *kind, const char *ip, const char *business,
    const char *origin, const char *what)
{
	char		*hex = it_hash_hex(token);
	PGresult	*a = it_admit(hex, kind, ip, business, origin, LIMIT), *q = NULL;
	PGresult	*b;

	/* a key's statement without the refresh of last_used_at answers alike */
	if (it_admit_variant(kind) == ADMIT_TOUCH) {
		q = it_admit_as(ADMIT_QUIET, hex, kind, ip, business, origin, LIMIT);
		same_columns(a, q, AC_ADMIT__MAX, "quiet", what);
		if (strcmp(it_col(a, 0, "admitted"), "t") == 0 &&
		    strcmp(it_col(q, 0, "admitted"), "t") == 0)
			cr_expect_eq(atoi(it_col(q, 0, "minute_count")),
			    atoi(it_col(a, 0, "minute_count")) + 1, "%s: quiet counted", what);
	}
	b = it_authenticate(hex, kind, 0, ip, business, origin, LIMIT);
	cr_assert_eq(PQntuples(a), 1, "%s", what);
	cr_assert_eq(PQnfields(a), AC_ADMIT__MAX, "%s: columns", what);
	cr_assert_eq(PQnfields(b), AC__MAX, "%s: columns", what);
	same_columns(a, b, AC__MAX, "authenticate()", what);
	if (q != NULL) {
		PQclear(a);
		a = q;
	}
	if (strcmp(it_col(a, 0, "admitted"), "t") == 0 &&
	    strcmp(it_col(b, 0, "admitted"), "t") == 0)
		cr_expect_eq(atoi(it_col(b, 0, "minute_count")),
		    atoi(it_col(a, 0, "minute_count")) + 1, "%s: counted once each", what);
	PQclear(a);
	PQclear(b);
	free(hex);
}

Test(admit, answers_as_authenticate_for_every_credential)
{
	char		*plan = fx_plan(50, 500, 7, 1), *hub = fx_hub(plan);
	char		*biz = fx_business(hub, "Asia/Kolkata");
	char		*hub2 = fx_hub(plan), *other = fx_business(hub2, "UTC");
	char		*hk = fx_key("hub", hub), *bk = fx_key("business", biz);
	char		*pk = fx_key("publishable", biz), *pk_id = fx_key_id(pk);
	char		*rk = fx_key("business", biz), *rk_id = fx_key_id(rk);
	char		*ek = fx_key("business", biz), *ek_id = fx_key_id(ek);
	char		*ok = fx_key("publishable", biz), *ok_id = fx_key_id(ok);
	char		*unknown = it_token(TOKEN_BUSINESS);
	struct it_session s, ended;
	char		 ip[64];

	it_avoid_minute_edge();
	it_ip(ip);
	fx_exec("UPDATE calendence.api_keys SET revoked_at = now() WHERE id = $1", rk_id, NULL);
	fx_exec("UPDATE calendence.api_keys SET expires_at = now() - interval '1 second' "
	    "WHERE id = $1", ek_id, NULL);
	fx_exec("UPDATE calendence.api_keys SET allowed_origins = '{https://shop.example}' "
	    "WHERE id = $1", ok_id, NULL);
	it_session_new(&s, biz, pk_id, NULL);
	it_session_new(&ended, biz, pk_id, NULL);
	fx_exec("UPDATE calendence.sessions SET revoked_at = now() WHERE id = $1", ended.id,
	    NULL);

	same_answer(hk, "hub", ip, biz, NULL, "hub key naming its business");
	same_answer(hk, "hub", ip, NULL, NULL, "hub key naming none");
	same_answer(hk, "hub", ip, other, NULL, "hub key naming another hub's business");
	same_answer(bk, "business", ip, NULL, NULL, "business key");
	same_answer(bk, "business", ip, other, NULL, "business key, header ignored");
	same_answer(pk, "publishable", ip, NULL, NULL, "publishable key");
	same_answer(ok, "publishable", ip, NULL, "https://shop.example", "allowed origin");
	same_answer(ok, "publishable", ip, NULL, "https://evil.example", "other origin");
	same_answer(s.token, "session", ip, NULL, "https://evil.example", "session");
	same_answer(ended.token, "session", ip, NULL, NULL, "ended session");
	same_answer(rk, "business", ip, NULL, NULL, "revoked key");
	same_answer(ek, "business", ip, NULL, NULL, "expired key");
	same_answer(unknown, "business", ip, NULL, NULL, "unknown token");
	same_answer(bk, "hub", ip, NULL, NULL, "a key of another kind");
	it_session_free(&s);
	it_session_free(&ended);
	free(plan), free(hub), free(hub2), free(biz), free(other), free(hk), free(bk), free(pk);
	free(pk_id), free(rk), free(rk_id), free(ek), free(ek_id), free(ok), free(ok_id);
	free(unknown);
}

/* Refused alike, each refusal counted in the hour, nothing more admitted. */
Test(admit, refuses_as_authenticate_and_counts_the_refusals)
{
	char		*plan = fx_plan(3, 100, 7, 1), *hub = fx_hub(plan);
	char		*biz = fx_business(hub, "UTC"), *bk = fx_key("business", biz);
	char		*id = fx_key_id(bk), *hex = it_hash_hex(bk), *v;
	PGresult	*a, *b;
	char		 ip[64];
	int		 i;

	it_avoid_minute_edge();
	it_ip(ip);
	for (i = 1; i <= 3; i++) {
		a = it_admit(hex, "business", ip, NULL, NULL, LIMIT);
		it_str_eq(it_col(a, 0, "admitted"), "t");
		cr_expect_eq(atoi(it_col(a, 0, "minute_count")), i);
		PQclear(a);
	}
	a = it_admit(hex, "business", ip, NULL, NULL, LIMIT);
	b = it_authenticate(hex, "business", 0, ip, NULL, NULL, LIMIT);
	for (i = 0; i < AC__MAX; i++)
		if (strcmp(PQfname(a, i), "now_epoch") != 0)
			it_str_eq(PQgetisnull(a, 0, i) ? NULL : PQgetvalue(a, 0, i),
			    PQgetisnull(b, 0, i) ? NULL : PQgetvalue(b, 0, i), "refused: %s",
			    PQfname(a, i));
	it_str_eq(it_col(a, 0, "admitted"), "f");
	it_str_eq(it_col(a, 0, "minute_count"), "3");
	it_str_eq(it_col(a, 0, "hour_count"), "3");
	PQclear(a);
	PQclear(b);
	v = fx_value("SELECT minute_count || '/' || hour_count || '/' || hour_refused "
	    "FROM calendence.rate_windows WHERE subject = 'k:' || $1", id, NULL);
	it_str_eq(v, "3/3/2");
	free(v);
	free(hex), free(plan), free(hub), free(biz), free(bk), free(id);
}

/* The failed-credentials window: its limit, then refused, as authenticate(). */
Test(admit, unknown_tokens_count_in_the_ip_auth_window)
{
	char		*tok = it_token(TOKEN_HUB), *hex = it_hash_hex(tok), *v;
	PGresult	*a;
	char		 ip[64], subject[80];
	int		 i;

	it_avoid_minute_edge();
	it_ip(ip);
	for (i = 1; i <= 3; i++) {
		a = it_admit(hex, "hub", ip, NULL, NULL, "2");
		it_str_eq(it_col(a, 0, "status"), "unknown");
		it_str_eq(it_col(a, 0, "window"), "auth");
		it_str_eq(it_col(a, 0, "admitted"), i <= 2 ? "t" : "f");
		cr_expect_eq(atoi(it_col(a, 0, "minute_count")), i <= 2 ? i : 2);
		it_str_eq(it_col(a, 0, "minute_limit"), "2");
		cr_expect(PQgetisnull(a, 0, PQfnumber(a, "hour_limit")));
		PQclear(a);
	}
	snprintf(subject, sizeof(subject), "a:%s", ip);
	v = fx_value("SELECT hour_refused FROM calendence.rate_windows WHERE subject = $1",
	    subject, NULL);
	it_str_eq(v, "1");
	free(v);
	free(hex), free(tok);
}

static PGresult *
admit_availability(const char *token, const char *kind, const char *svc, const char *day)
{
	char		*hex = it_hash_hex(token), bytea[80];
	PGresult	*res;

	snprintf(bytea, sizeof(bytea), "\\x%s", hex);
	res = it_query(db_stmt((enum stmt)(STMT_ADMIT_AVAILABILITY +
	    it_admit_variant(kind)))->sql, bytea, kind, "192.0.2.1",
	    FX_NULL, FX_NULL, LIMIT, svc, day, day, FX_NULL, FX_NULL, "compact", FX_NULL,
	    FX_NULL, NULL);
	cr_assert_eq(PQntuples(res), 1);
	free(hex);
	return res;
}

/*
 * GET /availability in one round trip: the answer is availability()'s, byte
 * for byte, for a key that may have it; not computed (NULL) for one that
 * will be refused anyway (revoked, publishable, another plan).
 */
Test(admit, availability_in_the_admissions_round_trip)
{
	struct fx_shop	 shop;
	char		*want, *rk, *rk_id, *pk_id;
	char		*basic = fx_plan(100, 1000, 7, 0), *bhub = fx_hub(basic);
	char		*bbiz = fx_business(bhub, "UTC"), *bkey = fx_key("business", bbiz);
	struct it_session s;
	PGresult	*res;

	fx_shop(&shop, "pro");
	rk = fx_key("business", shop.biz);
	rk_id = fx_key_id(rk);
	pk_id = fx_key_id(shop.pub);
	fx_exec("UPDATE calendence.api_keys SET revoked_at = now() WHERE id = $1", rk_id, NULL);
	want = fx_value("SELECT body FROM calendence.availability($1, $2, $3, $3, NULL, NULL, "
	    "'compact')", shop.biz, shop.svc, shop.day, NULL);
	cr_assert(strstr(want, "\"starts_at\"") != NULL, "the day has free slots");

	res = admit_availability(shop.key, "business", shop.svc, shop.day);
	it_str_eq(it_col(res, 0, "admitted"), "t");
	it_str_eq(it_col(res, 0, "av_status"), "ok");
	it_str_eq(it_col(res, 0, "av_body"), want);
	PQclear(res);

	it_session_new(&s, shop.biz, pk_id, NULL);
	res = admit_availability(s.token, "session", shop.svc, shop.day);
	it_str_eq(it_col(res, 0, "av_body"), want, "a session");
	PQclear(res);
	it_session_free(&s);

	res = admit_availability(shop.key, "business", "not-a-uuid", shop.day);
	it_str_eq(it_col(res, 0, "av_status"), "invalid:service_id");
	PQclear(res);

	res = admit_availability(rk, "business", shop.svc, shop.day);
	it_str_eq(it_col(res, 0, "status"), "revoked");
	it_str_eq(it_col(res, 0, "av_status"), NULL, "revoked: not computed");
	PQclear(res);
	res = admit_availability(shop.pub, "publishable", shop.svc, shop.day);
	it_str_eq(it_col(res, 0, "av_status"), NULL, "publishable: not computed");
	PQclear(res);
	res = admit_availability(bkey, "business", shop.svc, shop.day);
	it_str_eq(it_col(res, 0, "full_api_access"), "f");
	it_str_eq(it_col(res, 0, "av_status"), NULL, "no full API access: not computed");
	PQclear(res);
	free(want), free(rk), free(rk_id), free(pk_id);
	free(basic), free(bhub), free(bbiz), free(bkey);
	fx_shop_free(&shop);
}

static struct worker	 wk;	/* large: not on the stack */
static struct request	 rq;

/* The worker's own path for a GET of route with query; the round trips it took. */
static unsigned long
serve(enum route_id route, const char *token, const char *query)
{
	return it_serve(&wk, &rq, route, token, query);
}

static unsigned long
serve_availability(const char *token, const char *query)
{
	return serve(ROUTE_AVAILABILITY, token, query);
}

/*
 * GET /availability costs the worker one statement: the admission and the
 * answer together (issue 15); a malformed query value is left to the
 * handler's 422 after the admission, as before.
 */
Test(admit, availability_costs_the_worker_one_round_trip)
{
	struct fx_shop	 shop;
	char		 q[512], *want;
	unsigned long	 trips;

	fx_shop(&shop, "pro");
	want = fx_value("SELECT body FROM calendence.availability($1, $2, $3, $3, NULL, NULL, "
	    "NULL)", shop.biz, shop.svc, shop.day, NULL);
	it_worker_up(&wk, &rq, 768, 1024, DB_PREPARE_AUTO);

	snprintf(q, sizeof(q), "service_id=%s&date_from=%s&date_to=%s", shop.svc, shop.day,
	    shop.day);
	trips = serve_availability(shop.key, q);
	cr_expect_eq(trips, 1, "%lu round trips", trips);
	cr_expect_eq(rq.status, 200);
	cr_expect(rq.out.len == strlen(want) && memcmp(rq.out.p, want, rq.out.len) == 0,
	    "the answer is availability()'s");

	snprintf(q, sizeof(q), "service_id=%s&date_from=%%ZZ&date_to=%s", shop.svc, shop.day);
	trips = serve_availability(shop.key, q);
	cr_expect_eq(trips, 1, "admitted, then 422 without a statement: %lu", trips);
	cr_expect_eq(rq.status, 422);
	cr_expect_str_eq(rq.error_code, "validation_failed");

	trips = serve_availability(shop.pub, q);
	cr_expect_eq(rq.status, 403, "a publishable key: %d", rq.status);

	it_worker_down(&wk, &rq);
	free(want);
	fx_shop_free(&shop);
}

/* GET /services through the worker's path; round trips counted. */
static unsigned long
serve_services(const char *token)
{
	return serve(ROUTE_SERVICES_LIST, token, "");
}

/*
 * The list read with the admission (on its one row: each service's id, the
 * length of its JSON, ':' and the JSON, joined) is served byte for byte as
 * the database wrote it: several services in their order, a text with commas, braces
 * and quotes, one with a control character (kept unpacked), none at all.
 */
Test(admit, a_list_read_with_the_admission_is_the_database_s)
{
	char		*plan = fx_plan(100000, 1000000, 1000, 1), *hub = fx_hub(plan);
	char		*biz = fx_business(hub, NULL), *key = fx_key("business", biz);
	char		*none = fx_business(hub, NULL), *key0 = fx_key("business", none);
	char		*a = fx_service(biz, "Gamma wash", 1), *b = fx_service(biz, "Alpha wash", 1);
	char		*c = fx_service(biz, "Beta wash", 1), *want, *page;
	unsigned long	 trips;
	int		 round;

	fx_exec("UPDATE calendence.services SET description = "
	    "'a,\"b\":{c}, [\"d\"],\"rate\":' WHERE id = $1", b, NULL);
	conf_defaults(&wk.conf);
	wk.conf.database[0] = '\0';
	worker_init(&wk);
	db_deadline(&wk.db, 0);
	cr_assert_eq(db_connect(&wk.db), 0, "the worker cannot connect");
	req_init(&rq, &wk);
	for (round = 0; round < 2; round++) {
		/* the second round: one text holds a control character */
		if (round == 1)
			fx_exec("UPDATE calendence.services SET description = 'x' || chr(1) "
			    "WHERE id = $1", c, NULL);
		want = fx_value("SELECT '[' || string_agg(calendence.service_json(s)::text, ',' "
		    "ORDER BY s.name, s.id) || ']' FROM calendence.services s "
		    "WHERE s.business_id = $1 AND s.is_active", biz, NULL);
		cr_assert(cat_cold(&wk));
		trips = serve_services(key);
		cr_expect_eq(trips, 1, "%lu round trips", trips);
		cr_expect_eq(rq.fused, 1);
		cr_expect_eq(rq.status, 200);
		cr_expect(strstr(rq.out.p, want) != NULL, "round %d: %s is not in %s", round,
		    want, rq.out.p);
		free(want);
	}
	trips = serve_services(key0);
	cr_expect_eq(trips, 1);
	cr_expect_eq(rq.status, 200);
	page = strstr(rq.out.p, "\"data\":[]");
	cr_expect(page != NULL, "no services: %s", rq.out.p);

	req_cleanup(&rq);
	worker_cleanup(&wk);
	memset(&wk, 0, sizeof(wk));
	free(plan), free(hub), free(biz), free(key), free(none), free(key0);
	free(a), free(b), free(c);
}

/*
 * How long ago the key was last used, in whole seconds (NULL: never), or
 * "set back" while it still holds the instant set_back() wrote (compared,
 * not timed: a slow machine cannot turn "not written" into a failure).
 */
static char *
unused_for(const char *key_id)
{
	return fx_value("SELECT CASE WHEN last_used_at = '2000-01-01 00:00:00+00' THEN 'set back' "
	    "ELSE round(extract(epoch FROM now() - last_used_at))::text END "
	    "FROM calendence.api_keys WHERE id = $1", key_id, NULL);
}

/* A last use long due (a fixed instant unused_for() knows). */
static void
set_back(const char *key_id)
{
	fx_exec("UPDATE calendence.api_keys SET last_used_at = '2000-01-01 00:00:00+00' "
	    "WHERE id = $1", key_id, NULL);
}

/*
 * The worker refreshes a key's last_used_at at its first use, then sends the
 * statement without the refresh for the minute it knows the key to be
 * fresh (auth.c, key_uses): a value set back meanwhile stays, and is
 * refreshed once the worker's memory says due (emptied here, as a minute
 * would). A refresh skipped while a DBA holds the row is retried by the next
 * request after the COMMIT, not a minute later.
 */
Test(admit, the_worker_refreshes_last_used_at_once_a_minute)
{
	char		*plan = fx_plan(100000, 1000000, 1000, 1), *hub = fx_hub(plan);
	char		*biz = fx_business(hub, NULL), *key = fx_key("business", biz);
	char		*id = fx_key_id(key), *v;
	PGconn		*dba;
	PGresult	*res;
	char		 sql[256];

	it_worker_up(&wk, &rq, 768, 1024, DB_PREPARE_AUTO);
	v = unused_for(id);
	cr_expect_null(v, "a new key was used: %s", v);
	free(v);
	cr_expect_eq(serve_services(key), 1);
	cr_expect_eq(rq.status, 200);
	v = unused_for(id);
	cr_expect(v != NULL && atoi(v) <= 2, "first use: last_used_at %s s ago", v);
	free(v);

	set_back(id);
	cr_expect_eq(serve_services(key), 1);
	cr_expect_eq(rq.status, 200);
	v = unused_for(id);
	cr_expect_str_eq(v, "set back", "within the minute: not written");
	free(v);

	memset(wk.uses, 0, KEY_USES * sizeof(*wk.uses));
	cr_expect_eq(serve_services(key), 1);
	v = unused_for(id);
	cr_expect(v != NULL && atoi(v) <= 2, "due: last_used_at %s s ago", v);
	free(v);

	/* a DBA holds the row: skipped, not waited for, and retried after */
	set_back(id);
	memset(wk.uses, 0, KEY_USES * sizeof(*wk.uses));
	dba = PQconnectdb("application_name=calendence-tests-dba");
	cr_assert_eq(PQstatus(dba), CONNECTION_OK);
	snprintf(sql, sizeof(sql), "BEGIN; UPDATE calendence.api_keys SET label = 'dba' "
	    "WHERE id = '%s'", id);
	res = PQexec(dba, sql);
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQerrorMessage(dba));
	PQclear(res);
	cr_expect_eq(serve_services(key), 1);
	cr_expect_eq(rq.status, 200);
	cr_expect_eq(serve_services(key), 1);
	cr_expect_eq(rq.status, 200);
	v = unused_for(id);
	cr_expect_str_eq(v, "set back", "held by a DBA: skipped");
	free(v);
	res = PQexec(dba, "COMMIT");
	PQclear(res);
	PQfinish(dba);
	cr_expect_eq(serve_services(key), 1);
	v = unused_for(id);
	cr_expect(v != NULL && atoi(v) <= 2, "after the COMMIT: last_used_at %s s ago", v);
	free(v);

	it_worker_down(&wk, &rq);
	free(plan), free(hub), free(biz), free(key), free(id);
}

/*
 * A business with more services than a catalogue keeps (CAT_MAX_ROWS): the
 * admission does not read its list (service_lists keeps none), and the
 * handler reads the page it serves, with the total.
 */
Test(admit, a_list_too_long_to_keep_is_read_by_pages)
{
	char		*plan = fx_plan(100000, 1000000, 1000, 1), *hub = fx_hub(plan);
	char		*biz = fx_business(hub, NULL), *key = fx_key("business", biz);
	unsigned long	 trips;

	fx_exec("INSERT INTO calendence.services (business_id, name, duration_min, "
	    "duration_max, rate, rate_type) SELECT $1, 'Wash ' || lpad(i::text, 3, '0'), "
	    "30, 30, 1000, 'flat' FROM generate_series(1, $2::integer) i", biz, "501", NULL);
	it_worker_up(&wk, &rq, 768, 1024, DB_PREPARE_AUTO);
	cr_assert(cat_cold(&wk));
	trips = serve_services(key);
	cr_expect_eq(trips, 2, "the admission, then the page: %lu round trips", trips);
	cr_expect_eq(rq.status, 200);
	cr_expect(strstr(rq.out.p, "\"name\":\"Wash 001\"") != NULL, "%.300s", rq.out.p);
	cr_expect(strstr(rq.out.p, "\"total\":501") != NULL ||
	    strstr(rq.out.p, "\"total\": 501") != NULL, "%s", rq.out.p);
	cr_expect(strstr(rq.out.p, "Wash 015") != NULL, "a page of 15: %.300s", rq.out.p);
	cr_expect(strstr(rq.out.p, "Wash 016") == NULL, "a page of 15: %.300s", rq.out.p);
	it_worker_down(&wk, &rq);
	free(plan), free(hub), free(biz), free(key);
}

/*
 * While the catalogue misses most lists (at start), GET /services reads
 * its list in the admission's round trip: a miss costs one round trip, not
 * two, the list is kept, and a DBA's change committed before the request is
 * in it. Once most look-ups hit, the admission no longer reads lists.
 */
Test(admit, a_cold_catalogue_reads_services_with_the_admission)
{
	char		*plan = fx_plan(100000, 1000000, 1000, 1), *hub = fx_hub(plan);
	char		*biz = fx_business(hub, NULL), *key = fx_key("business", biz);
	char		*a = fx_service(biz, "Alpha wash", 1), *b;
	unsigned long	 trips;
	int		 i;

	it_worker_up(&wk, &rq, 768, 1024, DB_PREPARE_AUTO);
	cr_assert(cat_cold(&wk), "a new worker's catalogue is cold");

	trips = serve_services(key);
	cr_expect_eq(trips, 1, "a miss with the admission: %lu round trips", trips);
	cr_expect_eq(rq.fused, 1);
	cr_expect_eq(rq.status, 200);
	cr_expect(strstr(rq.out.p, a) != NULL, "%s", rq.out.p);
	cr_expect_eq(wk.catalogue.misses, 1);

	b = fx_service(biz, "Beta wash", 1);	/* committed: notified */
	trips = serve_services(key);
	cr_expect_eq(trips, 1, "%lu round trips", trips);
	cr_expect(strstr(rq.out.p, b) != NULL, "the change is seen: %s", rq.out.p);

	/*
	 * that round trip heard of the change, so its list was answered and
	 * not kept (it may predate the change); the next one is kept
	 */
	cr_expect_eq(wk.catalogue.misses, 2);
	serve_services(key);
	cr_expect_eq(wk.catalogue.misses, 3);
	trips = serve_services(key);
	cr_expect_eq(trips, 1);
	cr_expect_eq(wk.catalogue.hits, 1, "the list read with the admission was kept");
	for (i = 0; i < CAT_WINDOW; i++)
		serve_services(key);
	cr_expect(!cat_cold(&wk), "most look-ups hit: warm");
	trips = serve_services(key);
	cr_expect_eq(rq.fused, 0, "a warm catalogue: the plain admission");
	cr_expect_eq(trips, 1);
	cr_expect(strstr(rq.out.p, b) != NULL);

	it_worker_down(&wk, &rq);
	free(plan), free(hub), free(biz), free(key), free(a), free(b);
}
