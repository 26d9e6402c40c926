/* test_ratelimit.c: windows, the reported window, the rate headers, the refusal cache (fcgi/ratelimit.c). */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "ratelimit.h"

/*
 * The clock of most cases: 1000000030 is 10 s into its minute (which
 * resets at 1000000080) and 2830 s into its hour (which resets at
 * 1000000800).
 */
#define NOW		1000000030LL
#define MINUTE_RESET	1000000080LL
#define HOUR_RESET	1000000800LL

Test(ratelimit, window_start)
{
	static const struct {
		long long	 t;
		int		 seconds;
		long long	 start;
	} cases[] = {
		{ 0, 60, 0 },
		{ 59, 60, 0 },
		{ 60, 60, 60 },
		{ 61, 60, 60 },
		{ NOW, 60, 1000000020LL },
		{ NOW, 3600, 999997200LL },
		{ 3599, 3600, 0 },
		{ 3600, 3600, 3600 },
		{ 1774328400LL, 3600, 1774328400LL },	/* 2026-03-24T05:00:00Z */
		{ 1774328399LL, 60, 1774328340LL },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(rl_window_start(cases[i].t, cases[i].seconds),
		    cases[i].start, "%lld / %d", cases[i].t, cases[i].seconds);
}

static void
expect_window(const struct rl_window *w, const char *name, int limit, int used,
    long long reset, int seconds)
{
	cr_expect_str_eq(w->name, name);
	cr_expect_eq(w->limit, limit, "%s limit", name);
	cr_expect_eq(w->used, used, "%s used", name);
	cr_expect_eq(w->reset, reset, "%s reset", name);
	cr_expect_eq(w->seconds, seconds, "%s seconds", name);
}

Test(ratelimit, fill_key_windows)
{
	struct rl_state	 st;

	memset(&st, 0x55, sizeof(st));
	rl_fill(&st, RL_KEY, NOW, 60, 2, 1000, 3, 1);
	cr_expect_eq(st.n, 2);
	cr_expect_eq(st.now, NOW);
	cr_expect_eq(st.refused, 0);
	expect_window(&st.w[0], "minute", 60, 2, MINUTE_RESET, 60);
	expect_window(&st.w[1], "hour", 1000, 3, HOUR_RESET, 3600);

	rl_fill(&st, RL_KEY, NOW, 60, 60, 1000, 3, 0);
	cr_expect_eq(st.refused, 1);
}

Test(ratelimit, fill_single_windows)
{
	struct rl_state	 st;

	memset(&st, 0x55, sizeof(st));
	rl_fill(&st, RL_EXCHANGE, NOW, 20, 4, 999, 999, 1);
	cr_expect_eq(st.n, 1);
	cr_expect_eq(st.refused, 0);
	expect_window(&st.w[0], "session", 20, 4, MINUTE_RESET, 60);
	cr_expect_eq(st.w[1].limit, 0, "the hour arguments are ignored");

	rl_fill(&st, RL_AUTH, NOW, 20, 20, 0, 0, 0);
	cr_expect_eq(st.n, 1);
	cr_expect_eq(st.refused, 1);
	expect_window(&st.w[0], "auth", 20, 20, MINUTE_RESET, 60);
}

/* Resets are clock-aligned: a window starting now lasts its full length. */
Test(ratelimit, fill_resets_are_aligned)
{
	static const struct {
		long long	 now;
		long long	 minute_reset;
		long long	 hour_reset;
	} cases[] = {
		{ 1000000020LL, 1000000080LL, HOUR_RESET },
		{ 1000000079LL, 1000000080LL, HOUR_RESET },
		{ 999997200LL, 999997260LL, HOUR_RESET },
		{ 1000000799LL, HOUR_RESET, HOUR_RESET },
		{ HOUR_RESET, HOUR_RESET + 60, HOUR_RESET + 3600 },
	};
	struct rl_state	 st;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rl_fill(&st, RL_KEY, cases[i].now, 60, 1, 1000, 1, 1);
		cr_expect_eq(st.w[0].reset, cases[i].minute_reset, "now %lld", cases[i].now);
		cr_expect_eq(st.w[1].reset, cases[i].hour_reset, "now %lld", cases[i].now);
		cr_expect_eq(st.w[0].reset % 60, 0);
		cr_expect_eq(st.w[1].reset % 3600, 0);
	}
}

static const struct {
	const char	*what;
	long long	 now;
	int		 min_limit, min_used, hour_limit, hour_used;
	int		 admitted;
	int		 reported;	/* index of the reported window */
	long long	 retry_after;	/* for refusals */
} states[] = {
	{ "minute has fewer left", NOW, 60, 2, 1000, 3, 1, 0, 0 },
	{ "hour has fewer left", NOW, 60, 2, 1000, 990, 1, 1, 0 },
	{ "tie: the minute resets first", NOW, 60, 50, 1000, 990, 1, 0, 0 },
	{ "both used up by this request: tie", NOW, 60, 60, 1000, 1000, 1, 0, 0 },
	{ "tie on remaining and reset", 1000000799LL, 60, 50, 1000, 990, 1, 0, 0 },
	{ "refused: minute exhausted", NOW, 60, 60, 1000, 500, 0, 0, 50 },
	{ "refused: hour exhausted", NOW, 60, 5, 1000, 1000, 0, 1, 770 },
	{ "refused: both, the hour resets last", NOW, 60, 60, 1000, 1000, 0, 1, 770 },
	{ "refused: limit lowered below use", NOW, 60, 75, 1000, 80, 0, 0, 50 },
	{ "refused: nothing exhausted (a race)", NOW, 60, 10, 1000, 10, 0, 0, 1 },
	{ "refused: one second to go", 1000000079LL, 60, 60, 1000, 10, 0, 0, 1 },
};

Test(ratelimit, reported_window_and_retry_after)
{
	struct rl_state	 st;
	size_t		 i;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		rl_fill(&st, RL_KEY, states[i].now, states[i].min_limit,
		    states[i].min_used, states[i].hour_limit, states[i].hour_used,
		    states[i].admitted);
		cr_expect_eq(rl_reported(&st), states[i].reported, "%s", states[i].what);
		if (!states[i].admitted)
			cr_expect_eq(rl_retry_after(&st), states[i].retry_after, "%s",
			    states[i].what);
	}
}

Test(ratelimit, single_window_is_always_reported)
{
	struct rl_state	 st;

	rl_fill(&st, RL_AUTH, NOW, 20, 20, 0, 0, 0);
	cr_expect_eq(rl_reported(&st), 0);
	cr_expect_eq(rl_retry_after(&st), 50);
	rl_fill(&st, RL_EXCHANGE, NOW, 20, 3, 0, 0, 1);
	cr_expect_eq(rl_reported(&st), 0);
}

static const char *
headers(const struct rl_state *st, struct buf *b)
{
	buf_init(b);
	rl_headers(st, b);
	return buf_str(b);
}

Test(ratelimit, headers_admitted)
{
	struct rl_state	 st;
	struct buf	 b;

	rl_fill(&st, RL_KEY, NOW, 60, 2, 1000, 3, 1);
	cr_expect_str_eq(headers(&st, &b),
	    "X-RateLimit-Limit: 60\r\n"
	    "X-RateLimit-Remaining: 58\r\n"
	    "X-RateLimit-Reset: 1000000080\r\n"
	    "RateLimit-Policy: \"minute\";q=60;w=60, \"hour\";q=1000;w=3600\r\n"
	    "RateLimit: \"minute\";r=58;t=50, \"hour\";r=997;t=770\r\n");
	buf_cleanup(&b);

	rl_fill(&st, RL_KEY, NOW, 30, 5, 300, 299, 1);	/* growth: the hour reported */
	cr_expect_str_eq(headers(&st, &b),
	    "X-RateLimit-Limit: 300\r\n"
	    "X-RateLimit-Remaining: 1\r\n"
	    "X-RateLimit-Reset: 1000000800\r\n"
	    "RateLimit-Policy: \"minute\";q=30;w=60, \"hour\";q=300;w=3600\r\n"
	    "RateLimit: \"minute\";r=25;t=50, \"hour\";r=1;t=770\r\n");
	buf_cleanup(&b);
}

Test(ratelimit, headers_refused)
{
	struct rl_state	 st;
	struct buf	 b;

	rl_fill(&st, RL_KEY, NOW, 60, 5, 1000, 1000, 0);
	cr_expect_str_eq(headers(&st, &b),
	    "X-RateLimit-Limit: 1000\r\n"
	    "X-RateLimit-Remaining: 0\r\n"
	    "X-RateLimit-Reset: 1000000800\r\n"
	    "RateLimit-Policy: \"minute\";q=60;w=60, \"hour\";q=1000;w=3600\r\n"
	    "RateLimit: \"minute\";r=55;t=50, \"hour\";r=0;t=770\r\n"
	    "Retry-After: 770\r\n");
	buf_cleanup(&b);

	rl_fill(&st, RL_KEY, NOW, 60, 60, 1000, 100, 0);
	cr_expect_str_eq(headers(&st, &b),
	    "X-RateLimit-Limit: 60\r\n"
	    "X-RateLimit-Remaining: 0\r\n"
	    "X-RateLimit-Reset: 1000000080\r\n"
	    "RateLimit-Policy: \"minute\";q=60;w=60, \"hour\";q=1000;w=3600\r\n"
	    "RateLimit: \"minute\";r=0;t=50, \"hour\";r=900;t=770\r\n"
	    "Retry-After: 50\r\n");
	buf_cleanup(&b);
}

Test(ratelimit, headers_single_windows)
{
	struct rl_state	 st;
	struct buf	 b;

	rl_fill(&st, RL_EXCHANGE, NOW, 20, 3, 0, 0, 1);
	cr_expect_str_eq(headers(&st, &b),
	    "X-RateLimit-Limit: 20\r\n"
	    "X-RateLimit-Remaining: 17\r\n"
	    "X-RateLimit-Reset: 1000000080\r\n"
	    "RateLimit-Policy: \"session\";q=20;w=60\r\n"
	    "RateLimit: \"session\";r=17;t=50\r\n");
	buf_cleanup(&b);

	rl_fill(&st, RL_AUTH, 1000000079LL, 20, 25, 0, 0, 0);	/* never negative */
	cr_expect_str_eq(headers(&st, &b),
	    "X-RateLimit-Limit: 20\r\n"
	    "X-RateLimit-Remaining: 0\r\n"
	    "X-RateLimit-Reset: 1000000080\r\n"
	    "RateLimit-Policy: \"auth\";q=20;w=60\r\n"
	    "RateLimit: \"auth\";r=0;t=1\r\n"
	    "Retry-After: 1\r\n");
	buf_cleanup(&b);
}

Test(ratelimit, no_headers_without_a_window)
{
	struct rl_state	 st;
	struct buf	 b;

	memset(&st, 0, sizeof(st));
	cr_expect_str_eq(headers(&st, &b), "");
	buf_cleanup(&b);
}

/* Only a refusal carries Retry-After. */
Test(ratelimit, retry_after_only_when_refused)
{
	struct rl_state	 st;
	struct buf	 b;
	size_t		 i;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		rl_fill(&st, RL_KEY, states[i].now, states[i].min_limit,
		    states[i].min_used, states[i].hour_limit, states[i].hour_used,
		    states[i].admitted);
		headers(&st, &b);
		cr_expect_eq(strstr(b.p, "Retry-After:") != NULL, !states[i].admitted,
		    "%s", states[i].what);
		buf_cleanup(&b);
	}
}

static void
digest(unsigned char key[RL_DIGEST_LEN], unsigned char first, unsigned char last)
{
	memset(key, 0x11, RL_DIGEST_LEN);
	key[0] = first;
	key[RL_DIGEST_LEN - 1] = last;
}

static struct rl_cache *
cache_new(void)
{
	struct rl_cache	*c = malloc(sizeof(*c));

	cr_assert_not_null(c);
	memset(c, 0xa5, sizeof(*c));	/* rl_cache_clear must not rely on calloc */
	rl_cache_clear(c);
	return c;
}

Test(ratelimit, cache_put_get_and_expiry)
{
	struct rl_cache	*c = cache_new();
	unsigned char	 k[RL_DIGEST_LEN];
	struct rl_state	 st, out;

	digest(k, 1, 2);
	cr_expect_eq(rl_cache_get(c, k, NOW, &out), 0, "an empty cache knows nothing");
	rl_fill(&st, RL_KEY, NOW, 60, 60, 1000, 70, 0);
	rl_cache_put(c, k, &st, NOW + 50);
	memset(&out, 0, sizeof(out));
	cr_expect_eq(rl_cache_get(c, k, NOW + 10, &out), 1);
	cr_expect_eq(out.now, NOW + 10, "the clock moves to now");
	cr_expect_eq(out.refused, 1);
	cr_expect_eq(out.n, 2);
	cr_expect_eq(out.w[0].used, 60);
	cr_expect_eq(out.w[0].reset, MINUTE_RESET);
	cr_expect_eq(out.w[1].used, 70);
	cr_expect_eq(rl_retry_after(&out), 40);
	cr_expect_eq(rl_cache_get(c, k, NOW + 49, &out), 1);
	cr_expect_eq(rl_cache_get(c, k, NOW + 50, &out), 0, "expired at until");
	cr_expect_eq(rl_cache_get(c, k, NOW + 500, &out), 0);
	rl_cache_clear(c);
	cr_expect_eq(rl_cache_get(c, k, NOW + 10, &out), 0, "cleared");
	free(c);
}

Test(ratelimit, cache_key_mismatch)
{
	struct rl_cache	*c = cache_new();
	unsigned char	 k[RL_DIGEST_LEN], same_slot[RL_DIGEST_LEN], other[RL_DIGEST_LEN];
	struct rl_state	 st, out;

	digest(k, 1, 2);
	digest(same_slot, 1, 3);	/* differs only in its last byte */
	digest(other, 9, 2);
	rl_fill(&st, RL_AUTH, NOW, 20, 20, 0, 0, 0);
	rl_cache_put(c, k, &st, NOW + 50);
	cr_expect_eq(rl_cache_get(c, same_slot, NOW, &out), 0);
	cr_expect_eq(rl_cache_get(c, other, NOW, &out), 0);
	cr_expect_eq(rl_cache_get(c, k, NOW, &out), 1);
	/* a newcomer in the same set keeps company with the older entry */
	rl_cache_put(c, same_slot, &st, NOW + 50);
	cr_expect_eq(rl_cache_get(c, k, NOW, &out), 1);
	cr_expect_eq(rl_cache_get(c, same_slot, NOW, &out), 1);
	free(c);
}

/*
 * Keys of one set (here: the same first byte) stay cached side by side, up
 * to RL_CACHE_WAYS of them; a direct-mapped cache kept only the last one,
 * so two unknown tokens that shared a slot went to the database in turns.
 * A newcomer to a full set replaces the entry that expires first; putting
 * a key again updates its own entry and evicts nobody.
 */
Test(ratelimit, cache_set_associative)
{
	struct rl_cache	*c = cache_new();
	unsigned char	 k[RL_CACHE_WAYS + 1][RL_DIGEST_LEN], other[RL_DIGEST_LEN];
	struct rl_state	 st, out;
	int		 i;

	cr_assert_eq(RL_CACHE_WAYS, 4);
	rl_fill(&st, RL_AUTH, NOW, 20, 20, 0, 0, 0);
	for (i = 0; i <= RL_CACHE_WAYS; i++)
		digest(k[i], 1, (unsigned char)(10 + i));
	/* NOW + 50, NOW + 5 (the first to expire), NOW + 60, NOW + 70 */
	rl_cache_put(c, k[0], &st, NOW + 50);
	rl_cache_put(c, k[1], &st, NOW + 5);
	rl_cache_put(c, k[2], &st, NOW + 60);
	rl_cache_put(c, k[3], &st, NOW + 70);
	for (i = 0; i < RL_CACHE_WAYS; i++)
		cr_expect_eq(rl_cache_get(c, k[i], NOW, &out), 1, "way %d", i);
	/* another set is not disturbed by a full one, nor disturbs it */
	digest(other, 2, 10);
	rl_cache_put(c, other, &st, NOW + 1);
	cr_expect_eq(rl_cache_get(c, other, NOW, &out), 1);
	for (i = 0; i < RL_CACHE_WAYS; i++)
		cr_expect_eq(rl_cache_get(c, k[i], NOW, &out), 1, "way %d", i);
	/* the same key again: its entry is renewed, nobody is evicted */
	rl_cache_put(c, k[1], &st, NOW + 80);
	for (i = 0; i < RL_CACHE_WAYS; i++)
		cr_expect_eq(rl_cache_get(c, k[i], NOW + 10, &out), 1, "way %d", i);
	/* a fifth key evicts the entry that expires first: k[0] (NOW + 50) */
	rl_cache_put(c, k[4], &st, NOW + 90);
	cr_expect_eq(rl_cache_get(c, k[0], NOW + 10, &out), 0, "evicted");
	for (i = 1; i <= RL_CACHE_WAYS; i++)
		cr_expect_eq(rl_cache_get(c, k[i], NOW + 10, &out), 1, "key %d", i);
	/* k[0] comes back at the expense of k[2] (NOW + 60), now the first */
	rl_cache_put(c, k[0], &st, NOW + 100);
	cr_expect_eq(rl_cache_get(c, k[2], NOW + 10, &out), 0, "evicted");
	for (i = 0; i <= RL_CACHE_WAYS; i++)
		cr_expect_eq(rl_cache_get(c, k[i], NOW + 10, &out), i != 2, "key %d", i);
	free(c);
}

/* How long a refusal lives in memory: until its windows reset, at most 60 s. */
Test(ratelimit, refusal_until)
{
	static const struct {
		const char	*what;
		enum rl_kind	 kind;
		long long	 now;
		int		 min_used, hour_used;
		long long	 until;		/* relative to the local clock */
	} cases[] = {
		{ "minute exhausted", RL_KEY, NOW, 60, 10, 50 },
		{ "minute exhausted, 1 s to go", RL_KEY, 1000000079LL, 60, 10, 1 },
		{ "auth exhausted", RL_AUTH, NOW, 60, 0, 50 },
		{ "session exhausted at a minute's start", RL_EXCHANGE, 1000000020LL, 60, 0, 60 },
		/* the hour resets in 770 s but the minute in 50: no later than that */
		{ "hour exhausted", RL_KEY, NOW, 5, 1000, 50 },
		{ "both exhausted", RL_KEY, NOW, 60, 1000, 50 },
		{ "hour exhausted at a minute's start", RL_KEY, 1000000020LL, 5, 1000, 60 },
	};
	struct rl_state	 st;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rl_fill(&st, cases[i].kind, cases[i].now, 60, cases[i].min_used, 1000,
		    cases[i].hour_used, 0);
		cr_expect_eq(rl_refusal_until(&st, 5000), 5000 + cases[i].until, "%s",
		    cases[i].what);
		cr_expect_leq(rl_refusal_until(&st, 5000), 5000 + RL_CACHE_TTL, "%s",
		    cases[i].what);
	}
}

/*
 * A refusal answered from memory tells what the database would: an hour
 * exhausted at :10 of a minute and served again at :45 and at :69 (the
 * next minute). RateLimit's t never runs below 1.
 */
Test(ratelimit, cached_refusal_stays_truthful)
{
	struct rl_cache	*c = cache_new();
	unsigned char	 k[RL_DIGEST_LEN];
	struct rl_state	 st, out;
	struct buf	 b;
	long long	 t;
	int		 i;

	digest(k, 7, 7);
	rl_fill(&st, RL_KEY, NOW, 60, 5, 1000, 1000, 0);
	rl_cache_put(c, k, &st, rl_refusal_until(&st, NOW));
	for (t = NOW; t < NOW + 120; t++) {
		if (!rl_cache_get(c, k, t, &out))
			continue;
		cr_expect(t < MINUTE_RESET, "served at %lld, after the minute reset", t);
		for (i = 0; i < out.n; i++)
			cr_expect_geq(out.w[i].reset - out.now, 1, "%s t at %lld",
			    out.w[i].name, t);
		cr_expect_geq(rl_retry_after(&out), 1);
		headers(&out, &b);
		cr_expect_null(strstr(b.p, "t=-"), "%s", b.p);
		cr_expect_null(strstr(b.p, "t=0"), "%s", b.p);
		buf_cleanup(&b);
	}
	free(c);
}

/* The digest of a traffic's subject, as SHA-256 of its tag and parts. */
static void
want_key(char tag, const char *ip, const unsigned char *hash, unsigned char out[32])
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)&tag, 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)ip, strlen(ip));
	if (hash != NULL)
		crypto_hash_sha256_update(&st, hash, 32);
	crypto_hash_sha256_final(&st, out);
}

/*
 * The keys of the refusal caches: the token's hash for API traffic, else
 * SHA-256 of a tag, the IP and (but for failed credentials) the hash; the
 * failed-credentials key of the last IP is remembered, never mixed up
 * with another IP's or traffic's.
 */
Test(ratelimit, cache_keys)
{
	static const char *const ips[] = { "192.0.2.1", "192.0.2.1", "192.0.2.10",
	    "2001:db8::/64", "192.0.2.1", "unknown", "unknown", "192.0.2.10" };
	unsigned char	 hash[32], got[32], want[32];
	size_t		 i;

	for (i = 0; i < sizeof(hash); i++)
		hash[i] = (unsigned char)(i * 7);
	cr_assert_eq(sodium_init() >= 0, 1);
	for (i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		rl_cache_key(RL_TRAFFIC_FAILED, ips[i], NULL, got);
		want_key('a', ips[i], NULL, want);
		cr_expect_eq(memcmp(got, want, 32), 0, "failed %zu", i);
		rl_cache_key(RL_TRAFFIC_EXCHANGE, ips[i], hash, got);
		want_key('x', ips[i], hash, want);
		cr_expect_eq(memcmp(got, want, 32), 0, "exchange %zu", i);
		rl_cache_key(RL_TRAFFIC_REFRESH, ips[i], hash, got);
		want_key('r', ips[i], hash, want);
		cr_expect_eq(memcmp(got, want, 32), 0, "refresh %zu", i);
		rl_cache_key(RL_TRAFFIC_API, ips[i], hash, got);
		cr_expect_eq(memcmp(got, hash, 32), 0, "api %zu", i);
	}
}
