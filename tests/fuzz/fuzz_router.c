/*
 * fuzz_router.c: method and path (NUL-separated) against the route table.
 * Invariants: a route is found exactly when a segment-by-segment match
 * written again here finds one with that method (HEAD is GET); captured ids
 * are the path's segments; a 405's Allow list names OPTIONS and fits. The
 * path, taken as a query string, against every route's query parameters:
 * route_query_unknown() says unknown exactly when a strtok() reference finds
 * a piece whose name the route does not take, and names it in printable
 * ASCII within the buffer.
 */
#include "router.h"
#include "fuzz.h"

/* Segment by segment: literal segments equal, "{}" any non-empty one. */
static int
reference(const char *pattern, const char *path)
{
	size_t	 pl, sl;

	for (;;) {
		pl = strcspn(pattern, "/");
		sl = strcspn(path, "/");
		if (pl == 2 && strncmp(pattern, "{}", 2) == 0) {
			if (sl == 0)
				return 0;
		} else if (pl != sl || strncmp(pattern, path, pl) != 0)
			return 0;
		pattern += pl;
		path += sl;
		if (*pattern == '\0' || *path == '\0')
			return *pattern == *path;
		pattern++;
		path++;
	}
}

static int
nargs(const char *pattern)
{
	int	 n = 0;

	while ((pattern = strstr(pattern, "{}")) != NULL)
		n++, pattern += 2;
	return n;
}

/* The pattern with its "{}" replaced by args: the path it matched. */
static void
expand(const char *pattern, char args[REQ_MAX_ARGS][REQ_ARG_MAX], char *out,
    size_t len)
{
	size_t	 n = 0, a = 0;

	out[0] = '\0';
	for (; *pattern != '\0'; pattern++) {
		if (strncmp(pattern, "{}", 2) == 0) {
			n += (size_t)snprintf(out + n, len - n, "%s", args[a++]);
			pattern++;
		} else if (n + 1 < len) {
			out[n++] = *pattern;
			out[n] = '\0';
		}
	}
}

/* Whether q has a non-empty '&' piece whose name the route does not take. */
static int
ref_unknown(const struct route *rt, const char *q)
{
	char	*copy = strdup(q), *save = NULL, *piece;
	int	 unknown = 0, known, j;
	size_t	 n;

	for (piece = strtok_r(copy, "&", &save); piece != NULL && !unknown;
	    piece = strtok_r(NULL, "&", &save)) {
		n = strcspn(piece, "=");
		known = 0;
		for (j = 0; rt->query != NULL && rt->query[j] != NULL; j++)
			known |= strlen(rt->query[j]) == n && strncmp(piece, rt->query[j], n) == 0;
		unknown = !known;
	}
	free(copy);
	return unknown;
}

/* The query matcher of every route against f[1] as a query string. */
static void
check_query(const char *q)
{
	char	 out[16], names[160];
	int	 i, rc;
	size_t	 k;

	for (i = 0; i < ROUTE__MAX; i++) {
		memset(out, 'x', sizeof(out));
		rc = route_query_unknown(&routes[i], q, out, sizeof(out));
		FUZZ_ASSERT(rc == ref_unknown(&routes[i], q));
		if (rc == 1) {
			FUZZ_ASSERT(memchr(out, '\0', sizeof(out)) != NULL);
			for (k = 0; out[k] != '\0'; k++)
				FUZZ_ASSERT(out[k] > ' ' && out[k] <= '~');
		}
		route_query_names(&routes[i], names, sizeof(names));
		FUZZ_ASSERT(memchr(names, '\0', sizeof(names)) != NULL && names[0] != '\0');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			*f[2], *copy, allow[128], path[REQ_PATH_MAX * 2];
	char			 args[REQ_MAX_ARGS][REQ_ARG_MAX];
	const char		*method;
	const struct route	*route = NULL;
	enum route_result	 rr;
	int			 i, matches = 0, same = 0, long_arg;

	copy = fuzz_fields(data, size, f, 2);
	method = strcmp(f[0], "HEAD") == 0 ? "GET" : f[0];
	for (i = 0; i < ROUTE__MAX; i++)
		if (reference(routes[i].pattern, f[1])) {
			matches++;
			same += strcmp(routes[i].method, method) == 0;
		}
	memset(args, 'x', sizeof(args));
	rr = route_match(f[0], f[1], args, &route, allow, sizeof(allow));
	FUZZ_ASSERT(strlen(allow) < sizeof(allow));
	switch (rr) {
	case ROUTE_FOUND:
		FUZZ_ASSERT(same > 0 && route >= routes && route < routes + ROUTE__MAX);
		FUZZ_ASSERT(strcmp(route->method, method) == 0);
		long_arg = 0;
		for (i = 0; i < nargs(route->pattern); i++) {
			FUZZ_ASSERT(memchr(args[i], '\0', REQ_ARG_MAX) != NULL);
			FUZZ_ASSERT(strchr(args[i], '/') == NULL);
			long_arg |= args[i][0] == '\0';	/* too long: kept empty */
		}
		if (!long_arg) {
			expand(route->pattern, args, path, sizeof(path));
			FUZZ_ASSERT(strcmp(path, f[1]) == 0);
		}
		break;
	case ROUTE_BAD_METHOD:
		FUZZ_ASSERT(matches > 0 && same == 0);
		FUZZ_ASSERT(strstr(allow, "OPTIONS") != NULL);
		break;
	case ROUTE_NOT_FOUND:
		FUZZ_ASSERT(matches == 0);
		break;
	default:
		FUZZ_ASSERT(0);
	}
	FUZZ_ASSERT(route_is_api(f[1]) == (strncmp(f[1], "/api/v1", 7) == 0 &&
	    (f[1][7] == '\0' || f[1][7] == '/')));
	check_query(f[1]);
	free(copy);
	return 0;
}
