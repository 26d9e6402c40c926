/* invariants.c: the schema itself refuses what the C code relies on never seeing. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

/*
 * One statement and the SQLSTATE it must end with ("" when it must succeed).
 * Parameters, all text: $1 a business, $2 its hub (on a plan of its own),
 * $3 a publishable key id of the business, $4 hex of an existing key's
 * token_hash, $5 hex of an existing session's token_hash, $6 the business's
 * slug.
 */
struct row {
	const char	*what;
	const char	*state;
	const char	*sql;
};

#define SVC_INSERT \
	"INSERT INTO calendence.services (business_id, name, duration_min, duration_max, " \
	"rate, rate_type, deposit_type, deposit_amount, custom_fields) VALUES ($1::uuid, "
#define FIELD(type, req, opts) \
	"'[{\"id\": \"f1\", \"label\": \"Car\", \"type\": \"" type "\", \"required\": " req \
	", \"options\": " opts "}]'"

static const struct row services_rows[] = {
	{ "valid text field", "", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, " FIELD("text", "true", "[]") ")" },
	{ "valid select field", "", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, " FIELD("select", "false", "[\"a\", \"b\"]") ")" },
	{ "no custom fields", "", SVC_INSERT "'S', 30, 30, 1000, 'flat', 'none', 0, '[]')" },
	{ "field type number", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, " FIELD("number", "true", "[]") ")" },
	{ "field type TEXT", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, " FIELD("TEXT", "true", "[]") ")" },
	{ "required as a string", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, " FIELD("text", "\"yes\"", "[]") ")" },
	{ "options not a list", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, " FIELD("select", "true", "{}") ")" },
	{ "field without an id", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, "
	  "'[{\"label\": \"Car\", \"type\": \"text\", \"required\": true, \"options\": []}]')" },
	{ "field without a label", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, "
	  "'[{\"id\": \"f1\", \"type\": \"text\", \"required\": true, \"options\": []}]')" },
	{ "field without a type", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, "
	  "'[{\"id\": \"f1\", \"label\": \"Car\", \"required\": true, \"options\": []}]')" },
	{ "field without required", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, "
	  "'[{\"id\": \"f1\", \"label\": \"Car\", \"type\": \"text\", \"options\": []}]')" },
	{ "field without options", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, "
	  "'[{\"id\": \"f1\", \"label\": \"Car\", \"type\": \"text\", \"required\": true}]')" },
	{ "an empty field", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, '[{}]')" },
	{ "a null field", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, '[null]')" },
	{ "a valid field, then one without an id", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, '[{\"id\": \"f1\", \"label\": \"Car\", "
	  "\"type\": \"text\", \"required\": true, \"options\": []}, {\"label\": \"X\", "
	  "\"type\": \"text\", \"required\": true, \"options\": []}]')" },
	{ "a field that is not an object", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, '[\"text\"]')" },
	{ "custom_fields an object", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, '{}')" },
	{ "custom_fields a string", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, '\"text\"')" },
	{ "custom_fields JSON null", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, 'null')" },
	{ "custom_fields NULL", "23502", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 0, NULL)" },
	{ "deposit none with an amount", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'flat', 'none', 100, '[]')" },
	{ "deposit flat 2500 cents", "", SVC_INSERT
	  "'S', 30, 30, 5000, 'flat', 'flat', 2500, '[]')" },
	{ "deposit percentage 100%", "", SVC_INSERT
	  "'S', 30, 30, 5000, 'flat', 'percentage', 10000, '[]')" },
	{ "deposit percentage over 100%", "23514", SVC_INSERT
	  "'S', 30, 30, 5000, 'flat', 'percentage', 10001, '[]')" },
	{ "deposit negative", "23514", SVC_INSERT
	  "'S', 30, 30, 5000, 'flat', 'flat', -1, '[]')" },
	{ "deposit type unknown", "23514", SVC_INSERT
	  "'S', 30, 30, 5000, 'flat', 'full', 0, '[]')" },
	{ "duration_max below duration_min", "23514", SVC_INSERT
	  "'S', 60, 59, 1000, 'flat', 'none', 0, '[]')" },
	{ "duration_max equal to duration_min", "", SVC_INSERT
	  "'S', 60, 60, 1000, 'flat', 'none', 0, '[]')" },
	{ "duration_min zero", "23514", SVC_INSERT
	  "'S', 0, 30, 1000, 'flat', 'none', 0, '[]')" },
	{ "negative rate", "23514", SVC_INSERT
	  "'S', 30, 30, -1, 'flat', 'none', 0, '[]')" },
	{ "rate_type daily", "23514", SVC_INSERT
	  "'S', 30, 30, 1000, 'daily', 'none', 0, '[]')" },
	{ "name NULL", "23502", SVC_INSERT
	  "NULL, 30, 30, 1000, 'flat', 'none', 0, '[]')" },
	{ "blank name", "23514", SVC_INSERT
	  "'   ', 30, 30, 1000, 'flat', 'none', 0, '[]')" },
	{ "unknown business", "23503",
	  "INSERT INTO calendence.services (business_id, name, duration_min, duration_max, rate) "
	  "VALUES (gen_random_uuid(), 'S', 30, 30, 1000)" },
	{ "negative buffer", "23514",
	  "INSERT INTO calendence.services (business_id, name, duration_min, duration_max, rate, "
	  "buffer_before_min) VALUES ($1::uuid, 'S', 30, 30, 1000, -5)" },
};

static const struct row tenancy_rows[] = {
	{ "plan with zero per minute", "23514",
	  "INSERT INTO calendence.plans VALUES ('t_zero_' || md5(random()::text), true, 0, 10, 1)" },
	{ "plan with zero per hour", "23514",
	  "INSERT INTO calendence.plans VALUES ('t_zero_' || md5(random()::text), true, 1, 0, 1)" },
	{ "plan with zero sessions per IP", "23514",
	  "INSERT INTO calendence.plans VALUES ('t_zero_' || md5(random()::text), true, 1, 1, 0)" },
	{ "plan code with capitals", "23514",
	  "INSERT INTO calendence.plans VALUES ('Gold', true, 1, 1, 1)" },
	{ "plan without full_api_access", "23502",
	  "INSERT INTO calendence.plans VALUES ('t_null_' || md5(random()::text), NULL, 1, 1, 1)" },
	{ "hub on an unknown plan", "23503",
	  "INSERT INTO calendence.hubs (name, plan) VALUES ('H', 'no_such_plan')" },
	{ "hub without a plan", "23502",
	  "INSERT INTO calendence.hubs (name, plan) VALUES ('H', NULL)" },
	{ "deleting a plan in use", "23503",
	  "DELETE FROM calendence.plans WHERE code = (SELECT plan FROM calendence.hubs "
	  "WHERE id = $2::uuid)" },
	{ "business of an unknown hub", "23503",
	  "INSERT INTO calendence.businesses (hub_id, name, slug, timezone) "
	  "VALUES (gen_random_uuid(), 'B', 'b-' || md5(random()::text), 'UTC')" },
	{ "business with a duplicate slug", "23505",
	  "INSERT INTO calendence.businesses (hub_id, name, slug, timezone) "
	  "VALUES ($2::uuid, 'B', $6, 'UTC')" },
	{ "business with active NULL", "23502",
	  "UPDATE calendence.businesses SET active = NULL WHERE id = $1::uuid" },
};

static const struct row key_rows[] = {
	{ "key with a duplicate token_hash", "23505",
	  "INSERT INTO calendence.api_keys (kind, hub_id, token_hash, display) "
	  "VALUES ('hub', $2::uuid, decode($4, 'hex'), 'cal_hub_abcd')" },
	{ "key with a 31-byte hash", "23514",
	  "INSERT INTO calendence.api_keys (kind, hub_id, token_hash, display) "
	  "VALUES ('hub', $2::uuid, gen_random_bytes(31), 'cal_hub_abcd')" },
	{ "key without a hash", "23502",
	  "INSERT INTO calendence.api_keys (kind, hub_id, token_hash, display) "
	  "VALUES ('hub', $2::uuid, NULL, 'cal_hub_abcd')" },
	{ "key of kind HUB", "23514",
	  "INSERT INTO calendence.api_keys (kind, hub_id, token_hash, display) "
	  "VALUES ('HUB', $2::uuid, gen_random_bytes(32), 'cal_hub_abcd')" },
	{ "key with a 201-character label", "23514",
	  "INSERT INTO calendence.api_keys (kind, hub_id, token_hash, display, label) "
	  "VALUES ('hub', $2::uuid, gen_random_bytes(32), 'cal_hub_abcd', repeat('x', 201))" },
	{ "session with a duplicate token_hash", "23505",
	  "INSERT INTO calendence.sessions (token_hash, business_id, publishable_key_id, "
	  "root_session_id, expires_at) VALUES (decode($5, 'hex'), $1::uuid, $3::uuid, "
	  "gen_random_uuid(), now() + interval '1 hour')" },
	{ "a valid session", "",
	  "INSERT INTO calendence.sessions (token_hash, business_id, publishable_key_id, "
	  "root_session_id, expires_at) VALUES (gen_random_bytes(32), $1::uuid, $3::uuid, "
	  "gen_random_uuid(), now() + interval '1 hour')" },
	{ "session expiring at its creation", "23514",
	  "INSERT INTO calendence.sessions (token_hash, business_id, publishable_key_id, "
	  "root_session_id, created_at, expires_at) VALUES (gen_random_bytes(32), $1::uuid, "
	  "$3::uuid, gen_random_uuid(), now(), now())" },
	{ "session of an unknown publishable key", "23503",
	  "INSERT INTO calendence.sessions (token_hash, business_id, publishable_key_id, "
	  "root_session_id, expires_at) VALUES (gen_random_bytes(32), $1::uuid, "
	  "gen_random_uuid(), gen_random_uuid(), now() + interval '1 hour')" },
	{ "session of an unknown business", "23503",
	  "INSERT INTO calendence.sessions (token_hash, business_id, publishable_key_id, "
	  "root_session_id, expires_at) VALUES (gen_random_bytes(32), gen_random_uuid(), "
	  "$3::uuid, gen_random_uuid(), now() + interval '1 hour')" },
	{ "session without a root", "23502",
	  "INSERT INTO calendence.sessions (token_hash, business_id, publishable_key_id, "
	  "expires_at) VALUES (gen_random_bytes(32), $1::uuid, $3::uuid, "
	  "now() + interval '1 hour')" },
	{ "session with a 33-byte hash", "23514",
	  "INSERT INTO calendence.sessions (token_hash, business_id, publishable_key_id, "
	  "root_session_id, expires_at) VALUES (gen_random_bytes(33), $1::uuid, $3::uuid, "
	  "gen_random_uuid(), now() + interval '1 hour')" },
	{ "rate window without a count", "23502",
	  "INSERT INTO calendence.rate_windows VALUES ('t:' || md5(random()::text), 0, NULL, 0, 0)" },
};

/* Runs every row against a fresh hub, business, publishable key and session. */
static void
run_rows(const struct row *rows, size_t n)
{
	char			*plan = fx_plan(60, 1000, 20, 1);
	char			*hub = fx_hub(plan), *biz = fx_business(hub, NULL);
	char			*pk = fx_key("publishable", biz), *pk_id = fx_key_id(pk);
	char			*key_hex = it_hash_hex(pk), *slug, *st, *ses_hex;
	struct it_session	 s;
	const char		*params[6];
	size_t			 i;

	it_session_new(&s, biz, pk_id, NULL);
	slug = fx_value("SELECT slug FROM calendence.businesses WHERE id = $1", biz, NULL);
	params[0] = biz, params[1] = hub, params[2] = pk_id, params[3] = key_hex;
	ses_hex = it_hash_hex(s.token);
	params[4] = ses_hex, params[5] = slug;
	for (i = 0; i < n; i++) {
		st = it_sqlstatev(rows[i].sql, 6, params);
		it_str_eq(st ? st : "", rows[i].state, "%s: got SQLSTATE '%s'",
		    rows[i].what, st ? st : "(success)");
		free(st);
	}
	free(ses_hex);
	it_session_free(&s);
	free(slug), free(key_hex), free(pk_id), free(pk), free(biz), free(hub), free(plan);
}

Test(invariants, services)
{
	run_rows(services_rows, sizeof(services_rows) / sizeof(services_rows[0]));
}

Test(invariants, plans_hubs_businesses)
{
	run_rows(tenancy_rows, sizeof(tenancy_rows) / sizeof(tenancy_rows[0]));
}

Test(invariants, keys_sessions_windows)
{
	run_rows(key_rows, sizeof(key_rows) / sizeof(key_rows[0]));
}

/* Many keys issued at once: every one has its own hash. */
Test(invariants, issue_key_makes_distinct_hashes)
{
	char	*hub = fx_hub("pro"), *n;

	fx_exec("SELECT calendence.issue_key('hub', $1) FROM generate_series(1, 200)", hub,
	    NULL);
	n = fx_value("SELECT count(DISTINCT token_hash) FROM calendence.api_keys "
	    "WHERE hub_id = $1", hub, NULL);
	it_str_eq(n, "200");
	free(n);
	free(hub);
}
