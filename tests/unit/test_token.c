/* test_token.c: the 46-character token format of SPEC 2 (fcgi/token.c). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "token.h"

static const char alphabet[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void
setup(void)
{
	cr_assert(sodium_init() >= 0);
}

TestSuite(token, .init = setup);

/*
 * Known answers, computed outside this code base with
 *   printf %s BODY | sha256sum      (first 4 bytes shown)
 * and the base62 of those 4 bytes read big-endian, in python3.
 */
static const struct {
	const char	*body;		/* the 40 characters the checksum covers */
	const char	*sum;
	enum token_kind	 kind;
} known[] = {
	{ "cal_biz_00000000000000000000000000000000", "19utJv", TOKEN_BUSINESS },	/* 3f57315f */
	{ "cal_hub_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef", "4a7rUo", TOKEN_HUB },		/* fa3dc9d2 */
	{ "cal_pub_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "46URif", TOKEN_PUBLISHABLE },	/* e023d92d */
	{ "cal_ses_0123456789abcdefghijABCDEFGHIJ01", "1sDwvN", TOKEN_SESSION },	/* 665d22a5 */
	{ "cal_biz_00000000000000000000000000000067", "00kvxR", TOKEN_BUSINESS },	/* 00aaaed9: padded */
};

#define NKNOWN	(sizeof(known) / sizeof(known[0]))

/* A valid token: body + its known checksum. */
static void
known_token(size_t i, char out[TOKEN_LEN + 1])
{
	memcpy(out, known[i].body, TOKEN_BODY_LEN);
	memcpy(out + TOKEN_BODY_LEN, known[i].sum, 6);
	out[TOKEN_LEN] = '\0';
}

static int
parses(const char *s, size_t len)
{
	enum token_kind	 k;

	return token_parse(s, len, &k) == 0;
}

/* The inverse of base62: an independent way to read a checksum back. */
static uint32_t
base62_value(const char *s, size_t len)
{
	uint64_t	 n = 0;
	size_t		 i;

	for (i = 0; i < len; i++)
		n = n * 62 + (uint64_t)(strchr(alphabet, s[i]) - alphabet);
	return (uint32_t)n;
}

Test(token, checksum_known_answers)
{
	char	 sum[7];
	size_t	 i;

	for (i = 0; i < NKNOWN; i++) {
		memset(sum, 0, sizeof(sum));
		token_checksum(known[i].body, sum);
		cr_expect_str_eq(sum, known[i].sum, "checksum of %s", known[i].body);
	}
}

Test(token, checksum_reads_only_the_40_body_characters)
{
	char	 body[64], sum[7] = "";

	snprintf(body, sizeof(body), "%sTRAILING", known[0].body);
	token_checksum(body, sum);
	cr_expect_str_eq(sum, known[0].sum);
}

/* Random bodies: the checksum is the big-endian first 4 bytes of SHA-256. */
Test(token, checksum_is_big_endian_sha256_prefix)
{
	unsigned char	 h[crypto_hash_sha256_BYTES];
	char		 tok[TOKEN_LEN + 1], sum[7] = "";
	uint32_t	 want;
	int		 i;

	for (i = 0; i < 200; i++) {
		token_generate(TOKEN_BUSINESS, tok);
		crypto_hash_sha256(h, (const unsigned char *)tok, TOKEN_BODY_LEN);
		want = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
		    (uint32_t)h[2] << 8 | h[3];
		token_checksum(tok, sum);
		cr_assert_eq(base62_value(sum, 6), want, "token %s", tok);
		cr_assert_eq(memcmp(sum, tok + TOKEN_BODY_LEN, 6), 0, "token %s", tok);
	}
}

Test(token, parse_accepts_known_tokens_with_their_kind)
{
	char		 tok[TOKEN_LEN + 1];
	enum token_kind	 k;
	size_t		 i;

	for (i = 0; i < NKNOWN; i++) {
		known_token(i, tok);
		k = TOKEN__MAX;
		cr_expect_eq(token_parse(tok, TOKEN_LEN, &k), 0, "%s", tok);
		cr_expect_eq(k, known[i].kind, "kind of %s", tok);
	}
}

Test(token, parse_accepts_generated_tokens_of_each_kind)
{
	char		 tok[TOKEN_LEN + 1];
	enum token_kind	 kind, k;
	int		 i;

	for (kind = TOKEN_HUB; kind < TOKEN__MAX; kind++)
		for (i = 0; i < 50; i++) {
			token_generate(kind, tok);
			k = TOKEN__MAX;
			cr_assert_eq(token_parse(tok, strlen(tok), &k), 0, "%s", tok);
			cr_assert_eq(k, kind, "kind of %s", tok);
		}
}

/* Needs only len bytes: the token may sit inside a longer header value. */
Test(token, parse_uses_len_not_nul)
{
	char	 buf[TOKEN_LEN + 8];

	known_token(0, buf);
	memcpy(buf + TOKEN_LEN, " extra", 7);
	cr_expect(parses(buf, TOKEN_LEN));
	cr_expect_not(parses(buf, TOKEN_LEN + 1));
}

/* Bodies whose only fault is the prefix: the checksum is made to match. */
Test(token, parse_rejects_wrong_prefix)
{
	static const char *const prefixes[] = {
		"cal_xyz_", "CAL_biz_", "cal_BIZ_", "cal-biz_", "cal_biz-", "xal_biz_",
		"cal_bus_", "cal_key_", "cal_ses0", "00000000",
	};
	char	 tok[TOKEN_LEN + 1];
	size_t	 i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		memcpy(tok, prefixes[i], 8);
		memset(tok + 8, 'a', 32);
		token_checksum(tok, tok + TOKEN_BODY_LEN);
		tok[TOKEN_LEN] = '\0';
		cr_expect_not(parses(tok, TOKEN_LEN), "%s", tok);
	}
}

Test(token, parse_rejects_wrong_length)
{
	char	 tok[TOKEN_LEN + 2], shorter[TOKEN_LEN], longer[TOKEN_LEN + 2];
	size_t	 len;

	known_token(0, tok);
	cr_assert(parses(tok, TOKEN_LEN), "the control case");
	/* 45: one random character fewer; 47: one more (prefix and checksum kept) */
	memcpy(shorter, tok, 20);
	memcpy(shorter + 20, tok + 21, TOKEN_LEN - 21);
	cr_expect_not(parses(shorter, TOKEN_LEN - 1));
	memcpy(longer, tok, 20);
	longer[20] = '0';
	memcpy(longer + 21, tok + 20, TOKEN_LEN - 20);
	cr_expect_not(parses(longer, TOKEN_LEN + 1));
	/* any other length of a valid token's bytes */
	tok[TOKEN_LEN] = '0';
	for (len = 0; len <= TOKEN_LEN + 1; len++)
		if (len != TOKEN_LEN)
			cr_expect_not(parses(tok, len), "length %zu", len);
	cr_expect_not(parses(NULL, TOKEN_LEN));
}

/*
 * A character outside 0-9A-Za-z anywhere after the prefix: in the random
 * part (the checksum recomputed so that only the alphabet is wrong) and in
 * the checksum itself.
 */
Test(token, parse_rejects_non_base62)
{
	static const char bad[] = { '-', '_', ' ', (char)0x80, '+', '/', '=', '.',
	    '\t', '\0', (char)0xff, '~' };
	static const size_t where[] = { 8, 20, 39 };
	char	 tok[TOKEN_LEN + 1];
	size_t	 i, j;

	for (i = 0; i < sizeof(bad); i++) {
		for (j = 0; j < sizeof(where) / sizeof(where[0]); j++) {
			known_token(0, tok);
			tok[where[j]] = bad[i];
			token_checksum(tok, tok + TOKEN_BODY_LEN);
			cr_expect_not(parses(tok, TOKEN_LEN), "0x%02x at %zu",
			    (unsigned char)bad[i], where[j]);
		}
		for (j = TOKEN_BODY_LEN; j < TOKEN_LEN; j++) {
			known_token(0, tok);
			tok[j] = bad[i];
			cr_expect_not(parses(tok, TOKEN_LEN), "0x%02x at %zu",
			    (unsigned char)bad[i], j);
		}
	}
}

/* The next base62 character after c, wrapping around. */
static char
other_base62(char c)
{
	const char	*p = strchr(alphabet, c);

	return p[1] != '\0' ? p[1] : alphabet[0];
}

Test(token, parse_rejects_one_flipped_checksum_char)
{
	char	 tok[TOKEN_LEN + 1];
	size_t	 i, j;

	for (i = 0; i < NKNOWN; i++)
		for (j = TOKEN_BODY_LEN; j < TOKEN_LEN; j++) {
			known_token(i, tok);
			tok[j] = other_base62(tok[j]);
			cr_expect_not(parses(tok, TOKEN_LEN), "%s", tok);
		}
}

Test(token, parse_rejects_one_flipped_body_char)
{
	char	 tok[TOKEN_LEN + 1];
	size_t	 i, j;

	for (i = 0; i < NKNOWN; i++)
		for (j = 8; j < TOKEN_BODY_LEN; j++) {
			known_token(i, tok);
			tok[j] = other_base62(tok[j]);
			cr_expect_not(parses(tok, TOKEN_LEN), "%s", tok);
		}
}

/* A valid body under another kind's prefix no longer matches its checksum. */
Test(token, parse_rejects_swapped_kind_prefix)
{
	char	 tok[TOKEN_LEN + 1];

	known_token(0, tok);
	memcpy(tok, "cal_hub_", 8);
	cr_expect_not(parses(tok, TOKEN_LEN));
}

Test(token, generate_shape)
{
	static const char *const prefixes[TOKEN__MAX] = {
		[TOKEN_HUB] = "cal_hub_", [TOKEN_BUSINESS] = "cal_biz_",
		[TOKEN_PUBLISHABLE] = "cal_pub_", [TOKEN_SESSION] = "cal_ses_",
	};
	char		 tok[TOKEN_LEN + 2];
	enum token_kind	 kind;
	size_t		 i;

	for (kind = TOKEN_HUB; kind < TOKEN__MAX; kind++) {
		memset(tok, 'X', sizeof(tok));
		token_generate(kind, tok);
		cr_expect_eq(strlen(tok), 46, "%s", tok);
		cr_expect_eq(tok[TOKEN_LEN + 1], 'X', "wrote past the NUL");
		cr_expect_eq(memcmp(tok, prefixes[kind], 8), 0, "%s", tok);
		for (i = 8; i < TOKEN_LEN; i++)
			cr_expect_neq(strchr(alphabet, tok[i]), NULL, "%s at %zu", tok, i);
	}
}

Test(token, generate_differs_each_time)
{
	char	 a[TOKEN_LEN + 1], b[TOKEN_LEN + 1];

	token_generate(TOKEN_SESSION, a);
	token_generate(TOKEN_SESSION, b);
	cr_expect_str_neq(a, b);
	cr_expect_neq(memcmp(a + 8, b + 8, 32), 0);
}

/* 6400 uniform draws from 62 characters: every one of them shows up. */
Test(token, generate_uses_the_whole_alphabet)
{
	char	 tok[TOKEN_LEN + 1];
	int	 seen[256] = { 0 }, i, j;

	for (i = 0; i < 200; i++) {
		token_generate(TOKEN_HUB, tok);
		for (j = 8; j < TOKEN_BODY_LEN; j++)
			seen[(unsigned char)tok[j]]++;
	}
	for (i = 0; alphabet[i] != '\0'; i++)
		cr_expect_gt(seen[(unsigned char)alphabet[i]], 0, "never drew '%c'",
		    alphabet[i]);
}

Test(token, display_is_prefix_and_last_four)
{
	char	 tok[TOKEN_LEN + 1], d[TOKEN_DISPLAY_LEN + 2];
	size_t	 i;

	for (i = 0; i < NKNOWN; i++) {
		known_token(i, tok);
		memset(d, 'X', sizeof(d));
		token_display(tok, d);
		cr_expect_eq(strlen(d), 12);
		cr_expect_eq(memcmp(d, known[i].body, 8), 0, "%s", d);
		cr_expect_eq(memcmp(d + 8, known[i].sum + 2, 4), 0, "%s", d);
	}
	known_token(0, tok);
	token_display(tok, d);
	cr_expect_str_eq(d, "cal_biz_utJv");
}

static void
hex(const unsigned char *h, size_t n, char *out)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

/* SHA-256 known vectors (FIPS 180-2 "abc", the empty string, a token via sha256sum). */
Test(token, hash_is_sha256_of_the_whole_token)
{
	unsigned char	 h[TOKEN_HASH_LEN];
	char		 tok[TOKEN_LEN + 1], x[2 * TOKEN_HASH_LEN + 1];

	token_hash("abc", 3, h);
	hex(h, sizeof(h), x);
	cr_expect_str_eq(x, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	token_hash("abcdef", 3, h);
	hex(h, sizeof(h), x);
	cr_expect_str_eq(x, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	token_hash("", 0, h);
	hex(h, sizeof(h), x);
	cr_expect_str_eq(x, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	known_token(0, tok);
	token_hash(tok, TOKEN_LEN, h);
	hex(h, sizeof(h), x);
	cr_expect_str_eq(x, "3c48ec5518c1d7c0b78908a8c331c39aa56c905c3370cf24cd07a07f58087bd4");
}

Test(token, kind_names_match_the_database)
{
	cr_expect_str_eq(token_kind_name(TOKEN_HUB), "hub");
	cr_expect_str_eq(token_kind_name(TOKEN_BUSINESS), "business");
	cr_expect_str_eq(token_kind_name(TOKEN_PUBLISHABLE), "publishable");
	cr_expect_str_eq(token_kind_name(TOKEN_SESSION), "session");
	cr_expect_str_eq(token_kind_name(TOKEN__MAX), "unknown");
}
