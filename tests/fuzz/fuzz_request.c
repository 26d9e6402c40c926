/*
 * fuzz_request.c: the FastCGI parameters of one request, NUL-separated
 * "NAME=VALUE" strings, through req_parse() and what the pipeline does with
 * them before the database: route, Bearer token, page and query parameters.
 * Invariants: the path is absolute, short and without its query; the client
 * address prints and parses back; query values are what a decoder written
 * again here makes of them (no control characters), and like the headers
 * that reach SQL (Origin, Idempotency-Key) well-formed UTF-8; page numbers
 * stay in their ranges; a header the worker acts on that came twice is named.
 */
#include <ctype.h>

#include "app.h"
#include "worker.h"
#include "auth.h"
#include "page.h"
#include "router.h"
#include "fuzz.h"

static const char proxies[] = "127.0.0.1, 10.0.0.0/8, ::1, fd00::/8";

/* The query parameters the handlers read. */
static const char *const names[] = {
	"page", "per_page", "service_id", "date_from", "date_to", "staff_id",
	"location_id", "status", "from", "to", "cursor",
};

static int
hex(int c)
{
	if (isdigit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* req_query() written again: first "name" or "name=..." between '&'s. */
static int
reference(const char *q, const char *name, char *out, size_t outlen)
{
	const char	*p, *end, *v;
	size_t		 n = 0, nlen = strlen(name);

	for (p = q; ; p = end + 1) {
		end = p + strcspn(p, "&");
		v = memchr(p, '=', (size_t)(end - p));
		if ((size_t)((v ? v : end) - p) == nlen && memcmp(p, name, nlen) == 0)
			break;
		if (*end == '\0')
			return 0;
	}
	if (v == NULL) {
		out[0] = '\0';
		return 1;
	}
	for (v++; v < end; v++) {
		int	 c = (unsigned char)*v;

		if (c == '%' && end - v > 2 && hex(v[1]) >= 0 && hex(v[2]) >= 0) {
			c = hex(v[1]) * 16 + hex(v[2]);
			v += 2;
		} else if (c == '+')
			c = ' ';
		/* no control character (U+0000-U+001F, U+007F) in any value */
		if (c < 0x20 || c == 0x7f || n + 1 >= outlen)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 1;
}

static void
check_query(const char *q)
{
	char	 got[128], want[128];
	size_t	 i;
	int	 rc, rc2;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		memset(got, 'x', sizeof(got));
		rc = req_query(q, names[i], got, sizeof(got));
		rc2 = reference(q, names[i], want, sizeof(want));
		/* PostgreSQL takes UTF-8 text only: anything else was a 500 */
		if (rc2 == 1 && !fuzz_utf8(want, strlen(want)))
			rc2 = -1;
		FUZZ_ASSERT(rc == rc2);
		if (rc == 1)
			FUZZ_ASSERT(strcmp(got, want) == 0);
	}
}

/* The parameters of the headers the worker acts on. */
static const char *const guarded[] = {
	"HTTP_AUTHORIZATION", "HTTP_X_FORWARDED_FOR", "HTTP_CALENDENCE_BUSINESS",
	"HTTP_ORIGIN", "HTTP_IDEMPOTENCY_KEY",
};

/* True when one of them is in envp more than once. */
static int
has_repeated(char **envp)
{
	size_t	 i, len;
	int	 n;

	for (i = 0; i < sizeof(guarded) / sizeof(guarded[0]); i++) {
		len = strlen(guarded[i]);
		n = 0;
		for (char **e = envp; *e != NULL; e++)
			if (strncmp(*e, guarded[i], len) == 0 && (*e)[len] == '=')
				n++;
		if (n > 1)
			return 1;
	}
	return 0;
}

static void
check_parsed(const struct request *r, char **envp)
{
	const char	*m = req_param(envp, "REQUEST_METHOD");
	const char	*uri = req_param(envp, "REQUEST_URI");
	struct ip_addr	 a;
	size_t		 len;

	FUZZ_ASSERT(strlen(r->method) < sizeof(r->method));
	FUZZ_ASSERT(m == NULL || strlen(m) >= sizeof(r->method) ?
	    r->method[0] == '\0' : strcmp(r->method, m) == 0);
	FUZZ_ASSERT(r->query != NULL);
	FUZZ_ASSERT(r->content_length >= -2);
	if (r->path_ok) {
		len = strlen(r->path);
		FUZZ_ASSERT(uri != NULL && r->path[0] == '/' && len < REQ_PATH_MAX);
		FUZZ_ASSERT(strchr(r->path, '?') == NULL);
		FUZZ_ASSERT(strncmp(uri, r->path, len) == 0);
		FUZZ_ASSERT(uri[len] == '\0' || uri[len] == '?' ||
		    (uri[len] == '/' && (uri[len + 1] == '\0' || uri[len + 1] == '?')));
	}
	if (r->origin != NULL)
		FUZZ_ASSERT(strlen(r->origin) <= 255 &&
		    strcspn(r->origin, " ,") == strlen(r->origin));
	/* the headers that reach SQL as text are UTF-8 */
	if (r->origin_hdr != NULL)
		FUZZ_ASSERT(fuzz_utf8(r->origin_hdr, strlen(r->origin_hdr)));
	if (r->idem_key != NULL)
		FUZZ_ASSERT(fuzz_utf8(r->idem_key, strlen(r->idem_key)));
	if (r->client_ok) {
		FUZZ_ASSERT(ip_parse(r->client_ip, strlen(r->client_ip), &a) == 0);
		FUZZ_ASSERT(a.family == r->client.family &&
		    memcmp(a.addr, r->client.addr, sizeof(a.addr)) == 0);
	} else
		FUZZ_ASSERT(strcmp(r->client_ip, "unknown") == 0);
	FUZZ_ASSERT(strlen(r->id) == REQ_ID_LEN && strncmp(r->id, "req_", 4) == 0);
}

static void
check_route(struct request *r)
{
	char			 allow[128];
	enum route_result	 rr;

	if (!r->path_ok || !route_is_api(r->path))
		return;
	rr = route_match(r->method, r->path, r->args, &r->route, allow,
	    sizeof(allow));
	if (rr != ROUTE_FOUND)
		return;
	if (strstr(r->route->pattern, "{}") == NULL)
		return;
	FUZZ_ASSERT(memchr(r->args[0], '\0', REQ_ARG_MAX) != NULL);
	if (uuid_valid(r->args[0]))
		FUZZ_ASSERT(strlen(r->args[0]) == 36 && strspn(r->args[0],
		    "0123456789abcdef-") == 36);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct worker	 app;
	struct request		 r;
	struct page		 pg;
	char			*f[FUZZ_MAX_FIELDS + 1], *copy, err[128];
	const char		*param = NULL, *tok;
	size_t			 len;
	enum token_kind		 kind;

	if (app.conf.body_limit == 0) {
		conf_defaults(&app.conf);
		if (conf_set(&app.conf, "trusted_proxies", proxies, err,
		    sizeof(err)) == -1)
			abort();
	}
	copy = fuzz_fields(data, size, f, FUZZ_MAX_FIELDS);
	f[FUZZ_MAX_FIELDS] = NULL;
	req_init(&r, &app);
	req_parse(&r, f, app.conf.proxies, app.conf.nproxies);
	check_parsed(&r, f);
	FUZZ_ASSERT((r.repeated != NULL) == has_repeated(f));
	FUZZ_ASSERT(app_headers_or_reply(&r) == (r.repeated != NULL ? -1 : 0));
	FUZZ_ASSERT(r.status == (r.repeated != NULL ? 400 : 0));
	check_route(&r);
	check_query(r.query);
	if (page_parse(r.query, &pg, &param) == 0) {
		FUZZ_ASSERT(pg.page >= 1 && pg.page <= PAGE_MAX);
		FUZZ_ASSERT(pg.per_page >= 1 && pg.per_page <= PAGE_MAX_SIZE);
		FUZZ_ASSERT(page_offset(&pg) == (pg.page - 1) * pg.per_page);
	} else
		FUZZ_ASSERT(param != NULL && (strcmp(param, "page") == 0 ||
		    strcmp(param, "per_page") == 0));
	if (auth_bearer(r.authorization, &tok, &len) == 0 &&
	    token_parse(tok, len, &kind) == 0)
		FUZZ_ASSERT(len == TOKEN_LEN && kind < TOKEN__MAX);
	req_cleanup(&r);
	free(copy);
	return 0;
}
