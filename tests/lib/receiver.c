/* receiver.c: a scripted HTTP/1.1 server on 127.0.0.1 inside the test process, for webhook tests. */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "receiver.h"

#define RCV_MAX_HEADER	(64u * 1024)
#define RCV_MAX_BODY	(4u * 1024 * 1024)
#define RCV_MAX_LINE	1024		/* a chunk-size or trailer line */
#define RCV_HANG	(-1)		/* plan entry: never answer */
#define RCV_LINGER_MS	500		/* reading what follows a refused request */

/* A recorded request; freed by rcv_reset() unless its connection still has it. */
struct rec {
	struct rcv_req	 req;
	int		 live;		/* its connection is still handling it */
	int		 listed;	/* in rcv->recs; else the connection frees it */
};

/* What to answer on one path: the plan (may be empty: 200) and the delay. */
struct script {
	char		*path;
	int		*plan;		/* statuses or RCV_HANG */
	size_t		 nplan;
	size_t		 used;		/* requests answered from it so far */
	int		 delay_ms;
	struct script	*next;
};

struct conn {
	struct rcv	*r;
	int		 fd;		/* -1 once closed; under r->mtx */
	int		 done;		/* the thread is about to return */
	pthread_t	 th;
	struct conn	*next;
};

struct rcv {
	int		 lfd;
	int		 wake[2];	/* rcv_stop() writes to wake[1] to end the acceptor */
	int		 port;
	int		 stopping;
	pthread_t	 acceptor;
	pthread_mutex_t	 mtx;		/* everything below, and conn->fd, conn->done */
	pthread_cond_t	 cond;		/* a request arrived, or rcv_stop() began */
	struct conn	*conns;
	struct script	*scripts;
	struct rec	**recs;		/* arrival order */
	size_t		 nrecs, caprecs;
};

/* The bytes read so far from one connection; p[len] is always NUL. */
struct in {
	int		 fd;
	char		*p;
	size_t		 len, cap, off;
};

static double
now(clockid_t clock)
{
	struct timespec	ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The CLOCK_MONOTONIC time 'ms' from now, for pthread_cond_timedwait(). */
static struct timespec
deadline(int ms)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Whether request target 't' is on 'path' (see receiver.h); NULL matches all. */
static int
path_match(const char *t, const char *path)
{
	size_t	n = strcspn(t, "?");

	if (path == NULL)
		return 1;
	if (strchr(path, '?') != NULL)
		return strcmp(t, path) == 0;
	return strlen(path) == n && strncmp(t, path, n) == 0;
}

static void
cloexec(int fd)
{
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);	/* a sender run as a child must not hold our sockets */
}

/* Sends all of 'p'; a client that went away is not our business. */
static void
send_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Reads more bytes into 'in'; 0 on EOF or an error (rcv_stop() shuts sockets down). */
static int
in_fill(struct in *in)
{
	ssize_t	n;

	while (in->cap - in->len < 16384 + 1) {
		in->cap = in->cap == 0 ? 32768 : in->cap * 2;
		in->p = http_xrealloc(in->p, in->cap);
	}
	do
		n = recv(in->fd, in->p + in->len, in->cap - in->len - 1, 0);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return 0;
	in->len += (size_t)n;
	in->p[in->len] = '\0';
	return 1;
}

/* Reads and drops what the client sends until it closes (or 'ms' of silence; -1: forever). */
static void
drain(int fd, int ms)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	char		buf[4096];
	ssize_t		n;

	for (;;) {
		if (poll(&pfd, 1, ms) == -1 && errno == EINTR)
			continue;
		if (pfd.revents == 0 || (n = recv(fd, buf, sizeof(buf), 0)) == 0 ||
		    (n == -1 && errno != EINTR))
			return;
	}
}

/* Copies 'len' bytes of 's' into dst[size]; -1 when they do not fit or len is 0. */
static int
copy_part(char *dst, size_t size, const char *s, size_t len)
{
	if (len == 0 || len >= size)
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

const char *
rcv_header(const struct rcv_req *req, const char *name, char *buf, size_t len)
{
	const char	*line, *next, *end, *v;
	size_t		 nlen = strlen(name), n;

	if (req->headers == NULL || len == 0)
		return NULL;
	for (line = req->headers; *line != '\0'; line = next) {
		if ((end = strstr(line, "\r\n")) == NULL)
			end = line + strlen(line);
		next = *end == '\0' ? end : end + 2;
		if ((size_t)(end - line) <= nlen || line[nlen] != ':' ||
		    strncasecmp(line, name, nlen) != 0)
			continue;
		for (v = line + nlen + 1; v < end && (*v == ' ' || *v == '\t'); v++)
			continue;
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		n = (size_t)(end - v) < len ? (size_t)(end - v) : len - 1;
		memcpy(buf, v, n);
		buf[n] = '\0';
		return buf;
	}
	return NULL;
}

/* Reads the next CRLF-terminated line at in->off; its length, or -1 (400) / -2 (gone). */
static long
in_line(struct in *in, const char **line)
{
	const char	*eol;

	while ((eol = http_find(in->p + in->off, in->len - in->off, "\r\n", 2)) == NULL) {
		if (in->len - in->off > RCV_MAX_LINE)
			return -1;
		if (!in_fill(in))
			return -2;
	}
	*line = in->p + in->off;
	in->off = (size_t)(eol + 2 - in->p);
	return (long)(eol - *line);
}

/* Decodes a chunked body into req; 0, an error status, or -1 when the client went away. */
static int
read_chunked(struct in *in, struct rcv_req *req)
{
	const char	*line;
	char		*x, *body = http_xstrndup("", 0);
	size_t		 len = 0, size;
	long		 ll;

	for (;;) {
		if ((ll = in_line(in, &line)) < 0)
			goto fail;
		if (!isxdigit((unsigned char)line[0]))
			goto bad;
		size = strtoul(line, &x, 16);
		if (x != line + ll && *x != ';' && *x != ' ' && *x != '\t')
			goto bad;
		if (size == 0)
			break;
		if (size > RCV_MAX_BODY - len) {
			free(body);
			return 413;
		}
		while (in->len - in->off < size + 2)
			if (!in_fill(in)) {
				ll = -2;
				goto fail;
			}
		if (memcmp(in->p + in->off + size, "\r\n", 2) != 0)
			goto bad;
		body = http_xrealloc(body, len + size + 1);
		memcpy(body + len, in->p + in->off, size);
		body[len += size] = '\0';
		in->off += size + 2;
	}
	while ((ll = in_line(in, &line)) > 0)	/* trailer fields, up to an empty line */
		continue;
	if (ll < 0)
		goto fail;
	req->body = body;
	req->body_len = len;
	return 0;
 bad:
	ll = -1;
 fail:
	free(body);
	return ll == -1 ? 400 : -1;
}

/*
 * Reads one request into req (headers and body allocated). Returns 0, an error
 * status to answer (400, 413, 431), or -1 when the client went away first.
 */
static int
read_request(struct in *in, struct rcv_req *req)
{
	const char		*e, *eol, *sp1, *sp2;
	char			 v[64];
	unsigned long long	 cl = 0;
	int			 chunked;

	while ((e = http_find(in->p, in->len, "\r\n\r\n", 4)) == NULL) {
		if (in->len > RCV_MAX_HEADER)
			return 431;
		if (!in_fill(in))
			return -1;
		if (req->started == 0 && memchr(in->p, '\n', in->len) != NULL) {
			req->started = now(CLOCK_MONOTONIC);
			req->wall = now(CLOCK_REALTIME);
		}
	}
	eol = http_find(in->p, in->len, "\r\n", 2);
	sp1 = memchr(in->p, ' ', (size_t)(eol - in->p));
	sp2 = sp1 == NULL ? NULL : memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (sp2 == NULL || copy_part(req->method, sizeof(req->method), in->p,
	    (size_t)(sp1 - in->p)) == -1 || copy_part(req->path, sizeof(req->path),
	    sp1 + 1, (size_t)(sp2 - sp1 - 1)) == -1 || eol - sp2 != 9 ||
	    strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return 400;
	req->headers = http_xstrndup(eol + 2, eol == e ? 0 : (size_t)(e - eol));
	in->off = (size_t)(e + 4 - in->p);

	if (rcv_header(req, "Transfer-Encoding", v, sizeof(v)) != NULL) {
		size_t	n = strlen(v);

		if (!(chunked = n >= 7 && strcasecmp(v + n - 7, "chunked") == 0))
			return 400;
	} else {
		chunked = 0;
		if (rcv_header(req, "Content-Length", v, sizeof(v)) != NULL) {
			if (v[0] == '\0' || v[strspn(v, "0123456789")] != '\0' ||
			    strlen(v) > 18)
				return 400;
			if ((cl = strtoull(v, NULL, 10)) > RCV_MAX_BODY)
				return 413;
		}
	}
	if ((chunked || cl > 0) && rcv_header(req, "Expect", v, sizeof(v)) != NULL &&
	    strcasecmp(v, "100-continue") == 0)
		send_all(in->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	if (chunked)
		return read_chunked(in, req);
	while (in->len - in->off < cl)
		if (!in_fill(in))
			return -1;
	req->body = http_xstrndup(in->p + in->off, (size_t)cl);
	req->body_len = (size_t)cl;
	return 0;
}

static const char *
reason(int status)
{
	static const struct {
		int		 code;
		const char	*text;
	} t[] = {
		{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" }, { 204, "No Content" },
		{ 301, "Moved Permanently" }, { 302, "Found" }, { 307, "Temporary Redirect" },
		{ 308, "Permanent Redirect" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" }, { 408, "Request Timeout" },
		{ 409, "Conflict" }, { 410, "Gone" }, { 413, "Content Too Large" },
		{ 429, "Too Many Requests" }, { 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 502, "Bad Gateway" },
		{ 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].code == status)
			return t[i].text;
	return "Status";
}

/* Writes the answer; 204 and 304 carry no body, 3xx a Location. */
static void
answer(int fd, int status)
{
	char	buf[256];
	int	bodyless = status == 204 || status == 304, n;

	n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n%s%s"
	    "Connection: close\r\n\r\n%s", status, reason(status),
	    status / 100 == 3 ? "Location: /moved\r\n" : "",
	    bodyless ? "" : "Content-Length: 2\r\n", bodyless ? "" : "ok");
	send_all(fd, buf, (size_t)n);
}

/* Finds the script of 'path', or adds an empty one. Under r->mtx. */
static struct script *
script_get(struct rcv *r, const char *path)
{
	struct script	*s;

	for (s = r->scripts; s != NULL; s = s->next)
		if (strcmp(s->path, path) == 0)
			return s;
	s = http_xrealloc(NULL, sizeof(*s));
	memset(s, 0, sizeof(*s));
	s->path = http_xstrndup(path, strlen(path));
	s->next = r->scripts;
	r->scripts = s;
	return s;
}

/* Records a request whose body has been read and picks its answer and delay. */
static int
arrive(struct rcv *r, struct rec *rec, int *delay_ms)
{
	struct script	*s;
	int		 status = 200;

	pthread_mutex_lock(&r->mtx);
	if (r->nrecs == r->caprecs) {
		r->caprecs = r->caprecs == 0 ? 64 : r->caprecs * 2;
		r->recs = http_xrealloc(r->recs, r->caprecs * sizeof(*r->recs));
	}
	r->recs[r->nrecs++] = rec;
	rec->live = rec->listed = 1;
	*delay_ms = 0;
	for (s = r->scripts; s != NULL; s = s->next) {
		if (!path_match(rec->req.path, s->path))
			continue;
		if (s->nplan > 0)
			status = s->plan[s->used < s->nplan ? s->used : s->nplan - 1];
		s->used++;
		*delay_ms = s->delay_ms;
		break;
	}
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mtx);
	return status;
}

/* Sleeps 'ms' unless rcv_stop() comes first; 0 when it did. */
static int
pause_ms(struct rcv *r, int ms)
{
	struct timespec	ts = deadline(ms);
	int		ok;

	pthread_mutex_lock(&r->mtx);
	while (!r->stopping && pthread_cond_timedwait(&r->cond, &r->mtx, &ts) != ETIMEDOUT)
		continue;
	ok = !r->stopping;
	pthread_mutex_unlock(&r->mtx);
	return ok;
}

static void
rec_free(struct rec *rec)
{
	rcv_req_free(&rec->req);
	free(rec);
}

/* One connection: one request, one answer (or none), then close. */
static void *
conn_main(void *arg)
{
	struct conn	*c = arg;
	struct rcv	*r = c->r;
	struct in	 in = { .fd = c->fd };
	struct rec	*rec = http_xrealloc(NULL, sizeof(*rec));
	int		 status, delay;

	memset(rec, 0, sizeof(*rec));
	if ((status = read_request(&in, &rec->req)) != 0) {
		if (status > 0) {
			answer(in.fd, status);
			shutdown(in.fd, SHUT_WR);
			drain(in.fd, RCV_LINGER_MS);
		}
		rec_free(rec);
	} else {
		status = arrive(r, rec, &delay);
		if (delay > 0 && !pause_ms(r, delay))
			status = 0;
		if (status == RCV_HANG) {
			drain(in.fd, -1);
			status = 0;
		} else if (status > 0)
			answer(in.fd, status);
		pthread_mutex_lock(&r->mtx);
		rec->req.status = status;
		rec->req.ended = now(CLOCK_MONOTONIC);
		rec->live = 0;
		if (!rec->listed)
			rec_free(rec);
		pthread_mutex_unlock(&r->mtx);
	}
	free(in.p);
	pthread_mutex_lock(&r->mtx);
	close(c->fd);
	c->fd = -1;
	c->done = 1;
	pthread_mutex_unlock(&r->mtx);
	return NULL;
}

/* Joins the connection threads that are done. Under r->mtx. */
static void
reap(struct rcv *r)
{
	struct conn	**cp = &r->conns, *c;

	while ((c = *cp) != NULL) {
		if (!c->done) {
			cp = &c->next;
			continue;
		}
		pthread_join(c->th, NULL);
		*cp = c->next;
		free(c);
	}
}

static void *
accept_main(void *arg)
{
	struct rcv	*r = arg;
	struct pollfd	 pfd[2] = {
		{ .fd = r->lfd, .events = POLLIN }, { .fd = r->wake[0], .events = POLLIN }
	};
	struct conn	*c;
	int		 fd;

	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents != 0)
			break;
		if ((fd = accept(r->lfd, NULL, NULL)) == -1) {
			if (errno == EMFILE || errno == ENFILE)
				poll(NULL, 0, 10);	/* out of descriptors: let some close */
			continue;
		}
		cloexec(fd);
		c = http_xrealloc(NULL, sizeof(*c));
		memset(c, 0, sizeof(*c));
		c->r = r;
		c->fd = fd;
		pthread_mutex_lock(&r->mtx);
		reap(r);
		if (r->stopping || pthread_create(&c->th, NULL, conn_main, c) != 0) {
			pthread_mutex_unlock(&r->mtx);
			close(fd);
			free(c);
			continue;
		}
		c->next = r->conns;
		r->conns = c;
		pthread_mutex_unlock(&r->mtx);
	}
	return NULL;
}

struct rcv *
rcv_start(void)
{
	struct rcv		*r = http_xrealloc(NULL, sizeof(*r));
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	socklen_t		 slen = sizeof(sin);
	pthread_condattr_t	 ca;
	int			 one = 1;

	memset(r, 0, sizeof(*r));
	r->wake[0] = r->wake[1] = -1;
	pthread_mutex_init(&r->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((r->lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(r->lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(r->lfd, 128) == -1 ||
	    getsockname(r->lfd, (struct sockaddr *)&sin, &slen) == -1 ||
	    pipe(r->wake) == -1) {
		fprintf(stderr, "receiver: listen on 127.0.0.1: %s\n", strerror(errno));
		goto fail;
	}
	cloexec(r->lfd);
	(void)fcntl(r->lfd, F_SETFL, O_NONBLOCK);	/* accept() never blocks the acceptor */
	cloexec(r->wake[0]);
	cloexec(r->wake[1]);
	r->port = ntohs(sin.sin_port);
	if (pthread_create(&r->acceptor, NULL, accept_main, r) != 0) {
		fprintf(stderr, "receiver: cannot start a thread\n");
		goto fail;
	}
	return r;
 fail:
	if (r->lfd != -1)
		close(r->lfd);
	if (r->wake[0] != -1) {
		close(r->wake[0]);
		close(r->wake[1]);
	}
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->mtx);
	free(r);
	return NULL;
}

int
rcv_port(const struct rcv *r)
{
	return r->port;
}

const char *
rcv_url(const struct rcv *r, const char *path, char *buf, size_t len)
{
	snprintf(buf, len, "http://127.0.0.1:%d%s", r->port, path);
	return buf;
}

void
rcv_script(struct rcv *r, const char *path, const char *plan)
{
	const char	*p = plan == NULL ? "" : plan;
	int		*steps = NULL, v;
	size_t		 n = 0, len;
	struct script	*s;

	while (*(p += strspn(p, " ")) != '\0') {
		len = strcspn(p, ", ");
		v = len == 4 && strncmp(p, "hang", 4) == 0 ? RCV_HANG :
		    len == 3 && isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
		    isdigit((unsigned char)p[2]) ? atoi(p) : 0;
		if (v != RCV_HANG && (v < 200 || v > 599)) {
			fprintf(stderr, "receiver: bad plan \"%s\" for %s\n", plan, path);
			abort();
		}
		steps = http_xrealloc(steps, (n + 1) * sizeof(*steps));
		steps[n++] = v;
		p += len + strspn(p + len, " ");
		p += *p == ',';
	}
	pthread_mutex_lock(&r->mtx);
	s = script_get(r, path);
	free(s->plan);
	s->plan = steps;
	s->nplan = n;
	s->used = 0;
	pthread_mutex_unlock(&r->mtx);
}

void
rcv_delay(struct rcv *r, const char *path, int ms)
{
	pthread_mutex_lock(&r->mtx);
	script_get(r, path)->delay_ms = ms > 0 ? ms : 0;
	pthread_mutex_unlock(&r->mtx);
}

/* Under r->mtx. */
static size_t
count_locked(struct rcv *r, const char *path)
{
	size_t	n = 0;

	for (size_t i = 0; i < r->nrecs; i++)
		n += path_match(r->recs[i]->req.path, path);
	return n;
}

size_t
rcv_count(struct rcv *r, const char *path)
{
	size_t	n;

	pthread_mutex_lock(&r->mtx);
	n = count_locked(r, path);
	pthread_mutex_unlock(&r->mtx);
	return n;
}

int
rcv_wait(struct rcv *r, const char *path, size_t n, int timeout_ms)
{
	struct timespec	ts = deadline(timeout_ms > 0 ? timeout_ms : 0);
	int		ok;

	pthread_mutex_lock(&r->mtx);
	while (count_locked(r, path) < n && !r->stopping &&
	    pthread_cond_timedwait(&r->cond, &r->mtx, &ts) != ETIMEDOUT)
		continue;
	ok = count_locked(r, path) >= n;
	pthread_mutex_unlock(&r->mtx);
	return ok;
}

int
rcv_copy(struct rcv *r, const char *path, size_t i, struct rcv_req *out)
{
	const struct rcv_req	*q;
	size_t			 k = 0;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&r->mtx);
	for (size_t j = 0; j < r->nrecs; j++) {
		q = &r->recs[j]->req;
		if (!path_match(q->path, path) || k++ != i)
			continue;
		*out = *q;
		out->headers = http_xstrndup(q->headers, strlen(q->headers));
		out->body = http_xstrndup(q->body, q->body_len);
		pthread_mutex_unlock(&r->mtx);
		return 1;
	}
	pthread_mutex_unlock(&r->mtx);
	return 0;
}

void
rcv_req_free(struct rcv_req *req)
{
	free(req->headers);
	free(req->body);
	req->headers = req->body = NULL;
}

int
rcv_max_parallel(struct rcv *r, const char *header, const char *value)
{
	char		**vals, buf[1024];
	double		  t = now(CLOCK_MONOTONIC), s, e;
	int		  best = 0, n;

	pthread_mutex_lock(&r->mtx);
	vals = http_xrealloc(NULL, (r->nrecs + 1) * sizeof(*vals));
	for (size_t i = 0; i < r->nrecs; i++) {
		vals[i] = NULL;
		if (rcv_header(&r->recs[i]->req, header, buf, sizeof(buf)) != NULL &&
		    (value == NULL || strcmp(buf, value) == 0))
			vals[i] = http_xstrndup(buf, strlen(buf));
	}
	/* the most overlapping intervals all hold the latest start among them */
	for (size_t i = 0; i < r->nrecs; i++) {
		if (vals[i] == NULL)
			continue;
		s = r->recs[i]->req.started;
		n = 0;
		for (size_t j = 0; j < r->nrecs; j++) {
			if (vals[j] == NULL || strcmp(vals[i], vals[j]) != 0)
				continue;
			e = r->recs[j]->live ? t : r->recs[j]->req.ended;
			n += j == i || (r->recs[j]->req.started <= s && e > s);
		}
		best = n > best ? n : best;
	}
	for (size_t i = 0; i < r->nrecs; i++)
		free(vals[i]);
	pthread_mutex_unlock(&r->mtx);
	free(vals);
	return best;
}

/* Drops the recorded requests (a live one is freed by its connection) and scripts. Under r->mtx. */
static void
forget(struct rcv *r)
{
	struct script	*s;

	for (size_t i = 0; i < r->nrecs; i++) {
		if (r->recs[i]->live)
			r->recs[i]->listed = 0;
		else
			rec_free(r->recs[i]);
	}
	r->nrecs = 0;
	while ((s = r->scripts) != NULL) {
		r->scripts = s->next;
		free(s->path);
		free(s->plan);
		free(s);
	}
}

void
rcv_reset(struct rcv *r)
{
	pthread_mutex_lock(&r->mtx);
	forget(r);
	pthread_mutex_unlock(&r->mtx);
}

void
rcv_stop(struct rcv *r)
{
	struct conn	*c;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mtx);
	r->stopping = 1;
	for (c = r->conns; c != NULL; c = c->next)
		if (c->fd != -1)
			shutdown(c->fd, SHUT_RDWR);
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mtx);
	if (write(r->wake[1], "x", 1) == -1)
		fprintf(stderr, "receiver: wake: %s\n", strerror(errno));
	pthread_join(r->acceptor, NULL);
	/* no new connections now; the threads of the old ones all end */
	while ((c = r->conns) != NULL) {
		pthread_join(c->th, NULL);
		r->conns = c->next;
		free(c);
	}
	forget(r);
	free(r->recs);
	close(r->lfd);
	close(r->wake[0]);
	close(r->wake[1]);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->mtx);
	free(r);
}
