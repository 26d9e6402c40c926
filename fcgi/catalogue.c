/*
 * catalogue.c: a worker's cache of the catalogue, so that GET /services,
 * /locations and /businesses cost the request's one round trip
 * (authenticate()) and no second one.
 *
 * Kept true by NOTIFY: triggers on the catalogue's tables
 * (catalogue_changed(), sql/functions/00_tables.sql) notify CAT_CHANNEL
 * with what changed ("s:<business>", "l:<business>", "h:<hub>", "*"), at
 * the commit of the change, whoever makes it (the DBA tool, a DBA's UPDATE).
 * The worker's connection LISTENs. PostgreSQL sends a notification to an
 * idle listener at once, and to a busy one before the end of its
 * statement's answer; so when authenticate() of a request that started
 * after the change's commit has answered, the notification is in libpq's
 * hands, and cat_list_or_reply() drops what it names before looking. The
 * next request after a commit sees it; no request that starts after it
 * sees the old list. A new connection may have missed notifications while
 * there was none: the cache is emptied whenever the connection is new.
 *
 * Not used through PgBouncer in transaction pooling (no LISTEN there:
 * statements are then not prepared, cat_usable()), nor with
 * catalogue_cache = 0. A list of more than CAT_MAX_ROWS elements is not
 * cached (the handler reads the page from the database, as without the
 * cache). Memory: at most catalogue_cache KiB of lists, the least
 * recently used dropped first. A list is one allocation of its exact size,
 * its text packed (catalogue.h): a business's four services take about
 * 0.73 KB (0.64 of text) instead of 1.7.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "catalogue.h"
#include "response.h"
#include "worker.h"

static const struct {
	char		 prefix;	/* of the NOTIFY payload */
	enum stmt	 stmt;		/* rows (id, body) of an owner, by name */
} kinds[CAT__MAX] = {
	[CAT_SERVICES] = { 's', STMT_CAT_SERVICES },
	[CAT_LOCATIONS] = { 'l', STMT_CAT_LOCATIONS },
	[CAT_BUSINESSES] = { 'h', STMT_CAT_BUSINESSES },
};

/*
 * The start of an element, then the runs of a service's fields at their
 * defaults (services' columns, sql/migrations/001_init.sql; is_active is
 * true in the lists), then the keys of the API's resources as row_to_json()
 * writes them (sql/functions/40_json.sql: service_out, business_out,
 * location_json(), location_hours_json()), each with the comma or brace
 * before it:
 * a list's text holds each as one byte, the code of its place here (the
 * first that matches is taken: the longer runs come first). The codes are
 * the control characters but tab, line feed and carriage return, which
 * JSON text holds only escaped (PostgreSQL writes them so), and which
 * cannot be JSON whitespace either; a list whose text holds one anyway is
 * kept unpacked. A key not here (a field added) is kept as it is: the
 * packing is a substitution of bytes, exact whatever the text is.
 */
static const char *const words[] = {
	"{\"id\":\"",		/* the start of every element: cat_id_is() */
	(",\"rate_type\":\"flat\",\"deposit_type\":\"none\",\"deposit_amount\":0,"
	    "\"buffer_before_min\":0,\"buffer_after_min\":0,\"is_mobile\":false,"
	    "\"is_active\":true,\"show_staff_picker\":false,\"custom_fields\":[]}"),
	",\"deposit_type\":\"none\",\"deposit_amount\":0",
	",\"buffer_before_min\":0,\"buffer_after_min\":0",
	(",\"is_mobile\":false,\"is_active\":true,\"show_staff_picker\":false,"
	    "\"custom_fields\":[]}"),
	",\"category\":null",
	",\"name\":", ",\"description\":", ",\"category\":", ",\"duration_min\":",
	",\"duration_max\":", ",\"rate\":", ",\"rate_type\":", ",\"deposit_type\":",
	",\"deposit_amount\":", ",\"buffer_before_min\":", ",\"buffer_after_min\":",
	",\"is_mobile\":", ",\"is_active\":", ",\"show_staff_picker\":",
	",\"custom_fields\":", ",\"slug\":", ",\"timezone\":", ",\"active\":",
	",\"created_at\":", ",\"hours\":", "{\"opens\":\"",
	"\",\"closes\":\"",
};
#define NWORDS	(sizeof(words) / sizeof(words[0]))

/* code of word i: 1-8, 11, 12, 14-31 */
static unsigned char
code_of(size_t i)
{
	return (unsigned char)(i < 8 ? i + 1 : i < 10 ? i + 3 : i + 4);
}

/* word of code c, or -1 when c is none */
static int
word_of(unsigned char c)
{
	if (c == 0 || c == '\t' || c == '\n' || c == '\r' || c >= 32)
		return -1;
	return c <= 8 ? c - 1 : c <= 12 ? c - 3 : c - 4;
}

_Static_assert(NWORDS <= 28, "more words than codes");

/* the length of each word, set by the first pack() */
static size_t	 word_len[NWORDS];

/*
 * Packs body (len bytes) into out, which has room for len bytes; returns
 * the packed length, or (size_t)-1 when body holds a byte that is a code
 * (then its list is not packed). Of its first CAT_ID_AT + 37 bytes only
 * {"id":" is packed: the id is left as it is. Every word starts with '{',
 * ',' or '"': only there are the words tried.
 */
static size_t
pack(const char *body, size_t len, char *out)
{
	size_t		 i = 0, at = 0, k, first, last, wl = 0;
	unsigned char	 ch;

	if (word_len[0] == 0)
		for (k = 0; k < NWORDS; k++)
			word_len[k] = strlen(words[k]);
	while (i < len) {
		ch = (unsigned char)body[i];
		if (ch < 32 && word_of(ch) >= 0)
			return (size_t)-1;
		if ((ch == ',' || ch == '{' || ch == '"') &&
		    (i == 0 || i >= CAT_ID_AT + 37)) {
			/* {"id":" at the start only; the keys after the id */
			first = i == 0 ? 0 : 1;
			last = i == 0 ? 1 : NWORDS;
			for (k = first; k < last; k++)
				if (words[k][0] == body[i] &&
				    (wl = word_len[k]) <= len - i &&
				    memcmp(body + i, words[k], wl) == 0)
					break;
			if (k < last) {
				out[at++] = (char)code_of(k);
				i += wl;
				continue;
			}
		}
		out[at++] = body[i++];
	}
	return at;
}

/* The text of l: after its offsets. */
static const char *
text_of(const struct cat_list *l)
{
	return (const char *)(l->off + l->n + 1);
}

/*
 * Appends elements from .. to - 1 of l to b, as JSON: joined by commas,
 * without the comma after the last.
 */
void
cat_put(struct buf *b, const struct cat_list *l, int from, int to)
{
	const char	*p, *end, *run;
	int		 w;

	if (from >= to)
		return;
	p = text_of(l) + l->off[from];
	end = text_of(l) + l->off[to] - 1;
	if (!l->packed) {
		buf_add(b, p, (size_t)(end - p));
		return;
	}
	while (p < end) {
		for (run = p; p < end && (unsigned char)*p >= 32; p++)
			;
		if (p > run)
			buf_add(b, run, (size_t)(p - run));
		if (p < end) {
			if ((w = word_of((unsigned char)*p)) >= 0)
				buf_puts(b, words[w]);
			else
				buf_add(b, p, 1);
			p++;
		}
	}
}

void
cat_init(struct catalogue *c, size_t budget)
{
	memset(c, 0, sizeof(*c));
	c->budget = budget;
	c->cold = 1;
}

static void
list_free(struct cat_list *l)
{
	free(l);
}

static unsigned int
bucket_of(enum cat_kind k, const char *owner)
{
	unsigned int	 h = 2166136261u ^ (unsigned int)k;

	for (; *owner != '\0'; owner++)
		h = (h ^ (unsigned char)*owner) * 16777619u;
	return h % CAT_BUCKETS;
}

/* Empties the cache. */
void
cat_clear(struct catalogue *c)
{
	struct cat_list	*l, *next;
	int		 i;

	for (i = 0; i < CAT_BUCKETS; i++) {
		for (l = c->bucket[i]; l != NULL; l = next) {
			next = l->next;
			list_free(l);
		}
		c->bucket[i] = NULL;
	}
	c->bytes = 0;
	c->newest = c->oldest = NULL;
	c->cold = 1;
	c->win_n = c->win_misses = 0;
	if (c->watch != NULL)
		c->watch_hit = 1;
}

/* Empties the cache and frees what it holds (a worker that stops). */
void
cat_free(struct catalogue *c)
{
	cat_clear(c);
	list_free(c->scratch);
	c->scratch = NULL;
}

/* Takes kept list l out of the order of use. */
static void
unlink_use(struct catalogue *c, struct cat_list *l)
{
	if (l->newer != NULL)
		l->newer->older = l->older;
	else
		c->newest = l->older;
	if (l->older != NULL)
		l->older->newer = l->newer;
	else
		c->oldest = l->newer;
	l->newer = l->older = NULL;
}

/* Puts kept list l first in the order of use. */
static void
used_now(struct catalogue *c, struct cat_list *l)
{
	if (c->newest == l)
		return;
	if (l->newer != NULL || l->older != NULL || c->oldest == l)
		unlink_use(c, l);
	l->older = c->newest;
	if (c->newest != NULL)
		c->newest->newer = l;
	c->newest = l;
	if (c->oldest == NULL)
		c->oldest = l;
}

static void
drop(struct catalogue *c, enum cat_kind k, const char *owner)
{
	struct cat_list	**p, *l;

	for (p = &c->bucket[bucket_of(k, owner)]; (l = *p) != NULL; p = &l->next)
		if (l->kind == k && strcmp(l->owner, owner) == 0) {
			*p = l->next;
			unlink_use(c, l);
			c->bytes -= l->bytes;
			list_free(l);
			return;
		}
}

/*
 * Drops what a notification names: "*" everything, else a kind's prefix,
 * ':' and its owner. Anything else empties the cache too: a payload not
 * understood must not leave a list stale.
 */
void
cat_forget(struct catalogue *c, const char *payload)
{
	int	 k;

	/* a business's schedule: no list of the catalogue (answers.c) */
	if (payload[0] == 'a' && payload[1] == ':' && strlen(payload + 2) == 36)
		return;
	for (k = 0; k < CAT__MAX; k++)
		if (payload[0] == kinds[k].prefix && payload[1] == ':' &&
		    strlen(payload + 2) == 36) {
			if (c->watch != NULL && c->watch->kind == (enum cat_kind)k &&
			    strcmp(c->watch->owner, payload + 2) == 0)
				c->watch_hit = 1;
			drop(c, (enum cat_kind)k, payload + 2);
			return;
		}
	cat_clear(c);
}

/* A notification, for the catalogue and the answers of GET /availability (answers.c). */
static void
on_notify(void *arg, const char *payload)
{
	struct worker	*w = arg;

	cat_forget(&w->catalogue, payload);
	ans_forget(&w->answers, payload);
}

/* True when the worker may answer from the cache (see the top of the file). */
int
cat_usable(const struct worker *w)
{
	return w->catalogue.budget > 0 && db_hears(&w->db);
}

/*
 * True when most of the last CAT_WINDOW look-ups missed (and at start, or
 * after the cache was emptied): then GET /services reads its list in the
 * admission's round trip (STMT_ADMIT_SERVICES, router.h: fuse), which
 * costs PostgreSQL the list even when it is cached after all, but saves
 * the second round trip of a miss. A worker serving more businesses than
 * its budget holds (the bench's row f: 100,000) is then at one round trip
 * a request; one whose lists fit is not asked for them.
 */
int
cat_cold(const struct worker *w)
{
	return cat_usable(w) && w->catalogue.cold;
}

static void
judged(struct catalogue *c, int miss)
{
	c->win_misses += miss != 0;
	if (++c->win_n < CAT_WINDOW)
		return;
	c->cold = c->win_misses * 2 >= c->win_n;
	c->win_n = c->win_misses = 0;
}

/*
 * Applies what the connection heard, to this cache and to the answers
 * (answers.c calls it too: notifications are read once, here); a new
 * connection empties the cache. -1 when the connection failed: both are
 * emptied.
 */
int
cat_sync(struct worker *w)
{
	struct catalogue *c = &w->catalogue;

	if (c->connection != w->db.connects) {
		cat_clear(c);
		c->connection = w->db.connects;
	}
	if (db_notified(&w->db, on_notify, w) == -1) {
		cat_clear(c);
		ans_clear(&w->answers);
		return -1;
	}
	return 0;
}

static struct cat_list *
lookup(struct catalogue *c, enum cat_kind k, const char *owner)
{
	struct cat_list	*l;

	for (l = c->bucket[bucket_of(k, owner)]; l != NULL; l = l->next)
		if (l->kind == k && strcmp(l->owner, owner) == 0)
			return l;
	return NULL;
}

/* Drops the least recently used list; 0 when there was none. */
static int
evict_one(struct catalogue *c)
{
	if (c->oldest == NULL)
		return 0;
	drop(c, c->oldest->kind, c->oldest->owner);
	return 1;
}

/*
 * True when element i of l starts with the id whose 36 characters are at
 * id (cat_id_is(), without the length of id checked).
 */
static int
id_at(const struct cat_list *l, int i, const char *id)
{
	const char	*e = text_of(l) + l->off[i];
	unsigned int	 at = l->packed ? 1 : CAT_ID_AT;

	if (l->packed ? e[0] != (char)code_of(0) :
	    memcmp(e, "{\"id\":\"", CAT_ID_AT) != 0)
		return 0;
	return l->off[i + 1] - l->off[i] > at + 36 && memcmp(e + at, id, 36) == 0;
}

/*
 * The elements of a list as read, for list_make(): element i has the id
 * whose 36 characters are at id[i], and the JSON body[i] of len[i] bytes.
 * Pointers into a result: one per worker, filled just before its use.
 */
struct cat_elems {
	int		 n;
	const char	*id[CAT_MAX_ROWS];
	const char	*body[CAT_MAX_ROWS];
	size_t		 len[CAT_MAX_ROWS];
};
static struct cat_elems	 elems;

/*
 * elems from the rows (id, body) of res (a STMT_CAT_* statement): 0, or -1
 * when there are more than CAT_MAX_ROWS or an id is not 36 characters.
 */
static int
rows_elems(const PGresult *res)
{
	int	 i;

	if ((elems.n = PQntuples(res)) > CAT_MAX_ROWS)
		return -1;
	for (i = 0; i < elems.n; i++) {
		elems.id[i] = PQgetvalue(res, i, 0);
		elems.body[i] = PQgetvalue(res, i, 1);
		elems.len[i] = (size_t)PQgetlength(res, i, 1);
		if (PQgetlength(res, i, 0) != 36)
			return -1;
	}
	return 0;
}

/*
 * The list of the elements of e; NULL when out of memory, or when a body
 * does not start with its id (then it is not cached: the caller reads the
 * page itself). The text is packed straight into an allocation of the
 * unpacked size, then cut to its own.
 */
static struct cat_list *
list_make(enum cat_kind k, const char *owner, const struct cat_elems *e)
{
	struct cat_list	*l, *cut;
	int		 i, n = e->n, packed = 1;
	size_t		 len = 0, at, head, got = 0;
	char		*text;

	for (i = 0; i < n; i++)
		len += e->len[i] + 1;
	head = sizeof(*l) + ((size_t)n + 1) * sizeof(l->off[0]);
	if (len > UINT_MAX / 2 || (l = malloc(head + len + 1)) == NULL)
		return NULL;
	memset(l, 0, sizeof(*l));
	text = (char *)(l->off + n + 1);
	l->kind = (unsigned char)k;
	snprintf(l->owner, sizeof(l->owner), "%s", owner);
	l->n = n;
again:
	at = 0;
	for (i = 0; i < n; i++) {
		l->off[i] = (unsigned int)at;
		if (packed && (got = pack(e->body[i], e->len[i], text + at)) == (size_t)-1) {
			packed = 0;	/* a body holds a code: the list as read */
			goto again;
		}
		if (packed)
			at += got;
		else {
			memcpy(text + at, e->body[i], e->len[i]);
			at += e->len[i];
		}
		text[at++] = ',';
		l->off[i + 1] = (unsigned int)at;
	}
	text[at] = '\0';
	l->packed = (unsigned char)packed;
	for (i = 0; i < n; i++)
		if (!id_at(l, i, e->id[i])) {
			list_free(l);
			return NULL;
		}
	l->bytes = (unsigned int)(head + at + 1);
	if (at < len && (cut = realloc(l, l->bytes)) != NULL)
		l = cut;
	return l;
}

/* Keeps l within the budget (the oldest lists make room); 0, or -1 when it cannot. */
static int
keep(struct catalogue *c, struct cat_list *l)
{
	unsigned int	 b = bucket_of(l->kind, l->owner);

	if (l->bytes > c->budget / 4)
		return -1;
	while (c->bytes + l->bytes > c->budget && evict_one(c))
		;
	l->next = c->bucket[b];
	c->bucket[b] = l;
	c->bytes += l->bytes;
	used_now(c, l);
	return 0;
}

/* the columns STMT_ADMIT_SERVICES adds to the admission's */
enum { FC_READ = AC_ADMIT__MAX, FC_N, FC_LIST, FC__END };

/*
 * elems from the services the admission read with it (STMT_ADMIT_SERVICES:
 * each one's id, the length of its JSON, ':' and the JSON, joined with
 * commas). 0; 1 when there are more than CAT_MAX_ROWS (read by pages); -1
 * when it did not read them (or the result is another statement's, or not
 * in that shape).
 */
static int
fused_elems(const PGresult *res)
{
	const char	*p, *end, *id;
	size_t		 v;
	int		 digits;

	if (PQnfields(res) != FC__END || strcmp(PQfname(res, FC_READ), "cat_read") != 0 ||
	    PQntuples(res) != 1 || PQgetisnull(res, 0, FC_READ) ||
	    PQgetvalue(res, 0, FC_READ)[0] != 't' || PQgetisnull(res, 0, FC_N))
		return -1;
	if (atol(PQgetvalue(res, 0, FC_N)) > CAT_MAX_ROWS)
		return 1;
	elems.n = 0;
	if (PQgetisnull(res, 0, FC_LIST))
		return 0;	/* none */
	p = PQgetvalue(res, 0, FC_LIST);
	end = p + PQgetlength(res, 0, FC_LIST);
	for (;;) {
		if (elems.n == CAT_MAX_ROWS || end - p < 38)
			return -1;
		id = p;
		p += 36;
		for (v = 0, digits = 0; p < end && *p >= '0' && *p <= '9' && digits < 9;
		    p++, digits++)
			v = v * 10 + (size_t)(*p - '0');
		if (digits == 0 || p == end || *p++ != ':' || (size_t)(end - p) < v)
			return -1;
		elems.id[elems.n] = id;
		elems.body[elems.n] = p;
		elems.len[elems.n++] = v;
		if ((p += v) == end)
			return 0;
		if (*p++ != ',')
			return -1;
	}
}

/*
 * cat_list_or_reply() of a request whose admission read the services (in
 * elems: fused_elems()): a hit is answered from the cache as ever; a miss
 * from those, kept
 * unless what the round trip heard names this list (a change committed
 * after the statement's snapshot: answered, not kept).
 */
static int
fused_or_reply(struct request *r, const char *owner, const struct cat_list **out)
{
	struct worker	*w = r->worker;
	struct catalogue *c = &w->catalogue;
	struct cat_list	*l, *fresh;

	fresh = list_make(CAT_SERVICES, owner, &elems);
	c->watch = fresh;
	c->watch_hit = 0;
	if (cat_sync(w) == -1) {
		c->watch = NULL;
		list_free(fresh);
		return 1;
	}
	c->watch = NULL;
	if ((l = lookup(c, CAT_SERVICES, owner)) != NULL) {
		used_now(c, l);
		c->hits++;
		judged(c, 0);
		list_free(fresh);
		*out = l;
		return 0;
	}
	c->misses++;
	judged(c, 1);
	if (fresh == NULL)
		return 1;	/* out of memory, or a shape not understood */
	*out = fresh;
	list_free(c->scratch);
	c->scratch = fresh;
	if (!c->watch_hit && keep(c, fresh) == 0)
		c->scratch = NULL;
	return 0;
}

/*
 * The list of kind k owned by owner (a business or hub id), from the cache
 * or read now (and kept). Returns 0 with *out (valid until the worker's
 * next request); 1 when the cache cannot answer (unusable, or the list is
 * longer than CAT_MAX_ROWS): the caller reads the page itself; -1 when the
 * response (503) is written.
 */
int
cat_list_or_reply(struct request *r, enum cat_kind k, const char *owner,
    const struct cat_list **out)
{
	struct worker	*w = r->worker;
	struct catalogue *c = &w->catalogue;
	struct cat_list	*l;
	char		 limit[16];
	const char	*params[2] = { owner, limit };
	PGresult	*res;
	enum db_status	 st;

	if (!cat_usable(w) || owner == NULL)
		return 1;
	if (k == CAT_SERVICES && r->fused)
		switch (fused_elems(r->auth_res)) {
		case 0:
			return fused_or_reply(r, owner, out);
		case 1:
			return 1;	/* too long to keep */
		}
	if (cat_sync(w) == -1)
		return 1;
	if ((l = lookup(c, k, owner)) != NULL) {
		used_now(c, l);
		c->hits++;
		judged(c, 0);
		*out = l;
		return 0;
	}
	c->misses++;
	judged(c, 1);
	snprintf(limit, sizeof(limit), "%d", CAT_MAX_ROWS + 1);
	if ((st = db_exec(&w->db, kinds[k].stmt, params, &res)) != DB_OK) {
		resp_unavailable(r, st);
		return -1;
	}
	if (PQntuples(res) > CAT_MAX_ROWS) {
		PQclear(res);
		return 1;
	}
	l = rows_elems(res) == 0 ? list_make(k, owner, &elems) : NULL;
	PQclear(res);
	if (l == NULL)
		return 1;	/* out of memory, or a shape not understood */
	*out = l;
	list_free(c->scratch);
	c->scratch = l;
	/*
	 * What the read's round trip heard may name this very list (a change
	 * committed after the read's snapshot): then it is answered, not kept.
	 */
	c->watch = l;
	c->watch_hit = 0;
	if (cat_sync(w) == 0 && !c->watch_hit && keep(c, l) == 0)
		c->scratch = NULL;
	c->watch = NULL;
	return 0;
}

/* True when element i of l has the id 'id' (a lowercase UUID). */
int
cat_id_is(const struct cat_list *l, int i, const char *id)
{
	return strlen(id) == 36 && id_at(l, i, id);
}

/* The index of the element with id in l, or -1. */
int
cat_find(const struct cat_list *l, const char *id)
{
	int	 i;

	for (i = 0; i < l->n; i++)
		if (cat_id_is(l, i, id))
			return i;
	return -1;
}
