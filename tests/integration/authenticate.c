/* authenticate.c: calendence.authenticate(): statuses, the business and origin, windows, plans. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

#define AUTH_LIMIT	1000	/* failed-credentials limit when a test does not count them */

/* Every OUT column of authenticate(), in order: a test checks all of them. */
static const char *const out_cols[] = {
	"status", "key_id", "hub_id", "business_id", "display", "full_api_access",
	"business_ok", "business_active", "business_name", "business_timezone", "origin_ok",
	"publishable_key_id", "root_session_id", "window", "admitted", "minute_count",
	"hour_count", "minute_limit", "hour_limit", "now_epoch", "session_count",
	"session_limit",
};
#define NCOLS	(sizeof(out_cols) / sizeof(out_cols[0]))

/*
 * Compares every column of row 0 with want[] (NULL: SQL NULL; "*": any value,
 * checked by the caller). 'what' names the case in failures.
 */
static void
expect_row(const PGresult *res, const char *const want[NCOLS], const char *what)
{
	const char	*got;
	size_t		 i;

	/* the admission statements (db.c) have one more: last_used */
	cr_assert((size_t)PQnfields(res) == NCOLS || ((size_t)PQnfields(res) == NCOLS + 1 &&
	    strcmp(PQfname(res, (int)NCOLS), "last_used") == 0),
	    "authenticate() returns %d columns", PQnfields(res));
	for (i = 0; i < NCOLS; i++) {
		it_str_eq(PQfname(res, (int)i), out_cols[i]);
		if (want[i] != NULL && strcmp(want[i], "*") == 0)
			continue;
		got = it_col(res, 0, out_cols[i]);
		it_str_eq(got, want[i], "%s: %s", what, out_cols[i]);
	}
}

/* now_epoch is the database's clock, within a second or two. */
static void
expect_now_epoch(const PGresult *res)
{
	long long	got = atoll(it_col(res, 0, "now_epoch")), now = it_now();

	cr_expect(got <= now && got >= now - 2, "now_epoch %lld, clock %lld", got, now);
}

static char *
display_of(const char *token)
{
	char	*d = malloc(13);

	cr_assert_not_null(d);
	snprintf(d, 13, "%.8s%s", token, token + 42);
	return d;
}

/* A hub on a plan of its own, with one business, and keys of every kind. */
struct world {
	char	*plan, *hub, *biz, *biz_name;
	char	*hk, *bk, *pk;			/* tokens */
	char	*hk_id, *bk_id, *pk_id;
};

static void
world_new(struct world *w, int per_minute, int per_hour, int per_ip, int full)
{
	w->plan = fx_plan(per_minute, per_hour, per_ip, full);
	w->hub = fx_hub(w->plan);
	w->biz = fx_business(w->hub, "America/Chicago");
	w->biz_name = fx_value("SELECT name FROM calendence.businesses WHERE id = $1", w->biz,
	    NULL);
	w->hk = fx_key("hub", w->hub);
	w->bk = fx_key("business", w->biz);
	w->pk = fx_key("publishable", w->biz);
	w->hk_id = fx_key_id(w->hk);
	w->bk_id = fx_key_id(w->bk);
	w->pk_id = fx_key_id(w->pk);
}

static void
world_free(struct world *w)
{
	free(w->plan), free(w->hub), free(w->biz), free(w->biz_name);
	free(w->hk), free(w->bk), free(w->pk);
	free(w->hk_id), free(w->bk_id), free(w->pk_id);
}

Test(authenticate, ok_for_each_kind_with_every_column)
{
	struct world	 w;
	struct it_session s;
	PGresult	*res;
	char		 ip[64], *hd, *bd, *pd;

	it_avoid_minute_edge();
	world_new(&w, 41, 401, 7, 1);
	it_ip(ip);
	hd = display_of(w.hk), bd = display_of(w.bk), pd = display_of(w.pk);
	{
		const char *hub[NCOLS] = { "ok", w.hk_id, w.hub, w.biz, hd, "t", "t", "t",
		    w.biz_name, "America/Chicago", "t", NULL, NULL, "key", "t", "1", "1", "41",
		    "401", "*" };
		const char *biz[NCOLS] = { "ok", w.bk_id, w.hub, w.biz, bd, "t", "t", "t",
		    w.biz_name, "America/Chicago", "t", NULL, NULL, "key", "t", "1", "1", "41",
		    "401", "*" };
		const char *pub[NCOLS] = { "ok", w.pk_id, w.hub, w.biz, pd, "t", "t", "t",
		    w.biz_name, "America/Chicago", "t", NULL, NULL, "key", "t", "1", "1", "41",
		    "401", "*" };
		const char *pubx[NCOLS] = { "ok", w.pk_id, w.hub, w.biz, pd, "t", "t", "t",
		    w.biz_name, "America/Chicago", "t", NULL, NULL, "exchange", "t", "1", NULL,
		    "7", NULL, "*" };

		res = it_auth(w.hk, "hub", 0, ip, w.biz, NULL, AUTH_LIMIT);
		expect_row(res, hub, "hub key");
		expect_now_epoch(res);
		PQclear(res);
		res = it_auth(w.bk, "business", 0, ip, NULL, NULL, AUTH_LIMIT);
		expect_row(res, biz, "business key");
		PQclear(res);
		res = it_auth(w.pk, "publishable", 0, ip, NULL, NULL, AUTH_LIMIT);
		expect_row(res, pub, "publishable key, not an exchange");
		PQclear(res);
		res = it_auth(w.pk, "publishable", 1, ip, NULL, NULL, AUTH_LIMIT);
		expect_row(res, pubx, "publishable key, exchange");
		expect_now_epoch(res);
		PQclear(res);
	}
	/* a session: its own id as key, its publishable key and root */
	it_session_new(&s, w.biz, w.pk_id, NULL);
	{
		const char *ses[NCOLS] = { "ok", s.id, w.hub, w.biz, NULL, "t", "t", "t",
		    w.biz_name, "America/Chicago", "t", w.pk_id, s.id, "key", "t", "1", "1",
		    "41", "401", "*" };

		res = it_auth(s.token, "session", 0, ip, NULL, NULL, AUTH_LIMIT);
		expect_row(res, ses, "session");
		PQclear(res);
		/*
		 * a refresh counts in the chain's key windows and in the IP's
		 * session window (the exchange above made it 1; the plan's 7)
		 */
		ses[13] = "refresh", ses[15] = "2", ses[16] = "2";
		ses[20] = "2", ses[21] = "7";
		res = it_auth(s.token, "session", 1, ip, NULL, NULL, AUTH_LIMIT);
		expect_row(res, ses, "session refresh");
		PQclear(res);
	}
	it_session_free(&s);
	free(hd), free(bd), free(pd);
	world_free(&w);
}

Test(authenticate, a_plan_without_full_access_says_so)
{
	struct world	 w;
	PGresult	*res;

	world_new(&w, 30, 300, 20, 0);
	res = it_auth(w.bk, "business", 0, "192.0.2.1", NULL, NULL, AUTH_LIMIT);
	it_str_eq(it_col(res, 0, "status"), "ok");
	it_str_eq(it_col(res, 0, "full_api_access"), "f");
	PQclear(res);
	res = it_auth(w.hk, "hub", 0, "192.0.2.1", NULL, NULL, AUTH_LIMIT);
	it_str_eq(it_col(res, 0, "full_api_access"), "f");
	PQclear(res);
	world_free(&w);
}

/* The failure statuses: nothing about the key, the IP's 'auth' window counted. */
static void
expect_failure(const char *token, const char *kind, int exchange, const char *status,
    const char *ip, const char *count)
{
	const char	*want[NCOLS] = { status, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
			    NULL, NULL, NULL, NULL, NULL, "auth", "t", count, NULL, "1000",
			    NULL, "*" };
	PGresult	*res = it_auth(token, kind, exchange, ip, NULL, NULL, AUTH_LIMIT);
	char		 what[96];

	snprintf(what, sizeof(what), "%s %s%s", status, kind, exchange ? " (exchange)" : "");
	expect_row(res, want, what);
	PQclear(res);
}

Test(authenticate, failure_statuses)
{
	struct world		 w;
	struct it_session	 live, expired, revoked, orphan;
	char			 ip[64], *never = it_token(TOKEN_BUSINESS), *tok, *exp_id;
	char			*pk2, *pk2_id, *sum;

	it_avoid_minute_edge();
	world_new(&w, 60, 1000, 20, 1);
	it_ip(ip);

	/* unknown: well formed, never issued; or issued under another kind */
	expect_failure(never, "business", 0, "unknown", ip, "1");
	expect_failure(w.bk, "hub", 0, "unknown", ip, "2");
	expect_failure(w.hk, "business", 0, "unknown", ip, "3");
	expect_failure(w.bk, "session", 0, "unknown", ip, "4");

	/* expired: at expires_at exactly, and before it ok */
	tok = fx_value("SELECT calendence.issue_key('business', $1, NULL, now() - interval '1 "
	    "second')", w.biz, NULL);
	expect_failure(tok, "business", 0, "expired", ip, "5");
	exp_id = fx_key_id(tok);
	fx_exec("UPDATE calendence.api_keys SET expires_at = now() + interval '1 hour' "
	    "WHERE id = $1", exp_id, NULL);
	{
		PGresult *res = it_auth(tok, "business", 0, ip, NULL, NULL, AUTH_LIMIT);

		it_str_eq(it_col(res, 0, "status"), "ok");
		PQclear(res);
	}

	/* revoked wins over expired */
	fx_exec("UPDATE calendence.api_keys SET expires_at = now() - interval '1 day', "
	    "revoked_at = now() WHERE id = $1", exp_id, NULL);
	expect_failure(tok, "business", 0, "revoked", ip, "6");

	/* sessions: expired, ended, or their publishable key revoked */
	it_session_new(&live, w.biz, w.pk_id, NULL);
	it_session_new(&expired, w.biz, w.pk_id, NULL);
	fx_exec("UPDATE calendence.sessions SET created_at = now() - interval '2 hours', "
	    "expires_at = now() - interval '1 hour' WHERE id = $1", expired.id, NULL);
	expect_failure(expired.token, "session", 0, "session_expired", ip, "7");
	it_session_new(&revoked, w.biz, w.pk_id, NULL);
	fx_exec("UPDATE calendence.sessions SET revoked_at = now() WHERE id = $1", revoked.id,
	    NULL);
	expect_failure(revoked.token, "session", 0, "session_expired", ip, "8");
	expect_failure(revoked.token, "session", 1, "session_expired", ip, "9");
	expect_failure(live.token, "business", 0, "unknown", ip, "10");

	/* a session whose publishable key expired lives on, but cannot refresh */
	pk2 = fx_key("publishable", w.biz);
	pk2_id = fx_key_id(pk2);
	it_session_new(&orphan, w.biz, pk2_id, NULL);
	fx_exec("UPDATE calendence.api_keys SET expires_at = now() WHERE id = $1", pk2_id, NULL);
	{
		PGresult *res = it_auth(orphan.token, "session", 0, ip, NULL, NULL, AUTH_LIMIT);

		it_str_eq(it_col(res, 0, "status"), "ok");
		PQclear(res);
	}
	expect_failure(orphan.token, "session", 1, "expired", ip, "11");
	expect_failure(pk2, "publishable", 1, "expired", ip, "12");

	/* ... and one whose key was revoked, even if a DBA reopened the session */
	fx_exec("UPDATE calendence.api_keys SET revoked_at = now() WHERE id = $1", w.pk_id,
	    NULL);
	fx_exec("UPDATE calendence.sessions SET revoked_at = NULL WHERE id = $1", live.id, NULL);
	expect_failure(live.token, "session", 0, "session_expired", ip, "13");

	sum = fx_value("SELECT minute_count FROM calendence.rate_windows WHERE subject = 'a:' || $1",
	    ip, NULL);
	it_str_eq(sum, "13");
	free(sum);
	it_session_free(&live), it_session_free(&expired), it_session_free(&revoked);
	it_session_free(&orphan);
	free(pk2), free(pk2_id), free(never), free(tok), free(exp_id);
	world_free(&w);
}

/*
 * The 'auth' window: failures count per IP up to the limit, then are refused
 * (429) without counting; valid credentials from that IP are not affected,
 * and add nothing to it.
 */
Test(authenticate, failures_count_in_the_ip_auth_window)
{
	struct world	 w;
	char		 ip[64], other[64], *bad = it_token(TOKEN_HUB), *v;
	PGresult	*res;
	static const char *const want[][2] = {
		{ "t", "1" }, { "t", "2" }, { "t", "3" }, { "f", "3" }, { "f", "3" },
	};
	size_t		 i;

	it_avoid_minute_edge();
	world_new(&w, 60, 1000, 20, 1);
	it_ip(ip);
	it_ip(other);
	for (i = 0; i < 5; i++) {
		res = it_auth(bad, "hub", 0, ip, NULL, NULL, 3);
		it_str_eq(it_col(res, 0, "status"), "unknown");
		it_str_eq(it_col(res, 0, "window"), "auth");
		it_str_eq(it_col(res, 0, "admitted"), want[i][0], "failure %zu", i);
		it_str_eq(it_col(res, 0, "minute_count"), want[i][1], "failure %zu", i);
		it_str_eq(it_col(res, 0, "minute_limit"), "3");
		PQclear(res);
	}
	res = it_auth(w.bk, "business", 0, ip, NULL, NULL, 3);
	it_str_eq(it_col(res, 0, "status"), "ok");
	it_str_eq(it_col(res, 0, "window"), "key");
	it_str_eq(it_col(res, 0, "admitted"), "t");
	PQclear(res);
	v = fx_value("SELECT minute_count FROM calendence.rate_windows WHERE subject = 'a:' || $1",
	    ip, NULL);
	it_str_eq(v, "3");
	free(v);
	/* another IP has its own window */
	res = it_auth(bad, "hub", 0, other, NULL, NULL, 3);
	it_str_eq(it_col(res, 0, "admitted"), "t");
	it_str_eq(it_col(res, 0, "minute_count"), "1");
	PQclear(res);
	free(bad);
	world_free(&w);
}

Test(authenticate, hub_key_reaches_only_the_businesses_of_its_hub)
{
	struct world	 w, x;
	PGresult	*res;
	char		*inactive;
	struct {
		const char	*business;	/* the header */
		const char	*ok;
		const char	*id;		/* business_id answered */
	} cases[4];
	size_t		 i;

	world_new(&w, 60, 1000, 20, 1);
	world_new(&x, 60, 1000, 20, 1);
	cases[0].business = w.biz, cases[0].ok = "t", cases[0].id = w.biz;
	cases[1].business = x.biz, cases[1].ok = "f", cases[1].id = NULL;
	cases[2].business = "6b1f1f5e-0000-4000-8000-000000000000", cases[2].ok = "f",
	    cases[2].id = NULL;
	cases[3].business = NULL, cases[3].ok = "f", cases[3].id = NULL;
	for (i = 0; i < 4; i++) {
		res = it_auth(w.hk, "hub", 0, "192.0.2.1", cases[i].business, NULL, AUTH_LIMIT);
		it_str_eq(it_col(res, 0, "status"), "ok", "case %zu", i);
		it_str_eq(it_col(res, 0, "business_ok"), cases[i].ok, "case %zu", i);
		if (cases[i].id)
			it_str_eq(it_col(res, 0, "business_id"), cases[i].id);
		else {
			cr_expect_null(it_col(res, 0, "business_id"), "case %zu", i);
			cr_expect_null(it_col(res, 0, "business_name"), "case %zu", i);
			cr_expect_null(it_col(res, 0, "business_active"), "case %zu", i);
		}
		/* the key is still the hub's, whatever it named */
		it_str_eq(it_col(res, 0, "hub_id"), w.hub);
		it_str_eq(it_col(res, 0, "key_id"), w.hk_id);
		it_str_eq(it_col(res, 0, "full_api_access"), "t");
		PQclear(res);
	}
	/* an inactive business of the hub: reachable, and said to be inactive */
	inactive = fx_business(w.hub, "Europe/Berlin");
	fx_exec("UPDATE calendence.businesses SET active = false WHERE id = $1", inactive, NULL);
	res = it_auth(w.hk, "hub", 0, "192.0.2.1", inactive, NULL, AUTH_LIMIT);
	it_str_eq(it_col(res, 0, "business_ok"), "t");
	it_str_eq(it_col(res, 0, "business_active"), "f");
	it_str_eq(it_col(res, 0, "business_timezone"), "Europe/Berlin");
	PQclear(res);
	/* a business key acts for its own business; the header is the C code's to check */
	fx_exec("UPDATE calendence.businesses SET active = false WHERE id = $1", w.biz, NULL);
	res = it_auth(w.bk, "business", 0, "192.0.2.1", x.biz, NULL, AUTH_LIMIT);
	it_str_eq(it_col(res, 0, "business_ok"), "t");
	it_str_eq(it_col(res, 0, "business_id"), w.biz);
	it_str_eq(it_col(res, 0, "business_active"), "f");
	PQclear(res);
	free(inactive);
	world_free(&w);
	world_free(&x);
}

Test(authenticate, origin_ok_follows_allowed_origins)
{
	struct world		 w;
	struct it_session	 s;
	PGresult		*res;
	struct {
		const char	*origins;	/* set_allowed_origins(), NULL: leave NULL */
		const char	*origin;	/* the request's, NULL: none */
		const char	*ok;
	} cases[] = {
		{ NULL, "https://evil.example", "t" },
		{ NULL, NULL, "t" },
		{ "{}", "https://evil.example", "t" },
		{ "{https://shop.example,https://www.shop.example}", "https://shop.example", "t" },
		{ "{https://shop.example,https://www.shop.example}", "https://www.shop.example",
		  "t" },
		{ "{https://shop.example,https://www.shop.example}", "https://evil.example", "f" },
		{ "{https://shop.example,https://www.shop.example}", "https://shop.example:443",
		  "f" },
		{ "{https://shop.example,https://www.shop.example}", "http://shop.example", "f" },
		{ "{https://shop.example,https://www.shop.example}", "null", "f" },
		{ "{https://shop.example,https://www.shop.example}", NULL, "t" },
	};
	char			 ip[64];
	size_t			 i;
	int			 ex;

	world_new(&w, 1000, 100000, 1000, 1);
	it_ip(ip);
	it_session_new(&s, w.biz, w.pk_id, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fx_exec("SELECT calendence.set_allowed_origins($1, $2::text[])", w.pk_id,
		    cases[i].origins ? cases[i].origins : FX_NULL, NULL);
		for (ex = 0; ex < 2; ex++) {
			res = it_auth(w.pk, "publishable", ex, ip, NULL, cases[i].origin,
			    AUTH_LIMIT);
			it_str_eq(it_col(res, 0, "origin_ok"), cases[i].ok,
			    "key, origins %s, Origin %s", cases[i].origins, cases[i].origin);
			PQclear(res);
			/* a session is held to its publishable key's origins */
			res = it_auth(s.token, "session", ex, ip, NULL, cases[i].origin,
			    AUTH_LIMIT);
			it_str_eq(it_col(res, 0, "origin_ok"), cases[i].ok,
			    "session, origins %s, Origin %s", cases[i].origins, cases[i].origin);
			PQclear(res);
		}
	}
	/* hub and business keys have no origins: any is fine */
	res = it_auth(w.bk, "business", 0, "192.0.2.1", NULL, "https://evil.example", AUTH_LIMIT);
	it_str_eq(it_col(res, 0, "origin_ok"), "t");
	PQclear(res);
	it_session_free(&s);
	world_free(&w);
}

/*
 * The exchange counts per client IP alone, across businesses, at the plan's
 * session_per_minute_per_ip; the keys' own windows are not touched.
 */
Test(authenticate, exchange_window_is_per_ip)
{
	struct world	 w;
	char		 ip[64], other_ip[64], *biz2, *pk2, *v;
	PGresult	*res;
	static const char *const want[][2] = { { "t", "1" }, { "t", "2" }, { "f", "2" } };
	int		 i;

	it_avoid_minute_edge();
	world_new(&w, 60, 1000, 2, 1);
	biz2 = fx_business(w.hub, NULL);
	pk2 = fx_key("publishable", biz2);
	it_ip(ip);
	it_ip(other_ip);
	for (i = 0; i < 3; i++) {
		res = it_auth(i == 1 ? pk2 : w.pk, "publishable", 1, ip, NULL, NULL, AUTH_LIMIT);
		it_str_eq(it_col(res, 0, "status"), "ok");
		it_str_eq(it_col(res, 0, "window"), "exchange");
		it_str_eq(it_col(res, 0, "admitted"), want[i][0], "exchange %d", i);
		it_str_eq(it_col(res, 0, "minute_count"), want[i][1], "exchange %d", i);
		it_str_eq(it_col(res, 0, "minute_limit"), "2");
		cr_expect_null(it_col(res, 0, "hour_limit"));
		cr_expect_null(it_col(res, 0, "hour_count"));
		PQclear(res);
	}
	v = fx_value("SELECT minute_count FROM calendence.rate_windows WHERE subject = 'x:' || $1",
	    ip, NULL);
	it_str_eq(v, "2");
	free(v);
	v = fx_value("SELECT count(*) FROM calendence.rate_windows WHERE subject = 'k:' || $1",
	    w.pk_id, NULL);
	it_str_eq(v, "0", "an exchange does not count in the key's window");
	free(v);
	/* another IP may exchange; the same key, not exchanging, counts per key */
	res = it_auth(w.pk, "publishable", 1, other_ip, NULL, NULL, AUTH_LIMIT);
	it_str_eq(it_col(res, 0, "admitted"), "t");
	it_str_eq(it_col(res, 0, "minute_count"), "1");
	PQclear(res);
	res = it_auth(w.pk, "publishable", 0, ip, NULL, NULL, AUTH_LIMIT);
	it_str_eq(it_col(res, 0, "window"), "key");
	it_str_eq(it_col(res, 0, "admitted"), "t");
	it_str_eq(it_col(res, 0, "minute_count"), "1");
	it_str_eq(it_col(res, 0, "minute_limit"), "60");
	PQclear(res);
	free(biz2), free(pk2);
	world_free(&w);
}

/* The key window: minute and hour of the plan, per key; refusals add nothing. */
Test(authenticate, key_window_counts_per_key)
{
	struct world	 w;
	PGresult	*res;
	char		*v;
	static const char *const want[][3] = {
		{ "t", "1", "1" }, { "t", "2", "2" }, { "t", "3", "3" }, { "f", "3", "3" },
		{ "f", "3", "3" },
	};
	int		 i;

	it_avoid_minute_edge();
	world_new(&w, 3, 1000, 20, 1);
	for (i = 0; i < 5; i++) {
		res = it_auth(w.bk, "business", 0, "192.0.2.1", NULL, NULL, AUTH_LIMIT);
		it_str_eq(it_col(res, 0, "admitted"), want[i][0], "call %d", i);
		it_str_eq(it_col(res, 0, "minute_count"), want[i][1], "call %d", i);
		it_str_eq(it_col(res, 0, "hour_count"), want[i][2], "call %d", i);
		PQclear(res);
	}
	/* the hub key of the same hub has a window of its own */
	res = it_auth(w.hk, "hub", 0, "192.0.2.1", w.biz, NULL, AUTH_LIMIT);
	it_str_eq(it_col(res, 0, "admitted"), "t");
	it_str_eq(it_col(res, 0, "minute_count"), "1");
	PQclear(res);
	v = fx_value("SELECT concat_ws(' ', minute_count, hour_count) FROM calendence.rate_windows "
	    "WHERE subject = 'k:' || $1", w.bk_id, NULL);
	it_str_eq(v, "3 3");
	free(v);
	world_free(&w);
}

/* A DBA's UPDATE of the plan is seen by the very next call. */
Test(authenticate, a_plan_change_applies_to_the_next_call)
{
	struct world	 w;
	PGresult	*res;
	char		 ip[64];
	int		 i;

	it_avoid_minute_edge();
	world_new(&w, 2, 500, 20, 1);
	for (i = 0; i < 3; i++) {
		res = it_auth(w.bk, "business", 0, "192.0.2.1", NULL, NULL, AUTH_LIMIT);
		it_str_eq(it_col(res, 0, "minute_limit"), "2");
		it_str_eq(it_col(res, 0, "hour_limit"), "500");
		it_str_eq(it_col(res, 0, "admitted"), i < 2 ? "t" : "f", "call %d", i);
		PQclear(res);
	}
	fx_exec("UPDATE calendence.plans SET api_per_minute = 3, api_per_hour = 600, "
	    "full_api_access = false WHERE code = $1", w.plan, NULL);
	res = it_auth(w.bk, "business", 0, "192.0.2.1", NULL, NULL, AUTH_LIMIT);
	it_str_eq(it_col(res, 0, "minute_limit"), "3");
	it_str_eq(it_col(res, 0, "hour_limit"), "600");
	it_str_eq(it_col(res, 0, "full_api_access"), "f");
	it_str_eq(it_col(res, 0, "admitted"), "t", "the raised limit admits at once");
	it_str_eq(it_col(res, 0, "minute_count"), "3");
	PQclear(res);
	res = it_auth(w.bk, "business", 0, "192.0.2.1", NULL, NULL, AUTH_LIMIT);
	it_str_eq(it_col(res, 0, "admitted"), "f");
	PQclear(res);

	/* moving the hub to another plan also applies at once */
	fx_exec("UPDATE calendence.hubs SET plan = 'pro' WHERE id = $1", w.hub, NULL);
	res = it_auth(w.bk, "business", 0, "192.0.2.1", NULL, NULL, AUTH_LIMIT);
	it_str_eq(it_col(res, 0, "minute_limit"), "60");
	it_str_eq(it_col(res, 0, "hour_limit"), "1000");
	it_str_eq(it_col(res, 0, "full_api_access"), "t");
	it_str_eq(it_col(res, 0, "admitted"), "t");
	it_str_eq(it_col(res, 0, "minute_count"), "4");
	PQclear(res);
	/* and the exchange limit */
	fx_exec("UPDATE calendence.plans SET session_per_minute_per_ip = 9 WHERE code = $1",
	    w.plan, NULL);
	fx_exec("UPDATE calendence.hubs SET plan = $1 WHERE id = $2", w.plan, w.hub, NULL);
	it_ip(ip);
	res = it_auth(w.pk, "publishable", 1, ip, NULL, NULL, AUTH_LIMIT);
	it_str_eq(it_col(res, 0, "minute_limit"), "9");
	PQclear(res);
	world_free(&w);
}

/* last_used_at: set on first use, then refreshed at most once a minute. */
Test(authenticate, last_used_at_is_refreshed_at_most_once_a_minute)
{
	struct world	 w;
	PGresult	*res;
	char		*v, *before;

	world_new(&w, 1000, 100000, 20, 1);
	res = it_auth(w.bk, "business", 0, "192.0.2.1", NULL, NULL, AUTH_LIMIT);
	PQclear(res);
	v = fx_value("SELECT abs(extract(epoch FROM last_used_at - now())) < 2 "
	    "FROM calendence.api_keys WHERE id = $1", w.bk_id, NULL);
	it_str_eq(v, "t", "set on first use");
	free(v);
	before = fx_value("SELECT last_used_at FROM calendence.api_keys WHERE id = $1", w.bk_id,
	    NULL);
	res = it_auth(w.bk, "business", 0, "192.0.2.1", NULL, NULL, AUTH_LIMIT);
	PQclear(res);
	v = fx_value("SELECT last_used_at FROM calendence.api_keys WHERE id = $1", w.bk_id, NULL);
	it_str_eq(v, before, "not written again within the minute");
	free(v);
	free(before);

	fx_exec("UPDATE calendence.api_keys SET last_used_at = now() - interval '50 seconds' "
	    "WHERE id = $1", w.bk_id, NULL);
	before = fx_value("SELECT last_used_at FROM calendence.api_keys WHERE id = $1", w.bk_id,
	    NULL);
	res = it_auth(w.bk, "business", 0, "192.0.2.1", NULL, NULL, AUTH_LIMIT);
	PQclear(res);
	v = fx_value("SELECT last_used_at FROM calendence.api_keys WHERE id = $1", w.bk_id, NULL);
	it_str_eq(v, before, "50 seconds old: kept");
	free(v);
	free(before);

	fx_exec("UPDATE calendence.api_keys SET last_used_at = now() - interval '61 seconds' "
	    "WHERE id = $1", w.bk_id, NULL);
	res = it_auth(w.bk, "business", 0, "192.0.2.1", NULL, NULL, AUTH_LIMIT);
	PQclear(res);
	v = fx_value("SELECT abs(extract(epoch FROM last_used_at - now())) < 2 "
	    "FROM calendence.api_keys WHERE id = $1", w.bk_id, NULL);
	it_str_eq(v, "t", "61 seconds old: refreshed");
	free(v);

	/* a failed authentication does not touch it */
	fx_exec("UPDATE calendence.api_keys SET last_used_at = '2020-01-01Z', "
	    "revoked_at = now() WHERE id = $1", w.bk_id, NULL);
	res = it_auth(w.bk, "business", 0, "192.0.2.1", NULL, NULL, AUTH_LIMIT);
	it_str_eq(it_col(res, 0, "status"), "revoked");
	PQclear(res);
	v = fx_value("SELECT last_used_at = '2020-01-01Z' FROM calendence.api_keys "
	    "WHERE id = $1", w.bk_id, NULL);
	it_str_eq(v, "t");
	free(v);
	world_free(&w);
}

/*
 * 8 connections x 20 calls of authenticate() with one business key on a
 * plan of 37 a minute: exactly 37 admitted, all in one minute window.
 */
Test(authenticate, admits_exactly_the_plan_limit_under_concurrency)
{
	struct world	 w;
	struct it_call	*c;
	char		*hex, *v;
	const char	*p[2];
	int		 i, admitted = 0, n = 8 * 20;

	world_new(&w, 37, 1000, 20, 1);
	hex = it_hash_hex(w.bk);
	p[0] = hex, p[1] = "192.0.2.1";
	it_avoid_minute_edge();
	c = it_concurrent("SELECT admitted, minute_count, hour_count, now_epoch "
	    "FROM calendence.authenticate(decode($1, 'hex'), 'business', false, $2, NULL, NULL, "
	    "1000)", 2, p, 8, 20);
	for (i = 0; i < n; i++) {
		cr_expect_eq(c[i].now_epoch / 60, c[0].now_epoch / 60,
		    "the run crossed a minute boundary");
		admitted += c[i].admitted;
		cr_expect_leq(c[i].minute_count, 37);
	}
	cr_expect_eq(admitted, 37);
	v = fx_value("SELECT concat_ws(' ', minute_count, hour_count) FROM calendence.rate_windows "
	    "WHERE subject = 'k:' || $1", w.bk_id, NULL);
	it_str_eq(v, "37 37");
	free(v);
	free(c);
	free(hex);
	world_free(&w);
}
