/* e2e_matrix.c: SPEC 4 end to end: which kind of key may call what, cell by cell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "fixture.h"
#include "http.h"
#include "api.h"


enum kind { HUB, BUSINESS, PUBLISHABLE, SESSION };

static const char *const kind_names[] = {
	[HUB] = "hub", [BUSINESS] = "business", [PUBLISHABLE] = "publishable",
	[SESSION] = "session",
};

/*
 * What a path names besides the endpoint itself. WEBHOOK_ID: a webhook of
 * the business; DELIVERY_ID: "<webhook>/deliveries/<delivery>", one of its
 * deliveries (both made in the database, the delivery 'failed', so that no
 * sender would take it up).
 */
enum arg { NO_ARG, SERVICE_ID, BUSINESS_ID, HOLD_ID, BOOKING_ID, WEBHOOK_ID, DELIVERY_ID };

/*
 * One cell of the matrix: the request, the kind of key, and the status it
 * earns. Criterion runs each cell in a process of its own, where pointers into
 * the parent's data would not hold: the strings are arrays.
 */
struct cell {
	char		 method[8];
	char		 path[32];	/* followed by "/<id>" when arg names one */
	enum arg	 arg;
	enum kind	 kind;
	int		 status;	/* 403 means key_type_not_allowed; 422: let through,
				   refused for the missing body member 'param' */
	char		 suffix[16];	/* after the id */
	char		 param[16];
};

static const struct cell cells[] = {
	{ "POST",   "/api/v1/session",        NO_ARG,      HUB,         403, "", "" },
	{ "POST",   "/api/v1/session",        NO_ARG,      BUSINESS,    403, "", "" },
	{ "POST",   "/api/v1/session",        NO_ARG,      PUBLISHABLE, 201, "", "" },
	{ "POST",   "/api/v1/session",        NO_ARG,      SESSION,     201, "", "" },
	{ "DELETE", "/api/v1/session",        NO_ARG,      HUB,         403, "", "" },
	{ "DELETE", "/api/v1/session",        NO_ARG,      BUSINESS,    403, "", "" },
	{ "DELETE", "/api/v1/session",        NO_ARG,      PUBLISHABLE, 403, "", "" },
	{ "DELETE", "/api/v1/session",        NO_ARG,      SESSION,     204, "", "" },
	{ "GET",    "/api/v1/services",       NO_ARG,      HUB,         200, "", "" },
	{ "GET",    "/api/v1/services",       NO_ARG,      BUSINESS,    200, "", "" },
	{ "GET",    "/api/v1/services",       NO_ARG,      PUBLISHABLE, 403, "", "" },
	{ "GET",    "/api/v1/services",       NO_ARG,      SESSION,     200, "", "" },
	{ "GET",    "/api/v1/services",       SERVICE_ID,  HUB,         200, "", "" },
	{ "GET",    "/api/v1/services",       SERVICE_ID,  BUSINESS,    200, "", "" },
	{ "GET",    "/api/v1/services",       SERVICE_ID,  PUBLISHABLE, 403, "", "" },
	{ "GET",    "/api/v1/services",       SERVICE_ID,  SESSION,     200, "", "" },
	{ "GET",    "/api/v1/businesses",     NO_ARG,      HUB,         200, "", "" },
	{ "GET",    "/api/v1/businesses",     NO_ARG,      BUSINESS,    200, "", "" },
	{ "GET",    "/api/v1/businesses",     NO_ARG,      PUBLISHABLE, 403, "", "" },
	{ "GET",    "/api/v1/businesses",     NO_ARG,      SESSION,     403, "", "" },
	{ "GET",    "/api/v1/businesses",     BUSINESS_ID, HUB,         200, "", "" },
	{ "GET",    "/api/v1/businesses",     BUSINESS_ID, BUSINESS,    200, "", "" },
	{ "GET",    "/api/v1/businesses",     BUSINESS_ID, PUBLISHABLE, 403, "", "" },
	{ "GET",    "/api/v1/businesses",     BUSINESS_ID, SESSION,     403, "", "" },
	/* each on a live hold the caller made itself */
	{ "DELETE", "/api/v1/bookings/hold",  HOLD_ID,     HUB,         204, "", "" },
	{ "DELETE", "/api/v1/bookings/hold",  HOLD_ID,     BUSINESS,    204, "", "" },
	{ "DELETE", "/api/v1/bookings/hold",  HOLD_ID,     PUBLISHABLE, 403, "", "" },
	{ "DELETE", "/api/v1/bookings/hold",  HOLD_ID,     SESSION,     204, "", "" },
	/* each on a booking the caller made itself, without a body */
	{ "POST",   "/api/v1/bookings",       BOOKING_ID,  HUB,         422, "/reschedule",
	    "hold_id" },
	{ "POST",   "/api/v1/bookings",       BOOKING_ID,  BUSINESS,    422, "/reschedule",
	    "hold_id" },
	{ "POST",   "/api/v1/bookings",       BOOKING_ID,  PUBLISHABLE, 403, "/reschedule",
	    "" },
	{ "POST",   "/api/v1/bookings",       BOOKING_ID,  SESSION,     422, "/reschedule",
	    "hold_id" },
	{ "PATCH",  "/api/v1/bookings",       BOOKING_ID,  HUB,         422, "", "status" },
	{ "PATCH",  "/api/v1/bookings",       BOOKING_ID,  BUSINESS,    422, "", "status" },
	{ "PATCH",  "/api/v1/bookings",       BOOKING_ID,  PUBLISHABLE, 403, "", "" },
	{ "PATCH",  "/api/v1/bookings",       BOOKING_ID,  SESSION,     403, "", "" },
	/* webhooks (SPEC 11), each business with one webhook and one delivery; a
	   creation without a body makes nothing */
	{ "POST",   "/api/v1/webhooks",       NO_ARG,      HUB,         422, "", "url" },
	{ "POST",   "/api/v1/webhooks",       NO_ARG,      BUSINESS,    422, "", "url" },
	{ "POST",   "/api/v1/webhooks",       NO_ARG,      PUBLISHABLE, 403, "", "" },
	{ "POST",   "/api/v1/webhooks",       NO_ARG,      SESSION,     403, "", "" },
	{ "GET",    "/api/v1/webhooks",       NO_ARG,      HUB,         200, "", "" },
	{ "GET",    "/api/v1/webhooks",       NO_ARG,      BUSINESS,    200, "", "" },
	{ "GET",    "/api/v1/webhooks",       NO_ARG,      PUBLISHABLE, 403, "", "" },
	{ "GET",    "/api/v1/webhooks",       NO_ARG,      SESSION,     403, "", "" },
	{ "GET",    "/api/v1/webhooks",       WEBHOOK_ID,  HUB,         200, "", "" },
	{ "GET",    "/api/v1/webhooks",       WEBHOOK_ID,  BUSINESS,    200, "", "" },
	{ "GET",    "/api/v1/webhooks",       WEBHOOK_ID,  PUBLISHABLE, 403, "", "" },
	{ "GET",    "/api/v1/webhooks",       WEBHOOK_ID,  SESSION,     403, "", "" },
	{ "DELETE", "/api/v1/webhooks",       WEBHOOK_ID,  HUB,         204, "", "" },
	{ "DELETE", "/api/v1/webhooks",       WEBHOOK_ID,  BUSINESS,    204, "", "" },
	{ "DELETE", "/api/v1/webhooks",       WEBHOOK_ID,  PUBLISHABLE, 403, "", "" },
	{ "DELETE", "/api/v1/webhooks",       WEBHOOK_ID,  SESSION,     403, "", "" },
	{ "GET",    "/api/v1/webhooks",       WEBHOOK_ID,  HUB,         200, "/deliveries",
	    "" },
	{ "GET",    "/api/v1/webhooks",       WEBHOOK_ID,  BUSINESS,    200, "/deliveries",
	    "" },
	{ "GET",    "/api/v1/webhooks",       WEBHOOK_ID,  PUBLISHABLE, 403, "/deliveries",
	    "" },
	{ "GET",    "/api/v1/webhooks",       WEBHOOK_ID,  SESSION,     403, "/deliveries",
	    "" },
	{ "POST",   "/api/v1/webhooks",       DELIVERY_ID, HUB,         202, "/retry", "" },
	{ "POST",   "/api/v1/webhooks",       DELIVERY_ID, BUSINESS,    202, "/retry", "" },
	{ "POST",   "/api/v1/webhooks",       DELIVERY_ID, PUBLISHABLE, 403, "/retry", "" },
	{ "POST",   "/api/v1/webhooks",       DELIVERY_ID, SESSION,     403, "/retry", "" },
};

ParameterizedTestParameters(matrix, cell)
{
	return cr_make_param_array(struct cell, cells, sizeof(cells) / sizeof(cells[0]));
}

/*
 * A live hold of 'svc' 8 days ahead made by the caller of 'token': its
 * session chain for a session, else its key (a publishable key's hold is
 * a key's too, for the 403 cells). The caller frees the id.
 */
static char *
hold_of(const char *biz, const char *svc, const char *token, enum kind kind)
{
	char	*loc, *staff, *id;

	loc = fx_location(biz);
	staff = fx_staff(biz, loc);
	id = fx_value("SELECT h.body::json->>'hold_id' FROM calendence.hold($1, $2, $3, "
	    "calendence.rfc3339(((now() AT TIME ZONE 'America/Chicago')::date + 8 + "
	    "time '10:00') AT TIME ZONE 'America/Chicago'), NULL, (SELECT s.root_session_id "
	    "FROM calendence.sessions s WHERE $5 AND s.token_hash = calendence.token_hash($4)), "
	    "(SELECT k.id FROM calendence.api_keys k WHERE NOT $5 AND "
	    "k.token_hash = calendence.token_hash($4))) h WHERE h.status = 'ok'", biz, svc, loc,
	    token, kind == SESSION ? "true" : "false", NULL);
	cr_assert_not_null(id, "no hold");
	free(loc);
	free(staff);
	return id;
}

/* 1 for a cell of /api/v1/webhooks or a path below it. */
static int
is_webhooks(const struct cell *c)
{
	return strcmp(c->path, "/api/v1/webhooks") == 0;
}

/* The business of the running cell, whose webhooks go when it ends. */
static char	 cell_biz[40];

/* .fini of every cell: no webhook (nor its delivery) is left behind. */
static void
drop_webhooks(void)
{
	if (cell_biz[0] != '\0')
		fx_exec("DELETE FROM calendence.webhooks WHERE business_id = $1", cell_biz,
		    NULL);
	cell_biz[0] = '\0';
}

/*
 * A webhook of 'biz' and a failed delivery of it, made in the database; the
 * ids into *hook and *delivery.
 */
static void
webhook_of(const char *biz, char **hook, char **delivery)
{
	*hook = fx_value("INSERT INTO calendence.webhooks (business_id, url, events, "
	    "secret_box) VALUES ($1, 'https://matrix.invalid/h', '{booking.created}', "
	    "decode(repeat('00', 78), 'hex')) RETURNING id", biz, NULL);
	cr_assert_not_null(*hook, "no webhook");
	*delivery = fx_value("WITH e AS (INSERT INTO calendence.webhook_events (business_id, "
	    "booking_id, event, payload) VALUES ($1, gen_random_uuid(), 'booking.created', "
	    "'{}') RETURNING id) INSERT INTO calendence.webhook_deliveries (webhook_id, "
	    "event_id, status, attempts, last_error, next_attempt_at) SELECT $2::uuid, e.id, "
	    "'failed', 3, 'x', NULL FROM e RETURNING id", biz, *hook, NULL);
	cr_assert_not_null(*delivery, "no delivery");
}

/*
 * After a webhook cell: "<webhooks of the business> <the delivery's status>",
 * from the database.
 */
static char *
webhook_state(const char *biz, const char *delivery)
{
	return fx_value("SELECT (SELECT count(*) FROM calendence.webhooks WHERE "
	    "business_id = $1) || ' ' || coalesce((SELECT status FROM "
	    "calendence.webhook_deliveries WHERE id = $2::uuid), 'gone')", biz, delivery,
	    NULL);
}

/* What a 2xx of a webhooks cell must show besides its status. */
static void
expect_webhook_body(const struct cell *c, const struct http_resp *r, const char *hook,
    const char *delivery, const char *what)
{
	if (c->arg == DELIVERY_ID) {
		cr_expect_str_eq(nz(jstr(r->json, "id")), delivery, "%s: %s", what, r->body);
		cr_expect_str_eq(nz(jstr(r->json, "status")), "pending", "%s: %s", what,
		    r->body);
	} else if (c->arg == WEBHOOK_ID && c->suffix[0] != '\0') {
		cr_expect_str_eq(nz(jstr(r->json, "data.0.id")), delivery, "%s: %s", what,
		    r->body);
		cr_expect_eq(jint(r->json, "meta.total"), 1, "%s: %s", what, r->body);
	} else if (c->arg == WEBHOOK_ID) {
		cr_expect_str_eq(nz(jstr(r->json, "id")), hook, "%s: %s", what, r->body);
		cr_expect_not(jhas(r->json, "secret"), "%s: a secret: %s", what, r->body);
	} else {
		cr_expect_str_eq(nz(jstr(r->json, "data.0.id")), hook, "%s: %s", what, r->body);
		cr_expect_eq(jint(r->json, "meta.total"), 1, "%s: %s", what, r->body);
	}
}

/* What a 2xx of the cell must show besides its status. */
static void
expect_body(const struct cell *c, const struct http_resp *r, const char *biz,
    const char *svc, const char *what)
{
	if (strcmp(c->path, "/api/v1/session") == 0 && c->status == 201) {
		cr_expect_eq(strncmp(nz(jstr(r->json, "session_token")), "cal_ses_", 8), 0,
		    "%s: %s", what, r->body);
		cr_expect_str_eq(nz(jstr(r->json, "business.id")), biz, "%s", what);
	} else if (c->status == 204)
		cr_expect_eq(r->body_len, 0, "%s: body on a 204: %s", what, r->body);
	else if (c->arg == SERVICE_ID)
		cr_expect_str_eq(nz(jstr(r->json, "id")), svc, "%s: %s", what, r->body);
	else if (c->arg == BUSINESS_ID)
		cr_expect_str_eq(nz(jstr(r->json, "id")), biz, "%s: %s", what, r->body);
	else if (strcmp(c->path, "/api/v1/services") == 0)
		cr_expect_str_eq(nz(jstr(r->json, "data.0.id")), svc, "%s: %s", what, r->body);
	else
		cr_expect_str_eq(nz(jstr(r->json, "data.0.id")), biz, "%s: %s", what, r->body);
}

ParameterizedTest(struct cell *c, matrix, cell, .fini = drop_webhooks)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*svc = fx_service(biz, NULL, 1), *pub = fx_key("publishable", biz);
	char			*token, *id = NULL, path[160], what[200], hdr[96];
	char			*hook = NULL, *delivery = NULL, *state;
	const char		*extra[] = { hdr, NULL };
	struct http_resp	 r;

	switch (c->kind) {
	case HUB:
		token = fx_key("hub", hub);
		break;
	case BUSINESS:
		token = fx_key("business", biz);
		break;
	case PUBLISHABLE:
		token = strdup(pub);
		break;
	default:
		token = new_session(pub, NULL);
		break;
	}
	cr_assert_not_null(token);
	if (c->arg == HOLD_ID || c->arg == BOOKING_ID)
		id = hold_of(biz, svc, token, c->kind);
	if (c->arg == BOOKING_ID) {
		char	*held = id;

		id = fx_value("SELECT b.body::json->>'id' FROM calendence.reservations h, "
		    "calendence.book($1, $2, '{\"first_name\": \"Mat\", \"last_name\": "
		    "\"Rix\", \"email\": \"mat@example.com\"}', NULL, NULL, "
		    "h.root_session_id, h.key_id) b WHERE h.id = $2::uuid AND b.status = 'ok'",
		    biz, held, NULL);
		cr_assert_not_null(id, "no booking");
		free(held);
	}
	if (is_webhooks(c)) {
		snprintf(cell_biz, sizeof(cell_biz), "%s", biz);
		webhook_of(biz, &hook, &delivery);
	}
	if (c->arg == WEBHOOK_ID || c->arg == DELIVERY_ID)
		snprintf(path, sizeof(path), "%s/%s%s%s%s", c->path, hook,
		    c->arg == DELIVERY_ID ? "/deliveries/" : "",
		    c->arg == DELIVERY_ID ? delivery : "", c->suffix);
	else
		snprintf(path, sizeof(path), "%s%s%s%s", c->path, c->arg == NO_ARG ? "" : "/",
		    c->arg == NO_ARG ? "" : c->arg == SERVICE_ID ? svc :
		    c->arg == HOLD_ID || c->arg == BOOKING_ID ? id : biz, c->suffix);
	snprintf(what, sizeof(what), "%s %s with a %s key", c->method, path,
	    kind_names[c->kind]);
	/* a hub key names the business wherever it acts for one */
	snprintf(hdr, sizeof(hdr), "Calendence-Business: %s", biz);
	cr_assert_eq(http_call(c->method, path, token, c->kind == HUB ? extra : NULL, NULL,
	    &r), 0);
	cr_expect_eq(r.status, c->status, "%s: %d, want %d: %s", what, r.status, c->status,
	    r.body);
	if (c->status == 403) {
		cr_expect_str_eq(nz(jstr(r.json, "error.type")), "permission_error", "%s", what);
		cr_expect_str_eq(nz(jstr(r.json, "error.code")), "key_type_not_allowed", "%s",
		    what);
	} else if (c->status == 422)
		expect_error(&r, 422, "validation_failed", c->param, NULL);
	else if (r.status == c->status && is_webhooks(c) && c->status != 204)
		expect_webhook_body(c, &r, hook, delivery, what);
	else if (r.status == c->status)
		expect_body(c, &r, biz, svc, what);
	http_resp_free(&r);
	if (is_webhooks(c)) {
		/* a refused request changed nothing; a let-through one did its part */
		state = webhook_state(biz, delivery);
		cr_expect_str_eq(nz(state), c->status == 204 ? "0 gone" :
		    c->status == 202 ? "1 pending" : "1 failed", "%s: afterwards %s", what,
		    nz(state));
		free(state);
		drop_webhooks();
	}
	free(hook);
	free(delivery);
	free(id);
	free(token);
	free(pub);
	free(svc);
	free(biz);
	free(hub);
}
