/* app.c: the request pipeline: route, authenticate, read the body, handle. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "auth.h"
#include "body.h"
#include "log.h"
#include "openapi.h"
#include "response.h"
#include "router.h"
#include "worker.h"

#define PREFLIGHT_MAX_AGE	600
#define HEALTH_TIMEOUT_MS	1000	/* /healthz answers within 2 s (SPEC 7), with room */

/* OPTIONS on an /api/v1 path: the CORS preflight, without a key. */
static void
preflight(struct request *r, const char *allow)
{
	resp_header(r, "Access-Control-Allow-Methods", "%s",
	    allow[0] ? allow : "GET, HEAD, POST, PATCH, DELETE, OPTIONS");
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
 * Step 1b of the order of checks, after routing: a header the worker acts
 * on (Authorization, X-Forwarded-For, Calendence-Business, Origin,
 * Idempotency-Key) that came more than once, typically the real one and
 * a client's look-alike such as X_Forwarded_For, is 400 invalid_request
 * naming it: which of the two is real cannot be told. Returns 0, or -1 when
 * the response is written.
 */
int
app_headers_or_reply(struct request *r)
{
	char	 msg[160];

	if (r->repeated == NULL)
		return 0;
	snprintf(msg, sizeof(msg), "The %s header was sent more than once "
	    "(a name spelled with '_' for '-' counts as the same header).",
	    r->repeated);
	resp_error(r, 400, "invalid_request", r->repeated, msg);
	return -1;
}

/*
 * Step 5's first check (step 5.0 of the order of checks), after permission
 * and before the body: a query parameter that the route does not take (its
 * row in router.c) is 422 validation_failed naming the first such, in the
 * order sent, with the names the route takes; a misspelt "limit" or
 * "per-page" is not quietly ignored. Returns 0, or -1 when the response is
 * written.
 */
static int
query_or_reply(struct request *r)
{
	char	 name[REQ_ARG_MAX], names[128], msg[256];

	if (!route_query_unknown(r->route, r->query, name, sizeof(name)))
		return 0;
	route_query_names(r->route, names, sizeof(names));
	snprintf(msg, sizeof(msg), "Unknown parameter \"%s\"; this endpoint takes %s.",
	    name, names);
	resp_error(r, 422, "validation_failed", name, msg);
	return -1;
}

/*
 * GET /healthz (outside /api/v1; no key, no rate limit)
 * 200 {"status":"ok"} when the worker can reach the database and its role
 * has every privilege the workers need (calendence.health_check()), else
 * 503 saying which of the two failed.
 */
static void
health(struct request *r)
{
	PGresult	*res;
	enum db_status	 st;

	db_deadline(&r->worker->db, HEALTH_TIMEOUT_MS);
	if ((st = db_exec(&r->worker->db, STMT_PING, NULL, &res)) != DB_OK) {
		resp_header(r, "Retry-After", "5");
		/* calendence.health_check() refused: the role lacks a privilege */
		resp_error(r, 503, "service_unavailable", NULL, st == DB_ERROR ?
		    "The database role lacks a privilege the workers need; the "
		    "worker's log names it." : "The database cannot be reached.");
		return;
	}
	PQclear(res);
	resp_raw(r, 200, "{\"status\":\"ok\",\"database\":\"up\"}", 31);
}

/*
 * GET /api/v1/openapi.json (no key, no rate limit; HEAD too)
 * 200 with docs/openapi.json as it was when the worker was built: the
 * document is compiled in, so nothing is read from disk per request.
 */
static void
openapi(struct request *r)
{
	resp_raw(r, 200, (const char *)openapi_doc, openapi_doc_len);
}

/* True for a GET or HEAD of path, which takes no key. */
static int
is_public(const struct request *r, const char *path)
{
	return r->path_ok && strcmp(r->path, path) == 0 &&
	    (strcmp(r->method, "GET") == 0 || r->is_head);
}

/*
 * Handles one request from its FastCGI parameters and body stream; the
 * response is left in r for app_wire().
 */
void
app_handle(struct worker *w, struct request *r, char **envp, FCGX_Stream *in, int in_fd)
{
	w->requests++;
	db_deadline(&w->db, 0);	/* one bound for the whole request */
	req_parse(r, envp, w->conf.proxies, w->conf.nproxies);
	r->in = in;
	r->in_fd = in_fd;
	if (is_public(r, "/healthz")) {
		health(r);
		return;
	}
	if (is_public(r, "/api/v1/openapi.json")) {
		openapi(r);
		return;
	}
	if (route_or_reply(r) == -1 || app_headers_or_reply(r) == -1 ||
	    auth_or_reply(r) == -1 || query_or_reply(r) == -1 ||
	    body_or_reply(r) == -1)
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
app_log(struct worker *w, const struct request *r)
{
	struct timespec	 now;
	struct log_req	 lr;
	char		 method[16], path[REQ_PATH_MAX];

	clock_gettime(CLOCK_MONOTONIC, &now);
	memset(&lr, 0, sizeof(lr));
	lr.latency_us = (now.tv_sec - r->start.tv_sec) * 1000000LL +
	    (now.tv_nsec - r->start.tv_nsec) / 1000;
	log_safe(r->method, method, sizeof(method));
	log_safe(r->path_ok ? r->path : "-", path, sizeof(path));
	lr.request_id = r->id;
	lr.method = method;
	lr.path = path;
	lr.status = r->status;
	lr.error_code = r->error_code;
	lr.key = r->display[0] ? r->display : NULL;
	lr.key_id = r->principal.key_id;
	lr.business_id = r->principal.business_id;
	lr.ip = r->client_ip;
	log_request(w->conf.log_level, &lr);
}
