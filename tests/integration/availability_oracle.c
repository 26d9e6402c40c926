/* availability_oracle.c: free_slots() and availability() give the answers of their old SQL (the oracle) over random schedules. */

/*
 * The oracle is tests/integration/oracle_availability.sql: free_slots() and
 * availability() as they were before issue 15 rewrote them, in schema
 * "oracle", loaded by these tests only. Each test makes SCHEDULES random
 * businesses (zones with daylight saving and 30- and 45-minute offsets,
 * locations in another zone than the business's, several hours a day or
 * none, all day, hours in a spring-forward gap, staff at one or two
 * locations with hours of their own there, blocked dates, skills, inactive
 * staff and locations, services with odd durations and buffers, resources
 * with blocks, and reservations of every status: bookings, live and lapsed
 * holds, cancelled and expired ones) and asks both sides the same questions:
 * availability() over a few ranges (one around a daylight saving change of
 * the location's zone, one from today), filtered by staff member or
 * location or not, must answer the same text; its compact form must hold
 * the same slots; free_slots() the same rows, resources included, also for
 * single starts as hold() asks. The seed is printed with every failure;
 * AVAIL_ORACLE_SEED=N repeats a run.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "booking.h"
#include "helpers.h"

#define SCHEDULES	10	/* random businesses per test */

static const char *const zones[] = {
	"America/Chicago", "Asia/Kolkata", "Australia/Adelaide", "Asia/Kathmandu",
	"UTC", "Europe/London", "Australia/Lord_Howe", "America/St_Johns",
	"Pacific/Chatham", "America/New_York",
};
#define NZONES	(sizeof(zones) / sizeof(zones[0]))

static const char *const weekdays[] = { "monday", "tuesday", "wednesday", "thursday",
	"friday", "saturday", "sunday" };

struct rng {
	unsigned long long	s;
};

static unsigned
rnd(struct rng *g, unsigned n)
{
	g->s ^= g->s << 13;
	g->s ^= g->s >> 7;
	g->s ^= g->s << 17;
	return (unsigned)(g->s % n);
}

/* Loads the oracle once per test process (the file takes a lock itself). */
static void
oracle_load(void)
{
	FILE		*f = fopen("tests/integration/oracle_availability.sql", "r");
	char		*sql;
	long		 n;
	PGresult	*res;

	cr_assert_not_null(f, "tests/integration/oracle_availability.sql: run from the top");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	sql = malloc((size_t)n + 1);
	cr_assert_not_null(sql);
	cr_assert_eq(fread(sql, 1, (size_t)n, f), (size_t)n);
	sql[n] = '\0';
	fclose(f);
	res = PQexec(fx_db(), sql);
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "oracle: %s",
	    PQresultErrorMessage(res));
	PQclear(res);
	free(sql);
}

/* Appends printf output to buf (of size) at *len. */
static void
add(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < size - *len, "hours text too long");
	*len += (size_t)n;
}

/* One range of local times on 5-minute (sometimes odd) boundaries, as "HH:MM-HH:MM". */
static void
range_text(struct rng *g, char *out, size_t size)
{
	unsigned	a, b, step = rnd(g, 6) == 0 ? 7 : 5;

	switch (rnd(g, 8)) {
	case 0:
		snprintf(out, size, "00:00-24:00");
		return;
	case 1:
		/* across the small hours: the spring-forward gap of most zones */
		snprintf(out, size, "%s", rnd(g, 2) ? "01:30-03:30" : "02:00-03:00");
		return;
	case 2:
		a = 0;
		b = (6 + rnd(g, 10)) * 60;
		break;
	case 3:
		a = (14 + rnd(g, 8)) * 60;
		b = 24 * 60;
		break;
	default:
		a = rnd(g, 20 * 60 / step) * step;
		b = a + 30 + rnd(g, 9 * 60 / step) * step;
		if (b > 24 * 60)
			b = 24 * 60;
	}
	snprintf(out, size, "%02u:%02u-%02u:%02u", a / 60, a % 60, b / 60, b % 60);
}

/* A week of hours (parse_hours() JSON): per day closed, one or two ranges. */
static void
week_json(struct rng *g, char *buf, size_t size)
{
	size_t		len = 0;
	unsigned	d, n, i;
	char		r[32], first[32];

	add(buf, size, &len, "{");
	for (d = 0; d < 7; d++) {
		n = rnd(g, 5);
		n = n == 0 ? 0 : n <= 2 ? 1 : 2;
		add(buf, size, &len, "%s\"%s\": [", d ? ", " : "", weekdays[d]);
		for (i = 0; i < n; i++) {
			range_text(g, r, sizeof(r));
			/* a range may overlap the other, not start with it */
			if (i > 0 && strncmp(r, first, 5) == 0)
				break;
			add(buf, size, &len, "%s\"%s\"", i ? ", " : "", r);
			snprintf(first, sizeof(first), "%s", r);
		}
		add(buf, size, &len, "]");
	}
	add(buf, size, &len, "}");
}

/*
 * A day (YYYY-MM-DD, malloc'd) on which zone tz changes its offset within
 * 420 days, the earliest at least two days on; NULL when it never does.
 */
static char *
change_day(const char *tz)
{
	return fx_value("SELECT to_char(g, 'YYYY-MM-DD') FROM generate_series("
	    "(now() AT TIME ZONE 'UTC')::date + 2, (now() AT TIME ZONE 'UTC')::date + 420, "
	    "interval '1 day') g WHERE ((g::date + time '12:00') AT TIME ZONE $1) - "
	    "((g::date - 1 + time '12:00') AT TIME ZONE $1) <> interval '24 hours' "
	    "ORDER BY g LIMIT 1", tz, NULL);
}

/* Reservations of every status on the oracle's free slots of svc: n tries. */
static void
reserve(struct rng *g, const char *biz, const char *svc, const char *from, const char *to,
    const char *tz, int n)
{
	static const char *const kinds[] = { "confirmed", "held", "lapsed", "cancelled",
		"expired", "pending_payment", "completed", "confirmed" };
	PGresult	*res;
	char		 seed[32];
	int		 i, rows;

	snprintf(seed, sizeof(seed), "%u", rnd(g, 1000000));
	res = it_query("SELECT f.starts_at, f.ends_at, f.during, f.staff_id, f.location_id, "
	    "f.resource_id FROM oracle.free_slots($1, $2, $3::date::timestamp AT TIME ZONE $5, "
	    "($4::date + 1)::timestamp AT TIME ZONE $5) f "
	    "ORDER BY md5($6 || f.starts_at::text || f.staff_id::text) LIMIT 40",
	    biz, svc, from, to, tz, seed, NULL);
	rows = PQntuples(res);
	for (i = 0; i < n && i < rows; i++) {
		const char	*kind = kinds[rnd(g, sizeof(kinds) / sizeof(kinds[0]))];

		/* ON CONFLICT DO NOTHING: a pick may overlap an earlier one */
		fx_exec("INSERT INTO calendence.reservations (business_id, service_id, "
		    "location_id, staff_id, resource_id, starts_at, ends_at, during, status, "
		    "expires_at, booked_at, cancelled_at, client_first_name, client_last_name, "
		    "client_email) SELECT $1, $2, $3::uuid, $4::uuid, $5::uuid, $6::timestamptz, "
		    "$7::timestamptz, $8::tstzrange, CASE $9 WHEN 'lapsed' THEN 'held' ELSE $9 END, "
		    "CASE WHEN $9 IN ('held') THEN now() + interval '10 minutes' "
		    "WHEN $9 IN ('lapsed', 'expired') THEN now() - interval '1 minute' END, "
		    "CASE WHEN $9 NOT IN ('held', 'lapsed', 'expired') THEN now() END, "
		    "CASE WHEN $9 = 'cancelled' THEN now() END, "
		    "CASE WHEN $9 NOT IN ('held', 'lapsed', 'expired') THEN 'A' END, "
		    "CASE WHEN $9 NOT IN ('held', 'lapsed', 'expired') THEN 'B' END, "
		    "CASE WHEN $9 NOT IN ('held', 'lapsed', 'expired') THEN 'a@example.com' END "
		    "ON CONFLICT DO NOTHING",
		    biz, svc, PQgetvalue(res, i, 4), PQgetvalue(res, i, 3),
		    PQgetisnull(res, i, 5) ? FX_NULL : PQgetvalue(res, i, 5),
		    PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), kind,
		    NULL);
	}
	PQclear(res);
}

/* The first byte at which a and b differ, with a little of each around it. */
static void
show_diff(const char *what, unsigned long long seed, const char *a, const char *b)
{
	size_t	i = 0, from;

	while (a[i] != '\0' && a[i] == b[i])
		i++;
	from = i > 120 ? i - 120 : 0;
	cr_log_error("%s (seed %llu) differ at byte %zu:\n new:    %.300s\n oracle: %.300s",
	    what, seed, i, a + from, b + from);
}

/*
 * Asks both sides about one range: availability() as text, its compact form
 * as the same slots, free_slots() as the same rows. staff, location: NULL,
 * or a filter.
 */
static void
compare(unsigned long long seed, const char *biz, const char *svc, const char *from,
    const char *to, const char *staff, const char *location, const char *btz, int *slots)
{
	PGresult	*res;
	const char	*st = staff ? staff : FX_NULL, *lo = location ? location : FX_NULL;
	char		 what[256];

	snprintf(what, sizeof(what), "availability(%s, %s, %s..%s, staff %s, location %s)",
	    biz, svc, from, to, staff ? staff : "-", location ? location : "-");
	res = it_query("SELECT a.status, o.status AS o_status, a.body, o.body AS o_body, "
	    "(SELECT count(*) FROM json_each(a.body::json->'data') d, "
	    "json_array_elements(d.value) s) AS n "
	    "FROM calendence.availability($1, $2, $3, $4, $5, $6) a, "
	    "oracle.availability($1, $2, $3, $4, $5, $6) o", biz, svc, from, to, st, lo, NULL);
	cr_expect_str_eq(it_col(res, 0, "status"), it_col(res, 0, "o_status"), "%s (seed %llu)",
	    what, seed);
	if (it_col(res, 0, "o_body") != NULL) {
		const char	*a = it_col(res, 0, "body"), *b = it_col(res, 0, "o_body");

		if (a == NULL || strcmp(a, b) != 0) {
			show_diff(what, seed, a ? a : "(null)", b);
			cr_expect_fail("%s: not the oracle's answer (seed %llu)", what, seed);
		}
		*slots += atoi(it_col(res, 0, "n"));
	}
	PQclear(res);

	/* compact: the same slots, start by start, and the same meta */
	res = it_query("WITH a AS (SELECT body::jsonb AS j FROM calendence.availability($1, $2, $3, "
	    "$4, $5, $6)), c AS (SELECT body::jsonb AS j FROM calendence.availability($1, $2, $3, "
	    "$4, $5, $6, 'compact')) SELECT (SELECT j->'meta' FROM a) = (SELECT j->'meta' FROM c) "
	    "AND (SELECT jsonb_object_agg(d.key, (SELECT coalesce(jsonb_agg(jsonb_build_object("
	    "'starts_at', s->'starts_at', 'ends_at', s->'ends_at', 'starts_at_local', "
	    "s->'starts_at_local', 'ends_at_local', s->'ends_at_local', 'staff', o->'staff', "
	    "'location', o->'location') ORDER BY i, k), '[]') FROM jsonb_array_elements(d.value) "
	    "WITH ORDINALITY x(s, i), jsonb_array_elements(s->'options') WITH ORDINALITY "
	    "y(o, k))) FROM c, jsonb_each(c.j->'data') d) = (SELECT j->'data' FROM a) "
	    "AND NOT EXISTS (SELECT 1 FROM c, jsonb_each(c.j->'data') d, "
	    "jsonb_array_elements(d.value) s WHERE jsonb_array_length(s->'options') = 0) AS same "
	    "FROM a WHERE a.j IS NOT NULL", biz, svc, from, to, st, lo, NULL);
	if (PQntuples(res) == 1)
		cr_expect_str_eq(it_col(res, 0, "same"), "t", "%s: compact differs (seed %llu)",
		    what, seed);
	PQclear(res);

	/* free_slots(): the same rows, resources included */
	res = it_query("WITH r AS (SELECT $3::date::timestamp AT TIME ZONE $7 AS a, "
	    "($4::date + 1)::timestamp AT TIME ZONE $7 AS b), "
	    "n AS (SELECT f.* FROM r, calendence.free_slots($1, $2, r.a, r.b, $5::uuid, $6::uuid) f), "
	    "o AS (SELECT f.* FROM r, oracle.free_slots($1, $2, r.a, r.b, $5::uuid, $6::uuid) f) "
	    "SELECT (SELECT count(*) FROM (SELECT * FROM n EXCEPT ALL SELECT * FROM o) x) || ' ' || "
	    "(SELECT count(*) FROM (SELECT * FROM o EXCEPT ALL SELECT * FROM n) x) AS diff",
	    biz, svc, from, to, st, lo, btz, NULL);
	cr_expect_str_eq(it_col(res, 0, "diff"), "0 0",
	    "free_slots of %s: rows only in the new, only in the oracle (seed %llu)", what, seed);
	PQclear(res);
}

/* hold()'s question, one start: oracle's free starts and a few others. */
static void
compare_starts(unsigned long long seed, const char *biz, const char *svc, const char *from,
    const char *to, const char *btz)
{
	PGresult	*res;

	res = it_query("WITH t AS (SELECT * FROM (SELECT DISTINCT f.starts_at AS t "
	    "FROM oracle.free_slots($1, $2, $3::date::timestamp AT TIME ZONE $5, "
	    "($4::date + 1)::timestamp AT TIME ZONE $5) f ORDER BY 1 LIMIT 6) x "
	    "UNION SELECT ($3::date + time '09:07') AT TIME ZONE $5 "
	    "UNION SELECT ($3::date + time '10:00') AT TIME ZONE $5) "
	    "SELECT string_agg(t::text, ', ') FILTER (WHERE EXISTS ("
	    "SELECT * FROM calendence.free_slots($1, $2, t, t + interval '1 microsecond') "
	    "EXCEPT ALL SELECT * FROM oracle.free_slots($1, $2, t, t + interval '1 microsecond')) "
	    "OR EXISTS (SELECT * FROM oracle.free_slots($1, $2, t, t + interval '1 microsecond') "
	    "EXCEPT ALL SELECT * FROM calendence.free_slots($1, $2, t, t + interval '1 microsecond'))) "
	    "AS bad FROM t", biz, svc, from, to, btz, NULL);
	cr_expect_null(it_col(res, 0, "bad"), "single starts of %s differ: %s (seed %llu)", svc,
	    it_col(res, 0, "bad"), seed);
	PQclear(res);
}

/* One random business, asked about; returns the slots its answers held. */
static int
schedule(struct rng *g, unsigned long long seed)
{
	const char	*btz = zones[rnd(g, NZONES)];
	static const int grids[] = { 5, 10, 15, 20, 30, 60 };
	char		*biz = bk_business(btz, grids[rnd(g, 6)]);
	char		*loc[3], *staff[5], *svc[3], *today, *d0, *d1, *dst, *from, *to;
	char		 hours[1024], name[32], locs[128];
	const char	*ltz[3];
	unsigned	 nloc = 1 + rnd(g, 3), nstaff = 1 + rnd(g, 5), nsvc = 1 + rnd(g, 3), i, j;
	int		 slots = 0;

	fx_exec("UPDATE calendence.businesses SET booking_horizon_days = 450 WHERE id = $1",
	    biz, NULL);
	for (i = 0; i < nloc; i++) {
		ltz[i] = rnd(g, 3) == 0 ? zones[rnd(g, NZONES)] : btz;
		week_json(g, hours, sizeof(hours));
		snprintf(name, sizeof(name), "%c%u", "NSEW"[rnd(g, 4)], rnd(g, 10));
		loc[i] = bk_location(biz, name, ltz[i], hours);
		for (j = rnd(g, 3); j > 0; j--) {
			/* bays, some blocked for a while, some inactive */
			char	*bay;

			snprintf(name, sizeof(name), "Bay %u", rnd(g, 5));
			bay = fx_value("SELECT calendence.create_resource($1, 'bay', $2)",
			    loc[i], name, NULL);
			cr_assert_not_null(bay);
			if (rnd(g, 3) == 0)
				fx_exec("UPDATE calendence.resources SET active = false WHERE id = $1",
				    bay, NULL);
			free(bay);
		}
	}
	today = fx_value("SELECT to_char((now() AT TIME ZONE $1)::date, 'YYYY-MM-DD')", btz, NULL);
	d0 = fx_value("SELECT to_char((now() AT TIME ZONE $1)::date + $2::integer, 'YYYY-MM-DD')",
	    btz, rnd(g, 2) ? "0" : "23", NULL);
	dst = change_day(ltz[0]);
	for (i = 0; i < nstaff; i++) {
		static const char *const skills[] = { "{}", "{wash}", "{detail}", "{wash,detail}" };

		if (nloc > 1 && rnd(g, 2))
			snprintf(locs, sizeof(locs), "{%s,%s}", loc[0], loc[1 + rnd(g, nloc - 1)]);
		else
			snprintf(locs, sizeof(locs), "%s", loc[rnd(g, nloc)]);
		week_json(g, hours, sizeof(hours));
		snprintf(name, sizeof(name), "%c%u", "ABCDE"[rnd(g, 5)], rnd(g, 3));
		staff[i] = bk_staff(biz, name, locs, skills[rnd(g, 4)], hours);
		if (rnd(g, 3) == 0) {
			/* hours of their own at their first location */
			week_json(g, hours, sizeof(hours));
			fx_exec("SELECT calendence.set_staff_hours($1, $2::jsonb, "
			    "(SELECT min(location_id::text)::uuid FROM calendence.staff_locations "
			    "WHERE staff_id = $1))", staff[i], hours, NULL);
		}
		for (j = rnd(g, 3); j > 0; j--)
			fx_exec("SELECT calendence.block_staff_date($1, $2::date + $3::integer)",
			    staff[i], rnd(g, 2) || dst == NULL ? d0 : dst,
			    rnd(g, 2) ? "0" : "1", NULL);
		if (rnd(g, 8) == 0)
			fx_exec("UPDATE calendence.staff SET active = false WHERE id = $1", staff[i],
			    NULL);
	}
	if (nloc > 1 && rnd(g, 6) == 0)
		fx_exec("UPDATE calendence.locations SET active = false WHERE id = $1", loc[nloc - 1],
		    NULL);
	for (i = 0; i < nsvc; i++) {
		static const int durations[] = { 15, 30, 45, 60, 25, 50, 90, 7, 120 };
		static const char *const need[] = { "{}", "{}", "{wash}", "{detail}" };
		char	 max[16];
		int	 d = durations[rnd(g, 9)];

		svc[i] = bk_service(biz, d, rnd(g, 3) ? 0 : (int)rnd(g, 4) * 5 + (int)rnd(g, 2) * 2,
		    rnd(g, 3) ? 0 : (int)rnd(g, 4) * 5, need[rnd(g, 4)],
		    rnd(g, 3) == 0 ? "bay" : NULL);
		snprintf(max, sizeof(max), "%d", d + (rnd(g, 3) == 0 ? 15 : 0));
		fx_exec("UPDATE calendence.services SET duration_max = $2::integer WHERE id = $1",
		    svc[i], max, NULL);
	}
	/* reservations and resource blocks in the ranges asked about */
	d1 = bk_date_add(d0, (int)rnd(g, 14));
	fx_exec("SELECT calendence.block_resource(r.id, ($2::date + time '10:00') AT TIME ZONE $3, "
	    "($2::date + time '13:30') AT TIME ZONE $3) FROM calendence.resources r "
	    "WHERE r.business_id = $1 AND r.name IN ('Bay 1', 'Bay 3')", biz, d0, btz, NULL);
	for (i = 0; i < nsvc; i++) {
		reserve(g, biz, svc[i], d0, d1, btz, (int)rnd(g, 12));
		if (dst != NULL)
			reserve(g, biz, svc[i], dst, dst, btz, (int)rnd(g, 4));
	}

	for (i = 0; i < nsvc; i++) {
		compare(seed, biz, svc[i], d0, d1, NULL, NULL, btz, &slots);
		if (rnd(g, 2))
			compare(seed, biz, svc[i], d0, d1, staff[rnd(g, nstaff)], NULL, btz, &slots);
		if (nloc > 1 && rnd(g, 2))
			compare(seed, biz, svc[i], d0, d1, NULL, loc[rnd(g, nloc)], btz, &slots);
		if (dst != NULL) {
			/* the business's dates around the location's change */
			from = bk_date_add(dst, -1);
			to = bk_date_add(dst, 1);
			compare(seed, biz, svc[i], from, to, NULL, NULL, btz, &slots);
			compare_starts(seed, biz, svc[i], dst, dst, ltz[0]);
			free(from);
			free(to);
		}
		compare(seed, biz, svc[i], today, today, NULL, NULL, btz, &slots);
		compare_starts(seed, biz, svc[i], d0, d1, btz);
	}

	for (i = 0; i < nloc; i++)
		free(loc[i]);
	for (i = 0; i < nstaff; i++)
		free(staff[i]);
	for (i = 0; i < nsvc; i++)
		free(svc[i]);
	free(biz); free(today); free(d0); free(d1); free(dst);
	return slots;
}

/*
 * Every change of offset within 420 days, in zones that shift by an hour,
 * by half an hour (Lord Howe) or at 45 minutes past (Chatham): open all day,
 * staff all day and in the small hours only, at grids of 15 and 60 minutes,
 * with a location in another zone than the business's; both sides asked
 * about the business's dates around each change.
 */
Test(availability_oracle, every_offset_change, .timeout = 300)
{
	static const char *const tz[][2] = {
		{ "America/Chicago", "America/Chicago" }, { "Australia/Lord_Howe", "Australia/Lord_Howe" },
		{ "Australia/Adelaide", "Asia/Kolkata" }, { "Europe/London", "Asia/Kathmandu" },
		{ "America/St_Johns", "America/St_Johns" }, { "Pacific/Chatham", "UTC" },
	};
	static const int grids[] = { 15, 60 };
	size_t		 z, k;
	int		 slots = 0;
	PGresult	*days;

	oracle_load();
	for (z = 0; z < sizeof(tz) / sizeof(tz[0]); z++)
		for (k = 0; k < 2; k++) {
			char	*biz = bk_business(tz[z][1], grids[k]);
			char	*loc = bk_location(biz, "Main", tz[z][0], BK_ALL_DAYS);
			char	*ann = bk_staff(biz, "Ann", loc, "{}", BK_ALL_DAYS);
			char	*ben = bk_staff(biz, "Ben", loc, "{}", "{\"sunday\": [\"00:30-04:00\"], "
			    "\"saturday\": [\"22:00-24:00\"], \"monday\": [\"01:00-03:30\"]}");
			char	*s45 = bk_service(biz, 45, 10, 5, "{}", NULL);
			char	*s60 = bk_service(biz, 60, 0, 0, "{}", NULL);
			int	 i;

			fx_exec("UPDATE calendence.businesses SET booking_horizon_days = 450 "
			    "WHERE id = $1", biz, NULL);
			days = it_query("SELECT to_char(g - 1, 'YYYY-MM-DD') AS a, "
			    "to_char(g + 1, 'YYYY-MM-DD') AS b FROM (SELECT g::date FROM generate_series("
			    "(now() AT TIME ZONE 'UTC')::date + 3, (now() AT TIME ZONE 'UTC')::date + 420, "
			    "interval '1 day') g) x WHERE ((g + time '12:00') AT TIME ZONE $1) - "
			    "((g - 1 + time '12:00') AT TIME ZONE $1) <> interval '24 hours' "
			    "OR ((g + time '12:00') AT TIME ZONE $2) - "
			    "((g - 1 + time '12:00') AT TIME ZONE $2) <> interval '24 hours'",
			    tz[z][0], tz[z][1], NULL);
			cr_expect_geq(PQntuples(days), tz[z][0] == tz[z][1] ? 2 : 1, "%s", tz[z][0]);
			for (i = 0; i < PQntuples(days); i++) {
				const char	*a = PQgetvalue(days, i, 0), *b = PQgetvalue(days, i, 1);

				compare(0, biz, s45, a, b, NULL, NULL, tz[z][1], &slots);
				compare(0, biz, s60, a, b, ben, NULL, tz[z][1], &slots);
				compare_starts(0, biz, s60, a, b, tz[z][0]);
			}
			PQclear(days);
			free(biz); free(loc); free(ann); free(ben); free(s45); free(s60);
		}
	cr_expect_gt(slots, 0);
}

/* SCHEDULES random businesses from a seed of the clock (or AVAIL_ORACLE_SEED), plus salt. */
static void
run(unsigned salt)
{
	const char		*env = getenv("AVAIL_ORACLE_SEED");
	unsigned long long	 seed = env ? strtoull(env, NULL, 10)
				    : (unsigned long long)time(NULL) * 7919u;
	struct rng		 g;
	int			 i, slots = 0;

	seed += salt;
	g.s = seed * 2654435761u + 1;
	oracle_load();
	for (i = 0; i < SCHEDULES; i++)
		slots += schedule(&g, seed);
	cr_log_info("availability_oracle: seed %llu, %d schedules, %d slots compared", seed,
	    SCHEDULES, slots);
	/* the schedules must not all be empty: then nothing was compared */
	cr_expect_gt(slots, 0, "no slot at all (seed %llu)", seed);
}

Test(availability_oracle, random_schedules_1, .timeout = 300) { run(1); }
Test(availability_oracle, random_schedules_2, .timeout = 300) { run(2); }
Test(availability_oracle, random_schedules_3, .timeout = 300) { run(3); }
Test(availability_oracle, random_schedules_4, .timeout = 300) { run(4); }
