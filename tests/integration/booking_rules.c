/* booking_rules.c: the booking rules of issue 11: the cap on a chain's holds, releasing a hold, who may use a hold, the horizon, blank values, a hold that keeps looking, Idempotency-Key on cancel. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <libpq-fe.h>

#include "booking.h"
#include "helpers.h"

#define FIELDS_DEF \
	"[{\"id\": \"vehicle\", \"label\": \"Vehicle\", \"type\": \"text\", " \
	"\"required\": true, \"options\": []}, {\"id\": \"colour\", \"label\": \"Colour\", " \
	"\"type\": \"text\", \"required\": false, \"options\": []}]"

/* A business (UTC, hourly grid) open all day, Ann, a 60-minute service, a publishable key. */
struct shop {
	char	*biz;
	char	*loc;
	char	*svc;
	char	*ann;
	char	*pk;		/* the publishable key's id */
	char	*day;		/* a Monday three weeks or more ahead */
};

static void
shop_new(struct shop *s)
{
	char	*token;

	s->biz = bk_business("UTC", 60);
	s->loc = bk_location(s->biz, "Main", NULL, BK_ALL_DAYS);
	s->ann = bk_staff(s->biz, "Ann", s->loc, "{}", BK_ALL_DAYS);
	s->svc = bk_service(s->biz, 60, 0, 0, "{}", NULL);
	s->day = bk_monday(0);
	token = fx_key("publishable", s->biz);
	s->pk = fx_key_id(token);
	cr_assert_not_null(s->pk);
	free(token);
}

static void
shop_free(struct shop *s)
{
	free(s->biz);
	free(s->loc);
	free(s->svc);
	free(s->ann);
	free(s->pk);
	free(s->day);
	memset(s, 0, sizeof(*s));
}

static const char *
nn(const char *s)
{
	return s != NULL ? s : FX_NULL;
}

/*
 * hold() at 'starts' (staff NULL: any) for a caller (its chain's root, or
 * its key), with the cap 'cap' (NULL: none): "status" or "ok <hold id>".
 */
static char *
hold(const struct shop *s, const char *starts, const char *staff, const char *root,
    const char *key, const char *cap)
{
	char	*v;

	if (cap == NULL)	/* hold() as it was before it took a cap */
		v = fx_value("SELECT concat_ws(' ', status, body::json->>'hold_id') FROM "
		    "calendence.hold($1, $2, $3, $4, $5, $6, $7, NULL)", s->biz, s->svc, s->loc,
		    starts, nn(staff), nn(root), nn(key), NULL);
	else
		v = fx_value("SELECT concat_ws(' ', status, body::json->>'hold_id') FROM "
		    "calendence.hold($1, $2, $3, $4, $5, $6, $7, NULL, $8)", s->biz, s->svc,
		    s->loc, starts, nn(staff), nn(root), nn(key), cap, NULL);

	cr_assert_not_null(v);
	return v;
}

/* As hold(), which must answer 'ok'; the hold id. */
static char *
hold_ok(const struct shop *s, const char *starts, const char *root, const char *key,
    const char *cap)
{
	char	*v = hold(s, starts, NULL, root, key, cap), *id;

	cr_assert_eq(strncmp(v, "ok ", 3), 0, "hold at %s: %s", starts, v);
	id = strdup(v + 3);
	cr_assert_not_null(id);
	free(v);
	return id;
}

static void
expect_hold(const struct shop *s, const char *starts, const char *root, const char *key,
    const char *cap, const char *want)
{
	char	*v = hold(s, starts, NULL, root, key, cap);

	if (strcmp(want, "ok") == 0)
		cr_expect_eq(strncmp(v, "ok ", 3), 0, "hold at %s: %s", starts, v);
	else
		cr_expect_str_eq(v, want, "hold at %s", starts);
	free(v);
}

/* release_hold() of 'id' for a caller (root NULL: a key): its status. */
static char *
release(const char *biz, const char *id, const char *root)
{
	char	*v = fx_value("SELECT status FROM calendence.release_hold($1, $2, $3)", biz,
	    id, nn(root), NULL);

	cr_assert_not_null(v);
	return v;
}

static void
expect_release(const char *biz, const char *id, const char *root, const char *want)
{
	char	*v = release(biz, id, root);

	cr_expect_str_eq(v, want, "release %s by %s", id, root ? root : "a key");
	free(v);
}

/* book() of 'hold' for a caller with a valid client: its status. */
static char *
book(const struct shop *s, const char *hold_id, const char *root, const char *key)
{
	struct bk_res	 r;
	char		*st;

	bk_book(&r, s->biz, hold_id, BK_CLIENT, NULL, NULL, root, key, NULL);
	st = strdup(r.status);
	cr_assert_not_null(st);
	bk_res_free(&r);
	return st;
}

static void
expect_book(const struct shop *s, const char *hold_id, const char *root, const char *key,
    const char *want)
{
	char	*v = book(s, hold_id, root, key);

	cr_expect_str_eq(v, want, "book %s by %s: %s, want %s", hold_id, root ? root : key,
	    v, want);
	free(v);
}

/*
 * A session chain holds at most p_max_holds live holds: its refreshes
 * count with it, another chain and keys are not capped, a lapsed or
 * released hold no longer counts, and no cap is given without p_max_holds.
 */
Test(booking_rules, hold_cap_per_chain)
{
	struct shop	 s;
	char		 t[32], *s1, *s2, *s3, *key = bk_uuid(), *h1, *h2, *d1, *v;

	shop_new(&s);
	d1 = bk_date_add(s.day, 1);
	s1 = bk_session(s.biz, s.pk, NULL);
	s2 = bk_session(s.biz, s.pk, s1);		/* a refresh: the C side passes root s1 */
	s3 = bk_session(s.biz, s.pk, NULL);		/* another chain */
	h1 = hold_ok(&s, bk_at(t, s.day, "10:00"), s1, NULL, "3");
	h2 = hold_ok(&s, bk_at(t, s.day, "11:00"), s1, NULL, "3");
	free(hold_ok(&s, bk_at(t, s.day, "12:00"), s1, NULL, "3"));
	v = hold(&s, bk_at(t, s.day, "13:00"), NULL, s1, NULL, "3");
	cr_expect_str_eq(v, "too_many_holds");
	free(v);
	v = fx_value("SELECT message FROM calendence.hold($1, $2, $3, $4, NULL, $5, NULL, "
	    "NULL, 3)", s.biz, s.svc, s.loc, bk_at(t, s.day, "13:00"), s1, NULL);
	cr_expect(v != NULL && strstr(v, "3 slots") != NULL, "message: %s", v ? v : "-");
	free(v);
	expect_hold(&s, bk_at(t, s.day, "13:00"), s3, NULL, "3", "ok");

	/* keys have no cap */
	expect_hold(&s, bk_at(t, s.day, "14:00"), NULL, key, "3", "ok");
	expect_hold(&s, bk_at(t, s.day, "15:00"), NULL, key, "3", "ok");
	expect_hold(&s, bk_at(t, s.day, "16:00"), NULL, key, "3", "ok");
	expect_hold(&s, bk_at(t, s.day, "17:00"), NULL, key, "3", "ok");

	/* a lapsed hold no longer counts, nor does a released one */
	fx_exec("UPDATE calendence.reservations SET expires_at = now() - interval '1 second' "
	    "WHERE id = $1", h1, NULL);
	expect_hold(&s, bk_at(t, d1, "10:00"), s1, NULL, "3", "ok");
	expect_hold(&s, bk_at(t, d1, "11:00"), s1, NULL, "3", "too_many_holds");
	expect_release(s.biz, h2, s1, "ok");
	expect_hold(&s, bk_at(t, d1, "11:00"), s1, NULL, "3", "ok");
	expect_hold(&s, bk_at(t, d1, "12:00"), s1, NULL, "3", "too_many_holds");
	/* a cap of 1; and none at all when the caller gives none */
	expect_hold(&s, bk_at(t, d1, "12:00"), s3, NULL, "1", "too_many_holds");
	expect_hold(&s, bk_at(t, d1, "12:00"), s1, NULL, NULL, "ok");
	v = fx_value("SELECT count(*) FROM calendence.reservations WHERE root_session_id = $1 "
	    "AND status = 'held' AND expires_at > now()", s1, NULL);
	cr_expect_str_eq(v, "4");
	free(v);
	free(s1); free(s2); free(s3); free(key); free(h1); free(h2); free(d1);
	shop_free(&s);
}

/*
 * Ten holds of one chain at once, each with a free staff member to take:
 * exactly three get one, seven hear too_many_holds (the count is taken one
 * hold of the chain at a time).
 */
Test(booking_rules, hold_cap_concurrent, .timeout = 120)
{
	struct shop	 s;
	char		 out[10][BK_RACE_REC], t[32], name[24], *root, *v;
	int		 i, ok = 0, capped = 0;

	shop_new(&s);
	for (i = 0; i < 9; i++) {
		snprintf(name, sizeof(name), "Staff %d", i);
		free(bk_staff(s.biz, name, s.loc, "{}", BK_ALL_DAYS));
	}
	root = bk_session(s.biz, s.pk, NULL);
	{
		const char	*p[] = { s.biz, s.svc, s.loc, bk_at(t, s.day, "10:00"), root };

		bk_race("SELECT status FROM calendence.hold($1, $2, $3, $4, NULL, $5, NULL, "
		    "NULL, 3)", 5, p, 10, out);
	}
	for (i = 0; i < 10; i++) {
		ok += strcmp(out[i], "ok") == 0;
		capped += strcmp(out[i], "too_many_holds") == 0;
	}
	cr_expect_eq(ok, 3, "%s | %s | %s | %s | %s", out[0], out[1], out[2], out[3], out[4]);
	cr_expect_eq(capped, 7);
	v = fx_value("SELECT count(*) FROM calendence.reservations WHERE root_session_id = $1",
	    root, NULL);
	cr_expect_str_eq(v, "3");
	free(v);
	free(root);
	shop_free(&s);
}

/* 1 when availability of Ann on s's day lists 'starts' (RFC 3339, +00:00). */
static int
offered(const struct shop *s, const char *hhmm)
{
	char	*body = bk_avail_ok(s->biz, s->svc, s->day, s->day, s->ann, NULL);
	char	 want[64];
	int	 found;

	snprintf(want, sizeof(want), "\"starts_at\":\"%sT%s:00+00:00\"", s->day, hhmm);
	found = strstr(body, want) != NULL;
	free(body);
	return found;
}

/*
 * release_hold(): the slot is free at once; twice answers the same; a
 * lapsed hold too; another chain's, a key's for a session (and the other
 * way round), another business's, a booked hold, a malformed or unknown id
 * are not found.
 */
Test(booking_rules, release_hold)
{
	struct shop	 s, o;
	char		 t[32], *s1, *s3, *key = bk_uuid(), *hk, *hs, *hb, *hl, *b, *v, *rnd, *lapsed;

	shop_new(&s);
	shop_new(&o);
	s1 = bk_session(s.biz, s.pk, NULL);
	s3 = bk_session(s.biz, s.pk, NULL);
	rnd = bk_uuid();
	hk = hold_ok(&s, bk_at(t, s.day, "10:00"), NULL, key, NULL);
	hs = hold_ok(&s, bk_at(t, s.day, "11:00"), s1, NULL, NULL);
	cr_expect_not(offered(&s, "10:00"));

	expect_release(s.biz, hk, s1, "not_found");	/* a key's hold, a session */
	expect_release(s.biz, hs, NULL, "not_found");	/* a session's hold, a key */
	expect_release(s.biz, hs, s3, "not_found");	/* another chain */
	expect_release(o.biz, hk, NULL, "not_found");	/* another business */
	expect_release(s.biz, "nope", NULL, "not_found");
	expect_release(s.biz, rnd, NULL, "not_found");
	cr_expect_not(offered(&s, "10:00"));

	expect_release(s.biz, hk, NULL, "ok");
	cr_expect(offered(&s, "10:00"), "a released hold still blocks its slot");
	v = fx_value("SELECT concat_ws(' ', status, expires_at <= now()) FROM "
	    "calendence.reservations WHERE id = $1", hk, NULL);
	cr_expect_str_eq(v, "expired t");
	free(v);
	expect_release(s.biz, hk, NULL, "ok");		/* again: the same answer */
	expect_book(&s, hk, NULL, key, "hold_expired");
	expect_release(s.biz, hs, s1, "ok");
	cr_expect(offered(&s, "11:00"));

	/* a booked hold is no longer a hold */
	hb = hold_ok(&s, bk_at(t, s.day, "12:00"), NULL, key, NULL);
	b = bk_book_ok(s.biz, hb, NULL, key);
	expect_release(s.biz, hb, NULL, "not_found");
	v = fx_value("SELECT status FROM calendence.reservations WHERE id = $1", b, NULL);
	cr_expect_str_eq(v, "confirmed");
	free(v);

	/* a lapsed hold, marked or not */
	hl = hold_ok(&s, bk_at(t, s.day, "13:00"), NULL, key, NULL);
	fx_exec("UPDATE calendence.reservations SET expires_at = now() - interval '1 minute' "
	    "WHERE id = $1", hl, NULL);
	lapsed = fx_value("SELECT expires_at::text FROM calendence.reservations "
	    "WHERE id = $1", hl, NULL);
	expect_release(s.biz, hl, NULL, "ok");
	v = fx_value("SELECT expires_at::text FROM calendence.reservations WHERE id = $1", hl,
	    NULL);
	cr_expect_str_eq(v, lapsed, "release moved a lapsed hold's expires_at");
	free(v);
	free(lapsed);
	free(s1); free(s3); free(key); free(hk); free(hs); free(hb); free(hl); free(b);
	free(rnd);
	shop_free(&s);
	shop_free(&o);
}

/*
 * A hold made with a key is the business's: any key of it books or
 * releases it, a session does not; a session's hold is its chain's only.
 */
Test(booking_rules, any_key_of_the_business_uses_its_holds)
{
	struct shop	 s;
	char		 t[32], *k1 = bk_uuid(), *k2 = bk_uuid(), *s1, *s3;
	char		*h1, *h2, *h3, *hs;

	shop_new(&s);
	s1 = bk_session(s.biz, s.pk, NULL);
	s3 = bk_session(s.biz, s.pk, NULL);
	h1 = hold_ok(&s, bk_at(t, s.day, "10:00"), NULL, k1, NULL);
	h2 = hold_ok(&s, bk_at(t, s.day, "11:00"), NULL, k1, NULL);
	h3 = hold_ok(&s, bk_at(t, s.day, "12:00"), NULL, k1, NULL);
	hs = hold_ok(&s, bk_at(t, s.day, "13:00"), s1, NULL, NULL);	/* s2 passes its root */

	expect_book(&s, h1, NULL, k2, "ok");		/* another key of the business */
	expect_book(&s, h2, s1, NULL, "invalid:hold_id");	/* not a session */
	expect_book(&s, hs, NULL, k1, "invalid:hold_id");	/* a session's: not a key */
	expect_book(&s, hs, s3, NULL, "invalid:hold_id");	/* nor another chain */
	expect_book(&s, hs, s1, NULL, "ok");		/* its chain */
	expect_release(s.biz, h3, NULL, "ok");		/* any key releases it */
	expect_book(&s, h2, NULL, k2, "ok");
	free(k1); free(k2); free(s1); free(s3);
	free(h1); free(h2); free(h3); free(hs);
	shop_free(&s);
}

/* availability() answer status for [from, to] of s's service. */
static void
expect_avail(const struct shop *s, const char *from, const char *to, const char *want)
{
	struct bk_res	r;

	bk_availability(&r, s->biz, s->svc, from, to, NULL, NULL);
	cr_expect_str_eq(r.status, want, "availability %s..%s: %s", from, to,
	    r.message ? r.message : "");
	bk_res_free(&r);
}

/* Business-local today plus n days, YYYY-MM-DD. */
static char *
local_day(const char *biz, int n)
{
	char	p[16], *v;

	snprintf(p, sizeof(p), "%d", n);
	v = fx_value("SELECT to_char((now() AT TIME ZONE b.timezone)::date + $2::integer, "
	    "'YYYY-MM-DD') FROM calendence.businesses b WHERE b.id = $1", biz, p, NULL);
	cr_assert_not_null(v);
	return v;
}

/*
 * Availability and holds reach booking_horizon_days (180 by default) past
 * business-local today, no further: 422 naming date_from, date_to or
 * starts_at; the setting is the business's, 1 to 3650.
 */
Test(booking_rules, horizon)
{
	struct shop	 s;
	char		 t[32], *d175, *d180, *d181, *v, *kiri, *ksvc, *kd;
	struct bk_res	 r;

	shop_new(&s);
	d175 = local_day(s.biz, 175);
	d180 = local_day(s.biz, 180);
	d181 = local_day(s.biz, 181);
	expect_avail(&s, d180, d180, "ok");
	expect_avail(&s, d175, d180, "ok");
	expect_avail(&s, d175, d181, "invalid:date_to");
	expect_avail(&s, d181, d181, "invalid:date_from");
	expect_hold(&s, bk_at(t, d180, "23:00"), NULL, NULL, NULL, "ok");
	expect_hold(&s, bk_at(t, d181, "00:00"), NULL, NULL, NULL, "invalid:starts_at");
	expect_hold(&s, "9999-12-31T10:00:00Z", NULL, NULL, NULL, "invalid:starts_at");
	v = fx_value("SELECT message FROM calendence.hold($1, $2, $3, $4)", s.biz, s.svc,
	    s.loc, bk_at(t, d181, "10:00"), NULL);
	cr_expect(v != NULL && strstr(v, "180 days") != NULL, "message: %s", v ? v : "-");
	free(v);
	bk_availability(&r, s.biz, s.svc, "9999-12-31", "9999-12-31", NULL, NULL);
	cr_expect_str_eq(r.status, "invalid:date_from");
	bk_res_free(&r);

	/* a business setting */
	v = fx_value("SELECT booking_horizon_days FROM calendence.businesses WHERE id = $1",
	    s.biz, NULL);
	cr_expect_str_eq(v, "180");
	free(v);
	fx_exec("UPDATE calendence.businesses SET booking_horizon_days = 181 WHERE id = $1",
	    s.biz, NULL);
	expect_avail(&s, d181, d181, "ok");
	expect_hold(&s, bk_at(t, d181, "10:00"), NULL, NULL, NULL, "ok");
	{
		const char	*bad[] = { "0", "3651", "-1" };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			const char	*p[] = { s.biz, bad[i] };
			char		*st = it_sqlstatev("UPDATE calendence.businesses SET "
			    "booking_horizon_days = $2::integer WHERE id = $1::uuid", 2, p);

			cr_expect_str_eq(st ? st : "(ok)", "23514", "horizon %s", bad[i]);
			free(st);
		}
	}

	/* business-local: at +14:00 the local date runs ahead of UTC's */
	kiri = bk_business("Pacific/Kiritimati", 60);
	ksvc = bk_service(kiri, 60, 0, 0, "{}", NULL);
	kd = local_day(kiri, 180);
	bk_availability(&r, kiri, ksvc, kd, kd, NULL, NULL);
	cr_expect_str_eq(r.status, "ok", "%s", r.message ? r.message : "");
	bk_res_free(&r);
	free(kd);
	kd = local_day(kiri, 181);
	bk_availability(&r, kiri, ksvc, kd, kd, NULL, NULL);
	cr_expect_str_eq(r.status, "invalid:date_from");
	bk_res_free(&r);
	free(kd); free(kiri); free(ksvc);
	free(d175); free(d180); free(d181);
	shop_free(&s);
}

/* A client whose first and last names are 'first' and 'last' (JSON strings). */
static void
client(char *buf, size_t len, const char *first, const char *last)
{
	snprintf(buf, len, "{\"first_name\": %s, \"last_name\": %s, "
	    "\"email\": \"ada@example.com\"}", first, last);
}

/*
 * A client name or required custom field made only of white space or
 * invisible characters is missing (422 naming it); one test of blank,
 * calendence.is_blank(); a blank optional field is left out.
 */
Test(booking_rules, blank_values)
{
	static const char *const blanks[] = { "\"   \"", "\"\\u200b\"", "\"\\u00a0\"",
		"\"\\ufeff\"", "\"\\u2060\"", "\"\\t\\u3000\\u200d \"", "\"\"" };
	struct shop	 s;
	struct bk_res	 r;
	char		 t[32], c[256], f[256], *svc, *h, *key = bk_uuid(), *v;
	size_t		 i;

	shop_new(&s);
	svc = fx_value("INSERT INTO calendence.services (business_id, name, duration_min, "
	    "duration_max, rate, custom_fields) VALUES ($1, 'Detail', 60, 60, 8000, $2::jsonb) "
	    "RETURNING id", s.biz, FIELDS_DEF, NULL);
	cr_assert_not_null(svc);
	free(s.svc);
	s.svc = svc;
	h = hold_ok(&s, bk_at(t, s.day, "10:00"), NULL, key, NULL);
	for (i = 0; i < sizeof(blanks) / sizeof(blanks[0]); i++) {
		client(c, sizeof(c), blanks[i], "\"Lovelace\"");
		bk_book(&r, s.biz, h, c, "{\"vehicle\": \"Civic\"}", NULL, NULL, key, NULL);
		cr_expect_str_eq(r.status, "invalid:client.first_name", "first_name %s", blanks[i]);
		bk_res_free(&r);
		client(c, sizeof(c), "\"Ada\"", blanks[i]);
		bk_book(&r, s.biz, h, c, "{\"vehicle\": \"Civic\"}", NULL, NULL, key, NULL);
		cr_expect_str_eq(r.status, "invalid:client.last_name", "last_name %s", blanks[i]);
		bk_res_free(&r);
		snprintf(f, sizeof(f), "{\"vehicle\": %s}", blanks[i]);
		bk_book(&r, s.biz, h, BK_CLIENT, f, NULL, NULL, key, NULL);
		cr_expect_str_eq(r.status, "invalid:custom_field_values.vehicle", "vehicle %s",
		    blanks[i]);
		bk_res_free(&r);
	}
	/* a blank optional field is no value; a name with a letter is a name */
	client(c, sizeof(c), "\"\\u200bAda\"", "\"Lovelace\"");
	bk_book(&r, s.biz, h, c, "{\"vehicle\": \"Civic\", \"colour\": \"\\u00a0\"}", NULL,
	    NULL, key, NULL);
	cr_assert_str_eq(r.status, "ok", "%s", r.message ? r.message : "");
	v = bk_json(r.body, "custom_field_values");
	cr_expect_str_eq(v, "{\"vehicle\":\"Civic\"}");
	free(v);
	bk_res_free(&r);
	v = fx_value("SELECT string_agg(coalesce(calendence.is_blank(x)::text, 'null'), ',' "
	    "ORDER BY n) FROM unnest(ARRAY['', '   ', E'\\u200b', E'\\u00a0', E'\\ufeff', "
	    "E'\\u2060', E'\\t\\n\\r', E'\\U000e0020', 'a', ' a ', E'\\u200bA', NULL]) "
	    "WITH ORDINALITY AS u(x, n)", NULL);
	cr_expect_str_eq(v, "true,true,true,true,true,true,true,true,false,false,false,null");
	free(v);
	free(h); free(key);
	shop_free(&s);
}

/* The backend pid of c. */
static char *
pid_of(PGconn *c)
{
	PGresult	*res = PQexec(c, "SELECT pg_backend_pid()");
	char		*pid;

	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
	pid = strdup(PQgetvalue(res, 0, 0));
	cr_assert_not_null(pid);
	PQclear(res);
	return pid;
}

static void
run(PGconn *c, const char *sql, int n, const char *const *p)
{
	PGresult	*res = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);

	cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
}

/* Waits (at most 60 s) until backend 'waiter' waits for backend 'holder'. */
static void
wait_blocked(const char *waiter, const char *holder)
{
	struct timespec	 ts = { 0, 20 * 1000 * 1000 };
	char		*v;
	int		 i;

	for (i = 0; i < 3000; i++) {
		v = fx_value("SELECT $2::integer = ANY (pg_blocking_pids($1::integer))", waiter,
		    holder, NULL);
		cr_assert_not_null(v);
		if (strcmp(v, "t") == 0) {
			free(v);
			return;
		}
		free(v);
		nanosleep(&ts, NULL);
	}
	cr_assert_fail("backend %s never waited for %s", waiter, holder);
}

#define RIVALS	5

/*
 * A hold without staff_id keeps looking while a qualified staff member is
 * free: six staff members; five other transactions each take (uncommitted)
 * the one the hold will try next, by name, and commit only once the hold
 * waits for them. The hold loses five races, then gets the sixth.
 */
Test(booking_rules, hold_without_staff_keeps_looking, .timeout = 120)
{
	struct shop	 s;
	PGconn		*rival[RIVALS], *h;
	PGresult	*res;
	char		 t[32], name[24], *staff[RIVALS + 1], *pid[RIVALS], *hpid;
	int		 i;

	shop_new(&s);
	fx_exec("UPDATE calendence.staff SET active = false WHERE id = $1", s.ann, NULL);
	for (i = 0; i <= RIVALS; i++) {
		snprintf(name, sizeof(name), "Staff %d", i + 1);
		staff[i] = bk_staff(s.biz, name, s.loc, "{}", BK_ALL_DAYS);
	}
	bk_at(t, s.day, "10:00");
	for (i = 0; i < RIVALS; i++) {
		const char	*p[] = { s.biz, s.svc, s.loc, staff[i], t };

		rival[i] = PQconnectdb("application_name=calendence-tests-rival");
		cr_assert_eq(PQstatus(rival[i]), CONNECTION_OK);
		pid[i] = pid_of(rival[i]);
		run(rival[i], "BEGIN", 0, NULL);
		run(rival[i], "INSERT INTO calendence.reservations (business_id, service_id, "
		    "location_id, staff_id, starts_at, ends_at, during, status, expires_at) "
		    "VALUES ($1, $2, $3, $4, $5::timestamptz, $5::timestamptz + interval "
		    "'1 hour', tstzrange($5::timestamptz, $5::timestamptz + interval '1 hour'), "
		    "'held', now() + interval '10 minutes')", 5, p);
	}
	h = PQconnectdb("application_name=calendence-tests-hold");
	cr_assert_eq(PQstatus(h), CONNECTION_OK);
	hpid = pid_of(h);
	{
		const char	*p[] = { s.biz, s.svc, s.loc, t };

		cr_assert(PQsendQueryParams(h, "SELECT concat_ws(' ', status, "
		    "body::json->'staff'->>'name') FROM calendence.hold($1, $2, $3, $4)", 4, NULL,
		    p, NULL, NULL, 0));
	}
	for (i = 0; i < RIVALS; i++) {
		wait_blocked(hpid, pid[i]);	/* the hold tries staff[i] now */
		run(rival[i], "COMMIT", 0, NULL);
	}
	res = PQgetResult(h);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQerrorMessage(h));
	cr_expect_str_eq(PQgetvalue(res, 0, 0), "ok Staff 6");
	PQclear(res);
	while ((res = PQgetResult(h)) != NULL)
		PQclear(res);
	PQfinish(h);
	for (i = 0; i < RIVALS; i++) {
		PQfinish(rival[i]);
		free(pid[i]);
	}
	for (i = 0; i <= RIVALS; i++)
		free(staff[i]);
	free(hpid);
	shop_free(&s);
}

/* cancel() of booking 'id': "status replayed body-status". */
static char *
cancel(const struct shop *s, const char *id, const char *root, const char *key,
    const char *idem)
{
	char	*v = fx_value("SELECT concat_ws(' ', status, replayed, "
	    "body::json->>'status') FROM calendence.cancel($1, $2, $3, $4, $5)", s->biz, id,
	    nn(root), nn(key), nn(idem), NULL);

	cr_assert_not_null(v);
	return v;
}

static void
expect_cancel(const struct shop *s, const char *id, const char *root, const char *key,
    const char *idem, const char *want)
{
	char	*v = cancel(s, id, root, key, idem);

	cr_expect_str_eq(v, want, "cancel %s with key %s", id, idem ? idem : "-");
	free(v);
}

/*
 * Idempotency-Key on cancel: the same key and booking replay the first
 * answer (409 too), another booking with that key is 422, keys belong to
 * their caller; without a key, cancel is as before.
 */
Test(booking_rules, cancel_idempotency)
{
	struct shop	 s;
	char		 t[32], *key = bk_uuid(), *other = bk_uuid(), *b1, *b2, *h, *s1, *bs;

	shop_new(&s);
	h = hold_ok(&s, bk_at(t, s.day, "10:00"), NULL, key, NULL);
	b1 = bk_book_ok(s.biz, h, NULL, key);
	free(h);
	h = hold_ok(&s, bk_at(t, s.day, "11:00"), NULL, key, NULL);
	b2 = bk_book_ok(s.biz, h, NULL, key);
	free(h);
	expect_cancel(&s, b1, NULL, key, "c1", "ok f cancelled");
	expect_cancel(&s, b1, NULL, key, "c1", "ok t cancelled");
	expect_cancel(&s, b2, NULL, key, "c1", "invalid:Idempotency-Key f");
	expect_cancel(&s, b1, NULL, other, "c1", "ok f cancelled");	/* its own c1 */
	expect_cancel(&s, b1, NULL, key, "a key", "invalid:Idempotency-Key f");
	expect_cancel(&s, b1, NULL, key, NULL, "ok f cancelled");
	fx_exec("UPDATE calendence.reservations SET status = 'completed' WHERE id = $1", b2,
	    NULL);
	expect_cancel(&s, b2, NULL, key, "c2", "not_cancellable f");
	expect_cancel(&s, b2, NULL, key, "c2", "not_cancellable t");
	/* a session chain is one caller */
	s1 = bk_session(s.biz, s.pk, NULL);
	h = hold_ok(&s, bk_at(t, s.day, "12:00"), s1, NULL, NULL);
	bs = bk_book_ok(s.biz, h, s1, NULL);
	expect_cancel(&s, bs, s1, NULL, "c1", "ok f cancelled");
	expect_cancel(&s, bs, s1, NULL, "c1", "ok t cancelled");
	free(key); free(other); free(b1); free(b2); free(h); free(s1); free(bs);
	shop_free(&s);
}
