/* request.c: FastCGI parameters -> struct request; query strings; ids. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "request.h"

static const char base62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Prepares r for its first request; the buffers live across requests. */
void
req_init(struct request *r, struct worker *w)
{
	memset(r, 0, sizeof(*r));
	r->worker = w;
	r->in_fd = -1;
	buf_init(&r->headers);
	buf_init(&r->out);
}

/* Frees what one request owns and makes r ready for the next. */
void
req_reset(struct request *r)
{
	struct buf	 h = r->headers, o = r->out;
	struct worker	*w = r->worker;

	PQclear(r->auth_res);
	json_object_put(r->json);
	if (r->body != NULL) {
		sodium_memzero(r->body, r->body_len);
		free(r->body);
	}
	if (o.p != NULL)
		sodium_memzero(o.p, o.len);	/* a session token may be in it */
	memset(r, 0, sizeof(*r));
	r->worker = w;
	r->in_fd = -1;
	r->headers = h;
	r->out = o;
	buf_reset(&r->headers);
	buf_reset(&r->out);
}

/* Releases everything, buffers included. */
void
req_cleanup(struct request *r)
{
	req_reset(r);
	buf_cleanup(&r->headers);
	buf_cleanup(&r->out);
}

/*
 * The parameters req_parse() reads, all found in one pass over envp (a
 * req_param() for each, and a count for each guarded one, was a few
 * hundred string comparisons a request). A header the worker acts on has
 * its HTTP name: a front end maps a header's name to its parameter by
 * turning '-' into '_' (lighttpd any punctuation), so a client's
 * "X_Forwarded_For" arrives as HTTP_X_FORWARDED_FOR next to the real
 * header, and the first found would be taken: such a header that came
 * twice is named in r->repeated, the first of them in this order.
 */
enum param {
	P_AUTHORIZATION, P_XFF, P_BUSINESS, P_ORIGIN, P_IDEMPOTENCY,	/* guarded */
	P_METHOD, P_URI, P_CONTENT_TYPE, P_REMOTE_ADDR, P_CONTENT_LENGTH,
	P__MAX
};

#define P_GUARDED	5	/* the first five */

static const struct {
	const char	*param;
	size_t		 len;
	const char	*header;	/* the guarded ones */
} params[P__MAX] = {
#define PARAM(name, header) { name, sizeof(name) - 1, header }
	[P_AUTHORIZATION] = PARAM("HTTP_AUTHORIZATION", "Authorization"),
	[P_XFF] = PARAM("HTTP_X_FORWARDED_FOR", "X-Forwarded-For"),
	[P_BUSINESS] = PARAM("HTTP_CALENDENCE_BUSINESS", "Calendence-Business"),
	[P_ORIGIN] = PARAM("HTTP_ORIGIN", "Origin"),
	[P_IDEMPOTENCY] = PARAM("HTTP_IDEMPOTENCY_KEY", "Idempotency-Key"),
	[P_METHOD] = PARAM("REQUEST_METHOD", NULL),
	[P_URI] = PARAM("REQUEST_URI", NULL),
	[P_CONTENT_TYPE] = PARAM("CONTENT_TYPE", NULL),
	[P_REMOTE_ADDR] = PARAM("REMOTE_ADDR", NULL),
	[P_CONTENT_LENGTH] = PARAM("CONTENT_LENGTH", NULL),
#undef PARAM
};

/* The value of a FastCGI parameter, or NULL. */
const char *
req_param(char **envp, const char *name)
{
	size_t	 len = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
			return *envp + len + 1;
	return NULL;
}

/*
 * The values of params[] in envp (the first of each, NULL when absent),
 * and the HTTP name of the first guarded header that occurs twice, or NULL.
 */
static const char *
scan_params(char **envp, const char *val[P__MAX])
{
	int		 seen[P_GUARDED] = { 0 }, i;
	const char	*e;

	memset(val, 0, P__MAX * sizeof(val[0]));
	for (; envp != NULL && *envp != NULL; envp++) {
		e = *envp;
		/* the first character tells most parameters apart at a glance */
		for (i = 0; i < P__MAX; i++)
			if (e[0] == params[i].param[0] &&
			    strncmp(e, params[i].param, params[i].len) == 0 &&
			    e[params[i].len] == '=')
				break;
		if (i == P__MAX)
			continue;
		if (i < P_GUARDED)
			seen[i]++;
		if (val[i] == NULL)
			val[i] = e + params[i].len + 1;
	}
	for (i = 0; i < P_GUARDED; i++)
		if (seen[i] > 1)
			return params[i].header;
	return NULL;
}

/*
 * One random byte for request ids, from a buffer filled 512 bytes at a time
 * (a getrandom() for each request was one of the dozen system calls a
 * request costs); a forked child never uses its parent's bytes.
 */
static unsigned char	 id_pool[512];
static size_t		 id_used = sizeof(id_pool);
static pid_t		 id_owner;	/* the process the bytes were drawn for */

static unsigned char
id_byte(void)
{
	if (id_used == sizeof(id_pool)) {
		randombytes_buf(id_pool, sizeof(id_pool));
		id_used = 0;
	}
	return id_pool[id_used++];
}

static void
new_id(char id[REQ_ID_LEN + 1])
{
	unsigned char	 b;
	size_t		 n = 4;

	if (id_owner != log_pid()) {	/* once an id, not once a byte */
		id_owner = log_pid();
		id_used = sizeof(id_pool);
	}
	memcpy(id, "req_", 4);
	while (n < REQ_ID_LEN)
		if ((b = id_byte()) < 248)
			id[n++] = base62[b % 62];
	id[REQ_ID_LEN] = '\0';
}

/* Content-Length: digits only; -1 when absent, -2 when malformed. */
static long long
parse_length(const char *s)
{
	long long	 n = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s) || n > (1LL << 40))
			return -2;
		n = n * 10 + (*s - '0');
	}
	return n;
}

/*
 * True when s[0..len) is well-formed UTF-8 (RFC 3629): no overlong forms,
 * no surrogates, nothing above U+10FFFF. PostgreSQL takes no other text.
 */
int
req_utf8_valid(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0, n, k;
	unsigned int		 c, min;

	while (i < len) {
		if ((c = u[i]) < 0x80)
			n = 0, min = 0;
		else if (c >= 0xc2 && c <= 0xdf)
			n = 1, c &= 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, c &= 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, c &= 0x07, min = 0x10000;
		else
			return 0;
		if (len - i - 1 < n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (u[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/*
 * A header that reaches SQL as text: itself when it is UTF-8, else instead,
 * a value that SQL answers as it answers any malformed one (PostgreSQL
 * refuses other bytes outright: a 500 for a bad header).
 */
static const char *
sql_text(const char *s, const char *instead)
{
	return s == NULL || req_utf8_valid(s, strlen(s)) ? s : instead;
}

/* Only an origin of printable ASCII without spaces is echoed back. */
static const char *
safe_origin(const char *s)
{
	const char	*p;

	if (s == NULL || *s == '\0' || strlen(s) > 255)
		return NULL;
	for (p = s; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~' || *p == ',')
			return NULL;
	return s;
}

/* Copies the path of REQUEST_URI, without query and trailing slash. */
static void
parse_uri(struct request *r, const char *uri)
{
	const char	*q;
	size_t		 len;

	r->query = "";
	if (uri == NULL || uri[0] != '/')
		return;
	q = strchr(uri, '?');
	len = q ? (size_t)(q - uri) : strlen(uri);
	if (q != NULL)
		r->query = q + 1;
	if (len >= sizeof(r->path))
		return;
	memcpy(r->path, uri, len);
	r->path[len] = '\0';
	if (len > 1 && r->path[len - 1] == '/')
		r->path[len - 1] = '\0';
	r->path_ok = 1;
}

/*
 * Fills r from the FastCGI parameters in envp; proxies are the trusted
 * proxies for X-Forwarded-For. Never fails: what is missing stays NULL, and
 * a header the worker acts on that came twice is named in r->repeated for
 * the pipeline to refuse (app.c).
 */
void
req_parse(struct request *r, char **envp, const struct ip_net *proxies,
    size_t nproxies)
{
	const char	*v[P__MAX], *method;

	clock_gettime(CLOCK_MONOTONIC, &r->start);
	new_id(r->id);
	r->repeated = scan_params(envp, v);
	method = v[P_METHOD];
	if (method != NULL && strlen(method) < sizeof(r->method))
		memcpy(r->method, method, strlen(method) + 1);
	r->is_head = strcmp(r->method, "HEAD") == 0;
	parse_uri(r, v[P_URI]);
	r->authorization = v[P_AUTHORIZATION];
	r->content_type = v[P_CONTENT_TYPE];
	r->origin = safe_origin(v[P_ORIGIN]);
	/* '?' is no origin (RFC 6454): it is in no allowed_origins */
	r->origin_hdr = sql_text(v[P_ORIGIN], "?");
	r->business_hdr = v[P_BUSINESS];
	/* "" is not 1-255 printable characters: 422, as for any bad key */
	r->idem_key = sql_text(v[P_IDEMPOTENCY], "");
	r->xff = v[P_XFF];
	r->remote_addr = v[P_REMOTE_ADDR];
	r->content_length = parse_length(v[P_CONTENT_LENGTH]);
	r->client_ok = ip_client(r->remote_addr, r->xff, proxies, nproxies,
	    &r->client) == 0;
	if (r->client_ok) {
		ip_format(&r->client, r->client_ip);
		ip_subject(&r->client, r->ip_subject);
	} else {
		strcpy(r->client_ip, "unknown");
		strcpy(r->ip_subject, "unknown");
	}
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * Percent-decodes len bytes of s ('+' is a space) into out; -1 when the
 * value does not fit, holds a control character (U+0000-U+001F, U+007F:
 * no parameter of the API has one, and they would reach SQL and the logs)
 * or is not UTF-8.
 */
static int
decode(const char *s, size_t len, char *out, size_t outlen)
{
	size_t	 i, n = 0;
	int	 hi, lo;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%' && i + 2 < len && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+')
			c = ' ';
		if ((unsigned char)c < 0x20 || c == 0x7f || n + 1 >= outlen)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return req_utf8_valid(out, n) ? 0 : -1;
}

/*
 * Finds the first parameter called name in the query string and writes its
 * decoded value into out. Returns 1 when found, 0 when absent, -1 when the
 * value is too long for out, holds a control character (%00-%1F, %7F) or is
 * not UTF-8 (the database would refuse it).
 */
int
req_query(const char *query, const char *name, char *out, size_t outlen)
{
	size_t		 nlen = strlen(name), len;
	const char	*p = query, *eq;

	while (p != NULL && *p != '\0') {
		len = strcspn(p, "&");
		eq = memchr(p, '=', len);
		if ((size_t)((eq ? eq : p + len) - p) == nlen &&
		    strncmp(p, name, nlen) == 0) {
			if (eq == NULL)
				return out[0] = '\0', 1;
			return decode(eq + 1, len - (size_t)(eq + 1 - p), out,
			    outlen) == 0 ? 1 : -1;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}

/* True for a lowercase, hyphenated UUID ("8-4-4-4-12" hex digits). */
int
uuid_valid(const char *s)
{
	int	 i;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}
