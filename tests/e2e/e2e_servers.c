/* e2e_servers.c: the smoke suite that tests/servers.sh runs behind every front end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>
#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"
#include "api.h"

/*
 * Each front end (lighttpd spawning the workers or in front of our pool,
 * Apache with mod_fcgid or mod_proxy_fcgi, nginx, and the pool's database
 * behind PgBouncer) must give the same answers: these are the things a web
 * server's configuration can break (the Authorization header, REQUEST_URI,
 * X-Forwarded-For, bodies, methods, statuses and headers of our own).
 */

#define ORIGIN		"https://widget.example"
#define BIG_BODY	(100 * 1024)	/* over the default body_limit of 64 KiB */

/*
 * "X-Forwarded-For: <a new address>" into hdr[len]: a random /64 of
 * 2001:db8::/32, so that the failed-credentials window of the request is
 * its own (no other test, and no earlier run in the same minute, used it).
 */
static void
fresh_client(char *hdr, size_t len)
{
	char	 addr[64];

	fresh_address(addr, sizeof(addr));
	snprintf(hdr, len, "X-Forwarded-For: %s", addr);
}

/* True when the answer is JSON as the application writes it. */
static int
is_json(const struct http_resp *r)
{
	const char	*ct = http_header(r, "Content-Type");

	return r->json != NULL && ct != NULL &&
	    strncmp(ct, "application/json", 16) == 0;
}

/* The rate headers of a counted request, both forms. */
static void
expect_rate_headers(const struct http_resp *r, const char *what)
{
	static const char *const names[] = { "X-RateLimit-Limit",
	    "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit",
	    "RateLimit-Policy" };
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_expect_eq(http_header_count(r, names[i]), 1, "%s: %d %s fields",
		    what, http_header_count(r, names[i]), names[i]);
}

/* A business of a new hub on 'plan' (NULL: pro), with one active service. */
struct biz {
	char	*hub;
	char	*business;
	char	*service;
};

static void
biz_init(struct biz *b, const char *plan)
{
	b->hub = fx_hub("pro");
	if (plan != NULL)
		fx_exec("UPDATE calendence.hubs SET plan = $1 WHERE id = $2", plan,
		    b->hub, NULL);
	b->business = fx_business(b->hub, NULL);
	b->service = fx_service(b->business, "Express Wash", 1);
}

static void
biz_cleanup(struct biz *b)
{
	free(b->service);
	free(b->business);
	free(b->hub);
}

Test(servers, missing_key_is_401_with_www_authenticate)
{
	struct http_resp	 r;
	char			 xff[96];
	const char		*hdrs[] = { xff, NULL };

	fresh_client(xff, sizeof(xff));
	cr_assert_eq(http_get("/api/v1/services", NULL, hdrs, &r), 0);
	expect_error(&r, 401, "missing_api_key", NULL, "no key");
	cr_expect_eq(http_header_count(&r, "WWW-Authenticate"), 1);
	cr_expect_str_eq(nz(http_header(&r, "WWW-Authenticate")),
	    "Bearer realm=\"calendence\"");
	expect_rate_headers(&r, "401");
	http_resp_free(&r);
}

Test(servers, business_key_lists_services_with_rate_headers)
{
	struct biz		 b;
	struct http_resp	 r;
	char			*key;

	biz_init(&b, NULL);
	key = fx_key("business", b.business);
	cr_assert_eq(http_get("/api/v1/services?per_page=5", key, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect(is_json(&r), "%s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.name")), "Express Wash", "%s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.id")), b.service);
	cr_expect_eq(jint(r.json, "meta.total"), 1, "%s", r.body);
	cr_expect_eq(jint(r.json, "meta.per_page"), 5, "the query string was lost: %s",
	    r.body);
	expect_rate_headers(&r, "200");
	cr_expect_str_eq(nz(http_header(&r, "X-RateLimit-Limit")), "60");
	cr_expect_str_eq(nz(http_header(&r, "X-RateLimit-Remaining")), "59");
	cr_expect(is_request_id(http_header(&r, "Request-Id")), "Request-Id %s",
	    nz(http_header(&r, "Request-Id")));
	cr_expect_str_eq(nz(http_header(&r, "Cache-Control")), "no-store");
	http_resp_free(&r);
	free(key);
	biz_cleanup(&b);
}

Test(servers, bad_token_is_401_invalid_api_key)
{
	struct biz		 b;
	struct http_resp	 r;
	char			*key, xff[96];
	const char		*hdrs[] = { xff, NULL };

	biz_init(&b, NULL);
	key = fx_key("business", b.business);
	key[12] = key[12] == 'a' ? 'b' : 'a';	/* the checksum no longer fits */
	fresh_client(xff, sizeof(xff));
	cr_assert_eq(http_get("/api/v1/services", key, hdrs, &r), 0);
	expect_error(&r, 401, "invalid_api_key", NULL, "bad token");
	cr_expect_str_eq(nz(http_header(&r, "WWW-Authenticate")),
	    "Bearer realm=\"calendence\", error=\"invalid_token\"");
	http_resp_free(&r);
	free(key);
	biz_cleanup(&b);
}

Test(servers, exhausted_window_is_429_with_retry_after)
{
	struct biz		 b;
	struct http_resp	 r;
	char			*plan = fx_plan(2, 100, 10, 1), *key;
	const char		*ra;
	int			 i, ok = 0;

	biz_init(&b, plan);
	key = fx_key("business", b.business);
	/* two a minute: a third request is refused, a fifth even when a
	 * minute boundary falls between them */
	for (i = 0; i < 5; i++) {
		cr_assert_eq(http_get("/api/v1/services", key, NULL, &r), 0);
		if (r.status == 429)
			break;
		cr_expect_eq(r.status, 200, "request %d: %s", i + 1, r.body);
		cr_expect_str_eq(nz(http_header(&r, "X-RateLimit-Limit")), "2");
		ok++;
		http_resp_free(&r);
	}
	cr_assert_eq(r.status, 429, "no 429 after %d requests", ok);
	cr_expect(ok >= 2 && ok <= 4, "%d requests admitted", ok);
	expect_error(&r, 429, "rate_limited", NULL, "429");
	ra = http_header(&r, "Retry-After");
	cr_expect(ra != NULL && atoi(ra) >= 1 && atoi(ra) <= 60, "Retry-After %s", nz(ra));
	cr_expect_str_eq(nz(http_header(&r, "X-RateLimit-Remaining")), "0");
	expect_rate_headers(&r, "429");
	http_resp_free(&r);
	free(key);
	free(plan);
	biz_cleanup(&b);
}

Test(servers, session_exchange_then_browse)
{
	struct biz		 b;
	struct http_resp	 r;
	char			*pub, *ses;

	biz_init(&b, NULL);
	pub = fx_key("publishable", b.business);
	/* no body: http_post sends Content-Length: 0 */
	cr_assert_eq(http_post("/api/v1/session", pub, NULL, NULL, &r), 0);
	cr_assert_eq(r.status, 201, "%s", r.body);
	cr_assert(is_json(&r), "%s", r.body);
	cr_assert_not_null(jstr(r.json, "session_token"), "%s", r.body);
	cr_expect(strncmp(jstr(r.json, "session_token"), "cal_ses_", 8) == 0);
	ses = strdup(jstr(r.json, "session_token"));
	cr_assert_not_null(ses);
	http_resp_free(&r);

	cr_assert_eq(http_get("/api/v1/services", ses, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.name")), "Express Wash", "%s", r.body);
	http_resp_free(&r);
	sodium_memzero(ses, strlen(ses));
	free(ses);
	free(pub);
	biz_cleanup(&b);
}

Test(servers, big_body_is_our_json_413)
{
	struct biz		 b;
	struct http_resp	 r;
	char			*pub, *body;

	biz_init(&b, NULL);
	pub = fx_key("publishable", b.business);
	body = malloc(BIG_BODY + 1);
	cr_assert_not_null(body);
	memset(body, 'x', BIG_BODY);
	memcpy(body, "{\"pad\":\"", 8);
	memcpy(body + BIG_BODY - 2, "\"}", 2);
	body[BIG_BODY] = '\0';
	cr_assert_eq(http_post("/api/v1/session", pub, NULL, body, &r), 0);
	expect_error(&r, 413, "payload_too_large", NULL,
	    "100 KiB body");
	http_resp_free(&r);
	free(body);
	free(pub);
	biz_cleanup(&b);
}

Test(servers, unknown_path_is_json_404)
{
	struct http_resp	 r;

	cr_assert_eq(http_get("/api/v1/nope", NULL, NULL, &r), 0);
	expect_error(&r, 404, "not_found", NULL, "/api/v1/nope");
	http_resp_free(&r);
}

Test(servers, wrong_method_is_405_with_allow)
{
	struct http_resp	 r;

	cr_assert_eq(http_delete("/api/v1/services", NULL, NULL, &r), 0);
	expect_error(&r, 405, "method_not_allowed", NULL,
	    "DELETE /services");
	cr_expect_str_eq(nz(http_header(&r, "Allow")), "GET, HEAD, OPTIONS");
	http_resp_free(&r);
}

Test(servers, head_is_headers_without_body)
{
	struct biz		 b;
	struct http_resp	 r;
	char			*key;

	biz_init(&b, NULL);
	key = fx_key("business", b.business);
	cr_assert_eq(http_call("HEAD", "/api/v1/services", key, NULL, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%s%s", r.headers, r.body);
	cr_expect_eq(r.body_len, 0, "HEAD answered a body: %s", r.body);
	cr_expect(is_request_id(http_header(&r, "Request-Id")));
	expect_rate_headers(&r, "HEAD");
	http_resp_free(&r);
	free(key);
	biz_cleanup(&b);
}

Test(servers, healthz_is_ok)
{
	struct http_resp	 r;

	cr_assert_eq(http_get("/healthz", NULL, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect(is_json(&r), "%s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "status")), "ok", "%s", r.body);
	http_resp_free(&r);
}

Test(servers, cors_preflight_is_204)
{
	static const char *const hdrs[] = { "Origin: " ORIGIN,
	    "Access-Control-Request-Method: GET",
	    "Access-Control-Request-Headers: authorization", NULL };
	struct http_resp	 r;
	const char		*methods;

	cr_assert_eq(http_request("OPTIONS", "/api/v1/services", hdrs, NULL, 0, &r), 0);
	cr_expect_eq(r.status, 204, "%s%s", r.headers, r.body);
	cr_expect_str_eq(nz(http_header(&r, "Access-Control-Allow-Origin")), ORIGIN);
	methods = http_header(&r, "Access-Control-Allow-Methods");
	cr_expect(methods != NULL && strstr(methods, "GET") != NULL, "%s", nz(methods));
	cr_expect_not_null(http_header(&r, "Access-Control-Allow-Headers"));
	cr_expect_eq(r.body_len, 0, "%s", r.body);
	http_resp_free(&r);
}

/*
 * The client address reaches the application: two requests from two new
 * addresses (in X-Forwarded-For, which the server passes on and the test
 * configuration believes from 127.0.0.1) each start a fresh failed-
 * credentials window; were the header lost, both would count for 127.0.0.1.
 */
Test(servers, forwarded_client_ip_reaches_the_app)
{
	struct http_resp	 r;
	char			 xff[96];
	const char		*hdrs[] = { xff, NULL };
	int			 i;

	for (i = 0; i < 2; i++) {
		fresh_client(xff, sizeof(xff));
		cr_assert_eq(http_request("GET", "/api/v1/services", hdrs, NULL, 0, &r), 0);
		cr_expect_eq(r.status, 401, "%s", r.body);
		cr_expect(http_header(&r, "X-RateLimit-Limit") != NULL &&
		    http_header(&r, "X-RateLimit-Remaining") != NULL &&
		    atoi(http_header(&r, "X-RateLimit-Remaining")) + 1 ==
		    atoi(http_header(&r, "X-RateLimit-Limit")),
		    "%s: not a fresh window (%s of %s left)", xff,
		    nz(http_header(&r, "X-RateLimit-Remaining")),
		    nz(http_header(&r, "X-RateLimit-Limit")));
		http_resp_free(&r);
	}
}

/* True when a Vary field of the answer names 'name' (case-insensitively). */
static int
varies_on(const struct http_resp *r, const char *name)
{
	size_t	 i, n = strlen(name);

	for (i = 0; i < r->nfields; i++) {
		const char *v = r->fields[i].value;

		if (strcasecmp(r->fields[i].name, "Vary") != 0)
			continue;
		for (; *v != '\0'; v++)
			if (strncasecmp(v, name, n) == 0)
				return 1;
	}
	return 0;
}

/*
 * The len bytes at gz through gzip(1) -d: the decompressed bytes (malloc'd,
 * NUL-terminated, length in *out_len), or NULL when they are not gzip.
 */
static char *
gunzip(const char *gz, size_t len, size_t *out_len)
{
	char	 path[] = "/tmp/e2e-gzip-XXXXXX", cmd[64], *out = NULL;
	size_t	 n = 0, cap = 0, got;
	FILE	*p;
	int	 fd, ok;

	cr_assert((fd = mkstemp(path)) != -1);
	ok = write(fd, gz, len) == (ssize_t)len;
	close(fd);
	cr_assert(ok, "writing %s", path);
	snprintf(cmd, sizeof(cmd), "gzip -dc <%s 2>/dev/null", path);
	cr_assert_not_null(p = popen(cmd, "r"));
	do {
		if (n + 4096 + 1 > cap)
			out = http_xrealloc(out, cap = 2 * cap + 4096 + 1);
		got = fread(out + n, 1, 4096, p);
		n += got;
	} while (got > 0);
	ok = pclose(p) == 0;
	unlink(path);
	out[n] = '\0';
	*out_len = n;
	if (!ok) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * The front end compresses our JSON for a client that asks (Accept-Encoding:
 * gzip): Content-Encoding: gzip, Vary: Accept-Encoding, a body much smaller
 * than the same answer uncompressed that gunzips to exactly it. A client that
 * does not ask gets it as it is (conf/: mod_deflate, nginx gzip).
 */
Test(servers, json_is_gzipped_when_asked)
{
	static const char *const gz[] = { "Accept-Encoding: gzip", NULL };
	struct biz		 b;
	struct http_resp	 plain, r;
	char			*key, name[32], *body;
	size_t			 len;
	int			 i;

	biz_init(&b, NULL);
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "Service number %02d", i);
		free(fx_service(b.business, name, 1));
	}
	key = fx_key("business", b.business);
	cr_assert_eq(http_get("/api/v1/services?per_page=50", key, NULL, &plain), 0);
	cr_assert_eq(plain.status, 200, "%s", plain.body);
	cr_expect_null(http_header(&plain, "Content-Encoding"), "not asked: %s",
	    nz(http_header(&plain, "Content-Encoding")));
	cr_assert(is_json(&plain), "%.300s", plain.body);
	cr_expect_eq(jint(plain.json, "meta.total"), 41, "%.300s", plain.body);
	cr_expect(plain.body_len > 8000, "%zu bytes", plain.body_len);

	cr_assert_eq(http_get("/api/v1/services?per_page=50", key, gz, &r), 0);
	cr_expect_eq(r.status, 200, "%s", r.headers);
	cr_expect_str_eq(nz(http_header(&r, "Content-Encoding")), "gzip", "%s", r.headers);
	cr_expect(varies_on(&r, "Accept-Encoding"), "no Vary: Accept-Encoding: %s",
	    r.headers);
	cr_expect(r.body_len * 4 < plain.body_len, "%zu bytes gzipped, %zu plain",
	    r.body_len, plain.body_len);
	body = gunzip(r.body, r.body_len, &len);
	cr_assert_not_null(body, "not gzip: %s", r.headers);
	cr_expect_eq(len, plain.body_len, "gunzipped %zu bytes, plain %zu", len,
	    plain.body_len);
	cr_expect(len == plain.body_len && memcmp(body, plain.body, len) == 0,
	    "gunzipped: %.300s", body);
	cr_expect(is_request_id(http_header(&r, "Request-Id")), "%s", r.headers);
	free(body);
	http_resp_free(&r);
	http_resp_free(&plain);
	free(key);
	biz_cleanup(&b);
}
