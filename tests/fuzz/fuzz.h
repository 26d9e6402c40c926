/* fuzz.h: what the libFuzzer harnesses share: the entry point, invariants, fields. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* An invariant of the parser under test: a violation is a crash to keep. */
#define FUZZ_ASSERT(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "invariant broken: %s (%s:%d)\n", #c,	\
		    __FILE__, __LINE__);				\
		__builtin_trap();					\
	}								\
} while (0)

#define FUZZ_MAX_FIELDS	64

/*
 * Splits data at NUL bytes into max fields; those the input does not have
 * are "". Returns a NUL-terminated copy of data, which the caller frees;
 * every field points into it.
 */
static inline char *
fuzz_fields(const uint8_t *data, size_t size, char **field, size_t max)
{
	char	*copy, *p, *end;
	size_t	 i;

	if ((copy = malloc(size + 1)) == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	p = copy;
	end = copy + size;
	for (i = 0; i < max; i++) {
		field[i] = p <= end ? p : copy + size;
		if (p <= end)
			p += strlen(p) + 1;
	}
	return copy;
}

/*
 * The rest of data after n NUL-terminated fields: a pointer and length into
 * data (bytes, NULs included).
 */
static inline const uint8_t *
fuzz_rest(const uint8_t *data, size_t size, size_t n, size_t *len)
{
	const uint8_t	*p = data, *end = data + size, *z;

	while (n-- > 0 && p < end) {
		z = memchr(p, '\0', (size_t)(end - p));
		p = z == NULL ? end : z + 1;
	}
	*len = (size_t)(end - p);
	return p;
}

/* An exact-size heap copy, so a read past the end is an ASan report. */
static inline char *
fuzz_dup(const uint8_t *data, size_t size)
{
	char	*p;

	if ((p = malloc(size == 0 ? 1 : size)) == NULL)
		abort();
	memcpy(p, data, size);
	return p;
}

/* Well-formed UTF-8 by RFC 3629 Table 3-7, byte ranges as written there. */
static inline int
fuzz_utf8(const void *p, size_t len)
{
	const uint8_t	*s = p;
	size_t		 i = 0, n, k;
	uint8_t		 lo, hi;

	while (i < len) {
		uint8_t c = s[i];

		lo = 0x80, hi = 0xbf;
		if (c <= 0x7f)
			n = 0;
		else if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c == 0xe0)
			n = 2, lo = 0xa0;
		else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
			n = 2;
		else if (c == 0xed)
			n = 2, hi = 0x9f;
		else if (c == 0xf0)
			n = 3, lo = 0x90;
		else if (c >= 0xf1 && c <= 0xf3)
			n = 3;
		else if (c == 0xf4)
			n = 3, hi = 0x8f;
		else
			return 0;
		if (len - i - 1 < n)
			return 0;
		for (k = 1; k <= n; k++, lo = 0x80, hi = 0xbf)
			if (s[i + k] < lo || s[i + k] > hi)
				return 0;
		i += n + 1;
	}
	return 1;
}

#endif
