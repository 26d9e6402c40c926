/*
 * fuzz_body.c: the request body as body_or_reply() reads it: CONTENT_LENGTH,
 * CONTENT_TYPE and options, NUL-separated, then the bytes the FastCGI
 * stream delivers (in chunks of a size the options choose). Invariants: a
 * body is accepted exactly when its length is what it claims, within the
 * cap, of JSON type, well-formed UTF-8 (checked here from RFC 3629 Table 3-7)
 * and an RFC 8259 object whose strings hold no \u0000 and whose numbers fit
 * PostgreSQL's numeric (at most 1000 characters, an exponent of at most 3
 * digits after its leading zeros); a refusal is a JSON error of 400, 413 or
 * 415.
 */
#include <ctype.h>
#include <limits.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "worker.h"
#include "body.h"
#include "router.h"
#include "fuzz.h"

#define DEPTH_SAFE	30	/* json-c's own limit is 32 levels */

struct feed {
	const uint8_t	*p;
	size_t		 left, chunk;
	unsigned char	 buf[256];
};

/* libfcgi's refill hook: the next chunk of the body, then end of stream. */
static void
fill(FCGX_Stream *s)
{
	struct feed	*f = s->data;
	size_t		 n = f->left < f->chunk ? f->left : f->chunk;

	if (n == 0) {
		s->isClosed = 1;
		return;
	}
	memcpy(f->buf, f->p, n);
	f->p += n;
	f->left -= n;
	s->rdNext = s->stopUnget = f->buf;
	s->stop = s->wrNext = f->buf + n;
}

/* The deepest nesting of '[' and '{' outside strings. */
static int
depth(const uint8_t *s, size_t len)
{
	int	 d = 0, max = 0, in = 0;
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (in) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in = 0;
		} else if (s[i] == '"')
			in = 1;
		else if (s[i] == '[' || s[i] == '{') {
			if (++d > max)
				max = d;
		} else if (s[i] == ']' || s[i] == '}')
			d--;
	}
	return max;
}

/* True when a string holds the escape \u0000, which the server refuses. */
static int
nul_escape(const uint8_t *s, size_t len)
{
	size_t	 i;

	for (i = 0; i + 1 < len; i++)
		if (s[i] == '\\') {
			if (s[i + 1] == 'u' && i + 6 <= len &&
			    memcmp(s + i + 2, "0000", 4) == 0)
				return 1;
			i++;
		}
	return 0;
}

/*
 * True when a number outside strings is longer than 1000 characters or its
 * exponent has more than 3 digits once leading zeros are dropped: the server
 * refuses those, PostgreSQL's numeric would not take them.
 */
static int
big_number(const uint8_t *s, size_t len)
{
	size_t	 i = 0, n, digits;
	int	 in = 0;

	while (i < len) {
		if (in) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in = 0;
			i++;
			continue;
		}
		if (s[i] == '"') {
			in = 1;
			i++;
			continue;
		}
		if (s[i] != '-' && !isdigit(s[i])) {
			i++;
			continue;
		}
		for (n = 0; i + n < len && strchr("-+.eE0123456789", s[i + n]) &&
		    s[i + n] != '\0'; n++)
			continue;
		if (n > 1000)
			return 1;
		for (; n > 0 && s[i] != 'e' && s[i] != 'E'; i++, n--)
			continue;
		if (n > 0) {
			i++, n--;
			if (n > 0 && (s[i] == '+' || s[i] == '-'))
				i++, n--;
			while (n > 1 && s[i] == '0')
				i++, n--;
			for (digits = 0; n > 0; i++, n--)
				digits++;
			if (digits > 3)
				return 1;
		}
	}
	return 0;
}

/* The first byte that is not JSON whitespace, or -1. */
static int
first(const uint8_t *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (!strchr(" \t\r\n", s[i]) || s[i] == '\0')
			return s[i];
	return -1;
}

static int
is_json(const char *ct)
{
	size_t	 n = strlen("application/json");

	if (strncasecmp(ct, "application/json", n) != 0)
		return 0;
	ct += n + strspn(ct + n, " \t");
	return *ct == '\0' || *ct == ';';
}

/*
 * CONTENT_LENGTH as HTTP has it (1*DIGIT): -1 absent, -2 malformed,
 * LLONG_MAX for more than 12 significant digits (over any cap).
 */
static long long
claimed(const char *s)
{
	if (*s == '\0')
		return -1;
	if (strspn(s, "0123456789") != strlen(s))
		return -2;
	s += strspn(s, "0");
	return strlen(s) > 12 ? LLONG_MAX : atoll(s);
}

/* "NAME=value", allocated. */
static char *
param(const char *name, const char *value)
{
	char	*p;

	if ((p = malloc(strlen(name) + strlen(value) + 1)) == NULL)
		abort();
	memcpy(p, name, strlen(name));
	memcpy(p + strlen(name), value, strlen(value) + 1);
	return p;
}

static void
check_error(struct request *r)
{
	json_object	*o, *e;

	FUZZ_ASSERT(r->status == 400 || r->status == 413 || r->status == 415);
	FUZZ_ASSERT(r->out.p != NULL && json_check(r->out.p, r->out.len));
	o = json_tokener_parse(buf_str(&r->out));
	FUZZ_ASSERT(o != NULL && json_object_object_get_ex(o, "error", &e));
	json_object_put(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct worker	 app;
	static struct feed	 feed;
	struct request		 r;
	FCGX_Stream		 in;
	char			*f[3], *copy, *cl, *ct, *envp[6];
	const uint8_t		*body;
	size_t			 len;
	long long		 want;
	int			 rc, takes_json, small;

	copy = fuzz_fields(data, size, f, 3);
	body = fuzz_rest(data, size, 3, &len);
	takes_json = f[2][0] != 'n';
	small = f[2][0] == 's';
	conf_defaults(&app.conf);
	if (small)
		app.conf.body_limit = 16;
	cl = param("CONTENT_LENGTH=", f[0]);
	ct = param("CONTENT_TYPE=", f[1]);
	envp[0] = "REQUEST_METHOD=POST";
	envp[1] = takes_json ? "REQUEST_URI=/api/v1/bookings/hold" :
	    "REQUEST_URI=/api/v1/services";
	envp[2] = "REMOTE_ADDR=192.0.2.1";
	envp[3] = cl;
	envp[4] = ct;
	envp[5] = NULL;

	req_init(&r, &app);
	req_parse(&r, envp, NULL, 0);
	r.route = &routes[takes_json ? ROUTE_BOOKINGS_HOLD : ROUTE_SERVICES_LIST];
	memset(&in, 0, sizeof(in));
	in.isReader = 1;
	in.fillBuffProc = fill;
	in.data = &feed;
	feed.p = body;
	feed.left = len;
	feed.chunk = f[2][0] != '\0' && f[2][1] != '\0' ?
	    (unsigned char)f[2][1] : sizeof(feed.buf);
	r.in = &in;
	rc = body_or_reply(&r);

	want = claimed(f[0]);
	if (rc == -1) {
		check_error(&r);
		/* what the client did wrong, as the status says */
		if (r.status == 413)
			FUZZ_ASSERT(want > (long long)app.conf.body_limit);
	} else {
		FUZZ_ASSERT(r.status == 0);
		FUZZ_ASSERT(want >= -1 && want <= (long long)app.conf.body_limit);
		if (want > 0) {
			FUZZ_ASSERT((size_t)want == len && r.body_len == len);
			FUZZ_ASSERT(memcmp(r.body, body, len) == 0);
		}
		if (want > 0 && takes_json) {
			FUZZ_ASSERT(is_json(f[1]));
			FUZZ_ASSERT(fuzz_utf8(body, len) && json_check(r.body, len));
			FUZZ_ASSERT(!nul_escape(body, len) && !big_number(body, len));
			FUZZ_ASSERT(r.json != NULL &&
			    json_object_is_type(r.json, json_type_object));
		}
	}
	/* a true length, a JSON type, an RFC 8259 object: accepted */
	if (want > 0 && want <= (long long)app.conf.body_limit &&
	    (size_t)want == len && is_json(f[1]) && takes_json &&
	    fuzz_utf8(body, len) && json_check((const char *)body, len) &&
	    depth(body, len) <= DEPTH_SAFE && first(body, len) == '{' &&
	    !nul_escape(body, len) && !big_number(body, len))
		FUZZ_ASSERT(rc == 0);
	req_cleanup(&r);
	free(cl);
	free(ct);
	free(copy);
	return 0;
}
