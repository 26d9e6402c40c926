/*
 * e2e_webhooks.c: SPEC 11, the management endpoints of webhooks through the
 * web server: making one (its secret shown once, stored sealed), validation,
 * the limit of 10, the list, one webhook, deleting, the delivery log that
 * bookings fill, sending a delivery again, and every plan. No sender runs
 * during these tests: deliveries stay pending. Every test deletes the
 * webhooks of its businesses when it ends (.fini), so that the senders of a
 * later suite find nothing of them; their URLs are under .invalid anyway.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"
#include "api.h"
#include "seal.h"

#define HOOKS		"/api/v1/webhooks"
#define UUID_RE		"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
#define TIME_RE		"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\+00:00$"
#define SECRET_RE	"^whsec_[0-9A-Za-z]{32}$"
#define EVENT_ID_RE	"^evt_[0-9a-f]{32}$"
#define CREATED		"[\"booking.created\"]"

/* The members of a webhook and of a delivery, in the order they are written. */
static const char *const hook_members[] = { "id", "url", "events", "description",
	"active", "created_at", "secret", NULL };
static const char *const shown_members[] = { "id", "url", "events", "description",
	"active", "created_at", NULL };
static const char *const delivery_members[] = { "id", "event_id", "event", "status",
	"attempts", "last_status_code", "last_error", "next_attempt_at", "created_at",
	"delivered_at", NULL };

/* --- clean-up: the businesses of this test's process --- */

static char	 owned[8][40];
static int	 nowned;

static void
own(const char *biz)
{
	cr_assert_lt(nowned, 8);
	snprintf(owned[nowned++], sizeof(owned[0]), "%s", biz);
}

/* .fini of every test: no webhook (and so no pending delivery) is left behind. */
static void
drop_webhooks(void)
{
	int	 i;

	for (i = 0; i < nowned; i++)
		fx_exec("DELETE FROM calendence.webhooks WHERE business_id = $1", owned[i],
		    NULL);
	nowned = 0;
}

/* --- tenants --- */

/*
 * A hub on a plan of its own (roomy rate limits, full API access or not),
 * a business of it, a business key and a hub key.
 */
struct tenant {
	char	*plan;
	char	*hub;
	char	*biz;
	char	*key;		/* business key */
	char	*hub_key;
};

static char *
roomy_plan(int full_access)
{
	return fx_plan(1000, 20000, 20, full_access);
}

static void
tenant_open(struct tenant *t, int full_access)
{
	t->plan = roomy_plan(full_access);
	t->hub = fx_hub(t->plan);
	t->biz = fx_business(t->hub, NULL);
	t->key = fx_key("business", t->biz);
	t->hub_key = fx_key("hub", t->hub);
	own(t->biz);
}

/* Another business of the same hub, with its own business key. */
static void
tenant_sibling(const struct tenant *t, struct tenant *s)
{
	s->plan = strdup(t->plan);
	s->hub = strdup(t->hub);
	s->biz = fx_business(t->hub, NULL);
	s->key = fx_key("business", s->biz);
	s->hub_key = strdup(t->hub_key);
	own(s->biz);
}

static void
tenant_close(struct tenant *t)
{
	free_all(t->plan, t->hub, t->biz, t->key, t->hub_key, NULL);
	memset(t, 0, sizeof(*t));
}

/* --- requests --- */

/*
 * One request with 'token'; 'biz' non-NULL adds Calendence-Business: biz
 * (a hub key's business). Asserts that an answer came.
 */
static void
call(const char *method, const char *path, const char *token, const char *biz,
    const char *body, struct http_resp *r)
{
	char		 hdr[96];
	const char	*extra[] = { hdr, NULL };

	snprintf(hdr, sizeof(hdr), "Calendence-Business: %s", nz(biz));
	cr_assert_eq(http_call(method, path, token, biz != NULL ? extra : NULL, body, r), 0,
	    "%s %s: no answer", method, path);
}

static void
hook_path(char *out, size_t len, const char *id, const char *suffix)
{
	snprintf(out, len, HOOKS "/%s%s", id, suffix != NULL ? suffix : "");
}

/*
 * POST /api/v1/webhooks {url, events (JSON), description (JSON, or NULL:
 * left out)} with token (and biz for a hub key); asserts 201 and returns the
 * webhook's id, its secret into *secret when secret is not NULL.
 */
static char *
hook_make(const char *token, const char *biz, const char *url, const char *events,
    const char *description, char **secret)
{
	struct http_resp	 r;
	char			 body[4096], *id;

	snprintf(body, sizeof(body), "{\"url\":\"%s\",\"events\":%s%s%s}", url, events,
	    description != NULL ? ",\"description\":" : "",
	    description != NULL ? description : "");
	call("POST", HOOKS, token, biz, body, &r);
	cr_assert_eq(r.status, 201, "create: %d %.500s", r.status, r.body);
	cr_assert(matches(jstr(r.json, "id"), UUID_RE), "%.500s", r.body);
	id = strdup(jstr(r.json, "id"));
	cr_assert_not_null(id);
	if (secret != NULL) {
		cr_assert(matches(jstr(r.json, "secret"), SECRET_RE), "%.500s", r.body);
		*secret = strdup(jstr(r.json, "secret"));
	}
	http_resp_free(&r);
	return id;
}

/* --- what answers show --- */

/* The members of o are exactly 'names', in that order. */
static void
expect_members(json_object *o, const char *const *names, const char *what)
{
	struct json_object_iterator	 it, end;
	size_t				 i = 0;
	const char			*name;

	cr_assert(o != NULL && json_object_is_type(o, json_type_object), "%s: not an object",
	    what);
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		name = json_object_iter_peek_name(&it);
		cr_expect(names[i] != NULL && strcmp(name, names[i]) == 0,
		    "%s: member %zu is \"%s\", want \"%s\": %s", what, i + 1, name,
		    nz(names[i]), json_object_to_json_string(o));
		if (names[i] != NULL)
			i++;
	}
	cr_expect_null(names[i], "%s: \"%s\" missing: %s", what, nz(names[i]),
	    json_object_to_json_string(o));
}

/* o at path is JSON null (present, not absent). */
static void
expect_null(json_object *o, const char *path, const char *what)
{
	cr_expect(jhas(o, path) && jget(o, path) == NULL, "%s: %s is not null: %s", what,
	    path, json_object_to_json_string(o));
}

/* The events of the webhook o are exactly the JSON array 'want'. */
static void
expect_events(json_object *o, const char *want, const char *what)
{
	json_object	*w = json_tokener_parse(want), *got = jget(o, "events");

	cr_assert_not_null(w);
	cr_expect(got != NULL && json_object_equal(got, w), "%s: events %s, want %s", what,
	    got != NULL ? json_object_to_json_string_ext(got, JSON_C_TO_STRING_PLAIN) :
	    "(none)", want);
	json_object_put(w);
}

/* t (RFC 3339) is within a minute of the database's clock. */
static void
expect_recent(const char *t, const char *what)
{
	char	*ok;

	cr_assert(matches(t, TIME_RE), "%s: time %s", what, nz(t));
	ok = fx_value("SELECT abs(extract(epoch FROM $1::timestamptz - now())) < 60", t, NULL);
	cr_expect_str_eq(nz(ok), "t", "%s: %s is not now", what, t);
	free(ok);
}

/* A webhook as GET shows it: the created one without its secret. */
static void
expect_shown(json_object *shown, json_object *created, const char *what)
{
	json_object	*copy = NULL;

	expect_members(shown, shown_members, what);
	cr_expect_not(jhas(shown, "secret"), "%s: a secret: %s", what,
	    json_object_to_json_string(shown));
	cr_assert_eq(json_object_deep_copy(created, &copy, NULL), 0);
	json_object_object_del(copy, "secret");
	cr_expect(json_object_equal(shown, copy), "%s: %s, created as %s", what,
	    json_object_to_json_string(shown), json_object_to_json_string(copy));
	json_object_put(copy);
}

/* A delivery of the log: every member in order, 'event', and pending untouched. */
static void
expect_pending_delivery(json_object *d, const char *event, const char *what)
{
	expect_members(d, delivery_members, what);
	cr_expect(matches(jstr(d, "id"), UUID_RE), "%s: id %s", what, nz(jstr(d, "id")));
	cr_expect(matches(jstr(d, "event_id"), EVENT_ID_RE), "%s: event_id %s", what,
	    nz(jstr(d, "event_id")));
	cr_expect_str_eq(nz(jstr(d, "event")), event, "%s", what);
	cr_expect_str_eq(nz(jstr(d, "status")), "pending", "%s", what);
	cr_expect(json_object_is_type(jget(d, "attempts"), json_type_int) &&
	    jint(d, "attempts") == 0, "%s: attempts %s", what,
	    json_object_to_json_string(jget(d, "attempts")));
	expect_null(d, "last_status_code", what);
	expect_null(d, "last_error", what);
	cr_expect(matches(jstr(d, "next_attempt_at"), TIME_RE), "%s: next_attempt_at %s",
	    what, nz(jstr(d, "next_attempt_at")));
	expect_recent(jstr(d, "created_at"), what);
	expect_null(d, "delivered_at", what);
}

/* How many webhooks the business has, in the database. */
static long
hook_count(const char *biz)
{
	char	*n = fx_value("SELECT count(*) FROM calendence.webhooks WHERE business_id = $1",
	    biz, NULL);
	long	 v = atol(nz(n));

	free(n);
	return v;
}

static char *
random_uuid(void)
{
	return fx_value("SELECT gen_random_uuid()::text", NULL);
}

/* GET the delivery log of webhook 'id' (query appended, or NULL) into r; asserts 200. */
static void
log_of(const char *token, const char *id, const char *query, struct http_resp *r)
{
	char	 path[256];

	snprintf(path, sizeof(path), HOOKS "/%s/deliveries%s", id, query ? query : "");
	call("GET", path, token, NULL, NULL, r);
	cr_assert_eq(r->status, 200, "deliveries of %s: %d %.500s", id, r->status, r->body);
	expect_common(r, "deliveries");
}

/* How many deliveries the log of webhook 'id' lists (meta.total and data agree). */
static long long
log_total(const char *token, const char *id)
{
	struct http_resp	 r;
	long long		 n;

	log_of(token, id, "?per_page=50", &r);
	n = jint(r.json, "meta.total");
	cr_expect_eq((long long)json_object_array_length(jget(r.json, "data")), n, "%.500s",
	    r.body);
	http_resp_free(&r);
	return n;
}

/* --- making a webhook --- */

Test(webhooks, create_with_a_business_key, .fini = drop_webhooks)
{
	struct tenant		 t;
	struct http_resp	 r, r2;
	char			*row;

	tenant_open(&t, 1);
	/* out of order, repeated: answered once each, in the order of SPEC 11 */
	call("POST", HOOKS, t.key, NULL, "{\"url\":\"https://crm.invalid/hooks/calendence?x=1\","
	    "\"events\":[\"booking.completed\",\"booking.created\",\"booking.cancelled\","
	    "\"booking.completed\",\"booking.created\"],\"description\":\"CRM sync \u00e9\"}",
	    &r);
	expect_common(&r, "create");
	cr_assert_eq(r.status, 201, "%d %.500s", r.status, r.body);
	cr_expect_str_eq(nz(http_header(&r, "Cache-Control")), "no-store");
	expect_members(r.json, hook_members, "create");
	cr_expect(matches(jstr(r.json, "id"), UUID_RE), "id %s", nz(jstr(r.json, "id")));
	cr_expect_str_eq(nz(jstr(r.json, "url")), "https://crm.invalid/hooks/calendence?x=1");
	expect_events(r.json, "[\"booking.created\",\"booking.cancelled\","
	    "\"booking.completed\"]", "create");
	cr_expect_str_eq(nz(jstr(r.json, "description")), "CRM sync \u00e9");
	cr_expect(json_object_is_type(jget(r.json, "active"), json_type_boolean) &&
	    json_object_get_boolean(jget(r.json, "active")), "active: %.500s", r.body);
	expect_recent(jstr(r.json, "created_at"), "create");
	cr_expect(matches(jstr(r.json, "secret"), SECRET_RE), "secret %s",
	    nz(jstr(r.json, "secret")));

	/* in the database: the business's, the events in that order */
	row = fx_value("SELECT concat_ws('|', business_id, url, array_to_string(events, ','), "
	    "description, active) FROM calendence.webhooks WHERE id = $1::uuid",
	    nz(jstr(r.json, "id")), NULL);
	cr_expect(row != NULL && strncmp(row, t.biz, 36) == 0 && strcmp(row + 36,
	    "|https://crm.invalid/hooks/calendence?x=1|booking.created,booking.cancelled,"
	    "booking.completed|CRM sync \u00e9|t") == 0, "row %s", nz(row));
	free(row);

	/* description left out: null; one event */
	call("POST", HOOKS, t.key, NULL, "{\"url\":\"https://crm.invalid/h2\",\"events\":"
	    "[\"booking.updated\"]}", &r2);
	cr_assert_eq(r2.status, 201, "%d %.500s", r2.status, r2.body);
	expect_members(r2.json, hook_members, "without a description");
	expect_null(r2.json, "description", "without a description");
	expect_events(r2.json, "[\"booking.updated\"]", "without a description");
	/* each webhook its own id and secret */
	cr_expect_str_neq(nz(jstr(r2.json, "secret")), nz(jstr(r.json, "secret")));
	cr_expect_str_neq(nz(jstr(r2.json, "id")), nz(jstr(r.json, "id")));
	http_resp_free(&r2);

	/* all four, and an explicit null description */
	call("POST", HOOKS, t.key, NULL, "{\"url\":\"https://crm.invalid/h3\",\"events\":"
	    "[\"booking.updated\",\"booking.completed\",\"booking.cancelled\","
	    "\"booking.created\"],\"description\":null}", &r2);
	cr_assert_eq(r2.status, 201, "%d %.500s", r2.status, r2.body);
	expect_events(r2.json, "[\"booking.created\",\"booking.updated\","
	    "\"booking.cancelled\",\"booking.completed\"]", "all four");
	expect_null(r2.json, "description", "all four");
	http_resp_free(&r2);
	cr_expect_eq(hook_count(t.biz), 3);

	http_resp_free(&r);
	tenant_close(&t);
}

Test(webhooks, create_with_a_hub_key_names_the_business, .fini = drop_webhooks)
{
	struct tenant		 t, other;
	struct http_resp	 r;
	const char		*body = "{\"url\":\"https://hub.invalid/h\",\"events\":" CREATED "}";
	char			*owner;

	tenant_open(&t, 1);
	tenant_open(&other, 1);

	call("POST", HOOKS, t.hub_key, t.biz, body, &r);
	expect_common(&r, "hub key");
	cr_assert_eq(r.status, 201, "%d %.500s", r.status, r.body);
	expect_members(r.json, hook_members, "hub key");
	owner = fx_value("SELECT business_id FROM calendence.webhooks WHERE id = $1::uuid",
	    nz(jstr(r.json, "id")), NULL);
	cr_expect_str_eq(nz(owner), t.biz);
	free(owner);
	http_resp_free(&r);

	/* without the header */
	call("POST", HOOKS, t.hub_key, NULL, body, &r);
	expect_error(&r, 400, "business_required", "Calendence-Business", "no header");
	http_resp_free(&r);
	call("GET", HOOKS, t.hub_key, NULL, NULL, &r);
	expect_error(&r, 400, "business_required", "Calendence-Business", "list, no header");
	http_resp_free(&r);
	/* another hub's business */
	call("POST", HOOKS, t.hub_key, other.biz, body, &r);
	expect_error(&r, 403, "business_not_accessible", NULL, "another hub's business");
	http_resp_free(&r);
	/* a business key naming another business */
	call("POST", HOOKS, t.key, other.biz, body, &r);
	expect_error(&r, 403, "business_not_accessible", NULL, "business key, other header");
	http_resp_free(&r);
	cr_expect_eq(hook_count(t.biz), 1);
	cr_expect_eq(hook_count(other.biz), 0);

	/* an inactive business */
	fx_exec("UPDATE calendence.businesses SET active = false WHERE id = $1", t.biz, NULL);
	call("POST", HOOKS, t.key, NULL, body, &r);
	expect_error(&r, 403, "business_inactive", NULL, "inactive business");
	http_resp_free(&r);
	cr_expect_eq(hook_count(t.biz), 1);

	tenant_close(&other);
	tenant_close(&t);
}

/* 1 when the file at path holds s (0 when it cannot be read). */
static int
file_holds(const char *path, const char *s)
{
	FILE	*f = fopen(path, "rb");
	char	*buf;
	long	 n;
	size_t	 i;
	int	 found;

	if (f == NULL)
		return 0;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	n = (long)fread(buf, 1, (size_t)n, f);
	buf[n] = '\0';
	fclose(f);
	found = 0;
	for (i = 0; !found && i + strlen(s) <= (size_t)n; i++)
		found = memcmp(buf + i, s, strlen(s)) == 0;
	free(buf);
	return found;
}

Test(webhooks, secret_is_shown_once_and_stored_sealed, .fini = drop_webhooks)
{
	struct tenant		 t;
	struct http_resp	 c, r;
	char			 path[128], *v, *box, *other_box, *secret2, *id2;
	const char		*id, *secret, *keyfile = getenv("WEBHOOK_KEY_FILE");
	const char		*data_dir = getenv("PG_DATA_DIR");

	tenant_open(&t, 1);
	call("POST", HOOKS, t.key, NULL, "{\"url\":\"https://once.invalid/h\",\"events\":"
	    CREATED ",\"description\":\"once\"}", &c);
	cr_assert_eq(c.status, 201, "%d %.500s", c.status, c.body);
	id = jstr(c.json, "id");
	secret = jstr(c.json, "secret");
	cr_assert(matches(secret, SECRET_RE), "%.500s", c.body);

	/* never shown again */
	hook_path(path, sizeof(path), id, NULL);
	call("GET", path, t.key, NULL, NULL, &r);
	expect_common(&r, "get");
	cr_assert_eq(r.status, 200, "%d %.500s", r.status, r.body);
	expect_shown(r.json, c.json, "get");
	cr_expect_null(strstr(r.body, secret), "get shows the secret");
	http_resp_free(&r);
	call("GET", HOOKS, t.key, NULL, NULL, &r);
	cr_assert_eq(r.status, 200, "%d %.500s", r.status, r.body);
	expect_shown(jget(r.json, "data.0"), c.json, "list");
	cr_expect_null(strstr(r.body, "whsec_"), "the list shows a secret: %.500s", r.body);
	http_resp_free(&r);

	/* the database holds it sealed: 24-byte nonce, 16-byte tag, 38 bytes */
	v = fx_value("SELECT count(*) FROM calendence.webhooks WHERE position(convert_to($1, "
	    "'UTF8') in secret_box) > 0", secret, NULL);
	cr_expect_str_eq(nz(v), "0", "the plaintext secret is in secret_box");
	free(v);
	v = fx_value("SELECT count(*) FROM calendence.webhooks w WHERE position($1 in "
	    "concat_ws(' ', w.url, w.description, w.events::text, encode(w.secret_box, "
	    "'escape'))) > 0", secret + 6, NULL);
	cr_expect_str_eq(nz(v), "0", "the secret's characters are in a row");
	free(v);
	v = fx_value("SELECT octet_length(secret_box) FROM calendence.webhooks WHERE id = "
	    "$1::uuid", id, NULL);
	cr_expect_str_eq(nz(v), "78");
	free(v);

	/* and it opens, with the server's key, to the secret shown */
	box = fx_value("SELECT secret_box::text FROM calendence.webhooks WHERE id = $1::uuid",
	    id, NULL);
	cr_assert_not_null(box);
	if (keyfile != NULL && *keyfile != '\0') {
		unsigned char	 key[SEAL_KEY_LEN];
		char		 err[256], opened[SEAL_SECRET_LEN + 1];

		cr_assert_eq(sodium_init() >= 0, 1);
		cr_assert_eq(seal_key_load(keyfile, key, err, sizeof(err)), 0, "%s", err);
		cr_expect_eq(seal_open_hex(key, box, opened), 0, "the box does not open");
		cr_expect_str_eq(opened, secret);
		sodium_memzero(key, sizeof(key));
	}

	/* a second webhook: another secret, sealed with another nonce */
	id2 = hook_make(t.key, NULL, "https://once.invalid/h2", CREATED, NULL, &secret2);
	cr_expect_str_neq(secret2, secret);
	other_box = fx_value("SELECT secret_box::text FROM calendence.webhooks WHERE id = "
	    "$1::uuid", id2, NULL);
	cr_expect_str_neq(nz(other_box), box);
	cr_expect_neq(strncmp(nz(other_box), box, 2 + 48), 0, "the same nonce twice");

	/* in no log of the run: the workers' (next to the data directory) and PostgreSQL's */
	if (data_dir != NULL && *data_dir != '\0') {
		char	 logf[1024];

		snprintf(logf, sizeof(logf), "%s/../workers.log", data_dir);
		cr_expect_not(file_holds(logf, secret), "the secret is in %s", logf);
		snprintf(logf, sizeof(logf), "%s/server.log", data_dir);
		cr_expect_not(file_holds(logf, secret), "the secret is in %s", logf);
	}

	free_all(box, other_box, secret2, id2, NULL);
	http_resp_free(&c);
	tenant_close(&t);
}

/* --- validation --- */

/* A body that POST /webhooks refuses, with the member it names. */
struct bad {
	const char	*what;
	const char	*body;
	const char	*param;
};

static const struct bad bad_bodies[] = {
	{ "no body member", "{}", "url" },
	{ "url missing", "{\"events\":" CREATED "}", "url" },
	{ "url null", "{\"url\":null,\"events\":" CREATED "}", "url" },
	{ "url a number", "{\"url\":42,\"events\":" CREATED "}", "url" },
	{ "url an object", "{\"url\":{},\"events\":" CREATED "}", "url" },
	{ "url empty", "{\"url\":\"\",\"events\":" CREATED "}", "url" },
	{ "url without a host", "{\"url\":\"https://\",\"events\":" CREATED "}", "url" },
	{ "url with a space", "{\"url\":\"https://exa mple.com\",\"events\":" CREATED "}",
	    "url" },
	{ "url with a tab", "{\"url\":\"https://example.com/\\tx\",\"events\":" CREATED "}",
	    "url" },
	{ "url ftp", "{\"url\":\"ftp://x\",\"events\":" CREATED "}", "url" },
	{ "url relative", "{\"url\":\"example.com/hooks\",\"events\":" CREATED "}", "url" },
	{ "url with user and password", "{\"url\":\"https://user:pw@example.com/\","
	    "\"events\":" CREATED "}", "url" },
	{ "url with a user", "{\"url\":\"https://user@example.com/\",\"events\":" CREATED "}",
	    "url" },
	{ "events missing", "{\"url\":\"https://v.invalid/h\"}", "events" },
	{ "events null", "{\"url\":\"https://v.invalid/h\",\"events\":null}", "events" },
	{ "events a string", "{\"url\":\"https://v.invalid/h\",\"events\":"
	    "\"booking.created\"}", "events" },
	{ "events an object", "{\"url\":\"https://v.invalid/h\",\"events\":{}}", "events" },
	{ "events empty", "{\"url\":\"https://v.invalid/h\",\"events\":[]}", "events" },
	{ "events unknown", "{\"url\":\"https://v.invalid/h\",\"events\":"
	    "[\"booking.deleted\"]}", "events" },
	{ "events unknown among known", "{\"url\":\"https://v.invalid/h\",\"events\":"
	    "[\"booking.created\",\"booking.deleted\"]}", "events" },
	{ "events in capitals", "{\"url\":\"https://v.invalid/h\",\"events\":"
	    "[\"Booking.Created\"]}", "events" },
	{ "events with a number", "{\"url\":\"https://v.invalid/h\",\"events\":"
	    "[\"booking.created\",1]}", "events" },
	{ "events with null", "{\"url\":\"https://v.invalid/h\",\"events\":[null]}",
	    "events" },
	{ "events nested", "{\"url\":\"https://v.invalid/h\",\"events\":[" CREATED "]}",
	    "events" },
	{ "description a number", "{\"url\":\"https://v.invalid/h\",\"events\":" CREATED
	    ",\"description\":5}", "description" },
	{ "description an object", "{\"url\":\"https://v.invalid/h\",\"events\":" CREATED
	    ",\"description\":{}}", "description" },
};

/* A string of n copies of the UTF-8 character c (malloc'd). */
static char *
repeat(const char *c, size_t n)
{
	size_t	 len = strlen(c), i;
	char	*s = malloc(len * n + 1);

	cr_assert_not_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * len, c, len);
	s[len * n] = '\0';
	return s;
}

/* POST /webhooks of 'body' expecting 422 naming 'param'. */
static void
expect_refused(const char *token, const char *body, const char *param, const char *what)
{
	struct http_resp	 r;

	call("POST", HOOKS, token, NULL, body, &r);
	expect_error(&r, 422, "validation_failed", param, what);
	cr_expect_str_neq(nz(jstr(r.json, "error.message")), "(null)", "%s: no message", what);
	http_resp_free(&r);
}

/* Every refusal of bad_bodies and the long ones, on the server of CALENDENCE_URL. */
static void
refusals(const struct tenant *t, const char *server)
{
	char		 what[160], *s, *body;
	size_t		 i, blen = 8192;

	for (i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
		snprintf(what, sizeof(what), "%s (%s)", bad_bodies[i].what, server);
		expect_refused(t->key, bad_bodies[i].body, bad_bodies[i].param, what);
	}
	body = malloc(blen);
	cr_assert_not_null(body);
	/* a URL of 2049 characters */
	s = repeat("a", 2049 - strlen("https://long.invalid/"));
	snprintf(body, blen, "{\"url\":\"https://long.invalid/%s\",\"events\":" CREATED "}", s);
	snprintf(what, sizeof(what), "url of 2049 characters (%s)", server);
	expect_refused(t->key, body, "url", what);
	free(s);
	/* a description of 501 characters, ASCII and two bytes each */
	s = repeat("d", 501);
	snprintf(body, blen, "{\"url\":\"https://v.invalid/h\",\"events\":" CREATED ","
	    "\"description\":\"%s\"}", s);
	snprintf(what, sizeof(what), "description of 501 characters (%s)", server);
	expect_refused(t->key, body, "description", what);
	free(s);
	s = repeat("\u00e9", 501);
	snprintf(body, blen, "{\"url\":\"https://v.invalid/h\",\"events\":" CREATED ","
	    "\"description\":\"%s\"}", s);
	snprintf(what, sizeof(what), "description of 501 characters (2 bytes) (%s)", server);
	expect_refused(t->key, body, "description", what);
	free(s);
	free(body);
}

Test(webhooks, validation_names_the_parameter, .fini = drop_webhooks)
{
	const char		*url1 = getenv("CALENDENCE_URL"), *url2 = getenv("CALENDENCE_URL2");
	struct tenant		 t;
	struct http_resp	 r;
	char			*s, *body, *id;
	const char		*extra[] = { "Content-Type: text/plain", NULL };

	cr_assert_not_null(url1);
	tenant_open(&t, 1);
	refusals(&t, "first server");
	cr_expect_eq(hook_count(t.biz), 0, "a refused request made a webhook");

	/* malformed JSON, a body that is not an object, another media type */
	call("POST", HOOKS, t.key, NULL, "{\"url\":\"https://v.invalid/h\",\"events\":[", &r);
	expect_error(&r, 400, "invalid_json", NULL, "malformed JSON");
	expect_null(r.json, "error.param", "malformed JSON");
	http_resp_free(&r);
	call("POST", HOOKS, t.key, NULL, "[\"https://v.invalid/h\"]", &r);
	expect_error(&r, 400, "invalid_json", NULL, "an array body");
	http_resp_free(&r);
	cr_assert_eq(http_call("POST", HOOKS, t.key, extra, "{\"url\":\"https://v.invalid/h\","
	    "\"events\":" CREATED "}", &r), 0);
	expect_error(&r, 415, "unsupported_media_type", NULL, "text/plain");
	http_resp_free(&r);

	/* plain http:// where the server allows it (the first server) */
	call("POST", HOOKS, t.key, NULL, "{\"url\":\"http://127.0.0.1:9/x\",\"events\":"
	    CREATED "}", &r);
	cr_expect_eq(r.status, 201, "http:// on the first server: %d %.500s", r.status,
	    r.body);
	cr_expect_str_eq(nz(jstr(r.json, "url")), "http://127.0.0.1:9/x");
	http_resp_free(&r);

	/* the bounds themselves are fine: 2048 characters, 500 characters */
	body = malloc(8192);
	cr_assert_not_null(body);
	s = repeat("a", 2048 - strlen("https://long.invalid/"));
	snprintf(body, 8192, "https://long.invalid/%s", s);
	id = hook_make(t.key, NULL, body, CREATED, NULL, NULL);
	free(id);
	free(s);
	s = repeat("\u00e9", 500);
	snprintf(body, 8192, "\"%s\"", s);
	id = hook_make(t.key, NULL, "https://v.invalid/h", CREATED, body, NULL);
	free(id);
	free(s);
	free(body);
	cr_expect_eq(hook_count(t.biz), 3);

	/* the second server keeps the default: https:// only */
	if (url2 == NULL || *url2 == '\0') {
		tenant_close(&t);
		cr_skip("CALENDENCE_URL2 is not set: no second web server");
	}
	s = strdup(url1);
	cr_assert_eq(setenv("CALENDENCE_URL", url2, 1), 0);
	expect_refused(t.key, "{\"url\":\"http://example.com/x\",\"events\":" CREATED "}",
	    "url", "http:// on the second server");
	expect_refused(t.key, "{\"url\":\"http://127.0.0.1:9/x\",\"events\":" CREATED "}",
	    "url", "http://127.0.0.1 on the second server");
	refusals(&t, "second server");
	cr_expect_eq(hook_count(t.biz), 3, "a refused request made a webhook");
	call("POST", HOOKS, t.key, NULL, "{\"url\":\"https://v.invalid/h\",\"events\":"
	    CREATED "}", &r);
	cr_expect_eq(r.status, 201, "https:// on the second server: %d %.500s", r.status,
	    r.body);
	http_resp_free(&r);
	cr_assert_eq(setenv("CALENDENCE_URL", s, 1), 0);
	free(s);
	tenant_close(&t);
}

/*
 * URLs that match the shape of one but that no client can use (libcurl, the
 * sender's, answers CURLE_URL_MALFORMAT for each): a port past 65535, an
 * IPv6 literal that is no address. Refused like any malformed URL, not
 * accepted to fail every attempt later.
 */
Test(webhooks, url_port_and_address_literal_are_checked, .fini = drop_webhooks)
{
	static const char *const unusable[] = {
		"https://v.invalid:65536/h",
		"https://v.invalid:99999/h",
		"https://[::::]/h",
		"https://[1:2:3]/h",
	};
	struct tenant		 t;
	char			 body[256], what[128];
	size_t			 i;

	tenant_open(&t, 1);
	for (i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++) {
		snprintf(body, sizeof(body), "{\"url\":\"%s\",\"events\":" CREATED "}",
		    unusable[i]);
		snprintf(what, sizeof(what), "url %s", unusable[i]);
		expect_refused(t.key, body, "url", what);
	}
	cr_expect_eq(hook_count(t.biz), 0, "an unusable URL was accepted");
	/* the bounds of what is fine */
	free(hook_make(t.key, NULL, "https://v.invalid:65535/h", CREATED, NULL, NULL));
	free(hook_make(t.key, NULL, "https://[2001:db8::1]:8443/h", CREATED, NULL, NULL));
	tenant_close(&t);
}

/* --- at most 10 --- */

Test(webhooks, at_most_ten_per_business, .fini = drop_webhooks)
{
	struct tenant		 t, sib;
	struct http_resp	 r;
	char			*ids[10], path[128], url[64];
	int			 i;

	tenant_open(&t, 1);
	tenant_sibling(&t, &sib);
	for (i = 0; i < 10; i++) {
		snprintf(url, sizeof(url), "https://ten.invalid/%d", i);
		ids[i] = hook_make(t.key, NULL, url, CREATED, NULL, NULL);
	}
	call("POST", HOOKS, t.key, NULL, "{\"url\":\"https://ten.invalid/11\",\"events\":"
	    CREATED "}", &r);
	expect_error(&r, 409, "webhook_limit_reached", NULL, "the 11th");
	http_resp_free(&r);
	/* through a hub key too */
	call("POST", HOOKS, t.hub_key, t.biz, "{\"url\":\"https://ten.invalid/11\",\"events\":"
	    CREATED "}", &r);
	expect_error(&r, 409, "webhook_limit_reached", NULL, "the 11th, hub key");
	http_resp_free(&r);
	cr_expect_eq(hook_count(t.biz), 10);
	/* the limit is the business's: another business of the hub is not held back */
	free(hook_make(sib.key, NULL, "https://ten.invalid/sib", CREATED, NULL, NULL));
	free(hook_make(t.hub_key, sib.biz, "https://ten.invalid/sib2", CREATED, NULL, NULL));

	/* one deleted: room for one */
	hook_path(path, sizeof(path), ids[3], NULL);
	call("DELETE", path, t.key, NULL, NULL, &r);
	cr_expect_eq(r.status, 204, "%d %.500s", r.status, r.body);
	http_resp_free(&r);
	free(hook_make(t.key, NULL, "https://ten.invalid/again", CREATED, NULL, NULL));
	call("POST", HOOKS, t.key, NULL, "{\"url\":\"https://ten.invalid/12\",\"events\":"
	    CREATED "}", &r);
	expect_error(&r, 409, "webhook_limit_reached", NULL, "full again");
	http_resp_free(&r);
	cr_expect_eq(hook_count(t.biz), 10);

	for (i = 0; i < 10; i++)
		free(ids[i]);
	tenant_close(&sib);
	tenant_close(&t);
}

Test(webhooks, at_most_ten_under_concurrent_creations, .fini = drop_webhooks)
{
	enum { N = 14 };
	struct tenant		 t;
	struct http_resp	 r;
	char			 req[1024], body[128];
	int			 fds[N], i, n, len, made = 0, full = 0;

	tenant_open(&t, 1);
	free(hook_make(t.key, NULL, "https://race.invalid/first", CREATED, NULL, NULL));
	/* N requests in flight at once, over the server's workers */
	for (i = 0; i < N; i++) {
		len = snprintf(body, sizeof(body), "{\"url\":\"https://race.invalid/%d\","
		    "\"events\":" CREATED "}", i);
		n = snprintf(req, sizeof(req), "POST " HOOKS " HTTP/1.0\r\nHost: 127.0.0.1\r\n"
		    "X-Forwarded-For: %s\r\nAuthorization: Bearer %s\r\nContent-Type: "
		    "application/json\r\nContent-Length: %d\r\n\r\n%s", http_client_ip(), t.key,
		    len, body);
		fds[i] = http_open(req, (size_t)n, 20);
		cr_assert_neq(fds[i], -1, "request %d", i);
	}
	for (i = 0; i < N; i++) {
		cr_assert_eq(http_finish(fds[i], &r), 0, "request %d: no answer", i);
		if (r.status == 201)
			made++;
		else {
			expect_error(&r, 409, "webhook_limit_reached", NULL, "a racing creation");
			full++;
		}
		http_resp_free(&r);
	}
	cr_expect_eq(made, 9, "%d made, %d refused", made, full);
	cr_expect_eq(full, N - 9);
	cr_expect_eq(hook_count(t.biz), 10);
	tenant_close(&t);
}

/* --- the list --- */

Test(webhooks, list_is_paginated_oldest_first, .fini = drop_webhooks)
{
	struct tenant		 t, sib;
	struct http_resp	 r;
	char			*ids[3], url[64];
	const char		*next;
	int			 i;

	tenant_open(&t, 1);
	tenant_sibling(&t, &sib);
	for (i = 0; i < 3; i++) {
		snprintf(url, sizeof(url), "https://list.invalid/%d", i);
		ids[i] = hook_make(t.key, NULL, url, CREATED, NULL, NULL);
	}

	call("GET", HOOKS, t.key, NULL, NULL, &r);
	expect_common(&r, "list");
	cr_assert_eq(r.status, 200, "%d %.500s", r.status, r.body);
	cr_assert_eq(json_object_array_length(jget(r.json, "data")), 3, "%.500s", r.body);
	for (i = 0; i < 3; i++) {
		char	 p[32];

		snprintf(p, sizeof(p), "data.%d", i);
		expect_members(jget(r.json, p), shown_members, "list item");
		snprintf(p, sizeof(p), "data.%d.id", i);
		cr_expect_str_eq(nz(jstr(r.json, p)), ids[i], "oldest first: %.800s", r.body);
	}
	cr_expect_eq(jint(r.json, "meta.total"), 3);
	cr_expect_eq(jint(r.json, "meta.per_page"), 15);
	cr_expect_eq(jint(r.json, "meta.current_page"), 1);
	cr_expect_eq(jint(r.json, "meta.last_page"), 1);
	cr_expect_eq(jint(r.json, "meta.from"), 1);
	cr_expect_eq(jint(r.json, "meta.to"), 3);
	cr_expect(matches(jstr(r.json, "meta.path"), "(^|/)api/v1/webhooks$"), "path %s",
	    nz(jstr(r.json, "meta.path")));
	expect_null(r.json, "links.next", "one page");
	expect_null(r.json, "links.prev", "one page");
	http_resp_free(&r);

	/* two a page */
	call("GET", HOOKS "?per_page=2", t.key, NULL, NULL, &r);
	cr_assert_eq(r.status, 200, "%d %.500s", r.status, r.body);
	cr_expect_eq(json_object_array_length(jget(r.json, "data")), 2, "%.500s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.id")), ids[0]);
	cr_expect_str_eq(nz(jstr(r.json, "data.1.id")), ids[1]);
	cr_expect_eq(jint(r.json, "meta.total"), 3);
	cr_expect_eq(jint(r.json, "meta.per_page"), 2);
	cr_expect_eq(jint(r.json, "meta.last_page"), 2);
	next = jstr(r.json, "links.next");
	cr_expect(matches(next, "(^|/)api/v1/webhooks\\?page=2&per_page=2$"), "next %s",
	    nz(next));
	cr_expect(matches(jstr(r.json, "links.last"),
	    "(^|/)api/v1/webhooks\\?page=2&per_page=2$"), "last %s",
	    nz(jstr(r.json, "links.last")));
	expect_null(r.json, "links.prev", "page 1");
	http_resp_free(&r);
	call("GET", HOOKS "?page=2&per_page=2", t.key, NULL, NULL, &r);
	cr_assert_eq(r.status, 200, "%d %.500s", r.status, r.body);
	cr_expect_eq(json_object_array_length(jget(r.json, "data")), 1, "%.500s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.id")), ids[2]);
	expect_null(r.json, "links.next", "page 2");
	cr_expect(matches(jstr(r.json, "links.prev"),
	    "(^|/)api/v1/webhooks\\?page=1&per_page=2$"), "prev %s",
	    nz(jstr(r.json, "links.prev")));
	cr_expect_eq(jint(r.json, "meta.from"), 3);
	http_resp_free(&r);
	/* past the end: empty */
	call("GET", HOOKS "?page=9", t.key, NULL, NULL, &r);
	cr_assert_eq(r.status, 200, "%d %.500s", r.status, r.body);
	cr_expect_eq(json_object_array_length(jget(r.json, "data")), 0, "%.500s", r.body);
	cr_expect_eq(jint(r.json, "meta.total"), 3);
	http_resp_free(&r);

	/* pagination parameters out of range */
	call("GET", HOOKS "?page=0", t.key, NULL, NULL, &r);
	expect_error(&r, 422, "validation_failed", "page", "page=0");
	http_resp_free(&r);
	call("GET", HOOKS "?per_page=51", t.key, NULL, NULL, &r);
	expect_error(&r, 422, "validation_failed", "per_page", "per_page=51");
	http_resp_free(&r);
	call("GET", HOOKS "?per_page=x", t.key, NULL, NULL, &r);
	expect_error(&r, 422, "validation_failed", "per_page", "per_page=x");
	http_resp_free(&r);

	/* the same through the hub key */
	call("GET", HOOKS, t.hub_key, t.biz, NULL, &r);
	cr_assert_eq(r.status, 200, "%d %.500s", r.status, r.body);
	cr_expect_eq(jint(r.json, "meta.total"), 3);
	http_resp_free(&r);

	/* another business (the same hub) sees none of them */
	call("GET", HOOKS, sib.key, NULL, NULL, &r);
	cr_assert_eq(r.status, 200, "%d %.500s", r.status, r.body);
	cr_expect_eq(jint(r.json, "meta.total"), 0, "%.500s", r.body);
	cr_expect_eq(json_object_array_length(jget(r.json, "data")), 0, "%.500s", r.body);
	cr_expect_eq(jint(r.json, "meta.last_page"), 1);
	http_resp_free(&r);
	call("GET", HOOKS, t.hub_key, sib.biz, NULL, &r);
	cr_assert_eq(r.status, 200, "%d %.500s", r.status, r.body);
	cr_expect_eq(jint(r.json, "meta.total"), 0, "%.500s", r.body);
	http_resp_free(&r);
	/* and its own only, once it has one */
	free(hook_make(sib.key, NULL, "https://list.invalid/sib", CREATED, NULL, NULL));
	call("GET", HOOKS, sib.key, NULL, NULL, &r);
	cr_expect_eq(jint(r.json, "meta.total"), 1, "%.500s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.url")), "https://list.invalid/sib");
	http_resp_free(&r);
	call("GET", HOOKS, t.key, NULL, NULL, &r);
	cr_expect_eq(jint(r.json, "meta.total"), 3, "%.500s", r.body);
	http_resp_free(&r);

	for (i = 0; i < 3; i++)
		free(ids[i]);
	tenant_close(&sib);
	tenant_close(&t);
}

/* --- one webhook --- */

Test(webhooks, get_shows_one_webhook, .fini = drop_webhooks)
{
	struct tenant		 t, sib, other;
	struct http_resp	 c, r;
	char			 path[160], upper[40], *unknown;
	const char		*id;
	size_t			 i;

	tenant_open(&t, 1);
	tenant_sibling(&t, &sib);
	tenant_open(&other, 1);
	call("POST", HOOKS, t.key, NULL, "{\"url\":\"https://get.invalid/h\",\"events\":"
	    "[\"booking.cancelled\",\"booking.created\"]}", &c);
	cr_assert_eq(c.status, 201, "%d %.500s", c.status, c.body);
	id = jstr(c.json, "id");

	hook_path(path, sizeof(path), id, NULL);
	call("GET", path, t.key, NULL, NULL, &r);
	expect_common(&r, "get");
	cr_assert_eq(r.status, 200, "%d %.500s", r.status, r.body);
	expect_shown(r.json, c.json, "get");
	http_resp_free(&r);
	call("GET", path, t.hub_key, t.biz, NULL, &r);
	cr_assert_eq(r.status, 200, "%d %.500s", r.status, r.body);
	expect_shown(r.json, c.json, "get, hub key");
	http_resp_free(&r);
	/* a trailing slash is tolerated */
	hook_path(path, sizeof(path), id, "/");
	call("GET", path, t.key, NULL, NULL, &r);
	cr_expect_eq(r.status, 200, "trailing slash: %d %.500s", r.status, r.body);
	http_resp_free(&r);

	/* malformed ids */
	call("GET", HOOKS "/not-a-uuid", t.key, NULL, NULL, &r);
	expect_error(&r, 404, "not_found", NULL, "malformed id");
	http_resp_free(&r);
	for (i = 0; i < 36; i++)
		upper[i] = (char)(id[i] >= 'a' && id[i] <= 'f' ? id[i] - 32 : id[i]);
	upper[36] = '\0';
	hook_path(path, sizeof(path), upper, NULL);
	call("GET", path, t.key, NULL, NULL, &r);
	expect_error(&r, 404, "not_found", NULL, "id in capitals");
	http_resp_free(&r);
	snprintf(path, sizeof(path), HOOKS "/%sa", id);
	call("GET", path, t.key, NULL, NULL, &r);
	expect_error(&r, 404, "not_found", NULL, "id too long");
	http_resp_free(&r);
	/* unknown */
	unknown = random_uuid();
	hook_path(path, sizeof(path), unknown, NULL);
	call("GET", path, t.key, NULL, NULL, &r);
	expect_error(&r, 404, "not_found", NULL, "unknown id");
	http_resp_free(&r);
	/* another business's: the same hub's and another hub's */
	hook_path(path, sizeof(path), id, NULL);
	call("GET", path, sib.key, NULL, NULL, &r);
	expect_error(&r, 404, "not_found", NULL, "the same hub's other business");
	http_resp_free(&r);
	call("GET", path, t.hub_key, sib.biz, NULL, &r);
	expect_error(&r, 404, "not_found", NULL, "hub key naming the other business");
	http_resp_free(&r);
	call("GET", path, other.key, NULL, NULL, &r);
	expect_error(&r, 404, "not_found", NULL, "another hub's business");
	http_resp_free(&r);

	free(unknown);
	http_resp_free(&c);
	tenant_close(&other);
	tenant_close(&sib);
	tenant_close(&t);
}

/* --- deleting --- */

Test(webhooks, delete_removes_it, .fini = drop_webhooks)
{
	struct tenant		 t, sib;
	struct http_resp	 r;
	char			 path[160], *id, *keep, *unknown, *n;

	tenant_open(&t, 1);
	tenant_sibling(&t, &sib);
	id = hook_make(t.key, NULL, "https://del.invalid/h", CREATED, NULL, NULL);
	keep = hook_make(t.key, NULL, "https://del.invalid/keep", CREATED, NULL, NULL);

	/* another business's key: 404, and the webhook stays */
	hook_path(path, sizeof(path), id, NULL);
	call("DELETE", path, sib.key, NULL, NULL, &r);
	expect_error(&r, 404, "not_found", NULL, "another business's");
	http_resp_free(&r);
	call("DELETE", path, t.hub_key, sib.biz, NULL, &r);
	expect_error(&r, 404, "not_found", NULL, "hub key naming another business");
	http_resp_free(&r);
	call("GET", path, t.key, NULL, NULL, &r);
	cr_expect_eq(r.status, 200, "still there: %d %.500s", r.status, r.body);
	http_resp_free(&r);
	cr_expect_eq(hook_count(t.biz), 2);

	/* malformed and unknown */
	call("DELETE", HOOKS "/not-a-uuid", t.key, NULL, NULL, &r);
	expect_error(&r, 404, "not_found", NULL, "malformed id");
	http_resp_free(&r);
	unknown = random_uuid();
	hook_path(path, sizeof(path), unknown, NULL);
	call("DELETE", path, t.key, NULL, NULL, &r);
	expect_error(&r, 404, "not_found", NULL, "unknown id");
	http_resp_free(&r);

	/* the owner: 204 without a body, then it is gone */
	hook_path(path, sizeof(path), id, NULL);
	call("DELETE", path, t.key, NULL, NULL, &r);
	expect_common(&r, "delete");
	cr_expect_eq(r.status, 204, "%d %.500s", r.status, r.body);
	cr_expect_eq(r.body_len, 0, "a body on the 204: %s", r.body);
	http_resp_free(&r);
	call("DELETE", path, t.key, NULL, NULL, &r);
	expect_error(&r, 404, "not_found", NULL, "a second DELETE");
	http_resp_free(&r);
	call("GET", path, t.key, NULL, NULL, &r);
	expect_error(&r, 404, "not_found", NULL, "GET after DELETE");
	http_resp_free(&r);
	n = fx_value("SELECT count(*) FROM calendence.webhooks WHERE id = $1::uuid", id, NULL);
	cr_expect_str_eq(nz(n), "0");
	free(n);
	/* the other one is untouched; a hub key deletes too */
	call("GET", HOOKS, t.key, NULL, NULL, &r);
	cr_expect_eq(jint(r.json, "meta.total"), 1, "%.500s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.id")), keep);
	http_resp_free(&r);
	hook_path(path, sizeof(path), keep, NULL);
	call("DELETE", path, t.hub_key, t.biz, NULL, &r);
	cr_expect_eq(r.status, 204, "hub key: %d %.500s", r.status, r.body);
	http_resp_free(&r);
	cr_expect_eq(hook_count(t.biz), 0);

	free_all(id, keep, unknown, NULL);
	tenant_close(&sib);
	tenant_close(&t);
}

/* --- the delivery log --- */

/* POST /bookings/{id}/cancel with token; asserts 200. */
static void
cancel(const char *token, const char *booking)
{
	struct http_resp	 r;
	char			 path[128];

	snprintf(path, sizeof(path), "/api/v1/bookings/%s/cancel", booking);
	call("POST", path, token, NULL, NULL, &r);
	cr_assert_eq(r.status, 200, "cancel: %d %.500s", r.status, r.body);
	http_resp_free(&r);
}

Test(webhooks, deliveries_follow_the_subscriptions, .fini = drop_webhooks)
{
	struct fx_shop		 s;
	struct slot		 sl = { 0 };
	struct http_resp	 r, r2;
	char			*plan = roomy_plan(1), *created, *cancelled, *both, *off, *h;
	char			*booking, *n, *dl;

	fx_shop_open(&s, plan);
	own(s.biz);
	created = hook_make(s.key, NULL, "https://log.invalid/created", CREATED, NULL, NULL);
	cancelled = hook_make(s.key, NULL, "https://log.invalid/cancelled",
	    "[\"booking.cancelled\"]", NULL, NULL);
	both = hook_make(s.key, NULL, "https://log.invalid/both", "[\"booking.cancelled\","
	    "\"booking.created\"]", NULL, NULL);
	/* an inactive webhook gets nothing */
	off = hook_make(s.key, NULL, "https://log.invalid/off", "[\"booking.cancelled\","
	    "\"booking.created\"]", NULL, NULL);
	fx_exec("UPDATE calendence.webhooks SET active = false WHERE id = $1::uuid", off, NULL);

	/* a hold is no booking: no delivery */
	first_slot(&s, s.key, &sl);
	h = hold_ok(&s, s.key, &sl);
	cr_expect_eq(log_total(s.key, created), 0);
	cr_expect_eq(log_total(s.key, both), 0);

	/* the booking: one booking.created to each webhook that asked for it */
	book(s.key, h, "ann@example.com", NULL, &r);
	cr_assert_eq(r.status, 201, "book: %d %.500s", r.status, r.body);
	booking = strdup(jstr(r.json, "id"));
	http_resp_free(&r);
	log_of(s.key, created, NULL, &r);
	cr_assert_eq(json_object_array_length(jget(r.json, "data")), 1, "%.500s", r.body);
	cr_expect_eq(jint(r.json, "meta.total"), 1);
	expect_pending_delivery(jget(r.json, "data.0"), "booking.created", "created");
	dl = fx_value("SELECT d.webhook_id || ' ' || e.booking_id || ' ' || e.event FROM "
	    "calendence.webhook_deliveries d JOIN calendence.webhook_events e ON e.id = "
	    "d.event_id WHERE d.id = $1::uuid", nz(jstr(r.json, "data.0.id")), NULL);
	cr_assert_not_null(dl);
	cr_expect_eq(strncmp(dl, created, 36), 0, "%s", dl);
	cr_expect_str_eq(dl + 37 + 37, "booking.created", "%s", dl);
	cr_expect_eq(strncmp(dl + 37, booking, 36), 0, "%s", dl);
	free(dl);
	cr_expect_eq(log_total(s.key, cancelled), 0, "cancelled-only got booking.created");
	cr_expect_eq(log_total(s.key, both), 1);
	cr_expect_eq(log_total(s.key, off), 0, "an inactive webhook got a delivery");

	/* the cancellation: only to those that asked for booking.cancelled */
	cancel(s.key, booking);
	cr_expect_eq(log_total(s.key, created), 1, "created-only got booking.cancelled");
	log_of(s.key, cancelled, NULL, &r2);
	cr_assert_eq(json_object_array_length(jget(r2.json, "data")), 1, "%.500s", r2.body);
	expect_pending_delivery(jget(r2.json, "data.0"), "booking.cancelled", "cancelled");
	http_resp_free(&r2);

	/* newest first; one event, one id, whichever webhook it went to */
	log_of(s.key, both, NULL, &r2);
	cr_assert_eq(json_object_array_length(jget(r2.json, "data")), 2, "%.500s", r2.body);
	cr_expect_eq(jint(r2.json, "meta.total"), 2);
	expect_pending_delivery(jget(r2.json, "data.0"), "booking.cancelled", "both, newest");
	expect_pending_delivery(jget(r2.json, "data.1"), "booking.created", "both, oldest");
	cr_expect_str_eq(nz(jstr(r2.json, "data.1.event_id")), nz(jstr(r.json,
	    "data.0.event_id")), "one event, two event ids");
	cr_expect_str_neq(nz(jstr(r2.json, "data.1.id")), nz(jstr(r.json, "data.0.id")),
	    "two webhooks, one delivery id");
	http_resp_free(&r2);
	http_resp_free(&r);

	/* cancelling a cancelled booking changes nothing: no event */
	cancel(s.key, booking);
	cr_expect_eq(log_total(s.key, cancelled), 1, "a second cancel made an event");
	cr_expect_eq(log_total(s.key, both), 2);
	cr_expect_eq(log_total(s.key, off), 0);

	/* deleting a webhook deletes its log */
	{
		char	 path[128];

		hook_path(path, sizeof(path), both, NULL);
		call("DELETE", path, s.key, NULL, NULL, &r);
		cr_expect_eq(r.status, 204, "%d %.500s", r.status, r.body);
		http_resp_free(&r);
		n = fx_value("SELECT count(*) FROM calendence.webhook_deliveries WHERE "
		    "webhook_id = $1::uuid", both, NULL);
		cr_expect_str_eq(nz(n), "0", "the log outlived its webhook");
		free(n);
		hook_path(path, sizeof(path), both, "/deliveries");
		call("GET", path, s.key, NULL, NULL, &r);
		expect_error(&r, 404, "not_found", NULL, "the log of a deleted webhook");
		http_resp_free(&r);
	}

	free_all(created, cancelled, both, off, h, booking, plan, NULL);
	slot_free(&sl);
	fx_shop_free(&s);
}

Test(webhooks, deliveries_are_paginated_and_the_business_own, .fini = drop_webhooks)
{
	struct fx_shop		 s;
	struct tenant		 other;
	struct http_resp	 r;
	char			*plan = roomy_plan(1), *hook, *b1, *b2, *unknown, path[200];
	const char		*newest;

	fx_shop_open(&s, plan);
	own(s.biz);
	tenant_open(&other, 1);
	hook = hook_make(s.key, NULL, "https://page.invalid/h", "[\"booking.created\","
	    "\"booking.cancelled\"]", NULL, NULL);
	b1 = book_first(&s, s.key);
	cancel(s.key, b1);
	b2 = book_first(&s, s.key);	/* the freed slot again */

	log_of(s.key, hook, "?per_page=2", &r);
	cr_assert_eq(json_object_array_length(jget(r.json, "data")), 2, "%.500s", r.body);
	cr_expect_eq(jint(r.json, "meta.total"), 3);
	cr_expect_eq(jint(r.json, "meta.last_page"), 2);
	cr_expect_eq(jint(r.json, "meta.per_page"), 2);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.event")), "booking.created", "newest first");
	cr_expect_str_eq(nz(jstr(r.json, "data.1.event")), "booking.cancelled");
	newest = jstr(r.json, "data.0.created_at");
	cr_expect(matches(jstr(r.json, "links.next"), "(^|/)api/v1/webhooks/[0-9a-f-]{36}/"
	    "deliveries\\?page=2&per_page=2$"), "next %s", nz(jstr(r.json, "links.next")));
	cr_expect(strstr(nz(jstr(r.json, "links.next")), hook) != NULL, "next %s",
	    nz(jstr(r.json, "links.next")));
	cr_expect(matches(jstr(r.json, "meta.path"), "(^|/)api/v1/webhooks/[0-9a-f-]{36}/"
	    "deliveries$"), "path %s", nz(jstr(r.json, "meta.path")));
	cr_expect(newest != NULL && jstr(r.json, "data.1.created_at") != NULL &&
	    strcmp(newest, jstr(r.json, "data.1.created_at")) >= 0, "not newest first: %.800s",
	    r.body);
	http_resp_free(&r);
	log_of(s.key, hook, "?page=2&per_page=2", &r);
	cr_assert_eq(json_object_array_length(jget(r.json, "data")), 1, "%.500s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.event")), "booking.created", "the oldest");
	expect_null(r.json, "links.next", "last page");
	http_resp_free(&r);
	log_of(s.key, hook, "?page=3&per_page=2", &r);
	cr_expect_eq(json_object_array_length(jget(r.json, "data")), 0, "%.500s", r.body);
	http_resp_free(&r);
	/* through the hub key */
	{
		char	*hub_key = fx_key("hub", s.hub);

		hook_path(path, sizeof(path), hook, "/deliveries");
		call("GET", path, hub_key, s.biz, NULL, &r);
		cr_expect_eq(r.status, 200, "hub key: %d %.500s", r.status, r.body);
		cr_expect_eq(jint(r.json, "meta.total"), 3);
		http_resp_free(&r);
		free(hub_key);
	}

	/* bad pagination */
	hook_path(path, sizeof(path), hook, "/deliveries?page=0");
	call("GET", path, s.key, NULL, NULL, &r);
	expect_error(&r, 422, "validation_failed", "page", "page=0");
	http_resp_free(&r);
	hook_path(path, sizeof(path), hook, "/deliveries?per_page=0");
	call("GET", path, s.key, NULL, NULL, &r);
	expect_error(&r, 422, "validation_failed", "per_page", "per_page=0");
	http_resp_free(&r);

	/* unknown, malformed, another business's webhook */
	unknown = random_uuid();
	hook_path(path, sizeof(path), unknown, "/deliveries");
	call("GET", path, s.key, NULL, NULL, &r);
	expect_error(&r, 404, "not_found", NULL, "unknown webhook");
	http_resp_free(&r);
	call("GET", HOOKS "/nope/deliveries", s.key, NULL, NULL, &r);
	expect_error(&r, 404, "not_found", NULL, "malformed webhook id");
	http_resp_free(&r);
	hook_path(path, sizeof(path), hook, "/deliveries");
	call("GET", path, other.key, NULL, NULL, &r);
	expect_error(&r, 404, "not_found", NULL, "another business's webhook");
	http_resp_free(&r);

	free_all(plan, hook, b1, b2, unknown, NULL);
	tenant_close(&other);
	fx_shop_free(&s);
}

/* --- sending a delivery again --- */

/* POST .../deliveries/{delivery}/retry of webhook 'hook' with token into r. */
static void
retry(const char *token, const char *hook, const char *delivery, struct http_resp *r)
{
	char	 path[256];

	snprintf(path, sizeof(path), HOOKS "/%s/deliveries/%s/retry", hook, delivery);
	call("POST", path, token, NULL, NULL, r);
}

Test(webhooks, retry_sends_a_delivery_again, .fini = drop_webhooks)
{
	struct fx_shop		 s;
	struct tenant		 other;
	struct http_resp	 r;
	char			*plan = roomy_plan(1), *hook, *hook2, *booking, *d, *d2, *v;
	char			*unknown;

	fx_shop_open(&s, plan);
	own(s.biz);
	tenant_open(&other, 1);
	hook = hook_make(s.key, NULL, "https://retry.invalid/h", CREATED, NULL, NULL);
	hook2 = hook_make(s.key, NULL, "https://retry.invalid/h2", CREATED, NULL, NULL);
	booking = book_first(&s, s.key);
	log_of(s.key, hook, NULL, &r);
	cr_assert_eq(json_object_array_length(jget(r.json, "data")), 1, "%.500s", r.body);
	d = strdup(jstr(r.json, "data.0.id"));
	http_resp_free(&r);
	log_of(s.key, hook2, NULL, &r);
	cr_assert_eq(json_object_array_length(jget(r.json, "data")), 1, "%.500s", r.body);
	d2 = strdup(jstr(r.json, "data.0.id"));
	http_resp_free(&r);

	/* a pending one, due later: due now */
	fx_exec("UPDATE calendence.webhook_deliveries SET next_attempt_at = now() + "
	    "interval '1 hour' WHERE id = $1::uuid", d, NULL);
	retry(s.key, hook, d, &r);
	expect_common(&r, "retry, pending");
	cr_assert_eq(r.status, 202, "%d %.500s", r.status, r.body);
	expect_pending_delivery(r.json, "booking.created", "retry, pending");
	cr_expect_str_eq(nz(jstr(r.json, "id")), d);
	http_resp_free(&r);
	v = fx_value("SELECT next_attempt_at <= now() FROM calendence.webhook_deliveries "
	    "WHERE id = $1::uuid", d, NULL);
	cr_expect_str_eq(nz(v), "t", "a pending delivery is not due at once");
	free(v);

	/* a failed one: pending again, a fresh count of attempts */
	fx_exec("UPDATE calendence.webhook_deliveries SET status = 'failed', attempts = 3, "
	    "next_attempt_at = NULL, last_error = 'x', last_status_code = 500 WHERE id = "
	    "$1::uuid", d, NULL);
	retry(s.key, hook, d, &r);
	cr_assert_eq(r.status, 202, "%d %.500s", r.status, r.body);
	expect_members(r.json, delivery_members, "retry, failed");
	cr_expect_str_eq(nz(jstr(r.json, "id")), d);
	cr_expect_str_eq(nz(jstr(r.json, "status")), "pending");
	cr_expect_eq(jint(r.json, "attempts"), 0);
	cr_expect(matches(jstr(r.json, "next_attempt_at"), TIME_RE), "next_attempt_at %s",
	    nz(jstr(r.json, "next_attempt_at")));
	expect_null(r.json, "delivered_at", "retry, failed");
	http_resp_free(&r);
	v = fx_value("SELECT concat_ws(' ', status, attempts, next_attempt_at <= now()) FROM "
	    "calendence.webhook_deliveries WHERE id = $1::uuid", d, NULL);
	cr_expect_str_eq(nz(v), "pending 0 t");
	free(v);
	/* the log shows it so */
	log_of(s.key, hook, NULL, &r);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.status")), "pending");
	cr_expect_eq(jint(r.json, "data.0.attempts"), 0);
	http_resp_free(&r);

	/* a succeeded one too, through the hub key */
	fx_exec("UPDATE calendence.webhook_deliveries SET status = 'succeeded', attempts = 1, "
	    "next_attempt_at = NULL, last_error = NULL, last_status_code = 204, "
	    "delivered_at = now() WHERE id = $1::uuid", d, NULL);
	{
		char	*hub_key = fx_key("hub", s.hub), path[256];

		snprintf(path, sizeof(path), HOOKS "/%s/deliveries/%s/retry", hook, d);
		call("POST", path, hub_key, s.biz, NULL, &r);
		free(hub_key);
	}
	cr_assert_eq(r.status, 202, "%d %.500s", r.status, r.body);
	cr_expect_str_eq(nz(jstr(r.json, "status")), "pending");
	cr_expect_eq(jint(r.json, "attempts"), 0);
	expect_null(r.json, "delivered_at", "retry, succeeded");
	http_resp_free(&r);

	/* an attempt under way is left to finish */
	fx_exec("UPDATE calendence.webhook_deliveries SET attempts = 1, claimed_by = "
	    "gen_random_uuid(), claimed_until = now() + interval '1 hour', next_attempt_at = "
	    "'2000-01-01T00:00:00Z' WHERE id = $1::uuid", d, NULL);
	retry(s.key, hook, d, &r);
	cr_expect_eq(r.status, 202, "%d %.500s", r.status, r.body);
	cr_expect_str_eq(nz(jstr(r.json, "status")), "pending");
	cr_expect_eq(jint(r.json, "attempts"), 1);
	cr_expect_str_eq(nz(jstr(r.json, "next_attempt_at")), "2000-01-01T00:00:00+00:00");
	http_resp_free(&r);

	/* 404s: malformed or unknown ids, another webhook's delivery, another business */
	retry(s.key, hook, "nope", &r);
	expect_error(&r, 404, "not_found", NULL, "malformed delivery id");
	http_resp_free(&r);
	unknown = random_uuid();
	retry(s.key, hook, unknown, &r);
	expect_error(&r, 404, "not_found", NULL, "unknown delivery");
	http_resp_free(&r);
	retry(s.key, "nope", d, &r);
	expect_error(&r, 404, "not_found", NULL, "malformed webhook id");
	http_resp_free(&r);
	retry(s.key, unknown, d, &r);
	expect_error(&r, 404, "not_found", NULL, "unknown webhook");
	http_resp_free(&r);
	retry(s.key, hook, d2, &r);
	expect_error(&r, 404, "not_found", NULL, "another webhook's delivery");
	http_resp_free(&r);
	retry(s.key, hook2, d, &r);
	expect_error(&r, 404, "not_found", NULL, "another webhook's delivery (2)");
	http_resp_free(&r);
	retry(other.key, hook, d, &r);
	expect_error(&r, 404, "not_found", NULL, "another business");
	http_resp_free(&r);
	/* and none of them touched the delivery */
	v = fx_value("SELECT concat_ws(' ', status, attempts, claimed_by IS NOT NULL) FROM "
	    "calendence.webhook_deliveries WHERE id = $1::uuid", d, NULL);
	cr_expect_str_eq(nz(v), "pending 1 t");
	free(v);

	free_all(plan, hook, hook2, booking, d, d2, unknown, NULL);
	tenant_close(&other);
	fx_shop_free(&s);
}

/* --- every plan --- */

Test(webhooks, open_on_every_plan, .fini = drop_webhooks)
{
	struct tenant		 t;
	struct http_resp	 r;
	char			*id, *id2, path[160];

	tenant_open(&t, 0);
	/* the plan has no full API access ... */
	call("GET", "/api/v1/services", t.key, NULL, NULL, &r);
	expect_error(&r, 403, "plan_upgrade_required", NULL, "services");
	http_resp_free(&r);
	call("GET", "/api/v1/services", t.hub_key, t.biz, NULL, &r);
	expect_error(&r, 403, "plan_upgrade_required", NULL, "services, hub key");
	http_resp_free(&r);

	/* ... and webhooks all the same */
	id = hook_make(t.key, NULL, "https://plan.invalid/h", CREATED, NULL, NULL);
	id2 = hook_make(t.hub_key, t.biz, "https://plan.invalid/h2", CREATED, NULL, NULL);
	call("GET", HOOKS, t.key, NULL, NULL, &r);
	cr_expect_eq(r.status, 200, "list: %d %.500s", r.status, r.body);
	cr_expect_eq(jint(r.json, "meta.total"), 2, "%.500s", r.body);
	http_resp_free(&r);
	hook_path(path, sizeof(path), id, NULL);
	call("GET", path, t.hub_key, t.biz, NULL, &r);
	cr_expect_eq(r.status, 200, "get: %d %.500s", r.status, r.body);
	http_resp_free(&r);
	hook_path(path, sizeof(path), id, "/deliveries");
	call("GET", path, t.key, NULL, NULL, &r);
	cr_expect_eq(r.status, 200, "deliveries: %d %.500s", r.status, r.body);
	http_resp_free(&r);
	hook_path(path, sizeof(path), id, NULL);
	call("DELETE", path, t.key, NULL, NULL, &r);
	cr_expect_eq(r.status, 204, "delete: %d %.500s", r.status, r.body);
	http_resp_free(&r);
	/* the growth plan itself */
	{
		char	*hub = fx_hub("growth"), *biz = fx_business(hub, NULL);
		char	*key = fx_key("business", biz);

		own(biz);
		free(hook_make(key, NULL, "https://plan.invalid/growth", CREATED, NULL, NULL));
		free_all(hub, biz, key, NULL);
	}

	free_all(id, id2, NULL);
	tenant_close(&t);
}
