/* util.h: what the load and fault tests share: settings, worker processes, durability. */

#ifndef CALENDENCE_TESTS_LOAD_UTIL_H
#define CALENDENCE_TESTS_LOAD_UTIL_H

#include <sys/types.h>

#include "fixture.h"
#include "load.h"

#define LU_MAX_WORKERS	64

/* The environment variable 'name' as a positive number, else 'dflt'. */
long	 lu_env(const char *name, long dflt);

/* The workers (calendence.fcgi) whose parent is 'ppid', sorted; how many. */
int	 lu_workers(pid_t ppid, pid_t *out, int max);

/* VmRSS of 'pid' in KiB, or -1. */
long	 lu_rss_kb(pid_t pid);

/* The pid in the environment variable 'name' (the lighttpd of a test server), or 0. */
pid_t	 lu_env_pid(const char *name);

/*
 * n fresh business keys of one new hub on a plan of per_minute (and a large
 * per hour) limit, spread over businesses of ten keys; out[] gets the tokens.
 */
void	 lu_keys(int n, int per_minute, char **out);

/* Sleeps until 'secs' whole seconds fit before the next minute boundary. */
void	 lu_fit_in_minute(int secs);

/*
 * Runs the load in a child process; the parent is free to break things
 * meanwhile. lu_bg_stop() ends it and copies its figures and records out.
 */
struct lu_bg {
	pid_t			 pid;
	volatile int		*stop;
	void			*stop_map;	/* the same, for munmap() */
	struct load_stats	*st;
	struct load_rec		*recs;
	long			 nrecs;
};
void	 lu_bg_start(struct lu_bg *, struct load_opts *, long nrecs);
void	 lu_bg_stop(struct lu_bg *);
void	 lu_bg_free(struct lu_bg *);

/*
 * What is committed before a fault: keys, sessions (exchanged through the
 * server) and bookings (held and booked through the server).
 */
struct lu_durable {
	struct fx_shop	 shop;	/* its business key, publishable key, service ... */
	char	*keys[4];	/* more business keys */
	char	*key_ids[4];
	char	*sessions[3];	/* session tokens */
	char	*bookings[2];	/* booking ids */
};
void	 lu_durable_make(struct lu_durable *);
/* Asserts that everything in 'd' is still there and works. */
void	 lu_durable_check(const struct lu_durable *);
void	 lu_durable_free(struct lu_durable *);

#endif
