/* h_services.c: GET /api/v1/services and GET /api/v1/services/{id}. */
#include "catalogue.h"
#include "handlers.h"
#include "kit.h"
#include "worker.h"

/*
 * GET /services's list in the admission's round trip (router.h: fuse), only
 * while the worker's catalogue misses most lists (cat_cold()): the
 * admission reads the business's list as service_lists keeps it
 * (STMT_ADMIT_SERVICES); no arguments of its own.
 */
int
h_services_fuse(struct request *r, const char **args)
{
	(void)args;
	return cat_cold(r->worker) ? 0 : -1;
}

/*
 * GET /api/v1/services
 * 200 with a page of the active services of the caller's business, by
 * name; 422 for a bad page or per_page; 503 when the database is away.
 */
void
h_services_list(struct request *r)
{
	/* (the list may have come with the admission: h_services_fuse()) */
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
