/* test_page.c: page/per_page, pagination arithmetic and the list envelope (fcgi/page.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "worker.h"
#include "page.h"

Test(page, parse_table)
{
	static const struct {
		const char	*query;
		int		 rc;
		long long	 page;		/* when rc == 0 */
		int		 per_page;
		const char	*param;		/* when rc == -1 */
	} cases[] = {
		{ "", 0, 1, 15, NULL },
		{ "page=2", 0, 2, 15, NULL },
		{ "per_page=50", 0, 1, 50, NULL },
		{ "per_page=1", 0, 1, 1, NULL },
		{ "page=3&per_page=20", 0, 3, 20, NULL },
		{ "per_page=20&page=3", 0, 3, 20, NULL },
		{ "page=01", 0, 1, 15, NULL },
		{ "page=1000000000", 0, 1000000000LL, 15, NULL },
		{ "page=2&page=9", 0, 2, 15, NULL },		/* the first wins */
		{ "other=1&x=y", 0, 1, 15, NULL },
		{ "pages=0&per_pages=0", 0, 1, 15, NULL },
		{ "page=0", -1, 0, 0, "page" },
		{ "page=-1", -1, 0, 0, "page" },
		{ "page=abc", -1, 0, 0, "page" },
		{ "page=1e9", -1, 0, 0, "page" },
		{ "page=2.0", -1, 0, 0, "page" },
		{ "page=+1", -1, 0, 0, "page" },
		{ "page=%201", -1, 0, 0, "page" },
		{ "page=1%00", -1, 0, 0, "page" },
		{ "page=", -1, 0, 0, "page" },
		{ "page", -1, 0, 0, "page" },
		{ "page=1000000001", -1, 0, 0, "page" },
		{ "page=99999999999", -1, 0, 0, "page" },
		{ "page=99999999999999999999999999999999999999", -1, 0, 0, "page" },
		{ "per_page=0", -1, 0, 0, "per_page" },
		{ "per_page=51", -1, 0, 0, "per_page" },
		{ "per_page=1e9", -1, 0, 0, "per_page" },
		{ "per_page=1000000000", -1, 0, 0, "per_page" },
		{ "per_page=-5", -1, 0, 0, "per_page" },
		{ "per_page=abc", -1, 0, 0, "per_page" },
		{ "per_page=", -1, 0, 0, "per_page" },
		{ "page=2&per_page=0", -1, 0, 0, "per_page" },
		{ "page=0&per_page=0", -1, 0, 0, "page" },	/* page is checked first */
	};
	struct page	 pg;
	const char	*param;
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		param = NULL;
		memset(&pg, 0x55, sizeof(pg));
		rc = page_parse(cases[i].query, &pg, &param);
		cr_expect_eq(rc, cases[i].rc, "%s: %d", cases[i].query, rc);
		if (cases[i].rc == 0 && rc == 0) {
			cr_expect_eq(pg.page, cases[i].page, "%s", cases[i].query);
			cr_expect_eq(pg.per_page, cases[i].per_page, "%s", cases[i].query);
			cr_expect_eq(pg.total, 0, "%s", cases[i].query);
			cr_expect_null(param, "%s", cases[i].query);
		} else if (cases[i].rc == -1 && rc == -1)
			cr_expect_str_eq(param, cases[i].param, "%s", cases[i].query);
	}
}

Test(page, offset)
{
	static const struct {
		long long	 page;
		int		 per_page;
		long long	 offset;
	} cases[] = {
		{ 1, 15, 0 },
		{ 2, 15, 15 },
		{ 3, 50, 100 },
		{ 7, 1, 6 },
		{ 1000000000LL, 50, 49999999950LL },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct page pg = { cases[i].page, cases[i].per_page, 0 };

		cr_expect_eq(page_offset(&pg), cases[i].offset, "page %lld of %d",
		    cases[i].page, cases[i].per_page);
	}
}

Test(page, last)
{
	static const struct {
		long long	 total;
		int		 per_page;
		long long	 last;
	} cases[] = {
		{ 0, 15, 1 },
		{ 1, 15, 1 },
		{ 15, 15, 1 },
		{ 16, 15, 2 },
		{ 30, 15, 2 },
		{ 31, 15, 3 },
		{ 100, 50, 2 },
		{ 101, 50, 3 },
		{ 5, 1, 5 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct page pg = { 1, cases[i].per_page, cases[i].total };

		cr_expect_eq(page_last(&pg), cases[i].last, "total %lld by %d",
		    cases[i].total, cases[i].per_page);
	}
}

/* An app just big enough for page_reply(): its configuration. */
static struct worker *
app_new(const char *public_url)
{
	struct worker	*app = calloc(1, sizeof(*app));

	cr_assert_not_null(app);
	conf_defaults(&app->conf);
	strcpy(app->conf.public_url, public_url);
	return app;
}

/*
 * page_reply() for a request that came with this Host header (NULL: none)
 * and, with https, HTTPS=on: neither may show in a link.
 */
static json_object *
reply(struct worker *app, const char *host, int https, long long page, int per_page,
    long long total)
{
	struct request	 r;
	struct page	 pg = { page, per_page, total };
	json_object	*root;
	char		 hosthdr[300];
	char		*envp[] = { "REQUEST_METHOD=GET",
			    "REQUEST_URI=/api/v1/services", https ? "HTTPS=on" : "X=1",
			    hosthdr, NULL };

	snprintf(hosthdr, sizeof(hosthdr), host ? "HTTP_HOST=%s" : "X=2", host);
	req_init(&r, app);
	req_parse(&r, envp, NULL, 0);
	page_reply(&r, &pg, "/api/v1/services", "[1,2]", 5);
	cr_expect_eq(r.status, 200);
	cr_expect_eq(r.has_body, 1);
	root = json_tokener_parse(buf_str(&r.out));
	cr_assert_not_null(root, "%s", buf_str(&r.out));
	req_cleanup(&r);
	return root;
}

/* A member by path ("links.next"); NULL when it is JSON null. */
static json_object *
member(json_object *root, const char *a, const char *b)
{
	json_object	*o, *v;

	cr_assert(json_object_object_get_ex(root, a, &o), "no %s", a);
	cr_assert(json_object_object_get_ex(o, b, &v), "no %s.%s", a, b);
	return v;
}

static void
expect_string(json_object *root, const char *a, const char *b, const char *want)
{
	json_object	*v = member(root, a, b);

	if (want == NULL)
		cr_expect_null(v, "%s.%s: %s", a, b, json_object_get_string(v));
	else {
		cr_expect_not_null(v, "%s.%s is null", a, b);
		cr_expect_str_eq(json_object_get_string(v), want, "%s.%s", a, b);
	}
}

static void
expect_int(json_object *root, const char *a, const char *b, long long want)
{
	json_object	*v = member(root, a, b);

	if (want < 0)
		cr_expect_null(v, "%s.%s", a, b);
	else {
		cr_expect(json_object_is_type(v, json_type_int), "%s.%s", a, b);
		cr_expect_eq(json_object_get_int64(v), want, "%s.%s", a, b);
	}
}

/* without public_url, links are relative */
#define BASE	"/api/v1/services"

Test(page, reply_middle_page)
{
	struct worker	*app = app_new("");
	json_object	*root = reply(app, "api.example.com", 0, 2, 15, 31);
	json_object	*data;

	cr_assert(json_object_object_get_ex(root, "data", &data));
	cr_expect_str_eq(json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN),
	    "[1,2]");
	expect_string(root, "links", "first", BASE "?page=1");
	expect_string(root, "links", "last", BASE "?page=3");
	expect_string(root, "links", "prev", BASE "?page=1");
	expect_string(root, "links", "next", BASE "?page=3");
	expect_int(root, "meta", "current_page", 2);
	expect_int(root, "meta", "from", 16);
	expect_int(root, "meta", "to", 30);
	expect_int(root, "meta", "last_page", 3);
	expect_int(root, "meta", "per_page", 15);
	expect_int(root, "meta", "total", 31);
	expect_string(root, "meta", "path", BASE);
	json_object_put(root);
	free(app);
}

Test(page, reply_first_and_last_page)
{
	struct worker	*app = app_new("");
	json_object	*root;

	root = reply(app, "api.example.com", 0, 1, 15, 1);
	expect_string(root, "links", "first", BASE "?page=1");
	expect_string(root, "links", "last", BASE "?page=1");
	expect_string(root, "links", "prev", NULL);
	expect_string(root, "links", "next", NULL);
	expect_int(root, "meta", "from", 1);
	expect_int(root, "meta", "to", 1);
	expect_int(root, "meta", "last_page", 1);
	json_object_put(root);

	root = reply(app, "api.example.com", 0, 3, 15, 31);
	expect_string(root, "links", "prev", BASE "?page=2");
	expect_string(root, "links", "next", NULL);
	expect_int(root, "meta", "from", 31);
	expect_int(root, "meta", "to", 31);
	json_object_put(root);
	free(app);
}

Test(page, reply_empty_and_past_the_end)
{
	struct worker	*app = app_new("");
	json_object	*root;

	root = reply(app, "api.example.com", 0, 1, 15, 0);
	expect_string(root, "links", "last", BASE "?page=1");
	expect_string(root, "links", "next", NULL);
	expect_int(root, "meta", "from", -1);
	expect_int(root, "meta", "to", -1);
	expect_int(root, "meta", "last_page", 1);
	expect_int(root, "meta", "total", 0);
	json_object_put(root);

	root = reply(app, "api.example.com", 0, 9, 15, 31);
	expect_string(root, "links", "next", NULL);
	expect_int(root, "meta", "current_page", 9);
	expect_int(root, "meta", "from", -1);
	expect_int(root, "meta", "to", -1);
	json_object_put(root);
	free(app);
}

/* Links carry per_page only when it is not the default. */
Test(page, reply_links_carry_per_page)
{
	struct worker	*app = app_new("");
	json_object	*root = reply(app, "api.example.com", 0, 2, 20, 45);

	expect_string(root, "links", "first", BASE "?page=1&per_page=20");
	expect_string(root, "links", "last", BASE "?page=3&per_page=20");
	expect_string(root, "links", "prev", BASE "?page=1&per_page=20");
	expect_string(root, "links", "next", BASE "?page=3&per_page=20");
	expect_int(root, "meta", "per_page", 20);
	expect_int(root, "meta", "from", 21);
	expect_int(root, "meta", "to", 40);
	json_object_put(root);
	free(app);
}

/*
 * Links start with public_url when it is set, else they are relative: never
 * built from the Host header, which the client chooses (issue 11, 12).
 */
Test(page, reply_base_url)
{
	static const struct {
		const char	*public_url;
		const char	*host;
		int		 https;
		const char	*path;
	} cases[] = {
		{ "", "api.example.com", 1, "/api/v1/services" },
		{ "", "127.0.0.1:8080", 0, "/api/v1/services" },
		{ "", "evil.example", 0, "/api/v1/services" },
		{ "", "evil.example:443", 1, "/api/v1/services" },
		{ "", NULL, 0, "/api/v1/services" },
		{ "", "", 0, "/api/v1/services" },
		{ "", "evil.example/\"x", 0, "/api/v1/services" },
		{ "https://api.calendence.test", "evil.example", 0,
		    "https://api.calendence.test/api/v1/services" },
		{ "http://127.0.0.1:8080", "evil.example", 1,
		    "http://127.0.0.1:8080/api/v1/services" },
		{ "https://example.test/calendence", "evil.example", 0,
		    "https://example.test/calendence/api/v1/services" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct worker	*app = app_new(cases[i].public_url);
		json_object	*root = reply(app, cases[i].host, cases[i].https, 2, 15, 31);

		expect_string(root, "meta", "path", cases[i].path);
		cr_expect_null(strstr(json_object_to_json_string(root), "evil"),
		    "%s: the Host header is in a link", cases[i].host);
		json_object_put(root);
		free(app);
	}
}

Test(page, parse_or_reply_answers_422)
{
	static const struct {
		const char	*query;
		const char	*param;
		const char	*message;
	} cases[] = {
		{ "page=0", "page", "page must be a whole number from 1 to 1000000000." },
		{ "per_page=51", "per_page", "per_page must be a whole number from 1 to 50." },
	};
	struct request	 r;
	struct page	 pg;
	json_object	*root;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		req_init(&r, NULL);
		strcpy(r.id, "req_0000000000000000");
		r.query = cases[i].query;
		cr_expect_eq(page_parse_or_reply(&r, &pg), -1);
		cr_expect_eq(r.status, 422);
		root = json_tokener_parse(buf_str(&r.out));
		cr_assert_not_null(root);
		expect_string(root, "error", "type", "invalid_request_error");
		expect_string(root, "error", "code", "validation_failed");
		expect_string(root, "error", "param", cases[i].param);
		expect_string(root, "error", "message", cases[i].message);
		json_object_put(root);
		req_cleanup(&r);
	}
	req_init(&r, NULL);
	r.query = "page=2";
	cr_expect_eq(page_parse_or_reply(&r, &pg), 0);
	cr_expect_eq(r.status, 0);
	cr_expect_eq(pg.page, 2);
	req_cleanup(&r);
}

/* A filtered list's links carry its filters, percent-encoded; meta.path does not. */
Test(page, reply_links_keep_filters)
{
	struct worker		*app = app_new("https://api.example.com");
	const char *const	 params[] = { "status", "confirmed", "from", NULL,
				    "to", "2026-03-01T10:00:00+01:00 &x", NULL };
	struct request		 r;
	struct page		 pg = { 2, 5, 12 };
	json_object		*root;

	req_init(&r, app);
	page_reply_filtered(&r, &pg, "/api/v1/bookings", params, "[]", 2);
	cr_assert_eq(r.status, 200);
	root = json_tokener_parse(buf_str(&r.out));
	cr_assert_not_null(root, "%s", buf_str(&r.out));
#define BK	"https://api.example.com/api/v1/bookings"
#define FL	"&status=confirmed&to=2026-03-01T10%3A00%3A00%2B01%3A00%20%26x"
	expect_string(root, "links", "first", BK "?page=1&per_page=5" FL);
	expect_string(root, "links", "prev", BK "?page=1&per_page=5" FL);
	expect_string(root, "links", "next", BK "?page=3&per_page=5" FL);
	expect_string(root, "links", "last", BK "?page=3&per_page=5" FL);
	expect_string(root, "meta", "path", BK);
#undef BK
#undef FL
	json_object_put(root);
	req_cleanup(&r);
	free(app);
}
