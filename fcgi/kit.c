/*
 * kit.c: what handlers share: one database call with a checked argument
 * array, a body member or query value as SQL takes it, the list and get
 * skeletons, and the one table that turns a SQL function's outcome status
 * into an HTTP answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"
#include "log.h"
#include "page.h"
#include "response.h"
#include "worker.h"

/*
 * What the SQL functions answer in their status column (besides "ok" and
 * "invalid:<param>", which is 422 validation_failed naming the parameter),
 * and the HTTP answer of each: the one place that maps them.
 */
static const struct {
	const char	*status;
	int		 http;
	const char	*code;
} outcomes[] = {
	{ "slot_unavailable",	409, "slot_unavailable" },
	{ "hold_expired",	409, "hold_expired" },
	{ "too_many_holds",	409, "too_many_holds" },
	{ "not_cancellable",	409, "booking_not_cancellable" },
	{ "invalid_transition",	409, "invalid_transition" },
	{ "not_found",		404, "not_found" },
	{ "webhook_limit",	409, "webhook_limit_reached" },
};

/*
 * Runs statement s with the n arguments args (NULL is SQL NULL). Returns 0
 * with *res set (the caller clears it), or -1 when the response is written:
 * 503 or 500 as db_exec() classified the failure, and 500 when n is not
 * the number of parameters the statement's row names (a caller's mistake,
 * logged; never sent to the database).
 */
int
kit_call_or_reply(struct request *r, enum stmt s, const char *const *args, size_t n,
    PGresult **res)
{
	int	 st;

	*res = NULL;
	if (n != (size_t)db_nparams(s)) {
		log_msg(r->worker->conf.log_level, LOG_LEVEL_ERROR, "statement %s takes "
		    "%d parameters, given %zu", db_stmt(s)->name, db_nparams(s), n);
		resp_error(r, 500, "internal_error", NULL, "internal error");
		return -1;
	}
	if ((st = db_exec(&r->worker->db, s, args, res)) == DB_OK)
		return 0;
	resp_unavailable(r, st);
	return -1;
}

/* A query parameter into out (NULL when absent); -1 with a 422 when malformed. */
int
kit_query_or_reply(struct request *r, const char *name, char *buf, size_t len,
    const char **out)
{
	int	 rc = req_query(r->query, name, buf, len);

	*out = rc == 1 ? buf : NULL;
	if (rc != -1)
		return 0;
	resp_error(r, 422, "validation_failed", name, "The parameter is malformed.");
	return -1;
}

/*
 * A member of the JSON body as the text SQL takes: a string's value
 * (json_type_string), or the JSON of an object or array (json_type_object,
 * json_type_array). NULL when absent or null; -1 with a 422 naming the
 * member when it has another type. The text belongs to r->json.
 */
int
kit_member_or_reply(struct request *r, const char *name, enum json_type want,
    const char **out)
{
	json_object	*m;

	*out = NULL;
	if (r->json == NULL || !json_object_object_get_ex(r->json, name, &m) ||
	    m == NULL)
		return 0;
	if (json_object_is_type(m, want)) {
		*out = want == json_type_string ? json_object_get_string(m) :
		    json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);
		return 0;
	}
	resp_error(r, 422, "validation_failed", name,
	    want == json_type_object ? "This field must be a JSON object." :
	    want == json_type_array ? "This field must be a JSON array." :
	    "This field must be a string.");
	return -1;
}

static const char *
val(const PGresult *res, int col)
{
	return col < PQnfields(res) && !PQgetisnull(res, 0, col) ?
	    PQgetvalue(res, 0, col) : NULL;
}

/*
 * Answers from a SQL function's outcome row (status, message[, body[,
 * replayed]]): "ok" -> ok_status with the body (204: without one);
 * "invalid:<param>" -> 422 validation_failed naming it; the statuses of
 * outcomes[] as they say; anything else 500. Idempotent-Replayed is sent
 * only for a key the client sent, never for the request's own.
 */
void
kit_outcome_reply(struct request *r, PGresult *res, int ok_status)
{
	kit_outcome_reply_at(r, res, 0, ok_status);
}

/* The same, from the outcome columns that start at column base of res. */
void
kit_outcome_reply_at(struct request *r, PGresult *res, int base, int ok_status)
{
	const char	*st = val(res, base + OC_STATUS), *msg = val(res, base + OC_MESSAGE);
	const char	*body = val(res, base + OC_BODY);
	const char	*replayed = val(res, base + OC_REPLAYED);
	size_t		 i;

	if (msg == NULL)
		msg = "The request cannot be served.";
	if (st != NULL && strcmp(st, "ok") == 0 && (ok_status == 204 || body != NULL)) {
		if (replayed != NULL && replayed[0] == 't' && r->idem_key != NULL)
			resp_header(r, "Idempotent-Replayed", "true");
		if (ok_status == 204)
			resp_empty(r, 204);
		else
			resp_raw(r, ok_status, body, strlen(body));
		return;
	}
	if (st != NULL && strncmp(st, "invalid:", 8) == 0) {
		resp_error(r, 422, "validation_failed", st + 8, msg);
		return;
	}
	for (i = 0; st != NULL && i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		if (strcmp(st, outcomes[i].status) == 0) {
			resp_error(r, outcomes[i].http, outcomes[i].code, NULL, msg);
			return;
		}
	resp_error(r, 500, "internal_error", NULL, "internal error");
}

/* Runs s with args and answers from its outcome row (kit_outcome_reply()). */
void
kit_outcome(struct request *r, enum stmt s, int ok_status, const char *const *args,
    size_t n)
{
	PGresult	*res;

	if (kit_call_or_reply(r, s, args, n, &res) == -1)
		return;
	kit_outcome_reply(r, res, ok_status);
	PQclear(res);
}

/*
 * The page asked for (page, per_page: 422 when malformed) and statement s
 * run for it with the n leading arguments lead, then limit and offset.
 * Returns 0 with *pg and *res set (the caller clears res), or -1 when the
 * response is written.
 */
static int
list_call_or_reply(struct request *r, enum stmt s, const char *const *lead, size_t n,
    struct page *pg, PGresult **res)
{
	const char	*args[8];
	char		 limit[16], offset[24];
	size_t		 i;

	if (page_parse_or_reply(r, pg) == -1)
		return -1;
	if (n + 2 > sizeof(args) / sizeof(args[0])) {
		resp_error(r, 500, "internal_error", NULL, "internal error");
		return -1;
	}
	for (i = 0; i < n; i++)
		args[i] = lead[i];
	snprintf(limit, sizeof(limit), "%d", pg->per_page);
	snprintf(offset, sizeof(offset), "%lld", page_offset(pg));
	args[n] = limit;
	args[n + 1] = offset;
	return kit_call_or_reply(r, s, args, n + 2, res);
}

/*
 * GET of a paginated list: page and per_page from the query (422), then
 * statement s with the n leading arguments lead, then limit and offset; its
 * row is (total, data). 200 with the page of path; 503.
 */
void
kit_list(struct request *r, enum stmt s, const char *path, const char *const *lead,
    size_t n)
{
	struct page	 pg;
	PGresult	*res;

	if (list_call_or_reply(r, s, lead, n, &pg, &res) == -1)
		return;
	pg.total = atoll(PQgetvalue(res, 0, LC_TOTAL));
	page_reply(r, &pg, path, PQgetvalue(res, 0, LC_DATA),
	    (size_t)PQgetlength(res, 0, LC_DATA));
	PQclear(res);
}

/*
 * kit_list() for a statement that checks what it is given first: its row
 * is (status, message, total, data). "ok": 200 with the page of path, whose
 * links keep the filters (name, value, ..., NULL; NULL: none); any other
 * status is answered as kit_outcome_reply() answers it (404, 422 ...).
 */
void
kit_list_checked(struct request *r, enum stmt s, const char *path,
    const char *const *filters, const char *const *lead, size_t n)
{
	struct page	 pg;
	PGresult	*res;

	if (list_call_or_reply(r, s, lead, n, &pg, &res) == -1)
		return;
	if (strcmp(PQgetvalue(res, 0, OC_STATUS), "ok") != 0)
		kit_outcome_reply(r, res, 200);
	else {
		pg.total = atoll(PQgetvalue(res, 0, CLC_TOTAL));
		page_reply_filtered(r, &pg, path, filters, PQgetvalue(res, 0, CLC_DATA),
		    (size_t)PQgetlength(res, 0, CLC_DATA));
	}
	PQclear(res);
}

/*
 * GET of one object by the id in the path: 404 (with the sentence
 * missing) when the id is malformed or s finds no row or NULL; else 200
 * with the JSON of its one column. s takes the n arguments args; 503.
 */
void
kit_get(struct request *r, enum stmt s, const char *missing, const char *const *args,
    size_t n)
{
	PGresult	*res;

	if (!uuid_valid(r->args[0])) {
		resp_error(r, 404, "not_found", NULL, missing);
		return;
	}
	if (kit_call_or_reply(r, s, args, n, &res) == -1)
		return;
	if (PQntuples(res) == 0 || PQgetisnull(res, 0, GC_BODY))
		resp_error(r, 404, "not_found", NULL, missing);
	else
		resp_raw(r, 200, PQgetvalue(res, 0, GC_BODY),
		    (size_t)PQgetlength(res, 0, GC_BODY));
	PQclear(res);
}

/*
 * kit_list() from the worker's catalogue (catalogue.c): the list of kind k
 * that owner owns, or of it only the element with id 'only' (when not
 * NULL); 200 with the page of path. Where the cache cannot answer, the
 * page is read with statement s and the n arguments lead, as kit_list().
 */
void
kit_cat_list(struct request *r, enum cat_kind k, const char *owner, const char *only,
    const char *path, enum stmt s, const char *const *lead, size_t n)
{
	const struct cat_list *l;
	struct page	 pg;
	struct buf	 data;
	long long	 first, last, one = -1;
	int		 rc;

	if (page_parse_or_reply(r, &pg) == -1)
		return;
	if ((rc = cat_list_or_reply(r, k, owner, &l)) == -1)
		return;
	if (rc == 1) {
		kit_list(r, s, path, lead, n);
		return;
	}
	if (only != NULL)
		one = cat_find(l, only);
	pg.total = only == NULL ? l->n : one >= 0;
	first = page_offset(&pg);
	last = first + pg.per_page < pg.total ? first + pg.per_page : pg.total;
	buf_init(&data);
	buf_puts(&data, "[");
	if (first < last && one >= 0)
		cat_put(&data, l, (int)one, (int)one + 1);
	else if (first < last)
		cat_put(&data, l, (int)first, (int)last);
	buf_puts(&data, "]");
	page_reply(r, &pg, path, data.p, data.len);
	buf_cleanup(&data);
}

/*
 * kit_get() from the worker's catalogue: the element of the list of kind k
 * that owner owns whose id is the path's (and is 'only', when not NULL);
 * 404 with the sentence missing. Where the cache cannot answer, statement
 * s with the n arguments args, as kit_get().
 */
void
kit_cat_get(struct request *r, enum cat_kind k, const char *owner, const char *only,
    const char *missing, enum stmt s, const char *const *args, size_t n)
{
	const struct cat_list *l;
	int		 i, rc;

	if (!uuid_valid(r->args[0])) {
		resp_error(r, 404, "not_found", NULL, missing);
		return;
	}
	if ((rc = cat_list_or_reply(r, k, owner, &l)) == -1)
		return;
	if (rc == 1) {
		kit_get(r, s, missing, args, n);
		return;
	}
	if ((i = cat_find(l, r->args[0])) < 0 ||
	    (only != NULL && strcmp(r->args[0], only) != 0))
		resp_error(r, 404, "not_found", NULL, missing);
	else {
		r->status = 200;
		buf_reset(&r->out);
		cat_put(&r->out, l, i, i + 1);
		r->has_body = 1;
	}
}
