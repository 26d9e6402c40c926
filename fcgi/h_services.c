/* h_services.c: GET /api/v1/services and GET /api/v1/services/{id}. */
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "handlers.h"
#include "page.h"
#include "response.h"

/*
 * GET /api/v1/services
 * 200 with a page of the active services of the caller's business, by
 * name; 422 for a bad page or per_page; 503 when the database is away.
 */
void
h_services_list(struct request *r)
{
	struct page	 pg;
	PGresult	*res;
	char		 limit[16], offset[24];

	if (page_parse_or_reply(r, &pg) == -1)
		return;
	snprintf(limit, sizeof(limit), "%d", pg.per_page);
	snprintf(offset, sizeof(offset), "%lld", page_offset(&pg));
	if (db_exec_or_reply(r, STMT_SERVICES_LIST, &res,
	    r->principal.business_id, limit, offset) == -1)
		return;
	pg.total = atoll(PQgetvalue(res, 0, 0));
	page_reply(r, &pg, "/api/v1/services", PQgetvalue(res, 0, 1),
	    (size_t)PQgetlength(res, 0, 1));
	PQclear(res);
}

/*
 * GET /api/v1/services/{id}
 * 200 with the service; 404 when the id is malformed or names no active
 * service of the caller's business; 503 when the database is unreachable.
 */
void
h_services_get(struct request *r)
{
	PGresult	*res;

	if (!uuid_valid(r->args[0])) {
		resp_error(r, 404, "not_found", NULL, "No such service.");
		return;
	}
	if (db_exec_or_reply(r, STMT_SERVICES_GET, &res, r->args[0],
	    r->principal.business_id) == -1)
		return;
	if (PQntuples(res) == 0)
		resp_error(r, 404, "not_found", NULL, "No such service.");
	else
		resp_raw(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	PQclear(res);
}
