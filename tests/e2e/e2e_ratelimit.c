/* e2e_ratelimit.c: SPEC 6, the rate windows, exactly, through real web servers and workers. */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"
#include "api.h"

/*
 * Only one test here carries a criterion .timeout: with several timed tests
 * ending together, criterion 2.4.1's runner (BoxFort's timeout list) leaks
 * its timeout records, which LeakSanitizer reports as a failure of the run.
 * The others are bounded by their own loops and the HTTP client's 10 s
 * receive timeout.
 */

#define SERVICES_PATH	"/api/v1/services"
#define SES_PATH	"/api/v1/session"
#define AUTH_LIMIT	20	/* auth_fail_limit in the test configuration */

/* The start of the next clock-aligned window of 'len' seconds after t. */
static long long
next_boundary(long long t, int len)
{
	return t - t % len + len;
}

/* Both: at least 'need' seconds left in the minute and in the hour. */
static void
fresh_windows(int need)
{
	fresh_window(3600, need);
	fresh_window(60, need);
}

/* A client address of this process, distinct per 'tag' (0..63), never a real host. */
static void
client_v4(int tag, char out[32])
{
	int	 pid = (int)getpid();

	snprintf(out, 32, "100.%d.%d.%d", 64 + tag, pid >> 8 & 255, pid & 255);
}

/* An IPv6 client in a /64 of this process distinct per 'tag', host part 'host'. */
static void
client_v6(int tag, int host, char out[64])
{
	snprintf(out, 64, "2001:db8:%x:%x::%x", 0x100 + tag,
	    0x1000 + (int)(getpid() % 0xe000), host);
}

/* A tenant: its own plan with exact limits, a hub on it, a business, a key. */
struct tenant {
	char	*plan;
	char	*hub;
	char	*biz;
	char	*key;		/* business key */
	char	*key_id;
	char	 subject[64];	/* its rate_windows subject */
};

static void
tenant_init(struct tenant *t, int per_minute, int per_hour, int session_per_ip)
{
	t->plan = fx_plan(per_minute, per_hour, session_per_ip, 1);
	t->hub = fx_hub("pro");
	fx_exec("UPDATE calendence.hubs SET plan = $1 WHERE id = $2", t->plan, t->hub,
	    NULL);
	t->biz = fx_business(t->hub, NULL);
	t->key = fx_key("business", t->biz);
	t->key_id = fx_key_id(t->key);
	cr_assert_not_null(t->key_id);
	snprintf(t->subject, sizeof(t->subject), "k:%s", t->key_id);
}

static void
tenant_cleanup(struct tenant *t)
{
	free(t->plan);
	free(t->hub);
	free(t->biz);
	free(t->key);
	free(t->key_id);
}

/* "minute/hour" of a rate_windows subject as it stands, or "(none)". */
static char *
window_counts(const char *subject)
{
	char	*v = fx_value("SELECT minute_count || '/' || hour_count "
	    "FROM calendence.rate_windows WHERE subject = $1", subject, NULL);

	return v != NULL ? v : strdup("(none)");
}

static void
expect_counts(const char *subject, const char *want)
{
	char	*v = window_counts(subject);

	cr_expect_str_eq(v, want, "rate_windows %s: %s, want %s", subject, v, want);
	free(v);
}

/* A header as a number; -1 when absent or not a plain integer. */
static long long
hnum(const struct http_resp *r, const char *name)
{
	const char	*v = http_header(r, name);
	char		*end;
	long long	 n;

	if (v == NULL || *v == '\0')
		return -1;
	n = strtoll(v, &end, 10);
	return *end == '\0' ? n : -1;
}

/*
 * Finds the entry "name";a=N;b=N of an IETF RateLimit or RateLimit-Policy
 * field and returns its two numbers; -1 when there is no such entry.
 */
static int
ietf_entry(const char *field, const char *name, char a, char b, long long *x,
    long long *y)
{
	char		 quoted[32];
	const char	*p;
	char		 ka, kb;
	int		 n = 0;

	snprintf(quoted, sizeof(quoted), "\"%s\";", name);
	if (field == NULL || (p = strstr(field, quoted)) == NULL)
		return -1;
	p += strlen(quoted);
	if (sscanf(p, "%c=%lld;%c=%lld%n", &ka, x, &kb, y, &n) != 4 || n == 0 ||
	    ka != a || kb != b)
		return -1;
	return 0;
}

/*
 * What a response said about one window: X-RateLimit-* when it is the
 * reported one, and always its IETF entries.
 */
struct window_want {
	const char	*name;
	long long	 limit;
	long long	 remaining;
	int		 seconds;	/* 60 or 3600 */
};

/*
 * Checks the IETF entries of window w (q, w, r, and t against the clock of
 * this process, +-1 s) in a response received between t0 and t1.
 */
static void
expect_ietf(const struct http_resp *r, const struct window_want *w, long long t0,
    long long t1)
{
	long long	 q, win, rem, t;
	long long	 reset = next_boundary(t0, w->seconds);

	cr_expect_eq(ietf_entry(http_header(r, "RateLimit-Policy"), w->name, 'q', 'w',
	    &q, &win), 0, "RateLimit-Policy lacks %s: %s", w->name,
	    nz(http_header(r, "RateLimit-Policy")));
	cr_expect(q == w->limit && win == w->seconds, "%s: q=%lld w=%lld", w->name, q, win);
	cr_expect_eq(ietf_entry(http_header(r, "RateLimit"), w->name, 'r', 't', &rem, &t),
	    0, "RateLimit lacks %s: %s", w->name, nz(http_header(r, "RateLimit")));
	cr_expect_eq(rem, w->remaining, "%s: r=%lld, want %lld (%s)", w->name, rem,
	    w->remaining, nz(http_header(r, "RateLimit")));
	cr_expect(t >= reset - t1 - 1 && t <= reset - t0 + 1, "%s: t=%lld, want %lld",
	    w->name, t, reset - t0);
}

/*
 * Checks that the X-RateLimit-* fields report window w: its limit, what is
 * left, and its next boundary (from the clock between t0 and t1).
 */
static void
expect_reported(const struct http_resp *r, const struct window_want *w, long long t0,
    long long t1)
{
	long long	 reset = hnum(r, "X-RateLimit-Reset");

	cr_expect_eq(hnum(r, "X-RateLimit-Limit"), w->limit, "X-RateLimit-Limit %s, "
	    "want %lld (%s)", nz(http_header(r, "X-RateLimit-Limit")), w->limit, w->name);
	cr_expect_eq(hnum(r, "X-RateLimit-Remaining"), w->remaining,
	    "X-RateLimit-Remaining %s, want %lld (%s)",
	    nz(http_header(r, "X-RateLimit-Remaining")), w->remaining, w->name);
	cr_expect(reset == next_boundary(t0, w->seconds) ||
	    reset == next_boundary(t1, w->seconds), "X-RateLimit-Reset %lld, want %lld (%s)",
	    reset, next_boundary(t0, w->seconds), w->name);
	cr_expect_eq(http_header_count(r, "X-RateLimit-Limit"), 1);
}

/*
 * The IETF RateLimit field of a per-key response, exactly: the minute entry,
 * then the hour entry, with these remaining counts (t as the field says).
 */
static void
expect_ratelimit_field(const struct http_resp *r, long long minute_r, long long hour_r)
{
	const char	*f = nz(http_header(r, "RateLimit"));
	long long	 mr, mt, hr, ht;
	char		 want[128];

	cr_expect_eq(sscanf(f, "\"minute\";r=%lld;t=%lld, \"hour\";r=%lld;t=%lld", &mr,
	    &mt, &hr, &ht), 4, "RateLimit: %s", f);
	snprintf(want, sizeof(want), "\"minute\";r=%lld;t=%lld, \"hour\";r=%lld;t=%lld",
	    minute_r, mt, hour_r, ht);
	cr_expect_str_eq(f, want, "RateLimit: %s, want %s", f, want);
}

/* A 429 as SPEC 6 says: envelope, and Retry-After = the reported reset - now (+-1). */
static void
expect_429(const struct http_resp *r, long long t0, long long t1)
{
	long long	 retry = hnum(r, "Retry-After"), reset = hnum(r, "X-RateLimit-Reset");

	cr_expect_eq(r->status, 429, "status %d: %s", r->status, r->body);
	cr_expect_str_eq(nz(jstr(r->json, "error.type")), "rate_limit_error", "%s", r->body);
	cr_expect_str_eq(nz(jstr(r->json, "error.code")), "rate_limited", "%s", r->body);
	cr_expect_eq(hnum(r, "X-RateLimit-Remaining"), 0);
	cr_expect(retry >= 1, "Retry-After %s", nz(http_header(r, "Retry-After")));
	cr_expect(retry >= reset - t1 - 1 && retry <= reset - t0 + 1,
	    "Retry-After %lld, reset %lld, now %lld", retry, reset, t0);
}

/* A request with 'token' from client address 'ip' (NULL: this process's own). */
static void
call_from(const char *method, const char *path, const char *token, const char *ip,
    struct http_resp *r)
{
	char		 xff[80];
	const char	*hdrs[2] = { xff, NULL };

	snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", ip ? ip : http_client_ip());
	cr_assert_eq(http_call(method, path, token, hdrs, NULL, r), 0);
}

/* GET /services with 'token'; returns the status, the response in *r. */
static int
get_services(const char *token, struct http_resp *r, long long *t0, long long *t1)
{
	*t0 = (long long)time(NULL);
	cr_assert_eq(http_get(SERVICES_PATH, token, NULL, r), 0);
	*t1 = (long long)time(NULL);
	return r->status;
}

Test(ratelimit, minute_window_counts_exactly)
{
	struct tenant		 t;
	struct http_resp	 r;
	long long		 t0, t1;
	int			 i;

	tenant_init(&t, 5, 1000, 20);
	fresh_windows(10);
	for (i = 0; i < 5; i++) {
		struct window_want m = { "minute", 5, 4 - i, 60 };
		struct window_want h = { "hour", 1000, 999 - i, 3600 };

		cr_assert_eq(get_services(t.key, &r, &t0, &t1), 200, "request %d: %s", i + 1,
		    r.body);
		expect_reported(&r, &m, t0, t1);
		expect_ietf(&r, &m, t0, t1);
		expect_ietf(&r, &h, t0, t1);
		cr_expect_str_eq(nz(http_header(&r, "RateLimit-Policy")),
		    "\"minute\";q=5;w=60, \"hour\";q=1000;w=3600");
		expect_ratelimit_field(&r, 4 - i, 999 - i);
		cr_expect_null(http_header(&r, "Retry-After"));
		http_resp_free(&r);
	}
	for (i = 0; i < 4; i++) {
		struct window_want m = { "minute", 5, 0, 60 };
		struct window_want h = { "hour", 1000, 995, 3600 };

		get_services(t.key, &r, &t0, &t1);
		expect_429(&r, t0, t1);
		expect_reported(&r, &m, t0, t1);
		expect_ietf(&r, &h, t0, t1);
		cr_expect_str_eq(nz(http_header(&r, "RateLimit-Policy")),
		    "\"minute\";q=5;w=60, \"hour\";q=1000;w=3600");
		expect_ratelimit_field(&r, 0, 995);
		http_resp_free(&r);
	}
	/* the refused requests added nothing, to either window */
	expect_counts(t.subject, "5/5");
	tenant_cleanup(&t);
}

Test(ratelimit, hour_window_is_reported_when_it_binds)
{
	struct tenant		 t;
	struct http_resp	 r;
	long long		 t0, t1;
	int			 i;

	tenant_init(&t, 100, 3, 20);
	fresh_windows(10);
	for (i = 0; i < 3; i++) {
		struct window_want h = { "hour", 3, 2 - i, 3600 };
		struct window_want m = { "minute", 100, 99 - i, 60 };

		cr_assert_eq(get_services(t.key, &r, &t0, &t1), 200, "%s", r.body);
		expect_reported(&r, &h, t0, t1);
		expect_ietf(&r, &m, t0, t1);
		expect_ietf(&r, &h, t0, t1);
		http_resp_free(&r);
	}
	for (i = 0; i < 3; i++) {
		struct window_want h = { "hour", 3, 0, 3600 };

		get_services(t.key, &r, &t0, &t1);
		expect_429(&r, t0, t1);
		expect_reported(&r, &h, t0, t1);
		/* the wait is for the hour, not the minute */
		cr_expect(hnum(&r, "Retry-After") >= next_boundary(t1, 3600) - t1 - 1,
		    "Retry-After %s", nz(http_header(&r, "Retry-After")));
		http_resp_free(&r);
	}
	expect_counts(t.subject, "3/3");
	tenant_cleanup(&t);
}

/* SPEC 6: which window X-RateLimit-* reports, after n requests. */
Test(ratelimit, reported_window_follows_the_rules)
{
	static const struct {
		int		 minute, hour;	/* the plan */
		int		 n;		/* requests made; the last one is looked at */
		int		 status;
		const char	*reported;
		int		 limit, remaining;
	} rows[] = {
		{ 5, 5, 1, 200, "minute", 5, 4 },	/* tie: the one resetting first */
		{ 5, 6, 1, 200, "minute", 5, 4 },	/* fewest remaining */
		{ 6, 5, 1, 200, "hour", 5, 4 },
		{ 7, 5, 3, 200, "hour", 5, 2 },
		{ 5, 5, 6, 429, "hour", 5, 0 },		/* both used up: the later reset */
		{ 3, 5, 4, 429, "minute", 3, 0 },	/* only the minute used up */
		{ 5, 3, 4, 429, "hour", 3, 0 },		/* only the hour used up */
	};
	struct http_resp	 r;
	long long		 t0, t1;
	size_t			 i;
	int			 k;

	memset(&r, 0, sizeof(r));
	/* not in the last minute of an hour, where both windows reset together */
	fresh_window(3600, 90);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tenant t;
		struct window_want w = { rows[i].reported, rows[i].limit,
		    rows[i].remaining, strcmp(rows[i].reported, "hour") == 0 ? 3600 : 60 };

		tenant_init(&t, rows[i].minute, rows[i].hour, 20);
		fresh_window(60, 8);
		for (k = 1; k <= rows[i].n; k++) {
			get_services(t.key, &r, &t0, &t1);
			if (k < rows[i].n)
				http_resp_free(&r);
		}
		cr_expect_eq(r.status, rows[i].status, "row %zu: %d %s", i, r.status, r.body);
		expect_reported(&r, &w, t0, t1);
		if (rows[i].status == 429)
			expect_429(&r, t0, t1);
		http_resp_free(&r);
		tenant_cleanup(&t);
	}
}

Test(ratelimit, session_token_counts_on_its_own)
{
	struct tenant		 t;
	struct http_resp	 r;
	char			*pub, *pub_id, *ses, *ses_id, *ses2, subject[64];
	long long		 t0, t1;
	int			 i;

	tenant_init(&t, 5, 1000, 20);
	pub = fx_key("publishable", t.biz);
	pub_id = fx_key_id(pub);
	fresh_windows(15);
	ses = new_session(pub, NULL);
	ses_id = fx_value("SELECT id FROM calendence.sessions "
	    "WHERE token_hash = calendence.token_hash($1)", ses, NULL);
	cr_assert_not_null(ses_id);
	snprintf(subject, sizeof(subject), "s:%s", ses_id);

	for (i = 0; i < 5; i++) {
		struct window_want m = { "minute", 5, 4 - i, 60 };

		cr_assert_eq(get_services(ses, &r, &t0, &t1), 200, "%s", r.body);
		expect_reported(&r, &m, t0, t1);
		http_resp_free(&r);
	}
	get_services(ses, &r, &t0, &t1);
	expect_429(&r, t0, t1);
	http_resp_free(&r);
	/* a refresh is counted on the refreshing session too */
	call_from("POST", SES_PATH, ses, NULL, &r);
	cr_expect_eq(r.status, 429, "refresh of a used-up session: %d %s", r.status, r.body);
	http_resp_free(&r);
	expect_counts(subject, "5/5");

	/* neither its publishable key nor another key or session of the business paid */
	{
		char pk_subject[64];

		snprintf(pk_subject, sizeof(pk_subject), "k:%s", pub_id);
		expect_counts(pk_subject, "(none)");
	}
	expect_counts(t.subject, "(none)");
	cr_expect_eq(get_services(t.key, &r, &t0, &t1), 200, "%s", r.body);
	cr_expect_eq(hnum(&r, "X-RateLimit-Remaining"), 4);
	http_resp_free(&r);
	ses2 = new_session(pub, NULL);
	cr_expect_eq(get_services(ses2, &r, &t0, &t1), 200, "%s", r.body);
	cr_expect_eq(hnum(&r, "X-RateLimit-Remaining"), 4);
	http_resp_free(&r);
	free(pub);
	free(pub_id);
	free(ses);
	free(ses_id);
	free(ses2);
	tenant_cleanup(&t);
}

Test(ratelimit, exchange_counts_per_client_ip)
{
	const char *const	 origin[] = { "Origin: https://shop.example", NULL };
	struct tenant		 t, u, big;
	struct http_resp	 r;
	char			*pub, *pub2, *pub3, *ses, a[32], b[32], subject[64];
	char			 xff[64];
	const char		*hdrs[3] = { xff, origin[0], NULL };
	long long		 t0, t1;
	int			 i;

	tenant_init(&t, 100, 1000, 3);
	tenant_init(&u, 100, 1000, 3);
	tenant_init(&big, 100, 1000, 10);
	pub = fx_key("publishable", t.biz);
	pub2 = fx_key("publishable", u.biz);
	pub3 = fx_key("publishable", big.biz);
	client_v4(1, a);
	client_v4(2, b);
	snprintf(subject, sizeof(subject), "x:%s", a);
	fresh_windows(15);
	ses = new_session(pub, NULL);		/* from this process's own address */

	for (i = 0; i < 3; i++) {
		struct window_want s = { "session", 3, 2 - i, 60 };

		t0 = (long long)time(NULL);
		call_from("POST", SES_PATH, pub, a, &r);
		t1 = (long long)time(NULL);
		cr_assert_eq(r.status, 201, "exchange %d: %s", i + 1, r.body);
		expect_reported(&r, &s, t0, t1);
		expect_ietf(&r, &s, t0, t1);
		cr_expect_str_eq(nz(http_header(&r, "RateLimit-Policy")),
		    "\"session\";q=3;w=60");
		http_resp_free(&r);
	}
	t0 = (long long)time(NULL);
	snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", a);
	cr_assert_eq(http_post(SES_PATH, pub, hdrs, NULL, &r), 0);
	t1 = (long long)time(NULL);
	expect_429(&r, t0, t1);
	cr_expect_str_eq(nz(http_header(&r, "RateLimit-Policy")), "\"session\";q=3;w=60");
	/* a browser may read why */
	cr_expect_str_eq(nz(http_header(&r, "Access-Control-Allow-Origin")),
	    "https://shop.example");
	cr_expect(strstr(nz(http_header(&r, "Access-Control-Expose-Headers")),
	    "Retry-After") != NULL);
	http_resp_free(&r);

	/* the address's window is shared by every key, of any business */
	call_from("POST", SES_PATH, pub2, a, &r);
	cr_expect_eq(r.status, 429, "another key from the same address: %d %s", r.status,
	    r.body);
	http_resp_free(&r);
	/* ... each judged by its own plan's limit */
	call_from("POST", SES_PATH, pub3, a, &r);
	cr_expect_eq(r.status, 201, "a key whose plan allows 10: %d %s", r.status, r.body);
	cr_expect_eq(hnum(&r, "X-RateLimit-Limit"), 10);
	cr_expect_eq(hnum(&r, "X-RateLimit-Remaining"), 6);
	http_resp_free(&r);
	/* another address has its own */
	call_from("POST", SES_PATH, pub, b, &r);
	cr_expect_eq(r.status, 201, "another address: %s", r.body);
	cr_expect_eq(hnum(&r, "X-RateLimit-Remaining"), 2);
	http_resp_free(&r);
	/* a refresh counts in the address's window too (SPEC 6): refused here */
	t0 = (long long)time(NULL);
	call_from("POST", SES_PATH, ses, a, &r);
	t1 = (long long)time(NULL);
	expect_429(&r, t0, t1);
	cr_expect_eq(hnum(&r, "X-RateLimit-Limit"), 3, "the session window is reported");
	cr_expect(strncmp(nz(http_header(&r, "RateLimit-Policy")), "\"minute\";", 9) == 0,
	    "%s", nz(http_header(&r, "RateLimit-Policy")));
	http_resp_free(&r);
	{
		char *v = window_counts(subject);

		cr_expect(strncmp(v, "4/", 2) == 0, "%s: %s", subject, v);
		free(v);
	}
	/* a refused exchange or refresh makes no session */
	{
		char *v = fx_value("SELECT count(*) FROM calendence.sessions "
		    "WHERE client_ip = $1::inet AND id = root_session_id", a, NULL);

		cr_expect_str_eq(nz(v), "4", "sessions made from %s: %s", a, nz(v));
		free(v);
	}
	free(pub);
	free(pub2);
	free(pub3);
	free(ses);
	tenant_cleanup(&t);
	tenant_cleanup(&u);
	tenant_cleanup(&big);
}

Test(ratelimit, exchange_counts_ipv6_clients_per_64)
{
	struct tenant		 t;
	struct http_resp	 r;
	char			*pub, a1[64], a2[64], b[64];

	tenant_init(&t, 100, 1000, 2);
	pub = fx_key("publishable", t.biz);
	client_v6(1, 1, a1);
	client_v6(1, 0xbeef, a2);
	client_v6(2, 1, b);
	fresh_windows(10);
	call_from("POST", SES_PATH, pub, a1, &r);
	cr_expect_eq(r.status, 201, "%s", r.body);
	cr_expect_eq(hnum(&r, "X-RateLimit-Remaining"), 1);
	http_resp_free(&r);
	call_from("POST", SES_PATH, pub, a2, &r);
	cr_expect_eq(r.status, 201, "%s", r.body);
	cr_expect_eq(hnum(&r, "X-RateLimit-Remaining"), 0);
	http_resp_free(&r);
	call_from("POST", SES_PATH, pub, a1, &r);
	cr_expect_eq(r.status, 429, "same /64: %d %s", r.status, r.body);
	http_resp_free(&r);
	call_from("POST", SES_PATH, pub, b, &r);
	cr_expect_eq(r.status, 201, "another /64: %d %s", r.status, r.body);
	cr_expect_eq(hnum(&r, "X-RateLimit-Remaining"), 1);
	http_resp_free(&r);
	free(pub);
	tenant_cleanup(&t);
}

/* One kind of failing credential: the Authorization line (NULL: none) and the code. */
struct bad_cred {
	char		 auth[128];
	const char	*code;
};

/* Eight ways to fail authentication, each a different path through the server. */
static void
bad_creds(struct bad_cred out[8])
{
	char	*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char	*revoked = fx_key("business", biz), *expired = fx_key("business", biz);
	char	*pub = fx_key("publishable", biz), *unknown, *ses, *bad_sum;
	struct http_resp r;

	unknown = fx_value("SELECT calendence.new_token('business')", NULL);
	bad_sum = strdup(revoked);
	bad_sum[45] = bad_sum[45] == 'A' ? 'B' : 'A';
	fx_exec("SELECT calendence.revoke_key(id) FROM calendence.api_keys "
	    "WHERE token_hash = calendence.token_hash($1)", revoked, NULL);
	fx_exec("UPDATE calendence.api_keys SET expires_at = now() - interval '1 second' "
	    "WHERE token_hash = calendence.token_hash($1)", expired, NULL);
	ses = new_session(pub, NULL);
	cr_assert_eq(http_delete(SES_PATH, ses, NULL, &r), 0);
	cr_assert_eq(r.status, 204, "%s", r.body);
	http_resp_free(&r);

	out[0].auth[0] = '\0';
	out[0].code = "missing_api_key";
	snprintf(out[1].auth, sizeof(out[1].auth), "Authorization: Basic dXNlcjpwdw==");
	out[1].code = "missing_api_key";
	snprintf(out[2].auth, sizeof(out[2].auth), "Authorization: Bearer not-a-key");
	out[2].code = "invalid_api_key";
	snprintf(out[3].auth, sizeof(out[3].auth), "Authorization: Bearer %s", bad_sum);
	out[3].code = "invalid_api_key";
	snprintf(out[4].auth, sizeof(out[4].auth), "Authorization: Bearer %s", nz(unknown));
	out[4].code = "invalid_api_key";
	snprintf(out[5].auth, sizeof(out[5].auth), "Authorization: Bearer %s", revoked);
	out[5].code = "api_key_revoked";
	snprintf(out[6].auth, sizeof(out[6].auth), "Authorization: Bearer %s", expired);
	out[6].code = "api_key_expired";
	snprintf(out[7].auth, sizeof(out[7].auth), "Authorization: Bearer %s", ses);
	out[7].code = "session_expired";
	free(hub);
	free(biz);
	free(revoked);
	free(expired);
	free(pub);
	free(unknown);
	free(ses);
	free(bad_sum);
}

/* GET /services with a failing credential from address 'ip'. */
static void
bad_call(const struct bad_cred *c, const char *ip, struct http_resp *r)
{
	char		 xff[80];
	const char	*hdrs[3] = { xff, c->auth[0] ? c->auth : NULL, NULL };

	snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", ip);
	cr_assert_eq(http_request("GET", SERVICES_PATH, hdrs, NULL, 0, r), 0);
}

Test(ratelimit, failed_credentials_count_per_client_ip)
{
	struct bad_cred		 creds[8];
	struct tenant		 t;
	struct http_resp	 r;
	char			 a[32], b[32], subject[64];
	long long		 t0, t1;
	int			 i;

	bad_creds(creds);
	tenant_init(&t, 100, 1000, 20);
	client_v4(3, a);
	client_v4(4, b);
	snprintf(subject, sizeof(subject), "a:%s", a);
	fresh_windows(15);
	for (i = 0; i < AUTH_LIMIT; i++) {
		const struct bad_cred *c = &creds[i % 8];
		struct window_want w = { "auth", AUTH_LIMIT, AUTH_LIMIT - 1 - i, 60 };

		t0 = (long long)time(NULL);
		bad_call(c, a, &r);
		t1 = (long long)time(NULL);
		cr_expect_eq(r.status, 401, "failure %d (%s): %d %s", i + 1, c->code, r.status,
		    r.body);
		cr_expect_str_eq(nz(jstr(r.json, "error.code")), c->code);
		cr_expect_not_null(http_header(&r, "WWW-Authenticate"));
		expect_reported(&r, &w, t0, t1);
		expect_ietf(&r, &w, t0, t1);
		cr_expect_str_eq(nz(http_header(&r, "RateLimit-Policy")), "\"auth\";q=20;w=60");
		http_resp_free(&r);
	}
	/* used up: every failing kind now gets 429, not 401 */
	for (i = 0; i < 8; i++) {
		t0 = (long long)time(NULL);
		bad_call(&creds[i], a, &r);
		t1 = (long long)time(NULL);
		cr_expect_eq(r.status, 429, "%s after the limit: %d", creds[i].code, r.status);
		expect_429(&r, t0, t1);
		cr_expect_str_eq(nz(http_header(&r, "RateLimit-Policy")), "\"auth\";q=20;w=60");
		http_resp_free(&r);
	}
	expect_counts(subject, "20/20");
	/* valid credentials from the same address are not affected */
	call_from("GET", SERVICES_PATH, t.key, a, &r);
	cr_expect_eq(r.status, 200, "valid key: %d %s", r.status, r.body);
	cr_expect(strncmp(nz(http_header(&r, "RateLimit-Policy")), "\"minute\";", 9) == 0);
	http_resp_free(&r);
	/* another address has its own window */
	bad_call(&creds[4], b, &r);
	cr_expect_eq(r.status, 401, "another address: %d", r.status);
	cr_expect_eq(hnum(&r, "X-RateLimit-Remaining"), AUTH_LIMIT - 1);
	http_resp_free(&r);
	tenant_cleanup(&t);
}

/*
 * SPEC 1 and 6: a worker may answer a used-up subject from memory, but a
 * raised plan limit applies within a minute; while the answers come from
 * memory, nothing is counted.
 */
Test(ratelimit, raised_minute_limit_applies_within_a_minute, .timeout = 90)
{
	struct tenant		 t;
	struct http_resp	 r;
	long long		 t0, t1, raised, minute, rem, left, refused_at;
	int			 i, admitted = 0;

	tenant_init(&t, 5, 1000, 20);
	fresh_windows(10);
	minute = next_boundary((long long)time(NULL), 60);
	for (i = 0; i < 5; i++) {
		cr_assert_eq(get_services(t.key, &r, &t0, &t1), 200, "%s", r.body);
		http_resp_free(&r);
	}
	for (i = 0; i < 6; i++) {	/* enough for every worker to see a refusal */
		cr_assert_eq(get_services(t.key, &r, &t0, &t1), 429, "%s", r.body);
		http_resp_free(&r);
	}
	expect_counts(t.subject, "5/5");
	fx_exec("UPDATE calendence.plans SET api_per_minute = 1000 WHERE code = $1", t.plan,
	    NULL);
	raised = refused_at = (long long)time(NULL);
	while (!admitted && (long long)time(NULL) - raised <= 70) {
		get_services(t.key, &r, &t0, &t1);
		if (r.status == 429) {
			refused_at = t0;
			expect_counts(t.subject, "5/5");
			http_resp_free(&r);
			sleep(2);
			continue;
		}
		admitted = 1;
		cr_expect_eq(r.status, 200, "%d %s", r.status, r.body);
		/* no request sent a minute after the raise was refused (polled each 2 s) */
		cr_expect(refused_at - raised <= 61, "refused %lld s after the raise",
		    refused_at - raised);
		/* by the new plan: the sixth of the minute, or the first of the next */
		cr_expect_eq(hnum(&r, "X-RateLimit-Limit"), 1000, "%s", r.headers);
		cr_expect(hnum(&r, "X-RateLimit-Remaining") == 994 || (t1 >= minute &&
		    hnum(&r, "X-RateLimit-Remaining") == 999), "%s", r.headers);
		cr_expect_eq(ietf_entry(http_header(&r, "RateLimit"), "minute", 'r', 't',
		    &rem, &left), 0, "%s", r.headers);
		cr_expect(rem == 994 || (t1 >= minute && rem == 999), "%s", r.headers);
		http_resp_free(&r);
	}
	cr_expect(admitted, "still refused 70 s after the limit was raised");
	tenant_cleanup(&t);
}

/*
 * The same for the hour window, where waiting for the window to reset does
 * not help: only reading the plan again can admit the request.
 */
Test(ratelimit, raised_hour_limit_applies_within_a_minute)
{
	struct tenant		 t;
	struct http_resp	 r;
	long long		 t0, t1, raised, refused_at;
	int			 i, admitted = 0;

	tenant_init(&t, 100, 3, 20);
	fresh_window(3600, 100);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(get_services(t.key, &r, &t0, &t1), 200, "%s", r.body);
		http_resp_free(&r);
	}
	for (i = 0; i < 6; i++) {
		cr_assert_eq(get_services(t.key, &r, &t0, &t1), 429, "%s", r.body);
		http_resp_free(&r);
	}
	fx_exec("UPDATE calendence.plans SET api_per_hour = 1000 WHERE code = $1", t.plan,
	    NULL);
	raised = refused_at = (long long)time(NULL);
	while (!admitted && (long long)time(NULL) - raised <= 70) {
		get_services(t.key, &r, &t0, &t1);
		if (r.status == 429) {
			char *v = window_counts(t.subject);

			refused_at = t0;
			cr_expect(strcmp(v + strcspn(v, "/"), "/3") == 0, "counted: %s", v);
			free(v);
			http_resp_free(&r);
			sleep(2);
			continue;
		}
		admitted = 1;
		cr_expect_eq(r.status, 200, "%d %s", r.status, r.body);
		/* no request sent a minute after the raise was refused (polled each 2 s) */
		cr_expect(refused_at - raised <= 61, "refused %lld s after the raise",
		    refused_at - raised);
		cr_expect(strstr(nz(http_header(&r, "RateLimit-Policy")),
		    "\"hour\";q=1000;w=3600") != NULL, "%s", r.headers);
		http_resp_free(&r);
	}
	cr_expect(admitted, "still refused 70 s after the hour limit was raised");
	tenant_cleanup(&t);
}

Test(ratelimit, plan_changes_apply_on_the_next_request)
{
	struct tenant		 t;
	struct http_resp	 r;
	char			*other;
	long long		 t0, t1;
	int			 i;

	tenant_init(&t, 5, 1000, 20);
	other = fx_plan(20, 1000, 20, 1);
	fresh_windows(10);
	for (i = 0; i < 2; i++) {
		cr_assert_eq(get_services(t.key, &r, &t0, &t1), 200, "%s", r.body);
		cr_expect_eq(hnum(&r, "X-RateLimit-Limit"), 5);
		http_resp_free(&r);
	}
	fx_exec("UPDATE calendence.plans SET api_per_minute = 8 WHERE code = $1", t.plan,
	    NULL);
	cr_assert_eq(get_services(t.key, &r, &t0, &t1), 200, "%s", r.body);
	cr_expect_eq(hnum(&r, "X-RateLimit-Limit"), 8, "%s", r.headers);
	cr_expect_eq(hnum(&r, "X-RateLimit-Remaining"), 5, "%s", r.headers);
	cr_expect_str_eq(nz(http_header(&r, "RateLimit-Policy")),
	    "\"minute\";q=8;w=60, \"hour\";q=1000;w=3600");
	http_resp_free(&r);
	/* moving the hub to another plan */
	fx_exec("UPDATE calendence.hubs SET plan = $1 WHERE id = $2", other, t.hub, NULL);
	cr_assert_eq(get_services(t.key, &r, &t0, &t1), 200, "%s", r.body);
	cr_expect_eq(hnum(&r, "X-RateLimit-Limit"), 20, "%s", r.headers);
	cr_expect_eq(hnum(&r, "X-RateLimit-Remaining"), 16, "%s", r.headers);
	http_resp_free(&r);
	/* lowering a limit below what was used refuses the next request */
	fx_exec("UPDATE calendence.plans SET api_per_minute = 4 WHERE code = $1", other,
	    NULL);
	get_services(t.key, &r, &t0, &t1);
	expect_429(&r, t0, t1);
	cr_expect_eq(hnum(&r, "X-RateLimit-Limit"), 4, "%s", r.headers);
	http_resp_free(&r);
	expect_counts(t.subject, "4/4");
	free(other);
	tenant_cleanup(&t);
}

/* What one client process saw. */
struct tally {
	int	 ok;		/* 2xx */
	int	 limited;	/* 429 */
	int	 other;
	int	 last_other;	/* the status of the last 'other', 0 when none */
	unsigned char remaining[128];	/* X-RateLimit-Remaining of the admitted ones */
};

/* What a client process does: n requests in a row, each as 'method path'. */
struct load {
	const char	*method;
	const char	*path;
	const char	*auth;		/* a full Authorization line, or NULL */
	const char	*ip;		/* X-Forwarded-For, or NULL: the child's own */
	const char	*url;		/* CALENDENCE_URL of the child, or NULL: unchanged */
	int		 n;
};

static void
tally_add(struct tally *sum, const struct tally *t)
{
	size_t	 i;

	sum->ok += t->ok;
	sum->limited += t->limited;
	sum->other += t->other;
	if (t->last_other != 0)
		sum->last_other = t->last_other;
	for (i = 0; i < sizeof(sum->remaining); i++)
		sum->remaining[i] += t->remaining[i];
}

/* The body of one client process; reports its tally on fd and never returns. */
_Noreturn static void
load_child(const struct load *l, int go, int fd)
{
	struct tally		 t;
	struct http_resp	 r;
	char			 xff[80], one;
	const char		*hdrs[3];
	long long		 rem;
	int			 i, h = 0;

	memset(&t, 0, sizeof(t));
	if (l->url != NULL)
		setenv("CALENDENCE_URL", l->url, 1);
	if (l->ip != NULL) {
		snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", l->ip);
		hdrs[h++] = xff;
	}
	if (l->auth != NULL)
		hdrs[h++] = l->auth;
	hdrs[h] = NULL;
	while (read(go, &one, 1) == -1 && errno == EINTR)
		;			/* all start together, when the parent closes 'go' */
	for (i = 0; i < l->n; i++) {
		if (http_request(l->method, l->path, hdrs, strcmp(l->method, "POST") == 0 ?
		    "" : NULL, 0, &r) == -1 || r.status == 0) {
			t.other++;
			t.last_other = -1;
		} else if (r.status / 100 == 2) {
			t.ok++;
			rem = hnum(&r, "X-RateLimit-Remaining");
			if (rem >= 0 && rem < (long long)sizeof(t.remaining))
				t.remaining[rem]++;
		} else if (r.status == 429)
			t.limited++;
		else {
			t.other++;
			t.last_other = r.status;
		}
		http_resp_free(&r);
	}
	_exit(write(fd, &t, sizeof(t)) == (ssize_t)sizeof(t) ? 0 : 1);
}

/* Runs one client process per entry of loads[n] at once; sums what they saw. */
static void
run_load(const struct load *loads, int n, struct tally *sum)
{
	struct tally	 t;
	pid_t		 pid;
	int		 go[2], out[2], i, status;

	memset(sum, 0, sizeof(*sum));
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(out), 0);
	for (i = 0; i < n; i++) {
		cr_assert_neq(pid = fork(), -1);
		if (pid == 0) {
			close(go[1]);
			close(out[0]);
			load_child(&loads[i], go[0], out[1]);
		}
	}
	close(go[0]);
	close(out[1]);
	close(go[1]);			/* go */
	for (i = 0; i < n; i++) {
		cr_assert_eq(read(out[0], &t, sizeof(t)), (ssize_t)sizeof(t),
		    "a client process did not report");
		tally_add(sum, &t);
	}
	close(out[0]);
	for (i = 0; i < n; i++) {
		cr_assert_neq(wait(&status), -1);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

/* Every admitted request saw its own remaining count: 0 .. limit-1, once each. */
static void
expect_each_remaining_once(const struct tally *sum, int limit)
{
	int	 i;

	for (i = 0; i < limit; i++)
		cr_expect_eq(sum->remaining[i], 1, "X-RateLimit-Remaining %d seen %d times",
		    i, sum->remaining[i]);
}

Test(ratelimit, parallel_clients_get_exactly_the_limit)
{
	struct tenant	 t;
	struct load	 loads[8];
	struct tally	 sum;
	char		 auth[80];
	int		 i;

	tenant_init(&t, 40, 1000, 20);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", t.key);
	for (i = 0; i < 8; i++)
		loads[i] = (struct load){ "GET", SERVICES_PATH, auth, NULL, NULL, 15 };
	fresh_windows(25);
	run_load(loads, 8, &sum);
	cr_expect_eq(sum.ok, 40, "admitted %d of 120", sum.ok);
	cr_expect_eq(sum.limited, 80, "refused %d of 120", sum.limited);
	cr_expect_eq(sum.other, 0, "%d other answers (last: %d)", sum.other, sum.last_other);
	expect_each_remaining_once(&sum, 40);
	expect_counts(t.subject, "40/40");
	tenant_cleanup(&t);
}

Test(ratelimit, parallel_exchanges_from_one_address_get_exactly_the_limit)
{
	struct tenant	 t;
	struct load	 loads[6];
	struct tally	 sum;
	char		*pub, auth[80], ip[32], subject[64];
	int		 i;

	tenant_init(&t, 100, 1000, 10);
	pub = fx_key("publishable", t.biz);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", pub);
	client_v4(5, ip);
	snprintf(subject, sizeof(subject), "x:%s", ip);
	for (i = 0; i < 6; i++)
		loads[i] = (struct load){ "POST", SES_PATH, auth, ip, NULL, 5 };
	fresh_windows(25);
	run_load(loads, 6, &sum);
	cr_expect_eq(sum.ok, 10, "sessions made: %d of 30", sum.ok);
	cr_expect_eq(sum.limited, 20, "refused %d of 30", sum.limited);
	cr_expect_eq(sum.other, 0, "%d other answers (last: %d)", sum.other, sum.last_other);
	expect_each_remaining_once(&sum, 10);
	{
		char *v = window_counts(subject);

		cr_expect(strncmp(v, "10/", 3) == 0, "%s: %s", subject, v);
		free(v);
	}
	expect_counts(t.subject, "(none)");
	{
		char *v = fx_value("SELECT count(*) FROM calendence.sessions "
		    "WHERE client_ip = $1::inet", ip, NULL);

		cr_expect_str_eq(nz(v), "10", "sessions made: %s", nz(v));
		free(v);
	}
	free(pub);
	tenant_cleanup(&t);
}

Test(ratelimit, parallel_failures_from_one_address_get_exactly_the_limit)
{
	struct load	 loads[6];
	struct tally	 sum;
	char		 ip[32], subject[64], *unknown, auth[80];
	int		 i;

	unknown = fx_value("SELECT calendence.new_token('business')", NULL);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", nz(unknown));
	client_v4(6, ip);
	snprintf(subject, sizeof(subject), "a:%s", ip);
	for (i = 0; i < 6; i++)
		loads[i] = (struct load){ "GET", SERVICES_PATH,
		    i % 2 ? auth : "Authorization: Bearer nope", ip, NULL, 6 };
	fresh_windows(25);
	run_load(loads, 6, &sum);
	/* 401s are 4xx: counted as 'other' by the tally */
	cr_expect_eq(sum.limited, 36 - AUTH_LIMIT, "429s: %d of 36", sum.limited);
	cr_expect_eq(sum.other, AUTH_LIMIT, "401s: %d of 36 (last %d)", sum.other,
	    sum.last_other);
	cr_expect_eq(sum.last_other, 401);
	expect_counts(subject, "20/20");
	free(unknown);
}

/* The second web server of the test harness (tests/run.sh), or skips the test. */
static const char *
second_server(void)
{
	const char	*url2 = getenv("CALENDENCE_URL2");

	if (url2 == NULL || *url2 == '\0')
		cr_skip("CALENDENCE_URL2 is not set: no second web server");
	cr_assert_str_neq(url2, nz(getenv("CALENDENCE_URL")));
	return url2;
}

Test(ratelimit, two_servers_share_one_count)
{
	const char		*url2 = second_server();
	char			*url1 = strdup(nz(getenv("CALENDENCE_URL")));
	struct tenant		 t;
	struct http_resp	 r;
	long long		 t0, t1;
	int			 i, ok = 0;

	tenant_init(&t, 30, 1000, 20);
	fresh_windows(15);
	for (i = 0; i < 40; i++) {
		setenv("CALENDENCE_URL", i % 2 ? url2 : url1, 1);
		get_services(t.key, &r, &t0, &t1);
		if (i < 30) {
			cr_expect_eq(r.status, 200, "request %d (server %d): %d", i + 1,
			    i % 2 + 1, r.status);
			/* one count, whichever server answers */
			cr_expect_eq(hnum(&r, "X-RateLimit-Remaining"), 29 - i,
			    "request %d (server %d)", i + 1, i % 2 + 1);
		} else
			cr_expect_eq(r.status, 429, "request %d (server %d): %d", i + 1,
			    i % 2 + 1, r.status);
		ok += r.status == 200;
		http_resp_free(&r);
	}
	setenv("CALENDENCE_URL", url1, 1);
	cr_expect_eq(ok, 30);
	expect_counts(t.subject, "30/30");
	free(url1);
	tenant_cleanup(&t);
}

Test(ratelimit, two_servers_under_parallel_load_admit_exactly_the_limit)
{
	const char	*url2 = second_server();
	char		*url1 = strdup(nz(getenv("CALENDENCE_URL"))), auth[80];
	struct tenant	 t;
	struct load	 loads[8];
	struct tally	 sum;
	int		 i;

	tenant_init(&t, 40, 1000, 20);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", t.key);
	for (i = 0; i < 8; i++)
		loads[i] = (struct load){ "GET", SERVICES_PATH, auth, NULL,
		    i % 2 ? url2 : url1, 15 };
	fresh_windows(25);
	run_load(loads, 8, &sum);
	cr_expect_eq(sum.ok, 40, "admitted %d of 120", sum.ok);
	cr_expect_eq(sum.limited, 80, "refused %d of 120", sum.limited);
	cr_expect_eq(sum.other, 0, "%d other answers (last: %d)", sum.other, sum.last_other);
	expect_each_remaining_once(&sum, 40);
	expect_counts(t.subject, "40/40");
	free(url1);
	tenant_cleanup(&t);
}

/* A refresh of session 'ses' from this process's address: the new token, or NULL (r kept). */
static char *
refresh(const char *ses, struct http_resp *r)
{
	cr_assert_eq(http_post(SES_PATH, ses, NULL, NULL, r), 0);
	if (r->status != 201)
		return NULL;
	return strdup(nz(jstr(r->json, "session_token")));
}

/*
 * SPEC 5 and 6: an exchange and its refreshes are one chain with one pair
 * of windows; a refresh never grants fresh quota. The attack of issue 11:
 * one exchange, then a refresh every other request, on a plan of 5 a
 * minute. Before, each refresh opened fresh windows (40 x 200 in 0.1 s).
 */
Test(ratelimit, a_refresh_loop_gains_no_quota)
{
	struct tenant		 t;
	struct http_resp	 r;
	char			*pub, *ses, *next, *root, subject[64];
	long long		 t0, t1;
	int			 i, ok = 0, refused = 0;

	tenant_init(&t, 5, 12, 100);
	pub = fx_key("publishable", t.biz);
	fresh_windows(20);
	ses = new_session(pub, NULL);
	root = fx_value("SELECT root_session_id FROM calendence.sessions "
	    "WHERE token_hash = calendence.token_hash($1)", ses, NULL);
	snprintf(subject, sizeof(subject), "s:%s", nz(root));
	for (i = 0; i < 20; i++) {
		get_services(ses, &r, &t0, &t1);
		ok += r.status == 200;
		refused += r.status == 429;
		http_resp_free(&r);
		if ((next = refresh(ses, &r)) != NULL) {
			ok++;
			free(ses);
			ses = next;
		} else
			refused += r.status == 429;
		http_resp_free(&r);
	}
	/* the refreshes are among the chain's 5: requests and refreshes together */
	cr_expect_eq(ok, 5, "%d answers of the chain were admitted, want 5", ok);
	cr_expect_eq(refused, 40 - 5, "%d refused", refused);
	expect_counts(subject, "5/5");
	/* every token of the chain is refused now, the first one included */
	get_services(ses, &r, &t0, &t1);
	expect_429(&r, t0, t1);
	http_resp_free(&r);
	free(pub), free(ses), free(root);
	tenant_cleanup(&t);
}

/*
 * A refresh counts in the client IP's session window (SPEC 6) as well as
 * in the chain's: with 3 sessions a minute per IP, an exchange and two
 * refreshes use them up; a third refresh is 429, reported on the session
 * window, and the chain's windows are not charged for it. Requests other
 * than refreshes are not governed by the IP's window.
 */
Test(ratelimit, a_refresh_counts_in_the_ip_session_window)
{
	struct tenant		 t;
	struct http_resp	 r;
	char			*pub, *s1, *s2, *s3, *root, chain[64], ip[32], xsubject[64];
	char			 xff[80];
	const char		*from[2] = { xff, NULL };
	long long		 t0, t1;

	tenant_init(&t, 50, 1000, 3);
	pub = fx_key("publishable", t.biz);
	client_v4(40, ip);
	snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", ip);
	snprintf(xsubject, sizeof(xsubject), "x:%s", ip);
	fresh_windows(15);
	cr_assert_eq(http_call("POST", SES_PATH, pub, from, NULL, &r), 0);
	cr_assert_eq(r.status, 201, "%s", r.body);
	s1 = strdup(nz(jstr(r.json, "session_token")));
	http_resp_free(&r);
	root = fx_value("SELECT root_session_id FROM calendence.sessions "
	    "WHERE token_hash = calendence.token_hash($1)", s1, NULL);
	snprintf(chain, sizeof(chain), "s:%s", nz(root));
	cr_assert_eq(http_call("POST", SES_PATH, s1, from, NULL, &r), 0);
	cr_assert_eq(r.status, 201, "%s", r.body);
	s2 = strdup(nz(jstr(r.json, "session_token")));
	cr_expect_str_eq(nz(http_header(&r, "RateLimit-Policy")),
	    "\"minute\";q=50;w=60, \"hour\";q=1000;w=3600, \"session\";q=3;w=60");
	http_resp_free(&r);
	t0 = (long long)time(NULL);
	cr_assert_eq(http_call("POST", SES_PATH, s2, from, NULL, &r), 0);
	t1 = (long long)time(NULL);
	cr_assert_eq(r.status, 201, "%s", r.body);
	s3 = strdup(nz(jstr(r.json, "session_token")));
	{
		struct window_want	 w = { "session", 3, 0, 60 };

		expect_reported(&r, &w, t0, t1);
	}
	http_resp_free(&r);
	expect_counts(xsubject, "3/3");
	expect_counts(chain, "2/2");
	t0 = (long long)time(NULL);
	cr_assert_eq(http_call("POST", SES_PATH, s3, from, NULL, &r), 0);
	t1 = (long long)time(NULL);
	expect_429(&r, t0, t1);
	cr_expect_eq(hnum(&r, "X-RateLimit-Limit"), 3, "the session window is reported");
	http_resp_free(&r);
	expect_counts(xsubject, "3/3");
	expect_counts(chain, "2/2");
	/* the chain itself may still call the API from that address */
	cr_assert_eq(http_call("GET", SERVICES_PATH, s3, from, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%s", r.body);
	http_resp_free(&r);
	expect_counts(chain, "3/3");
	free(pub), free(s1), free(s2), free(s3), free(root);
	tenant_cleanup(&t);
}

/*
 * A revoked key from an address whose failed-credentials window is used up
 * is answered from the worker's memory (finding 6 of issue 11): no
 * authenticate() for it until the window resets. Proved by taking the
 * database away from it: a DBA's transaction holds the address's auth
 * window row, so a request that reached authenticate() or auth_fail()
 * would get a 503 (and before bounded waits, would have waited for the
 * COMMIT); a request answered from memory gets its 429 at once.
 */
Test(ratelimit, refused_credentials_are_answered_from_memory)
{
	struct tenant		 t;
	struct http_resp	 r;
	char			 ip[32], subject[64], sql[160];
	PGconn			*dba;
	PGresult		*res;
	long long		 t0, slowest = 0;
	int			 i, n429 = 0, n503 = 0, other = 0;

	tenant_init(&t, 100, 1000, 20);
	fx_exec("UPDATE calendence.api_keys SET revoked_at = now() WHERE id = $1", t.key_id,
	    NULL);
	client_v4(41, ip);
	snprintf(subject, sizeof(subject), "a:%s", ip);
	/* the whole test in one minute: a refusal is remembered until it ends */
	fresh_window(60, 45);
	for (i = 0; i < AUTH_LIMIT; i++) {
		call_from("GET", SERVICES_PATH, t.key, ip, &r);
		cr_assert_eq(r.status, 401, "%d %s", r.status, r.body);
		cr_expect_str_eq(nz(jstr(r.json, "error.code")), "api_key_revoked");
		http_resp_free(&r);
	}
	/* each worker meets the used-up window, one busy with another test too */
	for (i = 0; i < 40; i++) {
		call_from("GET", SERVICES_PATH, t.key, ip, &r);
		cr_assert_eq(r.status, 429, "%d %s", r.status, r.body);
		http_resp_free(&r);
	}
	dba = PQconnectdb("application_name=calendence-test-dba");
	cr_assert_eq(PQstatus(dba), CONNECTION_OK, "%s", PQerrorMessage(dba));
	snprintf(sql, sizeof(sql), "BEGIN; SELECT * FROM calendence.rate_windows "
	    "WHERE subject = '%s' FOR UPDATE", subject);
	res = PQexec(dba, sql);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQerrorMessage(dba));
	PQclear(res);
	for (i = 0; i < 9; i++) {
		t0 = now_ms();
		call_from("GET", SERVICES_PATH, t.key, ip, &r);
		if (now_ms() - t0 > slowest)
			slowest = now_ms() - t0;
		n429 += r.status == 429;
		n503 += r.status == 503;
		other += r.status != 429 && r.status != 503;
		http_resp_free(&r);
	}
	PQclear(PQexec(dba, "COMMIT"));
	PQfinish(dba);
	/*
	 * A 429 while the row is held can only come from memory; a worker the
	 * warm-up missed (the kernel chose who accepts) answers 503 in time
	 */
	cr_expect_lt(slowest, 1000, "a request waited %lld ms", slowest);
	cr_expect_geq(n429, 1, "none of 9 was answered from memory (%d 503)", n503);
	cr_expect_eq(n429 + n503, 9, "%d 429, %d 503, %d other", n429, n503, other);
	tenant_cleanup(&t);
}

/* Adds up usage() of one key (kind 'key' or 'session') or client IP (kind 'auth'). */
static char *
usage_sum(const char *kind, const char *key_id, const char *ip)
{
	return fx_value("SELECT sum(admitted) || ' ' || sum(refused) || ' ' || sum(failed) "
	    "FROM calendence.usage(now() - interval '1 day', NULL, NULL) "
	    "WHERE kind = $1 AND (key_id = nullif($2, '')::uuid OR ip = nullif($3, '')::inet)",
	    kind, key_id ? key_id : "", ip ? ip : "", NULL);
}

/*
 * Waits up to 15 s for usage_sum() to say 'want': each worker reports the
 * 429s it answered from memory within about a second (fcgi/usage.c).
 */
static void
expect_usage(const char *kind, const char *key_id, const char *ip, const char *want)
{
	char	*got = NULL;
	int	 i;

	for (i = 0; i < 150; i++) {
		free(got);
		got = usage_sum(kind, key_id, ip);
		if (got != NULL && strcmp(got, want) == 0)
			break;
		usleep(100000);
	}
	cr_expect_str_eq(got ? got : "(none)", want, "usage of %s %s: %s, want %s "
	    "(admitted refused failed)", kind, key_id ? key_id : ip, got ? got : "(none)",
	    want);
	free(got);
}

/*
 * Usage counts every 429 sent (issue 14 item 5), not only the refusals the
 * database decided: the workers answer most of them from memory and
 * report those. A key of 3 a minute: 3 admitted, 30 refused; a session
 * chain of that plan: 3 and 12; a revoked key from one address: 20 failed
 * (401), 25 refused. Without the reports, refused would be about one per
 * worker.
 */
Test(ratelimit, usage_counts_every_429)
{
	struct tenant		 t, gone;
	struct http_resp	 r;
	char			 ip[32], *pk, *pk_id, *ses;
	int			 i;

	tenant_init(&t, 3, 1000, 20);
	tenant_init(&gone, 100, 1000, 20);
	fx_exec("UPDATE calendence.api_keys SET revoked_at = now() WHERE id = $1",
	    gone.key_id, NULL);
	pk = fx_key("publishable", t.biz);
	pk_id = fx_key_id(pk);
	client_v4(43, ip);
	fresh_windows(45);
	for (i = 0; i < 33; i++) {
		call_from("GET", SERVICES_PATH, t.key, NULL, &r);
		cr_assert_eq(r.status, i < 3 ? 200 : 429, "request %d: %d %s", i, r.status,
		    r.body);
		http_resp_free(&r);
	}
	ses = new_session(pk, NULL);
	cr_assert_not_null(ses);
	for (i = 0; i < 15; i++) {
		call_from("GET", SERVICES_PATH, ses, NULL, &r);
		cr_assert_eq(r.status, i < 3 ? 200 : 429, "session request %d: %d %s", i,
		    r.status, r.body);
		http_resp_free(&r);
	}
	for (i = 0; i < AUTH_LIMIT + 25; i++) {
		call_from("GET", SERVICES_PATH, gone.key, ip, &r);
		cr_assert_eq(r.status, i < AUTH_LIMIT ? 401 : 429, "revoked %d: %d", i,
		    r.status);
		http_resp_free(&r);
	}
	expect_usage("key", t.key_id, NULL, "3 30 0");
	expect_usage("session", pk_id, NULL, "3 12 0");
	expect_usage("auth", NULL, ip, "0 25 20");
	free(ses), free(pk), free(pk_id);
	tenant_cleanup(&gone);
	tenant_cleanup(&t);
}
