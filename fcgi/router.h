/* router.h: the static route table of /api/v1. */
#ifndef ROUTER_H
#define ROUTER_H

#include <stddef.h>

#include "request.h"

enum route_id {
	ROUTE_SESSION_CREATE,
	ROUTE_SESSION_DELETE,
	ROUTE_SERVICES_LIST,
	ROUTE_SERVICES_GET,
	ROUTE_BUSINESSES_LIST,
	ROUTE_BUSINESSES_GET,
	ROUTE_LOCATIONS_LIST,
	ROUTE_AVAILABILITY,
	ROUTE_BOOKINGS_HOLD,
	ROUTE_BOOKINGS_CREATE,
	ROUTE_BOOKINGS_LIST,
	ROUTE_BOOKINGS_GET,
	ROUTE_BOOKINGS_CANCEL,
	ROUTE_BOOKINGS_RELEASE,
	ROUTE_BOOKINGS_RESCHEDULE,
	ROUTE_BOOKINGS_UPDATE,
	ROUTE_WEBHOOKS_CREATE,
	ROUTE_WEBHOOKS_LIST,
	ROUTE_WEBHOOKS_GET,
	ROUTE_WEBHOOKS_DELETE,
	ROUTE_WEBHOOKS_DELIVERIES,
	ROUTE_WEBHOOKS_RETRY,
	ROUTE__MAX
};

enum route_scope {
	SCOPE_NONE,		/* acts for the key's own business, if any */
	SCOPE_BUSINESS,		/* acts for one business; hub keys name it */
	SCOPE_BUSINESSES	/* names businesses itself; the header is ignored */
};

typedef void (*route_handler)(struct request *);

struct route {
	const char	*method;
	const char	*pattern;	/* "{}" matches one path segment */
	route_handler	 handler;
	unsigned	 kinds;		/* TOKEN_BIT()s of the keys allowed */
	enum route_scope scope;
	int		 body;		/* takes a JSON body */
	int		 any_plan;	/* open to keys without full_api_access */
	const char *const *query;	/* the query parameters it takes, NULL-ended;
					   NULL: none */
	/*
	 * A route whose handler's statement can run in the admission's round
	 * trip (issue 15: one a request): fuse() sets the statement's own
	 * arguments (at most REQ_FUSE_ARGS, kept in r->fuse_buf) and returns
	 * 0, or -1 to leave it to the handler (a malformed value: its 422);
	 * fused is the statement (enum stmt) that admits and answers at once.
	 */
	int		(*fuse)(struct request *, const char **);
	int		 fused;
};

enum route_result {
	ROUTE_FOUND,
	ROUTE_NOT_FOUND,
	ROUTE_BAD_METHOD
};

extern const struct route routes[ROUTE__MAX];

enum route_result route_match(const char *, const char *,
		    char [REQ_MAX_ARGS][REQ_ARG_MAX], const struct route **, char *,
		    size_t);
int		 route_is_api(const char *);
int		 route_query_unknown(const struct route *, const char *, char *, size_t);
void		 route_query_names(const struct route *, char *, size_t);

#endif
