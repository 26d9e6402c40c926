/*
 * webhooks.c: `make bench` row (w), webhooks (SPEC 11), run by
 * tests/bench/bench.sh against the bench's release workers and database.
 * Prints one JSON object (a case of run/bench.json) on stdout.
 *
 *  1. The outbox's cost on POST /bookings: a business (fx_shop_open on plan
 *     'bench', 8 staff) with one webhook subscribed to every event, booked
 *     over HTTP by one client, hold then book, in short rounds of three
 *     arms, ABC then CBA, again and again: (A) the trigger on, so that each
 *     booking writes an event, a delivery and a NOTIFY; (B) the trigger
 *     disabled (ALTER TABLE ... DISABLE TRIGGER reservations_booking_event);
 *     (C) the trigger on and the webhook inactive, so an event and no
 *     delivery (what every booking pays, webhooks or not). Only the POST
 *     /bookings requests are timed (client side, CLOCK_MONOTONIC), after a
 *     few untimed bookings that let the worker plan its statements anew.
 *     The added cost is the median over the cycles of median(A) /
 *     median(B) - 1; the mean execution time of calendence.book() per arm
 *     comes from pg_stat_statements (the trigger runs inside it). Then where
 *     the trigger's time goes: its parts timed one by one in the database
 *     (outbox_parts()), and the NOTIFY's cost to a transaction.
 *  2. Events per second: N bookings made with the sender stopped (through
 *     calendence.hold() and calendence.book(), as the workers call them),
 *     then one sender started (WEBHOOKS_SENDER --config WEBHOOKS_CONFIG,
 *     stderr to WEBHOOKS_LOG), timed from its start until the receiver in
 *     this process (tests/lib/receiver.c, answering 200) had answered N
 *     requests, and until the database recorded N deliveries succeeded.
 *  3. End-to-end latency: with that sender running, K bookings over HTTP one
 *     at a time, each from the POST /bookings answer to the receiver's 200.
 *
 * Environment: CALENDENCE_URL (the bench's lighttpd), PG* (its database),
 * WEBHOOKS_SENDER, WEBHOOKS_CONFIG, WEBHOOKS_LOG (default /dev/null).
 * Options: -c cycles (20), -m timed bookings a round (20), -n events (2000),
 * -k latency samples (50). The business (hub "Bench webhooks hub") is
 * removed at the end, and at the start when a failed run left it.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "http.h"
#include "receiver.h"

#define HUB_NAME	"Bench webhooks hub"
#define STAFF		8		/* staff members: 8 x 16 slots a day */
#define SLOTS_A_DAY	16		/* 30-minute slots, 09:00-17:00 */
#define WARMUP		12		/* untimed bookings at the start of a round: 3 a worker */
#define ALL_EVENTS	"[\"booking.created\",\"booking.updated\"," \
	"\"booking.cancelled\",\"booking.completed\"]"
#define CLIENT		"{\"first_name\":\"Ann\",\"last_name\":\"Lee\"," \
	"\"email\":\"ann@example.com\"}"

enum arm { ARM_OUTBOX, ARM_OFF, ARM_NOSUB, NARMS };
static const char *const arm_name[NARMS] = { "with_outbox", "without_outbox",
	"outbox_no_subscriber" };

static struct fx_shop	 shop;
static char		*staff[STAFF];
static char		**starts;	/* the slots' start times, day by day */
static size_t		 nstarts, next_slot;
static char		*hook;		/* the webhook's id */
static pid_t		 sender_pid;
static int		 trigger_off;

_Noreturn static void
die(const char *fmt, ...)
{
	va_list	 ap;

	fputs("bench webhooks: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double
mono(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_ms(long ms)
{
	struct timespec	 ts = { ms / 1000, ms % 1000 * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-quantile of v[0..n) (sorted in place): the value at rank floor(q n). */
static double
quantile(double *v, size_t n, double q)
{
	size_t	 i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)(q * (double)n);
	return v[i < n ? i : n - 1];
}

/* The median, as the mean of the middle two for an even n (sorts in place). */
static double
median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
mean(const double *v, size_t n)
{
	double	 s = 0;
	size_t	 i;

	for (i = 0; i < n; i++)
		s += v[i];
	return n ? s / (double)n : 0;
}

/* --- CPU time (clock ticks) of the sender, PostgreSQL, the machine --- */

/* utime + stime of /proc/PID/stat, and its parent in *ppid; -1 when gone. */
static long long
proc_ticks(long pid, long *ppid)
{
	char		 path[64], buf[1024], *p;
	long long	 ut, st;
	long		 pp;
	FILE		*f;
	size_t		 n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after "pid (comm) ": state ppid ... the 12th and 13th are utime, stime */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld",
	    &pp, &ut, &st) != 3)
		return -1;
	if (ppid != NULL)
		*ppid = pp;
	return ut + st;
}

/* The postmaster ($PGHOST/postmaster.pid) and its children; 0 when unknown. */
static long long
pg_ticks(void)
{
	const char	*host = getenv("PGHOST");
	char		 path[1024];
	long		 pm = 0, pid, ppid;
	long long	 t, sum = 0;
	struct dirent	*e;
	FILE		*f;
	DIR		*d;

	if (host == NULL || host[0] != '/')
		return 0;
	snprintf(path, sizeof(path), "%s/postmaster.pid", host);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%ld", &pm) != 1)
		pm = 0;
	fclose(f);
	if (pm <= 0 || (d = opendir("/proc")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = strtol(e->d_name, NULL, 10);
		if ((t = proc_ticks(pid, &ppid)) >= 0 && (pid == pm || ppid == pm))
			sum += t;
	}
	closedir(d);
	return sum;
}

/* Ticks the whole machine spent busy (user, nice, system, irq, softirq, steal). */
static long long
busy_ticks(void)
{
	long long	 v[8] = { 0 };
	FILE		*f = fopen("/proc/stat", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1], &v[2],
	    &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		memset(v, 0, sizeof(v));
	fclose(f);
	return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

/* This process's CPU (the receiver's threads and the client), in seconds. */
static double
self_cpu(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* --- the database --- */

static void
set_trigger(int on)
{
	fx_exec(on ? "ALTER TABLE calendence.reservations ENABLE TRIGGER "
	    "reservations_booking_event" : "ALTER TABLE calendence.reservations "
	    "DISABLE TRIGGER reservations_booking_event", NULL);
	trigger_off = !on;
}

static void
set_hook_active(int on)
{
	fx_exec("UPDATE calendence.webhooks SET active = $2 WHERE id = $1", hook,
	    on ? "true" : "false", NULL);
}

/* The previous run's business, if a failed run left it: everything cascades. */
static void
remove_business(void)
{
	fx_exec("DELETE FROM calendence.hubs WHERE name = '" HUB_NAME "'", NULL);
}

static int	 have_stats = -1;

/* Calls and total execution ms of the workers' calendence.book() statement. */
static void
book_stats(double *calls, double *ms)
{
	char	*v;

	*calls = *ms = 0;
	if (have_stats == -1) {
		v = fx_value("SELECT count(*) FROM pg_extension WHERE extname = "
		    "'pg_stat_statements'", NULL);
		have_stats = v != NULL && strcmp(v, "0") != 0;
		free(v);
	}
	if (!have_stats)
		return;
	v = fx_value("SELECT coalesce(sum(calls), 0) || ' ' || coalesce(sum(total_exec_time), 0) "
	    "FROM pg_stat_statements WHERE toplevel AND dbid = (SELECT oid FROM pg_database "
	    "WHERE datname = current_database()) AND query LIKE '%calendence.book(%' "
	    "AND query NOT LIKE '%pg_stat_statements%'", NULL);
	if (v == NULL || sscanf(v, "%lf %lf", calls, ms) != 2)
		die("cannot read pg_stat_statements");
	free(v);
}

static char *
count_deliveries(const char *status)
{
	return fx_value("SELECT count(*) FROM calendence.webhook_deliveries "
	    "WHERE webhook_id = $1 AND status = $2", hook, status, NULL);
}

/* --- the business and its slots --- */

static void
make_business(void)
{
	char	*v, days[16];
	size_t	 i, ndays;

	remove_business();
	fx_shop_open(&shop, "bench");
	fx_exec("UPDATE calendence.hubs SET name = '" HUB_NAME "' WHERE id = $1", shop.hub,
	    NULL);
	staff[0] = strdup(shop.staff);
	for (i = 1; i < STAFF; i++)
		staff[i] = fx_staff(shop.biz, shop.loc);
	/* every start of 30-minute slot, 09:00 to 16:30, from tomorrow on */
	ndays = (nstarts + SLOTS_A_DAY * STAFF - 1) / (SLOTS_A_DAY * STAFF) + 1;
	if (ndays > 170)
		die("%zu days of slots are more than the business's horizon", ndays);
	snprintf(days, sizeof(days), "%zu", ndays);
	v = fx_value("SELECT string_agg(to_json(((now() AT TIME ZONE 'America/Chicago')::date "
	    "+ d + time '09:00' + k * interval '30 minutes') AT TIME ZONE 'America/Chicago') "
	    "#>> '{}', ' ' ORDER BY d, k) FROM generate_series(1, $1::integer) d, "
	    "generate_series(0, 15) k", days, NULL);
	if (v == NULL)
		die("no start times");
	nstarts = ndays * SLOTS_A_DAY;
	if ((starts = calloc(nstarts, sizeof(*starts))) == NULL)
		die("out of memory");
	for (i = 0; i < nstarts; i++) {
		starts[i] = strtok(i == 0 ? v : NULL, " ");
		if (starts[i] == NULL)
			die("fewer start times than asked");
	}
}

/* The next free slot: its start and its staff member. */
static void
slot(const char **start, const char **who)
{
	size_t	 i = next_slot++;

	if (i / STAFF >= nstarts)
		die("out of slots");
	*start = starts[i / STAFF];
	*who = staff[i % STAFF];
}

/* A hold over HTTP; returns its id (malloc'd). */
static char *
http_hold(void)
{
	struct http_resp	 r;
	const char		*start, *who;
	char			 body[512], *id;

	slot(&start, &who);
	snprintf(body, sizeof(body), "{\"service_id\":\"%s\",\"location_id\":\"%s\","
	    "\"starts_at\":\"%s\",\"staff_id\":\"%s\"}", shop.svc, shop.loc, start, who);
	if (http_post("/api/v1/bookings/hold", shop.key, NULL, body, &r) == -1 ||
	    r.status != 201 || jstr(r.json, "hold_id") == NULL)
		die("hold: %d %.300s", r.status, r.body ? r.body : "");
	id = strdup(jstr(r.json, "hold_id"));
	http_resp_free(&r);
	return id;
}

/*
 * POST /bookings of a new hold over HTTP; returns the milliseconds the
 * request took, and the moment its answer was read in *answered.
 */
static double
http_book(double *answered)
{
	struct http_resp	 r;
	char			 body[512], *hold = http_hold();
	double			 t0, t1;

	snprintf(body, sizeof(body), "{\"hold_id\":\"%s\",\"client\":" CLIENT "}", hold);
	t0 = mono();
	if (http_post("/api/v1/bookings", shop.key, NULL, body, &r) == -1)
		die("POST /bookings failed");
	t1 = mono();
	if (r.status != 201)
		die("POST /bookings: %d %.300s", r.status, r.body);
	http_resp_free(&r);
	free(hold);
	if (answered != NULL)
		*answered = t1;
	return (t1 - t0) * 1000;
}

/* A booking through the functions the workers call, without HTTP. */
static void
sql_book(void)
{
	const char	*start, *who;
	char		*hold, *st;

	slot(&start, &who);
	hold = fx_value("SELECT h.body::json->>'hold_id' FROM calendence.hold($1, $2, $3, $4, "
	    "$5, NULL, $6) h WHERE h.status = 'ok'", shop.biz, shop.svc, shop.loc, start, who,
	    shop.key_id, NULL);
	if (hold == NULL)
		die("hold of %s failed", start);
	st = fx_value("SELECT b.status FROM calendence.book($1, $2, '" CLIENT "', NULL, NULL, "
	    "NULL, $3) b", shop.biz, hold, shop.key_id, NULL);
	if (st == NULL || strcmp(st, "ok") != 0)
		die("book: %s", st ? st : "(null)");
	free(hold);
	free(st);
}

static void
make_webhook(struct rcv *rcv)
{
	struct http_resp	 r;
	char			 url[128], body[512];

	rcv_url(rcv, "/hook", url, sizeof(url));
	snprintf(body, sizeof(body), "{\"url\":\"%s\",\"events\":" ALL_EVENTS
	    ",\"description\":\"make bench\"}", url);
	if (http_post("/api/v1/webhooks", shop.key, NULL, body, &r) == -1 || r.status != 201 ||
	    jstr(r.json, "id") == NULL)
		die("POST /webhooks: %d %.300s", r.status, r.body ? r.body : "");
	hook = strdup(jstr(r.json, "id"));
	http_resp_free(&r);
}

/* --- the sender --- */

static void
sender_start(void)
{
	const char	*bin = getenv("WEBHOOKS_SENDER"), *conf = getenv("WEBHOOKS_CONFIG");
	const char	*log = getenv("WEBHOOKS_LOG");
	int		 fd;

	if (bin == NULL || conf == NULL)
		die("WEBHOOKS_SENDER and WEBHOOKS_CONFIG are needed");
	fflush(NULL);
	if ((sender_pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (sender_pid == 0) {
		fd = open(log ? log : "/dev/null", O_WRONLY | O_APPEND | O_CREAT, 0600);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		execl(bin, bin, "--config", conf, (char *)NULL);
		fprintf(stderr, "bench webhooks: %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
}

/* SIGTERM and wait (15 s, then SIGKILL); its exit status, its CPU seconds. */
static int
sender_stop(double *cpu)
{
	struct rusage	 ru;
	int		 st = 0, i;
	pid_t		 p = 0;

	kill(sender_pid, SIGTERM);
	for (i = 0; i < 1500 && (p = wait4(sender_pid, &st, WNOHANG, &ru)) == 0; i++)
		sleep_ms(10);
	if (p == 0) {
		kill(sender_pid, SIGKILL);
		p = wait4(sender_pid, &st, 0, &ru);
	}
	sender_pid = 0;
	*cpu = p > 0 ? (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6 : -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Puts the database back as it was, on the way out after a failure. */
static void
on_exit_restore(void)
{
	if (sender_pid > 0) {
		kill(sender_pid, SIGKILL);
		waitpid(sender_pid, NULL, 0);
	}
	if (trigger_off)
		set_trigger(1);
}

/* --- 1: the outbox's cost on POST /bookings --- */

struct arm_result {
	double	*lat;			/* every timed POST /bookings, ms */
	size_t	 n;
	double	*round_median;		/* one per cycle */
	double	 calls, exec_ms;	/* calendence.book() in pg_stat_statements */
};

static struct arm_result	 arm[NARMS];
static double			*cyc_added, *cyc_nosub;	/* % per cycle, in order */

/*
 * Cycles of one round per arm, ABC then CBA (a drift of the machine's load
 * weighs on every arm alike), each round WARMUP untimed bookings (the
 * worker's first statements after ALTER TABLE are planned anew), then
 * 'per_round' timed ones.
 */
static void
outbox_cost(int cycles, int per_round)
{
	static const int	 order[2][NARMS] = { { ARM_OUTBOX, ARM_OFF, ARM_NOSUB },
					     { ARM_NOSUB, ARM_OFF, ARM_OUTBOX } };
	double			 c0, c1, ms0, ms1, *lat;
	int			 c, j, a, i;

	for (a = 0; a < NARMS; a++) {
		arm[a].lat = calloc((size_t)cycles * (size_t)per_round, sizeof(double));
		arm[a].round_median = calloc((size_t)cycles, sizeof(double));
		if (arm[a].lat == NULL || arm[a].round_median == NULL)
			die("out of memory");
	}
	if ((cyc_added = calloc((size_t)cycles, sizeof(double))) == NULL ||
	    (cyc_nosub = calloc((size_t)cycles, sizeof(double))) == NULL)
		die("out of memory");
	for (c = 0; c < cycles; c++) {
		for (j = 0; j < NARMS; j++) {
			a = order[c % 2][j];
			lat = arm[a].lat + arm[a].n;
			set_trigger(a != ARM_OFF);
			set_hook_active(a != ARM_NOSUB);
			for (i = 0; i < WARMUP; i++)
				http_book(NULL);
			book_stats(&c0, &ms0);
			for (i = 0; i < per_round; i++)
				lat[i] = http_book(NULL);
			book_stats(&c1, &ms1);
			arm[a].calls += c1 - c0;
			arm[a].exec_ms += ms1 - ms0;
			arm[a].round_median[c] = median(lat, (size_t)per_round);
			arm[a].n += (size_t)per_round;
		}
		cyc_added[c] = (arm[ARM_OUTBOX].round_median[c] /
		    arm[ARM_OFF].round_median[c] - 1) * 100;
		cyc_nosub[c] = (arm[ARM_NOSUB].round_median[c] /
		    arm[ARM_OFF].round_median[c] - 1) * 100;
	}
	set_trigger(1);
	set_hook_active(1);
}

/*
 * Where the trigger's time goes, in the database alone: the statements of
 * calendence.booking_event() timed one by one in a PL/pgSQL loop, as the
 * trigger runs them, on one of the bookings just made, 'n' times; medians
 * in microseconds: the event's name, the event's INSERT (its payload built
 * in it, as the trigger does), the booking's JSON alone (the payload's
 * calendence.booking_row_json(), in a statement of its own as it is inside
 * that INSERT: a SQL function that is not inlined is planned anew in every
 * statement that calls it), and the delivery's INSERT. The rows it leaves
 * go with the business.
 */
static char *
outbox_parts(int n)
{
	char	 sql[4096], *booking, *v;

	booking = fx_value("SELECT id FROM calendence.reservations WHERE business_id = $1 "
	    "AND booked_at IS NOT NULL LIMIT 1", shop.biz, NULL);
	if (booking == NULL)
		die("no booking to time the outbox's parts on");
	fx_exec("CREATE TEMP TABLE IF NOT EXISTS wh_parts (part text, us double precision)",
	    NULL);
	fx_exec("TRUNCATE wh_parts", NULL);
	snprintf(sql, sizeof(sql),
	    "DO $$\n"
	    "DECLARE\n"
	    "	r calendence.reservations;\n"
	    "	j json;\n"
	    "	v_event text;\n"
	    "	v_id uuid;\n"
	    "	t0 timestamptz; t1 timestamptz; t2 timestamptz; t3 timestamptz;\n"
	    "	t4 timestamptz;\n"
	    "BEGIN\n"
	    "	SELECT * INTO STRICT r FROM calendence.reservations WHERE id = '%s';\n"
	    "	FOR i IN 1..%d LOOP\n"
	    "		v_id := gen_random_uuid();\n"
	    "		t0 := clock_timestamp();\n"
	    "		v_event := coalesce(calendence.booking_event_name('INSERT', NULL, r),\n"
	    "		    'booking.created');\n"
	    "		t1 := clock_timestamp();\n"
	    "		INSERT INTO calendence.webhook_events (id, business_id, booking_id, event,\n"
	    "		    payload)\n"
	    "		VALUES (v_id, r.business_id, r.id, v_event,\n"
	    "		    '{\"id\":' || to_json(calendence.event_ref(v_id))::text\n"
	    "		    || ',\"event\":' || to_json(v_event)::text\n"
	    "		    || ',\"timestamp\":' || to_json(calendence.rfc3339(now()))::text\n"
	    "		    || ',\"data\":' || calendence.booking_row_json(r)::text || '}');\n"
	    "		t2 := clock_timestamp();\n"
	    "		INSERT INTO calendence.webhook_deliveries (webhook_id, event_id)\n"
	    "		SELECT w.id, v_id FROM calendence.webhooks w\n"
	    "		 WHERE w.business_id = r.business_id AND w.active\n"
	    "		   AND v_event = ANY (w.events);\n"
	    "		t3 := clock_timestamp();\n"
	    "		SELECT calendence.booking_row_json(r) INTO j FROM (VALUES (1)) x;\n"
	    "		t4 := clock_timestamp();\n"
	    "		INSERT INTO wh_parts VALUES\n"
	    "		    ('event_name', extract(epoch FROM t1 - t0) * 1e6),\n"
	    "		    ('event_insert', extract(epoch FROM t2 - t1) * 1e6),\n"
	    "		    ('delivery_insert', extract(epoch FROM t3 - t2) * 1e6),\n"
	    "		    ('booking_json', extract(epoch FROM t4 - t3) * 1e6);\n"
	    "	END LOOP;\n"
	    "END $$", booking, n);
	fx_exec(sql, NULL);
	v = fx_value("SELECT json_object_agg(part, round(us::numeric, 1) ORDER BY part)::text "
	    "FROM (SELECT part, percentile_cont(0.5) WITHIN GROUP (ORDER BY us) AS us "
	    "FROM wh_parts GROUP BY part) x", NULL);
	free(booking);
	if (v == NULL)
		die("the outbox's parts were not timed");
	return v;
}

/*
 * What the NOTIFY adds to a transaction: 'n' pairs of one-statement
 * transactions, SELECT pg_notify('calendence_webhooks', '') and SELECT
 * NULL::void, in turn, timed at the client; the difference of the medians
 * in microseconds (no sender listens at that moment).
 */
static double
notify_cost(int n)
{
	double	*with = calloc((size_t)n, sizeof(double));
	double	*without = calloc((size_t)n, sizeof(double));
	double	 t0, d;
	int	 i;

	if (with == NULL || without == NULL)
		die("out of memory");
	for (i = 0; i < n; i++) {
		t0 = mono();
		fx_exec("SELECT pg_notify('calendence_webhooks', '')", NULL);
		with[i] = (mono() - t0) * 1e6;
		t0 = mono();
		fx_exec("SELECT NULL::void", NULL);
		without[i] = (mono() - t0) * 1e6;
	}
	d = median(with, (size_t)n) - median(without, (size_t)n);
	free(with);
	free(without);
	return d;
}

static void
json_arm(const char *name, struct arm_result *a)
{
	double	 m = mean(a->lat, a->n);

	printf("\"%s\":{\"requests\":%zu,\"mean_ms\":%.3f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
	    "\"p99_ms\":%.3f,\"book_exec_ms\":", name, a->n, m, median(a->lat, a->n),
	    quantile(a->lat, a->n, 0.90), quantile(a->lat, a->n, 0.99));
	if (a->calls > 0)
		printf("%.4f", a->exec_ms / a->calls);
	else
		printf("null");
	printf(",\"book_calls\":%.0f},", a->calls);
}

/* --- 2: events per second through one sender --- */

struct drain {
	double	 seconds;		/* sender started to the last 200 written */
	double	 recorded_s;		/* ... to every delivery succeeded in the database */
	double	 first_ms;		/* ... to the first request's arrival */
	double	 steady;		/* events/s from the first arrival to the last */
	int	 duplicates;
	double	 cpu_sender, cpu_pg, cpu_self, cpu_machine;	/* us per event */
};

static void
drain(struct rcv *rcv, int events, struct drain *d)
{
	struct rcv_req	 q;
	double		 t0, t_end = 0, t_first = 0, t_last = 0, self0;
	long long	 pg0, b0, snd;
	long		 hz = sysconf(_SC_CLK_TCK);
	size_t		 k;
	char		*v;
	int		 i;

	/* the outbox of part 1 is not this one's: its deliveries go */
	fx_exec("DELETE FROM calendence.webhook_deliveries WHERE webhook_id = $1", hook, NULL);
	for (i = 0; i < events; i++)
		sql_book();
	v = count_deliveries("pending");
	if (v == NULL || atoi(v) != events)
		die("%s deliveries pending, not %d", v, events);
	free(v);
	rcv_reset(rcv);
	self0 = self_cpu();
	pg0 = pg_ticks();
	b0 = busy_ticks();
	t0 = mono();
	sender_start();
	if (!rcv_wait(rcv, NULL, (size_t)events, 300000))
		die("the receiver got %zu of %d requests in 300 s", rcv_count(rcv, NULL), events);
	/* each answered: the 200 written */
	for (k = 0; k < (size_t)events; k++) {
		for (i = 0; ; i++) {
			if (!rcv_copy(rcv, NULL, k, &q))
				die("request %zu vanished", k);
			if (q.ended > 0)
				break;
			rcv_req_free(&q);
			if (i == 10000)
				die("request %zu was not answered", k);
			sleep_ms(1);
		}
		if (q.status != 200)
			die("request %zu answered %d", k, q.status);
		if (k == 0 || q.started < t_first)
			t_first = q.started;
		if (q.started > t_last)
			t_last = q.started;
		if (q.ended > t_end)
			t_end = q.ended;
		rcv_req_free(&q);
	}
	/* and each recorded as succeeded in the database */
	for (i = 0; ; i++) {
		v = count_deliveries("succeeded");
		k = v ? (size_t)atol(v) : 0;
		free(v);
		if (k >= (size_t)events)
			break;
		if (i == 6000)
			die("%zu of %d deliveries recorded as succeeded", k, events);
		sleep_ms(5);
	}
	d->recorded_s = mono() - t0;
	snd = proc_ticks(sender_pid, NULL);
	d->cpu_sender = snd >= 0 ? (double)snd * 1e6 / (double)hz / events : -1;
	d->cpu_pg = (double)(pg_ticks() - pg0) * 1e6 / (double)hz / events;
	d->cpu_machine = (double)(busy_ticks() - b0) * 1e6 / (double)hz / events;
	d->cpu_self = (self_cpu() - self0) * 1e6 / events;
	d->seconds = t_end - t0;
	d->first_ms = (t_first - t0) * 1000;
	d->steady = events > 1 && t_last > t_first ? (events - 1) / (t_last - t_first) : 0;
	d->duplicates = (int)rcv_count(rcv, NULL) - events;
}

/* --- 3: one booking at a time, from its answer to the receiver's 200 --- */

static void
latency(struct rcv *rcv, int samples, double *e2e, double *arrive)
{
	struct rcv_req	 q;
	double		 answered;
	int		 i, j;

	rcv_reset(rcv);
	for (i = 0; i < samples; i++) {
		http_book(&answered);
		if (!rcv_wait(rcv, NULL, (size_t)i + 1, 30000))
			die("booking %d reached no receiver in 30 s", i + 1);
		for (j = 0; ; j++) {
			if (!rcv_copy(rcv, NULL, (size_t)i, &q))
				die("request %d vanished", i);
			if (q.ended > 0)
				break;
			rcv_req_free(&q);
			if (j == 10000)
				die("request %d was not answered", i);
			sleep_ms(1);
		}
		e2e[i] = (q.ended - answered) * 1000;
		arrive[i] = (q.started - answered) * 1000;
		rcv_req_free(&q);
		sleep_ms(20);	/* the sender back to waiting, as between real bookings */
	}
}

int
main(int argc, char *argv[])
{
	struct rcv		*rcv;
	struct drain		 d;
	double			*e2e, *arrive, *sorted, book_ratio, notify_us, sender_cpu;
	int			 cycles = 20, per_round = 20, events = 2000, samples = 50;
	int			 opt, c, a, sender_rc;
	char			*v, *parts;

	while ((opt = getopt(argc, argv, "c:m:n:k:")) != -1) {
		switch (opt) {
		case 'c': cycles = atoi(optarg); break;
		case 'm': per_round = atoi(optarg); break;
		case 'n': events = atoi(optarg); break;
		case 'k': samples = atoi(optarg); break;
		default:
			fputs("usage: webhooks [-c cycles] [-m per round] [-n events] "
			    "[-k latency samples]\n", stderr);
			return 2;
		}
	}
	if (cycles < 1 || per_round < 1 || events < 1 || samples < 1)
		die("bad option");
	if (getenv("CALENDENCE_URL") == NULL)
		die("CALENDENCE_URL is needed");
	signal(SIGPIPE, SIG_IGN);
	atexit(on_exit_restore);

	nstarts = (size_t)cycles * NARMS * (size_t)(per_round + WARMUP) + (size_t)events +
	    (size_t)samples + 16;
	make_business();
	set_trigger(1);
	if ((rcv = rcv_start()) == NULL)
		die("no receiver");
	make_webhook(rcv);
	v = fx_value("SELECT count(*) FROM calendence.webhook_deliveries WHERE status = "
	    "'pending'", NULL);
	if (v == NULL || strcmp(v, "0") != 0)
		die("%s deliveries of other webhooks are pending in this database", v);
	free(v);

	outbox_cost(cycles, per_round);
	parts = outbox_parts(300);
	notify_us = notify_cost(300);
	drain(rcv, events, &d);
	if ((e2e = calloc((size_t)samples, sizeof(double))) == NULL ||
	    (arrive = calloc((size_t)samples, sizeof(double))) == NULL ||
	    (sorted = calloc((size_t)cycles, sizeof(double))) == NULL)
		die("out of memory");
	latency(rcv, samples, e2e, arrive);
	sender_rc = sender_stop(&sender_cpu);
	rcv_stop(rcv);

	printf("{\"id\":\"w\",\"label\":\"webhooks: bookings to a local receiver\","
	    "\"rps\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,", events / d.seconds,
	    median(e2e, (size_t)samples), quantile(e2e, (size_t)samples, 0.99));
	printf("\"webhooks\":{\"events\":%d,\"drain_s\":%.3f,\"events_per_s\":%.1f,"
	    "\"events_per_s_recorded\":%.1f,\"events_per_s_steady\":%.1f,"
	    "\"first_arrival_ms\":%.1f,\"duplicates\":%d,", events, d.seconds,
	    events / d.seconds, events / d.recorded_s, d.steady, d.first_ms, d.duplicates);
	printf("\"cpu_us_per_event\":{\"sender\":%.1f,\"postgres\":%.1f,\"receiver\":%.1f,"
	    "\"machine\":%.1f},", d.cpu_sender, d.cpu_pg, d.cpu_self, d.cpu_machine);
	printf("\"e2e\":{\"samples\":%d,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
	    "\"max_ms\":%.3f,\"arrival_p50_ms\":%.3f,\"arrival_p99_ms\":%.3f},",
	    samples, median(e2e, (size_t)samples), quantile(e2e, (size_t)samples, 0.90),
	    quantile(e2e, (size_t)samples, 0.99), quantile(e2e, (size_t)samples, 1.0),
	    median(arrive, (size_t)samples), quantile(arrive, (size_t)samples, 0.99));
	printf("\"sender_exit\":%d,\"sender_cpu_s\":%.3f},", sender_rc, sender_cpu);

	printf("\"post_bookings\":{\"cycles\":%d,\"per_round\":%d,\"warmup\":%d,",
	    cycles, per_round, WARMUP);
	for (a = 0; a < NARMS; a++)
		json_arm(arm_name[a], &arm[a]);
	printf("\"added_pct_cycles\":[");
	for (c = 0; c < cycles; c++)
		printf("%s%.2f", c ? "," : "", cyc_added[c]);
	memcpy(sorted, cyc_added, (size_t)cycles * sizeof(double));
	printf("],\"added_pct\":%.2f,", median(sorted, (size_t)cycles));
	memcpy(sorted, cyc_nosub, (size_t)cycles * sizeof(double));
	printf("\"added_pct_no_subscriber\":%.2f,\"book_exec_added_pct\":",
	    median(sorted, (size_t)cycles));
	book_ratio = arm[ARM_OUTBOX].calls > 0 && arm[ARM_OFF].calls > 0 ?
	    (arm[ARM_OUTBOX].exec_ms / arm[ARM_OUTBOX].calls) /
	    (arm[ARM_OFF].exec_ms / arm[ARM_OFF].calls) : 0;
	if (book_ratio > 0)
		printf("%.2f", (book_ratio - 1) * 100);
	else
		printf("null");
	printf(",\"outbox_parts_us\":%s,\"notify_commit_us\":%.1f}}\n", parts, notify_us);
	fflush(stdout);

	remove_business();
	return 0;
}
