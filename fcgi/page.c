/* page.c: pagination arithmetic and the {data, links, meta} envelope of SPEC 8. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "worker.h"
#include "page.h"
#include "response.h"

/* A whole number of at most 10 digits in [min, max]; -1 otherwise. */
static long long
parse_number(const char *s, long long min, long long max)
{
	long long	 n = 0;
	size_t		 i, len = strlen(s);

	if (len == 0 || len > 10)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	return n >= min && n <= max ? n : -1;
}

/*
 * Reads page and per_page from a query string. Returns 0, or -1 with *param
 * naming the parameter that is not a whole number in its range.
 */
int
page_parse(const char *query, struct page *pg, const char **param)
{
	char	 v[32];
	int	 found;

	pg->page = 1;
	pg->per_page = PAGE_DEFAULT_SIZE;
	pg->total = 0;
	if ((found = req_query(query, "page", v, sizeof(v))) != 0 &&
	    (found == -1 || (pg->page = parse_number(v, 1, PAGE_MAX)) == -1)) {
		*param = "page";
		return -1;
	}
	if ((found = req_query(query, "per_page", v, sizeof(v))) != 0 &&
	    (found == -1 || (pg->per_page = (int)parse_number(v, 1, PAGE_MAX_SIZE)) == -1)) {
		*param = "per_page";
		return -1;
	}
	return 0;
}

/* Rows to skip before the page. */
long long
page_offset(const struct page *pg)
{
	return (pg->page - 1) * pg->per_page;
}

/* The last page: at least 1, even when there is nothing. */
long long
page_last(const struct page *pg)
{
	long long	 last = (pg->total + pg->per_page - 1) / pg->per_page;

	return last < 1 ? 1 : last;
}

/* page_parse(), answering 422 validation_failed on a bad parameter. */
int
page_parse_or_reply(struct request *r, struct page *pg)
{
	const char	*param = NULL;
	char		 msg[128];

	if (page_parse(r->query, pg, &param) == 0)
		return 0;
	snprintf(msg, sizeof(msg), strcmp(param, "page") == 0 ?
	    "page must be a whole number from 1 to %lld." :
	    "per_page must be a whole number from 1 to %lld.",
	    strcmp(param, "page") == 0 ? PAGE_MAX : (long long)PAGE_MAX_SIZE);
	resp_error(r, 422, "validation_failed", param, msg);
	return -1;
}

/*
 * What links start with: public_url (scheme and authority, perhaps a path
 * prefix) when it is set, else nothing: the links are then relative
 * ("/api/v1/services?page=2"), for the Host header is the client's to
 * choose and a link built from it could send a client anywhere.
 */
void
page_base_url(const struct request *r, char *out, size_t len)
{
	snprintf(out, len, "%s", r->worker->conf.public_url);
}

static json_object *
link(const char *path, const struct page *pg, long long page, const char *extra)
{
	char	 url[2048];

	if (page < 1)
		return NULL;
	if (pg->per_page == PAGE_DEFAULT_SIZE)
		snprintf(url, sizeof(url), "%s?page=%lld%s", path, page, extra);
	else
		snprintf(url, sizeof(url), "%s?page=%lld&per_page=%d%s", path, page,
		    pg->per_page, extra);
	return json_object_new_string(url);
}

static json_object *
links(const char *path, const struct page *pg, const char *extra)
{
	json_object	*o = json_object_new_object();
	long long	 last = page_last(pg);

	json_object_object_add(o, "first", link(path, pg, 1, extra));
	json_object_object_add(o, "last", link(path, pg, last, extra));
	json_object_object_add(o, "prev", link(path, pg, pg->page - 1, extra));
	json_object_object_add(o, "next",
	    pg->page < last ? link(path, pg, pg->page + 1, extra) : NULL);
	return o;
}

/*
 * The list's filters as "&name=value..." for its links, values
 * percent-encoded (RFC 3986 unreserved characters kept); params is
 * name, value, ..., NULL, and a NULL or empty value is left out.
 */
static void
filters(char *out, size_t len, const char *const *params)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 n = 0;
	const char		*v;

	out[0] = '\0';
	for (; params != NULL && params[0] != NULL; params += 2) {
		if ((v = params[1]) == NULL || *v == '\0')
			continue;
		/* a name, '&' and '=', and each byte at most three: or none */
		if (n + strlen(params[0]) + 2 + 3 * strlen(v) + 1 > len)
			continue;
		n += (size_t)snprintf(out + n, len - n, "&%s=", params[0]);
		for (; *v != '\0'; v++) {
			unsigned char	 c = (unsigned char)*v;

			if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL)
				out[n++] = (char)c;
			else {
				out[n++] = '%';
				out[n++] = hex[c >> 4];
				out[n++] = hex[c & 15];
			}
		}
		out[n] = '\0';
	}
}

static json_object *
meta(const char *path, const struct page *pg)
{
	json_object	*o = json_object_new_object();
	long long	 off = page_offset(pg), n = pg->total - off;

	if (n > pg->per_page)
		n = pg->per_page;
	json_object_object_add(o, "current_page", json_object_new_int64(pg->page));
	json_object_object_add(o, "from", n > 0 ? json_object_new_int64(off + 1) : NULL);
	json_object_object_add(o, "last_page", json_object_new_int64(page_last(pg)));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "per_page", json_object_new_int(pg->per_page));
	json_object_object_add(o, "to", n > 0 ? json_object_new_int64(off + n) : NULL);
	json_object_object_add(o, "total", json_object_new_int64(pg->total));
	return o;
}

/*
 * Answers 200 with {"data": data, "links": ..., "meta": ...}; data is the
 * JSON array text of the page (as the database built it), route its path.
 */
void
page_reply(struct request *r, const struct page *pg, const char *route,
    const char *data, size_t len)
{
	page_reply_filtered(r, pg, route, NULL, data, len);
}

/*
 * page_reply() for a filtered list: the links carry the filters (params:
 * name, value, ..., NULL) so that following them stays in the same list.
 */
void
page_reply_filtered(struct request *r, const struct page *pg, const char *route,
    const char *const *params, const char *data, size_t len)
{
	char		 path[1024], extra[1024];
	json_object	*l, *m;
	struct buf	*b = &r->out;

	page_base_url(r, path, sizeof(path));
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s", route);
	filters(extra, sizeof(extra), params);
	l = links(path, pg, extra);
	m = meta(path, pg);
	r->status = 200;
	r->has_body = 1;
	buf_reset(b);
	buf_puts(b, "{\"data\":");
	buf_add(b, data, len);
	buf_puts(b, ",\"links\":");
	buf_puts(b, json_object_to_json_string_ext(l, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	buf_puts(b, ",\"meta\":");
	buf_puts(b, json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	buf_puts(b, "}");
	json_object_put(l);
	json_object_put(m);
}
