/* booking_avail.c: calendence.availability() of SPEC 9: each rule on hand-computed slots, time zones, speed. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "booking.h"

#define MONDAY(h)	"{\"monday\": [" h "]}"

/*
 * The next local date after tomorrow on which zone 'tz' springs forward
 * ('spring') or falls back: the day whose noon is not 24 hours after the
 * previous day's.
 */
static char *
dst_day(const char *tz, int spring)
{
	char	*d;

	d = fx_value("SELECT to_char(g, 'YYYY-MM-DD') FROM generate_series("
	    "(now() AT TIME ZONE 'UTC')::date + 2, (now() AT TIME ZONE 'UTC')::date + 400, "
	    "interval '1 day') g WHERE CASE WHEN $2::boolean THEN "
	    "((g::date + time '12:00') AT TIME ZONE $1) - "
	    "((g::date - 1 + time '12:00') AT TIME ZONE $1) < interval '24 hours' ELSE "
	    "((g::date + time '12:00') AT TIME ZONE $1) - "
	    "((g::date - 1 + time '12:00') AT TIME ZONE $1) > interval '24 hours' END "
	    "ORDER BY g LIMIT 1", tz, spring ? "true" : "false", NULL);
	cr_assert_not_null(d, "%s has no daylight saving change within a year", tz);
	return d;
}

/* A slot as the answer must write it, compact and in SPEC 9's field order. */
static void
slot_text(char *buf, size_t size, const char *start, const char *end,
    const char *local_start, const char *local_end, const char *staff,
    const char *staff_name, const char *location, const char *location_name)
{
	snprintf(buf, size, "{\"starts_at\":\"%s\",\"ends_at\":\"%s\","
	    "\"starts_at_local\":\"%s\",\"ends_at_local\":\"%s\","
	    "\"staff\":{\"id\":\"%s\",\"name\":\"%s\"},"
	    "\"location\":{\"id\":\"%s\",\"name\":\"%s\"}}", start, end, local_start,
	    local_end, staff, staff_name, location, location_name);
}

/*
 * Location hours: two ranges on Monday, closed on Tuesday; staff all day.
 * A 60-minute service on a 30-minute grid fits only inside one range.
 */
Test(booking_avail, location_hours)
{
	char	*biz = bk_business("UTC", 30), *d = bk_monday(0), *d1 = bk_date_add(d, 1);
	char	*loc = bk_location(biz, "Main", NULL, MONDAY("\"09:00-12:00\", \"13:00-15:00\""));
	char	*ann = bk_staff(biz, "Ann", loc, "{}", BK_ALL_DAYS);
	char	*svc = bk_service(biz, 60, 0, 0, "{}", NULL);
	char	*body, want[512], a[32], b[32], la[32], lb[32], meta[256];

	body = bk_avail_ok(biz, svc, d, d1, NULL, NULL);
	cr_expect_eq(bk_days(body), 2);
	bk_expect_slots(body, d, 0, "09:00 Ann, 09:30 Ann, 10:00 Ann, 10:30 Ann, 11:00 Ann, "
	    "13:00 Ann, 13:30 Ann, 14:00 Ann");
	bk_expect_slots(body, d1, 0, "");

	/* the exact shape of a slot and of meta */
	snprintf(a, sizeof(a), "%sT09:00:00+00:00", d);
	snprintf(b, sizeof(b), "%sT10:00:00+00:00", d);
	snprintf(la, sizeof(la), "%sT09:00:00", d);
	snprintf(lb, sizeof(lb), "%sT10:00:00", d);
	slot_text(want, sizeof(want), a, b, la, lb, ann, "Ann", loc, "Main");
	cr_expect_not_null(strstr(body, want), "%s not in %s", want, body);
	snprintf(meta, sizeof(meta), "\"meta\":{\"service_id\":\"%s\",\"date_from\":\"%s\","
	    "\"date_to\":\"%s\",\"total_slots\":8}}", svc, d, d1);
	cr_expect_not_null(strstr(body, meta), "%s not in %s", meta, body);
	cr_expect_eq(strncmp(body, "{\"data\":{\"", 10), 0);
	free(body);
	free(biz); free(d); free(d1); free(loc); free(ann); free(svc);
}

/*
 * Staff hours: each member only inside their own hours; hours bound to a
 * location apply only there. staff_id and location_id narrow the answer.
 */
Test(booking_avail, staff_hours)
{
	char	*biz = bk_business("UTC", 30), *d = bk_monday(0);
	char	*north = bk_location(biz, "North", NULL, MONDAY("\"08:00-18:00\""));
	char	*south = bk_location(biz, "South", NULL, MONDAY("\"08:00-18:00\""));
	char	 both[128];
	char	*ann = bk_staff(biz, "Ann", north, "{}", MONDAY("\"10:00-12:00\""));
	char	*ben = bk_staff(biz, "Ben", north, "{}", MONDAY("\"16:00-18:00\""));
	char	*cat, *svc = bk_service(biz, 60, 0, 0, "{}", NULL), *body;

	snprintf(both, sizeof(both), "{%s,%s}", north, south);
	cat = bk_staff(biz, "Cat", both, "{}", NULL);
	fx_exec("SELECT calendence.set_staff_hours($1, $2::jsonb, $3)", cat,
	    MONDAY("\"08:00-09:00\""), north, NULL);
	fx_exec("SELECT calendence.set_staff_hours($1, $2::jsonb, $3)", cat,
	    MONDAY("\"12:00-13:00\""), south, NULL);

	body = bk_avail_ok(biz, svc, d, d, NULL, NULL);
	bk_expect_slots(body, d, BK_LOC, "08:00 Cat@North, 10:00 Ann@North, 10:30 Ann@North, "
	    "11:00 Ann@North, 12:00 Cat@South, 16:00 Ben@North, 16:30 Ben@North, "
	    "17:00 Ben@North");
	free(body);
	body = bk_avail_ok(biz, svc, d, d, cat, NULL);
	bk_expect_slots(body, d, BK_LOC, "08:00 Cat@North, 12:00 Cat@South");
	free(body);
	body = bk_avail_ok(biz, svc, d, d, NULL, south);
	bk_expect_slots(body, d, BK_LOC, "12:00 Cat@South");
	free(body);
	free(biz); free(d); free(north); free(south); free(ann); free(ben); free(cat);
	free(svc);
}

/* A blocked date: none of that member's slots that day, the next day as usual. */
Test(booking_avail, blocked_date)
{
	char	*biz = bk_business("UTC", 60), *d = bk_monday(0), *d1 = bk_date_add(d, 1);
	char	*loc = bk_location(biz, "Main", NULL,
	    "{\"monday\": [\"09:00-11:00\"], \"tuesday\": [\"09:00-11:00\"]}");
	char	*ann = bk_staff(biz, "Ann", loc, "{}", BK_ALL_DAYS);
	char	*ben = bk_staff(biz, "Ben", loc, "{}", BK_ALL_DAYS);
	char	*svc = bk_service(biz, 60, 0, 0, "{}", NULL), *body;

	fx_exec("SELECT calendence.block_staff_date($1, $2::date, 'holiday')", ann, d, NULL);
	body = bk_avail_ok(biz, svc, d, d1, NULL, NULL);
	bk_expect_slots(body, d, 0, "09:00 Ben, 10:00 Ben");
	bk_expect_slots(body, d1, 0, "09:00 Ann, 09:00 Ben, 10:00 Ann, 10:00 Ben");
	free(body);
	free(biz); free(d); free(d1); free(loc); free(ann); free(ben); free(svc);
}

/*
 * Only active staff with every required skill, at active locations.
 */
Test(booking_avail, skills_and_inactive)
{
	char	*biz = bk_business("UTC", 60), *d = bk_monday(0);
	char	*loc = bk_location(biz, "Main", NULL, MONDAY("\"09:00-10:00\""));
	char	*gone = bk_location(biz, "Gone", NULL, MONDAY("\"09:00-10:00\""));
	char	 both[128];
	char	*ann, *ben, *cat, *detail, *any, *body;

	snprintf(both, sizeof(both), "{%s,%s}", loc, gone);
	ann = bk_staff(biz, "Ann", both, "{wash,detail}", BK_ALL_DAYS);
	ben = bk_staff(biz, "Ben", loc, "{wash}", BK_ALL_DAYS);
	cat = bk_staff(biz, "Cat", loc, "{detail}", BK_ALL_DAYS);
	detail = bk_service(biz, 60, 0, 0, "{detail,wash}", NULL);
	any = bk_service(biz, 60, 0, 0, "{}", NULL);
	fx_exec("UPDATE calendence.staff SET active = false WHERE id = $1", cat, NULL);
	fx_exec("UPDATE calendence.locations SET active = false WHERE id = $1", gone, NULL);

	body = bk_avail_ok(biz, detail, d, d, NULL, NULL);
	bk_expect_slots(body, d, BK_LOC, "09:00 Ann@Main");
	free(body);
	body = bk_avail_ok(biz, any, d, d, NULL, NULL);
	bk_expect_slots(body, d, BK_LOC, "09:00 Ann@Main, 09:00 Ben@Main");
	free(body);
	free(biz); free(d); free(loc); free(gone); free(ann); free(ben); free(cat);
	free(detail); free(any);
}

/*
 * An existing booking and buffers. Hours 09:00-12:00, a 30-minute service
 * with 15 minutes before and after, 15-minute grid: the span [t-15, t+45)
 * must fit the hours, so t runs 09:15..11:15. A booking at 10:00 blocks
 * [09:45, 10:45): only t >= 11:00 stays clear of it (t <= 09:00 does not fit).
 * A service without buffers may come up to the booking's buffers.
 */
Test(booking_avail, existing_booking_and_buffers)
{
	char	*biz = bk_business("UTC", 15), *d = bk_monday(0);
	char	*loc = bk_location(biz, "Main", NULL, MONDAY("\"09:00-12:00\""));
	char	*ann = bk_staff(biz, "Ann", loc, "{}", BK_ALL_DAYS);
	char	*svc = bk_service(biz, 30, 15, 15, "{}", NULL);
	char	*bare = bk_service(biz, 30, 0, 0, "{}", NULL);
	char	*body, *hold, *booking, at[32];

	body = bk_avail_ok(biz, svc, d, d, NULL, NULL);
	bk_expect_slots(body, d, 0, "09:15 Ann, 09:30 Ann, 09:45 Ann, 10:00 Ann, 10:15 Ann, "
	    "10:30 Ann, 10:45 Ann, 11:00 Ann, 11:15 Ann");
	free(body);

	snprintf(at, sizeof(at), "%sT10:00:00Z", d);
	hold = bk_hold_ok(biz, svc, loc, at, NULL, NULL, NULL);
	booking = bk_book_ok(biz, hold, NULL, NULL);
	body = bk_avail_ok(biz, svc, d, d, NULL, NULL);
	bk_expect_slots(body, d, 0, "11:00 Ann, 11:15 Ann");
	free(body);
	body = bk_avail_ok(biz, bare, d, d, NULL, NULL);
	bk_expect_slots(body, d, 0, "09:00 Ann, 09:15 Ann, 10:45 Ann, 11:00 Ann, 11:15 Ann, "
	    "11:30 Ann");
	free(body);
	free(biz); free(d); free(loc); free(ann); free(svc); free(bare); free(hold);
	free(booking);
}

/*
 * A live hold blocks its slot; once past expires_at it blocks nothing,
 * though no cleanup has run (the row is still 'held'). A new hold then takes
 * the slot, marking the lapsed one 'expired', which can no longer be booked.
 */
Test(booking_avail, live_hold_blocks_expired_hold_does_not)
{
	char	*biz = bk_business("UTC", 60), *d = bk_monday(0);
	char	*loc = bk_location(biz, "Main", NULL, MONDAY("\"09:00-12:00\""));
	char	*ann = bk_staff(biz, "Ann", loc, "{}", BK_ALL_DAYS);
	char	*svc = bk_service(biz, 60, 0, 0, "{}", NULL);
	char	*body, *old, *fresh, *st, at[32];
	struct bk_res	 r;

	snprintf(at, sizeof(at), "%sT10:00:00Z", d);
	old = bk_hold_ok(biz, svc, loc, at, NULL, NULL, NULL);
	body = bk_avail_ok(biz, svc, d, d, NULL, NULL);
	bk_expect_slots(body, d, 0, "09:00 Ann, 11:00 Ann");
	free(body);

	fx_exec("UPDATE calendence.reservations SET expires_at = now() - interval '1 second' "
	    "WHERE id = $1", old, NULL);
	body = bk_avail_ok(biz, svc, d, d, NULL, NULL);
	bk_expect_slots(body, d, 0, "09:00 Ann, 10:00 Ann, 11:00 Ann");
	free(body);
	st = fx_value("SELECT status FROM calendence.reservations WHERE id = $1", old, NULL);
	cr_expect_str_eq(st, "held");
	free(st);

	fresh = bk_hold_ok(biz, svc, loc, at, NULL, NULL, NULL);
	st = fx_value("SELECT status FROM calendence.reservations WHERE id = $1", old, NULL);
	cr_expect_str_eq(st, "expired");
	free(st);
	bk_book(&r, biz, old, BK_CLIENT, NULL, NULL, NULL, NULL, NULL);
	cr_expect_str_eq(r.status, "hold_expired");
	bk_res_free(&r);
	free(biz); free(d); free(loc); free(ann); free(svc); free(old); free(fresh);
}

/*
 * A service that needs a bay: Main has Bay 1 and Bay 2 (and an inactive Bay 3
 * and a van), Other has a bay of its own. With both Main bays held at 10:00,
 * Cat, though free, has no 10:00 slot and cannot hold it; blocks on both bays
 * take 11:00 away too. A service without a resource is not affected.
 */
Test(booking_avail, resource_required_and_all_busy)
{
	char	*biz = bk_business("UTC", 60), *d = bk_monday(0);
	char	*loc = bk_location(biz, "Main", NULL, MONDAY("\"09:00-12:00\""));
	char	*other = bk_location(biz, "Other", NULL, MONDAY("\"09:00-12:00\""));
	char	*ann = bk_staff(biz, "Ann", loc, "{}", BK_ALL_DAYS);
	char	*ben = bk_staff(biz, "Ben", loc, "{}", BK_ALL_DAYS);
	char	*cat = bk_staff(biz, "Cat", loc, "{}", BK_ALL_DAYS);
	char	*svc = bk_service(biz, 60, 0, 0, "{}", "bay");
	char	*bare = bk_service(biz, 60, 0, 0, "{}", NULL);
	char	*bay1, *bay2, *v, *h1, *h2, *body, at[32], b1[32], b2[32];
	struct bk_res	 r;

	bay1 = fx_value("SELECT calendence.create_resource($1, 'bay', 'Bay 1')", loc, NULL);
	bay2 = fx_value("SELECT calendence.create_resource($1, 'bay', 'Bay 2')", loc, NULL);
	v = fx_value("SELECT calendence.create_resource($1, 'bay', 'Bay 3')", loc, NULL);
	fx_exec("UPDATE calendence.resources SET active = false WHERE id = $1", v, NULL);
	free(v);
	fx_exec("SELECT calendence.create_resource($1, 'van', 'Van')", loc, NULL);
	fx_exec("SELECT calendence.create_resource($1, 'bay', 'Bay X')", other, NULL);

	body = bk_avail_ok(biz, svc, d, d, NULL, loc);
	bk_expect_slots(body, d, 0, "09:00 Ann, 09:00 Ben, 09:00 Cat, 10:00 Ann, 10:00 Ben, "
	    "10:00 Cat, 11:00 Ann, 11:00 Ben, 11:00 Cat");
	free(body);

	snprintf(at, sizeof(at), "%sT10:00:00Z", d);
	h1 = bk_hold_ok(biz, svc, loc, at, ann, NULL, NULL);
	h2 = bk_hold_ok(biz, svc, loc, at, ben, NULL, NULL);
	v = fx_value("SELECT string_agg(s.name, ',' ORDER BY s.name) FROM "
	    "calendence.reservations r JOIN calendence.resources s ON s.id = r.resource_id "
	    "WHERE r.id IN ($1, $2)", h1, h2, NULL);
	cr_expect_str_eq(v, "Bay 1,Bay 2");
	free(v);
	body = bk_avail_ok(biz, svc, d, d, NULL, NULL);
	bk_expect_slots(body, d, 0, "09:00 Ann, 09:00 Ben, 09:00 Cat, 11:00 Ann, 11:00 Ben, "
	    "11:00 Cat");
	free(body);
	bk_hold(&r, biz, svc, loc, at, cat, NULL, NULL, NULL);
	cr_expect_str_eq(r.status, "slot_unavailable");
	bk_res_free(&r);

	snprintf(b1, sizeof(b1), "%s 11:00Z", d);
	snprintf(b2, sizeof(b2), "%s 12:00Z", d);
	fx_exec("SELECT calendence.block_resource($1, $2::timestamptz, $3::timestamptz)", bay1,
	    b1, b2, NULL);
	body = bk_avail_ok(biz, svc, d, d, cat, NULL);
	bk_expect_slots(body, d, 0, "09:00 Cat, 11:00 Cat");
	free(body);
	snprintf(b1, sizeof(b1), "%s 10:30Z", d);
	snprintf(b2, sizeof(b2), "%s 11:30Z", d);
	fx_exec("SELECT calendence.block_resource($1, $2::timestamptz, $3::timestamptz)", bay2,
	    b1, b2, NULL);
	body = bk_avail_ok(biz, svc, d, d, NULL, NULL);
	bk_expect_slots(body, d, 0, "09:00 Ann, 09:00 Ben, 09:00 Cat");
	free(body);
	body = bk_avail_ok(biz, bare, d, d, cat, NULL);
	bk_expect_slots(body, d, BK_LOC, "09:00 Cat@Main, 10:00 Cat@Main, 11:00 Cat@Main");
	free(body);
	free(biz); free(d); free(loc); free(other); free(ann); free(ben); free(cat);
	free(svc); free(bare); free(bay1); free(bay2); free(h1); free(h2);
}

/*
 * The grid runs from local midnight, not from the opening time: a 20-minute
 * grid and hours 09:10-11:00 give 09:20, 09:40, 10:00, 10:20 for 30 minutes
 * (10:40 would end at 11:10). A start off the grid cannot be held.
 */
Test(booking_avail, grid_alignment)
{
	char	*biz = bk_business("UTC", 20), *d = bk_monday(0);
	char	*loc = bk_location(biz, "Main", NULL, MONDAY("\"09:10-11:00\""));
	char	*ann = bk_staff(biz, "Ann", loc, "{}", BK_ALL_DAYS);
	char	*svc = bk_service(biz, 30, 0, 0, "{}", NULL);
	char	*body, *h, at[32];
	struct bk_res	 r;

	body = bk_avail_ok(biz, svc, d, d, NULL, NULL);
	bk_expect_slots(body, d, 0, "09:20 Ann, 09:40 Ann, 10:00 Ann, 10:20 Ann");
	free(body);
	snprintf(at, sizeof(at), "%sT09:10:00Z", d);
	bk_hold(&r, biz, svc, loc, at, NULL, NULL, NULL, NULL);
	cr_expect_str_eq(r.status, "slot_unavailable");
	bk_res_free(&r);
	snprintf(at, sizeof(at), "%sT09:20:30Z", d);
	bk_hold(&r, biz, svc, loc, at, NULL, NULL, NULL, NULL);
	cr_expect_str_eq(r.status, "slot_unavailable");
	bk_res_free(&r);
	snprintf(at, sizeof(at), "%sT09:20:00Z", d);
	h = bk_hold_ok(biz, svc, loc, at, NULL, NULL, NULL);
	free(h);
	free(biz); free(d); free(loc); free(ann); free(svc);
}

/*
 * Only future starts: today, open all day on a 15-minute grid, the first
 * slot is the first grid point after the call and the last is 23:45. A
 * date_from before today is refused.
 */
Test(booking_avail, future_only)
{
	char		*biz = bk_business("UTC", 15);
	char		*today = fx_value("SELECT to_char((now() AT TIME ZONE 'UTC')::date, "
			    "'YYYY-MM-DD')", NULL);
	char		*yesterday = bk_date_add(today, -1);
	char		*loc = bk_location(biz, "Main", NULL, BK_ALL_DAYS);
	char		*ann = bk_staff(biz, "Ann", loc, "{}", BK_ALL_DAYS);
	char		*svc = bk_service(biz, 15, 0, 0, "{}", NULL);
	char		*body, *v, *t0, *t1;
	long long	 n, first, last, before, after, midnight;
	struct bk_res	 r;

	t0 = fx_value("SELECT floor(extract(epoch FROM clock_timestamp()))::bigint", NULL);
	body = bk_avail_ok(biz, svc, today, today, NULL, NULL);
	t1 = fx_value("SELECT ceil(extract(epoch FROM clock_timestamp()))::bigint", NULL);
	v = fx_value("SELECT concat_ws(' ', count(*), "
	    "coalesce(extract(epoch FROM min((s->>'starts_at')::timestamptz)), 0)::bigint, "
	    "coalesce(extract(epoch FROM max((s->>'starts_at')::timestamptz)), 0)::bigint, "
	    "extract(epoch FROM ($2::date + 1)::timestamp AT TIME ZONE 'UTC')::bigint) "
	    "FROM json_array_elements($1::json->'data'->$2) s", body, today, NULL);
	cr_assert_eq(sscanf(v, "%lld %lld %lld %lld", &n, &first, &last, &midnight), 4);
	before = atoll(t0);
	after = atoll(t1);
	if (after + 900 < midnight) {
		cr_expect_gt(first, before, "a slot at or before the call");
		cr_expect_leq(first, after + 900, "the first future grid point is missing");
		cr_expect_eq(first % 900, 0);
		cr_expect_eq(last, midnight - 900);
		cr_expect_eq(n, (last - first) / 900 + 1);
	} else {
		cr_expect_leq(n, 1);	/* the day is over but for its last slot */
	}
	free(v);
	free(body);

	bk_availability(&r, biz, svc, yesterday, today, NULL, NULL);
	cr_expect_str_eq(r.status, "invalid:date_from");
	bk_res_free(&r);
	free(biz); free(today); free(yesterday); free(loc); free(ann); free(svc);
	free(t0); free(t1);
}

/*
 * America/Chicago springs forward at 02:00 local (CST -6 to CDT -5). Open
 * 00:00-05:00 and 09:00-10:00, hourly slots: the day before has 00:00..04:00
 * at 06:00Z..10:00Z and 09:00 at 15:00Z; the day itself has no 02:00, so
 * 00:00, 01:00 (CST, 06:00Z, 07:00Z), 03:00, 04:00 (CDT, 08:00Z, 09:00Z), and
 * 09:00 is 14:00Z. The 01:00 slot ends at 03:00 local.
 */
Test(booking_avail, dst_spring_forward_chicago)
{
	char	*biz = bk_business("America/Chicago", 60), *s = dst_day("America/Chicago", 1);
	char	*prev = bk_date_add(s, -1);
	char	*loc = bk_location(biz, "Main", NULL,
	    "{\"monday\": [\"00:00-05:00\", \"09:00-10:00\"], "
	    "\"tuesday\": [\"00:00-05:00\", \"09:00-10:00\"], "
	    "\"wednesday\": [\"00:00-05:00\", \"09:00-10:00\"], "
	    "\"thursday\": [\"00:00-05:00\", \"09:00-10:00\"], "
	    "\"friday\": [\"00:00-05:00\", \"09:00-10:00\"], "
	    "\"saturday\": [\"00:00-05:00\", \"09:00-10:00\"], "
	    "\"sunday\": [\"00:00-05:00\", \"09:00-10:00\"]}");
	char	*ann = bk_staff(biz, "Ann", loc, "{}", BK_ALL_DAYS);
	char	*svc = bk_service(biz, 60, 0, 0, "{}", NULL);
	char	*body, *h, *b, *v, want[160], at[32];

	/* the next such day may lie past the default horizon of 180 days */
	fx_exec("UPDATE calendence.businesses SET booking_horizon_days = 400 WHERE id = $1",
	    biz, NULL);

	body = bk_avail_ok(biz, svc, prev, s, NULL, NULL);
	bk_expect_slots(body, prev, BK_UTC | BK_NOSTAFF, "00:00=06:00Z, 01:00=07:00Z, "
	    "02:00=08:00Z, 03:00=09:00Z, 04:00=10:00Z, 09:00=15:00Z");
	bk_expect_slots(body, s, BK_UTC | BK_NOSTAFF, "00:00=06:00Z, 01:00=07:00Z, "
	    "03:00=08:00Z, 04:00=09:00Z, 09:00=14:00Z");
	snprintf(want, sizeof(want), "\"starts_at\":\"%sT07:00:00+00:00\",\"ends_at\":\""
	    "%sT08:00:00+00:00\",\"starts_at_local\":\"%sT01:00:00\",\"ends_at_local\":\""
	    "%sT03:00:00\"", s, s, s, s);
	cr_expect_not_null(strstr(body, want), "%s not in %s", want, body);
	free(body);

	/* a booking at 14:00Z that day says 09:00 local */
	snprintf(at, sizeof(at), "%sT14:00:00Z", s);
	h = bk_hold_ok(biz, svc, loc, at, NULL, NULL, NULL);
	b = bk_book_ok(biz, h, NULL, NULL);
	v = fx_value("SELECT calendence.booking_json($1, $2)::json->>'starts_at_local'",
	    biz, b, NULL);
	snprintf(want, sizeof(want), "%sT09:00:00", s);
	cr_expect_str_eq(v, want);
	free(v); free(h); free(b);
	free(biz); free(s); free(prev); free(loc); free(ann); free(svc);
}

/*
 * America/Chicago falls back at 02:00 CDT to 01:00 CST. Open 00:00-04:00 and
 * 09:00-10:00, hourly slots: the day before has 00:00..03:00 at 05:00Z..08:00Z
 * and 09:00 at 14:00Z; the day itself has five hours before 04:00: 00:00 and
 * 01:00 CDT (05:00Z, 06:00Z), 01:00 again, 02:00, 03:00 CST (07:00Z..09:00Z),
 * and 09:00 is 15:00Z. The first 01:00 slot ends at 01:00 local; both 01:00
 * slots can be held.
 */
Test(booking_avail, dst_fall_back_chicago)
{
	char	*biz = bk_business("America/Chicago", 60), *f = dst_day("America/Chicago", 0);
	char	*prev = bk_date_add(f, -1);
	char	*loc = bk_location(biz, "Main", NULL,
	    "{\"monday\": [\"00:00-04:00\", \"09:00-10:00\"], "
	    "\"tuesday\": [\"00:00-04:00\", \"09:00-10:00\"], "
	    "\"wednesday\": [\"00:00-04:00\", \"09:00-10:00\"], "
	    "\"thursday\": [\"00:00-04:00\", \"09:00-10:00\"], "
	    "\"friday\": [\"00:00-04:00\", \"09:00-10:00\"], "
	    "\"saturday\": [\"00:00-04:00\", \"09:00-10:00\"], "
	    "\"sunday\": [\"00:00-04:00\", \"09:00-10:00\"]}");
	char	*ann = bk_staff(biz, "Ann", loc, "{}", BK_ALL_DAYS);
	char	*svc = bk_service(biz, 60, 0, 0, "{}", NULL);
	char	*body, *h1, *h2, want[160], at[32];

	/* the next such day may lie past the default horizon of 180 days */
	fx_exec("UPDATE calendence.businesses SET booking_horizon_days = 400 WHERE id = $1",
	    biz, NULL);

	body = bk_avail_ok(biz, svc, prev, f, NULL, NULL);
	bk_expect_slots(body, prev, BK_UTC | BK_NOSTAFF, "00:00=05:00Z, 01:00=06:00Z, "
	    "02:00=07:00Z, 03:00=08:00Z, 09:00=14:00Z");
	bk_expect_slots(body, f, BK_UTC | BK_NOSTAFF, "00:00=05:00Z, 01:00=06:00Z, "
	    "01:00=07:00Z, 02:00=08:00Z, 03:00=09:00Z, 09:00=15:00Z");
	snprintf(want, sizeof(want), "\"starts_at\":\"%sT06:00:00+00:00\",\"ends_at\":\""
	    "%sT07:00:00+00:00\",\"starts_at_local\":\"%sT01:00:00\",\"ends_at_local\":\""
	    "%sT01:00:00\"", f, f, f, f);
	cr_expect_not_null(strstr(body, want), "%s not in %s", want, body);
	free(body);

	snprintf(at, sizeof(at), "%sT06:00:00Z", f);
	h1 = bk_hold_ok(biz, svc, loc, at, NULL, NULL, NULL);
	snprintf(at, sizeof(at), "%sT07:00:00Z", f);
	h2 = bk_hold_ok(biz, svc, loc, at, NULL, NULL, NULL);
	free(h1); free(h2);
	free(biz); free(f); free(prev); free(loc); free(ann); free(svc);
}

/*
 * Zones whose offset is not whole hours: the grid is local, so hourly slots
 * in Asia/Kolkata (+05:30) start at 09:00 local = 03:30Z, and half-hourly
 * ones in Asia/Kathmandu (+05:45) at 09:00 local = 03:15Z.
 */
Test(booking_avail, half_hour_offset_zones)
{
	char	*kol = bk_business("Asia/Kolkata", 60), *ktm = bk_business("Asia/Kathmandu", 30);
	char	*d = bk_monday(0);
	char	*kl = bk_location(kol, "Main", NULL, MONDAY("\"09:00-12:00\""));
	char	*tl = bk_location(ktm, "Main", NULL, MONDAY("\"09:00-10:30\""));
	char	*ks = bk_staff(kol, "Ann", kl, "{}", BK_ALL_DAYS);
	char	*ts = bk_staff(ktm, "Ann", tl, "{}", BK_ALL_DAYS);
	char	*ksv = bk_service(kol, 60, 0, 0, "{}", NULL);
	char	*tsv = bk_service(ktm, 30, 0, 0, "{}", NULL);
	char	*body;

	body = bk_avail_ok(kol, ksv, d, d, NULL, NULL);
	bk_expect_slots(body, d, BK_UTC | BK_NOSTAFF, "09:00=03:30Z, 10:00=04:30Z, 11:00=05:30Z");
	free(body);
	body = bk_avail_ok(ktm, tsv, d, d, NULL, NULL);
	bk_expect_slots(body, d, BK_UTC | BK_NOSTAFF, "09:00=03:15Z, 09:30=03:45Z, 10:00=04:15Z");
	free(body);
	free(kol); free(ktm); free(d); free(kl); free(tl); free(ks); free(ts); free(ksv);
	free(tsv);
}

/*
 * A location in another zone than its business: hours and grid are the
 * location's (Asia/Kolkata), dates and local times the business's (UTC).
 * Monday 02:00 IST is Sunday 20:30Z, listed under Sunday; Tuesday 01:00 IST
 * is Monday 19:30Z.
 */
Test(booking_avail, business_dates_location_hours)
{
	char	*biz = bk_business("UTC", 60), *d = bk_monday(0), *sun = bk_date_add(d, -1);
	char	*loc = bk_location(biz, "Pune", "Asia/Kolkata",
	    "{\"monday\": [\"02:00-03:00\"], \"tuesday\": [\"01:00-02:00\"]}");
	char	*ann = bk_staff(biz, "Ann", loc, "{}", BK_ALL_DAYS);
	char	*svc = bk_service(biz, 60, 0, 0, "{}", NULL);
	char	*body;

	body = bk_avail_ok(biz, svc, sun, d, NULL, NULL);
	bk_expect_slots(body, sun, BK_UTC | BK_NOSTAFF, "20:30=20:30Z");
	bk_expect_slots(body, d, BK_UTC | BK_NOSTAFF, "19:30=19:30Z");
	free(body);
	free(biz); free(d); free(sun); free(loc); free(ann); free(svc);
}

/* Expects availability with these arguments to answer 'status'. */
static void
expect_status(const char *biz, const char *svc, const char *from, const char *to,
    const char *staff, const char *location, const char *status)
{
	struct bk_res	r;

	bk_availability(&r, biz, svc, from, to, staff, location);
	cr_expect_str_eq(r.status, status, "%s %s..%s staff %s location %s",
	    svc ? svc : "-", from ? from : "-", to ? to : "-", staff ? staff : "-",
	    location ? location : "-");
	if (strcmp(status, "ok") != 0)
		cr_expect_not_null(r.message);
	bk_res_free(&r);
}

/* Each parameter's validation, in the documented order. */
Test(booking_avail, validation)
{
	char	*biz = bk_business("UTC", 15), *other = bk_business("UTC", 15);
	char	*d = bk_monday(0), *d13 = bk_date_add(d, 13), *d14 = bk_date_add(d, 14);
	char	*dm1 = bk_date_add(d, -1);
	char	*today = fx_value("SELECT to_char((now() AT TIME ZONE 'UTC')::date, "
		    "'YYYY-MM-DD')", NULL);
	char	*yesterday = bk_date_add(today, -1);
	char	*loc = bk_location(biz, "Main", NULL, BK_ALL_DAYS);
	char	*gone = bk_location(biz, "Gone", NULL, BK_ALL_DAYS);
	char	*oloc = bk_location(other, "Main", NULL, BK_ALL_DAYS);
	char	*ann = bk_staff(biz, "Ann", loc, "{}", BK_ALL_DAYS);
	char	*oann = bk_staff(other, "Ann", oloc, "{}", BK_ALL_DAYS);
	char	*svc = bk_service(biz, 60, 0, 0, "{}", NULL);
	char	*osvc = bk_service(other, 60, 0, 0, "{}", NULL);
	char	*off = fx_service(biz, NULL, 0);
	char	*body;

	fx_exec("UPDATE calendence.locations SET active = false WHERE id = $1", gone, NULL);
	expect_status(biz, NULL, d, d, NULL, NULL, "invalid:service_id");
	expect_status(biz, "not-a-uuid", d, d, NULL, NULL, "invalid:service_id");
	expect_status(biz, osvc, d, d, NULL, NULL, "invalid:service_id");
	expect_status(biz, off, d, d, NULL, NULL, "invalid:service_id");
	expect_status(biz, svc, NULL, d, NULL, NULL, "invalid:date_from");
	expect_status(biz, svc, "2027-02-30", d, NULL, NULL, "invalid:date_from");
	expect_status(biz, svc, "tomorrow", d, NULL, NULL, "invalid:date_from");
	expect_status(biz, svc, d, NULL, NULL, NULL, "invalid:date_to");
	expect_status(biz, svc, d, "2027/01/01", NULL, NULL, "invalid:date_to");
	expect_status(biz, svc, d, dm1, NULL, NULL, "invalid:date_to");
	expect_status(biz, svc, d, d14, NULL, NULL, "invalid:date_to");
	expect_status(biz, svc, yesterday, today, NULL, NULL, "invalid:date_from");
	expect_status(biz, svc, d, d, "nope", NULL, "invalid:staff_id");
	expect_status(biz, svc, d, d, oann, NULL, "invalid:staff_id");
	expect_status(biz, svc, d, d, NULL, oloc, "invalid:location_id");
	expect_status(biz, svc, d, d, NULL, gone, "invalid:location_id");
	expect_status(biz, svc, d, d, ann, loc, "ok");
	expect_status(biz, svc, today, today, NULL, NULL, "ok");
	body = bk_avail_ok(biz, svc, d, d13, NULL, NULL);
	cr_expect_eq(bk_days(body), 14);
	free(body);
	free(biz); free(other); free(d); free(d13); free(d14); free(dm1); free(today);
	free(yesterday); free(loc); free(gone); free(oloc); free(ann); free(oann); free(svc);
	free(osvc); free(off);
}

/*
 * 14 days, 4 staff, 2 locations, 200 confirmed bookings (on the hour
 * between 09:00 and 17:00, for the three staff at one location each): one
 * call; the count is right and no slot it offers
 * overlaps a booking of its staff member.
 */
Test(booking_avail, fourteen_days_two_hundred_bookings, .timeout = 60)
{
	char		*biz = bk_business("America/Chicago", 15), *d = bk_monday(0);
	char		*d13 = bk_date_add(d, 13);
	const char	*week = "{\"monday\": [\"08:00-18:00\"], \"tuesday\": [\"08:00-18:00\"], "
			    "\"wednesday\": [\"08:00-18:00\"], \"thursday\": [\"08:00-18:00\"], "
			    "\"friday\": [\"08:00-18:00\"], \"saturday\": [\"08:00-18:00\"]}";
	char		*l1 = bk_location(biz, "North", NULL, week);
	char		*l2 = bk_location(biz, "South", NULL, week);
	char		 both[128], *st[4], *svc = bk_service(biz, 30, 0, 0, "{}", NULL);
	char		*v, *body;
	int		 i;

	snprintf(both, sizeof(both), "{%s,%s}", l1, l2);
	st[0] = bk_staff(biz, "Ann", l1, "{}", week);
	st[1] = bk_staff(biz, "Ben", l1, "{}", week);
	st[2] = bk_staff(biz, "Cat", l2, "{}", week);
	st[3] = bk_staff(biz, "Dan", both, "{}", week);
	v = fx_value("WITH b AS (SELECT DISTINCT ON (f.staff_id, f.starts_at) f.* "
	    "FROM calendence.free_slots($1, $2, $3::date::timestamp AT TIME ZONE 'America/Chicago', "
	    "($4::date + 1)::timestamp AT TIME ZONE 'America/Chicago') f "
	    "WHERE extract(minute FROM f.starts_at) = 0 AND f.staff_id <> $5 "
	    "AND extract(hour FROM f.starts_at AT TIME ZONE 'America/Chicago') BETWEEN 9 AND 17 "
	    "ORDER BY f.staff_id, f.starts_at), "
	    "pick AS (SELECT * FROM b ORDER BY md5(b.staff_id::text || b.starts_at::text) "
	    "LIMIT 200), ins AS (INSERT INTO calendence.reservations (business_id, service_id, "
	    "location_id, staff_id, starts_at, ends_at, during, status, booked_at, "
	    "client_first_name, client_last_name, client_email) SELECT $1, $2, p.location_id, "
	    "p.staff_id, p.starts_at, p.ends_at, p.during, 'confirmed', now(), 'A', 'B', "
	    "'a@example.com' FROM pick p RETURNING 1) SELECT count(*) FROM ins",
	    biz, svc, d, d13, st[3], NULL);
	cr_assert_str_eq(v, "200");
	free(v);

	/* its speed is measured by `make bench`, row (g); here only its answer */
	body = bk_avail_ok(biz, svc, d, d13, NULL, NULL);
	cr_expect_eq(bk_days(body), 14);
	v = fx_value("SELECT concat_ws(' ', count(*), ($1::json->'meta'->>'total_slots'), "
	    "count(*) FILTER (WHERE EXISTS (SELECT 1 FROM calendence.reservations r "
	    "WHERE r.staff_id = (s->'staff'->>'id')::uuid AND r.status = 'confirmed' "
	    "AND r.during && tstzrange((s->>'starts_at')::timestamptz, "
	    "(s->>'ends_at')::timestamptz)))) "
	    "FROM json_each($1::json->'data') d, json_array_elements(d.value) s", body, NULL);
	/*
	 * 12 open days x 39 starts (08:00..17:30) x 5 (staff, location) pairs =
	 * 2340, less 3 starts (t - 15, t, t + 15) for each booking at t
	 */
	cr_expect_str_eq(v, "1740 1740 0");
	free(v);
	free(body);
	for (i = 0; i < 4; i++)
		free(st[i]);
	free(biz); free(d); free(d13); free(l1); free(l2); free(svc);
}

/*
 * GET /locations: active locations by name with every weekday's hours;
 * another business's and inactive ones are not listed; pages.
 */
Test(booking_avail, locations_json)
{
	char	*biz = bk_business("America/Chicago", 15), *other = bk_business("UTC", 15);
	char	*z = bk_location(biz, "Zeta", NULL, BK_ALL_DAYS);
	char	*a = bk_location(biz, "Alpha", "Asia/Kolkata",
	    "{\"monday\": [\"13:00-17:00\", {\"opens\": \"09:00\", \"closes\": \"12:00\"}]}");
	char	*g = bk_location(biz, "Gone", NULL, BK_ALL_DAYS);
	char	*o = bk_location(other, "Other", NULL, BK_ALL_DAYS);
	char	*v, want[1024];
	PGresult	*res;
	const char	*p[3] = { biz, NULL, NULL };

	fx_exec("UPDATE calendence.locations SET active = false WHERE id = $1", g, NULL);
	res = PQexecParams(fx_db(), "SELECT total, data FROM calendence.locations_json($1)", 1,
	    NULL, p, NULL, NULL, 0);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
	cr_expect_str_eq(PQgetvalue(res, 0, 0), "2");
	snprintf(want, sizeof(want), "[{\"id\":\"%s\",\"name\":\"Alpha\",\"address\":"
	    "\"1 Test Street\",\"timezone\":\"Asia/Kolkata\",\"hours\":{\"monday\":"
	    "[{\"opens\":\"09:00\",\"closes\":\"12:00\"},{\"opens\":\"13:00\",\"closes\":"
	    "\"17:00\"}],\"tuesday\":[],\"wednesday\":[],\"thursday\":[],\"friday\":[],"
	    "\"saturday\":[],\"sunday\":[]}},{\"id\":\"%s\",\"name\":\"Zeta\",", a, z);
	cr_expect_eq(strncmp(PQgetvalue(res, 0, 1), want, strlen(want)), 0, "%s",
	    PQgetvalue(res, 0, 1));
	cr_expect_not_null(strstr(PQgetvalue(res, 0, 1),
	    "\"timezone\":\"America/Chicago\",\"hours\":{\"monday\":[{\"opens\":\"00:00\","
	    "\"closes\":\"24:00\"}]"));
	PQclear(res);
	v = fx_value("SELECT data::json->0->>'name' FROM calendence.locations_json($1, 1, 1)",
	    biz, NULL);
	cr_expect_str_eq(v, "Zeta");
	free(v);
	free(biz); free(other); free(z); free(a); free(g); free(o);
}
