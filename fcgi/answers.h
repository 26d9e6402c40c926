/* answers.h: a worker's answers of GET /availability, kept while they hold. */
#ifndef ANSWERS_H
#define ANSWERS_H

#include <stddef.h>

#include <libpq-fe.h>

#define ANS_SLOTS	16		/* answers kept at most */
#define ANS_KEY_LEN	(6 * (128 + 8))	/* six query values, each with its length */
#define ANS_UNTIL_LEN	64		/* a timestamptz as PostgreSQL writes it */

/* One answer: the body of a 200 for one set of query values. */
struct answer {
	char		*key;			/* NULL: the slot is free */
	char		*body;
	size_t		 len;
	size_t		 bytes;			/* what it holds: key and body */
	char		 business[37];
	char		 hub[37];		/* the business's */
	char		 until[ANS_UNTIL_LEN];	/* availability_fresh_until() */
	unsigned long	 used;
};

struct answers {
	struct answer	 slot[ANS_SLOTS];
	char		 pending[ANS_KEY_LEN];	/* the request's key (ans_fuse()) */
	size_t		 budget;		/* bytes it may hold */
	size_t		 bytes;
	unsigned long	 clock;
	unsigned long	 connection;		/* db.c's count it is true for */
	unsigned long	 hits, misses, stale;
};

struct request;
struct worker;

void	 ans_init(struct answers *, size_t);
void	 ans_clear(struct answers *);
int	 ans_usable(const struct worker *);
void	 ans_forget(struct answers *, const char *);
void	 ans_fuse(struct request *, const char *const *, const char **);
int	 ans_reply(struct request *, PGresult *, int);

#endif
