/* response.c: status, headers, JSON bodies, the error envelope, the wire form. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "response.h"

static const struct {
	int		 status;
	const char	*reason;
	const char	*type;		/* error.type of the envelope */
} statuses[] = {
	{ 200, "OK", NULL },
	{ 201, "Created", NULL },
	{ 204, "No Content", NULL },
	{ 400, "Bad Request", "invalid_request_error" },
	{ 401, "Unauthorized", "authentication_error" },
	{ 403, "Forbidden", "permission_error" },
	{ 404, "Not Found", "invalid_request_error" },
	{ 405, "Method Not Allowed", "invalid_request_error" },
	{ 409, "Conflict", "invalid_request_error" },
	{ 413, "Payload Too Large", "invalid_request_error" },
	{ 415, "Unsupported Media Type", "invalid_request_error" },
	{ 422, "Unprocessable Content", "invalid_request_error" },
	{ 429, "Too Many Requests", "rate_limit_error" },
	{ 500, "Internal Server Error", "api_error" },
	{ 503, "Service Unavailable", "api_error" },
};

#define NSTATUSES (sizeof(statuses) / sizeof(statuses[0]))

/* The reason phrase of a status. */
const char *
resp_reason(int status)
{
	size_t	 i;

	for (i = 0; i < NSTATUSES; i++)
		if (statuses[i].status == status)
			return statuses[i].reason;
	return "Unknown";
}

/* The error.type that goes with an error status. */
const char *
resp_error_type(int status)
{
	size_t	 i;

	for (i = 0; i < NSTATUSES; i++)
		if (statuses[i].status == status && statuses[i].type != NULL)
			return statuses[i].type;
	return "api_error";
}

/* Adds a header line; the value must come from us, not from the client. */
void
resp_header(struct request *r, const char *name, const char *fmt, ...)
{
	va_list	 ap;
	char	 value[1024];

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	buf_printf(&r->headers, "%s: %s\r\n", name, value);
}

/* Sets a JSON body given as text. */
void
resp_raw(struct request *r, int status, const char *json, size_t len)
{
	r->status = status;
	buf_reset(&r->out);
	buf_add(&r->out, json, len);
	r->has_body = 1;
}

/* Sets a JSON body; consumes obj. */
void
resp_json(struct request *r, int status, json_object *obj)
{
	size_t		 len;
	const char	*s;

	s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	resp_raw(r, status, s, len);
	json_object_put(obj);
}

/* A response without a body (204, or a HEAD-like empty answer). */
void
resp_empty(struct request *r, int status)
{
	r->status = status;
	buf_reset(&r->out);
	r->has_body = 0;
}

/*
 * Appends s as a JSON string, escaped as resp_json() (json-c, with
 * JSON_C_TO_STRING_NOSLASHESCAPE) escapes it: \b \f \n \r \t \" \\, any
 * other byte below 0x20 as \u00xx, every other byte (DEL, UTF-8) as it is.
 */
static void
json_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char	*run = s;
	char		 e[6] = { '\\', 'u', '0', '0' };
	unsigned char	 c;

	buf_add(b, "\"", 1);
	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '\b': buf_add(b, "\\b", 2); break;
		case '\f': buf_add(b, "\\f", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		case '"': buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		default:
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			buf_add(b, e, sizeof(e));
		}
	}
	buf_add(b, run, (size_t)(s - run));
	buf_add(b, "\"", 1);
}

/*
 * Sets the error envelope {"error": {type, code, message, param,
 * request_id}}; param may be NULL (then it is JSON null). Written as
 * resp_json() would write it, without building it as json-c objects
 * first: a refusal is most of what a worker under attack sends.
 */
void
resp_error(struct request *r, int status, const char *code, const char *param,
    const char *message)
{
	struct buf	*b = &r->out;
	size_t		 n;

	n = strlen(code);
	if (n >= sizeof(r->error_code))
		n = sizeof(r->error_code) - 1;
	memcpy(r->error_code, code, n);
	r->error_code[n] = '\0';
	r->status = status;
	r->has_body = 1;
	buf_reset(b);
	buf_add(b, "{\"error\":{\"type\":", 17);
	json_string(b, resp_error_type(status));
	buf_add(b, ",\"code\":", 8);
	json_string(b, code);
	buf_add(b, ",\"message\":", 11);
	json_string(b, message);
	buf_add(b, ",\"param\":", 9);
	if (param != NULL)
		json_string(b, param);
	else
		buf_add(b, "null", 4);
	buf_add(b, ",\"request_id\":", 14);
	json_string(b, r->id);
	buf_add(b, "}}", 2);
}

/* 503 or 500 after a failed database call, as db_exec() classified it. */
void
resp_unavailable(struct request *r, int st)
{
	if (st == DB_ERROR) {
		resp_error(r, 500, "internal_error", NULL, "internal error");
		return;
	}
	resp_header(r, "Retry-After", "5");
	resp_error(r, 503, "service_unavailable", NULL,
	    "the service is temporarily unavailable; retry later");
}

/* 429 rate_limited for the refusal in r->rl (its headers: resp_write()). */
void
resp_rate_limited(struct request *r)
{
	char	 msg[128], d[NUM_TEXT_LEN];

	/* "Too many requests; retry after %lld seconds." (no printf: it is hot) */
	strcpy(msg, "Too many requests; retry after ");
	strcat(msg, num_text(rl_retry_after(&r->rl), d));
	strcat(msg, " seconds.");
	resp_error(r, 429, "rate_limited", NULL, msg);
}

/*
 * Writes the complete FastCGI response (Status, headers, body) into w. HEAD
 * gets the headers of GET and no body. Put together piece by piece, not
 * with printf: formatting was a good part of what a refusal costs.
 */
void
resp_write(struct request *r, struct buf *w)
{
	buf_lit(w, "Status: ");
	buf_addnum(w, r->status);
	buf_lit(w, " ");
	buf_puts(w, resp_reason(r->status));
	buf_lit(w, "\r\n");
	if (r->has_body)
		buf_lit(w, "Content-Type: application/json; charset=utf-8\r\n");
	if (r->status != 204) {
		buf_lit(w, "Content-Length: ");
		buf_addnum(w, (long long)r->out.len);
		buf_lit(w, "\r\n");
	}
	buf_lit(w, "Request-Id: ");
	buf_puts(w, r->id);
	buf_lit(w, "\r\nCache-Control: no-store\r\n");
	if (r->origin != NULL) {
		buf_lit(w, "Access-Control-Allow-Origin: ");
		buf_puts(w, r->origin);
		buf_lit(w, "\r\nVary: Origin\r\n"
		    "Access-Control-Expose-Headers: Request-Id, Idempotent-Replayed, "
		    "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, "
		    "X-RateLimit-Reset, RateLimit, RateLimit-Policy, WWW-Authenticate, "
		    "Allow\r\n");
	}
	rl_headers(&r->rl, w);
	buf_add(w, r->headers.p ? r->headers.p : "", r->headers.len);
	buf_lit(w, "\r\n");
	if (!r->is_head && r->status != 204)
		buf_add(w, r->out.p ? r->out.p : "", r->out.len);
}
