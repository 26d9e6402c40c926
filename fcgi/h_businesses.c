/* h_businesses.c: GET /api/v1/businesses and GET /api/v1/businesses/{id}. */
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "handlers.h"
#include "page.h"
#include "response.h"
#include "token.h"

/* A business key sees only its own business; a hub key all of its hub's. */
static const char *
only(const struct request *r)
{
	return r->principal.kind == TOKEN_HUB ? NULL : r->principal.business_id;
}

/*
 * GET /api/v1/businesses
 * 200 with a page of the businesses the key reaches (a hub key: its hub's;
 * a business key: its own); 422 for a bad page or per_page; 503.
 */
void
h_businesses_list(struct request *r)
{
	struct page	 pg;
	PGresult	*res;
	char		 limit[16], offset[24];

	if (page_parse_or_reply(r, &pg) == -1)
		return;
	snprintf(limit, sizeof(limit), "%d", pg.per_page);
	snprintf(offset, sizeof(offset), "%lld", page_offset(&pg));
	if (db_exec_or_reply(r, STMT_BUSINESSES_LIST, &res, r->principal.hub_id,
	    only(r), limit, offset) == -1)
		return;
	pg.total = atoll(PQgetvalue(res, 0, 0));
	page_reply(r, &pg, "/api/v1/businesses", PQgetvalue(res, 0, 1),
	    (size_t)PQgetlength(res, 0, 1));
	PQclear(res);
}

/*
 * GET /api/v1/businesses/{id}
 * 200 with {id, name, slug, timezone, active, created_at}; 404 when the id
 * is malformed, does not exist, or is not reachable by the key; 503.
 */
void
h_businesses_get(struct request *r)
{
	PGresult	*res;

	if (!uuid_valid(r->args[0])) {
		resp_error(r, 404, "not_found", NULL, "No such business.");
		return;
	}
	if (db_exec_or_reply(r, STMT_BUSINESSES_GET, &res, r->args[0],
	    r->principal.hub_id, only(r)) == -1)
		return;
	if (PQntuples(res) == 0)
		resp_error(r, 404, "not_found", NULL, "No such business.");
	else
		resp_raw(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	PQclear(res);
}
