/* pool.c: our own pool's life cycle under load: reload, a killed worker, stop, retirement. */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"
#include "api.h"

/*
 * Each test starts its own pool (the sanitizer build, `--listen` on a socket
 * in a temporary directory) and lighttpd before it from conf/lighttpd-pool.conf
 * on a free port, and points CALENDENCE_URL there. Both die with the test
 * process (PR_SET_PDEATHSIG) should it crash; .fini stops them otherwise.
 * The suite runs from the top of the checkout with the PG* environment.
 */

#define MAX_WORKERS	8
#define LOAD_CLIENTS	4
#define LOAD_SECONDS	3

static struct {
	char	 dir[PATH_MAX];		/* the temporary directory */
	char	 sock[PATH_MAX];
	char	 log[PATH_MAX];		/* the pool's stderr */
	pid_t	 pool;
	pid_t	 lighttpd;
	int	 workers;
	char	*hub, *business, *key, *plan;
} px;

/* What one client process saw. */
struct tally {
	int	 ok;		/* 2xx or 429 */
	int	 bad;		/* any other status */
	int	 errors;	/* no answer: connection refused, reset, timeout */
	int	 first_bad;	/* the first bad status, or 0 */
	char	 first_body[160];	/* and the start of its body */
};

/* snprintf that fails the test rather than cut a path short. */
static void fmt(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
fmt(char *out, size_t len, const char *f, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, f);
	n = vsnprintf(out, len, f, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < len, "too long: %s", out);
}

/* The worker binary: CALENDENCE_FCGI, else BUILD/asan/ next to BUILD/tests/. */
static void
app_path(char *out, size_t len)
{
	char	 exe[PATH_MAX], *slash;
	ssize_t	 n;

	if (getenv("CALENDENCE_FCGI") != NULL) {
		fmt(out, len, "%s", getenv("CALENDENCE_FCGI"));
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	cr_assert(n > 0, "readlink /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	for (int i = 0; i < 2 && (slash = strrchr(exe, '/')) != NULL; i++)
		*slash = '\0';			/* BUILD/tests/outage -> BUILD */
	fmt(out, len, "%s/asan/calendence.fcgi", exe);
	cr_assert_eq(access(out, X_OK), 0, "%s: %s (set CALENDENCE_FCGI)", out,
	    strerror(errno));
}

/* A TCP port nobody listens on now. */
static int
free_port(void)
{
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	socklen_t		 len = sizeof(sin);
	int			 fd, port;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* Forks and runs argv, stdout and stderr appended to 'log'; dies with us. */
static pid_t
start(char *const argv[], const char *log)
{
	pid_t	 parent = getpid(), pid;
	int	 fd;

	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644)) >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
		dup2(fd, 0);
		close(fd);
	}
	execvp(argv[0], argv);
	if (errno == ENOENT && strchr(argv[0], '/') == NULL) {
		char	 sbin[PATH_MAX];	/* not on every user's PATH */

		snprintf(sbin, sizeof(sbin), "/usr/sbin/%s", argv[0]);
		execv(sbin, argv);
	}
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* True when the file holds 's'. */
static int
file_has(const char *path, const char *s)
{
	FILE	*f = fopen(path, "r");
	char	 line[4096];
	int	 found = 0;

	while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, s) != NULL;
	if (f != NULL)
		fclose(f);
	return found;
}

/* How many lines of the file hold 's'. */
static int
file_count(const char *path, const char *s)
{
	FILE	*f = fopen(path, "r");
	char	 line[4096];
	int	 n = 0;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, s) != NULL;
	if (f != NULL)
		fclose(f);
	return n;
}

/* The last lines of the pool's log on stderr, for a failure's context. */
static void
show_log(void)
{
	char	 cmd[PATH_MAX + 32];

	fmt(cmd, sizeof(cmd), "tail -n 30 '%s' >&2", px.log);
	if (system(cmd) != 0)
		fprintf(stderr, "(no pool log)\n");
}

/*
 * The live children of 'parent' (a zombie is not live), into pids[max];
 * returns how many there are.
 */
static int
children(pid_t parent, pid_t *pids, int max)
{
	DIR		*d = opendir("/proc");
	struct dirent	*e;
	char		 path[64], buf[512], *p, state;
	int		 n = 0, ppid;
	FILE		*f;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		fmt(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		/* "pid (comm) state ppid ...": comm may hold anything */
		if (p == NULL || (p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 1, " %c %d", &state, &ppid) != 2)
			continue;
		if (ppid == parent && state != 'Z' && n < max)
			pids[n++] = (pid_t)atoi(e->d_name);
	}
	closedir(d);
	return n;
}

/* Waits (up to 'seconds') until the pool has exactly its N live workers. */
static int
wait_workers(double seconds)
{
	pid_t	 pids[MAX_WORKERS * 2];
	double	 until = now_sec() + seconds;
	int	 n;

	do {
		if ((n = children(px.pool, pids, MAX_WORKERS * 2)) == px.workers)
			return n;
		msleep(20);
	} while (now_sec() < until);
	return n;
}

/* Waits (up to 10 s) until lighttpd answers on its port. */
static void
wait_port(int port)
{
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	double			 until = now_sec() + 10;
	int			 fd, rc;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	do {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
		close(fd);
		if (rc == 0)
			return;
		cr_assert_eq(waitpid(px.lighttpd, NULL, WNOHANG), 0,
		    "lighttpd exited; see %s/lighttpd-error.log", px.dir);
		msleep(50);
	} while (now_sec() < until);
	cr_assert_fail("lighttpd does not listen on port %d", port);
}

/*
 * Starts the pool with 'workers' workers and the extra config line 'extra'
 * (or NULL), lighttpd before it, and a business whose key may send many
 * requests a minute.
 */
static void
pool_up(int workers, const char *extra)
{
	char	 app[PATH_MAX], conf[PATH_MAX + 32], lconf[PATH_MAX + 32];
	char	 nw[16], cmd[4 * PATH_MAX], url[64];
	FILE	*f;
	int	 port = free_port();
	double	 until;

	app_path(app, sizeof(app));
	fmt(px.dir, sizeof(px.dir), "/tmp/calendence-pool.XXXXXX");
	cr_assert_not_null(mkdtemp(px.dir), "mkdtemp: %s", strerror(errno));
	chmod(px.dir, 0755);
	fmt(px.sock, sizeof(px.sock), "%s/calendence.sock", px.dir);
	fmt(px.log, sizeof(px.log), "%s/pool.log", px.dir);
	fmt(conf, sizeof(conf), "%s/calendence.conf", px.dir);
	fmt(lconf, sizeof(lconf), "%s/lighttpd.conf", px.dir);
	cr_assert_not_null(f = fopen(conf, "w"));
	fprintf(f, "trusted_proxies = 127.0.0.1\nlog_level = info\n%s\n",
	    extra ? extra : "");
	fclose(f);

	px.workers = workers;
	fmt(nw, sizeof(nw), "%d", workers);
	px.pool = start((char *const[]){ app, "--listen", px.sock, "--workers", nw,
	    "--socket-mode", "0660", "--config", conf, NULL }, px.log);
	until = now_sec() + 10;
	while (!file_has(px.log, "listening on") && now_sec() < until) {
		cr_assert_eq(waitpid(px.pool, NULL, WNOHANG), 0, "the pool exited");
		msleep(20);
	}
	cr_assert_eq(wait_workers(10), workers, "the pool did not start %d workers",
	    workers);

	fmt(cmd, sizeof(cmd), "bash -c 'source tests/lib.sh && "
	    "lighttpd_pool_conf \"%s\" %d \"%s\" \"%s\"'", lconf, port, px.sock, px.dir);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	px.lighttpd = start((char *const[]){ "lighttpd", "-D", "-f", lconf, NULL },
	    px.log);
	wait_port(port);
	fmt(url, sizeof(url), "http://127.0.0.1:%d", port);
	setenv("CALENDENCE_URL", url, 1);

	px.plan = fx_plan(100000, 1000000, 1000, 1);
	px.hub = fx_hub("pro");
	fx_exec("UPDATE calendence.hubs SET plan = $1 WHERE id = $2", px.plan,
	    px.hub, NULL);
	px.business = fx_business(px.hub, NULL);
	free(fx_service(px.business, NULL, 1));
	px.key = fx_key("business", px.business);
}

/* Sends SIGTERM and waits (up to 'seconds'); SIGKILL after. The exit status. */
static int
stop(pid_t pid, double seconds)
{
	double	 until = now_sec() + seconds;
	int	 status = -1;

	if (pid <= 0)
		return 0;
	kill(pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_sec() > until) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		msleep(20);
	}
	return status;
}

static void
pool_down(void)
{
	char	 cmd[PATH_MAX + 16];

	stop(px.lighttpd, 10);
	stop(px.pool, 40);
	/* a token never reaches the log */
	fmt(cmd, sizeof(cmd), "grep -qE 'cal_(hub|biz|pub|ses)_[0-9A-Za-z]{38}' '%s'",
	    px.log);
	cr_expect_neq(system(cmd), 0, "a token is in the pool's log");
	if (px.dir[0] != '\0') {
		fmt(cmd, sizeof(cmd), "rm -rf '%s'", px.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", px.dir);
	}
	free(px.key);
	free(px.business);
	free(px.hub);
	free(px.plan);
	memset(&px, 0, sizeof(px));
}

/*
 * One request with the key: 1 when 2xx or 429, 0 for another status (the
 * start of its body in body[len] when body is not NULL), -1 for no answer.
 */
static int
one_request(int *status, char *body, size_t len)
{
	struct http_resp	 r;
	int			 rc;

	*status = 0;
	if (http_get("/api/v1/services", px.key, NULL, &r) != 0)
		rc = -1;
	else {
		*status = r.status;
		rc = (r.status >= 200 && r.status < 300) || r.status == 429;
		if (rc == 0 && body != NULL)
			snprintf(body, len, "%s", r.body);
	}
	http_resp_free(&r);
	return rc;
}

/* A client process: requests, one after another, for 'seconds'. */
static void
client(int fd, double seconds)
{
	struct tally	 t = { 0 };
	double		 until = now_sec() + seconds;
	int		 status, rc;

	while (now_sec() < until) {
		rc = one_request(&status, t.first_bad ? NULL : t.first_body,
		    sizeof(t.first_body));
		if (rc == 1)
			t.ok++;
		else if (rc == 0) {
			t.bad++;
			if (t.first_bad == 0)
				t.first_bad = status;
		} else
			t.errors++;
	}
	if (write(fd, &t, sizeof(t)) != (ssize_t)sizeof(t))
		_exit(1);
	_exit(0);
}

/* Starts LOAD_CLIENTS client processes; their tallies come through fds[0]. */
static void
load_start(pid_t *pids, int fds[2], double seconds)
{
	int	 i;

	cr_assert_eq(pipe(fds), 0);
	for (i = 0; i < LOAD_CLIENTS; i++) {
		pids[i] = fork();
		cr_assert(pids[i] >= 0);
		if (pids[i] == 0) {
			close(fds[0]);
			client(fds[1], seconds);
		}
	}
	close(fds[1]);
}

/* Waits for the clients and adds up what they saw. */
static struct tally
load_wait(const pid_t *pids, int fd)
{
	struct tally	 sum = { 0 }, t;
	int		 i;

	for (i = 0; i < LOAD_CLIENTS; i++) {
		cr_expect_eq(read(fd, &t, sizeof(t)), (ssize_t)sizeof(t),
		    "a client died");
		sum.ok += t.ok;
		sum.bad += t.bad;
		sum.errors += t.errors;
		if (sum.first_bad == 0) {
			sum.first_bad = t.first_bad;
			memcpy(sum.first_body, t.first_body, sizeof(sum.first_body));
		}
	}
	close(fd);
	for (i = 0; i < LOAD_CLIENTS; i++)
		waitpid(pids[i], NULL, 0);
	return sum;
}

/* Sends n requests one after another; all must be answered 2xx (or 429). */
static void
expect_requests_ok(int n, const char *what)
{
	char	 body[160];
	int	 i, status, fails = 0;

	for (i = 0; i < n; i++)
		if (one_request(&status, body, sizeof(body)) != 1) {
			fails++;
			fprintf(stderr, "%s: request %d: status %d: %s\n", what, i + 1,
			    status, status ? body : "(no answer)");
		}
	cr_expect_eq(fails, 0, "%s: %d of %d requests failed", what, fails, n);
	if (fails)
		show_log();
}

TestSuite(pool, .fini = pool_down, .timeout = 90);

Test(pool, reload_under_load_loses_nothing)
{
	pid_t		 old[MAX_WORKERS], fresh[MAX_WORKERS], clients[LOAD_CLIENTS];
	struct tally	 t;
	int		 fds[2], n, m, i, j, kept = 0;

	pool_up(3, NULL);
	n = children(px.pool, old, MAX_WORKERS);
	load_start(clients, fds, LOAD_SECONDS);
	msleep(800);
	cr_expect_eq(kill(px.pool, SIGHUP), 0);
	msleep(1200);
	cr_expect_eq(kill(px.pool, SIGHUP), 0);
	t = load_wait(clients, fds[0]);
	fprintf(stderr, "pool reload: %d answers, %d bad, %d without an answer\n",
	    t.ok, t.bad, t.errors);
	cr_expect_eq(t.bad, 0, "%d answers were neither 2xx nor 429 (first: %d %s)",
	    t.bad, t.first_bad, t.first_body);
	cr_expect_eq(t.errors, 0, "%d requests got no answer", t.errors);
	cr_expect_gt(t.ok, 100, "only %d answers in %d s", t.ok, LOAD_SECONDS);
	cr_expect_eq(file_count(px.log, "reloaded: 3 workers replaced"), 2);

	/* as many workers as before, every one of them new */
	cr_expect_eq(wait_workers(5), 3);
	m = children(px.pool, fresh, MAX_WORKERS);
	for (i = 0; i < n; i++)
		for (j = 0; j < m; j++)
			kept += old[i] == fresh[j];
	cr_expect_eq(kept, 0, "%d workers were not replaced", kept);
	if (t.bad || t.errors)
		show_log();
}

Test(pool, killed_worker_is_replaced)
{
	pid_t	 before[MAX_WORKERS], after[MAX_WORKERS];
	int	 i, n, victim_back = 0;
	double	 t0;

	pool_up(3, NULL);
	expect_requests_ok(3, "before the kill");
	cr_assert_eq(children(px.pool, before, MAX_WORKERS), 3);
	cr_assert_eq(kill(before[0], SIGKILL), 0);
	t0 = now_sec();
	/* the victim is gone (reaped) and the pool has its 3 workers again */
	do {
		msleep(20);
		n = children(px.pool, after, MAX_WORKERS);
		victim_back = 0;
		for (i = 0; i < n; i++)
			victim_back |= after[i] == before[0];
	} while ((n != 3 || victim_back) && now_sec() - t0 < 4.0);
	cr_expect(n == 3 && !victim_back, "after %.2f s: %d workers%s", now_sec() - t0, n,
	    victim_back ? ", the killed one among them" : "");
	fprintf(stderr, "pool kill: replaced in %.2f s\n", now_sec() - t0);
	cr_expect(file_has(px.log, "killed by signal 9"));
	expect_requests_ok(20, "after the kill");
}

Test(pool, sigterm_stops_and_removes_the_socket)
{
	pid_t		 workers[MAX_WORKERS];
	struct stat	 st;
	int		 i, n, status, alive = 0;

	pool_up(3, NULL);
	expect_requests_ok(3, "before the stop");
	n = children(px.pool, workers, MAX_WORKERS);
	cr_assert_eq(stat(px.sock, &st), 0);
	status = stop(px.pool, 35);
	px.pool = 0;
	cr_expect(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the pool did not exit cleanly (status %d)", status);
	cr_expect_eq(stat(px.sock, &st), -1, "the socket is still there");
	cr_expect_eq(errno, ENOENT);
	msleep(200);
	for (i = 0; i < n; i++)
		alive += kill(workers[i], 0) == 0;
	cr_expect_eq(alive, 0, "%d workers outlived the pool", alive);
	cr_expect(file_has(px.log, "pool stopped"));
}

Test(pool, retiring_workers_lose_no_request)
{
	pool_up(2, "max_requests = 5");
	expect_requests_ok(30, "with max_requests = 5");
	/* 30 requests, 5 a worker: at least 5 workers retired */
	cr_expect_geq(file_count(px.log, "worker retires after 5 requests"), 5,
	    "%d retirements", file_count(px.log, "worker retires after 5 requests"));
	cr_expect_eq(wait_workers(3), 2, "the pool is not back to 2 workers");
}
