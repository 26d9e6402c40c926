/* router.c: one static route table: method, pattern, handler, allowed keys. */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "router.h"

#define ANY_KEY_BUT_PUB	(TOKEN_BIT(TOKEN_HUB) | TOKEN_BIT(TOKEN_BUSINESS) | \
			 TOKEN_BIT(TOKEN_SESSION))
#define SERVER_KEYS	(TOKEN_BIT(TOKEN_HUB) | TOKEN_BIT(TOKEN_BUSINESS))

/* The query parameters of the routes that take any (page.c, the handlers). */
static const char *const q_page[] = { "page", "per_page", NULL };
static const char *const q_availability[] = { "service_id", "date_from", "date_to",
	"staff_id", "location_id", "format", NULL };
static const char *const q_bookings[] = { "status", "from", "to", "updated_since",
	"page", "per_page", NULL };

/* a route whose statement is not fused with the admission (router.h) */
#define NO_FUSE	NULL, 0

const struct route routes[ROUTE__MAX] = {
	[ROUTE_SESSION_CREATE] = { "POST", "/api/v1/session", h_session_create,
	    TOKEN_BIT(TOKEN_PUBLISHABLE) | TOKEN_BIT(TOKEN_SESSION), SCOPE_NONE, 1, 0,
	    NULL, NO_FUSE },
	[ROUTE_SESSION_DELETE] = { "DELETE", "/api/v1/session", h_session_delete,
	    TOKEN_BIT(TOKEN_SESSION), SCOPE_NONE, 0, 0, NULL, NO_FUSE },
	[ROUTE_SERVICES_LIST] = { "GET", "/api/v1/services", h_services_list,
	    ANY_KEY_BUT_PUB, SCOPE_BUSINESS, 0, 0, q_page,
	    .fuse = h_services_fuse, .fused = STMT_ADMIT_SERVICES },
	[ROUTE_SERVICES_GET] = { "GET", "/api/v1/services/{}", h_services_get,
	    ANY_KEY_BUT_PUB, SCOPE_BUSINESS, 0, 0, NULL, NO_FUSE },
	[ROUTE_BUSINESSES_LIST] = { "GET", "/api/v1/businesses", h_businesses_list,
	    SERVER_KEYS, SCOPE_BUSINESSES, 0, 0, q_page, NO_FUSE },
	[ROUTE_BUSINESSES_GET] = { "GET", "/api/v1/businesses/{}", h_businesses_get,
	    SERVER_KEYS, SCOPE_BUSINESSES, 0, 0, NULL, NO_FUSE },
	[ROUTE_LOCATIONS_LIST] = { "GET", "/api/v1/locations", h_locations_list,
	    ANY_KEY_BUT_PUB, SCOPE_BUSINESS, 0, 0, q_page, NO_FUSE },
	[ROUTE_AVAILABILITY] = { "GET", "/api/v1/availability", h_availability,
	    ANY_KEY_BUT_PUB, SCOPE_BUSINESS, 0, 0, q_availability,
	    .fuse = h_availability_fuse, .fused = STMT_ADMIT_AVAILABILITY },
	[ROUTE_BOOKINGS_HOLD] = { "POST", "/api/v1/bookings/hold", h_bookings_hold,
	    ANY_KEY_BUT_PUB, SCOPE_BUSINESS, 1, 0, NULL, NO_FUSE },
	[ROUTE_BOOKINGS_CREATE] = { "POST", "/api/v1/bookings", h_bookings_create,
	    ANY_KEY_BUT_PUB, SCOPE_BUSINESS, 1, 0, NULL, NO_FUSE },
	[ROUTE_BOOKINGS_LIST] = { "GET", "/api/v1/bookings", h_bookings_list,
	    ANY_KEY_BUT_PUB, SCOPE_BUSINESS, 0, 0, q_bookings, NO_FUSE },
	[ROUTE_BOOKINGS_GET] = { "GET", "/api/v1/bookings/{}", h_bookings_get,
	    ANY_KEY_BUT_PUB, SCOPE_BUSINESS, 0, 0, NULL, NO_FUSE },
	[ROUTE_BOOKINGS_CANCEL] = { "POST", "/api/v1/bookings/{}/cancel",
	    h_bookings_cancel, ANY_KEY_BUT_PUB, SCOPE_BUSINESS, 1, 0, NULL, NO_FUSE },
	[ROUTE_BOOKINGS_RELEASE] = { "DELETE", "/api/v1/bookings/hold/{}",
	    h_bookings_release, ANY_KEY_BUT_PUB, SCOPE_BUSINESS, 0, 0, NULL, NO_FUSE },
	[ROUTE_BOOKINGS_RESCHEDULE] = { "POST", "/api/v1/bookings/{}/reschedule",
	    h_bookings_reschedule, ANY_KEY_BUT_PUB, SCOPE_BUSINESS, 1, 0, NULL, NO_FUSE },
	[ROUTE_BOOKINGS_UPDATE] = { "PATCH", "/api/v1/bookings/{}", h_bookings_update,
	    SERVER_KEYS, SCOPE_BUSINESS, 1, 0, NULL, NO_FUSE },
	/* webhooks: on every plan (SPEC 11) */
	[ROUTE_WEBHOOKS_CREATE] = { "POST", "/api/v1/webhooks", h_webhooks_create,
	    SERVER_KEYS, SCOPE_BUSINESS, 1, 1, NULL, NO_FUSE },
	[ROUTE_WEBHOOKS_LIST] = { "GET", "/api/v1/webhooks", h_webhooks_list,
	    SERVER_KEYS, SCOPE_BUSINESS, 0, 1, q_page, NO_FUSE },
	[ROUTE_WEBHOOKS_GET] = { "GET", "/api/v1/webhooks/{}", h_webhooks_get,
	    SERVER_KEYS, SCOPE_BUSINESS, 0, 1, NULL, NO_FUSE },
	[ROUTE_WEBHOOKS_DELETE] = { "DELETE", "/api/v1/webhooks/{}", h_webhooks_delete,
	    SERVER_KEYS, SCOPE_BUSINESS, 0, 1, NULL, NO_FUSE },
	[ROUTE_WEBHOOKS_DELIVERIES] = { "GET", "/api/v1/webhooks/{}/deliveries",
	    h_webhooks_deliveries, SERVER_KEYS, SCOPE_BUSINESS, 0, 1, q_page, NO_FUSE },
	[ROUTE_WEBHOOKS_RETRY] = { "POST", "/api/v1/webhooks/{}/deliveries/{}/retry",
	    h_webhooks_retry, SERVER_KEYS, SCOPE_BUSINESS, 0, 1, NULL, NO_FUSE },
};

/* True when path is /api/v1 or below it. */
int
route_is_api(const char *path)
{
	return strncmp(path, "/api/v1", 7) == 0 && (path[7] == '\0' || path[7] == '/');
}

/* Matches path against pattern, capturing "{}" segments into args. */
static int
pattern_match(const char *pattern, const char *path,
    char args[REQ_MAX_ARGS][REQ_ARG_MAX])
{
	int	 n = 0;
	size_t	 len;

	while (*pattern != '\0') {
		if (strncmp(pattern, "{}", 2) == 0) {
			len = strcspn(path, "/");
			if (len == 0 || n == REQ_MAX_ARGS)
				return 0;
			if (len < REQ_ARG_MAX) {
				memcpy(args[n], path, len);
				args[n][len] = '\0';
			} else
				args[n][0] = '\0';	/* too long: no valid id */
			n++;
			path += len;
			pattern += 2;
		} else if (*pattern++ != *path++)
			return 0;
	}
	return *path == '\0';
}

/* Adds ", METHOD" (the first without ", ") when it is not there yet and fits. */
static void
allow_add(char *allow, size_t len, const char *method)
{
	size_t	 at = strlen(allow), n = strlen(method);

	/* (without snprintf(): this runs for every request's route) */
	if (strstr(allow, method) != NULL || at + 2 + n >= len)
		return;
	if (at > 0) {
		memcpy(allow + at, ", ", 2);
		at += 2;
	}
	memcpy(allow + at, method, n + 1);
}

/*
 * Finds the route of method and path. ROUTE_FOUND sets *route and args;
 * ROUTE_BAD_METHOD fills allow with the methods the path takes (for the
 * Allow header); ROUTE_NOT_FOUND when no pattern matches. HEAD is GET.
 */
enum route_result
route_match(const char *method, const char *path,
    char args[REQ_MAX_ARGS][REQ_ARG_MAX], const struct route **route, char *allow,
    size_t allowlen)
{
	const char	*m = strcmp(method, "HEAD") == 0 ? "GET" : method;
	int		 i, known = 0;

	allow[0] = '\0';
	for (i = 0; i < ROUTE__MAX; i++) {
		if (!pattern_match(routes[i].pattern, path, args))
			continue;
		known = 1;
		allow_add(allow, allowlen, routes[i].method);
		if (strcmp(routes[i].method, "GET") == 0)
			allow_add(allow, allowlen, "HEAD");
		if (strcmp(routes[i].method, m) == 0) {
			*route = &routes[i];
			return ROUTE_FOUND;
		}
	}
	if (!known)
		return ROUTE_NOT_FOUND;
	allow_add(allow, allowlen, "OPTIONS");
	return ROUTE_BAD_METHOD;
}

/* True when the len bytes at name are one of the route's query parameters. */
static int
query_known(const struct route *rt, const char *name, size_t len)
{
	const char *const *q;

	for (q = rt->query; q != NULL && *q != NULL; q++)
		if (strlen(*q) == len && strncmp(*q, name, len) == 0)
			return 1;
	return 0;
}

/*
 * Finds the first parameter of query (the text after '?', "&"-separated, as
 * sent) that the route does not take. Names are compared as sent, not
 * percent-decoded, as req_query() finds them; empty pieces ("a=1&&b=2", a
 * trailing '&') are no parameters. Returns 1 with the name in out (at most
 * outlen - 1 bytes, each byte but printable ASCII as '?', so that it may be
 * shown in JSON and logs), else 0.
 */
int
route_query_unknown(const struct route *rt, const char *query, char *out,
    size_t outlen)
{
	const char	*p = query;
	size_t		 len, nlen, i;

	while (p != NULL && *p != '\0') {
		len = strcspn(p, "&");
		nlen = strcspn(p, "=&");
		if (len > 0 && !query_known(rt, p, nlen)) {
			for (i = 0; i < nlen && i + 1 < outlen; i++)
				out[i] = p[i] > ' ' && p[i] <= '~' ? p[i] : '?';
			out[i] = '\0';
			return 1;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}

/*
 * The route's query parameters as prose into out: "page and per_page",
 * "status, from, to, updated_since, page and per_page", or "no query
 * parameters".
 */
void
route_query_names(const struct route *rt, char *out, size_t outlen)
{
	size_t	 n = 0, i;

	while (rt->query != NULL && rt->query[n] != NULL)
		n++;
	out[0] = '\0';
	if (n == 0) {
		snprintf(out, outlen, "no query parameters");
		return;
	}
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), outlen - strlen(out), "%s%s",
		    i == 0 ? "" : i + 1 == n ? " and " : ", ", rt->query[i]);
}
