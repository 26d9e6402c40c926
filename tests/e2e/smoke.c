/*
 * smoke.c: the quick-start promise (a business key lists its services), and
 * hostile requests that a front end could let through or answer in HTML:
 * those are in the servers suite, which tests/servers.sh runs behind every
 * shipped front end (issue 11, findings 4, 12 and 13).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"
#include "api.h"


Test(smoke, business_key_lists_services)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*key = fx_key("business", biz);
	struct http_resp	 r;

	free(fx_service(biz, "Express Wash", 1));
	cr_assert_eq(http_get("/api/v1/services", key, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect_str_eq(jstr(r.json, "data.0.name"), "Express Wash");
	cr_expect_eq(jint(r.json, "meta.total"), 1);
	http_resp_free(&r);
	free(key);
	free(biz);
	free(hub);
}

/*
 * A 401 from the address (no key): what is left of its failed-credentials
 * window after it, and the window's limit in *limit.
 */
static int
auth_remaining(const char *addr, int *limit)
{
	struct http_resp	 r;
	char			 xff[96];
	const char		*hdrs[] = { xff, NULL };
	int			 n;

	snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", addr);
	cr_assert_eq(http_get("/api/v1/services", NULL, hdrs, &r), 0);
	cr_expect_eq(r.status, 401, "%s: %.300s", addr, r.body);
	cr_assert_not_null(http_header(&r, "X-RateLimit-Remaining"), "%s", addr);
	cr_assert_not_null(http_header(&r, "X-RateLimit-Limit"), "%s", addr);
	n = atoi(http_header(&r, "X-RateLimit-Remaining"));
	*limit = atoi(http_header(&r, "X-RateLimit-Limit"));
	http_resp_free(&r);
	return n;
}

/*
 * FastCGI names a header HTTP_ + its name with '-' as '_', so a client's
 * "X_Forwarded_For" and the real X-Forwarded-For (here the one a trusted
 * proxy set) share one name: the look-alike must never choose the client
 * address, in either order. Through each front end it is either dropped
 * (nginx, Apache) and the real header counts, or it reaches the
 * application twice and the request is our JSON 400 (lighttpd). The
 * address a request counted for is the one whose failed-credentials window
 * it used.
 */
Test(servers, underscore_forwarded_for_never_chooses_the_client)
{
	struct http_resp	 r;
	char			 real[64], fake[64], h1[96], h2[96], what[256];
	const char		*hdrs[3] = { NULL, NULL, NULL };
	int			 order, refused, limit;

	for (order = 0; order < 2; order++) {
		fresh_window(60, 10);	/* both requests in one minute */
		fresh_address(real, sizeof(real));
		fresh_address(fake, sizeof(fake));
		snprintf(h1, sizeof(h1), "X-Forwarded-For: %s", real);
		snprintf(h2, sizeof(h2), "X_Forwarded_For: %s", fake);
		hdrs[0] = order == 0 ? h2 : h1;
		hdrs[1] = order == 0 ? h1 : h2;
		snprintf(what, sizeof(what), "%s, then %s", hdrs[0], hdrs[1]);
		cr_assert_eq(http_get("/api/v1/services", NULL, hdrs, &r), 0);
		refused = r.status == 400;
		if (refused)
			expect_error(&r, 400, "invalid_request",
			    "X-Forwarded-For", what);
		else
			expect_error(&r, 401, "missing_api_key",
			    NULL, what);
		http_resp_free(&r);
		cr_expect_eq(auth_remaining(fake, &limit), limit - 1,
		    "%s: counted for the look-alike's address", what);
		cr_expect_eq(auth_remaining(real, &limit), limit - (refused ? 1 : 2),
		    "%s: %s", what, refused ? "a refused request was counted" :
		    "not counted for the real address");
	}
}

/*
 * Calendence-Business and a client's "Calendence_Business" for another
 * business of the same hub: the answer is the named business's list or our
 * JSON 400, never the other business's list.
 */
Test(servers, underscore_business_never_chooses_the_business)
{
	char			*hub = fx_hub("pro"), *a = fx_business(hub, NULL);
	char			*b = fx_business(hub, NULL), *key = fx_key("hub", hub);
	char			 h1[96], h2[96], what[240];
	const char		*hdrs[3] = { NULL, NULL, NULL };
	struct http_resp	 r;
	int			 order;

	free(fx_service(a, "Named Wash", 1));
	free(fx_service(b, "Other Wash", 1));
	snprintf(h1, sizeof(h1), "Calendence-Business: %s", a);
	snprintf(h2, sizeof(h2), "Calendence_Business: %s", b);
	for (order = 0; order < 2; order++) {
		hdrs[0] = order == 0 ? h2 : h1;
		hdrs[1] = order == 0 ? h1 : h2;
		snprintf(what, sizeof(what), "%s, then %s", hdrs[0], hdrs[1]);
		cr_assert_eq(http_get("/api/v1/services", key, hdrs, &r), 0);
		cr_expect_null(strstr(r.body, "Other Wash"), "%s: the look-alike chose "
		    "the business: %.300s", what, r.body);
		if (r.status == 400)
			expect_error(&r, 400, "invalid_request",
			    "Calendence-Business", what);
		else {
			cr_expect_eq(r.status, 200, "%s: %.300s", what, r.body);
			cr_expect_str_eq(nz(jstr(r.json, "data.0.name")), "Named Wash",
			    "%s: %.300s", what, r.body);
		}
		http_resp_free(&r);
	}
	free(key);
	free(b);
	free(a);
	free(hub);
}

/*
 * Control characters and bytes that cannot be UTF-8 in a query value reach
 * the application through every front end and get its JSON 422 naming the
 * parameter (lighttpd refused them itself with an HTML 400); an unknown
 * parameter holding them is named as unknown, and the answer is still ours.
 */
Test(servers, control_and_non_utf8_query_values_are_json_422)
{
	static const struct {
		const char	*path;
		const char	*param;		/* NULL: a 200 of ours */
	} cases[] = {
		{ "/api/v1/services?page=%01", "page" },
		{ "/api/v1/services?page=%0A", "page" },
		{ "/api/v1/services?page=%7F", "page" },
		{ "/api/v1/services?page=%FF", "page" },
		{ "/api/v1/services?page=%00", "page" },
		{ "/api/v1/services?per_page=1%0D%0A", "per_page" },
		{ "/api/v1/bookings?status=confirmed%0A", "status" },
		{ "/api/v1/bookings?status=%01", "status" },
		{ "/api/v1/bookings?from=%7F", "from" },
		{ "/api/v1/bookings?to=%FF", "to" },
		{ "/api/v1/services?x=%01", "x" },
		{ "/api/v1/services?x=%0A", "x" },
		{ "/api/v1/services?x=%7F", "x" },
		{ "/api/v1/services?x=%FF", "x" },
		{ "/api/v1/services?page=1&x%01=1", "x%01" },
		{ "/api/v1/services?page=1", NULL },
	};
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*key = fx_key("business", biz);
	struct http_resp	 r;
	const char		*ct;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(http_get(cases[i].path, key, NULL, &r), 0);
		if (cases[i].param != NULL)
			expect_error(&r, 422, "validation_failed",
			    cases[i].param, cases[i].path);
		else {
			ct = http_header(&r, "Content-Type");
			cr_expect_eq(r.status, 200, "%s: %.300s", cases[i].path, r.body);
			cr_expect(ct != NULL && strncmp(ct, "application/json", 16) == 0,
			    "%s: Content-Type %s", cases[i].path, nz(ct));
			cr_expect_not_null(http_header(&r, "Request-Id"), "%s: not ours",
			    cases[i].path);
		}
		http_resp_free(&r);
	}
	free(key);
	free(biz);
	free(hub);
}

/*
 * Pagination links never name the Host a client sent: without public_url
 * (as here) they are relative. Through every front end, for each passes
 * Host on as the client wrote it.
 */
Test(servers, hostile_host_is_in_no_link)
{
	static const char *const hdrs[] = { "Host: evil.example", NULL };
	static const char *const links[] = { "links.first", "links.last",
	    "links.prev", "links.next", "meta.path" };
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*key = fx_key("business", biz);
	struct http_resp	 r;
	const char		*l;
	size_t			 i;

	free(fx_service(biz, "Express Wash", 1));
	free(fx_service(biz, "Deluxe Wash", 1));
	free(fx_service(biz, "Interior Clean", 1));
	cr_assert_eq(http_get("/api/v1/services?per_page=1&page=2", key, hdrs, &r), 0);
	cr_expect_eq(r.status, 200, "%.300s", r.body);
	cr_expect_null(strstr(r.body, "evil"), "the Host is in the answer: %.500s",
	    r.body);
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		l = jstr(r.json, links[i]);
		cr_expect(l != NULL && strncmp(l, "/api/v1/services", 16) == 0,
		    "%s is %s", links[i], nz(l));
	}
	cr_expect_str_eq(nz(jstr(r.json, "links.next")),
	    "/api/v1/services?page=3&per_page=1");
	http_resp_free(&r);
	free(key);
	free(biz);
	free(hub);
}
