/* util.c: what the load and fault tests share: settings, worker processes, durability. */

#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"
#include "api.h"
#include "util.h"

long
lu_env(const char *name, long dflt)
{
	const char	*v = getenv(name);
	char		*end;
	long		 n;

	if (v == NULL || *v == '\0')
		return dflt;
	n = strtol(v, &end, 10);
	return *end == '\0' && n > 0 ? n : dflt;
}

pid_t
lu_env_pid(const char *name)
{
	return (pid_t)lu_env(name, 0);
}

static int
pid_cmp(const void *a, const void *b)
{
	pid_t	x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

/* The parent of 'pid' from /proc/PID/stat, or -1. */
static pid_t
parent_of(pid_t pid)
{
	char	 path[64], buf[512], *p;
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* pid (comm) state ppid: comm may hold spaces and parentheses */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	return (pid_t)strtol(p + 4, NULL, 10);
}

/*
 * True when /proc/PID/exe names a calendence.fcgi, also one that a build has
 * replaced since it started ("... (deleted)").
 */
static int
is_worker(pid_t pid)
{
	const char	*name = "/calendence.fcgi", *gone = " (deleted)";
	char		 path[64], exe[PATH_MAX];
	ssize_t		 n;
	size_t		 len, glen = strlen(gone);

	snprintf(path, sizeof(path), "/proc/%ld/exe", (long)pid);
	if ((n = readlink(path, exe, sizeof(exe) - 1)) == -1)
		return 0;
	exe[n] = '\0';
	len = (size_t)n;
	if (len >= glen && strcmp(exe + len - glen, gone) == 0)
		exe[len -= glen] = '\0';
	return len >= strlen(name) && strcmp(exe + len - strlen(name), name) == 0;
}

/*
 * The workers under web server ppid, by pid: its calendence.fcgi children,
 * or the children of the one it runs as a pool on its socket (--workers N),
 * that pool's supervisor left out.
 */
int
lu_workers(pid_t ppid, pid_t *out, int max)
{
	DIR		*d;
	struct dirent	*e;
	char		*end;
	pid_t		 pid, all[2 * LU_MAX_WORKERS + 2], parent[2 * LU_MAX_WORKERS + 2];
	int		 n = 0, m = 0, i, k, sup;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && m < (int)(sizeof(all) / sizeof(all[0]))) {
		pid = (pid_t)strtol(e->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 || !is_worker(pid))
			continue;
		if (parent_of(pid) == ppid || (is_worker(parent_of(pid)) &&
		    parent_of(parent_of(pid)) == ppid)) {
			parent[m] = parent_of(pid);
			all[m++] = pid;
		}
	}
	closedir(d);
	for (i = 0; i < m && n < max; i++) {
		for (k = 0, sup = 0; k < m; k++)
			sup |= parent[k] == all[i];
		if (!sup)
			out[n++] = all[i];
	}
	qsort(out, (size_t)n, sizeof(*out), pid_cmp);
	return n;
}

long
lu_rss_kb(pid_t pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kb = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

void
lu_keys(int n, int per_minute, char **out)
{
	char	*plan = fx_plan(per_minute, 1000000, 1000, 1);
	char	*hub = fx_hub(plan), *biz = NULL;
	int	 i;

	for (i = 0; i < n; i++) {
		if (i % 10 == 0) {
			free(biz);
			biz = fx_business(hub, NULL);
		}
		out[i] = fx_key("business", biz);
	}
	free(biz);
	free(hub);
	free(plan);
}

void
lu_fit_in_minute(int secs)
{
	struct timespec	now, ts;
	int		in;

	clock_gettime(CLOCK_REALTIME, &now);
	in = (int)(now.tv_sec % 60);
	if (in + secs < 60)
		return;
	/* the next minute and 300 ms, so that the clocks of the test and of the database agree */
	ts.tv_sec = 59 - in;
	ts.tv_nsec = 1000000000L - now.tv_nsec + 300000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	printf("load: waiting %ld.%01ld s for a fresh minute\n", (long)ts.tv_sec,
	    ts.tv_nsec / 100000000L);
	fflush(stdout);
	nanosleep(&ts, NULL);
}

static void *
shared(size_t size)
{
	void	*p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);

	cr_assert_neq(p, MAP_FAILED, "mmap %zu", size);
	return p;
}

void
lu_bg_start(struct lu_bg *bg, struct load_opts *o, long nrecs)
{
	memset(bg, 0, sizeof(*bg));
	bg->stop_map = shared(sizeof(int));
	bg->stop = bg->stop_map;
	bg->st = shared(sizeof(*bg->st));
	bg->recs = shared((size_t)nrecs * sizeof(*bg->recs));
	bg->nrecs = nrecs;
	o->recs = bg->recs;
	o->nrecs = nrecs;
	o->stop = bg->stop;
	fflush(stdout);
	fflush(stderr);
	bg->pid = fork();
	cr_assert_neq(bg->pid, -1, "fork");
	if (bg->pid == 0)
		_exit(load_run(o, bg->st) == 0 ? 0 : 1);
}

void
lu_bg_stop(struct lu_bg *bg)
{
	int	status;

	*bg->stop = 1;
	cr_assert_eq(waitpid(bg->pid, &status, 0), bg->pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the load generator failed (status %d)", status);
}

void
lu_bg_free(struct lu_bg *bg)
{
	munmap(bg->stop_map, sizeof(int));
	munmap(bg->st, sizeof(*bg->st));
	munmap(bg->recs, (size_t)bg->nrecs * sizeof(*bg->recs));
}

void
lu_durable_make(struct lu_durable *d)
{
	size_t	 i;

	memset(d, 0, sizeof(*d));
	fx_shop_open(&d->shop, "pro");
	for (i = 0; i < sizeof(d->keys) / sizeof(d->keys[0]); i++) {
		d->keys[i] = fx_key("business", d->shop.biz);
		d->key_ids[i] = fx_key_id(d->keys[i]);
	}
	for (i = 0; i < sizeof(d->sessions) / sizeof(d->sessions[0]); i++)
		d->sessions[i] = new_session(d->shop.pub, NULL);
	for (i = 0; i < sizeof(d->bookings) / sizeof(d->bookings[0]); i++)
		d->bookings[i] = book_first(&d->shop, d->shop.key);
}

void
lu_durable_check(const struct lu_durable *d)
{
	char	 path[256], *n;
	size_t	 i;

	for (i = 0; i < sizeof(d->keys) / sizeof(d->keys[0]); i++) {
		n = fx_value("SELECT count(*) FROM calendence.api_keys WHERE id = $1 "
		    "AND revoked_at IS NULL", d->key_ids[i], NULL);
		cr_expect_str_eq(n, "1", "key %s lost", d->key_ids[i]);
		free(n);
		cr_expect_eq(get_status("/api/v1/services", d->keys[i]), 200,
		    "key %zu no longer works", i);
	}
	for (i = 0; i < sizeof(d->sessions) / sizeof(d->sessions[0]); i++) {
		n = fx_value("SELECT count(*) FROM calendence.sessions "
		    "WHERE token_hash = calendence.token_hash($1)", d->sessions[i], NULL);
		cr_expect_str_eq(n, "1", "session %zu lost", i);
		free(n);
		cr_expect_eq(get_status("/api/v1/services", d->sessions[i]), 200,
		    "session %zu no longer authenticates", i);
	}
	for (i = 0; i < sizeof(d->bookings) / sizeof(d->bookings[0]); i++) {
		n = fx_value("SELECT count(*) FROM calendence.reservations WHERE id = $1 "
		    "AND status = 'confirmed'", d->bookings[i], NULL);
		cr_expect_str_eq(n, "1", "booking %s lost", d->bookings[i]);
		free(n);
		snprintf(path, sizeof(path), "/api/v1/bookings/%s", d->bookings[i]);
		cr_expect_eq(get_status(path, d->shop.key), 200, "booking %s not served",
		    d->bookings[i]);
	}
}

void
lu_durable_free(struct lu_durable *d)
{
	size_t	i;

	fx_shop_free(&d->shop);
	for (i = 0; i < sizeof(d->keys) / sizeof(d->keys[0]); i++) {
		free(d->keys[i]);
		free(d->key_ids[i]);
	}
	for (i = 0; i < sizeof(d->sessions) / sizeof(d->sessions[0]); i++)
		free(d->sessions[i]);
	for (i = 0; i < sizeof(d->bookings) / sizeof(d->bookings[0]); i++)
		free(d->bookings[i]);
	memset(d, 0, sizeof(*d));
}
