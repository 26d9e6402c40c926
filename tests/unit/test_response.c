/* test_response.c: the error envelope and the wire form of a response (fcgi/response.c). */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "db.h"
#include "response.h"

#define RID	"req_0123456789abcDEF"

/* A request as the handlers see it, without an app: only id, origin, is_head. */
static void
request(struct request *r, const char *origin, int head)
{
	req_init(r, NULL);
	strcpy(r->id, RID);
	r->origin = origin;
	r->is_head = head;
}

/* The whole FastCGI response text of r; the caller frees it with buf_cleanup. */
static const char *
wire(struct request *r, struct buf *w)
{
	buf_init(w);
	resp_write(r, w);
	return buf_str(w);
}

static int
ends_with(const struct buf *w, const char *tail)
{
	size_t	 n = strlen(tail);

	return w->len >= n && memcmp(w->p + w->len - n, tail, n) == 0;
}

/* A string member of error, or NULL when it is JSON null. */
static const char *
error_field(json_object *root, const char *name)
{
	json_object	*e, *v;

	cr_assert(json_object_object_get_ex(root, "error", &e));
	cr_assert(json_object_object_get_ex(e, name, &v), "no error.%s", name);
	return v == NULL ? NULL : json_object_get_string(v);
}

Test(response, error_type_per_status)
{
	static const struct {
		int		 status;
		const char	*type;
		const char	*reason;
	} cases[] = {
		{ 400, "invalid_request_error", "Bad Request" },
		{ 401, "authentication_error", "Unauthorized" },
		{ 403, "permission_error", "Forbidden" },
		{ 404, "invalid_request_error", "Not Found" },
		{ 405, "invalid_request_error", "Method Not Allowed" },
		{ 409, "invalid_request_error", "Conflict" },
		{ 413, "invalid_request_error", "Payload Too Large" },
		{ 415, "invalid_request_error", "Unsupported Media Type" },
		{ 422, "invalid_request_error", "Unprocessable Content" },
		{ 429, "rate_limit_error", "Too Many Requests" },
		{ 500, "api_error", "Internal Server Error" },
		{ 503, "api_error", "Service Unavailable" },
	};
	struct request	 r;
	json_object	*root;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_expect_str_eq(resp_error_type(cases[i].status), cases[i].type,
		    "%d", cases[i].status);
		cr_expect_str_eq(resp_reason(cases[i].status), cases[i].reason,
		    "%d", cases[i].status);
		request(&r, NULL, 0);
		resp_error(&r, cases[i].status, "some_code", NULL, "msg");
		cr_expect_eq(r.status, cases[i].status);
		cr_expect_eq(r.has_body, 1);
		root = json_tokener_parse(buf_str(&r.out));
		cr_assert_not_null(root, "%s", buf_str(&r.out));
		cr_expect_str_eq(error_field(root, "type"), cases[i].type, "%d",
		    cases[i].status);
		json_object_put(root);
		req_cleanup(&r);
	}
}

Test(response, reasons_of_success_and_unknown)
{
	cr_expect_str_eq(resp_reason(200), "OK");
	cr_expect_str_eq(resp_reason(201), "Created");
	cr_expect_str_eq(resp_reason(204), "No Content");
	cr_expect_str_eq(resp_reason(418), "Unknown");
	cr_expect_str_eq(resp_error_type(418), "api_error");
	cr_expect_str_eq(resp_error_type(200), "api_error");
}

/* The envelope, byte for byte, with param null and with param a string. */
Test(response, error_envelope_text)
{
	struct request	 r;

	request(&r, NULL, 0);
	resp_error(&r, 404, "not_found", NULL, "No such endpoint.");
	cr_expect_str_eq(buf_str(&r.out),
	    "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"not_found\","
	    "\"message\":\"No such endpoint.\",\"param\":null,"
	    "\"request_id\":\"" RID "\"}}");
	/* a second error replaces the first */
	resp_error(&r, 422, "validation_failed", "per_page",
	    "per_page must be a whole number from 1 to 50.");
	cr_expect_eq(r.status, 422);
	cr_expect_str_eq(buf_str(&r.out),
	    "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"validation_failed\","
	    "\"message\":\"per_page must be a whole number from 1 to 50.\","
	    "\"param\":\"per_page\",\"request_id\":\"" RID "\"}}");
	req_cleanup(&r);
}

/* Quotes and control characters are escaped; slashes are left alone. */
Test(response, error_envelope_escapes)
{
	struct request	 r;
	json_object	*root;

	request(&r, NULL, 0);
	resp_error(&r, 400, "business_required", "Calendence-Business/x",
	    "say \"hi\"\n\\");
	root = json_tokener_parse(buf_str(&r.out));
	cr_assert_not_null(root, "%s", buf_str(&r.out));
	cr_expect_str_eq(error_field(root, "message"), "say \"hi\"\n\\");
	cr_expect_str_eq(error_field(root, "param"), "Calendence-Business/x");
	cr_expect_str_eq(error_field(root, "code"), "business_required");
	cr_expect_str_eq(error_field(root, "request_id"), RID);
	cr_expect_null(strstr(buf_str(&r.out), "\\/"), "%s", buf_str(&r.out));
	json_object_put(root);
	req_cleanup(&r);
}

/*
 * The envelope is written without json-c (resp_error()), yet byte for byte
 * as json-c writes the same object (resp_json()): every byte in every
 * string, and param null or not.
 */
Test(response, error_envelope_as_json_c_writes_it)
{
	struct request	 r;
	json_object	*o, *e;
	char		 s[8];
	const char	*want;
	int		 c;

	for (c = 1; c < 256; c++) {
		snprintf(s, sizeof(s), "a%cb/", c);
		request(&r, NULL, 0);
		resp_error(&r, c % 2 ? 429 : 401, s, c % 3 ? s : NULL, s);
		e = json_object_new_object();
		json_object_object_add(e, "type",
		    json_object_new_string(c % 2 ? "rate_limit_error" : "authentication_error"));
		json_object_object_add(e, "code", json_object_new_string(s));
		json_object_object_add(e, "message", json_object_new_string(s));
		json_object_object_add(e, "param", c % 3 ? json_object_new_string(s) : NULL);
		json_object_object_add(e, "request_id", json_object_new_string(RID));
		o = json_object_new_object();
		json_object_object_add(o, "error", e);
		want = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE);
		cr_expect_str_eq(buf_str(&r.out), want, "byte %d", c);
		cr_expect_eq(r.out.len, strlen(want), "byte %d", c);
		cr_expect_eq(r.status, c % 2 ? 429 : 401);
		cr_expect_eq(r.has_body, 1);
		json_object_put(o);
		req_cleanup(&r);
	}
}

Test(response, wire_form_of_an_error)
{
	struct request	 r;
	struct buf	 w;
	char		 want[1024];
	const char	*body = "{\"error\":{\"type\":\"invalid_request_error\","
	    "\"code\":\"not_found\",\"message\":\"No such endpoint.\",\"param\":null,"
	    "\"request_id\":\"" RID "\"}}";

	request(&r, NULL, 0);
	resp_error(&r, 404, "not_found", NULL, "No such endpoint.");
	snprintf(want, sizeof(want),
	    "Status: 404 Not Found\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "Request-Id: " RID "\r\n"
	    "Cache-Control: no-store\r\n"
	    "\r\n%s", strlen(body), body);
	cr_expect_str_eq(wire(&r, &w), want);
	cr_expect_null(strstr(w.p, "Access-Control"));
	cr_expect_null(strstr(w.p, "RateLimit"));
	buf_cleanup(&w);
	req_cleanup(&r);
}

Test(response, wire_form_of_json_with_extra_headers)
{
	struct request	 r;
	struct buf	 w;

	request(&r, NULL, 0);
	resp_header(&r, "Allow", "%s", "GET, HEAD, OPTIONS");
	resp_header(&r, "Location", "/api/v1/x/%d", 7);
	resp_raw(&r, 201, "{\"a\":1}", 7);
	cr_expect_str_eq(wire(&r, &w),
	    "Status: 201 Created\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: 7\r\n"
	    "Request-Id: " RID "\r\n"
	    "Cache-Control: no-store\r\n"
	    "Allow: GET, HEAD, OPTIONS\r\n"
	    "Location: /api/v1/x/7\r\n"
	    "\r\n{\"a\":1}");
	buf_cleanup(&w);
	req_cleanup(&r);
}

/* resp_json consumes the object and writes it without slash escapes. */
Test(response, json_body)
{
	struct request	 r;
	json_object	*o = json_object_new_object();

	json_object_object_add(o, "path", json_object_new_string("/api/v1/services"));
	json_object_object_add(o, "n", json_object_new_int(3));
	request(&r, NULL, 0);
	resp_json(&r, 200, o);
	cr_expect_eq(r.status, 200);
	cr_expect_eq(r.has_body, 1);
	cr_expect_str_eq(buf_str(&r.out), "{\"path\":\"/api/v1/services\",\"n\":3}");
	req_cleanup(&r);
}

Test(response, cors_headers_only_with_an_origin)
{
	struct request	 r;
	struct buf	 w;
	const char	*s, *end;
	static const char *const exposed[] = {
		"Request-Id", "Retry-After", "X-RateLimit-Limit",
		"X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit",
		"RateLimit-Policy", "Idempotent-Replayed", "WWW-Authenticate", "Allow",
	};
	size_t		 i;

	request(&r, "https://shop.example", 0);
	resp_raw(&r, 200, "{}", 2);
	s = wire(&r, &w);
	cr_expect_not_null(strstr(s,
	    "\r\nAccess-Control-Allow-Origin: https://shop.example\r\n"), "%s", s);
	cr_expect_not_null(strstr(s, "\r\nVary: Origin\r\n"), "%s", s);
	cr_expect_not_null(strstr(s, "\r\nAccess-Control-Expose-Headers: Request-Id, "
	    "Idempotent-Replayed, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, "
	    "X-RateLimit-Reset, RateLimit, RateLimit-Policy, WWW-Authenticate, "
	    "Allow\r\n"), "%s", s);
	/* each field the widget must read is named in the list */
	s = strstr(s, "Access-Control-Expose-Headers: ");
	cr_assert_not_null(s);
	end = strstr(s, "\r\n");
	for (i = 0; i < sizeof(exposed) / sizeof(exposed[0]); i++) {
		const char *f = strstr(s, exposed[i]);

		cr_expect(f != NULL && f < end, "%s not exposed", exposed[i]);
	}
	cr_expect(ends_with(&w, "\r\n\r\n{}"), "%s", w.p);
	buf_cleanup(&w);
	req_cleanup(&r);

	request(&r, NULL, 0);
	resp_raw(&r, 200, "{}", 2);
	cr_expect_null(strstr(wire(&r, &w), "Access-Control"));
	cr_expect_null(strstr(w.p, "Vary"));
	buf_cleanup(&w);
	req_cleanup(&r);
}

/* HEAD: the very headers of GET, Content-Length included, and no body. */
Test(response, head_has_headers_but_no_body)
{
	struct request	 get, head;
	struct buf	 wg, wh;
	const char	*body = "{\"data\":[]}";

	request(&get, "https://shop.example", 0);
	request(&head, "https://shop.example", 1);
	resp_raw(&get, 200, body, strlen(body));
	resp_raw(&head, 200, body, strlen(body));
	wire(&get, &wg);
	wire(&head, &wh);
	cr_expect_eq(wh.len + strlen(body), wg.len);
	cr_expect_eq(memcmp(wg.p, wh.p, wh.len), 0, "%s\n---\n%s", wg.p, wh.p);
	cr_expect_not_null(strstr(wh.p, "\r\nContent-Length: 11\r\n"), "%s", wh.p);
	cr_expect(ends_with(&wh, "\r\n\r\n"), "%s", wh.p);
	buf_cleanup(&wg);
	buf_cleanup(&wh);
	req_cleanup(&get);
	req_cleanup(&head);
}

Test(response, no_content_has_no_length_and_no_body)
{
	struct request	 r;
	struct buf	 w;

	request(&r, NULL, 0);
	resp_raw(&r, 200, "{\"stale\":1}", 11);	/* resp_empty drops it */
	resp_empty(&r, 204);
	cr_expect_eq(r.has_body, 0);
	cr_expect_str_eq(wire(&r, &w),
	    "Status: 204 No Content\r\n"
	    "Request-Id: " RID "\r\n"
	    "Cache-Control: no-store\r\n"
	    "\r\n");
	buf_cleanup(&w);
	req_cleanup(&r);

	/* a preflight-like 204 with an origin and extra headers */
	request(&r, "https://shop.example", 0);
	resp_header(&r, "Access-Control-Max-Age", "%d", 600);
	resp_empty(&r, 204);
	wire(&r, &w);
	cr_expect_null(strstr(w.p, "Content-Length"), "%s", w.p);
	cr_expect_null(strstr(w.p, "Content-Type"), "%s", w.p);
	cr_expect(ends_with(&w, "\r\nAccess-Control-Max-Age: 600\r\n\r\n"), "%s", w.p);
	buf_cleanup(&w);
	req_cleanup(&r);
}

/* The rate headers of the request come between the fixed ones and the extra ones. */
Test(response, rate_headers_in_the_wire_form)
{
	struct request	 r;
	struct buf	 w;

	request(&r, NULL, 0);
	rl_fill(&r.rl, RL_KEY, 1000000030, 60, 2, 1000, 3, 1);
	resp_header(&r, "X-Extra", "1");
	resp_raw(&r, 200, "{}", 2);
	cr_expect_str_eq(wire(&r, &w),
	    "Status: 200 OK\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: 2\r\n"
	    "Request-Id: " RID "\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-RateLimit-Limit: 60\r\n"
	    "X-RateLimit-Remaining: 58\r\n"
	    "X-RateLimit-Reset: 1000000080\r\n"
	    "RateLimit-Policy: \"minute\";q=60;w=60, \"hour\";q=1000;w=3600\r\n"
	    "RateLimit: \"minute\";r=58;t=50, \"hour\";r=997;t=770\r\n"
	    "X-Extra: 1\r\n"
	    "\r\n{}");
	buf_cleanup(&w);
	req_cleanup(&r);
}

Test(response, unavailable_and_internal_error)
{
	struct request	 r;
	json_object	*root;

	request(&r, NULL, 0);
	resp_unavailable(&r, DB_UNAVAILABLE);
	cr_expect_eq(r.status, 503);
	cr_expect_str_eq(buf_str(&r.headers), "Retry-After: 5\r\n");
	root = json_tokener_parse(buf_str(&r.out));
	cr_assert_not_null(root);
	cr_expect_str_eq(error_field(root, "type"), "api_error");
	cr_expect_str_eq(error_field(root, "code"), "service_unavailable");
	json_object_put(root);
	req_cleanup(&r);

	request(&r, NULL, 0);
	resp_unavailable(&r, DB_ERROR);
	cr_expect_eq(r.status, 500);
	cr_expect_str_eq(buf_str(&r.headers), "");
	root = json_tokener_parse(buf_str(&r.out));
	cr_assert_not_null(root);
	cr_expect_str_eq(error_field(root, "type"), "api_error");
	cr_expect_str_eq(error_field(root, "code"), "internal_error");
	json_object_put(root);
	req_cleanup(&r);
}

/* A refusal: 429 rate_limited saying when to retry, and its headers. */
Test(response, rate_limited_in_the_wire_form)
{
	struct request	 r;
	struct buf	 w;
	char		 want[2048];
	const char	*body = "{\"error\":{\"type\":\"rate_limit_error\","
	    "\"code\":\"rate_limited\",\"message\":\"Too many requests; retry after "
	    "50 seconds.\",\"param\":null,\"request_id\":\"" RID "\"}}";

	request(&r, NULL, 0);
	rl_fill(&r.rl, RL_KEY, 1000000030, 60, 60, 1000, 3, 0);
	resp_rate_limited(&r);
	cr_expect_eq(r.status, 429);
	cr_expect_str_eq(r.error_code, "rate_limited");
	snprintf(want, sizeof(want),
	    "Status: 429 Too Many Requests\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "Request-Id: " RID "\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-RateLimit-Limit: 60\r\n"
	    "X-RateLimit-Remaining: 0\r\n"
	    "X-RateLimit-Reset: 1000000080\r\n"
	    "RateLimit-Policy: \"minute\";q=60;w=60, \"hour\";q=1000;w=3600\r\n"
	    "RateLimit: \"minute\";r=0;t=50, \"hour\";r=997;t=770\r\n"
	    "Retry-After: 50\r\n"
	    "\r\n%s", strlen(body), body);
	cr_expect_str_eq(wire(&r, &w), want);
	buf_cleanup(&w);
	req_cleanup(&r);
}
