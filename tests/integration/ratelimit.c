/* ratelimit.c: calendence.rl_admit() of SPEC 6: exact fixed windows, under any concurrency. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "helpers.h"

#define THREADS	8

/* The columns it_concurrent() reads; $4 empty means "no hour window" (NULL). */
static const char rl_sql[] =
    "SELECT admitted, minute_count, hour_count, $2::bigint AS now_epoch "
    "FROM calendence.rl_admit($1, $2::bigint, $3::integer, nullif($4, '')::integer)";

/* A subject no other test (or run) uses. */
static void
subject(char *buf, size_t size, const char *what)
{
	cr_assert_geq(sodium_init(), 0);
	snprintf(buf, size, "t:%s:%ld:%08x", what, (long)getpid(), randombytes_random());
}

/* What one concurrent burst admitted. */
struct burst {
	int	admitted;
	int	refused;
	int	min_m, max_m;		/* minute_count of the admitted calls */
	int	min_h, max_h;		/* hour_count of the admitted calls */
	int	distinct_m;		/* admitted calls with a minute_count no other had */
	int	refused_m, refused_h;	/* minute and hour count of refusals (-2: differ) */
};

/*
 * 'threads' x 'calls' rl_admit() at epoch 'e' with these limits (hour_limit
 * 0: none), on 'subj'. Summarises the answers into *b.
 */
static void
burst(struct burst *b, const char *subj, long long e, int minute_limit, int hour_limit,
    int threads, int calls)
{
	struct it_call	*c;
	char		 es[24], ms[16], hs[16];
	const char	*p[4] = { subj, es, ms, hs };
	unsigned char	 seen[4096];
	int		 i, n = threads * calls;

	snprintf(es, sizeof(es), "%lld", e);
	snprintf(ms, sizeof(ms), "%d", minute_limit);
	if (hour_limit > 0)
		snprintf(hs, sizeof(hs), "%d", hour_limit);
	else
		hs[0] = '\0';
	c = it_concurrent(rl_sql, 4, p, threads, calls);
	memset(b, 0, sizeof(*b));
	memset(seen, 0, sizeof(seen));
	b->min_m = b->min_h = 1 << 30;
	b->refused_m = b->refused_h = -1;
	for (i = 0; i < n; i++) {
		if (!c[i].admitted) {
			b->refused++;
			b->refused_m = b->refused_m == -1 || b->refused_m == c[i].minute_count ?
			    c[i].minute_count : -2;
			b->refused_h = b->refused_h == -1 || b->refused_h == c[i].hour_count ?
			    c[i].hour_count : -2;
			continue;
		}
		b->admitted++;
		b->min_m = c[i].minute_count < b->min_m ? c[i].minute_count : b->min_m;
		b->max_m = c[i].minute_count > b->max_m ? c[i].minute_count : b->max_m;
		b->min_h = c[i].hour_count < b->min_h ? c[i].hour_count : b->min_h;
		b->max_h = c[i].hour_count > b->max_h ? c[i].hour_count : b->max_h;
		cr_assert(c[i].minute_count > 0 && c[i].minute_count < (int)sizeof(seen));
		if (!seen[c[i].minute_count]++)
			b->distinct_m++;
	}
	free(c);
}

/* The stored row of 'subj': "minute_start minute_count hour_start hour_count". */
static char *
stored(const char *subj)
{
	return fx_value("SELECT concat_ws(' ', minute_start, minute_count, hour_start, "
	    "hour_count) FROM calendence.rate_windows WHERE subject = $1", subj, NULL);
}

static void
expect_stored(const char *subj, long long ms, int mc, long long hs, int hc)
{
	char	 want[128], *got = stored(subj);

	snprintf(want, sizeof(want), "%lld %d %lld %d", ms, mc, hs, hc);
	it_str_eq(got ? got : "(no row)", want, "stored window of %s: '%s', not '%s'",
	    subj, got ? got : "(no row)", want);
	free(got);
}

/*
 * 8 connections x 50 calls, minute limit 37: exactly 37 admitted, each with
 * its own count 1..37; refusals see 37 and add nothing. The next minute admits
 * 37 more while the hour keeps counting; a raised limit admits again at once,
 * a lowered one admits nothing.
 */
Test(ratelimit, minute_limit_is_exact_under_concurrency)
{
	char		subj[96];
	long long	e = it_future_hour();
	struct burst	b;

	subject(subj, sizeof(subj), "minute");
	burst(&b, subj, e + 7, 37, 1000, THREADS, 50);
	cr_expect_eq(b.admitted, 37);
	cr_expect_eq(b.refused, 8 * 50 - 37);
	cr_expect_eq(b.min_m, 1);
	cr_expect_eq(b.max_m, 37);
	cr_expect_eq(b.distinct_m, 37, "every admitted call has its own count");
	cr_expect_eq(b.min_h, 1);
	cr_expect_eq(b.max_h, 37);
	cr_expect_eq(b.refused_m, 37, "a refusal reports the full window");
	cr_expect_eq(b.refused_h, 37);
	expect_stored(subj, e, 37, e, 37);

	/* the next minute: a fresh minute window, the same hour */
	burst(&b, subj, e + 60 + 59, 37, 1000, THREADS, 50);
	cr_expect_eq(b.admitted, 37);
	cr_expect_eq(b.min_m, 1);
	cr_expect_eq(b.max_m, 37);
	cr_expect_eq(b.distinct_m, 37);
	cr_expect_eq(b.min_h, 38);
	cr_expect_eq(b.max_h, 74);
	expect_stored(subj, e + 60, 37, e, 74);

	/* a plan change raising the limit: admitted again at once, to the new limit */
	burst(&b, subj, e + 65, 40, 1000, THREADS, 5);
	cr_expect_eq(b.admitted, 3);
	cr_expect_eq(b.min_m, 38);
	cr_expect_eq(b.max_m, 40);
	cr_expect_eq(b.refused_m, 40);
	expect_stored(subj, e + 60, 40, e, 77);

	/* lowering it: nothing admitted, nothing counted */
	burst(&b, subj, e + 66, 10, 1000, THREADS, 5);
	cr_expect_eq(b.admitted, 0);
	cr_expect_eq(b.refused_m, 40);
	cr_expect_eq(b.refused_h, 77);
	expect_stored(subj, e + 60, 40, e, 77);
}

/* Minute 1000, hour 5: the hour binds, across minutes, until the next hour. */
Test(ratelimit, hour_limit_is_exact_under_concurrency)
{
	char		subj[96];
	long long	e = it_future_hour();
	struct burst	b;

	subject(subj, sizeof(subj), "hour");
	burst(&b, subj, e + 1, 1000, 5, THREADS, 10);
	cr_expect_eq(b.admitted, 5);
	cr_expect_eq(b.min_h, 1);
	cr_expect_eq(b.max_h, 5);
	cr_expect_eq(b.distinct_m, 5);
	cr_expect_eq(b.refused_h, 5);
	cr_expect_eq(b.refused_m, 5);
	expect_stored(subj, e, 5, e, 5);

	/* a later minute of the same hour: the minute is empty, the hour is not */
	burst(&b, subj, e + 3599, 1000, 5, THREADS, 10);
	cr_expect_eq(b.admitted, 0);
	cr_expect_eq(b.refused_m, 0, "the minute window of a refusal is the current one");
	cr_expect_eq(b.refused_h, 5);
	expect_stored(subj, e, 5, e, 5);

	/* the next hour */
	burst(&b, subj, e + 3600, 1000, 5, THREADS, 10);
	cr_expect_eq(b.admitted, 5);
	cr_expect_eq(b.min_h, 1);
	cr_expect_eq(b.max_h, 5);
	expect_stored(subj, e + 3600, 5, e + 3600, 5);

	/* raising the hour limit */
	burst(&b, subj, e + 3601, 1000, 8, THREADS, 10);
	cr_expect_eq(b.admitted, 3);
	cr_expect_eq(b.min_h, 6);
	cr_expect_eq(b.max_h, 8);
	expect_stored(subj, e + 3600, 8, e + 3600, 8);
}

/* Many subjects at once do not disturb one another. */
Test(ratelimit, subjects_are_independent_under_concurrency)
{
	char		subj[4][96];
	long long	e = it_future_hour();
	struct burst	b;
	int		i;

	for (i = 0; i < 4; i++) {
		subject(subj[i], sizeof(subj[i]), "indep");
		burst(&b, subj[i], e + 30, 3 + i, 1000, THREADS, 4);
		cr_expect_eq(b.admitted, 3 + i);
	}
	for (i = 0; i < 4; i++)
		expect_stored(subj[i], e, 3 + i, e, 3 + i);
}

/* One call after another: what each answers, exactly. */
struct step {
	long long	 at;		/* seconds after the hour */
	int		 minute_limit;
	int		 hour_limit;	/* 0: no hour window */
	const char	*answer;	/* "admitted minute_count hour_count" */
};

static void
run_steps(const char *subj, long long e, const struct step *s, size_t n)
{
	char		 es[24], ms[16], hs[16], *got;
	size_t		 i;

	for (i = 0; i < n; i++) {
		snprintf(es, sizeof(es), "%lld", e + s[i].at);
		snprintf(ms, sizeof(ms), "%d", s[i].minute_limit);
		snprintf(hs, sizeof(hs), "%d", s[i].hour_limit);
		got = fx_value("SELECT concat_ws(' ', admitted, minute_count, "
		    "coalesce(hour_count::text, 'null')) FROM calendence.rl_admit($1, "
		    "$2::bigint, $3::integer, nullif($4::integer, 0))", subj, es, ms, hs, NULL);
		it_str_eq(got, s[i].answer, "step %zu (at +%lld, limits %d/%d): '%s', "
		    "not '%s'", i, s[i].at, s[i].minute_limit, s[i].hour_limit, got,
		    s[i].answer);
		free(got);
	}
}

Test(ratelimit, windows_step_by_step)
{
	static const struct step steps[] = {
		{ 0, 3, 5, "t 1 1" },
		{ 1, 3, 5, "t 2 2" },
		{ 59, 3, 5, "t 3 3" },
		{ 59, 3, 5, "f 3 3" },		/* refused: nothing counted */
		{ 30, 3, 5, "f 3 3" },
		{ 60, 3, 5, "t 1 4" },		/* next minute, same hour */
		{ 61, 3, 5, "t 2 5" },
		{ 62, 3, 5, "f 2 5" },		/* the hour binds */
		{ 180, 3, 5, "f 0 5" },
		{ 180, 3, 6, "t 1 6" },		/* a raised hour limit */
		{ 3600, 3, 5, "t 1 1" },	/* next hour */
		{ 7200 + 59, 1, 5, "t 1 1" },	/* an hour skipped */
		{ 7200 + 59, 1, 5, "f 1 1" },
		{ 7200 + 59, 2, 5, "t 2 2" },	/* a raised minute limit */
	};
	char		subj[96];

	subject(subj, sizeof(subj), "steps");
	run_steps(subj, it_future_hour(), steps, sizeof(steps) / sizeof(steps[0]));
}

/* Without an hour limit (the 'exchange' and 'auth' windows) only the minute binds. */
Test(ratelimit, minute_only_windows)
{
	static const struct step steps[] = {
		{ 10, 2, 0, "t 1 1" },
		{ 11, 2, 0, "t 2 2" },
		{ 12, 2, 0, "f 2 2" },
		{ 70, 2, 0, "t 1 3" },
		{ 71, 2, 0, "t 2 4" },
		{ 72, 2, 0, "f 2 4" },
	};
	char		subj[96];

	subject(subj, sizeof(subj), "minute-only");
	run_steps(subj, it_future_hour(), steps, sizeof(steps) / sizeof(steps[0]));
}

/*
 * authenticate() takes its epoch from now(), the start of its transaction; a
 * transaction that started in the last moment of a minute may reach the row
 * after one of the next minute has been counted. Such a late call must not
 * reopen the old window (which would wipe the new one's count and let the new
 * minute admit more than its limit); it is judged in the newest window.
 */
Test(ratelimit, a_late_call_never_reopens_an_older_window)
{
	static const struct step minute[] = {
		{ 60, 3, 100, "t 1 1" },
		{ 61, 3, 100, "t 2 2" },
		{ 62, 3, 100, "t 3 3" },
		{ 59, 3, 100, "f 3 3" },	/* late: the newest window is full */
		{ 63, 3, 100, "f 3 3" },	/* and it still is */
	};
	static const struct step hour[] = {
		{ 3600, 100, 2, "t 1 1" },
		{ 3600, 100, 2, "t 2 2" },
		{ 3599, 100, 2, "f 2 2" },	/* late into the next hour */
		{ 3601, 100, 2, "f 2 2" },
	};
	static const struct step room[] = {
		{ 120, 3, 100, "t 1 1" },
		{ 119, 3, 100, "t 2 2" },	/* late, with room: counted in the newest */
		{ 121, 3, 100, "t 3 3" },
		{ 122, 3, 100, "f 3 3" },
	};
	char		subj[96];
	long long	e = it_future_hour();

	subject(subj, sizeof(subj), "late-minute");
	run_steps(subj, e, minute, sizeof(minute) / sizeof(minute[0]));
	expect_stored(subj, e + 60, 3, e, 3);
	subject(subj, sizeof(subj), "late-hour");
	run_steps(subj, e, hour, sizeof(hour) / sizeof(hour[0]));
	expect_stored(subj, e + 3600, 2, e + 3600, 2);
	subject(subj, sizeof(subj), "late-room");
	run_steps(subj, e, room, sizeof(room) / sizeof(room[0]));
	expect_stored(subj, e + 120, 3, e, 3);
}

/* auth_fail(): the 'auth' window of a client IP, minute only. */
Test(ratelimit, auth_fail_counts_the_ip_window)
{
	char		 ip[64], *got, *sub;
	int		 i;
	static const char *const want[] = { "t 1", "t 2", "f 2", "f 2" };

	it_avoid_minute_edge();
	it_ip(ip);
	for (i = 0; i < 4; i++) {
		got = fx_value("SELECT concat_ws(' ', admitted, count) "
		    "FROM calendence.auth_fail($1, 2)", ip, NULL);
		it_str_eq(got, want[i], "call %d", i);
		free(got);
	}
	sub = fx_value("SELECT minute_count FROM calendence.rate_windows WHERE subject = 'a:' || $1",
	    ip, NULL);
	it_str_eq(sub, "2");
	free(sub);
}
