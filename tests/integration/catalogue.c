/*
 * catalogue.c: the worker's catalogue cache (fcgi/catalogue.c) against a
 * real PostgreSQL: a list read once is answered without a round trip; a
 * change a DBA commits (an UPDATE of services, locations, their hours,
 * businesses; an INSERT; a DELETE) is seen by the first request whose
 * round trip (authenticate(), here the ping) comes after the commit; a
 * change rolled back drops nothing; a new connection starts empty; long
 * lists and PgBouncer's transaction pooling are not cached; the budget
 * holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "buf.h"
#include "helpers.h"
#include "request.h"
#include "worker.h"

static struct worker	 wk;	/* large: not on the stack */
static struct request	 rq;

static void
worker_up(int budget_kb, enum db_prepare prepare)
{
	it_worker_up(&wk, &rq, budget_kb, 1024, prepare);
}

static void
worker_down(void)
{
	it_worker_down(&wk, &rq);
}

/* What every request does first: one round trip (authenticate() in the worker). */
static void
round_trip(void)
{
	PGresult	*res;

	db_deadline(&wk.db, 0);
	cr_assert_eq(db_exec(&wk.db, STMT_PING, NULL, &res), DB_OK);
	PQclear(res);
}

/*
 * The list of kind k for owner, after a request's first round trip; the
 * round trips it took itself in *trips.
 */
static const struct cat_list *
list(enum cat_kind k, const char *owner, unsigned long *trips)
{
	const struct cat_list *l = NULL;
	unsigned long	 before;

	round_trip();
	before = wk.db.round_trips;
	db_deadline(&wk.db, 0);
	cr_assert_eq(cat_list_or_reply(&rq, k, owner, &l), 0, "the cache did not answer");
	*trips = wk.db.round_trips - before;
	return l;
}

/* The list's JSON (its elements, joined; valid until the next call), for strstr(). */
static const char *
text(const struct cat_list *l)
{
	static struct buf b;

	buf_reset(&b);
	cat_put(&b, l, 0, l->n);
	return buf_str(&b);
}

Test(catalogue, a_list_read_once_costs_no_round_trip)
{
	char		*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char		*a = fx_service(biz, "Alpha wash", 1), *b = fx_service(biz, "Beta wash", 1);
	char		*off = fx_service(biz, "Gone wash", 0);
	const struct cat_list *l, *again;
	unsigned long	 trips;

	worker_up(1024, DB_PREPARE_ON);
	l = list(CAT_SERVICES, biz, &trips);
	cr_expect_eq(trips, 1, "a miss reads the list: %lu round trips", trips);
	cr_assert_eq(l->n, 2, "the active services only");
	cr_expect(cat_id_is(l, 0, a), "%s", text(l));
	cr_expect(cat_id_is(l, 1, b), "%s", text(l));
	cr_expect_eq(cat_find(l, b), 1);
	cr_expect_eq(cat_find(l, off), -1);
	again = list(CAT_SERVICES, biz, &trips);
	cr_expect_eq(trips, 0, "a hit: %lu round trips", trips);
	cr_expect_eq(again, l);
	cr_expect_eq(wk.catalogue.hits, 1);
	cr_expect_eq(wk.catalogue.misses, 1);
	worker_down();
	free(hub), free(biz), free(a), free(b), free(off);
}

/*
 * Each kind of change a DBA may commit, by plain SQL, is seen by the next
 * request: the list is read again, with the change.
 */
Test(catalogue, a_committed_change_is_seen_by_the_next_request)
{
	char		*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char		*svc = fx_service(biz, "Alpha wash", 1), *loc = fx_location(biz);
	char		*svc2;
	const struct cat_list *l;
	unsigned long	 trips;

	worker_up(1024, DB_PREPARE_ON);
	list(CAT_SERVICES, biz, &trips);
	list(CAT_LOCATIONS, biz, &trips);
	list(CAT_BUSINESSES, hub, &trips);

	fx_exec("UPDATE calendence.services SET name = 'Renamed wash' WHERE id = $1", svc,
	    NULL);
	l = list(CAT_SERVICES, biz, &trips);
	cr_expect_eq(trips, 1, "services: not read again");
	cr_expect_not_null(strstr(text(l), "Renamed wash"), "%s", text(l));

	svc2 = fx_service(biz, "Zeta wash", 1);
	l = list(CAT_SERVICES, biz, &trips);
	cr_expect_eq(l->n, 2, "an INSERT: %d services", l->n);
	fx_exec("DELETE FROM calendence.services WHERE id = $1", svc2, NULL);
	l = list(CAT_SERVICES, biz, &trips);
	cr_expect_eq(l->n, 1, "a DELETE: %d services", l->n);

	fx_exec("UPDATE calendence.location_hours SET closes = '16:45' "
	    "WHERE location_id = $1 AND weekday = 1", loc, NULL);
	l = list(CAT_LOCATIONS, biz, &trips);
	cr_expect_eq(trips, 1, "location hours: not read again");
	cr_expect_not_null(strstr(text(l), "\"16:45\""), "%s", text(l));
	fx_exec("UPDATE calendence.locations SET name = 'Harbour Shop' WHERE id = $1", loc,
	    NULL);
	l = list(CAT_LOCATIONS, biz, &trips);
	cr_expect_not_null(strstr(text(l), "Harbour Shop"), "%s", text(l));

	fx_exec("UPDATE calendence.businesses SET name = 'Renamed Shop' WHERE id = $1", biz,
	    NULL);
	l = list(CAT_BUSINESSES, hub, &trips);
	cr_expect_eq(trips, 1, "businesses: not read again");
	cr_expect_not_null(strstr(text(l), "Renamed Shop"), "%s", text(l));

	/* the others stay cached: a change names only its own list */
	list(CAT_SERVICES, biz, &trips);
	cr_expect_eq(trips, 0, "services read again after a business change");
	worker_down();
	free(hub), free(biz), free(svc), free(loc), free(svc2);
}

Test(catalogue, a_change_rolled_back_drops_nothing)
{
	char		*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char		*svc = fx_service(biz, "Alpha wash", 1);
	const struct cat_list *l;
	unsigned long	 trips;
	PGresult	*res;

	worker_up(1024, DB_PREPARE_ON);
	list(CAT_SERVICES, biz, &trips);
	PQclear(PQexec(fx_db(), "BEGIN"));
	res = it_query("UPDATE calendence.services SET name = 'Never wash' WHERE id = $1",
	    svc, NULL);
	PQclear(res);
	PQclear(PQexec(fx_db(), "ROLLBACK"));
	l = list(CAT_SERVICES, biz, &trips);
	cr_expect_eq(trips, 0, "a rolled-back change made a miss");
	cr_expect_null(strstr(text(l), "Never wash"));
	worker_down();
	free(hub), free(biz), free(svc);
}

/* A new connection may have missed notifications: the cache starts again. */
Test(catalogue, a_new_connection_empties_the_cache)
{
	char		*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char		*svc = fx_service(biz, "Alpha wash", 1), pid[16];
	unsigned long	 trips;

	worker_up(1024, DB_PREPARE_ON);
	list(CAT_SERVICES, biz, &trips);
	snprintf(pid, sizeof(pid), "%d", PQbackendPID(wk.db.conn));
	free(fx_value("SELECT pg_terminate_backend($1::integer)", pid, NULL));
	usleep(200000);
	/* the change made while the worker had no connection is not missed */
	fx_exec("UPDATE calendence.services SET name = 'Unheard wash' WHERE id = $1", svc,
	    NULL);
	cr_expect_not_null(strstr(text(list(CAT_SERVICES, biz, &trips)), "Unheard wash"));
	cr_expect_eq(trips, 1, "read again on the new connection");
	worker_down();
	free(hub), free(biz), free(svc);
}

/* Lists longer than CAT_MAX_ROWS, and PgBouncer's transaction pooling: no cache. */
Test(catalogue, long_lists_and_transaction_pooling_are_not_cached)
{
	char		*hub = fx_hub("pro"), *biz = fx_business(hub, NULL), n[16];
	const struct cat_list *l = NULL;

	snprintf(n, sizeof(n), "%d", CAT_MAX_ROWS + 1);
	fx_exec("INSERT INTO calendence.services (business_id, name, duration_min, "
	    "duration_max, rate, rate_type) SELECT $1, 'Wash ' || i, 30, 30, 100, 'flat' "
	    "FROM generate_series(1, $2::integer) i", biz, n, NULL);
	worker_up(1024, DB_PREPARE_ON);
	round_trip();
	cr_expect_eq(cat_list_or_reply(&rq, CAT_SERVICES, biz, &l), 1,
	    "a list of %s was cached", n);
	worker_down();

	worker_up(1024, DB_PREPARE_OFF);
	cr_expect_eq(cat_usable(&wk), 0);
	cr_expect_eq(cat_list_or_reply(&rq, CAT_BUSINESSES, hub, &l), 1);
	worker_down();

	worker_up(0, DB_PREPARE_ON);
	cr_expect_eq(cat_usable(&wk), 0, "catalogue_cache = 0");
	worker_down();
	free(hub), free(biz);
}

/* The least recently used lists make room; the cache never holds more than its budget. */
Test(catalogue, the_budget_holds)
{
	char		*hub = fx_hub("pro"), *biz[40];
	unsigned long	 trips;
	int		 i;

	for (i = 0; i < 40; i++) {
		biz[i] = fx_business(hub, NULL);
		free(fx_service(biz[i], "Alpha wash", 1));
		free(fx_service(biz[i], "Beta wash", 1));
	}
	worker_up(8, DB_PREPARE_ON);	/* 8 KiB: a few lists of two services */
	for (i = 0; i < 40; i++) {
		list(CAT_SERVICES, biz[i], &trips);
		cr_expect_leq(wk.catalogue.bytes, wk.catalogue.budget, "%zu bytes held",
		    wk.catalogue.bytes);
	}
	list(CAT_SERVICES, biz[39], &trips);
	cr_expect_eq(trips, 0, "the newest list was evicted");
	list(CAT_SERVICES, biz[0], &trips);
	cr_expect_eq(trips, 1, "the oldest list was kept");
	worker_down();
	for (i = 0; i < 40; i++)
		free(biz[i]);
	free(hub);
}

/*
 * The lists are kept packed (catalogue.c: each key, and runs of a service's
 * fields at their defaults, one byte): what the cache serves is byte for
 * byte what the database wrote, also where a value spells a key.
 */
Test(catalogue, a_packed_list_is_the_json_the_database_wrote)
{
	char		*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char		*a = fx_service(biz, "Alpha wash", 1), *b = fx_service(biz, "Beta wash", 1);
	char		*loc = fx_location(biz), *want;
	const struct cat_list *l;
	unsigned long	 trips;

	fx_exec("UPDATE calendence.services SET description = "
	    "'say \\,\"name\":\\ ,\"rate\": {\"opens\":\" \",\"closes\":\" ' || chr(1) || chr(31), "
	    "category = 'x', rate_type = 'hourly', is_mobile = true WHERE id = $1", b, NULL);
	worker_up(1024, DB_PREPARE_ON);
	want = fx_value("SELECT string_agg(calendence.service_json(s)::text, ',' ORDER BY s.name, s.id) "
	    "FROM calendence.services s WHERE s.business_id = $1 AND s.is_active", biz, NULL);
	l = list(CAT_SERVICES, biz, &trips);
	cr_expect_str_eq(text(l), want);
	cr_expect(cat_id_is(l, 0, a) && cat_id_is(l, 1, b));
	free(want);
	want = fx_value("SELECT string_agg(calendence.location_json(l)::text, ',' ORDER BY l.name, l.id) "
	    "FROM calendence.locations l WHERE l.business_id = $1 AND l.active", biz, NULL);
	l = list(CAT_LOCATIONS, biz, &trips);
	cr_expect_str_eq(text(l), want);
	free(want);
	want = fx_value("SELECT string_agg(calendence.business_json(b)::text, ',' ORDER BY b.name, b.id) "
	    "FROM calendence.businesses b WHERE b.hub_id = $1", hub, NULL);
	l = list(CAT_BUSINESSES, hub, &trips);
	cr_expect_str_eq(text(l), want);
	free(want);
	worker_down();
	free(hub), free(biz), free(a), free(b), free(loc);
}

/*
 * services.api_json, which the catalogue reads (migration 019), is
 * service_json() of its row: written by the trigger on every INSERT and
 * UPDATE, whoever makes them; a row left stale (written with the trigger
 * off, or before a change of service_json()) is written again by
 * refresh_service_json(), which `calendence-admin migrate` runs.
 */
Test(catalogue, the_stored_json_is_service_json)
{
	char		*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char		*svc = fx_service(biz, "Alpha wash", 1), *same, *n;
	const char	*eq = "SELECT s.api_json IS NOT DISTINCT FROM calendence.service_json(s)::text "
	    "FROM calendence.services s WHERE s.id = $1";
	const struct cat_list *l;
	unsigned long	 trips;
	PGresult	*res;

	cr_expect_str_eq(same = fx_value(eq, svc, NULL), "t", "after the INSERT");
	free(same);
	fx_exec("UPDATE calendence.services SET description = 'A \"new\" one', "
	    "custom_fields = '[{\"id\": \"plate\", \"label\": \"Plate\", \"type\": \"text\", "
	    "\"required\": true, \"options\": []}]', rate = 4200 WHERE id = $1", svc, NULL);
	cr_expect_str_eq(same = fx_value(eq, svc, NULL), "t", "after a DBA's UPDATE");
	free(same);

	/*
	 * the turn "stale rows": from a stale write to the count of what is
	 * stale anywhere, or the other such test would mend ours or count it
	 */
	it_turn("stale rows", 1);
	res = PQexec(fx_db(), "BEGIN; SET LOCAL session_replication_role = replica");
	PQclear(res);
	res = it_query("UPDATE calendence.services SET api_json = '{\"stale\":1}' WHERE id = $1",
	    svc, NULL);
	PQclear(res);
	PQclear(PQexec(fx_db(), "COMMIT"));
	cr_expect_str_eq(same = fx_value(eq, svc, NULL), "f", "the trigger was not off");
	free(same);
	n = fx_value("SELECT calendence.refresh_service_json()", NULL);
	cr_expect(atoi(n) >= 1, "refresh_service_json() wrote %s rows", n);
	free(n);
	cr_expect_str_eq(same = fx_value(eq, svc, NULL), "t", "after refresh_service_json()");
	free(same);
	n = fx_value("SELECT count(*) FROM calendence.services s "
	    "WHERE s.api_json IS DISTINCT FROM calendence.service_json(s)::text", NULL);
	cr_expect_str_eq(n, "0", "rows left stale");
	free(n);
	it_turn("stale rows", 0);

	/* what the worker serves is the stored JSON, the same text */
	worker_up(1024, DB_PREPARE_ON);
	same = fx_value("SELECT calendence.service_json(s)::text FROM calendence.services s "
	    "WHERE s.id = $1", svc, NULL);
	l = list(CAT_SERVICES, biz, &trips);
	cr_expect_str_eq(text(l), same);
	free(same);
	worker_down();
	free(hub), free(biz), free(svc);
}

/*
 * service_lists holds each business's list as the admission reads it
 * (020_service_lists.sql): written by the trigger on every change of the
 * business's services, whoever makes it, and by refresh_service_json()
 * after a change made with the triggers off. Held to a list built here,
 * from service_json() of each row (not from service_list()).
 */
#define WANT_LIST "SELECT count(*)::text || '|' || coalesce(string_agg(s.id::text " \
	"|| octet_length(calendence.service_json(s)::text) || ':' " \
	"|| calendence.service_json(s)::text, ',' ORDER BY s.name, s.id), '-') " \
	"FROM calendence.services s WHERE s.business_id = $1 AND s.is_active"
#define HAS_LIST "SELECT coalesce((SELECT l.n::text || '|' || coalesce(l.list, '-') " \
	"FROM calendence.service_lists l WHERE l.business_id = $1), '0|-')"

static void
expect_list(const char *biz, const char *when)
{
	char	*want = fx_value(WANT_LIST, biz, NULL), *has = fx_value(HAS_LIST, biz, NULL);

	cr_expect_str_eq(has, want, "%s", when);
	free(want), free(has);
}

Test(catalogue, the_stored_list_is_the_services_list)
{
	char		*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char		*other = fx_business(hub, NULL), *a, *b, *c, *n;
	PGresult	*res;

	expect_list(biz, "no services: no row");
	n = fx_value("SELECT count(*) FROM calendence.service_lists WHERE business_id = $1",
	    biz, NULL);
	cr_expect_str_eq(n, "0");
	free(n);
	a = fx_service(biz, "Gamma wash", 1);
	expect_list(biz, "one service");
	b = fx_service(biz, "Alpha wash", 1);
	c = fx_service(biz, "Beta wash", 1);
	expect_list(biz, "three, by name");
	fx_exec("UPDATE calendence.services SET name = 'Aardvark wash', "
	    "description = 'a,\"b\":{c}' WHERE id = $1", a, NULL);
	expect_list(biz, "renamed: first now");
	fx_exec("UPDATE calendence.services SET is_active = false WHERE id = $1", b, NULL);
	expect_list(biz, "one made inactive");
	fx_exec("UPDATE calendence.services SET business_id = $2 WHERE id = $1", c, other, NULL);
	expect_list(biz, "one moved away");
	expect_list(other, "one moved in");
	fx_exec("DELETE FROM calendence.services WHERE id = $1", c, NULL);
	expect_list(other, "its only service deleted");
	n = fx_value("SELECT count(*) FROM calendence.service_lists WHERE business_id = $1",
	    other, NULL);
	cr_expect_str_eq(n, "0", "a business without active services keeps no row");
	free(n);

	/* a change with the triggers off: refresh_service_json() mends the list */
	it_turn("stale rows", 1);
	res = PQexec(fx_db(), "BEGIN; SET LOCAL session_replication_role = replica");
	PQclear(res);
	fx_exec("UPDATE calendence.services SET is_active = true WHERE id = $1", b, NULL);
	/* (its api_json kept true: the_stored_json_is_service_json may be counting) */
	fx_exec("UPDATE calendence.services s SET api_json = calendence.service_json(s)::text "
	    "WHERE id = $1", b, NULL);
	PQclear(PQexec(fx_db(), "COMMIT"));
	n = fx_value("SELECT (" HAS_LIST ") = (" WANT_LIST ")", biz, NULL);
	cr_expect_str_eq(n, "f", "the trigger was not off");
	free(n);
	free(fx_value("SELECT calendence.refresh_service_json()", NULL));
	expect_list(biz, "after refresh_service_json()");
	n = fx_value("SELECT count(*) FROM calendence.businesses b WHERE (SELECT (l.n, l.list) "
	    "FROM calendence.service_lists l WHERE l.business_id = b.id) IS DISTINCT FROM "
	    "(SELECT (x.n, x.list) FROM calendence.service_list(b.id) x WHERE x.n > 0)", NULL);
	cr_expect_str_eq(n, "0", "lists left stale");
	free(n);
	it_turn("stale rows", 0);

	/* more than the catalogue keeps (CAT_MAX_ROWS): counted, no list */
	fx_exec("INSERT INTO calendence.services (business_id, name, duration_min, "
	    "duration_max, rate, rate_type) SELECT $1, 'Wash ' || i, 30, 30, 1000, 'flat' "
	    "FROM generate_series(1, $2::integer) i", other, "501", NULL);
	n = fx_value("SELECT n::text || '|' || (list IS NULL)::text FROM calendence.service_lists "
	    "WHERE business_id = $1", other, NULL);
	cr_expect_str_eq(n, "501|true");
	free(n);
	fx_exec("DELETE FROM calendence.services WHERE business_id = $1 AND name = 'Wash 1'",
	    other, NULL);
	expect_list(other, "500: listed again");
	free(hub), free(biz), free(other), free(a), free(b), free(c);
}

/*
 * A statement writes each business's list once, whatever number of its
 * services it changes (021_service_lists_by_statement.sql): the calls of
 * refresh_service_list() counted by PostgreSQL in the transaction
 * (track_functions), not timed. Per row, 200 inserted made 200 calls.
 */
static char *
list_writes(void)
{
	return fx_value("SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions "
	    "WHERE schemaname = 'calendence' AND funcname = 'refresh_service_list'", NULL);
}

Test(catalogue, a_statement_writes_each_list_once)
{
	char		*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char		*other = fx_business(hub, NULL), *n;

	PQclear(it_query("BEGIN", NULL));
	PQclear(it_query("SET LOCAL track_functions = 'all'", NULL));
	fx_exec("INSERT INTO calendence.services (business_id, name, duration_min, "
	    "duration_max, rate, rate_type) SELECT $1, 'Wash ' || i, 30, 30, 1000, 'flat' "
	    "FROM generate_series(1, 200) i", biz, NULL);
	it_str_eq(n = list_writes(), "1", "200 services inserted");
	free(n);
	fx_exec("UPDATE calendence.services SET rate = 1200 WHERE business_id = $1", biz, NULL);
	it_str_eq(n = list_writes(), "2", "200 updated");
	free(n);
	fx_exec("UPDATE calendence.services SET business_id = $2 WHERE business_id = $1 "
	    "AND name LIKE 'Wash 1%'", biz, other, NULL);
	it_str_eq(n = list_writes(), "4", "111 moved: both businesses, once each");
	free(n);
	fx_exec("DELETE FROM calendence.services WHERE business_id = $1", other, NULL);
	it_str_eq(n = list_writes(), "5", "111 deleted");
	free(n);
	PQclear(it_query("COMMIT", NULL));
	expect_list(biz, "after the statements");
	expect_list(other, "after the statements");
	free(hub), free(biz), free(other);
}
