/* e2e_http.c: SPEC 7 end to end: request ids, 404/405, HEAD, bodies, CORS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"
#include "api.h"

#define BODY_LIMIT	(64 * 1024)	/* the default cap of SPEC 7 */
#define ALLOW_HEADERS	"Authorization, Content-Type, Calendence-Business, Idempotency-Key"

/* True when the comma-separated list has 'item' (case-insensitive, blanks trimmed). */
static int
list_has(const char *list, const char *item)
{
	size_t	 n = strlen(item), len;

	while (list != NULL && *list != '\0') {
		list += strspn(list, " \t,");
		len = strcspn(list, ",");
		while (len > 0 && (list[len - 1] == ' ' || list[len - 1] == '\t'))
			len--;
		if (len == n && strncasecmp(list, item, n) == 0)
			return 1;
		list += strcspn(list, ",");
	}
	return 0;
}

/* The number of items of a comma-separated list. */
static int
list_len(const char *list)
{
	int	 n = 0;

	while (list != NULL && *list != '\0') {
		list += strspn(list, " \t,");
		if (*list == '\0')
			break;
		n++;
		list += strcspn(list, ",");
	}
	return n;
}

/* A JSON object body of exactly 'len' bytes: {"pad":"xxx..."}; the caller frees it. */
static char *
json_of_size(size_t len)
{
	char	*s = malloc(len + 1);

	cr_assert(s != NULL && len >= 10);
	memcpy(s, "{\"pad\":\"", 8);
	memset(s + 8, 'x', len - 10);
	memcpy(s + len - 2, "\"}", 3);
	return s;
}

/* --- Request-Id --- */

Test(http, request_id_on_every_answer)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*bk = fx_key("business", biz), *pub = fx_key("publishable", biz);
	char			*ses = new_session(pub, NULL), *svc = fx_service(biz, NULL, 1);
	char			 ids[16][32], path[128];
	const char		*origin[] = { "Origin: https://shop.example", NULL };
	struct http_resp	 r;
	int			 n = 0, i, j;

#define ONE(call, what) do {						\
	cr_assert_eq(call, 0, "%s", what);				\
	expect_common(&r, what);					\
	snprintf(ids[n++], sizeof(ids[0]), "%s", nz(http_header(&r, "Request-Id"))); \
	http_resp_free(&r);						\
} while (0)
	snprintf(path, sizeof(path), "/api/v1/services/%s", svc);
	ONE(http_get("/api/v1/services", bk, NULL, &r), "200 list");
	ONE(http_get(path, bk, NULL, &r), "200 object");
	ONE(http_post("/api/v1/session", pub, NULL, NULL, &r), "201");
	ONE(http_delete("/api/v1/session", ses, NULL, &r), "204");
	ONE(http_call("OPTIONS", "/api/v1/services", NULL, origin, NULL, &r), "204 preflight");
	ONE(http_call("HEAD", "/api/v1/services", bk, NULL, NULL, &r), "HEAD");
	ONE(http_get("/api/v1/services", NULL, NULL, &r), "401");
	ONE(http_get("/api/v1/services", pub, NULL, &r), "403");
	ONE(http_get("/api/v1/nope", NULL, NULL, &r), "404");
	ONE(http_get("/api/v1/services/nope", bk, NULL, &r), "404 object");
	ONE(http_delete("/api/v1/services", NULL, NULL, &r), "405");
	ONE(http_get("/api/v1/services?page=0", bk, NULL, &r), "422");
	ONE(http_post("/api/v1/session", pub, NULL, "{", &r), "400");
#undef ONE
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			cr_expect_str_neq(ids[i], ids[j], "answers %d and %d share an id", i, j);
	free_all(svc, ses, pub, bk, biz, hub, NULL);
}

/* --- 404 and 405 --- */

Test(http, unknown_paths_are_json_404)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*bk = fx_key("business", biz);
	struct http_resp	 r;
	const char		*paths[] = {
		"/api/v1/nope", "/api/v1", "/api/v1/", "/api/v1/services/x/y",
		"/api/v1/businesses/x/y", "/api/v1/session/x", "/api/v1/servicesx",
		"/api/v1/nope/", "/api/v1/nope?page=1", NULL,
	};

	for (int i = 0; paths[i] != NULL; i++) {
		cr_assert_eq(http_get(paths[i], NULL, NULL, &r), 0);
		expect_error(&r, 404, "not_found", NULL, paths[i]);
		cr_expect_null(http_header(&r, "WWW-Authenticate"), "%s", paths[i]);
		http_resp_free(&r);
		cr_assert_eq(http_get(paths[i], bk, NULL, &r), 0);
		expect_error(&r, 404, "not_found", NULL, paths[i]);
		http_resp_free(&r);
	}
	free_all(bk, biz, hub, NULL);
}

Test(http, wrong_method_is_405_with_allow)
{
	const struct {
		const char	*method;
		const char	*path;
		const char	*allow[4];
	} rows[] = {
		{ "DELETE", "/api/v1/services", { "GET", "HEAD", "OPTIONS" } },
		{ "POST", "/api/v1/services", { "GET", "HEAD", "OPTIONS" } },
		{ "PUT", "/api/v1/services/0b8e7c9a-5d0b-4f1e-9a55-3c0f2f7f1a10",
		    { "GET", "HEAD", "OPTIONS" } },
		{ "GET", "/api/v1/session", { "POST", "DELETE", "OPTIONS" } },
		{ "PUT", "/api/v1/session", { "POST", "DELETE", "OPTIONS" } },
		{ "PATCH", "/api/v1/businesses", { "GET", "HEAD", "OPTIONS" } },
		{ "DELETE", "/api/v1/businesses/0b8e7c9a-5d0b-4f1e-9a55-3c0f2f7f1a10",
		    { "GET", "HEAD", "OPTIONS" } },
		{ "POST", "/api/v1/services/", { "GET", "HEAD", "OPTIONS" } },
	};
	char			 what[128];
	struct http_resp	 r;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char	*allow;
		int		 n = 0;

		snprintf(what, sizeof(what), "%s %s", rows[i].method, rows[i].path);
		cr_assert_eq(http_call(rows[i].method, rows[i].path, NULL, NULL, NULL, &r), 0);
		expect_error(&r, 405, "method_not_allowed", NULL, what);
		cr_expect_eq(http_header_count(&r, "Allow"), 1, "%s: Allow fields", what);
		allow = http_header(&r, "Allow");
		for (; rows[i].allow[n] != NULL; n++)
			cr_expect(list_has(allow, rows[i].allow[n]), "%s: Allow: %s lacks %s",
			    what, nz(allow), rows[i].allow[n]);
		cr_expect_eq(list_len(allow), n, "%s: Allow: %s", what, nz(allow));
		http_resp_free(&r);
	}
	/* HEAD is GET: where there is no GET, HEAD is not allowed either */
	cr_assert_eq(http_call("HEAD", "/api/v1/session", NULL, NULL, NULL, &r), 0);
	cr_expect_eq(r.status, 405, "HEAD /api/v1/session: %d", r.status);
	cr_expect_eq(r.body_len, 0, "HEAD with a body");
	cr_expect(list_has(http_header(&r, "Allow"), "POST"));
	http_resp_free(&r);
}

/* --- HEAD --- */

/* GET and HEAD of path: the same status and header fields, HEAD without a body. */
static void
expect_head_like_get(const char *path, const char *token)
{
	struct http_resp	 g, h;
	const char		*same[] = { "Content-Type", "Content-Length", "Allow",
				    "X-RateLimit-Limit", "WWW-Authenticate", NULL };
	char			 len[32];

	cr_assert_eq(http_get(path, token, NULL, &g), 0);
	cr_assert_eq(http_call("HEAD", path, token, NULL, NULL, &h), 0);
	expect_common(&g, path);
	cr_expect_eq(h.status, g.status, "HEAD %s: %d, GET %d", path, h.status, g.status);
	cr_expect_eq(h.body_len, 0, "HEAD %s has a body: %s", path, h.body);
	cr_expect_eq(h.nfields, g.nfields, "HEAD %s: %zu fields, GET %zu:\n%s\n%s", path,
	    h.nfields, g.nfields, h.headers, g.headers);
	for (size_t i = 0; i < g.nfields; i++)
		cr_expect_eq(http_header_count(&h, g.fields[i].name),
		    http_header_count(&g, g.fields[i].name), "HEAD %s: %s", path,
		    g.fields[i].name);
	for (int i = 0; same[i] != NULL; i++)
		cr_expect_str_eq(nz(http_header(&h, same[i])), nz(http_header(&g, same[i])),
		    "HEAD %s: %s", path, same[i]);
	snprintf(len, sizeof(len), "%zu", g.body_len);
	cr_expect_str_eq(nz(http_header(&g, "Content-Length")), len, "GET %s", path);
	cr_expect(matches(http_header(&h, "Request-Id"), "^req_[0-9A-Za-z]{16}$"));
	http_resp_free(&h);
	http_resp_free(&g);
}

Test(http, head_is_get_without_body)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*bk = fx_key("business", biz), *svc = fx_service(biz, NULL, 1);
	char			 path[128];

	free(fx_service(biz, NULL, 1));
	expect_head_like_get("/api/v1/services", bk);
	snprintf(path, sizeof(path), "/api/v1/services/%s", svc);
	expect_head_like_get(path, bk);
	expect_head_like_get("/api/v1/businesses", bk);
	snprintf(path, sizeof(path), "/api/v1/businesses/%s", biz);
	expect_head_like_get(path, bk);
	expect_head_like_get("/api/v1/services/", bk);
	expect_head_like_get("/api/v1/nope", bk);
	expect_head_like_get("/api/v1/services", NULL);
	free_all(svc, bk, biz, hub, NULL);
}

/* --- a trailing slash --- */

Test(http, trailing_slash_is_tolerated)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*bk = fx_key("business", biz), *svc = fx_service(biz, "Slash", 1);
	char			 path[128];
	struct http_resp	 r;

	cr_assert_eq(http_get("/api/v1/services/", bk, NULL, &r), 0);
	expect_common(&r, "/api/v1/services/");
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.name")), "Slash");
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/services/%s/", svc);
	cr_assert_eq(http_get(path, bk, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%s: %s", path, r.body);
	cr_expect_str_eq(nz(jstr(r.json, "id")), svc);
	http_resp_free(&r);
	cr_assert_eq(http_get("/api/v1/businesses/?page=1", bk, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.id")), biz);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/businesses/%s/", biz);
	cr_assert_eq(http_get(path, bk, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%s: %s", path, r.body);
	http_resp_free(&r);
	free_all(svc, bk, biz, hub, NULL);
}

/* --- request bodies (POST /api/v1/session) --- */

Test(http, body_over_the_cap_is_413)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*pub = fx_key("publishable", biz);
	char			*at = json_of_size(BODY_LIMIT), *over = json_of_size(BODY_LIMIT + 1);
	char			*big = json_of_size(100 * 1024);
	const char		*text[] = { "Content-Type: text/plain", NULL };
	struct http_resp	 r;

	cr_assert_eq(http_post("/api/v1/session", pub, NULL, over, &r), 0);
	expect_error(&r, 413, "payload_too_large", NULL, "64 KiB + 1");
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/session", pub, NULL, big, &r), 0);
	expect_error(&r, 413, "payload_too_large", NULL, "100 KiB");
	http_resp_free(&r);
	/* 413 comes before 415 */
	cr_assert_eq(http_post("/api/v1/session", pub, text, big, &r), 0);
	expect_error(&r, 413, "payload_too_large", NULL, "100 KiB of text/plain");
	http_resp_free(&r);
	/* exactly at the cap is fine */
	cr_assert_eq(http_post("/api/v1/session", pub, NULL, at, &r), 0);
	expect_common(&r, "64 KiB");
	cr_expect_eq(r.status, 201, "exactly 64 KiB: %d %s", r.status, r.body);
	http_resp_free(&r);
	free_all(big, over, at, pub, biz, hub, NULL);
}

Test(http, body_of_another_type_is_415)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*pub = fx_key("publishable", biz), auth[128];
	const char		*text[] = { "Content-Type: text/plain", NULL };
	const char		*form[] = { "Content-Type: application/x-www-form-urlencoded",
				    NULL };
	const char		*jsonx[] = { "Content-Type: application/jsonx", NULL };
	const char		*charset[] = { "Content-Type: application/json; charset=utf-8",
				    NULL };
	const char		*upper[] = { "Content-Type: Application/JSON", NULL };
	const char		*untyped[] = { auth, NULL };
	struct http_resp	 r;

	cr_assert_eq(http_post("/api/v1/session", pub, text, "{}", &r), 0);
	expect_error(&r, 415, "unsupported_media_type", NULL, "text/plain");
	http_resp_free(&r);
	/* 415 comes before 400 invalid_json */
	cr_assert_eq(http_post("/api/v1/session", pub, text, "{", &r), 0);
	expect_error(&r, 415, "unsupported_media_type", NULL, "text/plain, not JSON either");
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/session", pub, form, "a=b", &r), 0);
	expect_error(&r, 415, "unsupported_media_type", NULL, "a form");
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/session", pub, jsonx, "{}", &r), 0);
	expect_error(&r, 415, "unsupported_media_type", NULL, "application/jsonx");
	http_resp_free(&r);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", pub);
	cr_assert_eq(http_request("POST", "/api/v1/session", untyped, "{}", 2, &r), 0);
	expect_error(&r, 415, "unsupported_media_type", NULL, "a body without Content-Type");
	http_resp_free(&r);
	/* JSON, with parameters or in another case, is JSON */
	cr_assert_eq(http_post("/api/v1/session", pub, charset, "{}", &r), 0);
	cr_expect_eq(r.status, 201, "charset=utf-8: %s", r.body);
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/session", pub, upper, "{}", &r), 0);
	cr_expect_eq(r.status, 201, "Application/JSON: %s", r.body);
	http_resp_free(&r);
	free_all(pub, biz, hub, NULL);
}

Test(http, body_that_is_not_a_json_object_is_400)
{
	/* more rows than a stock plan's exchanges per IP and minute */
	char			*plan = fx_plan(600, 10000, 100, 1);
	char			*hub = fx_hub(plan), *biz = fx_business(hub, NULL);
	char			*pub = fx_key("publishable", biz);
	struct http_resp	 r;
	const struct {
		const char	*what;
		const char	*body;
	} rows[] = {
		{ "unterminated object", "{" },
		{ "missing value", "{\"a\":}" },
		{ "trailing garbage", "{} x" },
		{ "trailing comma", "{\"a\":1,}" },
		{ "an array", "[]" },
		{ "an array of objects", "[{}]" },
		{ "a string", "\"session\"" },
		{ "a number", "1" },
		{ "null", "null" },
		{ "invalid UTF-8 in a string", "{\"a\":\"\xff\"}" },
		{ "truncated UTF-8 sequence", "{\"a\":\"\xc3\"}" },
		{ "overlong UTF-8 encoding", "{\"a\":\"\xc0\xaf\"}" },
		{ "overlong 3-byte encoding", "{\"a\":\"\xe0\x80\xaf\"}" },
		{ "UTF-8 encoded surrogate", "{\"a\":\"\xed\xa0\x80\"}" },
		{ "code point above U+10FFFF", "{\"a\":\"\xf4\x90\x80\x80\"}" },
		{ "invalid UTF-8 in a key", "{\"\xfe\":1}" },
		/* json-c takes these even in strict mode; json_check() does not */
		{ "single-quoted key", "{'a':1}" },
		{ "single-quoted string", "{\"a\":'x'}" },
		{ "NaN", "{\"a\":NaN}" },
		{ "-Infinity", "{\"a\":-Infinity}" },
		{ "raw tab in a string", "{\"a\":\"x\ty\"}" },
		{ "raw newline in a string", "{\"a\":\"x\ny\"}" },
		{ "leading zero", "{\"a\":01}" },
		{ "bad escape", "{\"a\":\"\\x41\"}" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cr_assert_eq(http_post("/api/v1/session", pub, NULL, rows[i].body, &r), 0);
		expect_error(&r, 400, "invalid_json", NULL, rows[i].what);
		http_resp_free(&r);
	}
	free_all(pub, biz, hub, plan, NULL);
}

Test(http, empty_or_object_body_is_accepted)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*pub = fx_key("publishable", biz);
	struct http_resp	 r;
	const char		*bodies[] = { NULL, "", "{}", "{}\n",
				    " { \"a\" : [1, \"\xc3\xa9\", \"\xf0\x9f\x9a\x97\"] } " };

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		cr_assert_eq(http_post("/api/v1/session", pub, NULL, bodies[i], &r), 0);
		expect_common(&r, nz(bodies[i]));
		cr_expect_eq(r.status, 201, "body %s: %d %s", nz(bodies[i]), r.status, r.body);
		cr_expect_eq(strncmp(nz(jstr(r.json, "session_token")), "cal_ses_", 8), 0);
		http_resp_free(&r);
	}
	free_all(pub, biz, hub, NULL);
}

Test(http, credentials_and_permission_come_before_the_body)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*bk = fx_key("business", biz), *pub = fx_key("publishable", biz);
	char			*big = json_of_size(100 * 1024);
	char			*unknown = fx_value("SELECT calendence.new_token('publishable')",
				    NULL);
	const char		*text[] = { "Content-Type: text/plain", NULL };
	struct http_resp	 r;

	cr_assert_eq(http_post("/api/v1/session", "cal_pub_nope", NULL, big, &r), 0);
	expect_error(&r, 401, "invalid_api_key", NULL, "malformed key, 100 KiB");
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/session", unknown, NULL, big, &r), 0);
	expect_error(&r, 401, "invalid_api_key", NULL, "unknown key, 100 KiB");
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/session", NULL, NULL, big, &r), 0);
	expect_error(&r, 401, "missing_api_key", NULL, "no key, 100 KiB");
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/session", NULL, text, "{", &r), 0);
	expect_error(&r, 401, "missing_api_key", NULL, "no key, text/plain");
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/session", bk, NULL, big, &r), 0);
	expect_error(&r, 403, "key_type_not_allowed", NULL, "business key, 100 KiB");
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/session", bk, NULL, "[", &r), 0);
	expect_error(&r, 403, "key_type_not_allowed", NULL, "business key, bad JSON");
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/nope", pub, NULL, big, &r), 0);
	expect_error(&r, 404, "not_found", NULL, "unknown path, 100 KiB");
	http_resp_free(&r);
	free_all(unknown, big, pub, bk, biz, hub, NULL);
}

/* --- CORS --- */

Test(http, preflight)
{
	struct http_resp	 r;
	const struct {
		const char	*path;
		const char	*methods[3];
	} rows[] = {
		{ "/api/v1/services", { "GET", NULL } },
		{ "/api/v1/services/0b8e7c9a-5d0b-4f1e-9a55-3c0f2f7f1a10", { "GET", NULL } },
		{ "/api/v1/session", { "POST", "DELETE", NULL } },
		{ "/api/v1/bookings/0b8e7c9a-5d0b-4f1e-9a55-3c0f2f7f1a10", { "GET", "PATCH",
		    NULL } },
		{ "/api/v1/businesses/", { "GET", NULL } },
	};
	const char		*hdrs[] = { "Origin: https://shop.example",
				    "Access-Control-Request-Method: GET",
				    "Access-Control-Request-Headers: authorization, "
				    "calendence-business", NULL };
	const char		*absent[] = { "X-RateLimit-Limit", "X-RateLimit-Remaining",
				    "X-RateLimit-Reset", "RateLimit", "RateLimit-Policy",
				    "Retry-After", "WWW-Authenticate", NULL };

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char	*p = rows[i].path, *m;

		cr_assert_eq(http_call("OPTIONS", p, NULL, hdrs, NULL, &r), 0);
		expect_common(&r, p);
		cr_expect_eq(r.status, 204, "%s: %d %s", p, r.status, r.body);
		cr_expect_eq(r.body_len, 0, "%s: a body on 204", p);
		cr_expect_str_eq(nz(http_header(&r, "Access-Control-Allow-Origin")),
		    "https://shop.example", "%s", p);
		m = http_header(&r, "Access-Control-Allow-Methods");
		for (int j = 0; rows[i].methods[j] != NULL; j++)
			cr_expect(list_has(m, rows[i].methods[j]), "%s: Allow-Methods %s", p,
			    nz(m));
		cr_expect_str_eq(nz(http_header(&r, "Access-Control-Allow-Headers")),
		    ALLOW_HEADERS, "%s", p);
		cr_expect(matches(http_header(&r, "Access-Control-Max-Age"), "^[1-9][0-9]*$"),
		    "%s: Max-Age %s", p, nz(http_header(&r, "Access-Control-Max-Age")));
		for (int j = 0; absent[j] != NULL; j++)
			cr_expect_null(http_header(&r, absent[j]), "%s: %s on a preflight", p,
			    absent[j]);
		http_resp_free(&r);
	}
}

Test(http, preflight_is_not_counted)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*bk = fx_key("business", biz), auth[128];
	const char		*with_key[] = { "Origin: https://shop.example", auth, NULL };
	const char		*with_junk[] = { "Origin: https://shop.example",
				    "Authorization: Bearer cal_biz_junk", NULL };
	struct http_resp	 r;
	long			 limit;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bk);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(http_call("OPTIONS", "/api/v1/services", NULL, with_key, NULL,
		    &r), 0);
		cr_expect_eq(r.status, 204);
		http_resp_free(&r);
	}
	/* the key's first counted request still sees its full window, less one */
	cr_assert_eq(http_get("/api/v1/services", bk, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%s", r.body);
	limit = atol(nz(http_header(&r, "X-RateLimit-Limit")));
	cr_expect_eq(limit, 60, "X-RateLimit-Limit %ld", limit);
	cr_expect_eq(atol(nz(http_header(&r, "X-RateLimit-Remaining"))), limit - 1,
	    "X-RateLimit-Remaining %s after preflights",
	    nz(http_header(&r, "X-RateLimit-Remaining")));
	http_resp_free(&r);

	/* more preflights with junk credentials than the failure limit (20) allows */
	for (int i = 0; i < 25; i++) {
		cr_assert_eq(http_call("OPTIONS", "/api/v1/services", NULL, with_junk, NULL,
		    &r), 0);
		cr_expect_eq(r.status, 204, "preflight %d: %d", i, r.status);
		http_resp_free(&r);
	}
	cr_assert_eq(http_get("/api/v1/services", NULL, NULL, &r), 0);
	expect_error(&r, 401, "missing_api_key", NULL, "after 25 preflights");
	cr_expect_str_eq(nz(http_header(&r, "X-RateLimit-Limit")), "20");
	cr_expect_str_eq(nz(http_header(&r, "X-RateLimit-Remaining")), "19");
	http_resp_free(&r);
	free_all(bk, biz, hub, NULL);
}

/* The CORS fields of an answer to a request that named its Origin. */
static void
expect_cors(const struct http_resp *r, const char *origin, const char *what)
{
	const char	*expose = http_header(r, "Access-Control-Expose-Headers");
	const char	*names[] = { "Request-Id", "Idempotent-Replayed", "Retry-After",
			    "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
			    "RateLimit", "RateLimit-Policy", "WWW-Authenticate", "Allow",
			    NULL };

	cr_expect_str_eq(nz(http_header(r, "Access-Control-Allow-Origin")), origin, "%s",
	    what);
	for (int i = 0; names[i] != NULL; i++)
		cr_expect(list_has(expose, names[i]), "%s: Expose-Headers %s lacks %s", what,
		    nz(expose), names[i]);
}

Test(http, cors_fields_follow_the_origin)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*bk = fx_key("business", biz), *pub = fx_key("publishable", biz);
	const char		*shop[] = { "Origin: https://shop.example", NULL };
	const char		*local[] = { "Origin: http://localhost:3000", NULL };
	struct http_resp	 r;

	cr_assert_eq(http_get("/api/v1/services", bk, shop, &r), 0);
	cr_expect_eq(r.status, 200, "%s", r.body);
	expect_cors(&r, "https://shop.example", "200");
	http_resp_free(&r);
	cr_assert_eq(http_get("/api/v1/services", bk, local, &r), 0);
	expect_cors(&r, "http://localhost:3000", "200, another origin");
	http_resp_free(&r);
	cr_assert_eq(http_post("/api/v1/session", pub, shop, NULL, &r), 0);
	cr_expect_eq(r.status, 201, "%s", r.body);
	expect_cors(&r, "https://shop.example", "201");
	http_resp_free(&r);
	cr_assert_eq(http_get("/api/v1/services", NULL, shop, &r), 0);
	expect_error(&r, 401, "missing_api_key", NULL, "401 with Origin");
	expect_cors(&r, "https://shop.example", "401");
	http_resp_free(&r);
	cr_assert_eq(http_get("/api/v1/services", pub, shop, &r), 0);
	expect_cors(&r, "https://shop.example", "403");
	http_resp_free(&r);
	cr_assert_eq(http_get("/api/v1/nope", NULL, shop, &r), 0);
	expect_cors(&r, "https://shop.example", "404");
	http_resp_free(&r);

	/* without an Origin, no CORS fields */
	cr_assert_eq(http_get("/api/v1/services", bk, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect_null(http_header(&r, "Access-Control-Allow-Origin"));
	cr_expect_null(http_header(&r, "Access-Control-Expose-Headers"));
	http_resp_free(&r);
	cr_assert_eq(http_get("/api/v1/services", NULL, NULL, &r), 0);
	cr_expect_eq(r.status, 401);
	cr_expect_null(http_header(&r, "Access-Control-Allow-Origin"));
	http_resp_free(&r);
	free_all(pub, bk, biz, hub, NULL);
}
