/* ratelimit.h: fixed windows, the reported window, headers, refusal cache. */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include "buf.h"

enum rl_kind {
	RL_KEY,		/* per key: "minute" and "hour" */
	RL_EXCHANGE,	/* POST /session per client IP: "session" */
	RL_AUTH,	/* failed credentials per client IP: "auth" */
	RL_REFRESH,	/* a session refresh: the chain's "minute" and "hour",
			   and the client IP's "session" */
	RL__MAX
};

struct rl_window {
	const char	*name;
	int		 limit;
	int		 used;		/* counted in the window, this request included */
	long long	 reset;		/* Unix time at which the window ends */
	int		 seconds;	/* 60 or 3600 */
};

/* "k:" or "s:" and a UUID, or "x:" or "a:" and an IP subject (at most
   "ffff:ffff:ffff:ffff::/64"; a longer one is cut, and its count lost) */
#define RL_SUBJECT_LEN	48

struct rl_state {
	int		 n;		/* windows that govern the request; 0 = none */
	struct rl_window w[3];
	long long	 now;		/* Unix time of the decision */
	int		 refused;
	int		 tag;		/* the caller's note on a cached state */
	/* a refusal's: the window that refused, as rate_windows names it */
	char		 subject[RL_SUBJECT_LEN];
};

/*
 * The caches are 4-way set-associative: a key (a SHA-256 digest, so its
 * bytes are uniform) picks one of RL_CACHE_SETS sets and may sit in any of
 * its RL_CACHE_WAYS entries; a newcomer replaces the entry of its set that
 * expires first (an expired or empty one before any live one). Direct
 * mapping made two keys that shared a slot evict each other on every
 * request: with 1,000 unknown tokens in 4,096 slots, one request in ten
 * went to the database.
 */
#define RL_CACHE_WAYS	4
#define RL_CACHE_SETS	1024
#define RL_CACHE_SIZE	(RL_CACHE_WAYS * RL_CACHE_SETS)
#define RL_CACHE_TTL	60	/* seconds a cached refusal may live at most */
#define RL_DIGEST_LEN	32

/*
 * A cached state, packed (144 bytes an entry instead of 208): the windows'
 * names as their place in ratelimit.c's table, their resets as seconds
 * from the entry's until; rl_cache_get() gives back the rl_state put.
 */
struct rl_cache_entry {
	unsigned char	 key[RL_DIGEST_LEN];
	long long	 until;
	int		 reset[3];	/* w[i].reset - until */
	int		 limit[3];
	int		 used[3];
	int		 tag;
	unsigned short	 seconds[3];
	unsigned char	 name[3];	/* RL_NO_NAME: NULL */
	unsigned char	 n;
	unsigned char	 refused;
	char		 subject[RL_SUBJECT_LEN];
};

/*
 * all zero is an empty cache (a worker's is static: no need to clear it).
 * The sets hold indexes into e[], which is handed out from its start and
 * never given back (a replaced entry is overwritten in place): a cache
 * that has seen n keys has touched n entries (n * 144 bytes of memory),
 * not a page in every set (all of its 576 KiB after 1,000 random keys).
 */
struct rl_cache {
	unsigned short	 set[RL_CACHE_SETS][RL_CACHE_WAYS];	/* 0: empty, else 1 + index in e */
	unsigned int	 used;		/* entries of e handed out */
	struct rl_cache_entry e[RL_CACHE_SIZE];
};

/* What a request is, as far as its windows go (SPEC 6's table). */
enum rl_traffic {
	RL_TRAFFIC_API,		/* per key, or per session chain */
	RL_TRAFFIC_EXCHANGE,	/* POST /session with a publishable key: per IP */
	RL_TRAFFIC_REFRESH,	/* POST /session with a session: chain and IP */
	RL_TRAFFIC_FAILED	/* credentials that failed: per IP */
};

long long	 rl_window_start(long long, int);
enum rl_kind	 rl_kind_of(const char *);
void		 rl_cache_key(enum rl_traffic, const char *, const unsigned char *,
		    unsigned char [RL_DIGEST_LEN]);
void		 rl_refuse(struct rl_cache *, const unsigned char *,
		    struct rl_state *, const char *, const char *);
void		 rl_fill(struct rl_state *, enum rl_kind, long long, int, int, int, int,
		    int);
void		 rl_fill_session(struct rl_state *, int, int);
int		 rl_reported(const struct rl_state *);
long long	 rl_retry_after(const struct rl_state *);
void		 rl_headers(const struct rl_state *, struct buf *);
long long	 rl_refusal_until(const struct rl_state *, long long);
void		 rl_cache_put(struct rl_cache *, const unsigned char *,
		    const struct rl_state *, long long);
int		 rl_cache_get(struct rl_cache *, const unsigned char *, long long,
		    struct rl_state *);
void		 rl_cache_clear(struct rl_cache *);

#endif
