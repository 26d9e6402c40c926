/* http.c: a tiny blocking HTTP/1.0 client and JSON path helpers for the end-to-end tests. */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <unistd.h>

#include <json.h>

#include "fixture.h"
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

/*
 * Test code: running out of memory ends the test with a message. Shared by
 * the test library (the receiver too).
 */
void *
http_xrealloc(void *p, size_t size)
{
	if ((p = realloc(p, size)) == NULL) {
		fprintf(stderr, "tests/lib: out of memory\n");
		abort();
	}
	return p;
}

/* A NUL-terminated copy of len bytes of s. */
char *
http_xstrndup(const char *s, size_t len)
{
	char	*p = http_xrealloc(NULL, len + 1);

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
	b->p = http_xrealloc(b->p, b->cap);
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

	f->value = http_xrealloc(f->value, old + 1 + len + 1);
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
	resp->fields = http_xrealloc(resp->fields, (resp->nfields + 1) * sizeof(*resp->fields));
	f = &resp->fields[resp->nfields++];
	f->name = http_xstrndup(line, (size_t)(colon - line));
	f->value = http_xstrndup(v, (size_t)(end - v));
}

/*
 * The first occurrence of needle[0..nlen) in hay[0..len), or NULL (memmem
 * is GNU). Shared by the test library (the receiver too).
 */
const char *
http_find(const char *hay, size_t len, const char *needle, size_t nlen)
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
		resp->headers = http_xstrndup("", 0);
		resp->body = http_xstrndup(in, len);
		resp->body_len = len;
		return;
	}
	crlf = http_find(in, len, "\r\n\r\n", 4);
	lf = http_find(in, crlf ? (size_t)(crlf - in) + 2 : len, "\n\n", 2);
	if (crlf != NULL && (lf == NULL || crlf < lf)) {
		hlen = (size_t)(crlf - in) + 2;		/* keep the last line's CRLF */
		skip = 2;
	} else if (lf != NULL) {
		hlen = (size_t)(lf - in) + 1;
		skip = 1;
	} else
		hlen = len;				/* no body: cut off in the headers */
	resp->headers = http_xstrndup(in, hlen);
	resp->body_len = len - hlen - (hlen < len ? skip : 0);
	resp->body = http_xstrndup(in + len - resp->body_len, resp->body_len);

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

/*
 * True when 'req' asks for a new session (POST .../api/v1/session) and 'tok'
 * is the "session_token" of its answer: the one token an answer may carry.
 */
static int
new_session_token(const char *req, const struct http_resp *resp, const char *tok)
{
	static const char	 path[] = "/api/v1/session";
	const char		*st;
	size_t			 n;

	if (strncmp(req, "POST ", 5) != 0 || resp->status != 201)
		return 0;
	n = strcspn(req + 5, " ?\r\n");
	while (n > 0 && req[5 + n - 1] == '/')
		n--;
	if (n < sizeof(path) - 1 ||
	    memcmp(req + 5 + n - (sizeof(path) - 1), path, sizeof(path) - 1) != 0)
		return 0;
	st = jstr(resp->json, "session_token");
	return st != NULL && strlen(st) == FX_TOKEN_LEN && memcmp(st, tok, FX_TOKEN_LEN) == 0;
}

/*
 * The secrets rules of every exchange: the tokens of the request and of the
 * answer are recorded for the run's secrets check (fx_token_seen()), and an
 * answer carries no token, above all not the request's own, except a new
 * session's "session_token". -1 with a message (never the token) otherwise.
 */
static int
no_token_echoed(const char *req, size_t rlen, const char *in, size_t len,
    const struct http_resp *resp)
{
	const char	*p, *end = in + len;
	char		 what[80];

	fx_token_seen(req, rlen);
	fx_token_seen(in, len);
	for (p = in; (p = fx_token_find(p, (size_t)(end - p))) != NULL; p += FX_TOKEN_LEN) {
		if (http_find(req, rlen, p, FX_TOKEN_LEN) == NULL && new_session_token(req, resp, p))
			continue;
		snprintf(what, sizeof(what), "%.*s", (int)strcspn(req, "\r\n"), req);
		fprintf(stderr, "http: the answer to \"%s\" holds %s (at byte %zu)\n",
		    what, http_find(req, rlen, p, FX_TOKEN_LEN) ? "the request's own token" :
		    "a token", (size_t)(p - in));
		return -1;
	}
	return 0;
}

/*
 * CALENDENCE_RESPONSE_LOG: when set, every answer is appended to that file
 * as one JSON line {method, path (without query), status, request_id,
 * content_type, content_encoding, body (the parsed JSON, or null)} for
 * tests/openapi/validate.py. Tokens in the line are masked (their 38
 * characters after the prefix become '.'), so that the file holds none. One
 * write() per line, O_APPEND: parallel tests do not interleave.
 */
static void
log_response(const char *req, const struct http_resp *resp)
{
	const char	*file = getenv("CALENDENCE_RESPONSE_LOG"), *s, *v, *t;
	json_object	*o;
	char		*line;
	size_t		 n, len;
	int		 fd;

	if (file == NULL || *file == '\0')
		return;
	o = json_object_new_object();
	n = strcspn(req, " ");
	json_object_object_add(o, "method", json_object_new_string_len(req, (int)n));
	s = req + n + (req[n] == ' ');
	json_object_object_add(o, "path", json_object_new_string_len(s,
	    (int)strcspn(s, " ?\r\n")));
	json_object_object_add(o, "status", json_object_new_int(resp->status));
	v = http_header(resp, "Request-Id");
	json_object_object_add(o, "request_id", v ? json_object_new_string(v) : NULL);
	v = http_header(resp, "Content-Type");
	json_object_object_add(o, "content_type", v ? json_object_new_string(v) : NULL);
	v = http_header(resp, "Content-Encoding");
	json_object_object_add(o, "content_encoding", v ? json_object_new_string(v) : NULL);
	json_object_object_add(o, "body", resp->json ? json_object_get(resp->json) : NULL);
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	line = http_xstrndup(s, len + 1);
	line[len] = '\n';
	for (t = line; (t = fx_token_find(t, (size_t)(line + len - t))) != NULL;
	    t += FX_TOKEN_LEN)
		memset(line + (t - line) + 8, '.', FX_TOKEN_LEN - 8);
	for (t = line; (t = fx_secret_find(t, (size_t)(line + len - t))) != NULL;
	    t += FX_SECRET_LEN)
		memset(line + (t - line) + 6, '.', FX_SECRET_LEN - 6);
	if ((fd = open(file, O_WRONLY | O_APPEND | O_CREAT, 0644)) != -1) {
		if (write(fd, line, len + 1) != (ssize_t)(len + 1))
			fprintf(stderr, "http: cannot write %s\n", file);
		close(fd);
	}
	free(line);
	json_object_put(o);
}

/*
 * Connects, sends 'req', reads and parses the answer. An answer that gives
 * a token away (no_token_echoed()) fails like a broken connection.
 */
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
		log_response(req, resp);
		rc = 0;
		if (no_token_echoed(req, len, in.p ? in.p : "", in.len, resp) == -1) {
			http_resp_free(resp);
			rc = -1;
		}
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
	hdrs = http_xrealloc(NULL, (n + 3) * sizeof(*hdrs));
	if (token != NULL) {
		auth = http_xrealloc(NULL, strlen(token) + sizeof("Authorization: Bearer "));
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

/* --- clients that do not finish, FastCGI, the workers --- */

int
http_open(const char *bytes, size_t len, int timeout_sec)
{
	struct target	 t;
	struct timeval	 tv = { .tv_sec = timeout_sec };
	int		 fd;

	if (target_from_env(&t) == -1 || (fd = connect_to(&t)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    send_all(fd, bytes, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
http_finish(int fd, struct http_resp *resp)
{
	struct sbuf	in = { 0 };
	int		rc = -1;

	memset(resp, 0, sizeof(*resp));
	if (recv_all(fd, &in) == 0) {
		parse_response(in.p ? in.p : "", in.len, resp);
		rc = 0;
	}
	close(fd);
	free(in.p);
	return rc;
}

#define FCGI_BEGIN_REQUEST	1
#define FCGI_END_REQUEST	3
#define FCGI_PARAMS		4
#define FCGI_STDIN		5
#define FCGI_STDOUT		6
#define FCGI_RESPONDER		1
#define FCGI_REQUEST_ID		1

/* One FastCGI record of 'type' holding len (<= 65535) bytes. */
static void
fcgi_record(struct sbuf *b, int type, const char *data, size_t len)
{
	char	h[8] = { 1, (char)type, 0, FCGI_REQUEST_ID, (char)(len >> 8 & 0xff),
		    (char)(len & 0xff), 0, 0 };

	sbuf_add(b, h, sizeof(h));
	if (len > 0)
		sbuf_add(b, data, len);
}

/* A FastCGI name-value length: one byte below 128, else four. */
static void
fcgi_length(struct sbuf *b, size_t n)
{
	char	l[4] = { (char)(n >> 24 | 0x80), (char)(n >> 16 & 0xff),
		    (char)(n >> 8 & 0xff), (char)(n & 0xff) };

	if (n < 128) {
		l[0] = (char)n;
		sbuf_add(b, l, 1);
	} else
		sbuf_add(b, l, 4);
}

/* Records of 'type' carrying data[0..len), split at 65535 bytes. */
static void
fcgi_stream(struct sbuf *b, int type, const char *data, size_t len)
{
	size_t	n;

	while (len > 0) {
		n = len > 65535 ? 65535 : len;
		fcgi_record(b, type, data, n);
		data += n;
		len -= n;
	}
}

int
fcgi_request(const char *path, const char *const *params, const char *in,
    size_t in_len, int hold_open, int timeout_sec, struct http_resp *resp)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct timeval		 tv = { .tv_sec = timeout_sec };
	struct sbuf		 req = { 0 }, nv = { 0 };
	const char		 begin[8] = { 0, FCGI_RESPONDER, 0, 0, 0, 0, 0, 0 };
	int			 fd;

	memset(resp, 0, sizeof(*resp));
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "fcgi: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	for (const char *const *p = params; p != NULL && *p != NULL; p++) {
		const char	*eq = strchr(*p, '=');
		size_t		 nlen = eq ? (size_t)(eq - *p) : strlen(*p);
		const char	*v = eq ? eq + 1 : "";

		fcgi_length(&nv, nlen);
		fcgi_length(&nv, strlen(v));
		sbuf_add(&nv, *p, nlen);
		sbuf_add(&nv, v, strlen(v));
	}
	fcgi_record(&req, FCGI_BEGIN_REQUEST, begin, sizeof(begin));
	fcgi_stream(&req, FCGI_PARAMS, nv.p, nv.len);
	fcgi_record(&req, FCGI_PARAMS, NULL, 0);
	fcgi_stream(&req, FCGI_STDIN, in, in_len);
	if (!hold_open)
		fcgi_record(&req, FCGI_STDIN, NULL, 0);
	free(nv.p);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    send_all(fd, req.p, req.len) == -1) {
		fprintf(stderr, "fcgi: %s: %s\n", path, strerror(errno));
		if (fd != -1)
			close(fd);
		free(req.p);
		return -1;
	}
	free(req.p);
	if (hold_open)
		return fd;
	return fcgi_finish(fd, resp);
}

int
fcgi_finish(int fd, struct http_resp *resp)
{
	struct sbuf		 in = { 0 }, out = { 0 };
	const unsigned char	*p;
	size_t			 off = 0, clen, plen;
	int			 ended = 0, rc = -1;
	char			 status[4] = "200";

	memset(resp, 0, sizeof(*resp));
	if (recv_all(fd, &in) == -1)
		goto done;
	while (in.len - off >= 8) {
		p = (const unsigned char *)in.p + off;
		clen = (size_t)p[4] << 8 | p[5];
		plen = p[6];
		if (in.len - off < 8 + clen + plen)
			break;
		if (p[1] == FCGI_STDOUT)
			sbuf_add(&out, (const char *)p + 8, clen);
		else if (p[1] == FCGI_END_REQUEST)
			ended = 1;
		off += 8 + clen + plen;
	}
	if (!ended) {
		fprintf(stderr, "fcgi: the connection closed without END_REQUEST\n");
		goto done;
	}
	/* "Status: NNN reason" first, as the worker writes it */
	if (out.len >= 11 && strncasecmp(out.p, "Status: ", 8) == 0)
		memcpy(status, out.p + 8, 3);
	sbuf_adds(&in, "");		/* reuse 'in' for the HTTP form */
	in.len = 0;
	sbuf_adds(&in, "HTTP/1.0 ");
	sbuf_add(&in, status, 3);
	sbuf_adds(&in, " FastCGI\r\n");
	sbuf_add(&in, out.p ? out.p : "", out.len);
	parse_response(in.p, in.len, resp);
	rc = 0;
done:
	close(fd);
	free(in.p);
	free(out.p);
	return rc;
}

static int
cmp_pid(const void *a, const void *b)
{
	long	x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

int
http_worker_pids(long *pids, int max)
{
	const char	*pgdir = getenv("PG_DATA_DIR");
	char		 path[PATH_MAX], line[512], *rp;
	long		 server, ppid;
	FILE		*f;
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	if (pgdir == NULL || snprintf(path, sizeof(path), "%s/../lighttpd.pid", pgdir) >=
	    (int)sizeof(path) || (f = fopen(path, "r")) == NULL)
		return -1;
	if (fscanf(f, "%ld", &server) != 1)
		server = -1;
	fclose(f);
	if (server <= 0 || (d = opendir("/proc")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL && n < max) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		/* pid (comm) state ppid ...; comm may hold spaces and parentheses */
		if (fgets(line, sizeof(line), f) != NULL &&
		    (rp = strrchr(line, ')')) != NULL &&
		    sscanf(rp + 1, " %*c %ld", &ppid) == 1 && ppid == server)
			pids[n++] = atol(e->d_name);
		fclose(f);
	}
	closedir(d);
	qsort(pids, (size_t)n, sizeof(*pids), cmp_pid);
	return n;
}
