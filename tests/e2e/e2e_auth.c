/* e2e_auth.c: SPEC 3 end to end: the authentication table and the order of checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"
#include "api.h"

/* a string for messages and comparisons, never NULL */
#define WWW_PLAIN	"Bearer realm=\"calendence\""
#define WWW_TOKEN	"Bearer realm=\"calendence\", error=\"invalid_token\""

/* A 401 with its code and exactly one WWW-Authenticate, as given. */
static void
expect_401(const struct http_resp *r, const char *code, const char *www, const char *what)
{
	const char	*got = http_header(r, "WWW-Authenticate");

	expect_error(r, 401, code, NULL, what);
	cr_expect_eq(http_header_count(r, "WWW-Authenticate"), 1,
	    "%s: %d WWW-Authenticate fields", what, http_header_count(r, "WWW-Authenticate"));
	cr_expect_str_eq(nz(got), www, "%s: WWW-Authenticate", what);
}

static void
expect_403(const struct http_resp *r, const char *code, const char *what)
{
	expect_error(r, 403, code, NULL, what);
	cr_expect_null(http_header(r, "WWW-Authenticate"), "%s: 403 with WWW-Authenticate",
	    what);
}

/* GET path with a raw Authorization header value (NULL: none). */
static void
get_auth(const char *path, const char *authorization, struct http_resp *r)
{
	char		 hdr[512];
	const char	*extra[] = { hdr, NULL };

	snprintf(hdr, sizeof(hdr), "Authorization: %s", authorization ? authorization : "");
	cr_assert_eq(http_get(path, NULL, authorization ? extra : NULL, r), 0);
}

/* The body with the request id (from the Request-Id header) blanked out. */
static char *
body_without_id(const struct http_resp *r)
{
	const char	*rid = http_header(r, "Request-Id"), *at;
	char		*s = strdup(r->body);

	cr_assert_not_null(s);
	if (rid != NULL && *rid != '\0' && (at = strstr(r->body, rid)) != NULL)
		memset(s + (at - r->body), 'X', strlen(rid));
	return s;
}

/* --- 401 missing_api_key --- */

Test(auth, missing_header)
{
	struct http_resp	 r;

	get_auth("/api/v1/services", NULL, &r);
	expect_401(&r, "missing_api_key", WWW_PLAIN, "no Authorization");
	cr_expect(jhas(r.json, "error.param") && jget(r.json, "error.param") == NULL,
	    "error.param should be null: %s", r.body);
	cr_expect_not_null(jstr(r.json, "error.message"));
	http_resp_free(&r);

	cr_assert_eq(http_post("/api/v1/session", NULL, NULL, NULL, &r), 0);
	expect_401(&r, "missing_api_key", WWW_PLAIN, "POST /session without a key");
	http_resp_free(&r);
}

Test(auth, non_bearer_credentials_are_missing)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*key = fx_key("business", biz);
	char			 v[256];
	struct http_resp	 r;
	const char		*rows[] = {
		"Basic dXNlcjpwYXNzd29yZA==",
		"Digest username=\"x\", realm=\"calendence\"",
		"Bearer",
		"Bearer    ",
		NULL,
	};

	for (int i = 0; rows[i] != NULL; i++) {
		get_auth("/api/v1/services", rows[i], &r);
		expect_401(&r, "missing_api_key", WWW_PLAIN, rows[i]);
		http_resp_free(&r);
	}
	/* a valid token under another scheme is still no Bearer credential */
	snprintf(v, sizeof(v), "Token %s", key);
	get_auth("/api/v1/services", v, &r);
	expect_401(&r, "missing_api_key", WWW_PLAIN, "Token <valid key>");
	http_resp_free(&r);
	snprintf(v, sizeof(v), "Bearer%s", key);
	get_auth("/api/v1/services", v, &r);
	expect_401(&r, "missing_api_key", WWW_PLAIN, "Bearer<key> without a space");
	http_resp_free(&r);
	free_all(key, biz, hub, NULL);
}

/* --- the scheme is case-insensitive, one or more spaces follow it --- */

Test(auth, scheme_case_and_spaces)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*key = fx_key("business", biz);
	char			 v[256];
	struct http_resp	 r;
	const char		*rows[][2] = {	/* before and after the token */
		{ "Bearer ", "" }, { "bearer ", "" }, { "BEARER ", "" }, { "bEaReR ", "" },
		{ "Bearer     ", "" }, { "bearer  ", "" }, { "Bearer ", "   " },
	};

	free(fx_service(biz, "Express Wash", 1));
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(v, sizeof(v), "%s%s%s", rows[i][0], key, rows[i][1]);
		get_auth("/api/v1/services", v, &r);
		cr_expect_eq(r.status, 200, "\"%s<key>%s\": %d %s", rows[i][0], rows[i][1],
		    r.status, r.body);
		cr_expect_str_eq(nz(jstr(r.json, "data.0.name")), "Express Wash");
		cr_expect_null(http_header(&r, "WWW-Authenticate"));
		http_resp_free(&r);
	}
	free_all(key, biz, hub, NULL);
}

/* --- 401 invalid_api_key: malformed, bad checksum, unknown --- */

Test(auth, malformed_and_unknown_tokens)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*key = fx_key("business", biz);
	char			*unknown = fx_value("SELECT calendence.new_token('business')", NULL);
	char			*unknown_hub = fx_value("SELECT calendence.new_token('hub')", NULL);
	char			*unknown_ses = fx_value("SELECT calendence.new_token('session')", NULL);
	char			 shortk[64], longk[64], alpha[64], sum[64], prefix[64], kind[64];
	struct http_resp	 r;
	struct {
		const char	*what;
		const char	*token;
	} rows[] = {
		{ "garbage", "hello" },
		{ "one character short", shortk },
		{ "one character long", longk },
		{ "a character outside base62", alpha },
		{ "bad checksum", sum },
		{ "unknown prefix", prefix },
		{ "another kind's prefix (checksum no longer matches)", kind },
		{ "unknown well-formed business token", unknown },
		{ "unknown well-formed hub token", unknown_hub },
		{ "unknown well-formed session token", unknown_ses },
	};

	cr_assert_eq(strlen(key), 46);
	snprintf(shortk, sizeof(shortk), "%.45s", key);
	snprintf(longk, sizeof(longk), "%sA", key);
	snprintf(alpha, sizeof(alpha), "%s", key);
	alpha[20] = '-';
	snprintf(sum, sizeof(sum), "%s", key);
	sum[45] = sum[45] == 'A' ? 'B' : 'A';
	snprintf(prefix, sizeof(prefix), "cal_xyz_%s", key + 8);
	snprintf(kind, sizeof(kind), "cal_hub_%s", key + 8);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cr_assert_eq(http_get("/api/v1/services", rows[i].token, NULL, &r), 0);
		expect_401(&r, "invalid_api_key", WWW_TOKEN, rows[i].what);
		http_resp_free(&r);
	}
	/* and the real key still works */
	cr_assert_eq(http_get("/api/v1/services", key, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%s", r.body);
	http_resp_free(&r);
	free_all(unknown_ses, unknown_hub, unknown, key, biz, hub, NULL);
}

/* --- 401 api_key_revoked, api_key_expired: on the very next request --- */

Test(auth, revoked_key_by_function_and_by_update)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*a = fx_key("business", biz), *b = fx_key("hub", hub);
	char			*aid = fx_key_id(a), *bid = fx_key_id(b);
	struct http_resp	 r;

	cr_expect_eq(get_as("/api/v1/services", a, NULL, &r), 200, "%s", r.body);
	http_resp_free(&r);
	fx_exec("SELECT calendence.revoke_key($1)", aid, NULL);
	get_as("/api/v1/services", a, NULL, &r);
	expect_401(&r, "api_key_revoked", WWW_TOKEN, "revoked by revoke_key()");
	http_resp_free(&r);

	cr_expect_eq(get_as("/api/v1/businesses", b, NULL, &r), 200, "%s", r.body);
	http_resp_free(&r);
	fx_exec("UPDATE calendence.api_keys SET revoked_at = now() WHERE id = $1", bid, NULL);
	get_as("/api/v1/businesses", b, NULL, &r);
	expect_401(&r, "api_key_revoked", WWW_TOKEN, "revoked by a DBA's UPDATE");
	http_resp_free(&r);
	get_as("/api/v1/services", b, biz, &r);
	expect_401(&r, "api_key_revoked", WWW_TOKEN, "revoked hub key on /services");
	http_resp_free(&r);
	free_all(aid, bid, a, b, biz, hub, NULL);
}

Test(auth, expired_key)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*key = fx_key("business", biz), *id = fx_key_id(key);
	char			*pub = fx_key("publishable", biz), *pid = fx_key_id(pub);
	struct http_resp	 r;

	/* a key that expires later still works */
	fx_exec("UPDATE calendence.api_keys SET expires_at = now() + interval '1 hour' "
	    "WHERE id = $1", id, NULL);
	cr_expect_eq(get_as("/api/v1/services", key, NULL, &r), 200, "%s", r.body);
	http_resp_free(&r);
	fx_exec("UPDATE calendence.api_keys SET expires_at = now() - interval '1 second' "
	    "WHERE id = $1", id, NULL);
	get_as("/api/v1/services", key, NULL, &r);
	expect_401(&r, "api_key_expired", WWW_TOKEN, "expired business key");
	http_resp_free(&r);

	fx_exec("UPDATE calendence.api_keys SET expires_at = now() - interval '1 second' "
	    "WHERE id = $1", pid, NULL);
	cr_assert_eq(http_post("/api/v1/session", pub, NULL, NULL, &r), 0);
	expect_401(&r, "api_key_expired", WWW_TOKEN, "expired publishable key");
	http_resp_free(&r);
	free_all(id, key, pid, pub, biz, hub, NULL);
}

Test(auth, revoked_publishable_key_cannot_exchange)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*pub = fx_key("publishable", biz), *pid = fx_key_id(pub);
	struct http_resp	 r;

	fx_exec("SELECT calendence.revoke_key($1)", pid, NULL);
	cr_assert_eq(http_post("/api/v1/session", pub, NULL, NULL, &r), 0);
	expect_401(&r, "api_key_revoked", WWW_TOKEN, "revoked publishable key");
	http_resp_free(&r);
	free_all(pid, pub, biz, hub, NULL);
}

/* --- 401 session_expired --- */

Test(auth, session_ended_by_delete)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*pub = fx_key("publishable", biz), *ses = new_session(pub, NULL);
	struct http_resp	 r;

	cr_expect_eq(get_as("/api/v1/services", ses, NULL, &r), 200, "%s", r.body);
	http_resp_free(&r);
	cr_assert_eq(http_delete("/api/v1/session", ses, NULL, &r), 0);
	cr_expect_eq(r.status, 204, "%s", r.body);
	http_resp_free(&r);
	get_as("/api/v1/services", ses, NULL, &r);
	expect_401(&r, "session_expired", WWW_TOKEN, "ended session on /services");
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/session", ses, NULL, NULL, &r), 0);
	expect_401(&r, "session_expired", WWW_TOKEN, "ended session refreshing");
	http_resp_free(&r);
	cr_assert_eq(http_delete("/api/v1/session", ses, NULL, &r), 0);
	expect_401(&r, "session_expired", WWW_TOKEN, "ended session ending again");
	http_resp_free(&r);
	free_all(ses, pub, biz, hub, NULL);
}

Test(auth, session_past_its_expiry)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*pub = fx_key("publishable", biz), *ses = new_session(pub, NULL);
	struct http_resp	 r;

	cr_expect_eq(get_as("/api/v1/services", ses, NULL, &r), 200, "%s", r.body);
	http_resp_free(&r);
	fx_exec("UPDATE calendence.sessions SET created_at = now() - interval '2 hours', "
	    "expires_at = now() - interval '1 second' "
	    "WHERE token_hash = calendence.token_hash($1)", ses, NULL);
	get_as("/api/v1/services", ses, NULL, &r);
	expect_401(&r, "session_expired", WWW_TOKEN, "expired session");
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/session", ses, NULL, NULL, &r), 0);
	expect_401(&r, "session_expired", WWW_TOKEN, "expired session refreshing");
	http_resp_free(&r);
	free_all(ses, pub, biz, hub, NULL);
}

Test(auth, revoking_publishable_key_ends_its_sessions)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*pub = fx_key("publishable", biz), *pid = fx_key_id(pub);
	char			*ses = new_session(pub, NULL);
	struct http_resp	 r;

	cr_expect_eq(get_as("/api/v1/services", ses, NULL, &r), 200, "%s", r.body);
	http_resp_free(&r);
	fx_exec("SELECT calendence.revoke_key($1)", pid, NULL);
	get_as("/api/v1/services", ses, NULL, &r);
	expect_401(&r, "session_expired", WWW_TOKEN, "session of a revoked publishable key");
	http_resp_free(&r);
	free_all(ses, pid, pub, biz, hub, NULL);
}

/* --- 403 key_type_not_allowed --- */

Test(auth, publishable_key_on_services)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*pub = fx_key("publishable", biz);
	char			*svc = fx_service(biz, NULL, 1), path[128];
	struct http_resp	 r;

	get_as("/api/v1/services", pub, NULL, &r);
	expect_403(&r, "key_type_not_allowed", "publishable key on /services");
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/services/%s", svc);
	get_as(path, pub, NULL, &r);
	expect_403(&r, "key_type_not_allowed", "publishable key on /services/{id}");
	http_resp_free(&r);
	free_all(svc, pub, biz, hub, NULL);
}

/* --- 403 plan_upgrade_required --- */

Test(auth, growth_plan_lacks_full_api_access)
{
	char			*hub = fx_hub("growth"), *biz = fx_business(hub, NULL);
	char			*hk = fx_key("hub", hub), *bk = fx_key("business", biz);
	char			*pub = fx_key("publishable", biz), *ses;
	struct http_resp	 r;

	free(fx_service(biz, "Express Wash", 1));
	get_as("/api/v1/services", hk, biz, &r);
	expect_403(&r, "plan_upgrade_required", "growth hub key on /services");
	http_resp_free(&r);
	get_as("/api/v1/businesses", hk, NULL, &r);
	expect_403(&r, "plan_upgrade_required", "growth hub key on /businesses");
	http_resp_free(&r);
	get_as("/api/v1/services", bk, NULL, &r);
	expect_403(&r, "plan_upgrade_required", "growth business key on /services");
	http_resp_free(&r);
	get_as("/api/v1/businesses", bk, NULL, &r);
	expect_403(&r, "plan_upgrade_required", "growth business key on /businesses");
	http_resp_free(&r);

	/* the widget's keys do not need full API access */
	ses = new_session(pub, NULL);
	cr_expect_eq(get_as("/api/v1/services", ses, NULL, &r), 200, "growth session: %s",
	    r.body);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.name")),
	    "Express Wash");
	http_resp_free(&r);

	/* a DBA's change of plan applies to the next request */
	fx_exec("UPDATE calendence.hubs SET plan = 'pro' WHERE id = $1", hub, NULL);
	cr_expect_eq(get_as("/api/v1/services", bk, NULL, &r), 200, "after upgrade: %s",
	    r.body);
	http_resp_free(&r);
	cr_expect_eq(get_as("/api/v1/services", hk, biz, &r), 200, "after upgrade: %s",
	    r.body);
	http_resp_free(&r);
	free_all(ses, pub, bk, hk, biz, hub, NULL);
}

/* --- 403 business_inactive --- */

Test(auth, inactive_business)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*hk = fx_key("hub", hub), *bk = fx_key("business", biz);
	char			*pub = fx_key("publishable", biz), *ses = new_session(pub, NULL);
	struct http_resp	 r;

	fx_exec("UPDATE calendence.businesses SET active = false WHERE id = $1", biz, NULL);
	get_as("/api/v1/services", bk, NULL, &r);
	expect_403(&r, "business_inactive", "business key");
	http_resp_free(&r);
	get_as("/api/v1/services", hk, biz, &r);
	expect_403(&r, "business_inactive", "hub key naming it");
	http_resp_free(&r);
	get_as("/api/v1/services", ses, NULL, &r);
	expect_403(&r, "business_inactive", "session token");
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/session", pub, NULL, NULL, &r), 0);
	expect_403(&r, "business_inactive", "publishable key exchanging");
	http_resp_free(&r);

	fx_exec("UPDATE calendence.businesses SET active = true WHERE id = $1", biz, NULL);
	cr_expect_eq(get_as("/api/v1/services", bk, NULL, &r), 200, "reactivated: %s",
	    r.body);
	http_resp_free(&r);
	free_all(ses, pub, bk, hk, biz, hub, NULL);
}

/* --- 403 business_not_accessible, 400 business_required --- */

Test(auth, hub_key_cannot_probe_business_ids)
{
	char			*hub = fx_hub("pro"), *mine = fx_business(hub, NULL);
	char			*other_hub = fx_hub("pro"), *theirs = fx_business(other_hub, NULL);
	char			*dormant = fx_business(other_hub, NULL);
	char			*hk = fx_key("hub", hub);
	char			*nobody = fx_value("SELECT gen_random_uuid()::text", NULL);
	char			*b1, *b2, *b3;
	struct http_resp	 r1, r2, r3;

	fx_exec("UPDATE calendence.businesses SET active = false WHERE id = $1", dormant, NULL);
	get_as("/api/v1/services", hk, theirs, &r1);
	get_as("/api/v1/services", hk, nobody, &r2);
	get_as("/api/v1/services", hk, dormant, &r3);
	expect_403(&r1, "business_not_accessible", "another hub's business");
	expect_403(&r2, "business_not_accessible", "a nonexistent business");
	expect_403(&r3, "business_not_accessible", "another hub's inactive business");
	b1 = body_without_id(&r1);
	b2 = body_without_id(&r2);
	b3 = body_without_id(&r3);
	cr_expect_str_eq(b1, b2, "another hub's and a nonexistent business differ");
	cr_expect_str_eq(b1, b3, "another hub's active and inactive business differ");
	cr_expect_str_neq(nz(jstr(r1.json, "error.request_id")),
	    nz(jstr(r2.json, "error.request_id")));
	http_resp_free(&r1);
	http_resp_free(&r2);
	http_resp_free(&r3);

	cr_expect_eq(get_as("/api/v1/services", hk, mine, &r1), 200, "own business: %s",
	    r1.body);
	http_resp_free(&r1);
	free_all(b1, b2, b3, nobody, hk, dormant, theirs, other_hub, mine, hub, NULL);
}

Test(auth, malformed_business_header)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*hk = fx_key("hub", hub), *bk = fx_key("business", biz);
	char			 nohyphen[64], longer[64];
	struct http_resp	 r;
	size_t			 i, j;
	const char		*rows[] = { "not-a-uuid", "123", nohyphen, longer, NULL };

	for (i = j = 0; biz[i] != '\0'; i++)
		if (biz[i] != '-')
			nohyphen[j++] = biz[i];
	nohyphen[j] = '\0';
	snprintf(longer, sizeof(longer), "%s0", biz);
	for (i = 0; rows[i] != NULL; i++) {
		get_as("/api/v1/services", hk, rows[i], &r);
		expect_403(&r, "business_not_accessible", rows[i]);
		http_resp_free(&r);
		get_as("/api/v1/services", bk, rows[i], &r);
		expect_403(&r, "business_not_accessible", rows[i]);
		http_resp_free(&r);
	}
	free_all(bk, hk, biz, hub, NULL);
}

Test(auth, business_key_names_only_its_own_business)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*sibling = fx_business(hub, NULL);
	char			*other_hub = fx_hub("pro"), *stranger = fx_business(other_hub, NULL);
	char			*bk = fx_key("business", biz), *pub = fx_key("publishable", biz);
	char			*ses = new_session(pub, NULL);
	struct http_resp	 r;

	free(fx_service(biz, "Express Wash", 1));
	get_as("/api/v1/services", bk, sibling, &r);
	expect_403(&r, "business_not_accessible", "business key, sibling business");
	http_resp_free(&r);
	get_as("/api/v1/services", bk, stranger, &r);
	expect_403(&r, "business_not_accessible", "business key, another hub's business");
	http_resp_free(&r);
	get_as("/api/v1/services", ses, sibling, &r);
	expect_403(&r, "business_not_accessible", "session token, sibling business");
	http_resp_free(&r);
	cr_expect_eq(get_as("/api/v1/services", bk, biz, &r), 200, "own id: %s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.name")),
	    "Express Wash");
	http_resp_free(&r);
	cr_expect_eq(get_as("/api/v1/services", ses, biz, &r), 200, "session, own id: %s",
	    r.body);
	http_resp_free(&r);
	free_all(ses, pub, bk, stranger, other_hub, sibling, biz, hub, NULL);
}

Test(auth, hub_key_without_business_header)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*hk = fx_key("hub", hub), *svc = fx_service(biz, NULL, 1);
	char			 path[128];
	struct http_resp	 r;

	get_as("/api/v1/services", hk, NULL, &r);
	expect_error(&r, 400, "business_required", NULL, "/services");
	cr_expect_str_eq(nz(jstr(r.json, "error.param")),
	    "Calendence-Business");
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/services/%s", svc);
	get_as(path, hk, NULL, &r);
	expect_error(&r, 400, "business_required", NULL, "/services/{id}");
	cr_expect_str_eq(nz(jstr(r.json, "error.param")),
	    "Calendence-Business");
	http_resp_free(&r);
	cr_expect_eq(get_as(path, hk, biz, &r), 200, "%s", r.body);
	http_resp_free(&r);
	free_all(svc, hk, biz, hub, NULL);
}

/* --- 403 origin_not_allowed --- */

Test(auth, publishable_key_allowed_origins)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*pub = fx_key("publishable", biz), *pid = fx_key_id(pub);
	char			*ses;
	struct http_resp	 r;
	const char		*evil[] = { "Origin: https://evil.example", NULL };
	const char		*shop[] = { "Origin: https://shop.example", NULL };
	const char		*lookalike[] = { "Origin: https://shop.example.evil.example",
				    NULL };

	fx_exec("SELECT calendence.set_allowed_origins($1, ARRAY['https://shop.example'])",
	    pid, NULL);
	cr_assert_eq(http_post("/api/v1/session", pub, evil, NULL, &r), 0);
	expect_403(&r, "origin_not_allowed", "evil origin");
	cr_expect_str_eq(nz(http_header(&r, "Access-Control-Allow-Origin")),
	    "https://evil.example");
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/session", pub, lookalike, NULL, &r), 0);
	expect_403(&r, "origin_not_allowed", "look-alike origin");
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/session", pub, shop, NULL, &r), 0);
	cr_expect_eq(r.status, 201, "allowed origin: %s", r.body);
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/session", pub, NULL, NULL, &r), 0);
	cr_expect_eq(r.status, 201, "no Origin (a server): %s", r.body);
	http_resp_free(&r);

	/* a session made from that key is bound by the same origins */
	ses = new_session(pub, NULL);
	cr_assert_eq(http_get("/api/v1/services", ses, evil, &r), 0);
	expect_403(&r, "origin_not_allowed", "session token from an evil origin");
	http_resp_free(&r);
	cr_assert_eq(http_get("/api/v1/services", ses, shop, &r), 0);
	cr_expect_eq(r.status, 200, "session from the allowed origin: %s", r.body);
	http_resp_free(&r);

	/* an empty list allows any origin */
	fx_exec("SELECT calendence.set_allowed_origins($1, ARRAY[]::text[])", pid, NULL);
	cr_assert_eq(http_post("/api/v1/session", pub, evil, NULL, &r), 0);
	cr_expect_eq(r.status, 201, "empty allowed_origins: %s", r.body);
	http_resp_free(&r);
	free_all(ses, pid, pub, biz, hub, NULL);
}

/* --- the order of checks (SPEC 3) --- */

Test(auth, routing_comes_before_credentials)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*key = fx_key("business", biz), *id = fx_key_id(key);
	struct http_resp	 r;

	cr_assert_eq(http_get("/api/v1/nope", "cal_biz_bad", NULL, &r), 0);
	expect_error(&r, 404, "not_found", NULL, "unknown path, bad key");
	cr_expect_null(http_header(&r, "WWW-Authenticate"));
	http_resp_free(&r);
	cr_assert_eq(http_delete("/api/v1/services", NULL, NULL, &r), 0);
	expect_error(&r, 405, "method_not_allowed", NULL,
	    "wrong method, no key");
	cr_expect_null(http_header(&r, "WWW-Authenticate"));
	http_resp_free(&r);
	fx_exec("SELECT calendence.revoke_key($1)", id, NULL);
	cr_assert_eq(http_get("/api/v1/nope", key, NULL, &r), 0);
	expect_error(&r, 404, "not_found", NULL, "unknown path, revoked key");
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/services", key, NULL, "{}", &r), 0);
	expect_error(&r, 405, "method_not_allowed", NULL,
	    "wrong method, revoked key");
	http_resp_free(&r);
	free_all(id, key, biz, hub, NULL);
}

Test(auth, credentials_then_permission_then_request)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*pub = fx_key("publishable", biz), *pid = fx_key_id(pub);
	char			*bk = fx_key("business", biz), *hk = fx_key("hub", hub);
	char			*other_hub = fx_hub("pro"), *other = fx_business(other_hub, NULL);
	struct http_resp	 r;

	/* 401 before 422 and 404 */
	get_as("/api/v1/services?page=0", NULL, NULL, &r);
	expect_401(&r, "missing_api_key", WWW_PLAIN, "no key, bad page");
	http_resp_free(&r);
	get_as("/api/v1/services/not-a-uuid", NULL, NULL, &r);
	expect_401(&r, "missing_api_key", WWW_PLAIN, "no key, malformed id");
	http_resp_free(&r);
	/* 403 before 422 and 404 */
	get_as("/api/v1/services?page=0", pub, NULL, &r);
	expect_403(&r, "key_type_not_allowed", "publishable key, bad page");
	http_resp_free(&r);
	get_as("/api/v1/services/not-a-uuid", pub, NULL, &r);
	expect_403(&r, "key_type_not_allowed", "publishable key, malformed id");
	http_resp_free(&r);
	/* 400 business_required and 403 business_not_accessible before 422 and 404 */
	get_as("/api/v1/services?page=0", hk, NULL, &r);
	expect_error(&r, 400, "business_required", NULL,
	    "hub key without header, bad page");
	http_resp_free(&r);
	get_as("/api/v1/services/not-a-uuid", hk, other, &r);
	expect_403(&r, "business_not_accessible", "hub key naming a stranger, malformed id");
	http_resp_free(&r);
	get_as("/api/v1/services?per_page=0", hk, other, &r);
	expect_403(&r, "business_not_accessible", "hub key naming a stranger, bad per_page");
	http_resp_free(&r);
	/* business_inactive before business_not_accessible */
	fx_exec("UPDATE calendence.businesses SET active = false WHERE id = $1", biz, NULL);
	get_as("/api/v1/services", bk, "not-a-uuid", &r);
	expect_403(&r, "business_inactive", "inactive business, bad header");
	http_resp_free(&r);
	/* 401 before 403 */
	fx_exec("SELECT calendence.revoke_key($1)", pid, NULL);
	get_as("/api/v1/services", pub, NULL, &r);
	expect_401(&r, "api_key_revoked", WWW_TOKEN, "revoked publishable key on /services");
	http_resp_free(&r);
	free_all(other, other_hub, hk, bk, pid, pub, biz, hub, NULL);
}

Test(auth, permission_order_on_growth_plan)
{
	char			*hub = fx_hub("growth"), *biz = fx_business(hub, NULL);
	char			*hk = fx_key("hub", hub), *bk = fx_key("business", biz);
	char			*nobody = fx_value("SELECT gen_random_uuid()::text", NULL);
	struct http_resp	 r;

	/* 400 business_required comes before every 403 */
	get_as("/api/v1/services", hk, NULL, &r);
	expect_error(&r, 400, "business_required", NULL,
	    "growth hub key without header");
	http_resp_free(&r);
	/* key_type_not_allowed before plan_upgrade_required */
	cr_assert_eq(http_post("/api/v1/session", bk, NULL, NULL, &r), 0);
	expect_403(&r, "key_type_not_allowed", "growth business key on POST /session");
	http_resp_free(&r);
	/* plan_upgrade_required before business_not_accessible and business_inactive */
	get_as("/api/v1/services", hk, nobody, &r);
	expect_403(&r, "plan_upgrade_required", "growth hub key, nonexistent business");
	http_resp_free(&r);
	fx_exec("UPDATE calendence.businesses SET active = false WHERE id = $1", biz, NULL);
	get_as("/api/v1/services", bk, NULL, &r);
	expect_403(&r, "plan_upgrade_required", "growth business key, inactive business");
	http_resp_free(&r);
	free_all(nobody, bk, hk, biz, hub, NULL);
}

/*
 * 403 key_type_not_allowed says what to call the endpoint with: a
 * publishable key is exchanged for a session first; server-only routes
 * need a hub or business key; the session endpoints name theirs.
 */
Test(auth, key_type_not_allowed_says_what_to_do)
{
	static const char *const to_session = "A publishable key can only be exchanged "
	    "for a session (POST /api/v1/session); call this endpoint with the session "
	    "token.";
	static const char *const server = "This endpoint needs a hub or business key.";
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*pub = fx_key("publishable", biz), *ses = new_session(pub, NULL);
	char			*bk = fx_key("business", biz);
	const struct {
		const char	*method;
		const char	*path;
		const char	*token;
		const char	*message;
	} rows[] = {
		{ "GET", "/api/v1/services", pub, to_session },
		{ "GET", "/api/v1/availability", pub, to_session },
		{ "POST", "/api/v1/bookings/hold", pub, to_session },
		{ "GET", "/api/v1/businesses", pub, to_session },
		{ "GET", "/api/v1/webhooks", pub, to_session },
		{ "DELETE", "/api/v1/session", pub, to_session },
		{ "GET", "/api/v1/businesses", ses, server },
		{ "GET", "/api/v1/webhooks", ses, server },
		{ "PATCH", "/api/v1/bookings/x", ses, server },
		{ "DELETE", "/api/v1/session", bk, "This endpoint ends the session it is "
		    "called with: call it with the session token." },
		{ "POST", "/api/v1/session", bk, "This endpoint exchanges a publishable key "
		    "(or refreshes a session token) for a session; hub and business keys "
		    "call the API directly." },
	};
	struct http_resp	 r;
	char			 what[128];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(what, sizeof(what), "%s %s", rows[i].method, rows[i].path);
		cr_assert_eq(http_call(rows[i].method, rows[i].path, rows[i].token, NULL,
		    NULL, &r), 0);
		expect_403(&r, "key_type_not_allowed", what);
		cr_expect_str_eq(nz(jstr(r.json, "error.message")), rows[i].message,
		    "%s: %s", what, r.body);
		http_resp_free(&r);
	}
	free_all(bk, ses, pub, biz, hub, NULL);
}
