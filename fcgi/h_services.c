/* h_services.c: GET /api/v1/services and GET /api/v1/services/{id}. */
#include "handlers.h"
#include "kit.h"

/*
 * GET /api/v1/services
 * 200 with a page of the active services of the caller's business, by
 * name; 422 for a bad page or per_page; 503 when the database is away.
 */
void
h_services_list(struct request *r)
{
	kit_cat_list(r, CAT_SERVICES, r->principal.business_id, NULL,
	    "/api/v1/services", STMT_SERVICES_LIST, KIT_ARGS(r->principal.business_id));
}

/*
 * GET /api/v1/services/{id}
 * 200 with the service; 404 when the id is malformed or names no active
 * service of the caller's business; 503 when the database is unreachable.
 */
void
h_services_get(struct request *r)
{
	kit_cat_get(r, CAT_SERVICES, r->principal.business_id, NULL, "No such service.",
	    STMT_SERVICES_GET, KIT_ARGS(r->args[0], r->principal.business_id));
}
