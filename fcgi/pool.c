/* pool.c: a supervisor that pre-forks single-threaded workers on one socket. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"

#define POOL_MAX	256
#define STOP_GRACE	30	/* seconds a stopping worker may take before SIGKILL */

static pid_t	 pids[POOL_MAX];
static time_t	 started[POOL_MAX];

static void
say(const struct pool_ops *ops, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(const struct pool_ops *ops, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ops->log(ops->arg, msg);
}

static int
listen_unix(const char *path, int mode)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/* a socket left by a killed pool must not stop a new start */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, (mode_t)mode) == -1 || listen(fd, 1024) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
listen_tcp(const char *addr)
{
	struct addrinfo	 hints, *res, *ai;
	char		 host[256];
	const char	*colon = strrchr(addr, ':');
	int		 fd = -1, one = 1;
	size_t		 hlen = (size_t)(colon - addr);

	if (hlen >= sizeof(host))
		return -1;
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if (getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/*
 * Opens the listening socket: a path is a Unix socket (with the given
 * permissions), "HOST:PORT" or ":PORT" a TCP one. Returns the fd or -1.
 */
int
pool_listen(const char *addr, int mode)
{
	if (strchr(addr, '/') != NULL || strchr(addr, ':') == NULL)
		return listen_unix(addr, mode);
	return listen_tcp(addr);
}

static void
child_signals(void)
{
	struct sigaction sa;
	sigset_t	 none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static pid_t
spawn(int fd, const struct pool_ops *ops)
{
	pid_t	 pid = fork();

	if (pid == 0) {
		child_signals();
		_exit(ops->worker(fd, ops->arg));
	}
	if (pid == -1)
		say(ops, "fork: %s", strerror(errno));
	return pid;
}

static int
slot_of(pid_t pid, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return i;
	return -1;
}

/* Reaps dead workers and starts their replacements (a crash loop is slowed). */
static void
reap(int fd, int n, const struct pool_ops *ops, int stopping)
{
	pid_t	 pid;
	int	 status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((i = slot_of(pid, n)) == -1)
			continue;
		if (WIFSIGNALED(status))
			say(ops, "worker %d killed by signal %d", (int)pid, WTERMSIG(status));
		pids[i] = 0;
		if (stopping)
			continue;
		if (time(NULL) - started[i] < 1)
			sleep(1);
		pids[i] = spawn(fd, ops);
		started[i] = time(NULL);
	}
}

/* Waits for pid to exit, SIGKILL after the grace period. */
static void
wait_for(pid_t pid)
{
	int	 i, status;

	for (i = 0; i < STOP_GRACE * 10; i++) {
		if (waitpid(pid, &status, WNOHANG) != 0)
			return;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* SIGHUP: new settings, then each worker replaced by a fresh one, one by one. */
static void
reload(int fd, int n, const struct pool_ops *ops)
{
	pid_t	 old;
	int	 i;

	if (ops->reload(ops->arg) == -1) {
		say(ops, "reload refused: keeping the running settings");
		return;
	}
	for (i = 0; i < n; i++) {
		old = pids[i];
		pids[i] = spawn(fd, ops);
		started[i] = time(NULL);
		if (old > 0) {
			kill(old, SIGTERM);
			wait_for(old);
		}
	}
	say(ops, "reloaded: %d workers replaced", n);
}

static void
stop(int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			wait_for(pids[i]);
}

/*
 * Runs the pool until SIGTERM or SIGINT: N workers on the listening socket,
 * each restarted when it dies; SIGHUP reloads. On stop, each worker finishes
 * its request in flight. Returns the exit code.
 */
int
pool_run(const struct pool_opts *o, const struct pool_ops *ops)
{
	sigset_t	 set;
	int		 fd, sig, i, n = o->workers;

	if (n < 1 || n > POOL_MAX) {
		say(ops, "workers must be from 1 to %d", POOL_MAX);
		return 1;
	}
	if (o->fd >= 0)
		fd = o->fd;
	else if ((fd = pool_listen(o->listen, o->socket_mode)) == -1) {
		say(ops, "cannot listen on %s: %s", o->listen, strerror(errno));
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < n; i++) {
		pids[i] = spawn(fd, ops);
		started[i] = time(NULL);
	}
	say(ops, "pool of %d workers listening on %s", n, o->listen);
	for (;;) {
		if ((sig = sigwaitinfo(&set, NULL)) == -1)
			continue;
		if (sig == SIGCHLD)
			reap(fd, n, ops, 0);
		else if (sig == SIGHUP)
			reload(fd, n, ops);
		else
			break;
	}
	close(fd);
	stop(n);
	if (o->fd < 0 && strchr(o->listen, '/') != NULL)
		unlink(o->listen);
	say(ops, "pool stopped");
	return 0;
}
