/*
 * ratelimit.c: SPEC 6 in C: which windows count a request and under what
 * it is remembered, the windows an admission returned, the reported
 * window and the rate headers, and the refusal caches. (The counting
 * itself is one statement in PostgreSQL: rl_admit(), 30_admission.sql.)
 */
#include <stdio.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "ratelimit.h"

static const char *const window_names[RL__MAX][2] = {
	[RL_KEY] = { "minute", "hour" },
	[RL_EXCHANGE] = { "session", NULL },
	[RL_AUTH] = { "auth", NULL },
	[RL_REFRESH] = { "minute", "hour" },	/* and "session": rl_fill_session() */
};

/* The kind of windows authenticate() names ("key", "exchange", "refresh", "auth"). */
enum rl_kind
rl_kind_of(const char *window)
{
	if (strcmp(window, "exchange") == 0)
		return RL_EXCHANGE;
	if (strcmp(window, "refresh") == 0)
		return RL_REFRESH;
	if (strcmp(window, "auth") == 0)
		return RL_AUTH;
	return RL_KEY;
}

/*
 * The digest under which a refusal of this traffic is remembered: an
 * exchange by the client IP and the publishable key (the IP's window of
 * that plan); a refresh by the IP and the session token (the IP's window
 * refuses only refreshes, never the chain's other requests); failed
 * credentials by the IP alone; anything else by its token's hash (the
 * key's windows, or the chain's). ip is the client IP subject; hash is
 * the token's SHA-256 (RL_DIGEST_LEN bytes; unused for failed credentials).
 */
void
rl_cache_key(enum rl_traffic t, const char *ip, const unsigned char *hash,
    unsigned char out[RL_DIGEST_LEN])
{
	static const char	 tags[] = { [RL_TRAFFIC_EXCHANGE] = 'x',
				    [RL_TRAFFIC_REFRESH] = 'r', [RL_TRAFFIC_FAILED] = 'a' };
	/* the last IP's failed-credentials digest: a flood from one address
	   (bad or unknown tokens) asks for it at every request */
	static char		 failed_ip[64];
	static unsigned char	 failed_key[RL_DIGEST_LEN];
	crypto_hash_sha256_state st;
	size_t			 len;

	if (t == RL_TRAFFIC_API) {
		memcpy(out, hash, RL_DIGEST_LEN);
		return;
	}
	len = strlen(ip);
	if (t == RL_TRAFFIC_FAILED && failed_ip[0] != '\0' &&
	    strcmp(ip, failed_ip) == 0) {
		memcpy(out, failed_key, RL_DIGEST_LEN);
		return;
	}
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)&tags[t], 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)ip, len);
	if (t != RL_TRAFFIC_FAILED)
		crypto_hash_sha256_update(&st, hash, RL_DIGEST_LEN);
	crypto_hash_sha256_final(&st, out);
	if (t == RL_TRAFFIC_FAILED && len > 0 && len < sizeof(failed_ip)) {
		memcpy(failed_ip, ip, len + 1);
		memcpy(failed_key, out, RL_DIGEST_LEN);
	}
}

/*
 * Remembers the refusal st under key for as long as rl_refusal_until()
 * allows, with the subject of the window that refused it (prefix, such as
 * "k:", and id), so that the refusals answered from memory can be counted
 * where the database counts its own (fcgi/usage.c).
 */
void
rl_refuse(struct rl_cache *c, const unsigned char *key, struct rl_state *st,
    const char *prefix, const char *id)
{
	snprintf(st->subject, sizeof(st->subject), "%s%s", prefix, id ? id : "");
	rl_cache_put(c, key, st, rl_refusal_until(st, (long long)time(NULL)));
}

/* The start of the clock-aligned window of the given length holding t. */
long long
rl_window_start(long long t, int seconds)
{
	return t - t % seconds;
}

static void
window_set(struct rl_window *w, const char *name, int seconds, long long now,
    int limit, int used)
{
	w->name = name;
	w->seconds = seconds;
	w->limit = limit;
	w->used = used;
	w->reset = rl_window_start(now, seconds) + seconds;
}

/*
 * Fills st from what the admission statement returned: the minute window
 * always, the hour window for per-key limits. now is Unix time.
 */
void
rl_fill(struct rl_state *st, enum rl_kind kind, long long now, int min_limit,
    int min_used, int hour_limit, int hour_used, int admitted)
{
	memset(st, 0, sizeof(*st));
	st->now = now;
	st->refused = !admitted;
	window_set(&st->w[0], window_names[kind][0], 60, now, min_limit, min_used);
	st->n = 1;
	if (window_names[kind][1] != NULL) {
		window_set(&st->w[1], window_names[kind][1], 3600, now, hour_limit,
		    hour_used);
		st->n = 2;
	}
}

/*
 * Adds the client IP's "session" window (a minute) to the windows of a
 * refresh that rl_fill(RL_REFRESH) set.
 */
void
rl_fill_session(struct rl_state *st, int limit, int used)
{
	window_set(&st->w[st->n], window_names[RL_EXCHANGE][0], 60, st->now, limit,
	    used);
	st->n++;
}

static int
remaining(const struct rl_window *w)
{
	return w->used >= w->limit ? 0 : w->limit - w->used;
}

/*
 * The index of the window the X-RateLimit-* fields report: the one with the
 * fewest remaining, on a tie the one that resets first; on a refusal, the
 * exhausted window that resets last.
 */
int
rl_reported(const struct rl_state *st)
{
	int	 i, best = 0;

	for (i = 1; i < st->n; i++) {
		const struct rl_window *a = &st->w[i], *b = &st->w[best];

		if (st->refused) {
			if (remaining(a) == 0 &&
			    (remaining(b) > 0 || a->reset > b->reset))
				best = i;
		} else if (remaining(a) < remaining(b) ||
		    (remaining(a) == remaining(b) && a->reset < b->reset))
			best = i;
	}
	return best;
}

/* Seconds until a refused request would be admitted (at least 1). */
long long
rl_retry_after(const struct rl_state *st)
{
	long long	 wait = 1;
	int		 i;

	for (i = 0; i < st->n; i++)
		if (remaining(&st->w[i]) == 0 && st->w[i].reset - st->now > wait)
			wait = st->w[i].reset - st->now;
	return wait;
}

/*
 * Appends the rate headers: X-RateLimit-{Limit,Remaining,Reset} for the
 * reported window, the IETF RateLimit-Policy and RateLimit fields for all,
 * and Retry-After on a refusal (without printf: this is on the path of
 * every refusal from memory).
 */
void
rl_headers(const struct rl_state *st, struct buf *h)
{
	const struct rl_window *w;
	int	 i;

	if (st->n == 0)
		return;
	w = &st->w[rl_reported(st)];
	buf_lit(h, "X-RateLimit-Limit: ");
	buf_addnum(h, w->limit);
	buf_lit(h, "\r\nX-RateLimit-Remaining: ");
	buf_addnum(h, remaining(w));
	buf_lit(h, "\r\nX-RateLimit-Reset: ");
	buf_addnum(h, w->reset);
	buf_lit(h, "\r\nRateLimit-Policy: ");
	for (i = 0; i < st->n; i++) {
		buf_puts(h, i ? ", \"" : "\"");
		buf_puts(h, st->w[i].name);
		buf_lit(h, "\";q=");
		buf_addnum(h, st->w[i].limit);
		buf_lit(h, ";w=");
		buf_addnum(h, st->w[i].seconds);
	}
	buf_lit(h, "\r\nRateLimit: ");
	for (i = 0; i < st->n; i++) {
		buf_puts(h, i ? ", \"" : "\"");
		buf_puts(h, st->w[i].name);
		buf_lit(h, "\";r=");
		buf_addnum(h, remaining(&st->w[i]));
		buf_lit(h, ";t=");
		buf_addnum(h, st->w[i].reset - st->now);
	}
	buf_lit(h, "\r\n");
	if (st->refused) {
		buf_lit(h, "Retry-After: ");
		buf_addnum(h, rl_retry_after(st));
		buf_lit(h, "\r\n");
	}
}

/* The set of key: its first bytes (a digest's bytes are uniform). */
static unsigned short *
set_of(struct rl_cache *c, const unsigned char *key)
{
	unsigned int	 h;

	h = (unsigned int)key[0] | (unsigned int)key[1] << 8 |
	    (unsigned int)key[2] << 16;
	return c->set[h % RL_CACHE_SETS];
}

/* The entry of way i of set, or NULL when it is empty. */
static struct rl_cache_entry *
way(struct rl_cache *c, const unsigned short *set, int i)
{
	return set[i] == 0 ? NULL : &c->e[set[i] - 1];
}

/* The entry of key in its set, or NULL. */
static struct rl_cache_entry *
find(struct rl_cache *c, const unsigned short *set, const unsigned char *key)
{
	struct rl_cache_entry	*e;
	int			 i;

	for (i = 0; i < RL_CACHE_WAYS; i++)
		if ((e = way(c, set, i)) != NULL &&
		    memcmp(e->key, key, RL_DIGEST_LEN) == 0)
			return e;
	return NULL;
}

/*
 * How long a refusal may be answered from memory: until its exhausted
 * windows reset, or RL_CACHE_TTL seconds, whichever comes first; and never
 * past the reset of any of its windows, so that the cached headers stay
 * true (a minute window that rolled over would show a negative t).
 */
long long
rl_refusal_until(const struct rl_state *st, long long now)
{
	long long	 wait = rl_retry_after(st);
	int		 i;

	if (wait > RL_CACHE_TTL)
		wait = RL_CACHE_TTL;
	for (i = 0; i < st->n; i++)
		if (st->w[i].reset - st->now < wait)
			wait = st->w[i].reset - st->now;
	return now + wait;
}

/*
 * Remembers st for key (a digest of the subject) until the given time: in
 * key's own entry when its set has one, else in the entry of the set that
 * expires first (empty entries have until 0, expired ones lie in the past).
 */
/* The place of name in window_names, RL_NO_NAME for NULL, -1 for another. */
#define RL_NO_NAME	0xff

static int
name_index(const char *name)
{
	int	 i;

	if (name == NULL)
		return RL_NO_NAME;
	for (i = 0; i < RL__MAX * 2; i++)
		if (window_names[i / 2][i % 2] == name)
			return i;
	return -1;
}

/* Packs st into e (until set); 0, or -1 when st cannot be packed. */
static int
pack_state(struct rl_cache_entry *e, const struct rl_state *st)
{
	struct rl_cache_entry	 p;
	long long		 d;
	int			 i, k;

	memset(&p, 0, sizeof(p));
	if (st->n < 0 || st->n > 3)
		return -1;
	for (i = 0; i < 3; i++) {
		d = st->w[i].reset - e->until;
		if ((k = name_index(st->w[i].name)) < 0 || d < INT_MIN || d > INT_MAX ||
		    st->w[i].seconds < 0 || st->w[i].seconds > USHRT_MAX)
			return -1;
		p.name[i] = (unsigned char)k;
		p.reset[i] = (int)d;
		p.limit[i] = st->w[i].limit;
		p.used[i] = st->w[i].used;
		p.seconds[i] = (unsigned short)st->w[i].seconds;
	}
	p.n = (unsigned char)st->n;
	p.refused = (unsigned char)(st->refused != 0);
	if (st->refused != 0 && st->refused != 1)
		return -1;
	p.tag = st->tag;
	memcpy(p.subject, st->subject, sizeof(p.subject));
	memcpy(e->reset, p.reset, sizeof(p) - offsetof(struct rl_cache_entry, reset));
	return 0;
}

static void
unpack_state(const struct rl_cache_entry *e, struct rl_state *st)
{
	int	 i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < 3; i++) {
		st->w[i].name = e->name[i] == RL_NO_NAME ? NULL :
		    window_names[e->name[i] / 2][e->name[i] % 2];
		st->w[i].reset = e->until + e->reset[i];
		st->w[i].limit = e->limit[i];
		st->w[i].used = e->used[i];
		st->w[i].seconds = e->seconds[i];
	}
	st->n = e->n;
	st->refused = e->refused;
	st->tag = e->tag;
	memcpy(st->subject, e->subject, sizeof(st->subject));
}

void
rl_cache_put(struct rl_cache *c, const unsigned char *key,
    const struct rl_state *st, long long until)
{
	unsigned short		*set = set_of(c, key);
	struct rl_cache_entry	*e, probe;
	int			 i, pick = 0;

	probe.until = until;
	if (pack_state(&probe, st) == -1)
		return;		/* not cached: the database answers */
	if ((e = find(c, set, key)) == NULL) {
		/* the first empty way, else the one that expires first */
		for (i = 0; i < RL_CACHE_WAYS; i++) {
			if (set[i] == 0) {
				pick = i;
				break;
			}
			if (way(c, set, i)->until < way(c, set, pick)->until)
				pick = i;
		}
		if (set[pick] == 0) {
			if (c->used >= RL_CACHE_SIZE)	/* cannot be: one entry a way */
				return;
			set[pick] = (unsigned short)++c->used;
		}
		e = way(c, set, pick);
	}
	memcpy(probe.key, key, RL_DIGEST_LEN);
	*e = probe;
}

/*
 * Returns 1 and the cached state (with its clock moved to now) when key has
 * a live cached refusal, else 0.
 */
int
rl_cache_get(struct rl_cache *c, const unsigned char *key, long long now,
    struct rl_state *out)
{
	struct rl_cache_entry	*e = find(c, set_of(c, key), key);

	if (e == NULL || e->until <= now)
		return 0;
	unpack_state(e, out);
	out->now = now;
	return 1;
}

/* Forgets everything. */
void
rl_cache_clear(struct rl_cache *c)
{
	memset(c->set, 0, sizeof(c->set));
	c->used = 0;
}
