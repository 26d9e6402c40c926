/*
 * dump.c: SPEC 11, "a secret is stored so that a copy of the database alone
 * does not reveal it": a pg_dump of the whole database holds the webhooks
 * (their URLs are there) but not their secrets, whole or in part, nor
 * anything shaped like one.
 */
#include <sys/wait.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "wh_util.h"

/* pg_dump from PATH, else the newest under /usr/lib/postgresql. */
static void
pg_dump_path(char *out, size_t len)
{
	glob_t	 g;

	snprintf(out, len, "pg_dump");
	if (system("command -v pg_dump >/dev/null 2>&1") == 0)
		return;
	if (glob("/usr/lib/postgresql/*/bin/pg_dump", 0, NULL, &g) == 0 && g.gl_pathc > 0)
		snprintf(out, len, "%s", g.gl_pathv[g.gl_pathc - 1]);
	globfree(&g);
}

/* The whole output of 'cmd' (malloc'd, *len bytes); asserts it exited 0. */
static char *
run(const char *cmd, size_t *len)
{
	FILE	*f = popen(cmd, "r");
	char	*buf;
	size_t	 cap = 1 << 20, n;
	int	 st;

	cr_assert_not_null(f, "%s", cmd);
	buf = malloc(cap);
	cr_assert_not_null(buf);
	*len = 0;
	while ((n = fread(buf + *len, 1, cap - *len - 1, f)) > 0) {
		*len += n;
		if (cap - *len < 65536) {
			cap *= 2;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
	}
	buf[*len] = '\0';
	st = pclose(f);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s failed (%d): %.500s", cmd, st,
	    buf);
	return buf;
}

static const char *
find(const char *hay, size_t len, const char *needle, size_t nlen)
{
	for (const char *p = hay; len >= nlen && p <= hay + len - nlen; p++)
		if (*p == *needle && memcmp(p, needle, nlen) == 0)
			return p;
	return NULL;
}

static int
base62(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Where something shaped like a webhook secret lies in buf, or -1. */
static long
secret_shape(const char *buf, size_t len)
{
	const char	*p = buf, *end = buf + len;
	int		 i;

	while ((p = find(p, (size_t)(end - p), "whsec_", 6)) != NULL) {
		for (i = 6; i < 38 && p + i < end && base62(p[i]); i++)
			continue;
		if (i == 38)
			return (long)(p - buf);
		p++;
	}
	return -1;
}

WH_TEST(dump_holds_no_secret)
{
	char		*u1 = wh_url("/dump-one"), *u2 = wh_url("/dump-two"), *h1, *h2, *x1, *x2;
	char		 cmd[1200], bin[1024], *dump;
	json_object	*bk;
	size_t		 len;
	long		 at;

	wh_create(u1, WH_ALL_EVENTS, &h1, &x1);
	wh_create(u2, "[\"booking.created\"]", &h2, &x2);
	bk = wh_book();		/* events and deliveries in the dump too */
	cr_assert_str_neq(x1, x2, "two webhooks got one secret");
	pg_dump_path(bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd), "'%s' --no-password 2>&1", bin);
	dump = run(cmd, &len);
	cr_assert_gt(len, 1000, "the dump is %zu bytes", len);
	cr_assert_not_null(find(dump, len, u1, strlen(u1)), "the dump has no webhook url: "
	    "not a dump of the test database?");
	cr_assert_not_null(find(dump, len, u2, strlen(u2)));
	cr_assert_not_null(find(dump, len, h1, strlen(h1)));
	/* each secret, whole and its random part alone */
	cr_expect_null(find(dump, len, x1, strlen(x1)), "the dump holds a webhook's secret");
	cr_expect_null(find(dump, len, x2, strlen(x2)), "the dump holds a webhook's secret");
	cr_expect_null(find(dump, len, x1 + 6, 32), "the dump holds a secret's random part");
	cr_expect_null(find(dump, len, x2 + 6, 32), "the dump holds a secret's random part");
	at = secret_shape(dump, len);
	cr_expect_eq(at, -1, "the dump holds something shaped like a secret at byte %ld", at);
	json_object_put(bk);
	free_all(u1, u2, h1, h2, x1, x2, dump, NULL);
}
