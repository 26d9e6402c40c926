/*
 * e2e_hostile.c: a catalogue of hostile requests (issue 5, item 3). Each row
 * is sent as raw bytes through the real lighttpd to the real workers, and
 * gets its exact answer: status, error.code and a JSON Content-Type when we
 * answer, or lighttpd's own status (and no Request-Id, which only we set)
 * where lighttpd refuses the request before any worker sees it. After each
 * row the workers still answer, none of them was replaced (a crashed worker
 * is respawned by lighttpd under a new pid), and the business's rows are
 * exactly as before (fx_business_digest()).
 *
 * Covered elsewhere, not repeated here: bodies over the cap, other media
 * types, non-object JSON and the UTF-8 and RFC 8259 rows on POST /session
 * (e2e_http.c); malformed and unknown tokens (e2e_auth.c).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "fixture.h"
#include "http.h"
#include "api.h"

#define MAX_WORKERS	16
#define SQL_OR		"%27%20OR%201%3D1%20--"			/* ' OR 1=1 -- */
#define SQL_DROP	"%27%3B%20DROP%20TABLE%20calendence.api_keys%3B%20--"

/* A business to attack, and what must hold after each attack. */
struct scene {
	struct fx_shop	 s;
	char		*digest;
	long		 pids[MAX_WORKERS];
	int		 npids;
};

static void
scene_init(struct scene *sc)
{
	fx_shop(&sc->s, "pro");
	sc->digest = fx_business_digest(sc->s.biz);
	sc->npids = http_worker_pids(sc->pids, MAX_WORKERS);
}

static void
scene_free(struct scene *sc)
{
	fx_shop_free(&sc->s);
	free(sc->digest);
}

/*
 * The workers live and the business is untouched: a good key still gets its
 * services (more requests than the pool has workers), no worker was replaced,
 * and the business's digest and the tables are as before.
 */
static void
expect_intact(const struct scene *sc, const char *what)
{
	struct http_resp	 r;
	long			 pids[MAX_WORKERS];
	int			 n, i;
	char			*d, *tables;

	for (i = 0; i < 4; i++) {
		cr_assert_eq(http_get("/api/v1/services", sc->s.key, NULL, &r), 0, "%s", what);
		cr_expect_eq(r.status, 200, "%s: then GET /services: %d %s", what, r.status,
		    r.body);
		cr_expect_str_eq(nz(jstr(r.json, "data.0.id")), sc->s.svc, "%s", what);
		http_resp_free(&r);
	}
	if (sc->npids > 0) {
		n = http_worker_pids(pids, MAX_WORKERS);
		cr_expect_eq(n, sc->npids, "%s: %d workers, were %d", what, n, sc->npids);
		for (i = 0; i < n && i < sc->npids; i++)
			cr_expect_eq(pids[i], sc->pids[i], "%s: worker %ld replaced by %ld",
			    what, sc->pids[i], pids[i]);
	}
	d = fx_business_digest(sc->s.biz);
	cr_expect_str_eq(d, sc->digest, "%s: the business's rows changed", what);
	free(d);
	tables = fx_value("SELECT count(*) FROM pg_tables WHERE schemaname = 'calendence' "
	    "AND tablename IN ('api_keys', 'businesses', 'hubs', 'services', "
	    "'reservations', 'sessions')", NULL);
	cr_expect_str_eq(nz(tables), "6", "%s: tables gone", what);
	free(tables);
}

/*
 * The answer: 'status'; 'code' "" means an answer of lighttpd's own (no
 * Request-Id: the request never reached us); else ours, in JSON, with that
 * error.code ("-" for a success).
 */
static void
expect_answer(const struct http_resp *r, int status, const char *code, const char *what)
{
	const char	*ct = http_header(r, "Content-Type");

	cr_expect_eq(r->status, status, "%s: %d, want %d: %.300s", what, r->status, status,
	    r->body);
	if (code[0] == '\0') {
		cr_expect_null(http_header(r, "Request-Id"), "%s: answered by a worker", what);
		return;
	}
	cr_expect(ct != NULL && strncmp(ct, "application/json", 16) == 0,
	    "%s: Content-Type %s", what, nz(ct));
	cr_expect_not_null(http_header(r, "Request-Id"), "%s: no Request-Id", what);
	if (status >= 400)
		cr_expect_str_eq(nz(jstr(r->json, "error.code")), code, "%s: %.300s", what,
		    r->body);
}

/* --- the catalogue: raw requests --- */

/*
 * One row. The request is raw bytes with placeholders, replaced at run time:
 * {H} the usual header lines (Host, Connection: close, X-Forwarded-For with
 * this process's address), {KEY} the business key, {PUB} the publishable key,
 * {SVC} {BIZ} {LOC} {STAFF} {BOOKING} {HOLD} the shop's ids, {DAY} the
 * business-local date 10 days ahead (inside the booking horizon), {BIG:n} n bytes
 * of 'a'. 'len' counts the bytes of a template that holds NULs (0: strlen).
 * Criterion runs each row in a process of its own: strings are arrays.
 */
struct row {
	char	 what[64];
	char	 req[480];
	int	 len;
	int	 status;
	char	 code[24];	/* "": lighttpd answers */
	char	 param[24];	/* error.param, when not empty */
};

#define GETK(path)	"GET " path " HTTP/1.0\r\n{H}Authorization: Bearer {KEY}\r\n\r\n"
#define POSTK(path, body) "POST " path " HTTP/1.0\r\n{H}Authorization: Bearer {KEY}\r\n" \
	"Content-Type: application/json\r\nContent-Length: {LEN}\r\n\r\n" body
#define NUL_ROW(what, req, status) { what, req, sizeof(req) - 1, status, "", "" }

static const struct row rows[] = {
	/* NUL bytes and CR/LF: lighttpd refuses a header and CR/LF anywhere */
	NUL_ROW("NUL in a header value", "GET /api/v1/services HTTP/1.0\r\n{H}"
	    "X-Note: a\0b\r\nAuthorization: Bearer {KEY}\r\n\r\n", 400),
	/*
	 * but not a raw control byte in the request line any more: lighttpd
	 * 1.4.69 ties it to url-ctrls-reject, which conf/lighttpd.conf turns
	 * off for the encoded ones below. FastCGI parameters are C strings to
	 * us, so the URL ends at a NUL: answered as /api/v1/services (no key)
	 */
	{ "NUL in the path", "GET /api/v1/services\0x HTTP/1.0\r\n{H}\r\n",
	    sizeof("GET /api/v1/services\0x HTTP/1.0\r\n{H}\r\n") - 1, 401,
	    "missing_api_key", "" },
	{ "control byte in the path", "GET /api/v1/services\x01 HTTP/1.0\r\n{H}"
	    "Authorization: Bearer {KEY}\r\n\r\n", 0, 404, "not_found", "" },
	{ "control byte in a value", "GET /api/v1/services?page=1\x7f HTTP/1.0\r\n{H}"
	    "Authorization: Bearer {KEY}\r\n\r\n", 0, 422, "validation_failed", "page" },
	NUL_ROW("NUL after the key", "GET /api/v1/services HTTP/1.0\r\n{H}"
	    "Authorization: Bearer {KEY}\0\r\n\r\n", 400),
	/* encoded, they reach us (conf/lighttpd.conf: JSON answers, not its HTML 400) */
	{ "%00 in the path", GETK("/api/v1/services/%00"), 0, 404, "not_found", "" },
	{ "%00 in the query", GETK("/api/v1/services?page=%00"), 0, 422,
	    "validation_failed", "page" },
	{ "%01 in the query", GETK("/api/v1/services?page=%01"), 0, 422,
	    "validation_failed", "page" },
	{ "%0A in a filter", GETK("/api/v1/bookings?status=confirmed%0A"), 0, 422,
	    "validation_failed", "status" },
	{ "%7F in the query", GETK("/api/v1/services?per_page=%7F"), 0, 422,
	    "validation_failed", "per_page" },
	{ "%FF in the query", GETK("/api/v1/bookings?from=%FF"), 0, 422,
	    "validation_failed", "from" },
	{ "%0D%0A in an unknown parameter", GETK("/api/v1/services?x=%0D%0A"), 0, 422,
	    "validation_failed", "x" },
	{ "control byte in a name", "GET /api/v1/services?a\x01" "b=1 HTTP/1.0\r\n{H}"
	    "Authorization: Bearer {KEY}\r\n\r\n", 0, 422, "validation_failed", "a?b" },
	{ "byte 0xFF in a name", "GET /api/v1/services?a\xff" "b=1 HTTP/1.0\r\n{H}"
	    "Authorization: Bearer {KEY}\r\n\r\n", 0, 422, "validation_failed", "a?b" },
	{ "%FF in a name", GETK("/api/v1/services?a%FF=1"), 0, 422, "validation_failed",
	    "a%FF" },
	{ "CR inside a header value", "GET /api/v1/services HTTP/1.0\r\n{H}X-A: a\rb\r\n"
	    "Authorization: Bearer {KEY}\r\n\r\n", 0, 400, "", "" },
	{ "LF inside a header value", "GET /api/v1/services HTTP/1.0\r\n{H}X-A: a\nb: c\r\n"
	    "Authorization: Bearer {KEY}\r\n\r\n", 0, 400, "", "" },
	{ "CR LF in the path", "GET /api/v1/ser\r\nvices HTTP/1.0\r\n{H}\r\n", 0, 400, "", "" },
	/* sizes: lighttpd's header limit (8 KiB) answers 431, also for a long path */
	{ "10 KB Authorization", "GET /api/v1/services HTTP/1.0\r\n{H}"
	    "Authorization: Bearer {BIG:10240}\r\n\r\n", 0, 431, "", "" },
	{ "1 MB Authorization", "GET /api/v1/services HTTP/1.0\r\n{H}"
	    "Authorization: Bearer {BIG:1048576}\r\n\r\n", 0, 431, "", "" },
	{ "9 KB path", "GET /api/v1/services/{BIG:9216} HTTP/1.0\r\n{H}\r\n", 0, 431, "", "" },
	{ "7 KB Authorization reaches us", "GET /api/v1/services HTTP/1.0\r\n{H}"
	    "Authorization: Bearer {BIG:7168}\r\n\r\n", 0, 401, "invalid_api_key", "" },
	{ "7 KB path reaches us", GETK("/api/v1/services/{BIG:7168}"), 0, 404,
	    "not_found", "" },
	{ "7 KB query reaches us", GETK("/api/v1/services?page={BIG:7168}"), 0, 422,
	    "validation_failed", "page" },
	/* paths: lighttpd passes REQUEST_URI as sent; the router takes it literally */
	{ "%2F for a slash", GETK("/api/v1/services%2F{SVC}"), 0, 404, "not_found", "" },
	{ "%2f inside an id", GETK("/api/v1/services/{SVC}%2f"), 0, 404, "not_found", "" },
	{ "dot-dot segment", GETK("/api/v1/x/../services"), 0, 404, "not_found", "" },
	{ "encoded dot-dot", GETK("/api/v1/services/%2e%2e/services"), 0, 404,
	    "not_found", "" },
	{ "dot-dot above the root", GETK("/../../api/v1/services"), 0, 404, "not_found", "" },
	{ "an id with a suffix", GETK("/api/v1/services/{SVC}X"), 0, 404, "not_found", "" },
	{ "double slash", GETK("/api/v1//services"), 0, 404, "not_found", "" },
	/* methods: lighttpd knows WebDAV's and passes them; it refuses the rest */
	{ "unknown method", "FOO /api/v1/services HTTP/1.0\r\n{H}\r\n", 0, 501, "", "" },
	{ "method in lowercase", "get /api/v1/services HTTP/1.0\r\n{H}\r\n", 0, 501, "", "" },
	{ "PATCH", "PATCH /api/v1/services HTTP/1.0\r\n{H}Content-Length: 0\r\n\r\n", 0, 405,
	    "method_not_allowed", "" },
	{ "TRACE", "TRACE /api/v1/services HTTP/1.0\r\n{H}\r\n", 0, 405,
	    "method_not_allowed", "" },
	{ "PROPFIND", "PROPFIND /api/v1/services HTTP/1.0\r\n{H}\r\n", 0, 405,
	    "method_not_allowed", "" },
	{ "DELETE a booking", "DELETE /api/v1/bookings/{BOOKING} HTTP/1.0\r\n{H}"
	    "Authorization: Bearer {KEY}\r\n\r\n", 0, 405, "method_not_allowed", "" },
	/* Content-Length: lighttpd checks it and reads exactly that many bytes */
	{ "a body on GET", "GET /api/v1/services HTTP/1.0\r\n{H}Authorization: Bearer {KEY}"
	    "\r\nContent-Length: 5\r\n\r\nhello", 0, 400, "", "" },
	{ "negative Content-Length", "POST /api/v1/bookings/hold HTTP/1.0\r\n{H}"
	    "Content-Length: -1\r\n\r\n{}", 0, 400, "", "" },
	{ "20-digit Content-Length", "POST /api/v1/bookings/hold HTTP/1.0\r\n{H}"
	    "Content-Length: 99999999999999999999\r\n\r\n{}", 0, 400, "", "" },
	{ "two Content-Lengths", "POST /api/v1/bookings/hold HTTP/1.0\r\n{H}"
	    "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 0, 400, "", "" },
	{ "chunked body on HTTP/1.0", "POST /api/v1/bookings/hold HTTP/1.0\r\n{H}"
	    "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 0, 400, "", "" },
	{ "Content-Length shorter than the body", "POST /api/v1/bookings/hold HTTP/1.0\r\n"
	    "{H}Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\n"
	    "Content-Length: 2\r\n\r\n{}, \"service_id\": \"{SVC}\"}", 0, 422,
	    "validation_failed", "service_id" },
	/* JSON bodies */
	{ "nested 33 deep (json-c's limit 32)", POSTK("/api/v1/bookings/hold",
	    "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"), 0,
	    400, "invalid_json", "" },
	{ "nested 2000 deep", POSTK("/api/v1/bookings/hold", "{\"a\":{NEST:2000}}"), 0,
	    400, "invalid_json", "" },
	{ "duplicate key, the last counts", POSTK("/api/v1/bookings/hold",
	    "{\"service_id\":\"{SVC}\",\"service_id\":\"nope\"}"), 0, 422,
	    "validation_failed", "service_id" },
	{ "duplicate key, the last is good", POSTK("/api/v1/bookings/hold",
	    "{\"service_id\":\"nope\",\"service_id\":\"{SVC}\"}"), 0, 422,
	    "validation_failed", "location_id" },
	{ "number 1e400", POSTK("/api/v1/bookings/hold", "{\"service_id\":1e400}"), 0, 422,
	    "validation_failed", "service_id" },
	{ "number of 40 digits", POSTK("/api/v1/bookings/hold",
	    "{\"service_id\":-1234567890123456789012345678901234567890}"), 0, 422,
	    "validation_failed", "service_id" },
	{ "number -0.0e-400", POSTK("/api/v1/bookings/hold", "{\"starts_at\":-0.0e-400}"),
	    0, 422, "validation_failed", "starts_at" },
	{ "number 1e1000000 in the client", POSTK("/api/v1/bookings", "{\"hold_id\":"
	    "\"{HOLD}\",\"client\":{\"first_name\":1e1000000}}"), 0, 400, "invalid_json",
	    "" },
	{ "number -1e-1000000 in custom fields", POSTK("/api/v1/bookings", "{\"hold_id\":"
	    "\"x\",\"custom_field_values\":{\"a\":-1e-1000000}}"), 0, 400, "invalid_json",
	    "" },
	{ "number 1e999 in the client reaches SQL", POSTK("/api/v1/bookings",
	    "{\"hold_id\":\"{HOLD}\",\"client\":{\"first_name\":-1.5e999}}"), 0, 422,
	    "validation_failed", "client.first_name" },
	{ "offset +99:99 in starts_at", POSTK("/api/v1/bookings/hold", "{\"service_id\":"
	    "\"{SVC}\",\"location_id\":\"{LOC}\",\"starts_at\":"
	    "\"2030-01-01T10:00:00+99:99\"}"), 0, 422, "validation_failed", "starts_at" },
	{ "offset -16:00 in from", GETK("/api/v1/bookings?from=2030-01-01T10:00:00-16:00"),
	    0, 422, "validation_failed", "from" },
	{ "offset +99:00 in to", GETK("/api/v1/bookings?to=2030-01-01T10:00:00%2B99:00"),
	    0, 422, "validation_failed", "to" },
	{ "hour 24 in starts_at", POSTK("/api/v1/bookings/hold", "{\"service_id\":"
	    "\"{SVC}\",\"location_id\":\"{LOC}\",\"starts_at\":"
	    "\"2030-01-01T24:00:00Z\"}"), 0, 422, "validation_failed", "starts_at" },
	{ "hour 24 in from", GETK("/api/v1/bookings?from=2030-01-01T24:00:00Z"),
	    0, 422, "validation_failed", "from" },
	{ "minute 60 in to", GETK("/api/v1/bookings?to=2030-01-01T10:60:00Z"),
	    0, 422, "validation_failed", "to" },
	{ "invalid UTF-8", POSTK("/api/v1/bookings/hold", "{\"service_id\":\"\xff\"}"), 0,
	    400, "invalid_json", "" },
	{ "overlong slash", POSTK("/api/v1/bookings/hold", "{\"service_id\":\"\xc0\xaf\"}"),
	    0, 400, "invalid_json", "" },
	{ "overlong NUL", POSTK("/api/v1/bookings/hold", "{\"service_id\":\"\xc0\x80\"}"),
	    0, 400, "invalid_json", "" },
	{ "escaped NUL in a string", POSTK("/api/v1/bookings",
	    "{\"hold_id\":\"{HOLD}\",\"client\":{\"first_name\":\"a\\u0000b\"}}"), 0, 400,
	    "invalid_json", "" },
	{ "escaped NUL cutting an id", POSTK("/api/v1/bookings/hold",
	    "{\"service_id\":\"{SVC}\\u0000x\"}"), 0, 400, "invalid_json", "" },
	{ "escaped NUL in a key", POSTK("/api/v1/bookings",
	    "{\"hold_id\\u0000x\":\"{HOLD}\"}"), 0, 400, "invalid_json", "" },
	{ "escaped backslash then u0000", POSTK("/api/v1/bookings",
	    "{\"notes\":\"\\\\u0000\"}"), 0, 422, "validation_failed", "hold_id" },
	{ "lone surrogate escape", POSTK("/api/v1/bookings/hold",
	    "{\"service_id\":\"\\ud800\"}"), 0, 422, "validation_failed", "service_id" },
	{ "body of whitespace", POSTK("/api/v1/bookings/hold", "   "), 0, 400,
	    "invalid_json", "" },
	/* pagination */
	{ "per_page=1e9", GETK("/api/v1/services?per_page=1e9"), 0, 422,
	    "validation_failed", "per_page" },
	{ "per_page=1000000000", GETK("/api/v1/services?per_page=1000000000"), 0, 422,
	    "validation_failed", "per_page" },
	{ "page=-1", GETK("/api/v1/services?page=-1"), 0, 422, "validation_failed", "page" },
	{ "page=abc", GETK("/api/v1/locations?page=abc"), 0, 422, "validation_failed",
	    "page" },
	{ "page=0x10", GETK("/api/v1/bookings?page=0x10"), 0, 422, "validation_failed",
	    "page" },
	{ "page=1000000001", GETK("/api/v1/services?page=1000000001"), 0, 422,
	    "validation_failed", "page" },
	{ "page of 20 digits", GETK("/api/v1/services?page=99999999999999999999"), 0, 422,
	    "validation_failed", "page" },
	{ "page=+1", GETK("/api/v1/services?page=+1"), 0, 422, "validation_failed", "page" },
	{ "page=%zz", GETK("/api/v1/services?page=%zz"), 0, 422, "validation_failed", "page" },
	{ "page=1000000000 is the last allowed", GETK("/api/v1/services?page=1000000000"), 0,
	    200, "-", "" },
	/* SQL fragments, in every place that reaches a query */
	{ "SQL in a service id", GETK("/api/v1/services/" SQL_OR), 0, 404, "not_found", "" },
	{ "SQL in a business id", GETK("/api/v1/businesses/" SQL_DROP), 0, 404, "not_found",
	    "" },
	{ "SQL in a booking id", GETK("/api/v1/bookings/" SQL_OR), 0, 404, "not_found", "" },
	{ "SQL in a cancel id", POSTK("/api/v1/bookings/" SQL_DROP "/cancel", ""), 0, 404,
	    "not_found", "" },
	{ "SQL in page", GETK("/api/v1/services?page=1" SQL_OR), 0, 422,
	    "validation_failed", "page" },
	{ "SQL in per_page", GETK("/api/v1/bookings?per_page=" SQL_DROP), 0, 422,
	    "validation_failed", "per_page" },
	{ "SQL in status", GETK("/api/v1/bookings?status=" SQL_OR), 0, 422,
	    "validation_failed", "status" },
	{ "SQL in from", GETK("/api/v1/bookings?from=" SQL_DROP), 0, 422,
	    "validation_failed", "from" },
	{ "SQL in to", GETK("/api/v1/bookings?to=2026-01-01" SQL_OR), 0, 422,
	    "validation_failed", "to" },
	{ "SQL in an unknown parameter", GETK("/api/v1/services?cursor=" SQL_DROP), 0, 422,
	    "validation_failed", "cursor" },
	{ "SQL in a parameter's name", GETK("/api/v1/services?" SQL_OR "=1"), 0, 422,
	    "validation_failed", SQL_OR },
	{ "SQL in service_id", GETK("/api/v1/availability?service_id=" SQL_OR
	    "&date_from=2030-01-01&date_to=2030-01-02"), 0, 422, "validation_failed",
	    "service_id" },
	{ "SQL in date_from", GETK("/api/v1/availability?service_id={SVC}&date_from="
	    SQL_DROP "&date_to=2030-01-02"), 0, 422, "validation_failed", "date_from" },
	{ "SQL in date_to", GETK("/api/v1/availability?service_id={SVC}&date_from="
	    "2030-01-01&date_to=" SQL_OR), 0, 422, "validation_failed", "date_to" },
	{ "SQL in staff_id", GETK("/api/v1/availability?service_id={SVC}&date_from="
	    "{DAY}&date_to={DAY}&staff_id=" SQL_OR), 0, 422,
	    "validation_failed", "staff_id" },
	{ "SQL in location_id", GETK("/api/v1/availability?service_id={SVC}&date_from="
	    "{DAY}&date_to={DAY}&location_id=" SQL_DROP), 0, 422,
	    "validation_failed", "location_id" },
	{ "SQL in the hold's service_id", POSTK("/api/v1/bookings/hold",
	    "{\"service_id\":\"' OR 1=1 --\"}"), 0, 422, "validation_failed", "service_id" },
	{ "SQL in the hold's location_id", POSTK("/api/v1/bookings/hold",
	    "{\"service_id\":\"{SVC}\",\"location_id\":\"'; DROP TABLE "
	    "calendence.api_keys; --\"}"), 0, 422, "validation_failed", "location_id" },
	{ "SQL in the hold's starts_at", POSTK("/api/v1/bookings/hold",
	    "{\"service_id\":\"{SVC}\",\"location_id\":\"{LOC}\",\"starts_at\":"
	    "\"2030-01-01T10:00:00Z' OR 1=1 --\"}"), 0, 422, "validation_failed",
	    "starts_at" },
	{ "SQL in the hold's staff_id", POSTK("/api/v1/bookings/hold",
	    "{\"service_id\":\"{SVC}\",\"location_id\":\"{LOC}\",\"starts_at\":"
	    "\"{DAY}T16:00:00Z\",\"staff_id\":\"' OR 1=1 --\"}"), 0, 422,
	    "validation_failed", "staff_id" },
	{ "SQL in hold_id", POSTK("/api/v1/bookings",
	    "{\"hold_id\":\"'; DROP TABLE calendence.api_keys; --\"}"), 0, 422,
	    "validation_failed", "hold_id" },
	{ "SQL in the client", POSTK("/api/v1/bookings", "{\"hold_id\":\"{HOLD}\","
	    "\"client\":{\"first_name\":\"'; DROP TABLE calendence.api_keys; --\","
	    "\"last_name\":\"' OR 1=1 --\",\"email\":\"' OR 1=1 --\"},"
	    "\"notes\":\"'); DELETE FROM calendence.services; --\"}"), 0, 422,
	    "validation_failed", "client.email" },
	{ "SQL in custom fields", POSTK("/api/v1/bookings", "{\"hold_id\":\"{HOLD}\","
	    "\"client\":{\"first_name\":\"A\",\"last_name\":\"B\",\"email\":\"a@b.example\","
	    "\"phone\":\"' OR 1=1 --\"},\"custom_field_values\":{\"'; DROP TABLE "
	    "calendence.api_keys; --\":\"x\"}}"), 0, 422, "validation_failed",
	    "client.phone" },
	{ "SQL in Calendence-Business", "GET /api/v1/services HTTP/1.0\r\n{H}"
	    "Authorization: Bearer {KEY}\r\nCalendence-Business: ' OR 1=1 --\r\n\r\n", 0, 403,
	    "business_not_accessible", "" },
	{ "SQL in Idempotency-Key", "POST /api/v1/bookings/hold HTTP/1.0\r\n{H}"
	    "Authorization: Bearer {KEY}\r\nIdempotency-Key: ';DROP/**/TABLE/**/"
	    "calendence.api_keys;--\r\nContent-Type: application/json\r\n"
	    "Content-Length: 2\r\n\r\n{}", 0, 422, "validation_failed", "service_id" },
	{ "SQL with blanks in Idempotency-Key", "POST /api/v1/bookings HTTP/1.0\r\n{H}"
	    "Authorization: Bearer {KEY}\r\nIdempotency-Key: ' OR 1=1 --\r\n"
	    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 0, 422,
	    "validation_failed", "Idempotency-Key" },
	{ "SQL in Origin", "GET /api/v1/services HTTP/1.0\r\n{H}Authorization: Bearer {KEY}"
	    "\r\nOrigin: https://a.example' OR 1=1 --\r\n\r\n", 0, 200, "-", "" },
	{ "SQL in Authorization", "GET /api/v1/services HTTP/1.0\r\n{H}"
	    "Authorization: Bearer ' OR 1=1 --\r\n\r\n", 0, 401, "invalid_api_key", "" },
	{ "SQL as the publishable key's Origin", "POST /api/v1/session HTTP/1.0\r\n{H}"
	    "Authorization: Bearer {PUB}\r\nOrigin: ' OR pg_sleep(5) --\r\n"
	    "Content-Length: 0\r\nCalendence-Business: {BIZ}' --\r\n\r\n", 0, 403,
	    "business_not_accessible", "" },
};

ParameterizedTestParameters(hostile, row)
{
	return cr_make_param_array(struct row, rows, sizeof(rows) / sizeof(rows[0]));
}

/* Appends len bytes to *out (of *cap), growing it. */
static void
put(char **out, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		cr_assert_not_null(*out = realloc(*out, *cap));
	}
	memcpy(*out + *len, s, n);
	*len += n;
	(*out)[*len] = '\0';
}

/* A placeholder's text; big and nest are filled for {BIG:n} and {NEST:n}. */
static const char *
placeholder(const struct scene *sc, const char *name, size_t nlen, char **tmp)
{
	static const struct { const char *name; size_t off; } ids[] = {
		{ "KEY", offsetof(struct fx_shop, key) },
		{ "SVC", offsetof(struct fx_shop, svc) },
		{ "BIZ", offsetof(struct fx_shop, biz) },
		{ "LOC", offsetof(struct fx_shop, loc) },
		{ "STAFF", offsetof(struct fx_shop, staff) },
		{ "BOOKING", offsetof(struct fx_shop, booking) },
		{ "HOLD", offsetof(struct fx_shop, hold) },
	};
	long	 n;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (strlen(ids[i].name) == nlen && memcmp(name, ids[i].name, nlen) == 0)
			return *(char *const *)((const char *)&sc->s + ids[i].off);
	if (nlen == 3 && memcmp(name, "PUB", 3) == 0)
		return sc->s.pub;
	if (nlen == 3 && memcmp(name, "DAY", 3) == 0) {
		*tmp = fx_value("SELECT to_char((now() AT TIME ZONE b.timezone)::date + 10, "
		    "'YYYY-MM-DD') FROM calendence.businesses b WHERE b.id = $1", sc->s.biz,
		    NULL);
		cr_assert_not_null(*tmp);
		return *tmp;
	}
	if (nlen == 1 && name[0] == 'H') {
		cr_assert_not_null(*tmp = malloc(128));
		snprintf(*tmp, 128, "Host: 127.0.0.1\r\nConnection: close\r\n"
		    "X-Forwarded-For: %s\r\n", http_client_ip());
		return *tmp;
	}
	if (nlen > 4 && memcmp(name, "BIG:", 4) == 0) {
		n = atol(name + 4);
		cr_assert_not_null(*tmp = malloc((size_t)n + 1));
		memset(*tmp, 'a', (size_t)n);
		(*tmp)[n] = '\0';
		return *tmp;
	}
	if (nlen > 5 && memcmp(name, "NEST:", 5) == 0) {
		n = atol(name + 5);
		cr_assert_not_null(*tmp = malloc(2 * (size_t)n + 1));
		memset(*tmp, '[', (size_t)n);
		memset(*tmp + n, ']', (size_t)n);
		(*tmp)[2 * n] = '\0';
		return *tmp;
	}
	cr_assert_fail("unknown placeholder {%.*s}", (int)nlen, name);
	return NULL;
}

/*
 * The row's request with its placeholders replaced; {LEN} becomes the length
 * of what follows the blank line. The caller frees it.
 */
static char *
expand(const struct scene *sc, const struct row *rw, size_t *outlen)
{
	size_t		 tlen = rw->len > 0 ? (size_t)rw->len : strlen(rw->req);
	size_t		 len = 0, cap = 0, i, end;
	char		*out = NULL, *tmp, num[16];
	const char	*v, *blank;
	size_t		 n;
	long		 lenpos = -1;

	for (i = 0; i < tlen; i++) {
		if (rw->req[i] != '{' || (end = i + 1) >= tlen)
			goto literal;
		while (end < tlen && rw->req[end] != '}' &&
		    ((rw->req[end] >= 'A' && rw->req[end] <= 'Z') || rw->req[end] == ':' ||
		    (rw->req[end] >= '0' && rw->req[end] <= '9')))
			end++;
		if (end >= tlen || rw->req[end] != '}' || end == i + 1)
			goto literal;
		if (end - i - 1 == 3 && memcmp(rw->req + i + 1, "LEN", 3) == 0) {
			lenpos = (long)len;
			put(&out, &len, &cap, "0000000000", 10);
		} else {
			tmp = NULL;
			v = placeholder(sc, rw->req + i + 1, end - i - 1, &tmp);
			put(&out, &len, &cap, v, strlen(v));
			free(tmp);
		}
		i = end;
		continue;
literal:
		put(&out, &len, &cap, rw->req + i, 1);
	}
	if (lenpos >= 0) {
		/* the body starts after the first blank line */
		cr_assert_not_null(blank = strstr(out, "\r\n\r\n"));
		snprintf(num, sizeof(num), "%zu", len - (size_t)(blank + 4 - out));
		n = strlen(num);
		memmove(out + lenpos + n, out + lenpos + 10, len - (size_t)lenpos - 10 + 1);
		memcpy(out + lenpos, num, n);
		len -= 10 - n;
	}
	*outlen = len;
	return out;
}

ParameterizedTest(struct row *rw, hostile, row)
{
	struct scene		 sc;
	struct http_resp	 r;
	char			*req;
	size_t			 len;

	scene_init(&sc);
	req = expand(&sc, rw, &len);
	cr_assert_eq(http_raw(req, len, &r), 0, "%s: no answer", rw->what);
	expect_answer(&r, rw->status, rw->code, rw->what);
	if (rw->param[0] != '\0')
		cr_expect_str_eq(nz(jstr(r.json, "error.param")), rw->param, "%s: %.300s",
		    rw->what, r.body);
	http_resp_free(&r);
	free(req);
	expect_intact(&sc, rw->what);
	scene_free(&sc);
}

/* --- clients that never finish their request --- */

#define SLOW_HEAD	"POST /api/v1/session HTTP/1.0\r\nHost: 127.0.0.1\r\n" \
	"X-Forwarded-For: %s\r\nAuthorization: Bearer %s\r\n" \
	"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"

/*
 * A token sent where no token belongs, in the URL path: a plain 404, and
 * the workers' log line of the request shows no token (finding 7 of issue
 * 11: it showed it in full). The log is searched by the run's secrets
 * check (tests/secrets.sh), which knows this token from the fixture.
 */
Test(hostile, a_token_in_the_path_is_not_logged)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*key = fx_key("business", biz), path[256];
	struct http_resp	 r;

	snprintf(path, sizeof(path), "/api/v1/services/%s", key);
	cr_assert_eq(http_get(path, key, NULL, &r), 0);
	cr_expect_eq(r.status, 404, "%d %s", r.status, r.body);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/%s/%.20s%%%02X%s", key, key + 8,
	    (unsigned char)key[28], key + 29);
	cr_assert_eq(http_get(path, NULL, NULL, &r), 0);
	cr_expect_eq(r.status, 404, "%d %s", r.status, r.body);
	http_resp_free(&r);
	free(hub), free(biz), free(key);
}

/* A POST /session that promises 1000 bytes of body and sends 500. */
static int
open_slow(const struct scene *sc)
{
	char	req[1024];
	int	n, fd;

	n = snprintf(req, sizeof(req), SLOW_HEAD, http_client_ip(), sc->s.pub);
	memset(req + n, ' ', 500);
	fd = http_open(req, (size_t)n + 500, 20);
	cr_assert_neq(fd, -1, "cannot connect");
	return fd;
}

/*
 * lighttpd buffers a request's body before it hands the request to a worker
 * (server.stream-request-body = 0, the default), so a client that stalls in
 * its body holds no worker: while more of them stall than the pool has
 * workers (3), other requests are served at once. lighttpd itself drops the
 * stalled connections after server.max-read-idle (5 s in tests/lib.sh),
 * without an answer, and no session was made.
 */
Test(hostile, slow_clients_hold_no_worker, .timeout = 40)
{
	struct scene		 sc;
	struct http_resp	 r;
	int			 fds[4], i;
	double			 t0, t;

	scene_init(&sc);
	for (i = 0; i < 4; i++)
		fds[i] = open_slow(&sc);
	t0 = now_sec();
	for (i = 0; i < 8; i++) {
		double	 one = now_sec();

		cr_assert_eq(http_get("/api/v1/services", sc.s.key, NULL, &r), 0);
		cr_expect_eq(r.status, 200, "request %d while clients stall: %d", i, r.status);
		http_resp_free(&r);
		one = now_sec() - one;
		/* tied-up workers would make one wait for lighttpd's 5 s */
		cr_expect_lt(one, 3.0, "request %d took %.2f s while 4 clients stalled", i,
		    one);
	}
	for (i = 0; i < 4; i++) {
		cr_assert_eq(http_finish(fds[i], &r), 0, "stalled client %d: not dropped", i);
		t = now_sec() - t0;
		cr_expect_eq(r.status, 0, "stalled client %d got an answer: %s", i, r.headers);
		cr_expect_eq(r.body_len, 0, "stalled client %d: %s", i, r.body);
		cr_expect_leq(t, 10.0, "stalled client %d dropped after %.1f s", i, t);
		http_resp_free(&r);
	}
	expect_intact(&sc, "after stalled clients");
	scene_free(&sc);
}

/* A body cut short by a client that closes its side: dropped, unanswered. */
Test(hostile, body_cut_short_by_half_close)
{
	struct scene		 sc;
	struct http_resp	 r;
	char			 req[1024];
	int			 n, fd;
	double			 t0;

	scene_init(&sc);
	n = snprintf(req, sizeof(req), "POST /api/v1/session HTTP/1.0\r\nHost: 127.0.0.1\r\n"
	    "X-Forwarded-For: %s\r\nAuthorization: Bearer %s\r\nContent-Type: "
	    "application/json\r\nContent-Length: 100\r\n\r\n{\"a\":1}", http_client_ip(),
	    sc.s.pub);
	cr_assert_neq(fd = http_open(req, (size_t)n, 10), -1);
	t0 = now_sec();
	cr_assert_eq(shutdown(fd, SHUT_WR), 0);
	cr_assert_eq(http_finish(fd, &r), 0, "not closed");
	cr_expect_eq(r.status, 0, "an answer: %s", r.headers);
	cr_expect_lt(now_sec() - t0, 2.0, "closed after %.1f s", now_sec() - t0);
	http_resp_free(&r);
	expect_intact(&sc, "after a half-closed body");
	scene_free(&sc);
}

/* --- a front end that lies: the worker spoken to over FastCGI --- */

/*
 * lighttpd hands a worker only well-formed requests with their whole body, so
 * what a careless or streaming front end may send is tried here directly: a
 * pool of our own (calendence.fcgi --listen, one worker, the test build next
 * to $ADMIN) on a Unix socket, spoken to as a web server would.
 */
struct pool {
	pid_t	pid;
	char	sock[108];
};

static void
pool_up(struct pool *p)
{
	const char	*admin = getenv("ADMIN");
	char		 dir[PATH_MAX], bin[PATH_MAX + 32];
	struct http_resp r;
	int		 null, i;

	cr_assert_not_null(admin, "ADMIN (the test build's calendence-admin) is not set");
	snprintf(dir, sizeof(dir), "%s", admin);
	snprintf(bin, sizeof(bin), "%s/calendence.fcgi", dirname(dir));
	snprintf(p->sock, sizeof(p->sock), "/tmp/calendence-hostile-%ld.sock",
	    (long)getpid());
	unlink(p->sock);
	cr_assert_neq(p->pid = fork(), -1);
	if (p->pid == 0) {
		if ((null = open("/dev/null", O_RDWR)) != -1) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		execl(bin, bin, "--listen", p->sock, "--workers", "1", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		const char	*params[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/healthz",
				    NULL };

		if (access(p->sock, F_OK) == 0 &&
		    fcgi_request(p->sock, params, NULL, 0, 0, 5, &r) == 0) {
			http_resp_free(&r);
			return;
		}
		usleep(100000);
	}
	cr_assert_fail("the pool did not start on %s (%s)", p->sock, bin);
}

static void
pool_down(struct pool *p)
{
	int	i, st;

	kill(p->pid, SIGTERM);
	for (i = 0; i < 100 && waitpid(p->pid, &st, WNOHANG) == 0; i++)
		usleep(100000);
	if (i == 100) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &st, 0);
	}
	unlink(p->sock);
}

/* The FastCGI parameters of a request, as lighttpd would send them. */
static void
fcgi_params(const char *params[12], char store[6][256], const char *method,
    const char *uri, const char *token, const char *length)
{
	int	n = 0;

	snprintf(store[0], 256, "REQUEST_METHOD=%s", method);
	snprintf(store[1], 256, "REQUEST_URI=%s", uri);
	snprintf(store[2], 256, "HTTP_AUTHORIZATION=Bearer %s", token);
	snprintf(store[3], 256, "REMOTE_ADDR=%s", http_client_ip());
	snprintf(store[4], 256, "CONTENT_LENGTH=%s", length ? length : "");
	for (int i = 0; i < 4; i++)
		params[n++] = store[i];
	if (length != NULL)
		params[n++] = store[4];
	params[n++] = "CONTENT_TYPE=application/json";
	params[n++] = "HTTP_HOST=127.0.0.1";
	params[n] = NULL;
}

Test(hostile_fcgi, lying_content_length, .timeout = 60)
{
	const struct {
		const char	*what;
		const char	*method;
		const char	*path;
		const char	*length;
		const char	*body;
		int		 status;
		const char	*code;
		const char	*message;	/* a part of error.message */
	} cases[] = {
		{ "body shorter than CONTENT_LENGTH", "POST", "/api/v1/bookings/hold",
		    "1000", "{}", 400, "invalid_request", "shorter" },
		{ "body longer than CONTENT_LENGTH", "POST", "/api/v1/bookings/hold", "2",
		    "{}xx", 400, "invalid_request", "longer" },
		{ "CONTENT_LENGTH without a body", "POST", "/api/v1/bookings/hold", "5", "",
		    400, "invalid_request", "shorter" },
		{ "a body without CONTENT_LENGTH", "POST", "/api/v1/bookings/hold", NULL,
		    "{\"service_id\":\"x\"}", 422, "validation_failed", "service_id" },
		{ "negative CONTENT_LENGTH", "POST", "/api/v1/bookings/hold", "-2", "{}", 400,
		    "invalid_request", "malformed" },
		{ "CONTENT_LENGTH 1e3", "POST", "/api/v1/bookings/hold", "1e3", "{}", 400,
		    "invalid_request", "malformed" },
		{ "CONTENT_LENGTH with a blank", "POST", "/api/v1/bookings/hold", "2 ", "{}",
		    400, "invalid_request", "malformed" },
		{ "CONTENT_LENGTH of 20 digits", "POST", "/api/v1/bookings/hold",
		    "99999999999999999999", "{}", 400, "invalid_request", "malformed" },
		{ "CONTENT_LENGTH over the cap", "POST", "/api/v1/bookings/hold", "1048576",
		    "{}", 413, "payload_too_large", "" },
		{ "a body on GET is read and ignored", "GET", "/api/v1/services", "5",
		    "hello", 200, "-", "" },
		{ "a short body on GET", "GET", "/api/v1/services", "50", "hello", 400,
		    "invalid_request", "shorter" },
	};
	struct scene		 sc;
	struct pool		 p;
	struct http_resp	 r;
	const char		*params[12];
	char			 store[6][256];

	scene_init(&sc);
	pool_up(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fcgi_params(params, store, cases[i].method, cases[i].path, sc.s.key,
		    cases[i].length);
		cr_assert_eq(fcgi_request(p.sock, params, cases[i].body, strlen(cases[i].body),
		    0, 10, &r), 0, "%s: no answer", cases[i].what);
		expect_answer(&r, cases[i].status, cases[i].code, cases[i].what);
		if (cases[i].status >= 400)
			cr_expect(strstr(nz(jstr(r.json, "error.message")), cases[i].message) !=
			    NULL, "%s: %s", cases[i].what, r.body);
		else
			cr_expect_str_eq(nz(jstr(r.json, "data.0.id")), sc.s.svc, "%s",
			    cases[i].what);
		http_resp_free(&r);
	}
	pool_down(&p);
	expect_intact(&sc, "after lying front ends");
	scene_free(&sc);
}

/* CR/LF in the parameters a front end passes on never become header lines. */
Test(hostile_fcgi, no_header_injection, .timeout = 60)
{
	struct scene		 sc;
	struct pool		 p;
	struct http_resp	 r;
	const char		*params[12];
	char			 store[6][256];
	const char		*extra[] = { "HTTP_ORIGIN=https://a.example\r\nX-Injected: 1",
				    "HTTP_HOST=evil.example\r\nX-Injected: 2",
				    "HTTP_CALENDENCE_BUSINESS=x\r\nX-Injected: 3", NULL };

	scene_init(&sc);
	pool_up(&p);
	for (int i = 0; extra[i] != NULL; i++) {
		fcgi_params(params, store, "GET", "/api/v1/services", sc.s.key, NULL);
		params[4] = extra[i];	/* in place of CONTENT_TYPE */
		cr_assert_eq(fcgi_request(p.sock, params, NULL, 0, 0, 10, &r), 0);
		cr_expect_null(http_header(&r, "X-Injected"), "%s:\n%s", extra[i], r.headers);
		cr_expect_null(http_header(&r, "Access-Control-Allow-Origin"), "%s", extra[i]);
		if (i == 1)
			cr_expect_eq(strncmp(nz(jstr(r.json, "links.first")),
			    "/api/v1/", 8), 0, "links from a bad Host: %s", r.body);
		if (i == 2)
			expect_answer(&r, 403, "business_not_accessible", extra[i]);
		else
			expect_answer(&r, 200, "-", extra[i]);
		http_resp_free(&r);
	}
	pool_down(&p);
	expect_intact(&sc, "after CR/LF in parameters");
	scene_free(&sc);
}

/*
 * A front end that streams the body (Apache's mod_proxy_fcgi does) and
 * stalls: the worker waits for the rest at most body_timeout seconds (30 by
 * default), and is free again the moment the front end gives up (its own
 * timeout, e.g. Apache's Timeout); the short body is then a 400, written to
 * nobody.
 */
Test(hostile_fcgi, stalled_front_end, .timeout = 60)
{
	struct scene		 sc;
	struct pool		 p;
	struct http_resp	 r;
	const char		*params[12];
	char			 store[6][256], half[500];
	int			 fd;
	double			 t0;

	scene_init(&sc);
	pool_up(&p);
	memset(half, ' ', sizeof(half));
	fcgi_params(params, store, "POST", "/api/v1/bookings/hold", sc.s.key, "1000");
	fd = fcgi_request(p.sock, params, half, sizeof(half), 1, 10, &r);
	cr_assert_neq(fd, -1);
	/* the pool's one worker is waiting for the body: nothing else is served */
	fcgi_params(params, store, "GET", "/api/v1/services", sc.s.key, NULL);
	cr_expect_eq(fcgi_request(p.sock, params, NULL, 0, 0, 1, &r), -1,
	    "answered while the worker waits for a body: %d", r.status);
	http_resp_free(&r);
	/* the front end gives up: the worker is free at once */
	close(fd);
	t0 = now_sec();
	cr_assert_eq(fcgi_request(p.sock, params, NULL, 0, 0, 10, &r), 0);
	expect_answer(&r, 200, "-", "after the front end gave up");
	cr_expect_lt(now_sec() - t0, 3.0, "answered after %.1f s", now_sec() - t0);
	http_resp_free(&r);
	pool_down(&p);
	expect_intact(&sc, "after a stalled front end");
	scene_free(&sc);
}

/*
 * The same stalled front end that keeps its connection: after body_timeout
 * seconds (4 here: the probe's 1 s fits inside it on a loaded machine) the
 * worker stops waiting, answers the request 400 invalid_request, and serves
 * the next one.
 */
Test(hostile_fcgi, stalled_front_end_times_out, .timeout = 60)
{
	struct scene		 sc;
	struct pool		 p;
	struct http_resp	 r;
	const char		*params[12];
	char			 store[6][256], half[500], conf[64];
	FILE			*f;
	int			 fd;
	double			 t0, t;

	snprintf(conf, sizeof(conf), "/tmp/calendence-hostile-%ld.conf", (long)getpid());
	cr_assert_not_null(f = fopen(conf, "w"));
	fputs("body_timeout = 4\n", f);
	fclose(f);
	cr_assert_eq(setenv("CALENDENCE_CONFIG", conf, 1), 0);
	scene_init(&sc);
	pool_up(&p);
	memset(half, ' ', sizeof(half));
	fcgi_params(params, store, "POST", "/api/v1/bookings/hold", sc.s.key, "1000");
	t0 = now_sec();
	fd = fcgi_request(p.sock, params, half, sizeof(half), 1, 10, &r);
	cr_assert_neq(fd, -1);
	/* within the timeout the pool's one worker still waits for the body */
	fcgi_params(params, store, "GET", "/api/v1/services", sc.s.key, NULL);
	cr_expect_eq(fcgi_request(p.sock, params, NULL, 0, 0, 1, &r), -1,
	    "answered while the worker waits for a body: %d", r.status);
	http_resp_free(&r);
	/* then it gives up on the body, with an answer to the front end */
	cr_assert_eq(fcgi_finish(fd, &r), 0, "no answer to the stalled request");
	t = now_sec() - t0;
	expect_answer(&r, 400, "invalid_request", "a body that stopped arriving");
	cr_expect_geq(t, 3.8, "gave up after %.1f s, before body_timeout", t);
	cr_expect_lt(t, 9.0, "gave up after %.1f s", t);
	http_resp_free(&r);
	/* and serves the next request */
	cr_assert_eq(fcgi_request(p.sock, params, NULL, 0, 0, 10, &r), 0);
	expect_answer(&r, 200, "-", "after the body timed out");
	http_resp_free(&r);
	pool_down(&p);
	unlink(conf);
	expect_intact(&sc, "after a timed-out front end");
	scene_free(&sc);
}
