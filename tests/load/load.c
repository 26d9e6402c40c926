/* load.c: a load generator: many keep-alive HTTP/1.1 connections in one poll() loop. */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "load.h"

#define LOAD_MAX_CONNS		1024
#define LOAD_RETRY_MS		20	/* before reconnecting after a failed connect */
#define LOAD_MAX_ANSWER		(1024 * 1024)

enum conn_state {
	CONN_IDLE,		/* no socket; may connect at retry_at */
	CONN_CONNECTING,
	CONN_SENDING,
	CONN_READING,
};

struct conn {
	enum conn_state	 state;
	int		 fd;
	int		 server;
	uint32_t	 target;	/* of the request on the way */
	int		 in_request;	/* a request was (partly) sent and not yet ended */
	size_t		 sent;
	char		*in;
	size_t		 inlen;
	size_t		 incap;
	int64_t		 started_us;
	int64_t		 retry_at_ms;
};

/* Per server: its address, and the order in which its targets are sent. */
struct server {
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	char			 authority[280];
	uint32_t		*order;		/* indexes into the targets */
	size_t			 norder;
	size_t			 next;
};

struct run {
	const struct load_opts	*o;
	struct load_stats	*st;
	struct server		*srv;
	char			**req;		/* the request bytes of each target */
	size_t			*reqlen;
	long			 started;	/* requests begun */
	unsigned		 rnd;
	int			 draining;	/* no new requests; finish those under way */
};

static int64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
load_now_ms(void)
{
	return now_us() / 1000;
}

/* xorshift32: the shuffle only has to differ from one pass to the next. */
static unsigned
rnd_next(unsigned *s)
{
	unsigned	x = *s ? *s : 2463534242u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static void
shuffle(uint32_t *a, size_t n, unsigned *s)
{
	size_t		i, j;
	uint32_t	t;

	for (i = n; i > 1; i--) {
		j = rnd_next(s) % i;
		t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

/* Resolves "http://host:port[/...]" into srv; -1 with a message. */
static int
server_init(struct server *srv, const char *url)
{
	struct addrinfo	 hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo	*res;
	char		 host[256], port[16] = "80";
	const char	*a, *end, *colon;
	int		 rc;

	if (strncmp(url, "http://", 7) != 0)
		goto bad;
	a = url + 7;
	end = a + strcspn(a, "/");
	if ((size_t)(end - a) >= sizeof(srv->authority) || end == a)
		goto bad;
	memcpy(srv->authority, a, (size_t)(end - a));
	srv->authority[end - a] = '\0';
	colon = memchr(a, ':', (size_t)(end - a));
	if (colon == NULL)
		colon = end;
	else if ((size_t)(end - colon - 1) >= sizeof(port) || end - colon - 1 == 0)
		goto bad;
	else {
		memcpy(port, colon + 1, (size_t)(end - colon - 1));
		port[end - colon - 1] = '\0';
	}
	if ((size_t)(colon - a) >= sizeof(host) || colon == a)
		goto bad;
	memcpy(host, a, (size_t)(colon - a));
	host[colon - a] = '\0';
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "load: %s: %s\n", url, gai_strerror(rc));
		return -1;
	}
	memcpy(&srv->addr, res->ai_addr, res->ai_addrlen);
	srv->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
bad:
	fprintf(stderr, "load: cannot use URL \"%s\"\n", url);
	return -1;
}

/* The bytes of one request of target t. */
static char *
request_new(const struct load_target *t, const struct server *srv, size_t *len)
{
	char	*p;
	int	 n;

#define REQUEST_FMT	"%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: calendence-load\r\n" \
	"%s%s%s%s\r\n", t->method, t->path, srv->authority, \
	t->token ? "Authorization: Bearer " : "", t->token ? t->token : "", \
	t->token ? "\r\n" : "", strcmp(t->method, "GET") != 0 ? "Content-Length: 0\r\n" : ""
	if ((n = snprintf(NULL, 0, REQUEST_FMT)) < 0 || (p = malloc((size_t)n + 1)) == NULL)
		return NULL;
	snprintf(p, (size_t)n + 1, REQUEST_FMT);
#undef REQUEST_FMT
	*len = (size_t)n;
	return p;
}

static void
conn_close(struct conn *c, int64_t retry_at_ms)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->state = CONN_IDLE;
	c->in_request = 0;
	c->inlen = 0;
	c->retry_at_ms = retry_at_ms;
}

/* Picks the next target of the connection's server and starts sending it. */
static void
conn_begin(struct run *run, struct conn *c)
{
	struct server	*s = &run->srv[c->server];

	if (s->next == s->norder) {
		shuffle(s->order, s->norder, &run->rnd);
		s->next = 0;
	}
	c->target = s->order[s->next++];
	c->sent = 0;
	c->inlen = 0;
	c->in_request = 1;
	c->started_us = now_us();
	c->state = CONN_SENDING;
	run->started++;
}

/* True when the run may begin one more request. */
static int
may_begin(const struct run *run)
{
	return !run->draining && (run->o->requests == 0 || run->started < run->o->requests);
}

/* Records how the request on c ended. */
static void
conn_end(struct run *run, struct conn *c, int status, int64_t reset, int flags)
{
	struct load_stats	*st = run->st;
	const struct load_opts	*o = run->o;
	int64_t			 t = now_us();
	uint32_t		 lat = (uint32_t)(t - c->started_us);

	st->ended++;
	if (status >= 100 && status < 600)
		st->status[status]++;
	else if (status != 0)
		st->other_status++;
	if (flags & LOAD_TIMEOUT)
		st->timeouts++;
	if (flags & LOAD_DROPPED)
		st->dropped++;
	if (status == 503 && (flags & (LOAD_RETRY_AFTER | LOAD_UNAVAILABLE)) !=
	    (LOAD_RETRY_AFTER | LOAD_UNAVAILABLE))
		st->bad_503++;
	if (lat > st->max_latency_us)
		st->max_latency_us = lat;
	if (o->recs != NULL && st->recorded < o->nrecs) {
		struct load_rec *r = &o->recs[st->recorded++];

		r->at_ms = t / 1000;
		r->reset = reset;
		r->target = c->target;
		r->latency_us = lat;
		r->status = (uint16_t)status;
		r->flags = (uint8_t)flags;
	}
	c->in_request = 0;
}

static void
conn_connect(struct run *run, struct conn *c)
{
	struct server	*s = &run->srv[c->server];
	int		 one = 1;

	c->fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		run->st->connect_failures++;
		c->retry_at_ms = load_now_ms() + LOAD_RETRY_MS;
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->started_us = now_us();	/* a connect is bounded by timeout_ms too */
	if (connect(c->fd, (struct sockaddr *)&s->addr, s->addrlen) == -1 &&
	    errno != EINPROGRESS) {
		run->st->connect_failures++;
		conn_close(c, load_now_ms() + LOAD_RETRY_MS);
		return;
	}
	c->state = CONN_CONNECTING;
}

/* The value of header field 'name' in h[0..len) (status line first), or NULL. */
static const char *
field(const char *h, size_t len, const char *name, size_t *vlen)
{
	const char	*end = h + len, *line, *nl, *v;
	size_t		 n = strlen(name);

	for (line = h; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		if ((size_t)(nl - line) > n && strncasecmp(line, name, n) == 0 &&
		    line[n] == ':') {
			for (v = line + n + 1; v < nl && (*v == ' ' || *v == '\t'); v++)
				continue;
			*vlen = (size_t)(nl - v);
			while (*vlen > 0 && (v[*vlen - 1] == '\r' || v[*vlen - 1] == ' '))
				(*vlen)--;
			return v;
		}
	}
	return NULL;
}

static long long
field_num(const char *h, size_t len, const char *name, long long dflt)
{
	char		 buf[32];
	const char	*v;
	size_t		 vlen;

	if ((v = field(h, len, name, &vlen)) == NULL || vlen == 0 || vlen >= sizeof(buf))
		return dflt;
	memcpy(buf, v, vlen);
	buf[vlen] = '\0';
	return strtoll(buf, NULL, 10);
}

/* The first occurrence of needle in hay[0..len), or NULL (memmem is GNU). */
static const char *
find(const char *hay, size_t len, const char *needle)
{
	size_t	nlen = strlen(needle);

	for (const char *p = hay; len >= nlen && p <= hay + len - nlen; p++)
		if (memcmp(p, needle, nlen) == 0)
			return p;
	return NULL;
}

/*
 * Looks at what came back on c. Returns 1 when a whole answer is there (it is
 * recorded), 0 when more is needed, -1 when it cannot be an answer. 'eof':
 * the peer closed, so an answer without Content-Length ends here.
 */
static int
parse_answer(struct run *run, struct conn *c, int eof, int *keep)
{
	const char	*hend, *v;
	size_t		 hlen, vlen;
	long long	 clen;
	int		 status = 0, flags = 0;

	if ((hend = find(c->in, c->inlen, "\r\n\r\n")) == NULL)
		return eof ? -1 : 0;
	hlen = (size_t)(hend - c->in) + 4;
	if (c->inlen >= 12 && strncmp(c->in, "HTTP/1.", 7) == 0 && c->in[8] == ' ')
		status = atoi(c->in + 9);
	clen = field_num(c->in, hlen, "Content-Length", -1);
	if (clen < 0 && !eof)
		return 0;
	if (clen >= 0 && c->inlen < hlen + (size_t)clen)
		return eof ? -1 : 0;
	if (clen < 0)
		clen = (long long)(c->inlen - hlen);
	if (field(c->in, hlen, "Retry-After", &vlen) != NULL)
		flags |= LOAD_RETRY_AFTER;
	if (find(c->in + hlen, (size_t)clen, "\"service_unavailable\"") != NULL)
		flags |= LOAD_UNAVAILABLE;
	*keep = !eof && strncmp(c->in, "HTTP/1.1", 8) == 0;
	if ((v = field(c->in, hlen, "Connection", &vlen)) != NULL && vlen == 5 &&
	    strncasecmp(v, "close", 5) == 0)
		*keep = 0;
	if (c->inlen != hlen + (size_t)clen)
		*keep = 0;	/* bytes beyond the answer: do not trust this connection */
	conn_end(run, c, status, field_num(c->in, hlen, "X-RateLimit-Reset", 0), flags);
	return 1;
}

/* Reads what is there; ends the request when its answer is complete. */
static void
conn_read(struct run *run, struct conn *c)
{
	ssize_t	n;
	int	keep = 0, rc = 0;

	for (;;) {
		if (c->incap - c->inlen < 4096) {
			char *p;

			if (c->incap >= LOAD_MAX_ANSWER ||
			    (p = realloc(c->in, c->incap * 2)) == NULL) {
				conn_end(run, c, 0, 0, LOAD_DROPPED);
				conn_close(c, 0);
				return;
			}
			c->in = p;
			c->incap *= 2;
		}
		n = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((rc = parse_answer(run, c, 0, &keep)) == 0)
				return;
			break;
		}
		if (n <= 0) {
			if ((rc = parse_answer(run, c, 1, &keep)) == -1)
				conn_end(run, c, 0, 0, LOAD_DROPPED);
			conn_close(c, 0);
			return;
		}
		c->inlen += (size_t)n;
	}
	if (rc == -1) {
		conn_end(run, c, 0, 0, LOAD_DROPPED);
		conn_close(c, 0);
		return;
	}
	if (!keep || !may_begin(run)) {
		conn_close(c, 0);
		return;
	}
	conn_begin(run, c);
}

static void
conn_send(struct run *run, struct conn *c)
{
	const char	*p = run->req[c->target];
	size_t		 len = run->reqlen[c->target];
	ssize_t		 n;

	while (c->sent < len) {
		n = send(c->fd, p + c->sent, len - c->sent, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == -1) {
			conn_end(run, c, 0, 0, LOAD_DROPPED);
			conn_close(c, 0);
			return;
		}
		c->sent += (size_t)n;
	}
	c->state = CONN_READING;
}

/* The connect of c finished: begin a request, or count the failure. */
static void
conn_connected(struct run *run, struct conn *c)
{
	int		err = 0;
	socklen_t	len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
		run->st->connect_failures++;
		conn_close(c, load_now_ms() + LOAD_RETRY_MS);
		return;
	}
	if (!may_begin(run)) {
		conn_close(c, 0);
		return;
	}
	conn_begin(run, c);
	conn_send(run, c);
}

static int
run_init(struct run *run, const struct load_opts *o, struct load_stats *st)
{
	int	i;

	memset(run, 0, sizeof(*run));
	memset(st, 0, sizeof(*st));
	run->o = o;
	run->st = st;
	run->rnd = o->seed ? o->seed : (unsigned)getpid();
	if (o->nurls < 1 || o->ntargets < 1 || o->conns < 1 || o->conns > LOAD_MAX_CONNS) {
		fprintf(stderr, "load: need a URL, a target and 1..%d connections\n",
		    LOAD_MAX_CONNS);
		return -1;
	}
	if ((run->srv = calloc((size_t)o->nurls, sizeof(*run->srv))) == NULL ||
	    (run->req = calloc((size_t)o->ntargets, sizeof(*run->req))) == NULL ||
	    (run->reqlen = calloc((size_t)o->ntargets, sizeof(*run->reqlen))) == NULL)
		goto nomem;
	for (i = 0; i < o->nurls; i++) {
		if (server_init(&run->srv[i], o->urls[i]) == -1)
			return -1;
		if ((run->srv[i].order = calloc((size_t)o->ntargets,
		    sizeof(uint32_t))) == NULL)
			goto nomem;
	}
	for (i = 0; i < o->ntargets; i++) {
		const struct load_target *t = &o->targets[i];
		struct server *s;

		if (t->server < 0 || t->server >= o->nurls) {
			fprintf(stderr, "load: target %d names no server\n", i);
			return -1;
		}
		s = &run->srv[t->server];
		if ((run->req[i] = request_new(t, s, &run->reqlen[i])) == NULL)
			goto nomem;
		s->order[s->norder++] = (uint32_t)i;
	}
	for (i = 0; i < o->nurls; i++) {
		if (run->srv[i].norder == 0) {
			fprintf(stderr, "load: server %s has no targets\n", o->urls[i]);
			return -1;
		}
		shuffle(run->srv[i].order, run->srv[i].norder, &run->rnd);
	}
	return 0;
nomem:
	fprintf(stderr, "load: out of memory\n");
	return -1;
}

static void
run_cleanup(struct run *run)
{
	int	i;

	for (i = 0; run->srv != NULL && i < run->o->nurls; i++)
		free(run->srv[i].order);
	for (i = 0; run->req != NULL && i < run->o->ntargets; i++)
		free(run->req[i]);
	free(run->srv);
	free(run->req);
	free(run->reqlen);
}

int
load_run(const struct load_opts *o, struct load_stats *st)
{
	struct run	 run;
	struct conn	*c = NULL;
	struct pollfd	*pfd = NULL;
	int		*pidx = NULL;
	int		 i, n, rc = -1, busy;
	int64_t		 t, deadline;

	if (run_init(&run, o, st) == -1)
		goto out;
	if ((c = calloc((size_t)o->conns, sizeof(*c))) == NULL ||
	    (pfd = calloc((size_t)o->conns, sizeof(*pfd))) == NULL ||
	    (pidx = calloc((size_t)o->conns, sizeof(*pidx))) == NULL) {
		fprintf(stderr, "load: out of memory\n");
		goto out;
	}
	for (i = 0; i < o->conns; i++) {
		c[i].fd = -1;
		c[i].server = i % o->nurls;
		c[i].incap = 16384;
		if ((c[i].in = malloc(c[i].incap)) == NULL) {
			fprintf(stderr, "load: out of memory\n");
			goto out;
		}
	}
	st->start_ms = load_now_ms();
	deadline = o->duration_ms > 0 ? st->start_ms + o->duration_ms : INT64_MAX;
	for (;;) {
		t = load_now_ms();
		if (t >= deadline || (o->stop != NULL && *o->stop))
			run.draining = 1;
		busy = 0;
		for (i = 0, n = 0; i < o->conns; i++) {
			struct conn *k = &c[i];

			if (k->in_request && now_us() - k->started_us >
			    (int64_t)o->timeout_ms * 1000) {
				conn_end(&run, k, 0, 0, LOAD_TIMEOUT);
				conn_close(k, 0);
			} else if (k->state == CONN_CONNECTING && now_us() - k->started_us >
			    (int64_t)o->timeout_ms * 1000) {
				st->connect_failures++;
				conn_close(k, t + LOAD_RETRY_MS);
			}
			if (k->state == CONN_IDLE && may_begin(&run) && t >= k->retry_at_ms)
				conn_connect(&run, k);
			if (k->state == CONN_IDLE)
				continue;
			busy = 1;
			pfd[n].fd = k->fd;
			pfd[n].events = k->state == CONN_READING ? POLLIN : POLLOUT;
			pfd[n].revents = 0;
			pidx[n++] = i;
		}
		if (!busy && !may_begin(&run))
			break;
		if (poll(pfd, (nfds_t)n, 10) == -1 && errno != EINTR) {
			perror("load: poll");
			goto out;
		}
		for (i = 0; i < n; i++) {
			struct conn *k = &c[pidx[i]];

			if (pfd[i].revents == 0)
				continue;
			switch (k->state) {
			case CONN_CONNECTING:
				conn_connected(&run, k);
				break;
			case CONN_SENDING:
				conn_send(&run, k);
				break;
			case CONN_READING:
				conn_read(&run, k);
				break;
			case CONN_IDLE:
				break;
			}
		}
	}
	st->end_ms = load_now_ms();
	rc = 0;
out:
	for (i = 0; c != NULL && i < o->conns; i++) {
		if (c[i].fd != -1)
			close(c[i].fd);
		free(c[i].in);
	}
	free(c);
	free(pfd);
	free(pidx);
	run_cleanup(&run);
	return rc;
}

void
load_print(const char *label, const struct load_stats *st)
{
	double	secs = (double)(st->end_ms - st->start_ms) / 1000.0;
	long	other = st->ended - st->timeouts - st->dropped;
	int	i;

	printf("load: %s: %ld requests in %.1f s (%.0f/s):", label, st->ended, secs,
	    secs > 0 ? (double)st->ended / secs : 0.0);
	for (i = 100; i < 600; i++) {
		if (st->status[i] != 0) {
			printf(" %d=%ld", i, st->status[i]);
			other -= st->status[i];
		}
	}
	printf("; timeouts %ld, dropped %ld, other %ld, connect failures %ld, "
	    "max latency %.1f ms\n", st->timeouts, st->dropped, other,
	    st->connect_failures, st->max_latency_us / 1000.0);
	fflush(stdout);
}
