/* fixture.c: database fixtures (hubs, businesses, keys, plans, services) for the tests. */

#include <sys/types.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "fixture.h"

#define FX_MAX_PARAMS	16

const char	 fx_sql_null[] = "(SQL NULL)";	/* only its address matters */

/*
 * Test code keeps one connection per process. A child forked after it was
 * opened must neither use nor end its parent's session, so the connection
 * remembers its process, and a child drops what it inherited and connects anew.
 */
static PGconn	*fx_conn;
static pid_t	 fx_conn_pid;

_Noreturn static void
fx_die(const char *what, const char *sql, const char *msg)
{
	fprintf(stderr, "fixture: %s\n", what);
	if (sql != NULL)
		fprintf(stderr, "fixture: statement: %s\n", sql);
	if (msg != NULL)
		fprintf(stderr, "fixture: %s%s", msg,
		    *msg && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
	fflush(stderr);
	abort();
}

static char *
fx_strdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fx_die("out of memory", NULL, NULL);
	return p;
}

/*
 * Frees a connection inherited from the parent process without ending the
 * parent's session: the socket is first pointed at /dev/null, so the goodbye
 * that PQfinish() sends goes nowhere.
 */
static void
fx_drop_inherited(PGconn *conn)
{
	int	fd = PQsocket(conn), null;

	if (fd >= 0) {
		if ((null = open("/dev/null", O_WRONLY)) == -1)
			close(fd);
		else {
			dup2(null, fd);
			close(null);
		}
	}
	PQfinish(conn);
}

static void
fx_close(void)
{
	if (fx_conn != NULL && fx_conn_pid == getpid())
		PQfinish(fx_conn);
	fx_conn = NULL;
}

PGconn *
fx_db(void)
{
	static int	registered;

	if (fx_conn != NULL && fx_conn_pid != getpid()) {
		fx_drop_inherited(fx_conn);
		fx_conn = NULL;
	}
	if (fx_conn != NULL && PQstatus(fx_conn) == CONNECTION_BAD)
		PQreset(fx_conn);
	if (fx_conn == NULL) {
		fx_conn = PQconnectdb("application_name=calendence-tests");
		fx_conn_pid = getpid();
		if (!registered && atexit(fx_close) == 0)
			registered = 1;
	}
	if (fx_conn == NULL || PQstatus(fx_conn) != CONNECTION_OK)
		fx_die("cannot connect to PostgreSQL (check PGHOST, PGPORT, PGDATABASE, "
		    "PGUSER)", NULL, fx_conn ? PQerrorMessage(fx_conn) : NULL);
	return fx_conn;
}

/* Runs 'sql' with n text parameters (NULL: SQL NULL); the result has rows or none. */
static PGresult *
fx_query(const char *sql, int n, const char *const *params)
{
	PGresult	*res;
	ExecStatusType	 st;

	res = PQexecParams(fx_db(), sql, n, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fx_die("query failed", sql, res ? PQresultErrorMessage(res) :
		    PQerrorMessage(fx_db()));
	return res;
}

/* Collects the NULL-terminated parameters into params[FX_MAX_PARAMS]; returns how many. */
static int
fx_params(const char *sql, va_list ap, const char **params)
{
	const char	*p;
	int		 n = 0;

	while ((p = va_arg(ap, const char *)) != NULL) {
		if (n == FX_MAX_PARAMS)
			fx_die("too many parameters", sql, NULL);
		params[n++] = p == fx_sql_null ? NULL : p;
	}
	return n;
}

void
fx_exec(const char *sql, ...)
{
	const char	*params[FX_MAX_PARAMS];
	va_list		 ap;
	int		 n;

	va_start(ap, sql);
	n = fx_params(sql, ap, params);
	va_end(ap);
	PQclear(fx_query(sql, n, params));
}

char *
fx_value(const char *sql, ...)
{
	const char	*params[FX_MAX_PARAMS];
	PGresult	*res;
	char		*v = NULL;
	va_list		 ap;
	int		 n;

	va_start(ap, sql);
	n = fx_params(sql, ap, params);
	va_end(ap);
	res = fx_query(sql, n, params);
	if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0)) {
		v = fx_strdup(PQgetvalue(res, 0, 0));
		fx_token_seen(v, strlen(v));	/* issue_key(), roll_key() ... */
	}
	PQclear(res);
	return v;
}

static int
fx_base62(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

const char *
fx_token_find(const char *s, size_t len)
{
	static const char *const kinds[] = { "cal_hub_", "cal_biz_", "cal_pub_", "cal_ses_" };
	const char	*p, *end = s + len;
	size_t		 i;

	for (p = s; p != NULL && (size_t)(end - p) >= FX_TOKEN_LEN;
	    p = memchr(p + 1, 'c', (size_t)(end - p - 1))) {
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (memcmp(p, kinds[i], 8) == 0)
				break;
		if (i == sizeof(kinds) / sizeof(kinds[0]))
			continue;
		for (i = 8; i < FX_TOKEN_LEN && fx_base62(p[i]); i++)
			continue;
		if (i == FX_TOKEN_LEN)
			return p;
	}
	return NULL;
}

const char *
fx_secret_find(const char *s, size_t len)
{
	const char	*p, *end = s + len;
	size_t		 i;

	for (p = s; p != NULL && (size_t)(end - p) >= FX_SECRET_LEN;
	    p = memchr(p + 1, 'w', (size_t)(end - p - 1))) {
		if (memcmp(p, "whsec_", 6) != 0)
			continue;
		for (i = 6; i < FX_SECRET_LEN && fx_base62(p[i]); i++)
			continue;
		if (i == FX_SECRET_LEN)
			return p;
	}
	return NULL;
}

/* Records the n bytes at p, a token or a secret, as one line of 'path'. */
static void
fx_record(const char *path, const char *p, size_t n)
{
	char	 line[FX_TOKEN_LEN + 1];
	int	 fd;

	memcpy(line, p, n);
	line[n] = '\n';
	/* one write() per line: parallel test processes append whole lines */
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    write(fd, line, n + 1) != (ssize_t)(n + 1))
		fx_die("cannot record a token in CALENDENCE_TOKEN_LOG", NULL, path);
	close(fd);
}

/*
 * Records every token and every webhook secret in s[0..len). fx_token_find()
 * stays with the API's tokens: the HTTP client refuses an answer that holds
 * one of those, and a secret is in the answer that makes its webhook.
 */
void
fx_token_seen(const char *s, size_t len)
{
	const char	*path = getenv("CALENDENCE_TOKEN_LOG"), *p, *end = s + len;

	if (path == NULL || *path == '\0' || s == NULL)
		return;
	for (p = s; (p = fx_token_find(p, (size_t)(end - p))) != NULL; p += FX_TOKEN_LEN)
		fx_record(path, p, FX_TOKEN_LEN);
	for (p = s; (p = fx_secret_find(p, (size_t)(end - p))) != NULL; p += FX_SECRET_LEN)
		fx_record(path, p, FX_SECRET_LEN);
}

/* splitmix64: well mixed, and good enough to keep test names apart. */
static uint64_t
fx_random(void)
{
	static uint64_t	 state;
	static int	 seeded;
	FILE		*f;
	uint64_t	 z;

	if (!seeded) {
		if ((f = fopen("/dev/urandom", "rb")) == NULL ||
		    fread(&state, sizeof(state), 1, f) != 1)
			state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
		if (f != NULL)
			fclose(f);
		seeded = 1;
	}
	z = (state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * A name no other test process will make: 'prefix', then the process id, a
 * per-process counter and a random number, joined by 'sep'.
 */
static void
fx_unique(char *buf, size_t size, const char *prefix, char sep)
{
	static unsigned long	counter;

	snprintf(buf, size, "%s%c%ld%c%lu%c%08lx", prefix, sep, (long)getpid(), sep,
	    ++counter, sep, (unsigned long)(fx_random() & 0xffffffffUL));
}

/* As fx_value(), for statements that must return a value. */
static char *
fx_need(char *v, const char *what)
{
	if (v == NULL)
		fx_die(what, NULL, "the statement returned no value");
	return v;
}

char *
fx_hub(const char *plan)
{
	char	name[128];

	fx_unique(name, sizeof(name), "Test Hub", ' ');
	return fx_need(fx_value("SELECT calendence.create_hub($1, $2)", name, plan, NULL),
	    "create_hub");
}

char *
fx_business(const char *hub_id, const char *tz)
{
	char	name[128];

	fx_unique(name, sizeof(name), "Test Business", ' ');
	return fx_need(fx_value("SELECT calendence.create_business($1, $2, $3)",
	    hub_id, name, tz ? tz : "America/Chicago", NULL), "create_business");
}

char *
fx_key(const char *kind, const char *owner_id)
{
	return fx_need(fx_value("SELECT calendence.issue_key($1, $2, 'tests')",
	    kind, owner_id, NULL), "issue_key");
}

char *
fx_key_id(const char *token)
{
	return fx_value("SELECT id FROM calendence.api_keys "
	    "WHERE token_hash = calendence.token_hash($1)", token, NULL);
}

char *
fx_plan(int per_minute, int per_hour, int session_per_ip, int full_access)
{
	char	code[64], pm[16], ph[16], ps[16];

	fx_unique(code, sizeof(code), "t", '_');
	snprintf(pm, sizeof(pm), "%d", per_minute);
	snprintf(ph, sizeof(ph), "%d", per_hour);
	snprintf(ps, sizeof(ps), "%d", session_per_ip);
	return fx_need(fx_value("INSERT INTO calendence.plans (code, full_api_access, "
	    "api_per_minute, api_per_hour, session_per_minute_per_ip) "
	    "VALUES ($1, $2, $3, $4, $5) RETURNING code",
	    code, full_access ? "true" : "false", pm, ph, ps, NULL), "insert plan");
}

char *
fx_service(const char *business_id, const char *name, int active)
{
	char	unique[128];

	if (name == NULL) {
		fx_unique(unique, sizeof(unique), "Test Service", ' ');
		name = unique;
	}
	return fx_need(fx_value("INSERT INTO calendence.services (business_id, name, "
	    "duration_min, duration_max, rate, rate_type, is_active) "
	    "VALUES ($1, $2, 30, 30, 1000, 'flat', $3) RETURNING id",
	    business_id, name, active ? "true" : "false", NULL), "insert service");
}

/* 10:00 in Chicago 'days' days from today, as RFC 3339 with an offset. */
#define FX_START_SQL	"SELECT to_json(((now() AT TIME ZONE 'America/Chicago')::date " \
	"+ $1::integer + time '10:00') AT TIME ZONE 'America/Chicago') #>> '{}'"

/* A hold of the shop's service 'days' ahead, by its business key; returns its id. */
static char *
fx_shop_hold(const struct fx_shop *s, const char *days)
{
	char	*start, *id;

	start = fx_need(fx_value(FX_START_SQL, days, NULL), "start time");
	id = fx_value("SELECT h.body::json->>'hold_id' FROM calendence.hold($1, $2, $3, $4, "
	    "$5, NULL, $6) h WHERE h.status = 'ok'", s->biz, s->svc, s->loc, start,
	    s->staff, s->key_id, NULL);
	free(start);
	return fx_need(id, "hold");
}

char *
fx_location(const char *business_id)
{
	return fx_need(fx_value("SELECT calendence.create_location($1, 'Main Shop', "
	    "'1 Main St', NULL, $2::jsonb)", business_id, FX_WEEK_HOURS, NULL), "location");
}

char *
fx_staff(const char *business_id, const char *location_id)
{
	return fx_need(fx_value("SELECT calendence.create_staff($1, 'Pat Doe', "
	    "ARRAY[$2::uuid], '{}', $3::jsonb)", business_id, location_id, FX_WEEK_HOURS,
	    NULL), "staff");
}

void
fx_shop_open(struct fx_shop *s, const char *plan)
{
	memset(s, 0, sizeof(*s));
	s->hub = fx_hub(plan);
	s->biz = fx_business(s->hub, "America/Chicago");
	s->key = fx_key("business", s->biz);
	s->key_id = fx_need(fx_key_id(s->key), "key id");
	s->pub = fx_key("publishable", s->biz);
	s->svc = fx_service(s->biz, NULL, 1);
	s->loc = fx_location(s->biz);
	s->staff = fx_staff(s->biz, s->loc);
	s->day = fx_need(fx_value("SELECT to_char((now() AT TIME ZONE 'America/Chicago')::date "
	    "+ 8, 'YYYY-MM-DD')", NULL), "day");
	s->start = fx_need(fx_value(FX_START_SQL, "8", NULL), "start time");
}

void
fx_shop(struct fx_shop *s, const char *plan)
{
	char	*hold;

	fx_shop_open(s, plan);
	hold = fx_shop_hold(s, "8");
	s->booking = fx_need(fx_value("SELECT b.body::json->>'id' FROM calendence.book($1, $2, "
	    "'{\"first_name\":\"Robin\",\"last_name\":\"Roe\",\"email\":\"robin@example.com\"}', "
	    "NULL, NULL, NULL, $3) b WHERE b.status = 'ok'", s->biz, hold, s->key_id, NULL),
	    "booking");
	free(hold);
	s->hold = fx_shop_hold(s, "9");
}

void
fx_shop_free(struct fx_shop *s)
{
	free(s->hub);
	free(s->biz);
	free(s->key);
	free(s->key_id);
	free(s->pub);
	free(s->svc);
	free(s->loc);
	free(s->staff);
	free(s->day);
	free(s->start);
	free(s->booking);
	free(s->hold);
	memset(s, 0, sizeof(*s));
}

char *
fx_business_digest(const char *business_id)
{
	return fx_need(fx_value("SELECT md5(concat_ws('|', "
	    "(SELECT b::text FROM calendence.businesses b WHERE b.id = $1), "
	    "(SELECT string_agg(x::text, ',' ORDER BY x.id) FROM calendence.services x "
	    "WHERE x.business_id = $1), "
	    "(SELECT string_agg(x::text, ',' ORDER BY x.id) FROM calendence.locations x "
	    "WHERE x.business_id = $1), "
	    "(SELECT string_agg(x::text, ',' ORDER BY x.id) FROM calendence.staff x "
	    "WHERE x.business_id = $1), "
	    "(SELECT string_agg(x::text, ',' ORDER BY x.id) FROM calendence.resources x "
	    "WHERE x.business_id = $1), "
	    "(SELECT string_agg(x::text, ',' ORDER BY x.id) FROM calendence.reservations x "
	    "WHERE x.business_id = $1), "
	    "(SELECT string_agg(x::text, ',' ORDER BY x.id) FROM calendence.sessions x "
	    "WHERE x.business_id = $1), "
	    "(SELECT string_agg(concat_ws(':', x.id, x.kind, x.expires_at, x.revoked_at, "
	    "x.allowed_origins), ',' ORDER BY x.id) FROM calendence.api_keys x "
	    "WHERE x.business_id = $1), "
	    "(SELECT string_agg(x::text, ',' ORDER BY x.subject, x.idem_key) "
	    "FROM calendence.idempotency_keys x WHERE x.business_id = $1), "
	    "(SELECT string_agg(x::text, ',' ORDER BY x.id) FROM calendence.webhooks x "
	    "WHERE x.business_id = $1), "
	    "(SELECT string_agg(d::text, ',' ORDER BY d.id) FROM calendence.webhook_deliveries d "
	    "JOIN calendence.webhooks x ON x.id = d.webhook_id WHERE x.business_id = $1)))",
	    business_id, NULL), "business digest");
}
