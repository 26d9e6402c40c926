/* h_bookings.c: locations, availability, holds and bookings (SPEC 9). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "handlers.h"
#include "page.h"
#include "response.h"
#include "token.h"

#define QUERY_VALUE_MAX	128

/* The caller's session chain, for a session token; NULL for other keys. */
static const char *
root_session(const struct request *r)
{
	return r->principal.kind == TOKEN_SESSION ? r->principal.root_session_id : NULL;
}

/* The caller's key, for hub and business keys; NULL for sessions. */
static const char *
key_of(const struct request *r)
{
	return r->principal.kind == TOKEN_SESSION ? NULL : r->principal.key_id;
}

static const char *
val(PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? NULL : PQgetvalue(res, 0, col);
}

/*
 * The Idempotency-Key a booking POST sends to SQL: the client's, or else one
 * of the request's own ("~" and the request id), so that the statement is
 * never sent without a key: a worker that re-sends it after a broken
 * connection then finds the first run's answer instead of running it twice
 * (SPEC 7; DB_RETRY_KEYED in db.c).
 */
static const char *
idem_key_of(const struct request *r, char *buf, size_t len)
{
	if (r->idem_key != NULL)
		return r->idem_key;
	snprintf(buf, len, "~%s", r->id);
	return buf;
}

/*
 * Answers from a booking function's (status, message, body[, replayed])
 * row: "ok" -> ok_status with the body (204: without one); "invalid:<param>"
 * -> 422 validation_failed; slot_unavailable, hold_expired, too_many_holds,
 * not_cancellable -> 409; not_found -> 404. Idempotent-Replayed is sent
 * only for a key the client sent, never for the request's own.
 */
static void
reply_result(struct request *r, PGresult *res, int ok_status)
{
	const char	*st = val(res, 0), *msg = val(res, 1), *body = val(res, 2);

	if (msg == NULL)
		msg = "The request cannot be served.";
	if (st != NULL && strcmp(st, "ok") == 0 && ok_status == 204)
		resp_empty(r, 204);
	else if (st != NULL && strcmp(st, "ok") == 0 && body != NULL) {
		if (PQnfields(res) > 3 && val(res, 3) != NULL && val(res, 3)[0] == 't' &&
		    r->idem_key != NULL)
			resp_header(r, "Idempotent-Replayed", "true");
		resp_raw(r, ok_status, body, strlen(body));
	} else if (st != NULL && strncmp(st, "invalid:", 8) == 0)
		resp_error(r, 422, "validation_failed", st + 8, msg);
	else if (st != NULL && (strcmp(st, "slot_unavailable") == 0 ||
	    strcmp(st, "hold_expired") == 0 || strcmp(st, "too_many_holds") == 0))
		resp_error(r, 409, st, NULL, msg);
	else if (st != NULL && strcmp(st, "not_cancellable") == 0)
		resp_error(r, 409, "booking_not_cancellable", NULL, msg);
	else if (st != NULL && strcmp(st, "not_found") == 0)
		resp_error(r, 404, "not_found", NULL, msg);
	else
		resp_error(r, 500, "internal_error", NULL, "internal error");
}

/* A query parameter into out (NULL when absent); -1 with a 422 when too long. */
static int
query_or_reply(struct request *r, const char *name, char *buf, size_t len,
    const char **out)
{
	int	 rc = req_query(r->query, name, buf, len);

	*out = rc == 1 ? buf : NULL;
	if (rc != -1)
		return 0;
	resp_error(r, 422, "validation_failed", name, "The parameter is malformed.");
	return -1;
}

/*
 * A member of the JSON body as the text SQL takes: a string's value, or an
 * object's JSON (want_object). NULL when absent or null; -1 with a 422
 * naming the member when it has the wrong type.
 */
static int
member_or_reply(struct request *r, const char *name, int want_object,
    const char **out)
{
	json_object	*m;

	*out = NULL;
	if (r->json == NULL || !json_object_object_get_ex(r->json, name, &m) ||
	    m == NULL)
		return 0;
	if (!want_object && json_object_is_type(m, json_type_string)) {
		*out = json_object_get_string(m);
		return 0;
	}
	if (want_object && json_object_is_type(m, json_type_object)) {
		*out = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);
		return 0;
	}
	resp_error(r, 422, "validation_failed", name, want_object ?
	    "This field must be a JSON object." : "This field must be a string.");
	return -1;
}

/*
 * GET /api/v1/locations
 * 200 with a page of the business's active locations; 422; 503.
 */
void
h_locations_list(struct request *r)
{
	struct page	 pg;
	PGresult	*res;
	char		 limit[16], offset[24];

	if (page_parse_or_reply(r, &pg) == -1)
		return;
	snprintf(limit, sizeof(limit), "%d", pg.per_page);
	snprintf(offset, sizeof(offset), "%lld", page_offset(&pg));
	if (db_exec_or_reply(r, STMT_LOCATIONS_LIST, &res, r->principal.business_id,
	    limit, offset) == -1)
		return;
	pg.total = atoll(PQgetvalue(res, 0, 0));
	page_reply(r, &pg, "/api/v1/locations", PQgetvalue(res, 0, 1),
	    (size_t)PQgetlength(res, 0, 1));
	PQclear(res);
}

/*
 * GET /api/v1/availability?service_id&date_from&date_to[&staff_id][&location_id]
 * 200 {data: {date: [slot...]}, meta}; 422 validation_failed naming the
 * parameter (missing, malformed, range over 14 days, before today, past
 * the business's booking horizon); 503.
 */
void
h_availability(struct request *r)
{
	static const char *const names[5] = { "service_id", "date_from", "date_to",
	    "staff_id", "location_id" };
	char		 buf[5][QUERY_VALUE_MAX];
	const char	*v[5];
	PGresult	*res;
	int		 i;

	for (i = 0; i < 5; i++)
		if (query_or_reply(r, names[i], buf[i], sizeof(buf[i]), &v[i]) == -1)
			return;
	if (db_exec_or_reply(r, STMT_AVAILABILITY, &res, r->principal.business_id,
	    v[0], v[1], v[2], v[3], v[4]) == -1)
		return;
	reply_result(r, res, 200);
	PQclear(res);
}

/*
 * POST /api/v1/bookings/hold {service_id, location_id, starts_at, staff_id?}
 * 201 with the hold (10 minutes to live); 409 slot_unavailable, or
 * too_many_holds when the caller's session chain already has max_holds
 * live holds (keys have no cap); 422 validation_failed (starts_at past the
 * business's horizon too); an Idempotency-Key replays the first answer; 503.
 */
void
h_bookings_hold(struct request *r)
{
	const char	*svc, *loc, *start, *staff;
	char		 key[REQ_ID_LEN + 2], cap[16];
	PGresult	*res;

	if (member_or_reply(r, "service_id", 0, &svc) == -1 ||
	    member_or_reply(r, "location_id", 0, &loc) == -1 ||
	    member_or_reply(r, "starts_at", 0, &start) == -1 ||
	    member_or_reply(r, "staff_id", 0, &staff) == -1)
		return;
	snprintf(cap, sizeof(cap), "%d", r->app->conf.max_holds);
	if (db_exec_or_reply(r, STMT_HOLD, &res, r->principal.business_id, svc, loc,
	    start, staff, root_session(r), key_of(r), idem_key_of(r, key, sizeof(key)),
	    cap) == -1)
		return;
	reply_result(r, res, 201);
	PQclear(res);
}

/*
 * POST /api/v1/bookings {hold_id, client, custom_field_values?, notes?}
 * 201 with the booking (confirmed, or pending_payment with a deposit); 409
 * hold_expired; 422 validation_failed (a hold the caller may not use, a
 * blank name or required field too); Idempotency-Key replays; 503.
 */
void
h_bookings_create(struct request *r)
{
	const char	*hold, *client, *fields, *notes;
	char		 key[REQ_ID_LEN + 2];
	PGresult	*res;

	if (member_or_reply(r, "hold_id", 0, &hold) == -1 ||
	    member_or_reply(r, "client", 1, &client) == -1 ||
	    member_or_reply(r, "custom_field_values", 1, &fields) == -1 ||
	    member_or_reply(r, "notes", 0, &notes) == -1)
		return;
	if (db_exec_or_reply(r, STMT_BOOK, &res, r->principal.business_id, hold,
	    client, fields, notes, root_session(r), key_of(r),
	    idem_key_of(r, key, sizeof(key))) == -1)
		return;
	reply_result(r, res, 201);
	PQclear(res);
}

/*
 * GET /api/v1/bookings?status&from&to&page&per_page
 * 200 with a page of bookings by start (a session: only its chain's); 422.
 */
void
h_bookings_list(struct request *r)
{
	char		 buf[3][QUERY_VALUE_MAX], limit[16], offset[24];
	const char	*st, *from, *to;
	struct page	 pg;
	PGresult	*res;

	if (query_or_reply(r, "status", buf[0], sizeof(buf[0]), &st) == -1 ||
	    query_or_reply(r, "from", buf[1], sizeof(buf[1]), &from) == -1 ||
	    query_or_reply(r, "to", buf[2], sizeof(buf[2]), &to) == -1 ||
	    page_parse_or_reply(r, &pg) == -1)
		return;
	snprintf(limit, sizeof(limit), "%d", pg.per_page);
	snprintf(offset, sizeof(offset), "%lld", page_offset(&pg));
	if (db_exec_or_reply(r, STMT_BOOKINGS_LIST, &res, r->principal.business_id,
	    st, from, to, limit, offset, root_session(r)) == -1)
		return;
	if (strcmp(PQgetvalue(res, 0, 0), "ok") != 0)
		reply_result(r, res, 200);
	else {
		const char	*params[] = { "status", st, "from", from, "to", to, NULL };

		pg.total = atoll(PQgetvalue(res, 0, 2));
		page_reply_filtered(r, &pg, "/api/v1/bookings", params,
		    PQgetvalue(res, 0, 3), (size_t)PQgetlength(res, 0, 3));
	}
	PQclear(res);
}

/*
 * GET /api/v1/bookings/{id}
 * 200 with the booking; 404 for a malformed id, another business's booking,
 * or (for a session) one made outside its chain; 503.
 */
void
h_bookings_get(struct request *r)
{
	PGresult	*res;

	if (!uuid_valid(r->args[0])) {
		resp_error(r, 404, "not_found", NULL, "No such booking.");
		return;
	}
	if (db_exec_or_reply(r, STMT_BOOKINGS_GET, &res, r->principal.business_id,
	    r->args[0], root_session(r)) == -1)
		return;
	if (PQgetisnull(res, 0, 0))
		resp_error(r, 404, "not_found", NULL, "No such booking.");
	else
		resp_raw(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	PQclear(res);
}

/*
 * POST /api/v1/bookings/{id}/cancel
 * 200 with the cancelled booking (the slot is free again); 404 as for GET;
 * 409 booking_not_cancellable once in progress or completed; 422 for an
 * Idempotency-Key used with another request (a key replays the first
 * answer); 503.
 */
void
h_bookings_cancel(struct request *r)
{
	PGresult	*res;

	if (!uuid_valid(r->args[0])) {
		resp_error(r, 404, "not_found", NULL, "No such booking.");
		return;
	}
	if (db_exec_or_reply(r, STMT_BOOKINGS_CANCEL, &res, r->principal.business_id,
	    r->args[0], root_session(r), key_of(r), r->idem_key) == -1)
		return;
	reply_result(r, res, 200);
	PQclear(res);
}

/*
 * DELETE /api/v1/bookings/hold/{id}
 * 204 when the hold is the caller's to use (its session chain's, or for hub
 * and business keys any key-made hold of the business) and held, lapsed or
 * already released: its slot is free at once; 404 for a malformed id,
 * another business's or another caller's hold, or one already booked; 503.
 */
void
h_bookings_release(struct request *r)
{
	PGresult	*res;

	if (!uuid_valid(r->args[0])) {
		resp_error(r, 404, "not_found", NULL, "No such hold.");
		return;
	}
	if (db_exec_or_reply(r, STMT_HOLD_RELEASE, &res, r->principal.business_id,
	    r->args[0], root_session(r)) == -1)
		return;
	reply_result(r, res, 204);
	PQclear(res);
}
