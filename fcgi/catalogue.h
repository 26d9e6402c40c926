/* catalogue.h: a worker's cache of the catalogue (services, locations, businesses), kept true by NOTIFY. */
#ifndef CATALOGUE_H
#define CATALOGUE_H

#include <stddef.h>

#define CAT_MAX_ROWS	500	/* a longer list is not cached (read by page) */
#define CAT_BUCKETS	1024
#define CAT_WINDOW	64	/* look-ups judged at once by cat_cold() */
#define CAT_CHANNEL	"calendence_catalogue"

/* What is cached, each under its owner: the prefix of the NOTIFY payload. */
enum cat_kind {
	CAT_SERVICES,	/* 's': a business's active services, by name */
	CAT_LOCATIONS,	/* 'l': a business's active locations, by name, with hours */
	CAT_BUSINESSES,	/* 'h': a hub's businesses, by name */
	CAT__MAX
};

/*
 * One list, as the API shows its elements: element i is the JSON text
 * text[off[i] .. off[i + 1] - 1), the elements being joined with commas,
 * so that a page of them is one piece of text; the text follows off[] in
 * the list's one allocation. Each element starts with its id
 * ({"id":"<uuid>"): the lists keep no other copy. The text is packed:
 * {"id":" and each of the keys the API's resources have (,"name": and the
 * like, catalogue.c) is one byte that JSON text never holds (a control
 * character); cat_put() writes the JSON back, cat_id_is() reads the ids.
 */
#define CAT_ID_AT	7

struct cat_list {
	struct cat_list	*next;		/* in its bucket */
	struct cat_list	*newer, *older;	/* in the cache's order of use */
	unsigned int	 bytes;		/* what it holds, all told */
	int		 n;
	unsigned char	 kind;		/* enum cat_kind */
	unsigned char	 packed;	/* 0: a body held a code; the text is as read */
	char		 owner[37];
	unsigned int	 off[];		/* n + 1 offsets, then the text */
};

/* all zero is an empty, unusable cache; cat_init() sets its budget */
struct catalogue {
	struct cat_list	*bucket[CAT_BUCKETS];
	struct cat_list	*scratch;	/* the last list read but not kept */
	struct cat_list	*watch;		/* a list being read: is it named? */
	int		 watch_hit;
	size_t		 budget;	/* bytes it may hold */
	size_t		 bytes;
	struct cat_list	*newest, *oldest;	/* the kept lists, by their last use */
	unsigned long	 connection;	/* db.c's count of connections it is true for */
	unsigned long	 hits, misses;
	/* the last CAT_WINDOW look-ups: most missed, cat_cold() */
	unsigned int	 win_n, win_misses;
	int		 cold;
};

struct worker;
struct request;

void	 cat_init(struct catalogue *, size_t);
void	 cat_clear(struct catalogue *);
void	 cat_free(struct catalogue *);
int	 cat_usable(const struct worker *);
int	 cat_cold(const struct worker *);
int	 cat_list_or_reply(struct request *, enum cat_kind, const char *,
	    const struct cat_list **);
int	 cat_find(const struct cat_list *, const char *);
int	 cat_id_is(const struct cat_list *, int, const char *);
struct buf;
void	 cat_put(struct buf *, const struct cat_list *, int, int);
void	 cat_forget(struct catalogue *, const char *);
int	 cat_sync(struct worker *);

#endif
