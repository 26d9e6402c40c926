/* outbox.c: webhooks at the SQL level (SPEC 11, issue 13): the outbox trigger's events and deliveries, webhook_create()'s checks, and what the sender calls (claim, record, release, retry, delete, maintenance). */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <libpq-fe.h>

#include "booking.h"
#include "helpers.h"

/*
 * webhook_claim() takes due deliveries of every business, the oldest
 * next_attempt_at first. The claim tests set their own deliveries due at
 * '-infinity' and claim exactly as many as they have, so that they take
 * theirs and no other test's; a claim that must find none of them runs in a
 * transaction rolled back. webhook_maintenance('0 seconds') would remove
 * other tests' events: it runs in a transaction rolled back too.
 */

/* A value that must not be SQL NULL. */
static char *
need(char *v, int line)
{
	cr_assert_not_null(v, "outbox.c:%d: the statement returned no value", line);
	return v;
}
#define V(...)	need(fx_value(__VA_ARGS__, NULL), __LINE__)

/* Expects fx_value(sql, params...) to be 'want' (NULL: SQL NULL or no row). */
static void
expect_at(int line, const char *want, char *got)
{
	it_str_eq_at(__FILE__, line, got, want, NULL);
	free(got);
}
#define EXPECT(want, ...)	expect_at(__LINE__, (want), fx_value(__VA_ARGS__, NULL))

static const char *
nn(const char *s)
{
	return s != NULL ? s : FX_NULL;
}

/* A key-made hold of 'svc' (NULL: the service) at hhmm of the day; its id. */
static char *
hold_at(const struct bk_shop *o, const char *svc, const char *hhmm)
{
	char	t[32];

	return bk_hold_ok(o->biz, svc ? svc : o->svc, o->loc, bk_at(t, o->day, hhmm), NULL,
	    NULL, o->key);
}

/* A key-made booking (book()) at hhmm of the day; its id. */
static char *
booking_at(const struct bk_shop *o, const char *hhmm)
{
	char	*h = hold_at(o, NULL, hhmm), *b = bk_book_ok(o->biz, h, NULL, o->key);

	free(h);
	return b;
}

/*
 * A webhook of 'biz' made by webhook_create() (https, a stand-in sealed
 * secret), subscribed to 'events' (JSON text), its description 'name'
 * (the deliveries are named by it below); its id.
 */
static char *
hook(const char *biz, const char *name, const char *events)
{
	return V("SELECT body::json->>'id' FROM calendence.webhook_create($1, "
	    "'https://hooks.example.com/' || gen_random_uuid(), $2, $3, "
	    "decode(repeat('00', 78), 'hex'), false)", biz, events, name);
}

#define ALL_EVENTS	"[\"booking.created\", \"booking.updated\", \"booking.cancelled\", " \
			"\"booking.completed\"]"

/* The events of a booking, oldest first, joined by spaces ("" for none). */
static void
expect_events_at(int line, const char *booking, const char *want)
{
	expect_at(line, want, V("SELECT coalesce(string_agg(event, ' ' ORDER BY created_at, "
	    "id), '') FROM calendence.webhook_events WHERE booking_id = $1", booking));
}
#define EXPECT_EVENTS(b, want)	expect_events_at(__LINE__, (b), (want))

/* The number of events of a business. */
static void
expect_biz_events_at(int line, const char *biz, const char *want)
{
	expect_at(line, want, V("SELECT count(*) FROM calendence.webhook_events "
	    "WHERE business_id = $1", biz));
}
#define EXPECT_BIZ_EVENTS(biz, want)	expect_biz_events_at(__LINE__, (biz), (want))

/* The latest event of a booking (its id). */
static char *
latest_event(const char *booking)
{
	return V("SELECT id FROM calendence.webhook_events WHERE booking_id = $1 "
	    "ORDER BY created_at DESC, id DESC LIMIT 1", booking);
}

/*
 * What is wrong with the payload of event 'ev' (names joined by ','; "" when
 * nothing): business_id, id (evt_ and 32 hex, event_ref()), event, timestamp
 * (RFC 3339 +00:00, the event's own time), keys (id, event, timestamp, data
 * in that order), data (not the booking as booking_json() shows it now).
 */
static void
expect_payload_at(int line, const char *biz, const char *ev)
{
	expect_at(line, "", V("SELECT concat_ws(',', "
	    "CASE WHEN e.business_id <> $1::uuid THEN 'business_id' END, "
	    "CASE WHEN p->>'id' IS DISTINCT FROM calendence.event_ref(e.id) "
	    " OR p->>'id' !~ '^evt_[0-9a-f]{32}$' THEN 'id' END, "
	    "CASE WHEN p->>'event' IS DISTINCT FROM e.event THEN 'event' END, "
	    "CASE WHEN p->>'timestamp' IS DISTINCT FROM calendence.rfc3339(e.created_at) "
	    " OR p->>'timestamp' !~ '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\+00:00$' "
	    " THEN 'timestamp' END, "
	    "CASE WHEN (SELECT string_agg(k, ',') FROM json_object_keys(e.payload::json) k) "
	    " IS DISTINCT FROM 'id,event,timestamp,data' THEN 'keys' END, "
	    "CASE WHEN p->'data' IS DISTINCT FROM calendence.booking_json($1::uuid, "
	    " e.booking_id::text)::jsonb THEN 'data' END) "
	    "FROM calendence.webhook_events e, LATERAL (SELECT e.payload::jsonb AS p) x "
	    "WHERE e.id = $2", biz, ev));
}
#define EXPECT_PAYLOAD(biz, ev)	expect_payload_at(__LINE__, (biz), (ev))

/* The member 'path' (a jsonb path such as '{data,status}') of an event's payload. */
static char *
payload_at(const char *ev, const char *path)
{
	return fx_value("SELECT payload::jsonb #>> $2::text[] FROM calendence.webhook_events "
	    "WHERE id = $1", ev, path, NULL);
}

/* set_booking_status(): "status body-status". */
static char *
set_status(const struct bk_shop *o, const char *id, const char *st)
{
	return V("SELECT concat_ws(' ', status, body::json->>'status') FROM "
	    "calendence.set_booking_status($1, $2, $3)", o->biz, id, st);
}

static void
expect_set_status_at(int line, const struct bk_shop *o, const char *id, const char *st,
    const char *want)
{
	expect_at(line, want, set_status(o, id, st));
}
#define EXPECT_SET_STATUS(o, id, st, want) \
	expect_set_status_at(__LINE__, (o), (id), (st), (want))

/* cancel(): "status body-status". */
static char *
cancel(const struct bk_shop *o, const char *id, const char *reason)
{
	return V("SELECT concat_ws(' ', status, body::json->>'status') FROM "
	    "calendence.cancel($1, $2, NULL, $3, NULL, $4)", o->biz, id, o->key, nn(reason));
}

/*
 * The deliveries of the booking's events named 'event', as the names
 * (descriptions) of their webhooks, sorted, joined by ',' ("" for none).
 */
static void
expect_fanout_at(int line, const char *booking, const char *event, const char *want)
{
	expect_at(line, want, V("SELECT coalesce(string_agg(w.description, ',' ORDER BY "
	    "w.description), '') FROM calendence.webhook_deliveries d "
	    "JOIN calendence.webhooks w ON w.id = d.webhook_id "
	    "JOIN calendence.webhook_events e ON e.id = d.event_id "
	    "WHERE e.booking_id = $1 AND e.event = $2", booking, event));
}
#define EXPECT_FANOUT(b, ev, want)	expect_fanout_at(__LINE__, (b), (ev), (want))

/* The delivery of 'booking''s event 'event' to the webhook 'hook_id'. */
static char *
delivery_of(const char *booking, const char *event, const char *hook_id)
{
	return V("SELECT d.id FROM calendence.webhook_deliveries d "
	    "JOIN calendence.webhook_events e ON e.id = d.event_id "
	    "WHERE e.booking_id = $1 AND e.event = $2 AND d.webhook_id = $3",
	    booking, event, hook_id);
}

/* ---- 1. booking.created, and nothing for holds ---- */

/*
 * A hold (make_hold() or hold()) and its release write no event; book()
 * writes exactly one, booking.created, whose payload is {id: evt_ and the
 * event's 32 hex digits, event, timestamp in RFC 3339 +00:00, data: the
 * booking exactly as booking_json() shows it right after}.
 */
Test(outbox, created_event_and_none_for_holds)
{
	struct bk_shop	 o;
	char		 t[32], *h1, *h2, *b, *ev, *v, *wh;

	bk_shop_new(&o);
	wh = hook(o.biz, "all", ALL_EVENTS);
	v = V("SELECT status FROM calendence.make_hold($1, $2, $3, $4, NULL, NULL, $5)",
	    o.biz, o.svc, o.loc, bk_at(t, o.day, "09:00"), o.key);
	cr_expect_str_eq(v, "ok", "make_hold");
	free(v);
	h1 = hold_at(&o, NULL, "10:00");	/* hold() */
	h2 = hold_at(&o, NULL, "11:00");
	EXPECT_BIZ_EVENTS(o.biz, "0");
	EXPECT("ok", "SELECT status FROM calendence.release_hold($1, $2)", o.biz, h2);
	EXPECT("ok", "SELECT status FROM calendence.release_hold($1, $2)", o.biz, h2);
	EXPECT_BIZ_EVENTS(o.biz, "0");
	EXPECT("0", "SELECT count(*) FROM calendence.webhook_deliveries WHERE webhook_id = $1",
	    wh);

	b = bk_book_ok(o.biz, h1, NULL, o.key);
	cr_expect_str_eq(b, h1, "a booking keeps its hold's id");
	EXPECT_EVENTS(b, "booking.created");
	EXPECT_BIZ_EVENTS(o.biz, "1");
	ev = latest_event(b);
	EXPECT("booking.created", "SELECT event FROM calendence.webhook_events WHERE id = $1",
	    ev);
	EXPECT_PAYLOAD(o.biz, ev);
	EXPECT("t", "SELECT payload::json->>'id' = 'evt_' || replace(id::text, '-', '') "
	    "FROM calendence.webhook_events WHERE id = $1", ev);
	v = payload_at(ev, "{data,status}");
	it_str_eq(v, "confirmed", "data.status");
	free(v);
	v = payload_at(ev, "{data,id}");
	it_str_eq(v, b, "data.id");
	free(v);
	EXPECT("1", "SELECT count(*) FROM calendence.webhook_deliveries WHERE webhook_id = $1 "
	    "AND event_id = $2", wh, ev);

	/* a hold that lapsed is refused (and marked expired): no event either */
	free(h2);
	h2 = hold_at(&o, NULL, "13:00");
	fx_exec("UPDATE calendence.reservations SET expires_at = now() - interval '1 second' "
	    "WHERE id = $1", h2, NULL);
	EXPECT("hold_expired", "SELECT status FROM calendence.book($1, $2, $3::jsonb, NULL, "
	    "NULL, NULL, $4)", o.biz, h2, BK_CLIENT, o.key);
	EXPECT_BIZ_EVENTS(o.biz, "1");
	free(ev);
	free(b);
	free(h1);
	free(h2);
	free(wh);
	bk_shop_free(&o);
}

/* ---- 2. the event of each change ---- */

/*
 * reschedule: booking.updated (data shows the new start); a status change
 * pending_payment -> confirmed or confirmed -> in_progress: booking.updated;
 * in_progress -> completed, confirmed -> completed: booking.completed;
 * cancel: booking.cancelled with the reason. No event for a cancel of a
 * cancelled booking, a status set to the one it has, or a refused move.
 * Each payload's data is the booking as booking_json() shows it then.
 */
Test(outbox, event_of_each_change)
{
	struct bk_shop	 o;
	char		 want[64], *b1, *b2, *b3, *b4, *h, *ev, *v, *dep;

	bk_shop_new(&o);

	/* b1: created, rescheduled, in progress, completed */
	b1 = booking_at(&o, "10:00");
	h = hold_at(&o, NULL, "12:00");
	snprintf(want, sizeof(want), "ok %sT12:00:00+00:00", o.day);
	EXPECT(want, "SELECT concat_ws(' ', status, body::json->>'starts_at') FROM "
	    "calendence.reschedule($1, $2, $3, NULL, $4, NULL)", o.biz, b1, h, o.key);
	EXPECT_EVENTS(b1, "booking.created booking.updated");
	ev = latest_event(b1);
	EXPECT_PAYLOAD(o.biz, ev);
	v = payload_at(ev, "{data,starts_at}");
	snprintf(want, sizeof(want), "%sT12:00:00+00:00", o.day);
	it_str_eq(v, want, "the rescheduled start");
	free(v);
	free(ev);
	EXPECT_SET_STATUS(&o, b1, "confirmed", "ok confirmed");		/* the same */
	EXPECT_EVENTS(b1, "booking.created booking.updated");
	EXPECT_SET_STATUS(&o, b1, "in_progress", "ok in_progress");
	EXPECT_EVENTS(b1, "booking.created booking.updated booking.updated");
	ev = latest_event(b1);
	EXPECT_PAYLOAD(o.biz, ev);
	v = payload_at(ev, "{data,status}");
	it_str_eq(v, "in_progress", "data.status");
	free(v);
	free(ev);
	EXPECT_SET_STATUS(&o, b1, "in_progress", "ok in_progress");	/* the same */
	EXPECT_SET_STATUS(&o, b1, "confirmed", "invalid_transition");
	v = cancel(&o, b1, "late");
	cr_expect_str_eq(v, "not_cancellable");
	free(v);
	EXPECT_EVENTS(b1, "booking.created booking.updated booking.updated");
	EXPECT_SET_STATUS(&o, b1, "completed", "ok completed");
	EXPECT_EVENTS(b1, "booking.created booking.updated booking.updated booking.completed");
	ev = latest_event(b1);
	EXPECT_PAYLOAD(o.biz, ev);
	v = payload_at(ev, "{data,status}");
	it_str_eq(v, "completed", "data.status");
	free(v);
	free(ev);
	EXPECT_SET_STATUS(&o, b1, "completed", "ok completed");		/* the same */
	EXPECT_SET_STATUS(&o, b1, "in_progress", "invalid_transition");
	EXPECT_EVENTS(b1, "booking.created booking.updated booking.updated booking.completed");

	/* b2: a deposit: pending_payment, confirmed, completed */
	dep = bk_service(o.biz, 60, 0, 0, "{}", NULL);
	fx_exec("UPDATE calendence.services SET deposit_type = 'flat', deposit_amount = 1000 "
	    "WHERE id = $1", dep, NULL);
	free(h);
	h = hold_at(&o, dep, "14:00");
	b2 = bk_book_ok(o.biz, h, NULL, o.key);
	EXPECT_EVENTS(b2, "booking.created");
	ev = latest_event(b2);
	EXPECT_PAYLOAD(o.biz, ev);
	v = payload_at(ev, "{data,status}");
	it_str_eq(v, "pending_payment", "data.status");
	free(v);
	free(ev);
	EXPECT_SET_STATUS(&o, b2, "completed", "invalid_transition");
	EXPECT_SET_STATUS(&o, b2, "in_progress", "invalid_transition");
	EXPECT_EVENTS(b2, "booking.created");
	EXPECT_SET_STATUS(&o, b2, "confirmed", "ok confirmed");
	EXPECT_EVENTS(b2, "booking.created booking.updated");
	ev = latest_event(b2);
	EXPECT_PAYLOAD(o.biz, ev);
	free(ev);
	EXPECT_SET_STATUS(&o, b2, "completed", "ok completed");
	EXPECT_EVENTS(b2, "booking.created booking.updated booking.completed");
	ev = latest_event(b2);
	EXPECT_PAYLOAD(o.biz, ev);
	free(ev);

	/* b3: cancelled with a reason, then again, then a refused move */
	b3 = booking_at(&o, "16:00");
	v = cancel(&o, b3, "rain");
	cr_expect_str_eq(v, "ok cancelled");
	free(v);
	EXPECT_EVENTS(b3, "booking.created booking.cancelled");
	ev = latest_event(b3);
	EXPECT_PAYLOAD(o.biz, ev);
	v = payload_at(ev, "{data,cancel_reason}");
	it_str_eq(v, "rain", "data.cancel_reason");
	free(v);
	v = payload_at(ev, "{data,status}");
	it_str_eq(v, "cancelled", "data.status");
	free(v);
	free(ev);
	v = cancel(&o, b3, "another");
	cr_expect_str_eq(v, "ok cancelled");
	free(v);
	v = cancel(&o, b3, NULL);
	cr_expect_str_eq(v, "ok cancelled");
	free(v);
	EXPECT_SET_STATUS(&o, b3, "confirmed", "invalid_transition");
	EXPECT_EVENTS(b3, "booking.created booking.cancelled");

	/* b4: confirmed -> completed in one step */
	b4 = booking_at(&o, "18:00");
	EXPECT_SET_STATUS(&o, b4, "completed", "ok completed");
	EXPECT_EVENTS(b4, "booking.created booking.completed");
	ev = latest_event(b4);
	EXPECT_PAYLOAD(o.biz, ev);
	free(ev);

	/* nothing else: the holds used and refused left no event of their own */
	EXPECT_BIZ_EVENTS(o.biz, "11");
	free(b1);
	free(b2);
	free(b3);
	free(b4);
	free(h);
	free(dep);
	bk_shop_free(&o);
}

/* ---- 3. the change's own transaction ---- */

/*
 * A booking, a status change or a cancel rolled back leaves no event and no
 * delivery; committed, exactly one of each.
 */
Test(outbox, same_transaction)
{
	struct bk_shop	 o;
	char		*wh, *h, *b, *v;
	static const char *const count_sql = "SELECT (SELECT count(*) FROM "
	    "calendence.webhook_events WHERE business_id = $1) || ' ' || (SELECT count(*) "
	    "FROM calendence.webhook_deliveries WHERE webhook_id = $2)";

	bk_shop_new(&o);
	wh = hook(o.biz, "all", ALL_EVENTS);
	h = hold_at(&o, NULL, "10:00");
	EXPECT("0 0", count_sql, o.biz, wh);

	fx_exec("BEGIN", NULL);
	b = bk_book_ok(o.biz, h, NULL, o.key);
	EXPECT("1 1", count_sql, o.biz, wh);	/* seen inside */
	fx_exec("ROLLBACK", NULL);
	EXPECT("0 0", count_sql, o.biz, wh);
	EXPECT("held", "SELECT status FROM calendence.reservations WHERE id = $1", h);

	free(b);
	b = bk_book_ok(o.biz, h, NULL, o.key);
	EXPECT("1 1", count_sql, o.biz, wh);
	EXPECT_EVENTS(b, "booking.created");

	fx_exec("BEGIN", NULL);
	EXPECT_SET_STATUS(&o, b, "in_progress", "ok in_progress");
	EXPECT("2 2", count_sql, o.biz, wh);
	fx_exec("ROLLBACK", NULL);
	EXPECT("1 1", count_sql, o.biz, wh);

	fx_exec("BEGIN", NULL);
	v = cancel(&o, b, "rolled back");
	cr_expect_str_eq(v, "ok cancelled");
	free(v);
	EXPECT("2 2", count_sql, o.biz, wh);
	fx_exec("ROLLBACK", NULL);
	EXPECT("1 1", count_sql, o.biz, wh);
	EXPECT_EVENTS(b, "booking.created");

	fx_exec("BEGIN", NULL);
	v = cancel(&o, b, "kept");
	cr_expect_str_eq(v, "ok cancelled");
	free(v);
	fx_exec("COMMIT", NULL);
	EXPECT("2 2", count_sql, o.biz, wh);
	EXPECT_EVENTS(b, "booking.created booking.cancelled");
	EXPECT("kept", "SELECT payload::json->'data'->>'cancel_reason' FROM "
	    "calendence.webhook_events WHERE booking_id = $1 AND event = 'booking.cancelled'", b);
	free(b);
	free(h);
	free(wh);
	bk_shop_free(&o);
}

/* ---- 4. fan-out ---- */

/* The deliveries of a booking's event 'event' as "status attempts due unclaimed blank". */
static void
expect_fresh_at(int line, const char *booking, const char *event, const char *want)
{
	expect_at(line, want, V("SELECT string_agg(concat_ws(' ', d.status, d.attempts, "
	    "d.next_attempt_at <= now(), d.claimed_by IS NULL AND d.claimed_until IS NULL, "
	    "d.last_status_code IS NULL AND d.last_error IS NULL AND d.delivered_at IS NULL), "
	    "';') FROM calendence.webhook_deliveries d JOIN calendence.webhook_events e "
	    "ON e.id = d.event_id WHERE e.booking_id = $1 AND e.event = $2", booking, event));
}
#define EXPECT_FRESH(b, ev, want)	expect_fresh_at(__LINE__, (b), (ev), (want))

/*
 * A booking of a business with webhooks on [created], [cancelled],
 * [created, cancelled], an inactive one, and one of another business on
 * everything: booking.created goes to the two active ones of its business
 * subscribed to it, booking.cancelled to the two subscribed to it,
 * booking.updated (nobody subscribed) to none; each delivery starts pending,
 * no attempt, due, unclaimed.
 */
Test(outbox, fan_out)
{
	struct bk_shop	 o;
	char		*other_hub, *other, *w[5], *b, *v;
	size_t		 i;

	bk_shop_new(&o);
	other_hub = fx_hub("pro");
	other = fx_business(other_hub, "UTC");
	w[0] = hook(o.biz, "a-created", "[\"booking.created\"]");
	w[1] = hook(o.biz, "b-cancelled", "[\"booking.cancelled\"]");
	w[2] = hook(o.biz, "c-both", "[\"booking.created\", \"booking.cancelled\"]");
	w[3] = hook(o.biz, "d-inactive", ALL_EVENTS);
	w[4] = hook(other, "e-other", ALL_EVENTS);
	fx_exec("UPDATE calendence.webhooks SET active = false WHERE id = $1", w[3], NULL);

	/* seen inside the booking's transaction, before any sender could claim */
	fx_exec("BEGIN", NULL);
	b = booking_at(&o, "10:00");
	EXPECT_FANOUT(b, "booking.created", "a-created,c-both");
	EXPECT_FRESH(b, "booking.created", "pending 0 t t t;pending 0 t t t");
	fx_exec("COMMIT", NULL);

	EXPECT_SET_STATUS(&o, b, "in_progress", "ok in_progress");
	EXPECT_SET_STATUS(&o, b, "confirmed", "invalid_transition");
	fx_exec("UPDATE calendence.reservations SET status = 'confirmed' WHERE id = $1", b,
	    NULL);	/* back, so that it may be cancelled (an update event) */
	EXPECT_FANOUT(b, "booking.updated", "");
	EXPECT_EVENTS(b, "booking.created booking.updated booking.updated");

	fx_exec("BEGIN", NULL);
	v = cancel(&o, b, NULL);
	cr_expect_str_eq(v, "ok cancelled");
	free(v);
	EXPECT_FANOUT(b, "booking.cancelled", "b-cancelled,c-both");
	EXPECT_FRESH(b, "booking.cancelled", "pending 0 t t t;pending 0 t t t");
	fx_exec("COMMIT", NULL);

	EXPECT("0", "SELECT count(*) FROM calendence.webhook_deliveries WHERE webhook_id IN "
	    "($1, $2)", w[3], w[4]);
	EXPECT("4", "SELECT count(*) FROM calendence.webhook_deliveries d JOIN "
	    "calendence.webhooks w ON w.id = d.webhook_id WHERE w.business_id = $1", o.biz);
	EXPECT_EVENTS(b, "booking.created booking.updated booking.updated booking.cancelled");
	for (i = 0; i < 5; i++)
		free(w[i]);
	free(b);
	free(other);
	free(other_hub);
	bk_shop_free(&o);
}

/* ---- 5. webhook_create() ---- */

/* webhook_create()'s status for url, events, description, allow_http. */
static char *
create(const char *biz, const char *url, const char *events, const char *descr,
    int allow_http)
{
	return V("SELECT status FROM calendence.webhook_create($1, $2, $3, $4, "
	    "decode(repeat('00', 78), 'hex'), $5::boolean)", biz, nn(url), nn(events),
	    nn(descr), allow_http ? "true" : "false");
}

static void
expect_create_at(int line, const char *biz, const char *url, const char *events,
    const char *descr, int allow_http, const char *want)
{
	expect_at(line, want, create(biz, url, events, descr, allow_http));
}
#define EXPECT_CREATE(biz, url, ev, d, http, want) \
	expect_create_at(__LINE__, (biz), (url), (ev), (d), (http), (want))

#define ONE_EVENT	"[\"booking.created\"]"

/*
 * url: required, absolute https:// (http:// only when allowed), a host, no
 * user information, no white space, at most 2048 characters; events: a
 * non-empty array of known names, repeats dropped, in the canonical order;
 * description at most 500 characters; at most 10 webhooks a business. The
 * answer's body is {id, url, events, description, active, created_at} and
 * never the secret.
 */
Test(outbox, webhook_create_checks)
{
	char	*hub = fx_hub("pro"), *biz = fx_business(hub, "UTC"), *biz2, *url, *d, *body;
	char	 n[16];
	int	 i;

	EXPECT_CREATE(biz, NULL, ONE_EVENT, NULL, 0, "invalid:url");
	EXPECT_CREATE(biz, "ftp://x", ONE_EVENT, NULL, 0, "invalid:url");
	EXPECT_CREATE(biz, "https://", ONE_EVENT, NULL, 0, "invalid:url");
	EXPECT_CREATE(biz, "https://a b", ONE_EVENT, NULL, 0, "invalid:url");
	EXPECT_CREATE(biz, "https://u:p@h/", ONE_EVENT, NULL, 0, "invalid:url");
	EXPECT_CREATE(biz, "https://u@h/", ONE_EVENT, NULL, 0, "invalid:url");
	EXPECT_CREATE(biz, "https://h/\tx", ONE_EVENT, NULL, 0, "invalid:url");
	EXPECT_CREATE(biz, "/hooks", ONE_EVENT, NULL, 0, "invalid:url");
	EXPECT_CREATE(biz, "http://h/", ONE_EVENT, NULL, 0, "invalid:url");
	EXPECT_CREATE(biz, "ftp://h/", ONE_EVENT, NULL, 1, "invalid:url");
	url = malloc(2050);
	cr_assert_not_null(url);
	strcpy(url, "https://example.com/");
	memset(url + strlen(url), 'a', 2049 - strlen(url));
	url[2049] = '\0';
	EXPECT_CREATE(biz, url, ONE_EVENT, NULL, 0, "invalid:url");
	EXPECT("0", "SELECT count(*) FROM calendence.webhooks WHERE business_id = $1", biz);

	EXPECT_CREATE(biz, "https://h.example/x", NULL, NULL, 0, "invalid:events");
	EXPECT_CREATE(biz, "https://h.example/x", "[]", NULL, 0, "invalid:events");
	EXPECT_CREATE(biz, "https://h.example/x", "\"x\"", NULL, 0, "invalid:events");
	EXPECT_CREATE(biz, "https://h.example/x", "\"booking.created\"", NULL, 0,
	    "invalid:events");
	EXPECT_CREATE(biz, "https://h.example/x", "{}", NULL, 0, "invalid:events");
	EXPECT_CREATE(biz, "https://h.example/x", "null", NULL, 0, "invalid:events");
	EXPECT_CREATE(biz, "https://h.example/x", "[\"booking.deleted\"]", NULL, 0,
	    "invalid:events");
	EXPECT_CREATE(biz, "https://h.example/x", "[\"booking.created\", \"booking.deleted\"]",
	    NULL, 0, "invalid:events");
	EXPECT_CREATE(biz, "https://h.example/x", "[1]", NULL, 0, "invalid:events");
	EXPECT_CREATE(biz, "https://h.example/x", "[null]", NULL, 0, "invalid:events");
	/* the url is checked first */
	EXPECT_CREATE(biz, "ftp://x", "[]", NULL, 0, "invalid:url");

	d = malloc(502);
	cr_assert_not_null(d);
	memset(d, 'd', 501);
	d[501] = '\0';
	EXPECT_CREATE(biz, "https://h.example/x", ONE_EVENT, d, 0, "invalid:description");
	EXPECT_CREATE(biz, "https://h.example/x", "[]", d, 0, "invalid:events");
	EXPECT("0", "SELECT count(*) FROM calendence.webhooks WHERE business_id = $1", biz);

	/* accepted: 1 .. 10 */
	d[500] = '\0';
	EXPECT_CREATE(biz, "https://h.example/1", ONE_EVENT, d, 0, "ok");	/* 500 */
	EXPECT_CREATE(biz, "http://h.example/2", ONE_EVENT, NULL, 1, "ok");
	url[2048] = '\0';
	EXPECT_CREATE(biz, url, ONE_EVENT, NULL, 0, "ok");			/* 2048 */
	EXPECT_CREATE(biz, "https://127.0.0.1:8443/hooks?x=1", ONE_EVENT, NULL, 0, "ok");
	EXPECT_CREATE(biz, "https://[::1]/hooks", ONE_EVENT, NULL, 0, "ok");
	EXPECT_CREATE(biz, "HTTPS://Hooks.Example.COM/x#f", ONE_EVENT, NULL, 0, "ok");
	EXPECT("6", "SELECT count(*) FROM calendence.webhooks WHERE business_id = $1", biz);
	body = V("SELECT body FROM calendence.webhook_create($1, 'https://h.example/7', $2, "
	    "'seven', decode(repeat('00', 78), 'hex'), false)", biz,
	    "[\"booking.cancelled\",\"booking.created\",\"booking.created\"]");
	EXPECT("id,url,events,description,active,created_at", "SELECT string_agg(k, ',') FROM "
	    "json_object_keys($1::json) k", body);
	EXPECT("t", "SELECT ($1::jsonb - 'id' - 'created_at') = jsonb_build_object('url', "
	    "'https://h.example/7', 'events', jsonb_build_array('booking.created', "
	    "'booking.cancelled'), 'description', 'seven', 'active', true)", body);
	EXPECT("{booking.created,booking.cancelled} t t", "SELECT concat_ws(' ', events, "
	    "calendence.rfc3339(created_at) = $2::json->>'created_at', "
	    "secret_box = decode(repeat('00', 78), 'hex')) FROM calendence.webhooks "
	    "WHERE id = ($2::json->>'id')::uuid AND business_id = $1", biz, body);
	EXPECT("f", "SELECT $1 ~* 'secret'", body);
	EXPECT("t", "SELECT calendence.webhook_get($1, $2::json->>'id') = $2::text", biz, body);
	EXPECT("ok", "SELECT status FROM calendence.webhook_create($1, 'https://h.example/8', "
	    "$2, NULL, decode(repeat('00', 78), 'hex'), false)", biz,
	    "[\"booking.completed\",\"booking.cancelled\",\"booking.updated\","
	    "\"booking.created\",\"booking.completed\"]");
	EXPECT("[\"booking.created\",\"booking.updated\",\"booking.cancelled\","
	    "\"booking.completed\"]", "SELECT events::text FROM (SELECT "
	    "(calendence.webhook_create($1, 'https://h.example/8', $2, NULL, "
	    "decode(repeat('00', 78), 'hex'), false)).body::json->'events' AS events) x", biz,
	    "[\"booking.completed\",\"booking.cancelled\",\"booking.updated\","
	    "\"booking.created\"]");
	EXPECT("{booking.created,booking.updated,booking.cancelled,booking.completed} 2",
	    "SELECT string_agg(DISTINCT events::text, ',') || ' ' || count(*) FROM "
	    "calendence.webhooks WHERE business_id = $1 AND url = 'https://h.example/8'", biz);
	EXPECT_CREATE(biz, "https://h.example/10", ONE_EVENT, "", 0, "ok");
	EXPECT("10", "SELECT count(*) FROM calendence.webhooks WHERE business_id = $1", biz);
	EXPECT_CREATE(biz, "https://h.example/11", ONE_EVENT, NULL, 0, "webhook_limit");
	/* a check failure still answers as such at the limit */
	EXPECT_CREATE(biz, "ftp://x", ONE_EVENT, NULL, 0, "invalid:url");
	EXPECT("10", "SELECT count(*) FROM calendence.webhooks WHERE business_id = $1", biz);
	/* the limit is per business */
	biz2 = fx_business(hub, "UTC");
	for (i = 0; i < 10; i++) {
		snprintf(n, sizeof(n), "%d", i);
		expect_at(__LINE__, "ok", V("SELECT status FROM calendence.webhook_create($1, "
		    "'https://h.example/' || $2, '[\"booking.updated\"]', NULL, "
		    "decode(repeat('00', 78), 'hex'), false)", biz2, n));
	}
	EXPECT_CREATE(biz2, "https://h.example/11", ONE_EVENT, NULL, 0, "webhook_limit");
	/* one deleted makes room again */
	EXPECT("ok", "SELECT (calendence.webhook_delete($1, (SELECT id::text FROM "
	    "calendence.webhooks WHERE business_id = $1 LIMIT 1))).status", biz2);
	EXPECT_CREATE(biz2, "https://h.example/11", ONE_EVENT, NULL, 0, "ok");
	free(body);
	free(d);
	free(url);
	free(biz2);
	free(biz);
	free(hub);
}

/* ---- 6. claim, record, release ---- */

/* The state of a delivery, as a row's text, for "nothing changed". */
static char *
delivery_row(const char *id)
{
	return V("SELECT d::text FROM calendence.webhook_deliveries d WHERE id = $1", id);
}

/* webhook_record(): "recorded status". */
static char *
record(const char *delivery, const char *sender, const char *code, const char *error,
    const char *retry_ms)
{
	return V("SELECT concat_ws(' ', recorded, status) FROM calendence.webhook_record($1, "
	    "$2, $3::integer, $4, $5::integer)", delivery, sender, nn(code), nn(error),
	    nn(retry_ms));
}

static void
expect_record_at(int line, const char *delivery, const char *sender, const char *code,
    const char *error, const char *retry_ms, const char *want)
{
	expect_at(line, want, record(delivery, sender, code, error, retry_ms));
}
#define EXPECT_RECORD(d, s, code, err, retry, want) \
	expect_record_at(__LINE__, (d), (s), (code), (err), (retry), (want))

/* A delivery's "status attempts last_status_code last_error next claimed delivered". */
#define DSTATE_SQL "SELECT concat_ws(' ', status, attempts, " \
	"coalesce(last_status_code::text, '-'), coalesce(last_error, '-'), " \
	"CASE WHEN next_attempt_at IS NULL THEN 'next:null' " \
	"WHEN next_attempt_at = '-infinity' THEN 'next:-inf' ELSE 'next:set' END, " \
	"CASE WHEN claimed_by IS NULL AND claimed_until IS NULL THEN 'unclaimed' " \
	"WHEN claimed_by = $2::uuid AND claimed_until > clock_timestamp() + interval '20 s' " \
	"AND claimed_until <= clock_timestamp() + interval '30 s' THEN 'claimed' " \
	"ELSE 'claimed:other' END, " \
	"CASE WHEN delivered_at IS NULL THEN 'undelivered' " \
	"WHEN delivered_at <= clock_timestamp() AND delivered_at > clock_timestamp() - " \
	"interval '1 minute' THEN 'delivered' ELSE 'delivered:odd' END) " \
	"FROM calendence.webhook_deliveries WHERE id = $1"
#define EXPECT_DSTATE(d, sender, want) \
	EXPECT((want), DSTATE_SQL, (d), nn(sender))

/*
 * Claims: due deliveries with url, sealed secret, event, the event's
 * payload, attempt 1, held by the sender for its lease; another sender finds
 * none of them while the lease runs, nor while the first claim's transaction
 * is open (SKIP LOCKED: it takes the others). Records: 2xx succeeded, a
 * failure with a retry pending again later, without one failed; only the
 * holder may record. A lease that ran out is claimed again (attempt 2);
 * released, a delivery is as if never claimed.
 */
Test(outbox, claim_record_release)
{
	struct bk_shop	 o;
	PGconn		*cb;
	PGresult	*res;
	char		*w[4], *b, *sa, *sb, *sc, *sd, *mine, *a_ids, *b_ids, *ev, *v;
	char		*d1, *d2, *d3, *d4, *before, arr[512];
	const char	*p[2];
	int		 i;

	bk_shop_new(&o);
	w[0] = hook(o.biz, "a", ONE_EVENT);
	w[1] = hook(o.biz, "b", ONE_EVENT);
	w[2] = hook(o.biz, "c", ONE_EVENT);
	w[3] = hook(o.biz, "d", ONE_EVENT);
	sa = bk_uuid();
	sb = bk_uuid();
	sc = bk_uuid();
	sd = bk_uuid();
	/*
	 * Only this test makes deliveries due at '-infinity', and it deletes
	 * them at its end: any such one pending now was left by a run that
	 * stopped half-way, and would stand in line before ours.
	 */
	fx_exec("UPDATE calendence.webhook_deliveries SET status = 'failed', "
	    "next_attempt_at = NULL, claimed_by = NULL, claimed_until = NULL "
	    "WHERE status = 'pending' AND next_attempt_at = '-infinity'", NULL);
	b = booking_at(&o, "10:00");
	ev = latest_event(b);
	/* this business's deliveries, first in line for any claim */
	mine = V("SELECT '{' || string_agg(d.id::text, ',') || '}' FROM "
	    "calendence.webhook_deliveries d JOIN calendence.webhooks w ON w.id = d.webhook_id "
	    "WHERE w.business_id = $1", o.biz);
	fx_exec("UPDATE calendence.webhook_deliveries SET next_attempt_at = '-infinity' "
	    "WHERE id = ANY ($1::uuid[])", mine, NULL);
	EXPECT("4 0", "SELECT count(*) || ' ' || sum(attempts) FROM "
	    "calendence.webhook_deliveries WHERE id = ANY ($1::uuid[])", mine);

	/* A claims two in an open transaction */
	fx_exec("BEGIN", NULL);
	fx_exec("CREATE TEMP TABLE ca ON COMMIT DROP AS SELECT * FROM "
	    "calendence.webhook_claim($1, 2, 30000)", sa, NULL);
	EXPECT("2 2", "SELECT count(*) || ' ' || count(*) FILTER (WHERE delivery_id = "
	    "ANY ($1::uuid[])) FROM ca", mine);
	EXPECT("t t t booking.created t 1;t t t booking.created t 1", "SELECT "
	    "string_agg(concat_ws(' ', c.webhook_id = d.webhook_id, c.url = w.url, "
	    "c.secret_box = w.secret_box, c.event, c.payload = e.payload, c.attempt), ';') "
	    "FROM ca c JOIN calendence.webhook_deliveries d ON d.id = c.delivery_id "
	    "JOIN calendence.webhooks w ON w.id = d.webhook_id "
	    "JOIN calendence.webhook_events e ON e.id = d.event_id AND e.id = $1", ev);
	a_ids = V("SELECT '{' || string_agg(delivery_id::text, ',' ORDER BY delivery_id) || "
	    "'}' FROM ca", NULL);

	/* B, on a connection of its own, meanwhile: SKIP LOCKED, the other two */
	cb = PQconnectdb("application_name=calendence-tests-outbox");
	cr_assert_eq(PQstatus(cb), CONNECTION_OK, "%s", PQerrorMessage(cb));
	PQclear(PQexec(cb, "SET statement_timeout = '10s'"));
	p[0] = sb;
	res = PQexecParams(cb, "SELECT '{' || string_agg(delivery_id::text, ',' ORDER BY "
	    "delivery_id) || '}', count(*), sum(attempt) FROM calendence.webhook_claim($1, 2, "
	    "30000)", 1, NULL, p, NULL, NULL, 0);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "B's claim: %s",
	    PQresultErrorMessage(res));
	b_ids = strdup(PQgetvalue(res, 0, 0));
	cr_assert_not_null(b_ids);
	it_str_eq(PQgetvalue(res, 0, 1), "2", "B's claim takes two");
	it_str_eq(PQgetvalue(res, 0, 2), "2", "each B's first attempt");
	PQclear(res);
	EXPECT("0", "SELECT count(*) FROM ca WHERE delivery_id = ANY ($1::uuid[])", b_ids);
	EXPECT("2", "SELECT count(*) FROM unnest($1::uuid[]) x WHERE x = ANY ($2::uuid[])",
	    b_ids, mine);
	/* a third sender, while A's claim is open and B's lease runs: none of them */
	PQclear(PQexec(cb, "BEGIN"));
	p[0] = sc;
	p[1] = mine;
	res = PQexecParams(cb, "SELECT count(*) FROM calendence.webhook_claim($1, 100, 30000) "
	    "WHERE delivery_id = ANY ($2::uuid[])", 2, NULL, p, NULL, NULL, 0);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
	it_str_eq(PQgetvalue(res, 0, 0), "0", "a claim while A's is open");
	PQclear(res);
	PQclear(PQexec(cb, "ROLLBACK"));
	fx_exec("COMMIT", NULL);
	PQfinish(cb);

	/* the claims as they stand */
	EXPECT(a_ids, "SELECT '{' || string_agg(id::text, ',' ORDER BY id) || '}' FROM "
	    "calendence.webhook_deliveries WHERE claimed_by = $1", sa);
	EXPECT(b_ids, "SELECT '{' || string_agg(id::text, ',' ORDER BY id) || '}' FROM "
	    "calendence.webhook_deliveries WHERE claimed_by = $1", sb);
	d1 = V("SELECT ($1::uuid[])[1]", a_ids);
	d2 = V("SELECT ($1::uuid[])[2]", a_ids);
	d3 = V("SELECT ($1::uuid[])[1]", b_ids);
	d4 = V("SELECT ($1::uuid[])[2]", b_ids);
	EXPECT_DSTATE(d1, sa, "pending 1 - - next:-inf claimed undelivered");
	EXPECT_DSTATE(d2, sa, "pending 1 - - next:-inf claimed undelivered");
	EXPECT_DSTATE(d3, sb, "pending 1 - - next:-inf claimed undelivered");
	EXPECT_DSTATE(d4, sb, "pending 1 - - next:-inf claimed undelivered");

	/* right after, another sender: none of them (the leases run) */
	fx_exec("BEGIN", NULL);
	EXPECT("0", "SELECT count(*) FROM calendence.webhook_claim($1, 100, 30000) WHERE "
	    "delivery_id = ANY ($2::uuid[])", sc, mine);
	fx_exec("ROLLBACK", NULL);

	/* only the holder records */
	before = delivery_row(d1);
	EXPECT_RECORD(d1, sc, "200", NULL, NULL, "f");
	EXPECT_RECORD(d1, sb, "200", NULL, NULL, "f");
	EXPECT(before, "SELECT d::text FROM calendence.webhook_deliveries d WHERE id = $1", d1);
	free(before);
	/* 2xx: succeeded */
	EXPECT_RECORD(d1, sa, "200", NULL, NULL, "t succeeded");
	EXPECT_DSTATE(d1, sa, "succeeded 1 200 - next:null unclaimed delivered");
	EXPECT_RECORD(d1, sa, "200", NULL, NULL, "f");	/* no longer held */
	/* a failure with a retry: pending, due retry_ms later */
	EXPECT_RECORD(d2, sa, "500", "HTTP 500", "1000", "t pending");
	EXPECT_DSTATE(d2, sa, "pending 1 500 HTTP 500 next:set unclaimed undelivered");
	EXPECT("t", "SELECT next_attempt_at > clock_timestamp() + interval '500 ms' AND "
	    "next_attempt_at <= clock_timestamp() + interval '1 s' FROM "
	    "calendence.webhook_deliveries WHERE id = $1", d2);
	/* no answer and no retry left: failed */
	EXPECT_RECORD(d3, sb, NULL, "connection refused", NULL, "t failed");
	EXPECT_DSTATE(d3, sb, "failed 1 - connection refused next:null unclaimed undelivered");

	/* d4's lease runs out: claimed again by C, a second attempt */
	fx_exec("UPDATE calendence.webhook_deliveries SET claimed_until = now() - "
	    "interval '1 s' WHERE id = $1", d4, NULL);
	v = V("SELECT string_agg(delivery_id::text || ' ' || attempt, ',') FROM "
	    "calendence.webhook_claim($1, 1, 30000)", sc);
	snprintf(arr, sizeof(arr), "%s 2", d4);
	it_str_eq(v, arr, "claimed again after the lease ran out");
	free(v);
	EXPECT_DSTATE(d4, sc, "pending 2 - - next:-inf claimed undelivered");
	EXPECT_RECORD(d4, sb, "200", NULL, NULL, "f");	/* B lost it */
	EXPECT_DSTATE(d4, sc, "pending 2 - - next:-inf claimed undelivered");
	/* released: as if C never claimed it, due at once for anyone */
	EXPECT("f", "SELECT released FROM calendence.webhook_release($1, $2)", d4, sb);
	EXPECT("t", "SELECT released FROM calendence.webhook_release($1, $2)", d4, sc);
	EXPECT_DSTATE(d4, sc, "pending 1 - - next:-inf unclaimed undelivered");
	EXPECT("f", "SELECT released FROM calendence.webhook_release($1, $2)", d4, sc);
	v = V("SELECT string_agg(delivery_id::text || ' ' || attempt, ',') FROM "
	    "calendence.webhook_claim($1, 1, 30000)", sd);
	snprintf(arr, sizeof(arr), "%s 2", d4);
	it_str_eq(v, arr, "claimed again after the release");
	free(v);
	/* an error is kept to its first 500 characters */
	EXPECT("t pending", "SELECT concat_ws(' ', recorded, status) FROM "
	    "calendence.webhook_record($1, $2, 502, repeat('e', 600), 1000)", d4, sd);
	EXPECT("500 pending 502 2", "SELECT concat_ws(' ', length(last_error), status, "
	    "last_status_code, attempts) FROM calendence.webhook_deliveries WHERE id = $1", d4);
	/* any 2xx is success */
	fx_exec("UPDATE calendence.webhook_deliveries SET next_attempt_at = '-infinity' "
	    "WHERE id = $1", d4, NULL);
	EXPECT(d4, "SELECT string_agg(delivery_id::text, ',') FROM "
	    "calendence.webhook_claim($1, 1, 30000)", sd);
	EXPECT_RECORD(d4, sd, "204", NULL, NULL, "t succeeded");
	EXPECT_DSTATE(d4, sd, "succeeded 3 204 - next:null unclaimed delivered");

	/* nothing of this test is left for another claim */
	for (i = 0; i < 4; i++) {
		EXPECT("ok", "SELECT status FROM calendence.webhook_delete($1, $2)", o.biz, w[i]);
		free(w[i]);
	}
	EXPECT("0", "SELECT count(*) FROM calendence.webhook_deliveries WHERE id = "
	    "ANY ($1::uuid[])", mine);
	free(d1);
	free(d2);
	free(d3);
	free(d4);
	free(a_ids);
	free(b_ids);
	free(mine);
	free(ev);
	free(b);
	free(sa);
	free(sb);
	free(sc);
	free(sd);
	bk_shop_free(&o);
}

/* ---- 7. webhook_retry() ---- */

/* webhook_retry(): "status" or "status body-status body-attempts". */
#define RETRY_SQL "SELECT concat_ws(' ', status, body::json->>'status', " \
	"body::json->>'attempts') FROM calendence.webhook_retry($1, $2, $3)"

/*
 * A delivery that ended (failed or succeeded) is pending again with no
 * attempt, due now; a pending one not being attempted is due now; one being
 * attempted is left to its sender. Another business, another webhook, an
 * unknown or malformed id: not_found.
 */
Test(outbox, webhook_retry)
{
	struct bk_shop	 o;
	char		*hub2, *biz2, *h1, *h2, *b, *d1, *d2, *body;

	bk_shop_new(&o);
	hub2 = fx_hub("pro");
	biz2 = fx_business(hub2, "UTC");
	h1 = hook(o.biz, "h1", ONE_EVENT);
	h2 = hook(o.biz, "h2", ONE_EVENT);
	b = booking_at(&o, "10:00");
	d1 = delivery_of(b, "booking.created", h1);
	d2 = delivery_of(b, "booking.created", h2);

	/* failed -> pending, a fresh count, due now */
	fx_exec("UPDATE calendence.webhook_deliveries SET status = 'failed', attempts = 3, "
	    "last_status_code = 503, last_error = 'HTTP 503', next_attempt_at = NULL "
	    "WHERE id = $1", d1, NULL);
	fx_exec("BEGIN", NULL);
	body = V("SELECT concat_ws(' ', status, body) FROM calendence.webhook_retry($1, $2, $3)",
	    o.biz, h1, d1);
	cr_expect(strncmp(body, "ok {", 4) == 0, "retry: %s", body);
	EXPECT("id,event_id,event,status,attempts,last_status_code,last_error,"
	    "next_attempt_at,created_at,delivered_at", "SELECT string_agg(k, ',') FROM "
	    "json_object_keys(substr($1, 4)::json) k", body);
	EXPECT("t", "SELECT (substr($1, 4)::jsonb - 'created_at' - 'last_status_code' - "
	    "'last_error') = jsonb_build_object('id', d.id, 'event_id', "
	    "calendence.event_ref(d.event_id), 'event', 'booking.created', 'status', "
	    "'pending', 'attempts', 0, 'next_attempt_at', calendence.rfc3339(now()), "
	    "'delivered_at', NULL) FROM calendence.webhook_deliveries d WHERE d.id = $2",
	    body, d1);
	EXPECT("pending 0 t", "SELECT concat_ws(' ', status, attempts, next_attempt_at = now()) "
	    "FROM calendence.webhook_deliveries WHERE id = $1", d1);
	fx_exec("COMMIT", NULL);
	free(body);

	/* succeeded -> pending, not delivered any more */
	fx_exec("UPDATE calendence.webhook_deliveries SET status = 'succeeded', attempts = 1, "
	    "last_status_code = 200, last_error = NULL, next_attempt_at = NULL, "
	    "delivered_at = now() WHERE id = $1", d1, NULL);
	EXPECT("ok pending 0", RETRY_SQL, o.biz, h1, d1);
	EXPECT("pending 0 t t", "SELECT concat_ws(' ', status, attempts, delivered_at IS NULL, "
	    "next_attempt_at <= now()) FROM calendence.webhook_deliveries WHERE id = $1", d1);

	/* pending, not claimed, due later: due now, its attempts kept */
	fx_exec("UPDATE calendence.webhook_deliveries SET attempts = 1, "
	    "next_attempt_at = now() + interval '1 hour' WHERE id = $1", d2, NULL);
	fx_exec("BEGIN", NULL);
	EXPECT("ok pending 1", RETRY_SQL, o.biz, h2, d2);
	EXPECT("pending 1 t", "SELECT concat_ws(' ', status, attempts, next_attempt_at = now()) "
	    "FROM calendence.webhook_deliveries WHERE id = $1", d2);
	fx_exec("COMMIT", NULL);
	/* pending, its lease ran out: due now */
	fx_exec("UPDATE calendence.webhook_deliveries SET claimed_by = gen_random_uuid(), "
	    "claimed_until = now() - interval '1 s', next_attempt_at = now() + "
	    "interval '1 hour' WHERE id = $1", d2, NULL);
	fx_exec("BEGIN", NULL);
	EXPECT("ok pending 1", RETRY_SQL, o.biz, h2, d2);
	EXPECT("t", "SELECT next_attempt_at = now() FROM calendence.webhook_deliveries "
	    "WHERE id = $1", d2);
	fx_exec("COMMIT", NULL);
	/* pending and being attempted: left to its sender */
	fx_exec("UPDATE calendence.webhook_deliveries SET claimed_by = gen_random_uuid(), "
	    "claimed_until = now() + interval '1 minute', next_attempt_at = now() + "
	    "interval '1 hour' WHERE id = $1", d2, NULL);
	EXPECT("ok pending 1", RETRY_SQL, o.biz, h2, d2);
	EXPECT("t", "SELECT next_attempt_at > now() + interval '59 minutes' "
	    "FROM calendence.webhook_deliveries WHERE id = $1", d2);

	/* not_found */
	fx_exec("UPDATE calendence.webhook_deliveries SET status = 'failed', "
	    "next_attempt_at = NULL, claimed_by = NULL, claimed_until = NULL WHERE id IN ($1, $2)",
	    d1, d2, NULL);
	EXPECT("not_found", RETRY_SQL, biz2, h1, d1);
	EXPECT("not_found", RETRY_SQL, o.biz, h2, d1);
	EXPECT("not_found", RETRY_SQL, o.biz, h1, d2);
	EXPECT("not_found", RETRY_SQL, o.biz, "nope", d1);
	EXPECT("not_found", RETRY_SQL, o.biz, h1, "nope");
	EXPECT("not_found", RETRY_SQL, o.biz, h1, FX_NULL);
	EXPECT("not_found", RETRY_SQL, o.biz, FX_NULL, d1);
	EXPECT("not_found", RETRY_SQL, o.biz, h1, b);
	EXPECT("failed failed", "SELECT string_agg(status, ' ') FROM "
	    "calendence.webhook_deliveries WHERE id IN ($1, $2)", d1, d2);
	/* an upper-case uuid is the same uuid */
	EXPECT("ok pending 0", "SELECT concat_ws(' ', status, body::json->>'status', "
	    "body::json->>'attempts') FROM calendence.webhook_retry($1, upper($2), upper($3))",
	    o.biz, h1, d1);
	/* nothing of this test is left for a sender */
	EXPECT("ok", "SELECT status FROM calendence.webhook_delete($1, $2)", o.biz, h1);
	EXPECT("ok", "SELECT status FROM calendence.webhook_delete($1, $2)", o.biz, h2);
	free(d1);
	free(d2);
	free(b);
	free(h1);
	free(h2);
	free(biz2);
	free(hub2);
	bk_shop_free(&o);
}

/* ---- 8. webhook_delete() ---- */

/*
 * Deleting a webhook deletes its delivery log with it (and no other
 * webhook's); the events stay, even with every webhook gone. Another
 * business's, an unknown or malformed id: not_found.
 */
Test(outbox, webhook_delete_cascades)
{
	struct bk_shop	 o;
	char		*hub2, *biz2, *h1, *h2, *b, *v;

	bk_shop_new(&o);
	hub2 = fx_hub("pro");
	biz2 = fx_business(hub2, "UTC");
	h1 = hook(o.biz, "h1", "[\"booking.created\", \"booking.cancelled\"]");
	h2 = hook(o.biz, "h2", ONE_EVENT);
	b = booking_at(&o, "10:00");
	v = cancel(&o, b, NULL);
	cr_expect_str_eq(v, "ok cancelled");
	free(v);
	EXPECT("2 1", "SELECT (SELECT count(*) FROM calendence.webhook_deliveries WHERE "
	    "webhook_id = $1) || ' ' || (SELECT count(*) FROM calendence.webhook_deliveries "
	    "WHERE webhook_id = $2)", h1, h2);
	EXPECT_EVENTS(b, "booking.created booking.cancelled");

	EXPECT("not_found", "SELECT status FROM calendence.webhook_delete($1, $2)", biz2, h1);
	EXPECT("not_found", "SELECT status FROM calendence.webhook_delete($1, $2)", o.biz,
	    "nope");
	EXPECT("not_found", "SELECT status FROM calendence.webhook_delete($1, $2)", o.biz, b);
	EXPECT("not_found", "SELECT status FROM calendence.webhook_delete($1, NULL)", o.biz);
	EXPECT("2", "SELECT count(*) FROM calendence.webhooks WHERE business_id = $1", o.biz);

	EXPECT("ok", "SELECT status FROM calendence.webhook_delete($1, $2)", o.biz, h1);
	EXPECT("0 1", "SELECT (SELECT count(*) FROM calendence.webhook_deliveries WHERE "
	    "webhook_id = $1) || ' ' || (SELECT count(*) FROM calendence.webhook_deliveries "
	    "WHERE webhook_id = $2)", h1, h2);
	EXPECT(NULL, "SELECT calendence.webhook_get($1, $2)", o.biz, h1);
	EXPECT("not_found", "SELECT status FROM calendence.webhook_deliveries($1, $2, 50, 0)",
	    o.biz, h1);
	EXPECT("not_found", "SELECT status FROM calendence.webhook_delete($1, $2)", o.biz, h1);
	EXPECT_EVENTS(b, "booking.created booking.cancelled");

	EXPECT("ok", "SELECT status FROM calendence.webhook_delete($1, $2)", o.biz, h2);
	EXPECT("0", "SELECT count(*) FROM calendence.webhook_deliveries d JOIN "
	    "calendence.webhook_events e ON e.id = d.event_id WHERE e.booking_id = $1", b);
	EXPECT("0", "SELECT count(*) FROM calendence.webhooks WHERE business_id = $1", o.biz);
	EXPECT_EVENTS(b, "booking.created booking.cancelled");
	EXPECT_BIZ_EVENTS(o.biz, "2");
	free(b);
	free(h1);
	free(h2);
	free(biz2);
	free(hub2);
	bk_shop_free(&o);
}

/* ---- 9. webhook_maintenance() ---- */

/* Sets the delivery of event 'ev' to webhook 'wh' ended: 'succeeded' or 'failed'. */
static void
end_delivery(const char *ev, const char *wh, const char *how)
{
	EXPECT("1", "WITH u AS (UPDATE calendence.webhook_deliveries SET status = $3, "
	    "attempts = 1, next_attempt_at = NULL, delivered_at = CASE WHEN $3 = 'succeeded' "
	    "THEN now() END WHERE event_id = $1 AND webhook_id = $2 RETURNING 1) "
	    "SELECT count(*) FROM u", ev, wh, how);
}

/*
 * Maintenance removes the events older than what it keeps whose deliveries
 * all ended (or that had none), with their delivery log; an event with a
 * delivery still pending stays. (In a transaction rolled back: other tests'
 * events must stay.)
 */
Test(outbox, webhook_maintenance)
{
	struct bk_shop	 o;
	char		*b0, *b1, *b2, *h1, *h2, *e0, *e1, *e2, *e3;
	static const char *const state_sql = "SELECT concat_ws(' ', "
	    "(SELECT count(*) FROM calendence.webhook_events WHERE id = $1), "
	    "(SELECT count(*) FROM calendence.webhook_deliveries WHERE event_id = $1))";

	bk_shop_new(&o);
	b0 = booking_at(&o, "09:00");		/* before any webhook: no delivery */
	e0 = latest_event(b0);
	h1 = hook(o.biz, "h1", ALL_EVENTS);
	h2 = hook(o.biz, "h2", ALL_EVENTS);
	b1 = booking_at(&o, "10:00");
	e1 = latest_event(b1);			/* both ended */
	end_delivery(e1, h1, "succeeded");
	end_delivery(e1, h2, "failed");
	EXPECT_SET_STATUS(&o, b1, "in_progress", "ok in_progress");
	e2 = latest_event(b1);			/* one ended, one pending */
	end_delivery(e2, h1, "succeeded");
	b2 = booking_at(&o, "12:00");
	e3 = latest_event(b2);			/* both pending */
	EXPECT("1 0", state_sql, e0);
	EXPECT("1 2", state_sql, e1);
	EXPECT("1 2", state_sql, e2);
	EXPECT("1 2", state_sql, e3);

	/* the default keeps 30 days: nothing of these goes */
	fx_exec("BEGIN", NULL);
	EXPECT("t", "SELECT events_removed >= 0 FROM calendence.webhook_maintenance()", NULL);
	EXPECT("1 0", state_sql, e0);
	EXPECT("1 2", state_sql, e1);
	fx_exec("ROLLBACK", NULL);

	fx_exec("BEGIN", NULL);
	EXPECT("t", "SELECT events_removed >= 2 FROM "
	    "calendence.webhook_maintenance('0 seconds')", NULL);
	EXPECT("0 0", state_sql, e0);
	EXPECT("0 0", state_sql, e1);
	EXPECT("1 2", state_sql, e2);
	EXPECT("1 2", state_sql, e3);
	EXPECT("booking.updated booking.created", "SELECT string_agg(event, ' ' ORDER BY "
	    "created_at) FROM calendence.webhook_events WHERE business_id = $1", o.biz);
	fx_exec("ROLLBACK", NULL);

	EXPECT("ok", "SELECT status FROM calendence.webhook_delete($1, $2)", o.biz, h1);
	EXPECT("ok", "SELECT status FROM calendence.webhook_delete($1, $2)", o.biz, h2);
	free(b0);
	free(b1);
	free(b2);
	free(e0);
	free(e1);
	free(e2);
	free(e3);
	free(h1);
	free(h2);
	bk_shop_free(&o);
}
