/*
 * e2e_catalogue.c: the workers' catalogue cache (fcgi/catalogue.c) through
 * lighttpd and its workers: a DBA's change, committed by plain SQL, is in
 * the answer to the very next request, whichever worker serves it and
 * whether or not that worker had the list cached; and a key revoked under
 * load is refused by every request that starts after the revocation's
 * commit (the key check is in authenticate(), never cached). The same for
 * the kept answers of GET /availability (fcgi/answers.c).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"
#include "api.h"

#define ROUNDS	15	/* changes per kind; the server has 3 workers */

/* A shop on a plan of its own whose limits these tests never reach. */
static char *
roomy_shop(struct fx_shop *s)
{
	char	*plan = fx_plan(100000, 1000000, 1000, 1);

	fx_shop_open(s, plan);
	return plan;
}

/* GET path with token; asserts 200; the value at jpath of the answer (malloc'd). */
static char *
get_value(const char *path, const char *token, const char *jpath)
{
	struct http_resp r;
	char		*v;

	cr_assert_eq(http_get(path, token, NULL, &r), 0);
	cr_assert_eq(r.status, 200, "GET %s: %d %s", path, r.status, r.body);
	v = strdup(nz(jstr(r.json, jpath)));
	http_resp_free(&r);
	return v;
}

/*
 * Each round i: the list warmed (every worker may hold it), changed by sql
 * ($1 id, $2 i), read: want is prefix and i in at least 'width' digits.
 */
static void
rounds(const char *path, const char *token, const char *jpath, const char *sql,
    const char *id, const char *prefix, int width)
{
	char	 want[128], n[16], *got;
	int	 i, j;

	for (i = 0; i < ROUNDS; i++) {
		for (j = 0; j < 4; j++)
			free(get_value(path, token, jpath));
		snprintf(want, sizeof(want), "%s%0*d", prefix, width, i);
		snprintf(n, sizeof(n), "%d", i);
		fx_exec(sql, id, n, NULL);
		got = get_value(path, token, jpath);
		cr_expect_str_eq(got, want, "GET %s after the change of round %d: %s", path, i,
		    got);
		free(got);
	}
}

Test(catalogue, a_dba_change_is_in_the_next_answer)
{
	struct fx_shop	 s;
	char		 path[128], *hub_key, *plan = roomy_shop(&s);

	hub_key = fx_key("hub", s.hub);
	rounds("/api/v1/services", s.key, "data.0.name",
	    "UPDATE calendence.services SET name = 'Wash ' || $2 WHERE id = $1", s.svc,
	    "Wash ", 1);
	snprintf(path, sizeof(path), "/api/v1/services/%s", s.svc);
	rounds(path, s.key, "description",
	    "UPDATE calendence.services SET description = 'About ' || $2 WHERE id = $1",
	    s.svc, "About ", 1);
	/* fx_shop's hours open at 00:00 or later; the hour's close moves */
	rounds("/api/v1/locations", s.key, "data.0.hours.monday.0.closes",
	    "UPDATE calendence.location_hours SET closes = ('22:00'::time + "
	    "make_interval(mins => $2::integer)) WHERE location_id = $1 AND weekday = 1",
	    s.loc, "22:", 2);
	rounds("/api/v1/businesses", s.key, "data.0.name",
	    "UPDATE calendence.businesses SET name = 'Shop ' || $2 WHERE id = $1", s.biz,
	    "Shop ", 1);
	snprintf(path, sizeof(path), "/api/v1/businesses/%s", s.biz);
	rounds(path, hub_key, "name",
	    "UPDATE calendence.businesses SET name = 'Hub shop ' || $2 WHERE id = $1", s.biz,
	    "Hub shop ", 1);
	free(hub_key), free(plan);
	fx_shop_free(&s);
}

/*
 * The workers' kept GET /availability answers (fcgi/answers.c) likewise: a
 * DBA's UPDATE of the staff member (whose name each slot shows) is in the
 * very next answer, whichever worker kept the one before.
 */
Test(catalogue, a_dba_change_is_in_the_next_availability)
{
	struct fx_shop	 s;
	char		 path[256], jpath[64], *plan = roomy_shop(&s);

	snprintf(path, sizeof(path), "/api/v1/availability?service_id=%s&date_from=%s"
	    "&date_to=%s", s.svc, s.day, s.day);
	snprintf(jpath, sizeof(jpath), "data.%s.0.staff.name", s.day);
	rounds(path, s.key, jpath,
	    "UPDATE calendence.staff SET name = 'Pat ' || $2 WHERE id = $1", s.staff, "Pat ", 1);
	free(plan);
	fx_shop_free(&s);
}

/* A service made inactive leaves the list and its own URL at once. */
Test(catalogue, a_service_made_inactive_is_gone_at_once)
{
	struct fx_shop	 s;
	struct http_resp r;
	char		 path[128], *plan = roomy_shop(&s);
	int		 i;

	snprintf(path, sizeof(path), "/api/v1/services/%s", s.svc);
	for (i = 0; i < 6; i++) {
		free(get_value(path, s.key, "id"));
		free(get_value("/api/v1/services", s.key, "meta.total"));
	}
	fx_exec("UPDATE calendence.services SET is_active = false WHERE id = $1", s.svc, NULL);
	cr_assert_eq(http_get(path, s.key, NULL, &r), 0);
	cr_expect_eq(r.status, 404, "%d %s", r.status, r.body);
	http_resp_free(&r);
	cr_assert_eq(http_get("/api/v1/services", s.key, NULL, &r), 0);
	cr_expect_eq(jint(r.json, "meta.total"), 0, "%s", r.body);
	http_resp_free(&r);
	fx_shop_free(&s);
	free(plan);
}

/* Requests of one key from several threads, with when each started and its status. */
struct hammer {
	const char	*key;
	volatile int	*stop;
	long long	 starts[4096];
	int		 status[4096];
	int		 n;
};

static void *
hammer_run(void *arg)
{
	struct hammer	*h = arg;
	struct http_resp r;

	while (!*h->stop && h->n < 4096) {
		h->starts[h->n] = now_ms();
		if (http_get("/api/v1/services", h->key, NULL, &r) == 0)
			h->status[h->n] = r.status;
		else
			h->status[h->n] = -1;
		http_resp_free(&r);
		__atomic_store_n(&h->n, h->n + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/*
 * Waits until the hammers have made 'want' requests since 'from' (their
 * counts at that time), up to 15 s: as many as a loaded machine needs.
 */
static void
hammered(const struct hammer *h, const int *from, int want)
{
	long long	 until = now_ms() + 15000;
	int		 i, done;

	do {
		usleep(50000);
		for (i = 0, done = 0; i < 4; i++)
			done += __atomic_load_n(&h[i].n, __ATOMIC_ACQUIRE) - from[i];
	} while (done < want && now_ms() < until);
}

/*
 * A key revoked while four clients use it, each worker with the business's
 * services cached: no request that starts after the revocation's commit is
 * answered 200; every one is 401 (or 429, once the address has had more
 * failed credentials than auth_fail_limit).
 */
Test(catalogue, revocation_is_immediate_under_load, .timeout = 60)
{
	struct fx_shop	 s;
	struct hammer	 h[4];
	pthread_t	 t[4];
	volatile int	 stop = 0;
	long long	 committed;
	int		 i, j, after = 0, before_ok = 0, revoked = 0;
	int		 zero[4] = { 0 }, at_commit[4];
	char		*plan = roomy_shop(&s);
	for (i = 0; i < 4; i++) {
		memset(&h[i], 0, sizeof(h[i]));
		h[i].key = s.key;
		h[i].stop = &stop;
		cr_assert_eq(pthread_create(&t[i], NULL, hammer_run, &h[i]), 0);
	}
	hammered(h, zero, 25);
	fx_exec("UPDATE calendence.api_keys SET revoked_at = now() WHERE token_hash = "
	    "calendence.token_hash($1)", s.key, NULL);
	committed = now_ms();
	for (i = 0; i < 4; i++)
		at_commit[i] = __atomic_load_n(&h[i].n, __ATOMIC_ACQUIRE);
	/* those in flight at the commit, then 25 started after it */
	hammered(h, at_commit, 29);
	stop = 1;
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 4; i++)
		for (j = 0; j < h[i].n; j++) {
			if (h[i].starts[j] > committed) {
				after++;
				revoked += h[i].status[j] == 401;
				/* 429 once the address has had too many 401s */
				cr_expect(h[i].status[j] == 401 || h[i].status[j] == 429,
				    "a request %lld ms after the commit: %d",
				    h[i].starts[j] - committed, h[i].status[j]);
			} else
				before_ok += h[i].status[j] == 200;
		}
	cr_expect_gt(before_ok, 20, "only %d answers before the revocation", before_ok);
	cr_expect_gt(after, 20, "only %d requests after the revocation", after);
	cr_expect_gt(revoked, 0, "no 401 api_key_revoked");
	fx_shop_free(&s);
	free(plan);
}
