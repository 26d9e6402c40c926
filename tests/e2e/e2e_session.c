/* e2e_session.c: SPEC 5, the session exchange: create, refresh, end, and the keys behind it. */
#include <ctype.h>
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

#define SES_PATH	"/api/v1/session"
#define SERVICES_PATH	"/api/v1/services"

/* A business on 'pro' with one service, its publishable key and its id. */
struct shop {
	char	*hub;
	char	*biz;
	char	*pub;		/* token */
	char	*pub_id;
	char	*service;
};

static void
shop_init(struct shop *s, const char *tz)
{
	s->hub = fx_hub("pro");
	s->biz = fx_business(s->hub, tz);
	s->pub = fx_key("publishable", s->biz);
	s->pub_id = fx_key_id(s->pub);
	s->service = fx_service(s->biz, "Full Detail", 1);
	cr_assert_not_null(s->pub_id);
}

static void
shop_cleanup(struct shop *s)
{
	free(s->hub);
	free(s->biz);
	free(s->pub);
	free(s->pub_id);
	free(s->service);
}

/*
 * A 401 as SPEC 3 and 6 describe it: the code, WWW-Authenticate naming the
 * invalid token, and the rate headers of the client IP's "auth" window.
 */
static void
expect_401(const struct http_resp *r, const char *code)
{
	const char	*policy = http_header(r, "RateLimit-Policy");

	expect_error(r, 401, code, NULL, NULL);
	cr_expect_str_eq(nz(http_header(r, "WWW-Authenticate")),
	    "Bearer realm=\"calendence\", error=\"invalid_token\"");
	cr_expect_not_null(http_header(r, "X-RateLimit-Limit"), "%s", r->headers);
	cr_expect_not_null(http_header(r, "X-RateLimit-Remaining"), "%s", r->headers);
	cr_expect_not_null(http_header(r, "X-RateLimit-Reset"), "%s", r->headers);
	cr_expect(policy != NULL && strncmp(policy, "\"auth\";", 7) == 0,
	    "RateLimit-Policy of a 401: %s", nz(policy));
}

/* True for "YYYY-MM-DDTHH:MM:SS+00:00". */
static int
is_rfc3339_utc(const char *s)
{
	static const char	 shape[] = "dddd-dd-ddTdd:dd:dd+00:00";
	size_t			 i;

	if (s == NULL || strlen(s) != sizeof(shape) - 1)
		return 0;
	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return 0;
	return 1;
}

/* The value of a one-row query with one parameter, compared with 'want'. */
static void
expect_db(const char *want, const char *sql, const char *param)
{
	char	*v = fx_value(sql, param, NULL);

	cr_expect_str_eq(nz(v), want, "%s [%s]: got %s, want %s", sql, param, nz(v), want);
	free(v);
}

/* The sessions.id of a session token, or NULL. */
static char *
session_id(const char *tok)
{
	return fx_value("SELECT id FROM calendence.sessions "
	    "WHERE token_hash = calendence.token_hash($1)", tok, NULL);
}

/* GET /services with 'token': asserts a 401 with 'code'. */
static void
services_401(const char *token, const char *code)
{
	struct http_resp	 r;

	cr_assert_eq(http_get(SERVICES_PATH, token, NULL, &r), 0);
	expect_401(&r, code);
	http_resp_free(&r);
}

/* POST /session with 'token': asserts a 401 with 'code'. */
static void
exchange_401(const char *token, const char *code)
{
	struct http_resp	 r;

	cr_assert_eq(http_post(SES_PATH, token, NULL, NULL, &r), 0);
	expect_401(&r, code);
	http_resp_free(&r);
}

Test(session, exchange_creates_a_one_hour_session)
{
	struct shop		 s;
	struct http_resp	 r;
	const char		*tok, *exp;
	char			*name, *v;
	time_t			 before = time(NULL), after;

	shop_init(&s, "Europe/Berlin");
	name = fx_value("SELECT name FROM calendence.businesses WHERE id = $1", s.biz,
	    NULL);
	cr_assert_eq(http_post(SES_PATH, s.pub, NULL, NULL, &r), 0);
	after = time(NULL);
	cr_assert_eq(r.status, 201, "%s", r.body);
	cr_expect(strncmp(nz(http_header(&r, "Content-Type")), "application/json", 16) == 0);
	tok = jstr(r.json, "session_token");
	exp = jstr(r.json, "expires_at");
	cr_assert(is_session_token(tok), "session_token: %s", nz(tok));
	expect_db("t", "SELECT calendence.token_valid($1)", tok);
	cr_expect(is_rfc3339_utc(exp), "expires_at: %s", nz(exp));

	/* exactly the three members, and the business as the database has it */
	cr_expect_eq(json_object_object_length(r.json), 3, "%s", r.body);
	cr_expect_eq(json_object_object_length(jget(r.json, "business")), 3, "%s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "business.id")), s.biz);
	cr_expect_str_eq(nz(jstr(r.json, "business.name")), nz(name));
	cr_expect_str_eq(nz(jstr(r.json, "business.timezone")), "Europe/Berlin");

	/* one row, under the token's hash, made through this key, from this client */
	expect_db("1", "SELECT count(*) FROM calendence.sessions "
	    "WHERE token_hash = calendence.token_hash($1)", tok);
	expect_db(s.biz, "SELECT business_id FROM calendence.sessions "
	    "WHERE token_hash = calendence.token_hash($1)", tok);
	expect_db(s.pub_id, "SELECT publishable_key_id FROM calendence.sessions "
	    "WHERE token_hash = calendence.token_hash($1)", tok);
	expect_db(http_client_ip(), "SELECT host(client_ip) FROM calendence.sessions "
	    "WHERE token_hash = calendence.token_hash($1)", tok);
	expect_db("t", "SELECT id = root_session_id AND revoked_at IS NULL "
	    "FROM calendence.sessions WHERE token_hash = calendence.token_hash($1)", tok);

	/* expires_at is the server's now plus exactly one hour */
	expect_db("t", "SELECT expires_at - created_at = interval '3600 seconds' "
	    "FROM calendence.sessions WHERE token_hash = calendence.token_hash($1)", tok);
	expect_db(nz(exp), "SELECT calendence.rfc3339(expires_at) "
	    "FROM calendence.sessions WHERE token_hash = calendence.token_hash($1)", tok);
	v = fx_value("SELECT floor(extract(epoch FROM created_at))::bigint "
	    "FROM calendence.sessions WHERE token_hash = calendence.token_hash($1)", tok,
	    NULL);
	cr_expect(v != NULL && atoll(v) >= (long long)before - 1 &&
	    atoll(v) <= (long long)after + 1, "created_at %s not in [%lld, %lld]", nz(v),
	    (long long)before, (long long)after);
	free(v);

	/* only the hash is stored: no row of any key table holds the token */
	expect_db("0", "SELECT count(*) FROM calendence.sessions s "
	    "WHERE strpos(s::text, $1) > 0", tok);
	expect_db("0", "SELECT count(*) FROM calendence.api_keys k "
	    "WHERE strpos(k::text, $1) > 0", tok);

	/* the exchange is governed by the client IP's "session" window */
	cr_expect_str_eq(nz(http_header(&r, "RateLimit-Policy")), "\"session\";q=20;w=60");

	/* the session token works on the booking flow */
	cr_assert_not_null(tok);
	v = strdup(tok);
	http_resp_free(&r);
	cr_assert_eq(http_get(SERVICES_PATH, v, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.id")), s.service);
	http_resp_free(&r);
	free(v);
	free(name);
	shop_cleanup(&s);
}

Test(session, refresh_makes_a_sibling_and_keeps_the_old_token)
{
	struct shop		 s;
	struct http_resp	 r;
	char			*first, *second, *third, *id1, *id2, *id3;

	shop_init(&s, NULL);
	first = new_session(s.pub, NULL);
	id1 = session_id(first);
	cr_assert_not_null(id1);

	cr_assert_eq(http_post(SES_PATH, first, NULL, NULL, &r), 0);
	cr_assert_eq(r.status, 201, "refresh: %s", r.body);
	cr_assert(is_session_token(jstr(r.json, "session_token")), "%s", r.body);
	second = strdup(jstr(r.json, "session_token"));
	cr_expect_str_neq(second, first);
	cr_expect_str_eq(nz(jstr(r.json, "business.id")), s.biz);
	cr_expect(is_rfc3339_utc(jstr(r.json, "expires_at")), "%s", r.body);
	expect_db(nz(jstr(r.json, "expires_at")), "SELECT calendence.rfc3339(expires_at) "
	    "FROM calendence.sessions WHERE token_hash = calendence.token_hash($1)", second);
	/* a refresh counts in the chain's windows and the client IP's session window */
	cr_expect_str_eq(nz(http_header(&r, "RateLimit-Policy")),
	    "\"minute\";q=60;w=60, \"hour\";q=1000;w=3600, \"session\";q=20;w=60");
	http_resp_free(&r);

	id2 = session_id(second);
	cr_assert_not_null(id2);
	cr_expect_str_neq(id2, id1);
	expect_db(s.pub_id, "SELECT publishable_key_id FROM calendence.sessions "
	    "WHERE id = $1", id2);
	expect_db(id1, "SELECT root_session_id FROM calendence.sessions WHERE id = $1", id2);
	expect_db(s.biz, "SELECT business_id FROM calendence.sessions WHERE id = $1", id2);
	expect_db("t", "SELECT expires_at - created_at = interval '3600 seconds' "
	    "FROM calendence.sessions WHERE id = $1", id2);

	/* a refresh of the refresh stays in the same chain */
	third = new_session(second, NULL);
	id3 = session_id(third);
	expect_db(id1, "SELECT root_session_id FROM calendence.sessions WHERE id = $1",
	    nz(id3));
	expect_db(s.pub_id, "SELECT publishable_key_id FROM calendence.sessions "
	    "WHERE id = $1", nz(id3));

	/* every token of the chain still works */
	cr_expect_eq(get_status(SERVICES_PATH, first), 200);
	cr_expect_eq(get_status(SERVICES_PATH, second), 200);
	cr_expect_eq(get_status(SERVICES_PATH, third), 200);
	free(first);
	free(second);
	free(third);
	free(id1);
	free(id2);
	free(id3);
	shop_cleanup(&s);
}

Test(session, delete_ends_only_the_calling_session)
{
	struct shop		 s;
	struct http_resp	 r;
	char			*first, *sibling, *id;

	shop_init(&s, NULL);
	first = new_session(s.pub, NULL);
	sibling = new_session(first, NULL);
	id = session_id(first);

	cr_assert_eq(http_delete(SES_PATH, first, NULL, &r), 0);
	cr_expect_eq(r.status, 204, "%s", r.body);
	cr_expect_eq(r.body_len, 0);
	cr_expect_not_null(http_header(&r, "X-RateLimit-Remaining"), "%s", r.headers);
	http_resp_free(&r);
	expect_db("t", "SELECT revoked_at IS NOT NULL FROM calendence.sessions "
	    "WHERE id = $1", nz(id));

	services_401(first, "session_expired");
	exchange_401(first, "session_expired");
	cr_assert_eq(http_delete(SES_PATH, first, NULL, &r), 0);
	expect_401(&r, "session_expired");
	http_resp_free(&r);

	/* the sibling made by a refresh lives on */
	cr_expect_eq(get_status(SERVICES_PATH, sibling), 200);
	free(first);
	free(sibling);
	free(id);
	shop_cleanup(&s);
}

/* SPEC 4: who may exchange and who may end a session. */
Test(session, only_publishable_and_session_tokens_exchange)
{
	static const struct {
		const char	*method;
		const char	*kind;		/* the key's kind */
	} rows[] = {
		{ "DELETE", "publishable" },
		{ "DELETE", "business" },
		{ "DELETE", "hub" },
		{ "POST", "business" },
		{ "POST", "hub" },
	};
	struct shop		 s;
	struct http_resp	 r;
	char			*key;
	size_t			 i;

	shop_init(&s, NULL);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		key = fx_key(rows[i].kind, strcmp(rows[i].kind, "hub") == 0 ? s.hub : s.biz);
		cr_assert_eq(http_call(rows[i].method, SES_PATH, key, NULL, NULL, &r), 0);
		expect_error(&r, 403, "key_type_not_allowed", NULL, NULL);
		cr_expect_not_null(http_header(&r, "X-RateLimit-Limit"), "%s %s",
		    rows[i].method, rows[i].kind);
		http_resp_free(&r);
		free(key);
	}
	shop_cleanup(&s);
}

/* Revoking a publishable key, by the DBA function or by a plain UPDATE. */
static void
revoked_key_case(const char *sql)
{
	struct shop	 s;
	char		*a, *b;

	shop_init(&s, NULL);
	a = new_session(s.pub, NULL);
	b = new_session(a, NULL);
	cr_assert_eq(get_status(SERVICES_PATH, a), 200);
	fx_exec(sql, s.pub_id, NULL);

	exchange_401(s.pub, "api_key_revoked");
	services_401(a, "session_expired");
	services_401(b, "session_expired");
	exchange_401(b, "session_expired");
	expect_db("0", "SELECT count(*) FROM calendence.sessions "
	    "WHERE publishable_key_id = $1 AND revoked_at IS NULL", s.pub_id);
	free(a);
	free(b);
	shop_cleanup(&s);
}

Test(session, revoked_key_cannot_exchange_and_ends_its_sessions)
{
	revoked_key_case("SELECT calendence.revoke_key($1)");
}

Test(session, revoked_by_update_key_ends_its_sessions)
{
	revoked_key_case("UPDATE calendence.api_keys SET revoked_at = now() WHERE id = $1");
}

Test(session, expired_key_cannot_exchange_or_refresh_but_sessions_live_on)
{
	struct shop	 s;
	char		*a;

	shop_init(&s, NULL);
	a = new_session(s.pub, NULL);
	fx_exec("UPDATE calendence.api_keys SET expires_at = now() - interval '1 second' "
	    "WHERE id = $1", s.pub_id, NULL);

	exchange_401(s.pub, "api_key_expired");
	exchange_401(a, "api_key_expired");
	/* the session made before lives until its own expiry */
	cr_expect_eq(get_status(SERVICES_PATH, a), 200);
	expect_db("1", "SELECT count(*) FROM calendence.sessions "
	    "WHERE publishable_key_id = $1", s.pub_id);
	free(a);
	shop_cleanup(&s);
}

Test(session, session_past_its_hour_is_expired)
{
	struct shop		 s;
	struct http_resp	 r;
	char			*a, *b, *id;

	shop_init(&s, NULL);
	a = new_session(s.pub, NULL);
	b = new_session(s.pub, NULL);
	id = session_id(a);
	fx_exec("UPDATE calendence.sessions SET created_at = now() - interval '1 hour', "
	    "expires_at = now() - interval '1 second' WHERE id = $1", nz(id), NULL);

	services_401(a, "session_expired");
	exchange_401(a, "session_expired");
	cr_assert_eq(http_delete(SES_PATH, a, NULL, &r), 0);
	expect_401(&r, "session_expired");
	http_resp_free(&r);
	/* another session of the same key is untouched */
	cr_expect_eq(get_status(SERVICES_PATH, b), 200);
	free(a);
	free(b);
	free(id);
	shop_cleanup(&s);
}

/* SPEC 7: the widget calls from the business's site and must read the rate fields. */
Test(session, exchange_from_a_browser_exposes_the_rate_fields)
{
	static const char *const want[] = { "Request-Id", "Retry-After",
	    "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
	    "RateLimit", "RateLimit-Policy" };
	const char *const	 hdrs[] = { "Origin: https://shop.example", NULL };
	struct shop		 s;
	struct http_resp	 r;
	const char		*expose;
	char			 item[64];
	size_t			 i;

	shop_init(&s, NULL);
	cr_assert_eq(http_post(SES_PATH, s.pub, hdrs, NULL, &r), 0);
	cr_expect_eq(r.status, 201, "%s", r.body);
	cr_expect_str_eq(nz(http_header(&r, "Access-Control-Allow-Origin")),
	    "https://shop.example");
	expose = nz(http_header(&r, "Access-Control-Expose-Headers"));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		/* a whole list item, case-insensitively */
		int found = 0;
		const char *p = expose;

		while (*p != '\0' && !found) {
			size_t n = strcspn(p, ",");

			snprintf(item, sizeof(item), "%.*s", (int)n, p);
			found = strcasecmp(item, want[i]) == 0;
			p += n;
			while (*p == ',' || *p == ' ')
				p++;
		}
		cr_expect(found, "Access-Control-Expose-Headers lacks %s: %s", want[i],
		    expose);
	}
	http_resp_free(&r);
	shop_cleanup(&s);
}

Test(session, preflight_needs_no_key_and_does_not_count)
{
	const char *const	 hdrs[] = { "Origin: https://shop.example",
	    "Access-Control-Request-Method: POST",
	    "Access-Control-Request-Headers: authorization", NULL };
	static const char	 counted[] = "SELECT coalesce(sum(minute_count), 0) "
	    "FROM calendence.rate_windows WHERE subject IN ('x:' || $1, 'a:' || $1)";
	struct http_resp	 r;
	char			*before;
	const char		*methods;

	before = fx_value(counted, http_client_ip(), NULL);
	cr_assert_eq(http_call("OPTIONS", SES_PATH, NULL, hdrs, NULL, &r), 0);
	cr_expect_eq(r.status, 204, "%s", r.body);
	cr_expect_str_eq(nz(http_header(&r, "Access-Control-Allow-Origin")),
	    "https://shop.example");
	methods = nz(http_header(&r, "Access-Control-Allow-Methods"));
	cr_expect(strstr(methods, "POST") != NULL && strstr(methods, "DELETE") != NULL,
	    "Access-Control-Allow-Methods: %s", methods);
	cr_expect_str_eq(nz(http_header(&r, "Access-Control-Allow-Headers")),
	    "Authorization, Content-Type, Calendence-Business, Idempotency-Key");
	cr_expect_not_null(http_header(&r, "Access-Control-Max-Age"));
	cr_expect_null(http_header(&r, "X-RateLimit-Limit"), "%s", r.headers);
	cr_expect_null(http_header(&r, "RateLimit-Policy"), "%s", r.headers);
	http_resp_free(&r);
	/* nothing was counted for this client */
	expect_db(nz(before), counted, http_client_ip());
	free(before);
}

Test(session, allowed_origins_bind_the_exchange)
{
	const char *const	 good[] = { "Origin: https://shop.example", NULL };
	const char *const	 bad[] = { "Origin: https://evil.example", NULL };
	struct shop		 s;
	struct http_resp	 r;
	char			*a;

	shop_init(&s, NULL);
	fx_exec("SELECT calendence.set_allowed_origins($1, ARRAY['https://shop.example'])",
	    s.pub_id, NULL);
	cr_assert_eq(http_post(SES_PATH, s.pub, bad, NULL, &r), 0);
	expect_error(&r, 403, "origin_not_allowed", NULL, NULL);
	http_resp_free(&r);
	a = new_session(s.pub, good);
	free(a);
	/* a server (no Origin) is never refused for its origin */
	a = new_session(s.pub, NULL);
	free(a);
	shop_cleanup(&s);
}

/* SPEC 3: an exchange for an inactive business is counted, then refused. */
Test(session, inactive_business_cannot_exchange)
{
	struct shop		 s;
	struct http_resp	 r;
	char			*a;
	long long		 left;

	shop_init(&s, NULL);
	if (60 - time(NULL) % 60 < 5)	/* both exchanges in one minute window */
		sleep(6);
	a = new_session(s.pub, NULL);
	fx_exec("UPDATE calendence.businesses SET active = false WHERE id = $1", s.biz,
	    NULL);
	cr_assert_eq(http_post(SES_PATH, s.pub, NULL, NULL, &r), 0);
	expect_error(&r, 403, "business_inactive", NULL, NULL);
	/* admission comes before permission: the exchange was counted */
	left = atoll(nz(http_header(&r, "X-RateLimit-Remaining")));
	cr_expect_eq(left, 18, "X-RateLimit-Remaining: %s",
	    nz(http_header(&r, "X-RateLimit-Remaining")));
	http_resp_free(&r);
	cr_assert_eq(http_get(SERVICES_PATH, a, NULL, &r), 0);
	expect_error(&r, 403, "business_inactive", NULL, NULL);
	http_resp_free(&r);
	free(a);
	shop_cleanup(&s);
}
