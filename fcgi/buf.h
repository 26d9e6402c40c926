/* buf.h: a growable byte buffer for response headers and bodies. */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>

struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

void	buf_init(struct buf *);
void	buf_cleanup(struct buf *);
void	buf_reset(struct buf *);
void	buf_add(struct buf *, const char *, size_t);
void	buf_puts(struct buf *, const char *);
/* a string literal, its length known when compiled */
#define buf_lit(b, s)	buf_add((b), "" s, sizeof(s) - 1)
void	buf_addnum(struct buf *, long long);

#define NUM_TEXT_LEN	24	/* "-9223372036854775808" and its NUL */
const char *num_text(long long, char [NUM_TEXT_LEN]);
void	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
const char *buf_str(struct buf *);

#endif
