/* memory.c: the workers' memory stays flat under a long mixed load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"
#include "load.h"
#include "util.h"

#define NGOOD		24	/* keys with room */
#define NTIGHT		4	/* keys that are refused most of the time */
#define NTARGETS	(NGOOD * 3 + NTIGHT + 6)

/*
 * The release build (the sanitizer build's allocator keeps freed memory in
 * quarantine and grows for a long while) behind its own lighttpd: LOAD_REL_URL,
 * LOAD_REL_PID (that lighttpd's pid, whose children the workers are). A warm-up
 * of LOAD_MEM_WARMUP (3000) requests fills every cache a worker has (prepared
 * statements, the refusal and unknown-token caches, libpq's and json-c's
 * buffers, malloc's arena); then LOAD_MEM_REQUESTS (12000) more must not move
 * any worker's resident set by more than LOAD_MEM_SLACK_KB (64 KiB). Each of
 * the four workers serves about 3000 of them, so a leak of 22 bytes a request
 * fails, while a few pages of arena shuffling (4 KiB each) pass; measured: at
 * most 4 KiB of growth over 12000 to 30000 requests.
 */
Test(load, worker_memory_stays_flat, .timeout = 180)
{
	const char		*url = getenv("LOAD_REL_URL");
	pid_t			 lpid = lu_env_pid("LOAD_REL_PID");
	long			 warm = lu_env("LOAD_MEM_WARMUP", 3000);
	long			 total = lu_env("LOAD_MEM_REQUESTS", 12000);
	long			 slack = lu_env("LOAD_MEM_SLACK_KB", 64);
	pid_t			 w0[LU_MAX_WORKERS], w1[LU_MAX_WORKERS];
	long			 rss0[LU_MAX_WORKERS], rss1[LU_MAX_WORKERS];
	char			*good[NGOOD], *tight[NTIGHT], *hub, *biz, *pub;
	char			 svc_path[128];
	struct load_target	 t[NTARGETS];
	struct load_opts	 o = { 0 };
	struct load_stats	 st;
	int			 n0, n1, i, k = 0;
	long			 most = 0;

	if (url == NULL || lpid == 0)
		cr_skip("LOAD_REL_URL and LOAD_REL_PID name no release-build server");
	setenv("CALENDENCE_URL", url, 1);
	lu_keys(NGOOD, 1000000, good);
	lu_keys(NTIGHT, 5, tight);
	hub = fx_hub("pro");
	biz = fx_business(hub, NULL);
	pub = fx_key("publishable", biz);
	free(fx_service(biz, NULL, 1));
	snprintf(svc_path, sizeof(svc_path), "/api/v1/services/%s",
	    "00000000-0000-4000-8000-000000000000");
	for (i = 0; i < NGOOD; i++) {
		t[k++] = (struct load_target){ "GET", "/api/v1/services", good[i], 0 };
		t[k++] = (struct load_target){ "GET", "/api/v1/businesses", good[i], 0 };
		t[k++] = (struct load_target){ "GET", svc_path, good[i], 0 };	/* 404 */
	}
	for (i = 0; i < NTIGHT; i++)
		t[k++] = (struct load_target){ "GET", "/api/v1/services", tight[i], 0 };
	/* sessions, and what fails: unknown, malformed and missing tokens, no route */
	t[k++] = (struct load_target){ "POST", "/api/v1/session", pub, 0 };
	t[k++] = (struct load_target){ "GET", "/api/v1/services",
	    "cal_biz_00000000000000000000000000000000000000", 0 };
	t[k++] = (struct load_target){ "GET", "/api/v1/services", "cal_biz_short", 0 };
	t[k++] = (struct load_target){ "GET", "/api/v1/services", NULL, 0 };
	t[k++] = (struct load_target){ "GET", "/api/v1/nothing-here", good[0], 0 };
	t[k++] = (struct load_target){ "GET", "/healthz", NULL, 0 };
	cr_assert_eq(k, NTARGETS);
	o.urls = &url;
	o.nurls = 1;
	o.targets = t;
	o.ntargets = k;
	o.conns = (int)lu_env("LOAD_CONNS", 16);
	o.timeout_ms = 5000;

	o.requests = warm;
	cr_assert_eq(load_run(&o, &st), 0);
	load_print("memory warm-up", &st);
	n0 = lu_workers(lpid, w0, LU_MAX_WORKERS);
	cr_assert_geq(n0, 2, "%d workers under lighttpd %ld", n0, (long)lpid);
	for (i = 0; i < n0; i++)
		rss0[i] = lu_rss_kb(w0[i]);

	o.requests = total;
	cr_assert_eq(load_run(&o, &st), 0);
	load_print("memory", &st);
	n1 = lu_workers(lpid, w1, LU_MAX_WORKERS);
	cr_assert_eq(n1, n0, "workers: %d, then %d", n0, n1);
	cr_assert_arr_eq(w0, w1, (size_t)n0 * sizeof(pid_t), "a worker was replaced");
	for (i = 0; i < n1; i++) {
		rss1[i] = lu_rss_kb(w1[i]);
		printf("load: worker %ld: VmRSS %ld KiB after the warm-up, %ld KiB after "
		    "%ld more requests (%+ld KiB)\n", (long)w1[i], rss0[i], rss1[i], total,
		    rss1[i] - rss0[i]);
		if (rss1[i] - rss0[i] > most)
			most = rss1[i] - rss0[i];
		cr_expect(rss0[i] > 0 && rss1[i] > 0);
		cr_expect_leq(rss1[i] - rss0[i], slack, "worker %ld grew %ld KiB",
		    (long)w1[i], rss1[i] - rss0[i]);
	}
	printf("load: memory: largest growth %ld KiB over %ld requests (bound %ld KiB)\n",
	    most, total, slack);
	cr_expect_eq(st.ended, total);
	cr_expect_eq(st.timeouts + st.dropped + st.connect_failures + st.other_status, 0);
	for (i = 500; i < 600; i++)
		cr_expect_eq(st.status[i], 0, "%ld answers %d", st.status[i], i);
	for (i = 0; i < NGOOD; i++)
		free(good[i]);
	for (i = 0; i < NTIGHT; i++)
		free(tight[i]);
	free(hub);
	free(biz);
	free(pub);
}
