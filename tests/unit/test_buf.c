/* test_buf.c: the growable buffer (fcgi/buf.c). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "buf.h"

/* buf_addnum() writes what "%lld" writes, and keeps the buffer a C string. */
Test(buf, numbers_as_printf_writes_them)
{
	static const long long	 v[] = { 0, 1, -1, 9, 10, 99, 100, 429, -429,
	    60, 3600, 1733356800LL, 2147483647LL, -2147483648LL, LLONG_MAX,
	    LLONG_MIN };
	struct buf		 b;
	char			 want[64];
	size_t			 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf_init(&b);
		buf_puts(&b, "n=");
		buf_addnum(&b, v[i]);
		snprintf(want, sizeof(want), "n=%lld", v[i]);
		cr_expect_str_eq(buf_str(&b), want);
		cr_expect_eq(b.len, strlen(want));
		buf_cleanup(&b);
	}
}

/* num_text(): the same text, at the end of the room it is given. */
Test(buf, num_text_as_printf_writes_it)
{
	static const long long	 v[] = { 0, 7, -7, 10, 12345, -2147483648LL,
	    LLONG_MAX, LLONG_MIN };
	char			 d[NUM_TEXT_LEN], want[64];
	const char		*p;
	size_t			 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		p = num_text(v[i], d);
		snprintf(want, sizeof(want), "%lld", v[i]);
		cr_expect_str_eq(p, want);
		cr_expect_eq(p + strlen(p), d + NUM_TEXT_LEN - 1);
	}
}
