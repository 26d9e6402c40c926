/* e2e_booking.c: SPEC 9 (and the phase 2 rows of SPEC 4), the booking flow through the web server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"
#include "api.h"

#define AVAIL_PATH	"/api/v1/availability"
#define HOLD_PATH	"/api/v1/bookings/hold"
#define BOOK_PATH	"/api/v1/bookings"
#define LOC_PATH	"/api/v1/locations"

/* GET /availability of service 'svc' over [from, to] (NULLs: left out). */
static void
avail(const char *token, const char *svc, const char *from, const char *to,
    struct http_resp *r)
{
	char	 path[512];
	int	 n;

	/* "?&...": an empty piece of the query is no parameter */
	n = snprintf(path, sizeof(path), "%s?", AVAIL_PATH);
	if (svc != NULL)
		n += snprintf(path + n, sizeof(path) - n, "&service_id=%s", svc);
	if (from != NULL)
		n += snprintf(path + n, sizeof(path) - n, "&date_from=%s", from);
	if (to != NULL)
		snprintf(path + n, sizeof(path) - n, "&date_to=%s", to);
	cr_assert_eq(http_get(path, token, NULL, r), 0);
}

/* 1 when the availability answer r lists a slot of 'staff' at 'starts' on 'day'. */
static int
has_slot(const struct http_resp *r, const char *day, const char *staff, const char *starts)
{
	json_object	*arr = jget(r->json, "data");
	size_t		 i, n;

	if (arr == NULL || !json_object_object_get_ex(arr, day, &arr) || arr == NULL)
		return 0;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		json_object	*o = json_object_array_get_idx(arr, i);
		const char	*st = jstr(o, "starts_at"), *sf = jstr(o, "staff.id");

		if (st != NULL && sf != NULL && strcmp(st, starts) == 0 &&
		    strcmp(sf, staff) == 0)
			return 1;
	}
	return 0;
}

/* 1 when GET /bookings with token lists booking 'id'. */
static int
listed(const char *token, const char *id)
{
	struct http_resp	 r;
	json_object		*d;
	size_t			 i;
	int			 found = 0;

	cr_assert_eq(http_get(BOOK_PATH "?per_page=50", token, NULL, &r), 0);
	cr_assert_eq(r.status, 200, "list: %d %s", r.status, r.body);
	d = jget(r.json, "data");
	cr_assert(d != NULL && json_object_is_type(d, json_type_array), "%s", r.body);
	for (i = 0; i < json_object_array_length(d); i++)
		if (strcmp(nz(jstr(json_object_array_get_idx(d, i), "id")), id) == 0)
			found = 1;
	http_resp_free(&r);
	return found;
}

Test(booking, widget_flow_with_a_session)
{
	struct fx_shop		 s;
	struct slot		 sl = { 0 };
	struct http_resp	 r;
	char			 path[256], *tok, *h, *id, *ok;

	fx_shop_open(&s, "pro");
	tok = new_session(s.pub, NULL);
	cr_assert_eq(get_status("/api/v1/services", tok), 200);

	avail(tok, s.svc, s.day, s.day, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "meta.service_id")), s.svc);
	cr_expect_str_eq(nz(jstr(r.json, "meta.date_from")), s.day);
	cr_expect_str_eq(nz(jstr(r.json, "meta.date_to")), s.day);
	http_resp_free(&r);
	first_slot(&s, tok, &sl);
	cr_expect_str_eq(sl.staff, s.staff);
	cr_expect_str_eq(sl.location, s.loc);

	hold(tok, NULL, s.svc, sl.location, sl.starts_at, sl.staff, &r);
	cr_assert_eq(r.status, 201, "hold: %d %s", r.status, r.body);
	cr_assert_not_null(jstr(r.json, "hold_id"), "%s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "starts_at")), sl.starts_at);
	cr_expect_str_eq(nz(jstr(r.json, "staff.id")), s.staff);
	ok = fx_value("SELECT abs(extract(epoch FROM $1::timestamptz - now()) - 600) < 30",
	    nz(jstr(r.json, "expires_at")), NULL);
	cr_expect_str_eq(nz(ok), "t", "expires_at %s", nz(jstr(r.json, "expires_at")));
	free(ok);
	h = strdup(jstr(r.json, "hold_id"));
	http_resp_free(&r);

	book(tok, h, "ann@example.com", "Blue car", &r);
	cr_assert_eq(r.status, 201, "book: %d %s", r.status, r.body);
	cr_expect_str_eq(nz(jstr(r.json, "status")), "confirmed", "%s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "client.email")), "ann@example.com");
	cr_expect_str_eq(nz(jstr(r.json, "starts_at")), sl.starts_at);
	cr_expect_str_eq(nz(jstr(r.json, "notes")), "Blue car");
	cr_assert_not_null(jstr(r.json, "id"), "%s", r.body);
	id = strdup(jstr(r.json, "id"));
	http_resp_free(&r);

	avail(tok, s.svc, s.day, s.day, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_expect_not(has_slot(&r, s.day, sl.staff, sl.starts_at),
	    "booked slot %s still offered", sl.starts_at);
	http_resp_free(&r);

	snprintf(path, sizeof(path), BOOK_PATH "/%s/cancel", id);
	cr_assert_eq(http_post(path, tok, NULL, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "cancel: %d %s", r.status, r.body);
	cr_expect_str_eq(nz(jstr(r.json, "status")), "cancelled", "%s", r.body);
	http_resp_free(&r);

	avail(tok, s.svc, s.day, s.day, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_expect(has_slot(&r, s.day, sl.staff, sl.starts_at),
	    "cancelled slot %s not offered again", sl.starts_at);
	http_resp_free(&r);

	free(id);
	free(h);
	free(tok);
	slot_free(&sl);
	fx_shop_free(&s);
}

Test(booking, taken_slot_and_used_hold_conflict)
{
	struct fx_shop		 s;
	struct slot		 sl = { 0 };
	struct http_resp	 r;
	char			*h;

	fx_shop_open(&s, "pro");
	first_slot(&s, s.key, &sl);
	h = hold_ok(&s, s.key, &sl);

	hold(s.key, NULL, s.svc, sl.location, sl.starts_at, sl.staff, &r);
	expect_error(&r, 409, "slot_unavailable", NULL, NULL);
	cr_expect_str_eq(nz(jstr(r.json, "error.message")), "This slot is not available.",
	    "on the grid: %s", r.body);
	http_resp_free(&r);

	book(s.key, h, "ann@example.com", NULL, &r);
	cr_expect_eq(r.status, 201, "book: %d %s", r.status, r.body);
	http_resp_free(&r);
	book(s.key, h, "ann@example.com", NULL, &r);
	expect_error(&r, 409, "hold_expired", NULL, NULL);
	http_resp_free(&r);

	free(h);
	slot_free(&sl);
	fx_shop_free(&s);
}

Test(booking, validation_names_the_parameter)
{
	struct fx_shop		 s;
	struct slot		 sl = { 0 };
	struct http_resp	 r;
	char			*far, *past, *today, *h, *notes, body[512];

	fx_shop_open(&s, "pro");
	far = fx_value("SELECT to_char($1::date + 20, 'YYYY-MM-DD')", s.day, NULL);
	today = fx_value("SELECT to_char((now() AT TIME ZONE 'America/Chicago')::date, "
	    "'YYYY-MM-DD')", NULL);
	past = fx_value("SELECT to_char($1::date - 1, 'YYYY-MM-DD')", today, NULL);

	avail(s.key, NULL, s.day, s.day, &r);
	expect_error(&r, 422, "validation_failed", "service_id", NULL);
	http_resp_free(&r);
	avail(s.key, s.svc, s.day, far, &r);
	expect_error(&r, 422, "validation_failed", "date_to", NULL);
	http_resp_free(&r);
	avail(s.key, s.svc, past, today, &r);
	expect_error(&r, 422, "validation_failed", "date_from", NULL);
	http_resp_free(&r);

	first_slot(&s, s.key, &sl);
	snprintf(body, sizeof(body), "{\"service_id\":\"%s\",\"location_id\":\"%s\"}", s.svc,
	    s.loc);
	cr_assert_eq(http_post(HOLD_PATH, s.key, NULL, body, &r), 0);
	expect_error(&r, 422, "validation_failed", "starts_at", NULL);
	http_resp_free(&r);
	snprintf(body, sizeof(body), "{\"service_id\":123,\"location_id\":\"%s\","
	    "\"starts_at\":\"%s\"}", s.loc, sl.starts_at);
	cr_assert_eq(http_post(HOLD_PATH, s.key, NULL, body, &r), 0);
	expect_error(&r, 422, "validation_failed", "service_id", NULL);
	http_resp_free(&r);

	h = hold_ok(&s, s.key, &sl);
	book(s.key, h, "not-an-email", NULL, &r);
	expect_error(&r, 422, "validation_failed", "client.email", NULL);
	http_resp_free(&r);
	notes = malloc(1002);
	cr_assert_not_null(notes);
	memset(notes, 'n', 1001);
	notes[1001] = '\0';
	book(s.key, h, "ann@example.com", notes, &r);
	expect_error(&r, 422, "validation_failed", "notes", NULL);
	http_resp_free(&r);
	/* the hold is still good after the refusals */
	notes[1000] = '\0';
	book(s.key, h, "ann@example.com", notes, &r);
	cr_expect_eq(r.status, 201, "book: %d %s", r.status, r.body);
	http_resp_free(&r);

	free(notes);
	free(h);
	free(far);
	free(past);
	free(today);
	slot_free(&sl);
	fx_shop_free(&s);
}

Test(booking, idempotency_key_on_hold)
{
	struct fx_shop		 s;
	struct slot		 sl = { 0 };
	struct http_resp	 r1, r2, r3;
	const char *const	 idem[] = { "Idempotency-Key: hold-key-1", NULL };
	char			*other;

	fx_shop_open(&s, "pro");
	first_slot(&s, s.key, &sl);
	other = fx_value("SELECT calendence.rfc3339($1::timestamptz + interval '1 hour')",
	    sl.starts_at, NULL);

	hold(s.key, idem, s.svc, sl.location, sl.starts_at, sl.staff, &r1);
	cr_assert_eq(r1.status, 201, "%s", r1.body);
	cr_expect_null(http_header(&r1, "Idempotent-Replayed"));
	hold(s.key, idem, s.svc, sl.location, sl.starts_at, sl.staff, &r2);
	cr_assert_eq(r2.status, 201, "%s", r2.body);
	cr_expect_str_eq(nz(jstr(r2.json, "hold_id")), nz(jstr(r1.json, "hold_id")));
	cr_expect_str_eq(nz(http_header(&r2, "Idempotent-Replayed")), "true", "%s",
	    r2.headers);

	hold(s.key, idem, s.svc, sl.location, nz(other), sl.staff, &r3);
	expect_error(&r3, 422, "validation_failed", NULL, NULL);
	http_resp_free(&r1);
	http_resp_free(&r2);
	http_resp_free(&r3);

	free(other);
	slot_free(&sl);
	fx_shop_free(&s);
}

Test(booking, who_sees_what)
{
	struct fx_shop		 s, t;
	struct http_resp	 r;
	const char *const	 nobiz[] = { NULL };
	char			 path[256], *hubkey, *mine, *theirs, *keyb, *s1, *s2;

	fx_shop_open(&s, "pro");
	fx_shop_open(&t, "pro");

	avail(s.pub, s.svc, s.day, s.day, &r);
	expect_error(&r, 403, "key_type_not_allowed", NULL, NULL);
	http_resp_free(&r);

	hubkey = fx_key("hub", s.hub);
	cr_assert_eq(http_get(BOOK_PATH, hubkey, nobiz, &r), 0);
	expect_error(&r, 400, "business_required", NULL, NULL);
	http_resp_free(&r);

	theirs = book_first(&t, t.key);
	snprintf(path, sizeof(path), BOOK_PATH "/%s", theirs);
	cr_expect_eq(get_status(path, s.key), 404, "another business's booking");
	cr_expect_eq(get_status(path, t.key), 200);

	keyb = book_first(&s, s.key);
	s1 = new_session(s.pub, NULL);
	mine = book_first(&s, s1);
	cr_expect_not(listed(s1, keyb), "a session lists a key's booking");
	cr_expect(listed(s1, mine), "a session does not list its own booking");
	snprintf(path, sizeof(path), BOOK_PATH "/%s", keyb);
	cr_expect_eq(get_status(path, s1), 404, "a session sees a key's booking");
	snprintf(path, sizeof(path), BOOK_PATH "/%s", mine);
	cr_expect_eq(get_status(path, s1), 200);
	cr_expect(listed(s.key, keyb) && listed(s.key, mine), "the key lists all");

	s2 = new_session(s1, NULL);
	cr_expect(listed(s2, mine), "a refreshed session lost its predecessor's booking");
	cr_expect_not(listed(s2, keyb));
	cr_expect_eq(get_status(path, s2), 200);

	free(hubkey);
	free(mine);
	free(theirs);
	free(keyb);
	free(s1);
	free(s2);
	fx_shop_free(&s);
	fx_shop_free(&t);
}

Test(booking, locations_of_the_business_only)
{
	struct fx_shop		 s, t;
	struct http_resp	 r;
	char			*second;
	json_object		*d;
	size_t			 i;

	fx_shop_open(&s, "pro");
	fx_shop_open(&t, "pro");
	second = fx_value("SELECT calendence.create_location($1, 'Annex', NULL, NULL, NULL)",
	    s.biz, NULL);

	cr_assert_eq(http_get(LOC_PATH, s.key, NULL, &r), 0);
	cr_assert_eq(r.status, 200, "%s", r.body);
	d = jget(r.json, "data");
	cr_assert(d != NULL && json_object_is_type(d, json_type_array), "%s", r.body);
	cr_expect_eq(json_object_array_length(d), 2, "%s", r.body);
	cr_expect_eq(jint(r.json, "meta.total"), 2, "%s", r.body);
	/* sorted by name */
	cr_expect_str_eq(nz(jstr(r.json, "data.0.id")), nz(second));
	cr_expect_str_eq(nz(jstr(r.json, "data.0.name")), "Annex");
	cr_expect_str_eq(nz(jstr(r.json, "data.1.id")), s.loc);
	for (i = 0; i < json_object_array_length(d); i++)
		cr_expect_str_neq(nz(jstr(json_object_array_get_idx(d, i), "id")), t.loc);
	http_resp_free(&r);

	cr_assert_eq(http_get(LOC_PATH "?per_page=1&page=2", s.key, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "data.1.id")), "(null)");
	cr_expect_str_eq(nz(jstr(r.json, "data.0.id")), s.loc, "%s", r.body);
	http_resp_free(&r);

	free(second);
	fx_shop_free(&s);
	fx_shop_free(&t);
}

/* RFC 3339 of hh:00 in Chicago on the shop's day plus 'plus' days; the caller frees it. */
static char *
start_at(const struct fx_shop *s, int plus, int hh)
{
	char	 p[16], h[16], *v;

	snprintf(p, sizeof(p), "%d", plus);
	snprintf(h, sizeof(h), "%d", hh);
	v = fx_value("SELECT calendence.rfc3339((($1::date + $2::integer) + make_time($3::integer, "
	    "0, 0)) AT TIME ZONE 'America/Chicago')", s->day, p, h, NULL);
	cr_assert_not_null(v);
	return v;
}

/* POST /bookings/hold at hh:00 of the shop's day (plus days) with token; the status. */
static int
hold_at(const struct fx_shop *s, const char *token, const char *const *extra, int plus,
    int hh, char **id)
{
	struct http_resp	 r;
	char			*t = start_at(s, plus, hh);
	int			 st;

	hold(token, extra, s->svc, s->loc, t, NULL, &r);
	st = r.status;
	if (id != NULL)
		*id = st == 201 ? strdup(nz(jstr(r.json, "hold_id"))) : NULL;
	if (st == 409)
		cr_expect_str_eq(nz(jstr(r.json, "error.type")), "invalid_request_error");
	http_resp_free(&r);
	free(t);
	return st;
}

/* DELETE /bookings/hold/{id} with token (and extra headers): the status. */
static int
release_hold(const char *token, const char *const *extra, const char *id)
{
	struct http_resp	 r;
	char			 path[256];
	int			 st;

	snprintf(path, sizeof(path), HOLD_PATH "/%s", id);
	cr_assert_eq(http_delete(path, token, extra, &r), 0);
	st = r.status;
	if (st == 204)
		cr_expect_eq(r.body_len, 0, "a body on a 204: %s", r.body);
	else if (st == 404)
		cr_expect_str_eq(nz(jstr(r.json, "error.code")), "not_found", "%s", r.body);
	http_resp_free(&r);
	return st;
}

/* POST /bookings of 'hold_id' with token and extra headers; the status. */
static int
book_with(const char *token, const char *const *extra, const char *hold_id,
    const char *first, const char *last, char **param)
{
	struct http_resp	 r;
	char			 body[512];
	int			 st;

	snprintf(body, sizeof(body), "{\"hold_id\":\"%s\",\"client\":{\"first_name\":%s,"
	    "\"last_name\":%s,\"email\":\"ann@example.com\"}}", hold_id, first, last);
	cr_assert_eq(http_post(BOOK_PATH, token, extra, body, &r), 0);
	st = r.status;
	if (param != NULL)
		*param = jstr(r.json, "error.param") ? strdup(jstr(r.json, "error.param")) : NULL;
	http_resp_free(&r);
	return st;
}

/*
 * A session chain holds at most max_holds (3) live holds: the fourth is 409
 * too_many_holds, for its refresh too; a released hold makes room; keys
 * have no cap.
 */
Test(booking, too_many_holds_per_session)
{
	struct fx_shop	 s;
	char		*tok, *tok2, *h[3];
	int		 i;

	fx_shop_open(&s, "pro");
	tok = new_session(s.pub, NULL);
	for (i = 0; i < 3; i++)
		cr_expect_eq(hold_at(&s, tok, NULL, 0, 9 + i, &h[i]), 201, "hold %d", i);
	cr_expect_eq(hold_at(&s, tok, NULL, 0, 12, NULL), 409);
	tok2 = new_session(tok, NULL);		/* a refresh: the same chain */
	cr_expect_eq(hold_at(&s, tok2, NULL, 0, 12, NULL), 409);
	cr_expect_eq(release_hold(tok2, NULL, h[0]), 204);
	cr_expect_eq(hold_at(&s, tok2, NULL, 0, 12, NULL), 201);
	cr_expect_eq(hold_at(&s, tok2, NULL, 0, 13, NULL), 409);
	for (i = 0; i < 4; i++)
		cr_expect_eq(hold_at(&s, s.key, NULL, 1, 9 + i, NULL), 201, "key hold %d", i);
	{
		struct http_resp	 r;
		char			*t = start_at(&s, 0, 14);

		hold(tok, NULL, s.svc, s.loc, t, NULL, &r);
		expect_error(&r, 409, "too_many_holds", NULL, NULL);
		http_resp_free(&r);
		free(t);
	}
	for (i = 0; i < 3; i++)
		free(h[i]);
	free(tok);
	free(tok2);
	fx_shop_free(&s);
}

/*
 * DELETE /bookings/hold/{id}: 204 and the slot is offered again at once;
 * again 204; 404 for a malformed or unknown id, a booked hold, and another
 * caller's hold (a session and a key's hold, a key and a session's hold).
 */
Test(booking, release_hold)
{
	struct fx_shop		 s;
	struct slot		 sl = { 0 };
	struct http_resp	 r;
	char			*h, *hb, *hs, *tok, *rnd;

	fx_shop_open(&s, "pro");
	first_slot(&s, s.key, &sl);
	h = hold_ok(&s, s.key, &sl);
	avail(s.key, s.svc, s.day, s.day, &r);
	cr_expect_not(has_slot(&r, s.day, sl.staff, sl.starts_at));
	http_resp_free(&r);
	tok = new_session(s.pub, NULL);
	cr_expect_eq(release_hold(tok, NULL, h), 404, "a session released a key's hold");
	cr_expect_eq(release_hold(s.key, NULL, h), 204);
	avail(s.key, s.svc, s.day, s.day, &r);
	cr_expect(has_slot(&r, s.day, sl.staff, sl.starts_at), "the released slot is not offered");
	http_resp_free(&r);
	cr_expect_eq(release_hold(s.key, NULL, h), 204);
	book(s.key, h, "ann@example.com", NULL, &r);
	expect_error(&r, 409, "hold_expired", NULL, NULL);
	http_resp_free(&r);

	cr_expect_eq(release_hold(s.key, NULL, "nope"), 404);
	rnd = fx_value("SELECT gen_random_uuid()", NULL);
	cr_expect_eq(release_hold(s.key, NULL, rnd), 404);
	cr_expect_eq(hold_at(&s, s.key, NULL, 1, 10, &hb), 201);
	cr_expect_eq(book_with(s.key, NULL, hb, "\"Ann\"", "\"Lee\"", NULL), 201);
	cr_expect_eq(release_hold(s.key, NULL, hb), 404, "released a booking");
	cr_expect_eq(hold_at(&s, tok, NULL, 1, 12, &hs), 201);
	cr_expect_eq(release_hold(s.key, NULL, hs), 404, "a key released a session's hold");
	cr_expect_eq(release_hold(tok, NULL, hs), 204);
	free(h); free(hb); free(hs); free(tok); free(rnd);
	slot_free(&sl);
	fx_shop_free(&s);
}

/*
 * A hold made with a key is the business's: another business key, the hub
 * key and a rolled replacement book it; a session does not, and a key does
 * not book a session's hold.
 */
Test(booking, any_key_of_the_business_books_its_holds)
{
	struct fx_shop	 s;
	char		 hdr[96], *key2, *hub, *kid, *rolled, *tok, *h, *param = NULL;
	const char	*hubx[] = { hdr, NULL };

	fx_shop_open(&s, "pro");
	snprintf(hdr, sizeof(hdr), "Calendence-Business: %s", s.biz);
	key2 = fx_key("business", s.biz);
	hub = fx_key("hub", s.hub);
	tok = new_session(s.pub, NULL);

	cr_assert_eq(hold_at(&s, s.key, NULL, 0, 9, &h), 201);
	cr_expect_eq(book_with(tok, NULL, h, "\"Ann\"", "\"Lee\"", &param), 422);
	cr_expect_str_eq(nz(param), "hold_id");
	free(param);
	cr_expect_eq(book_with(key2, NULL, h, "\"Ann\"", "\"Lee\"", NULL), 201);
	free(h);
	cr_assert_eq(hold_at(&s, s.key, NULL, 0, 10, &h), 201);
	cr_expect_eq(book_with(hub, hubx, h, "\"Ann\"", "\"Lee\"", NULL), 201);
	free(h);
	cr_assert_eq(hold_at(&s, key2, NULL, 0, 11, &h), 201);
	cr_expect_eq(release_hold(hub, hubx, h), 204);
	free(h);
	cr_assert_eq(hold_at(&s, s.key, NULL, 0, 12, &h), 201);
	kid = fx_key_id(s.key);
	rolled = fx_value("SELECT calendence.roll_key($1, interval '1 hour')", kid, NULL);
	cr_assert_not_null(rolled);
	cr_expect_eq(book_with(rolled, NULL, h, "\"Ann\"", "\"Lee\"", NULL), 201);
	free(h);
	cr_assert_eq(hold_at(&s, tok, NULL, 0, 13, &h), 201);
	param = NULL;
	cr_expect_eq(book_with(s.key, NULL, h, "\"Ann\"", "\"Lee\"", &param), 422);
	cr_expect_str_eq(nz(param), "hold_id");
	free(param);
	cr_expect_eq(book_with(tok, NULL, h, "\"Ann\"", "\"Lee\"", NULL), 201);
	free(h); free(key2); free(hub); free(kid); free(rolled); free(tok);
	fx_shop_free(&s);
}

/* Availability and holds reach 180 days past business-local today, no further. */
Test(booking, horizon)
{
	struct fx_shop		 s;
	struct http_resp	 r;
	char			*d180, *d181, *t;

	fx_shop_open(&s, "pro");
	d180 = fx_value("SELECT to_char((now() AT TIME ZONE 'America/Chicago')::date + 180, "
	    "'YYYY-MM-DD')", NULL);
	d181 = fx_value("SELECT to_char((now() AT TIME ZONE 'America/Chicago')::date + 181, "
	    "'YYYY-MM-DD')", NULL);
	cr_assert(d180 != NULL && d181 != NULL);
	avail(s.key, s.svc, d180, d180, &r);
	cr_expect_eq(r.status, 200, "%s", r.body);
	http_resp_free(&r);
	avail(s.key, s.svc, d180, d181, &r);
	expect_error(&r, 422, "validation_failed", "date_to", NULL);
	http_resp_free(&r);
	avail(s.key, s.svc, d181, d181, &r);
	expect_error(&r, 422, "validation_failed", "date_from", NULL);
	http_resp_free(&r);
	t = fx_value("SELECT calendence.rfc3339(($1::date + time '10:00') AT TIME ZONE "
	    "'America/Chicago')", d181, NULL);
	hold(s.key, NULL, s.svc, s.loc, t, NULL, &r);
	expect_error(&r, 422, "validation_failed", "starts_at", NULL);
	http_resp_free(&r);
	hold(s.key, NULL, s.svc, s.loc, "9999-12-31T10:00:00Z", NULL, &r);
	expect_error(&r, 422, "validation_failed", "starts_at", NULL);
	http_resp_free(&r);
	free(t); free(d180); free(d181);
	fx_shop_free(&s);
}

/* A client name made only of white space or invisible characters is 422 naming it. */
Test(booking, blank_names_refused)
{
	static const char *const blanks[] = { "\"   \"", "\"\\u200b\"", "\"\\u00a0\"",
		"\"\\ufeff\"", "\"\\u2060\"" };
	struct fx_shop	 s;
	char		*h, *param;
	size_t		 i;

	fx_shop_open(&s, "pro");
	cr_assert_eq(hold_at(&s, s.key, NULL, 0, 9, &h), 201);
	for (i = 0; i < sizeof(blanks) / sizeof(blanks[0]); i++) {
		param = NULL;
		cr_expect_eq(book_with(s.key, NULL, h, blanks[i], "\"Lee\"", &param), 422,
		    "first_name %s", blanks[i]);
		cr_expect_str_eq(nz(param), "client.first_name");
		free(param);
		param = NULL;
		cr_expect_eq(book_with(s.key, NULL, h, "\"Ann\"", blanks[i], &param), 422,
		    "last_name %s", blanks[i]);
		cr_expect_str_eq(nz(param), "client.last_name");
		free(param);
	}
	cr_expect_eq(book_with(s.key, NULL, h, "\"Ann\"", "\"Lee\"", NULL), 201);
	free(h);
	fx_shop_free(&s);
}

/* POST /bookings/{id}/cancel honours Idempotency-Key like the other booking POSTs. */
Test(booking, idempotency_key_on_cancel)
{
	struct fx_shop		 s;
	struct http_resp	 r1, r2, r3;
	const char *const	 idem[] = { "Idempotency-Key: cancel-key-1", NULL };
	char			 path[256], path2[256], *b1, *b2;

	fx_shop_open(&s, "pro");
	b1 = book_first(&s, s.key);
	b2 = book_first(&s, s.key);
	snprintf(path, sizeof(path), BOOK_PATH "/%s/cancel", b1);
	snprintf(path2, sizeof(path2), BOOK_PATH "/%s/cancel", b2);
	cr_assert_eq(http_post(path, s.key, idem, NULL, &r1), 0);
	cr_expect_eq(r1.status, 200, "%s", r1.body);
	cr_expect_null(http_header(&r1, "Idempotent-Replayed"));
	cr_assert_eq(http_post(path, s.key, idem, NULL, &r2), 0);
	cr_expect_eq(r2.status, 200, "%s", r2.body);
	cr_expect_str_eq(nz(http_header(&r2, "Idempotent-Replayed")), "true", "%s", r2.headers);
	cr_expect_str_eq(r2.body, r1.body);
	cr_assert_eq(http_post(path2, s.key, idem, NULL, &r3), 0);
	expect_error(&r3, 422, "validation_failed", "Idempotency-Key", NULL);
	http_resp_free(&r1);
	http_resp_free(&r2);
	http_resp_free(&r3);
	/* without a key, as before; the other booking is untouched */
	cr_assert_eq(http_post(path, s.key, NULL, NULL, &r1), 0);
	cr_expect_eq(r1.status, 200, "%s", r1.body);
	cr_expect_null(http_header(&r1, "Idempotent-Replayed"));
	http_resp_free(&r1);
	snprintf(path2, sizeof(path2), BOOK_PATH "/%s", b2);
	cr_assert_eq(http_get(path2, s.key, NULL, &r1), 0);
	cr_expect_str_eq(nz(jstr(r1.json, "status")), "confirmed");
	http_resp_free(&r1);
	free(b1);
	free(b2);
	fx_shop_free(&s);
}

/*
 * A hold or booking sent without Idempotency-Key still goes to SQL with a
 * key, the request's own ("~" and its Request-Id), so that a worker that
 * re-sends it after a broken connection finds the first answer; the
 * client never sees Idempotent-Replayed for it.
 */
Test(booking, own_key_when_the_client_sends_none)
{
	struct fx_shop		 s;
	struct slot		 sl = { 0 };
	struct http_resp	 r;
	char			 want[64], *v, *h;

	fx_shop_open(&s, "pro");
	first_slot(&s, s.key, &sl);
	hold(s.key, NULL, s.svc, sl.location, sl.starts_at, sl.staff, &r);
	cr_assert_eq(r.status, 201, "%s", r.body);
	cr_expect_null(http_header(&r, "Idempotent-Replayed"));
	snprintf(want, sizeof(want), "~%s", nz(http_header(&r, "Request-Id")));
	h = strdup(nz(jstr(r.json, "hold_id")));
	http_resp_free(&r);
	v = fx_value("SELECT string_agg(idem_key, ',') FROM calendence.idempotency_keys "
	    "WHERE business_id = $1", s.biz, NULL);
	cr_expect_str_eq(nz(v), want);
	free(v);
	book(s.key, h, "ann@example.com", NULL, &r);
	cr_assert_eq(r.status, 201, "%s", r.body);
	cr_expect_null(http_header(&r, "Idempotent-Replayed"));
	snprintf(want, sizeof(want), "~%s", nz(http_header(&r, "Request-Id")));
	http_resp_free(&r);
	v = fx_value("SELECT count(*) FROM calendence.idempotency_keys WHERE business_id = $1 "
	    "AND idem_key = $2 AND status = 'ok'", s.biz, want, NULL);
	cr_expect_str_eq(nz(v), "1");
	free(v);
	free(h);
	slot_free(&sl);
	fx_shop_free(&s);
}

/* A request on booking 'id' (suffix appended to its path) answering 'status'. */
static void
on_booking(const char *method, const char *id, const char *suffix, const char *token,
    const char *const *extra, const char *body, struct http_resp *r)
{
	char	 path[256];

	snprintf(path, sizeof(path), BOOK_PATH "/%s%s", id, suffix);
	cr_assert_eq(http_call(method, path, token, extra, body, r), 0);
}

/*
 * Reschedule through the web server: the booking moves to the hold's slot
 * (same id), a re-sent request with its Idempotency-Key replays, the used
 * hold is 409 hold_expired, a missing hold_id 422, a session sees only its
 * chain's bookings.
 */
Test(booking, reschedule)
{
	struct fx_shop		 s;
	struct slot		 sl;
	struct http_resp	 r1, r2;
	const char *const	 idem[] = { "Idempotency-Key: resched-1", NULL };
	char			 body[128], *b, *h, *ses;

	fx_shop_open(&s, "pro");
	b = book_first(&s, s.key);
	first_slot(&s, s.key, &sl);
	h = hold_ok(&s, s.key, &sl);
	snprintf(body, sizeof(body), "{\"hold_id\":\"%s\"}", h);
	on_booking("POST", b, "/reschedule", s.key, idem, body, &r1);
	cr_expect_eq(r1.status, 200, "%s", r1.body);
	cr_expect_str_eq(nz(jstr(r1.json, "id")), b);
	cr_expect_str_eq(nz(jstr(r1.json, "starts_at")), sl.starts_at, "%s", r1.body);
	cr_expect_str_eq(nz(jstr(r1.json, "status")), "confirmed");
	on_booking("POST", b, "/reschedule", s.key, idem, body, &r2);
	cr_expect_eq(r2.status, 200, "%s", r2.body);
	cr_expect_str_eq(nz(http_header(&r2, "Idempotent-Replayed")), "true");
	cr_expect_str_eq(r2.body, r1.body);
	http_resp_free(&r1);
	http_resp_free(&r2);
	on_booking("POST", b, "/reschedule", s.key, NULL, body, &r1);
	expect_error(&r1, 409, "hold_expired", NULL, NULL);
	http_resp_free(&r1);
	on_booking("POST", b, "/reschedule", s.key, NULL, "{}", &r1);
	expect_error(&r1, 422, "validation_failed", "hold_id", NULL);
	http_resp_free(&r1);
	ses = new_session(s.pub, NULL);
	on_booking("POST", b, "/reschedule", ses, NULL, body, &r1);
	expect_error(&r1, 404, "not_found", NULL, NULL);
	http_resp_free(&r1);
	on_booking("POST", "nope", "/reschedule", s.key, NULL, body, &r1);
	expect_error(&r1, 404, "not_found", NULL, NULL);
	http_resp_free(&r1);
	slot_free(&sl);
	free(ses);
	free(h);
	free(b);
	fx_shop_free(&s);
}

/*
 * PATCH status through the web server: every allowed move answers 200 (and
 * the same again), a refused one 409 invalid_transition, an unknown status
 * 422, a session 403; a completed booking can be neither rescheduled nor
 * cancelled.
 */
Test(booking, status_moves)
{
	static const struct {
		const char	*to;
		int		 status;
		const char	*code;
	} steps[] = {
		{ "pending_payment", 422, "validation_failed" },
		{ "cancelled", 422, "validation_failed" },
		{ "confirmed", 200, NULL },	/* what it is: nothing changes */
		{ "in_progress", 200, NULL },
		{ "in_progress", 200, NULL },
		{ "confirmed", 409, "invalid_transition" },
		{ "completed", 200, NULL },
		{ "in_progress", 409, "invalid_transition" },
		{ "confirmed", 409, "invalid_transition" },
		{ "completed", 200, NULL },
	};
	struct fx_shop		 s;
	struct http_resp	 r;
	char			 body[64], *b, *c, *ses;
	size_t			 i;

	fx_shop_open(&s, "pro");
	b = book_first(&s, s.key);
	c = book_first(&s, s.key);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		snprintf(body, sizeof(body), "{\"status\":\"%s\"}", steps[i].to);
		on_booking("PATCH", b, "", s.key, NULL, body, &r);
		if (steps[i].status == 200) {
			cr_expect_eq(r.status, 200, "step %zu: %s", i, r.body);
			cr_expect_str_eq(nz(jstr(r.json, "status")), steps[i].to, "step %zu", i);
		} else
			expect_error(&r, steps[i].status, steps[i].code,
			    steps[i].status == 422 ? "status" : NULL, NULL);
		http_resp_free(&r);
	}
	on_booking("POST", b, "/cancel", s.key, NULL, NULL, &r);
	expect_error(&r, 409, "booking_not_cancellable", NULL, NULL);
	http_resp_free(&r);
	on_booking("POST", b, "/reschedule", s.key, NULL, "{\"hold_id\":\"x\"}", &r);
	expect_error(&r, 422, "validation_failed", "hold_id", NULL);
	http_resp_free(&r);
	/* confirmed -> completed directly; a hub key too */
	on_booking("PATCH", c, "", s.key, NULL, "{\"status\":\"completed\"}", &r);
	cr_expect_eq(r.status, 200, "%s", r.body);
	http_resp_free(&r);
	on_booking("PATCH", c, "", s.key, NULL, "{\"status\":7}", &r);
	expect_error(&r, 422, "validation_failed", "status", NULL);
	http_resp_free(&r);
	ses = new_session(s.pub, NULL);
	on_booking("PATCH", c, "", ses, NULL, "{\"status\":\"completed\"}", &r);
	expect_error(&r, 403, "key_type_not_allowed", NULL, NULL);
	http_resp_free(&r);
	on_booking("PATCH", "nope", "", s.key, NULL, "{\"status\":\"completed\"}", &r);
	expect_error(&r, 404, "not_found", NULL, NULL);
	http_resp_free(&r);
	free(ses);
	free(b);
	free(c);
	fx_shop_free(&s);
}

/*
 * A cancel reason is kept and shown (cancel_reason; null without one, 422
 * over 500 characters); updated_at is shown; updated_since lists what
 * changed at or after it, 422 when malformed, and the links keep it.
 */
Test(booking, cancel_reason_and_updated_since)
{
	struct fx_shop		 s;
	struct http_resp	 r;
	char			 body[700], reason[502], *b, *c;

	fx_shop_open(&s, "pro");
	b = book_first(&s, s.key);
	c = book_first(&s, s.key);
	memset(reason, 'r', 501);
	reason[501] = '\0';
	snprintf(body, sizeof(body), "{\"reason\":\"%s\"}", reason);
	on_booking("POST", b, "/cancel", s.key, NULL, body, &r);
	expect_error(&r, 422, "validation_failed", "reason", NULL);
	http_resp_free(&r);
	on_booking("POST", b, "/cancel", s.key, NULL, "{\"reason\":5}", &r);
	expect_error(&r, 422, "validation_failed", "reason", NULL);
	http_resp_free(&r);
	on_booking("POST", b, "/cancel", s.key, NULL, "{\"reason\":\"Car broke down\"}", &r);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "cancel_reason")), "Car broke down");
	http_resp_free(&r);
	on_booking("GET", b, "", s.key, NULL, NULL, &r);
	cr_expect_str_eq(nz(jstr(r.json, "cancel_reason")), "Car broke down");
	cr_expect(matches(nz(jstr(r.json, "updated_at")),
	    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"), "%s", r.body);
	http_resp_free(&r);
	on_booking("GET", c, "", s.key, NULL, NULL, &r);
	cr_expect(jhas(r.json, "cancel_reason") && jstr(r.json, "cancel_reason") == NULL,
	    "%s", r.body);
	http_resp_free(&r);

	fx_exec("UPDATE calendence.reservations SET updated_at = now() - interval '1 day' "
	    "WHERE id = $1", c, NULL);
	cr_assert_eq(http_get(BOOK_PATH "?updated_since=yesterday", s.key, NULL, &r), 0);
	expect_error(&r, 422, "validation_failed", "updated_since", NULL);
	http_resp_free(&r);
	cr_assert_eq(http_get(BOOK_PATH "?updated_since=2000-01-01T00:00:00Z&per_page=1",
	    s.key, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.id")), c, "oldest change first: %s", r.body);
	cr_expect(strstr(nz(jstr(r.json, "links.next")), "updated_since=") != NULL, "%s",
	    r.body);
	http_resp_free(&r);
	fx_exec("UPDATE calendence.reservations SET updated_at = now() - interval '1 hour' "
	    "WHERE id = $1", b, NULL);
	{
		char	*since = fx_value("SELECT to_char(now() AT TIME ZONE 'UTC' - interval "
		    "'2 hours', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')", NULL), path[256];

		snprintf(path, sizeof(path), BOOK_PATH "?updated_since=%s", nz(since));
		free(since);
		cr_assert_eq(http_get(path, s.key, NULL, &r), 0);
		cr_expect_eq(r.status, 200, "%s %s", path, r.body);
		cr_expect_eq(jint(r.json, "meta.total"), 1, "%s", r.body);
		cr_expect_str_eq(nz(jstr(r.json, "data.0.id")), b, "%s", r.body);
		http_resp_free(&r);
	}
	free(b);
	free(c);
	fx_shop_free(&s);
}

/* The shop's day (8 days ahead) at local time 'hhmmss', RFC 3339; malloc'd. */
static char *
shop_time(const char *hhmmss)
{
	char	*t = fx_value("SELECT to_json(((now() AT TIME ZONE 'America/Chicago')::date "
	    "+ 8 + $1::time) AT TIME ZONE 'America/Chicago') #>> '{}'", hhmmss, NULL);

	cr_assert_not_null(t);
	return t;
}

/*
 * A start off the business's slot grid is 409 slot_unavailable whose
 * message names the grid (businesses.slot_minutes); a start on it that is
 * not free says only that.
 */
Test(booking, off_grid_start_names_the_grid)
{
	static const char *const grid15 = "This slot is not available: starts must be "
	    "on the business's 15-minute grid (e.g. 10:00, 10:15) in the location's "
	    "time zone.";
	const struct {
		const char	*at;
		int		 slot_minutes;
		const char	*message;
	} rows[] = {
		{ "10:07", 15, grid15 },
		{ "10:00:30", 15, grid15 },
		{ "03:00", 15, "This slot is not available." },		/* closed */
		{ "10:30", 20, "This slot is not available: starts must be on the "
		    "business's 20-minute grid (e.g. 10:00, 10:20) in the location's "
		    "time zone." },
		{ "11:00", 60, "This slot is not available." },		/* taken below */
	};
	struct fx_shop		 s;
	struct http_resp	 r;
	char			*at, n[8];
	char			*h;

	fx_shop_open(&s, "pro");
	at = shop_time("11:00");
	hold(s.key, NULL, s.svc, s.loc, at, s.staff, &r);
	cr_assert_eq(r.status, 201, "%s", r.body);
	h = strdup(nz(jstr(r.json, "hold_id")));
	http_resp_free(&r);
	free(at);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(n, sizeof(n), "%d", rows[i].slot_minutes);
		fx_exec("UPDATE calendence.businesses SET slot_minutes = $1::integer "
		    "WHERE id = $2", n, s.biz, NULL);
		at = shop_time(rows[i].at);
		hold(s.key, NULL, s.svc, s.loc, at, s.staff, &r);
		expect_error(&r, 409, "slot_unavailable", NULL, rows[i].at);
		cr_expect_str_eq(nz(jstr(r.json, "error.message")), rows[i].message,
		    "%s every %d minutes: %s", rows[i].at, rows[i].slot_minutes, r.body);
		http_resp_free(&r);
		free(at);
	}
	free(h);
	fx_shop_free(&s);
}

/* "{"monday":["<h>"],...}": the same hours every day. */
#define EVERY_DAY(h)	"{\"monday\":[\"" h "\"],\"tuesday\":[\"" h "\"],\"wednesday\":[\"" h \
	"\"],\"thursday\":[\"" h "\"],\"friday\":[\"" h "\"],\"saturday\":[\"" h "\"]," \
	"\"sunday\":[\"" h "\"]}"

/* GET path with token: the exact body of a 200, or the test fails. */
static void
expect_body(const char *path, const char *token, const char *want)
{
	struct http_resp	r;

	cr_assert_eq(http_get(path, token, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%s: %d %s", path, r.status, r.body);
	cr_expect_str_eq(nz(r.body), want, "%s", path);
	http_resp_free(&r);
}

/*
 * GET /availability in both forms, byte for byte: a business in
 * Asia/Kolkata (+05:30), an hourly grid, an hour's service, Pat Doe at work
 * 09:00-11:00 and Ann Lee 10:00-12:00: starts 09:00 (Pat), 10:00 (Ann, Pat:
 * by staff name) and 11:00 (Ann). format=compact lists each start once with
 * its options in that order; any other format is 422 naming it. 14 days of
 * either are gzipped for a client that asks.
 */
Test(booking, availability_slots_and_compact)
{
	static const char *const gz[] = { "Accept-Encoding: gzip", NULL };
	char		*hub = fx_hub("pro"), *biz = fx_business(hub, "Asia/Kolkata");
	char		*key = fx_key("business", biz), *loc = fx_location(biz);
	char		*pat = fx_staff(biz, loc), *ann, *svc, *d, *d13;
	char		 path[512], want[4096], s9[512], s10a[512], s10p[512], s11[512];
	char		 pat_j[128], ann_j[128], loc_j[128], meta[256];
	struct http_resp r, plain;

	fx_exec("UPDATE calendence.businesses SET slot_minutes = 60 WHERE id = $1", biz, NULL);
	fx_exec("SELECT calendence.set_staff_hours($1, $2::jsonb)", pat,
	    EVERY_DAY("09:00-11:00"), NULL);
	ann = fx_value("SELECT calendence.create_staff($1, 'Ann Lee', ARRAY[$2::uuid], '{}', "
	    "$3::jsonb)", biz, loc, EVERY_DAY("10:00-12:00"), NULL);
	svc = fx_value("INSERT INTO calendence.services (business_id, name, duration_min, "
	    "duration_max, rate) VALUES ($1, 'Hour', 60, 60, 1000) RETURNING id", biz, NULL);
	d = fx_value("SELECT to_char((now() AT TIME ZONE 'Asia/Kolkata')::date + 8, "
	    "'YYYY-MM-DD')", NULL);
	d13 = fx_value("SELECT to_char($1::date + 13, 'YYYY-MM-DD')", d, NULL);
	cr_assert(ann != NULL && svc != NULL && d != NULL && d13 != NULL);

	snprintf(pat_j, sizeof(pat_j), "{\"id\":\"%s\",\"name\":\"Pat Doe\"}", pat);
	snprintf(ann_j, sizeof(ann_j), "{\"id\":\"%s\",\"name\":\"Ann Lee\"}", ann);
	snprintf(loc_j, sizeof(loc_j), "{\"id\":\"%s\",\"name\":\"Main Shop\"}", loc);
	snprintf(meta, sizeof(meta), "\"meta\":{\"service_id\":\"%s\",\"date_from\":\"%s\","
	    "\"date_to\":\"%s\",\"total_slots\":4}}", svc, d, d);
#define TIMES(a, b, la, lb) "{\"starts_at\":\"%sT" a ":00+00:00\",\"ends_at\":\"%sT" b \
	":00+00:00\",\"starts_at_local\":\"%sT" la ":00\",\"ends_at_local\":\"%sT" lb ":00\","
	snprintf(s9, sizeof(s9), TIMES("03:30", "04:30", "09:00", "10:00"), d, d, d, d);
	snprintf(s10a, sizeof(s10a), TIMES("04:30", "05:30", "10:00", "11:00"), d, d, d, d);
	snprintf(s10p, sizeof(s10p), "%s", s10a);
	snprintf(s11, sizeof(s11), TIMES("05:30", "06:30", "11:00", "12:00"), d, d, d, d);
#undef TIMES

	snprintf(want, sizeof(want), "{\"data\":{\"%s\":["
	    "%s\"staff\":%s,\"location\":%s},%s\"staff\":%s,\"location\":%s},"
	    "%s\"staff\":%s,\"location\":%s},%s\"staff\":%s,\"location\":%s}]},%s",
	    d, s9, pat_j, loc_j, s10a, ann_j, loc_j, s10p, pat_j, loc_j, s11, ann_j, loc_j,
	    meta);
	snprintf(path, sizeof(path), AVAIL_PATH "?service_id=%s&date_from=%s&date_to=%s",
	    svc, d, d);
	expect_body(path, key, want);
	snprintf(path, sizeof(path), AVAIL_PATH "?service_id=%s&date_from=%s&date_to=%s"
	    "&format=slots", svc, d, d);
	expect_body(path, key, want);

	snprintf(want, sizeof(want), "{\"data\":{\"%s\":["
	    "%s\"options\":[{\"staff\":%s,\"location\":%s}]},"
	    "%s\"options\":[{\"staff\":%s,\"location\":%s},{\"staff\":%s,\"location\":%s}]},"
	    "%s\"options\":[{\"staff\":%s,\"location\":%s}]}]},%s",
	    d, s9, pat_j, loc_j, s10a, ann_j, loc_j, pat_j, loc_j, s11, ann_j, loc_j, meta);
	snprintf(path, sizeof(path), AVAIL_PATH "?service_id=%s&date_from=%s&date_to=%s"
	    "&format=compact", svc, d, d);
	expect_body(path, key, want);

	snprintf(path, sizeof(path), AVAIL_PATH "?service_id=%s&date_from=%s&date_to=%s"
	    "&format=grouped", svc, d, d);
	cr_assert_eq(http_get(path, key, NULL, &r), 0);
	expect_error(&r, 422, "validation_failed", "format", NULL);
	cr_expect(strstr(nz(r.body), "format must be slots or compact.") != NULL, "%s", r.body);
	http_resp_free(&r);

	/* 14 days (56 slots): gzipped when asked, in both forms */
	snprintf(path, sizeof(path), AVAIL_PATH "?service_id=%s&date_from=%s&date_to=%s",
	    svc, d, d13);
	cr_assert_eq(http_get(path, key, NULL, &plain), 0);
	cr_assert_eq(plain.status, 200, "%s", plain.body);
	cr_expect_null(http_header(&plain, "Content-Encoding"));
	cr_assert_eq(http_get(path, key, gz, &r), 0);
	cr_expect_eq(r.status, 200, "%s", r.headers);
	cr_expect_str_eq(nz(http_header(&r, "Content-Encoding")), "gzip", "%s", r.headers);
	cr_expect(r.body_len * 8 < plain.body_len, "%zu bytes gzipped, %zu plain", r.body_len,
	    plain.body_len);
	http_resp_free(&r);
	http_resp_free(&plain);
	strncat(path, "&format=compact", sizeof(path) - strlen(path) - 1);
	cr_assert_eq(http_get(path, key, gz, &r), 0);
	cr_expect_eq(r.status, 200, "%s", r.headers);
	cr_expect_str_eq(nz(http_header(&r, "Content-Encoding")), "gzip", "%s", r.headers);
	http_resp_free(&r);

	free_all(hub, biz, key, loc, pat, ann, svc, d, d13, NULL);
}
