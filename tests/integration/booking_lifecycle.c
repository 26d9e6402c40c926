/* booking_lifecycle.c: the rest of a booking's life (issue 13, item 1): reschedule(), set_booking_status(), the cancel reason, updated_at and bookings_list()'s updated_since. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "booking.h"

static const char *
nn(const char *s)
{
	return s != NULL ? s : FX_NULL;
}

/* A key-made booking at hhmm of the day; its id. */
static char *
booking_at(const struct bk_shop *l, const char *hhmm)
{
	char	 t[32], *h, *b;

	h = bk_hold_ok(l->biz, l->svc, l->loc, bk_at(t, l->day, hhmm), NULL, NULL, l->key);
	b = bk_book_ok(l->biz, h, NULL, l->key);
	free(h);
	return b;
}

/* reschedule(): "status replayed body-starts_at" (empty members left out). */
static char *
reschedule(const struct bk_shop *l, const char *id, const char *hold, const char *root,
    const char *key, const char *idem)
{
	char	*v = fx_value("SELECT concat_ws(' ', status, replayed, "
	    "body::json->>'starts_at') FROM calendence.reschedule($1, $2, $3, $4, $5, $6)",
	    l->biz, nn(id), nn(hold), nn(root), nn(key), nn(idem), NULL);

	cr_assert_not_null(v);
	return v;
}

static void
expect_reschedule(const struct bk_shop *l, const char *id, const char *hold,
    const char *root, const char *key, const char *idem, const char *want)
{
	char	*v = reschedule(l, id, hold, root, key, idem);

	cr_expect_str_eq(v, want, "reschedule %s to %s", id ? id : "-", hold ? hold : "-");
	free(v);
}

/* set_booking_status(): "status body-status". */
static char *
set_status(const struct bk_shop *l, const char *id, const char *st)
{
	char	*v = fx_value("SELECT concat_ws(' ', status, body::json->>'status') FROM "
	    "calendence.set_booking_status($1, $2, $3)", l->biz, id, nn(st), NULL);

	cr_assert_not_null(v);
	return v;
}

/*
 * A reschedule moves the booking to the hold's slot in one go: same id and
 * client, the old slot free, the hold used (a second use is hold_expired),
 * updated_at moved on; the same Idempotency-Key replays the answer.
 */
Test(booking_lifecycle, reschedule_moves_the_booking)
{
	struct bk_shop	 l;
	char		 t[32], want[96], *b, *h, *v, *before;

	bk_shop_new(&l);
	b = booking_at(&l, "10:00");
	fx_exec("UPDATE calendence.reservations SET updated_at = now() - interval '1 hour' "
	    "WHERE id = $1", b, NULL);
	before = fx_value("SELECT updated_at FROM calendence.reservations WHERE id = $1", b,
	    NULL);
	h = bk_hold_ok(l.biz, l.svc, l.loc, bk_at(t, l.day, "12:00"), NULL, NULL, l.key);
	snprintf(want, sizeof(want), "ok f %sT12:00:00+00:00", l.day);
	expect_reschedule(&l, b, h, NULL, l.key, "k1", want);
	snprintf(want, sizeof(want), "ok t %sT12:00:00+00:00", l.day);
	expect_reschedule(&l, b, h, NULL, l.key, "k1", want);	/* replayed */
	expect_reschedule(&l, b, h, NULL, l.key, "k2", "hold_expired f");

	v = fx_value("SELECT concat_ws(' ', status, client_email, updated_at > $2::timestamptz) "
	    "FROM calendence.reservations WHERE id = $1", b, before, NULL);
	cr_expect_str_eq(v, "confirmed ada@example.com t");
	free(v);
	v = fx_value("SELECT status FROM calendence.reservations WHERE id = $1", h, NULL);
	cr_expect_str_eq(v, "expired", "the hold is used");
	free(v);
	/* the old slot is free again */
	free(bk_hold_ok(l.biz, l.svc, l.loc, bk_at(t, l.day, "10:00"), NULL, NULL, l.key));
	free(before);
	free(h);
	free(b);
	bk_shop_free(&l);
}

/*
 * What a reschedule refuses: a booking unknown or outside the session's
 * chain (not_found), a hold missing, unknown, another caller's or of
 * another service (invalid:hold_id), a lapsed hold (hold_expired), a
 * booking neither pending_payment nor confirmed (invalid_transition).
 */
Test(booking_lifecycle, reschedule_refusals)
{
	struct bk_shop	 l;
	char		 t[32], want[96], *b, *h, *other_svc, *oh, *sess, *sh, *pk, *tok;
	char		*lapsed;

	bk_shop_new(&l);
	b = booking_at(&l, "10:00");
	h = bk_hold_ok(l.biz, l.svc, l.loc, bk_at(t, l.day, "12:00"), NULL, NULL, l.key);
	other_svc = bk_service(l.biz, 60, 0, 0, "{}", NULL);
	oh = bk_hold_ok(l.biz, other_svc, l.loc, bk_at(t, l.day, "13:00"), NULL, NULL,
	    l.key);
	tok = fx_key("publishable", l.biz);
	pk = fx_key_id(tok);
	free(tok);
	sess = bk_session(l.biz, pk, NULL);
	sh = bk_hold_ok(l.biz, l.svc, l.loc, bk_at(t, l.day, "14:00"), NULL, sess, NULL);
	lapsed = bk_hold_ok(l.biz, l.svc, l.loc, bk_at(t, l.day, "15:00"), NULL, NULL,
	    l.key);
	fx_exec("UPDATE calendence.reservations SET expires_at = now() - interval '1 second' "
	    "WHERE id = $1", lapsed, NULL);

	expect_reschedule(&l, "nope", h, NULL, l.key, NULL, "not_found f");
	expect_reschedule(&l, b, h, sess, NULL, NULL, "not_found f");
	expect_reschedule(&l, b, NULL, NULL, l.key, NULL, "invalid:hold_id f");
	expect_reschedule(&l, b, "nope", NULL, l.key, NULL, "invalid:hold_id f");
	expect_reschedule(&l, b, b, NULL, l.key, NULL, "invalid:hold_id f");
	expect_reschedule(&l, b, oh, NULL, l.key, NULL, "invalid:hold_id f");
	expect_reschedule(&l, b, sh, NULL, l.key, NULL, "invalid:hold_id f");
	expect_reschedule(&l, b, lapsed, NULL, l.key, NULL, "hold_expired f");
	fx_exec("UPDATE calendence.reservations SET status = 'in_progress' WHERE id = $1", b,
	    NULL);
	expect_reschedule(&l, b, h, NULL, l.key, NULL, "invalid_transition f");
	fx_exec("UPDATE calendence.reservations SET status = 'confirmed' WHERE id = $1", b,
	    NULL);
	snprintf(want, sizeof(want), "ok f %sT12:00:00+00:00", l.day);
	expect_reschedule(&l, b, h, NULL, l.key, NULL, want);
	free(b);
	free(h);
	free(other_svc);
	free(oh);
	free(sess);
	free(sh);
	free(pk);
	free(lapsed);
	bk_shop_free(&l);
}

/* Every move of PATCH's status, from every status: allowed, same, or refused. */
Test(booking_lifecycle, status_transitions)
{
	static const char *const from[] = { "pending_payment", "confirmed", "in_progress",
	    "completed", "cancelled" };
	static const char *const to[] = { "confirmed", "in_progress", "completed" };
	/* the answer's status for from[i] -> to[j] */
	static const char *const want[5][3] = {
		{ "ok", "invalid_transition", "invalid_transition" },
		{ "ok", "ok", "ok" },
		{ "invalid_transition", "ok", "ok" },
		{ "invalid_transition", "invalid_transition", "ok" },
		{ "invalid_transition", "invalid_transition", "invalid_transition" },
	};
	struct bk_shop	 l;
	char		 hhmm[8], exp[64], *b, *v;
	size_t		 i, j;

	bk_shop_new(&l);
	for (i = 0; i < 5; i++)
		for (j = 0; j < 3; j++) {
			snprintf(hhmm, sizeof(hhmm), "%02zu:00", 1 + i * 3 + j);
			b = booking_at(&l, hhmm);
			if (strcmp(from[i], "cancelled") == 0)
				fx_exec("UPDATE calendence.reservations SET status = 'cancelled', "
				    "cancelled_at = now() WHERE id = $1", b, NULL);
			else
				fx_exec("UPDATE calendence.reservations SET status = $2 WHERE id = $1",
				    b, from[i], NULL);
			v = set_status(&l, b, to[j]);
			if (strcmp(want[i][j], "ok") == 0)
				snprintf(exp, sizeof(exp), "ok %s", to[j]);
			else
				snprintf(exp, sizeof(exp), "%s", want[i][j]);
			cr_expect_str_eq(v, exp, "%s -> %s", from[i], to[j]);
			free(v);
			/* the same PATCH again answers the same when it was allowed */
			if (strcmp(want[i][j], "ok") == 0) {
				v = set_status(&l, b, to[j]);
				cr_expect_str_eq(v, exp, "%s -> %s again", from[i], to[j]);
				free(v);
			}
			free(b);
		}
	b = booking_at(&l, "20:00");
	v = set_status(&l, b, "cancelled");
	cr_expect_str_eq(v, "invalid:status");
	free(v);
	v = set_status(&l, b, "pending_payment");
	cr_expect_str_eq(v, "invalid:status");
	free(v);
	v = set_status(&l, b, NULL);
	cr_expect_str_eq(v, "invalid:status");
	free(v);
	v = set_status(&l, "nope", "confirmed");
	cr_expect_str_eq(v, "not_found");
	free(v);
	free(b);
	bk_shop_free(&l);
}

/* A cancel reason is kept and shown (null without one); over 500 characters is 422. */
Test(booking_lifecycle, cancel_reason)
{
	struct bk_shop	 l;
	char		 long_reason[502], *b, *c, *v;

	bk_shop_new(&l);
	b = booking_at(&l, "10:00");
	c = booking_at(&l, "11:00");
	memset(long_reason, 'x', 501);
	long_reason[501] = '\0';
	v = fx_value("SELECT status FROM calendence.cancel($1, $2, NULL, $3, NULL, $4)",
	    l.biz, b, l.key, long_reason, NULL);
	cr_expect_str_eq(v, "invalid:reason");
	free(v);
	long_reason[500] = '\0';
	v = fx_value("SELECT concat_ws(' ', status, length(body::json->>'cancel_reason')) "
	    "FROM calendence.cancel($1, $2, NULL, $3, NULL, $4)", l.biz, b, l.key,
	    long_reason, NULL);
	cr_expect_str_eq(v, "ok 500");
	free(v);
	v = fx_value("SELECT body::json->>'cancel_reason' FROM calendence.cancel($1, $2, NULL, "
	    "$3, NULL, 'another')", l.biz, b, l.key, NULL);
	cr_expect_eq(strlen(v), 500, "a second cancel keeps the first reason");
	free(v);
	v = fx_value("SELECT concat_ws(' ', status, json_typeof(body::json->'cancel_reason')) "
	    "FROM calendence.cancel($1, $2, NULL, $3)", l.biz, c, l.key, NULL);
	cr_expect_str_eq(v, "ok null");
	free(v);
	v = fx_value("SELECT json_typeof(calendence.booking_json($1, $2)::json->'cancel_reason')",
	    l.biz, c, NULL);
	cr_expect_str_eq(v, "null");
	free(v);
	free(b);
	free(c);
	bk_shop_free(&l);
}

/* bookings_list() with updated_since: "status total ids" of a call. */
static char *
since(const struct bk_shop *l, const char *t)
{
	char	*v = fx_value("SELECT concat_ws(' ', status, total, (SELECT string_agg(e->>'id', "
	    "',') FROM json_array_elements(data::json) e)) FROM calendence.bookings_list($1, "
	    "NULL, NULL, NULL, 50, 0, NULL, $2)", l->biz, nn(t), NULL);

	cr_assert_not_null(v);
	return v;
}

/*
 * updated_at moves with every change (status, cancel) and is shown in RFC
 * 3339; updated_since lists the bookings changed at or after it, by
 * updated_at; a malformed one is invalid:updated_since.
 */
Test(booking_lifecycle, updated_since)
{
	struct bk_shop	 l;
	char		 want[256], *a, *b, *c, *v, *mark;

	bk_shop_new(&l);
	a = booking_at(&l, "10:00");
	b = booking_at(&l, "11:00");
	c = booking_at(&l, "12:00");
	fx_exec("UPDATE calendence.reservations SET updated_at = now() - interval '1 hour' "
	    "WHERE business_id = $1", l.biz, NULL);
	mark = fx_value("SELECT calendence.rfc3339(now() - interval '1 minute')", NULL);
	v = since(&l, mark);
	cr_expect_str_eq(v, "ok 0");
	free(v);
	free(set_status(&l, c, "in_progress"));
	fx_exec("UPDATE calendence.reservations SET updated_at = updated_at - interval "
	    "'1 second' WHERE id = $1", c, NULL);	/* c before a */
	free(fx_value("SELECT status FROM calendence.cancel($1, $2, NULL, $3)", l.biz, a, l.key,
	    NULL));
	snprintf(want, sizeof(want), "ok 2 %s,%s", c, a);
	v = since(&l, mark);
	cr_expect_str_eq(v, want);
	free(v);
	v = since(&l, NULL);
	snprintf(want, sizeof(want), "ok 3 %s,%s,%s", a, b, c);
	cr_expect_str_eq(v, want);
	free(v);
	v = since(&l, "yesterday");
	cr_expect_str_eq(v, "invalid:updated_since");
	free(v);
	v = fx_value("SELECT calendence.booking_json($1, $2)::json->>'updated_at' ~ "
	    "'^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?(Z|[+-]\\d\\d:\\d\\d)$'",
	    l.biz, a, NULL);
	cr_expect_str_eq(v, "t");
	free(v);
	free(mark);
	free(a);
	free(b);
	free(c);
	bk_shop_free(&l);
}
