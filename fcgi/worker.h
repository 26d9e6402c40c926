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
 * a minute), by token hash, direct-mapped (auth.c: the admission refreshes
 * it only then). 256 KiB, touched as keys come: some 16,000 keys a worker
 * serves in a minute each find their own slot, most of the time.
 */
#define KEY_USES	16384
struct key_uses {
	uint64_t	 tag[KEY_USES];	/* the token hash's first 8 bytes, | 1; 0: empty */
	long long	 due[KEY_USES];	/* time(NULL) from which it may be due */
};

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
	struct key_uses	 uses;		/* keys' last_used_at, next due */
	unsigned long	 requests;
};

void	worker_init(struct worker *);
void	worker_cleanup(struct worker *);

#endif
