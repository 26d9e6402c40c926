/*
 * e2e_walk.c: no key reaches another business's rows (issue 5, item 6).
 * Business A (its hub on a roomy plan) and business B (another hub), each a
 * full shop: services, a location, staff, a confirmed booking and a live
 * hold (fx_shop()). With every kind of A's key, every route of the router's
 * table is called with B's ids in the path, the query string, the body and
 * the Calendence-Business header. Every answer is exact: 403 where the key
 * may not call the route or names B in the header, 404 for B's objects in a
 * path, 422 validation_failed for B's ids given as parameters (SPEC 3 step 5:
 * exactly what a nonexistent id gets), also as parameters the route does not
 * take (named in param, as any unknown parameter is), and where B's id sits
 * somewhere the API ignores (the body of some routes), A's own answer. No answer holds anything of B, and B's rows
 * are unchanged afterwards. A test checks that the walk covers every route
 * of fcgi/router.c in every place that route takes ids, so a new route
 * cannot be left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "fixture.h"
#include "http.h"
#include "api.h"
#include "router.h"
#include "token.h"


enum kind { HUB, BUSINESS, PUBLISHABLE, SESSION, NKINDS };

static const char *const kind_names[NKINDS] = { "hub", "business", "publishable",
	"session" };
static const enum token_kind kind_tokens[NKINDS] = { TOKEN_HUB, TOKEN_BUSINESS,
	TOKEN_PUBLISHABLE, TOKEN_SESSION };

/* Where B's id goes. */
enum place { IN_HEADER, IN_PATH, IN_QUERY, IN_BODY };

static const char *const place_names[] = { "header", "path", "query", "body" };

/*
 * One call. Placeholders: {A_BIZ} {A_SVC} {A_LOC} {A_STAFF} of A, {B_BIZ}
 * {B_SVC} {B_LOC} {B_STAFF} {B_BOOKING} {B_HOLD} of B, {DAY} a date 8 days
 * ahead, {START} a free time of A 11 days ahead, {B_START} the time of B's
 * remembered hold, {B_HOOK} and {B_DELIVERY} B's webhook and a delivery of
 * it. 'status', 'code' and 'param' are the answer for a key
 * that may call the route and acts for A; 'idem' is an Idempotency-Key.
 */
struct probe {
	enum route_id	 route;
	enum place	 place;
	const char	*method;
	const char	*path;
	const char	*body;
	int		 status;
	const char	*code;
	const char	*param;
	const char	*idem;
};

#define HOLD_BODY(svc, loc, staff) "{\"service_id\":\"" svc "\",\"location_id\":\"" loc \
	"\",\"starts_at\":\"{START}\",\"staff_id\":\"" staff "\"}"
#define CLIENT	"\"client\":{\"first_name\":\"Wal\",\"last_name\":\"Ker\"," \
	"\"email\":\"walker@example.com\"}"
#define AVAIL	"/api/v1/availability?date_from={DAY}&date_to={DAY}"

static const struct probe probes[] = {
	{ ROUTE_SESSION_CREATE, IN_HEADER, "POST", "/api/v1/session", NULL,
	    201, NULL, NULL, NULL },
	{ ROUTE_SESSION_CREATE, IN_BODY, "POST", "/api/v1/session",
	    "{\"business_id\":\"{B_BIZ}\",\"business\":{\"id\":\"{B_BIZ}\"}}",
	    201, NULL, NULL, NULL },
	{ ROUTE_SESSION_DELETE, IN_HEADER, "DELETE", "/api/v1/session", NULL,
	    204, NULL, NULL, NULL },

	{ ROUTE_SERVICES_LIST, IN_HEADER, "GET", "/api/v1/services", NULL,
	    200, NULL, NULL, NULL },
	{ ROUTE_SERVICES_LIST, IN_QUERY, "GET",
	    "/api/v1/services?business_id={B_BIZ}&service_id={B_SVC}", NULL,
	    422, "validation_failed", "business_id", NULL },
	{ ROUTE_SERVICES_GET, IN_PATH, "GET", "/api/v1/services/{B_SVC}", NULL, 404,
	    "not_found", NULL, NULL },
	{ ROUTE_SERVICES_GET, IN_HEADER, "GET", "/api/v1/services/{A_SVC}", NULL, 200,
	    NULL, NULL, NULL },

	{ ROUTE_BUSINESSES_LIST, IN_HEADER, "GET", "/api/v1/businesses", NULL,
	    200, NULL, NULL, NULL },
	{ ROUTE_BUSINESSES_LIST, IN_QUERY, "GET", "/api/v1/businesses?id={B_BIZ}", NULL,
	    422, "validation_failed", "id", NULL },
	{ ROUTE_BUSINESSES_GET, IN_PATH, "GET", "/api/v1/businesses/{B_BIZ}", NULL, 404,
	    "not_found", NULL, NULL },
	{ ROUTE_BUSINESSES_GET, IN_HEADER, "GET", "/api/v1/businesses/{A_BIZ}", NULL, 200,
	    NULL, NULL, NULL },

	{ ROUTE_LOCATIONS_LIST, IN_HEADER, "GET", "/api/v1/locations", NULL,
	    200, NULL, NULL, NULL },
	{ ROUTE_LOCATIONS_LIST, IN_QUERY, "GET", "/api/v1/locations?location_id={B_LOC}",
	    NULL, 422, "validation_failed", "location_id", NULL },

	{ ROUTE_AVAILABILITY, IN_HEADER, "GET", AVAIL "&service_id={A_SVC}", NULL, 200,
	    NULL, NULL, NULL },
	{ ROUTE_AVAILABILITY, IN_QUERY, "GET", AVAIL "&service_id={B_SVC}"
	    "&location_id={B_LOC}&staff_id={B_STAFF}", NULL, 422, "validation_failed",
	    "service_id", NULL },
	{ ROUTE_AVAILABILITY, IN_QUERY, "GET", AVAIL "&service_id={A_SVC}"
	    "&staff_id={B_STAFF}", NULL, 422, "validation_failed", "staff_id", NULL },
	{ ROUTE_AVAILABILITY, IN_QUERY, "GET", AVAIL "&service_id={A_SVC}"
	    "&location_id={B_LOC}", NULL, 422, "validation_failed", "location_id", NULL },

	{ ROUTE_BOOKINGS_HOLD, IN_HEADER, "POST", "/api/v1/bookings/hold",
	    HOLD_BODY("{A_SVC}", "{A_LOC}", "{A_STAFF}"), 201, NULL, NULL, NULL },
	{ ROUTE_BOOKINGS_HOLD, IN_BODY, "POST", "/api/v1/bookings/hold",
	    HOLD_BODY("{B_SVC}", "{B_LOC}", "{B_STAFF}"), 422, "validation_failed",
	    "service_id", NULL },
	{ ROUTE_BOOKINGS_HOLD, IN_BODY, "POST", "/api/v1/bookings/hold",
	    HOLD_BODY("{A_SVC}", "{B_LOC}", "{A_STAFF}"), 422, "validation_failed",
	    "location_id", NULL },
	{ ROUTE_BOOKINGS_HOLD, IN_BODY, "POST", "/api/v1/bookings/hold",
	    HOLD_BODY("{A_SVC}", "{A_LOC}", "{B_STAFF}"), 422, "validation_failed",
	    "staff_id", NULL },
	/* B's very request under B's Idempotency-Key: no replay of B's answer */
	{ ROUTE_BOOKINGS_HOLD, IN_BODY, "POST", "/api/v1/bookings/hold",
	    "{\"service_id\":\"{B_SVC}\",\"location_id\":\"{B_LOC}\",\"starts_at\":"
	    "\"{B_START}\",\"staff_id\":\"{B_STAFF}\"}", 422, "validation_failed",
	    "service_id", "walk-idem" },

	{ ROUTE_BOOKINGS_CREATE, IN_HEADER, "POST", "/api/v1/bookings",
	    "{\"hold_id\":\"{B_HOLD}\"," CLIENT "}", 422, "validation_failed", "hold_id", NULL },
	{ ROUTE_BOOKINGS_CREATE, IN_BODY, "POST", "/api/v1/bookings",
	    "{\"hold_id\":\"{B_HOLD}\"," CLIENT "}", 422, "validation_failed", "hold_id", NULL },
	{ ROUTE_BOOKINGS_CREATE, IN_BODY, "POST", "/api/v1/bookings",
	    "{\"hold_id\":\"{B_BOOKING}\"," CLIENT "}", 422, "validation_failed",
	    "hold_id", NULL },

	{ ROUTE_BOOKINGS_LIST, IN_HEADER, "GET", "/api/v1/bookings", NULL,
	    200, NULL, NULL, NULL },
	{ ROUTE_BOOKINGS_LIST, IN_QUERY, "GET",
	    "/api/v1/bookings?status=confirmed&business_id={B_BIZ}&id={B_BOOKING}", NULL,
	    422, "validation_failed", "business_id", NULL },
	{ ROUTE_BOOKINGS_GET, IN_PATH, "GET", "/api/v1/bookings/{B_BOOKING}", NULL, 404,
	    "not_found", NULL, NULL },
	{ ROUTE_BOOKINGS_GET, IN_PATH, "GET", "/api/v1/bookings/{B_HOLD}", NULL, 404,
	    "not_found", NULL, NULL },
	{ ROUTE_BOOKINGS_GET, IN_HEADER, "GET", "/api/v1/bookings/{B_BOOKING}", NULL, 404,
	    "not_found", NULL, NULL },
	{ ROUTE_BOOKINGS_CANCEL, IN_PATH, "POST", "/api/v1/bookings/{B_BOOKING}/cancel",
	    NULL, 404, "not_found", NULL, NULL },
	{ ROUTE_BOOKINGS_CANCEL, IN_PATH, "POST", "/api/v1/bookings/{B_HOLD}/cancel",
	    NULL, 404, "not_found", NULL, NULL },
	{ ROUTE_BOOKINGS_CANCEL, IN_BODY, "POST", "/api/v1/bookings/{B_BOOKING}/cancel",
	    "{\"booking_id\":\"{B_BOOKING}\",\"business_id\":\"{B_BIZ}\"}", 404,
	    "not_found", NULL, NULL },
	{ ROUTE_BOOKINGS_CANCEL, IN_HEADER, "POST", "/api/v1/bookings/{B_BOOKING}/cancel",
	    NULL, 404, "not_found", NULL, NULL },

	{ ROUTE_BOOKINGS_RELEASE, IN_PATH, "DELETE", "/api/v1/bookings/hold/{B_HOLD}", NULL,
	    404, "not_found", NULL, NULL },
	{ ROUTE_BOOKINGS_RELEASE, IN_PATH, "DELETE", "/api/v1/bookings/hold/{B_BOOKING}",
	    NULL, 404, "not_found", NULL, NULL },
	{ ROUTE_BOOKINGS_RELEASE, IN_HEADER, "DELETE", "/api/v1/bookings/hold/{B_HOLD}",
	    NULL, 404, "not_found", NULL, NULL },

	{ ROUTE_BOOKINGS_RESCHEDULE, IN_PATH, "POST", "/api/v1/bookings/{B_BOOKING}/reschedule",
	    "{\"hold_id\":\"{B_HOLD}\"}", 404, "not_found", NULL, NULL },
	{ ROUTE_BOOKINGS_RESCHEDULE, IN_BODY, "POST", "/api/v1/bookings/{B_HOLD}/reschedule",
	    "{\"hold_id\":\"{B_HOLD}\",\"business_id\":\"{B_BIZ}\"}", 404, "not_found",
	    NULL, NULL },
	{ ROUTE_BOOKINGS_RESCHEDULE, IN_HEADER, "POST",
	    "/api/v1/bookings/{B_BOOKING}/reschedule", "{\"hold_id\":\"{B_HOLD}\"}", 404,
	    "not_found", NULL, NULL },

	{ ROUTE_BOOKINGS_UPDATE, IN_PATH, "PATCH", "/api/v1/bookings/{B_BOOKING}",
	    "{\"status\":\"completed\"}", 404, "not_found", NULL, NULL },
	{ ROUTE_BOOKINGS_UPDATE, IN_BODY, "PATCH", "/api/v1/bookings/{B_HOLD}",
	    "{\"status\":\"confirmed\",\"business_id\":\"{B_BIZ}\"}", 404, "not_found",
	    NULL, NULL },
	{ ROUTE_BOOKINGS_UPDATE, IN_HEADER, "PATCH", "/api/v1/bookings/{B_BOOKING}",
	    "{\"status\":\"completed\"}", 404, "not_found", NULL, NULL },

	/* webhooks: B's id in the body is ignored (the events make it a 422, so
	   that the walk creates nothing) */
	{ ROUTE_WEBHOOKS_CREATE, IN_HEADER, "POST", "/api/v1/webhooks",
	    "{\"url\":\"https://walk.invalid/h\",\"events\":[]}", 422,
	    "validation_failed", "events", NULL },
	{ ROUTE_WEBHOOKS_CREATE, IN_BODY, "POST", "/api/v1/webhooks",
	    "{\"url\":\"https://walk.invalid/h\",\"events\":[],"
	    "\"business_id\":\"{B_BIZ}\",\"webhook_id\":\"{B_HOOK}\"}", 422,
	    "validation_failed", "events", NULL },
	{ ROUTE_WEBHOOKS_LIST, IN_HEADER, "GET", "/api/v1/webhooks", NULL, 200, NULL, NULL,
	    NULL },
	{ ROUTE_WEBHOOKS_LIST, IN_QUERY, "GET",
	    "/api/v1/webhooks?id={B_HOOK}&business_id={B_BIZ}", NULL, 422,
	    "validation_failed", "id", NULL },
	{ ROUTE_WEBHOOKS_GET, IN_PATH, "GET", "/api/v1/webhooks/{B_HOOK}", NULL, 404,
	    "not_found", NULL, NULL },
	{ ROUTE_WEBHOOKS_GET, IN_HEADER, "GET", "/api/v1/webhooks/{B_HOOK}", NULL, 404,
	    "not_found", NULL, NULL },
	{ ROUTE_WEBHOOKS_DELETE, IN_PATH, "DELETE", "/api/v1/webhooks/{B_HOOK}", NULL, 404,
	    "not_found", NULL, NULL },
	{ ROUTE_WEBHOOKS_DELETE, IN_HEADER, "DELETE", "/api/v1/webhooks/{B_HOOK}", NULL,
	    404, "not_found", NULL, NULL },
	{ ROUTE_WEBHOOKS_DELIVERIES, IN_PATH, "GET", "/api/v1/webhooks/{B_HOOK}/deliveries",
	    NULL, 404, "not_found", NULL, NULL },
	{ ROUTE_WEBHOOKS_DELIVERIES, IN_HEADER, "GET",
	    "/api/v1/webhooks/{B_HOOK}/deliveries", NULL, 404, "not_found", NULL, NULL },
	{ ROUTE_WEBHOOKS_RETRY, IN_PATH, "POST",
	    "/api/v1/webhooks/{B_HOOK}/deliveries/{B_DELIVERY}/retry", NULL, 404,
	    "not_found", NULL, NULL },
	{ ROUTE_WEBHOOKS_RETRY, IN_HEADER, "POST",
	    "/api/v1/webhooks/{B_HOOK}/deliveries/{B_DELIVERY}/retry", NULL, 404,
	    "not_found", NULL, NULL },
};

#define NPROBES	(sizeof(probes) / sizeof(probes[0]))

/* The two businesses and A's keys. */
struct walk {
	struct fx_shop	 a, b;
	char		*a_plan;
	char		*keys[NKINDS];
	char		*day, *start, *b_start;
	char		*b_name, *b_svc_name, *b_digest;
	char		*b_hook, *b_delivery;
};

static void
walk_init(struct walk *w)
{
	char	*held;

	w->a_plan = fx_plan(1000, 10000, 100, 1);
	fx_shop(&w->a, w->a_plan);
	fx_shop(&w->b, "pro");
	w->keys[HUB] = fx_key("hub", w->a.hub);
	w->keys[BUSINESS] = strdup(w->a.key);
	w->keys[PUBLISHABLE] = strdup(w->a.pub);
	w->keys[SESSION] = new_session(w->keys[PUBLISHABLE], NULL);
	w->day = fx_value("SELECT to_char((now() AT TIME ZONE 'America/Chicago')::date + 8, "
	    "'YYYY-MM-DD')", NULL);
	w->start = fx_value("SELECT to_json(((now() AT TIME ZONE 'America/Chicago')::date "
	    "+ 11 + time '10:00') AT TIME ZONE 'America/Chicago') #>> '{}'", NULL);
	w->b_start = fx_value("SELECT to_json(((now() AT TIME ZONE 'America/Chicago')::date "
	    "+ 12 + time '10:00') AT TIME ZONE 'America/Chicago') #>> '{}'", NULL);
	/* B holds a slot under an Idempotency-Key; its answer is remembered */
	held = fx_value("SELECT status FROM calendence.hold($1, $2, $3, $4, $5, NULL, $6, "
	    "'walk-idem')", w->b.biz, w->b.svc, w->b.loc, w->b_start, w->b.staff,
	    w->b.key_id, NULL);
	cr_assert_str_eq(nz(held), "ok");
	free(held);
	w->b_name = fx_value("SELECT name FROM calendence.businesses WHERE id = $1",
	    w->b.biz, NULL);
	w->b_svc_name = fx_value("SELECT name FROM calendence.services WHERE id = $1",
	    w->b.svc, NULL);
	/* B's webhook (a stand-in sealed secret) and a delivery that has ended,
	   so that no sender of a later suite takes it up */
	w->b_hook = fx_value("SELECT (calendence.webhook_create($1, 'https://walk.invalid/b', "
	    "'[\"booking.created\"]', NULL, decode(repeat('00', 78), 'hex'), false)).body::json "
	    "->> 'id'", w->b.biz, NULL);
	cr_assert_not_null(w->b_hook);
	w->b_delivery = fx_value("WITH e AS (INSERT INTO calendence.webhook_events (business_id, "
	    "booking_id, event, payload) VALUES ($1, $2, 'booking.created', '{}') RETURNING id) "
	    "INSERT INTO calendence.webhook_deliveries (webhook_id, event_id, status, attempts, "
	    "next_attempt_at) SELECT $3, e.id, 'failed', 3, NULL FROM e RETURNING id",
	    w->b.biz, w->b.booking, w->b_hook, NULL);
	cr_assert_not_null(w->b_delivery);
	w->b_digest = fx_business_digest(w->b.biz);
	cr_assert(w->day && w->start && w->b_start && w->b_name && w->b_svc_name);
}

static void
walk_free(struct walk *w)
{
	fx_exec("DELETE FROM calendence.webhooks WHERE business_id IN ($1, $2)", w->a.biz,
	    w->b.biz, NULL);
	fx_shop_free(&w->a);
	fx_shop_free(&w->b);
	for (int i = 0; i < NKINDS; i++)
		free(w->keys[i]);
	free(w->a_plan);
	free(w->day);
	free(w->start);
	free(w->b_start);
	free(w->b_name);
	free(w->b_svc_name);
	free(w->b_digest);
	free(w->b_hook);
	free(w->b_delivery);
}

/* 'tmpl' with its placeholders replaced; NULL for NULL. The caller frees it. */
static char *
expand(const struct walk *w, const char *tmpl)
{
	const struct {
		const char	*name;
		const char	*value;
	} subst[] = {
		{ "{A_BIZ}", w->a.biz }, { "{A_SVC}", w->a.svc }, { "{A_LOC}", w->a.loc },
		{ "{A_STAFF}", w->a.staff }, { "{B_BIZ}", w->b.biz }, { "{B_SVC}", w->b.svc },
		{ "{B_LOC}", w->b.loc }, { "{B_STAFF}", w->b.staff },
		{ "{B_BOOKING}", w->b.booking }, { "{B_HOLD}", w->b.hold },
		{ "{DAY}", w->day }, { "{START}", w->start }, { "{B_START}", w->b_start },
		{ "{B_HOOK}", w->b_hook }, { "{B_DELIVERY}", w->b_delivery },
	};
	char		*out;
	size_t		 len = 0, i, k;

	if (tmpl == NULL)
		return NULL;
	cr_assert_not_null(out = malloc(strlen(tmpl) * 8 + 1));
	for (i = 0; tmpl[i] != '\0';) {
		for (k = 0; k < sizeof(subst) / sizeof(subst[0]); k++)
			if (strncmp(tmpl + i, subst[k].name, strlen(subst[k].name)) == 0)
				break;
		if (k == sizeof(subst) / sizeof(subst[0])) {
			out[len++] = tmpl[i++];
			continue;
		}
		cr_assert_not_null(subst[k].value, "%s", subst[k].name);
		memcpy(out + len, subst[k].value, strlen(subst[k].value));
		len += strlen(subst[k].value);
		i += strlen(subst[k].name);
	}
	out[len] = '\0';
	return out;
}

/*
 * The answer a key of 'kind' must get: 403 key_type_not_allowed when the
 * route does not take it, 403 business_not_accessible when it names B in
 * the header (ignored on /businesses), else the probe's own answer.
 */
static void
expected(const struct probe *p, enum kind kind, int *status, const char **code,
    const char **param)
{
	const struct route	*rt = &routes[p->route];

	*param = NULL;
	if ((rt->kinds & TOKEN_BIT(kind_tokens[kind])) == 0) {
		*status = 403;
		*code = "key_type_not_allowed";
	} else if (p->place == IN_HEADER && rt->scope != SCOPE_BUSINESSES) {
		*status = 403;
		*code = "business_not_accessible";
	} else {
		*status = p->status;
		*code = p->code;
		*param = p->param;
	}
}

/* True when 'body' holds one of B's ids or names. */
static const char *
leaked(const struct walk *w, const char *body)
{
	const char	*b[] = { w->b.biz, w->b.hub, w->b.svc, w->b.loc, w->b.staff,
			    w->b.booking, w->b.hold, w->b_name, w->b_svc_name, w->b_hook,
			    w->b_delivery, NULL };

	for (int i = 0; b[i] != NULL; i++)
		if (strstr(body, b[i]) != NULL)
			return b[i];
	return NULL;
}

ParameterizedTestParameters(walk, kind)
{
	static enum kind kinds[] = { HUB, BUSINESS, PUBLISHABLE, SESSION };

	return cr_make_param_array(enum kind, kinds, NKINDS);
}

ParameterizedTest(enum kind *kind, walk, kind, .timeout = 60)
{
	struct walk		 w;
	struct http_resp	 r;
	char			 hdr[96], idem[96], what[256], *path, *body, *d;
	const char		*extra[3], *code, *param, *leak;
	int			 status, n;

	walk_init(&w);
	for (size_t i = 0; i < NPROBES; i++) {
		const struct probe *p = &probes[i];

		/* a hub key names A, except where B goes in the header */
		n = 0;
		if (p->place == IN_HEADER || *kind == HUB) {
			snprintf(hdr, sizeof(hdr), "Calendence-Business: %s",
			    p->place == IN_HEADER ? w.b.biz : w.a.biz);
			extra[n++] = hdr;
		}
		if (p->idem != NULL) {
			snprintf(idem, sizeof(idem), "Idempotency-Key: %s", p->idem);
			extra[n++] = idem;
		}
		extra[n] = NULL;
		path = expand(&w, p->path);
		body = expand(&w, p->body);
		expected(p, *kind, &status, &code, &param);
		snprintf(what, sizeof(what), "%s key, B in the %s: %s %s%s%s", kind_names[*kind],
		    place_names[p->place], p->method, path, body ? " " : "", body ? body : "");
		cr_assert_eq(http_call(p->method, path, w.keys[*kind], extra, body, &r), 0,
		    "%s", what);
		cr_expect_eq(r.status, status, "%s: %d, want %d: %s", what, r.status, status,
		    r.body);
		if (code != NULL)
			cr_expect_str_eq(nz(jstr(r.json, "error.code")), code, "%s: %s", what,
			    r.body);
		if (param != NULL)
			cr_expect_str_eq(nz(jstr(r.json, "error.param")), param, "%s: %s", what,
			    r.body);
		cr_expect_null(http_header(&r, "Idempotent-Replayed"), "%s: replayed", what);
		leak = leaked(&w, r.body);
		cr_expect_null(leak, "%s: the answer shows B's %s: %s", what, nz(leak), r.body);
		cr_expect(r.status == 403 || r.status == 404 || r.status == 422 ||
		    (r.status < 300 && leak == NULL), "%s: %d", what, r.status);
		http_resp_free(&r);
		free(path);
		free(body);
	}
	d = fx_business_digest(w.b.biz);
	cr_expect_str_eq(d, w.b_digest, "B's rows changed during the %s key's walk",
	    kind_names[*kind]);
	free(d);
	walk_free(&w);
}

/*
 * The walk covers the router: every probe names its route as the router
 * matches it, and every route is walked with B in the header, in the path
 * when it has an id there, in the body when it takes one and acts for a
 * business, and in the query string when it is a GET without an id.
 */
Test(walk, covers_every_route)
{
	char			 args[REQ_MAX_ARGS][REQ_ARG_MAX], allow[128], path[256];
	const struct route	*rt;
	int			 seen[ROUTE__MAX][4] = { { 0 } };

	for (size_t i = 0; i < NPROBES; i++) {
		const struct probe *p = &probes[i];

		snprintf(path, sizeof(path), "%s", p->path);
		path[strcspn(path, "?")] = '\0';
		for (char *b; (b = strchr(path, '{')) != NULL;) {
			char *e = strchr(b, '}');

			cr_assert_not_null(e);
			memmove(b + 1, e + 1, strlen(e + 1) + 1);
			*b = 'x';	/* any id */
		}
		rt = NULL;
		cr_expect_eq(route_match(p->method, path, args, &rt, allow, sizeof(allow)),
		    ROUTE_FOUND, "probe %zu: %s %s is no route", i, p->method, p->path);
		cr_expect(rt == &routes[p->route], "probe %zu: %s %s is route %ld, not %d", i,
		    p->method, p->path, rt ? (long)(rt - routes) : -1L, (int)p->route);
		seen[p->route][p->place]++;
	}
	for (int i = 0; i < ROUTE__MAX; i++) {
		const struct route *q = &routes[i];

		cr_expect(seen[i][IN_HEADER] > 0, "%s %s: not walked with B in the header",
		    q->method, q->pattern);
		if (strstr(q->pattern, "{}") != NULL)
			cr_expect(seen[i][IN_PATH] > 0, "%s %s: not walked with B in the path",
			    q->method, q->pattern);
		if (q->body && q->scope != SCOPE_NONE)
			cr_expect(seen[i][IN_BODY] > 0, "%s %s: not walked with B in the body",
			    q->method, q->pattern);
		if (strcmp(q->method, "GET") == 0 && strstr(q->pattern, "{}") == NULL)
			cr_expect(seen[i][IN_QUERY] > 0, "%s %s: not walked with B in the "
			    "query", q->method, q->pattern);
	}
}
