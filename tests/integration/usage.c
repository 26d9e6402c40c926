/* usage.c: usage you can query (issue 14 item 5): windows folded into usage_hourly by maintenance(), usage(), and calendence-admin usage. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <json.h>

#include "helpers.h"

#define AUTH_LIMIT	3	/* failed credentials an IP may have in a minute */

/* A hub on a plan of 3 requests a minute, a business, its keys, a session. */
struct world {
	char		*plan, *hub, *biz;
	char		*bk, *pk;		/* tokens */
	char		*bk_id, *pk_id;
	struct it_session s;
	char		 ip[64];
};

static void
world_new(struct world *w)
{
	w->plan = fx_plan(3, 1000, 5, 1);
	w->hub = fx_hub(w->plan);
	w->biz = fx_business(w->hub, "Europe/Paris");
	w->bk = fx_key("business", w->biz);
	w->pk = fx_key("publishable", w->biz);
	w->bk_id = fx_key_id(w->bk);
	w->pk_id = fx_key_id(w->pk);
	it_session_new(&w->s, w->biz, w->pk_id, NULL);
	it_ip(w->ip);
}

static void
world_free(struct world *w)
{
	it_session_free(&w->s);
	free(w->plan), free(w->hub), free(w->biz);
	free(w->bk), free(w->pk), free(w->bk_id), free(w->pk_id);
}

/* authenticate() of 'token' once; whether it was admitted ("t" or "f"). */
static void
expect_auth(const char *token, const char *kind, int exchange, const char *ip,
    const char *status, const char *admitted)
{
	PGresult	*res = it_auth(token, kind, exchange, ip, NULL, NULL, AUTH_LIMIT);

	it_str_eq(it_col(res, 0, "status"), status, "%s", kind);
	it_str_eq(it_col(res, 0, "admitted"), admitted, "%s (%s)", kind, status);
	PQclear(res);
}

/*
 * The traffic of one world: the business key 3 admitted and 2 refused
 * (3 a minute); its session 2 admitted; one exchange of the publishable
 * key from the IP; 5 failed credentials from the IP, 3 of them within its
 * window (401) and 2 refused (429), by authenticate() and auth_fail().
 */
static void
traffic(struct world *w)
{
	char	*unknown = it_token(TOKEN_BUSINESS);
	char	 lim[16];
	int	 i;

	for (i = 0; i < 5; i++)
		expect_auth(w->bk, "business", 0, w->ip, "ok", i < 3 ? "t" : "f");
	for (i = 0; i < 2; i++)
		expect_auth(w->s.token, "session", 0, w->ip, "ok", "t");
	expect_auth(w->pk, "publishable", 1, w->ip, "ok", "t");
	for (i = 0; i < 3; i++)
		expect_auth(unknown, "business", 0, w->ip, "unknown", "t");
	snprintf(lim, sizeof(lim), "%d", AUTH_LIMIT);
	for (i = 0; i < 2; i++) {
		char *v = fx_value("SELECT admitted FROM calendence.auth_fail($1, $2::integer)",
		    w->ip, lim, NULL);

		it_str_eq(v, "f", "auth_fail() beyond the limit");
		free(v);
	}
	free(unknown);
}

/*
 * The four subjects of a world's windows, as an SQL array literal's text
 * (the tests' IPs are whole addresses; the worker's, an IPv6 /64).
 */
static void
subjects(const struct world *w, char *buf, size_t size)
{
	snprintf(buf, size, "{k:%s,s:%s,x:%s,a:%s}", w->bk_id, w->s.id, w->ip, w->ip);
}

/*
 * What 'sql' (run with $1 key, $2 publishable key, $3 ip, $4 hour) says of
 * a world, one line per kind: "kind admitted refused failed", sorted.
 */
static char *
summary(const char *sql, const struct world *w, const char *hour)
{
	return fx_value(sql, w->bk_id, w->pk_id, w->ip, hour, NULL);
}

/* usage() of a world, since a day ago, in the hour 'hour' (an epoch). */
static const char usage_sql[] =
    "SELECT string_agg(concat_ws(' ', kind, admitted, refused, failed), ', ' "
    "ORDER BY kind) FROM calendence.usage(now() - interval '1 day', NULL, NULL) "
    "WHERE (key_id IN ($1::uuid, $2::uuid) OR ip = $3::inet) "
    "AND hour = to_timestamp($4::bigint)";

/* The same from usage_hourly alone. */
static const char hourly_sql[] =
    "SELECT string_agg(concat_ws(' ', subject_kind, admitted, refused, failed), ', ' "
    "ORDER BY subject_kind) FROM calendence.usage_hourly "
    "WHERE (key_id IN ($1::uuid, $2::uuid) OR ip = $3::inet) "
    "AND hour = to_timestamp($4::bigint)";

static const char want_all[] =
    "auth 0 2 3, exchange 1 0 0, key 3 2 0, session 2 0 0";

/*
 * Requests through authenticate() and auth_fail(): usage() shows them while
 * their windows live; once the windows are two hours old, maintenance()
 * folds them into usage_hourly with exact counts, in their hour, and a
 * second maintenance() adds nothing. usage() says the same throughout.
 */
Test(usage, windows_fold_into_usage_hourly_exactly_once)
{
	struct world	 w;
	char		 subj[512], hour[24], old[24], *got;
	PGresult	*res;

	it_avoid_minute_edge();
	world_new(&w);
	traffic(&w);
	subjects(&w, subj, sizeof(subj));
	snprintf(hour, sizeof(hour), "%lld", it_now() - it_now() % 3600);

	/* live: in the windows, not yet in usage_hourly */
	got = summary(usage_sql, &w, hour);
	it_str_eq(got, want_all, "usage() of the live windows");
	free(got);
	got = summary(hourly_sql, &w, hour);
	it_str_eq(got, NULL, "nothing folded yet");
	free(got);

	/* two hours later: the windows' hour has passed */
	snprintf(old, sizeof(old), "%lld", atoll(hour) - 7200);
	fx_exec("UPDATE calendence.rate_windows SET minute_start = minute_start - 7200, "
	    "hour_start = hour_start - 7200 WHERE subject = ANY ($1::text[])", subj, NULL);
	got = summary(usage_sql, &w, old);
	it_str_eq(got, want_all, "usage() of the aged windows, not yet folded");
	free(got);

	res = it_maintenance();
	PQclear(res);
	got = fx_value("SELECT count(*) FROM calendence.rate_windows "
	    "WHERE subject = ANY ($1::text[])", subj, NULL);
	it_str_eq(got, "0", "the aged windows are removed");
	free(got);
	got = summary(hourly_sql, &w, old);
	it_str_eq(got, want_all, "usage_hourly after maintenance()");
	free(got);
	got = fx_value("SELECT business_id FROM calendence.usage_hourly "
	    "WHERE key_id = $1 AND hour = to_timestamp($2::bigint)", w.bk_id, old, NULL);
	it_str_eq(got, w.biz, "the key's business");
	free(got);

	res = it_maintenance();
	PQclear(res);
	got = summary(hourly_sql, &w, old);
	it_str_eq(got, want_all, "a second maintenance() adds nothing");
	free(got);
	got = summary(usage_sql, &w, old);
	it_str_eq(got, want_all, "usage() after the fold: folded, not also live");
	free(got);
	world_free(&w);
}

/*
 * A world whose business key was admitted 3 times and refused once (3 a
 * minute), in one minute; its window's subject in subj.
 */
static void
limited_key(struct world *w, char *subj, size_t size)
{
	int	 i;

	it_avoid_minute_edge();
	world_new(w);
	for (i = 0; i < 4; i++)
		expect_auth(w->bk, "business", 0, w->ip, "ok", i < 3 ? "t" : "f");
	snprintf(subj, size, "k:%s", w->bk_id);
}

/* The hour the window counts in (its own, not the clock's: no hour edge). */
static long long
window_hour(const char *subj)
{
	char		*v = fx_value("SELECT hour_start FROM calendence.rate_windows "
	    "WHERE subject = $1", subj, NULL);
	long long	 hour;

	cr_assert_not_null(v, "no window for %s", subj);
	hour = atoll(v);
	free(v);
	return hour;
}

/*
 * A window that a new hour overwrites keeps the passing hour until
 * maintenance() folds it; the live window stays, counting on.
 */
Test(usage, a_new_hour_keeps_the_last_until_folded)
{
	struct world	 w;
	char		 subj[128], hour[24], prev[24], *got;
	PGresult	*res;

	limited_key(&w, subj, sizeof(subj));
	snprintf(hour, sizeof(hour), "%lld", window_hour(subj));
	snprintf(prev, sizeof(prev), "%lld", atoll(hour) - 3600);
	/* as if those four came an hour ago */
	fx_exec("UPDATE calendence.rate_windows SET minute_start = minute_start - 3600, "
	    "hour_start = hour_start - 3600 WHERE subject = $1", subj, NULL);
	expect_auth(w.bk, "business", 0, w.ip, "ok", "t");
	got = fx_value("SELECT concat_ws(' ', hour_count, hour_refused, prev_hour_start - "
	    "$2::bigint, prev_hour_count, prev_hour_refused) FROM calendence.rate_windows "
	    "WHERE subject = $1", subj, prev, NULL);
	/* a parallel test's maintenance() may have folded the last hour already */
	if (strcmp(got, "1 0") != 0)
		it_str_eq(got, "1 0 0 3 1", "the new hour, and the last one kept");
	free(got);
	got = summary(usage_sql, &w, prev);
	it_str_eq(got, "key 3 1 0", "usage() of the last hour, kept in the window");
	free(got);

	res = it_maintenance();
	PQclear(res);
	got = fx_value("SELECT concat_ws(' ', hour_count, prev_hour_start) "
	    "FROM calendence.rate_windows WHERE subject = $1", subj, NULL);
	it_str_eq(got, "1", "the live window stays, its last hour folded");
	free(got);
	got = summary(hourly_sql, &w, prev);
	it_str_eq(got, "key 3 1 0", "the last hour in usage_hourly");
	free(got);
	res = it_maintenance();
	PQclear(res);
	got = summary(usage_sql, &w, prev);
	it_str_eq(got, "key 3 1 0", "the last hour, once");
	free(got);
	got = summary(usage_sql, &w, hour);
	it_str_eq(got, "key 1 0 0", "the live hour");
	free(got);
	world_free(&w);
}

/* Runs 'cmd' (a shell command line); its whole stdout as JSON. */
static json_object *
run_json(const char *cmd)
{
	FILE		*p;
	char		 buf[65536];
	size_t		 n;
	json_object	*j;

	cr_assert_not_null(p = popen(cmd, "r"), "%s", cmd);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	cr_assert_eq(pclose(p), 0, "%s: %s", cmd, buf);
	cr_assert_not_null(j = json_tokener_parse(buf), "%s: not JSON: %s", cmd, buf);
	return j;
}

/* The string of member 'name' of 'o', or NULL for null or none. */
static const char *
member(json_object *o, const char *name)
{
	json_object	*v;

	if (!json_object_object_get_ex(o, name, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

/*
 * calendence-admin usage --json, of one key by id and of one business:
 * the counts exact, the key's display form, the hour; a key of another
 * business is not in the business's answer.
 */
Test(usage, the_admin_command_shows_exact_counts)
{
	struct world	 w, other;
	char		 cmd[1024], *display, *hour, *day;
	const char	*admin = getenv("ADMIN");
	json_object	*j, *row;
	size_t		 i;
	int		 key_rows = 0, session_rows = 0;

	cr_assert_not_null(admin, "ADMIN (the test build's calendence-admin) is not set");
	it_avoid_minute_edge();
	world_new(&w);
	world_new(&other);
	traffic(&w);
	expect_auth(other.bk, "business", 0, other.ip, "ok", "t");
	display = fx_value("SELECT display FROM calendence.api_keys WHERE id = $1", w.bk_id,
	    NULL);
	hour = fx_value("SELECT calendence.rfc3339(date_trunc('hour', now()))", NULL);
	/* a date as the tool's time zone reads it: a day ago covers any */
	day = fx_value("SELECT (now() - interval '1 day')::date::text", NULL);

	snprintf(cmd, sizeof(cmd), "'%s' usage --json --key %s --since '2 hours'", admin,
	    w.bk_id);
	j = run_json(cmd);
	cr_assert_eq(json_object_array_length(j), 1, "%s", json_object_to_json_string(j));
	row = json_object_array_get_idx(j, 0);
	it_str_eq(member(row, "hour"), hour);
	it_str_eq(member(row, "kind"), "key");
	it_str_eq(member(row, "key"), display);
	it_str_eq(member(row, "key_id"), w.bk_id);
	it_str_eq(member(row, "business_id"), w.biz);
	it_str_eq(member(row, "ip"), NULL);
	it_str_eq(member(row, "admitted"), "3");
	it_str_eq(member(row, "refused"), "2");
	it_str_eq(member(row, "failed"), "0");
	json_object_put(j);

	snprintf(cmd, sizeof(cmd), "'%s' usage --business %s --since %s --json", admin,
	    w.biz, day);
	j = run_json(cmd);
	for (i = 0; i < json_object_array_length(j); i++) {
		row = json_object_array_get_idx(j, i);
		it_str_eq(member(row, "business_id"), w.biz);
		if (strcmp(member(row, "kind"), "key") == 0 &&
		    strcmp(member(row, "hour"), hour) == 0) {
			key_rows++;
			it_str_eq(member(row, "admitted"), "3");
			it_str_eq(member(row, "refused"), "2");
		}
		if (strcmp(member(row, "kind"), "session") == 0 &&
		    strcmp(member(row, "hour"), hour) == 0) {
			session_rows++;
			it_str_eq(member(row, "key_id"), w.pk_id);
			it_str_eq(member(row, "admitted"), "2");
		}
	}
	cr_expect_eq(key_rows, 1);
	cr_expect_eq(session_rows, 1);
	json_object_put(j);
	free(display), free(hour), free(day);
	world_free(&other);
	world_free(&w);
}

/* usage_refused() of one subject, hour and count; its 'skipped' answer. */
static char *
refused_add(const char *subject, long long hour, int n)
{
	char	 s[128], h[32], c[16];

	snprintf(s, sizeof(s), "{\"%s\"}", subject);
	snprintf(h, sizeof(h), "{%lld}", hour);
	snprintf(c, sizeof(c), "{%d}", n);
	return fx_value("SELECT skipped FROM calendence.usage_refused($1::text[], "
	    "$2::bigint[], $3::integer[])", s, h, c, NULL);
}

/*
 * The 429s a worker answered from memory (fcgi/usage.c) land where the
 * database keeps that hour's refusals: the window's hour, the hour it
 * keeps in prev_hour_*, or, the window gone, usage_hourly itself. A window
 * another transaction holds (its row, or its advisory lock) is skipped and
 * named, never waited for; the others of the same call are added.
 */
Test(usage, refusals_from_memory_land_in_their_hour)
{
	struct world	 w;
	char		 subj[64], gone[80], ip2[64], hour_s[24], *got;
	long long	 hour;
	PGconn		*dba;
	PGresult	*res;

	limited_key(&w, subj, sizeof(subj));
	hour = window_hour(subj);

	/* the window's own hour: 1 refusal by the database, 5 from memory */
	got = refused_add(subj, hour, 5);
	it_str_eq(got, "{}", "nothing skipped");
	free(got);
	got = fx_value("SELECT hour_refused FROM calendence.rate_windows WHERE subject = $1",
	    subj, NULL);
	it_str_eq(got, "6", "hour_refused");
	free(got);

	/*
	 * the hour before, which the window keeps until maintenance(): a
	 * parallel test's call would fold it (the turn "maintenance")
	 */
	it_turn("maintenance", 1);
	fx_exec("UPDATE calendence.rate_windows SET prev_hour_start = hour_start - 3600, "
	    "prev_hour_count = 2, prev_hour_refused = 1 WHERE subject = $1", subj, NULL);
	got = refused_add(subj, hour - 3600, 4);
	it_str_eq(got, "{}");
	free(got);
	got = fx_value("SELECT prev_hour_refused || ' ' || hour_refused "
	    "FROM calendence.rate_windows WHERE subject = $1", subj, NULL);
	it_str_eq(got, "5 6", "prev_hour_refused, hour_refused");
	free(got);
	it_turn("maintenance", 0);

	/* an hour the window no longer holds: straight into usage_hourly */
	got = refused_add(subj, hour - 7200, 3);
	it_str_eq(got, "{}");
	free(got);
	snprintf(hour_s, sizeof(hour_s), "%lld", hour - 7200);
	got = fx_value("SELECT concat_ws(' ', subject_kind, business_id, admitted, refused, "
	    "failed) FROM calendence.usage_hourly WHERE key_id = $1 "
	    "AND hour = to_timestamp($2::bigint)", w.bk_id, hour_s, NULL);
	cr_assert_not_null(got);
	cr_expect(strncmp(got, "key ", 4) == 0 && strstr(got, w.biz) != NULL &&
	    strstr(got, " 0 3 0") != NULL, "usage_hourly: %s", got);
	free(got);

	/* a held window is skipped and named; the call's others are added */
	it_ip(ip2);
	snprintf(gone, sizeof(gone), "a:%s", ip2);
	dba = PQconnectdb("application_name=calendence-test-dba");
	cr_assert_eq(PQstatus(dba), CONNECTION_OK, "%s", PQerrorMessage(dba));
	PQclear(PQexec(dba, "BEGIN"));
	{
		const char *p[1] = { subj };

		res = PQexecParams(dba, "SELECT 1 FROM calendence.rate_windows "
		    "WHERE subject = $1 FOR UPDATE", 1, NULL, p, NULL, NULL, 0);
		cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s",
		    PQerrorMessage(dba));
		PQclear(res);
	}
	{
		char s[160], h[64];

		snprintf(s, sizeof(s), "{\"%s\",\"%s\"}", subj, gone);
		snprintf(h, sizeof(h), "{%lld,%lld}", hour, hour);
		got = fx_value("SELECT skipped FROM calendence.usage_refused($1::text[], "
		    "$2::bigint[], '{2,7}'::integer[])", s, h, NULL);
	}
	it_str_eq(got, "{1}", "the held window is skipped");
	free(got);
	PQclear(PQexec(dba, "COMMIT"));
	got = fx_value("SELECT hour_refused FROM calendence.rate_windows WHERE subject = $1",
	    subj, NULL);
	it_str_eq(got, "6", "the held window got nothing");
	free(got);
	snprintf(hour_s, sizeof(hour_s), "%lld", hour);
	got = fx_value("SELECT concat_ws(' ', subject_kind, refused, failed) "
	    "FROM calendence.usage_hourly WHERE ip = $1::inet "
	    "AND hour = to_timestamp($2::bigint)", ip2, hour_s, NULL);
	it_str_eq(got, "auth 7 0", "a window never counted: usage_hourly");
	free(got);

	/* the advisory lock that admissions take: skipped too */
	{
		const char *p[1] = { subj };

		res = PQexecParams(dba, "SELECT pg_advisory_lock(1, hashtext($1))", 1, NULL,
		    p, NULL, NULL, 0);
		cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s",
		    PQerrorMessage(dba));
		PQclear(res);
	}
	got = refused_add(subj, hour, 2);
	it_str_eq(got, "{1}", "a window whose admission lock is held is skipped");
	free(got);
	{
		const char *p[1] = { subj };

		PQclear(PQexecParams(dba, "SELECT pg_advisory_unlock(1, hashtext($1))", 1,
		    NULL, p, NULL, NULL, 0));
	}
	PQfinish(dba);
	got = refused_add(subj, hour, 2);
	it_str_eq(got, "{}");
	free(got);
	got = fx_value("SELECT hour_refused FROM calendence.rate_windows WHERE subject = $1",
	    subj, NULL);
	it_str_eq(got, "8", "added once the lock was let go");
	free(got);
	world_free(&w);
}
