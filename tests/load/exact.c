/*
 * exact.c: many keys at once through several workers of two web servers: every
 * key is admitted exactly its per-minute limit, the rest are 429, nothing is 5xx.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"
#include "load.h"
#include "util.h"

/*
 * LOAD_KEYS keys (200) on a plan of LOAD_LIMIT (20) a minute, LOAD_PER_KEY
 * (1.5 x limit) requests each over LOAD_CONNS (16) keep-alive connections, split
 * between CALENDENCE_URL and CALENDENCE_URL2, every key through both, in
 * shuffled order. The windows are calendar minutes (rl_admit), and a request
 * whose transaction began in one minute may be counted in the next (see
 * 003_api.sql): the run is made to fit in one minute, at most LOAD_SECONDS
 * (15), so that every answer belongs to the same window.
 */
Test(load, every_key_admitted_exactly_its_limit, .timeout = 180)
{
	long			 nkeys = lu_env("LOAD_KEYS", 200);
	long			 limit = lu_env("LOAD_LIMIT", 20);
	long			 per_key = lu_env("LOAD_PER_KEY", limit + limit / 2);
	long			 secs = lu_env("LOAD_SECONDS", 15);
	const char		*urls[2] = { getenv("CALENDENCE_URL"), getenv("CALENDENCE_URL2") };
	int			 nurls = urls[1] != NULL ? 2 : 1;
	char			**keys = calloc((size_t)nkeys, sizeof(*keys));
	long			*ok = calloc((size_t)nkeys, sizeof(*ok));
	long			*refused = calloc((size_t)nkeys, sizeof(*refused));
	struct load_target	*t = calloc((size_t)(nkeys * nurls), sizeof(*t));
	struct load_rec		*recs = calloc((size_t)(nkeys * per_key), sizeof(*recs));
	struct load_opts	 o = { 0 };
	struct load_stats	 st;
	char			 mstart[32], lim[32], *n, *all;
	long			 i, bad = 0, short_keys = 0, over_keys = 0, no_ra = 0;
	int64_t			 reset = 0;
	int			 mixed = 0;

	cr_assert(keys && ok && refused && t && recs);
	cr_assert_not_null(urls[0], "CALENDENCE_URL is not set");
	lu_keys((int)nkeys, (int)limit, keys);
	for (i = 0; i < nkeys * nurls; i++) {
		t[i].method = "GET";
		t[i].path = "/api/v1/services";
		t[i].token = keys[i / nurls];
		t[i].server = (int)(i % nurls);
	}
	o.urls = urls;
	o.nurls = nurls;
	o.targets = t;
	o.ntargets = (int)(nkeys * nurls);
	o.conns = (int)lu_env("LOAD_CONNS", 16);
	o.requests = nkeys * per_key;
	o.duration_ms = (int)(secs * 1000);
	o.timeout_ms = 5000;
	o.recs = recs;
	o.nrecs = nkeys * per_key;
	lu_fit_in_minute((int)secs + 1);
	cr_assert_eq(load_run(&o, &st), 0);
	printf("load: exactness: %ld keys x %ld requests, limit %ld/min, %d connections, "
	    "%d server(s)\n", nkeys, per_key, limit, o.conns, nurls);
	load_print("exactness", &st);

	cr_expect_eq(st.ended, o.requests, "only %ld of %ld requests in %ld s: too slow",
	    st.ended, o.requests, secs);
	cr_expect_eq(st.timeouts + st.dropped + st.connect_failures + st.other_status, 0);
	for (i = 0; i < st.recorded; i++) {
		const struct load_rec *r = &recs[i];
		long k = (long)r->target / nurls;

		if (r->status == 200)
			ok[k]++;
		else if (r->status == 429) {
			refused[k]++;
			no_ra += !(r->flags & LOAD_RETRY_AFTER);
		} else
			bad++;
		if (r->reset != 0 && reset == 0)
			reset = r->reset;
		mixed += r->reset != reset;
	}
	for (i = 0; i < nkeys; i++) {
		short_keys += ok[i] < limit;
		over_keys += ok[i] > limit;
	}
	printf("load: exactness: %ld keys admitted exactly %ld times, %ld fewer, %ld more; "
	    "%ld answers neither 200 nor 429\n", nkeys - short_keys - over_keys, limit,
	    short_keys, over_keys, bad);
	cr_expect_eq(bad, 0, "%ld answers were neither 200 nor 429", bad);
	cr_expect_eq(st.status[500] + st.status[502] + st.status[503] + st.status[504], 0);
	cr_expect_eq(mixed, 0, "%d answers of another window (X-RateLimit-Reset)", mixed);
	cr_expect_eq(over_keys, 0, "%ld keys admitted more than %ld times", over_keys, limit);
	cr_expect_eq(short_keys, 0, "%ld keys admitted fewer than %ld times", short_keys,
	    limit);
	cr_expect_eq(no_ra, 0, "%ld 429s without Retry-After", no_ra);
	/* the shuffled order gives every key about per_key requests, enough to exhaust it */
	for (i = 0; i < nkeys; i++)
		cr_expect_gt(refused[i], 0, "key %ld: %ld admitted, none refused", i, ok[i]);

	/* what the database counted, independently of the answers */
	all = calloc((size_t)nkeys, 48);
	cr_assert_not_null(all);
	for (i = 0; i < nkeys; i++) {
		strcat(all, keys[i]);
		if (i + 1 < nkeys)
			strcat(all, ",");
	}
	snprintf(mstart, sizeof(mstart), "%lld", (long long)reset - 60);
	snprintf(lim, sizeof(lim), "%ld", limit);
	n = fx_value("SELECT count(*) FROM calendence.rate_windows w "
	    "JOIN calendence.api_keys k ON w.subject = 'k:' || k.id "
	    "WHERE k.token_hash = ANY (SELECT calendence.token_hash(t) "
	    "FROM unnest(string_to_array($1, ',')) t) "
	    "AND w.minute_start = $2::bigint AND w.minute_count = $3::integer "
	    "AND w.hour_count = $3::integer", all, mstart, lim, NULL);
	cr_expect_eq(atol(n), nkeys, "the database counted %s keys at the limit in the "
	    "minute and the hour, not %ld", n, nkeys);
	free(n);
	free(all);
	for (i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	free(ok);
	free(refused);
	free(t);
	free(recs);
}
