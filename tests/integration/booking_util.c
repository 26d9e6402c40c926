/* booking_util.c: what the booking tests share: businesses to book at, the calls of 004_booking.sql, slot lists. */

#include <sys/types.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "booking.h"
#include "helpers.h"

static char *
bk_strdup(const char *s)
{
	char	*p = strdup(s);

	cr_assert_not_null(p, "out of memory");
	return p;
}

/* As fx_value(), for values that must be there. */
static char *
bk_need(char *v, const char *what)
{
	cr_assert_not_null(v, "%s returned no value", what);
	return v;
}

char *
bk_business(const char *tz, int slot_minutes)
{
	char	*hub = fx_hub("pro"), *biz = fx_business(hub, tz), m[16];

	snprintf(m, sizeof(m), "%d", slot_minutes);
	fx_exec("UPDATE calendence.businesses SET slot_minutes = $2::integer WHERE id = $1",
	    biz, m, NULL);
	free(hub);
	return biz;
}

char *
bk_location(const char *biz, const char *name, const char *tz, const char *hours)
{
	return bk_need(fx_value("SELECT calendence.create_location($1, $2, '1 Test Street', "
	    "$3, $4::jsonb)", biz, name, tz ? tz : FX_NULL, hours ? hours : FX_NULL, NULL),
	    "create_location");
}

char *
bk_staff(const char *biz, const char *name, const char *locations, const char *skills,
    const char *hours)
{
	return bk_need(fx_value("SELECT calendence.create_staff($1, $2, CASE WHEN "
	    "left($3, 1) = '{' THEN $3::uuid[] ELSE ARRAY[$3::uuid] END, $4::text[], $5::jsonb)", biz, name, locations, skills,
	    hours ? hours : FX_NULL, NULL), "create_staff");
}

char *
bk_service(const char *biz, int minutes, int before, int after, const char *skills,
    const char *resource_type)
{
	char	m[16], b[16], a[16];

	snprintf(m, sizeof(m), "%d", minutes);
	snprintf(b, sizeof(b), "%d", before);
	snprintf(a, sizeof(a), "%d", after);
	return bk_need(fx_value("INSERT INTO calendence.services (business_id, name, "
	    "duration_min, duration_max, rate, buffer_before_min, buffer_after_min, "
	    "required_skills, resource_type) VALUES ($1, 'Service ' || gen_random_uuid(), "
	    "$2::integer, $2::integer, 5000, $3::integer, $4::integer, $5::text[], $6) "
	    "RETURNING id", biz, m, b, a, skills, resource_type ? resource_type : FX_NULL,
	    NULL), "insert service");
}

char *
bk_monday(int plus)
{
	char	p[16];

	snprintf(p, sizeof(p), "%d", plus);
	return bk_need(fx_value("SELECT to_char(d + $1::integer, 'YYYY-MM-DD') FROM "
	    "(SELECT (now() AT TIME ZONE 'UTC')::date + 21 AS t) x, "
	    "LATERAL (SELECT x.t + (8 - extract(isodow FROM x.t)::integer) % 7 AS d) y",
	    p, NULL), "bk_monday");
}

char *
bk_date_add(const char *day, int n)
{
	char	p[16];

	snprintf(p, sizeof(p), "%d", n);
	return bk_need(fx_value("SELECT to_char($1::date + $2::integer, 'YYYY-MM-DD')",
	    day, p, NULL), "bk_date_add");
}

const char *
bk_at(char buf[32], const char *day, const char *hhmm)
{
	snprintf(buf, 32, "%sT%s:00Z", day, hhmm);
	return buf;
}

char *
bk_uuid(void)
{
	return bk_need(fx_value("SELECT gen_random_uuid()", NULL), "gen_random_uuid()");
}

char *
bk_session(const char *biz, const char *pk, const char *root)
{
	return bk_need(fx_value("SELECT session_id FROM calendence.create_session("
	    "gen_random_bytes(32), $1, $2, $3, NULL)", biz, pk, root ? root : FX_NULL, NULL),
	    "create_session()");
}

void
bk_res_free(struct bk_res *r)
{
	free(r->status);
	free(r->message);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Fills r from the one row of res (status, message, body[, replayed]); clears res. */
static void
bk_res_fill(struct bk_res *r, PGresult *res)
{
	int	c;

	memset(r, 0, sizeof(*r));
	cr_assert_eq(PQntuples(res), 1);
	r->status = bk_strdup(PQgetvalue(res, 0, PQfnumber(res, "status")));
	c = PQfnumber(res, "message");
	if (!PQgetisnull(res, 0, c))
		r->message = bk_strdup(PQgetvalue(res, 0, c));
	c = PQfnumber(res, "body");
	if (!PQgetisnull(res, 0, c))
		r->body = bk_strdup(PQgetvalue(res, 0, c));
	c = PQfnumber(res, "replayed");
	if (c >= 0)
		r->replayed = strcmp(PQgetvalue(res, 0, c), "t") == 0;
	PQclear(res);
}

void
bk_availability(struct bk_res *r, const char *biz, const char *service, const char *from,
    const char *to, const char *staff, const char *location)
{
	const char	*p[] = { biz, service, from, to, staff, location };

	bk_res_fill(r, it_queryv("SELECT * FROM calendence.availability($1, $2, $3, $4, $5, $6)",
	    6, p));
}

void
bk_hold(struct bk_res *r, const char *biz, const char *service, const char *location,
    const char *starts_at, const char *staff, const char *root_session, const char *key_id,
    const char *idem_key)
{
	const char	*p[] = { biz, service, location, starts_at, staff, root_session, key_id,
			    idem_key };

	bk_res_fill(r, it_queryv("SELECT * FROM calendence.hold($1, $2, $3, $4, $5, $6, $7, $8)",
	    8, p));
}

void
bk_book(struct bk_res *r, const char *biz, const char *hold_id, const char *client,
    const char *fields, const char *notes, const char *root_session, const char *key_id,
    const char *idem_key)
{
	const char	*p[] = { biz, hold_id, client, fields, notes, root_session, key_id,
			    idem_key };

	bk_res_fill(r, it_queryv("SELECT * FROM calendence.book($1, $2, $3::jsonb, $4::jsonb, "
	    "$5, $6, $7, $8)", 8, p));
}

char *
bk_hold_ok(const char *biz, const char *service, const char *location,
    const char *starts_at, const char *staff, const char *root_session, const char *key_id)
{
	struct bk_res	 r;
	char		*id;

	bk_hold(&r, biz, service, location, starts_at, staff, root_session, key_id, NULL);
	cr_assert_str_eq(r.status, "ok", "hold at %s: %s", starts_at,
	    r.message ? r.message : "");
	id = bk_json(r.body, "hold_id");
	cr_assert_not_null(id);
	bk_res_free(&r);
	return id;
}

char *
bk_book_ok(const char *biz, const char *hold_id, const char *root_session,
    const char *key_id)
{
	struct bk_res	 r;
	char		*id;

	bk_book(&r, biz, hold_id, BK_CLIENT, NULL, NULL, root_session, key_id, NULL);
	cr_assert_str_eq(r.status, "ok", "book %s: %s", hold_id, r.message ? r.message : "");
	id = bk_json(r.body, "id");
	cr_assert_not_null(id);
	bk_res_free(&r);
	return id;
}

/* The member at 'path' of 'o' (borrowed), or NULL. */
static json_object *
bk_json_at(json_object *o, const char *path)
{
	char	 buf[256], *name, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (name = strtok_r(buf, ".", &save); name != NULL && o != NULL;
	    name = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(o, name, &o))
			o = NULL;
	return o;
}

char *
bk_json(const char *json, const char *path)
{
	json_object	*root, *o;
	char		*v = NULL;

	cr_assert_not_null(json, "no JSON to read %s from", path);
	root = json_tokener_parse(json);
	cr_assert_not_null(root, "not JSON: %s", json);
	o = bk_json_at(root, path);
	if (o != NULL && json_object_is_type(o, json_type_string))
		v = bk_strdup(json_object_get_string(o));
	else if (o != NULL)
		v = bk_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	return v;
}

/* Appends one slot of an availability answer to 'out' as bk_slots() says. */
static void
bk_slot_append(json_object *slot, int flags, char *out, size_t size)
{
	const char	*loc = json_object_get_string(bk_json_at(slot, "starts_at_local"));
	const char	*utc = json_object_get_string(bk_json_at(slot, "starts_at"));
	const char	*staff = json_object_get_string(bk_json_at(slot, "staff.name"));
	const char	*where = json_object_get_string(bk_json_at(slot, "location.name"));
	size_t		 len = strlen(out);

	cr_assert(loc != NULL && strlen(loc) == 19 && utc != NULL && strlen(utc) == 25,
	    "slot without proper times: %s", json_object_to_json_string(slot));
	snprintf(out + len, size - len, "%s%.5s", len ? ", " : "", loc + 11);
	len = strlen(out);
	if (flags & BK_UTC)
		snprintf(out + len, size - len, "=%.5sZ", utc + 11);
	len = strlen(out);
	if (!(flags & BK_NOSTAFF))
		snprintf(out + len, size - len, " %s", staff ? staff : "?");
	len = strlen(out);
	if (flags & BK_LOC)
		snprintf(out + len, size - len, "@%s", where ? where : "?");
}

char *
bk_slots(const char *body, const char *day, int flags)
{
	json_object	*root, *data, *list;
	char		 out[8192] = "";
	size_t		 i;

	cr_assert_not_null(body);
	root = json_tokener_parse(body);
	cr_assert_not_null(root, "not JSON: %.200s", body);
	data = bk_json_at(root, "data");
	cr_assert(data != NULL && json_object_object_get_ex(data, day, &list) &&
	    json_object_is_type(list, json_type_array), "no day %s in %.300s", day, body);
	for (i = 0; i < json_object_array_length(list); i++)
		bk_slot_append(json_object_array_get_idx(list, i), flags, out, sizeof(out));
	json_object_put(root);
	return bk_strdup(out);
}

int
bk_days(const char *body)
{
	json_object	*root, *data;
	int		 n;

	root = json_tokener_parse(body);
	cr_assert_not_null(root);
	data = bk_json_at(root, "data");
	cr_assert_not_null(data);
	n = json_object_object_length(data);
	json_object_put(root);
	return n;
}

char *
bk_avail_ok(const char *biz, const char *service, const char *from, const char *to,
    const char *staff, const char *location)
{
	struct bk_res	 r;
	char		*body;

	bk_availability(&r, biz, service, from, to, staff, location);
	cr_assert_str_eq(r.status, "ok", "availability %s..%s: %s", from, to,
	    r.message ? r.message : "");
	body = r.body;
	r.body = NULL;
	bk_res_free(&r);
	return body;
}

void
bk_expect_slots(const char *body, const char *day, int flags, const char *want)
{
	char	*got = bk_slots(body, day, flags);

	cr_expect_str_eq(got, want, "slots of %s:\n got  [%s]\n want [%s]", day, got, want);
	free(got);
}

/* One racer of bk_race(): its answer goes to res_w in one write. */
static void
race_child(int ready_w, int go_r, int res_w, const char *sql, int np,
    const char *const *p)
{
	char		 rec[BK_RACE_REC], b;
	PGconn		*c = PQconnectdb("application_name=calendence-tests-race");
	PGresult	*res;
	const char	*code;

	memset(rec, 0, sizeof(rec));
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(rec, sizeof(rec), "noconn");
		(void)!write(ready_w, "r", 1);
	} else {
		(void)!write(ready_w, "r", 1);
		(void)!read(go_r, &b, 1);	/* EOF: go */
		res = PQexecParams(c, sql, np, NULL, p, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
			snprintf(rec, sizeof(rec), "%s", PQgetvalue(res, 0, 0));
		else {
			code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			snprintf(rec, sizeof(rec), "error %s", code ? code : "?");
		}
	}
	(void)!write(res_w, rec, sizeof(rec));
	_exit(0);	/* nothing of the test's process may run here */
}

void
bk_race(const char *sql, int np, const char *const *p, int n, char out[][BK_RACE_REC])
{
	int	ready[2], go[2], results[2], i, status;
	pid_t	pid;
	char	b;

	fflush(NULL);
	cr_assert(pipe(ready) == 0 && pipe(go) == 0 && pipe(results) == 0);
	for (i = 0; i < n; i++) {
		pid = fork();
		cr_assert_neq(pid, -1);
		if (pid == 0) {
			close(go[1]);
			race_child(ready[1], go[0], results[1], sql, np, p);
		}
	}
	close(ready[1]);
	close(go[0]);
	close(results[1]);
	for (i = 0; i < n; i++)
		cr_assert_eq(read(ready[0], &b, 1), 1, "a racer did not start");
	close(go[1]);				/* all at once */
	for (i = 0; i < n; i++)
		cr_assert_eq(read(results[0], out[i], BK_RACE_REC), BK_RACE_REC);
	for (i = 0; i < n; i++)
		waitpid(-1, &status, 0);
	close(ready[0]);
	close(results[0]);
}

/* A business to book at (booking.h). */
void
bk_shop_new(struct bk_shop *o)
{
	o->biz = bk_business("UTC", 60);
	o->loc = bk_location(o->biz, "Main", NULL, BK_ALL_DAYS);
	o->ann = bk_staff(o->biz, "Ann", o->loc, "{}", BK_ALL_DAYS);
	o->svc = bk_service(o->biz, 60, 0, 0, "{}", NULL);
	o->key = bk_uuid();
	o->day = bk_monday(0);
}

void
bk_shop_free(struct bk_shop *o)
{
	free(o->biz);
	free(o->loc);
	free(o->svc);
	free(o->ann);
	free(o->key);
	free(o->day);
	memset(o, 0, sizeof(*o));
}
