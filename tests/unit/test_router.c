/* test_router.c: the static route table of /api/v1 (fcgi/router.c). */
#include <string.h>

#include <criterion/criterion.h>

#include "router.h"

#define UUID	"123e4567-e89b-12d3-a456-426614174000"
#define NONE	ROUTE__MAX	/* no route expected */

static const struct {
	const char		*method;
	const char		*path;
	enum route_result	 result;
	enum route_id		 route;		/* when found */
	const char		*arg;		/* args[0] when found and captured */
	const char		*allow;		/* the Allow list when not found */
} cases[] = {
	/* every route, and HEAD wherever GET goes */
	{ "POST", "/api/v1/session", ROUTE_FOUND, ROUTE_SESSION_CREATE, NULL, NULL },
	{ "DELETE", "/api/v1/session", ROUTE_FOUND, ROUTE_SESSION_DELETE, NULL, NULL },
	{ "GET", "/api/v1/services", ROUTE_FOUND, ROUTE_SERVICES_LIST, NULL, NULL },
	{ "HEAD", "/api/v1/services", ROUTE_FOUND, ROUTE_SERVICES_LIST, NULL, NULL },
	{ "GET", "/api/v1/services/" UUID, ROUTE_FOUND, ROUTE_SERVICES_GET, UUID, NULL },
	{ "HEAD", "/api/v1/services/abc", ROUTE_FOUND, ROUTE_SERVICES_GET, "abc", NULL },
	{ "GET", "/api/v1/businesses", ROUTE_FOUND, ROUTE_BUSINESSES_LIST, NULL, NULL },
	{ "HEAD", "/api/v1/businesses", ROUTE_FOUND, ROUTE_BUSINESSES_LIST, NULL, NULL },
	{ "GET", "/api/v1/businesses/" UUID, ROUTE_FOUND, ROUTE_BUSINESSES_GET, UUID, NULL },
	{ "HEAD", "/api/v1/businesses/x", ROUTE_FOUND, ROUTE_BUSINESSES_GET, "x", NULL },
	{ "POST", "/api/v1/bookings/hold", ROUTE_FOUND, ROUTE_BOOKINGS_HOLD, NULL, NULL },
	{ "DELETE", "/api/v1/bookings/hold/" UUID, ROUTE_FOUND, ROUTE_BOOKINGS_RELEASE, UUID,
	    NULL },
	{ "GET", "/api/v1/bookings/hold", ROUTE_FOUND, ROUTE_BOOKINGS_GET, "hold", NULL },
	{ "GET", "/api/v1/bookings/hold/x", ROUTE_BAD_METHOD, NONE, NULL, "DELETE, OPTIONS" },
	{ "POST", "/api/v1/bookings/" UUID "/cancel", ROUTE_FOUND, ROUTE_BOOKINGS_CANCEL, UUID,
	    NULL },
	{ "POST", "/api/v1/bookings/" UUID "/reschedule", ROUTE_FOUND,
	    ROUTE_BOOKINGS_RESCHEDULE, UUID, NULL },
	{ "PATCH", "/api/v1/bookings/" UUID, ROUTE_FOUND, ROUTE_BOOKINGS_UPDATE, UUID, NULL },
	{ "PUT", "/api/v1/bookings/" UUID, ROUTE_BAD_METHOD, NONE, NULL,
	    "GET, HEAD, PATCH, OPTIONS" },
	{ "GET", "/api/v1/bookings/" UUID "/reschedule", ROUTE_BAD_METHOD, NONE, NULL,
	    "POST, OPTIONS" },
	{ "POST", "/api/v1/webhooks", ROUTE_FOUND, ROUTE_WEBHOOKS_CREATE, NULL, NULL },
	{ "GET", "/api/v1/webhooks", ROUTE_FOUND, ROUTE_WEBHOOKS_LIST, NULL, NULL },
	{ "GET", "/api/v1/webhooks/" UUID, ROUTE_FOUND, ROUTE_WEBHOOKS_GET, UUID, NULL },
	{ "DELETE", "/api/v1/webhooks/" UUID, ROUTE_FOUND, ROUTE_WEBHOOKS_DELETE, UUID, NULL },
	{ "GET", "/api/v1/webhooks/" UUID "/deliveries", ROUTE_FOUND,
	    ROUTE_WEBHOOKS_DELIVERIES, UUID, NULL },
	{ "POST", "/api/v1/webhooks/" UUID "/deliveries/x/retry", ROUTE_FOUND,
	    ROUTE_WEBHOOKS_RETRY, UUID, NULL },
	{ "PATCH", "/api/v1/webhooks/" UUID, ROUTE_BAD_METHOD, NONE, NULL,
	    "GET, HEAD, DELETE, OPTIONS" },
	{ "GET", "/api/v1/webhooks/x/deliveries/y/retry", ROUTE_BAD_METHOD, NONE, NULL,
	    "POST, OPTIONS" },
	{ "GET", "/api/v1/webhooks/x/deliveries/y", ROUTE_NOT_FOUND, NONE, NULL, "" },
	/* a known path with another method: 405 and its Allow list */
	{ "POST", "/api/v1/services", ROUTE_BAD_METHOD, NONE, NULL, "GET, HEAD, OPTIONS" },
	{ "DELETE", "/api/v1/services/x", ROUTE_BAD_METHOD, NONE, NULL, "GET, HEAD, OPTIONS" },
	{ "PUT", "/api/v1/businesses", ROUTE_BAD_METHOD, NONE, NULL, "GET, HEAD, OPTIONS" },
	{ "PATCH", "/api/v1/businesses/x", ROUTE_BAD_METHOD, NONE, NULL, "GET, HEAD, OPTIONS" },
	{ "GET", "/api/v1/session", ROUTE_BAD_METHOD, NONE, NULL, "POST, DELETE, OPTIONS" },
	{ "HEAD", "/api/v1/session", ROUTE_BAD_METHOD, NONE, NULL, "POST, DELETE, OPTIONS" },
	{ "PUT", "/api/v1/session", ROUTE_BAD_METHOD, NONE, NULL, "POST, DELETE, OPTIONS" },
	{ "OPTIONS", "/api/v1/session", ROUTE_BAD_METHOD, NONE, NULL, "POST, DELETE, OPTIONS" },
	{ "OPTIONS", "/api/v1/services", ROUTE_BAD_METHOD, NONE, NULL, "GET, HEAD, OPTIONS" },
	{ "get", "/api/v1/services", ROUTE_BAD_METHOD, NONE, NULL, "GET, HEAD, OPTIONS" },
	{ "", "/api/v1/services", ROUTE_BAD_METHOD, NONE, NULL, "GET, HEAD, OPTIONS" },
	/* unknown paths */
	{ "GET", "/api/v1/nothing", ROUTE_NOT_FOUND, NONE, NULL, "" },
	{ "GET", "/api/v1/services/x/y", ROUTE_NOT_FOUND, NONE, NULL, "" },
	{ "GET", "/api/v1/services/", ROUTE_NOT_FOUND, NONE, NULL, "" },
	{ "GET", "/api/v1/servicesx", ROUTE_NOT_FOUND, NONE, NULL, "" },
	{ "GET", "/api/v1/Services", ROUTE_NOT_FOUND, NONE, NULL, "" },
	{ "GET", "/api/v1/service", ROUTE_NOT_FOUND, NONE, NULL, "" },
	{ "POST", "/api/v1/session/x", ROUTE_NOT_FOUND, NONE, NULL, "" },
	{ "GET", "/api/v1/businesses/x/services", ROUTE_NOT_FOUND, NONE, NULL, "" },
	{ "GET", "/api/v1", ROUTE_NOT_FOUND, NONE, NULL, "" },
	{ "GET", "/api/v2/services", ROUTE_NOT_FOUND, NONE, NULL, "" },
	{ "GET", "/", ROUTE_NOT_FOUND, NONE, NULL, "" },
	{ "GET", "", ROUTE_NOT_FOUND, NONE, NULL, "" },
	{ "OPTIONS", "/api/v1/nothing", ROUTE_NOT_FOUND, NONE, NULL, "" },
};

Test(router, route_match_table)
{
	char			 args[REQ_MAX_ARGS][REQ_ARG_MAX], allow[128];
	const struct route	*rt;
	enum route_result	 rr;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(args, 0, sizeof(args));
		memset(allow, 'Z', sizeof(allow));
		rt = NULL;
		rr = route_match(cases[i].method, cases[i].path, args, &rt, allow,
		    sizeof(allow));
		cr_expect_eq(rr, cases[i].result, "%s %s: %d", cases[i].method,
		    cases[i].path, rr);
		if (cases[i].result == ROUTE_FOUND) {
			cr_expect_eq(rt, &routes[cases[i].route], "%s %s",
			    cases[i].method, cases[i].path);
			if (cases[i].arg != NULL)
				cr_expect_str_eq(args[0], cases[i].arg, "%s %s",
				    cases[i].method, cases[i].path);
		} else {
			cr_expect_null(rt, "%s %s", cases[i].method, cases[i].path);
			cr_expect_str_eq(allow, cases[i].allow, "%s %s",
			    cases[i].method, cases[i].path);
		}
	}
}

/* One segment is captured up to REQ_ARG_MAX - 1 bytes; a longer one is "". */
Test(router, capture_length_limit)
{
	char			 args[REQ_MAX_ARGS][REQ_ARG_MAX], allow[128];
	char			 path[256], seg[REQ_ARG_MAX + 8];
	const struct route	*rt = NULL;

	memset(seg, 'a', REQ_ARG_MAX - 1);
	seg[REQ_ARG_MAX - 1] = '\0';
	snprintf(path, sizeof(path), "/api/v1/services/%s", seg);
	cr_assert_eq(route_match("GET", path, args, &rt, allow, sizeof(allow)),
	    ROUTE_FOUND);
	cr_expect_eq(rt, &routes[ROUTE_SERVICES_GET]);
	cr_expect_str_eq(args[0], seg);

	memset(seg, 'a', REQ_ARG_MAX);
	seg[REQ_ARG_MAX] = '\0';
	snprintf(path, sizeof(path), "/api/v1/businesses/%s", seg);
	memset(args, 'Z', sizeof(args));
	rt = NULL;
	cr_assert_eq(route_match("GET", path, args, &rt, allow, sizeof(allow)),
	    ROUTE_FOUND);
	cr_expect_eq(rt, &routes[ROUTE_BUSINESSES_GET]);
	cr_expect_str_eq(args[0], "");		/* no valid id: a 404 later */
}

/* A short Allow buffer is filled as far as it goes and stays terminated. */
Test(router, allow_never_overflows)
{
	char			 args[REQ_MAX_ARGS][REQ_ARG_MAX], allow[16];
	const struct route	*rt = NULL;

	memset(allow, 'Z', sizeof(allow));
	cr_expect_eq(route_match("POST", "/api/v1/services", args, &rt, allow, 10),
	    ROUTE_BAD_METHOD);
	cr_expect_str_eq(allow, "GET, HEAD");
	cr_expect_eq(allow[10], 'Z');
}

/* The table itself against SPEC 4: which key may call what. */
Test(router, table_matches_the_spec)
{
	static const struct {
		enum route_id	 id;
		const char	*method;
		const char	*pattern;
		unsigned	 kinds;
		enum route_scope scope;
		int		 body;
		int		 any_plan;
	} want[] = {
		{ ROUTE_SESSION_CREATE, "POST", "/api/v1/session",
		    TOKEN_BIT(TOKEN_PUBLISHABLE) | TOKEN_BIT(TOKEN_SESSION), SCOPE_NONE, 1, 0 },
		{ ROUTE_SESSION_DELETE, "DELETE", "/api/v1/session",
		    TOKEN_BIT(TOKEN_SESSION), SCOPE_NONE, 0, 0 },
		{ ROUTE_SERVICES_LIST, "GET", "/api/v1/services",
		    TOKEN_BIT(TOKEN_HUB) | TOKEN_BIT(TOKEN_BUSINESS) | TOKEN_BIT(TOKEN_SESSION),
		    SCOPE_BUSINESS, 0, 0 },
		{ ROUTE_SERVICES_GET, "GET", "/api/v1/services/{}",
		    TOKEN_BIT(TOKEN_HUB) | TOKEN_BIT(TOKEN_BUSINESS) | TOKEN_BIT(TOKEN_SESSION),
		    SCOPE_BUSINESS, 0, 0 },
		{ ROUTE_BUSINESSES_LIST, "GET", "/api/v1/businesses",
		    TOKEN_BIT(TOKEN_HUB) | TOKEN_BIT(TOKEN_BUSINESS), SCOPE_BUSINESSES, 0, 0 },
		{ ROUTE_BUSINESSES_GET, "GET", "/api/v1/businesses/{}",
		    TOKEN_BIT(TOKEN_HUB) | TOKEN_BIT(TOKEN_BUSINESS), SCOPE_BUSINESSES, 0, 0 },
#define BOOKING_KEYS (TOKEN_BIT(TOKEN_HUB) | TOKEN_BIT(TOKEN_BUSINESS) | TOKEN_BIT(TOKEN_SESSION))
		{ ROUTE_LOCATIONS_LIST, "GET", "/api/v1/locations", BOOKING_KEYS,
		    SCOPE_BUSINESS, 0, 0 },
		{ ROUTE_AVAILABILITY, "GET", "/api/v1/availability", BOOKING_KEYS,
		    SCOPE_BUSINESS, 0, 0 },
		{ ROUTE_BOOKINGS_HOLD, "POST", "/api/v1/bookings/hold", BOOKING_KEYS,
		    SCOPE_BUSINESS, 1, 0 },
		{ ROUTE_BOOKINGS_CREATE, "POST", "/api/v1/bookings", BOOKING_KEYS,
		    SCOPE_BUSINESS, 1, 0 },
		{ ROUTE_BOOKINGS_LIST, "GET", "/api/v1/bookings", BOOKING_KEYS,
		    SCOPE_BUSINESS, 0, 0 },
		{ ROUTE_BOOKINGS_GET, "GET", "/api/v1/bookings/{}", BOOKING_KEYS,
		    SCOPE_BUSINESS, 0, 0 },
		{ ROUTE_BOOKINGS_CANCEL, "POST", "/api/v1/bookings/{}/cancel", BOOKING_KEYS,
		    SCOPE_BUSINESS, 1, 0 },
		{ ROUTE_BOOKINGS_RELEASE, "DELETE", "/api/v1/bookings/hold/{}", BOOKING_KEYS,
		    SCOPE_BUSINESS, 0, 0 },
		{ ROUTE_BOOKINGS_RESCHEDULE, "POST", "/api/v1/bookings/{}/reschedule",
		    BOOKING_KEYS, SCOPE_BUSINESS, 1, 0 },
		{ ROUTE_BOOKINGS_UPDATE, "PATCH", "/api/v1/bookings/{}",
		    TOKEN_BIT(TOKEN_HUB) | TOKEN_BIT(TOKEN_BUSINESS), SCOPE_BUSINESS, 1, 0 },
		/* webhooks: hub and business keys, on every plan (SPEC 11) */
#define HOOK_KEYS (TOKEN_BIT(TOKEN_HUB) | TOKEN_BIT(TOKEN_BUSINESS))
		{ ROUTE_WEBHOOKS_CREATE, "POST", "/api/v1/webhooks", HOOK_KEYS,
		    SCOPE_BUSINESS, 1, 1 },
		{ ROUTE_WEBHOOKS_LIST, "GET", "/api/v1/webhooks", HOOK_KEYS,
		    SCOPE_BUSINESS, 0, 1 },
		{ ROUTE_WEBHOOKS_GET, "GET", "/api/v1/webhooks/{}", HOOK_KEYS,
		    SCOPE_BUSINESS, 0, 1 },
		{ ROUTE_WEBHOOKS_DELETE, "DELETE", "/api/v1/webhooks/{}", HOOK_KEYS,
		    SCOPE_BUSINESS, 0, 1 },
		{ ROUTE_WEBHOOKS_DELIVERIES, "GET", "/api/v1/webhooks/{}/deliveries",
		    HOOK_KEYS, SCOPE_BUSINESS, 0, 1 },
		{ ROUTE_WEBHOOKS_RETRY, "POST", "/api/v1/webhooks/{}/deliveries/{}/retry",
		    HOOK_KEYS, SCOPE_BUSINESS, 0, 1 },
	};
	size_t	 i;

	cr_assert_eq(sizeof(want) / sizeof(want[0]), ROUTE__MAX);
	for (i = 0; i < ROUTE__MAX; i++) {
		const struct route *rt = &routes[want[i].id];

		cr_expect_str_eq(rt->method, want[i].method, "route %zu", i);
		cr_expect_str_eq(rt->pattern, want[i].pattern, "route %zu", i);
		cr_expect_eq(rt->kinds, want[i].kinds, "kinds of %s %s", rt->method,
		    rt->pattern);
		cr_expect_eq(rt->scope, want[i].scope, "scope of %s", rt->pattern);
		cr_expect_eq(rt->body, want[i].body, "body of %s %s", rt->method,
		    rt->pattern);
		cr_expect_eq(rt->any_plan, want[i].any_plan, "any_plan of %s %s",
		    rt->method, rt->pattern);
		cr_expect_not_null(rt->handler, "handler of %s %s", rt->method,
		    rt->pattern);
	}
}

Test(router, is_api)
{
	static const struct {
		const char	*path;
		int		 api;
	} paths[] = {
		{ "/api/v1", 1 },
		{ "/api/v1/", 1 },
		{ "/api/v1/services", 1 },
		{ "/api/v1/anything/at/all", 1 },
		{ "/api/v10", 0 },
		{ "/api/v1x", 0 },
		{ "/api/v", 0 },
		{ "/api", 0 },
		{ "/API/v1", 0 },
		{ "/api/v2/services", 0 },
		{ "/x/api/v1", 0 },
		{ "/healthz", 0 },
		{ "/", 0 },
		{ "", 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		cr_expect_eq(route_is_api(paths[i].path), paths[i].api, "%s",
		    paths[i].path);
}

/* The query parameters each route takes, as the API reference lists them. */
Test(router, query_parameters_of_each_route)
{
	static const struct {
		enum route_id	 id;
		const char	*names;		/* route_query_names() */
	} want[] = {
		{ ROUTE_SERVICES_LIST, "page and per_page" },
		{ ROUTE_BUSINESSES_LIST, "page and per_page" },
		{ ROUTE_LOCATIONS_LIST, "page and per_page" },
		{ ROUTE_AVAILABILITY,
		    "service_id, date_from, date_to, staff_id, location_id and format" },
		{ ROUTE_BOOKINGS_LIST,
		    "status, from, to, updated_since, page and per_page" },
		{ ROUTE_WEBHOOKS_LIST, "page and per_page" },
		{ ROUTE_WEBHOOKS_DELIVERIES, "page and per_page" },
	};
	char	 names[128];
	int	 i;
	size_t	 k;

	for (i = 0; i < ROUTE__MAX; i++) {
		const char *expect = "no query parameters";

		for (k = 0; k < sizeof(want) / sizeof(want[0]); k++)
			if ((int)want[k].id == i)
				expect = want[k].names;
		route_query_names(&routes[i], names, sizeof(names));
		cr_expect_str_eq(names, expect, "%s %s", routes[i].method,
		    routes[i].pattern);
	}
}

/* The first parameter a route does not take, in the order sent; names as sent. */
Test(router, unknown_query_parameters)
{
	static const struct {
		enum route_id	 id;
		const char	*query;
		const char	*unknown;	/* NULL: none */
	} rows[] = {
		{ ROUTE_SERVICES_LIST, "", NULL },
		{ ROUTE_SERVICES_LIST, "page=1&per_page=2", NULL },
		{ ROUTE_SERVICES_LIST, "per_page=2&per_page=3&page", NULL },
		{ ROUTE_SERVICES_LIST, "page=1&&per_page=2&", NULL },
		{ ROUTE_SERVICES_LIST, "&", NULL },
		{ ROUTE_SERVICES_LIST, "limit=5", "limit" },
		{ ROUTE_SERVICES_LIST, "page=1&limit=5&offset=2", "limit" },
		{ ROUTE_SERVICES_LIST, "offset=2&limit=5", "offset" },
		{ ROUTE_SERVICES_LIST, "x", "x" },
		{ ROUTE_SERVICES_LIST, "=1", "" },
		{ ROUTE_SERVICES_LIST, "Page=1", "Page" },
		{ ROUTE_SERVICES_LIST, "pag=1", "pag" },
		{ ROUTE_SERVICES_LIST, "pages=1", "pages" },
		{ ROUTE_SERVICES_LIST, "per-page=1", "per-page" },
		{ ROUTE_SERVICES_LIST, "per%5Fpage=1", "per%5Fpage" },
		{ ROUTE_SERVICES_LIST, "page;per_page=1", "page;per_page" },
		{ ROUTE_SERVICES_LIST, "pa\x01ge=1", "pa?ge" },
		{ ROUTE_SERVICES_LIST, "caf\xc3\xa9=1", "caf??" },
		{ ROUTE_SERVICES_GET, "page=1", "page" },
		{ ROUTE_SESSION_CREATE, "business_id=x", "business_id" },
		{ ROUTE_BOOKINGS_HOLD, "", NULL },
		{ ROUTE_AVAILABILITY, "service_id=a&date_from=b&date_to=c&staff_id=d"
		    "&location_id=e", NULL },
		{ ROUTE_AVAILABILITY, "service_id=a&page=1", "page" },
		{ ROUTE_BOOKINGS_LIST, "status=held&from=a&to=b&updated_since=c&page=1"
		    "&per_page=2", NULL },
		{ ROUTE_BOOKINGS_LIST, "status=held&business_id=x", "business_id" },
		{ ROUTE_WEBHOOKS_DELIVERIES, "per_page=5&status=failed", "status" },
	};
	char	 name[REQ_ARG_MAX];
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(name, 'Z', sizeof(name));
		rc = route_query_unknown(&routes[rows[i].id], rows[i].query, name,
		    sizeof(name));
		cr_expect_eq(rc, rows[i].unknown != NULL, "%s: %d", rows[i].query, rc);
		if (rc == 1 && rows[i].unknown != NULL)
			cr_expect_str_eq(name, rows[i].unknown, "%s", rows[i].query);
	}
}

/* A long unknown name is cut to fit and stays terminated. */
Test(router, unknown_query_name_never_overflows)
{
	char	 query[300], name[8];

	memset(query, 'q', 299);
	query[299] = '\0';
	memset(name, 'Z', sizeof(name));
	cr_assert_eq(route_query_unknown(&routes[ROUTE_SERVICES_LIST], query, name, 5), 1);
	cr_expect_str_eq(name, "qqqq");
	cr_expect_eq(name[5], 'Z');
}
