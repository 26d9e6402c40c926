/* wh_util.c: what the webhook delivery tests share (wh_util.h). */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "wh_util.h"

#define WH_MAX_SENDERS	8

struct fx_shop	 wh_shop;
struct rcv	*wh_rcv;

/* Every sender this test process started and has not seen exit. */
static pid_t	 running[WH_MAX_SENDERS];

static void *
xmalloc(size_t n)
{
	void	*p = malloc(n);

	cr_assert_not_null(p, "out of memory");
	return p;
}

static char *
xstrdup(const char *s)
{
	char	*p = strdup(s);

	cr_assert_not_null(p, "out of memory");
	return p;
}

void
wh_setup(void)
{
	fx_shop_open(&wh_shop, "pro");
	wh_rcv = rcv_start();
	cr_assert_not_null(wh_rcv, "the receiver did not start");
}

static void
forget_pid(pid_t pid)
{
	for (int i = 0; i < WH_MAX_SENDERS; i++)
		if (running[i] == pid)
			running[i] = 0;
}

/*
 * Ends whatever a test left running (a failed assertion skips the test's
 * own stops): SIGTERM twice (the attempts in flight go back to the queue),
 * then SIGKILL after 3 s. Then the test's webhooks go, with their
 * deliveries, so that later tests' senders find nothing of this one.
 */
void
wh_teardown(void)
{
	for (int i = 0; i < WH_MAX_SENDERS; i++) {
		pid_t	 pid = running[i];
		int	 st, k;

		if (pid <= 0)
			continue;
		kill(pid, SIGTERM);
		msleep(50);
		kill(pid, SIGTERM);
		for (k = 0; k < 60 && waitpid(pid, &st, WNOHANG) == 0; k++)
			msleep(50);
		if (k == 60) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
		}
		running[i] = 0;
	}
	if (wh_shop.biz != NULL)
		fx_exec("DELETE FROM calendence.webhooks WHERE business_id = $1", wh_shop.biz,
		    NULL);
	rcv_stop(wh_rcv);
	wh_rcv = NULL;
	fx_shop_free(&wh_shop);
}

/* --- senders --- */

/* mkdir -p of an absolute or relative path (mode 0755). */
static void
mkdirs(const char *path)
{
	char	 p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		(void)mkdir(p, 0755);
		*s = '/';
	}
	cr_assert(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", p,
	    strerror(errno));
}

/*
 * The run's directory is where CALENDENCE_TOKEN_LOG lies (tests/run.sh puts
 * it in $work, which the secrets check scans: the senders' logs are held to
 * the same rule as every other file); else /tmp.
 */
const char *
wh_dir(void)
{
	static char	 dir[PATH_MAX];
	static pid_t	 made;
	const char	*log = getenv("CALENDENCE_TOKEN_LOG"), *slash;
	char		 base[PATH_MAX - 64];

	if (made == getpid())
		return dir;
	if (log != NULL && (slash = strrchr(log, '/')) != NULL && slash != log &&
	    (size_t)(slash - log) < sizeof(base))
		snprintf(base, sizeof(base), "%.*s", (int)(slash - log), log);
	else
		snprintf(base, sizeof(base), "/tmp/calendence-webhooks");
	snprintf(dir, sizeof(dir), "%s/webhooks/%ld", base, (long)getpid());
	mkdirs(dir);
	made = getpid();
	return dir;
}

void
wh_conf_write(const char *path, const struct wh_opts *o)
{
	static const struct wh_opts	 none;
	const char	*key = getenv("WEBHOOK_KEY_FILE");
	char		 tmp[PATH_MAX + 8];
	FILE		*f;

	if (o == NULL)
		o = &none;
	cr_assert(key != NULL && *key != '\0', "WEBHOOK_KEY_FILE is not set");
	/* written aside and renamed: a SIGHUP never reads half a file */
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	cr_assert_not_null(f, "%s: %s", tmp, strerror(errno));
	fprintf(f, "# a webhook sender of tests/webhooks (the database: libpq's environment)\n"
	    "log_level = info\n"
	    "db_timeout = 2000\n"
	    "webhook_key_file = %s\n"
	    "webhook_allow_http = yes\n"
	    "webhook_allow_private = %s\n"
	    "webhook_timeout = %d\n"
	    "webhook_retry_delays = %s\n"
	    "webhook_concurrency = %d\n"
	    "webhook_poll_interval = %d\n", key, o->deny_private ? "no" : "yes",
	    o->timeout_ms > 0 ? o->timeout_ms : 3000, o->delays ? o->delays : "300, 900",
	    o->concurrency > 0 ? o->concurrency : 8, o->poll_ms > 0 ? o->poll_ms : 500);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(rename(tmp, path), 0, "rename %s: %s", tmp, strerror(errno));
}

char *
wh_log(const struct wh_sender *s)
{
	FILE	*f = fopen(s->log, "r");
	char	*buf;
	size_t	 len = 0, cap = 65536, n;

	buf = xmalloc(cap);
	buf[0] = '\0';
	if (f == NULL)
		return buf;
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 4096) {
			cap *= 2;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

size_t
wh_count(const char *hay, const char *needle)
{
	size_t	 n = 0, len = strlen(needle);

	for (const char *p = hay; len > 0 && (p = strstr(p, needle)) != NULL; p += len)
		n++;
	return n;
}

size_t
wh_lines_with(const char *hay, ...)
{
	const char	*needles[16], *p, *eol;
	size_t		 n = 0, k = 0;
	va_list		 ap;

	va_start(ap, hay);
	while (k < 16 && (needles[k] = va_arg(ap, const char *)) != NULL)
		k++;
	va_end(ap);
	for (p = hay; *p != '\0'; p = *eol ? eol + 1 : eol) {
		char	*line;
		size_t	 i;

		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		line = xmalloc((size_t)(eol - p) + 1);
		memcpy(line, p, (size_t)(eol - p));
		line[eol - p] = '\0';
		for (i = 0; i < k && strstr(line, needles[i]) != NULL; i++)
			continue;
		n += i == k;
		free(line);
	}
	return n;
}

int
wh_log_wait(const struct wh_sender *s, const char *needle, size_t n, int timeout_ms)
{
	long long	 end = now_ms() + timeout_ms;

	for (;;) {
		char	*log = wh_log(s);
		size_t	 c = wh_count(log, needle);

		free(log);
		if (c >= n)
			return 1;
		if (now_ms() >= end)
			return 0;
		msleep(50);
	}
}

void
wh_sender_start(struct wh_sender *s, const char *name, const struct wh_opts *o)
{
	const char	*prog = getenv("WEBHOOKS_SENDER");
	char		*argv[4];
	pid_t		 parent = getpid(), pid;
	int		 logfd, nullfd, slot, st;
	long long	 end;

	cr_assert(prog != NULL && *prog != '\0', "WEBHOOKS_SENDER is not set");
	memset(s, 0, sizeof(*s));
	snprintf(s->conf, sizeof(s->conf), "%s/%s.conf", wh_dir(), name);
	snprintf(s->log, sizeof(s->log), "%s/%s.log", wh_dir(), name);
	wh_conf_write(s->conf, o);
	for (slot = 0; slot < WH_MAX_SENDERS && running[slot] != 0; slot++)
		continue;
	cr_assert_lt(slot, WH_MAX_SENDERS, "too many senders");
	logfd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	cr_assert(logfd >= 0 && nullfd >= 0, "%s: %s", s->log, strerror(errno));
	argv[0] = (char *)(uintptr_t)prog;
	argv[1] = (char *)(uintptr_t)"--config";
	argv[2] = s->conf;
	argv[3] = NULL;
	fflush(NULL);
	pid = fork();
	cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		sigset_t	 none;

		/* dies with the test process, whatever becomes of the test */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		dup2(nullfd, 0);
		dup2(nullfd, 1);
		dup2(logfd, 2);
		execv(prog, argv);
		_exit(127);
	}
	close(logfd);
	close(nullfd);
	running[slot] = pid;
	s->pid = pid;
	/* up when it says so (before its first claim); gone: its log says why */
	for (end = now_ms() + 15000; now_ms() < end; msleep(50)) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			char	*log = wh_log(s);

			forget_pid(pid);
			s->pid = 0;
			cr_assert_fail("sender %s exited at start (status %d): %s", name,
			    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), log);
		}
		if (wh_log_wait(s, "started", 1, 0))
			return;
	}
	cr_assert_fail("sender %s: no start-up line in 15 s", name);
}

int
wh_sender_signal_stop(struct wh_sender *s, int sig, int nsig, int timeout_ms)
{
	long long	 end;
	int		 st, i;

	cr_assert_gt(s->pid, 0, "the sender is not running");
	for (i = 0; i < nsig; i++) {
		if (i > 0)
			msleep(50);
		kill(s->pid, sig);
	}
	for (end = now_ms() + timeout_ms; now_ms() < end; msleep(20))
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			forget_pid(s->pid);
			s->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &st, 0);
	forget_pid(s->pid);
	s->pid = 0;
	return -1;
}

void
wh_sender_stop(struct wh_sender *s)
{
	int	 rc = wh_sender_signal_stop(s, SIGTERM, 1, 15000);

	cr_expect_eq(rc, 0, "sender %s: SIGTERM ended it with %d (-1: still running "
	    "after 15 s)", s->log, rc);
}

/* --- the API --- */

char *
wh_url(const char *path)
{
	char	 buf[256];

	return xstrdup(rcv_url(wh_rcv, path, buf, sizeof(buf)));
}

static int
is_secret(const char *s)
{
	return matches(s, "^whsec_[0-9A-Za-z]{32}$");
}

void
wh_create(const char *url, const char *events, char **id, char **secret)
{
	struct http_resp	 r;
	json_object		*body = json_object_new_object();
	char			 path[128];

	json_object_object_add(body, "url", json_object_new_string(url));
	json_object_object_add(body, "events", json_tokener_parse(events));
	json_object_object_add(body, "description", json_object_new_string("tests/webhooks"));
	cr_assert_eq(http_post("/api/v1/webhooks", wh_shop.key, NULL,
	    json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN), &r), 0);
	json_object_put(body);
	/* a 201 holds the secret: never printed */
	cr_assert_eq(r.status, 201, "POST /api/v1/webhooks: %d %.500s", r.status,
	    r.status == 201 ? "" : r.body);
	cr_assert(matches(jstr(r.json, "id"), "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
	    "[0-9a-f]{4}-[0-9a-f]{12}$"), "webhook id");
	cr_assert_str_eq(nz(jstr(r.json, "url")), url);
	cr_assert(is_secret(jstr(r.json, "secret")), "the secret is not whsec_ and 32 base62");
	*id = xstrdup(jstr(r.json, "id"));
	if (secret != NULL)
		*secret = xstrdup(jstr(r.json, "secret"));
	http_resp_free(&r);
	/* shown once: never again */
	snprintf(path, sizeof(path), "/api/v1/webhooks/%s", *id);
	cr_assert_eq(http_get(path, wh_shop.key, NULL, &r), 0);
	cr_assert_eq(r.status, 200, "GET %s: %d %.300s", path, r.status, r.body);
	cr_expect(!jhas(r.json, "secret"), "GET %s shows a secret member", path);
	http_resp_free(&r);
}

json_object *
wh_call(const char *method, const char *path, const char *body, int want)
{
	struct http_resp	 r;
	json_object		*o;

	cr_assert_eq(http_call(method, path, wh_shop.key, NULL, body, &r), 0, "%s %s", method,
	    path);
	cr_assert_eq(r.status, want, "%s %s: %d (want %d) %.800s", method, path, r.status,
	    want, r.body);
	o = r.json != NULL ? json_object_get(r.json) : NULL;
	http_resp_free(&r);
	return o;
}

json_object *
wh_deliveries(const char *hook)
{
	char		 path[160];
	json_object	*o, *data;

	snprintf(path, sizeof(path), "/api/v1/webhooks/%s/deliveries?per_page=50", hook);
	o = wh_call("GET", path, NULL, 200);
	data = jget(o, "data");
	cr_assert(data != NULL && json_object_is_type(data, json_type_array), "%s",
	    json_object_to_json_string(o));
	json_object_get(data);
	json_object_put(o);
	return data;
}

json_object *
wh_find(json_object *log, const char *delivery)
{
	for (size_t i = 0; log != NULL && i < json_object_array_length(log); i++) {
		json_object	*d = json_object_array_get_idx(log, i);

		if (strcmp(nz(jstr(d, "id")), delivery) == 0)
			return d;
	}
	return NULL;
}

/*
 * Polling reads the database, not the API: the shop's key has 60 requests
 * a minute, and a test needs them for its bookings.
 */
json_object *
wh_wait_log(const char *hook, size_t n, const char *status, int timeout_ms)
{
	long long	 end = now_ms() + timeout_ms;
	char		 want[32];

	snprintf(want, sizeof(want), "%zu %zu", n, n);
	for (;;) {
		char	*v = fx_value("SELECT count(*) || ' ' || count(*) FILTER (WHERE "
		    "$2::text IS NULL OR status = $2) FROM calendence.webhook_deliveries "
		    "WHERE webhook_id = $1", hook, status ? status : FX_NULL, NULL);
		int	 ok = v != NULL && strcmp(v, want) == 0;

		free(v);
		if (ok)
			return wh_deliveries(hook);
		if (now_ms() >= end)
			return NULL;
		msleep(100);
	}
}

int
wh_wait_sql(const char *delivery, const char *cond, int timeout_ms)
{
	long long	 end = now_ms() + timeout_ms;
	char		 sql[1024];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM calendence.webhook_deliveries d "
	    "WHERE d.id = $1 AND (%s)", cond);
	for (;;) {
		char	*v = fx_value(sql, delivery, NULL);
		int	 ok = v != NULL && strcmp(v, "1") == 0;

		free(v);
		if (ok)
			return 1;
		if (now_ms() >= end)
			return 0;
		msleep(50);
	}
}

json_object *
wh_book(void)
{
	struct slot		 sl = { 0 };
	struct http_resp	 r;
	json_object		*o;
	char			*h;

	first_slot(&wh_shop, wh_shop.key, &sl);
	h = hold_ok(&wh_shop, wh_shop.key, &sl);
	book(wh_shop.key, h, "ann@example.com", NULL, &r);
	cr_assert_eq(r.status, 201, "book: %d %.500s", r.status, r.body);
	cr_assert_not_null(jstr(r.json, "id"), "%.500s", r.body);
	o = json_object_get(r.json);
	http_resp_free(&r);
	free(h);
	slot_free(&sl);
	return o;
}

char *
wh_strdup(json_object *o, const char *path)
{
	const char	*v = jstr(o, path);

	cr_assert_not_null(v, "no %s in %s", path, json_object_to_json_string(o));
	return xstrdup(v);
}

/* --- what was received --- */

char *
wh_header(const struct rcv_req *q, const char *name)
{
	char	 buf[1024];

	return xstrdup(rcv_header(q, name, buf, sizeof(buf)) ? buf : "");
}

void
wh_openssl_hmac(const char *secret, const char *prefix, const char *body, size_t len,
    char out[65])
{
	static unsigned	 seq;
	char		 file[PATH_MAX], cmd[PATH_MAX + 200], line[512];
	FILE		*f;
	int		 st;

	/* a secret is base62 (checked when it was made): safe between quotes */
	cr_assert(is_secret(secret), "not a webhook secret");
	snprintf(file, sizeof(file), "%s/hmac-%u.in", wh_dir(), ++seq);
	f = fopen(file, "wb");
	cr_assert_not_null(f, "%s: %s", file, strerror(errno));
	if (prefix != NULL)
		fputs(prefix, f);
	cr_assert_eq(fwrite(body, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "openssl dgst -sha256 -hmac '%s' -r '%s' 2>&1", secret,
	    file);
	f = popen(cmd, "r");
	cr_assert_not_null(f, "popen openssl");
	line[0] = '\0';
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	st = pclose(f);
	unlink(file);
	cr_assert_eq(st, 0, "openssl dgst failed (%d): %.200s", st, line);
	cr_assert(matches(line, "^[0-9a-f]{64} "), "openssl dgst said: %.200s", line);
	memcpy(out, line, 64);
	out[64] = '\0';
}

json_object *
wh_expect_delivery(const struct rcv_req *q, const char *secret, const char *what)
{
	char		*ct = wh_header(q, "Content-Type"), *ua = wh_header(q, "User-Agent");
	char		*ev = wh_header(q, "X-Calendence-Event");
	char		*dl = wh_header(q, "X-Calendence-Delivery");
	char		*xs = wh_header(q, "X-Calendence-Signature");
	char		*cs = wh_header(q, "Calendence-Signature");
	char		 mac[65], prefix[32], *p, *save = NULL, *t = NULL, *v1 = NULL;
	json_object	*o;
	long long	 ts;

	cr_expect_str_eq(q->method, "POST", "%s: method", what);
	cr_expect(matches(ct, "^application/json( *;.*)?$"), "%s: Content-Type %s", what, ct);
	cr_expect(matches(ua, "^Calendence-Webhooks/[0-9]"), "%s: User-Agent %s", what, ua);
	cr_expect(matches(dl, "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
	    "[0-9a-f]{12}$"), "%s: X-Calendence-Delivery %s", what, dl);
	cr_expect_eq(strlen(q->body), q->body_len, "%s: a NUL in the body", what);
	o = json_tokener_parse(q->body);
	cr_assert(o != NULL && json_object_is_type(o, json_type_object),
	    "%s: the body is not a JSON object: %.500s", what, q->body);
	cr_expect_eq(json_object_object_length(o), 4, "%s: body members: %.300s", what,
	    q->body);
	cr_expect(matches(jstr(o, "id"), "^evt_[0-9a-f]{32}$"), "%s: id %s", what,
	    nz(jstr(o, "id")));
	cr_expect_str_eq(nz(jstr(o, "event")), ev, "%s: event vs X-Calendence-Event", what);
	cr_expect(matches(jstr(o, "timestamp"), "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
	    "[0-9]{2}:[0-9]{2}\\+00:00$"), "%s: timestamp %s", what, nz(jstr(o, "timestamp")));
	cr_expect(jget(o, "data") != NULL && json_object_is_type(jget(o, "data"),
	    json_type_object), "%s: data", what);

	/* X-Calendence-Signature: sha256=HMAC(secret, body) */
	wh_openssl_hmac(secret, NULL, q->body, q->body_len, mac);
	cr_expect(strncmp(xs, "sha256=", 7) == 0 && strcmp(xs + 7, mac) == 0,
	    "%s: X-Calendence-Signature %s, openssl says sha256=%s", what, xs, mac);

	/* Calendence-Signature: t=T,v1=HMAC(secret, T "." body) */
	for (p = strtok_r(cs, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
		while (*p == ' ')
			p++;
		if (strncmp(p, "t=", 2) == 0)
			t = p + 2;
		else if (strncmp(p, "v1=", 3) == 0)
			v1 = p + 3;
	}
	cr_assert(t != NULL && v1 != NULL && matches(t, "^[0-9]{1,12}$"),
	    "%s: Calendence-Signature without t and v1", what);
	ts = atoll(t);
	cr_expect(ts - (long long)q->wall < 60 && (long long)q->wall - ts < 60,
	    "%s: t=%lld is %.0f s from the request's arrival", what, ts, (double)ts - q->wall);
	snprintf(prefix, sizeof(prefix), "%s.", t);
	wh_openssl_hmac(secret, prefix, q->body, q->body_len, mac);
	cr_expect_str_eq(v1, mac, "%s: Calendence-Signature v1 %s, openssl says %s", what, v1,
	    mac);
	free_all(ct, ua, ev, dl, xs, cs, NULL);
	return o;
}
