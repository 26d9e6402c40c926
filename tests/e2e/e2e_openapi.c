/*
 * e2e_openapi.c: GET /api/v1/openapi.json answers docs/openapi.json to
 * anyone, without a key and without counting (issue 14, item 1). That the
 * document holds every route is tests/unit/test_openapi.c; that every answer
 * of these suites fits it is tests/openapi/validate.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"
#include "api.h"

#define DOC_PATH	"/api/v1/openapi.json"

/* docs/openapi.json of the checkout (the tests run from its top); *len its size. */
static char *
doc_file(size_t *len)
{
	FILE	*f = fopen("docs/openapi.json", "rb");
	char	*p;
	long	 n;

	cr_assert_not_null(f, "docs/openapi.json: run from the top of the checkout");
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	p = malloc((size_t)n + 1);
	cr_assert_not_null(p);
	cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return p;
}

/* The document's answer: 200, JSON, the file's bytes, no rate window's fields. */
static void
expect_document(const struct http_resp *r, int head, const char *what)
{
	size_t	 len;
	char	*want = doc_file(&len);
	char	 cl[32];

	expect_common(r, what);
	cr_expect_eq(r->status, 200, "%s: %d %.300s", what, r->status, r->body);
	cr_expect(matches(http_header(r, "Content-Type"), "^application/json"),
	    "%s: Content-Type %s", what, nz(http_header(r, "Content-Type")));
	snprintf(cl, sizeof(cl), "%zu", len);
	cr_expect_str_eq(nz(http_header(r, "Content-Length")), cl, "%s", what);
	cr_expect_null(http_header(r, "X-RateLimit-Limit"), "%s: counted", what);
	cr_expect_null(http_header(r, "RateLimit-Policy"), "%s: counted", what);
	cr_expect_null(http_header(r, "WWW-Authenticate"), "%s", what);
	if (head)
		cr_expect_eq(r->body_len, 0, "%s: HEAD with a body", what);
	else {
		cr_expect_eq(r->body_len, len, "%s: %zu bytes, the file %zu", what,
		    r->body_len, len);
		cr_expect(r->body_len == len && memcmp(r->body, want, len) == 0,
		    "%s: not docs/openapi.json byte for byte", what);
		cr_expect_str_eq(nz(jstr(r->json, "openapi")), "3.1.0", "%s", what);
	}
	free(want);
}

Test(openapi, served_without_a_key)
{
	struct http_resp	 r;

	cr_assert_eq(http_get(DOC_PATH, NULL, NULL, &r), 0);
	expect_document(&r, 0, "GET without a key");
	http_resp_free(&r);
	cr_assert_eq(http_call("HEAD", DOC_PATH, NULL, NULL, NULL, &r), 0);
	expect_document(&r, 1, "HEAD");
	http_resp_free(&r);
}

/* A key, good or bad, changes nothing: it is not looked at, nor counted. */
Test(openapi, keys_are_not_looked_at)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*key = fx_key("business", biz), *bad = strdup(key);
	struct http_resp	 r;
	const char		*rem;
	char			 reset[32];
	int			 i, before;

	bad[20] = bad[20] == 'a' ? 'b' : 'a';	/* the checksum fails */
	cr_assert_eq(http_get(DOC_PATH, bad, NULL, &r), 0);
	expect_document(&r, 0, "GET with a bad key");
	http_resp_free(&r);
	cr_assert_eq(http_get("/api/v1/services", key, NULL, &r), 0);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_not_null(rem = http_header(&r, "X-RateLimit-Remaining"));
	before = atoi(rem);
	snprintf(reset, sizeof(reset), "%s", nz(http_header(&r, "X-RateLimit-Reset")));
	http_resp_free(&r);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(http_get(DOC_PATH, key, NULL, &r), 0);
		expect_document(&r, 0, "GET with a good key");
		http_resp_free(&r);
	}
	/* the next counted request uses one more: the three were not counted */
	cr_assert_eq(http_get("/api/v1/services", key, NULL, &r), 0);
	cr_assert_not_null(rem = http_header(&r, "X-RateLimit-Remaining"));
	/* (unless the window turned meanwhile) */
	if (strcmp(reset, nz(http_header(&r, "X-RateLimit-Reset"))) == 0)
		cr_expect_eq(atoi(rem), before - 1, "remaining %s after %d", rem, before);
	http_resp_free(&r);
	free(bad);
	free(key);
	free(biz);
	free(hub);
}
