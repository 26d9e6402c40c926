/* usage.h: the 429s a worker answers from memory, reported to PostgreSQL for usage. */
#ifndef USAGE_H
#define USAGE_H

#include <time.h>

#include "ratelimit.h"

#define USAGE_PENDING	64	/* subjects with unreported refusals, at most */
#define USAGE_INTERVAL	1	/* seconds between two reports, at least */

/* Refusals of one window's subject in one hour, not yet reported. */
struct usage_count {
	char		 subject[RL_SUBJECT_LEN];
	long long	 hour;		/* Unix time of the hour's start */
	int		 n;
};

/* all zero is empty (a worker's is static) */
struct usage {
	struct usage_count c[USAGE_PENDING];
	int		 n;
	time_t		 next;		/* no report before this */
	long long	 lost;		/* not recorded, not yet said in the log */
};

struct worker;

void	usage_refused(struct worker *, const struct rl_state *);
int	usage_wait_ms(const struct worker *, time_t);
void	usage_report(struct worker *, int);

#endif
