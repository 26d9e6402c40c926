/* sessions.c: create_session(), the RFC 3339 and JSON shapes, and maintenance(). */

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

static int
matches(const char *s, const char *re)
{
	regex_t	r;
	int	ok;

	cr_assert_eq(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	ok = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return ok;
}

#define RFC3339_RE	"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\+00:00$"

struct biz_pk {
	char	*hub, *biz, *pk, *pk_id;
};

static void
biz_pk_new(struct biz_pk *b)
{
	b->hub = fx_hub("pro");
	b->biz = fx_business(b->hub, NULL);
	b->pk = fx_key("publishable", b->biz);
	b->pk_id = fx_key_id(b->pk);
}

static void
biz_pk_free(struct biz_pk *b)
{
	free(b->hub), free(b->biz), free(b->pk), free(b->pk_id);
}

Test(sessions, create_session_lives_exactly_one_hour)
{
	struct biz_pk		 b;
	struct it_session	 s;
	PGresult		*res;
	char			*hex, *v;

	biz_pk_new(&b);
	/* the session's own time zone must not leak into the answer */
	fx_exec("SET TimeZone = 'Asia/Kolkata'", NULL);
	it_session_new(&s, b.biz, b.pk_id, NULL);
	cr_expect(matches(s.expires_at, RFC3339_RE), "expires_at '%s'", s.expires_at);

	hex = it_hash_hex(s.token);
	res = it_query("SELECT expires_at - created_at AS life, root_session_id, business_id, "
	    "publishable_key_id, host(client_ip) AS ip, revoked_at, "
	    "encode(token_hash, 'hex') AS h, "
	    "abs(extract(epoch FROM created_at - now())) < 2 AS fresh, "
	    "$2::timestamptz = date_trunc('second', expires_at) AS same_instant, "
	    "to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+00:00' "
	    "    AS utc "
	    "FROM calendence.sessions WHERE id = $1", s.id, s.expires_at, NULL);
	cr_assert_eq(PQntuples(res), 1);
	it_str_eq(it_col(res, 0, "life"), "01:00:00");
	it_str_eq(it_col(res, 0, "root_session_id"), s.id, "a first session is its root");
	it_str_eq(it_col(res, 0, "business_id"), b.biz);
	it_str_eq(it_col(res, 0, "publishable_key_id"), b.pk_id);
	it_str_eq(it_col(res, 0, "ip"), "192.0.2.10");
	cr_expect_null(it_col(res, 0, "revoked_at"));
	it_str_eq(it_col(res, 0, "h"), hex, "stored by C's SHA-256 of the token");
	it_str_eq(it_col(res, 0, "fresh"), "t");
	it_str_eq(it_col(res, 0, "same_instant"), "t", "%s", s.expires_at);
	it_str_eq(it_col(res, 0, "utc"), s.expires_at);
	PQclear(res);

	/* the token is nowhere in the table */
	v = fx_value("SELECT count(*) FROM calendence.sessions x WHERE strpos(x::text, $1) > 0 "
	    "OR strpos(x::text, substr($1, 9, 32)) > 0", s.token, NULL);
	it_str_eq(v, "0");
	free(v);
	fx_exec("RESET TimeZone", NULL);
	free(hex);
	it_session_free(&s);
	biz_pk_free(&b);
}

Test(sessions, refreshes_keep_the_root_of_the_chain)
{
	struct biz_pk		 b;
	struct it_session	 first, second, third;
	PGresult		*res;
	char			*v;

	biz_pk_new(&b);
	it_session_new(&first, b.biz, b.pk_id, NULL);
	it_session_new(&second, b.biz, b.pk_id, first.id);
	res = it_auth(second.token, "session", 1, "192.0.2.1", NULL, NULL, 1000);
	it_str_eq(it_col(res, 0, "status"), "ok");
	it_str_eq(it_col(res, 0, "key_id"), second.id);
	it_str_eq(it_col(res, 0, "root_session_id"), first.id);
	PQclear(res);
	/* a refresh of the refresh: the worker passes on the root it was told */
	res = it_auth(second.token, "session", 1, "192.0.2.1", NULL, NULL, 1000);
	it_session_new(&third, b.biz, b.pk_id, it_col(res, 0, "root_session_id"));
	PQclear(res);
	v = fx_value("SELECT root_session_id FROM calendence.sessions WHERE id = $1", third.id,
	    NULL);
	it_str_eq(v, first.id);
	free(v);
	/* the old ones stay valid until their own expiry */
	res = it_auth(first.token, "session", 0, "192.0.2.1", NULL, NULL, 1000);
	it_str_eq(it_col(res, 0, "status"), "ok");
	PQclear(res);
	/* and each has its own token */
	v = fx_value("SELECT count(DISTINCT token_hash) FROM calendence.sessions "
	    "WHERE root_session_id = $1", first.id, NULL);
	it_str_eq(v, "3");
	free(v);
	it_session_free(&first), it_session_free(&second), it_session_free(&third);
	biz_pk_free(&b);
}

/*
 * create_session() is keyed by the new token's hash (SPEC 7, no blind
 * re-send): run twice for one request, it makes one session and answers
 * the same; the same hash for another key or business is still refused.
 */
Test(sessions, create_session_is_keyed_by_its_token)
{
	struct biz_pk		 b, other;
	struct it_session	 s;
	char			*hex, *st, *id, *n;

	biz_pk_new(&b);
	biz_pk_new(&other);
	it_session_new(&s, b.biz, b.pk_id, NULL);
	hex = it_hash_hex(s.token);
	id = fx_value("SELECT session_id FROM calendence.create_session(decode($1, 'hex'), "
	    "$2, $3, NULL, '2001:db8::1')", hex, b.biz, b.pk_id, NULL);
	n = fx_value("SELECT count(*) FROM calendence.sessions WHERE token_hash = "
	    "decode($1, 'hex')", hex, NULL);
	it_str_eq(n, "1");
	it_str_eq(id, s.id);
	st = it_sqlstate("SELECT * FROM calendence.create_session(decode($1, 'hex'), $2, $3, "
	    "NULL, '2001:db8::1')", hex, other.biz, other.pk_id, NULL);
	it_str_eq(st ? st : "(success)", "23505");
	free(st), free(hex), free(id), free(n);
	it_session_free(&s);
	biz_pk_free(&b);
	biz_pk_free(&other);
}

Test(sessions, rfc3339_is_utc_whole_seconds)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "2026-03-24 00:00:00-05", "2026-03-24T05:00:00+00:00" },
		{ "2026-03-24 05:00:00.999999+00", "2026-03-24T05:00:00+00:00" },
		{ "2026-12-31 23:59:59+00", "2026-12-31T23:59:59+00:00" },
		{ "2026-07-01 04:00:00 America/Chicago", "2026-07-01T09:00:00+00:00" },
		{ "2026-11-01 01:30:00-05", "2026-11-01T06:30:00+00:00" },
		{ "2000-02-29 12:00:00+14", "2000-02-28T22:00:00+00:00" },
	};
	size_t	 i;
	char	*v;

	fx_exec("SET TimeZone = 'Pacific/Chatham'", NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = fx_value("SELECT calendence.rfc3339($1::timestamptz)", cases[i].in, NULL);
		it_str_eq(v, cases[i].out, "%s", cases[i].in);
		free(v);
	}
	v = fx_value("SELECT calendence.rfc3339(NULL)", NULL);
	cr_expect_null(v);
	fx_exec("RESET TimeZone", NULL);
}

Test(sessions, service_and_business_json_shapes)
{
	struct biz_pk	 b;
	char		*svc, *j, want[1024], *slug, *created;

	biz_pk_new(&b);
	svc = fx_service(b.biz, "Express Wash", 1);
	j = fx_value("SELECT calendence.service_json(s)::text FROM calendence.services s "
	    "WHERE id = $1", svc, NULL);
	snprintf(want, sizeof(want), "{\"id\":\"%s\",\"name\":\"Express Wash\","
	    "\"description\":null,\"category\":null,\"duration_min\":30,\"duration_max\":30,"
	    "\"rate\":1000,\"rate_type\":\"flat\",\"deposit_type\":\"none\","
	    "\"deposit_amount\":0,\"buffer_before_min\":0,\"buffer_after_min\":0,"
	    "\"is_mobile\":false,\"is_active\":true,\"show_staff_picker\":false,"
	    "\"custom_fields\":[]}", svc);
	it_str_eq(j, want);
	free(j);

	fx_exec("SET TimeZone = 'America/Chicago'", NULL);
	slug = fx_value("SELECT slug FROM calendence.businesses WHERE id = $1", b.biz, NULL);
	created = fx_value("SELECT to_char(created_at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"') FROM calendence.businesses WHERE id = $1",
	    b.biz, NULL);
	j = fx_value("SELECT calendence.business_json(b)::text FROM calendence.businesses b "
	    "WHERE id = $1", b.biz, NULL);
	{
		char *name = fx_value("SELECT name FROM calendence.businesses WHERE id = $1",
		    b.biz, NULL);

		snprintf(want, sizeof(want), "{\"id\":\"%s\",\"name\":\"%s\",\"slug\":\"%s\","
		    "\"timezone\":\"America/Chicago\",\"active\":true,\"created_at\":\"%s\"}",
		    b.biz, name, slug, created);
		free(name);
	}
	it_str_eq(j, want);
	cr_expect(matches(created, RFC3339_RE));
	fx_exec("RESET TimeZone", NULL);
	free(j), free(slug), free(created), free(svc);
	biz_pk_free(&b);
}

/*
 * maintenance() removes sessions expired for more than a day and windows of
 * past hours; everything that may still be used stays.
 */
Test(sessions, maintenance_removes_only_what_is_dead)
{
	struct biz_pk		 b;
	struct it_session	 s[4];
	static const struct {
		const char	*expired;	/* how long ago it expired */
		int		 kept;
	} ses[4] = {
		{ "2 days", 0 },
		{ "1 day 1 second", 0 },
		{ "23 hours", 1 },
		{ "-30 minutes", 1 },		/* live */
	};
	static const struct {
		const char	*name;
		const char	*minute_start;	/* SQL over e, the epoch now */
		const char	*hour_start;
		int		 kept;
	} win[] = {
		{ "past-hour", "e - e % 3600 - 60", "e - e % 3600 - 3600", 0 },
		{ "yesterday", "e - e % 3600 - 86400", "e - e % 3600 - 86400", 0 },
		{ "this-hour", "e - e % 3600", "e - e % 3600", 1 },
		{ "this-minute", "e - e % 60", "e - e % 3600", 1 },
		{ "future", "e - e % 3600 + 86400", "e - e % 3600 + 86400", 1 },
	};
	char			 subj[sizeof(win) / sizeof(win[0])][96], sql[512], ip[64];
	PGresult		*res;
	char			*v;
	size_t			 i;

	it_avoid_minute_edge();
	it_turn("maintenance", 1);	/* what is dead is removed by this call */
	biz_pk_new(&b);
	for (i = 0; i < 4; i++) {
		it_session_new(&s[i], b.biz, b.pk_id, NULL);
		fx_exec("UPDATE calendence.sessions SET created_at = now() - $2::interval "
		    "- interval '1 hour', expires_at = now() - $2::interval WHERE id = $1",
		    s[i].id, ses[i].expired, NULL);
	}
	it_ip(ip);
	for (i = 0; i < sizeof(win) / sizeof(win[0]); i++) {
		snprintf(subj[i], sizeof(subj[i]), "t:maint:%s:%s", win[i].name, ip);
		snprintf(sql, sizeof(sql), "INSERT INTO calendence.rate_windows "
		    "SELECT $1, %s, 1, %s, 1 FROM (SELECT floor(extract(epoch FROM now()))"
		    "::bigint AS e) t", win[i].minute_start, win[i].hour_start);
		fx_exec(sql, subj[i], NULL);
	}

	res = it_maintenance();
	cr_expect_geq(atoll(it_col(res, 0, "sessions_removed")), 2);
	cr_expect_geq(atoll(it_col(res, 0, "windows_removed")), 2);
	PQclear(res);
	it_turn("maintenance", 0);

	for (i = 0; i < 4; i++) {
		v = fx_value("SELECT count(*) FROM calendence.sessions WHERE id = $1", s[i].id,
		    NULL);
		it_str_eq(v, ses[i].kept ? "1" : "0", "session expired %s ago",
		    ses[i].expired);
		free(v);
	}
	for (i = 0; i < sizeof(win) / sizeof(win[0]); i++) {
		v = fx_value("SELECT count(*) FROM calendence.rate_windows WHERE subject = $1",
		    subj[i], NULL);
		it_str_eq(v, win[i].kept ? "1" : "0", "window %s", win[i].name);
		free(v);
	}
	/* a second run finds nothing of ours; running it is always safe */
	res = it_maintenance();
	PQclear(res);
	for (i = 0; i < 4; i++)
		it_session_free(&s[i]);
	biz_pk_free(&b);
}
