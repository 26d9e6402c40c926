/* helpers.c: what the integration tests share: SQL errors, result columns, authenticate(), clocks. */

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "auth.h"
#include "db.h"
#include "helpers.h"
#include "request.h"
#include "worker.h"

#define IT_MAX_PARAMS	16
#define IT_TEXTOID	25	/* pg_type.oid of text */

/* Collects NULL-terminated variadic parameters (FX_NULL: SQL NULL); returns how many. */
static int
it_params(const char *sql, va_list ap, const char **params)
{
	const char	*p;
	int		 n = 0;

	while ((p = va_arg(ap, const char *)) != NULL) {
		cr_assert_lt(n, IT_MAX_PARAMS, "too many parameters: %s", sql);
		params[n++] = p == fx_sql_null ? NULL : p;
	}
	return n;
}

static char *
it_strdup(const char *s)
{
	char	*p = strdup(s);

	cr_assert_not_null(p, "out of memory");
	return p;
}

/*
 * The format comes from the test's own source, through it_str_eq(); it cannot
 * carry a format attribute because the macro ends every call with a NULL.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
void
it_str_eq_at(const char *file, int line, const char *got, const char *want,
    const char *fmt, ...)
{
	char	what[512] = "";
	va_list	ap;
	int	ok = got == NULL || want == NULL ? got == want : strcmp(got, want) == 0;

	if (ok)
		return;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
	}
	cr_expect(ok, "%s:%d: got '%s', want '%s'%s%s", file, line, got ? got : "(null)",
	    want ? want : "(null)", *what ? ": " : "", what);
}
#pragma GCC diagnostic pop

PGresult *
it_query(const char *sql, ...)
{
	const char	*params[IT_MAX_PARAMS];
	va_list		 ap;
	int		 n;

	va_start(ap, sql);
	n = it_params(sql, ap, params);
	va_end(ap);
	return it_queryv(sql, n, params);
}

PGresult *
it_queryv(const char *sql, int n, const char *const *params)
{
	PGresult	*res;
	ExecStatusType	 st;

	res = PQexecParams(fx_db(), sql, n, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	cr_assert(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK,
	    "statement failed: %s\n%s", sql, PQresultErrorMessage(res));
	return res;
}

/* The SQLSTATE of a finished statement (malloc'd), or NULL when it succeeded. */
static char *
it_result_state(PGresult *res)
{
	ExecStatusType	 st = PQresultStatus(res);
	const char	*code;
	char		*out = NULL;

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		out = it_strdup(code != NULL ? code : "(none)");
	}
	PQclear(res);
	return out;
}

char *
it_sqlstate(const char *sql, ...)
{
	const char	*params[IT_MAX_PARAMS];
	va_list		 ap;
	int		 n;

	va_start(ap, sql);
	n = it_params(sql, ap, params);
	va_end(ap);
	return it_result_state(PQexecParams(fx_db(), sql, n, NULL, params, NULL, NULL, 0));
}

char *
it_sqlstatev(const char *sql, int n, const char *const *params)
{
	Oid	types[IT_MAX_PARAMS];
	int	i;

	cr_assert_leq(n, IT_MAX_PARAMS);
	for (i = 0; i < n; i++)
		types[i] = IT_TEXTOID;
	return it_result_state(PQexecParams(fx_db(), sql, n, types, params, NULL, NULL, 0));
}

const char *
it_col(const PGresult *res, int row, const char *name)
{
	int	c = PQfnumber(res, name);

	cr_assert_geq(c, 0, "no column \"%s\" in the result", name);
	cr_assert_lt(row, PQntuples(res), "no row %d (of %d) for column \"%s\"", row,
	    PQntuples(res), name);
	return PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
}

char *
it_hash_hex(const char *token)
{
	unsigned char	 h[TOKEN_HASH_LEN];
	char		 hex[2 * TOKEN_HASH_LEN + 1];

	token_hash(token, strlen(token), h);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	return it_strdup(hex);
}

char *
it_token(enum token_kind kind)
{
	char	t[TOKEN_LEN + 1];

	cr_assert_geq(sodium_init(), 0);
	token_generate(kind, t);
	return it_strdup(t);
}

PGresult *
it_auth(const char *token, const char *kind, int exchange, const char *ip,
    const char *business, const char *origin, int auth_limit)
{
	PGresult	*res;
	char		*hex = it_hash_hex(token), lim[16];

	snprintf(lim, sizeof(lim), "%d", auth_limit);
	if (exchange)
		res = it_authenticate(hex, kind, 1, ip, business, origin, lim);
	else
		res = it_admit(hex, kind, ip, business, origin, lim);
	cr_assert_eq(PQntuples(res), 1);
	free(hex);
	return res;
}

/*
 * What the worker runs: authenticate() for POST /session (exchange), the
 * plain statement of db.c (STMT_ADMIT) for every other request. hex: the
 * token hash in hex; NULL business or origin: SQL NULL.
 */
PGresult *
it_authenticate(const char *hex, const char *kind, int exchange, const char *ip,
    const char *business, const char *origin, const char *limit)
{
	return it_query("SELECT * FROM calendence.authenticate(decode($1, 'hex'), $2, "
	    "$3::boolean, $4, $5::uuid, $6, $7::integer)", hex, kind,
	    exchange ? "true" : "false", ip, business ? business : FX_NULL,
	    origin ? origin : FX_NULL, limit, NULL);
}

PGresult *
it_admit(const char *hex, const char *kind, const char *ip, const char *business,
    const char *origin, const char *limit)
{
	return it_admit_as(it_admit_variant(kind), hex, kind, ip, business, origin, limit);
}

/* The variant of the admission a worker sends for kind: a session's, else a key's ADMIT_TOUCH. */
enum admit_variant
it_admit_variant(const char *kind)
{
	return strcmp(kind, "session") == 0 ? ADMIT_SESSION : ADMIT_TOUCH;
}

/* it_admit() with the variant v of the statement (db.h enum admit_variant). */
PGresult *
it_admit_as(enum admit_variant v, const char *hex, const char *kind, const char *ip,
    const char *business, const char *origin, const char *limit)
{
	char		*bytea = malloc(strlen(hex) + 3);
	PGresult	*res;

	cr_assert_not_null(bytea);
	snprintf(bytea, strlen(hex) + 3, "\\x%s", hex);
	res = it_query(db_stmt((enum stmt)(STMT_ADMIT + v))->sql, bytea, kind, ip,
	    business ? business : FX_NULL, origin ? origin : FX_NULL, limit, NULL);
	free(bytea);
	return res;
}

void
it_ip(char buf[64])
{
	uint32_t	r;

	cr_assert_geq(sodium_init(), 0);
	r = randombytes_random();
	/* 2001:db8::/32 is the documentation prefix: no real client has it */
	snprintf(buf, 64, "2001:db8:%x:%x:%x::", (unsigned)getpid() & 0xffff,
	    (unsigned)(r >> 16), (unsigned)(r & 0xffff));
}

long long
it_now(void)
{
	char		*v = fx_value("SELECT floor(extract(epoch FROM clock_timestamp()))::bigint",
	    NULL);
	long long	 t;

	cr_assert_not_null(v);
	t = atoll(v);
	free(v);
	return t;
}

void
it_avoid_minute_edge(void)
{
	long long	t = it_now();

	if (t % 60 >= 48) {
		sleep((unsigned)(60 - t % 60) + 1);
		cr_assert_lt(it_now() % 60, 48, "the database clock does not advance");
	}
}

void
it_avoid_five_minute_edge(int secs)
{
	long long	t = it_now();

	if (300 - t % 300 <= secs) {
		sleep((unsigned)(300 - t % 300) + 1);
		cr_assert_gt(300 - it_now() % 300, secs, "the database clock does not advance");
	}
}

void
it_turn(const char *what, int hold)
{
	fx_exec(hold ? "SELECT pg_advisory_lock(hashtext('calendence tests: ' || $1::text))" :
	    "SELECT pg_advisory_unlock(hashtext('calendence tests: ' || $1::text))", what, NULL);
}

PGresult *
it_maintenance(void)
{
	PGresult	*res;

	it_turn("maintenance", 1);
	res = it_query("SELECT * FROM calendence.maintenance()", NULL);
	it_turn("maintenance", 0);
	return res;
}

long long
it_future_hour(void)
{
	long long	t = it_now() + 86400;

	return t - t % 3600;
}

void
it_session_new(struct it_session *s, const char *business, const char *pk_id,
    const char *root)
{
	PGresult	*res;
	char		*hex;

	s->token = it_token(TOKEN_SESSION);
	hex = it_hash_hex(s->token);
	res = it_query("SELECT * FROM calendence.create_session(decode($1, 'hex'), $2, $3, "
	    "$4, '192.0.2.10')", hex, business, pk_id, root ? root : FX_NULL, NULL);
	s->id = it_strdup(it_col(res, 0, "session_id"));
	s->expires_at = it_strdup(it_col(res, 0, "expires_at"));
	PQclear(res);
	free(hex);
}

void
it_session_free(struct it_session *s)
{
	free(s->token);
	free(s->id);
	free(s->expires_at);
	memset(s, 0, sizeof(*s));
}

/* ---- concurrent runs ---- */

#define IT_MAX_THREADS	32

struct it_worker {
	const char		*sql;
	int			 n;
	const char *const	*params;
	int			 calls;
	pthread_barrier_t	*start;
	struct it_call		*out;		/* 'calls' of them */
	char			 err[512];	/* empty when all went well */
};

/* Reads one answer of the statement into *c; returns 0, or -1 with w->err set. */
static int
it_worker_read(struct it_worker *w, PGresult *res, struct it_call *c)
{
	const char	*cols[] = { "admitted", "minute_count", "hour_count", "now_epoch" };
	int		 f[4], i;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		snprintf(w->err, sizeof(w->err), "call failed: %s", PQresultErrorMessage(res));
		return -1;
	}
	for (i = 0; i < 4; i++)
		if ((f[i] = PQfnumber(res, cols[i])) < 0) {
			snprintf(w->err, sizeof(w->err), "no column %s", cols[i]);
			return -1;
		}
	c->admitted = strcmp(PQgetvalue(res, 0, f[0]), "t") == 0;
	c->minute_count = atoi(PQgetvalue(res, 0, f[1]));
	c->hour_count = PQgetisnull(res, 0, f[2]) ? -1 : atoi(PQgetvalue(res, 0, f[2]));
	c->now_epoch = atoll(PQgetvalue(res, 0, f[3]));
	return 0;
}

/* One thread: connects, waits for the others, then calls the statement. */
static void *
it_worker_main(void *arg)
{
	struct it_worker	*w = arg;
	PGconn			*conn;
	PGresult		*res;
	int			 i, ok;

	conn = PQconnectdb("application_name=calendence-itest-concurrent");
	ok = PQstatus(conn) == CONNECTION_OK;
	if (!ok)
		snprintf(w->err, sizeof(w->err), "connect: %s", PQerrorMessage(conn));
	else {
		res = PQprepare(conn, "it", w->sql, w->n, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(w->err, sizeof(w->err), "prepare: %s",
			    PQresultErrorMessage(res));
			ok = 0;
		}
		PQclear(res);
	}
	pthread_barrier_wait(w->start);		/* every thread reaches it, even failed */
	for (i = 0; ok && i < w->calls; i++) {
		res = PQexecPrepared(conn, "it", w->n, w->params, NULL, NULL, 0);
		ok = it_worker_read(w, res, &w->out[i]) == 0;
		PQclear(res);
	}
	PQfinish(conn);
	return NULL;
}

struct it_call *
it_concurrent(const char *sql, int n, const char *const *params, int threads, int calls)
{
	struct it_worker	 w[IT_MAX_THREADS];
	pthread_t		 tid[IT_MAX_THREADS];
	pthread_barrier_t	 start;
	struct it_call		*out;
	int			 i;

	cr_assert(threads > 0 && threads <= IT_MAX_THREADS && calls > 0);
	out = calloc((size_t)threads * (size_t)calls, sizeof(*out));
	cr_assert_not_null(out);
	cr_assert_eq(pthread_barrier_init(&start, NULL, (unsigned)threads), 0);
	for (i = 0; i < threads; i++) {
		w[i] = (struct it_worker){ .sql = sql, .n = n, .params = params,
		    .calls = calls, .start = &start, .out = out + (size_t)i * calls };
		cr_assert_eq(pthread_create(&tid[i], NULL, it_worker_main, &w[i]), 0);
	}
	for (i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < threads; i++)
		cr_assert_eq(w[i].err[0], '\0', "thread %d: %s", i, w[i].err);
	return out;
}

void
it_worker_up(struct worker *w, struct request *r, int catalogue_kib, int answers_kib,
    enum db_prepare prepare)
{
	conf_defaults(&w->conf);
	w->conf.database[0] = '\0';	/* the PG* environment of the tests */
	w->conf.catalogue_cache = catalogue_kib;
	w->conf.availability_cache = answers_kib;
	w->conf.prepared_statements = (int)prepare;
	worker_init(w);
	db_deadline(&w->db, 0);
	cr_assert_eq(db_connect(&w->db), 0, "the worker cannot connect");
	req_init(r, w);
}

void
it_worker_down(struct worker *w, struct request *r)
{
	req_cleanup(r);
	worker_cleanup(w);
	memset(w, 0, sizeof(*w));
}

unsigned long
it_serve(struct worker *w, struct request *r, enum route_id route, const char *token,
    const char *query)
{
	static char	 auth[128];
	unsigned long	 before = w->db.round_trips;

	req_reset(r);
	snprintf(auth, sizeof(auth), "Bearer %s", token);
	r->authorization = auth;
	r->route = &routes[route];
	r->query = query;
	snprintf(r->ip_subject, sizeof(r->ip_subject), "192.0.2.44");
	db_deadline(&w->db, 0);
	if (auth_or_reply(r) == 0)
		r->route->handler(r);
	return w->db.round_trips - before;
}
