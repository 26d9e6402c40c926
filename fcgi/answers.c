/*
 * answers.c: a worker's answers of GET /availability, so that asking again
 * for what nobody changed costs the admission and no availability(): the
 * cost of (g), 7 ms of PostgreSQL's CPU and half a megabyte through it, is
 * paid once per change instead of once per request (issue 15).
 *
 * An answer (the 200's body) is kept under its six query values. Their
 * service_id names the business; a key names no business of its own. It
 * holds while
 * - no row availability() reads changes for its business: the triggers of
 *   the catalogue and of the schedule's tables notify at commit
 *   ('s:', 'l:' and 'a:<business>', 'h:<its hub>', '*': catalogue_changed(),
 *   sql/functions/00_tables.sql), and the catalogue's sync (catalogue.c)
 *   hands every notification here too. The argument of catalogue.c holds
 *   as it is: the notification of a change whose commit answered before a
 *   request started is in libpq's hands when the request's admission has
 *   answered, and is applied then, before the answer is given;
 * - and PostgreSQL's now() is before its fresh_until
 *   (availability_fresh_until(), 50_availability.sql: the next 5-minute
 *   mark or the first of the business's live holds to expire). The
 *   admission compares it (db.c STMT_ADMIT_AVAILABILITY's av_fresh), so
 *   the database's clock decides, not the worker's.
 * Answers of other statuses (422s) are not kept: they cost little.
 *
 * Emptied when the connection is new (it may have missed notifications),
 * unused without LISTEN (cat_usable()'s conditions) or with
 * availability_cache = 0. Memory: at most availability_cache KiB of
 * answers and ANS_SLOTS of them, the least recently used dropped first; an
 * answer larger than the budget is not kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answers.h"
#include "catalogue.h"
#include "kit.h"
#include "response.h"
#include "worker.h"

void
ans_init(struct answers *a, size_t budget)
{
	memset(a, 0, sizeof(*a));
	a->budget = budget;
}

static void
drop(struct answers *a, struct answer *s)
{
	if (s->key == NULL)
		return;
	a->bytes -= s->bytes;
	free(s->key);
	s->key = s->body = NULL;
}

void
ans_clear(struct answers *a)
{
	int	 i;

	for (i = 0; i < ANS_SLOTS; i++)
		drop(a, &a->slot[i]);
}

/* True when the worker may keep answers (see the top of the file). */
int
ans_usable(const struct worker *w)
{
	return w->answers.budget > 0 && db_hears(&w->db);
}

/*
 * Drops what a notification names: a business's answers for its services,
 * locations and schedule ('s:', 'l:', 'a:' and its id), a hub's for its
 * businesses ('h:' and its id: a business's time zone, slot size, horizon),
 * all of them for anything else ('*', a payload not understood).
 */
void
ans_forget(struct answers *a, const char *payload)
{
	int	 i, hub;

	if ((payload[0] == 's' || payload[0] == 'l' || payload[0] == 'a' ||
	    payload[0] == 'h') && payload[1] == ':' && strlen(payload + 2) == 36) {
		hub = payload[0] == 'h';
		for (i = 0; i < ANS_SLOTS; i++)
			if (a->slot[i].key != NULL && strcmp(hub ? a->slot[i].hub :
			    a->slot[i].business, payload + 2) == 0)
				drop(a, &a->slot[i]);
		return;
	}
	ans_clear(a);
}

/* The key of six query values (NULL: absent), each with its length. */
static void
key_make(const char *const *q, char *key)
{
	size_t	 at = 0;
	int	 i;

	for (i = 0; i < 6; i++)
		if (q[i] == NULL)
			at += (size_t)snprintf(key + at, ANS_KEY_LEN - at, "-;");
		else
			at += (size_t)snprintf(key + at, ANS_KEY_LEN - at, "%zu:%s;",
			    strlen(q[i]), q[i]);
}

static struct answer *
find(struct answers *a, const char *key)
{
	int	 i;

	for (i = 0; i < ANS_SLOTS; i++)
		if (a->slot[i].key != NULL && strcmp(a->slot[i].key, key) == 0)
			return &a->slot[i];
	return NULL;
}

/* Applies what the connection heard (and a new connection); -1: nothing usable. */
static int
synced(struct worker *w)
{
	struct answers	*a = &w->answers;

	if (a->connection != w->db.connects) {
		ans_clear(a);
		a->connection = w->db.connects;
	}
	return cat_sync(w);
}

/*
 * The admission's last two arguments (db.c STMT_ADMIT_AVAILABILITY): the
 * business and fresh_until of the answer kept for the query values q, or
 * NULL, NULL. Remembers the key for ans_reply().
 */
void
ans_fuse(struct request *r, const char *const *q, const char **args)
{
	struct worker	*w = r->worker;
	struct answers	*a = &w->answers;
	struct answer	*s;

	args[0] = args[1] = NULL;
	a->pending[0] = '\0';
	if (!ans_usable(w) || synced(w) == -1)
		return;
	key_make(q, a->pending);
	if ((s = find(a, a->pending)) == NULL) {
		a->misses++;
		return;
	}
	snprintf(r->fuse_buf[6], sizeof(r->fuse_buf[6]), "%s", s->business);
	snprintf(r->fuse_buf[7], sizeof(r->fuse_buf[7]), "%s", s->until);
	args[0] = r->fuse_buf[6];
	args[1] = r->fuse_buf[7];
}

/* Keeps body as the answer under a->pending, within the budget. */
static void
keep(struct answers *a, const char *business, const char *hub, const char *until,
    const char *body, size_t len)
{
	struct answer	*s, *old;
	size_t		 klen = strlen(a->pending), bytes = klen + 1 + len + 1;
	int		 i;

	if (bytes > a->budget || strlen(until) >= ANS_UNTIL_LEN)
		return;
	if ((s = find(a, a->pending)) != NULL)
		drop(a, s);
	for (;;) {
		s = old = NULL;
		for (i = 0; i < ANS_SLOTS; i++) {
			if (a->slot[i].key == NULL)
				s = &a->slot[i];
			else if (old == NULL || a->slot[i].used < old->used)
				old = &a->slot[i];
		}
		if (s != NULL && a->bytes + bytes <= a->budget)
			break;
		drop(a, old);	/* (not NULL: the budget holds this one alone) */
	}
	if ((s->key = malloc(bytes)) == NULL)
		return;
	memcpy(s->key, a->pending, klen + 1);
	s->body = s->key + klen + 1;
	memcpy(s->body, body, len);
	s->body[len] = '\0';
	s->len = len;
	s->bytes = bytes;
	snprintf(s->business, sizeof(s->business), "%s", business);
	snprintf(s->hub, sizeof(s->hub), "%s", hub);
	snprintf(s->until, sizeof(s->until), "%s", until);
	s->used = ++a->clock;
	a->bytes += bytes;
}

/*
 * Answers a fused GET /availability from the admission's result res (its
 * av_ columns from col: av_fresh, av_until, then availability()'s outcome):
 * the answer made in that round trip (kept when it is a 200), or the one
 * kept when the admission found it fresh and no notification heard since
 * dropped it. -1 when neither: the handler asks availability() itself.
 */
int
ans_reply(struct request *r, PGresult *res, int col)
{
	struct worker	*w = r->worker;
	struct answers	*a = &w->answers;
	struct answer	*s;
	const char	*business = r->principal.business_id;

	if (!PQgetisnull(res, 0, col + 2)) {
		kit_outcome_reply_at(r, res, col + 2, 200);
		if (a->pending[0] != '\0' && business != NULL &&
		    r->principal.hub_id != NULL && ans_usable(w) &&
		    a->connection == w->db.connects &&
		    strcmp(PQgetvalue(res, 0, col + 2), "ok") == 0 &&
		    !PQgetisnull(res, 0, col + 1) && !PQgetisnull(res, 0, col + 4))
			keep(a, business, r->principal.hub_id, PQgetvalue(res, 0, col + 1),
			    PQgetvalue(res, 0, col + 4),
			    (size_t)PQgetlength(res, 0, col + 4));
		return 0;
	}
	if (PQgetvalue(res, 0, col)[0] != 't' || a->pending[0] == '\0' || business == NULL)
		return -1;
	if (synced(w) == -1 || (s = find(a, a->pending)) == NULL ||
	    strcmp(s->business, business) != 0) {
		a->stale++;
		return -1;
	}
	s->used = ++a->clock;
	a->hits++;
	resp_raw(r, 200, s->body, s->len);
	return 0;
}
