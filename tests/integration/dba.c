/* dba.c: the DBA functions of SPEC 2: create_hub, create_business, issue/revoke/roll keys, origins, create_service. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "helpers.h"

/* SQLSTATEs: RAISE ... USING ERRCODE '22023' (invalid_parameter_value), and constraints. */
#define ST_PARAM	"22023"
#define ST_CHECK	"23514"
#define ST_UNIQUE	"23505"

#define expect_state(st, want, ...) do {				\
	char	*st_ = (st);						\
	it_str_eq(st_ ? st_ : "(success)", (want), __VA_ARGS__);	\
	free(st_);							\
} while (0)

/* A name no other test makes: 'prefix', the process id and a random number. */
static void
unique_name(char *buf, size_t size, const char *prefix)
{
	cr_assert_geq(sodium_init(), 0);
	snprintf(buf, size, "%s %ld %u", prefix, (long)getpid(), randombytes_random());
}

/* ---- create_hub ---- */

Test(dba, create_hub_refuses_an_unknown_plan)
{
	char	*id, *plan;

	expect_state(it_sqlstate("SELECT calendence.create_hub('Acme', 'platinum')", NULL),
	    ST_PARAM, "unknown plan");
	expect_state(it_sqlstate("SELECT calendence.create_hub('Acme', 'PRO')", NULL),
	    ST_PARAM, "plan codes are exact");
	expect_state(it_sqlstate("SELECT calendence.create_hub('Acme', NULL)", NULL),
	    ST_PARAM, "no plan");
	expect_state(it_sqlstate("SELECT calendence.create_hub('   ', 'pro')", NULL),
	    ST_CHECK, "blank name");

	id = fx_hub("growth");
	plan = fx_value("SELECT plan FROM calendence.hubs WHERE id = $1", id, NULL);
	it_str_eq(plan, "growth");
	free(plan);
	free(id);
}

/* ---- create_business ---- */

static const char *const bad_zones[] = {
	"Mars/Base",
	"EST5EDT,M3.2.0,M11.1.0",	/* POSIX rules that SET TIME ZONE takes */
	"UTC+3",
	"<+03>-3",
	"CET-1CEST,M3.5.0,M10.5.0/3",
	"america/chicago",		/* not the name PostgreSQL lists */
	"America/Chicago ",
	"Europe/Berlinn",
	"",
};

Test(dba, create_business_refuses_unknown_time_zones)
{
	char	*hub = fx_hub("pro"), *biz, *set;
	size_t	 i;

	for (i = 0; i < sizeof(bad_zones) / sizeof(bad_zones[0]); i++)
		expect_state(it_sqlstate("SELECT calendence.create_business($1, 'Zone Test', $2)",
		    hub, bad_zones[i], NULL), ST_PARAM, "time zone '%s'", bad_zones[i]);
	expect_state(it_sqlstate("SELECT calendence.create_business($1, 'Zone Test', NULL)",
	    hub, NULL), "23502", "NULL time zone");

	/* PostgreSQL itself takes a POSIX string: the refusal is the schema's choice */
	expect_state(it_sqlstate("SELECT set_config('TimeZone', 'UTC+3', false)", NULL),
	    "(success)", "SET TimeZone");
	fx_exec("RESET TimeZone", NULL);

	/* a direct write is held to the same rule */
	biz = fx_business(hub, "Europe/Berlin");
	expect_state(it_sqlstate("UPDATE calendence.businesses SET timezone = 'Mars/Base' "
	    "WHERE id = $1", biz, NULL), ST_CHECK, "UPDATE to Mars/Base");
	expect_state(it_sqlstate("UPDATE calendence.businesses SET timezone = 'UTC+3' "
	    "WHERE id = $1", biz, NULL), ST_CHECK, "UPDATE to UTC+3");
	set = fx_value("SELECT timezone FROM calendence.businesses WHERE id = $1", biz, NULL);
	it_str_eq(set, "Europe/Berlin");
	free(set);
	free(biz);
	free(hub);
}

/* A name is accepted exactly when pg_timezone_names lists it. */
Test(dba, create_business_accepts_exactly_the_listed_zones)
{
	static const char *const zones[] = {
		"America/Chicago", "Europe/Berlin", "Asia/Kolkata", "UTC", "Etc/GMT+5",
		"EST5EDT", "Australia/Lord_Howe",
	};
	char	*hub = fx_hub("pro"), *listed, *st, *tz, *id;
	size_t	 i;

	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		listed = fx_value("SELECT count(*) FROM pg_timezone_names WHERE name = $1",
		    zones[i], NULL);
		st = it_sqlstate("SELECT calendence.create_business($1, 'Zone Test', $2)",
		    hub, zones[i], NULL);
		if (strcmp(listed, "1") == 0) {
			cr_expect_null(st, "%s is listed but refused (%s)", zones[i], st);
			tz = fx_value("SELECT timezone FROM calendence.businesses "
			    "WHERE hub_id = $1 AND timezone = $2", hub, zones[i], NULL);
			it_str_eq(tz, zones[i]);
			free(tz);
		} else
			it_str_eq(st ? st : "(success)", ST_PARAM, "%s", zones[i]);
		free(st);
		free(listed);
	}
	/* the zones a deployment surely has */
	id = fx_business(hub, "America/Chicago");
	free(id);
	free(hub);
}

Test(dba, create_business_refuses_an_unknown_hub)
{
	expect_state(it_sqlstate("SELECT calendence.create_business(gen_random_uuid(), 'X', "
	    "'UTC')", NULL), ST_PARAM, "unknown hub");
	expect_state(it_sqlstate("SELECT calendence.create_business(NULL, 'X', 'UTC')", NULL),
	    ST_PARAM, "NULL hub");
}

static char *
slug_of(const char *biz)
{
	return fx_value("SELECT slug FROM calendence.businesses WHERE id = $1", biz, NULL);
}

Test(dba, create_business_derives_and_deduplicates_slugs)
{
	char	 name[128], want[160], *hub = fx_hub("pro"), *b[3], *s;
	int	 i;

	/* expected: lower case, runs of anything else become one '-' */
	unique_name(name, sizeof(name), "Sunny  Side Detail");
	for (i = 0; i < 3; i++)
		b[i] = fx_value("SELECT calendence.create_business($1, $2, 'UTC')", hub, name,
		    NULL);
	s = slug_of(b[0]);
	snprintf(want, sizeof(want), "sunny-side-detail-%ld-%s", (long)getpid(),
	    strrchr(name, ' ') + 1);
	it_str_eq(s, want);
	free(s);
	s = slug_of(b[1]);
	snprintf(want + strlen(want), sizeof(want) - strlen(want), "-2");
	it_str_eq(s, want);
	free(s);
	s = slug_of(b[2]);
	want[strlen(want) - 1] = '3';
	it_str_eq(s, want);
	free(s);
	for (i = 0; i < 3; i++)
		free(b[i]);
	free(hub);
}

Test(dba, create_business_slugifies_punctuation_and_non_ascii)
{
	char	 name[160], want[160], *hub = fx_hub("pro"), *biz, *s;
	unsigned r;

	cr_assert_geq(sodium_init(), 0);
	r = randombytes_random();
	snprintf(name, sizeof(name), "  Joe's Caf\xc3\xa9 & Wash!! %u  ", r);
	snprintf(want, sizeof(want), "joe-s-caf-wash-%u", r);
	biz = fx_value("SELECT calendence.create_business($1, $2, 'UTC')", hub, name, NULL);
	s = slug_of(biz);
	it_str_eq(s, want);
	free(s);
	free(biz);

	/* nothing usable in the name: a generic slug, still unique */
	biz = fx_value("SELECT calendence.create_business($1, '\xe6\x97\xa5\xe6\x9c\xac', "
	    "'Asia/Tokyo')", hub, NULL);
	s = slug_of(biz);
	cr_expect(s != NULL && strncmp(s, "business", 8) == 0 &&
	    (s[8] == '\0' || s[8] == '-'), "%s", s);
	free(s);
	free(biz);
	free(hub);
}

/*
 * A long name whose 80th slug character is a '-' must still give a valid
 * slug (the cut happens before the dashes at the ends are trimmed).
 */
Test(dba, create_business_gives_long_names_a_valid_slug)
{
	char	 name[256], *hub = fx_hub("pro"), *biz, *s, *ok;
	int	 i, n;

	for (i = 0; i < 2; i++) {
		/* i = 0: 'a' x 79 then a space; i = 1: a 200-character name */
		n = i == 0 ? 79 : 150;
		memset(name, 'a', (size_t)n);
		snprintf(name + n, sizeof(name) - (size_t)n, " b%ld %u", (long)getpid(),
		    randombytes_random());
		if (i == 1) {
			memset(name + strlen(name), 'c', 200 - strlen(name));
			name[200] = '\0';
		}
		biz = fx_value("SELECT calendence.create_business($1, $2, 'UTC')", hub, name,
		    NULL);
		cr_assert_not_null(biz, "%s", name);
		s = slug_of(biz);
		ok = fx_value("SELECT $1 ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length($1) <= 100",
		    s, NULL);
		it_str_eq(ok, "t", "slug '%s'", s);
		cr_expect_eq(strspn(s, "a"), (size_t)(n < 80 ? n : 80), "%s", s);
		free(ok);
		free(s);
		free(biz);
	}
	free(hub);
}

Test(dba, create_business_refuses_an_invalid_explicit_slug)
{
	static const char *const bad[] = {
		"Bad Slug", "UPPER", "-lead", "trail-", "a--b", "", "caf\xc3\xa9", "a_b",
		"a.b",
	};
	char	 slug[128], longslug[102], *hub = fx_hub("pro"), *biz, *s;
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_state(it_sqlstate("SELECT calendence.create_business($1, 'X', 'UTC', $2)",
		    hub, bad[i], NULL), ST_CHECK, "slug '%s'", bad[i]);
	memset(longslug, 'x', 101);
	longslug[101] = '\0';
	expect_state(it_sqlstate("SELECT calendence.create_business($1, 'X', 'UTC', $2)",
	    hub, longslug, NULL), ST_CHECK, "101-character slug");

	snprintf(slug, sizeof(slug), "my-shop-%ld-%u", (long)getpid(), randombytes_random());
	biz = fx_value("SELECT calendence.create_business($1, 'Whatever Name', 'UTC', $2)",
	    hub, slug, NULL);
	s = slug_of(biz);
	it_str_eq(s, slug);
	/* an explicit slug is taken as it is, never renamed */
	expect_state(it_sqlstate("SELECT calendence.create_business($1, 'Y', 'UTC', $2)",
	    hub, slug, NULL), ST_UNIQUE, "duplicate explicit slug");
	free(s);
	free(biz);
	free(hub);
}

/* ---- issue_key ---- */

static const struct {
	const char	*kind;
	const char	*prefix;
	int		 hub_owned;
} key_kinds[] = {
	{ "hub", "cal_hub_", 1 },
	{ "business", "cal_biz_", 0 },
	{ "publishable", "cal_pub_", 0 },
};

Test(dba, issue_key_stores_only_the_hash)
{
	char		*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char		*tok, *hex, want_display[13];
	PGresult	*res;
	enum token_kind	 k;
	size_t		 i;

	for (i = 0; i < sizeof(key_kinds) / sizeof(key_kinds[0]); i++) {
		const char *owner = key_kinds[i].hub_owned ? hub : biz;

		tok = fx_value("SELECT calendence.issue_key($1, $2, 'front desk')",
		    key_kinds[i].kind, owner, NULL);
		cr_assert_not_null(tok);
		cr_expect_eq(strlen(tok), 46);
		cr_expect_eq(strncmp(tok, key_kinds[i].prefix, 8), 0, "%s", tok);
		cr_expect_eq(token_parse(tok, strlen(tok), &k), 0);
		hex = it_hash_hex(tok);
		res = it_query("SELECT kind, hub_id, business_id, encode(token_hash, 'hex') AS h, "
		    "display, label, expires_at, revoked_at, last_used_at, allowed_origins, "
		    "abs(extract(epoch FROM created_at - now())) < 1 AS fresh "
		    "FROM calendence.api_keys WHERE token_hash = decode($1, 'hex')", hex, NULL);
		cr_assert_eq(PQntuples(res), 1, "the key is found by C's SHA-256");
		it_str_eq(it_col(res, 0, "kind"), key_kinds[i].kind);
		if (key_kinds[i].hub_owned) {
			it_str_eq(it_col(res, 0, "hub_id"), hub);
			cr_expect_null(it_col(res, 0, "business_id"));
		} else {
			cr_expect_null(it_col(res, 0, "hub_id"));
			it_str_eq(it_col(res, 0, "business_id"), biz);
		}
		it_str_eq(it_col(res, 0, "h"), hex);
		snprintf(want_display, sizeof(want_display), "%.8s%s", tok, tok + 42);
		it_str_eq(it_col(res, 0, "display"), want_display);
		it_str_eq(it_col(res, 0, "label"), "front desk");
		cr_expect_null(it_col(res, 0, "expires_at"));
		cr_expect_null(it_col(res, 0, "revoked_at"));
		cr_expect_null(it_col(res, 0, "last_used_at"));
		cr_expect_null(it_col(res, 0, "allowed_origins"));
		it_str_eq(it_col(res, 0, "fresh"), "t");
		PQclear(res);

		/* neither the token nor its random part is in any column of any key */
		res = it_query("SELECT count(*) FROM calendence.api_keys k "
		    "WHERE strpos(k::text, $1) > 0 OR strpos(k::text, substr($1, 9, 32)) > 0 "
		    "OR strpos(k::text, substr($1, 9, 12)) > 0", tok, NULL);
		it_str_eq(PQgetvalue(res, 0, 0), "0", "plaintext stored: %s", tok);
		PQclear(res);
		free(hex);
		free(tok);
	}
	free(biz);
	free(hub);
}

Test(dba, issue_key_stores_its_expiry)
{
	char	*hub = fx_hub("pro"), *tok, *ok;

	tok = fx_value("SELECT calendence.issue_key('hub', $1, NULL, "
	    "'2031-05-06T07:08:09+00:00')", hub, NULL);
	ok = fx_value("SELECT expires_at = '2031-05-06T07:08:09+00:00' AND label IS NULL "
	    "FROM calendence.api_keys WHERE token_hash = calendence.token_hash($1)", tok, NULL);
	it_str_eq(ok, "t");
	free(ok);
	free(tok);
	free(hub);
}

Test(dba, issue_key_refuses_a_wrong_or_unknown_owner)
{
	char	*hub = fx_hub("pro"), *biz = fx_business(hub, NULL), *n;

	expect_state(it_sqlstate("SELECT calendence.issue_key('business', $1)", hub, NULL),
	    ST_PARAM, "business key of a hub");
	expect_state(it_sqlstate("SELECT calendence.issue_key('publishable', $1)", hub, NULL),
	    ST_PARAM, "publishable key of a hub");
	expect_state(it_sqlstate("SELECT calendence.issue_key('hub', $1)", biz, NULL),
	    ST_PARAM, "hub key of a business");
	expect_state(it_sqlstate("SELECT calendence.issue_key('hub', gen_random_uuid())", NULL),
	    ST_PARAM, "unknown hub");
	expect_state(it_sqlstate("SELECT calendence.issue_key('business', gen_random_uuid())",
	    NULL), ST_PARAM, "unknown business");
	expect_state(it_sqlstate("SELECT calendence.issue_key('business', NULL)", NULL),
	    ST_PARAM, "NULL owner");
	expect_state(it_sqlstate("SELECT calendence.issue_key('session', $1)", biz, NULL),
	    ST_PARAM, "session keys are made by exchange only");
	expect_state(it_sqlstate("SELECT calendence.issue_key('admin', $1)", hub, NULL),
	    ST_PARAM, "unknown kind");
	expect_state(it_sqlstate("SELECT calendence.issue_key(NULL, $1)", hub, NULL),
	    ST_PARAM, "NULL kind");
	/* none of the refusals left a key behind */
	n = fx_value("SELECT count(*) FROM calendence.api_keys WHERE hub_id = $1 "
	    "OR business_id = $2", hub, biz, NULL);
	it_str_eq(n, "0");
	free(n);
	free(biz);
	free(hub);
}

/* ---- the owner/kind CHECKs hold for a DBA's own INSERT too ---- */

Test(dba, api_keys_check_forbids_an_owner_that_does_not_match_the_kind)
{
	static const struct {
		const char	*what;
		const char	*sql;
	} rows[] = {
		{ "hub key owned by a business",
		  "INSERT INTO calendence.api_keys (kind, hub_id, business_id, token_hash, display) "
		  "VALUES ('hub', NULL, $2::uuid, gen_random_bytes(32), 'cal_hub_abcd')" },
		{ "hub key with both owners",
		  "INSERT INTO calendence.api_keys (kind, hub_id, business_id, token_hash, display) "
		  "VALUES ('hub', $1::uuid, $2::uuid, gen_random_bytes(32), 'cal_hub_abcd')" },
		{ "business key owned by a hub",
		  "INSERT INTO calendence.api_keys (kind, hub_id, business_id, token_hash, display) "
		  "VALUES ('business', $1::uuid, NULL, gen_random_bytes(32), 'cal_biz_abcd')" },
		{ "publishable key without an owner",
		  "INSERT INTO calendence.api_keys (kind, hub_id, business_id, token_hash, display) "
		  "VALUES ('publishable', NULL, NULL, gen_random_bytes(32), 'cal_pub_abcd')" },
		{ "display of another kind",
		  "INSERT INTO calendence.api_keys (kind, hub_id, business_id, token_hash, display) "
		  "VALUES ('hub', $1::uuid, NULL, gen_random_bytes(32), 'cal_biz_abcd')" },
		{ "display revealing more than 4 characters",
		  "INSERT INTO calendence.api_keys (kind, hub_id, business_id, token_hash, display) "
		  "VALUES ('hub', $1::uuid, NULL, gen_random_bytes(32), 'cal_hub_abcde')" },
		{ "session kind in api_keys",
		  "INSERT INTO calendence.api_keys (kind, hub_id, business_id, token_hash, display) "
		  "VALUES ('session', NULL, $2::uuid, gen_random_bytes(32), 'cal_ses_abcd')" },
		{ "origins on a hub key",
		  "INSERT INTO calendence.api_keys (kind, hub_id, token_hash, display, "
		  "allowed_origins) VALUES ('hub', $1::uuid, gen_random_bytes(32), 'cal_hub_abcd', "
		  "'{https://a.example}')" },
		{ "UPDATE moving a hub key to a business",
		  "UPDATE calendence.api_keys SET business_id = $2::uuid WHERE hub_id = $1::uuid" },
	};
	char		*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char		*tok = fx_key("hub", hub);
	const char	*params[2] = { hub, biz };
	size_t		 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		expect_state(it_sqlstatev(rows[i].sql, 2, params), ST_CHECK, "%s", rows[i].what);
	free(tok);
	free(biz);
	free(hub);
}

/* ---- revoke_key and the trigger that ends sessions ---- */

struct revoke_setup {
	char			*hub, *biz, *pk, *pk_id, *other_pk, *other_pk_id;
	struct it_session	 live[2], ended, other;
};

static void
revoke_setup(struct revoke_setup *s)
{
	s->hub = fx_hub("pro");
	s->biz = fx_business(s->hub, NULL);
	s->pk = fx_key("publishable", s->biz);
	s->pk_id = fx_key_id(s->pk);
	s->other_pk = fx_key("publishable", s->biz);
	s->other_pk_id = fx_key_id(s->other_pk);
	it_session_new(&s->live[0], s->biz, s->pk_id, NULL);
	it_session_new(&s->live[1], s->biz, s->pk_id, s->live[0].id);
	it_session_new(&s->ended, s->biz, s->pk_id, NULL);
	fx_exec("UPDATE calendence.sessions SET revoked_at = '2020-01-02T03:04:05Z' "
	    "WHERE id = $1", s->ended.id, NULL);
	it_session_new(&s->other, s->biz, s->other_pk_id, NULL);
}

static void
revoke_teardown(struct revoke_setup *s)
{
	it_session_free(&s->live[0]);
	it_session_free(&s->live[1]);
	it_session_free(&s->ended);
	it_session_free(&s->other);
	free(s->hub), free(s->biz), free(s->pk), free(s->pk_id);
	free(s->other_pk), free(s->other_pk_id);
}

/* The sessions of 'pk_id' are ended at the key's revoked_at; the others untouched. */
static void
expect_sessions_ended(struct revoke_setup *s)
{
	char		*v;
	PGresult	*res;
	int		 i;

	for (i = 0; i < 2; i++) {
		v = fx_value("SELECT s.revoked_at = k.revoked_at FROM calendence.sessions s "
		    "JOIN calendence.api_keys k ON k.id = s.publishable_key_id WHERE s.id = $1",
		    s->live[i].id, NULL);
		it_str_eq(v, "t", "live session %d ended at the key's revocation", i);
		free(v);
		res = it_auth(s->live[i].token, "session", 0, "192.0.2.1", NULL, NULL, 1000);
		it_str_eq(it_col(res, 0, "status"), "session_expired");
		PQclear(res);
	}
	v = fx_value("SELECT revoked_at = '2020-01-02T03:04:05Z' FROM calendence.sessions "
	    "WHERE id = $1", s->ended.id, NULL);
	it_str_eq(v, "t", "an already ended session keeps its end");
	free(v);
	v = fx_value("SELECT revoked_at IS NULL FROM calendence.sessions WHERE id = $1",
	    s->other.id, NULL);
	it_str_eq(v, "t", "a session of another key lives on");
	free(v);
	res = it_auth(s->other.token, "session", 0, "192.0.2.1", NULL, NULL, 1000);
	it_str_eq(it_col(res, 0, "status"), "ok");
	PQclear(res);
}

Test(dba, revoke_key_sets_revoked_at_and_ends_the_sessions)
{
	struct revoke_setup	 s;
	char			*v, *first;
	PGresult		*res;

	revoke_setup(&s);
	fx_exec("SELECT calendence.revoke_key($1)", s.pk_id, NULL);
	v = fx_value("SELECT abs(extract(epoch FROM revoked_at - now())) < 1 "
	    "FROM calendence.api_keys WHERE id = $1", s.pk_id, NULL);
	it_str_eq(v, "t");
	free(v);
	expect_sessions_ended(&s);
	res = it_auth(s.pk, "publishable", 1, "192.0.2.1", NULL, NULL, 1000);
	it_str_eq(it_col(res, 0, "status"), "revoked");
	PQclear(res);

	/* revoking again changes nothing and is no error */
	first = fx_value("SELECT revoked_at FROM calendence.api_keys WHERE id = $1", s.pk_id,
	    NULL);
	fx_exec("SELECT calendence.revoke_key($1)", s.pk_id, NULL);
	v = fx_value("SELECT revoked_at FROM calendence.api_keys WHERE id = $1", s.pk_id, NULL);
	it_str_eq(v, first);
	free(v);
	free(first);
	expect_state(it_sqlstate("SELECT calendence.revoke_key(gen_random_uuid())", NULL),
	    ST_PARAM, "unknown key");
	revoke_teardown(&s);
}

Test(dba, plain_update_of_revoked_at_ends_the_sessions)
{
	struct revoke_setup	s;

	revoke_setup(&s);
	fx_exec("UPDATE calendence.api_keys SET revoked_at = now() WHERE id = $1", s.pk_id,
	    NULL);
	expect_sessions_ended(&s);
	revoke_teardown(&s);
}

Test(dba, revoke_key_of_a_business_or_hub_key)
{
	char		*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char		*hk = fx_key("hub", hub), *bk = fx_key("business", biz);
	char		*hk_id = fx_key_id(hk), *bk_id = fx_key_id(bk);
	PGresult	*res;

	res = it_auth(bk, "business", 0, "192.0.2.1", NULL, NULL, 1000);
	it_str_eq(it_col(res, 0, "status"), "ok");
	PQclear(res);
	fx_exec("SELECT calendence.revoke_key($1)", hk_id, NULL);
	fx_exec("SELECT calendence.revoke_key($1)", bk_id, NULL);
	res = it_auth(hk, "hub", 0, "192.0.2.1", biz, NULL, 1000);
	it_str_eq(it_col(res, 0, "status"), "revoked");
	PQclear(res);
	res = it_auth(bk, "business", 0, "192.0.2.1", NULL, NULL, 1000);
	it_str_eq(it_col(res, 0, "status"), "revoked");
	PQclear(res);
	free(hk), free(bk), free(hk_id), free(bk_id), free(biz), free(hub);
}

/* ---- roll_key ---- */

Test(dba, roll_key_keeps_kind_owner_label_and_origins)
{
	char		*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char		*old = fx_value("SELECT calendence.issue_key('publishable', $1, 'widget')",
			    biz, NULL);
	char		*old_id = fx_key_id(old), *neu, *neu_id, *v;
	PGresult	*a, *b, *res;
	const char	*cols[] = { "kind", "hub_id", "business_id", "label", "allowed_origins" };
	size_t		 i;

	fx_exec("SELECT calendence.set_allowed_origins($1, "
	    "'{https://shop.example,https://www.shop.example}')", old_id, NULL);
	neu = fx_value("SELECT calendence.roll_key($1, '2 hours')", old_id, NULL);
	cr_assert_not_null(neu);
	cr_expect_str_neq(neu, old);
	cr_expect_eq(strncmp(neu, "cal_pub_", 8), 0, "%s", neu);
	v = fx_value("SELECT calendence.token_valid($1)", neu, NULL);
	it_str_eq(v, "t");
	free(v);
	neu_id = fx_key_id(neu);
	cr_assert_not_null(neu_id, "the new key is stored by its hash");

	a = it_query("SELECT * FROM calendence.api_keys WHERE id = $1", old_id, NULL);
	b = it_query("SELECT * FROM calendence.api_keys WHERE id = $1", neu_id, NULL);
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		const char *x = it_col(a, 0, cols[i]), *y = it_col(b, 0, cols[i]);

		it_str_eq(y ? y : "(null)", x ? x : "(null)", "%s", cols[i]);
	}
	it_str_eq(it_col(b, 0, "allowed_origins"),
	    "{https://shop.example,https://www.shop.example}");
	it_str_eq(it_col(b, 0, "label"), "widget");
	cr_expect_null(it_col(b, 0, "expires_at"));
	cr_expect_null(it_col(b, 0, "revoked_at"));
	cr_expect_null(it_col(a, 0, "revoked_at"), "rolling does not revoke");
	PQclear(a);
	PQclear(b);

	/* the old key expires at now() + grace, to the second */
	v = fx_value("SELECT abs(extract(epoch FROM expires_at - (now() + interval '2 hours'))) "
	    "< 1 FROM calendence.api_keys WHERE id = $1", old_id, NULL);
	it_str_eq(v, "t");
	free(v);
	/* and both work until then */
	res = it_auth(old, "publishable", 0, "192.0.2.1", NULL, NULL, 1000);
	it_str_eq(it_col(res, 0, "status"), "ok");
	PQclear(res);
	res = it_auth(neu, "publishable", 0, "192.0.2.1", NULL, "https://www.shop.example",
	    1000);
	it_str_eq(it_col(res, 0, "status"), "ok");
	it_str_eq(it_col(res, 0, "origin_ok"), "t");
	it_str_eq(it_col(res, 0, "business_id"), biz);
	PQclear(res);
	free(neu), free(neu_id), free(old), free(old_id), free(biz), free(hub);
}

Test(dba, roll_key_default_grace_is_a_day_and_zero_grace_expires_at_once)
{
	char		*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char		*hk = fx_key("hub", hub), *hk_id = fx_key_id(hk);
	char		*bk = fx_key("business", biz), *bk_id = fx_key_id(bk), *n1, *n2, *v;
	PGresult	*res;

	n1 = fx_value("SELECT calendence.roll_key($1)", hk_id, NULL);
	cr_expect_eq(strncmp(n1, "cal_hub_", 8), 0);
	v = fx_value("SELECT abs(extract(epoch FROM expires_at - (now() + interval '24 hours')))"
	    " < 1 FROM calendence.api_keys WHERE id = $1", hk_id, NULL);
	it_str_eq(v, "t");
	free(v);
	v = fx_value("SELECT hub_id FROM calendence.api_keys "
	    "WHERE token_hash = calendence.token_hash($1)", n1, NULL);
	it_str_eq(v, hub);
	free(v);

	n2 = fx_value("SELECT calendence.roll_key($1, '0 seconds')", bk_id, NULL);
	cr_expect_eq(strncmp(n2, "cal_biz_", 8), 0);
	res = it_auth(bk, "business", 0, "192.0.2.1", NULL, NULL, 1000);
	it_str_eq(it_col(res, 0, "status"), "expired");
	PQclear(res);
	res = it_auth(n2, "business", 0, "192.0.2.1", NULL, NULL, 1000);
	it_str_eq(it_col(res, 0, "status"), "ok");
	PQclear(res);
	free(n1), free(n2), free(hk), free(hk_id), free(bk), free(bk_id), free(biz), free(hub);
}

Test(dba, roll_key_never_extends_an_earlier_expiry)
{
	char	*hub = fx_hub("pro"), *tok, *id, *n, *v;

	tok = fx_value("SELECT calendence.issue_key('hub', $1, NULL, now() + interval '1 hour')",
	    hub, NULL);
	id = fx_key_id(tok);
	v = fx_value("SELECT expires_at FROM calendence.api_keys WHERE id = $1", id, NULL);
	n = fx_value("SELECT calendence.roll_key($1, '24 hours')", id, NULL);
	free(n);
	n = fx_value("SELECT expires_at FROM calendence.api_keys WHERE id = $1", id, NULL);
	it_str_eq(n, v);
	free(n), free(v), free(id), free(tok), free(hub);
}

Test(dba, roll_key_refuses_revoked_unknown_and_negative_grace)
{
	char	*hub = fx_hub("pro"), *tok = fx_key("hub", hub), *id = fx_key_id(tok), *n;

	expect_state(it_sqlstate("SELECT calendence.roll_key($1, '-1 hour')", id, NULL),
	    ST_PARAM, "negative grace");
	expect_state(it_sqlstate("SELECT calendence.roll_key($1, NULL)", id, NULL),
	    ST_PARAM, "NULL grace");
	expect_state(it_sqlstate("SELECT calendence.roll_key(gen_random_uuid())", NULL),
	    ST_PARAM, "unknown key");
	fx_exec("SELECT calendence.revoke_key($1)", id, NULL);
	expect_state(it_sqlstate("SELECT calendence.roll_key($1)", id, NULL), ST_PARAM,
	    "revoked key");
	/* no replacement was issued by any refusal */
	n = fx_value("SELECT count(*) FROM calendence.api_keys WHERE hub_id = $1", hub, NULL);
	it_str_eq(n, "1");
	free(n), free(id), free(tok), free(hub);
}

/* ---- set_allowed_origins ---- */

Test(dba, set_allowed_origins_only_on_publishable_keys)
{
	char	*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char	*hk = fx_key("hub", hub), *bk = fx_key("business", biz);
	char	*pk = fx_key("publishable", biz);
	char	*hk_id = fx_key_id(hk), *bk_id = fx_key_id(bk), *pk_id = fx_key_id(pk), *v;

	fx_exec("SELECT calendence.set_allowed_origins($1, '{https://a.example}')", pk_id, NULL);
	v = fx_value("SELECT allowed_origins FROM calendence.api_keys WHERE id = $1", pk_id,
	    NULL);
	it_str_eq(v, "{https://a.example}");
	free(v);
	expect_state(it_sqlstate("SELECT calendence.set_allowed_origins($1, "
	    "'{https://a.example}')", hk_id, NULL), ST_CHECK, "hub key");
	expect_state(it_sqlstate("SELECT calendence.set_allowed_origins($1, "
	    "'{https://a.example}')", bk_id, NULL), ST_CHECK, "business key");
	expect_state(it_sqlstate("SELECT calendence.set_allowed_origins($1, '{}')", bk_id,
	    NULL), ST_CHECK, "business key, empty list");
	expect_state(it_sqlstate("SELECT calendence.set_allowed_origins(gen_random_uuid(), "
	    "'{https://a.example}')", NULL), ST_PARAM, "unknown key");
	v = fx_value("SELECT count(*) FROM calendence.api_keys WHERE id IN ($1, $2) "
	    "AND allowed_origins IS NOT NULL", hk_id, bk_id, NULL);
	it_str_eq(v, "0");
	free(v);
	/* NULL: any origin again */
	fx_exec("SELECT calendence.set_allowed_origins($1, NULL)", pk_id, NULL);
	v = fx_value("SELECT allowed_origins IS NULL FROM calendence.api_keys WHERE id = $1",
	    pk_id, NULL);
	it_str_eq(v, "t");
	free(v);
	free(hk), free(bk), free(pk), free(hk_id), free(bk_id), free(pk_id), free(biz);
	free(hub);
}

/* Origins are stored as browsers send them; anything else is refused. */
Test(dba, set_allowed_origins_normalises_and_refuses_what_no_browser_sends)
{
	static const char *const bad[] = {
		"https://shop.example/path", "https://shop.example/?q=1", "null", "shop.example",
		"https://user@shop.example", "https://shop.example:0", "https://shop.example:65536",
		"https://shop.example#top", "https://", "", "https://shop .example",
	};
	char	*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char	*pk = fx_key("publishable", biz), *id = fx_key_id(pk), *v;
	size_t	 i;

	fx_exec("SELECT calendence.set_allowed_origins($1, '{HTTPS://Shop.Example/, "
	    "https://shop.example:443, http://LOCALHOST:8080, http://[::1]:80, "
	    "https://shop.example:8443/}')", id, NULL);
	v = fx_value("SELECT allowed_origins FROM calendence.api_keys WHERE id = $1", id, NULL);
	it_str_eq(v, "{https://shop.example,http://localhost:8080,http://[::1],"
	    "https://shop.example:8443}", "lower case, no slash, default ports dropped, once each");
	free(v);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_state(it_sqlstate("SELECT calendence.set_allowed_origins($1, "
		    "ARRAY['https://ok.example', $2])", id, bad[i], NULL), ST_PARAM, "\"%s\"",
		    bad[i]);
	v = fx_value("SELECT allowed_origins FROM calendence.api_keys WHERE id = $1", id, NULL);
	it_str_eq(v, "{https://shop.example,http://localhost:8080,http://[::1],"
	    "https://shop.example:8443}", "a refusal changes nothing");
	free(v), free(id), free(pk), free(biz), free(hub);
}

/* ---- create_service ---- */

Test(dba, create_service_with_defaults_and_with_everything)
{
	char		*hub = fx_hub("pro"), *biz = fx_business(hub, NULL), *id;
	PGresult	*res;

	id = fx_value("SELECT calendence.create_service($1, 'Basic Wash', 45, 2500)", biz, NULL);
	res = it_query("SELECT business_id, name, duration_min, duration_max, rate, rate_type, "
	    "deposit_type, deposit_amount, buffer_before_min, buffer_after_min, is_active, "
	    "required_skills, resource_type FROM calendence.services WHERE id = $1", id, NULL);
	cr_assert_eq(PQntuples(res), 1);
	it_str_eq(it_col(res, 0, "business_id"), biz);
	it_str_eq(it_col(res, 0, "name"), "Basic Wash");
	it_str_eq(it_col(res, 0, "duration_min"), "45");
	it_str_eq(it_col(res, 0, "duration_max"), "45", "no maximum: the minimum");
	it_str_eq(it_col(res, 0, "rate"), "2500");
	it_str_eq(it_col(res, 0, "rate_type"), "flat");
	it_str_eq(it_col(res, 0, "deposit_type"), "none");
	it_str_eq(it_col(res, 0, "deposit_amount"), "0");
	it_str_eq(it_col(res, 0, "buffer_before_min"), "0");
	it_str_eq(it_col(res, 0, "is_active"), "t");
	it_str_eq(it_col(res, 0, "required_skills"), "{}");
	cr_expect_null(it_col(res, 0, "resource_type"));
	PQclear(res);
	free(id);

	id = fx_value("SELECT calendence.create_service($1, 'Full Detail', 120, 9000, 240, "
	    "'hourly', 'percentage', 2500, 10, 15, 'Inside and out', 'Detailing', "
	    "'{detail,wash}', 'bay')", biz, NULL);
	res = it_query("SELECT concat_ws('|', duration_min, duration_max, rate, rate_type, "
	    "deposit_type, deposit_amount, buffer_before_min, buffer_after_min, description, "
	    "category, required_skills, resource_type) AS v FROM calendence.services "
	    "WHERE id = $1", id, NULL);
	it_str_eq(it_col(res, 0, "v"), "120|240|9000|hourly|percentage|2500|10|15|"
	    "Inside and out|Detailing|{detail,wash}|bay");
	PQclear(res);
	free(id), free(biz), free(hub);
}

/* Each bad argument: 22023 with a sentence, and no row. $1 is the business. */
static const struct {
	const char	*sql;
	const char	*what;
} bad_services[] = {
	{ "SELECT calendence.create_service(md5($1)::uuid, 'X', 30, 100)", "no business" },
	{ "SELECT calendence.create_service(nullif($1::uuid, $1), 'X', 30, 100)",
	    "NULL business" },
	{ "SELECT calendence.create_service($1, '  ', 30, 100)", "blank name" },
	{ "SELECT calendence.create_service($1, NULL, 30, 100)", "no name" },
	{ "SELECT calendence.create_service($1, repeat('x', 201), 30, 100)", "long name" },
	{ "SELECT calendence.create_service($1, 'X', 0, 100)", "zero minutes" },
	{ "SELECT calendence.create_service($1, 'X', NULL, 100)", "no duration" },
	{ "SELECT calendence.create_service($1, 'X', 60, 100, 30)", "max below min" },
	{ "SELECT calendence.create_service($1, 'X', 30, -1)", "negative rate" },
	{ "SELECT calendence.create_service($1, 'X', 30, NULL)", "no rate" },
	{ "SELECT calendence.create_service($1, 'X', 30, 100, rate_type => 'daily')",
	    "rate type" },
	{ "SELECT calendence.create_service($1, 'X', 30, 100, deposit_type => 'some')",
	    "deposit type" },
	{ "SELECT calendence.create_service($1, 'X', 30, 100, deposit_amount => 5)",
	    "deposit without a type" },
	{ "SELECT calendence.create_service($1, 'X', 30, 100, deposit_type => 'percentage', "
	    "deposit_amount => 10001)", "over 100 %" },
	{ "SELECT calendence.create_service($1, 'X', 30, 100, deposit_type => 'flat', "
	    "deposit_amount => -5)", "negative deposit" },
	{ "SELECT calendence.create_service($1, 'X', 30, 100, buffer_before_min => -1)",
	    "negative buffer" },
	{ "SELECT calendence.create_service($1, 'X', 30, 100, description => repeat('x', 5001))",
	    "long description" },
	{ "SELECT calendence.create_service($1, 'X', 30, 100, skills => '{Detail}')",
	    "skill in capitals" },
	{ "SELECT calendence.create_service($1, 'X', 30, 100, skills => '{NULL}')", "NULL skill" },
	{ "SELECT calendence.create_service($1, 'X', 30, 100, resource_type => 'Bay 1')",
	    "resource type" },
};

Test(dba, create_service_refuses_each_bad_argument_with_a_sentence)
{
	char	*hub = fx_hub("pro"), *biz = fx_business(hub, NULL), *n;
	size_t	 i;

	for (i = 0; i < sizeof(bad_services) / sizeof(bad_services[0]); i++)
		expect_state(it_sqlstate(bad_services[i].sql, biz, NULL), ST_PARAM, "%s",
		    bad_services[i].what);
	n = fx_value("SELECT count(*) FROM calendence.services WHERE business_id = $1", biz,
	    NULL);
	it_str_eq(n, "0");
	free(n), free(biz), free(hub);
}
