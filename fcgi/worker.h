/* worker.h: what one worker keeps across requests: settings, connection, caches. */
#ifndef WORKER_H
#define WORKER_H

#include <stdint.h>

#include "answers.h"
#include "catalogue.h"
#include "conf.h"
#include "db.h"
#include "ratelimit.h"
#include "usage.h"

/*
 * When each key's last_used_at is next due (SPEC 2: refreshed at most once
 * a minute), by token hash (auth.c: the admission refreshes it only then):
 * KEY_USES words, shared by the workers of a pool (mapped before the fork).
 */
#define KEY_USES	32768
#define KEY_USES_WAYS	8	/* words a bucket: 64 bytes */

/*
 * One per worker process. Every request points to it (request.h), so that
 * the modules below the pipeline reach the settings, the connection and
 * the caches without knowing the pipeline.
 */
struct worker {
	struct conf	 conf;
	struct db	 db;
	struct rl_cache	 refusals;	/* exhausted windows, by subject digest */
	struct rl_cache	 unknown;	/* refused token hashes, with their answer */
	struct usage	 usage;		/* 429s from memory, not yet reported */
	struct catalogue catalogue;	/* services, locations, businesses */
	struct answers	 answers;	/* of GET /availability */
	uint64_t	*uses;		/* keys' last_used_at, next due (auth.c) */
	unsigned long	 requests;
};

void	worker_init(struct worker *);
void	worker_cleanup(struct worker *);

#endif
