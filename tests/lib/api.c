/* api.c: what the suites that speak to the server share (api.h). */

#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "api.h"

#define BOOK_PATH	"/api/v1/bookings"
#define HOLD_PATH	"/api/v1/bookings/hold"
#define SES_PATH	"/api/v1/session"

/* --- strings --- */

const char *
nz(const char *s)
{
	return s != NULL ? s : "(null)";
}

void
free_all(void *first, ...)
{
	va_list	 ap;
	void	*p;

	va_start(ap, first);
	for (p = first; p != NULL; p = va_arg(ap, void *))
		free(p);
	va_end(ap);
}

int
matches(const char *s, const char *ere)
{
	regex_t	 re;
	int	 ok;

	cr_assert_eq(regcomp(&re, ere, REG_EXTENDED | REG_NOSUB), 0, "%s", ere);
	ok = s != NULL && regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

int
is_request_id(const char *id)
{
	return matches(id, "^req_[0-9A-Za-z]{16}$");
}

int
is_session_token(const char *t)
{
	return matches(t, "^cal_ses_[0-9A-Za-z]{38}$");
}

unsigned
random16(void)
{
	FILE		*f = fopen("/dev/urandom", "rb");
	unsigned char	 b[2] = { 0, 0 };

	cr_assert_not_null(f);
	cr_assert_eq(fread(b, 1, 2, f), 2);
	fclose(f);
	return (unsigned)b[0] << 8 | b[1];
}

void
fresh_address(char *out, size_t len)
{
	snprintf(out, len, "2001:db8:%x:%x::1", random16(), random16());
}

/* --- answers --- */

void
expect_common(const struct http_resp *r, const char *what)
{
	const char	*rid = http_header(r, "Request-Id");
	const char	*ct = http_header(r, "Content-Type");

	what = what != NULL ? what : "answer";
	cr_expect_neq(r->status, 0, "%s: no HTTP answer", what);
	cr_expect_eq(http_header_count(r, "Request-Id"), 1, "%s: %d Request-Id fields", what,
	    http_header_count(r, "Request-Id"));
	cr_expect(is_request_id(rid), "%s: Request-Id %s", what, nz(rid));
	if (r->body_len > 0) {
		cr_expect(matches(ct, "^application/json( *;.*)?$"), "%s: Content-Type %s",
		    what, nz(ct));
		cr_expect_not_null(r->json, "%s: body is not JSON: %.500s", what, r->body);
	}
	if (r->status >= 400 && r->body_len > 0)
		cr_expect_str_eq(nz(jstr(r->json, "error.request_id")), nz(rid),
		    "%s: error.request_id differs from Request-Id", what);
}

void
expect_error(const struct http_resp *r, int status, const char *code, const char *param,
    const char *what)
{
	const char	*type = status == 401 ? "authentication_error" :
			    status == 403 ? "permission_error" :
			    status == 429 ? "rate_limit_error" :
			    status >= 500 ? "api_error" : "invalid_request_error";

	what = what != NULL ? what : "answer";
	expect_common(r, what);
	cr_expect_eq(r->status, status, "%s: status %d, want %d: %.500s", what, r->status,
	    status, r->body);
	cr_expect_str_eq(nz(jstr(r->json, "error.type")), type, "%s: error.type: %.500s",
	    what, r->body);
	cr_expect_str_eq(nz(jstr(r->json, "error.code")), code, "%s: error.code: %.500s",
	    what, r->body);
	if (param != NULL)
		cr_expect_str_eq(nz(jstr(r->json, "error.param")), param,
		    "%s: error.param: %.500s", what, r->body);
}

/* --- requests --- */

char *
new_session(const char *token, const char *const *extra)
{
	struct http_resp	 r;
	char			*tok;

	cr_assert_eq(http_post(SES_PATH, token, extra, NULL, &r), 0);
	cr_assert_eq(r.status, 201, "session exchange: %d %.500s", r.status, r.body);
	cr_assert(is_session_token(jstr(r.json, "session_token")), "session_token: %.500s",
	    r.body);
	tok = strdup(jstr(r.json, "session_token"));
	cr_assert_not_null(tok);
	http_resp_free(&r);
	return tok;
}

int
get_status(const char *path, const char *token)
{
	struct http_resp	 r;
	int			 st;

	cr_assert_eq(http_get(path, token, NULL, &r), 0);
	st = r.status;
	http_resp_free(&r);
	return st;
}

int
get_as(const char *path, const char *token, const char *business, struct http_resp *r)
{
	char		 hdr[128];
	const char	*extra[] = { hdr, NULL };

	snprintf(hdr, sizeof(hdr), "Calendence-Business: %s", nz(business));
	cr_assert_eq(http_get(path, token, business ? extra : NULL, r), 0);
	return r->status;
}

/* --- booking through the API --- */

void
slot_free(struct slot *sl)
{
	free(sl->starts_at);
	free(sl->staff);
	free(sl->location);
	memset(sl, 0, sizeof(*sl));
}

/* The string at data.<day>.0.<field> of an availability answer, malloc'd. */
static char *
slot_field(const struct http_resp *r, const char *day, const char *field)
{
	char		 p[128];
	const char	*v;
	char		*s;

	snprintf(p, sizeof(p), "data.%s.0.%s", day, field);
	v = jstr(r->json, p);
	cr_assert_not_null(v, "no %s: %.500s", p, r->body);
	s = strdup(v);
	cr_assert_not_null(s);
	return s;
}

void
first_slot(const struct fx_shop *s, const char *token, struct slot *sl)
{
	struct http_resp	 r;
	char			 path[512];

	snprintf(path, sizeof(path), "/api/v1/availability?service_id=%s&date_from=%s"
	    "&date_to=%s", s->svc, s->day, s->day);
	cr_assert_eq(http_get(path, token, NULL, &r), 0);
	cr_assert_eq(r.status, 200, "availability: %d %.500s", r.status, r.body);
	cr_assert_gt(jint(r.json, "meta.total_slots"), 0, "%.500s", r.body);
	sl->starts_at = slot_field(&r, s->day, "starts_at");
	sl->staff = slot_field(&r, s->day, "staff.id");
	sl->location = slot_field(&r, s->day, "location.id");
	http_resp_free(&r);
}

void
hold(const char *token, const char *const *extra, const char *svc, const char *loc,
    const char *starts, const char *staff, struct http_resp *r)
{
	char	 body[512];

	if (staff != NULL)
		snprintf(body, sizeof(body), "{\"service_id\":\"%s\",\"location_id\":\"%s\","
		    "\"starts_at\":\"%s\",\"staff_id\":\"%s\"}", svc, loc, starts, staff);
	else
		snprintf(body, sizeof(body), "{\"service_id\":\"%s\",\"location_id\":\"%s\","
		    "\"starts_at\":\"%s\"}", svc, loc, starts);
	cr_assert_eq(http_post(HOLD_PATH, token, extra, body, r), 0);
}

char *
hold_ok(const struct fx_shop *s, const char *token, const struct slot *sl)
{
	struct http_resp	 r;
	char			*id;

	hold(token, NULL, s->svc, sl->location, sl->starts_at, sl->staff, &r);
	cr_assert_eq(r.status, 201, "hold: %d %.500s", r.status, r.body);
	cr_assert_not_null(jstr(r.json, "hold_id"), "%.500s", r.body);
	id = strdup(jstr(r.json, "hold_id"));
	cr_assert_not_null(id);
	http_resp_free(&r);
	return id;
}

void
book(const char *token, const char *hold_id, const char *email, const char *notes,
    struct http_resp *r)
{
	size_t	 len = 512 + (notes ? strlen(notes) : 0);
	char	*body = malloc(len);

	cr_assert_not_null(body);
	snprintf(body, len, "{\"hold_id\":\"%s\",\"client\":{\"first_name\":\"Ann\","
	    "\"last_name\":\"Lee\",\"email\":\"%s\"}%s%s%s}", hold_id, email,
	    notes ? ",\"notes\":\"" : "", notes ? notes : "", notes ? "\"" : "");
	cr_assert_eq(http_post(BOOK_PATH, token, NULL, body, r), 0);
	free(body);
}

char *
book_first(const struct fx_shop *s, const char *token)
{
	struct slot		 sl = { 0 };
	struct http_resp	 r;
	char			*h, *id;

	first_slot(s, token, &sl);
	h = hold_ok(s, token, &sl);
	book(token, h, "ann@example.com", NULL, &r);
	cr_assert_eq(r.status, 201, "book: %d %.500s", r.status, r.body);
	cr_assert_not_null(jstr(r.json, "id"), "%.500s", r.body);
	id = strdup(jstr(r.json, "id"));
	cr_assert_not_null(id);
	http_resp_free(&r);
	free(h);
	slot_free(&sl);
	return id;
}

/* --- time and the database --- */

double
now_sec(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
msleep(long ms)
{
	struct timespec	 ts = { ms / 1000, ms % 1000 * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

void
fresh_window(int len, int need)
{
	long long	 left = len - (long long)time(NULL) % len;

	if (left < need)
		msleep((left + 1) * 1000);
}

void
pgctl(const char *verb)
{
	char	 cmd[1024];

	snprintf(cmd, sizeof(cmd), "tests/pgctl.sh %s '%s' %s >/dev/null", verb,
	    nz(getenv("PG_DATA_DIR")), nz(getenv("PGPORT")));
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}
