/* booking_flow.c: holds, bookings, cancellation and idempotency of SPEC 9, their isolation, and the exclusion guarantee under concurrency. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <libpq-fe.h>

#include "booking.h"

#define FIELDS_DEF \
	"[{\"id\": \"vehicle\", \"label\": \"Vehicle\", \"type\": \"text\", " \
	"\"required\": true, \"options\": []}, {\"id\": \"colour\", \"label\": \"Colour\", " \
	"\"type\": \"select\", \"required\": false, \"options\": [\"red\", \"blue\"]}]"

/* A business (UTC, hourly grid) open 09:00-17:00 daily, Ann and Ben, a 60-minute service. */
struct world {
	char	*biz;
	char	*loc;
	char	*svc;
	char	*ann;
	char	*ben;
	char	*day;		/* a Monday three weeks or more ahead */
};

static void
world_new(struct world *w)
{
	w->biz = bk_business("UTC", 60);
	w->loc = bk_location(w->biz, "Main", NULL, FX_WEEK_HOURS);
	w->ann = bk_staff(w->biz, "Ann", w->loc, "{}", BK_ALL_DAYS);
	w->ben = bk_staff(w->biz, "Ben", w->loc, "{}", BK_ALL_DAYS);
	w->svc = bk_service(w->biz, 60, 0, 0, "{}", NULL);
	w->day = bk_monday(0);
}

static void
world_free(struct world *w)
{
	free(w->biz);
	free(w->loc);
	free(w->svc);
	free(w->ann);
	free(w->ben);
	free(w->day);
	memset(w, 0, sizeof(*w));
}

/* A service of w's business with custom fields and a deposit or not; its id. */
static char *
fields_service(const struct world *w, int deposit)
{
	char	*id;

	id = fx_value("INSERT INTO calendence.services (business_id, name, duration_min, "
	    "duration_max, rate, deposit_type, deposit_amount, custom_fields) VALUES ($1, "
	    "'Detail ' || gen_random_uuid(), 60, 60, 8000, $2, $3::integer, $4::jsonb) "
	    "RETURNING id", w->biz, deposit ? "flat" : "none", deposit ? "2000" : "0",
	    FIELDS_DEF, NULL);
	cr_assert_not_null(id);
	return id;
}

/* The SQLSTATE of a statement that may fail (malloc'd), or NULL when it succeeded. */
static char *
sqlstate(const char *sql, int n, const char *const *params)
{
	PGresult	*res = PQexecParams(fx_db(), sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType	 st = PQresultStatus(res);
	const char	*code;
	char		*out = NULL;

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		out = strdup(code ? code : "(none)");
	}
	PQclear(res);
	return out;
}

static void
expect_state(const char *sql, int n, const char *const *params, const char *want)
{
	char	*got = sqlstate(sql, n, params);

	if (want == NULL)
		cr_expect_null(got, "%s failed with %s", sql, got);
	else
		cr_expect_str_eq(got ? got : "(ok)", want, "%s: got %s", sql,
		    got ? got : "(ok)");
	free(got);
}

static const char	 race_hold_sql[] =
    "SELECT concat_ws(' ', status, coalesce(body::json->>'hold_id', '-'), "
    "coalesce(body::json->'staff'->>'name', '-'), replayed) "
    "FROM calendence.hold($1, $2, $3, $4, $5, NULL, $6, $7)";

/* How many of out[0..n) start with 'prefix'. */
static int
count_prefix(char out[][BK_RACE_REC], int n, const char *prefix)
{
	int	i, k = 0;

	for (i = 0; i < n; i++)
		k += strncmp(out[i], prefix, strlen(prefix)) == 0;
	return k;
}

/* The hold answer: its fields, times in UTC, 10 minutes to live; offsets accepted. */
Test(booking_flow, hold_answer)
{
	struct world	 w;
	struct bk_res	 r;
	char		 t[32], want[512], *id, *v, *key = bk_uuid();

	world_new(&w);
	bk_hold(&r, w.biz, w.svc, w.loc, bk_at(t, w.day, "10:00"), w.ann, NULL, key, NULL);
	cr_assert_str_eq(r.status, "ok", "%s", r.message);
	cr_expect_null(r.message);
	cr_expect_eq(r.replayed, 0);
	id = bk_json(r.body, "hold_id");
	snprintf(want, sizeof(want), "{\"hold_id\":\"%s\",\"service_id\":\"%s\","
	    "\"location_id\":\"%s\",\"staff\":{\"id\":\"%s\",\"name\":\"Ann\"},"
	    "\"starts_at\":\"%sT10:00:00+00:00\",\"ends_at\":\"%sT11:00:00+00:00\","
	    "\"expires_at\":\"", id, w.svc, w.loc, w.ann, w.day, w.day);
	cr_expect_eq(strncmp(r.body, want, strlen(want)), 0, "%s", r.body);
	v = fx_value("SELECT extract(epoch FROM ($1::json->>'expires_at')::timestamptz - now()) "
	    "BETWEEN 590 AND 600", r.body, NULL);
	cr_expect_str_eq(v, "t");
	free(v);
	v = fx_value("SELECT concat_ws(' ', status, key_id = $2, root_session_id IS NULL, "
	    "resource_id IS NULL) FROM calendence.reservations WHERE id = $1", id, key, NULL);
	cr_expect_str_eq(v, "held t t t");
	free(v);
	bk_res_free(&r);

	/* the same instant written with an offset: Ben's */
	snprintf(t, sizeof(t), "%sT05:00:00-05:00", w.day);
	bk_hold(&r, w.biz, w.svc, w.loc, t, NULL, NULL, key, NULL);
	cr_assert_str_eq(r.status, "ok", "%s", r.message);
	v = bk_json(r.body, "staff.name");
	cr_expect_str_eq(v, "Ben");
	free(v);
	v = bk_json(r.body, "starts_at");
	snprintf(want, sizeof(want), "%sT10:00:00+00:00", w.day);
	cr_expect_str_eq(v, want);
	free(v);
	bk_res_free(&r);
	free(id);
	free(key);
	world_free(&w);
}

/* Expects hold() with these arguments to answer 'status' with a message. */
static void
expect_hold(const struct world *w, const char *svc, const char *loc, const char *starts,
    const char *staff, const char *status)
{
	struct bk_res	r;

	bk_hold(&r, w->biz, svc, loc, starts, staff, NULL, NULL, NULL);
	cr_expect_str_eq(r.status, status, "%s %s %s %s", svc ? svc : "-", loc ? loc : "-",
	    starts ? starts : "-", staff ? staff : "-");
	cr_expect_not_null(r.message);
	cr_expect_null(r.body);
	bk_res_free(&r);
}

/* Each parameter of a hold, in the documented order; starts that are no free slot. */
Test(booking_flow, hold_validation)
{
	struct world	 w, o;
	char		 t[32], bad[32], *side;

	world_new(&w);
	world_new(&o);
	side = bk_location(w.biz, "Side", NULL, FX_WEEK_HOURS);	/* nobody works there */
	bk_at(t, w.day, "10:00");
	expect_hold(&w, NULL, w.loc, t, NULL, "invalid:service_id");
	expect_hold(&w, "x", w.loc, t, NULL, "invalid:service_id");
	expect_hold(&w, o.svc, w.loc, t, NULL, "invalid:service_id");
	expect_hold(&w, w.svc, NULL, t, NULL, "invalid:location_id");
	expect_hold(&w, w.svc, o.loc, t, NULL, "invalid:location_id");
	expect_hold(&w, w.svc, w.loc, NULL, NULL, "invalid:starts_at");
	snprintf(bad, sizeof(bad), "%sT10:00:00", w.day);	/* no offset */
	expect_hold(&w, w.svc, w.loc, bad, NULL, "invalid:starts_at");
	snprintf(bad, sizeof(bad), "%s 10:00", w.day);
	expect_hold(&w, w.svc, w.loc, bad, NULL, "invalid:starts_at");
	expect_hold(&w, w.svc, w.loc, "2027-02-30T10:00:00Z", NULL, "invalid:starts_at");
	expect_hold(&w, w.svc, w.loc, "2020-01-06T10:00:00Z", NULL, "invalid:starts_at");
	expect_hold(&w, w.svc, w.loc, t, "nobody", "invalid:staff_id");
	expect_hold(&w, w.svc, w.loc, t, o.ann, "invalid:staff_id");
	expect_hold(&w, w.svc, w.loc, bk_at(bad, w.day, "17:00"), NULL, "slot_unavailable");
	expect_hold(&w, w.svc, w.loc, bk_at(bad, w.day, "08:00"), NULL, "slot_unavailable");
	expect_hold(&w, w.svc, side, t, NULL, "slot_unavailable");
	expect_hold(&w, w.svc, side, t, w.ann, "slot_unavailable");
	free(side);
	world_free(&w);
	world_free(&o);
}

/* Without staff_id, a hold takes the first qualified free member by name. */
Test(booking_flow, hold_picks_any_qualified_staff)
{
	struct world	 w;
	struct bk_res	 r;
	char		 t[32], *cat, *svc, *v;
	int		 i;
	const char	*want[] = { "Ann", "Cat" };

	world_new(&w);
	cat = bk_staff(w.biz, "Cat", w.loc, "{detail}", BK_ALL_DAYS);
	fx_exec("UPDATE calendence.staff SET skills = '{detail}' WHERE id = $1", w.ann, NULL);
	svc = bk_service(w.biz, 60, 0, 0, "{detail}", NULL);
	for (i = 0; i < 2; i++) {
		bk_hold(&r, w.biz, svc, w.loc, bk_at(t, w.day, "10:00"), NULL, NULL, NULL, NULL);
		cr_assert_str_eq(r.status, "ok", "%s", r.message);
		v = bk_json(r.body, "staff.name");
		cr_expect_str_eq(v, want[i]);
		free(v);
		bk_res_free(&r);
	}
	bk_hold(&r, w.biz, svc, w.loc, t, NULL, NULL, NULL, NULL);
	cr_expect_str_eq(r.status, "slot_unavailable");	/* Ben lacks the skill */
	bk_res_free(&r);
	free(cat);
	free(svc);
	world_free(&w);
}

/* The schema itself refuses overlapping live reservations of a staff member or resource. */
Test(booking_flow, exclusion_constraints)
{
	struct world	 w;
	char		*bay, a[32], b[32], c[32], d[32];
	const char	*ins = "INSERT INTO calendence.reservations (business_id, service_id, "
			    "location_id, staff_id, resource_id, starts_at, ends_at, during, "
			    "status, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
			    "tstzrange($6::timestamptz, $7::timestamptz), $8, "
			    "now() + interval '10 minutes')";

	world_new(&w);
	bay = fx_value("SELECT calendence.create_resource($1, 'bay', 'Bay')", w.loc, NULL);
	bk_at(a, w.day, "10:00");
	bk_at(b, w.day, "11:00");
	bk_at(c, w.day, "10:30");
	bk_at(d, w.day, "12:00");
	{
		const char *first[] = { w.biz, w.svc, w.loc, w.ann, bay, a, b, "held" };
		const char *same_staff[] = { w.biz, w.svc, w.loc, w.ann, NULL, c, d, "held" };
		const char *same_bay[] = { w.biz, w.svc, w.loc, w.ben, bay, c, d, "held" };
		const char *adjacent[] = { w.biz, w.svc, w.loc, w.ben, bay, b, d, "held" };
		const char *dead[] = { w.biz, w.svc, w.loc, w.ben, bay, a, b, "expired" };

		expect_state(ins, 8, first, NULL);		/* Ann, the bay, 10-11 */
		expect_state(ins, 8, same_staff, "23P01");	/* Ann 10:30-12 */
		expect_state(ins, 8, same_bay, "23P01");	/* the bay 10:30-12 */
		expect_state(ins, 8, adjacent, NULL);		/* Ben, the bay, 11-12 */
		expect_state(ins, 8, dead, NULL);		/* expired: blocks nothing */
		expect_state("UPDATE calendence.reservations SET status = 'cancelled', "
		    "cancelled_at = now(), booked_at = now(), client_first_name = 'A', "
		    "client_last_name = 'B', client_email = 'a@example.com' WHERE staff_id = $1 "
		    "AND status = 'held'", 1, (const char *[]){ w.ann }, NULL);
		expect_state(ins, 8, same_staff, NULL);		/* Ann's 10-11 cancelled */
		/* nor can the cancelled one come back over it */
		expect_state("UPDATE calendence.reservations SET status = 'confirmed', "
		    "cancelled_at = NULL WHERE staff_id = $1 AND status = 'cancelled'", 1,
		    (const char *[]){ w.ann }, "23P01");
	}
	free(bay);
	world_free(&w);
}

/*
 * Ten processes, each on its own connection, hold one slot of one staff
 * member at the same moment: exactly one gets it, nine hear
 * slot_unavailable; three rounds.
 */
Test(booking_flow, concurrent_holds_one_wins, .timeout = 120)
{
	struct world	 w;
	char		 out[10][BK_RACE_REC], t[32], *v;
	const char	*rounds[] = { "10:00", "12:00", "14:00" };
	size_t		 k;

	world_new(&w);
	for (k = 0; k < sizeof(rounds) / sizeof(rounds[0]); k++) {
		const char	*p[] = { w.biz, w.svc, w.loc, bk_at(t, w.day, rounds[k]), w.ann,
				    NULL, NULL };

		bk_race(race_hold_sql, 7, p, 10, out);
		cr_expect_eq(count_prefix(out, 10, "ok "), 1, "round %s: %s | %s | %s", rounds[k],
		    out[0], out[1], out[2]);
		cr_expect_eq(count_prefix(out, 10, "slot_unavailable "), 9, "round %s",
		    rounds[k]);
		v = fx_value("SELECT count(*) FROM calendence.reservations WHERE staff_id = $1 "
		    "AND starts_at = $2::timestamptz", w.ann, t, NULL);
		cr_expect_str_eq(v, "1");
		free(v);
	}
	world_free(&w);
}

/* Ten processes hold the same start with any staff: each of the three gets one hold. */
Test(booking_flow, concurrent_holds_any_staff, .timeout = 120)
{
	struct world	 w;
	char		 out[10][BK_RACE_REC], t[32], *cat, *v;

	world_new(&w);
	cat = bk_staff(w.biz, "Cat", w.loc, "{}", BK_ALL_DAYS);
	{
		const char	*p[] = { w.biz, w.svc, w.loc, bk_at(t, w.day, "10:00"), NULL, NULL,
				    NULL };

		bk_race(race_hold_sql, 7, p, 10, out);
	}
	cr_expect_eq(count_prefix(out, 10, "ok "), 3, "%s | %s | %s | %s", out[0], out[1],
	    out[2], out[3]);
	cr_expect_eq(count_prefix(out, 10, "slot_unavailable "), 7);
	v = fx_value("SELECT string_agg(s.name, ',' ORDER BY s.name) FROM "
	    "calendence.reservations r JOIN calendence.staff s ON s.id = r.staff_id "
	    "WHERE r.business_id = $1", w.biz, NULL);
	cr_expect_str_eq(v, "Ann,Ben,Cat");
	free(v);
	free(cat);
	world_free(&w);
}

/* Six processes send one hold with one Idempotency-Key: one hold, five replays of it. */
Test(booking_flow, concurrent_same_idempotency_key, .timeout = 120)
{
	struct world	 w;
	char		 out[6][BK_RACE_REC], t[32], *key = bk_uuid(), *v;
	int		 i, first;

	world_new(&w);
	{
		const char	*p[] = { w.biz, w.svc, w.loc, bk_at(t, w.day, "10:00"), NULL, key,
				    "race-key" };

		bk_race(race_hold_sql, 7, p, 6, out);
	}
	/* each "ok <hold id> <staff> <replayed>", one not replayed */
	for (i = 0, first = 0; i < 6; i++) {
		cr_expect_eq(strncmp(out[i], out[0], 3 + 36), 0, "%s vs %s", out[i], out[0]);
		first += strcmp(out[i] + strlen(out[i]) - 2, " f") == 0;
	}
	cr_expect_eq(count_prefix(out, 6, "ok "), 6, "%s", out[0]);
	cr_expect_eq(first, 1);
	v = fx_value("SELECT count(*) FROM calendence.reservations WHERE business_id = $1",
	    w.biz, NULL);
	cr_expect_str_eq(v, "1");
	free(v);
	free(key);
	world_free(&w);
}

/*
 * A booking from a hold: its whole JSON (custom fields in definition order),
 * the same through booking_json(); confirmed without deposit,
 * pending_payment with; a used hold cannot be booked again.
 */
Test(booking_flow, book_answer_and_status)
{
	struct world	 w;
	struct bk_res	 r;
	char		 t[32], want[2048], *svc, *dep, *hold, *v, *sname;

	world_new(&w);
	svc = fields_service(&w, 0);
	dep = fields_service(&w, 1);
	sname = fx_value("SELECT name FROM calendence.services WHERE id = $1", svc, NULL);
	hold = bk_hold_ok(w.biz, svc, w.loc, bk_at(t, w.day, "10:00"), w.ann, NULL, NULL);
	bk_book(&r, w.biz, hold, BK_CLIENT, "{\"colour\": \"red\", \"vehicle\": \"Civic\"}",
	    "Gate code 42", NULL, NULL, NULL);
	cr_assert_str_eq(r.status, "ok", "%s", r.message);
	snprintf(want, sizeof(want), "{\"id\":\"%s\",\"status\":\"confirmed\","
	    "\"service\":{\"id\":\"%s\",\"name\":\"%s\"},"
	    "\"location\":{\"id\":\"%s\",\"name\":\"Main\"},"
	    "\"staff\":{\"id\":\"%s\",\"name\":\"Ann\"},"
	    "\"client\":{\"first_name\":\"Ada\",\"last_name\":\"Lovelace\","
	    "\"email\":\"ada@example.com\",\"phone\":\"+13125550100\"},"
	    "\"starts_at\":\"%sT10:00:00+00:00\",\"ends_at\":\"%sT11:00:00+00:00\","
	    "\"starts_at_local\":\"%sT10:00:00\",\"ends_at_local\":\"%sT11:00:00\","
	    "\"notes\":\"Gate code 42\","
	    "\"custom_field_values\":{\"vehicle\":\"Civic\",\"colour\":\"red\"},"
	    "\"created_at\":\"", hold, svc, sname, w.loc, w.ann, w.day, w.day, w.day, w.day);
	cr_expect_eq(strncmp(r.body, want, strlen(want)), 0, "\n%s\n%s", r.body, want);
	v = fx_value("SELECT calendence.booking_json($1, $2)", w.biz, hold, NULL);
	cr_expect_str_eq(v, r.body);
	free(v);
	bk_res_free(&r);

	bk_book(&r, w.biz, hold, BK_CLIENT, "{\"vehicle\": \"Civic\"}", NULL, NULL, NULL, NULL);
	cr_expect_str_eq(r.status, "hold_expired");
	bk_res_free(&r);

	free(hold);
	hold = bk_hold_ok(w.biz, dep, w.loc, bk_at(t, w.day, "12:00"), NULL, NULL, NULL);
	bk_book(&r, w.biz, hold, "{\"first_name\": \"Bo\", \"last_name\": \"Li\", "
	    "\"email\": \"bo@example.org\"}", "{\"vehicle\": \"Van\"}", NULL, NULL, NULL, NULL);
	cr_assert_str_eq(r.status, "ok", "%s", r.message);
	v = bk_json(r.body, "status");
	cr_expect_str_eq(v, "pending_payment");
	free(v);
	cr_expect_not_null(strstr(r.body, "\"phone\":null"));
	cr_expect_not_null(strstr(r.body, "\"notes\":null"));
	bk_res_free(&r);
	free(hold); free(svc); free(dep); free(sname);
	world_free(&w);
}

/* Expects book() of 'hold' with these fields to answer 'status'. */
static void
expect_book(const struct world *w, const char *hold, const char *client, const char *fields,
    const char *notes, const char *key, const char *status)
{
	struct bk_res	r;

	bk_book(&r, w->biz, hold, client, fields, notes, NULL, key, NULL);
	cr_expect_str_eq(r.status, status, "client %s fields %s", client ? client : "-",
	    fields ? fields : "-");
	if (strcmp(status, "ok") != 0)
		cr_expect_not_null(r.message);
	bk_res_free(&r);
}

#define CL(first, last, email, phone) \
	"{\"first_name\": " first ", \"last_name\": " last ", \"email\": " email \
	", \"phone\": " phone "}"

/* Client, custom fields and notes are checked before the hold is used. */
Test(booking_flow, book_validation)
{
	struct world	 w;
	char		 t[32], *svc, *hold, *key = bk_uuid(), *random;
	char		*notes;
	const char	*car = "{\"vehicle\": \"Civic\"}";
	size_t		 i;

	world_new(&w);
	svc = fields_service(&w, 0);
	random = bk_uuid();
	hold = bk_hold_ok(w.biz, svc, w.loc, bk_at(t, w.day, "10:00"), w.ann, NULL, key);
	expect_book(&w, NULL, BK_CLIENT, car, NULL, key, "invalid:hold_id");
	expect_book(&w, "nope", BK_CLIENT, car, NULL, key, "invalid:hold_id");
	expect_book(&w, random, BK_CLIENT, car, NULL, key, "invalid:hold_id");
	expect_book(&w, hold, NULL, car, NULL, key, "invalid:client");
	expect_book(&w, hold, "[]", car, NULL, key, "invalid:client");
	expect_book(&w, hold, "{\"last_name\": \"L\", \"email\": \"a@b.co\"}", car, NULL, key,
	    "invalid:client.first_name");
	expect_book(&w, hold, CL("\"  \"", "\"L\"", "\"a@b.co\"", "null"), car, NULL, key,
	    "invalid:client.first_name");
	expect_book(&w, hold, CL("\"A\"", "7", "\"a@b.co\"", "null"), car, NULL, key,
	    "invalid:client.last_name");
	expect_book(&w, hold, CL("\"A\"", "\"L\"", "\"ada\"", "null"), car, NULL, key,
	    "invalid:client.email");
	expect_book(&w, hold, CL("\"A\"", "\"L\"", "\"a@b\"", "null"), car, NULL, key,
	    "invalid:client.email");
	expect_book(&w, hold, CL("\"A\"", "\"L\"", "\"a@b.co\"", "\"3125550100\""), car, NULL,
	    key, "invalid:client.phone");
	expect_book(&w, hold, CL("\"A\"", "\"L\"", "\"a@b.co\"", "\"+0125550100\""), car, NULL,
	    key, "invalid:client.phone");
	expect_book(&w, hold, CL("\"A\"", "\"L\"", "\"a@b.co\"", "\"+123456\""), car, NULL,
	    key, "invalid:client.phone");
	expect_book(&w, hold, CL("\"A\"", "\"L\"", "\"a@b.co\"", "\"+1 312 555 0100\""), car,
	    NULL, key, "invalid:client.phone");
	expect_book(&w, hold, BK_CLIENT, NULL, NULL, key, "invalid:custom_field_values.vehicle");
	expect_book(&w, hold, BK_CLIENT, "{\"vehicle\": \"\"}", NULL, key,
	    "invalid:custom_field_values.vehicle");
	expect_book(&w, hold, BK_CLIENT, "{\"vehicle\": 5}", NULL, key,
	    "invalid:custom_field_values.vehicle");
	expect_book(&w, hold, BK_CLIENT, "{\"vehicle\": \"Civic\", \"colour\": \"green\"}",
	    NULL, key, "invalid:custom_field_values.colour");
	expect_book(&w, hold, BK_CLIENT, "{\"vehicle\": \"Civic\", \"wheels\": \"4\"}", NULL,
	    key, "invalid:custom_field_values.wheels");
	expect_book(&w, hold, BK_CLIENT, "[\"Civic\"]", NULL, key,
	    "invalid:custom_field_values");

	/* notes: at most 1000 characters, counted as characters, not bytes */
	notes = malloc(1001 * 2 + 1);
	cr_assert_not_null(notes);
	for (i = 0; i < 1001; i++)
		memcpy(notes + 2 * i, "\xc3\xa9", 2);	/* é */
	notes[2002] = '\0';
	expect_book(&w, hold, BK_CLIENT, car, notes, key, "invalid:notes");
	notes[2000] = '\0';
	expect_book(&w, hold, BK_CLIENT, car, notes, key, "ok");
	free(notes);
	free(hold); free(svc); free(key); free(random);
	world_free(&w);
}

/*
 * Idempotency-Key on holds: the same key and request replays the first
 * answer (slot_unavailable too); another request with that key is 422; a
 * refused (invalid) request is not remembered; after 24 hours the key is
 * fresh; keys belong to their caller.
 */
Test(booking_flow, idempotency_of_holds)
{
	struct world	 w;
	struct bk_res	 r, s;
	char		 t[32], u[32], *key = bk_uuid(), *other = bk_uuid(), *v;
	char		 long_key[300];

	world_new(&w);
	bk_at(t, w.day, "10:00");
	bk_hold(&r, w.biz, w.svc, w.loc, t, w.ann, NULL, key, "k1");
	cr_assert_str_eq(r.status, "ok", "%s", r.message);
	cr_expect_eq(r.replayed, 0);
	bk_hold(&s, w.biz, w.svc, w.loc, t, w.ann, NULL, key, "k1");
	cr_expect_str_eq(s.status, "ok");
	cr_expect_eq(s.replayed, 1);
	cr_expect_str_eq(s.body, r.body);
	bk_res_free(&s);
	v = fx_value("SELECT count(*) FROM calendence.reservations WHERE business_id = $1",
	    w.biz, NULL);
	cr_expect_str_eq(v, "1");
	free(v);

	bk_hold(&s, w.biz, w.svc, w.loc, bk_at(u, w.day, "11:00"), w.ann, NULL, key, "k1");
	cr_expect_str_eq(s.status, "invalid:Idempotency-Key");
	bk_res_free(&s);
	/* another caller's k1 is its own */
	bk_hold(&s, w.biz, w.svc, w.loc, u, w.ann, NULL, other, "k1");
	cr_expect_str_eq(s.status, "ok");
	cr_expect_eq(s.replayed, 0);
	bk_res_free(&s);

	/* a 409 is an answer too, and is replayed even once the slot is free */
	bk_hold(&s, w.biz, w.svc, w.loc, t, w.ann, NULL, key, "k2");
	cr_expect_str_eq(s.status, "slot_unavailable");
	bk_res_free(&s);
	fx_exec("UPDATE calendence.reservations SET status = 'expired' WHERE business_id = $1",
	    w.biz, NULL);
	bk_hold(&s, w.biz, w.svc, w.loc, t, w.ann, NULL, key, "k2");
	cr_expect_str_eq(s.status, "slot_unavailable");
	cr_expect_eq(s.replayed, 1);
	bk_res_free(&s);

	/* refused requests leave the key unused */
	bk_hold(&s, w.biz, w.svc, w.loc, "soon", w.ann, NULL, key, "k3");
	cr_expect_str_eq(s.status, "invalid:starts_at");
	bk_res_free(&s);
	bk_hold(&s, w.biz, w.svc, w.loc, bk_at(u, w.day, "12:00"), w.ann, NULL, key, "k3");
	cr_expect_str_eq(s.status, "ok");
	cr_expect_eq(s.replayed, 0);
	bk_res_free(&s);

	/* a day later, k1 starts afresh */
	fx_exec("UPDATE calendence.idempotency_keys SET created_at = now() - interval '25 hours' "
	    "WHERE subject = $1 AND idem_key = 'k1'", key, NULL);
	bk_hold(&s, w.biz, w.svc, w.loc, bk_at(u, w.day, "13:00"), w.ann, NULL, key, "k1");
	cr_expect_str_eq(s.status, "ok");
	cr_expect_eq(s.replayed, 0);
	bk_res_free(&s);

	bk_hold(&s, w.biz, w.svc, w.loc, bk_at(u, w.day, "14:00"), w.ann, NULL, key, "a key");
	cr_expect_str_eq(s.status, "invalid:Idempotency-Key");
	bk_res_free(&s);
	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	bk_hold(&s, w.biz, w.svc, w.loc, u, w.ann, NULL, key, long_key);
	cr_expect_str_eq(s.status, "invalid:Idempotency-Key");
	bk_res_free(&s);
	bk_res_free(&r);
	free(key);
	free(other);
	world_free(&w);
}

/*
 * Idempotency-Key on bookings: a replay answers the first booking again; a
 * changed body is 422; a session chain is one caller (a refreshed session
 * replays the first session's answer).
 */
Test(booking_flow, idempotency_of_bookings)
{
	struct world	 w;
	struct bk_res	 r, s;
	char		 t[32], *key = bk_uuid(), *hold, *h2, *pk_token, *pk, *s1, *s2;

	world_new(&w);
	hold = bk_hold_ok(w.biz, w.svc, w.loc, bk_at(t, w.day, "10:00"), w.ann, NULL, key);
	bk_book(&r, w.biz, hold, BK_CLIENT, NULL, "hi", NULL, key, "b1");
	cr_assert_str_eq(r.status, "ok", "%s", r.message);
	bk_book(&s, w.biz, hold, BK_CLIENT, NULL, "hi", NULL, key, "b1");
	cr_expect_str_eq(s.status, "ok");
	cr_expect_eq(s.replayed, 1);
	cr_expect_str_eq(s.body, r.body);
	bk_res_free(&s);
	bk_book(&s, w.biz, hold, BK_CLIENT, NULL, "changed", NULL, key, "b1");
	cr_expect_str_eq(s.status, "invalid:Idempotency-Key");
	bk_res_free(&s);
	/* without the key, the used hold is just used */
	bk_book(&s, w.biz, hold, BK_CLIENT, NULL, "hi", NULL, key, NULL);
	cr_expect_str_eq(s.status, "hold_expired");
	bk_res_free(&s);
	/* a refused booking leaves its key unused */
	h2 = bk_hold_ok(w.biz, w.svc, w.loc, bk_at(t, w.day, "11:00"), w.ann, NULL, key);
	bk_book(&s, w.biz, h2, "{\"first_name\": \"A\", \"last_name\": \"B\", \"email\": "
	    "\"nope\"}", NULL, NULL, NULL, key, "b2");
	cr_expect_str_eq(s.status, "invalid:client.email");
	bk_res_free(&s);
	bk_book(&s, w.biz, h2, BK_CLIENT, NULL, NULL, NULL, key, "b2");
	cr_expect_str_eq(s.status, "ok");
	cr_expect_eq(s.replayed, 0);
	bk_res_free(&s);
	free(h2);
	bk_res_free(&r);

	/* sessions: the chain's root is the caller */
	pk_token = fx_key("publishable", w.biz);
	pk = fx_key_id(pk_token);
	s1 = bk_session(w.biz, pk, NULL);
	s2 = bk_session(w.biz, pk, s1);
	h2 = bk_hold_ok(w.biz, w.svc, w.loc, bk_at(t, w.day, "12:00"), NULL, s1, s1);
	bk_book(&r, w.biz, h2, BK_CLIENT, NULL, NULL, s1, s1, "w1");
	cr_assert_str_eq(r.status, "ok", "%s", r.message);
	bk_book(&s, w.biz, h2, BK_CLIENT, NULL, NULL, s1, s2, "w1");
	cr_expect_str_eq(s.status, "ok");
	cr_expect_eq(s.replayed, 1);
	cr_expect_str_eq(s.body, r.body);
	bk_res_free(&s);
	bk_res_free(&r);
	free(h2); free(pk_token); free(pk); free(s1); free(s2);
	free(hold);
	free(key);
	world_free(&w);
}

/* The first row of a bookings_list() call: "status total ids" (ids comma-joined). */
static char *
list(const struct world *w, const char *status, const char *from, const char *to,
    const char *limit, const char *offset, const char *root)
{
	char	*v = fx_value("SELECT concat_ws(' ', status, total, (SELECT string_agg(e->>'id', "
	    "',') FROM json_array_elements(data::json) e)) FROM calendence.bookings_list($1, "
	    "$2, $3, $4, $5::integer, $6::bigint, $7)", w->biz, status ? status : FX_NULL,
	    from ? from : FX_NULL, to ? to : FX_NULL, limit, offset, root ? root : FX_NULL,
	    NULL);

	cr_assert_not_null(v);
	return v;
}

static void
expect_list(const struct world *w, const char *status, const char *from, const char *to,
    const char *limit, const char *offset, const char *root, const char *want)
{
	char	*got = list(w, status, from, to, limit, offset, root);

	cr_expect_str_eq(got, want, "status %s from %s to %s:\n got  [%s]\n want [%s]",
	    status ? status : "-", from ? from : "-", to ? to : "-", got, want);
	free(got);
}

/*
 * A session sees only what its chain made: a refreshed session books the
 * first one's hold; another session (or a key) cannot use it; lists, show
 * and cancel keep to the chain.
 */
Test(booking_flow, session_chain_sees_its_own)
{
	struct world	 w;
	struct bk_res	 r;
	char		 t[32], want[160], *pk_token, *pk, *s1, *s2, *s3, *h1, *h3, *b1, *b3;
	char		*v, *key = bk_uuid();

	world_new(&w);
	pk_token = fx_key("publishable", w.biz);
	pk = fx_key_id(pk_token);
	s1 = bk_session(w.biz, pk, NULL);
	s2 = bk_session(w.biz, pk, s1);	/* a refresh of s1 */
	s3 = bk_session(w.biz, pk, NULL);	/* someone else */

	/* held in the refreshed session, booked through the first */
	h1 = bk_hold_ok(w.biz, w.svc, w.loc, bk_at(t, w.day, "10:00"), NULL, s1, s2);
	h3 = bk_hold_ok(w.biz, w.svc, w.loc, bk_at(t, w.day, "11:00"), NULL, s3, s3);
	bk_book(&r, w.biz, h3, BK_CLIENT, NULL, NULL, s1, s1, NULL);
	cr_expect_str_eq(r.status, "invalid:hold_id");
	bk_res_free(&r);
	bk_book(&r, w.biz, h1, BK_CLIENT, NULL, NULL, NULL, key, NULL);
	cr_expect_str_eq(r.status, "invalid:hold_id");	/* a key is not the session */
	bk_res_free(&r);
	b1 = bk_book_ok(w.biz, h1, s1, s1);
	b3 = bk_book_ok(w.biz, h3, s3, s3);

	snprintf(want, sizeof(want), "ok 1 %s", b1);
	expect_list(&w, NULL, NULL, NULL, "15", "0", s1, want);
	snprintf(want, sizeof(want), "ok 1 %s", b3);
	expect_list(&w, NULL, NULL, NULL, "15", "0", s3, want);
	snprintf(want, sizeof(want), "ok 2 %s,%s", b1, b3);
	expect_list(&w, NULL, NULL, NULL, "15", "0", NULL, want);

	v = fx_value("SELECT calendence.booking_json($1, $2, $3)", w.biz, b1, s3, NULL);
	cr_expect_null(v);
	v = fx_value("SELECT calendence.booking_json($1, $2, $3) IS NOT NULL", w.biz, b1, s1,
	    NULL);
	cr_expect_str_eq(v, "t");
	free(v);
	v = fx_value("SELECT status FROM calendence.cancel_booking($1, $2, $3)", w.biz, b1, s3,
	    NULL);
	cr_expect_str_eq(v, "not_found");
	free(v);
	/* from s2 the C side passes its root, s1 */
	v = fx_value("SELECT status FROM calendence.cancel_booking($1, $2, $3)", w.biz, b1, s1,
	    NULL);
	cr_expect_str_eq(v, "ok");
	free(v);
	free(pk_token); free(pk); free(s1); free(s2); free(s3); free(h1); free(h3);
	free(b1); free(b3); free(key);
	world_free(&w);
}

/* Another business's ids name nothing: not found, or an invalid parameter. */
Test(booking_flow, other_business_ids_are_not_found)
{
	struct world	 a, b;
	struct bk_res	 r;
	char		 t[32], *hold, *booking, *open_hold, *v;

	world_new(&a);
	world_new(&b);
	hold = bk_hold_ok(a.biz, a.svc, a.loc, bk_at(t, a.day, "10:00"), NULL, NULL, NULL);
	booking = bk_book_ok(a.biz, hold, NULL, NULL);
	open_hold = bk_hold_ok(a.biz, a.svc, a.loc, bk_at(t, a.day, "11:00"), NULL, NULL, NULL);

	v = fx_value("SELECT calendence.booking_json($1, $2)", b.biz, booking, NULL);
	cr_expect_null(v);
	v = fx_value("SELECT status FROM calendence.cancel_booking($1, $2)", b.biz, booking,
	    NULL);
	cr_expect_str_eq(v, "not_found");
	free(v);
	expect_list(&b, NULL, NULL, NULL, "15", "0", NULL, "ok 0");
	bk_book(&r, b.biz, open_hold, BK_CLIENT, NULL, NULL, NULL, NULL, NULL);
	cr_expect_str_eq(r.status, "invalid:hold_id");
	bk_res_free(&r);
	expect_hold(&b, a.svc, b.loc, bk_at(t, b.day, "12:00"), NULL, "invalid:service_id");
	expect_hold(&b, b.svc, a.loc, t, NULL, "invalid:location_id");
	expect_hold(&b, b.svc, b.loc, t, a.ann, "invalid:staff_id");
	bk_availability(&r, b.biz, a.svc, b.day, b.day, NULL, NULL);
	cr_expect_str_eq(r.status, "invalid:service_id");
	bk_res_free(&r);
	/* and A's own view is untouched */
	v = fx_value("SELECT status FROM calendence.reservations WHERE id = $1", booking, NULL);
	cr_expect_str_eq(v, "confirmed");
	free(v);
	free(hold); free(booking); free(open_hold);
	world_free(&a);
	world_free(&b);
}

/* Bookings list: by starts_at, holds left out, filters on status, from and to, pages. */
Test(booking_flow, bookings_list_filters_and_pages)
{
	struct world	 w;
	char		 t[32], want[256], f[32], u[32], *dep, *d1, *d2, *b[4], *h, *v;

	world_new(&w);
	dep = fields_service(&w, 1);
	d1 = bk_date_add(w.day, 1);
	d2 = bk_date_add(w.day, 2);
	h = bk_hold_ok(w.biz, w.svc, w.loc, bk_at(t, w.day, "10:00"), w.ann, NULL, NULL);
	b[0] = bk_book_ok(w.biz, h, NULL, NULL);
	free(h);
	h = bk_hold_ok(w.biz, w.svc, w.loc, bk_at(t, w.day, "12:00"), w.ann, NULL, NULL);
	b[1] = bk_book_ok(w.biz, h, NULL, NULL);
	free(h);
	h = bk_hold_ok(w.biz, w.svc, w.loc, bk_at(t, d1, "09:00"), w.ann, NULL, NULL);
	b[2] = bk_book_ok(w.biz, h, NULL, NULL);
	free(h);
	h = bk_hold_ok(w.biz, dep, w.loc, bk_at(t, d2, "09:00"), w.ann, NULL, NULL);
	{
		struct bk_res	r;

		bk_book(&r, w.biz, h, BK_CLIENT, "{\"vehicle\": \"Van\"}", NULL, NULL, NULL, NULL);
		cr_assert_str_eq(r.status, "ok", "%s", r.message);
		b[3] = bk_json(r.body, "id");
		bk_res_free(&r);
	}
	free(h);
	h = bk_hold_ok(w.biz, w.svc, w.loc, bk_at(t, d2, "15:00"), w.ann, NULL, NULL); /* no booking */
	v = fx_value("SELECT status FROM calendence.cancel_booking($1, $2)", w.biz, b[1], NULL);
	cr_expect_str_eq(v, "ok");
	free(v);

	snprintf(want, sizeof(want), "ok 4 %s,%s,%s,%s", b[0], b[1], b[2], b[3]);
	expect_list(&w, NULL, NULL, NULL, "15", "0", NULL, want);
	snprintf(want, sizeof(want), "ok 2 %s,%s", b[0], b[2]);
	expect_list(&w, "confirmed", NULL, NULL, "15", "0", NULL, want);
	snprintf(want, sizeof(want), "ok 1 %s", b[1]);
	expect_list(&w, "cancelled", NULL, NULL, "15", "0", NULL, want);
	snprintf(want, sizeof(want), "ok 1 %s", b[3]);
	expect_list(&w, "pending_payment", NULL, NULL, "15", "0", NULL, want);
	expect_list(&w, "completed", NULL, NULL, "15", "0", NULL, "ok 0");
	expect_list(&w, "held", NULL, NULL, "15", "0", NULL, "invalid:status");
	snprintf(want, sizeof(want), "ok 2 %s,%s", b[2], b[3]);
	expect_list(&w, NULL, d1, NULL, "15", "0", NULL, want);
	snprintf(want, sizeof(want), "ok 2 %s,%s", b[0], b[1]);
	expect_list(&w, NULL, NULL, w.day, "15", "0", NULL, want);
	expect_list(&w, NULL, w.day, w.day, "15", "0", NULL, want);
	snprintf(want, sizeof(want), "ok 1 %s", b[1]);
	expect_list(&w, NULL, bk_at(f, w.day, "11:00"), bk_at(u, d1, "09:00"), "15", "0", NULL, want);
	expect_list(&w, NULL, "yesterday", NULL, "15", "0", NULL, "invalid:from");
	expect_list(&w, NULL, NULL, "2027-13-01", "15", "0", NULL, "invalid:to");
	expect_list(&w, NULL, d1, w.day, "15", "0", NULL, "invalid:to");
	snprintf(want, sizeof(want), "ok 4 %s,%s", b[1], b[2]);
	expect_list(&w, NULL, NULL, NULL, "2", "1", NULL, want);
	expect_list(&w, NULL, NULL, NULL, "2", "8", NULL, "ok 4");
	free(dep); free(d1); free(d2); free(h);
	for (int i = 0; i < 4; i++)
		free(b[i]);
	world_free(&w);
}

/*
 * Cancelling frees the slot at once; cancelling again answers the same;
 * in_progress and completed bookings cannot be cancelled; holds and
 * unknown ids are not found.
 */
Test(booking_flow, cancel_frees_the_slot)
{
	struct world	 w;
	char		 t[32], slot[64], *h, *b, *b2, *body, *v, *open_hold;

	world_new(&w);
	snprintf(slot, sizeof(slot), "\"starts_at\":\"%sT10:00:00+00:00\"", w.day);
	h = bk_hold_ok(w.biz, w.svc, w.loc, bk_at(t, w.day, "10:00"), w.ann, NULL, NULL);
	b = bk_book_ok(w.biz, h, NULL, NULL);
	body = bk_avail_ok(w.biz, w.svc, w.day, w.day, w.ann, NULL);
	cr_expect_null(strstr(body, slot));
	free(body);

	v = fx_value("SELECT concat_ws(' ', status, body::json->>'status') "
	    "FROM calendence.cancel_booking($1, $2)", w.biz, b, NULL);
	cr_expect_str_eq(v, "ok cancelled");
	free(v);
	body = bk_avail_ok(w.biz, w.svc, w.day, w.day, w.ann, NULL);
	cr_expect_not_null(strstr(body, slot));
	free(body);
	free(h);
	h = bk_hold_ok(w.biz, w.svc, w.loc, t, w.ann, NULL, NULL);
	v = fx_value("SELECT concat_ws(' ', status, body::json->>'status') "
	    "FROM calendence.cancel_booking($1, $2)", w.biz, b, NULL);
	cr_expect_str_eq(v, "ok cancelled");
	free(v);

	b2 = bk_book_ok(w.biz, h, NULL, NULL);
	fx_exec("UPDATE calendence.reservations SET status = 'completed' WHERE id = $1", b2, NULL);
	v = fx_value("SELECT concat_ws(' ', status, message IS NOT NULL, body IS NULL) "
	    "FROM calendence.cancel_booking($1, $2)", w.biz, b2, NULL);
	cr_expect_str_eq(v, "not_cancellable t t");
	free(v);
	open_hold = bk_hold_ok(w.biz, w.svc, w.loc, bk_at(t, w.day, "12:00"), w.ann, NULL, NULL);
	v = fx_value("SELECT status FROM calendence.cancel_booking($1, $2)", w.biz, open_hold,
	    NULL);
	cr_expect_str_eq(v, "not_found");
	free(v);
	v = fx_value("SELECT status FROM calendence.cancel_booking($1, 'nope')", w.biz, NULL);
	cr_expect_str_eq(v, "not_found");
	free(v);
	v = fx_value("SELECT calendence.booking_json($1, $2)", w.biz, open_hold, NULL);
	cr_expect_null(v);
	free(h); free(b); free(b2); free(open_hold);
	world_free(&w);
}

/*
 * Runs sql/demo.sql (what `calendence-admin demo` loads; the tests run
 * from the top of the tree) and checks that it answers with the demo's
 * hub and business ids.
 */
static void
demo_load(const char *hub, const char *biz)
{
	FILE		*f = fopen("sql/demo.sql", "r");
	char		*text;
	long		 len = -1;
	PGresult	*res;

	cr_assert_not_null(f, "sql/demo.sql");
	if (fseek(f, 0, SEEK_END) == 0)
		len = ftell(f);
	cr_assert_gt(len, 0);
	rewind(f);
	cr_assert_not_null(text = calloc(1, (size_t)len + 1));
	cr_assert_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	res = PQexec(fx_db(), text);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQerrorMessage(fx_db()));
	cr_expect_str_eq(PQgetvalue(res, 0, 0), hub);
	cr_expect_str_eq(PQgetvalue(res, 0, 1), biz);
	PQclear(res);
	free(text);
}

/*
 * The demo (sql/demo.sql), on a business under its slug that has services
 * and no locations: two locations, four staff, bays and a van; each service
 * needs what its work takes, the mobile one a van; loading twice changes
 * nothing.
 */
Test(booking_flow, demo_booking_data)
{
	char	*hub = fx_hub("pro"), *biz;
	char	*d = bk_monday(0), *d6 = bk_date_add(d, 6), *v, *mobile, *body;

	fx_exec("DELETE FROM calendence.businesses WHERE slug = 'demo-auto-detail'", NULL);
	biz = fx_value("SELECT calendence.create_business($1, 'Demo Auto Detail', "
	    "'America/Chicago', 'demo-auto-detail')", hub, NULL);
	cr_assert_not_null(biz);
	fx_exec("INSERT INTO calendence.services (business_id, name, duration_min, "
	    "duration_max, rate) VALUES ($1, 'Express Wash', 30, 30, 3500), "
	    "($1, 'Interior Detail', 90, 120, 12000)", biz, NULL);
	demo_load(hub, biz);
	demo_load(hub, biz);
	v = fx_value("SELECT concat_ws(' ', (SELECT count(*) FROM calendence.locations "
	    "WHERE business_id = $1), (SELECT count(*) FROM calendence.staff WHERE "
	    "business_id = $1), (SELECT string_agg(type, ',' ORDER BY type) FROM "
	    "calendence.resources WHERE business_id = $1))", biz, NULL);
	cr_expect_str_eq(v, "2 4 bay,bay,bay,van");
	free(v);
	v = fx_value("SELECT string_agg(concat_ws(':', name, array_to_string(required_skills, "
	    "'+'), resource_type), ' ' ORDER BY name) FROM calendence.services "
	    "WHERE business_id = $1", biz, NULL);
	cr_expect_str_eq(v, "Express Wash:wash Interior Detail:detail:bay "
	    "Mobile Wash:wash+mobile:van");
	free(v);
	mobile = fx_value("SELECT id FROM calendence.services WHERE business_id = $1 "
	    "AND is_mobile", biz, NULL);
	body = bk_avail_ok(biz, mobile, d, d6, NULL, NULL);
	v = fx_value("SELECT concat_ws(' ', count(*) > 0, string_agg(DISTINCT "
	    "s->'staff'->>'name', ','), string_agg(DISTINCT s->'location'->>'name', ',')) "
	    "FROM json_each($1::json->'data') d, json_array_elements(d.value) s", body, NULL);
	cr_expect_str_eq(v, "t Casey Morgan Downtown Studio");
	free(v);
	free(body);
	free(hub); free(biz); free(d); free(d6); free(mobile);
}

/* The DBA functions and tables refuse what would break the rules. */
Test(booking_flow, dba_functions_and_invariants)
{
	struct world	 w, o;
	char		 t[32], *v, *side;

	world_new(&w);
	world_new(&o);
	side = bk_location(w.biz, "Side", NULL, NULL);
	{
		const char	*bad_hours[] = { "{\"funday\": []}", "{\"monday\": \"09:00-17:00\"}",
				    "{\"monday\": [\"10:00-09:00\"]}", "{\"monday\": [\"25:00-26:00\"]}",
				    "{\"monday\": [\"9-5\"]}", "[]" };
		size_t		 i;

		for (i = 0; i < sizeof(bad_hours) / sizeof(bad_hours[0]); i++)
			expect_state("SELECT calendence.set_location_hours($1, $2::jsonb)", 2,
			    (const char *[]){ w.loc, bad_hours[i] }, "22023");
	}
	expect_state("SELECT calendence.create_location($1, 'X', NULL, 'Mars/Olympus')", 1,
	    (const char *[]){ w.biz }, "22023");
	expect_state("SELECT calendence.create_location(gen_random_uuid(), 'X')", 0, NULL,
	    "22023");
	expect_state("SELECT calendence.create_staff($1, 'X', ARRAY[$2::uuid])", 2,
	    (const char *[]){ w.biz, o.loc }, "22023");
	expect_state("SELECT calendence.set_staff_hours($1, '{}', $2)", 2,
	    (const char *[]){ w.ann, side }, "22023");
	expect_state("INSERT INTO calendence.staff_hours (staff_id, location_id, weekday, "
	    "starts, ends) VALUES ($1, $2, 1, '09:00', '10:00')", 2,
	    (const char *[]){ w.ann, side }, "23503");
	expect_state("INSERT INTO calendence.staff_locations (staff_id, location_id, "
	    "business_id) VALUES ($1, $2, $3)", 3, (const char *[]){ w.ann, o.loc, w.biz },
	    "23503");
	expect_state("INSERT INTO calendence.location_hours VALUES ($1, 8, '09:00', '10:00')", 1,
	    (const char *[]){ w.loc }, "23514");
	expect_state("UPDATE calendence.services SET required_skills = '{Bad Skill}' "
	    "WHERE id = $1", 1, (const char *[]){ w.svc }, "23514");
	expect_state("UPDATE calendence.businesses SET slot_minutes = 7 WHERE id = $1", 1,
	    (const char *[]){ w.biz }, "23514");
	expect_state("UPDATE calendence.locations SET timezone = 'Mars/Olympus' WHERE id = $1", 1,
	    (const char *[]){ w.loc }, "23514");
	/* a reservation's staff, service and location are of its business */
	expect_state("INSERT INTO calendence.reservations (business_id, service_id, location_id, "
	    "staff_id, starts_at, ends_at, during, status, expires_at) VALUES ($1, $2, $3, $4, "
	    "$5::timestamptz, $5::timestamptz + interval '1 hour', tstzrange($5::timestamptz, "
	    "$5::timestamptz + interval '1 hour'), 'held', now())", 5,
	    (const char *[]){ w.biz, w.svc, w.loc, o.ann, bk_at(t, w.day, "10:00") }, "23503");
	/* a booking has a client */
	expect_state("INSERT INTO calendence.reservations (business_id, service_id, location_id, "
	    "staff_id, starts_at, ends_at, during, status, booked_at) VALUES ($1, $2, $3, $4, "
	    "$5::timestamptz, $5::timestamptz + interval '1 hour', tstzrange($5::timestamptz, "
	    "$5::timestamptz + interval '1 hour'), 'confirmed', now())", 5,
	    (const char *[]){ w.biz, w.svc, w.loc, w.ann, t }, "23514");
	/* a business goes with all it has */
	v = bk_hold_ok(w.biz, w.svc, w.loc, t, NULL, NULL, NULL);
	free(v);
	expect_state("DELETE FROM calendence.businesses WHERE id = $1", 1,
	    (const char *[]){ w.biz }, NULL);
	v = fx_value("SELECT count(*) FROM calendence.reservations WHERE business_id = $1",
	    w.biz, NULL);
	cr_expect_str_eq(v, "0");
	free(v);
	free(side);
	world_free(&w);
	world_free(&o);
}

/*
 * parse_rfc3339(): RFC 3339 date-times with an explicit offset and nothing
 * else; hour 24 (which PostgreSQL reads as the next midnight), minute 60,
 * a day past the month's end and an offset beyond PostgreSQL's are NULL,
 * and a leap second is the next minute's first second.
 */
Test(booking_flow, parse_rfc3339_edges)
{
	char	*v = fx_value("SELECT string_agg(coalesce(to_char(calendence.parse_rfc3339(t) "
	    "AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), 'NULL'), ',' ORDER BY n) "
	    "FROM unnest(ARRAY['2030-01-01T10:00:00Z', '2030-01-01T10:00:00+05:30', "
	    "'2030-01-01T23:59:60Z', '2030-01-01T24:00:00Z', '2030-01-01T10:60:00Z', "
	    "'2030-01-01T10:00:61Z', '2030-02-30T10:00:00Z', '2030-01-01T10:00:00+99:99', "
	    "'2030-01-01T10:00:00', '2030-01-01 10:00:00Z']) WITH ORDINALITY AS x(t, n)",
	    NULL);

	cr_assert_str_eq(v, "2030-01-01 10:00:00,2030-01-01 04:30:00,2030-01-02 00:00:00,"
	    "NULL,NULL,NULL,NULL,NULL,NULL,NULL");
	free(v);
}
