/* app.c: the request pipeline: route, authenticate, read the body, handle. */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "app.h"
#include "auth.h"
#include "json_check.h"
#include "log.h"
#include "response.h"
#include "router.h"

#define PREFLIGHT_MAX_AGE	600
#define JSON_NUMBER_MAX		1000	/* characters of one number in a body */
#define HEALTH_TIMEOUT_MS	1500	/* /healthz answers within 2 s (SPEC 7) */

/*
 * Sets up a worker's state from its configuration (already in app->conf).
 * The refusal caches are not cleared: app is static (or calloc'ed), so
 * they are all zero, that is empty, already; writing 1.2 MB of zeros would
 * only make every worker hold those pages for nothing.
 */
void
app_init(struct app *app)
{
	db_init(&app->db, app->conf.database, app->conf.log_level,
	    (enum db_prepare)app->conf.prepared_statements, app->conf.db_timeout);
	app->requests = 0;
}

void
app_cleanup(struct app *app)
{
	db_cleanup(&app->db);
}

/*
 * Runs prepared statement s with db_nparams(s) string arguments (NULL is
 * SQL NULL). Returns 0 with *res set (the caller clears it), or -1 when the
 * 503/500 response is already written.
 */
int
db_exec_or_reply(struct request *r, enum stmt s, PGresult **res, ...)
{
	const char	*params[16];
	va_list		 ap;
	int		 i, n = db_nparams(s), st;

	va_start(ap, res);
	for (i = 0; i < n && i < 16; i++)
		params[i] = va_arg(ap, const char *);
	va_end(ap);
	if ((st = db_exec(&r->app->db, s, params, res)) == DB_OK)
		return 0;
	resp_unavailable(r, st);
	return -1;
}

/* application/json, any case, with optional parameters (charset). */
static int
is_json_type(const char *ct)
{
	size_t	 n = strlen("application/json");

	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/*
 * A front end that streams the body (Apache's mod_proxy_fcgi) and stalls
 * would hold this worker for as long as it keeps the connection: a read of
 * the request's connection that waits body_timeout seconds fails instead
 * (EAGAIN). Set only when there is a body to read: no system call for the
 * requests without one.
 */
static void
body_deadline(struct request *r)
{
	struct timeval	 tv = { .tv_sec = r->app->conf.body_timeout, .tv_usec = 0 };

	if (r->in_fd >= 0 && tv.tv_sec > 0 &&
	    setsockopt(r->in_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		log_msg(r->app->conf.log_level, LOG_LEVEL_WARN, "body_timeout: %s",
		    strerror(errno));
}

/* Reads exactly CONTENT_LENGTH bytes; -1 with a 400 when there are more or fewer. */
static int
read_exact_or_reply(struct request *r)
{
	size_t	 want = (size_t)r->content_length;
	int	 n, stalled;

	body_deadline(r);
	r->body = malloc(want + 1);
	if (r->body == NULL) {
		resp_error(r, 413, "payload_too_large", NULL, "The body is too large.");
		return -1;
	}
	while (r->body_len < want && r->in != NULL) {
		n = FCGX_GetStr(r->body + r->body_len, (int)(want - r->body_len), r->in);
		if (n <= 0)
			break;
		r->body_len += (size_t)n;
	}
	r->body[r->body_len] = '\0';
	if (r->body_len < want) {
		/* EAGAIN: the front end sent nothing for body_timeout seconds */
		stalled = r->in != NULL && (FCGX_GetError(r->in) == EAGAIN ||
		    FCGX_GetError(r->in) == EWOULDBLOCK);
		resp_error(r, 400, "invalid_request", NULL, stalled ?
		    "The body stopped arriving before its Content-Length." :
		    "The body is shorter than its Content-Length.");
		return -1;
	}
	if (r->in != NULL && FCGX_GetChar(r->in) != EOF) {
		resp_error(r, 400, "invalid_request", NULL,
		    "The body is longer than its Content-Length.");
		return -1;
	}
	return 0;
}

/*
 * What json_check() lets through but the database cannot take, in the
 * (syntactically valid) JSON text s[0..len): a string holding the escape
 * \u0000 (json-c would cut the string there, a key or an id silently
 * shortened, and PostgreSQL takes no U+0000 in text or jsonb), and a number
 * too long or with too large an exponent for PostgreSQL's numeric (objects
 * such as a booking's client go to the database as jsonb). Returns the
 * message of the 400, or NULL.
 */
static const char *
body_beyond_db(const char *s, size_t len)
{
	size_t	 i, start, e;
	int	 in_string = 0;

	for (i = 0; i < len; i++) {
		if (in_string) {
			if (s[i] == '"')
				in_string = 0;
			else if (s[i] == '\\') {
				if (len - i >= 6 && memcmp(s + i + 1, "u0000", 5) == 0)
					return "Strings in the body may not hold \\u0000.";
				i++;	/* the escaped character */
			}
			continue;
		}
		if (s[i] == '"') {
			in_string = 1;
			continue;
		}
		if (s[i] != '-' && (s[i] < '0' || s[i] > '9'))
			continue;
		for (start = i; i < len && strchr("+-.0123456789eE", s[i]) != NULL; i++)
			continue;
		for (e = start; e < i && s[e] != 'e' && s[e] != 'E'; e++)
			continue;
		if (e < i && (s[e + 1] == '+' || s[e + 1] == '-'))
			e++;
		while (e + 1 < i && s[e + 1] == '0')
			e++;
		/* at most 1000 characters, an exponent of at most 3 digits */
		if (i - start > JSON_NUMBER_MAX || (e < i && i - e - 1 > 3))
			return "A number in the body is out of range.";
		i--;
	}
	return NULL;
}

static int
parse_json_or_reply(struct request *r)
{
	struct json_tokener	*tok;
	enum json_tokener_error	 jerr;
	const char		*why;

	/* json-c's own UTF-8 check lets overlong forms and surrogates through */
	if (!req_utf8_valid(r->body, r->body_len) ||
	    !json_check(r->body, r->body_len)) {
		resp_error(r, 400, "invalid_json", NULL,
		    "The body is not valid UTF-8 JSON.");
		return -1;
	}
	if ((why = body_beyond_db(r->body, r->body_len)) != NULL) {
		resp_error(r, 400, "invalid_json", NULL, why);
		return -1;
	}
	tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	r->json = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
	jerr = json_tokener_get_error(tok);
	if (r->json != NULL && jerr == json_tokener_success &&
	    json_tokener_get_parse_end(tok) != r->body_len) {
		json_object_put(r->json);
		r->json = NULL;
	}
	json_tokener_free(tok);
	if (r->json == NULL || jerr != json_tokener_success) {
		resp_error(r, 400, "invalid_json", NULL,
		    "The body is not valid UTF-8 JSON.");
		return -1;
	}
	if (!json_object_is_type(r->json, json_type_object)) {
		resp_error(r, 400, "invalid_json", NULL,
		    "The body must be a JSON object.");
		return -1;
	}
	return 0;
}

/*
 * Step 5 of the order of checks, for the body: 413 over the cap, 400 for a
 * malformed or lying Content-Length, 415 when a route that takes JSON gets
 * another type, 400 invalid_json. A body on a route that takes none is
 * read and dropped. Returns 0, or -1 when the response is written.
 */
int
body_or_reply(struct request *r)
{
	if (r->content_length == -2) {
		resp_error(r, 400, "invalid_request", NULL,
		    "The Content-Length header is malformed.");
		return -1;
	}
	if (r->content_length > (long long)r->app->conf.body_limit) {
		resp_error(r, 413, "payload_too_large", NULL,
		    "The body is larger than this server accepts.");
		return -1;
	}
	if (r->content_length <= 0)
		return 0;
	if (read_exact_or_reply(r) == -1)
		return -1;
	if (!r->route->body)
		return 0;
	if (!is_json_type(r->content_type)) {
		resp_error(r, 415, "unsupported_media_type", NULL,
		    "The body must be application/json.");
		return -1;
	}
	return parse_json_or_reply(r);
}

/* OPTIONS on an /api/v1 path: the CORS preflight, without a key. */
static void
preflight(struct request *r, const char *allow)
{
	resp_header(r, "Access-Control-Allow-Methods", "%s",
	    allow[0] ? allow : "GET, HEAD, POST, DELETE, OPTIONS");
	resp_header(r, "Access-Control-Allow-Headers",
	    "Authorization, Content-Type, Calendence-Business, Idempotency-Key");
	resp_header(r, "Access-Control-Max-Age", "%d", PREFLIGHT_MAX_AGE);
	resp_empty(r, 204);
}

/* Step 1 of the order of checks; -1 when the response is written. */
static int
route_or_reply(struct request *r)
{
	char			 allow[128];
	enum route_result	 rr;

	if (!r->path_ok || !route_is_api(r->path)) {
		resp_error(r, 404, "not_found", NULL, "No such endpoint.");
		return -1;
	}
	rr = route_match(r->method, r->path, r->args, &r->route, allow, sizeof(allow));
	if (strcmp(r->method, "OPTIONS") == 0) {
		preflight(r, rr == ROUTE_NOT_FOUND ? "" : allow);
		return -1;
	}
	if (rr == ROUTE_NOT_FOUND) {
		resp_error(r, 404, "not_found", NULL, "No such endpoint.");
		return -1;
	}
	if (rr == ROUTE_BAD_METHOD) {
		resp_header(r, "Allow", "%s", allow);
		resp_error(r, 405, "method_not_allowed", NULL,
		    "This endpoint does not take that method.");
		return -1;
	}
	return 0;
}

/*
 * GET /healthz (outside /api/v1; no key, no rate limit)
 * 200 {"status":"ok"} when the worker can reach the database, else 503.
 */
static void
health(struct request *r)
{
	PGresult	*res;

	db_deadline(&r->app->db, HEALTH_TIMEOUT_MS);
	if (db_exec(&r->app->db, STMT_PING, NULL, &res) != DB_OK) {
		resp_header(r, "Retry-After", "5");
		resp_error(r, 503, "service_unavailable", NULL,
		    "The database cannot be reached.");
		return;
	}
	PQclear(res);
	resp_raw(r, 200, "{\"status\":\"ok\",\"database\":\"up\"}", 31);
}

/*
 * Handles one request from its FastCGI parameters and body stream; the
 * response is left in r for app_wire().
 */
void
app_handle(struct app *app, struct request *r, char **envp, FCGX_Stream *in, int in_fd)
{
	app->requests++;
	db_deadline(&app->db, 0);	/* one bound for the whole request */
	req_parse(r, envp, app->conf.proxies, app->conf.nproxies);
	r->in = in;
	r->in_fd = in_fd;
	if (r->path_ok && strcmp(r->path, "/healthz") == 0 &&
	    (strcmp(r->method, "GET") == 0 || r->is_head)) {
		health(r);
		return;
	}
	if (route_or_reply(r) == -1 || req_headers_or_reply(r) == -1 ||
	    auth_or_reply(r) == -1 || body_or_reply(r) == -1)
		return;
	r->route->handler(r);
	if (r->status == 0)
		resp_error(r, 500, "internal_error", NULL, "internal error");
}

/* The response of r in wire form: FastCGI Status, headers, body. */
void
app_wire(struct request *r, struct buf *w)
{
	buf_reset(w);
	resp_write(r, w);
}

/* Copies s for the log, with anything but printable ASCII as '?'. */
static void
log_safe(const char *s, char *out, size_t len)
{
	size_t	 i;

	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < len; i++)
		out[i] = s[i] > ' ' && s[i] <= '~' ? s[i] : '?';
	out[i] = '\0';
}

/*
 * The request's log line: request id, method, path without query, status,
 * duration in microseconds, key display form (never a token), client IP.
 */
void
app_log(struct app *app, const struct request *r)
{
	struct timespec	 now;
	long long	 us;
	char		 method[16], path[REQ_PATH_MAX];

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (now.tv_sec - r->start.tv_sec) * 1000000LL +
	    (now.tv_nsec - r->start.tv_nsec) / 1000;
	log_safe(r->method, method, sizeof(method));
	log_safe(r->path_ok ? r->path : "-", path, sizeof(path));
	log_msg(app->conf.log_level, LOG_LEVEL_INFO,
	    "%s %s %s %d %lldus key=%s ip=%s", r->id, method, path, r->status,
	    us, r->display[0] ? r->display : "-", r->client_ip);
}
