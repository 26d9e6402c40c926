/* buf.c: a growable byte buffer; running out of memory is fatal. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
buf_init(struct buf *b)
{
	b->p = NULL;
	b->len = b->cap = 0;
}

void
buf_cleanup(struct buf *b)
{
	free(b->p);
	buf_init(b);
}

/* Empties the buffer and keeps its storage for the next request. */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

static void
buf_grow(struct buf *b, size_t need)
{
	size_t	 cap;
	char	*p;

	if (b->len + need + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + need + 1)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL) {
		fputs("calendence: out of memory\n", stderr);
		abort();
	}
	b->p = p;
	b->cap = cap;
}

/* Appends len bytes of s; the buffer stays NUL-terminated. */
void
buf_add(struct buf *b, const char *s, size_t len)
{
	buf_grow(b, len);
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/*
 * v in decimal, as "%lld" writes it, NUL-terminated at the end of d: the
 * returned pointer is its first character. For the numbers of a hot path
 * (headers, log lines), without printf.
 */
const char *
num_text(long long v, char d[NUM_TEXT_LEN])
{
	char			*p = d + NUM_TEXT_LEN - 1;
	unsigned long long	 u = v < 0 ? 0ULL - (unsigned long long)v :
				    (unsigned long long)v;

	*p = '\0';
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	return p;
}

/* Appends v in decimal, as "%lld" would. */
void
buf_addnum(struct buf *b, long long v)
{
	char		 d[NUM_TEXT_LEN];
	const char	*p = num_text(v, d);

	buf_add(b, p, (size_t)(d + NUM_TEXT_LEN - 1 - p));
}

/*
 * Appends printf-formatted text: formatted once straight into the room the
 * buffer has, and a second time only when it did not fit.
 */
void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap, again;
	size_t	 room;
	int	 n;

	va_start(ap, fmt);
	va_copy(again, ap);
	room = b->cap - b->len;		/* 0 for a buffer never grown */
	n = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= room) {
		buf_grow(b, (size_t)n);
		vsnprintf(b->p + b->len, (size_t)n + 1, fmt, again);
	}
	va_end(again);
	if (n < 0) {
		if (b->p != NULL)
			b->p[b->len] = '\0';
		return;
	}
	b->len += (size_t)n;
}

/* The contents as a C string ("" when empty); owned by the buffer. */
const char *
buf_str(struct buf *b)
{
	if (b->p == NULL)
		buf_grow(b, 0);
	b->p[b->len] = '\0';
	return b->p;
}
