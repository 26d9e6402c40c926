/* pgcut.c: a PostgreSQL wire proxy for the tests that cuts a connection right after a commit. */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pgcut.h"

#define NAME_MAX_LEN	64

/* Where one direction of a connection is in the stream of messages. */
struct stream {
	int		 untyped;	/* the next message has no type byte (startup) */
	unsigned char	 hdr[5];
	size_t		 have;		/* header bytes read so far */
	size_t		 left;		/* body bytes of the current message still to come */
	char		 type;
	char		 body[2 * NAME_MAX_LEN + 2];	/* a Bind's first bytes */
	size_t		 nbody;
};

static struct {
	int		 listen_fd;
	int		 upstream_port;
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	char		 armed[NAME_MAX_LEN];	/* "" when no trap is set */
	atomic_int	 cuts;
	atomic_int	 stop;
} px = { .listen_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * True when stmt is the armed statement's name, or starts with it when the
 * armed name ends with '*' ("admit*": admit and the statements fused with it).
 */
static int
name_matches(const char *stmt, const char *armed)
{
	size_t	 n = strlen(armed);

	if (n > 0 && armed[n - 1] == '*')
		return strncmp(stmt, armed, n - 1) == 0;
	return strcmp(stmt, armed) == 0;
}

/* True (and the trap disarmed) when a Bind of the armed statement is in s. */
static int
bind_matches(const struct stream *s)
{
	const char	*portal = s->body, *stmt;
	size_t		 plen = strnlen(portal, s->nbody);
	int		 hit = 0;

	if (plen == s->nbody)
		return 0;
	stmt = portal + plen + 1;
	if (strnlen(stmt, s->nbody - plen - 1) == s->nbody - plen - 1)
		return 0;
	pthread_mutex_lock(&px.lock);
	if (px.armed[0] != '\0' && name_matches(stmt, px.armed)) {
		px.armed[0] = '\0';
		hit = 1;
	}
	pthread_mutex_unlock(&px.lock);
	return hit;
}

/*
 * Follows the messages in buf[0..n) of stream s. Returns 1 when the client
 * bound the armed statement (client side), or when the server's
 * ReadyForQuery starts here (server side, 'wanted' = 'Z'); else 0.
 */
static int
scan(struct stream *s, const unsigned char *buf, size_t n, char wanted)
{
	size_t	 i = 0, take;
	int	 hit = 0;

	while (i < n) {
		if (s->left == 0) {
			size_t hlen = s->untyped ? 4 : 5;

			s->hdr[s->have++] = buf[i++];
			if (s->have < hlen)
				continue;
			s->type = s->untyped ? '\0' : (char)s->hdr[0];
			s->left = ((size_t)s->hdr[hlen - 4] << 24 | (size_t)s->hdr[hlen - 3] << 16 |
			    (size_t)s->hdr[hlen - 2] << 8 | s->hdr[hlen - 1]) - 4;
			s->have = 0;
			s->untyped = 0;
			s->nbody = 0;
			if (wanted == 'Z' && s->type == 'Z')
				hit = 1;
			if (s->left == 0)
				continue;
		}
		take = n - i < s->left ? n - i : s->left;
		if (wanted == 'B' && s->type == 'B' && s->nbody < sizeof(s->body)) {
			size_t c = take < sizeof(s->body) - s->nbody ? take :
			    sizeof(s->body) - s->nbody;

			memcpy(s->body + s->nbody, buf + i, c);
			s->nbody += c;
		}
		i += take;
		s->left -= take;
		if (wanted == 'B' && s->type == 'B' && (s->left == 0 ||
		    s->nbody == sizeof(s->body)) && bind_matches(s))
			hit = 1;
	}
	return hit;
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
dial_upstream(void)
{
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	int			 fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)px.upstream_port);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* One client connection: relays both ways until either side closes or the trap springs. */
static void *
relay(void *arg)
{
	int		 c = (int)(intptr_t)arg, u = dial_upstream();
	struct stream	 up = { .untyped = 1 }, down = { 0 };
	unsigned char	 buf[16384];
	int		 trapped = 0;
	ssize_t		 n;

	while (u >= 0 && !atomic_load(&px.stop)) {
		struct pollfd	 pfd[2] = { { c, POLLIN, 0 }, { u, POLLIN, 0 } };

		if (poll(pfd, 2, 200) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents) {
			if ((n = read(c, buf, sizeof(buf))) <= 0)
				break;
			if (scan(&up, buf, (size_t)n, 'B'))
				trapped = 1;
			if (write_all(u, buf, (size_t)n) == -1)
				break;
		}
		if (pfd[1].revents) {
			if ((n = read(u, buf, sizeof(buf))) <= 0)
				break;
			if (scan(&down, buf, (size_t)n, 'Z') && trapped) {
				atomic_fetch_add(&px.cuts, 1);
				break;	/* ran and committed: the answer is lost */
			}
			if (!trapped && write_all(c, buf, (size_t)n) == -1)
				break;
		}
	}
	/* a reset, as a broken network shows it, not a polite goodbye */
	setsockopt(c, SOL_SOCKET, SO_LINGER, &(struct linger){ 1, 0 },
	    sizeof(struct linger));
	close(c);
	if (u >= 0)
		close(u);
	return NULL;
}

static void *
accept_loop(void *arg)
{
	pthread_t	 t;
	int		 c;

	(void)arg;
	while (!atomic_load(&px.stop)) {
		struct pollfd	 pfd = { px.listen_fd, POLLIN, 0 };

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if ((c = accept(px.listen_fd, NULL, NULL)) < 0)
			continue;
		if (pthread_create(&t, NULL, relay, (void *)(intptr_t)c) != 0) {
			close(c);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

int
pgcut_start(int port, int upstream_port)
{
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	int			 one = 1;

	px.upstream_port = upstream_port;
	atomic_store(&px.stop, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	px.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (px.listen_fd < 0 ||
	    setsockopt(px.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(px.listen_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(px.listen_fd, 16) != 0) {
		fprintf(stderr, "pgcut: port %d: %s\n", port, strerror(errno));
		return -1;
	}
	if (pthread_create(&px.thread, NULL, accept_loop, NULL) != 0) {
		fprintf(stderr, "pgcut: no thread\n");
		return -1;
	}
	return 0;
}

void
pgcut_arm(const char *name)
{
	pthread_mutex_lock(&px.lock);
	snprintf(px.armed, sizeof(px.armed), "%s", name);
	pthread_mutex_unlock(&px.lock);
}

int
pgcut_cuts(void)
{
	return atomic_load(&px.cuts);
}

void
pgcut_stop(void)
{
	if (px.listen_fd < 0)
		return;
	atomic_store(&px.stop, 1);
	pthread_join(px.thread, NULL);
	close(px.listen_fd);
	px.listen_fd = -1;
}
