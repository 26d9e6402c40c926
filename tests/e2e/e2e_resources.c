/* e2e_resources.c: SPEC 8 end to end: services and businesses, JSON and pagination. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"
#include "api.h"


static void
expect_not_found(const struct http_resp *r, const char *what)
{
	cr_expect_eq(r->status, 404, "%s: %d %s", what, r->status, r->body);
	cr_expect_str_eq(nz(jstr(r->json, "error.type")), "invalid_request_error", "%s", what);
	cr_expect_str_eq(nz(jstr(r->json, "error.code")), "not_found", "%s", what);
}

/* True when the value at path is JSON null (present, but null). */
static int
is_null(json_object *o, const char *path)
{
	return jhas(o, path) && jget(o, path) == NULL;
}

/* The number of members of the object at path, -1 when it is not an object. */
static int
members(json_object *o, const char *path)
{
	json_object	*v = jget(o, path);

	return v != NULL && json_object_is_type(v, json_type_object) ?
	    json_object_object_length(v) : -1;
}

/* The length of the array at path, -1 when it is not an array. */
static long
items(json_object *o, const char *path)
{
	json_object	*v = jget(o, path);

	return v != NULL && json_object_is_type(v, json_type_array) ?
	    (long)json_object_array_length(v) : -1;
}

static int
is_type(json_object *o, const char *path, json_type t)
{
	json_object	*v = jget(o, path);

	return v != NULL && json_object_is_type(v, t);
}

/* The names of data.N.name joined by '|', into out. */
static void
names(json_object *o, char *out, size_t len)
{
	char	 path[32];
	long	 i, n = items(o, "data");

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "data.%ld.name", i);
		snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "|" : "",
		    nz(jstr(o, path)));
	}
}

/*
 * What a link to path is: the path itself, for the test servers set no
 * public_url and links are then relative, never built from the Host header.
 */
static void
url(char *out, size_t len, const char *path)
{
	snprintf(out, len, "%s", path);
}

/* A link left unchecked: far past the end, "prev" may be page - 1 or the last page. */
#define ANY	"*"

/* Checks one link: NULL means JSON null, ANY anything, else the URL of the path. */
static void
expect_link(json_object *o, const char *field, const char *path, const char *what)
{
	char	 want[512];

	if (path != NULL && strcmp(path, ANY) == 0)
		return;
	if (path == NULL) {
		cr_expect(is_null(o, field), "%s: %s should be null, is %s", what, field,
		    nz(jstr(o, field)));
		return;
	}
	url(want, sizeof(want), path);
	cr_expect_str_eq(nz(jstr(o, field)), want, "%s: %s", what, field);
}

/* The pagination of one page, as SPEC 8 shows it; from/to -1 for null. */
struct page_want {
	long		 current, from, last, per_page, to, total, count;
	const char	*first, *lastl, *prev, *next;	/* paths, NULL for null */
};

static void
expect_page(const struct http_resp *r, const char *route, const struct page_want *w,
    const char *what)
{
	json_object	*o = r->json;
	char		 want[512];

	cr_expect_eq(r->status, 200, "%s: %d %s", what, r->status, r->body);
	cr_expect_eq(members(o, ""), 3, "%s: not {data, links, meta}: %s", what, r->body);
	cr_expect_eq(items(o, "data"), w->count, "%s: %ld items", what, items(o, "data"));
	cr_expect_eq(members(o, "links"), 4, "%s: links: %s", what, r->body);
	expect_link(o, "links.first", w->first, what);
	expect_link(o, "links.last", w->lastl, what);
	expect_link(o, "links.prev", w->prev, what);
	expect_link(o, "links.next", w->next, what);
	cr_expect_eq(members(o, "meta"), 7, "%s: meta: %s", what, r->body);
	cr_expect_eq(jint(o, "meta.current_page"), w->current, "%s: current_page", what);
	cr_expect_eq(jint(o, "meta.last_page"), w->last, "%s: last_page", what);
	cr_expect_eq(jint(o, "meta.per_page"), w->per_page, "%s: per_page", what);
	cr_expect_eq(jint(o, "meta.total"), w->total, "%s: total", what);
	if (w->from == -1) {
		cr_expect(is_null(o, "meta.from"), "%s: meta.from should be null", what);
		cr_expect(is_null(o, "meta.to"), "%s: meta.to should be null", what);
	} else {
		cr_expect_eq(jint(o, "meta.from"), w->from, "%s: from", what);
		cr_expect_eq(jint(o, "meta.to"), w->to, "%s: to", what);
	}
	url(want, sizeof(want), route);
	cr_expect_str_eq(nz(jstr(o, "meta.path")), want, "%s: meta.path", what);
}

/* --- GET /api/v1/services --- */

Test(services, only_active_services_of_the_business_by_name)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*sibling = fx_business(hub, NULL), *key = fx_key("business", biz);
	char			 got[512];
	struct http_resp	 r;

	free(fx_service(biz, "Charlie Clean", 1));
	free(fx_service(biz, "Alpha Wash", 1));
	free(fx_service(biz, "Aardvark Retired", 0));
	free(fx_service(biz, "Bravo Detail", 1));
	free(fx_service(sibling, "Alpha Sibling", 1));
	get_as("/api/v1/services", key, NULL, &r);
	cr_expect_eq(r.status, 200, "%s", r.body);
	names(r.json, got, sizeof(got));
	cr_expect_str_eq(got, "Alpha Wash|Bravo Detail|Charlie Clean");
	cr_expect_eq(jint(r.json, "meta.total"), 3);
	cr_expect(jget(r.json, "data.0.is_active") != NULL &&
	    json_object_get_boolean(jget(r.json, "data.0.is_active")));
	http_resp_free(&r);
	free_all(key, sibling, biz, hub, NULL);
}

/* Every field of a service, with its JSON type, as SPEC 8 lists them. */
static void
expect_service_shape(json_object *o, const char *p, const char *what)
{
	static const struct {
		const char	*name;
		json_type	 type;	/* json_type_null: null or a string */
	} fields[] = {
		{ "id", json_type_string }, { "name", json_type_string },
		{ "description", json_type_null }, { "category", json_type_null },
		{ "duration_min", json_type_int }, { "duration_max", json_type_int },
		{ "rate", json_type_int }, { "rate_type", json_type_string },
		{ "deposit_type", json_type_string }, { "deposit_amount", json_type_int },
		{ "buffer_before_min", json_type_int }, { "buffer_after_min", json_type_int },
		{ "is_mobile", json_type_boolean }, { "is_active", json_type_boolean },
		{ "show_staff_picker", json_type_boolean },
		{ "custom_fields", json_type_array },
	};
	char		 path[64];
	size_t		 i;

	cr_expect_eq(members(o, p), (int)(sizeof(fields) / sizeof(fields[0])),
	    "%s: %d fields", what, members(o, p));
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		snprintf(path, sizeof(path), "%s%s%s", p, *p ? "." : "", fields[i].name);
		if (fields[i].type == json_type_null)
			cr_expect(is_null(o, path) || is_type(o, path, json_type_string),
			    "%s: %s is neither null nor a string", what, path);
		else
			cr_expect(is_type(o, path, fields[i].type), "%s: %s has the wrong type",
			    what, path);
	}
}

Test(services, fields_and_types)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*key = fx_key("business", biz), *plain, *full, path[128];
	struct http_resp	 r, one;

	plain = fx_service(biz, "Basic Wash", 1);
	full = fx_value("INSERT INTO calendence.services (business_id, name, description, "
	    "category, duration_min, duration_max, rate, rate_type, deposit_type, "
	    "deposit_amount, buffer_before_min, buffer_after_min, is_mobile, "
	    "show_staff_picker, custom_fields) VALUES ($1, 'Full Detail', "
	    "'Inside and out.', 'Detailing', 90, 120, 3500, 'hourly', 'percentage', "
	    "2500, 5, 10, true, true, '[{\"id\": \"plate\", \"label\": \"Plate\", "
	    "\"type\": \"select\", \"required\": true, \"options\": [\"a\", \"b\"]}]') "
	    "RETURNING id", biz, NULL);
	get_as("/api/v1/services", key, NULL, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_eq(items(r.json, "data"), 2, "%s", r.body);
	expect_service_shape(r.json, "data.0", "Basic Wash");
	expect_service_shape(r.json, "data.1", "Full Detail");

	/* the defaults: null description and category, an empty custom_fields */
	cr_expect_str_eq(nz(jstr(r.json, "data.0.id")), plain);
	cr_expect(is_null(r.json, "data.0.description"));
	cr_expect(is_null(r.json, "data.0.category"));
	cr_expect_eq(items(r.json, "data.0.custom_fields"), 0);
	cr_expect_eq(jint(r.json, "data.0.rate"), 1000);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.rate_type")), "flat");
	cr_expect_str_eq(nz(jstr(r.json, "data.0.deposit_type")), "none");
	cr_expect_eq(jint(r.json, "data.0.deposit_amount"), 0);

	/* every field set */
	cr_expect_str_eq(nz(jstr(r.json, "data.1.id")), full);
	cr_expect_str_eq(nz(jstr(r.json, "data.1.description")), "Inside and out.");
	cr_expect_str_eq(nz(jstr(r.json, "data.1.category")), "Detailing");
	cr_expect_eq(jint(r.json, "data.1.duration_min"), 90);
	cr_expect_eq(jint(r.json, "data.1.duration_max"), 120);
	cr_expect_eq(jint(r.json, "data.1.rate"), 3500);
	cr_expect_str_eq(nz(jstr(r.json, "data.1.rate_type")), "hourly");
	cr_expect_str_eq(nz(jstr(r.json, "data.1.deposit_type")), "percentage");
	cr_expect_eq(jint(r.json, "data.1.deposit_amount"), 2500);
	cr_expect_eq(jint(r.json, "data.1.buffer_before_min"), 5);
	cr_expect_eq(jint(r.json, "data.1.buffer_after_min"), 10);
	cr_expect(json_object_get_boolean(jget(r.json, "data.1.is_mobile")));
	cr_expect(json_object_get_boolean(jget(r.json, "data.1.show_staff_picker")));
	cr_expect(json_object_get_boolean(jget(r.json, "data.1.is_active")));
	cr_expect_eq(items(r.json, "data.1.custom_fields"), 1);
	cr_expect_eq(members(r.json, "data.1.custom_fields.0"), 5);
	cr_expect_str_eq(nz(jstr(r.json, "data.1.custom_fields.0.id")), "plate");
	cr_expect_str_eq(nz(jstr(r.json, "data.1.custom_fields.0.label")), "Plate");
	cr_expect_str_eq(nz(jstr(r.json, "data.1.custom_fields.0.type")), "select");
	cr_expect(is_type(r.json, "data.1.custom_fields.0.required", json_type_boolean));
	cr_expect_str_eq(nz(jstr(r.json, "data.1.custom_fields.0.options.1")), "b");

	/* GET /services/{id} answers the same object, not wrapped in data */
	snprintf(path, sizeof(path), "/api/v1/services/%s", full);
	get_as(path, key, NULL, &one);
	cr_expect_eq(one.status, 200, "%s", one.body);
	cr_expect(!jhas(one.json, "data"), "wrapped: %s", one.body);
	expect_service_shape(one.json, "", "GET /services/{id}");
	cr_expect(json_object_equal(one.json, jget(r.json, "data.1")),
	    "list item and object differ:\n%s\n%s", one.body, r.body);
	http_resp_free(&one);
	http_resp_free(&r);
	free_all(full, plain, key, biz, hub, NULL);
}

Test(services, pagination_of_seven_by_three)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*key = fx_key("business", biz), name[32], got[256];
	struct http_resp	 r;
	static const char	*route = "/api/v1/services";
	const struct {
		const char		*query;
		struct page_want	 w;
		const char		*names;
	} rows[] = {
		{ "?per_page=3", { 1, 1, 3, 3, 3, 7, 3, "/api/v1/services?page=1&per_page=3",
		    "/api/v1/services?page=3&per_page=3", NULL,
		    "/api/v1/services?page=2&per_page=3" }, "S1|S2|S3" },
		{ "?page=2&per_page=3", { 2, 4, 3, 3, 6, 7, 3,
		    "/api/v1/services?page=1&per_page=3", "/api/v1/services?page=3&per_page=3",
		    "/api/v1/services?page=1&per_page=3",
		    "/api/v1/services?page=3&per_page=3" }, "S4|S5|S6" },
		{ "?page=3&per_page=3", { 3, 7, 3, 3, 7, 7, 1,
		    "/api/v1/services?page=1&per_page=3", "/api/v1/services?page=3&per_page=3",
		    "/api/v1/services?page=2&per_page=3", NULL }, "S7" },
		{ "?per_page=3&page=4", { 4, -1, 3, 3, -1, 7, 0,
		    "/api/v1/services?page=1&per_page=3", "/api/v1/services?page=3&per_page=3",
		    "/api/v1/services?page=3&per_page=3", NULL }, "" },
		{ "?page=1000", { 1000, -1, 1, 15, -1, 7, 0, "/api/v1/services?page=1",
		    "/api/v1/services?page=1", ANY, NULL }, "" },
		{ "", { 1, 1, 1, 15, 7, 7, 7, "/api/v1/services?page=1",
		    "/api/v1/services?page=1", NULL, NULL }, "S1|S2|S3|S4|S5|S6|S7" },
		{ "?page=1&per_page=15", { 1, 1, 1, 15, 7, 7, 7, "/api/v1/services?page=1",
		    "/api/v1/services?page=1", NULL, NULL }, "S1|S2|S3|S4|S5|S6|S7" },
		{ "?per_page=1&page=7", { 7, 7, 7, 1, 7, 7, 1,
		    "/api/v1/services?page=1&per_page=1", "/api/v1/services?page=7&per_page=1",
		    "/api/v1/services?page=6&per_page=1", NULL }, "S7" },
		{ "?per_page=50", { 1, 1, 1, 50, 7, 7, 7, "/api/v1/services?page=1&per_page=50",
		    "/api/v1/services?page=1&per_page=50", NULL, NULL },
		    "S1|S2|S3|S4|S5|S6|S7" },
	};
	char			 path[128];

	for (int i = 7; i >= 1; i--) {
		snprintf(name, sizeof(name), "S%d", i);
		free(fx_service(biz, name, 1));
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", route, rows[i].query);
		get_as(path, key, NULL, &r);
		expect_page(&r, route, &rows[i].w, path);
		names(r.json, got, sizeof(got));
		cr_expect_str_eq(got, rows[i].names, "%s", path);
		http_resp_free(&r);
	}
	free_all(key, biz, hub, NULL);
}

Test(services, empty_list)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*key = fx_key("business", biz);
	struct http_resp	 r;
	const struct page_want	 w = { 1, -1, 1, 15, -1, 0, 0, "/api/v1/services?page=1",
				    "/api/v1/services?page=1", NULL, NULL };

	free(fx_service(biz, NULL, 0));
	get_as("/api/v1/services", key, NULL, &r);
	expect_page(&r, "/api/v1/services", &w, "no active services");
	http_resp_free(&r);
	free_all(key, biz, hub, NULL);
}

Test(services, invalid_page_parameters)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*bk = fx_key("business", biz), *hk = fx_key("hub", hub), path[128];
	struct http_resp	 r;
	const struct {
		const char	*query;
		const char	*param;
	} rows[] = {
		{ "page=0", "page" }, { "page=-1", "page" }, { "page=abc", "page" },
		{ "page=", "page" }, { "page=1.5", "page" }, { "page=%201", "page" },
		{ "per_page=0", "per_page" }, { "per_page=51", "per_page" },
		{ "per_page=1e9", "per_page" }, { "per_page=-3", "per_page" },
		{ "per_page=abc", "per_page" }, { "per_page=99999999999", "per_page" },
		{ "page=2&per_page=100", "per_page" }, { "page=x&per_page=3", "page" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (int on_businesses = 0; on_businesses < 2; on_businesses++) {
			snprintf(path, sizeof(path), "/api/v1/%s?%s",
			    on_businesses ? "businesses" : "services", rows[i].query);
			get_as(path, on_businesses ? hk : bk, NULL, &r);
			cr_expect_eq(r.status, 422, "%s: %d %s", path, r.status, r.body);
			cr_expect_str_eq(nz(jstr(r.json, "error.type")), "invalid_request_error",
			    "%s", path);
			cr_expect_str_eq(nz(jstr(r.json, "error.code")), "validation_failed", "%s",
			    path);
			cr_expect_str_eq(nz(jstr(r.json, "error.param")), rows[i].param, "%s",
			    path);
			http_resp_free(&r);
		}
	}
	free_all(hk, bk, biz, hub, NULL);
}

/* --- GET /api/v1/services/{id} --- */

Test(services, get_one_or_not_found)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*sibling = fx_business(hub, NULL), *key = fx_key("business", biz);
	char			*other_hub = fx_hub("pro"), *stranger = fx_business(other_hub, NULL);
	char			*mine = fx_service(biz, "Mine", 1), *off = fx_service(biz, NULL, 0);
	char			*theirs = fx_service(sibling, NULL, 1);
	char			*far = fx_service(stranger, NULL, 1);
	char			*nobody = fx_value("SELECT gen_random_uuid()::text", NULL);
	char			*upper = fx_value("SELECT upper($1)", mine, NULL), path[160];
	struct http_resp	 r;
	const struct {
		const char	*what;
		const char	*id;
	} rows[] = {
		{ "a sibling business's service", theirs },
		{ "another hub's service", far },
		{ "an inactive service", off },
		{ "a nonexistent id", nobody },
		{ "a malformed id", "not-a-uuid" },
		{ "an uppercase uuid", upper },
		{ "a uuid without hyphens", "0123456789abcdef0123456789abcdef" },
	};

	snprintf(path, sizeof(path), "/api/v1/services/%s", mine);
	get_as(path, key, NULL, &r);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect_str_eq(nz(jstr(r.json, "id")), mine);
	cr_expect_str_eq(nz(jstr(r.json, "name")), "Mine");
	cr_expect(!jhas(r.json, "data"), "wrapped in data: %s", r.body);
	http_resp_free(&r);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(path, sizeof(path), "/api/v1/services/%s", rows[i].id);
		get_as(path, key, NULL, &r);
		expect_not_found(&r, rows[i].what);
		http_resp_free(&r);
	}
	free_all(upper, nobody, far, theirs, off, mine, stranger, other_hub, key, sibling,
	    biz, hub, NULL);
}

Test(services, hub_key_reads_only_the_named_business)
{
	char			*hub = fx_hub("pro"), *a = fx_business(hub, NULL);
	char			*b = fx_business(hub, NULL), *hk = fx_key("hub", hub);
	char			*sa = fx_service(a, "Alpha Only", 1), *sb = fx_service(b, "Bravo Only", 1);
	char			 got[256], path[160];
	struct http_resp	 r;

	get_as("/api/v1/services", hk, a, &r);
	cr_expect_eq(r.status, 200, "%s", r.body);
	names(r.json, got, sizeof(got));
	cr_expect_str_eq(got, "Alpha Only");
	cr_expect_eq(jint(r.json, "meta.total"), 1);
	http_resp_free(&r);
	get_as("/api/v1/services", hk, b, &r);
	names(r.json, got, sizeof(got));
	cr_expect_str_eq(got, "Bravo Only");
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/services/%s", sb);
	get_as(path, hk, a, &r);
	expect_not_found(&r, "B's service with business A named");
	http_resp_free(&r);
	get_as(path, hk, b, &r);
	cr_expect_eq(r.status, 200, "%s", r.body);
	http_resp_free(&r);
	free_all(sb, sa, hk, b, a, hub, NULL);
}

/* --- GET /api/v1/businesses, /businesses/{id} --- */

/* Checks the exact shape of a business object at path p. */
static void
expect_business(json_object *o, const char *p, const char *id, const char *what)
{
	char	*name = fx_value("SELECT name FROM calendence.businesses WHERE id = $1", id,
	    NULL);
	char	*slug = fx_value("SELECT slug FROM calendence.businesses WHERE id = $1", id,
	    NULL);
	char	 path[64];

#define AT(f)	(snprintf(path, sizeof(path), "%s%s%s", p, *p ? "." : "", f), path)
	cr_expect_eq(members(o, p), 6, "%s: not {id, name, slug, timezone, active, "
	    "created_at}", what);
	cr_expect_str_eq(nz(jstr(o, AT("id"))), id, "%s", what);
	cr_expect_str_eq(nz(jstr(o, AT("name"))), nz(name), "%s", what);
	cr_expect_str_eq(nz(jstr(o, AT("slug"))), nz(slug), "%s", what);
	cr_expect_str_eq(nz(jstr(o, AT("timezone"))), "America/Chicago", "%s", what);
	cr_expect(is_type(o, AT("active"), json_type_boolean), "%s: active", what);
	cr_expect(is_type(o, AT("created_at"), json_type_string), "%s: created_at", what);
	cr_expect(matches(jstr(o, AT("created_at")),
	    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\+00:00$"),
	    "%s: created_at %s", what, nz(jstr(o, AT("created_at"))));
#undef AT
	free(slug);
	free(name);
}

/* The ids of data.N.id, sorted and joined by '|', into out. */
static void
ids(json_object *o, char *out, size_t len)
{
	const char	*v[16];
	long		 i, j, n = items(o, "data");
	char		 path[32];

	out[0] = '\0';
	for (i = 0; i < n && i < 16; i++) {
		snprintf(path, sizeof(path), "data.%ld.id", i);
		v[i] = nz(jstr(o, path));
		for (j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			const char *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	}
	for (j = 0; j < i; j++)
		snprintf(out + strlen(out), len - strlen(out), "%s%s", j ? "|" : "", v[j]);
}

Test(businesses, hub_key_lists_its_own)
{
	char			*hub = fx_hub("pro"), *a = fx_business(hub, NULL);
	char			*b = fx_business(hub, NULL), *c = fx_business(hub, NULL);
	char			*other_hub = fx_hub("pro"), *stranger = fx_business(other_hub, NULL);
	char			*hk = fx_key("hub", hub);
	char			*want = fx_value("SELECT string_agg(id::text, '|' ORDER BY id::text "
	    "COLLATE \"C\") FROM calendence.businesses WHERE hub_id = $1", hub, NULL);
	char			 got[512];
	struct http_resp	 r;
	const struct page_want	 w = { 1, 1, 1, 15, 3, 3, 3, "/api/v1/businesses?page=1",
				    "/api/v1/businesses?page=1", NULL, NULL };

	fx_exec("UPDATE calendence.businesses SET active = false WHERE id = $1", c, NULL);
	get_as("/api/v1/businesses", hk, NULL, &r);
	expect_page(&r, "/api/v1/businesses", &w, "hub key");
	ids(r.json, got, sizeof(got));
	cr_expect_str_eq(got, nz(want));
	for (long i = 0; i < items(r.json, "data") && i < 10; i++) {
		char		 p[32];
		const char	*id;

		snprintf(p, sizeof(p), "data.%ld", i);
		id = nz(jstr(jget(r.json, p), "id"));
		expect_business(r.json, p, id, "list item");
		if (strcmp(id, c) == 0)
			cr_expect(!json_object_get_boolean(jget(jget(r.json, p), "active")),
			    "the inactive business shows active");
	}
	http_resp_free(&r);

	/* the Calendence-Business header is ignored here */
	get_as("/api/v1/businesses", hk, stranger, &r);
	cr_expect_eq(r.status, 200, "%s", r.body);
	ids(r.json, got, sizeof(got));
	cr_expect_str_eq(got, nz(want), "with another hub's business in the header");
	http_resp_free(&r);
	get_as("/api/v1/businesses?per_page=2&page=2", hk, "not-a-uuid", &r);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect_eq(jint(r.json, "meta.total"), 3);
	cr_expect_eq(items(r.json, "data"), 1);
	http_resp_free(&r);
	free_all(want, hk, stranger, other_hub, c, b, a, hub, NULL);
}

Test(businesses, business_key_lists_only_itself)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*sibling = fx_business(hub, NULL), *bk = fx_key("business", biz);
	struct http_resp	 r;
	const struct page_want	 w = { 1, 1, 1, 15, 1, 1, 1, "/api/v1/businesses?page=1",
				    "/api/v1/businesses?page=1", NULL, NULL };

	get_as("/api/v1/businesses", bk, NULL, &r);
	expect_page(&r, "/api/v1/businesses", &w, "business key");
	expect_business(r.json, "data.0", biz, "the one item");
	http_resp_free(&r);
	/* the header is ignored on /businesses, even naming a sibling */
	get_as("/api/v1/businesses", bk, sibling, &r);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect_eq(items(r.json, "data"), 1);
	cr_expect_str_eq(nz(jstr(r.json, "data.0.id")), biz);
	http_resp_free(&r);
	free_all(bk, sibling, biz, hub, NULL);
}

Test(businesses, get_one_or_not_found)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*sibling = fx_business(hub, NULL);
	char			*other_hub = fx_hub("pro"), *stranger = fx_business(other_hub, NULL);
	char			*hk = fx_key("hub", hub), *bk = fx_key("business", biz);
	char			*nobody = fx_value("SELECT gen_random_uuid()::text", NULL);
	char			*upper = fx_value("SELECT upper($1)", biz, NULL);
	char			 path[160];
	struct http_resp	 r;
	struct {
		const char	*what;
		const char	*token;
		const char	*id;
		const char	*header;
		int		 status;
	} rows[] = {
		{ "hub key, own business", hk, biz, NULL, 200 },
		{ "hub key, its other business", hk, sibling, NULL, 200 },
		{ "hub key, header of another hub", hk, biz, stranger, 200 },
		{ "business key, itself", bk, biz, NULL, 200 },
		{ "business key, itself, header of a sibling", bk, biz, sibling, 200 },
		{ "hub key, another hub's business", hk, stranger, NULL, 404 },
		{ "hub key, another hub's, header naming it", hk, stranger, stranger, 404 },
		{ "hub key, nonexistent", hk, nobody, NULL, 404 },
		{ "hub key, malformed", hk, "not-a-uuid", NULL, 404 },
		{ "hub key, uppercase", hk, upper, NULL, 404 },
		{ "business key, a sibling", bk, sibling, NULL, 404 },
		{ "business key, another hub's", bk, stranger, NULL, 404 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(path, sizeof(path), "/api/v1/businesses/%s", rows[i].id);
		get_as(path, rows[i].token, rows[i].header, &r);
		if (rows[i].status == 404)
			expect_not_found(&r, rows[i].what);
		else {
			cr_expect_eq(r.status, 200, "%s: %d %s", rows[i].what, r.status, r.body);
			cr_expect(!jhas(r.json, "data"), "%s: wrapped", rows[i].what);
			expect_business(r.json, "", rows[i].id, rows[i].what);
		}
		http_resp_free(&r);
	}
	free_all(upper, nobody, bk, hk, stranger, other_hub, sibling, biz, hub, NULL);
}

/*
 * A query parameter the route does not take is 422 validation_failed naming
 * it (the first, in the order sent), with the names the route takes; known
 * ones, also repeated, are served. Step 5: after credentials and permission,
 * before the body.
 */
Test(services, unknown_query_parameter_is_422_naming_it)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*bk = fx_key("business", biz), *pub = fx_key("publishable", biz);
	const char		*origin[] = { "Origin: https://shop.example",
				    "Access-Control-Request-Method: GET", NULL };
	char			*svc, path[128];
	struct http_resp	 r;
	int			 i;

	for (i = 1; i <= 3; i++) {
		snprintf(path, sizeof(path), "S%d", i);
		free(fx_service(biz, path, 1));
	}
	svc = fx_value("SELECT id::text FROM calendence.services WHERE business_id = $1 "
	    "ORDER BY name LIMIT 1", biz, NULL);

	get_as("/api/v1/services?limit=5", bk, NULL, &r);
	expect_error(&r, 422, "validation_failed", "limit", "?limit=5");
	cr_expect_str_eq(nz(jstr(r.json, "error.message")),
	    "Unknown parameter \"limit\"; this endpoint takes page and per_page.", "%s",
	    r.body);
	http_resp_free(&r);
	get_as("/api/v1/services?page=1&offset=1&limit=5", bk, NULL, &r);
	expect_error(&r, 422, "validation_failed", "offset", "the first unknown one");
	http_resp_free(&r);
	get_as("/api/v1/services?page=1&per_page=2", bk, NULL, &r);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect_eq(items(r.json, "data"), 2, "%s", r.body);
	http_resp_free(&r);
	get_as("/api/v1/services?per_page=1&per_page=2&page=1&page=2", bk, NULL, &r);
	cr_expect_eq(r.status, 200, "repeated: %s", r.body);
	cr_expect_eq(jint(r.json, "meta.per_page"), 1, "the first value counts: %s", r.body);
	http_resp_free(&r);

	/* a route that takes none */
	snprintf(path, sizeof(path), "/api/v1/services/%s?expand=staff", svc);
	get_as(path, bk, NULL, &r);
	expect_error(&r, 422, "validation_failed", "expand", path);
	cr_expect_str_eq(nz(jstr(r.json, "error.message")),
	    "Unknown parameter \"expand\"; this endpoint takes no query parameters.", "%s",
	    r.body);
	http_resp_free(&r);
	/* before the body: a POST with a malformed one names the parameter */
	cr_assert_eq(http_post("/api/v1/bookings/hold?dry_run=1", bk, NULL, "{nope", &r), 0);
	expect_error(&r, 422, "validation_failed", "dry_run", "POST with a bad body");
	http_resp_free(&r);

	/* after credentials and permission; the preflight is not concerned */
	get_as("/api/v1/services?limit=5", NULL, NULL, &r);
	cr_expect_eq(r.status, 401, "no key: %s", r.body);
	http_resp_free(&r);
	get_as("/api/v1/services?limit=5", pub, NULL, &r);
	expect_error(&r, 403, "key_type_not_allowed", NULL, "publishable key, ?limit=5");
	http_resp_free(&r);
	cr_assert_eq(http_request("OPTIONS", "/api/v1/services?limit=5", origin, NULL, 0,
	    &r), 0);
	cr_expect_eq(r.status, 204, "preflight: %d %s", r.status, r.body);
	http_resp_free(&r);
	free_all(svc, pub, bk, biz, hub, NULL);
}
