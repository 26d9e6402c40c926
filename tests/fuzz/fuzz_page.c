/*
 * fuzz_page.c: pagination and the list filters: a query string, Host,
 * public_url, a row count and HTTPS, NUL-separated, through page_parse() and
 * the {data, links, meta} envelope of GET /bookings?status&from&to.
 * Invariants: page and per_page stay in range or the 422 names one of them;
 * the body is JSON; every link starts with public_url (relative without
 * it, whatever the Host) and, followed, asks for the page it promises with
 * the same per_page and the same status/from/to filters.
 */
#include <json-c/json.h>

#include "worker.h"
#include "body.h"
#include "page.h"
#include "fuzz.h"

#define FILTER_MAX	128	/* QUERY_VALUE_MAX of h_bookings.c */

static const char *const filters[] = { "status", "from", "to" };
/* SQL refuses a status other than its five names: none is this long */
static const size_t filter_len[] = { 32, FILTER_MAX, FILTER_MAX };

/*
 * The row count: at most PAGE_MAX rows (a billion bookings), so that every
 * page stays one that page_parse() takes.
 */
static long long
number(const char *s)
{
	long long	 n = 0;

	for (; *s >= '0' && *s <= '9' && n <= PAGE_MAX; s++)
		n = n * 10 + (*s - '0');
	return n > PAGE_MAX ? PAGE_MAX : n;
}

static json_object *
parse_body(struct request *r)
{
	json_object	*o;

	FUZZ_ASSERT(r->out.p != NULL);
	FUZZ_ASSERT(json_check(r->out.p, r->out.len));
	o = json_tokener_parse(buf_str(&r->out));
	FUZZ_ASSERT(o != NULL && json_object_is_type(o, json_type_object));
	return o;
}

/* A link's query must bring back the page, per_page and filters. */
static void
check_link(json_object *links, const char *name, long long page,
    const struct page *pg, char vals[3][FILTER_MAX], const char *base)
{
	json_object	*l;
	const char	*url, *q;
	struct page	 back;
	const char	*param;
	char		 v[FILTER_MAX * 3];
	int		 i, rc;

	FUZZ_ASSERT(json_object_object_get_ex(links, name, &l));
	if (page < 1) {
		FUZZ_ASSERT(l == NULL);
		return;
	}
	FUZZ_ASSERT(json_object_is_type(l, json_type_string));
	url = json_object_get_string(l);
	FUZZ_ASSERT(strncmp(url, base, strlen(base)) == 0);
	FUZZ_ASSERT(strncmp(url + strlen(base), "/api/v1/bookings?", 17) == 0);
	q = strchr(url + strlen(base), '?') + 1;
	FUZZ_ASSERT(page_parse(q, &back, &param) == 0);
	FUZZ_ASSERT(back.page == page && back.per_page == pg->per_page);
	for (i = 0; i < 3; i++) {
		rc = req_query(q, filters[i], v, sizeof(v));
		if (vals[i][0] == '\0')
			FUZZ_ASSERT(rc == 0);
		else
			FUZZ_ASSERT(rc == 1 && strcmp(v, vals[i]) == 0);
	}
}

static void
check_reply(struct request *r, const struct page *pg, char vals[3][FILTER_MAX])
{
	json_object	*o, *links, *meta, *m;
	char		 base[1024];
	long long	 last = pg->total == 0 ? 1 :
			    (pg->total + pg->per_page - 1) / pg->per_page;

	FUZZ_ASSERT(r->status == 200);
	o = parse_body(r);
	page_base_url(r, base, sizeof(base));
	FUZZ_ASSERT(strcmp(base, r->worker->conf.public_url) == 0);
	FUZZ_ASSERT(json_object_object_get_ex(o, "links", &links));
	FUZZ_ASSERT(json_object_object_get_ex(o, "meta", &meta));
	check_link(links, "first", 1, pg, vals, base);
	check_link(links, "last", last, pg, vals, base);
	check_link(links, "prev", pg->page - 1, pg, vals, base);
	check_link(links, "next", pg->page < last ? pg->page + 1 : 0, pg, vals, base);
	FUZZ_ASSERT(json_object_object_get_ex(meta, "current_page", &m) &&
	    json_object_get_int64(m) == pg->page);
	FUZZ_ASSERT(json_object_object_get_ex(meta, "last_page", &m) &&
	    json_object_get_int64(m) == last);
	FUZZ_ASSERT(json_object_object_get_ex(meta, "from", &m));
	FUZZ_ASSERT(page_offset(pg) < pg->total ?
	    json_object_get_int64(m) == page_offset(pg) + 1 : m == NULL);
	json_object_put(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct worker	 app;
	struct request		 r;
	struct page		 pg;
	char			*f[5], *copy, err[256], vals[3][FILTER_MAX];
	char			*envp[3], *host;
	const char		*param = NULL, *params[7];
	int			 i, rc;

	copy = fuzz_fields(data, size, f, 5);
	conf_defaults(&app.conf);
	if (conf_set(&app.conf, "public_url", f[2], err, sizeof(err)) == -1)
		app.conf.public_url[0] = '\0';
	req_init(&r, &app);
	envp[0] = host = malloc(strlen(f[1]) + sizeof("HTTP_HOST="));
	FUZZ_ASSERT(host != NULL);
	strcpy(host, "HTTP_HOST=");
	strcat(host, f[1]);
	envp[1] = f[4][0] == '1' ? "HTTPS=on" : "HTTPS=off";
	envp[2] = NULL;
	req_parse(&r, envp, NULL, 0);
	r.query = f[0];
	if (page_parse(r.query, &pg, &param) == -1) {
		FUZZ_ASSERT(strcmp(param, "page") == 0 || strcmp(param, "per_page") == 0);
		FUZZ_ASSERT(page_parse_or_reply(&r, &pg) == -1 && r.status == 422);
		json_object_put(parse_body(&r));
		goto out;
	}
	FUZZ_ASSERT(pg.page >= 1 && pg.page <= PAGE_MAX);
	FUZZ_ASSERT(pg.per_page >= 1 && pg.per_page <= PAGE_MAX_SIZE);
	for (i = 0; i < 3; i++) {
		rc = req_query(r.query, filters[i], vals[i], filter_len[i]);
		if (rc != 1)
			vals[i][0] = '\0';
		params[2 * i] = filters[i];
		params[2 * i + 1] = vals[i];
	}
	params[6] = NULL;
	pg.total = number(f[3]);
	page_reply_filtered(&r, &pg, "/api/v1/bookings", params, "[]", 2);
	check_reply(&r, &pg, vals);
out:
	req_cleanup(&r);
	free(host);
	free(copy);
	return 0;
}
