/* http.c: a tiny blocking HTTP/1.0 client and JSON path helpers for the end-to-end tests. */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <unistd.h>

#include <json.h>

#include "http.h"

#define HTTP_TIMEOUT_SEC	10
#define HTTP_MAX_RESPONSE	(64u * 1024 * 1024)	/* a test never needs more */
#define HTTP_READ_CHUNK		65536

/* Where CALENDENCE_URL points. */
struct target {
	char	host[256];
	char	port[16];
	char	authority[280];		/* host[:port] as written, for the Host header */
	char	base[512];		/* path prefix without a trailing '/', often "" */
};

/* A growable byte buffer; always NUL-terminated once something was added. */
struct sbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

/* Test code: running out of memory ends the test with a message. */
static void *
xrealloc(void *p, size_t size)
{
	if ((p = realloc(p, size)) == NULL) {
		fprintf(stderr, "http: out of memory\n");
		abort();
	}
	return p;
}

static char *
xstrndup(const char *s, size_t len)
{
	char	*p = xrealloc(NULL, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Makes room for 'more' bytes plus a NUL. */
static void
sbuf_reserve(struct sbuf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	while (b->len + more + 1 > b->cap)
		b->cap = b->cap == 0 ? 1024 : b->cap * 2;
	b->p = xrealloc(b->p, b->cap);
}

static void
sbuf_add(struct sbuf *b, const char *data, size_t len)
{
	sbuf_reserve(b, len);
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
}

static void
sbuf_adds(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

/* Copies 'len' bytes of 's' into dst[size]; -1 when they do not fit. */
static int
copy_part(char *dst, size_t size, const char *s, size_t len)
{
	if (len >= size)
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

/* Splits "host", "host:port", "[v6]" or "[v6]:port" into t->host and t->port. */
static int
target_authority(struct target *t, const char *a, size_t len)
{
	const char	*colon, *end = a + len;

	if (copy_part(t->authority, sizeof(t->authority), a, len) == -1)
		return -1;
	if (len > 0 && a[0] == '[') {
		const char *rb = memchr(a, ']', len);

		if (rb == NULL || copy_part(t->host, sizeof(t->host), a + 1,
		    (size_t)(rb - a - 1)) == -1)
			return -1;
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(a, ':', len);
		if (copy_part(t->host, sizeof(t->host), a,
		    colon ? (size_t)(colon - a) : len) == -1)
			return -1;
	}
	if (colon == NULL)
		return copy_part(t->port, sizeof(t->port), "80", 2);
	return copy_part(t->port, sizeof(t->port), colon + 1, (size_t)(end - colon - 1));
}

/* Fills 't' from CALENDENCE_URL; -1 with a message when unset or malformed. */
static int
target_from_env(struct target *t)
{
	const char	*url = getenv("CALENDENCE_URL"), *a, *slash;
	size_t		 blen;

	memset(t, 0, sizeof(*t));
	if (url == NULL || strncmp(url, "http://", 7) != 0) {
		fprintf(stderr, "http: CALENDENCE_URL must be set to http://host:port, "
		    "not \"%s\"\n", url ? url : "(unset)");
		return -1;
	}
	a = url + 7;
	slash = strchr(a, '/');
	if (slash == NULL)
		slash = a + strlen(a);
	blen = strlen(slash);
	while (blen > 0 && slash[blen - 1] == '/')
		blen--;
	if (slash == a || target_authority(t, a, (size_t)(slash - a)) == -1 ||
	    t->host[0] == '\0' || t->port[0] == '\0' ||
	    copy_part(t->base, sizeof(t->base), slash, blen) == -1) {
		fprintf(stderr, "http: cannot use CALENDENCE_URL \"%s\"\n", url);
		return -1;
	}
	return 0;
}

static int
set_timeouts(int fd)
{
	struct timeval	tv = { .tv_sec = HTTP_TIMEOUT_SEC };

	/* on Linux SO_SNDTIMEO also bounds connect() */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		return -1;
	return 0;
}

/* A socket connected to the target, or -1 with a message. */
static int
connect_to(const struct target *t)
{
	struct addrinfo	 hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo	*res, *ai;
	int		 fd = -1, rc, saved = 0;

	if ((rc = getaddrinfo(t->host, t->port, &hints, &res)) != 0) {
		fprintf(stderr, "http: %s:%s: %s\n", t->host, t->port, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) == -1) {
			saved = errno;
			continue;
		}
		if (set_timeouts(fd) == 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		fprintf(stderr, "http: connect to %s:%s: %s\n", t->host, t->port,
		    strerror(saved));
	return fd;
}

/*
 * Sends all of 'p'. A peer that stops reading (EPIPE, ECONNRESET) is not an
 * error: it may have answered already. Returns -1 on a timeout or other error.
 */
static int
send_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return 0;
			fprintf(stderr, "http: send: %s\n", strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads until EOF (or a reset) into 'in'; -1 on a timeout, error or huge answer. */
static int
recv_all(int fd, struct sbuf *in)
{
	ssize_t	n;

	for (;;) {
		sbuf_reserve(in, HTTP_READ_CHUNK);
		n = recv(fd, in->p + in->len, HTTP_READ_CHUNK, 0);
		if (n == 0 || (n == -1 && errno == ECONNRESET))
			break;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "http: recv: %s\n", errno == EAGAIN ||
			    errno == EWOULDBLOCK ? "timed out" : strerror(errno));
			return -1;
		}
		in->len += (size_t)n;
		in->p[in->len] = '\0';
		if (in->len > HTTP_MAX_RESPONSE) {
			fprintf(stderr, "http: response over %u bytes\n", HTTP_MAX_RESPONSE);
			return -1;
		}
	}
	if (in->p != NULL)
		in->p[in->len] = '\0';
	return 0;
}

/* Appends a folded continuation line (obsolete, RFC 7230 3.2.4) to the last value. */
static void
continue_field(struct http_resp *resp, const char *v, size_t len)
{
	struct http_field	*f = &resp->fields[resp->nfields - 1];
	size_t			 old = strlen(f->value);

	f->value = xrealloc(f->value, old + 1 + len + 1);
	f->value[old] = ' ';
	memcpy(f->value + old + 1, v, len);
	f->value[old + 1 + len] = '\0';
}

/* Appends one "Name: value" line (or a continuation line) to resp->fields. */
static void
add_field(struct http_resp *resp, const char *line, size_t len)
{
	const char		*colon, *v, *end = line + len;
	struct http_field	*f;
	int			 folded;

	folded = len > 0 && (line[0] == ' ' || line[0] == '\t') && resp->nfields > 0;
	colon = folded ? line : memchr(line, ':', len);
	if (colon == NULL || (!folded && colon == line))
		return;			/* not a field; still visible in resp->headers */
	for (v = folded ? line : colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		continue;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	if (folded) {
		continue_field(resp, v, (size_t)(end - v));
		return;
	}
	resp->fields = xrealloc(resp->fields, (resp->nfields + 1) * sizeof(*resp->fields));
	f = &resp->fields[resp->nfields++];
	f->name = xstrndup(line, (size_t)(colon - line));
	f->value = xstrndup(v, (size_t)(end - v));
}

/* The first occurrence of needle[0..nlen) in hay[0..len), or NULL (memmem is GNU). */
static const char *
find(const char *hay, size_t len, const char *needle, size_t nlen)
{
	for (const char *p = hay; len >= nlen && p <= hay + len - nlen; p++)
		if (memcmp(p, needle, nlen) == 0)
			return p;
	return NULL;
}

/* Reads "HTTP/x.y NNN ..." from the first line of resp->headers; 0 when not one. */
static int
parse_status(const char *h)
{
	if (strncmp(h, "HTTP/", 5) != 0)
		return 0;
	h += strcspn(h, " \r\n");
	if (h[0] != ' ' || !isdigit((unsigned char)h[1]) ||
	    !isdigit((unsigned char)h[2]) || !isdigit((unsigned char)h[3]) ||
	    (h[4] != ' ' && h[4] != '\r' && h[4] != '\n' && h[4] != '\0'))
		return 0;
	return (h[1] - '0') * 100 + (h[2] - '0') * 10 + (h[3] - '0');
}

/* Parses the body as strict UTF-8 JSON; NULL when it is not exactly one value. */
static json_object *
parse_json(const char *body, size_t len)
{
	json_tokener	*tok;
	json_object	*o;

	if (len == 0 || len > INT_MAX - 1 || (tok = json_tokener_new()) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* the terminating NUL ends a top-level number or literal */
	o = json_tokener_parse_ex(tok, body, (int)len + 1);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) < len)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* Fills 'resp' from the raw answer in[0..len). */
static void
parse_response(const char *in, size_t len, struct http_resp *resp)
{
	const char	*crlf, *lf, *end, *line, *nl, *ct;
	size_t		 hlen = 0, skip = 0;

	if ((resp->status = parse_status(in)) == 0) {
		resp->headers = xstrndup("", 0);
		resp->body = xstrndup(in, len);
		resp->body_len = len;
		return;
	}
	crlf = find(in, len, "\r\n\r\n", 4);
	lf = find(in, crlf ? (size_t)(crlf - in) + 2 : len, "\n\n", 2);
	if (crlf != NULL && (lf == NULL || crlf < lf)) {
		hlen = (size_t)(crlf - in) + 2;		/* keep the last line's CRLF */
		skip = 2;
	} else if (lf != NULL) {
		hlen = (size_t)(lf - in) + 1;
		skip = 1;
	} else
		hlen = len;				/* no body: cut off in the headers */
	resp->headers = xstrndup(in, hlen);
	resp->body_len = len - hlen - (hlen < len ? skip : 0);
	resp->body = xstrndup(in + len - resp->body_len, resp->body_len);

	end = resp->headers + hlen;
	line = resp->headers + strcspn(resp->headers, "\n");	/* skip the status line */
	for (line = *line ? line + 1 : line; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		add_field(resp, line, (size_t)(nl - line));
	}
	ct = http_header(resp, "Content-Type");
	if (ct != NULL && strncasecmp(ct, "application/json", 16) == 0)
		resp->json = parse_json(resp->body, resp->body_len);
}

/* Connects, sends 'req', reads and parses the answer. */
static int
exchange(const struct target *t, const char *req, size_t len, struct http_resp *resp)
{
	struct sbuf	in = { 0 };
	int		fd, rc = -1;

	memset(resp, 0, sizeof(*resp));
	if ((fd = connect_to(t)) == -1)
		return -1;
	if (send_all(fd, req, len) == 0 && recv_all(fd, &in) == 0) {
		parse_response(in.p ? in.p : "", in.len, resp);
		rc = 0;
	}
	close(fd);
	free(in.p);
	return rc;
}

/* True when one of the header lines is called 'name'. */
static int
has_header(const char *const *hdrs, const char *name)
{
	size_t	n = strlen(name);

	for (; hdrs != NULL && *hdrs != NULL; hdrs++)
		if (strncasecmp(*hdrs, name, n) == 0 && (*hdrs)[n] == ':')
			return 1;
	return 0;
}

int
http_request(const char *method, const char *path, const char *const *hdrs,
    const char *body, size_t body_len, struct http_resp *resp)
{
	struct target	 t;
	struct sbuf	 req = { 0 };
	char		 cl[64];
	int		 rc;

	memset(resp, 0, sizeof(*resp));
	if (target_from_env(&t) == -1)
		return -1;
	sbuf_adds(&req, method);
	sbuf_adds(&req, " ");
	sbuf_adds(&req, t.base);
	sbuf_adds(&req, path);
	sbuf_adds(&req, " HTTP/1.0\r\n");
	if (!has_header(hdrs, "Host")) {
		sbuf_adds(&req, "Host: ");
		sbuf_adds(&req, t.authority);
		sbuf_adds(&req, "\r\n");
	}
	sbuf_adds(&req, "Connection: close\r\n");
	if (!has_header(hdrs, "X-Forwarded-For")) {
		sbuf_adds(&req, "X-Forwarded-For: ");
		sbuf_adds(&req, http_client_ip());
		sbuf_adds(&req, "\r\n");
	}
	for (const char *const *h = hdrs; h != NULL && *h != NULL; h++) {
		sbuf_adds(&req, *h);
		sbuf_adds(&req, "\r\n");
	}
	if (body != NULL) {
		snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", body_len);
		sbuf_adds(&req, cl);
	}
	sbuf_adds(&req, "\r\n");
	if (body != NULL)
		sbuf_add(&req, body, body_len);
	rc = exchange(&t, req.p, req.len, resp);
	free(req.p);
	return rc;
}

/*
 * The client address this test process claims in X-Forwarded-For (the test
 * server trusts 127.0.0.1 as a proxy): one per process, so that per-IP
 * windows of parallel tests never meet. Never a real host: 198.18.0.0/15
 * is the benchmarking range, and nothing is sent to it.
 */
const char *
http_client_ip(void)
{
	static char	 ip[32];
	static pid_t	 owner;

	if (owner != getpid()) {
		owner = getpid();
		snprintf(ip, sizeof(ip), "198.%d.%d.%d", 18 + (owner >> 16 & 1),
		    owner >> 8 & 255, owner & 255);
	}
	return ip;
}

int
http_raw(const char *bytes, size_t len, struct http_resp *resp)
{
	struct target	t;

	memset(resp, 0, sizeof(*resp));
	if (target_from_env(&t) == -1)
		return -1;
	return exchange(&t, bytes, len, resp);
}

int
http_call(const char *method, const char *path, const char *token,
    const char *const *extra, const char *json_body, struct http_resp *resp)
{
	const char	**hdrs;
	char		 *auth = NULL;
	const char	 *body = json_body;
	size_t		  n = 0, i = 0;
	int		  rc;

	while (extra != NULL && extra[n] != NULL)
		n++;
	hdrs = xrealloc(NULL, (n + 3) * sizeof(*hdrs));
	if (token != NULL) {
		auth = xrealloc(NULL, strlen(token) + sizeof("Authorization: Bearer "));
		strcpy(auth, "Authorization: Bearer ");
		strcat(auth, token);
		hdrs[i++] = auth;
	}
	if (json_body != NULL && !has_header(extra, "Content-Type"))
		hdrs[i++] = "Content-Type: application/json";
	for (size_t j = 0; j < n; j++)
		hdrs[i++] = extra[j];
	hdrs[i] = NULL;
	if (body == NULL && (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	    strcmp(method, "PATCH") == 0))
		body = "";	/* HTTP/1.0 servers may want a length (411) */
	rc = http_request(method, path, hdrs, body, body ? strlen(body) : 0, resp);
	free(auth);
	free(hdrs);
	return rc;
}

int
http_get(const char *path, const char *token, const char *const *extra,
    struct http_resp *resp)
{
	return http_call("GET", path, token, extra, NULL, resp);
}

int
http_post(const char *path, const char *token, const char *const *extra,
    const char *json_body, struct http_resp *resp)
{
	return http_call("POST", path, token, extra, json_body, resp);
}

int
http_delete(const char *path, const char *token, const char *const *extra,
    struct http_resp *resp)
{
	return http_call("DELETE", path, token, extra, NULL, resp);
}

const char *
http_header(const struct http_resp *resp, const char *name)
{
	for (size_t i = 0; i < resp->nfields; i++)
		if (strcasecmp(resp->fields[i].name, name) == 0)
			return resp->fields[i].value;
	return NULL;
}

int
http_header_count(const struct http_resp *resp, const char *name)
{
	int	n = 0;

	for (size_t i = 0; i < resp->nfields; i++)
		if (strcasecmp(resp->fields[i].name, name) == 0)
			n++;
	return n;
}

void
http_resp_free(struct http_resp *resp)
{
	if (resp == NULL)
		return;
	for (size_t i = 0; i < resp->nfields; i++) {
		free(resp->fields[i].name);
		free(resp->fields[i].value);
	}
	free(resp->fields);
	free(resp->headers);
	free(resp->body);
	json_object_put(resp->json);
	memset(resp, 0, sizeof(*resp));
}

/*
 * Walks one segment: an array index when 'o' is an array and the segment is all
 * digits, else an object member. Sets *found; returns the value (NULL for JSON null).
 */
static json_object *
step(json_object *o, const char *seg, size_t len, int *found)
{
	char		 key[256];
	json_object	*v = NULL;
	size_t		 i;

	*found = 0;
	if (o == NULL || copy_part(key, sizeof(key), seg, len) == -1)
		return NULL;
	if (json_object_is_type(o, json_type_array)) {
		for (i = 0; i < len && isdigit((unsigned char)key[i]); i++)
			continue;
		if (len == 0 || i < len || len > 9 ||
		    (size_t)atoi(key) >= json_object_array_length(o))
			return NULL;
		*found = 1;
		return json_object_array_get_idx(o, (size_t)atoi(key));
	}
	if (json_object_is_type(o, json_type_object))
		*found = json_object_object_get_ex(o, key, &v);
	return v;
}

/* Follows 'path' from 'o'; *found tells a JSON null from a missing member. */
static json_object *
walk(json_object *o, const char *path, int *found)
{
	size_t	len;

	*found = o != NULL;
	if (path == NULL || *path == '\0')
		return o;
	for (;;) {
		len = strcspn(path, ".");
		o = step(o, path, len, found);
		if (!*found || path[len] == '\0')
			return o;
		path += len + 1;
	}
}

json_object *
jget(json_object *o, const char *path)
{
	int	found;

	return walk(o, path, &found);
}

int
jhas(json_object *o, const char *path)
{
	int	found;

	walk(o, path, &found);
	return found;
}

const char *
jstr(json_object *o, const char *path)
{
	json_object	*v = jget(o, path);

	return v != NULL ? json_object_get_string(v) : NULL;
}

long long
jint(json_object *o, const char *path)
{
	json_object	*v = jget(o, path);

	if (v == NULL || !json_object_is_type(v, json_type_int))
		return -1;
	return (long long)json_object_get_int64(v);
}
