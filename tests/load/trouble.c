/*
 * trouble.c: ordinary trouble a busy DBA makes, under load of 21 tenants on
 * the release server (LOAD_REL_URL): an open transaction on one key's
 * api_keys row, one on its rate window row, and every worker's backend
 * stopped (SIGSTOP). SPEC 7 "Bounded waits": bookkeeping is skipped, not
 * waited for; one tenant's stalled rows give that tenant a 503 within the
 * bound and nobody else anything; no request waits past db_timeout (the
 * servers of `make check` run with db_timeout = BOUND_MS).
 */
#include <sys/types.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <libpq-fe.h>

#include "fixture.h"
#include "http.h"
#include "api.h"
#include "load.h"
#include "util.h"

#define TENANTS		21	/* the victim, keys[0], and 20 others */
#define RECS		200000
#define BOUND_MS	2000	/* db_timeout of the test servers (tests/run.sh) */
#define LOAD_MS		lu_env("TROUBLE_MS", 3000)	/* how long the trouble lasts */

/* A connection of its own, as a DBA's psql would be, with no timeouts. */
static PGconn *
dba(void)
{
	PGconn	*c = PQconnectdb("application_name=calendence-test-dba");

	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	return c;
}

static void
dba_exec(PGconn *c, const char *sql)
{
	PGresult	*res = PQexec(c, sql);

	cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Latency figures of the records whose target is (victim) or is not (!victim) 0. */
struct figures {
	long		 n, ok, unavailable, other;
	uint32_t	 p50_us, p99_us, max_us;
};

static void
figures(const struct lu_bg *bg, int victim, struct figures *f)
{
	uint32_t	*lat = calloc((size_t)bg->st->recorded + 1, sizeof(*lat));
	long		 i;

	cr_assert_not_null(lat);
	memset(f, 0, sizeof(*f));
	for (i = 0; i < bg->st->recorded; i++) {
		const struct load_rec *r = &bg->recs[i];

		if ((r->target == 0) != victim)
			continue;
		lat[f->n++] = r->latency_us;
		if (r->status == 200)
			f->ok++;
		else if (r->status == 503 && (r->flags & LOAD_UNAVAILABLE) &&
		    (r->flags & LOAD_RETRY_AFTER))
			f->unavailable++;
		else
			f->other++;
	}
	qsort(lat, (size_t)f->n, sizeof(*lat), cmp_u32);
	if (f->n > 0) {
		f->p50_us = lat[f->n / 2];
		f->p99_us = lat[f->n * 99 / 100];
		f->max_us = lat[f->n - 1];
	}
	free(lat);
}

static void
print_figures(const char *what, const struct figures *f)
{
	printf("trouble: %s: %ld requests, %ld 200, %ld 503, %ld other; p50 %.1f ms, "
	    "p99 %.1f ms, max %.1f ms\n", what, f->n, f->ok, f->unavailable, f->other,
	    f->p50_us / 1000.0, f->p99_us / 1000.0, f->max_us / 1000.0);
	fflush(stdout);
}

struct tenants {
	char			*keys[TENANTS];
	char			*victim_id;
	struct load_target	 t[TENANTS];
	struct load_opts	 o;
	struct lu_bg		 bg;
};

/* 21 keys that are never refused, each used once so that its rows exist. */
static void
tenants_init(struct tenants *tn)
{
	static const char	*url;
	struct http_resp	 r;
	int			 i;

	memset(tn, 0, sizeof(*tn));
	url = getenv("LOAD_REL_URL");
	cr_assert_not_null(url, "LOAD_REL_URL is not set");
	setenv("CALENDENCE_URL", url, 1);
	lu_keys(TENANTS, 1000000, tn->keys);
	tn->victim_id = fx_key_id(tn->keys[0]);
	for (i = 0; i < TENANTS; i++) {
		tn->t[i] = (struct load_target){ "GET", "/api/v1/services", tn->keys[i], 0 };
		cr_assert_eq(http_get("/api/v1/services", tn->keys[i], NULL, &r), 0);
		cr_assert_eq(r.status, 200, "%d %s", r.status, r.body);
		http_resp_free(&r);
	}
	tn->o.urls = &url;
	tn->o.nurls = 1;
	tn->o.targets = tn->t;
	tn->o.ntargets = TENANTS;
	tn->o.conns = 8;
	tn->o.duration_ms = (int)LOAD_MS;
	tn->o.timeout_ms = BOUND_MS * 3;	/* an answer later than this is a hang */
}

static void
tenants_free(struct tenants *tn)
{
	int	 i;

	for (i = 0; i < TENANTS; i++)
		free(tn->keys[i]);
	free(tn->victim_id);
	lu_bg_free(&tn->bg);
}

/*
 * A DBA's open transaction holds the victim's api_keys row for longer than
 * the load runs, and the victim's last_used_at is due for its once-a-minute
 * refresh: the refresh is skipped, nobody waits, every answer is a 200.
 * (Before: the victim's requests waited for the DBA's COMMIT, and with
 * them the workers every other tenant needed.)
 */
Test(trouble, key_row_held_by_a_dba, .timeout = 60)
{
	struct tenants	 tn;
	struct figures	 v, o;
	struct http_resp r;
	PGconn		*c = dba();
	char		 sql[256], *used;

	tenants_init(&tn);
	fx_exec("UPDATE calendence.api_keys SET last_used_at = now() - interval '2 minutes' "
	    "WHERE id = $1", tn.victim_id, NULL);
	snprintf(sql, sizeof(sql), "BEGIN; UPDATE calendence.api_keys SET label = 'dba' "
	    "WHERE id = '%s'", tn.victim_id);
	dba_exec(c, sql);
	lu_bg_start(&tn.bg, &tn.o, RECS);
	msleep(LOAD_MS);
	lu_bg_stop(&tn.bg);
	dba_exec(c, "COMMIT");
	PQfinish(c);
	figures(&tn.bg, 1, &v);
	figures(&tn.bg, 0, &o);
	print_figures("api_keys row held: its key", &v);
	print_figures("api_keys row held: 20 other tenants", &o);
	cr_expect_eq(tn.bg.st->timeouts, 0, "%ld requests hung", tn.bg.st->timeouts);
	cr_expect_gt(v.ok, 10, "the key was hardly served");
	cr_expect_eq(v.ok, v.n, "%ld of the key's %ld answers were not 200", v.n - v.ok, v.n);
	cr_expect_eq(o.ok, o.n, "%ld of the others' %ld answers were not 200", o.n - o.ok,
	    o.n);
	cr_expect_lt(v.max_us, BOUND_MS * 1000U / 2, "the key's requests waited %.0f ms",
	    v.max_us / 1000.0);
	/* the skipped bookkeeping is done by the next request after the COMMIT */
	cr_assert_eq(http_get("/api/v1/services", tn.keys[0], NULL, &r), 0);
	http_resp_free(&r);
	used = fx_value("SELECT last_used_at > now() - interval '1 minute' "
	    "FROM calendence.api_keys WHERE id = $1", tn.victim_id, NULL);
	cr_expect_str_eq(nz(used), "t", "last_used_at was not refreshed after the COMMIT");
	free(used);
	tenants_free(&tn);
}

/*
 * A DBA's open transaction holds the victim's rate window row: the victim
 * gets 503 (Retry-After, service_unavailable) within the bound, at once in
 * fact; the 20 others are served as usual. (Before: the victim's requests
 * waited for the COMMIT, as long as it took, parking the workers.)
 */
Test(trouble, window_row_held_by_a_dba, .timeout = 60)
{
	struct tenants	 tn;
	struct figures	 v, o;
	PGconn		*c = dba();
	char		 sql[256];

	tenants_init(&tn);
	snprintf(sql, sizeof(sql), "BEGIN; SELECT * FROM calendence.rate_windows "
	    "WHERE subject = 'k:%s' FOR UPDATE", tn.victim_id);
	dba_exec(c, sql);
	lu_bg_start(&tn.bg, &tn.o, RECS);
	msleep(LOAD_MS);
	lu_bg_stop(&tn.bg);
	dba_exec(c, "COMMIT");
	PQfinish(c);
	figures(&tn.bg, 1, &v);
	figures(&tn.bg, 0, &o);
	print_figures("rate window row held: its key", &v);
	print_figures("rate window row held: 20 other tenants", &o);
	cr_expect_eq(tn.bg.st->timeouts, 0, "%ld requests hung", tn.bg.st->timeouts);
	cr_expect_gt(v.n, 10, "the key was hardly answered");
	cr_expect_eq(v.unavailable, v.n, "%ld of the key's %ld answers were not a clean 503",
	    v.n - v.unavailable, v.n);
	cr_expect_lt(v.max_us, BOUND_MS * 1000U, "the key's requests waited %.0f ms",
	    v.max_us / 1000.0);
	cr_expect_eq(o.ok, o.n, "%ld of the others' %ld answers were not 200", o.n - o.ok,
	    o.n);
	tenants_free(&tn);
}

/*
 * A DBA's open transaction on the victim's plan, hub and business rows
 * (changing them, not yet committed): reads never wait for row locks, so
 * every tenant, the victim included, is served as usual.
 */
Test(trouble, plan_hub_business_rows_held_by_a_dba, .timeout = 60)
{
	struct tenants	 tn;
	struct figures	 v, o;
	PGconn		*c = dba();
	char		 sql[1024];

	tenants_init(&tn);
	snprintf(sql, sizeof(sql), "BEGIN; "
	    "UPDATE calendence.plans p SET api_per_hour = p.api_per_hour FROM calendence.hubs h, "
	    "calendence.businesses b, calendence.api_keys k WHERE k.id = '%s' AND "
	    "b.id = k.business_id AND h.id = b.hub_id AND p.code = h.plan; "
	    "UPDATE calendence.hubs h SET name = h.name || ' (dba)' FROM calendence.businesses b, "
	    "calendence.api_keys k WHERE k.id = '%s' AND b.id = k.business_id AND h.id = b.hub_id; "
	    "UPDATE calendence.businesses b SET name = b.name || ' (dba)' FROM "
	    "calendence.api_keys k WHERE k.id = '%s' AND b.id = k.business_id",
	    tn.victim_id, tn.victim_id, tn.victim_id);
	dba_exec(c, sql);
	lu_bg_start(&tn.bg, &tn.o, RECS);
	msleep(LOAD_MS);
	lu_bg_stop(&tn.bg);
	dba_exec(c, "ROLLBACK");
	PQfinish(c);
	figures(&tn.bg, 1, &v);
	figures(&tn.bg, 0, &o);
	print_figures("plan, hub and business rows held: its key", &v);
	print_figures("plan, hub and business rows held: 20 other tenants", &o);
	cr_expect_eq(tn.bg.st->timeouts, 0, "%ld requests hung", tn.bg.st->timeouts);
	cr_expect_gt(v.ok, 10, "the key was hardly served");
	cr_expect_eq(v.ok + o.ok, v.n + o.n, "%ld answers were not 200",
	    v.n + o.n - v.ok - o.ok);
	cr_expect_lt(v.max_us, BOUND_MS * 1000U / 2, "the key's requests waited %.0f ms",
	    v.max_us / 1000.0);
	tenants_free(&tn);
}

/* The pids of the workers' backends (application_name calendence-worker). */
static int
worker_backends(pid_t *out, int max)
{
	/* '': workers from before they named themselves, for comparisons */
	PGresult	*res = PQexec(fx_db(), "SELECT pid FROM pg_stat_activity WHERE "
			    "application_name IN ('calendence-worker', '') AND "
			    "backend_type = 'client backend' AND pid <> pg_backend_pid() AND "
			    "datname = current_database()");
	int		 i, n;

	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQerrorMessage(fx_db()));
	n = PQntuples(res) < max ? PQntuples(res) : max;
	for (i = 0; i < n; i++)
		out[i] = (pid_t)atoi(PQgetvalue(res, i, 0));
	PQclear(res);
	return n;
}

/* The backends this test stopped: resumed however the test ends. */
static pid_t	 stopped[256];
static int	 nstopped;

static void
resume_stopped(void)
{
	int	 i;

	for (i = 0; i < nstopped; i++)
		kill(stopped[i], SIGCONT);
	nstopped = 0;
}

/*
 * Every worker's backend stopped (SIGSTOP) for longer than the bound, under
 * load: each request whose statement went to a stopped backend is a 503
 * within the bound, the worker then connects again and serves; /healthz
 * answers within 2 s meanwhile. (Before: the requests hung until SIGCONT.)
 */
Test(trouble, backends_stopped, .timeout = 60, .fini = resume_stopped)
{
	struct tenants		 tn;
	struct figures		 all, o;
	struct http_resp	 h;
	int64_t			 t0;

	tenants_init(&tn);
	/*
	 * The 429s that earlier tests had answered from memory are reported
	 * by each worker within a second of going idle (fcgi/usage.c); a
	 * report caught by the stop would meet it first (its bound passes and
	 * the worker connects again), leaving no stopped backend to a request.
	 */
	msleep(2500);
	nstopped = worker_backends(stopped, 256);
	cr_assert_gt(nstopped, 0, "no worker backends found");
	for (int i = 0; i < nstopped; i++)
		kill(stopped[i], SIGSTOP);
	t0 = load_now_ms();
	cr_assert_eq(http_get("/healthz", NULL, NULL, &h), 0);
	printf("trouble: /healthz with the backends stopped: %d in %lld ms\n", h.status,
	    (long long)(load_now_ms() - t0));
	cr_expect_lt(load_now_ms() - t0, 2000, "/healthz took longer than 2 s");
	cr_expect(h.status == 200 || h.status == 503, "/healthz %d", h.status);
	http_resp_free(&h);
	tn.o.duration_ms = (int)LOAD_MS + BOUND_MS;
	lu_bg_start(&tn.bg, &tn.o, RECS);
	msleep(BOUND_MS + 500);
	resume_stopped();
	lu_bg_stop(&tn.bg);
	figures(&tn.bg, 1, &all);
	figures(&tn.bg, 0, &o);
	all.n += o.n, all.ok += o.ok, all.unavailable += o.unavailable,
	    all.other += o.other;
	if (o.max_us > all.max_us)
		all.max_us = o.max_us;
	print_figures("backends stopped: all tenants", &all);
	cr_expect_eq(tn.bg.st->timeouts, 0, "%ld requests hung", tn.bg.st->timeouts);
	cr_expect_gt(all.unavailable, 0, "no 503 while the backends were stopped");
	cr_expect_eq(all.other, 0, "%ld answers neither 200 nor a clean 503", all.other);
	cr_expect_lt(all.max_us, (BOUND_MS + 1000) * 1000U, "a request waited %.0f ms",
	    all.max_us / 1000.0);
	cr_expect_gt(all.ok, 100, "the workers did not serve again after the bound");
	tenants_free(&tn);
}
