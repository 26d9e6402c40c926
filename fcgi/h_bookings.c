/* h_bookings.c: locations, availability, holds and bookings (SPEC 9). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "kit.h"
#include "page.h"
#include "response.h"
#include "token.h"
#include "worker.h"

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
 * GET /api/v1/locations
 * 200 with a page of the business's active locations; 422; 503.
 */
void
h_locations_list(struct request *r)
{
	kit_cat_list(r, CAT_LOCATIONS, r->principal.business_id, NULL, "/api/v1/locations",
	    STMT_LOCATIONS_LIST, KIT_ARGS(r->principal.business_id));
}

/*
 * GET /api/v1/availability?service_id&date_from&date_to[&staff_id][&location_id]
 *     [&format=slots|compact]
 * 200 {data: {date: [slot...]}, meta} (compact: [start with its options...]);
 * 422 validation_failed naming the parameter (missing, malformed, range over
 * 14 days, before today, past the business's booking horizon, an unknown
 * format); 503.
 */
static const char *const avail_names[6] = { "service_id", "date_from", "date_to",
    "staff_id", "location_id", "format" };

_Static_assert(REQ_FUSE_LEN == KIT_VALUE_MAX && REQ_FUSE_ARGS >= 8,
    "r->fuse_buf holds availability()'s query values and a kept answer's two");

/*
 * availability()'s arguments from the query, for the admission's round trip
 * (auth.c, STMT_ADMIT_AVAILABILITY), then those of the answer the worker
 * keeps for them (answers.c); -1 when one is malformed: the handler then
 * answers 422 as without it.
 */
int
h_availability_fuse(struct request *r, const char **args)
{
	int	 i, rc;

	for (i = 0; i < 6; i++) {
		rc = req_query(r->query, avail_names[i], r->fuse_buf[i],
		    sizeof(r->fuse_buf[i]));
		if (rc == -1)
			return -1;
		args[i] = rc == 1 ? r->fuse_buf[i] : NULL;
	}
	ans_fuse(r, args, args + 6);
	return 0;
}

void
h_availability(struct request *r)
{
	const char *const *names = avail_names;
	char		 buf[6][KIT_VALUE_MAX];
	const char	*v[6];
	int		 i;

	/* answered in the admission's round trip, or kept (answers.c) */
	if (r->fused && ans_reply(r, r->auth_res, AC_ADMIT__MAX) == 0)
		return;
	for (i = 0; i < 6; i++)
		if (kit_query_or_reply(r, names[i], buf[i], sizeof(buf[i]), &v[i]) == -1)
			return;
	kit_outcome(r, STMT_AVAILABILITY, 200,
	    KIT_ARGS(r->principal.business_id, v[0], v[1], v[2], v[3], v[4], v[5]));
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

	if (kit_member_or_reply(r, "service_id", json_type_string, &svc) == -1 ||
	    kit_member_or_reply(r, "location_id", json_type_string, &loc) == -1 ||
	    kit_member_or_reply(r, "starts_at", json_type_string, &start) == -1 ||
	    kit_member_or_reply(r, "staff_id", json_type_string, &staff) == -1)
		return;
	snprintf(cap, sizeof(cap), "%d", r->worker->conf.max_holds);
	kit_outcome(r, STMT_HOLD, 201, KIT_ARGS(r->principal.business_id, svc, loc,
	    start, staff, root_session(r), key_of(r), idem_key_of(r, key, sizeof(key)),
	    cap));
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

	if (kit_member_or_reply(r, "hold_id", json_type_string, &hold) == -1 ||
	    kit_member_or_reply(r, "client", json_type_object, &client) == -1 ||
	    kit_member_or_reply(r, "custom_field_values", json_type_object, &fields) == -1 ||
	    kit_member_or_reply(r, "notes", json_type_string, &notes) == -1)
		return;
	kit_outcome(r, STMT_BOOK, 201, KIT_ARGS(r->principal.business_id, hold,
	    client, fields, notes, root_session(r), key_of(r),
	    idem_key_of(r, key, sizeof(key))));
}

/*
 * GET /api/v1/bookings?status&from&to&updated_since&page&per_page
 * 200 with a page of bookings by start, or with updated_since (RFC 3339)
 * those whose updated_at is at or after it, by updated_at (a session: only
 * its chain's); 422 naming the parameter; the links keep the filters.
 */
void
h_bookings_list(struct request *r)
{
	char		 buf[4][KIT_VALUE_MAX];
	const char	*st, *from, *to, *since;

	if (kit_query_or_reply(r, "status", buf[0], sizeof(buf[0]), &st) == -1 ||
	    kit_query_or_reply(r, "from", buf[1], sizeof(buf[1]), &from) == -1 ||
	    kit_query_or_reply(r, "to", buf[2], sizeof(buf[2]), &to) == -1 ||
	    kit_query_or_reply(r, "updated_since", buf[3], sizeof(buf[3]), &since) == -1)
		return;
	kit_list_checked(r, STMT_BOOKINGS_LIST, "/api/v1/bookings",
	    (const char *const[]){ "status", st, "from", from, "to", to,
	    "updated_since", since, NULL },
	    KIT_ARGS(r->principal.business_id, st, from, to, root_session(r), since));
}

/*
 * GET /api/v1/bookings/{id}
 * 200 with the booking; 404 for a malformed id, another business's booking,
 * or (for a session) one made outside its chain; 503.
 */
void
h_bookings_get(struct request *r)
{
	kit_get(r, STMT_BOOKINGS_GET, "No such booking.",
	    KIT_ARGS(r->principal.business_id, r->args[0], root_session(r)));
}

/*
 * POST /api/v1/bookings/{id}/cancel {reason?}
 * 200 with the cancelled booking (the slot is free again, the reason kept
 * as cancel_reason); 404 as for GET; 409 booking_not_cancellable once in
 * progress or completed; 422 naming reason (not a string, over 500
 * characters) or Idempotency-Key (used with another request; a key replays
 * the first answer); 503.
 */
void
h_bookings_cancel(struct request *r)
{
	const char	*reason;

	if (!uuid_valid(r->args[0])) {
		resp_error(r, 404, "not_found", NULL, "No such booking.");
		return;
	}
	if (kit_member_or_reply(r, "reason", json_type_string, &reason) == -1)
		return;
	kit_outcome(r, STMT_BOOKINGS_CANCEL, 200, KIT_ARGS(r->principal.business_id,
	    r->args[0], root_session(r), key_of(r), r->idem_key, reason));
}

/*
 * POST /api/v1/bookings/{id}/reschedule {hold_id}
 * 200 with the booking, moved to the hold's slot (its old slot free, the
 * hold used, in one transaction); 404 as for GET; 409 invalid_transition
 * unless it is pending_payment or confirmed, hold_expired for a hold lapsed
 * or used; 422 naming hold_id (missing, unknown, another caller's, another
 * service's) or Idempotency-Key; a key replays the first answer; 503.
 */
void
h_bookings_reschedule(struct request *r)
{
	const char	*hold;
	char		 key[REQ_ID_LEN + 2];

	if (!uuid_valid(r->args[0])) {
		resp_error(r, 404, "not_found", NULL, "No such booking.");
		return;
	}
	if (kit_member_or_reply(r, "hold_id", json_type_string, &hold) == -1)
		return;
	kit_outcome(r, STMT_BOOKINGS_RESCHEDULE, 200, KIT_ARGS(r->principal.business_id,
	    r->args[0], hold, root_session(r), key_of(r),
	    idem_key_of(r, key, sizeof(key))));
}

/*
 * PATCH /api/v1/bookings/{id} {status} (hub and business keys)
 * 200 with the booking: pending_payment -> confirmed, confirmed ->
 * in_progress -> completed, confirmed -> completed, or a move to the status
 * it already has (nothing changes: a re-sent PATCH answers the same); 404
 * as for GET; 409 invalid_transition for any other move; 422 naming status
 * (missing, not a string, not one of the three); 503.
 */
void
h_bookings_update(struct request *r)
{
	const char	*st;

	if (!uuid_valid(r->args[0])) {
		resp_error(r, 404, "not_found", NULL, "No such booking.");
		return;
	}
	if (kit_member_or_reply(r, "status", json_type_string, &st) == -1)
		return;
	kit_outcome(r, STMT_BOOKINGS_STATUS, 200, KIT_ARGS(r->principal.business_id,
	    r->args[0], st));
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
	if (!uuid_valid(r->args[0])) {
		resp_error(r, 404, "not_found", NULL, "No such hold.");
		return;
	}
	kit_outcome(r, STMT_HOLD_RELEASE, 204,
	    KIT_ARGS(r->principal.business_id, r->args[0], root_session(r)));
}
