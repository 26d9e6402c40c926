/* page.h: page/per_page parameters and the paginated list envelope. */
#ifndef PAGE_H
#define PAGE_H

#include "request.h"

#define PAGE_DEFAULT_SIZE	15
#define PAGE_MAX_SIZE		50
#define PAGE_MAX		1000000000LL

struct page {
	long long	 page;
	int		 per_page;
	long long	 total;
};

int		 page_parse(const char *, struct page *, const char **);
long long	 page_offset(const struct page *);
long long	 page_last(const struct page *);
int		 page_parse_or_reply(struct request *, struct page *);
void		 page_base_url(const struct request *, char *, size_t);
void		 page_reply(struct request *, const struct page *, const char *,
		    const char *, size_t);
void		 page_reply_filtered(struct request *, const struct page *,
		    const char *, const char *const *, const char *, size_t);

#endif
