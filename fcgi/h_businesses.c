/* h_businesses.c: GET /api/v1/businesses and GET /api/v1/businesses/{id}. */
#include "handlers.h"
#include "kit.h"

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
	kit_cat_list(r, CAT_BUSINESSES, r->principal.hub_id, only(r), "/api/v1/businesses",
	    STMT_BUSINESSES_LIST, KIT_ARGS(r->principal.hub_id, only(r)));
}

/*
 * GET /api/v1/businesses/{id}
 * 200 with {id, name, slug, timezone, active, created_at}; 404 when the id
 * is malformed, does not exist, or is not reachable by the key; 503.
 */
void
h_businesses_get(struct request *r)
{
	kit_cat_get(r, CAT_BUSINESSES, r->principal.hub_id, only(r), "No such business.",
	    STMT_BUSINESSES_GET, KIT_ARGS(r->args[0], r->principal.hub_id, only(r)));
}
