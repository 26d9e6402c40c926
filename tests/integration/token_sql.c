/* token_sql.c: the token format of SPEC 2 in SQL (002_keys.sql) agrees with C's token.c. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "helpers.h"

static const struct {
	const char	*sql_kind;	/* new_token()'s argument */
	const char	*prefix;
	enum token_kind	 kind;		/* what token_parse() says */
} kinds[] = {
	{ "hub", "cal_hub_", TOKEN_HUB },
	{ "business", "cal_biz_", TOKEN_BUSINESS },
	{ "publishable", "cal_pub_", TOKEN_PUBLISHABLE },
	{ "session", "cal_ses_", TOKEN_SESSION },
};
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

static int
all_base62(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
		    s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}

Test(token_sql, new_token_has_the_format_of_each_kind)
{
	enum token_kind	 parsed;
	char		*t, *valid, sum[6];
	size_t		 k;
	int		 i;

	for (k = 0; k < NKINDS; k++) {
		for (i = 0; i < 25; i++) {
			t = fx_value("SELECT calendence.new_token($1)", kinds[k].sql_kind, NULL);
			cr_assert_not_null(t);
			cr_expect_eq(strlen(t), 46, "%s", t);
			cr_expect_eq(strncmp(t, kinds[k].prefix, 8), 0, "%s", t);
			cr_expect(all_base62(t + 8, 38), "%s", t);
			valid = fx_value("SELECT calendence.token_valid($1)", t, NULL);
			it_str_eq(valid, "t", "%s", t);
			/* C accepts what SQL makes, with the same kind and checksum */
			cr_expect_eq(token_parse(t, strlen(t), &parsed), 0, "%s", t);
			cr_expect_eq(parsed, kinds[k].kind, "%s", t);
			token_checksum(t, sum);
			cr_expect_eq(memcmp(sum, t + 40, 6), 0, "%s", t);
			free(valid);
			free(t);
		}
	}
}

Test(token_sql, new_token_refuses_an_unknown_kind)
{
	char	*st, *v;

	st = it_sqlstate("SELECT calendence.new_token('admin')", NULL);
	it_str_eq(st, "22023");
	free(st);
	st = it_sqlstate("SELECT calendence.new_token('')", NULL);
	it_str_eq(st, "22023");
	free(st);
	v = fx_value("SELECT calendence.new_token(NULL)", NULL);	/* STRICT */
	cr_expect_null(v);
}

Test(token_sql, sql_accepts_c_made_tokens)
{
	char	*t, *v;
	size_t	 k;
	int	 i;

	for (k = 0; k < NKINDS; k++) {
		for (i = 0; i < 25; i++) {
			t = it_token(kinds[k].kind);
			cr_expect_eq(strncmp(t, kinds[k].prefix, 8), 0);
			v = fx_value("SELECT calendence.token_valid($1)", t, NULL);
			it_str_eq(v, "t", "%s", t);
			free(v);
			free(t);
		}
	}
}

/* Expected values computed independently (Python hashlib and int.from_bytes). */
static const struct {
	const char	*body;
	const char	*checksum;
	const char	*sha256_of_token;	/* of body + checksum */
} fixed[] = {
	{ "cal_biz_0123456789ABCDEFGHIJKLMNOPQRSTUV", "1iaUkT",
	  "e60e7fabdb43f64d486fafae3ef3d087994e35f7b3a5cd46d4d412b3c862fd64" },
	{ "cal_hub_00000000000000000000000000000000", "1uQ2gz",
	  "65902769ad3a2134b5e1b36653c1a18d7f7cbf9c0678e20ee41ea81cd1be09e9" },
	{ "cal_ses_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "0M0itf",
	  "8ed589d8792a3cc06ab8e9617b36be955e2e4128ef2b8bddbe2bcc4f292c9b84" },
	{ "cal_pub_abcdefghijklmnopqrstuvwxyzABCDEF", "1jDwEw",
	  "2d814b6f89160c722fb9c70c2e972758498c3db8fb898f3314613a2ba8f757dc" },
};

Test(token_sql, checksums_agree_for_fixed_bodies)
{
	char	 c[7], *s, token[TOKEN_LEN + 1], *valid;
	size_t	 i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		token_checksum(fixed[i].body, c);
		c[6] = '\0';
		it_str_eq(c, fixed[i].checksum, "C, %s", fixed[i].body);
		s = fx_value("SELECT calendence.token_checksum($1)", fixed[i].body, NULL);
		it_str_eq(s, fixed[i].checksum, "SQL, %s", fixed[i].body);
		free(s);
		snprintf(token, sizeof(token), "%s%s", fixed[i].body, fixed[i].checksum);
		valid = fx_value("SELECT calendence.token_valid($1)", token, NULL);
		it_str_eq(valid, "t", "%s", token);
		free(valid);
	}
}

Test(token_sql, checksums_agree_for_random_bodies)
{
	char	*t, c[7], *s;
	int	 i;

	for (i = 0; i < 100; i++) {
		t = it_token((enum token_kind)(i % TOKEN__MAX));
		t[40] = '\0';		/* the body */
		token_checksum(t, c);
		c[6] = '\0';
		s = fx_value("SELECT calendence.token_checksum($1)", t, NULL);
		it_str_eq(s, c, "%s", t);
		free(s);
		free(t);
	}
}

Test(token_sql, token_hash_is_the_sha256_that_c_computes)
{
	char	*sql, *c, *t, token[TOKEN_LEN + 1], *len;
	size_t	 i;
	int	 k;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		snprintf(token, sizeof(token), "%s%s", fixed[i].body, fixed[i].checksum);
		c = it_hash_hex(token);
		it_str_eq(c, fixed[i].sha256_of_token, "C, %s", token);
		sql = fx_value("SELECT encode(calendence.token_hash($1), 'hex')", token, NULL);
		it_str_eq(sql, fixed[i].sha256_of_token, "SQL, %s", token);
		free(sql);
		free(c);
	}
	for (k = 0; k < 40; k++) {
		t = it_token((enum token_kind)(k % TOKEN__MAX));
		c = it_hash_hex(t);
		sql = fx_value("SELECT encode(calendence.token_hash($1), 'hex')", t, NULL);
		it_str_eq(sql, c, "%s", t);
		len = fx_value("SELECT octet_length(calendence.token_hash($1))", t, NULL);
		it_str_eq(len, "32");
		free(len);
		free(sql);
		free(c);
		free(t);
	}
}

Test(token_sql, token_display_is_prefix_and_last_four)
{
	char	*t = it_token(TOKEN_BUSINESS), *d, c[TOKEN_DISPLAY_LEN + 1];

	token_display(t, c);
	d = fx_value("SELECT calendence.token_display($1)", t, NULL);
	it_str_eq(d, c);
	cr_expect_eq(strlen(d), 12);
	cr_expect_eq(strncmp(d, "cal_biz_", 8), 0);
	it_str_eq(d + 8, t + 42);
	free(d);
	free(t);
}

static const struct {
	const char	*n;
	const char	*width;
	const char	*expect;
} b62[] = {
	{ "0", "6", "000000" },
	{ "61", "6", "00000z" },
	{ "62", "6", "000010" },
	{ "3843", "6", "0000zz" },		/* 62^2 - 1 */
	{ "4294967295", "6", "4gfFC3" },	/* 2^32 - 1: the largest checksum */
	{ "56800235583", "6", "zzzzzz" },	/* 62^6 - 1 */
	{ "56800235584", "6", "1000000" },	/* 62^6: wider than asked, never cut */
	{ "9223372036854775807", "1", "AzL8n0Y58m7" },	/* 2^63 - 1 */
	{ "35", "1", "Z" },
	{ "36", "1", "a" },
};

Test(token_sql, base62_edge_values)
{
	char	*v, *st;
	size_t	 i;

	for (i = 0; i < sizeof(b62) / sizeof(b62[0]); i++) {
		v = fx_value("SELECT calendence.base62($1::bigint, $2::integer)", b62[i].n,
		    b62[i].width, NULL);
		it_str_eq(v, b62[i].expect, "base62(%s, %s) = '%s', not '%s'", b62[i].n,
		    b62[i].width, v, b62[i].expect);
		free(v);
	}
	st = it_sqlstate("SELECT calendence.base62(-1, 6)", NULL);
	it_str_eq(st, "P0001");
	free(st);
}

/* One malformed (or well-formed) token; SQL and C must agree on it. */
struct tcase {
	const char	*what;
	char		 token[64];
	int		 valid;
};

/* Rewrites the checksum of 'tok' (a 46-byte token) so that only 'what' is wrong. */
static void
resum(char *tok)
{
	token_checksum(tok, tok + 40);
}

static size_t
malformed_cases(struct tcase *c, const char *good)
{
	size_t	n = 0;

#define CASE(w, v)	(c[n].what = (w), c[n].valid = (v), \
			 snprintf(c[n].token, sizeof(c[n].token), "%s", good), &c[n++])
	CASE("well formed", 1);
	memcpy(CASE("unknown prefix cal_xyz_, checksum fixed", 0)->token, "cal_xyz_", 8);
	resum(c[n - 1].token);
	memcpy(CASE("upper-case prefix, checksum fixed", 0)->token, "CAL_BIZ_", 8);
	resum(c[n - 1].token);
	memcpy(CASE("prefix changed to cal_pub_ (the checksum covers it)", 0)->token,
	    "cal_pub_", 8);
	CASE("45 characters", 0)->token[45] = '\0';
	strcat(CASE("47 characters", 0)->token, "0");
	CASE("'-' in the random part, checksum fixed", 0)->token[20] = '-';
	resum(c[n - 1].token);
	CASE("'_' in the random part, checksum fixed", 0)->token[8] = '_';
	resum(c[n - 1].token);
	CASE("checksum off by one character", 0)->token[45] ^= 1;
	if (!strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
	    c[n - 1].token[45]))
		c[n - 1].token[45] = c[n - 1].token[45] == '0' ? '1' : '0';
	CASE("a random character changed", 0)->token[30] =
	    good[30] == 'a' ? 'b' : 'a';
	strcat(CASE("trailing newline", 0)->token, "\n");
	snprintf(CASE("leading space", 0)->token, 64, " %s", good);
	/* two bytes in UTF-8: 46 characters for SQL, 47 bytes for C */
	snprintf(CASE("a non-ASCII letter instead of one character", 0)->token, 64,
	    "%.*s\xc3\xa9%s", 20, good, good + 21);
	CASE("empty", 0)->token[0] = '\0';
#undef CASE
	return n;
}

Test(token_sql, sql_and_c_agree_on_malformed_tokens)
{
	struct tcase	 c[32];
	enum token_kind	 k;
	char		*good = it_token(TOKEN_BUSINESS), *v;
	size_t		 i, n = malformed_cases(c, good);

	for (i = 0; i < n; i++) {
		v = fx_value("SELECT calendence.token_valid($1)", c[i].token, NULL);
		it_str_eq(v, c[i].valid ? "t" : "f", "SQL: %s (%s)", c[i].what,
		    c[i].token);
		cr_expect_eq(token_parse(c[i].token, strlen(c[i].token), &k) == 0,
		    c[i].valid, "C: %s (%s)", c[i].what, c[i].token);
		free(v);
	}
	free(good);
}

Test(token_sql, random_base62_draws_from_the_whole_alphabet)
{
	char	*s = fx_value("SELECT string_agg(calendence.random_base62(62), '') "
	    "FROM generate_series(1, 40)", NULL);
	char	*distinct;
	size_t	 len;

	cr_assert_not_null(s);
	len = strlen(s);
	cr_expect_eq(len, 62 * 40);
	cr_expect(all_base62(s, len));
	/* 2480 draws miss one of 62 characters with probability < 1e-15 */
	distinct = fx_value("SELECT count(DISTINCT c) FROM regexp_split_to_table($1, '') c",
	    s, NULL);
	it_str_eq(distinct, "62");
	free(distinct);
	free(s);
}
