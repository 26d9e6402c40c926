/* load.h: a load generator: many keep-alive HTTP/1.1 connections in one poll() loop. */

#ifndef CALENDENCE_TESTS_LOAD_H
#define CALENDENCE_TESTS_LOAD_H

#include <stdint.h>

/* One kind of request the generator sends; it cycles through them in shuffled order. */
struct load_target {
	const char	*method;	/* "GET", "POST" */
	const char	*path;		/* "/api/v1/services" */
	const char	*token;		/* Bearer token, or NULL */
	int		 server;	/* index into load_opts.urls */
};

/* load_rec.flags */
#define LOAD_RETRY_AFTER	0x01	/* the answer had a Retry-After field */
#define LOAD_UNAVAILABLE	0x02	/* its body names error code service_unavailable */
#define LOAD_TIMEOUT		0x04	/* no answer within timeout_ms */
#define LOAD_DROPPED		0x08	/* the connection closed or reset before the answer */

/* One answered (or failed) request. */
struct load_rec {
	int64_t		 at_ms;		/* CLOCK_MONOTONIC when it ended, in ms */
	int64_t		 reset;		/* X-RateLimit-Reset, 0 when absent */
	uint32_t	 target;	/* index into load_opts.targets */
	uint32_t	 latency_us;
	uint16_t	 status;	/* 0: no answer (see flags) */
	uint8_t		 flags;
	uint8_t		 pad;
};

struct load_opts {
	const char *const		*urls;		/* http://host:port, one per server */
	int				 nurls;
	const struct load_target	*targets;
	int				 ntargets;
	int				 conns;		/* concurrent connections */
	int				 duration_ms;	/* stop after this long (0: no limit) */
	long				 requests;	/* stop after this many ends (0: no limit) */
	int				 timeout_ms;	/* per request */
	struct load_rec			*recs;		/* room for nrecs records, or NULL */
	long				 nrecs;
	volatile int			*stop;		/* stop once *stop != 0, or NULL */
	unsigned			 seed;		/* shuffles the order of targets */
};

struct load_stats {
	long		 ended;		/* requests that ended: answered, timed out, dropped */
	long		 status[600];	/* answers by status code */
	long		 other_status;	/* status codes outside 100..599, or unparsable */
	long		 timeouts;
	long		 dropped;
	long		 connect_failures;
	long		 bad_503;	/* a 503 without Retry-After or service_unavailable */
	long		 recorded;	/* records written to opts.recs */
	int64_t		 start_ms;	/* CLOCK_MONOTONIC at the start and end, in ms */
	int64_t		 end_ms;
	uint32_t	 max_latency_us;
};

/*
 * Runs the load until duration_ms, requests or *stop says so, then closes every
 * connection; a request still running then is neither counted nor recorded.
 * Returns 0, or -1 with a message on stderr when a URL is unusable or a system
 * call fails. Never exits or aborts.
 */
int		 load_run(const struct load_opts *, struct load_stats *);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t		 load_now_ms(void);

/* Prints one line of figures: requests, rate, status counts, failures, latency. */
void		 load_print(const char *label, const struct load_stats *);

#endif
